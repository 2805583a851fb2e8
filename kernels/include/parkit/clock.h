/* SPDX-License-Identifier: MIT */
/* The one clock: seconds on CLOCK_MONOTONIC (immune to clock changes), for timings, deadlines
 * and timeouts in every library and the program. */
#ifndef PARKIT_CLOCK_H
#define PARKIT_CLOCK_H

#include <time.h>

static inline double pk_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#endif
