/* SPDX-License-Identifier: MIT */
/* parkit demo: the main job. Every kernel at laptop size, run sequentially (one thread per
 * rank) and concurrently (all threads), verified, as the tutorials' table "Sequential |
 * Concurrent | Speedup"; then the I/O drivers (simulated API calls, CSV reports, an assembly
 * line), each sequential against its pool; the same kernel on 2 threads and on 2 processes
 * (MPI ranks through mpirun); then a thread-scaling sweep of sumsq and factsum with its report
 * and plots, written to a directory named at the end. */
#include "commands.h"
#include "emit.h"
#include "opt.h"
#include "parkit/features.h"
#include "record.h"
#include "selfrun.h"
#include "sysinfo.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* n times the demo's size factor, at least 1. */
static uint64_t sized(uint64_t n, double factor)
{
    double v = (double)n * factor;
    return v < 1 ? 1 : (uint64_t)v;
}

/* The sizes of one demo row. */
struct demo_item {
    enum pk_sumsq_variant variant; /* sumsq rows */
    uint64_t n[4];                 /* sizes (factsum, fib: up to four N) */
    size_t count;
};

static int run_sumsq(const struct demo_item *it, const struct pk_comm *c,
                     const struct pk_common_opts *common, double factor, const json_t *sysinfo,
                     json_t **record)
{
    struct pk_sumsq_opts o = {.variant = it->variant,
                              .n = sized(it->n[0], factor),
                              .chunk = 1000000,
                              .seed = 42,
                              .common = *common};
    return pk_sumsq_execute(c, &o, sysinfo, record);
}

static int run_factsum(const struct demo_item *it, const struct pk_comm *c,
                       const struct pk_common_opts *common, double factor, const json_t *sysinfo,
                       json_t **record)
{
    uint64_t n[4];
    for (size_t i = 0; i < it->count; i++)
        n[i] = sized(it->n[i], factor);
    struct pk_factsum_opts o = {.n = n, .count = it->count, .common = *common};
    return pk_factsum_execute(c, &o, sysinfo, record);
}

static int run_fib(const struct demo_item *it, const struct pk_comm *c,
                   const struct pk_common_opts *common, double factor, const json_t *sysinfo,
                   json_t **record)
{
    uint64_t n[4];
    for (size_t i = 0; i < it->count; i++)
        n[i] = sized(it->n[i], factor);
    struct pk_fib_opts o = {.n = n, .count = it->count, .common = *common};
    return pk_fib_execute(c, &o, sysinfo, record);
}

struct demo_row {
    const char *label;
    const char *size;
    int (*run)(const struct demo_item *it, const struct pk_comm *c,
               const struct pk_common_opts *common, double factor, const json_t *sysinfo,
               json_t **record);
    struct demo_item item;
};

static const struct demo_row rows[] = {
    {"sumsq --range (exact int128)",
     "1e9",
     run_sumsq,
     {.variant = PK_SUMSQ_RANGE, .n = {1000000000}, .count = 1}},
    {"sumsq --gauss (GSL chunks)",
     "2e7",
     run_sumsq,
     {.variant = PK_SUMSQ_GAUSS, .n = {20000000}, .count = 1}},
    {"sumsq --array (float64, RAM)",
     "2^25",
     run_sumsq,
     {.variant = PK_SUMSQ_ARRAY, .n = {UINT64_C(1) << 25}, .count = 1}},
    {"factsum (tutorial: 4 N)",
     "1e3..4e3",
     run_factsum,
     {.n = {1000, 2000, 3000, 4000}, .count = 4}},
    {"factsum (one large N)", "3e5", run_factsum, {.n = {300000}, .count = 1}},
    {"fib (tutorial: 4 N)",
     "1e5..4e5",
     run_fib,
     {.n = {100000, 200000, 300000, 400000}, .count = 4}},
};

static double result_num(const json_t *rec, const char *key)
{
    return json_number_value(json_object_get(json_object_get(rec, "result"), key));
}

static void io_row(const char *label, const char *size, double seq, double par, bool ok,
                   const char *note)
{
    printf("%-30s %12s %10.4f s %10.4f s %7.2fx  %s%s\n", label, size, seq, par,
           par > 0 ? seq / par : 0.0, ok ? "yes" : "NO", note);
    fflush(stdout);
}

static bool path_join(char *out, size_t n, const char *dir, const char *name);

/* transform runs on rank 0 as its own process, 1 thread then nthreads: a kernel row like the
 * others, from the records it prints. */
static int transform_rows(double factor, const struct pk_common_opts *common)
{
    static const struct {
        const char *label, *op, *size;
        uint64_t n, chunk;
    } ops[] = {{"transform chunk (SLEEF sin)", "chunk", "1e8", 100000000, 1000000},
               {"transform heavy (SLEEF)", "heavy", "2e7", 20000000, 500000}};
    if (!pk_command_built("transform")) { /* a build without SLEEF: said, not hidden */
        printf("%-30s %12s %s\n", "transform", "", "not in this build (parkit --version says why)");
        return PK_EXIT_OK;
    }
    int worst = PK_EXIT_OK;
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        char n[32], chunk[32], t[2][16], r[16], w[16];
        snprintf(n, sizeof n, "%llu", (unsigned long long)sized(ops[k].n, factor));
        snprintf(chunk, sizeof chunk, "%llu", (unsigned long long)sized(ops[k].chunk, factor));
        snprintf(t[0], sizeof t[0], "1");
        snprintf(t[1], sizeof t[1], "%d", common->nthreads);
        snprintf(r, sizeof r, "%d", common->reps);
        snprintf(w, sizeof w, "%d", common->warmup);
        double median[2] = {0, 0};
        bool ok = true;
        for (int pass = 0; pass < 2; pass++) {
            char *args[] = {
                "parkit",   "transform", "--op",  (char *)ops[k].op, "--n", n,          "--chunk",
                chunk,      "-t",        t[pass], "--reps",          r,     "--warmup", w,
                "--format", "json",      NULL};
            json_t *rec;
            int rc = pk_run_self_json(args, &rec);
            median[pass] =
                json_number_value(json_object_get(json_object_get(rec, "timing"), "median_s"));
            ok = ok && rc == 0 && json_is_true(json_object_get(rec, "verified"));
            if (rc != 0 && worst == PK_EXIT_OK)
                worst = rc < 0 ? PK_EXIT_RUNTIME : rc;
            json_decref(rec);
        }
        char size[32];
        snprintf(size, sizeof size, "%s%s", ops[k].size, factor < 1 ? " /1000" : "");
        io_row(ops[k].label, size, median[0], median[1], ok, "");
    }
    return worst;
}

/* The I/O drivers, on rank 0 only (they run on one process); returns the worst exit status. */
static int io_rows(const char *dir)
{
    int worst = PK_EXIT_OK;
    json_t *rec;
    char *api[] = {"parkit",    "api",        "--tasks",  "50",   "--workers", "10",
                   "--latency", "fixed:0.02", "--format", "json", NULL};
    int rc = pk_run_self_json(api, &rec);
    io_row("api (50 calls, 10 workers)", "20 ms", result_num(rec, "sequential_s"),
           result_num(rec, "pooled_s"), rc == 0 && json_is_true(json_object_get(rec, "verified")),
           "");
    worst = rc != 0 ? (rc < 0 ? PK_EXIT_RUNTIME : rc) : worst;
    json_decref(rec);

    char csv[4096];
    if (!path_join(csv, sizeof csv, dir, "csv"))
        return PK_EXIT_USAGE;
    char *make[] = {"parkit", "files",  "--make", csv,       "--count",
                    "20",     "--rows", "10000",  "--force", NULL};
    pid_t pid = fork();
    if (pid == 0) {
        /* its one line of progress is not part of the table */
        if (!freopen("/dev/null", "w", stdout))
            _exit(127);
        execv("/proc/self/exe", make);
        _exit(127);
    }
    int st = 0;
    rc = pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    if (rc == 0) {
        char *files[] = {"parkit", "files", csv, "--format", "json", NULL};
        rc = pk_run_self_json(files, &rec);
        io_row("files (20 CSV reports)", "1e4 rows", result_num(rec, "sequential_s"),
               result_num(rec, "pooled_s"),
               rc == 0 && json_is_true(json_object_get(rec, "verified")), "");
        json_decref(rec);
    }
    worst = rc != 0 && worst == PK_EXIT_OK ? (rc < 0 ? PK_EXIT_RUNTIME : rc) : worst;

    char *line[] = {
        "parkit",  "pipeline", "--stages", "prepare:0.03:1,assemble:0.04:1,inspect:0.02:1",
        "--items", "10",       "--format", "json",
        NULL};
    rc = pk_run_self_json(line, &rec);
    io_row("pipeline (3 stages, 10 items)", "0.09 s/item", 10 * 0.09, result_num(rec, "wall_s"),
           rc == 0 && json_is_true(json_object_get(rec, "verified")),
           "  (sequential = sum of stage times)");
    json_decref(rec);
    worst = rc != 0 && worst == PK_EXIT_OK ? (rc < 0 ? PK_EXIT_RUNTIME : rc) : worst;
    return worst;
}

/* out = dir/name; false when it does not fit (the caller says so). */
static bool path_join(char *out, size_t n, const char *dir, const char *name)
{
    return (size_t)snprintf(out, n, "%s/%s", dir, name) < n;
}

/* mkdir -p */
static int make_dirs(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, 0777) != 0 && errno != EEXIST ? -1 : 0;
}

/* The thread sweep of sumsq and factsum (collective: every rank runs it), then rank 0 reports. */
static int sweep(const struct pk_comm *c, const char *dir, const struct pk_common_opts *common,
                 double factor)
{
    int nthreads = common->nthreads;
    char range[32], fact[32];
    snprintf(range, sizeof range, "%llu", (unsigned long long)sized(4000000000, factor));
    snprintf(fact, sizeof fact, "%llu", (unsigned long long)sized(200000, factor));
    char threads[256] = "1", records[4096], plots[4096], r[16], w[16];
    for (int t = 2; t <= nthreads; t *= 2)
        snprintf(threads + strlen(threads), sizeof threads - strlen(threads), ",%d", t);
    if (nthreads > 1 && (nthreads & (nthreads - 1)))
        snprintf(threads + strlen(threads), sizeof threads - strlen(threads), ",%d", nthreads);
    if (!path_join(records, sizeof records, dir, "records.jsonl") ||
        !path_join(plots, sizeof plots, dir, "plots"))
        return pk_dist_agree(c, PK_EXIT_USAGE);
    snprintf(r, sizeof r, "%d", common->reps < 3 ? 3 : common->reps);
    snprintf(w, sizeof w, "%d", common->warmup);
    if (c->rank == 0)
        printf("\n# thread-scaling sweep (parkit scale), records in %s\n", records);
    fflush(stdout);
    char *s1[] = {"scale", "sumsq",    "--range", range,      "-t",    threads, "--reps",
                  r,       "--warmup", w,         "--record", records, NULL};
    char *s2[] = {"scale", "factsum",  fact, "-t",       threads, "--reps",
                  r,       "--warmup", w,    "--record", records, NULL};
    int worst = pk_cmd_scale(12, s1, c);
    if (c->rank == 0)
        putchar('\n');
    int rc = pk_cmd_scale(11, s2, c);
    worst = rc > worst ? rc : worst;
    if (c->rank == 0 && worst == PK_EXIT_OK) {
        printf("\n# report (parkit report %s --plots %s)\n", records, plots);
        fflush(stdout);
        if (make_dirs(plots) != 0) {
            pk_error(c, false, "demo", "cannot create '%s': %s", plots, strerror(errno));
            worst = PK_EXIT_RUNTIME;
        } else {
            char *rep[] = {"report", records, "--plots", plots, NULL};
            rc = pk_cmd_report(4, rep, c);
            worst = rc > worst ? rc : worst;
        }
    }
    return pk_dist_agree(c, worst);
}

/* ---- options ----------------------------------------------------------------------------- */

struct demo_opts {
    uint64_t scale; /* every size times this */
    bool tiny, quick;
    const char *out;
    double factor; /* scale, or 1/1000 with --tiny */
    struct pk_common_opts common;
};

static const char description[] =
    "Runs each kernel at laptop size with 1 thread and with T threads (default: all cores),\n"
    "verifies every result, and prints Sequential | Concurrent | Speedup. Under mpirun every\n"
    "rank takes part.\n"
    "Kernels: sumsq --range 1e9 (exact, 128-bit), sumsq --gauss 2e7 (chunks of 1e6),\n"
    "sumsq --array 2^25 (float64 in memory, 256 MiB), factsum 1000 2000 3000 4000 (the\n"
    "tutorial), factsum 3e5, fib 1e5 2e5 3e5 4e5 (the tutorial), transform chunk 1e8 and\n"
    "heavy 2e7 (on rank 0).\n"
    "Then, on rank 0, the I/O drivers, each one after another and on a pool: api (50 calls of\n"
    "20 ms, 10 workers), files (20 CSV reports of 1e4 rows, made first), pipeline (the\n"
    "tutorial's three stages at a tenth of their times; its sequential time is the sum of\n"
    "the stage times, not a run). Then 10,000 waits of 10 ms at once (api), a pool thread per\n"
    "wait against one event-loop thread (1,000 with --tiny). Then threads vs processes: sumsq\n"
    "--range 1e9 on 2 threads of one process and on 2 processes (mpirun -np 2, when MPI is\n"
    "built and mpirun is on PATH):\n"
    "the same value (verified) and, in C, about the same speedup. Last, a thread-scaling sweep\n"
    "(parkit scale) of sumsq --range and factsum from 1 to T threads, and its report (parkit\n"
    "report) with plots.\n"
    "Each table is printed as its rows finish, so there is no --format; --record keeps\n"
    "every kernel run's record.\n";

static int check_out(const struct pk_opt *opt, const char *text, struct pk_err *err)
{
    (void)opt;
    if (strlen(text) <= 3000)
        return PK_OK;
    return pk_fail(err, PK_EINVAL, "--out path is too long (%zu bytes)", strlen(text));
}

static int parse(int argc, char **argv, const struct pk_comm *c, struct demo_opts *o)
{
    *o = (struct demo_opts){.scale = 1};
    const struct pk_opt table[] = {
        {"scale", 0, PK_OPT_COUNT, &o->scale, "K", "multiply every size by K (default 1)", .min = 1,
         .max = 1000000, .group = 1},
        {"tiny", 0, PK_OPT_FLAG, &o->tiny, NULL,
         "every kernel and sweep size divided by 1000: a smoke test of the demo\n"
         "itself (the times mean nothing)",
         .group = 1},
        {"out", 0, PK_OPT_PATH, &o->out, "DIR",
         "where the sweep's records, report and plots and the CSV reports go\n"
         "(default results/demo/<UTC time>)",
         .check = check_out},
        {"quick", 0, PK_OPT_FLAG, &o->quick, NULL, "skip the I/O drivers and the sweep"},
        {NULL},
    };
    const struct pk_cmd_spec spec = {
        .name = "demo",
        .synopsis = "[-t T] [--reps R] [--record FILE] [--scale K | --tiny] [--out DIR] [--quick]",
        .summary = "The main job: every kernel sequential and concurrent, the I/O drivers, a "
                   "scaling sweep.",
        .description = description,
        .opts = table,
        .shared = PK_SHARED_THREADS | PK_SHARED_TIMED | PK_SHARED_RECORD,
        .reps_default = 3,
    };
    int status = pk_opts_parse(&spec, c, argc, argv, &o->common, NULL);
    o->factor = o->tiny ? 1e-3 : (double)o->scale;
    return status;
}

/* ---- the kernel table -------------------------------------------------------------------- */

/* One kernel row: 1 thread, then all; each record appended to --record. */
static int kernel_row(const struct pk_comm *c, const struct demo_opts *o,
                      const struct demo_row *row, const json_t *sysinfo)
{
    double median[2] = {0, 0};
    bool ok[2] = {false, false};
    int worst = PK_EXIT_OK;
    for (int pass = 0; pass < 2; pass++) {
        struct pk_common_opts common = o->common;
        common.nthreads = pass == 0 ? 1 : o->common.nthreads;
        json_t *rec = NULL;
        int status = row->run(&row->item, c, &common, o->factor, sysinfo, &rec);
        worst = status > worst ? status : worst;
        struct pk_err err = {0};
        if (rec) {
            median[pass] =
                json_real_value(json_object_get(json_object_get(rec, "timing"), "median_s"));
            ok[pass] = json_is_true(json_object_get(rec, "verified"));
            if (o->common.record && pk_record_append(o->common.record, rec, &err) != PK_OK) {
                pk_error(c, false, "demo", "%s", err.msg);
                worst = worst > PK_EXIT_RUNTIME ? worst : PK_EXIT_RUNTIME;
            }
        }
        json_decref(rec);
    }
    if (c->rank != 0)
        return worst;
    char size[32];
    if (o->tiny)
        snprintf(size, sizeof size, "%s /1000", row->size);
    else if (o->scale == 1)
        snprintf(size, sizeof size, "%s", row->size);
    else
        snprintf(size, sizeof size, "%s x%llu", row->size, (unsigned long long)o->scale);
    io_row(row->label, size, median[0], median[1], ok[0] && ok[1], "");
    return worst;
}

/* The kernels and transform, sequential against concurrent. Returns the agreed status. */
static int kernel_table(const struct pk_comm *c, const struct demo_opts *o)
{
    json_t *sysinfo = pk_sysinfo_for_command(c, "demo", o->common.nthreads);
    if (c->rank == 0) {
        int nt = o->common.nthreads;
        printf("parkit demo: 1 thread vs %d threads per rank, %d %s, median of %d runs after %d "
               "warm-up\n\n",
               nt, c->nranks, pk_plural((unsigned long long)c->nranks, "rank", "ranks"),
               o->common.reps, o->common.warmup);
        printf("%-30s %12s %12s %12s %8s  %s\n", "kernel", "size", "Sequential", "Concurrent",
               "Speedup", "verified");
        fflush(stdout);
    }
    int worst = PK_EXIT_OK;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int rc = kernel_row(c, o, &rows[i], sysinfo);
        worst = rc > worst ? rc : worst;
    }
    if (c->rank == 0) {
        int rc = transform_rows(o->factor, &o->common);
        worst = rc > worst ? rc : worst;
    }
    json_decref(sysinfo);
    return pk_dist_agree(c, worst);
}

/* The demo prints as it goes, so it ends as pk_emit would: a failed write of stdout is a
 * failure, a failed verification is named, and every rank agrees. */
static int demo_done(const struct pk_comm *c, int status)
{
    if (c->rank == 0 && (fflush(stdout) != 0 || ferror(stdout))) {
        pk_error(c, false, "demo", "cannot write the output: %s", strerror(errno));
        status = status == PK_EXIT_OK ? PK_EXIT_RUNTIME : status;
    }
    if (status == PK_EXIT_VERIFY)
        pk_error(c, false, "demo", "verification failed");
    return pk_dist_agree(c, status);
}

/* ---- the I/O drivers and the sweep ------------------------------------------------------- */

/* ---- threads vs the event loop ----------------------------------------------------------- */

/* N waits of 10 ms all at once (api's calls): a pool thread per wait, then timers on one event
 * loop. Their sequential time is N x 10 ms (not run); the ideal is 10 ms. */
static int waits_rows(const struct demo_opts *o)
{
    const char *n = o->tiny ? "1000" : "10000";
    printf("\n# %s waits of 10 ms at once: a thread per wait against one event-loop thread "
           "(ideal 0.010 s)\n", o->tiny ? "1,000" : "10,000");
    int worst = PK_EXIT_OK;
    for (int e = 0; e < 2; e++) {
        char *api[] = {"parkit", "api", "--tasks", (char *)n, "--workers", (char *)n,
                       "--latency", "0.01", "--no-sequential", "--engine",
                       e ? "loop" : "threads", "--format", "json", NULL};
        json_t *rec = NULL;
        int rc = pk_run_self_json(api, &rec);
        char label[64];
        snprintf(label, sizeof label, "api, %s", e ? "1 event-loop thread" : "a thread per wait");
        io_row(label, "10 ms", 0.01 * atof(n), result_num(rec, "pooled_s"),
               rc == 0 && json_is_true(json_object_get(rec, "verified")),
               "  (sequential = N x 10 ms, not run)");
        json_decref(rec);
        worst = rc != 0 && worst == PK_EXIT_OK ? (rc < 0 ? PK_EXIT_RUNTIME : rc) : worst;
    }
    return worst;
}

/* ---- threads vs processes ---------------------------------------------------------------- */

/* The first executable `name` on PATH, into out; false when there is none. */
static bool find_on_path(const char *name, char *out, size_t n)
{
    const char *path = getenv("PATH");
    for (const char *p = path ? path : ""; *p;) {
        size_t len = strcspn(p, ":");
        if (len > 0 && (size_t)snprintf(out, n, "%.*s/%s", (int)len, p, name) < n &&
            access(out, X_OK) == 0)
            return true;
        p += len + (p[len] == ':');
    }
    return false;
}

/* The child's environment: this one, plus what Open MPI needs to start 2 ranks anywhere the
 * demo runs (as root in a container, on one core, without ptrace between ranks), unless the
 * user set them. Static: built once, kept for the child. */
static char *const *mpi_env(void)
{
    extern char **environ;
    static char *env[512];
    static char *const extra[] = {
        "OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1",
        "OMPI_MCA_rmaps_base_oversubscribe=1", "OMPI_MCA_btl_vader_single_copy_mechanism=none"};
    size_t n = 0;
    for (char **e = environ; *e && n < 512 - 5; e++)
        env[n++] = *e;
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++) {
        size_t key = strcspn(extra[i], "=");
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)key, extra[i]);
        if (!getenv(name))
            env[n++] = extra[i];
    }
    env[n] = NULL;
    return env;
}

/* One sumsq --range run of the pair, from its record: median time, value, verified. */
struct pair_run {
    double median_s;
    char value[64];
    bool ok;
    int rc;
};

static void pair_run(const char *path, char *const args[], char *const envp[],
                     struct pair_run *out)
{
    json_t *rec = NULL;
    *out = (struct pair_run){.rc = pk_run_json(path, args, envp, &rec)};
    out->median_s = json_number_value(json_object_get(json_object_get(rec, "timing"), "median_s"));
    const char *v = json_string_value(json_object_get(json_object_get(rec, "result"), "value"));
    snprintf(out->value, sizeof out->value, "%s", v ? v : "");
    out->ok = out->rc == 0 && v && json_is_true(json_object_get(rec, "verified"));
    json_decref(rec);
}

/* The same kernel (sumsq --range, exact) on 1 thread, on 2 threads of one process and on 2
 * processes of 1 thread (mpirun -np 2): the same value, and in C about the same speedup, since
 * threads have no global lock: the tutorials' lesson made the other way round. Rank 0 only;
 * returns the worst exit status (3 when the values differ). */
static int threads_vs_processes(const struct demo_opts *o)
{
    char n[32], size[32], r[16], w[16], self[PATH_MAX], mpirun[PATH_MAX];
    snprintf(n, sizeof n, "%llu", (unsigned long long)sized(1000000000, o->factor));
    if (o->tiny)
        snprintf(size, sizeof size, "1e9 /1000");
    else if (o->scale == 1)
        snprintf(size, sizeof size, "1e9");
    else
        snprintf(size, sizeof size, "1e9 x%llu", (unsigned long long)o->scale);
    snprintf(r, sizeof r, "%d", o->common.reps);
    snprintf(w, sizeof w, "%d", o->common.warmup);
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    self[len > 0 ? len : 0] = '\0';
    printf("\n# threads vs processes: sumsq --range %s, 2 threads in one process against 2 "
           "processes (MPI ranks, 1 thread each)\n",
           size);
    struct pair_run one, two, ranks = {.rc = -1};
    char *a1[] = {"parkit", "sumsq", "--range", n,      "-t",       "1",    "--reps",
                  r,        "--warmup", w,      "--format", "json", NULL};
    pair_run("/proc/self/exe", a1, NULL, &one);
    a1[5] = "2";
    pair_run("/proc/self/exe", a1, NULL, &two);
    io_row("sumsq, 2 threads (1 process)", size, one.median_s, two.median_s, one.ok && two.ok, "");
    const char *why = !PK_FEATURE_MPI              ? "this build has no MPI"
                      : !find_on_path("mpirun", mpirun, sizeof mpirun) ? "mpirun not found"
                      : !self[0]                   ? "cannot name this program"
                                                   : NULL;
    if (!why) {
        char *a2[] = {"mpirun", "-np", "2", self, "sumsq", "--range", n, "-t", "1", "--reps", r,
                      "--warmup", w, "--format", "json", NULL};
        pair_run(mpirun, a2, mpi_env(), &ranks);
        io_row("sumsq, 2 processes (mpirun)", size, one.median_s, ranks.median_s, ranks.ok, "");
    } else {
        printf("%-30s %12s not run: %s\n", "sumsq, 2 processes (mpirun)", size, why);
    }
    bool same = one.ok && two.ok && strcmp(one.value, two.value) == 0 &&
                (why || (ranks.ok && strcmp(one.value, ranks.value) == 0));
    printf("same result %s (%s)\n", same ? "yes" : "NO", one.value);
    int worst = one.rc > two.rc ? one.rc : two.rc;
    worst = !why && ranks.rc > worst ? ranks.rc : worst;
    worst = worst < 0 ? PK_EXIT_RUNTIME : worst;
    return worst == PK_EXIT_OK && !same ? PK_EXIT_VERIFY : worst;
}

/* --out, or results/demo/<UTC time>, made on rank 0 (collective). */
static int output_dir(const struct pk_comm *c, const struct demo_opts *o, char *dir, size_t size)
{
    if (o->out) {
        snprintf(dir, size, "%s", o->out);
    } else {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(dir, size, "results/demo/%Y%m%dT%H%M%SZ", &tm);
    }
    int rc = PK_EXIT_OK;
    if (c->rank == 0 && make_dirs(dir) != 0) {
        pk_error(c, false, "demo", "cannot create '%s': %s", dir, strerror(errno));
        rc = PK_EXIT_RUNTIME;
    }
    return pk_dist_agree(c, rc);
}

int pk_cmd_demo(int argc, char **argv, const struct pk_comm *c)
{
    struct demo_opts o;
    int status = parse(argc, argv, c, &o);
    if (status != PK_EXIT_OK)
        return pk_opts_exit(status);
    int worst = kernel_table(c, &o);
    if (o.quick || worst != PK_EXIT_OK)
        return demo_done(c, worst);
    char dir[4096];
    if (output_dir(c, &o, dir, sizeof dir) != PK_EXIT_OK)
        return PK_EXIT_RUNTIME;
    int rc = c->rank == 0 ? io_rows(dir) : PK_EXIT_OK;
    if (c->rank == 0) {
        int waits = waits_rows(&o);
        rc = waits > rc ? waits : rc;
    }
    if (c->rank == 0 && c->nranks == 1) { /* under mpirun already: the rows above have ranks */
        int pair = threads_vs_processes(&o);
        rc = pair > rc ? pair : rc;
    }
    worst = pk_dist_agree(c, rc);
    rc = sweep(c, dir, &o.common, o.factor);
    worst = rc > worst ? rc : worst;
    if (c->rank == 0)
        printf("\nparkit demo: records, report plots and CSV reports are in %s\n", dir);
    return demo_done(c, worst);
}
