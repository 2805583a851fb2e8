/* SPDX-License-Identifier: MIT */
/* parkit report, JSON view: {"schema": "parkit.report/1", "groups", "baseline_groups",
 * "comparisons", "records", "bad_records"}; every repetition's time is kept, so the numbers can
 * be recomputed from the document alone. Undefined numbers are null. */
#include "report.h"

#include <math.h>

static json_t *jnum(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *point_json(const struct report_point *p)
{
    json_t *times = json_array();
    for (size_t i = 0; i < p->n; i++)
        json_array_append_new(times, json_real(p->t[i]));
    return json_pack(
        "{s:i, s:i, s:i, s:s, s:b, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:O}",
        "workers", p->workers, "threads", p->threads, "ranks", p->ranks, "size", p->size,
        "oversubscribed", p->oversub, "reps", (json_int_t)p->n, "median_s", jnum(p->median),
        "min_s", jnum(p->min), "max_s", jnum(p->max), "ci_lo_s", jnum(p->ci_lo), "ci_hi_s",
        jnum(p->ci_hi), "ci_coverage", jnum(p->ci_cov), "speedup", jnum(p->speedup), "efficiency",
        jnum(p->eff), "karp_flatt", jnum(p->kf), "times_s", times, "noise", p->noise);
}

static json_t *fit_json(const struct report_group *g)
{
    if (!g->fit_ok)
        return json_null();
    return json_pack("{s:s, s:o, s:o, s:o, s:o, s:I, s:I}", "model", pk__report_model_name(g),
                     "serial_fraction", jnum(g->fit.f), "serial_fraction_err", jnum(g->fit.f_err),
                     "a", jnum(g->fit.a), "b", jnum(g->fit.b), "observations", (json_int_t)g->fit.n,
                     "counts", (json_int_t)g->fit.counts);
}

static json_t *group_json(const struct report_group *g, const struct report_opts *o)
{
    json_t *pts = json_array(), *pred = json_array();
    for (size_t k = 0; k < g->npt; k++)
        json_array_append_new(pts, point_json(&g->pt[k]));
    struct report_prediction pr[PK_REPORT_MAX_PREDICT];
    size_t np = pk__report_predict(g, o, pr);
    for (size_t i = 0; i < np; i++)
        json_array_append_new(pred, json_pack("{s:f, s:o, s:o, s:b}", "workers", pr[i].workers,
                                              "speedup", jnum(pr[i].speedup), "efficiency",
                                              jnum(pr[i].efficiency), "model", 1));
    return json_pack("{s:i, s:s, s:s, s:b, s:s, s:{s:s, s:s, s:s, s:s, s:s}, s:O, s:I, s:i, "
                     "s:o, s:o, s:o}",
                     "group", g->id, "kernel", g->kernel, "mode", g->weak ? "weak" : "strong",
                     "serial", g->serial, "size", g->size, "key", "host", g->host, "git_commit",
                     g->commit, "compiler", g->compiler, "c_flags", g->flags, "mpi", g->mpi,
                     "provenance", g->prov, "records", (json_int_t)g->records, "base_workers",
                     g->pt[g->base].workers, "points", pts, "fit", fit_json(g), "predicted", pred);
}

static json_t *comparisons_json(const struct report_cmp *c, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        const struct report_cmp *x = &c[i];
        json_array_append_new(
            a, json_pack("{s:i, s:i, s:i, s:i, s:i, s:f, s:f, s:o, s:f, s:b, s:s, s:b, s:o}",
                         "group", x->g->id, "baseline_group", x->b->id, "workers", x->p->workers,
                         "threads", x->p->threads, "ranks", x->p->ranks, "baseline_median_s",
                         x->bp->median, "median_s", x->p->median, "change_pct", jnum(x->change_pct),
                         "p_value", x->p_value, "exact", x->exact, "verdict", x->verdict,
                         "regressed", x->regressed, "provenance_diff",
                         pk__report_prov_diff_json(x->bp->prov, x->p->prov)));
    }
    return a;
}

void pk__report_print_json(const struct report_set *now, const struct report_set *base,
                           const struct report_cmp *c, size_t nc, const struct report_opts *o)
{
    json_t *groups = json_array(), *bgroups = json_array();
    for (size_t i = 0; i < now->n; i++)
        json_array_append_new(groups, group_json(&now->g[i], o));
    for (size_t i = 0; i < base->n; i++)
        json_array_append_new(bgroups, group_json(&base->g[i], o));
    json_t *doc =
        json_pack("{s:s, s:o, s:o, s:o, s:I, s:I}", "schema", "parkit.report/1", "groups", groups,
                  "baseline_groups", bgroups, "comparisons", comparisons_json(c, nc), "records",
                  (json_int_t)(now->records + base->records), "bad_records",
                  (json_int_t)(now->bad + base->bad));
    json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    putchar('\n');
    json_decref(doc);
}
