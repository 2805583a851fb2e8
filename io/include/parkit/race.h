/* SPDX-License-Identifier: MIT */
/* The lessons' shared counter: threads each adding 1 to one counter many times, four ways.
 * Without a lock each increment is an atomic load then an atomic store (relaxed), so the
 * program is defined C and still loses updates, as the unlocked `counter += 1` of the lessons
 * does: two threads read the same value and both store it plus one. With a mutex and with an
 * atomic add no update is lost; thread-local counters merged once at the end lose none and
 * share nothing while counting. */
#ifndef PARKIT_RACE_H
#define PARKIT_RACE_H

#include "parkit/status.h"

#include <stdint.h>

enum pk_race_way { PK_RACE_UNLOCKED, PK_RACE_MUTEX, PK_RACE_ATOMIC, PK_RACE_LOCAL };

struct pk_race_result {
    uint64_t count; /* the counter when every thread has finished */
    double time_s;  /* from the common start to the last thread's end */
};

/* Runs nthreads (>= 1) threads, each adding 1 to the shared counter `increments` times the way
 * `way` says, all released together. Fills *out. Returns PK_OK, or PK_EINVAL / PK_ENOMEM (a
 * thread could not be started: err says so, and every started thread was joined).
 * Thread-safe: each call has its own counter. err may be NULL. */
int pk_race_run(enum pk_race_way way, int nthreads, uint64_t increments, struct pk_race_result *out,
                struct pk_err *err);

#endif
