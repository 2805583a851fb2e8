/* SPDX-License-Identifier: MIT */
/* parkit report, text views: the table (fixed-width columns under `#` lines, as OMB prints) and
 * Markdown, each followed by the baseline comparison when there is one. */
#include "report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void print_num(FILE *f, const char *fmt, double v, int width)
{
    if (isfinite(v))
        fprintf(f, fmt, v);
    else
        fprintf(f, "%*s", width, "-");
}

/* The fit line: model, observations and the serial fraction with its error. */
static void print_fit_line(FILE *f, const struct report_group *g, const char *lead)
{
    if (g->weak)
        fprintf(f, "%sGustafson fit S(p) = f + (1-f) p over %zu repetitions at %zu counts: ", lead,
                g->fit.n, g->fit.counts);
    else
        fprintf(f,
                "%sAmdahl fit T(p) = a + b/p over %zu repetitions at %zu counts (a = %.4g s, "
                "b = %.4g s): ",
                lead, g->fit.n, g->fit.counts, pk__report_tidy_rel(g->fit.a, g->fit.b),
                pk__report_tidy_rel(g->fit.b, g->fit.a));
    fprintf(f, "serial fraction f = %.4f", pk__report_tidy(g->fit.f));
    if (isfinite(g->fit.f_err))
        fprintf(f, " +- %.4f", g->fit.f_err);
    else
        fprintf(f, " (no error: too few repetitions)");
    fprintf(f, "\n");
}

static void print_fit_text(FILE *f, const struct report_group *g, const struct report_opts *o,
                           const char *lead)
{
    if (!g->fit_ok && g->fit.counts < 2) {
        fprintf(f, "%sno %s fit: it needs at least two worker counts\n", lead,
                pk__report_model_name(g));
        return;
    }
    if (!g->fit_ok) { /* two counts or more, and still no model: say what failed */
        fprintf(f, "%sno %s fit: the times at %zu worker counts give no model%s\n", lead,
                pk__report_model_name(g), g->fit.counts,
                g->weak ? "" : " (the fitted one-worker time a + b is not positive)");
        return;
    }
    if (g->fit_left_out)
        fprintf(f, "%sthe fit leaves out the %zu oversubscribed point%s (marked !)\n", lead,
                g->fit_left_out, g->fit_left_out == 1 ? "" : "s");
    print_fit_line(f, g, lead);
    /* A serial fraction outside [0, 1] has no meaning: say why and predict nothing. */
    if (!pk__report_fit_in_range(g)) {
        fprintf(f, "%sf outside [0, 1]: the times do not follow the model (%s); no prediction\n",
                lead,
                g->fit.f > 1 ? "more workers took longer: contention, oversubscription or noise"
                             : "super-linear speedup, e.g. caches, or noise");
        return;
    }
    struct report_prediction pr[PK_REPORT_MAX_PREDICT];
    size_t np = pk__report_predict(g, o, pr);
    fprintf(f, "%spredicted speedup (model, %s f = %.4f, not measured):", lead,
            pk__report_model_name(g), pk__report_tidy(g->fit.f));
    for (size_t i = 0; i < np; i++)
        fprintf(f, "%s p=%g: %.3g (efficiency %.3g)", i ? ";" : "", pr[i].workers, pr[i].speedup,
                pr[i].efficiency);
    fprintf(f, "\n");
}

static void print_group_header(FILE *f, const struct report_group *g, const char *lead)
{
    fprintf(f, "%sgroup %d: %s%s, %s, size %s%s (%zu record%s)\n", lead, g->id, g->kernel,
            g->serial ? " (serial harness check)" : "", pk__report_mode_text(g), g->size,
            g->weak ? " per worker" : "", g->records, g->records == 1 ? "" : "s");
    fprintf(f, "%sprovenance: host %s; commit %s; compiler %s; flags '%s'; MPI %s\n", lead, g->host,
            g->commit, g->compiler, g->flags, g->mpi);
    const struct report_point *b = &g->pt[g->base];
    if (b->workers != 1)
        fprintf(f,
                "%sno 1-worker point: speedup and efficiency are relative to %d workers "
                "(%dx%d)\n",
                lead, b->workers, b->threads, b->ranks);
}

/* Why a point's runs were noisy, as scale run named it: one line, or none. */
static void print_noise(const struct report_point *p)
{
    size_t i;
    json_t *v;
    json_array_foreach(p->noise, i, v)
    {
        if (i == 0)
            printf("# noisy %dx%d: ", p->threads, p->ranks);
        printf("%s%s", i ? "; " : "", json_string_value(v));
    }
    if (json_array_size(p->noise) > 0)
        printf("\n");
}

/* One group's table: header, a row per point, the footnotes its rows need, the fit. */
static void print_group_table(const struct report_group *g, const struct report_opts *o)
{
    print_group_header(stdout, g, "# ");
    printf("# %7s %-9s %12s %5s %11s %11s %11s %11s %11s %8s %10s %10s\n", "workers", "t x r",
           "size", "reps", "median_s", "min_s", "max_s", "ci95_lo_s", "ci95_hi_s",
           g->weak ? "scaled" : "speedup", "efficiency", "karp_flatt");
    bool few = false, over = false;
    for (size_t k = 0; k < g->npt; k++) {
        const struct report_point *p = &g->pt[k];
        char txr[32];
        snprintf(txr, sizeof txr, "%dx%d%s", p->threads, p->ranks, p->oversub ? "!" : "");
        bool star = p->ci_cov < PK_REPORT_CI_LEVEL;
        few = few || star;
        over = over || p->oversub;
        printf("  %7d %-9s %12s %5zu %11.5g %11.5g %11.5g %10.5g%s %10.5g%s %8.3f %10.3f ",
               p->workers, txr, p->size, p->n, p->median, p->min, p->max, p->ci_lo,
               star ? "*" : " ", p->ci_hi, star ? "*" : " ", p->speedup, p->eff);
        print_num(stdout, "%10.3f", p->kf, 10);
        printf("\n");
    }
    if (few)
        printf("# * fewer than 6 repetitions: the interval is [min, max] and covers less "
               "than 95%%\n");
    if (over)
        printf("# ! oversubscribed: more threads or ranks than cores, or cores shared\n");
    for (size_t k = 0; k < g->npt; k++)
        print_noise(&g->pt[k]);
    print_fit_text(stdout, g, o, "# ");
}

/* Same kernel, mode and size from different provenance: said, never mixed. */
static void print_provenance_notes(const struct report_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        for (size_t j = i + 1; j < s->n; j++)
            if (pk__report_same_experiment(&s->g[i], &s->g[j])) {
                char d[128];
                pk__report_key_diff(&s->g[i], &s->g[j], d, sizeof d);
                printf("# note: groups %d and %d measure the same kernel, mode and size but "
                       "differ in %s: reported separately, never mixed\n",
                       s->g[i].id, s->g[j].id, d);
            }
}

static void print_comparison_rows(const struct report_cmp *c, size_t n, bool markdown, double alpha)
{
    for (size_t i = 0; i < n; i++) {
        const struct report_cmp *x = &c[i];
        char txr[32];
        snprintf(txr, sizeof txr, "%dx%d", x->p->threads, x->p->ranks);
        if (markdown)
            printf("| %d | B%d | %d | %s | %.5g | %.5g | %+.1f%% | %.4g | %s |\n", x->g->id,
                   x->b->id, x->p->workers, txr, x->bp->median, x->p->median, x->change_pct,
                   x->p_value, x->verdict);
        else
            printf("  %5d   B%-3d %7d %-7s %13.5g %11.5g %+8.1f%% %8.4f  %s%s\n", x->g->id,
                   x->b->id, x->p->workers, txr, x->bp->median, x->p->median, x->change_pct,
                   x->p_value, x->verdict,
                   x->p_value >= alpha && !pk__report_detectable(x->p->n, x->bp->n, alpha)
                       ? " (too few repetitions to ever reach alpha)"
                       : "");
    }
}

/* The distinct provenance differences of a pair of groups over all its points, as lines. */
struct diff_set {
    char **line;
    size_t n, cap;
    const char *prefix;
};

static void diff_add(void *ctx, const char *key, const char *a, const char *b)
{
    struct diff_set *d = ctx;
    char *l = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&l, &len);
    if (!m)
        return;
    fprintf(m, "%s%s: '%s' (baseline) -> '%s'", d->prefix, key, a, b);
    if (fclose(m) != 0) {
        free(l);
        return;
    }
    for (size_t i = 0; i < d->n; i++)
        if (strcmp(d->line[i], l) == 0) {
            free(l);
            return;
        }
    if (d->n == d->cap) {
        size_t ncap = d->cap ? 2 * d->cap : 8;
        char **nl = realloc(d->line, ncap * sizeof *nl);
        if (!nl) {
            free(l);
            return;
        }
        d->line = nl;
        d->cap = ncap;
    }
    d->line[d->n++] = l;
}

/* For each pair of groups compared, once: every provenance fact that differs at any of their
 * points (a point's first record against the baseline point's). A slower pair says so, and
 * says when nothing recorded differs. */
static void print_prov_diffs(const struct report_cmp *c, size_t n, bool markdown)
{
    const char *prefix = markdown ? "- " : "#   ";
    for (size_t i = 0; i < n; i++) {
        bool first = true, slower = false;
        for (size_t k = 0; k < i && first; k++)
            first = !(c[k].g == c[i].g && c[k].b == c[i].b);
        if (!first)
            continue;
        struct diff_set d = {.prefix = prefix};
        for (size_t k = i; k < n; k++)
            if (c[k].g == c[i].g && c[k].b == c[i].b) {
                slower = slower || strcmp(c[k].verdict, "slower") == 0;
                pk__report_prov_each(c[k].bp->prov, c[k].p->prov, diff_add, &d);
            }
        if (slower)
            printf("%sgroup %d is slower than baseline group B%d; provenance that differs:\n",
                   markdown ? "\n" : "# ", c[i].g->id, c[i].b->id);
        else if (d.n)
            printf("%sgroup %d against baseline group B%d (not slower); provenance that "
                   "differs:\n",
                   markdown ? "\n" : "# ", c[i].g->id, c[i].b->id);
        for (size_t k = 0; k < d.n; k++) {
            printf("%s\n", d.line[k]);
            free(d.line[k]);
        }
        free(d.line);
        if (slower && d.n == 0)
            printf("%snothing recorded differs (same build and machine facts)\n", prefix);
    }
}

static void print_comparisons_text(const struct report_cmp *c, size_t n, bool markdown,
                                   double alpha)
{
    if (markdown)
        printf("### Baseline comparison (Mann-Whitney, alpha = %g)\n\n| group | baseline "
               "group | workers | threads x ranks | baseline median (s) | median (s) | change "
               "| p-value | verdict |\n|---:|---:|---:|:---|---:|---:|---:|---:|:---|\n",
               alpha);
    else
        printf("\n# baseline comparison (Mann-Whitney rank test, two-sided, alpha = %g)\n"
               "# %5s %5s %7s %-7s %13s %11s %9s %8s  %s\n",
               alpha, "group", "base", "workers", "txr", "base_median_s", "median_s", "change",
               "p_value", "verdict");
    print_comparison_rows(c, n, markdown, alpha);
    print_prov_diffs(c, n, markdown);
}

void pk__report_print_table(const struct report_set *now, const struct report_set *base,
                            const struct report_cmp *c, size_t nc, const struct report_opts *o)
{
    for (size_t gi = 0; gi < now->n; gi++) {
        if (gi)
            printf("\n");
        print_group_table(&now->g[gi], o);
    }
    print_provenance_notes(now);
    if (!o->nbaseline)
        return;
    printf("\n# baseline groups:\n");
    for (size_t i = 0; i < base->n; i++) {
        const struct report_group *b = &base->g[i];
        printf("# B%d: %s, %s, size %s; host %s; commit %s; compiler %s; flags '%s'; MPI %s\n",
               b->id, b->kernel, pk__report_mode_text(b), b->size, b->host, b->commit, b->compiler,
               b->flags, b->mpi);
    }
    print_comparisons_text(c, nc, false, o->alpha);
}

static void print_group_markdown(const struct report_group *g, const struct report_opts *o)
{
    printf("### Group %d: `%s`%s, %s, size %s%s\n\n", g->id, g->kernel,
           g->serial ? " (serial harness check)" : "", pk__report_mode_text(g), g->size,
           g->weak ? " per worker" : "");
    printf("Provenance: host `%s`, commit `%s`, compiler `%s`, flags `%s`, MPI `%s`\n\n", g->host,
           g->commit, g->compiler, g->flags, g->mpi);
    const struct report_point *b = &g->pt[g->base];
    if (b->workers != 1)
        printf("No 1-worker point: speedup and efficiency are relative to %d workers.\n\n",
               b->workers);
    printf(
        "| workers | threads x ranks | size | reps | median (s) | min (s) | max (s) | 95%% CI of "
        "median (s) | %s | efficiency | Karp-Flatt |\n",
        g->weak ? "scaled speedup" : "speedup");
    printf("|---:|:---|---:|---:|---:|---:|---:|:---|---:|---:|---:|\n");
    for (size_t k = 0; k < g->npt; k++) {
        const struct report_point *p = &g->pt[k];
        printf("| %d | %dx%d%s | %s | %zu | %.5g | %.5g | %.5g | %.5g .. %.5g%s | %.3f | %.3f |",
               p->workers, p->threads, p->ranks, p->oversub ? " (oversubscribed)" : "", p->size,
               p->n, p->median, p->min, p->max, p->ci_lo, p->ci_hi,
               p->ci_cov < PK_REPORT_CI_LEVEL ? " (min..max, fewer than 6 reps)" : "", p->speedup,
               p->eff);
        if (isfinite(p->kf))
            printf(" %.3f |", p->kf);
        else
            printf(" - |");
        printf("\n");
    }
    printf("\n");
    print_fit_text(stdout, g, o, "");
    printf("\n");
}

void pk__report_print_markdown(const struct report_set *now, const struct report_cmp *c, size_t nc,
                               const struct report_opts *o)
{
    for (size_t gi = 0; gi < now->n; gi++)
        print_group_markdown(&now->g[gi], o);
    if (o->nbaseline)
        print_comparisons_text(c, nc, true, o->alpha);
}
