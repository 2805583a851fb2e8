/* SPDX-License-Identifier: MIT */
/* Honest timing: a monotonic clock, every repetition kept, statistics over all of them. */
#ifndef PARKIT_TIMING_H
#define PARKIT_TIMING_H

#include "parkit/clock.h" /* pk_now_s */

/* Smallest observable step of pk_now_s, measured once (as STREAM's checktick does). */
double pk_clock_tick_s(void);

struct pk_stats {
    double median, min, max, mean, stddev;
};
/* Statistics of t[0..n); t is left unchanged. */
struct pk_stats pk_stats_of(const double *t, int n);

#endif
