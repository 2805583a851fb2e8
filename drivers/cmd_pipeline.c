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
#include "interrupt.h"
#include "parkit/pipeline.h"
#include "record.h"
#include "sysinfo.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_STAGES 16

static const char usage[] =
    "Usage: parkit pipeline [--stages SPEC] [--items N] [--queue CAP] [options]\n"
    "A multi-stage assembly line on pthreads with bounded queues between stages (the\n"
    "tutorial's queue.Queue producer/consumer line, without sentinels). Each stage simulates\n"
    "a wait of its seconds per item.\n"
    "\n"
    "  --stages SPEC   name:seconds:workers,... (default prepare:0.3:1,assemble:0.4:1,\n"
    "                  inspect:0.2:1); the first stage makes the items; up to 16 stages,\n"
    "                  seconds in [0, 3600], workers in 1..1024\n"
    "  --items N       items through the line (default 10)\n"
    "  --queue CAP     capacity of every queue between stages (default 3)\n"
    "\n"
    "Prints per stage: items, busy and blocked time, utilisation (busy / (workers x wall)) and\n"
    "the highest queue occupancy; the bottleneck (the stage with the lowest workers/seconds),\n"
    "and the measured throughput against that bound. Verified: every item went through every\n"
    "stage exactly once (ids and per-stage marks), and the number and sum of ids are exact.\n"
    "Ctrl-C stops the line and reports what finished (exit 1); a second Ctrl-C exits at once.\n"
    "--reps and --warmup do not apply (one timed run).\n\n";

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
        return pk_fail(err, PK_ECLOSED, "interrupted");
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

int pk_cmd_pipeline(int argc, char **argv, const struct pk_comm *c)
{
    static const struct option longopts[] = {{"stages", required_argument, NULL, 'S'},
                                             {"items", required_argument, NULL, 'n'},
                                             {"queue", required_argument, NULL, 'q'},
                                             PK_COMMON_LONGOPTS,
                                             {NULL, 0, NULL, 0}};
    struct pk_common_opts common;
    pk_common_defaults(&common);
    const char *stages_text = "prepare:0.3:1,assemble:0.4:1,inspect:0.2:1";
    uint64_t nitems = 10, cap = 3;
    struct pk_err err = {0};
    opterr = 0;
    optind = 1;
    int code;
    while ((code = getopt_long(argc, argv, ":n:" PK_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
        int rc = PK_OK;
        if (code == 'S')
            stages_text = optarg;
        else if (code == 'n')
            rc = pk_parse_count("--items", optarg, 0, UINT64_C(1) << 40, &nitems, &err);
        else if (code == 'q')
            rc = pk_parse_count("--queue", optarg, 1, UINT64_C(1) << 24, &cap, &err);
        else {
            int handled = pk_cli_option(c, "pipeline", usage, code, argv, &common);
            if (handled == PK_OPT_HELP_SHOWN)
                return PK_EXIT_OK;
            if (handled != PK_OPT_DONE)
                return PK_EXIT_USAGE;
        }
        if (rc != PK_OK) {
            pk_error(c, false, "pipeline", "%s", err.msg);
            return PK_EXIT_USAGE;
        }
    }
    if (pk_cli_no_operands(c, "pipeline", argc, argv) != PK_EXIT_OK)
        return PK_EXIT_USAGE;
    struct stage_spec spec[MAX_STAGES];
    size_t n;
    if (parse_stages(stages_text, spec, &n, &err) != PK_OK) {
        pk_error(c, false, "pipeline", "%s", err.msg);
        return PK_EXIT_USAGE;
    }
    if (pk_cli_single_process(c, "pipeline") != PK_EXIT_OK)
        return PK_EXIT_USAGE;
    json_t *sysinfo = pk_sysinfo_for_command(c, "pipeline", 1);

    struct line line = {.spec = spec, .nstages = n, .items = nitems};
    struct stage_ctx ctx[MAX_STAGES];
    struct pk_stage stages[MAX_STAGES];
    for (size_t s = 0; s < n; s++) {
        ctx[s] = (struct stage_ctx){.line = &line, .s = s};
        stages[s] = (struct pk_stage){.name = spec[s].name,
                                      .workers = spec[s].workers,
                                      .queue_capacity = (size_t)cap,
                                      .fn = stage_fn,
                                      .ctx = &ctx[s],
                                      .free_item = free};
    }
    pk_interrupt_install();
    struct pk_stage_report rep[MAX_STAGES];
    struct pk_pipeline_report pr;
    int rc = pk_pipeline_run(stages, n, rep, &pr, &err);
    pk_interrupt_restore();

    /* The bound: the slowest stage's rate, workers / seconds (a stage of 0 s never binds). */
    size_t slow = 0;
    double bound = INFINITY, sequential = 0;
    for (size_t s = 0; s < n; s++) {
        double rate = spec[s].seconds > 0 ? spec[s].workers / spec[s].seconds : INFINITY;
        if (rate < bound) {
            bound = rate;
            slow = s;
        }
        sequential += spec[s].seconds * (double)nitems;
    }
    uint64_t done = atomic_load(&line.done);
    bool complete = rc == PK_OK;
    bool verified = complete && done == nitems && atomic_load(&line.bad_marks) == 0 &&
                    atomic_load(&line.id_sum) == nitems * (nitems + 1) / 2;
    int status = complete ? (verified ? PK_EXIT_OK : PK_EXIT_VERIFY) : PK_EXIT_RUNTIME;
    double thr = pr.wall_s > 0 ? (double)done / pr.wall_s : 0;

    json_t *jstages = json_array();
    for (size_t s = 0; s < n; s++) {
        double util = pr.wall_s > 0 ? rep[s].busy_s / (spec[s].workers * pr.wall_s) : 0;
        json_array_append_new(
            jstages, json_pack("{s:s, s:f, s:i, s:I, s:f, s:f, s:f, s:I, s:I}", "name",
                               spec[s].name, "seconds", spec[s].seconds, "workers", spec[s].workers,
                               "items", (json_int_t)rep[s].items, "busy_s", rep[s].busy_s,
                               "blocked_s", rep[s].blocked_s, "utilisation", util, "max_queue",
                               (json_int_t)rep[s].max_queue, "queue_capacity",
                               (json_int_t)rep[s].queue_capacity));
    }
    json_t *rec = pk_record_new("pipeline");
    json_object_set_new(rec, "params",
                        json_pack("{s:s, s:I, s:I}", "stages", stages_text, "items",
                                  (json_int_t)nitems, "queue", (json_int_t)cap));
    json_object_set_new(rec, "result",
                        json_pack("{s:I, s:f, s:f, s:s, s:f, s:o, s:b}", "finished",
                                  (json_int_t)done, "wall_s", pr.wall_s, "throughput_per_s", thr,
                                  "bottleneck", spec[slow].name, "bound_per_s",
                                  isfinite(bound) ? bound : 0.0, "stages", jstages, "interrupted",
                                  pk_interrupted()));
    json_object_set_new(rec, "verified", json_boolean(verified));
    pk_record_set_timing(rec, &pr.wall_s, 1, 0);
    pk_record_set_provenance(rec, sysinfo);
    if (common.format == PK_FORMAT_JSON) {
        json_dumpf(rec, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
        putchar('\n');
    } else if (common.format == PK_FORMAT_CSV) {
        printf("driver,stage,seconds,workers,items,busy_s,blocked_s,utilisation,max_queue,"
               "wall_s,verified\n");
        for (size_t s = 0; s < n; s++)
            printf("pipeline,%s,%.6f,%d,%llu,%.6f,%.6f,%.4f,%zu,%.6f,%s\n", spec[s].name,
                   spec[s].seconds, spec[s].workers, (unsigned long long)rep[s].items,
                   rep[s].busy_s, rep[s].blocked_s,
                   pr.wall_s > 0 ? rep[s].busy_s / (spec[s].workers * pr.wall_s) : 0.0,
                   rep[s].max_queue, pr.wall_s, verified ? "yes" : "no");
    } else {
        printf("# parkit pipeline: %zu stages, %llu items, queues of %llu\n", n,
               (unsigned long long)nitems, (unsigned long long)cap);
        printf("%-16s %8s %7s %9s %9s %9s %6s %9s\n", "stage", "s/item", "workers", "items",
               "busy_s", "blocked_s", "util", "max queue");
        for (size_t s = 0; s < n; s++) {
            char q[32] = "-";
            if (s > 0)
                snprintf(q, sizeof q, "%zu/%zu", rep[s].max_queue, rep[s].queue_capacity);
            printf("%-16s %8.3f %7d %9llu %9.3f %9.3f %5.0f%% %9s\n", spec[s].name, spec[s].seconds,
                   spec[s].workers, (unsigned long long)rep[s].items, rep[s].busy_s,
                   rep[s].blocked_s,
                   pr.wall_s > 0 ? 100 * rep[s].busy_s / (spec[s].workers * pr.wall_s) : 0.0, q);
        }
        if (isfinite(bound))
            printf("bottleneck  %s: %d worker%s / %.3f s = %.3f items/s\n", spec[slow].name,
                   spec[slow].workers, spec[slow].workers > 1 ? "s" : "", spec[slow].seconds,
                   bound);
        printf("throughput  %.3f items/s measured (%llu items in %.3f s)", thr,
               (unsigned long long)done, pr.wall_s);
        if (isfinite(bound))
            printf(", %.0f%% of the bound; sequential would take %.3f s (%.2fx)", 100 * thr / bound,
                   sequential, pr.wall_s > 0 ? sequential / pr.wall_s : 0.0);
        printf("\nverified    %s\n", verified   ? "yes (every item through every stage once)"
                                     : complete ? "NO"
                                                : "no (stopped)");
    }
    if (common.record && pk_record_append(common.record, rec, &err) != PK_OK) {
        pk_error(c, false, "pipeline", "%s", err.msg);
        status = PK_EXIT_RUNTIME;
    }
    if (!complete)
        pk_error(c, false, "pipeline", "%s", pk_interrupted() ? "interrupted" : err.msg);
    else if (!verified)
        pk_error(c, false, "pipeline", "verification failed");
    json_decref(rec);
    json_decref(sysinfo);
    return status;
}
