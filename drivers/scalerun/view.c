/* SPDX-License-Identifier: MIT */
/* scale run's table and CSV: one row per point, ordered by size, ranks and threads, with the
 * speedup against the point of fewest workers at the same size, the figure of merit, and the
 * noise (or the failure) in words. */
#include "sweep.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct row {
    int workers, threads, ranks;
    long long size, base;
    double med, mn, mx, fig, speedup, eff;
    bool failed, over, sized;
    const json_t *rec;
};

static const char *run_mode(const struct pk_run_opts *o)
{
    return o->mode == PK_RUN_WEAK ? "weak" : o->mode == PK_RUN_THROUGHPUT ? "throughput" : "strong";
}

static double num(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static struct row row_of(const struct pk_run_opts *o, const json_t *rec)
{
    const json_t *b = json_object_get(rec, "scale"), *t = json_object_get(rec, "timing");
    const json_t *res = json_object_get(rec, "result");
    return (struct row){
        .workers = (int)json_integer_value(json_object_get(b, "workers")),
        .threads = (int)json_integer_value(json_object_get(b, "threads")),
        .ranks = (int)json_integer_value(json_object_get(b, "ranks")),
        .size = json_integer_value(json_object_get(b, "size")),
        .base = json_integer_value(json_object_get(b, "base_size")),
        .med = num(t, "median_s"),
        .mn = num(t, "min_s"),
        .mx = num(t, "max_s"),
        .fig = num(res, o->mode == PK_RUN_THROUGHPUT ? "throughput_median_per_s" : "metric_median"),
        .failed = json_object_get(rec, "failed") != NULL,
        .over = json_is_true(json_object_get(b, "oversubscribed")),
        .sized = json_object_get(json_object_get(rec, "params"), "size") != NULL,
        .rec = rec,
        .speedup = NAN,
        .eff = NAN};
}

static int cmp_row(const void *pa, const void *pb)
{
    const struct row *a = pa, *b = pb;
    if (a->base != b->base)
        return a->base < b->base ? -1 : 1;
    if (a->ranks != b->ranks)
        return a->ranks - b->ranks;
    return a->threads - b->threads;
}

/* The rows, sorted, with speedups against the fewest workers of each size (malloc'd). */
static struct row *rows_of(const struct pk_run_opts *o, const json_t *points, size_t *n)
{
    *n = json_array_size(points);
    struct row *r = calloc(*n ? *n : 1, sizeof *r);
    if (!r)
        return NULL;
    for (size_t i = 0; i < *n; i++)
        r[i] = row_of(o, json_array_get(points, i));
    qsort(r, *n, sizeof *r, cmp_row);
    for (size_t i = 0; i < *n; i++) {
        const struct row *base = NULL;
        for (size_t k = 0; k < *n; k++)
            if (!r[k].failed && r[k].base == r[i].base && (!base || r[k].workers < base->workers))
                base = &r[k];
        if (!base || r[i].failed || !(r[i].med > 0))
            continue;
        double rel = (double)r[i].workers / base->workers;
        r[i].speedup = o->mode == PK_RUN_WEAK ? rel * base->med / r[i].med : base->med / r[i].med;
        r[i].eff = r[i].speedup / rel;
    }
    return r;
}

/* The noise reasons, or the failure, as one line of text into buf. */
static void remark(const struct row *r, char *buf, size_t len)
{
    const json_t *f = json_object_get(r->rec, "failed");
    if (f) {
        snprintf(buf, len, "FAILED: %s", json_string_value(json_object_get(f, "why")));
        return;
    }
    const json_t *b = json_object_get(r->rec, "scale");
    const json_t *reasons = json_object_get(json_object_get(b, "noise"), "reasons");
    size_t used = 0, i;
    json_t *v;
    buf[0] = 0;
    if (r->over)
        used += (size_t)snprintf(buf, len, "oversubscribed");
    json_array_foreach(reasons, i, v)
    {
        if (used < len)
            used += (size_t)snprintf(buf + used, len - used, "%s%s",
                                     i      ? "; "
                                     : used ? "; noisy: "
                                            : "noisy: ",
                                     json_string_value(v));
    }
    const json_t *ci = json_object_get(b, "ci");
    double half = num(ci, "half_width_pct");
    const char *stop = json_string_value(json_object_get(ci, "stopped"));
    if (ci && used < len && isnan(half))
        snprintf(buf + used, len - used, "%s95%% ci unknown (%s)", used ? "; " : "", stop);
    else if (ci && used < len)
        snprintf(buf + used, len - used, "%s95%% ci +-%.1f%% (%s)", used ? "; " : "", half, stop);
}

void pk__run_table(const json_t *points, const void *ctx)
{
    const struct pk_run_opts *o = ctx;
    size_t n;
    struct row *r = rows_of(o, points, &n);
    if (!r)
        return;
    const json_t *b0 = json_object_get(json_array_get(points, 0), "scale");
    printf("# parkit scale run: %s, %s scaling, experiment %s; median of %d after %d warm-up, "
           "order seed %llu\n",
           json_string_value(json_object_get(b0, "kernel")), run_mode(o),
           json_string_value(json_object_get(b0, "experiment")), o->common.reps, o->common.warmup,
           (unsigned long long)o->seed);
    printf("%5s %7s %7s %12s %10s %10s %10s %8s %10s %12s  %s\n", "ranks", "threads", "workers",
           "size", "median_s", "min_s", "max_s", "speedup", "efficiency",
           o->mode == PK_RUN_THROUGHPUT ? "per_s" : "metric", "remarks");
    for (size_t i = 0; i < n; i++) {
        char rem[512];
        remark(&r[i], rem, sizeof rem);
        char size[24] = "-", fig[24] = "-";
        if (r[i].sized)
            snprintf(size, sizeof size, "%lld", r[i].size);
        if (!isnan(r[i].fig))
            snprintf(fig, sizeof fig, "%.6g", r[i].fig);
        printf("%5d %7d %7d %12s %10.4f %10.4f %10.4f %8.2f %10.2f %12s  %s\n", r[i].ranks,
               r[i].threads, r[i].workers, size, r[i].med, r[i].mn, r[i].mx, r[i].speedup, r[i].eff,
               fig, rem);
    }
    free(r);
}

void pk__run_csv(const json_t *points, struct pk_csvw *w, const void *ctx)
{
    const struct pk_run_opts *o = ctx;
    static const char *const header[] = {
        "kernel", "mode",    "ranks",      "threads", "workers", "size",  "median_s", "min_s",
        "max_s",  "speedup", "efficiency", "metric",  "failed",  "noisy", "remarks",  NULL};
    pk_csvw_row(w, header);
    size_t n;
    struct row *r = rows_of(o, points, &n);
    for (size_t i = 0; r && i < n; i++) {
        const json_t *b = json_object_get(r[i].rec, "scale");
        char rem[512];
        remark(&r[i], rem, sizeof rem);
        pk_csvw_field(w, json_string_value(json_object_get(b, "kernel")));
        pk_csvw_field(w, run_mode(o));
        pk_csvw_fieldf(w, "%d", r[i].ranks);
        pk_csvw_fieldf(w, "%d", r[i].threads);
        pk_csvw_fieldf(w, "%d", r[i].workers);
        pk_csvw_fieldf(w, "%lld", r[i].size);
        pk_csvw_fieldf(w, "%.9f", r[i].med);
        pk_csvw_fieldf(w, "%.9f", r[i].mn);
        pk_csvw_fieldf(w, "%.9f", r[i].mx);
        pk_csvw_fieldf(w, "%.4f", r[i].speedup);
        pk_csvw_fieldf(w, "%.4f", r[i].eff);
        pk_csvw_fieldf(w, "%.9g", r[i].fig);
        pk_csvw_field(w, r[i].failed ? "yes" : "no");
        pk_csvw_field(
            w, json_is_true(json_object_get(json_object_get(b, "noise"), "noisy")) ? "yes" : "no");
        pk_csvw_field(w, rem);
        pk_csvw_end(w);
    }
    free(r);
}
