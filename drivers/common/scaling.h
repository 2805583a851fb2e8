/* SPDX-License-Identifier: MIT */
/* Scaling statistics for `parkit report`: a distribution-free confidence interval of the median,
 * the Karp-Flatt serial fraction, least-squares Amdahl and Gustafson fits (GSL) with the error of
 * the fitted serial fraction, the models' predicted speedups, and the Mann-Whitney rank test.
 *
 * Pure functions: no I/O, no global state; every one is thread-safe. Inputs are owned by the
 * caller and never kept. */
#ifndef PARKIT_SCALING_H
#define PARKIT_SCALING_H

#include <stdbool.h>
#include <stddef.h>

/* Confidence interval of the median of sorted[0..n) (ascending) from order statistics: the
 * largest k with 2 P(B <= k-1) <= 1 - level, B ~ Binomial(n, 1/2), gives [x_(k), x_(n+1-k)]
 * with coverage 1 - 2 P(B <= k-1) >= level. When n is too small for the level (n < 6 for 95%)
 * the interval is [min, max] and *coverage is what it achieves, 1 - 2^(1-n) (below level).
 * Returns 0, or PK_EINVAL for n == 0 or a level outside (0, 1). */
int pk_scaling_median_ci(const double *sorted, size_t n, double level, double *lo, double *hi,
                         double *coverage);

/* Karp-Flatt experimentally determined serial fraction e = (1/S - 1/p) / (1 - 1/p) for speedup
 * S on p workers (p relative to the base). NaN for p <= 1 or S <= 0. */
double pk_scaling_karp_flatt(double speedup, double p);
struct pk_count_list;
/* The default thread counts of a sweep: 1, 2, 4, ... up to the cores, then the cores themselves
 * (into l, which the caller frees with pk_count_list_free). PK_EXIT_OK or PK_EXIT_RUNTIME. */
int pk_scaling_default_threads(struct pk_count_list *l);

/* A fitted serial fraction. Amdahl: T(p) = a + b/p, f = a / (a + b). Gustafson: scaled speedup
 * S(p) = f + (1 - f) p, b unused (a = f). f_err is one standard error from the fit covariance
 * (propagated to f for Amdahl); NaN when there are too few observations for an error. */
struct pk_scaling_fit {
    double f, f_err;
    double a, b;   /* Amdahl: seconds; Gustafson: a = f, b = 1 - f */
    double chisq;  /* sum of squared residuals */
    size_t n;      /* observations used */
    size_t counts; /* distinct worker counts among them */
};

/* Amdahl fit by ordinary least squares (gsl_fit_linear) of every observed time t[i] at p[i]
 * workers on x = 1/p. Needs at least two distinct p. Returns 0 or PK_EINVAL. */
int pk_scaling_amdahl_fit(const double *p, const double *t, size_t n, struct pk_scaling_fit *fit);
/* Gustafson fit of observed scaled speedups s[i] at p[i] workers: s - p = f (1 - p), a
 * regression through the origin (gsl_fit_mul). Needs a p != 1. Returns 0 or PK_EINVAL. */
int pk_scaling_gustafson_fit(const double *p, const double *s, size_t n,
                             struct pk_scaling_fit *fit);
/* The models' speedups on p workers for serial fraction f. */
double pk_scaling_amdahl_speedup(double f, double p);
double pk_scaling_gustafson_speedup(double f, double p);

/* Mann-Whitney U test of x[0..nx) against y[0..ny), two-sided. *u is U of x (pairs with x > y,
 * ties counting 1/2). Exact null distribution when there are no ties and nx + ny <= 40;
 * otherwise the normal approximation with tie and continuity corrections (*exact false).
 * Returns 0, or PK_EINVAL when a sample is empty, PK_ENOMEM when out of memory. */
int pk_scaling_mann_whitney(const double *x, size_t nx, const double *y, size_t ny, double *u,
                            double *p_value, bool *exact);

#endif
