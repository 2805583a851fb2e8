/* SPDX-License-Identifier: MIT */
/* parkit report, HTML (--html): the whole report as one self-contained page for a CI artifact
 * or a phone: the verdict first (when there is a baseline), then per group its inline SVG plots,
 * the points, the fit and its predictions (set apart and labelled as a model), and its full
 * provenance. No script, no style sheet, font or image fetched from anywhere; all user text
 * (paths, kernel names, provenance) escaped. Written atomically through io/atomicfile. */
#include "commands.h"
#include "parkit/atomicfile.h"
#include "report.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char css[] =
    "body{font:16px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1b1b1b;"
    "background:#fff;margin:0 auto;max-width:64rem;padding:0 .8rem 2rem}"
    "h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ccc}"
    "code{font-size:.9em;overflow-wrap:anywhere}"
    ".scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}"
    "table{border-collapse:collapse;font-size:.88rem;margin:.5rem 0}"
    "th,td{padding:.25rem .5rem;border-bottom:1px solid #ddd;text-align:right;white-space:nowrap}"
    "th{background:#f3f3f3}td.l,th.l{text-align:left;white-space:normal;min-width:9rem}"
    ".plots{display:grid;grid-template-columns:repeat(auto-fit,minmax(17rem,1fr));gap:.8rem}"
    "figure{margin:0}figcaption{font-size:.85rem;color:#555}"
    "svg{width:100%;height:auto;font-size:11px;background:#fcfcfc}"
    "svg .grid{stroke:#e3e3e3}svg .axis{stroke:#333}"
    "svg polyline{fill:none}svg polyline.measured{stroke:#1f5fa8;stroke-width:1.6}"
    "svg circle.measured{fill:#1f5fa8}svg .bar{stroke:#1f5fa8}"
    "svg polyline.ideal{stroke:#888;stroke-dasharray:2 3}"
    "svg polyline.model{stroke:#c05800;stroke-width:1.6;stroke-dasharray:6 4}"
    "svg .predicted{fill:#fff;stroke:#c05800;stroke-width:1.5}"
    "svg .oversub{fill:none;stroke:#d00;stroke-width:1.5}"
    "svg tspan.measured{fill:#1f5fa8}svg tspan.ideal{fill:#777}"
    "svg text.model,svg tspan.model{fill:#c05800}"
    ".model-note{border-left:4px solid #c05800;background:#fff6ee;padding:.4rem .7rem}"
    ".pass,.fail{padding:.6rem .8rem;font-weight:600;border-radius:4px}"
    ".pass{background:#e6f4e6;color:#185c18}.fail{background:#fbe7e7;color:#8a1010}"
    "tr.regressed td{background:#fbe7e7}ul.diff{padding-left:1.2rem}";

static void text(FILE *f, const char *s)
{
    pk__report_xml_text(f, s);
}

/* A value as code; an empty one said so (an empty element is no content at all). */
static void code(FILE *f, const char *s)
{
    if (!*s) {
        fputs("<em>(empty)</em>", f);
        return;
    }
    fputs("<code>", f);
    text(f, s);
    fputs("</code>", f);
}

static void html_num(FILE *f, const char *fmt, double v)
{
    if (isfinite(v))
        fprintf(f, fmt, v);
    else
        fputs("&ndash;", f);
}

static void html_cell(FILE *f, const char *fmt, double v)
{
    fputs("<td>", f);
    html_num(f, fmt, v);
    fputs("</td>", f);
}

static void file_list(FILE *f, const char *label, char *const *files, size_t n)
{
    fprintf(f, "<p>%s: ", label);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "%s<code>", i ? ", " : "");
        text(f, files[i]);
        fprintf(f, "</code>");
    }
    fprintf(f, "</p>\n");
}

static void diff_li(void *ctx, const char *key, const char *a, const char *b)
{
    FILE *f = ctx;
    fprintf(f, "<li>");
    code(f, key);
    fprintf(f, ": ");
    code(f, a);
    fprintf(f, " (baseline) &rarr; ");
    code(f, b);
    fprintf(f, "</li>\n");
}

static void comparison_row(FILE *f, const struct report_cmp *x)
{
    char name[256];
    pk__report_point_name(x->g, x->p, name, sizeof name);
    fprintf(f, "<tr%s><td class=\"l\">", x->regressed ? " class=\"regressed\"" : "");
    text(f, name);
    fprintf(f, "</td><td>%d</td><td>B%d</td><td>%.5g</td><td>%.5g</td>", x->g->id, x->b->id,
            x->bp->median, x->p->median);
    html_cell(f, "%+.1f%%", x->change_pct);
    fprintf(f, "<td>%.4g%s</td><td class=\"l\">%s</td></tr>\n", x->p_value, x->exact ? "" : "*",
            x->regressed ? "<strong>regression</strong>" : x->verdict);
}

/* The list of provenance differences of comparison x (malloc'd; NULL when out of memory). */
static char *diff_html(const struct report_cmp *x)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m)
        return NULL;
    if (pk__report_prov_each(x->bp->prov, x->p->prov, diff_li, m) == 0)
        fprintf(m, "<li>nothing recorded differs</li>\n");
    fclose(m);
    return buf;
}

static bool significantly_slower(const struct report_cmp *x, const struct report_opts *o)
{
    return x->p->median > x->bp->median && x->p_value < o->alpha;
}

/* For the slower points, what differs in provenance: each distinct list once, with the points
 * it belongs to. */
static void slower_diffs(FILE *f, const struct report_cmp *c, size_t nc,
                         const struct report_opts *o)
{
    char **d = calloc(nc ? nc : 1, sizeof *d);
    for (size_t i = 0; d && i < nc; i++)
        d[i] = significantly_slower(&c[i], o) ? diff_html(&c[i]) : NULL;
    for (size_t i = 0; d && i < nc; i++) {
        bool seen = false;
        for (size_t j = 0; j < i && d[i] && !seen; j++)
            seen = d[j] && strcmp(d[i], d[j]) == 0;
        if (!d[i] || seen)
            continue;
        fprintf(f, "<p>Provenance that differs (baseline &rarr; now) at ");
        for (size_t j = i, k = 0; j < nc; j++) {
            if (!d[j] || strcmp(d[i], d[j]) != 0)
                continue;
            char name[256];
            pk__report_point_name(c[j].g, c[j].p, name, sizeof name);
            fprintf(f, "%s<code>", k++ ? ", " : "");
            text(f, name);
            fprintf(f, "</code>");
        }
        fprintf(f, ":</p>\n<ul class=\"diff\">\n%s</ul>\n", d[i]);
    }
    for (size_t i = 0; d && i < nc; i++)
        free(d[i]);
    free(d);
}

/* The verdict: the gate's result, the comparison table, and for each slower point what
 * differs in provenance. */
static void verdict_section(FILE *f, const struct report_cmp *c, size_t nc,
                            const struct report_opts *o)
{
    size_t regressed = 0, slower = 0, approx = 0;
    for (size_t i = 0; i < nc; i++) {
        regressed += c[i].regressed;
        slower += strcmp(c[i].verdict, "slower") == 0;
        approx += !c[i].exact;
    }
    fprintf(f, "<section id=\"verdict\"><h2>Verdict against the baseline</h2>\n");
    if (o->gate && regressed)
        fprintf(f,
                "<p class=\"fail\">FAIL (exit 4): %zu of %zu points slower by at least %g%% "
                "with Mann-Whitney p &lt; %g</p>\n",
                regressed, nc, o->fail_pct, o->alpha);
    else if (o->gate)
        fprintf(f,
                "<p class=\"pass\">PASS: none of %zu points slower by at least %g%% with "
                "Mann-Whitney p &lt; %g</p>\n",
                nc, o->fail_pct, o->alpha);
    else
        fprintf(f,
                "<p>%zu of %zu points significantly slower (Mann-Whitney p &lt; %g); no gate "
                "(--fail-on-regression) was asked for.</p>\n",
                slower, nc, o->alpha);
    fprintf(f, "<div class=\"scroll\"><table><tr><th class=\"l\">point</th><th>group</th>"
               "<th>baseline</th><th>baseline median (s)</th><th>median (s)</th><th>change</th>"
               "<th>p</th><th class=\"l\">verdict</th></tr>\n");
    for (size_t i = 0; i < nc; i++)
        comparison_row(f, &c[i]);
    fprintf(f, "</table></div>\n");
    if (approx)
        fprintf(f, "<p>* p from the normal approximation (ties, or more than 40 repetitions in "
                   "all); the others are exact.</p>\n");
    slower_diffs(f, c, nc, o);
    fprintf(f, "</section>\n");
}

/* Why points were noisy, as scale run named it: a list under the table, when any was. */
static void noise_list(FILE *f, const struct report_group *g)
{
    size_t shown = 0;
    for (size_t k = 0; k < g->npt; k++) {
        const struct report_point *p = &g->pt[k];
        if (json_array_size(p->noise) == 0)
            continue;
        fprintf(f, "%s<li>%dx%d: ", shown++ ? "" : "<p>Noise, per point:</p><ul>\n", p->threads,
                p->ranks);
        size_t i;
        json_t *v;
        json_array_foreach(p->noise, i, v)
        {
            fputs(i ? "; " : "", f);
            text(f, json_string_value(v));
        }
        fprintf(f, "</li>\n");
    }
    if (shown)
        fprintf(f, "</ul>\n");
}

static void point_rows(FILE *f, const struct report_group *g)
{
    fprintf(f,
            "<div class=\"scroll\"><table><tr><th>workers</th><th>threads x ranks</th>"
            "<th>size</th><th>reps</th><th>median (s)</th><th>min (s)</th><th>max (s)</th>"
            "<th>95%% CI of median (s)</th><th>%s</th><th>efficiency</th><th>Karp-Flatt</th>"
            "</tr>\n",
            g->weak ? "scaled speedup" : "speedup");
    for (size_t k = 0; k < g->npt; k++) {
        const struct report_point *p = &g->pt[k];
        fprintf(f, "<tr><td>%d</td><td>%dx%d%s</td><td>", p->workers, p->threads, p->ranks,
                p->oversub ? " (oversubscribed)" : "");
        text(f, p->size);
        fprintf(f,
                "</td><td>%zu</td><td>%.5g</td><td>%.5g</td><td>%.5g</td><td>%.5g .. %.5g%s</td>",
                p->n, p->median, p->min, p->max, p->ci_lo, p->ci_hi,
                p->ci_cov < PK_REPORT_CI_LEVEL ? " (min..max: fewer than 6 reps)" : "");
        html_cell(f, "%.3f", p->speedup);
        html_cell(f, "%.3f", p->eff);
        html_cell(f, "%.3f", p->kf);
        fprintf(f, "</tr>\n");
    }
    fprintf(f, "</table></div>\n");
    noise_list(f, g);
}

/* The fit and its predictions, set apart as a model. */
static void fit_block(FILE *f, const struct report_group *g, const struct report_opts *o)
{
    fprintf(f,
            "<div class=\"model-note\"><p><strong>Model</strong> (%s's law, least squares "
            "over every repetition): ",
            pk__report_model_name(g));
    if (!g->fit_ok) {
        fprintf(f, "no fit (it needs at least two worker counts whose times give a model).</p>"
                   "</div>\n");
        return;
    }
    fprintf(f, "serial fraction f = %.4f", pk__report_tidy(g->fit.f));
    html_num(f, " &plusmn; %.4f", g->fit.f_err);
    fprintf(f, " over %zu repetitions at %zu counts.</p>\n", g->fit.n, g->fit.counts);
    struct report_prediction pr[PK_REPORT_MAX_PREDICT];
    size_t np = pk__report_predict(g, o, pr);
    if (np == 0) {
        fprintf(f, "<p>f lies outside [0, 1]: the times do not follow the model; no "
                   "prediction.</p></div>\n");
        return;
    }
    fprintf(f, "<p>Predictions of the model, <em>not measurements</em>:</p>\n<div "
               "class=\"scroll\"><table><tr><th>workers</th><th>predicted speedup</th><th>"
               "predicted efficiency</th></tr>\n");
    for (size_t i = 0; i < np; i++)
        fprintf(f, "<tr><td>%g</td><td>%.3g (model)</td><td>%.3g (model)</td></tr>\n",
                pr[i].workers, pr[i].speedup, pr[i].efficiency);
    fprintf(f, "</table></div></div>\n");
}

static void prov_row(void *ctx, const char *key, const char *absent, const char *v)
{
    (void)absent;
    FILE *f = ctx;
    fprintf(f, "<tr><td class=\"l\">");
    code(f, key);
    fprintf(f, "</td><td class=\"l\">");
    code(f, v);
    fprintf(f, "</td></tr>\n");
}

/* What the sweep says of itself: the text members of the first record's "scale" block (the
 * experiment id, mode, a command line...), whatever they are; its numbers vary by point. */
static void experiment(FILE *f, const struct report_group *g)
{
    fprintf(f, "<p>%zu records", g->records);
    const char *key;
    json_t *v;
    json_object_foreach(g->scale, key, v)
    {
        if (!json_is_string(v) && !json_is_array(v))
            continue;
        char *t = json_is_string(v) ? NULL : json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        fputs("; ", f);
        text(f, key);
        fputc(' ', f);
        code(f, t ? t : json_is_string(v) ? json_string_value(v) : "?");
        free(t);
    }
    fprintf(f, ".</p>\n");
}

static void group_section(FILE *f, const struct report_group *g, const struct report_opts *o)
{
    fprintf(f, "<section id=\"group-%d\"><h2>Group %d: <code>", g->id, g->id);
    text(f, g->kernel);
    fprintf(f, "</code>%s, %s, size ", g->serial ? " (serial harness check)" : "",
            pk__report_mode_text(g));
    text(f, g->size);
    fprintf(f, "%s</h2>\n", g->weak ? " per worker" : "");
    experiment(f, g);
    const char *keys[] = {"host", "commit", "compiler", "flags", "MPI"};
    const char *vals[] = {g->host, g->commit, g->compiler, g->flags, g->mpi};
    fprintf(f, "<p>");
    for (size_t i = 0; i < 5; i++) {
        fprintf(f, "%s%s ", i ? "; " : "", keys[i]);
        code(f, vals[i]);
    }
    fprintf(f, "</p>\n");
    if (g->pt[g->base].workers != 1)
        fprintf(f, "<p>No 1-worker point: speedup and efficiency are relative to %d workers.</p>\n",
                g->pt[g->base].workers);
    static const char *const captions[] = {"Time", "Speedup", "Efficiency"};
    fprintf(f, "<div class=\"plots\">\n");
    for (int w = 0; w < 3; w++) {
        fprintf(f, "<figure>");
        pk__report_svg_plot(f, g, o, w);
        fprintf(f, "<figcaption>%s against workers (log scale)</figcaption></figure>\n",
                captions[w]);
    }
    fprintf(f, "</div>\n");
    point_rows(f, g);
    fit_block(f, g, o);
    json_t *none = json_object();
    fprintf(f, "<details><summary>Full provenance</summary><div class=\"scroll\"><table>\n");
    pk__report_prov_each(none, g->prov, prov_row, f);
    fprintf(f, "</table></div></details>\n</section>\n");
    json_decref(none);
}

static void write_page(FILE *f, const struct report_set *now, const struct report_cmp *c, size_t nc,
                       const struct report_opts *o)
{
    fprintf(f,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<title>parkit report</title>\n<style>%s</style>\n</head>\n<body>\n"
            "<h1>parkit report</h1>\n",
            css);
    file_list(f, "Records", o->files, o->nfiles);
    if (o->nbaseline)
        file_list(f, "Baseline", (char *const *)o->baseline, o->nbaseline);
    fprintf(f,
            "<p>%zu records in %zu %s. Times are medians over repetitions; intervals are "
            "distribution-free (order statistics).</p>\n",
            now->records, now->n, now->n == 1 ? "group" : "groups");
    if (o->nbaseline)
        verdict_section(f, c, nc, o);
    for (size_t i = 0; i < now->n; i++)
        group_section(f, &now->g[i], o);
    fprintf(f, "<footer><p>Written by parkit report. Dashed orange lines and hollow squares are "
               "the model's predictions, not measurements.</p></footer>\n</body>\n</html>\n");
}

int pk__report_write_html(const struct report_set *now, const struct report_set *base,
                          const struct report_cmp *c, size_t nc, const struct report_opts *o)
{
    (void)base;
    struct pk_atomicfile a;
    struct pk_err err = {0};
    if (pk_atomicfile_open(&a, o->html, &err) != PK_OK) {
        pk_error(NULL, false, "report", "--html: %s", err.msg);
        return PK_EXIT_RUNTIME;
    }
    write_page(a.f, now, c, nc, o);
    if (ferror(a.f)) {
        pk_error(NULL, false, "report", "--html: cannot write '%s': %s", o->html, strerror(errno));
        pk_atomicfile_abort(&a);
        return PK_EXIT_RUNTIME;
    }
    if (pk_atomicfile_commit(&a, &err) != PK_OK) {
        pk_error(NULL, false, "report", "--html: %s", err.msg);
        return PK_EXIT_RUNTIME;
    }
    return PK_EXIT_OK;
}
