/* SPDX-License-Identifier: MIT */
/* Scaling statistics for `parkit report` (see scaling.h). Everything is a pure function of its
 * arguments; GSL supplies the fits and the distribution functions. */
#include "scaling.h"

#include "cli.h"
#include "opt.h"

#include "parkit/status.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_fit.h>
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

int pk_scaling_median_ci(const double *sorted, size_t n, double level, double *lo, double *hi,
                         double *coverage)
{
    *lo = *hi = *coverage = NAN;
    if (n == 0 || !(level > 0 && level < 1))
        return PK_EINVAL;
    /* k = 1 is [min, max]; widen k while the interval still covers level. */
    size_t k = 1;
    double tail = gsl_cdf_binomial_P(0, 0.5, (unsigned)n); /* P(B <= k-1) for k = 1 */
    while (k + 1 <= (n + 1) / 2) {
        double next = gsl_cdf_binomial_P((unsigned)k, 0.5, (unsigned)n);
        if (1 - 2 * next < level)
            break;
        k++;
        tail = next;
    }
    *lo = sorted[k - 1];
    *hi = sorted[n - k];
    *coverage = 1 - 2 * tail;
    return PK_OK;
}

double pk_scaling_karp_flatt(double speedup, double p)
{
    if (!(p > 1) || !(speedup > 0))
        return NAN;
    return (1 / speedup - 1 / p) / (1 - 1 / p);
}

static size_t distinct_counts(const double *p, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = p[j] == p[i];
        k += !seen;
    }
    return k;
}

int pk_scaling_amdahl_fit(const double *p, const double *t, size_t n, struct pk_scaling_fit *fit)
{
    *fit = (struct pk_scaling_fit){.f = NAN, .f_err = NAN, .a = NAN, .b = NAN, .chisq = NAN};
    fit->n = n;
    fit->counts = distinct_counts(p, n);
    if (fit->counts < 2)
        return PK_EINVAL;
    double *x = malloc(n * sizeof *x);
    if (!x)
        return PK_ENOMEM;
    for (size_t i = 0; i < n; i++)
        x[i] = 1 / p[i];
    double a, b, c00, c01, c11, sumsq;
    int rc = gsl_fit_linear(x, 1, t, 1, n, &a, &b, &c00, &c01, &c11, &sumsq);
    free(x);
    if (rc != 0 || !(a + b > 0))
        return PK_EINVAL;
    fit->a = a;
    fit->b = b;
    fit->chisq = sumsq;
    fit->f = a / (a + b);
    /* f = a / (a + b): df/da = b / (a+b)^2, df/db = -a / (a+b)^2. gsl_fit_linear scales the
     * covariance by the residual variance sumsq / (n - 2), so it needs n > 2. */
    if (n > 2) {
        double s = (a + b) * (a + b), da = b / s, db = -a / s;
        double var = da * da * c00 + 2 * da * db * c01 + db * db * c11;
        fit->f_err = sqrt(var > 0 ? var : 0);
    }
    return PK_OK;
}

int pk_scaling_gustafson_fit(const double *p, const double *s, size_t n, struct pk_scaling_fit *fit)
{
    *fit = (struct pk_scaling_fit){.f = NAN, .f_err = NAN, .a = NAN, .b = NAN, .chisq = NAN};
    fit->n = n;
    fit->counts = distinct_counts(p, n);
    size_t informative = 0; /* p == 1 says nothing about f: S(1) = 1 for every f */
    for (size_t i = 0; i < n; i++)
        informative += p[i] != 1;
    if (informative == 0)
        return PK_EINVAL;
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    if (!x || !y) {
        free(x);
        free(y);
        return PK_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        x[i] = 1 - p[i];
        y[i] = s[i] - p[i];
    }
    double f, c11, sumsq;
    int rc = gsl_fit_mul(x, 1, y, 1, n, &f, &c11, &sumsq);
    free(x);
    free(y);
    if (rc != 0)
        return PK_EINVAL;
    fit->f = f;
    fit->a = f;
    fit->b = 1 - f;
    fit->chisq = sumsq;
    /* gsl_fit_mul scales c11 by sumsq / (n - 1). */
    if (n > 1)
        fit->f_err = sqrt(c11 > 0 ? c11 : 0);
    return PK_OK;
}

double pk_scaling_amdahl_speedup(double f, double p)
{
    return 1 / (f + (1 - f) / p);
}

double pk_scaling_gustafson_speedup(double f, double p)
{
    return f + (1 - f) * p;
}

struct ranked {
    double v;
    int from_x;
};

static int cmp_ranked(const void *a, const void *b)
{
    double x = ((const struct ranked *)a)->v, y = ((const struct ranked *)b)->v;
    return (x > y) - (x < y);
}

/* Counts of U = 0..m*n over all C(m+n, m) equally likely arrangements: the coefficients of the
 * Gaussian binomial [m+n choose m]_q = prod_{k=1..m} (1 - q^(n+k)) / (1 - q^k). Every partial
 * product is itself a polynomial with integer coefficients at most C(m+n, m) <= C(40, 20) <
 * 2^53, so doubles hold them exactly. */
static double *exact_u_counts(size_t m, size_t n)
{
    size_t len = m * n + n + m + 2;
    double *c = calloc(len, sizeof *c);
    if (!c)
        return NULL;
    c[0] = 1;
    size_t deg = 0;
    for (size_t k = 1; k <= m; k++) {
        size_t sh = n + k;
        for (size_t u = deg + sh + 1; u-- > sh;) /* times (1 - q^(n+k)) */
            c[u] -= c[u - sh];
        deg += sh;
        for (size_t u = k; u <= deg; u++) /* divided by (1 - q^k) */
            c[u] += c[u - k];
        deg -= k;
    }
    return c;
}

int pk_scaling_mann_whitney(const double *x, size_t nx, const double *y, size_t ny, double *u,
                            double *p_value, bool *exact)
{
    *u = *p_value = NAN;
    *exact = false;
    if (nx == 0 || ny == 0)
        return PK_EINVAL;
    size_t n = nx + ny;
    struct ranked *r = malloc(n * sizeof *r);
    if (!r)
        return PK_ENOMEM;
    for (size_t i = 0; i < nx; i++)
        r[i] = (struct ranked){x[i], 1};
    for (size_t j = 0; j < ny; j++)
        r[nx + j] = (struct ranked){y[j], 0};
    qsort(r, n, sizeof *r, cmp_ranked);
    /* Mid-ranks for ties; sum of t^3 - t over tie groups for the variance correction. */
    double rank_x = 0, ties = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && r[j].v == r[i].v)
            j++;
        double mid = (double)(i + 1 + j) / 2, t = (double)(j - i);
        for (size_t k = i; k < j; k++)
            if (r[k].from_x)
                rank_x += mid;
        ties += t * t * t - t;
        i = j;
    }
    free(r);
    double dx = (double)nx, dy = (double)ny, dn = (double)n;
    *u = rank_x - dx * (dx + 1) / 2;
    if (ties == 0 && n <= 40) {
        double *c = exact_u_counts(nx, ny);
        if (!c)
            return PK_ENOMEM;
        size_t ui = (size_t)llround(*u), top = nx * ny;
        double total = 0, le = 0, ge = 0;
        for (size_t k = 0; k <= top; k++) {
            total += c[k];
            le += k <= ui ? c[k] : 0;
            ge += k >= ui ? c[k] : 0;
        }
        free(c);
        double p = 2 * fmin(le, ge) / total;
        *p_value = p < 1 ? p : 1;
        *exact = true;
        return PK_OK;
    }
    double mu = dx * dy / 2;
    double var = dx * dy / 12 * ((dn + 1) - ties / (dn * (dn - 1)));
    if (!(var > 0)) { /* every value equal: no evidence of any difference */
        *p_value = 1;
        return PK_OK;
    }
    double z = (fabs(*u - mu) - 0.5) / sqrt(var); /* continuity correction */
    double p = z > 0 ? 2 * gsl_cdf_ugaussian_Q(z) : 1;
    *p_value = p < 1 ? p : 1;
    return PK_OK;
}

int pk_scaling_default_threads(struct pk_count_list *l)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    cores = cores < 1 ? 1 : cores > 4096 ? 4096 : cores;
    l->v = calloc(16, sizeof *l->v);
    if (!l->v)
        return PK_EXIT_RUNTIME;
    l->n = 0;
    for (long t = 1; t <= cores; t *= 2)
        l->v[l->n++] = (uint64_t)t;
    if (l->v[l->n - 1] != (uint64_t)cores)
        l->v[l->n++] = (uint64_t)cores;
    return PK_EXIT_OK;
}
