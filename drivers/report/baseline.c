/* SPDX-License-Identifier: MIT */
/* parkit report, baseline: every point measured in both sets (same kernel, mode, size, threads
 * and ranks) is compared with the two-sided Mann-Whitney rank test, which assumes nothing about
 * the distribution of the times; and the provenance facts that differ (build, machine, binding)
 * say what might explain a change. Provenance is compared key by key,
 * whatever keys the records carry, point against point (the first record of each). */
#include "commands.h"
#include "record.h"
#include "report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Momentary readings that differ between any two runs and explain nothing: left out. Load
 * averages and the like, which do say something about noise, are compared. */
static const char *const prov_volatile[] = {"machine.mem_available_bytes"};

static bool is_volatile(const char *path)
{
    for (size_t i = 0; i < sizeof prov_volatile / sizeof prov_volatile[0]; i++)
        if (strcmp(path, prov_volatile[i]) == 0)
            return true;
    return false;
}

/* The binding as text (malloc'd): the cpusets of every rank and its threads. */
static char *binding_text(const json_t *ranks)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    size_t i, k;
    json_t *r, *t;
    json_array_foreach(ranks, i, r)
    {
        fprintf(f, "%srank %lld on %s cpus %s", i ? "; " : "",
                (long long)json_integer_value(json_object_get(r, "rank")),
                pk__report_str_or(r, "host", "?"), pk__report_str_or(r, "cpuset", "?"));
        json_array_foreach(json_object_get(r, "threads"), k, t)
            fprintf(f, "%s%s", k ? "," : " threads ", pk__report_str_or(t, "cpuset", "?"));
    }
    fclose(f);
    return buf;
}

/* Text of a provenance value (malloc'd; NULL when out of memory); NULL v is absent. */
static char *fact_text(const char *path, const json_t *v)
{
    if (!v)
        return strdup("(absent)");
    if (strcmp(path, "machine.ranks") == 0 && json_is_array(v))
        return binding_text(v);
    if (json_is_string(v))
        return strdup(json_string_value(v));
    return json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
}

struct walk {
    const json_t *other; /* the other side's provenance */
    bool second;         /* walking now's keys: only those the baseline lacks */
    pk__report_diff_fn fn;
    void *ctx;
    int n;
};

static void diff_leaf(struct walk *w, const char *path, const json_t *v)
{
    const json_t *o = pk_json_path(w->other, path);
    if (is_volatile(path) || (w->second && o))
        return;
    char *a = fact_text(path, w->second ? o : v), *b = fact_text(path, w->second ? v : o);
    if (a && b && strcmp(a, b) != 0) {
        w->fn(w->ctx, path, a, b);
        w->n++;
    }
    free(a);
    free(b);
}

/* Every leaf of o under prefix (objects are walked into; arrays and scalars are leaves). */
static void walk_object(struct walk *w, const json_t *o, const char *prefix)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)o, key, v)
    {
        char path[512];
        if (snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", key) >=
                (int)sizeof path ||
            strchr(key, '.'))
            continue; /* no provenance key is that deep or dotted; json_path could not find it */
        const json_t *o2 = pk_json_path(w->other, path);
        /* an object on both sides is compared key by key, otherwise as one value */
        if (json_is_object(v) && (!o2 || json_is_object(o2)))
            walk_object(w, v, path);
        else
            diff_leaf(w, path, v);
    }
}

int pk__report_prov_each(const json_t *base, const json_t *now, pk__report_diff_fn fn, void *ctx)
{
    struct walk w = {.other = now, .fn = fn, .ctx = ctx};
    walk_object(&w, base, "");
    w.other = base;
    w.second = true;
    walk_object(&w, now, "");
    return w.n;
}

struct diff_line {
    FILE *out;
    const char *prefix;
};

static void diff_print(void *ctx, const char *label, const char *a, const char *b)
{
    const struct diff_line *d = ctx;
    fprintf(d->out, "%s%s: '%s' (baseline) -> '%s'\n", d->prefix, label, a, b);
}

static void diff_json(void *ctx, const char *label, const char *a, const char *b)
{
    json_object_set_new(ctx, label, json_pack("{s:s, s:s}", "baseline", a, "now", b));
}

int pk__report_prov_diff(FILE *out, const char *prefix, const json_t *base, const json_t *now)
{
    struct diff_line d = {out, prefix};
    return pk__report_prov_each(base, now, diff_print, &d);
}

json_t *pk__report_prov_diff_json(const json_t *base, const json_t *now)
{
    json_t *diff = json_object();
    pk__report_prov_each(base, now, diff_json, diff);
    return diff;
}

void pk__report_key_diff(const struct report_group *a, const struct report_group *b, char *buf,
                         size_t len)
{
    const char *names[] = {"host", "commit", "compiler", "flags", "MPI"};
    const char *va[] = {a->host, a->commit, a->compiler, a->flags, a->mpi};
    const char *vb[] = {b->host, b->commit, b->compiler, b->flags, b->mpi};
    size_t used = 0;
    buf[0] = 0;
    for (size_t i = 0; i < 5; i++)
        if (strcmp(va[i], vb[i]) != 0 && used < len)
            used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? ", " : "", names[i]);
}

/* Compares point p of g with point bp of b into x. Returns a pk_status. */
static int compare_point(const struct report_group *g, const struct report_point *p,
                         const struct report_group *b, const struct report_point *bp,
                         double alpha, struct report_cmp *x)
{
    *x = (struct report_cmp){.g = g, .b = b, .p = p, .bp = bp};
    double u;
    if (pk_scaling_mann_whitney(p->t, p->n, bp->t, bp->n, &u, &x->p_value, &x->exact) != PK_OK)
        return PK_ENOMEM;
    x->change_pct = 100 * (p->median / bp->median - 1);
    x->verdict = x->p_value >= alpha ? "no significant change"
                 : p->median > bp->median      ? "slower"
                                               : "faster";
    return PK_OK;
}

/* Appends the comparisons of the points g and b share to *c (n entries, capacity *cap). */
static int compare_groups(const struct report_group *g, const struct report_group *b,
                          double alpha, struct report_cmp **c, size_t *n, size_t *cap)
{
    for (size_t k = 0; k < g->npt; k++)
        for (size_t m = 0; m < b->npt; m++) {
            const struct report_point *p = &g->pt[k], *bp = &b->pt[m];
            if (p->threads != bp->threads || p->ranks != bp->ranks)
                continue;
            if (*n == *cap) {
                size_t ncap = *cap ? 2 * *cap : 16;
                struct report_cmp *nc = realloc(*c, ncap * sizeof *nc);
                if (!nc)
                    return PK_ENOMEM;
                *c = nc;
                *cap = ncap;
            }
            if (compare_point(g, p, b, bp, alpha, &(*c)[*n]) != PK_OK)
                return PK_ENOMEM;
            (*n)++;
        }
    return PK_OK;
}

int pk__report_compare(const struct report_set *now, const struct report_set *base, double alpha,
                       struct report_cmp **out, size_t *nout)
{
    size_t n = 0, cap = 0;
    struct report_cmp *c = NULL;
    for (size_t i = 0; i < now->n; i++)
        for (size_t j = 0; j < base->n; j++) {
            if (!pk__report_same_experiment(&now->g[i], &base->g[j]))
                continue;
            if (compare_groups(&now->g[i], &base->g[j], alpha, &c, &n, &cap) != PK_OK) {
                free(c);
                *out = NULL;
                *nout = 0;
                return PK_ENOMEM;
            }
        }
    *out = c;
    *nout = n;
    return PK_OK;
}

/* The smallest two-sided p of the exact test is 2 / C(n + m, n) (complete separation). */
bool pk__report_detectable(size_t n, size_t m, double alpha)
{
    double log_c = lgamma((double)(n + m + 1)) - lgamma((double)(n + 1)) - lgamma((double)(m + 1));
    return log(2.0) - log_c < log(alpha);
}
