/* SPDX-License-Identifier: MIT */
/* parkit scale: a thread-scaling experiment in one process. Runs a kernel at each thread count
 * of --threads, strong (size fixed) or weak (size grown with the workers), each point verified,
 * warmed up untimed, timed over --reps repetitions with a barrier before each, and recorded as
 * a JSON line with a "scale" block that `parkit report` groups by. Under mpirun every rank takes
 * part and the workers of a point are ranks x threads; sweeps over rank counts are jobs/
 * scripts, since a process cannot change its rank count.
 *
 * --serial runs every point on one thread while labelling it with the point's workers: a check
 * of the harness and of `report`, whose efficiency must come out near 1/p. */
#include "commands.h"
#include "emit.h"
#include "opt.h"
#include "parkit/features.h"
#include "parkit/sumsq.h"
#include "record.h"
#include "scalerun/run.h"
#include "scaling.h"
#include "selfrun.h"
#include "sysinfo.h"
#include "timing.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum kernel { K_SUMSQ, K_FACTSUM, K_FIB, K_SLEEP, K_API, K_FETCH, K_PIPELINE, K_RUN };
static const char *const kernel_words[] = {"sumsq", "factsum",  "fib", "sleep", "api",
                                           "fetch", "pipeline", "run", NULL};
static const char *const mode_names[] = {"strong", "weak", "throughput", NULL};
static const char *const launcher_words[] = {"mpirun", "srun", "none", NULL};
/* scale run's own options, by the tag value they set (1..): refused for the kernels */
static const char *const run_only[] = {NULL,        "ranks",       "size",         "launcher",
                                       "metric",    "metric-json", "resume",       "budget",
                                       "target-ci", "max-time",    "no-rank-timer"};

static const char *const engine_words[] = {"threads", "loop", NULL};

/* --engine LIST: threads, loop or both, each once. */
static int check_engines(const struct pk_opt *opt, const char *text, struct pk_err *err)
{
    (void)opt;
    char buf[64];
    snprintf(buf, sizeof buf, "%s", text);
    int seen = 0, n = 0;
    for (char *save = NULL, *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        int k = 0;
        while (engine_words[k] && strcmp(engine_words[k], w) != 0)
            k++;
        if (!engine_words[k] || (seen & (1 << k)) || ++n > 2 || strlen(text) >= sizeof buf)
            return pk_fail(err, PK_EINVAL,
                           "--engine expects threads, loop or threads,loop, got "
                           "'%s'",
                           text);
        seen |= 1 << k;
    }
    return n ? PK_OK
             : pk_fail(err, PK_EINVAL,
                       "--engine expects threads, loop or threads,loop, "
                       "got '%s'",
                       text);
}

static bool is_io(enum kernel k)
{
    return k == K_API || k == K_FETCH || k == K_PIPELINE;
}

struct scale_opts {
    enum kernel kernel;
    int variant;      /* sumsq: enum pk_sumsq_variant; -1 until --range/--gauss/--array */
    int sumsq_tuning; /* 1 when --chunk was given */
    int seed_given;   /* 1 when --seed was given */
    int run_opt;      /* the last of scale run's own options given (index into run_only) */
    struct pk_run_opts run;
    uint64_t n, chunk, seed;
    double seconds; /* sleep */
    char **pass;    /* api, fetch, pipeline: the command's own options ({w} = workers) */
    size_t npass;
    const char *experiment; /* --experiment: one id for points run by separate commands */
    int mode;               /* index into mode_names */
    bool weak, serial;
    struct pk_count_list threads, workers; /* as given */
    struct pk_count_list concurrency;      /* api, fetch: --concurrency, the same as --workers */
    const char *engines_text;              /* api, fetch: --engine LIST as given */
    int engine[2], nengines;               /* its engines in order (0: the command's default) */
    struct pk_count_list points;           /* the sweep: threads (kernels) or workers (I/O) */
    int *point_engine; /* per point, with --engine: its engine (the points repeat per engine) */
    int nranks;
    struct pk_common_opts common;
};

static void read_engines(struct scale_opts *o)
{
    o->nengines = 0;
    const char *p = o->engines_text;
    while (p && *p) {
        o->engine[o->nengines++] = strncmp(p, "loop", 4) == 0;
        p = strchr(p, ',');
        p = p ? p + 1 : NULL;
    }
}

static const char *kernel_name(const struct scale_opts *o)
{
    if (o->kernel == K_SUMSQ)
        return o->variant == PK_SUMSQ_RANGE   ? "sumsq:range"
               : o->variant == PK_SUMSQ_GAUSS ? "sumsq:gauss"
                                              : "sumsq:array";
    return kernel_words[o->kernel];
}

/* The calibration kernel: every rank sleeps `seconds` per repetition after a barrier; the time
 * of a repetition is the slowest rank's. Rank 0 gets a record like the kernels'. */
static int run_sleep(const struct pk_comm *c, const struct scale_opts *o, double seconds,
                     json_t **rec)
{
    int reps = o->common.reps, short_reps = 0;
    double *t = calloc((size_t)reps, sizeof *t);
    if (!t)
        return pk_dist_agree(c, PK_EXIT_RUNTIME);
    for (int i = -o->common.warmup; i < reps; i++) {
        pk_dist_barrier(c);
        double t0 = pk_now_s();
        struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
        while (nanosleep(&ts, &ts) != 0)
            continue;
        double dt = pk_dist_max_double(c, pk_now_s() - t0);
        if (i >= 0) {
            t[i] = dt;
            short_reps += dt < seconds;
        }
    }
    if (c->rank == 0) {
        *rec = pk_record_new("sleep");
        json_object_set_new(*rec, "params",
                            json_pack("{s:f, s:i, s:i, s:i, s:i}", "seconds", seconds, "threads", 1,
                                      "ranks", c->nranks, "reps", reps, "warmup",
                                      o->common.warmup));
        json_object_set_new(*rec, "result", json_pack("{s:f}", "seconds", seconds));
        json_object_set_new(*rec, "verified", json_boolean(short_reps == 0));
        json_object_set_new(*rec, "verification",
                            json_pack("{s:s, s:i}", "method",
                                      "no repetition shorter than the requested sleep",
                                      "short_reps", short_reps));
        pk_record_set_timing(*rec, t, reps, o->common.warmup);
    }
    free(t);
    return pk_dist_agree(c, short_reps ? PK_EXIT_VERIFY : PK_EXIT_OK);
}

/* text with every "{w}" replaced by w (malloc'd). */
static char *with_workers(const char *text, int w)
{
    char num[16];
    int nlen = snprintf(num, sizeof num, "%d", w);
    size_t n = strlen(text) + 1;
    for (const char *p = strstr(text, "{w}"); p; p = strstr(p + 3, "{w}"))
        n += (size_t)nlen;
    char *out = malloc(n), *q = out;
    if (!out)
        return NULL;
    for (const char *p = text; *p;) {
        if (strncmp(p, "{w}", 3) == 0) {
            memcpy(q, num, (size_t)nlen);
            q += nlen;
            p += 3;
        } else {
            *q++ = *p++;
        }
    }
    *q = '\0';
    return out;
}

/* One point of an I/O sweep: the command as a child process (it owns its pool and its
 * Ctrl-C), warm-up and reps runs, each run's pooled time; the record is the last run's with
 * the timing of all of them and its throughput. */
static int run_io(const struct scale_opts *o, int w, int engine, json_t **rec)
{
    const char *cmd = kernel_words[o->kernel];
    char wstr[16];
    snprintf(wstr, sizeof wstr, "%d", w);
    char **args = calloc((size_t)o->npass + 10, sizeof *args);
    double *t = calloc((size_t)o->common.reps, sizeof *t);
    int n = 0, status = PK_EXIT_OK;
    if (!args || !t) {
        free(args);
        free(t);
        return PK_EXIT_RUNTIME;
    }
    args[n++] = "parkit";
    args[n++] = (char *)cmd;
    int first_pass = n;
    for (size_t i = 0; i < o->npass; i++)
        if (!(args[n++] = with_workers(o->pass[i], w)))
            status = PK_EXIT_RUNTIME;
    int last_pass = n;
    if (o->kernel != K_PIPELINE) {
        args[n++] = "--workers";
        args[n++] = wstr;
    }
    if (o->kernel == K_API)
        args[n++] = "--no-sequential";
    if (engine >= 0) {
        args[n++] = "--engine";
        args[n++] = (char *)engine_words[engine];
    }
    args[n++] = "--format";
    args[n++] = "json";
    bool verified = true;
    for (int r = -o->common.warmup; r < o->common.reps && status == PK_EXIT_OK; r++) {
        json_t *one = NULL;
        int rc = pk_run_self_json(args, &one);
        json_t *res = json_object_get(one, "result");
        double sec = json_number_value(
            json_object_get(res, o->kernel == K_PIPELINE ? "wall_s" : "pooled_s"));
        verified = verified && json_is_true(json_object_get(one, "verified"));
        if (rc != 0)
            status = rc < 0 ? PK_EXIT_RUNTIME : rc;
        if (r >= 0)
            t[r] = sec;
        if (r == o->common.reps - 1 || status != PK_EXIT_OK) {
            json_decref(*rec);
            *rec = one;
        } else {
            json_decref(one);
        }
    }
    if (*rec && status == PK_EXIT_OK) {
        pk_record_set_timing(*rec, t, o->common.reps, o->common.warmup);
        json_t *res = json_object_get(*rec, "result");
        double med =
            json_number_value(json_object_get(json_object_get(*rec, "timing"), "median_s"));
        double done = json_number_value(json_object_get(res, "finished"));
        json_object_set_new(res, "median_throughput_per_s", json_real(med > 0 ? done / med : 0));
        json_object_set_new(*rec, "verified", json_boolean(verified));
        /* records of api and pipeline name their threads "workers"; report reads threads */
        json_object_set_new(json_object_get(*rec, "params"), "threads", json_integer(w));
        json_object_set_new(json_object_get(*rec, "params"), "ranks", json_integer(1));
    }
    for (int i = first_pass; i < last_pass; i++)
        free(args[i]);
    free(args);
    free(t);
    return status == PK_EXIT_OK && !verified ? PK_EXIT_VERIFY : status;
}

/* Runs one point; rank 0 gets the kernel's record. */
static int run_point(const struct pk_comm *c, const struct scale_opts *o, uint64_t size,
                     int nthreads, int engine, const json_t *sysinfo, json_t **rec)
{
    struct pk_common_opts common = o->common;
    common.nthreads = o->serial ? 1 : nthreads;
    common.reps_given = true; /* a sweep is for timing: every point runs all its reps */
    if (o->kernel == K_SUMSQ) {
        struct pk_sumsq_opts so = {.variant = (enum pk_sumsq_variant)o->variant,
                                   .n = size,
                                   .chunk = o->chunk,
                                   .seed = o->seed,
                                   .common = common};
        return pk_sumsq_execute(c, &so, sysinfo, rec);
    }
    if (is_io(o->kernel))
        return run_io(o, nthreads, engine, rec);
    if (o->kernel == K_SLEEP) {
        /* strong: the work (seconds) is shared by the workers; weak: each has its own */
        double w = (double)nthreads * c->nranks;
        double t = o->weak ? (o->serial ? o->seconds * w : o->seconds)
                           : (o->serial ? o->seconds : o->seconds / w);
        int rc = run_sleep(c, o, t, rec);
        if (*rec)
            pk_record_set_provenance(*rec, sysinfo);
        return rc;
    }
    uint64_t n[1] = {size};
    if (o->kernel == K_FACTSUM) {
        struct pk_factsum_opts fo = {.n = n, .count = 1, .common = common};
        return pk_factsum_execute(c, &fo, sysinfo, rec);
    }
    struct pk_fib_opts bo = {.n = n, .count = 1, .common = common};
    return pk_fib_execute(c, &bo, sysinfo, rec);
}

/* Whether the machine facts of a point warn about oversubscribed or shared cores. */
static bool oversubscribed(const json_t *sysinfo)
{
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(sysinfo, "warnings"), i, w)
    {
        const char *s = json_string_value(w);
        if (s && (strstr(s, "oversubscribed") || strstr(s, "share cpu") ||
                  strstr(s, "bound to one cpu")))
            return true;
    }
    return false;
}

static void progress(int done, int total, double elapsed, double est_left)
{
    fprintf(stderr, "\rparkit scale: point %d/%d, %.1f s elapsed, about %.1f s left   ", done,
            total, elapsed, est_left);
    if (done == total)
        fputc('\n', stderr);
    fflush(stderr);
}

/* ---- options ----------------------------------------------------------------------------- */

static const char synopsis[] =
    "sumsq --range N | --gauss N [--chunk C] | --array N [options]\n"
    "       parkit scale factsum N [options]\n"
    "       parkit scale fib N [options]\n"
    "       parkit scale sleep SECONDS [options]\n"
    "       parkit scale api|fetch|pipeline --workers LIST [options] -- [its options]\n"
    "       parkit scale run [--threads LIST] [--ranks LIST] [--size LIST] [options] -- "
    "PROGRAM [ARGS]\n"
    "       parkit scale grain [options]   (see parkit scale grain --help)";

static const char description[] =
    "Strong scaling keeps the size N at every point; --mode weak makes it N x workers, so the\n"
    "work per worker stays the same (for factsum the work grows a little faster than N, so\n"
    "ideal weak efficiency is slightly below 1). With --record every point becomes a JSON line\n"
    "for `parkit report`.\n"
    "\n"
    "sleep is the harness's own calibration: each repetition sleeps SECONDS / workers\n"
    "(perfect scaling) or, with --serial, SECONDS at every point (no scaling at all); it\n"
    "computes nothing, so it reads the same on a busy machine, and what it reports beyond\n"
    "the ideal is the harness's overhead. Verified: no repetition was shorter than asked.\n"
    "\n"
    "api, fetch and pipeline sweep the worker count of the I/O commands (--workers, e.g.\n"
    "1,2,4,...,512): each point runs the command (a child process, --reps times after\n"
    "--warmup) with the options after '--', and reports its time and throughput against the\n"
    "bound: Little's law (W / mean call time) for api, the slowest stage for pipeline. In\n"
    "the options, {w} stands for the point's worker count: pipeline needs it in --stages\n"
    "(e.g. -- --stages read:0.01:{w},parse:0.02:{w}); api and fetch get --workers W.\n"
    "\n"
    "run sweeps any program: each point runs PROGRAM ARGS as a whole process (after --warmup\n"
    "runs, --reps times, all repetitions of all points in one random order from --seed),\n"
    "with {threads}, {ranks} and {size} replaced in ARGS ('{{' is a literal brace),\n"
    "OMP_NUM_THREADS set, and with --ranks or --budget under the launcher (mpirun -np R\n"
    "--bind-to none -x OMP_NUM_THREADS=T, oversubscribing; PARKIT_MPIRUN names another\n"
    "mpirun). Each run is timed (wall; user, sys and max RSS from wait4) and, with --metric or\n"
    "--metric-json, its figure of merit read from its output. A run that exits non-zero, is\n"
    "killed, or prints no figure fails its point: recorded as failed, never timed; the sweep\n"
    "goes on and exits 1. Each point says why it is noisy when it is: the time its threads\n"
    "waited for a core, other processes' CPU meanwhile, the spread and outliers of its\n"
    "repetitions (flagged, kept). Every point is recorded as soon as it is complete.\n"
    "\n"
    "Workers = ranks x threads. A point whose threads outnumber the cores is run but warned\n"
    "about first, and its record says so. A progress line goes to stderr on a terminal.\n"
    "Speedup is against the first point (scaled speedup p T1 / Tp for weak scaling).\n";

static int check_experiment(const struct pk_opt *opt, const char *text, struct pk_err *err)
{
    (void)opt;
    if (strlen(text) < 120)
        return PK_OK;
    return pk_fail(err, PK_EINVAL, "--experiment expects 1 to 119 characters, got '%s'", text);
}

#define SUMSQ_VARIANT(o, v) .tag = &(o)->variant, .tag_value = (v), .group = 1
#define SUMSQ_TUNING(o)     .tag = &(o)->sumsq_tuning, .tag_value = 1
#define SUMSQ_MAX_N         (UINT64_C(1) << 40)
#define RUN_ONLY(o, i)      .tag = &(o)->run_opt, .tag_value = (i)

static int check_metric(const struct pk_opt *opt, const char *text, struct pk_err *err)
{
    (void)opt;
    return pk__run_metric_check(text, err);
}

/* The command's description around its option table, and the parse. */
static int parse_with(const struct pk_opt *table, int argc, char **argv, const struct pk_comm *c,
                      struct scale_opts *o, struct pk_args *args)
{
    const struct pk_cmd_spec spec = {
        .name = "scale",
        .synopsis = synopsis,
        .summary = "Runs the kernel once per thread count, verified, and prints time, speedup,\n"
                   "parallel efficiency and the Karp-Flatt serial fraction of each point.",
        .description = description,
        .opts = table,
        .shared = PK_SHARED_TIMED | PK_SHARED_RECORD | PK_SHARED_FORMAT | PK_SHARED_NO_VERIFY,
        .formats = PK_FORMATS_CSV,
        .reps_default = 5,
        .operands = "KERNEL",
        .rest = "OPTIONS",
    };
    return pk_opts_parse(&spec, c, argc, argv, &o->common, args);
}

/* The declared options (one table: its 80 lines are data); scale's sumsq options (the kernel's
 * own, re-declared for the sweep) live here and nowhere else in scale. */
static int parse_options(int argc, char **argv, const struct pk_comm *c, struct scale_opts *o,
                         struct pk_args *args)
{
    const struct pk_opt table[] = {
        {"threads", 't', PK_OPT_LIST, &o->threads, "LIST",
         "thread counts per rank, e.g. 1,2,4 (default 1 and every power of two\n"
         "up to the cores, then the cores); not for api, fetch and pipeline",
         .min = 1, .max = 4096},
        {"workers", 0, PK_OPT_LIST, &o->workers, "LIST",
         "api, fetch and pipeline: the worker counts to sweep, e.g. 1,2,4,8", .min = 1,
         .max = 16384, .group = 3},
        {"concurrency", 0, PK_OPT_LIST, &o->concurrency, "LIST",
         "api and fetch: the calls in flight to sweep (their --workers),\n"
         "e.g. 10,100,1000,10000",
         .min = 1, .max = 16384, .group = 3},
        {"engine", 0, PK_OPT_STRING, &o->engines_text, "LIST",
         "api and fetch: the engines to sweep, side by side: threads, loop\n"
         "or threads,loop (default: the command's own)",
         .check = check_engines},
        {"mode", 0, PK_OPT_ENUM, &o->mode, "MODE",
         "strong (default): the size stays N at every point; weak: the size\n"
         "is N x workers; throughput (run only): as strong, and the figure\n"
         "of merit per second",
         .choices = mode_names},
        {"range", 0, PK_OPT_COUNT, &o->n, "N", "sumsq: exact sum of i*i for 0 <= i < N", .min = 1,
         .max = SUMSQ_MAX_N, SUMSQ_VARIANT(o, PK_SUMSQ_RANGE)},
        {"gauss", 0, PK_OPT_COUNT, &o->n, "N", "sumsq: N standard-normal values in chunks",
         .min = 1, .max = SUMSQ_MAX_N, SUMSQ_VARIANT(o, PK_SUMSQ_GAUSS)},
        {"array", 0, PK_OPT_COUNT, &o->n, "N", "sumsq: N uniform float64 values in memory",
         .min = 1, .max = SUMSQ_MAX_N, SUMSQ_VARIANT(o, PK_SUMSQ_ARRAY)},
        {"chunk", 0, PK_OPT_COUNT, &o->chunk, "C", "sumsq --gauss chunk size (default 1e6)",
         .min = 1, .max = UINT64_C(1) << 30, SUMSQ_TUNING(o)},
        {"seed", 0, PK_OPT_COUNT, &o->seed, "S",
         "sumsq --gauss/--array seed (default 42); run: the seed of the order\n"
         "of the repetitions (default: from the clock; recorded)",
         .tag = &o->seed_given, .tag_value = 1},
        {"ranks", 0, PK_OPT_LIST, &o->run.ranks, "LIST",
         "run: rank counts, started by the launcher, e.g. 1,2,4", .min = 1, .max = 4096,
         RUN_ONLY(o, 1)},
        {"size", 0, PK_OPT_LIST, &o->run.sizes, "LIST", "run: the values of {size}, e.g. 1e6,1e7",
         .max = UINT64_C(1) << 62, RUN_ONLY(o, 2)},
        {"launcher", 0, PK_OPT_ENUM, &o->run.launcher, "L",
         "run: mpirun, srun or none (default: mpirun when --ranks or\n"
         "--budget is given, else none)",
         .choices = launcher_words, RUN_ONLY(o, 3)},
        {"metric", 0, PK_OPT_STRING, &o->run.metric_re, "REGEX",
         "run: the figure of merit, the first group of REGEX's last\n"
         "match in the output, e.g. 'rate: ([0-9.e+-]+)'",
         .check = check_metric, .group = 2, RUN_ONLY(o, 4)},
        {"metric-json", 0, PK_OPT_STRING, &o->run.metric_json, "FIELD",
         "run: the figure of merit, a number FIELD (a.b: nested) of the\n"
         "last JSON object the program prints",
         .group = 2, RUN_ONLY(o, 5)},
        {"resume", 0, PK_OPT_PATH, &o->run.resume, "FILE",
         "run: record to FILE, skipping the points it already holds\n"
         "for the same experiment (a sweep that was stopped goes on)",
         .check = pk_opt_output_file, RUN_ONLY(o, 6)},
        {"budget", 0, PK_OPT_COUNT, &o->run.budget, "CORES",
         "run: every hybrid split ranks x threads = CORES", .min = 1, .max = 4096, RUN_ONLY(o, 7)},
        {"target-ci", 0, PK_OPT_REAL, &o->run.target_ci_pct, "PCT",
         "run: repeat until each median's 95% interval is within +-PCT%\n"
         "(or --max-time is spent)",
         .rmin = 0.01, .rmax = 100, RUN_ONLY(o, 8)},
        {"max-time", 0, PK_OPT_SECONDS, &o->run.max_time_s, "S",
         "run: with --target-ci, the sweep's time budget (default 60 s)", .rmin = 0.001,
         RUN_ONLY(o, 9)},
        {"no-rank-timer", 0, PK_OPT_FLAG, &o->run.no_rank_timer, NULL,
         "run: the launcher starts the program itself, not through parkit's\n"
         "per-rank timer (for nodes without parkit at this path); the\n"
         "spread across ranks is then not measured",
         RUN_ONLY(o, 10)},
        {"serial", 0, PK_OPT_FLAG, &o->serial, NULL,
         "run every point on one thread (harness check: efficiency ~ 1/p)"},
        {"experiment", 0, PK_OPT_STRING, &o->experiment, "ID",
         "the records' experiment id (default: kernel, time and process id);\n"
         "give one id to points run by separate commands, e.g. a rank sweep",
         .check = check_experiment},
        {NULL},
    };
    return parse_with(table, argc, argv, c, o, args);
}

/* The kernel (the first operand) and its size operand. */
static int read_kernel(const struct pk_comm *c, struct scale_opts *o, const struct pk_args *a)
{
    if (a->noperands == 0)
        return pk_usage_error(c, "scale",
                              "name a kernel: sumsq, factsum, fib, sleep, api, fetch or pipeline"
                              " (or scale grain, scale run; see --help)");
    const char *k = a->operand[0];
    int i = 0;
    while (kernel_words[i] && strcmp(kernel_words[i], k) != 0)
        i++;
    if (strcmp(k, "grain") == 0)
        return pk_usage_error(c, "scale",
                              "grain is a command of its own: parkit scale grain [options]");
    if (!kernel_words[i])
        return pk_usage_error(c, "scale",
                              "unknown kernel '%s' (sumsq, factsum, fib, sleep, api, fetch, "
                              "pipeline or run)",
                              k);
    o->kernel = (enum kernel)i;
    if (o->kernel == K_FETCH && !pk_command_built("fetch"))
        return pk_usage_error(c, "scale", "fetch is not in this build: libcurl %s",
                              PK_FEATURE_WHY_CURL);
    if (o->kernel == K_RUN)
        return PK_EXIT_OK; /* its operands are the program's, after '--' */
    bool sized = o->kernel == K_FACTSUM || o->kernel == K_FIB || o->kernel == K_SLEEP;
    if (!sized) {
        if (a->noperands > 1)
            return pk_usage_error(c, "scale", "unexpected argument '%s'", a->operand[1]);
        return PK_EXIT_OK;
    }
    if (a->noperands != 2) {
        const char *what = o->kernel == K_SLEEP ? "time in SECONDS" : "size N";
        if (a->noperands > 2)
            return pk_usage_error(c, "scale", "%s needs exactly one %s (got '%s' too)", k, what,
                                  a->operand[a->noperands - 1]);
        return pk_usage_error(c, "scale", "%s needs exactly one %s", k, what);
    }
    struct pk_err err = {0};
    const char *text = a->operand[1];
    if (o->kernel == K_SLEEP) {
        o->n = 1;
        if (pk_parse_real("sleep", text, 0, 60, &o->seconds, &err) != PK_OK || o->seconds <= 0)
            return pk_usage_error(c, "scale", "sleep expects seconds in (0, 60], got '%s'", text);
        return PK_EXIT_OK;
    }
    if (pk_parse_count("N", text, 1, UINT64_C(1) << 32, &o->n, &err) != PK_OK)
        return pk_usage_error(c, "scale", "%s", err.msg);
    return PK_EXIT_OK;
}

/* scale run: the kernels' own options are refused; the rest goes to pk_scale_run. */
static int check_run_options(const struct pk_comm *c, struct scale_opts *o, const struct pk_args *a)
{
    if (o->variant >= 0 || o->sumsq_tuning)
        return pk_usage_error(c, "scale",
                              "--range, --gauss, --array and --chunk are sumsq options");
    if (o->workers.n > 0)
        return pk_usage_error(c, "scale",
                              "--workers is for api, fetch and pipeline; run takes --threads, "
                              "--ranks and --budget");
    if (o->serial || o->common.no_verify)
        return pk_usage_error(c, "scale", "--%s does not apply to scale run",
                              o->serial ? "serial" : "no-verify");
    if (a->noperands > 1)
        return pk_usage_error(c, "scale", "unexpected argument '%s': the program goes after '--'",
                              a->operand[1]);
    if (o->run.resume && o->common.record && strcmp(o->run.resume, o->common.record) != 0)
        return pk_usage_error(c, "scale",
                              "--resume '%s' records to that file: leave out --record '%s'",
                              o->run.resume, o->common.record);
    struct pk_run_opts *r = &o->run;
    r->threads = o->threads;
    o->threads = (struct pk_count_list){0};
    r->mode = o->mode;
    r->seed = o->seed_given ? o->seed : (uint64_t)time(NULL) * 1000003u ^ (uint64_t)getpid();
    r->seed_given = o->seed_given;
    r->experiment = o->experiment;
    r->cmd = a->rest;
    r->ncmd = a->nrest;
    r->common = o->common;
    if (r->max_time_s > 0 && r->target_ci_pct <= 0)
        return pk_usage_error(c, "scale",
                              "--max-time is the budget of --target-ci: give --target-ci PCT");
    if (r->max_time_s <= 0)
        r->max_time_s = 60;
    return PK_EXIT_OK;
}

/* Options that belong to some kernels only are refused for the others. */
static int check_kernel_options(const struct pk_comm *c, struct scale_opts *o,
                                const struct pk_args *a)
{
    const char *k = kernel_words[o->kernel];
    if (o->kernel != K_RUN && o->run_opt)
        return pk_usage_error(c, "scale", "--%s is an option of scale run, not of %s",
                              run_only[o->run_opt], k);
    if (o->kernel != K_RUN && o->mode == 2)
        return pk_usage_error(c, "scale", "--mode throughput is for scale run, not %s", k);
    if (o->kernel == K_RUN)
        return check_run_options(c, o, a);
    if (o->kernel == K_SUMSQ && o->variant < 0)
        return pk_usage_error(c, "scale",
                              "sumsq needs exactly one of --range N, --gauss N, --array N");
    if (o->kernel != K_SUMSQ && o->variant >= 0)
        return pk_usage_error(c, "scale", "--range, --gauss and --array are sumsq options");
    if (o->kernel != K_SUMSQ && (o->sumsq_tuning || o->seed_given))
        return pk_usage_error(c, "scale", "--chunk and --seed are sumsq options");
    if (!is_io(o->kernel) && a->nrest > 0)
        return pk_usage_error(c, "scale", "options after '--' go to api, fetch or pipeline, not %s",
                              k);
    if (is_io(o->kernel) && o->threads.n > 0)
        return pk_usage_error(c, "scale", "api, fetch and pipeline sweep --workers, not --threads");
    if (!is_io(o->kernel) && o->workers.n > 0)
        return pk_usage_error(c, "scale",
                              "--workers is for api, fetch and pipeline; kernels take "
                              "--threads");
    /* the child verifies on its own; scale cannot skip it, or run it on one thread */
    if ((is_io(o->kernel) || o->kernel == K_SLEEP) && o->common.no_verify)
        return pk_usage_error(c, "scale", "--no-verify does not apply to scale %s", k);
    if (is_io(o->kernel) && o->serial)
        return pk_usage_error(c, "scale", "--serial is for the kernels, not %s", k);
    if ((o->kernel != K_API && o->kernel != K_FETCH) && (o->engines_text || o->concurrency.n))
        return pk_usage_error(c, "scale", "--%s is for api and fetch, not %s",
                              o->engines_text ? "engine" : "concurrency", k);
    return PK_EXIT_OK;
}

/* api, fetch, pipeline: one process, a worker list, {w} where pipeline needs it, strong only. */
static int check_io(const struct pk_comm *c, struct scale_opts *o, const struct pk_args *a)
{
    const char *k = kernel_words[o->kernel];
    if (o->concurrency.n) { /* one list, under the name the event-loop lesson uses */
        o->workers = o->concurrency;
        o->concurrency = (struct pk_count_list){0};
    }
    if (o->workers.n == 0)
        return pk_usage_error(c, "scale", "%s needs --workers LIST, e.g. 1,2,4,8", k);
    read_engines(o);
    if (c->nranks > 1)
        return pk_usage_error(c, "scale", "%s runs on one process; start it without mpirun", k);
    o->pass = a->rest;
    o->npass = a->nrest;
    bool has_w = false;
    for (size_t i = 0; i < o->npass; i++)
        has_w = has_w || strstr(o->pass[i], "{w}");
    if (o->kernel == K_PIPELINE && !has_w)
        return pk_usage_error(c, "scale",
                              "pipeline: put {w} where the worker count goes, e.g. -- --stages "
                              "a:0.01:{w},b:0.02:{w}");
    if (o->weak)
        return pk_usage_error(c, "scale", "%s sweeps are strong only (a fixed number of tasks)", k);
    o->n = 0;
    return PK_EXIT_OK;
}

/* With --engine, the worker list once per engine, the engines' points side by side. */
static int per_engine(struct scale_opts *o)
{
    size_t k = o->points.n, n = k * (size_t)o->nengines;
    uint64_t *v = realloc(o->points.v, n * sizeof *v);
    if (v)
        o->points.v = v;
    o->point_engine = calloc(n, sizeof *o->point_engine);
    if (!v || !o->point_engine)
        return PK_EXIT_RUNTIME;
    for (size_t i = 0; i < n; i++) {
        v[i] = v[i % k];
        o->point_engine[i] = o->engine[i / k];
    }
    o->points.n = n;
    return PK_EXIT_OK;
}

/* The largest size of a weak sweep must still be one the kernel takes. */
static int check_sizes(const struct pk_comm *c, const struct scale_opts *o)
{
    uint64_t most = 1;
    for (size_t i = 0; i < o->points.n; i++) {
        uint64_t w = o->points.v[i] * (uint64_t)c->nranks;
        most = w > most ? w : most;
    }
    if (!o->weak)
        most = 1;
    char text[96];
    if (o->n > UINT64_MAX / most) {
        snprintf(text, sizeof text, "%" PRIu64 " x %" PRIu64, o->n, most);
        return pk_usage_error(c, "scale", "weak scaling: %s workers overflows", text);
    }
    if (o->kernel == K_SUMSQ && o->variant == PK_SUMSQ_RANGE && o->n * most > PK_SUMSQ_RANGE_MAX) {
        snprintf(text, sizeof text, "%" PRIu64 " x %" PRIu64, o->n, most);
        return pk_usage_error(c, "scale",
                              "--range: %s workers would overflow 128 bits in the sum of "
                              "squares",
                              text);
    }
    return PK_EXIT_OK;
}

static void free_opts(struct scale_opts *o)
{
    pk_count_list_free(&o->threads);
    pk_count_list_free(&o->workers);
    pk_count_list_free(&o->concurrency);
    free(o->point_engine);
    pk_count_list_free(&o->points);
    pk_count_list_free(&o->run.threads);
    pk_count_list_free(&o->run.ranks);
    pk_count_list_free(&o->run.sizes);
}

/* parse -> kernel -> kernel options -> points -> sizes. *a keeps the rest for I/O kernels. */
static int parse(int argc, char **argv, const struct pk_comm *c, struct scale_opts *o,
                 struct pk_args *a)
{
    *o = (struct scale_opts){.variant = -1,
                             .chunk = 1000000,
                             .seed = 42,
                             .nranks = c->nranks,
                             .run = {.launcher = PK_LAUNCH_AUTO}};
    int status = parse_options(argc, argv, c, o, a);
    if (status != PK_EXIT_OK)
        return status;
    o->weak = o->mode == 1;
    if ((status = read_kernel(c, o, a)) != PK_EXIT_OK ||
        (status = check_kernel_options(c, o, a)) != PK_EXIT_OK || o->kernel == K_RUN)
        return status;
    if (is_io(o->kernel)) {
        if ((status = check_io(c, o, a)) != PK_EXIT_OK)
            return status;
        o->points = o->workers;
        o->workers = (struct pk_count_list){0};
        if (o->nengines && (status = per_engine(o)) != PK_EXIT_OK) {
            pk_error(c, false, "scale", "out of memory");
            return status;
        }
    } else if (o->threads.n > 0) {
        o->points = o->threads;
        o->threads = (struct pk_count_list){0};
    } else if (pk_scaling_default_threads(&o->points) != PK_EXIT_OK) {
        pk_error(c, false, "scale", "out of memory");
        return PK_EXIT_RUNTIME;
    }
    return check_sizes(c, o);
}

/* ---- the sweep --------------------------------------------------------------------------- */

static int append_record(const struct pk_comm *c, const struct scale_opts *o, const json_t *rec)
{
    struct pk_err err = {0};
    if (!o->common.record || pk_record_append(o->common.record, rec, &err) == PK_OK)
        return PK_EXIT_OK;
    pk_error(c, false, "scale", "%s", err.msg);
    return PK_EXIT_RUNTIME;
}

/* Point i: run, label with the scale block, append to --record at once (a sweep stopped later
 * keeps its points), and add to points (rank 0). Returns this rank's status. */
static int run_one(const struct pk_comm *c, const struct scale_opts *o, size_t i,
                   const char *experiment, json_t *points)
{
    int t = (int)o->points.v[i];
    int workers = t * c->nranks;
    uint64_t size = o->weak ? o->n * (uint64_t)workers : o->n;
    /* gathered per point: the warnings speak of this point's threads, and go out before it */
    json_t *sysinfo = pk_sysinfo_for_command(
        c, "scale", o->serial || o->kernel == K_SLEEP || is_io(o->kernel) ? 1 : t);
    bool over = c->rank == 0 && oversubscribed(sysinfo);
    json_t *rec = NULL;
    int status = run_point(c, o, size, t, o->point_engine ? o->point_engine[i] : -1, sysinfo, &rec);
    if (rec && is_io(o->kernel)) { /* the size is the command's task count */
        json_t *params = json_object_get(rec, "params");
        const char *key = o->kernel == K_API ? "tasks" : o->kernel == K_FETCH ? "urls" : "items";
        size = (uint64_t)json_integer_value(json_object_get(params, key));
        pk_record_set_provenance(rec, sysinfo);
    }
    json_decref(sysinfo);
    if (!rec)
        return status;
    json_object_set_new(rec, "scale",
                        json_pack("{s:o, s:s, s:s, s:i, s:i, s:i, s:I, s:I, s:b, s:b, s:i, s:i}",
                                  "experiment", pk_json_text(experiment), "mode",
                                  mode_names[o->weak], "kernel", kernel_name(o), "workers", workers,
                                  "threads", t, "ranks", c->nranks, "size", (json_int_t)size,
                                  "base_size", (json_int_t)o->n, "oversubscribed", over, "serial",
                                  o->serial, "point", (int)i, "points", (int)o->points.n));
    int rc = append_record(c, o, rec);
    json_array_append_new(points, rec);
    return status > rc ? status : rc;
}

/* Every point in turn; a failed point ends the sweep on every rank alike. */
static int sweep(const struct pk_comm *c, const struct scale_opts *o, const char *experiment,
                 json_t *points)
{
    bool tty = c->rank == 0 && isatty(STDERR_FILENO);
    int worst = PK_EXIT_OK;
    double start = pk_now_s();
    for (size_t i = 0; i < o->points.n; i++) {
        int status = run_one(c, o, i, experiment, points);
        worst = status > worst ? status : worst;
        if (tty) {
            double el = pk_now_s() - start;
            progress((int)i + 1, (int)o->points.n, el,
                     el / (double)(i + 1) * (double)(o->points.n - i - 1));
        }
        if (pk_dist_agree(c, status) != PK_EXIT_OK)
            break;
    }
    return worst;
}

/* ---- output ------------------------------------------------------------------------------ */

/* One point as the table and the CSV show it. */
struct row {
    int workers, threads, ranks;
    uint64_t size;
    double med, mn, mx, speedup, eff, rel;
    bool verified, over;
};

/* The point rec against the sweep's first point. */
static struct row row_of(const struct scale_opts *o, const json_t *rec, const json_t *first)
{
    const json_t *s = json_object_get(rec, "scale"), *tim = json_object_get(rec, "timing");
    struct row r = {
        .workers = (int)json_integer_value(json_object_get(s, "workers")),
        .threads = (int)json_integer_value(json_object_get(s, "threads")),
        .ranks = (int)json_integer_value(json_object_get(s, "ranks")),
        .size = (uint64_t)json_integer_value(json_object_get(s, "size")),
        .med = json_real_value(json_object_get(tim, "median_s")),
        .mn = json_real_value(json_object_get(tim, "min_s")),
        .mx = json_real_value(json_object_get(tim, "max_s")),
        .verified = json_is_true(json_object_get(rec, "verified")),
        .over = json_is_true(json_object_get(s, "oversubscribed")),
    };
    const json_t *s1 = json_object_get(first, "scale");
    double t1 = json_real_value(json_object_get(json_object_get(first, "timing"), "median_s"));
    int workers1 = (int)json_integer_value(json_object_get(s1, "workers"));
    r.rel = workers1 > 0 ? (double)r.workers / workers1 : 0; /* workers relative to the first */
    r.speedup = r.med > 0 ? (o->weak ? r.rel * t1 / r.med : t1 / r.med) : 0;
    r.eff = r.rel > 0 ? r.speedup / r.rel : 0;
    return r;
}

static const char *engine_of(const json_t *rec)
{
    return json_string_value(json_object_get(json_object_get(rec, "params"), "engine"));
}

/* The sweep's first point on rec's engine: speedups are measured within an engine. */
static const json_t *first_like(const json_t *points, const json_t *rec)
{
    const char *e = engine_of(rec);
    size_t i;
    json_t *p;
    json_array_foreach(points, i, p)
    {
        const char *pe = engine_of(p);
        if (!e || !pe || strcmp(e, pe) == 0)
            return p;
    }
    return json_array_get(points, 0);
}

static const char *verified_word(const struct scale_opts *o, const struct row *r, bool table)
{
    return r->verified ? "yes" : o->common.no_verify ? "skipped" : table ? "NO" : "no";
}

static void print_header(const struct scale_opts *o)
{
    char size[64];
    if (o->kernel == K_SLEEP)
        snprintf(size, sizeof size, "%g s of sleep", o->seconds);
    else if (is_io(o->kernel))
        snprintf(size, sizeof size, "a fixed number of tasks");
    else
        snprintf(size, sizeof size, "N = %" PRIu64, o->n);
    printf("# parkit scale: %s, %s scaling, %s%s, %d %s; median of %d after %d warm-up%s\n",
           kernel_name(o), mode_names[o->weak], size, o->weak ? " per worker" : "", o->nranks,
           pk_plural((unsigned long long)o->nranks, "rank", "ranks"), o->common.reps,
           o->common.warmup, o->serial ? "; --serial: one thread always" : "");
    printf("%7s %7s %5s %14s %10s %10s %10s %8s %10s %10s  %s\n", "workers", "threads", "ranks",
           "size", "median_s", "min_s", "max_s", "speedup", "efficiency", "karp-flatt", "verified");
}

static void print_row(const struct scale_opts *o, const struct row *r, const json_t *rec)
{
    char kf[16] = "-";
    /* Karp-Flatt: e = (1/S - 1/p) / (1 - 1/p), the serial fraction the measured speedup implies */
    if (r->rel > 1 && r->speedup > 0)
        snprintf(kf, sizeof kf, "%.3f", (1 / r->speedup - 1 / r->rel) / (1 - 1 / r->rel));
    printf("%7d %7d %5d %14" PRIu64 " %10.4f %10.4f %10.4f %8.2f %10.2f %10s  %s%s", r->workers,
           r->threads, r->ranks, r->size, r->med, r->mn, r->mx, r->speedup, r->eff, kf,
           verified_word(o, r, true), r->over ? "  oversubscribed" : "");
    if (is_io(o->kernel)) {
        /* throughput against the command's own bound: Little's law or the slowest stage */
        const json_t *res = json_object_get(rec, "result");
        double thr = json_number_value(json_object_get(res, "median_throughput_per_s"));
        double bound = json_number_value(
            json_object_get(res, o->kernel == K_API ? "littles_bound" : "bound_per_s"));
        if (o->nengines)
            printf("  %-7s", engine_of(rec) ? engine_of(rec) : "?");
        printf("  %.1f/s", thr);
        if (bound > 0)
            printf(" = %.0f%% of bound %.1f/s", 100 * thr / bound, bound);
    }
    putchar('\n');
}

static void print_table(const json_t *points, const void *ctx)
{
    const struct scale_opts *o = ctx;
    print_header(o);
    size_t i;
    json_t *rec;
    json_array_foreach(points, i, rec)
    {
        struct row r = row_of(o, rec, first_like(points, rec));
        print_row(o, &r, rec);
    }
}

static void print_csv(const json_t *points, struct pk_csvw *w, const void *ctx)
{
    const struct scale_opts *o = ctx;
    static const char *const header[] = {"kernel",         "mode",    "workers",    "threads",
                                         "ranks",          "size",    "median_s",   "min_s",
                                         "max_s",          "speedup", "efficiency", "verified",
                                         "oversubscribed", "engine",  NULL};
    pk_csvw_row(w, header);
    size_t i;
    json_t *rec;
    json_array_foreach(points, i, rec)
    {
        struct row r = row_of(o, rec, first_like(points, rec));
        pk_csvw_field(w, kernel_name(o));
        pk_csvw_field(w, mode_names[o->weak]);
        pk_csvw_fieldf(w, "%d", r.workers);
        pk_csvw_fieldf(w, "%d", r.threads);
        pk_csvw_fieldf(w, "%d", r.ranks);
        pk_csvw_fieldf(w, "%" PRIu64, r.size);
        pk_csvw_fieldf(w, "%.9f", r.med);
        pk_csvw_fieldf(w, "%.9f", r.mn);
        pk_csvw_fieldf(w, "%.9f", r.mx);
        pk_csvw_fieldf(w, "%.4f", r.speedup);
        pk_csvw_fieldf(w, "%.4f", r.eff);
        pk_csvw_field(w, verified_word(o, &r, false));
        pk_csvw_field(w, r.over ? "yes" : "no");
        pk_csvw_field(w, engine_of(rec)); /* api and fetch; empty for the others */
        pk_csvw_end(w);
    }
}

int pk_cmd_scale(int argc, char **argv, const struct pk_comm *c)
{
    if (argc >= 2 && strcmp(argv[1], "grain") == 0)
        return pk_scale_grain(argc, argv, c);
    struct scale_opts o;
    struct pk_args args = {0};
    int status = parse(argc, argv, c, &o, &args);
    if (status != PK_EXIT_OK) {
        free_opts(&o);
        pk_args_free(&args);
        return pk_opts_exit(status);
    }
    /* one id for the whole sweep, so `report` can tell experiments apart */
    char experiment[128];
    if (o.experiment)
        snprintf(experiment, sizeof experiment, "%s", o.experiment);
    else
        snprintf(experiment, sizeof experiment, "%s-%ld-%d", kernel_name(&o), (long)time(NULL),
                 (int)getpid());
    if (o.kernel == K_RUN) {
        status = pk_scale_run(c, &o.run);
        free_opts(&o);
        pk_args_free(&args);
        return status;
    }
    json_t *points = json_array();
    status = sweep(c, &o, experiment, points);
    if (c->rank != 0 || json_array_size(points) == 0) { /* nothing to show: the error said why */
        json_decref(points);
        points = NULL;
    }
    /* every point went to --record as it finished; the emitter shows the sweep */
    struct pk_common_opts shown = o.common;
    shown.record = NULL;
    static const struct pk_view view = {print_table, print_csv};
    status = pk_emit(c, "scale", &shown, &view, &o, points, status);
    free_opts(&o);
    pk_args_free(&args);
    return status;
}
