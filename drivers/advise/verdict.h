/* SPDX-License-Identifier: MIT */
/* advise's verdict from what it measured: the command's wall and CPU time (wait4) and what its
 * threads spent their time on (sample.h). Pure functions, so that the rules are unit-tested
 * apart from the timing of real runs. */
#ifndef PARKIT_ADVISE_VERDICT_H
#define PARKIT_ADVISE_VERDICT_H

#include "sample.h"

struct pk_advise_measure {
    double wall_s, user_s, sys_s; /* the command and the children it waited for */
    long vcsw, ivcsw, inblock, oublock, maxrss_kb;
    int status; /* wait status */
    int max_threads, max_procs;
    int computing;             /* threads that did a share of the computing */
    double use[PK_USE_N];      /* thread-seconds by use, every thread */
    double work[PK_USE_N];     /* the same over the threads that worked (computed or waited on
                                  I/O or a timer; a thread that only waited on a lock or a child
                                  coordinates, and an idle pool thread is idle) */
    double computing_lock_share; /* of the computing threads' time in one process, the share
                                    blocked in a lock (the largest over processes that have two
                                    computing threads or more) */
};

/* Fills the thread figures of *m from the samples (wall_s must be set). */
void pk_advise_summarise(const struct pk_sampler *s, struct pk_advise_measure *m);

struct pk_advice {
    const char *kind; /* cpu-bound-parallel, cpu-bound-serialised, cpu-bound-serial, io-bound,
                         mixed, oversubscribed */
    enum pk_use wait; /* the largest wait of the working threads (PK_USE_CPU: none, it computes;
                         PK_USE_QUEUE: a core) */
    double busy;          /* CPU time / wall time: cores kept busy on average */
    int workers;          /* worker count to try */
    char text[768];
};

void pk_advise_decide(const struct pk_advise_measure *m, long cores, struct pk_advice *a);

#endif
