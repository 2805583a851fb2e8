/* SPDX-License-Identifier: MIT */
/* parkit report, loading: JSON Lines records -> groups of points. A record is checked whole
 * before any of it is used, so a bad line is named (FILE:LINE: reason) and skipped, never
 * half-used. Records of different hosts, commits, compilers, flags or MPI libraries never share
 * a group. */
#include "commands.h"
#include "parkit/lines.h"
#include "report.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One parsed record; the strings point into the JSON (valid while it lives). */
struct rec {
    char kernel[96], size[96], psize[96]; /* psize: this point's size (weak: grows with p) */
    double size_num;
    bool weak, serial, oversub;
    int threads, ranks;
    const json_t *reps, *prov, *scale;
    const char *host, *commit, *compiler, *flags, *mpi;
};

static const char *const known_commands[] = {
    "sumsq", "factsum",  "fib",    "transform", "api", "fetch",
    "files", "pipeline", "resize", "sleep",     "run"}; /* run: scale run's, any program */

void pk__report_set_free(struct report_set *s)
{
    for (size_t i = 0; i < s->n; i++) {
        struct report_group *g = &s->g[i];
        free(g->kernel);
        free(g->size);
        free(g->host);
        free(g->commit);
        free(g->compiler);
        free(g->flags);
        free(g->mpi);
        json_decref(g->prov);
        json_decref(g->scale);
        for (size_t k = 0; k < g->npt; k++) {
            free(g->pt[k].t);
            json_decref(g->pt[k].prov);
            json_decref(g->pt[k].noise);
        }
        free(g->pt);
    }
    free(s->g);
    *s = (struct report_set){0};
}

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

/* The fields every record has: schema, verification, times and provenance. */
static bool parse_common(const json_t *j, struct rec *r, char *why, size_t whylen)
{
    if (!json_is_object(j))
        return BAD("not a JSON object");
    const char *schema = json_string_value(json_object_get(j, "schema"));
    if (!schema || strcmp(schema, "parkit.record/1") != 0)
        return BAD("schema is not \"parkit.record/1\"");
    if (!json_string_value(json_object_get(j, "command")))
        return BAD("\"command\" is missing or not a string");
    if (!json_is_object(json_object_get(j, "params")))
        return BAD("\"params\" is missing or not an object");
    const json_t *verified = json_object_get(j, "verified");
    if (verified && !json_is_boolean(verified) && !json_is_null(verified))
        return BAD("\"verified\" is not a boolean");
    if (json_is_false(verified))
        return BAD("the run failed verification: its times are not used");
    r->reps = json_object_get(json_object_get(j, "timing"), "reps_s");
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
    r->host = pk__report_str_or(json_object_get(r->prov, "machine"), "host", "?");
    r->commit = pk__report_str_or(r->prov, "git_commit", "?");
    r->compiler = pk__report_str_or(r->prov, "compiler", "?");
    r->flags = pk__report_str_or(r->prov, "c_flags", "?");
    r->mpi = pk__report_str_or(r->prov, "mpi", "?");
    return true;
}

/* A record of `parkit scale`: kernel, mode, counts and sizes come from its "scale" block. */
static bool parse_scale(const json_t *scale, const json_t *machine, struct rec *r, char *why,
                        size_t whylen)
{
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
    return true;
}

/* A record of a single run: a strong-scaling point with workers = threads x ranks. */
static bool parse_params(const json_t *params, const char *command, const json_t *machine,
                         struct rec *r, char *why, size_t whylen)
{
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
    memcpy(r->psize, r->size, sizeof r->psize);
    return true;
}

/* Whether the kernel is COMMAND or COMMAND:VARIANT of a command parkit has. */
static bool known_kernel(const char *kernel)
{
    size_t cmdlen = strcspn(kernel, ":");
    for (size_t k = 0; k < sizeof known_commands / sizeof known_commands[0]; k++)
        if (strlen(known_commands[k]) == cmdlen && strncmp(known_commands[k], kernel, cmdlen) == 0)
            return true;
    return false;
}

/* Checks one record and extracts what grouping needs; on failure why says what is wrong. */
static bool parse_record(const json_t *j, struct rec *r, char *why, size_t whylen)
{
    *r = (struct rec){0};
    if (!parse_common(j, r, why, whylen))
        return false;
    const json_t *machine = json_object_get(r->prov, "machine");
    const json_t *scale = json_object_get(j, "scale");
    r->scale = scale;
    bool ok = scale ? parse_scale(scale, machine, r, why, whylen)
                    : parse_params(json_object_get(j, "params"),
                                   json_string_value(json_object_get(j, "command")), machine, r,
                                   why, whylen);
    if (!ok)
        return false;
    if (!known_kernel(r->kernel))
        return BAD("unknown kernel '%s'", r->kernel);
    return true;
}

/* Grows *arr (of elem-byte entries, capacity *cap) to hold at least need: doubling, 8 at
 * first. Returns a pk_status; *arr is unchanged on failure. */
static int grow(void *arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return PK_OK;
    size_t ncap = *cap ? 2 * *cap : 8;
    ncap = ncap < need ? 2 * need : ncap;
    void *p = realloc(*(void **)arr, ncap * elem);
    if (!p)
        return PK_ENOMEM;
    *(void **)arr = p;
    *cap = ncap;
    return PK_OK;
}

static char *dup_or_null(const char *s, bool *oom)
{
    char *d = strdup(s);
    if (!d)
        *oom = true;
    return d;
}

/* The record's group, created when it is the first of its kind; NULL when out of memory. */
static struct report_group *group_of(struct report_set *s, const struct rec *r)
{
    for (size_t i = 0; i < s->n; i++) {
        struct report_group *c = &s->g[i];
        if (c->weak == r->weak && c->serial == r->serial && strcmp(c->kernel, r->kernel) == 0 &&
            strcmp(c->size, r->size) == 0 && strcmp(c->host, r->host) == 0 &&
            strcmp(c->commit, r->commit) == 0 && strcmp(c->compiler, r->compiler) == 0 &&
            strcmp(c->flags, r->flags) == 0 && strcmp(c->mpi, r->mpi) == 0)
            return c;
    }
    if (grow(&s->g, &s->cap, s->n + 1, sizeof *s->g) != PK_OK)
        return NULL;
    struct report_group *g = &s->g[s->n];
    *g = (struct report_group){.weak = r->weak, .serial = r->serial, .size_num = r->size_num};
    bool oom = false;
    g->kernel = dup_or_null(r->kernel, &oom);
    g->size = dup_or_null(r->size, &oom);
    g->host = dup_or_null(r->host, &oom);
    g->commit = dup_or_null(r->commit, &oom);
    g->compiler = dup_or_null(r->compiler, &oom);
    g->flags = dup_or_null(r->flags, &oom);
    g->mpi = dup_or_null(r->mpi, &oom);
    g->prov = json_deep_copy(r->prov);
    g->scale = r->scale ? json_incref((json_t *)r->scale) : NULL;
    g->order = s->n;
    s->n++; /* counted at once, so pk__report_set_free releases whatever was allocated */
    return oom || !g->prov ? NULL : g;
}

/* The record's point in g, created when new; NULL when out of memory. */
static struct report_point *point_of(struct report_group *g, const struct rec *r)
{
    for (size_t k = 0; k < g->npt; k++)
        if (g->pt[k].threads == r->threads && g->pt[k].ranks == r->ranks)
            return &g->pt[k];
    if (grow(&g->pt, &g->cap, g->npt + 1, sizeof *g->pt) != PK_OK)
        return NULL;
    struct report_point *p = &g->pt[g->npt++];
    *p = (struct report_point){.threads = r->threads,
                               .ranks = r->ranks,
                               .workers = r->threads * r->ranks,
                               .prov = json_incref((json_t *)r->prov),
                               .noise = json_array()};
    memcpy(p->size, r->psize, sizeof p->size);
    return p;
}

/* Adds the reasons scale run gave for the record's noise to the point's, each once. */
static void add_noise(struct report_point *p, const json_t *scale)
{
    const json_t *reasons = json_object_get(json_object_get(scale, "noise"), "reasons"), *v, *w;
    size_t i, k;
    json_array_foreach(reasons, i, v)
    {
        bool seen = !json_is_string(v);
        json_array_foreach(p->noise, k, w) seen = seen || json_equal(v, w);
        if (!seen)
            json_array_append(p->noise, (json_t *)v);
    }
}

/* Adds the record's times to its group and point, creating either as needed. */
static int add_record(struct report_set *s, const struct rec *r)
{
    struct report_group *g = group_of(s, r);
    struct report_point *p = g ? point_of(g, r) : NULL;
    if (!p || grow(&p->t, &p->cap, p->n + json_array_size(r->reps), sizeof *p->t) != PK_OK)
        return PK_ENOMEM;
    p->oversub = p->oversub || r->oversub;
    add_noise(p, r->scale);
    size_t i;
    json_t *v;
    json_array_foreach(r->reps, i, v) p->t[p->n++] = json_number_value(v);
    g->records++;
    return PK_OK;
}

/* One non-blank line: a good record joins s, a bad one is named and counted. Returns an exit
 * status (PK_EXIT_RUNTIME when out of memory). */
static int load_line(const char *path, size_t lineno, const char *line, size_t len,
                     struct report_set *s)
{
    json_error_t jerr;
    json_t *j = json_loadb(line, len, 0, &jerr);
    char why[256];
    struct rec r;
    int status = PK_EXIT_OK;
    if (!j)
        snprintf(why, sizeof why, "%s JSON (%s at column %d)",
                 (size_t)jerr.position >= len ? "truncated" : "invalid", jerr.text, jerr.column);
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
    return status;
}

int pk__report_load_file(const char *path, struct report_set *s)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        pk_error(NULL, false, "report", "cannot open '%s': %s", path, strerror(errno));
        return PK_EXIT_USAGE;
    }
    char *line = NULL;
    size_t cap = 0, lineno = 0, lines = 0;
    ssize_t len = 0;
    int status = PK_EXIT_OK;
    while (status == PK_EXIT_OK && (len = pk_line_read(f, &line, &cap, PK_LINE_MAX)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = 0;
        if (line[strspn(line, " \t")] == 0)
            continue;
        lines++;
        status = load_line(path, lineno, line, (size_t)len, s);
    }
    bool read_error = len == PK_LINE_ERROR;
    free(line);
    fclose(f);
    if (status != PK_EXIT_OK)
        return status;
    if (len == PK_LINE_TOO_LONG) { /* a record is one line: this is no record file */
        pk_error(NULL, false, "report", "%s:%zu: line longer than %u MiB", path, lineno + 1,
                 PK_LINE_MAX >> 20);
        return PK_EXIT_USAGE;
    }
    if (len == PK_LINE_NOMEM) {
        pk_error(NULL, false, "report", "out of memory reading '%s'", path);
        return PK_EXIT_RUNTIME;
    }
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
