/* SPDX-License-Identifier: MIT */
/* scale run's noise, named per point: the time the program's threads waited for a core
 * (schedstat run delay, summed over its tree), the CPU other processes used meanwhile, a change
 * of the CPU clock during a repetition, the spread of the repetitions and the outliers among
 * them, and under a launcher the spread across ranks (the slowest rank against the median
 * rank, from the per-rank timer). Outliers are flagged, never dropped:
 * the statistics keep every repetition. */
#include "sweep.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A point is called noisy when its threads waited for a core more than this share of the wall
 * time (a tenth of a core), or other processes used more than this many cores. */
#define DELAY_FRAC   0.10
#define OTHER_CORES  0.25
#define SPREAD_PCT   10.0
#define RANK_PCT     10.0 /* the slowest rank against the median rank */
#define MHZ_PCT      5.0  /* a change of the mean CPU clock during a repetition */
#define OUTLIER_MADS 3.0  /* robust z beyond which a repetition is an outlier */
#define OUTLIER_REL  0.05 /* ... and at least this far from the median, relatively */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of v[0..n) (copied); NaN for none. */
static double median_of(const double *v, size_t n)
{
    double *s = malloc((n ? n : 1) * sizeof *s);
    if (!s || n == 0) {
        free(s);
        return NAN;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i]))
            s[k++] = v[i];
    qsort(s, k, sizeof *s, cmp_double);
    double m = k == 0 ? NAN : k % 2 ? s[k / 2] : 0.5 * (s[k / 2 - 1] + s[k / 2]);
    free(s);
    return m;
}

/* ratio[i] = num[i] / den[i]. */
static double median_ratio(const double *num, const double *den, size_t n)
{
    double *r = malloc((n ? n : 1) * sizeof *r);
    if (!r)
        return NAN;
    for (size_t i = 0; i < n; i++)
        r[i] = den[i] > 0 ? num[i] / den[i] : NAN;
    double m = median_of(r, n);
    free(r);
    return m;
}

/* Indices of the outliers of t: beyond OUTLIER_MADS scaled median absolute deviations. */
static json_t *outliers_of(const double *t, size_t n, double med)
{
    json_t *out = json_array();
    double *dev = malloc((n ? n : 1) * sizeof *dev);
    if (!dev || n < 3) {
        free(dev);
        return out;
    }
    for (size_t i = 0; i < n; i++)
        dev[i] = fabs(t[i] - med);
    double mad = 1.4826 * median_of(dev, n);
    for (size_t i = 0; i < n; i++)
        if (dev[i] > OUTLIER_MADS * mad && dev[i] > OUTLIER_REL * med)
            json_array_append_new(out, json_integer((json_int_t)i));
    free(dev);
    return out;
}

static void add_reason(json_t *reasons, const char *fmt, double a, double b)
{
    char text[160];
    snprintf(text, sizeof text, fmt, a, b);
    json_array_append_new(reasons, json_string(text));
}

/* The rank that was slowest most often (NaN: none known). */
static double usual_slowest(const double *slowest, size_t n)
{
    double best = NAN;
    size_t best_count = 0;
    for (size_t i = 0; i < n; i++) {
        size_t count = 0;
        for (size_t k = 0; k < n; k++)
            count += slowest[k] == slowest[i];
        if (!isnan(slowest[i]) && count > best_count) {
            best = slowest[i];
            best_count = count;
        }
    }
    return best;
}

/* v as a JSON array, NaN as null, as integers when ints. */
static json_t *values_or_null(const double *v, size_t n, bool ints)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, isnan(v[i]) ? json_null()
                                 : ints      ? json_integer((json_int_t)v[i])
                                             : json_real(v[i]));
    return a;
}

/* The spread across ranks (null when the ranks were not timed one by one), and a reason when
 * its median over the repetitions is large. */
static json_t *rank_noise(const struct pk_run_acc *a, json_t *reasons)
{
    size_t n = a->n;
    bool measured = false;
    for (size_t i = 0; i < n; i++)
        measured = measured || !isnan(a->rank_seen[i]);
    if (!measured)
        return json_null();
    double med = median_of(a->rank_spread, n);
    if (med > RANK_PCT)
        add_reason(reasons,
                   "the slowest rank (mostly rank %.0f) took %.0f%% longer than the "
                   "median rank",
                   usual_slowest(a->rank_slowest, n), med);
    return json_pack("{s:o, s:o, s:o, s:o}", "spread_pct", values_or_null(a->rank_spread, n, false),
                     "median_spread_pct", isnan(med) ? json_null() : json_real(med), "slowest",
                     values_or_null(a->rank_slowest, n, true), "ranks_reported",
                     values_or_null(a->rank_seen, n, true));
}

json_t *pk__run_noise(const struct pk_run_acc *a)
{
    size_t n = a->n;
    double med = median_of(a->wall, n), mn = INFINITY, mx = 0;
    for (size_t i = 0; i < n; i++) {
        mn = a->wall[i] < mn ? a->wall[i] : mn;
        mx = a->wall[i] > mx ? a->wall[i] : mx;
    }
    double delay = median_ratio(a->delay, a->wall, n), other = median_ratio(a->other, a->wall, n);
    double spread = med > 0 ? 100 * (mx - mn) / med : NAN;
    json_t *out = outliers_of(a->wall, n, med), *reasons = json_array();
    if (delay > DELAY_FRAC)
        add_reason(reasons, "its threads waited for a core %.0f%% of the wall time", 100 * delay,
                   0);
    if (other > OTHER_CORES)
        add_reason(reasons, "other processes used %.2f cores meanwhile", other, 0);
    if (spread > SPREAD_PCT)
        add_reason(reasons, "the repetitions spread over %.0f%% of the median", spread, 0);
    if (json_array_size(out) > 0)
        add_reason(reasons, "%.0f outlying repetition(s), kept in the statistics",
                   (double)json_array_size(out), 0);
    double most = 0;
    for (size_t i = 0; i < n; i++)
        most = fabs(a->mhz[i]) > fabs(most) ? a->mhz[i] : most;
    json_t *delays = values_or_null(a->delay, n, false);
    json_t *others = values_or_null(a->other, n, false), *mhz = values_or_null(a->mhz, n, false);
    if (fabs(most) > MHZ_PCT)
        add_reason(reasons, "the CPU clock changed by %+.0f%% during a repetition", most, 0);
    json_t *ranks = rank_noise(a, reasons);
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:b}", "ranks", ranks,
                     "clock_change_pct", mhz, "run_delay_s", delays, "run_delay_share",
                     isnan(delay) ? json_null() : json_real(delay), "other_cpu_s", others,
                     "other_cores", isnan(other) ? json_null() : json_real(other), "spread_pct",
                     isnan(spread) ? json_null() : json_real(spread), "outliers", out, "reasons",
                     reasons, "noisy", json_array_size(reasons) > 0);
}
