/* SPDX-License-Identifier: MIT */
/* parkit report, inline SVG plots for the HTML page: time, speedup and efficiency against the
 * workers on a log2 axis, measured points solid with their bars, the ideal dotted grey, and the
 * fitted model and its predictions dashed and hollow in another colour, labelled "model
 * (prediction)" so that nobody reads them as measurements. Oversubscribed points are ringed in
 * red. Sized by a viewBox, so the plot shrinks to a phone's width. */
#include "report.h"

#include <math.h>

enum { W = 480, H = 300, ML = 56, MR = 14, MT = 34, MB = 42 };

struct frame {
    double lx0, lx1; /* log2 of the x range */
    double y1;       /* the y range is [0, y1] */
};

static double px(const struct frame *fr, double workers)
{
    return ML + (log2(workers) - fr->lx0) / (fr->lx1 - fr->lx0) * (W - ML - MR);
}

static double py(const struct frame *fr, double y)
{
    double v = y < 0 ? 0 : y > fr->y1 ? fr->y1 : y;
    return H - MB - v / fr->y1 * (H - MT - MB);
}

/* A 1-2-5 step giving about four intervals up to top. */
static double nice_step(double top)
{
    double raw = top / 4, mag = pow(10, floor(log10(raw)));
    double m = raw / mag;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * mag;
}

static void axes(FILE *f, const struct frame *fr, const struct report_group *g,
                 const struct report_prediction *pr, size_t np, const char *ylabel)
{
    double step = nice_step(fr->y1);
    for (double y = 0; y <= fr->y1 * (1 + 1e-9); y += step)
        fprintf(f,
                "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" class=\"grid\"/><text x=\"%d\" "
                "y=\"%.1f\" text-anchor=\"end\">%.3g</text>\n",
                ML, W - MR, py(fr, y), py(fr, y), ML - 4, py(fr, y) + 4, y);
    for (size_t k = 0; k < g->npt + np; k++) {
        double w = k < g->npt ? g->pt[k].workers : pr[k - g->npt].workers;
        if (k > 0 && k < g->npt && g->pt[k - 1].workers == g->pt[k].workers)
            continue;
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\"%s>%g</text>\n", px(fr, w),
                H - MB + 16, k < g->npt ? "" : " class=\"model\"", w);
    }
    fprintf(f,
            "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" class=\"axis\"/><line x1=\"%d\" "
            "x2=\"%d\" y1=\"%d\" y2=\"%d\" class=\"axis\"/>\n",
            ML, W - MR, H - MB, H - MB, ML, ML, MT, H - MB);
    fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">workers (threads x ranks)</text>\n",
            (ML + W - MR) / 2, H - 8);
    fprintf(f, "<text x=\"14\" y=\"%d\" text-anchor=\"middle\" transform=\"rotate(-90 14 %d)\">",
            (MT + H - MB) / 2, (MT + H - MB) / 2);
    pk__report_xml_text(f, ylabel);
    fprintf(f, "</text>\n");
}

/* The value plotted for point p, with its bar (lo..hi). */
static double value_of(const struct report_point *p, int what, double *lo, double *hi)
{
    if (what == 0) {
        *lo = p->min;
        *hi = p->max;
        return p->median;
    }
    if (what == 1) {
        *lo = p->speedup_lo;
        *hi = p->speedup_hi;
        return p->speedup;
    }
    *lo = *hi = p->eff;
    return p->eff;
}

static void measured(FILE *f, const struct frame *fr, const struct report_group *g, int what)
{
    fprintf(f, "<polyline class=\"measured\" points=\"");
    for (size_t k = 0; k < g->npt; k++) {
        double lo, hi, v = value_of(&g->pt[k], what, &lo, &hi);
        fprintf(f, "%s%.1f,%.1f", k ? " " : "", px(fr, g->pt[k].workers), py(fr, v));
    }
    fprintf(f, "\"/>\n");
    for (size_t k = 0; k < g->npt; k++) {
        const struct report_point *p = &g->pt[k];
        double lo, hi, v = value_of(p, what, &lo, &hi), x = px(fr, p->workers);
        if (isfinite(lo) && isfinite(hi) && lo != hi)
            fprintf(f, "<line class=\"bar\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>\n", x,
                    x, py(fr, lo), py(fr, hi));
        fprintf(f, "<circle class=\"measured\" cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\"/>\n", x,
                py(fr, v));
        if (p->oversub)
            fprintf(f, "<circle class=\"oversub\" cx=\"%.1f\" cy=\"%.1f\" r=\"7\"/>\n", x,
                    py(fr, v));
    }
}

/* Speedup (what 1) or efficiency (2) of the ideal and of the model at w workers. */
static double ideal_at(const struct report_group *g, int what, double w)
{
    return what == 1 ? w / g->pt[g->base].workers : 1;
}

static double model_at(const struct report_group *g, int what, double w)
{
    double s = pk__report_model_speedup(g, w);
    return what == 1 ? s : s / (w / g->pt[g->base].workers);
}

/* The curve of fn over the x range, less where it leaves the frame (the ideal speedup may rise
 * above the predictions' range): clamped, it would run along the top border. The curves are
 * monotone, so what is left is one piece. */
static void curve(FILE *f, const struct frame *fr, const struct report_group *g, int what,
                  const char *cls, double (*fn)(const struct report_group *, int, double))
{
    double w0 = exp2(fr->lx0), w1 = exp2(fr->lx1);
    fprintf(f, "<polyline class=\"%s\" points=\"", cls);
    for (int i = 0, n = 0; i <= 48; i++) {
        double w = w0 * pow(w1 / w0, i / 48.0), y = fn(g, what, w);
        if (y >= 0 && y <= fr->y1)
            fprintf(f, "%s%.1f,%.1f", n++ ? " " : "", px(fr, w), py(fr, y));
    }
    fprintf(f, "\"/>\n");
}

/* The ideal line, the model curve over the whole range and its predicted points. */
static void lines(FILE *f, const struct frame *fr, const struct report_group *g, int what,
                  const struct report_prediction *pr, size_t np, bool model)
{
    curve(f, fr, g, what, "ideal", ideal_at);
    if (!model)
        return;
    curve(f, fr, g, what, "model", model_at);
    for (size_t i = 0; i < np; i++) {
        double v = what == 1 ? pr[i].speedup : pr[i].efficiency;
        fprintf(f,
                "<rect class=\"predicted\" x=\"%.1f\" y=\"%.1f\" width=\"8\" height=\"8\"><title>"
                "predicted by the model at %g workers: %.3g (not measured)</title></rect>\n",
                px(fr, pr[i].workers) - 4, py(fr, v) - 4, pr[i].workers, v);
    }
}

/* The frame: x over every count (and the predicted ones), y from 0 to above every value. */
static struct frame frame_of(const struct report_group *g, int what,
                             const struct report_prediction *pr, size_t np)
{
    double xmin = g->pt[0].workers, xmax = g->pt[g->npt - 1].workers, ymax = 0;
    for (size_t i = 0; i < np; i++) {
        xmax = pr[i].workers > xmax ? pr[i].workers : xmax;
        xmin = pr[i].workers < xmin ? pr[i].workers : xmin;
        double v = what == 1 ? pr[i].speedup : pr[i].efficiency;
        ymax = isfinite(v) && v > ymax ? v : ymax;
    }
    for (size_t k = 0; k < g->npt; k++) {
        double lo, hi, v = value_of(&g->pt[k], what, &lo, &hi);
        ymax = isfinite(hi) && hi > ymax ? hi : ymax;
        ymax = isfinite(v) && v > ymax ? v : ymax;
    }
    if (what >= 1)
        ymax = fmax(ymax, ideal_at(g, what, what == 1 ? xmax : 1));
    struct frame fr = {log2(xmin) - 0.3, log2(xmax) + 0.3, ymax > 0 ? ymax * 1.1 : 1};
    return fr;
}

void pk__report_svg_plot(FILE *f, const struct report_group *g, const struct report_opts *o,
                         int what)
{
    static const char *const titles[] = {"time (s): median, bars min..max",
                                         "speedup: measured (bars: 95% CI)", "efficiency"};
    struct report_prediction pr[PK_REPORT_MAX_PREDICT];
    bool model = what > 0 && g->fit_ok && pk__report_fit_in_range(g);
    size_t np = model ? pk__report_predict(g, o, pr) : 0;
    struct frame fr = frame_of(g, what, pr, np);
    const char *ylabel = what == 0   ? "time per run (s)"
                         : what == 1 ? (g->weak ? "scaled speedup" : "speedup")
                                     : "efficiency";
    fprintf(f,
            "<svg viewBox=\"0 0 %d %d\" role=\"img\">"
            "<title>",
            W, H);
    pk__report_xml_text(f, g->kernel);
    fprintf(f, ": %s</title>\n", titles[what]);
    axes(f, &fr, g, pr, np, ylabel);
    if (what > 0)
        lines(f, &fr, g, what, pr, np, model);
    measured(f, &fr, g, what);
    fprintf(f, "<text x=\"%d\" y=\"14\"><tspan class=\"measured\">&#9679; measured</tspan>", ML);
    if (what > 0)
        fprintf(f, "<tspan class=\"ideal\" dx=\"12\">&#8943; ideal</tspan>");
    if (model)
        fprintf(f, "<tspan class=\"model\" dx=\"12\">- - %s model (prediction)</tspan>",
                pk__report_model_name(g));
    fprintf(f, "</text>\n</svg>\n");
}
