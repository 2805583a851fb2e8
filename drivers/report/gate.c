/* SPDX-License-Identifier: MIT */
/* parkit report, the CI verdict: a point regressed when its median is slower than the
 * baseline's by at least --fail-on-regression percent and the Mann-Whitney test says the change
 * is significant (p < --alpha). Faster points and changes the test cannot tell from noise pass.
 * The message of each comparison (JUnit, HTML) names the change, p, and what differs in
 * provenance. */
#include "report.h"

#include <stdlib.h>
#include <string.h>

size_t pk__report_gate(struct report_cmp *c, size_t n, const struct report_opts *o)
{
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        struct report_cmp *x = &c[i];
        x->regressed =
            x->p_value < o->alpha && x->p->median > x->bp->median && x->change_pct >= o->fail_pct;
        bad += x->regressed;
    }
    return bad;
}

void pk__report_point_name(const struct report_group *g, const struct report_point *p, char *buf,
                           size_t len)
{
    snprintf(buf, len, "%s%s %s size %s %dx%d", g->kernel, g->serial ? " (serial)" : "",
             g->weak ? "weak" : "strong", p->size, p->threads, p->ranks);
}

struct items {
    FILE *f;
    int n;
};

static void diff_item(void *ctx, const char *key, const char *a, const char *b)
{
    struct items *it = ctx;
    fprintf(it->f, "%s%s '%s' -> '%s'", it->n++ ? "; " : ": ", key, a, b);
}

char *pk__report_cmp_message(const struct report_cmp *x, const struct report_opts *o)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    bool slower = x->p->median > x->bp->median;
    fprintf(f, "%s: median %.6g s against %.6g s in the baseline (%+.1f%%), Mann-Whitney p = %.4g",
            x->regressed ? "regression" : x->verdict, x->p->median, x->bp->median, x->change_pct,
            x->p_value);
    fprintf(f, " (%s, %zu and %zu repetitions) %s alpha %g", x->exact ? "exact" : "normal approx.",
            x->p->n, x->bp->n, x->p_value < o->alpha ? "<" : ">=", o->alpha);
    if (o->gate)
        fprintf(f, ", threshold %g%%", o->fail_pct);
    if (x->p_value >= o->alpha && !pk__report_detectable(x->p->n, x->bp->n, o->alpha))
        fprintf(f, " (too few repetitions to ever reach alpha)");
    if (slower) {
        struct items it = {f, 0};
        fprintf(f, "; provenance that differs");
        if (pk__report_prov_each(x->bp->prov, x->p->prov, diff_item, &it) == 0)
            fprintf(f, ": none recorded");
    }
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}
