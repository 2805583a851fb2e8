/* SPDX-License-Identifier: MIT */
/* parkit report: reads result records (JSON Lines from --record or `parkit scale`), groups them by
 * kernel, mode, size and provenance, and reports per point the median time with min, max and a
 * distribution-free 95% interval of the median, speedup, efficiency and the Karp-Flatt serial
 * fraction; an Amdahl (strong) or Gustafson (weak) least-squares fit with the serial fraction's
 * error; and speedups the fit predicts at larger counts, marked as a model. Output as a table,
 * CSV, Markdown or JSON, plus gnuplot plots. --baseline compares against another set of records
 * point by point with the Mann-Whitney rank test and lists what differs in the provenance of a
 * point that got slower.
 *
 * Invariants: records of different hosts, commits, compilers, flags or MPI libraries never share
 * a group; a bad line is named (FILE:LINE) and skipped, never half-used; plot files appear only
 * complete (written under temporary names and renamed). */
#include "bigout.h"
#include "commands.h"
#include "scaling.h"

#include <errno.h>
#include <getopt.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define CI_LEVEL    0.95 /* coverage of the interval of each median */
#define ALPHA       0.05 /* significance level of the baseline comparison */
#define MAX_PREDICT 16   /* --predict counts */

static const char usage[] =
    "Usage: parkit report FILE... [--baseline FILE]... [--format table|csv|markdown|json]\n"
    "                     [--plots DIR] [--predict P1,P2,...]\n"
    "Reads records (JSON Lines written by --record or `parkit scale`) and groups them by kernel,\n"
    "mode (strong or weak) and size, and by provenance: records from different hosts, commits,\n"
    "compilers, flags or MPI libraries are never mixed, each group is labelled with its own.\n"
    "Records without a \"scale\" block count as strong-scaling points with workers = threads x\n"
    "ranks.\n"
    "\n"
    "Per point: the median, min and max time over every repetition, a 95% confidence interval of\n"
    "the median (order statistics; with fewer than 6 repetitions it is [min, max] and covers\n"
    "less, marked *), speedup and parallel efficiency against the 1-worker point (or the\n"
    "smallest count, said so), and the Karp-Flatt serial fraction. Per group: an Amdahl fit\n"
    "T(p) = a + b/p (strong) or a Gustafson fit S(p) = f + (1-f) p (weak) by least squares over\n"
    "every repetition, with the serial fraction f and its standard error, and the speedup the\n"
    "fit predicts at larger counts: a model, not a measurement.\n"
    "\n"
    "  --baseline FILE   compare with these records (repeatable): per point present in both,\n"
    "                    the change of the median, the Mann-Whitney p-value, and a verdict at\n"
    "                    alpha = 0.05; for a point that got slower, what differs in provenance\n"
    "  --format F        table (default), csv, markdown or json\n"
    "  --plots DIR       per group: time, speedup (with the ideal line and the model) and\n"
    "                    efficiency, as PNG and SVG through gnuplot, with the .gp script and .dat\n"
    "                    data beside them to edit and redraw (`gnuplot NAME.gp` in DIR)\n"
    "  --predict LIST    counts to predict the speedup at (default: 2x and 4x the largest)\n"
    "  -h, --help        this help\n"
    "\n"
    "A bad record (invalid or truncated JSON, wrong types, unknown kernel, failed verification)\n"
    "is reported as FILE:LINE and skipped; the report of the good ones still appears and the\n"
    "exit status is 1. A missing or empty file is a usage error (2). Without gnuplot, --plots\n"
    "exits 1 after the tables.\n\n";

enum fmt { FMT_TABLE, FMT_CSV, FMT_MARKDOWN, FMT_JSON };

struct report_opts {
    char **files;
    size_t nfiles;
    const char **baseline;
    size_t nbaseline;
    enum fmt format;
    const char *plots;
    double predict[MAX_PREDICT];
    size_t npredict;
};

/* ---- the data --------------------------------------------------------------------------- */

struct point {
    int workers, threads, ranks;
    char size[96]; /* the problem size of this point (weak scaling: base size x workers) */
    bool oversub;
    double *t; /* every repetition's time, sorted once the set is loaded */
    size_t n, cap;
    double median, min, max, ci_lo, ci_hi, ci_cov;
    double speedup, speedup_lo, speedup_hi, eff, kf; /* NaN where undefined */
};

struct group {
    char *kernel, *size, *host, *commit, *compiler, *flags, *mpi;
    double size_num; /* for ordering: the size, or the largest of a list */
    bool weak, serial;
    json_t *prov; /* provenance of the first record (owned) */
    size_t order; /* first appearance, to keep provenance variants in input order */
    size_t records;
    struct point *pt;
    size_t npt, cap;
    size_t base; /* index of the point speedups are relative to */
    struct pk_scaling_fit fit;
    bool fit_ok;
    size_t fit_left_out; /* oversubscribed points the fit leaves out */
    char slug[128];
    int id; /* 1-based number in the output */
};

struct set {
    struct group *g;
    size_t n, cap;
    size_t records, bad;
};

/* One parsed record; the strings point into the JSON (valid while it lives). */
struct rec {
    char kernel[96], size[96], psize[96]; /* psize: this point's size (weak: grows with p) */
    double size_num;
    bool weak, serial, oversub;
    int threads, ranks;
    const json_t *reps, *prov;
    const char *host, *commit, *compiler, *flags, *mpi;
};

static const char *const known_commands[] = {"sumsq", "factsum", "fib",      "transform", "api",
                                             "fetch", "files",   "pipeline", "resize",    "sleep"};

static void free_set(struct set *s)
{
    for (size_t i = 0; i < s->n; i++) {
        struct group *g = &s->g[i];
        free(g->kernel);
        free(g->size);
        free(g->host);
        free(g->commit);
        free(g->compiler);
        free(g->flags);
        free(g->mpi);
        json_decref(g->prov);
        for (size_t k = 0; k < g->npt; k++)
            free(g->pt[k].t);
        free(g->pt);
    }
    free(s->g);
    *s = (struct set){0};
}

/* ---- reading records ---------------------------------------------------------------------- */

/* An integer field: 1 when present and valid (>= min), 0 when absent, -1 when of a wrong type. */
static int get_int(const json_t *o, const char *key, long long min, int *out)
{
    const json_t *v = json_object_get(o, key);
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > 1 << 24)
        return -1;
    *out = (int)json_integer_value(v);
    return 1;
}

static const char *str_or(const json_t *o, const char *key, const char *dflt)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : dflt;
}

/* A size: an integer (or integral real), or a list of them (factsum's N list, shown as a,b,c
 * and ordered by its largest). Returns false for anything else. */
static bool size_text(const json_t *v, char *buf, size_t len, double *num)
{
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        snprintf(buf, len, "%lld", (long long)json_integer_value(v));
        *num = (double)json_integer_value(v);
        return true;
    }
    if (json_is_real(v) && json_real_value(v) >= 0 && json_real_value(v) < 1e19 &&
        floor(json_real_value(v)) == json_real_value(v)) {
        snprintf(buf, len, "%.0f", json_real_value(v));
        *num = json_real_value(v);
        return true;
    }
    if (!json_is_array(v) || json_array_size(v) == 0)
        return false;
    size_t i, used = 0;
    json_t *e;
    *num = 0;
    buf[0] = 0;
    json_array_foreach(v, i, e)
    {
        if (!json_is_integer(e) || json_integer_value(e) < 0)
            return false;
        double x = (double)json_integer_value(e);
        *num = x > *num ? x : *num;
        if (used + 1 < len)
            used += (size_t)snprintf(buf + used, len - used, "%s%lld", i ? "," : "",
                                     (long long)json_integer_value(e));
    }
    return true;
}

static bool warns_oversubscribed(const json_t *machine)
{
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(machine, "warnings"), i, w)
    {
        const char *s = json_string_value(w);
        if (s && (strstr(s, "oversubscribed") || strstr(s, "share cpu")))
            return true;
    }
    return false;
}

#define BAD(...) (snprintf(why, whylen, __VA_ARGS__), false)

/* Checks one record and extracts what grouping needs; on failure why says what is wrong. */
static bool parse_record(const json_t *j, struct rec *r, char *why, size_t whylen)
{
    *r = (struct rec){0};
    if (!json_is_object(j))
        return BAD("not a JSON object");
    const char *schema = json_string_value(json_object_get(j, "schema"));
    if (!schema || strcmp(schema, "parkit.record/1") != 0)
        return BAD("schema is not \"parkit.record/1\"");
    const char *command = json_string_value(json_object_get(j, "command"));
    if (!command)
        return BAD("\"command\" is missing or not a string");
    const json_t *params = json_object_get(j, "params");
    if (!json_is_object(params))
        return BAD("\"params\" is missing or not an object");
    const json_t *verified = json_object_get(j, "verified");
    if (verified && !json_is_boolean(verified) && !json_is_null(verified))
        return BAD("\"verified\" is not a boolean");
    if (json_is_false(verified))
        return BAD("the run failed verification: its times are not used");
    const json_t *timing = json_object_get(j, "timing");
    r->reps = json_object_get(timing, "reps_s");
    if (!json_is_array(r->reps) || json_array_size(r->reps) == 0)
        return BAD("\"timing.reps_s\" is missing, empty or not an array");
    size_t i;
    json_t *v;
    json_array_foreach(r->reps, i, v)
    {
        if (!json_is_number(v) || !(json_number_value(v) > 0) || !isfinite(json_number_value(v)))
            return BAD("\"timing.reps_s\"[%zu] is not a positive number", i);
    }
    r->prov = json_object_get(j, "provenance");
    if (!json_is_object(r->prov))
        return BAD("\"provenance\" is missing or not an object");
    const json_t *machine = json_object_get(r->prov, "machine");
    r->host = str_or(machine, "host", "?");
    r->commit = str_or(r->prov, "git_commit", "?");
    r->compiler = str_or(r->prov, "compiler", "?");
    r->flags = str_or(r->prov, "c_flags", "?");
    r->mpi = str_or(r->prov, "mpi", "?");

    const json_t *scale = json_object_get(j, "scale");
    if (scale) {
        if (!json_is_object(scale))
            return BAD("\"scale\" is not an object");
        const char *mode = json_string_value(json_object_get(scale, "mode"));
        const char *kernel = json_string_value(json_object_get(scale, "kernel"));
        if (!mode || (strcmp(mode, "strong") != 0 && strcmp(mode, "weak") != 0))
            return BAD("\"scale.mode\" is not \"strong\" or \"weak\"");
        if (!kernel)
            return BAD("\"scale.kernel\" is missing or not a string");
        r->weak = strcmp(mode, "weak") == 0;
        snprintf(r->kernel, sizeof r->kernel, "%s", kernel);
        if (get_int(scale, "threads", 1, &r->threads) != 1)
            return BAD("\"scale.threads\" is missing or not a positive integer");
        if (get_int(scale, "ranks", 1, &r->ranks) != 1)
            return BAD("\"scale.ranks\" is missing or not a positive integer");
        int workers = 0;
        if (get_int(scale, "workers", 1, &workers) == -1 ||
            (workers && workers != r->threads * r->ranks))
            return BAD("\"scale.workers\" is not threads x ranks");
        const json_t *sz = json_object_get(scale, r->weak ? "base_size" : "size");
        if (!size_text(sz, r->size, sizeof r->size, &r->size_num))
            return BAD("\"scale.%s\" is missing or not a size", r->weak ? "base_size" : "size");
        double unused;
        if (!size_text(json_object_get(scale, "size"), r->psize, sizeof r->psize, &unused))
            return BAD("\"scale.size\" is missing or not a size");
        const json_t *ov = json_object_get(scale, "oversubscribed");
        if (ov && !json_is_boolean(ov))
            return BAD("\"scale.oversubscribed\" is not a boolean");
        r->oversub = json_is_true(ov) || warns_oversubscribed(machine);
        r->serial = json_is_true(json_object_get(scale, "serial"));
    } else {
        const char *variant = json_string_value(json_object_get(params, "variant"));
        if (json_object_get(params, "variant") && !variant)
            return BAD("\"params.variant\" is not a string");
        snprintf(r->kernel, sizeof r->kernel, "%s%s%s", command, variant ? ":" : "",
                 variant ? variant : "");
        int got = get_int(params, "threads", 1, &r->threads);
        if (got == 0) /* the io commands name their threads workers */
            got = get_int(params, "workers", 1, &r->threads);
        if (got != 1)
            return BAD("\"params.threads\" is missing or not a positive integer");
        r->ranks = 1;
        if (get_int(params, "ranks", 1, &r->ranks) == -1)
            return BAD("\"params.ranks\" is not a positive integer");
        const json_t *n = json_object_get(params, "n");
        if (!n)
            n = json_object_get(params, "tasks");
        if (!n)
            n = json_object_get(params, "items");
        if (!n) {
            snprintf(r->size, sizeof r->size, "-");
            r->size_num = 0;
        } else if (!size_text(n, r->size, sizeof r->size, &r->size_num)) {
            return BAD("\"params.n\" is not a size (an integer or a list of integers)");
        }
        r->oversub = warns_oversubscribed(machine);
    }
    if (!scale)
        memcpy(r->psize, r->size, sizeof r->psize);
    /* The kernel is COMMAND or COMMAND:VARIANT of a command parkit has. */
    size_t cmdlen = strcspn(r->kernel, ":");
    bool known = false;
    for (size_t k = 0; k < sizeof known_commands / sizeof known_commands[0] && !known; k++)
        known = strlen(known_commands[k]) == cmdlen &&
                strncmp(known_commands[k], r->kernel, cmdlen) == 0;
    if (!known)
        return BAD("unknown kernel '%s'", r->kernel);
    return true;
}

static char *dup_or_null(const char *s, bool *oom)
{
    char *d = strdup(s);
    if (!d)
        *oom = true;
    return d;
}

/* Adds the record's times to its group and point, creating either as needed. */
static int add_record(struct set *s, const struct rec *r)
{
    struct group *g = NULL;
    for (size_t i = 0; i < s->n && !g; i++) {
        struct group *c = &s->g[i];
        if (c->weak == r->weak && c->serial == r->serial && strcmp(c->kernel, r->kernel) == 0 &&
            strcmp(c->size, r->size) == 0 && strcmp(c->host, r->host) == 0 &&
            strcmp(c->commit, r->commit) == 0 && strcmp(c->compiler, r->compiler) == 0 &&
            strcmp(c->flags, r->flags) == 0 && strcmp(c->mpi, r->mpi) == 0)
            g = c;
    }
    if (!g) {
        if (s->n == s->cap) {
            size_t cap = s->cap ? 2 * s->cap : 8;
            struct group *ng = realloc(s->g, cap * sizeof *ng);
            if (!ng)
                return PK_ENOMEM;
            s->g = ng;
            s->cap = cap;
        }
        g = &s->g[s->n];
        *g = (struct group){.weak = r->weak, .serial = r->serial, .size_num = r->size_num};
        bool oom = false;
        g->kernel = dup_or_null(r->kernel, &oom);
        g->size = dup_or_null(r->size, &oom);
        g->host = dup_or_null(r->host, &oom);
        g->commit = dup_or_null(r->commit, &oom);
        g->compiler = dup_or_null(r->compiler, &oom);
        g->flags = dup_or_null(r->flags, &oom);
        g->mpi = dup_or_null(r->mpi, &oom);
        g->prov = json_deep_copy(r->prov);
        g->order = s->n;
        s->n++; /* counted at once, so free_set releases whatever was allocated */
        if (oom || !g->prov)
            return PK_ENOMEM;
    }
    struct point *p = NULL;
    for (size_t k = 0; k < g->npt && !p; k++)
        if (g->pt[k].threads == r->threads && g->pt[k].ranks == r->ranks)
            p = &g->pt[k];
    if (!p) {
        if (g->npt == g->cap) {
            size_t cap = g->cap ? 2 * g->cap : 8;
            struct point *np = realloc(g->pt, cap * sizeof *np);
            if (!np)
                return PK_ENOMEM;
            g->pt = np;
            g->cap = cap;
        }
        p = &g->pt[g->npt++];
        *p = (struct point){
            .threads = r->threads, .ranks = r->ranks, .workers = r->threads * r->ranks};
        memcpy(p->size, r->psize, sizeof p->size);
    }
    p->oversub = p->oversub || r->oversub;
    size_t add = json_array_size(r->reps);
    if (p->n + add > p->cap) {
        size_t cap = (p->n + add) * 2;
        double *nt = realloc(p->t, cap * sizeof *nt);
        if (!nt)
            return PK_ENOMEM;
        p->t = nt;
        p->cap = cap;
    }
    size_t i;
    json_t *v;
    json_array_foreach(r->reps, i, v) p->t[p->n++] = json_number_value(v);
    g->records++;
    return PK_OK;
}

/* Reads one JSON Lines file into s. Bad lines are printed as FILE:LINE: reason and counted.
 * Returns an exit status: PK_EXIT_USAGE for a missing or empty file, PK_EXIT_RUNTIME when out
 * of memory. */
static int load_file(const char *path, struct set *s)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        pk_error(NULL, false, "report", "cannot open '%s': %s", path, strerror(errno));
        return PK_EXIT_USAGE;
    }
    char *line = NULL;
    size_t cap = 0, lineno = 0, lines = 0;
    ssize_t len;
    int status = PK_EXIT_OK;
    while (status == PK_EXIT_OK && (len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = 0;
        size_t lead = strspn(line, " \t");
        if (line[lead] == 0)
            continue;
        lines++;
        json_error_t jerr;
        json_t *j = json_loadb(line, (size_t)len, 0, &jerr);
        char why[256];
        struct rec r;
        if (!j) {
            snprintf(why, sizeof why, "%s JSON (%s at column %d)",
                     jerr.position >= len ? "truncated" : "invalid", jerr.text, jerr.column);
        }
        if (j && parse_record(j, &r, why, sizeof why)) {
            s->records++;
            if (add_record(s, &r) != PK_OK) {
                pk_error(NULL, false, "report", "out of memory reading '%s'", path);
                status = PK_EXIT_RUNTIME;
            }
        } else {
            fprintf(stderr, "%s:%zu: %s; skipped\n", path, lineno, why);
            s->bad++;
        }
        json_decref(j);
    }
    bool read_error = ferror(f);
    free(line);
    fclose(f);
    if (status != PK_EXIT_OK)
        return status;
    if (read_error) {
        pk_error(NULL, false, "report", "cannot read '%s'", path);
        return PK_EXIT_USAGE;
    }
    if (lines == 0) {
        pk_error(NULL, false, "report", "'%s' holds no records", path);
        return PK_EXIT_USAGE;
    }
    return PK_EXIT_OK;
}

/* ---- statistics ------------------------------------------------------------------------- */

static int cmp_point(const void *a, const void *b)
{
    const struct point *x = a, *y = b;
    if (x->workers != y->workers)
        return x->workers < y->workers ? -1 : 1;
    return (x->ranks > y->ranks) - (x->ranks < y->ranks);
}

static int cmp_group(const void *a, const void *b)
{
    const struct group *x = a, *y = b;
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
static double rel_workers(const struct group *g, const struct point *p)
{
    return (double)p->workers / (double)g->pt[g->base].workers;
}

/* Sorts groups and points and computes every derived number. Returns a pk_status. */
static int analyse(struct set *s)
{
    if (s->n > 1) /* an empty baseline set has no array at all */
        qsort(s->g, s->n, sizeof *s->g, cmp_group);
    for (size_t gi = 0; gi < s->n; gi++) {
        struct group *g = &s->g[gi];
        g->id = (int)gi + 1;
        qsort(g->pt, g->npt, sizeof *g->pt, cmp_point);
        size_t nobs = 0;
        for (size_t k = 0; k < g->npt; k++) {
            struct point *p = &g->pt[k];
            gsl_sort(p->t, 1, p->n);
            p->median = gsl_stats_median_from_sorted_data(p->t, 1, p->n);
            p->min = p->t[0];
            p->max = p->t[p->n - 1];
            pk_scaling_median_ci(p->t, p->n, CI_LEVEL, &p->ci_lo, &p->ci_hi, &p->ci_cov);
            nobs += p->n;
        }
        g->base = 0; /* the smallest count after sorting: 1 worker when there is one */
        const struct point *b = &g->pt[g->base];
        for (size_t k = 0; k < g->npt; k++) {
            struct point *p = &g->pt[k];
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
        g->fit_left_out = 0;
        size_t m = 0;
        for (size_t k = 0; k < g->npt; k++) {
            const struct point *p = &g->pt[k];
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
    }
    return PK_OK;
}

/* Rounds fit noise (|v| < 1e-12, e.g. -2e-16 for an exactly parallel kernel) to 0 for display. */
static double tidy(double v)
{
    return fabs(v) < 1e-12 ? 0.0 : v;
}

/* v, or 0 when it is fit noise next to other (|v| < 1e-12 |v + other|). */
static double tidy_rel(double v, double other)
{
    return fabs(v) < 1e-12 * (fabs(v) + fabs(other)) ? 0.0 : v;
}

/* The fitted model's speedup at `workers`, relative to the group's base point. */
static double model_speedup(const struct group *g, double workers)
{
    double p0 = g->pt[g->base].workers;
    if (g->weak)
        return pk_scaling_gustafson_speedup(g->fit.f, workers / p0);
    /* T(p) = a + b/p; with a 1-worker base this is Amdahl's 1 / (f + (1-f)/p) */
    return (g->fit.a + g->fit.b / p0) / (g->fit.a + g->fit.b / workers);
}

/* The counts to predict at: --predict, or 2x and 4x the largest measured. */
static bool fit_in_range(const struct group *g)
{
    /* 0.01 leaves room for noise around an ideal (0) or serial (1) kernel */
    return g->fit.f >= -0.01 && g->fit.f <= 1.01;
}

static size_t predict_counts(const struct group *g, const struct report_opts *o, double *out)
{
    /* a model that does not fit the times (f outside [0, 1]) predicts nothing worth printing */
    if (!fit_in_range(g))
        return 0;
    if (o->npredict) {
        memcpy(out, o->predict, o->npredict * sizeof *out);
        return o->npredict;
    }
    double top = g->pt[g->npt - 1].workers;
    out[0] = 2 * top;
    out[1] = 4 * top;
    return 2;
}

static const char *model_name(const struct group *g)
{
    return g->weak ? "Gustafson" : "Amdahl";
}

/* ---- provenance comparison ------------------------------------------------------------- */

/* The provenance facts compared when a point regressed: path into provenance, label. */
static const char *const prov_fields[][2] = {
    {"machine.host", "host"},
    {"git_commit", "commit"},
    {"version", "version"},
    {"compiler", "compiler"},
    {"c_flags", "flags"},
    {"build_type", "build type"},
    {"native", "native"},
    {"openmp", "OpenMP"},
    {"mpi", "MPI"},
    {"gsl", "GSL"},
    {"gmp", "GMP"},
    {"jansson", "jansson"},
    {"machine.cores", "cores"},
    {"machine.openmp.proc_bind", "proc_bind"},
    {"machine.openmp.places", "places"},
    {"machine.openmp.env.OMP_PROC_BIND", "OMP_PROC_BIND"},
    {"machine.openmp.env.OMP_PLACES", "OMP_PLACES"},
    {"machine.openmp.env.OMP_WAIT_POLICY", "OMP_WAIT_POLICY"},
    {"machine.ranks", "binding"},
};

static const json_t *json_path(const json_t *o, const char *path)
{
    char key[64];
    while (o && *path) {
        size_t n = strcspn(path, ".");
        if (n >= sizeof key)
            return NULL;
        memcpy(key, path, n);
        key[n] = 0;
        o = json_object_get(o, key);
        path += n + (path[n] == '.');
    }
    return o;
}

/* Text of a provenance fact (malloc'd). The binding is the cpusets of every rank and thread. */
static char *fact_text(const json_t *prov, const char *path)
{
    const json_t *v = json_path(prov, path);
    if (!v)
        return strdup("(absent)");
    if (strcmp(path, "machine.ranks") == 0 && json_is_array(v)) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
            return NULL;
        size_t i, k;
        json_t *r, *t;
        json_array_foreach(v, i, r)
        {
            fprintf(f, "%srank %lld on %s cpus %s", i ? "; " : "",
                    (long long)json_integer_value(json_object_get(r, "rank")),
                    str_or(r, "host", "?"), str_or(r, "cpuset", "?"));
            json_array_foreach(json_object_get(r, "threads"), k, t)
                fprintf(f, "%s%s", k ? "," : " threads ", str_or(t, "cpuset", "?"));
        }
        fclose(f);
        return buf;
    }
    if (json_is_string(v))
        return strdup(json_string_value(v));
    return json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
}

/* Prints, one per line after `prefix`, the facts that differ between base and now. Returns how
 * many differ. */
static int print_prov_diff(FILE *out, const char *prefix, const json_t *base, const json_t *now)
{
    int n = 0;
    for (size_t i = 0; i < sizeof prov_fields / sizeof prov_fields[0]; i++) {
        char *a = fact_text(base, prov_fields[i][0]), *b = fact_text(now, prov_fields[i][0]);
        if (a && b && strcmp(a, b) != 0) {
            fprintf(out, "%s%s: '%s' (baseline) -> '%s'\n", prefix, prov_fields[i][1], a, b);
            n++;
        }
        free(a);
        free(b);
    }
    return n;
}

/* Names the key provenance fields in which two groups differ, comma-separated, into buf. */
static void key_diff(const struct group *a, const struct group *b, char *buf, size_t len)
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

static bool same_experiment(const struct group *a, const struct group *b)
{
    return a->weak == b->weak && a->serial == b->serial && strcmp(a->kernel, b->kernel) == 0 &&
           strcmp(a->size, b->size) == 0;
}

/* ---- text output --------------------------------------------------------------------------- */

static const char *mode_text(const struct group *g)
{
    return g->weak ? "weak scaling" : "strong scaling";
}

static void print_num(FILE *f, const char *fmt, double v, int width)
{
    if (isfinite(v))
        fprintf(f, fmt, v);
    else
        fprintf(f, "%*s", width, "-");
}

static void print_fit_text(FILE *f, const struct group *g, const struct report_opts *o,
                           const char *lead)
{
    if (!g->fit_ok) {
        fprintf(f, "%sno %s fit: it needs at least two worker counts\n", lead, model_name(g));
        return;
    }
    if (g->fit_left_out)
        fprintf(f, "%sthe fit leaves out the %zu oversubscribed point%s (marked !)\n", lead,
                g->fit_left_out, g->fit_left_out == 1 ? "" : "s");
    if (g->weak)
        fprintf(f, "%sGustafson fit S(p) = f + (1-f) p over %zu repetitions at %zu counts: ", lead,
                g->fit.n, g->fit.counts);
    else
        fprintf(f,
                "%sAmdahl fit T(p) = a + b/p over %zu repetitions at %zu counts (a = %.4g s, "
                "b = %.4g s): ",
                lead, g->fit.n, g->fit.counts, tidy_rel(g->fit.a, g->fit.b),
                tidy_rel(g->fit.b, g->fit.a));
    fprintf(f, "serial fraction f = %.4f", tidy(g->fit.f));
    if (isfinite(g->fit.f_err))
        fprintf(f, " +- %.4f", g->fit.f_err);
    else
        fprintf(f, " (no error: too few repetitions)");
    fprintf(f, "\n");
    /* A serial fraction outside [0, 1] has no meaning: say why and predict nothing. */
    if (!fit_in_range(g)) {
        fprintf(f, "%sf outside [0, 1]: the times do not follow the model (%s); no prediction\n",
                lead,
                g->fit.f > 1 ? "more workers took longer: contention, oversubscription or noise"
                             : "super-linear speedup, e.g. caches, or noise");
        return;
    }
    double pc[MAX_PREDICT];
    size_t np = predict_counts(g, o, pc);
    fprintf(f, "%spredicted speedup (model, %s f = %.4f, not measured):", lead, model_name(g),
            tidy(g->fit.f));
    for (size_t i = 0; i < np; i++) {
        double sp = model_speedup(g, pc[i]);
        fprintf(f, "%s p=%g: %.3g (efficiency %.3g)", i ? ";" : "", pc[i], sp,
                sp / (pc[i] / g->pt[g->base].workers));
    }
    fprintf(f, "\n");
}

static void print_group_header(FILE *f, const struct group *g, const char *lead)
{
    fprintf(f, "%sgroup %d: %s%s, %s, size %s%s (%zu record%s)\n", lead, g->id, g->kernel,
            g->serial ? " (serial harness check)" : "", mode_text(g), g->size,
            g->weak ? " per worker" : "", g->records, g->records == 1 ? "" : "s");
    fprintf(f, "%sprovenance: host %s; commit %s; compiler %s; flags '%s'; MPI %s\n", lead, g->host,
            g->commit, g->compiler, g->flags, g->mpi);
    const struct point *b = &g->pt[g->base];
    if (b->workers != 1)
        fprintf(f,
                "%sno 1-worker point: speedup and efficiency are relative to %d workers "
                "(%dx%d)\n",
                lead, b->workers, b->threads, b->ranks);
}

static void print_table(const struct set *s, const struct report_opts *o)
{
    for (size_t gi = 0; gi < s->n; gi++) {
        const struct group *g = &s->g[gi];
        if (gi)
            printf("\n");
        print_group_header(stdout, g, "# ");
        printf("# %7s %-9s %12s %5s %11s %11s %11s %11s %11s %8s %10s %10s\n", "workers", "t x r",
               "size", "reps", "median_s", "min_s", "max_s", "ci95_lo_s", "ci95_hi_s",
               g->weak ? "scaled" : "speedup", "efficiency", "karp_flatt");
        bool few = false, over = false;
        for (size_t k = 0; k < g->npt; k++) {
            const struct point *p = &g->pt[k];
            char txr[32];
            snprintf(txr, sizeof txr, "%dx%d%s", p->threads, p->ranks, p->oversub ? "!" : "");
            bool star = p->ci_cov < CI_LEVEL;
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
        print_fit_text(stdout, g, o, "# ");
    }
    /* Same kernel, mode and size from different provenance: said, never mixed. */
    for (size_t i = 0; i < s->n; i++)
        for (size_t j = i + 1; j < s->n; j++)
            if (same_experiment(&s->g[i], &s->g[j])) {
                char d[128];
                key_diff(&s->g[i], &s->g[j], d, sizeof d);
                printf("# note: groups %d and %d measure the same kernel, mode and size but "
                       "differ in %s: reported separately, never mixed\n",
                       s->g[i].id, s->g[j].id, d);
            }
}

/* One text field, quoted per RFC 4180 when it holds a comma, quote, CR or LF. */
static void csv_field(const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, stdout);
        return;
    }
    putchar('"');
    for (; *s; s++) {
        if (*s == '"')
            putchar('"');
        putchar(*s);
    }
    putchar('"');
}

static void csv_num(double v)
{
    if (isfinite(v))
        printf(",%.9g", v);
    else
        printf(",");
}

static void csv_group_cols(const struct group *g)
{
    printf("%d,", g->id);
    csv_field(g->kernel);
    printf(",%s%s,", g->weak ? "weak" : "strong", g->serial ? "-serial" : "");
    csv_field(g->size);
    const char *prov[] = {g->host, g->commit, g->compiler, g->flags, g->mpi};
    for (size_t i = 0; i < 5; i++) {
        putchar(',');
        csv_field(prov[i]);
    }
}

/* The columns workers..reps of a measured point; its size may be a list (factsum's 1,2,3). */
static void csv_point_cols(const struct point *p)
{
    printf(",%d,%d,%d,%s,", p->workers, p->threads, p->ranks, p->oversub ? "yes" : "no");
    csv_field(p->size);
    printf(",%zu", p->n);
}

static const char csv_header[] =
    "kind,group,kernel,mode,size,host,git_commit,compiler,c_flags,mpi,workers,threads,ranks,"
    "oversubscribed,point_size,reps,median_s,min_s,max_s,ci_lo_s,ci_hi_s,ci_coverage,base_workers,"
    "speedup,"
    "efficiency,karp_flatt,fit_model,serial_fraction,serial_fraction_err,baseline_median_s,"
    "change_pct,p_value,verdict,provenance_diff\n";

static void print_csv(const struct set *s, const struct report_opts *o)
{
    fputs(csv_header, stdout);
    for (size_t gi = 0; gi < s->n; gi++) {
        const struct group *g = &s->g[gi];
        int bw = g->pt[g->base].workers;
        for (size_t k = 0; k < g->npt; k++) {
            const struct point *p = &g->pt[k];
            printf("measured,");
            csv_group_cols(g);
            csv_point_cols(p);
            csv_num(p->median);
            csv_num(p->min);
            csv_num(p->max);
            csv_num(p->ci_lo);
            csv_num(p->ci_hi);
            csv_num(p->ci_cov);
            printf(",%d", bw);
            csv_num(p->speedup);
            csv_num(p->eff);
            csv_num(p->kf);
            printf(",%s", g->fit_ok ? model_name(g) : "");
            csv_num(g->fit_ok ? g->fit.f : NAN);
            csv_num(g->fit_ok ? g->fit.f_err : NAN);
            printf(",,,,,\n");
        }
        if (!g->fit_ok)
            continue;
        double pc[MAX_PREDICT];
        size_t np = predict_counts(g, o, pc);
        for (size_t i = 0; i < np; i++) {
            double sp = model_speedup(g, pc[i]);
            printf("model,");
            csv_group_cols(g);
            printf(",%.0f,,,,,,,,,,,,%d", pc[i], bw);
            csv_num(sp);
            csv_num(sp / (pc[i] / bw));
            printf(",,%s", model_name(g));
            csv_num(g->fit.f);
            csv_num(g->fit.f_err);
            printf(",,,,,\n");
        }
    }
}

static void md_num(const char *fmt, double v)
{
    if (isfinite(v))
        printf(fmt, v);
    else
        printf(" - |");
}

static void print_markdown(const struct set *s, const struct report_opts *o)
{
    for (size_t gi = 0; gi < s->n; gi++) {
        const struct group *g = &s->g[gi];
        printf("### Group %d: `%s`%s, %s, size %s%s\n\n", g->id, g->kernel,
               g->serial ? " (serial harness check)" : "", mode_text(g), g->size,
               g->weak ? " per worker" : "");
        printf("Provenance: host `%s`, commit `%s`, compiler `%s`, flags `%s`, MPI `%s`\n\n",
               g->host, g->commit, g->compiler, g->flags, g->mpi);
        const struct point *b = &g->pt[g->base];
        if (b->workers != 1)
            printf("No 1-worker point: speedup and efficiency are relative to %d workers.\n\n",
                   b->workers);
        printf("| workers | threads x ranks | size | reps | median (s) | min (s) | max (s) | 95%% "
               "CI of "
               "median (s) | %s | efficiency | Karp-Flatt |\n",
               g->weak ? "scaled speedup" : "speedup");
        printf("|---:|:---|---:|---:|---:|---:|---:|:---|---:|---:|---:|\n");
        for (size_t k = 0; k < g->npt; k++) {
            const struct point *p = &g->pt[k];
            printf(
                "| %d | %dx%d%s | %s | %zu | %.5g | %.5g | %.5g | %.5g .. %.5g%s | %.3f | %.3f |",
                p->workers, p->threads, p->ranks, p->oversub ? " (oversubscribed)" : "", p->size,
                p->n, p->median, p->min, p->max, p->ci_lo, p->ci_hi,
                p->ci_cov < CI_LEVEL ? " (min..max, fewer than 6 reps)" : "", p->speedup, p->eff);
            md_num(" %.3f |", p->kf);
            printf("\n");
        }
        printf("\n");
        print_fit_text(stdout, g, o, "");
        printf("\n");
    }
}

static json_t *jnum(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *group_json(const struct group *g, const struct report_opts *o)
{
    json_t *pts = json_array();
    for (size_t k = 0; k < g->npt; k++) {
        const struct point *p = &g->pt[k];
        json_t *times = json_array();
        for (size_t i = 0; i < p->n; i++)
            json_array_append_new(times, json_real(p->t[i]));
        json_array_append_new(
            pts,
            json_pack("{s:i, s:i, s:i, s:s, s:b, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, "
                      "s:o, s:o}",
                      "workers", p->workers, "threads", p->threads, "ranks", p->ranks, "size",
                      p->size, "oversubscribed", p->oversub, "reps", (json_int_t)p->n, "median_s",
                      jnum(p->median), "min_s", jnum(p->min), "max_s", jnum(p->max), "ci_lo_s",
                      jnum(p->ci_lo), "ci_hi_s", jnum(p->ci_hi), "ci_coverage", jnum(p->ci_cov),
                      "speedup", jnum(p->speedup), "efficiency", jnum(p->eff), "karp_flatt",
                      jnum(p->kf), "times_s", times));
    }
    json_t *fit = json_null(), *pred = json_array();
    if (g->fit_ok) {
        fit = json_pack("{s:s, s:o, s:o, s:o, s:o, s:I, s:I}", "model", model_name(g),
                        "serial_fraction", jnum(g->fit.f), "serial_fraction_err",
                        jnum(g->fit.f_err), "a", jnum(g->fit.a), "b", jnum(g->fit.b),
                        "observations", (json_int_t)g->fit.n, "counts", (json_int_t)g->fit.counts);
        double pc[MAX_PREDICT];
        size_t np = predict_counts(g, o, pc);
        for (size_t i = 0; i < np; i++) {
            double sp = model_speedup(g, pc[i]);
            json_array_append_new(pred, json_pack("{s:f, s:o, s:o, s:b}", "workers", pc[i],
                                                  "speedup", jnum(sp), "efficiency",
                                                  jnum(sp / (pc[i] / g->pt[g->base].workers)),
                                                  "model", 1));
        }
    }
    return json_pack("{s:i, s:s, s:s, s:b, s:s, s:{s:s, s:s, s:s, s:s, s:s}, s:O, s:I, s:i, "
                     "s:o, s:o, s:o}",
                     "group", g->id, "kernel", g->kernel, "mode", g->weak ? "weak" : "strong",
                     "serial", g->serial, "size", g->size, "key", "host", g->host, "git_commit",
                     g->commit, "compiler", g->compiler, "c_flags", g->flags, "mpi", g->mpi,
                     "provenance", g->prov, "records", (json_int_t)g->records, "base_workers",
                     g->pt[g->base].workers, "points", pts, "fit", fit, "predicted", pred);
}

/* ---- baseline ---------------------------------------------------------------------------- */

struct cmp {
    const struct group *g, *b;
    const struct point *p, *bp;
    double change_pct, p_value;
    bool exact;
    const char *verdict;
};

/* Every point present in both sets (same kernel, mode, size, threads and ranks). */
static int compare_sets(const struct set *now, const struct set *base, struct cmp **out,
                        size_t *nout)
{
    size_t n = 0, cap = 0;
    struct cmp *c = NULL;
    for (size_t i = 0; i < now->n; i++)
        for (size_t j = 0; j < base->n; j++) {
            const struct group *g = &now->g[i], *b = &base->g[j];
            if (!same_experiment(g, b))
                continue;
            for (size_t k = 0; k < g->npt; k++)
                for (size_t m = 0; m < b->npt; m++) {
                    const struct point *p = &g->pt[k], *bp = &b->pt[m];
                    if (p->threads != bp->threads || p->ranks != bp->ranks)
                        continue;
                    if (n == cap) {
                        cap = cap ? 2 * cap : 16;
                        struct cmp *nc = realloc(c, cap * sizeof *nc);
                        if (!nc) {
                            free(c);
                            return PK_ENOMEM;
                        }
                        c = nc;
                    }
                    struct cmp *x = &c[n++];
                    *x = (struct cmp){.g = g, .b = b, .p = p, .bp = bp};
                    double u;
                    if (pk_scaling_mann_whitney(p->t, p->n, bp->t, bp->n, &u, &x->p_value,
                                                &x->exact) != PK_OK) {
                        free(c);
                        return PK_ENOMEM;
                    }
                    x->change_pct = 100 * (p->median / bp->median - 1);
                    x->verdict = x->p_value >= ALPHA      ? "no significant change"
                                 : p->median > bp->median ? "slower"
                                                          : "faster";
                }
        }
    *out = c;
    *nout = n;
    return PK_OK;
}

/* Whether samples of n and m could ever give p < ALPHA: the smallest two-sided p of the exact
 * test is 2 / C(n + m, n) (complete separation). */
static bool detectable(size_t n, size_t m)
{
    double log_c = lgamma((double)(n + m + 1)) - lgamma((double)(n + 1)) - lgamma((double)(m + 1));
    return log(2.0) - log_c < log(ALPHA);
}

static void print_comparisons_text(const struct cmp *c, size_t n, bool markdown)
{
    if (markdown)
        printf("### Baseline comparison (Mann-Whitney, alpha = %.2f)\n\n| group | baseline "
               "group | workers | threads x ranks | baseline median (s) | median (s) | change "
               "| p-value | verdict |\n|---:|---:|---:|:---|---:|---:|---:|---:|:---|\n",
               ALPHA);
    else
        printf("\n# baseline comparison (Mann-Whitney rank test, two-sided, alpha = %.2f)\n"
               "# %5s %5s %7s %-7s %13s %11s %9s %8s  %s\n",
               ALPHA, "group", "base", "workers", "txr", "base_median_s", "median_s", "change",
               "p_value", "verdict");
    for (size_t i = 0; i < n; i++) {
        const struct cmp *x = &c[i];
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
                   x->p_value >= ALPHA && !detectable(x->p->n, x->bp->n)
                       ? " (too few repetitions to ever reach alpha)"
                       : "");
    }
    /* For each pair of groups with a slower point: what differs in provenance. */
    for (size_t i = 0; i < n; i++) {
        bool first = true;
        for (size_t k = 0; k < i && first; k++)
            first = !(c[k].g == c[i].g && c[k].b == c[i].b && strcmp(c[k].verdict, "slower") == 0);
        if (!first || strcmp(c[i].verdict, "slower") != 0)
            continue;
        printf("%sgroup %d is slower than baseline group B%d; provenance that differs:\n",
               markdown ? "\n" : "# ", c[i].g->id, c[i].b->id);
        if (print_prov_diff(stdout, markdown ? "- " : "#   ", c[i].b->prov, c[i].g->prov) == 0)
            printf("%snothing recorded differs (same build and machine facts)\n",
                   markdown ? "- " : "#   ");
    }
}

static void print_comparisons_csv(const struct cmp *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct cmp *x = &c[i];
        printf("compare,");
        csv_group_cols(x->g);
        csv_point_cols(x->p);
        csv_num(x->p->median);
        printf(",,,,,,,,,,,,");
        csv_num(x->bp->median);
        csv_num(x->change_pct);
        csv_num(x->p_value);
        printf(",%s,", x->verdict);
        if (strcmp(x->verdict, "slower") == 0) {
            char *buf = NULL;
            size_t len = 0;
            FILE *f = open_memstream(&buf, &len);
            if (f) {
                print_prov_diff(f, "", x->b->prov, x->g->prov);
                fclose(f);
                for (char *q = buf; q && *q; q++)
                    if (*q == '\n')
                        *q = q[1] ? ';' : 0;
                csv_field(buf ? buf : "");
                free(buf);
            }
        }
        printf("\n");
    }
}

static json_t *comparisons_json(const struct cmp *c, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        const struct cmp *x = &c[i];
        json_t *diff = json_object();
        for (size_t k = 0; k < sizeof prov_fields / sizeof prov_fields[0]; k++) {
            char *va = fact_text(x->b->prov, prov_fields[k][0]);
            char *vb = fact_text(x->g->prov, prov_fields[k][0]);
            if (va && vb && strcmp(va, vb) != 0)
                json_object_set_new(diff, prov_fields[k][1],
                                    json_pack("{s:s, s:s}", "baseline", va, "now", vb));
            free(va);
            free(vb);
        }
        json_array_append_new(
            a, json_pack("{s:i, s:i, s:i, s:i, s:i, s:f, s:f, s:o, s:f, s:b, s:s, s:o}", "group",
                         x->g->id, "baseline_group", x->b->id, "workers", x->p->workers, "threads",
                         x->p->threads, "ranks", x->p->ranks, "baseline_median_s", x->bp->median,
                         "median_s", x->p->median, "change_pct", jnum(x->change_pct), "p_value",
                         x->p_value, "exact", x->exact, "verdict", x->verdict, "provenance_diff",
                         diff));
    }
    return a;
}

/* ---- plots ---------------------------------------------------------------------------------- */

/* Keeps [A-Za-z0-9._-], maps the rest to '-'. */
static void slug_part(char *dst, size_t len, const char *src)
{
    size_t n = strlen(dst);
    for (; *src && n + 1 < len; src++) {
        char ch = *src;
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
        dst[n++] = ok ? ch : '-';
    }
    dst[n] = 0;
}

static void make_slugs(struct set *s)
{
    for (size_t i = 0; i < s->n; i++) {
        struct group *g = &s->g[i];
        g->slug[0] = 0;
        slug_part(g->slug, 64, g->kernel);
        slug_part(g->slug, sizeof g->slug, g->weak ? "-weak" : "-strong");
        slug_part(g->slug, sizeof g->slug, g->serial ? "-serial-n" : "-n");
        slug_part(g->slug, 100, g->size);
        int dup = 1;
        for (size_t j = 0; j < i; j++)
            dup += strncmp(s->g[j].slug, g->slug, strlen(g->slug)) == 0 &&
                   (s->g[j].slug[strlen(g->slug)] == 0 || s->g[j].slug[strlen(g->slug)] == '-');
        if (dup > 1) {
            char suffix[16];
            snprintf(suffix, sizeof suffix, "-%d", dup);
            slug_part(g->slug, sizeof g->slug, suffix);
        }
    }
}

/* Text for a gnuplot double-quoted string: quotes and backslashes become '_'. */
static void gp_text(FILE *f, const char *s)
{
    for (; *s; s++)
        fputc(*s == '"' || *s == '\\' || *s == '\n' ? '_' : *s, f);
}

/* Whether the counts double (p0, 2 p0, 4 p0, ...): then the x axes are log2. */
static bool counts_double(const struct group *g)
{
    if (g->npt < 3)
        return g->npt == 2 && g->pt[1].workers == 2 * g->pt[0].workers;
    for (size_t k = 0; k < g->npt; k++) {
        double r = (double)g->pt[k].workers / g->pt[0].workers;
        if (r != ldexp(1, (int)lround(log2(r))))
            return false;
    }
    return true;
}

static int write_text(const char *path, char *text, struct pk_err *err)
{
    size_t len = strlen(text);
    if (len && text[len - 1] == '\n')
        text[len - 1] = 0; /* pk_write_lines_atomic ends every line with one */
    char *lines[1] = {text};
    return pk_write_lines_atomic(path, lines, 1, err);
}

static const char *const plot_names[] = {"time", "speedup", "efficiency"};
static const char *const plot_exts[] = {"png", "svg"};

/* Writes DIR/SLUG.dat and DIR/SLUG.gp. The script writes OUT.time.png etc.; run as parkit runs
 * it, OUT is a temporary prefix; run by hand it is SLUG-. */
static int write_plot_inputs(const char *dir, const struct group *g, const struct report_opts *o,
                             struct pk_err *err)
{
    char *dat = NULL, *gp = NULL;
    size_t dlen = 0, glen = 0;
    FILE *d = open_memstream(&dat, &dlen);
    FILE *f = d ? open_memstream(&gp, &glen) : NULL;
    if (!f) {
        if (d)
            fclose(d);
        free(dat);
        return pk_fail(err, PK_ENOMEM, "out of memory");
    }
    fprintf(d, "# parkit report group %d: %s, %s, size %s\n", g->id, g->kernel, mode_text(g),
            g->size);
    fprintf(d, "# workers threads ranks median_s min_s max_s ci_lo_s ci_hi_s speedup speedup_lo "
               "speedup_hi efficiency oversubscribed\n");
    for (size_t k = 0; k < g->npt; k++) {
        const struct point *p = &g->pt[k];
        fprintf(d, "%d %d %d %.9g %.9g %.9g %.9g %.9g %.9g %.9g %.9g %.9g %d\n", p->workers,
                p->threads, p->ranks, p->median, p->min, p->max, p->ci_lo, p->ci_hi, p->speedup,
                p->speedup_lo, p->speedup_hi, p->eff, p->oversub ? 1 : 0);
    }
    fclose(d);

    bool logx = counts_double(g);
    double p0 = g->pt[g->base].workers, pmax = g->pt[g->npt - 1].workers, pmod = pmax;
    double pc[MAX_PREDICT];
    size_t np = g->fit_ok ? predict_counts(g, o, pc) : 0;
    for (size_t i = 0; i < np; i++)
        pmod = pc[i] > pmod ? pc[i] : pmod;
    fprintf(f, "# parkit report: group %d, %s, %s, size %s\n", g->id, g->kernel, mode_text(g),
            g->size);
    fprintf(f, "# Redraw with `gnuplot %s.gp` in this directory; edit freely.\n", g->slug);
    fprintf(f, "if (!exists(\"out\")) out = \"%s-\"\n", g->slug);
    fprintf(f, "dat = \"%s.dat\"\n", g->slug);
    fprintf(f, "p0 = %g\n", p0);
    fprintf(f, "label = \"%s%s, %s, size %s%s\\nhost ", g->kernel, g->serial ? " (serial)" : "",
            mode_text(g), g->size, g->weak ? " per worker" : "");
    gp_text(f, g->host);
    fprintf(f, ", commit ");
    gp_text(f, g->commit);
    fprintf(f, ", ");
    gp_text(f, g->compiler);
    fprintf(f, "\"\n");
    if (g->fit_ok) {
        if (g->weak)
            fprintf(f, "f = %.9g\nmodel(p) = f + (1 - f) * p / p0\n", g->fit.f);
        else
            fprintf(f, "a = %.9g\nb = %.9g\nmodel(p) = (a + b / p0) / (a + b / p)\n", g->fit.a,
                    g->fit.b);
    }
    fprintf(f, "set grid\nset key top left\nset xlabel \"workers (threads x ranks)\"\n");
    if (logx)
        fprintf(f, "set logscale x 2\n");
    fprintf(f, "set format x \"%%g\"\n");
    double xlo = logx ? p0 / 1.3 : (p0 > 1 ? p0 - 1 : 0);
    fprintf(f, "do for [fmt in \"png svg\"] {\n");
    fprintf(f, "  if (fmt eq \"png\") { set terminal pngcairo noenhanced size 900,600 } "
               "else { set terminal svg noenhanced size 900,600 }\n");
    /* time */
    fprintf(f, "  set output out . \"time.\" . fmt\n");
    fprintf(f, "  set title \"Time: \" . label\n");
    fprintf(f, "  set ylabel \"time per run (s), median with min..max\"\n");
    fprintf(f, "  set xrange [%g:%g]\n", xlo, logx ? pmax * 1.3 : pmax + 1);
    if (logx && !g->weak)
        fprintf(f, "  set logscale y\n");
    fprintf(f, "  set yrange [*:*]\n");
    /* oversubscribed points (more threads than cores) are circled in red on every plot */
    fprintf(f, "  plot dat using 1:4:5:6 with yerrorlines lw 1.5 pt 7 title \"median (bars: "
               "min..max)\", dat using 1:($13 > 0 ? $4 : 1/0) with points pt 6 ps 2.5 lw 1.5 lc "
               "rgb \"red\" title \"oversubscribed\"\n");
    fprintf(f, "  unset logscale y\n");
    /* speedup */
    fprintf(f, "  set output out . \"speedup.\" . fmt\n");
    fprintf(f, "  set title \"%s: \" . label\n", g->weak ? "Scaled speedup" : "Speedup");
    fprintf(f, "  set ylabel \"%s\"\n",
            g->weak ? "scaled speedup p T(base) / T(p) (ratio; bars: 95% CI)"
                    : "speedup T(base) / T(p) (ratio; bars: 95% CI)");
    fprintf(f, "  set xrange [%g:%g]\n", xlo, logx ? pmod * 1.3 : pmod + 1);
    /* log-log where the counts double: the ideal line is then straight */
    fprintf(f, logx ? "  set logscale y 2\n  set yrange [*:*]\n" : "  set yrange [0:*]\n");
    fprintf(f, "  plot x / p0 with lines dt 2 lc rgb \"gray40\" title \"ideal\", "
               "dat using 1:9:10:11 with yerrorlines lw 1.5 pt 7 title \"measured\", "
               "dat using 1:($13 > 0 ? $9 : 1/0) with points pt 6 ps 2.5 lw 1.5 lc rgb \"red\" "
               "title \"oversubscribed\"");
    if (g->fit_ok)
        fprintf(f,
                ", model(x) with lines dt 3 lw 2 title sprintf(\"%s fit, f = %%.4f (model)\", "
                "%.9g)",
                model_name(g), tidy(g->fit.f));
    fprintf(f, "\n  unset logscale y\n");
    /* efficiency */
    fprintf(f, "  set output out . \"efficiency.\" . fmt\n");
    fprintf(f, "  set title \"Parallel efficiency: \" . label\n");
    fprintf(f, "  set ylabel \"efficiency %s (fraction of ideal)\"\n",
            g->weak ? "T(base) / T(p)" : "speedup / p");
    fprintf(f, "  set xrange [%g:%g]\n", xlo, logx ? pmax * 1.3 : pmax + 1);
    fprintf(f, "  set yrange [0:1.2]\n");
    fprintf(f, "  plot 1 with lines dt 2 lc rgb \"gray40\" title \"ideal\", "
               "dat using 1:12 with linespoints lw 1.5 pt 7 title \"measured\", "
               "dat using 1:($13 > 0 ? $12 : 1/0) with points pt 6 ps 2.5 lw 1.5 lc rgb \"red\" "
               "title \"oversubscribed\"\n");
    fprintf(f, "  set output\n}\n");
    fclose(f);

    char path[4096];
    snprintf(path, sizeof path, "%s/%s.dat", dir, g->slug);
    int rc = write_text(path, dat, err);
    if (rc == PK_OK) {
        snprintf(path, sizeof path, "%s/%s.gp", dir, g->slug);
        rc = write_text(path, gp, err);
    }
    free(dat);
    free(gp);
    return rc;
}

/* Runs `gnuplot -e "out='PREFIX'" SLUG.gp` in dir; stdout goes to stderr so that ours carries
 * results only. Returns the exit status, 127 when gnuplot cannot be started. */
static int run_gnuplot(const char *dir, const char *slug, const char *prefix)
{
    char script[256], expr[512];
    snprintf(script, sizeof script, "%s.gp", slug);
    snprintf(expr, sizeof expr, "out='%s'", prefix);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        return 127;
    if (pid == 0) {
        if (chdir(dir) != 0)
            _exit(126);
        dup2(STDERR_FILENO, STDOUT_FILENO);
        execlp("gnuplot", "gnuplot", "-e", expr, script, (char *)NULL);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return 127;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* Draws every group's six plots into dir. Returns an exit status. */
static int write_plots(const struct set *s, const struct report_opts *o)
{
    const char *dir = o->plots;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        pk_error(NULL, false, "report", "cannot create --plots directory '%s': %s", dir,
                 strerror(errno));
        return PK_EXIT_RUNTIME;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        pk_error(NULL, false, "report", "--plots '%s' is not a directory", dir);
        return PK_EXIT_RUNTIME;
    }
    int status = PK_EXIT_OK;
    for (size_t gi = 0; gi < s->n && status == PK_EXIT_OK; gi++) {
        const struct group *g = &s->g[gi];
        struct pk_err err = {0};
        if (write_plot_inputs(dir, g, o, &err) != PK_OK) {
            pk_error(NULL, false, "report", "%s", err.msg);
            return PK_EXIT_RUNTIME;
        }
        char prefix[200], tmp[4096], final[4096];
        snprintf(prefix, sizeof prefix, ".tmp.%ld.%s-", (long)getpid(), g->slug);
        int rc = run_gnuplot(dir, g->slug, prefix);
        bool complete = rc == 0;
        for (size_t i = 0; i < 3 && complete; i++)
            for (size_t e = 0; e < 2 && complete; e++) {
                snprintf(tmp, sizeof tmp, "%s/%s%s.%s", dir, prefix, plot_names[i], plot_exts[e]);
                complete = stat(tmp, &st) == 0 && st.st_size > 0;
            }
        for (size_t i = 0; i < 3; i++)
            for (size_t e = 0; e < 2; e++) {
                snprintf(tmp, sizeof tmp, "%s/%s%s.%s", dir, prefix, plot_names[i], plot_exts[e]);
                snprintf(final, sizeof final, "%s/%s-%s.%s", dir, g->slug, plot_names[i],
                         plot_exts[e]);
                if (complete && rename(tmp, final) != 0) {
                    pk_error(NULL, false, "report", "cannot rename to '%s': %s", final,
                             strerror(errno));
                    complete = false;
                    status = PK_EXIT_RUNTIME;
                }
                if (!complete)
                    unlink(tmp);
            }
        if (rc == 127) {
            pk_error(NULL, false, "report",
                     "cannot run gnuplot (is it installed?): no plots drawn; the scripts and data "
                     "are in '%s' (%s.gp)",
                     dir, g->slug);
            status = PK_EXIT_RUNTIME;
        } else if (!complete && status == PK_EXIT_OK) {
            pk_error(NULL, false, "report",
                     "gnuplot %s on '%s/%s.gp' (exit %d): no plots of it left",
                     rc == 0 ? "did not write all six plots" : "failed", dir, g->slug, rc);
            status = PK_EXIT_RUNTIME;
        } else if (complete) {
            fprintf(
                stderr,
                "parkit report: plots of group %d in %s/%s-{time,speedup,efficiency}.{png,svg}\n",
                g->id, dir, g->slug);
        }
    }
    return status;
}

/* ---- command ----------------------------------------------------------------------------------
 */

static int parse_predict(const char *text, struct report_opts *o, struct pk_err *err)
{
    o->npredict = 0;
    const char *p = text;
    while (*p) {
        size_t n = strcspn(p, ",");
        char item[32];
        if (n == 0 || n >= sizeof item || o->npredict == MAX_PREDICT)
            return pk_fail(err, PK_EINVAL,
                           "--predict expects up to %d worker counts like 8,16,32, got '%s'",
                           MAX_PREDICT, text);
        memcpy(item, p, n);
        item[n] = 0;
        uint64_t v;
        if (pk_parse_count("--predict", item, 1, 1 << 24, &v, err) != PK_OK)
            return PK_EINVAL;
        o->predict[o->npredict++] = (double)v;
        p += n + (p[n] == ',');
    }
    if (o->npredict == 0)
        return pk_fail(err, PK_EINVAL, "--predict expects worker counts like 8,16,32");
    return PK_OK;
}

static int parse(int argc, char **argv, const struct pk_comm *c, struct report_opts *o)
{
    static const struct option longopts[] = {
        {"baseline", required_argument, NULL, 'b'}, {"format", required_argument, NULL, 'F'},
        {"plots", required_argument, NULL, 'P'},    {"predict", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, PK_OPT_HELP},   {NULL, 0, NULL, 0}};
    struct pk_common_opts common;
    pk_common_defaults(&common);
    struct pk_err err = {0};
    opterr = 0;
    optind = 1;
    int code;
    while ((code = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        int rc = PK_OK;
        switch (code) {
        case 'b':
            o->baseline[o->nbaseline++] = optarg;
            break;
        case 'F':
            if (strcmp(optarg, "table") == 0)
                o->format = FMT_TABLE;
            else if (strcmp(optarg, "csv") == 0)
                o->format = FMT_CSV;
            else if (strcmp(optarg, "markdown") == 0 || strcmp(optarg, "md") == 0)
                o->format = FMT_MARKDOWN;
            else if (strcmp(optarg, "json") == 0)
                o->format = FMT_JSON;
            else
                rc = pk_fail(&err, PK_EINVAL,
                             "--format expects table, csv, markdown or json, got '%s'", optarg);
            break;
        case 'P':
            o->plots = optarg;
            if (!*optarg)
                rc = pk_fail(&err, PK_EINVAL, "--plots expects a directory");
            break;
        case 'p':
            rc = parse_predict(optarg, o, &err);
            break;
        case PK_OPT_HELP:
            printf("%s%s", usage, pk_exit_help);
            return -1;
        default: {
            int handled = pk_cli_option(c, "report", usage, code, argv, &common);
            if (handled == PK_OPT_HELP_SHOWN)
                return -1;
            return PK_EXIT_USAGE;
        }
        }
        if (rc != PK_OK) {
            pk_error(c, false, "report", "%s", err.msg);
            return PK_EXIT_USAGE;
        }
    }
    o->files = argv + optind;
    o->nfiles = optind < argc ? (size_t)(argc - optind) : 0;
    if (o->nfiles == 0) {
        pk_error(c, false, "report", "give at least one record file (see parkit report --help)");
        return PK_EXIT_USAGE;
    }
    return PK_EXIT_OK;
}

int pk_cmd_report(int argc, char **argv, const struct pk_comm *c)
{
    if (c->nranks > 1 && c->rank != 0) /* under mpirun by mistake: rank 0 reports alone */
        return PK_EXIT_OK;
    struct report_opts o = {.format = FMT_TABLE};
    o.baseline = calloc((size_t)argc + 1, sizeof *o.baseline);
    if (!o.baseline) {
        pk_error(c, false, "report", "out of memory");
        return PK_EXIT_RUNTIME;
    }
    int status = parse(argc, argv, c, &o);
    if (status != PK_EXIT_OK) {
        free(o.baseline);
        return status < 0 ? PK_EXIT_OK : status;
    }
    struct set now = {0}, base = {0};
    for (size_t i = 0; i < o.nfiles && status == PK_EXIT_OK; i++)
        status = load_file(o.files[i], &now);
    for (size_t i = 0; i < o.nbaseline && status == PK_EXIT_OK; i++)
        status = load_file(o.baseline[i], &base);
    if (status == PK_EXIT_OK && (analyse(&now) != PK_OK || analyse(&base) != PK_OK)) {
        pk_error(c, false, "report", "out of memory");
        status = PK_EXIT_RUNTIME;
    }
    struct cmp *cmp = NULL;
    size_t ncmp = 0;
    if (status == PK_EXIT_OK && o.nbaseline && compare_sets(&now, &base, &cmp, &ncmp) != PK_OK) {
        pk_error(c, false, "report", "out of memory");
        status = PK_EXIT_RUNTIME;
    }
    if (status != PK_EXIT_OK)
        goto out;
    make_slugs(&now);
    switch (o.format) {
    case FMT_TABLE:
        print_table(&now, &o);
        if (o.nbaseline) {
            printf("\n# baseline groups:\n");
            for (size_t i = 0; i < base.n; i++) {
                base.g[i].id = (int)i + 1;
                printf("# B%d: %s, %s, size %s; host %s; commit %s; compiler %s; flags '%s'; "
                       "MPI %s\n",
                       base.g[i].id, base.g[i].kernel, mode_text(&base.g[i]), base.g[i].size,
                       base.g[i].host, base.g[i].commit, base.g[i].compiler, base.g[i].flags,
                       base.g[i].mpi);
            }
            print_comparisons_text(cmp, ncmp, false);
        }
        break;
    case FMT_MARKDOWN:
        print_markdown(&now, &o);
        if (o.nbaseline)
            print_comparisons_text(cmp, ncmp, true);
        break;
    case FMT_CSV:
        print_csv(&now, &o);
        print_comparisons_csv(cmp, ncmp);
        break;
    case FMT_JSON: {
        json_t *groups = json_array(), *bgroups = json_array();
        for (size_t i = 0; i < now.n; i++)
            json_array_append_new(groups, group_json(&now.g[i], &o));
        for (size_t i = 0; i < base.n; i++)
            json_array_append_new(bgroups, group_json(&base.g[i], &o));
        json_t *doc = json_pack("{s:s, s:o, s:o, s:o, s:I, s:I}", "schema", "parkit.report/1",
                                "groups", groups, "baseline_groups", bgroups, "comparisons",
                                comparisons_json(cmp, ncmp), "records",
                                (json_int_t)(now.records + base.records), "bad_records",
                                (json_int_t)(now.bad + base.bad));
        json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
        putchar('\n');
        json_decref(doc);
        break;
    }
    }
    fflush(stdout);
    if (now.n == 0)
        pk_error(c, false, "report", "no good records to report");
    if (o.plots && now.n)
        status = write_plots(&now, &o);
    if (now.bad + base.bad) {
        pk_error(c, false, "report", "%zu bad record%s skipped (named above)", now.bad + base.bad,
                 now.bad + base.bad == 1 ? "" : "s");
        status = PK_EXIT_RUNTIME;
    } else if (now.n == 0) {
        status = PK_EXIT_RUNTIME;
    }
out:
    free(cmp);
    free_set(&now);
    free_set(&base);
    free(o.baseline);
    return status;
}
