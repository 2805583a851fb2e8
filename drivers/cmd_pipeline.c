/* SPDX-License-Identifier: MIT */
/* parkit pipeline: the tutorials' assembly line (prepare 0.3 s, assemble 0.4 s, inspect 0.2 s
 * per item, bounded queues of 3), generalised to any stages, on the io/ pipeline. Work is
 * simulated waiting (sleep), like the tutorial's; the point is the queues and the threads.
 *
 * Every item carries its id and one mark per stage; the last stage checks that each item came
 * through every stage exactly once, and the totals are checked against the closed form.
 * Ctrl-C: the first stops the line (queued items are dropped, a stage call in progress ends
 * within 10 ms: common/interrupt.h), prints and records what finished, exits 1. */
#include "commands.h"
#include "emit.h"
#include "interrupt.h"
#include "opt.h"
#include "parkit/pipeline.h"
#include "record.h"
#include "sysinfo.h"

#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_STAGES 16

static const char description[] =
    "A multi-stage assembly line on pthreads with bounded queues between stages (the\n"
    "tutorial's queue.Queue producer/consumer line, without sentinels). Each stage simulates\n"
    "a wait of its seconds per item.\n"
    "\n"
    "Prints per stage: items, busy and blocked time, utilisation (busy / (workers x wall)) and\n"
    "the highest queue occupancy; the bottleneck (the stage with the lowest workers/seconds),\n"
    "and the measured throughput against that bound. Verified: every item went through every\n"
    "stage exactly once (ids and per-stage marks), and the number and sum of ids are exact.\n"
    "Ctrl-C stops the line and reports what finished (exit 1); a second Ctrl-C exits at once.\n"
    "One timed run on one process, its workers the stages' own threads: the shared options\n"
    "for thread counts, repetitions, warm-up and verification do not apply.\n";

struct stage_spec {
    char name[32];
    double seconds;
    int workers;
};

struct item {
    uint64_t id;
    uint32_t marks; /* bit s: stage s has handled it */
};

/* Shared by all workers of the line. next_id and the sink's tallies are atomics: stage
 * functions run concurrently on many threads. */
struct line {
    const struct stage_spec *spec;
    size_t nstages;
    uint64_t items;
    _Atomic uint64_t next_id;
    _Atomic uint64_t done, id_sum, bad_marks;
};

struct stage_ctx {
    struct line *line;
    size_t s;
};

/* Called by any worker of any stage, no lock held (see pk_stage_fn). */
static int stage_fn(void *ctx, void *in, void **out, struct pk_err *err)
{
    struct stage_ctx *sc = ctx;
    struct line *l = sc->line;
    struct item *it = in;
    if (sc->s == 0) {
        uint64_t id = atomic_fetch_add(&l->next_id, 1) + 1;
        if (id > l->items)
            return PK_ECLOSED; /* end of the stream */
        it = malloc(sizeof *it);
        if (!it)
            return pk_fail(err, PK_ENOMEM, "out of memory");
        *it = (struct item){.id = id, .marks = 0};
    }
    if (pk_sleep_interruptible(l->spec[sc->s].seconds) != PK_OK) {
        free(it);
        /* not PK_ECLOSED: from the source that would mean the end of the stream, and a line
         * whose later stages were idle would finish "complete" with items missing */
        return pk_fail(err, PK_ECANCELED, "interrupted");
    }
    it->marks |= UINT32_C(1) << sc->s;
    if (sc->s + 1 < l->nstages) {
        *out = it;
        return PK_OK;
    }
    /* the last stage: tally and drop */
    if (it->marks != (UINT32_C(1) << l->nstages) - 1)
        atomic_fetch_add(&l->bad_marks, 1);
    atomic_fetch_add(&l->done, 1);
    atomic_fetch_add(&l->id_sum, it->id);
    free(it);
    *out = NULL;
    return PK_OK;
}

static int parse_stages(const char *text, struct stage_spec *spec, size_t *n, struct pk_err *err)
{
    *n = 0;
    const char *p = text;
    while (*p) {
        if (*n == MAX_STAGES)
            return pk_fail(err, PK_EINVAL, "--stages: at most %d stages", MAX_STAGES);
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char one[128];
        if (len == 0 || len >= sizeof one)
            return pk_fail(err, PK_EINVAL, "--stages: bad stage '%.*s' (want name:seconds:workers)",
                           (int)len, p);
        memcpy(one, p, len);
        one[len] = '\0';
        char *c1 = strchr(one, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c1 || !c2 || c1 == one || (size_t)(c1 - one) >= sizeof spec->name)
            return pk_fail(err, PK_EINVAL, "--stages: bad stage '%s' (want name:seconds:workers)",
                           one);
        *c1 = *c2 = '\0';
        char *tail;
        errno = 0;
        double sec = strtod(c1 + 1, &tail);
        if (tail == c1 + 1 || *tail || errno || !isfinite(sec) || sec < 0 || sec > 3600)
            return pk_fail(err, PK_EINVAL,
                           "--stages: seconds of stage '%s' must be in [0, 3600], "
                           "got '%s'",
                           one, c1 + 1);
        uint64_t w;
        if (pk_parse_count("--stages workers", c2 + 1, 1, 1024, &w, err) != PK_OK)
            return PK_EINVAL;
        memcpy(spec[*n].name, one, (size_t)(c1 - one) + 1); /* fits: checked above */
        spec[*n].seconds = sec;
        spec[*n].workers = (int)w;
        (*n)++;
        p += len + (end ? 1 : 0);
        if (end && !*p)
            return pk_fail(err, PK_EINVAL, "--stages: empty stage after the last ','");
    }
    if (*n == 0)
        return pk_fail(err, PK_EINVAL, "--stages: no stage given");
    return PK_OK;
}

struct pipe_opts {
    const char *stages_text;
    uint64_t items, cap;
    struct pk_common_opts common;
};

static int parse(int argc, char **argv, const struct pk_comm *c, struct pipe_opts *o)
{
    *o = (struct pipe_opts){
        .stages_text = "prepare:0.3:1,assemble:0.4:1,inspect:0.2:1", .items = 10, .cap = 3};
    const struct pk_opt table[] = {
        {"stages", 0, PK_OPT_STRING, &o->stages_text, "SPEC",
         "name:seconds:workers,... (default prepare:0.3:1,assemble:0.4:1,\n"
         "inspect:0.2:1); the first stage makes the items; up to 16 stages,\n"
         "seconds in [0, 3600], workers in 1..1024"},
        {"items", 'n', PK_OPT_COUNT, &o->items, "N", "items through the line (default 10)",
         .max = UINT64_C(1) << 40},
        {"queue", 0, PK_OPT_COUNT, &o->cap, "CAP",
         "capacity of every queue between stages (default 3)", .min = 1, .max = UINT64_C(1) << 24},
        {NULL},
    };
    const struct pk_cmd_spec spec = {
        .name = "pipeline",
        .synopsis = "[--stages SPEC] [--items N] [--queue CAP] [options]",
        .summary = "An assembly line of stages on threads, with bounded queues between them.",
        .description = description,
        .opts = table,
        .shared = PK_SHARED_RECORD | PK_SHARED_FORMAT,
        .formats = PK_FORMATS_CSV,
    };
    return pk_opts_parse(&spec, c, argc, argv, &o->common, NULL);
}

/* ---- one run ------------------------------------------------------------------------------ */

/* What the line is and what it did: the views read the measurements from the record and
 * the configuration from here. */
struct outcome {
    const struct pipe_opts *o;
    struct stage_spec spec[MAX_STAGES];
    size_t n;
    struct pk_stage_report rep[MAX_STAGES];
    struct pk_pipeline_report pr;
    uint64_t done;
    bool complete, verified;
    size_t slow;              /* the bottleneck stage */
    double bound, sequential; /* its rate (inf: every stage takes 0 s); the one-worker time */
};

/* Runs the line once, Ctrl-C stopping it; out->complete is false when it stopped early (err
 * says why unless interrupted). */
static void run_line(struct outcome *out, struct pk_err *err)
{
    struct line line = {.spec = out->spec, .nstages = out->n, .items = out->o->items};
    struct stage_ctx ctx[MAX_STAGES];
    struct pk_stage stages[MAX_STAGES];
    for (size_t s = 0; s < out->n; s++) {
        ctx[s] = (struct stage_ctx){.line = &line, .s = s};
        stages[s] = (struct pk_stage){.name = out->spec[s].name,
                                      .workers = out->spec[s].workers,
                                      .queue_capacity = (size_t)out->o->cap,
                                      .fn = stage_fn,
                                      .ctx = &ctx[s],
                                      .free_item = free};
    }
    pk_interrupt_install();
    int rc = pk_pipeline_run(stages, out->n, out->rep, &out->pr, err);
    pk_interrupt_restore();
    uint64_t nitems = out->o->items;
    out->done = atomic_load(&line.done);
    out->complete = rc == PK_OK;
    out->verified = out->complete && out->done == nitems && atomic_load(&line.bad_marks) == 0 &&
                    atomic_load(&line.id_sum) == nitems * (nitems + 1) / 2;
}

/* The bound: the slowest stage's rate, workers / seconds (a stage of 0 s never binds). */
static void find_bottleneck(struct outcome *out)
{
    out->slow = 0;
    out->bound = INFINITY;
    out->sequential = 0;
    for (size_t s = 0; s < out->n; s++) {
        const struct stage_spec *sp = &out->spec[s];
        double rate = sp->seconds > 0 ? sp->workers / sp->seconds : INFINITY;
        if (rate < out->bound) {
            out->bound = rate;
            out->slow = s;
        }
        out->sequential += sp->seconds * (double)out->o->items;
    }
}

static json_t *stages_json(const struct outcome *out)
{
    json_t *a = json_array();
    double wall = out->pr.wall_s;
    for (size_t s = 0; s < out->n; s++) {
        const struct stage_spec *sp = &out->spec[s];
        const struct pk_stage_report *r = &out->rep[s];
        double util = wall > 0 ? r->busy_s / (sp->workers * wall) : 0;
        json_array_append_new(
            a, json_pack("{s:o, s:f, s:i, s:I, s:f, s:f, s:f, s:I, s:I}", "name",
                         pk_json_text(sp->name), "seconds", sp->seconds, "workers", sp->workers,
                         "items", (json_int_t)r->items, "busy_s", r->busy_s, "blocked_s",
                         r->blocked_s, "utilisation", util, "max_queue", (json_int_t)r->max_queue,
                         "queue_capacity", (json_int_t)r->queue_capacity));
    }
    return a;
}

static json_t *build_record(const struct outcome *out, const json_t *sysinfo)
{
    const struct pipe_opts *o = out->o;
    double wall = out->pr.wall_s;
    json_t *rec = pk_record_new("pipeline");
    json_object_set_new(rec, "params",
                        json_pack("{s:o, s:I, s:I}", "stages", pk_json_text(o->stages_text),
                                  "items", (json_int_t)o->items, "queue", (json_int_t)o->cap));
    json_object_set_new(rec, "result",
                        json_pack("{s:I, s:f, s:f, s:s, s:f, s:o, s:b}", "finished",
                                  (json_int_t)out->done, "wall_s", wall, "throughput_per_s",
                                  wall > 0 ? (double)out->done / wall : 0.0, "bottleneck",
                                  out->spec[out->slow].name, "bound_per_s",
                                  isfinite(out->bound) ? out->bound : 0.0, "stages",
                                  stages_json(out), "interrupted", pk_interrupted()));
    json_object_set_new(rec, "verified", json_boolean(out->verified));
    pk_record_set_timing(rec, &out->pr.wall_s, 1, 0);
    pk_record_set_provenance(rec, sysinfo);
    return rec;
}

/* ---- output ------------------------------------------------------------------------------ */

static double num(const json_t *obj, const char *key)
{
    return json_number_value(json_object_get(obj, key));
}

static void print_stage_rows(const json_t *stages)
{
    printf("%-16s %8s %7s %9s %9s %9s %6s %9s\n", "stage", "s/item", "workers", "items", "busy_s",
           "blocked_s", "util", "max queue");
    size_t s;
    const json_t *st;
    json_array_foreach(stages, s, st)
    {
        char q[32] = "-";
        if (s > 0)
            snprintf(q, sizeof q, "%.0f/%.0f", num(st, "max_queue"), num(st, "queue_capacity"));
        printf("%-16s %8.3f %7.0f %9.0f %9.3f %9.3f %5.0f%% %9s\n",
               json_string_value(json_object_get(st, "name")), num(st, "seconds"),
               num(st, "workers"), num(st, "items"), num(st, "busy_s"), num(st, "blocked_s"),
               100 * num(st, "utilisation"), q);
    }
}

static void print_table(const json_t *rec, const void *ctx)
{
    const struct outcome *out = ctx;
    const json_t *res = json_object_get(rec, "result");
    double wall = num(res, "wall_s"), thr = num(res, "throughput_per_s");
    printf("# parkit pipeline: %zu %s, %llu %s, queues of %llu\n", out->n,
           pk_plural(out->n, "stage", "stages"), (unsigned long long)out->o->items,
           pk_plural(out->o->items, "item", "items"), (unsigned long long)out->o->cap);
    print_stage_rows(json_object_get(res, "stages"));
    const struct stage_spec *slow = &out->spec[out->slow];
    if (isfinite(out->bound))
        printf("bottleneck  %s: %d %s / %.3f s = %.3f items/s\n", slow->name, slow->workers,
               pk_plural((unsigned)slow->workers, "worker", "workers"), slow->seconds, out->bound);
    double done = num(res, "finished");
    printf("throughput  %.3f items/s measured (%.0f %s in %.3f s)", thr, done,
           pk_plural((unsigned long long)done, "item", "items"), wall);
    if (isfinite(out->bound))
        printf(", %.0f%% of the bound", 100 * thr / out->bound);
    /* a stopped line never made the items after the last one done: no figure for them */
    if (isfinite(out->bound) && out->complete)
        printf("; sequential would take %.3f s (%.2fx)", out->sequential,
               wall > 0 ? out->sequential / wall : 0.0);
    printf("\nverified    %s\n", out->verified   ? "yes (every item through every stage once)"
                                 : out->complete ? "NO"
                                                 : "no (stopped)");
}

static void print_csv(const json_t *rec, struct pk_csvw *w, const void *ctx)
{
    (void)ctx;
    static const char *const header[] = {"driver",    "stage",  "seconds",   "workers",
                                         "items",     "busy_s", "blocked_s", "utilisation",
                                         "max_queue", "wall_s", "verified",  NULL};
    const json_t *res = json_object_get(rec, "result");
    pk_csvw_row(w, header);
    size_t s;
    const json_t *st;
    json_array_foreach(json_object_get(res, "stages"), s, st)
    {
        pk_csvw_field(w, "pipeline");
        pk_csvw_field(w, json_string_value(json_object_get(st, "name")));
        pk_csvw_fieldf(w, "%.6f", num(st, "seconds"));
        pk_csvw_fieldf(w, "%.0f", num(st, "workers"));
        pk_csvw_fieldf(w, "%.0f", num(st, "items"));
        pk_csvw_fieldf(w, "%.6f", num(st, "busy_s"));
        pk_csvw_fieldf(w, "%.6f", num(st, "blocked_s"));
        pk_csvw_fieldf(w, "%.4f", num(st, "utilisation"));
        pk_csvw_fieldf(w, "%.0f", num(st, "max_queue"));
        pk_csvw_fieldf(w, "%.6f", num(res, "wall_s"));
        pk_csvw_field(w, json_is_true(json_object_get(rec, "verified")) ? "yes" : "no");
        pk_csvw_end(w);
    }
}

int pk_cmd_pipeline(int argc, char **argv, const struct pk_comm *c)
{
    struct pipe_opts o;
    int status = parse(argc, argv, c, &o);
    if (status != PK_EXIT_OK)
        return pk_opts_exit(status);
    struct pk_err err = {0};
    struct outcome out = {.o = &o};
    if (parse_stages(o.stages_text, out.spec, &out.n, &err) != PK_OK)
        return pk_usage_error(c, "pipeline", "%s", err.msg);
    if (pk_cli_single_process(c, "pipeline") != PK_EXIT_OK)
        return PK_EXIT_USAGE;
    json_t *sysinfo = pk_sysinfo_for_command(c, "pipeline", 1);
    run_line(&out, &err);
    find_bottleneck(&out);
    json_t *rec = build_record(&out, sysinfo);
    json_decref(sysinfo);
    status = out.complete ? (out.verified ? PK_EXIT_OK : PK_EXIT_VERIFY) : PK_EXIT_RUNTIME;
    if (!out.complete)
        pk_error(c, false, "pipeline", "%s", pk_interrupted() ? "interrupted" : err.msg);
    static const struct pk_view view = {print_table, print_csv};
    return pk_emit(c, "pipeline", &o.common, &view, &out, rec, status);
}
