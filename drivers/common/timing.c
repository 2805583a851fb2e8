/* SPDX-License-Identifier: MIT */
#include "timing.h"

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double pk_clock_tick_s(void)
{
    /* The smallest non-zero difference over a few hundred back-to-back reads. */
    double best = 1.0;
    for (int i = 0; i < 200; i++) {
        double t0 = pk_now_s(), t1;
        do {
            t1 = pk_now_s();
        } while (t1 == t0);
        if (t1 - t0 < best)
            best = t1 - t0;
    }
    return best;
}

struct pk_stats pk_stats_of(const double *t, int n)
{
    struct pk_stats s = {0};
    if (n <= 0)
        return s;
    double *sorted = malloc(sizeof *sorted * (size_t)n);
    if (!sorted) {
        s.median = s.min = s.max = s.mean = t[0];
        return s;
    }
    memcpy(sorted, t, sizeof *sorted * (size_t)n);
    gsl_sort(sorted, 1, (size_t)n);
    s.median = gsl_stats_median_from_sorted_data(sorted, 1, (size_t)n);
    s.min = sorted[0];
    s.max = sorted[n - 1];
    s.mean = gsl_stats_mean(sorted, 1, (size_t)n);
    s.stddev = n > 1 ? gsl_stats_sd(sorted, 1, (size_t)n) : 0.0;
    free(sorted);
    return s;
}
