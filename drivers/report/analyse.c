/* SPDX-License-Identifier: MIT */
/* parkit report, analysis: per point the median, min, max and a distribution-free interval of
 * the median, speedup, efficiency and the Karp-Flatt serial fraction; per group an Amdahl
 * (strong) or Gustafson (weak) least-squares fit over every repetition, and the speedups it
 * predicts. Speedups are relative to the group's smallest count (1 worker when there is one). */
#include "commands.h"
#include "report.h"

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_point(const void *a, const void *b)
{
    const struct report_point *x = a, *y = b;
    if (x->workers != y->workers)
        return x->workers < y->workers ? -1 : 1;
    return (x->ranks > y->ranks) - (x->ranks < y->ranks);
}

static int cmp_group(const void *a, const void *b)
{
    const struct report_group *x = a, *y = b;
    int c = strcmp(x->kernel, y->kernel);
    if (c)
        return c;
    if (x->weak != y->weak)
        return x->weak ? 1 : -1;
    if (x->serial != y->serial)
        return x->serial ? 1 : -1;
    if (x->size_num != y->size_num)
        return x->size_num < y->size_num ? -1 : 1;
    c = strcmp(x->size, y->size);
    if (c)
        return c;
    return (x->order > y->order) - (x->order < y->order);
}

/* Ratio of a point's workers to the base point's: the p of the formulas. */
static double rel_workers(const struct report_group *g, const struct report_point *p)
{
    return (double)p->workers / (double)g->pt[g->base].workers;
}

/* Sorts the point's times; median, min, max and the interval of the median. */
static void point_stats(struct report_point *p)
{
    gsl_sort(p->t, 1, p->n);
    p->median = gsl_stats_median_from_sorted_data(p->t, 1, p->n);
    p->min = p->t[0];
    p->max = p->t[p->n - 1];
    pk_scaling_median_ci(p->t, p->n, PK_REPORT_CI_LEVEL, &p->ci_lo, &p->ci_hi, &p->ci_cov);
}

static void point_speedups(const struct report_group *g, struct report_point *p)
{
    const struct report_point *b = &g->pt[g->base];
    double r = rel_workers(g, p);
    /* strong: S = T_base / T(p); weak: scaled speedup S = r T_base / T(p), and the
     * efficiency is T_base / T(p). Karp-Flatt assumes a fixed size: strong only. */
    double scale = g->weak ? r : 1;
    p->speedup = scale * b->median / p->median;
    p->speedup_lo = scale * b->median / p->ci_hi;
    p->speedup_hi = scale * b->median / p->ci_lo;
    p->eff = p->speedup / r;
    p->kf = g->weak ? NAN : pk_scaling_karp_flatt(p->speedup, r);
}

/* Fits the group's model over every repetition of the points it keeps. Returns a pk_status. */
static int group_fit(struct report_group *g, size_t nobs)
{
    double *x = malloc((nobs ? nobs : 1) * sizeof *x);
    double *y = malloc((nobs ? nobs : 1) * sizeof *y);
    if (!x || !y) {
        free(x);
        free(y);
        return PK_ENOMEM;
    }
    /* Oversubscribed points measure the machine running out of cores, not the kernel:
     * leave them out of the fit when at least two other counts remain. */
    size_t fair = 0;
    for (size_t k = 0; k < g->npt; k++)
        fair += !g->pt[k].oversub && (k == 0 || g->pt[k].workers != g->pt[k - 1].workers);
    bool skip = fair >= 2;
    const struct report_point *b = &g->pt[g->base];
    g->fit_left_out = 0;
    size_t m = 0;
    for (size_t k = 0; k < g->npt; k++) {
        const struct report_point *p = &g->pt[k];
        if (skip && p->oversub) {
            g->fit_left_out++;
            continue;
        }
        for (size_t i = 0; i < p->n; i++, m++) {
            /* Amdahl: every time at its absolute count; Gustafson: every scaled speedup at
             * its count relative to the base */
            x[m] = g->weak ? rel_workers(g, p) : (double)p->workers;
            y[m] = g->weak ? rel_workers(g, p) * b->median / p->t[i] : p->t[i];
        }
    }
    int rc = g->weak ? pk_scaling_gustafson_fit(x, y, m, &g->fit)
                     : pk_scaling_amdahl_fit(x, y, m, &g->fit);
    g->fit_ok = rc == PK_OK;
    free(x);
    free(y);
    return PK_OK;
}

int pk__report_analyse(struct report_set *s)
{
    if (s->n > 1) /* an empty baseline set has no array at all */
        qsort(s->g, s->n, sizeof *s->g, cmp_group);
    for (size_t gi = 0; gi < s->n; gi++) {
        struct report_group *g = &s->g[gi];
        g->id = (int)gi + 1;
        qsort(g->pt, g->npt, sizeof *g->pt, cmp_point);
        size_t nobs = 0;
        for (size_t k = 0; k < g->npt; k++) {
            point_stats(&g->pt[k]);
            nobs += g->pt[k].n;
        }
        g->base = 0; /* the smallest count after sorting: 1 worker when there is one */
        for (size_t k = 0; k < g->npt; k++)
            point_speedups(g, &g->pt[k]);
        if (group_fit(g, nobs) != PK_OK)
            return PK_ENOMEM;
    }
    return PK_OK;
}

double pk__report_tidy(double v)
{
    return fabs(v) < 1e-12 ? 0.0 : v;
}

double pk__report_tidy_rel(double v, double other)
{
    return fabs(v) < 1e-12 * (fabs(v) + fabs(other)) ? 0.0 : v;
}

double pk__report_model_speedup(const struct report_group *g, double workers)
{
    double p0 = g->pt[g->base].workers;
    if (g->weak)
        return pk_scaling_gustafson_speedup(g->fit.f, workers / p0);
    /* T(p) = a + b/p; with a 1-worker base this is Amdahl's 1 / (f + (1-f)/p) */
    return (g->fit.a + g->fit.b / p0) / (g->fit.a + g->fit.b / workers);
}

bool pk__report_fit_in_range(const struct report_group *g)
{
    /* 0.01 leaves room for noise around an ideal (0) or serial (1) kernel */
    return g->fit.f >= -0.01 && g->fit.f <= 1.01;
}

size_t pk__report_predict(const struct report_group *g, const struct report_opts *o,
                          struct report_prediction *out)
{
    /* a model that does not fit the times (f outside [0, 1]) predicts nothing worth printing */
    if (!g->fit_ok || !pk__report_fit_in_range(g))
        return 0;
    double top = g->pt[g->npt - 1].workers;
    double dflt[2] = {2 * top, 4 * top};
    const double *at = o->npredict ? o->predict : dflt;
    size_t n = o->npredict ? o->npredict : 2;
    for (size_t i = 0; i < n; i++) {
        double sp = pk__report_model_speedup(g, at[i]);
        out[i] = (struct report_prediction){
            .workers = at[i],
            .speedup = sp,
            .efficiency = sp / (at[i] / g->pt[g->base].workers),
        };
    }
    return n;
}

const char *pk__report_model_name(const struct report_group *g)
{
    return g->weak ? "Gustafson" : "Amdahl";
}

const char *pk__report_mode_text(const struct report_group *g)
{
    return g->weak ? "weak scaling" : "strong scaling";
}

bool pk__report_same_experiment(const struct report_group *a, const struct report_group *b)
{
    return a->weak == b->weak && a->serial == b->serial && strcmp(a->kernel, b->kernel) == 0 &&
           strcmp(a->size, b->size) == 0;
}
