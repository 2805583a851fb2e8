/* SPDX-License-Identifier: MIT */
/* parkit report, CSV view: one header row, then one row per measured point ("measured"), per
 * predicted count ("model") and per baseline comparison ("compare"), all with the same columns
 * (empty where a kind has no value). Every field goes through the one CSV writer (pk_csvw,
 * emit.h), which quotes per RFC 4180. */
#include "emit.h"
#include "report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* clang-format off */
static const char *const csv_header[] = {
    "kind", "group", "kernel", "mode", "size", "host", "git_commit", "compiler", "c_flags", "mpi",
    "workers", "threads", "ranks", "oversubscribed", "point_size", "reps", "median_s", "min_s",
    "max_s", "ci_lo_s", "ci_hi_s", "ci_coverage", "base_workers", "speedup", "efficiency",
    "karp_flatt", "fit_model", "serial_fraction", "serial_fraction_err", "baseline_median_s",
    "change_pct", "p_value", "verdict", "provenance_diff", NULL};
/* clang-format on */

/* A number, or an empty field when it is undefined. */
static void csv_num(struct pk_csvw *w, double v)
{
    if (isfinite(v))
        pk_csvw_fieldf(w, "%.9g", v);
    else
        pk_csvw_field(w, NULL);
}

/* n empty fields: the columns a kind of row has no value for. */
static void csv_empty(struct pk_csvw *w, int n)
{
    for (int i = 0; i < n; i++)
        pk_csvw_field(w, NULL);
}

/* The columns group..mpi, which say which group a row belongs to. */
static void csv_group_cols(struct pk_csvw *w, const struct report_group *g)
{
    pk_csvw_fieldf(w, "%d", g->id);
    pk_csvw_field(w, g->kernel);
    pk_csvw_fieldf(w, "%s%s", g->weak ? "weak" : "strong", g->serial ? "-serial" : "");
    pk_csvw_field(w, g->size);
    const char *prov[] = {g->host, g->commit, g->compiler, g->flags, g->mpi};
    for (size_t i = 0; i < 5; i++)
        pk_csvw_field(w, prov[i]);
}

/* The columns workers..reps of a measured point; its size may be a list (factsum's 1,2,3). */
static void csv_point_cols(struct pk_csvw *w, const struct report_point *p)
{
    pk_csvw_fieldf(w, "%d", p->workers);
    pk_csvw_fieldf(w, "%d", p->threads);
    pk_csvw_fieldf(w, "%d", p->ranks);
    pk_csvw_field(w, p->oversub ? "yes" : "no");
    pk_csvw_field(w, p->size);
    pk_csvw_fieldf(w, "%zu", p->n);
}

/* The columns fit_model..serial_fraction_err of a group with a fit. */
static void csv_fit_cols(struct pk_csvw *w, const struct report_group *g)
{
    pk_csvw_field(w, pk__report_model_name(g));
    csv_num(w, g->fit.f);
    csv_num(w, g->fit.f_err);
}

static void csv_measured(struct pk_csvw *w, const struct report_group *g,
                         const struct report_point *p)
{
    pk_csvw_field(w, "measured");
    csv_group_cols(w, g);
    csv_point_cols(w, p);
    const double stats[] = {p->median, p->min, p->max, p->ci_lo, p->ci_hi, p->ci_cov};
    for (size_t i = 0; i < sizeof stats / sizeof stats[0]; i++)
        csv_num(w, stats[i]);
    pk_csvw_fieldf(w, "%d", g->pt[g->base].workers);
    csv_num(w, p->speedup);
    csv_num(w, p->eff);
    csv_num(w, p->kf);
    if (g->fit_ok)
        csv_fit_cols(w, g);
    else
        csv_empty(w, 3);
    csv_empty(w, 5); /* baseline_median_s..provenance_diff */
    pk_csvw_end(w);
}

static void csv_model(struct pk_csvw *w, const struct report_group *g,
                      const struct report_prediction *pr)
{
    pk_csvw_field(w, "model");
    csv_group_cols(w, g);
    pk_csvw_fieldf(w, "%.0f", pr->workers);
    csv_empty(w, 11); /* threads..ci_coverage */
    pk_csvw_fieldf(w, "%d", g->pt[g->base].workers);
    csv_num(w, pr->speedup);
    csv_num(w, pr->efficiency);
    csv_empty(w, 1); /* karp_flatt */
    csv_fit_cols(w, g);
    csv_empty(w, 5); /* baseline_median_s..provenance_diff */
    pk_csvw_end(w);
}

/* The provenance that differs, one fact after another separated by ';'. */
static void csv_prov_diff(struct pk_csvw *w, const struct report_cmp *x)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f) {
        pk__report_prov_diff(f, "", x->bp->prov, x->p->prov);
        fclose(f);
    }
    for (char *q = buf; q && *q; q++)
        if (*q == '\n')
            *q = q[1] ? ';' : 0;
    pk_csvw_field(w, buf);
    free(buf);
}

static void csv_compare(struct pk_csvw *w, const struct report_cmp *x)
{
    pk_csvw_field(w, "compare");
    csv_group_cols(w, x->g);
    csv_point_cols(w, x->p);
    csv_num(w, x->p->median);
    csv_empty(w, 12); /* min_s..serial_fraction_err */
    csv_num(w, x->bp->median);
    csv_num(w, x->change_pct);
    csv_num(w, x->p_value);
    pk_csvw_field(w, x->verdict);
    if (strcmp(x->verdict, "slower") == 0)
        csv_prov_diff(w, x);
    else
        pk_csvw_field(w, NULL);
    pk_csvw_end(w);
}

void pk__report_print_csv(const struct report_set *now, const struct report_cmp *c, size_t nc,
                          const struct report_opts *o)
{
    struct pk_csvw w;
    pk_csvw_init(&w, stdout);
    pk_csvw_row(&w, csv_header);
    for (size_t gi = 0; gi < now->n; gi++) {
        const struct report_group *g = &now->g[gi];
        for (size_t k = 0; k < g->npt; k++)
            csv_measured(&w, g, &g->pt[k]);
        struct report_prediction pr[PK_REPORT_MAX_PREDICT];
        size_t np = pk__report_predict(g, o, pr);
        for (size_t i = 0; i < np; i++)
            csv_model(&w, g, &pr[i]);
    }
    for (size_t i = 0; i < nc; i++)
        csv_compare(&w, &c[i]);
}
