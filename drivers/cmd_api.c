/* SPDX-License-Identifier: MIT */
/* parkit api: simulated API calls, sequential and through the io/ pool (the tutorials'
 * ThreadPoolExecutor over slow calls). Each call waits a latency drawn in advance from a seeded
 * GSL distribution, per task and attempt, so the sequential and pooled runs face exactly the same
 * calls; a call may fail (--fail-rate) or overrun its timeout (--timeout, the task's token
 * deadline) and is retried up to --retries times.
 *
 * Verified: every task's outcome (success, or failure after its retries) matches the plan drawn
 * in advance, each task ran exactly once per attempt, and for --preset stores the business
 * summary matches its closed form. */
#include "commands.h"
#include "interrupt.h"
#include "parkit/pool.h"
#include "record.h"
#include "sysinfo.h"
#include "timing.h"

#include <getopt.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_RETRIES 10

static const char usage[] =
    "Usage: parkit api [--tasks N] [--workers W] [--latency DIST] [options]\n"
    "       parkit api --preset stores|health\n"
    "Simulated API calls: each waits its latency; runs them one after another, then on a pool\n"
    "of W threads, and prints both, the speedup, and the pooled throughput against Little's\n"
    "law, W / mean latency.\n"
    "\n"
    "  --tasks N         calls (default 50)\n"
    "  --workers W       pool threads, 1..4096 (default 10)\n"
    "  --latency DIST    fixed:S | uniform:A:B | exponential:MEAN | lognormal:MU:SIGMA (seconds;\n"
    "                    lognormal of the seconds' log), drawn with GSL (default fixed:0.1)\n"
    "  --seed S          seed of every draw (default 42)\n"
    "  --fail-rate P     probability that a call fails, 0..1 (default 0)\n"
    "  --timeout S       a call taking longer is abandoned (default: none)\n"
    "  --retries R       attempts after a failure or timeout, 0..10 (default 0)\n"
    "  --no-sequential   skip the sequential run\n"
    "  --preset stores   the tutorial's 50 stores x 0.1 s on 10 workers, with its business\n"
    "                    summary (sales = 25000 + 800 id, profit = 0.28 sales - 12000)\n"
    "  --preset health   the tutorial's health checks, printed as they complete\n"
    "\n"
    "The latencies, failures and retries are drawn before either run, so both runs make the\n"
    "same calls. Verified: every call's outcome matches that plan (exit 3 otherwise). A run with\n"
    "calls that failed after their retries exits 1.\n\n";

enum dist { FIXED, UNIFORM, EXPONENTIAL, LOGNORMAL };

struct plan {
    size_t n;
    int attempts;        /* 1 + retries */
    double timeout_s;    /* 0: none */
    double *latency_s;   /* [task * attempts + attempt] */
    unsigned char *fail; /* same index: the call fails */
    int *expect_ok;      /* task succeeds within its attempts */
};

struct call_ctx {
    const struct plan *plan;
    size_t task;
    _Atomic int *ran; /* attempts made, per task (each attempt exactly once) */
    int attempt_used;
    bool ok;
};

static int parse_latency(const char *text, enum dist *d, double *a, double *b, struct pk_err *err)
{
    char name[16] = "", tail = 0;
    *a = *b = 0;
    int n = sscanf(text, "%15[a-z]:%lf:%lf%c", name, a, b, &tail);
    bool ok = false;
    if (strcmp(name, "fixed") == 0) {
        *d = FIXED;
        ok = n == 2 && *a >= 0 && *a <= 3600;
    } else if (strcmp(name, "uniform") == 0) {
        *d = UNIFORM;
        ok = n == 3 && *a >= 0 && *b >= *a && *b <= 3600;
    } else if (strcmp(name, "exponential") == 0) {
        *d = EXPONENTIAL;
        ok = n == 2 && *a > 0 && *a <= 3600;
    } else if (strcmp(name, "lognormal") == 0) {
        *d = LOGNORMAL; /* mu and sigma of log(seconds) */
        ok = n == 3 && *a >= -50 && *a <= 8 && *b >= 0 && *b <= 10;
    }
    if (ok)
        return PK_OK;
    return pk_fail(err, PK_EINVAL,
                   "--latency expects fixed:S, uniform:A:B, exponential:MEAN (seconds in [0, "
                   "3600]) or lognormal:MU:SIGMA, got '%s'",
                   text);
}

static double draw(gsl_rng *r, enum dist d, double a, double b)
{
    double v = d == FIXED         ? a
               : d == UNIFORM     ? gsl_ran_flat(r, a, b)
               : d == EXPONENTIAL ? gsl_ran_exponential(r, a)
                                  : gsl_ran_lognormal(r, a, b);
    return v < 3600 ? v : 3600;
}

/* One simulated call, the attempts made one after another (on a pool thread or the caller's). */
static int call(void *arg, struct pk_cancel *cancel, void **result, struct pk_err *err)
{
    struct call_ctx *c = arg;
    const struct plan *p = c->plan;
    (void)result;
    for (int k = 0; k < p->attempts; k++) {
        size_t at = c->task * (size_t)p->attempts + (size_t)k;
        atomic_fetch_add(&c->ran[c->task], 1);
        double lat = p->latency_s[at];
        bool overrun = p->timeout_s > 0 && lat > p->timeout_s;
        /* the pool's token lets Ctrl-C end the wait at once; the sequential run sleeps plainly */
        int rc = cancel ? pk_cancel_sleep(cancel, overrun ? p->timeout_s : lat)
                        : pk_sleep_interruptible(overrun ? p->timeout_s : lat);
        if (rc != PK_OK)
            return pk_fail(err, rc, "task %zu cancelled", c->task);
        if (!overrun && !p->fail[at]) {
            c->attempt_used = k + 1;
            c->ok = true;
            return PK_OK;
        }
    }
    c->attempt_used = p->attempts;
    c->ok = false;
    double last = p->latency_s[(c->task + 1) * (size_t)p->attempts - 1];
    bool timed_out = p->timeout_s > 0 && last > p->timeout_s;
    return pk_fail(err, timed_out ? PK_ETIMEDOUT : PK_ENET, "%s after %d attempt%s",
                   timed_out ? "timed out" : "error", p->attempts, p->attempts > 1 ? "s" : "");
}

static const char *const health_names[] = {"auth",   "users", "orders", "payments",
                                           "search", "email", "cdn",    "metrics"};

/* Draws every attempt's latency and failure before any run; expect_ok says which tasks will
 * succeed within their attempts. */
static int make_plan(struct plan *p, size_t n, int attempts, double timeout_s, enum dist d,
                     double a, double b, double fail_rate, uint64_t seed)
{
    *p = (struct plan){.n = n, .attempts = attempts, .timeout_s = timeout_s};
    size_t m = n * (size_t)attempts;
    p->latency_s = calloc(m ? m : 1, sizeof *p->latency_s);
    p->fail = calloc(m ? m : 1, 1);
    p->expect_ok = calloc(n ? n : 1, sizeof *p->expect_ok);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_taus2);
    if (!p->latency_s || !p->fail || !p->expect_ok || !r) {
        gsl_rng_free(r);
        return PK_ENOMEM;
    }
    for (size_t t = 0; t < n; t++) {
        gsl_rng_set(r, pk_gauss_chunk_seed(seed, t)); /* one stream per task: any order */
        for (int k = 0; k < attempts; k++) {
            size_t at = t * (size_t)attempts + (size_t)k;
            p->latency_s[at] = draw(r, d, a, b);
            p->fail[at] = gsl_rng_uniform(r) < fail_rate;
            bool overrun = timeout_s > 0 && p->latency_s[at] > timeout_s;
            if (!p->expect_ok[t] && !overrun && !p->fail[at])
                p->expect_ok[t] = k + 1; /* attempts it takes */
        }
    }
    gsl_rng_free(r);
    return PK_OK;
}

static void free_plan(struct plan *p)
{
    free(p->latency_s);
    free(p->fail);
    free(p->expect_ok);
}

/* Time a task spends in the plan: its attempts' waits until the first success. */
static double task_time(const struct plan *p, size_t t)
{
    double s = 0;
    int used = p->expect_ok[t] ? p->expect_ok[t] : p->attempts;
    for (int k = 0; k < used; k++) {
        double lat = p->latency_s[t * (size_t)p->attempts + (size_t)k];
        s += p->timeout_s > 0 && lat > p->timeout_s ? p->timeout_s : lat;
    }
    return s;
}

/* Checks every task against the plan; returns the number of mismatches. */
static size_t check_run(const struct plan *p, const struct call_ctx *ctx, const _Atomic int *ran)
{
    size_t bad = 0;
    for (size_t t = 0; t < p->n; t++) {
        int want_used = p->expect_ok[t] ? p->expect_ok[t] : p->attempts;
        bool want_ok = p->expect_ok[t] != 0;
        bad += ctx[t].ok != want_ok || ctx[t].attempt_used != want_used ||
               atomic_load(&ran[t]) != want_used;
    }
    return bad;
}

int pk_cmd_api(int argc, char **argv, const struct pk_comm *c)
{
    static const struct option longopts[] = {{"tasks", required_argument, NULL, 'n'},
                                             {"workers", required_argument, NULL, 'w'},
                                             {"latency", required_argument, NULL, 'l'},
                                             {"seed", required_argument, NULL, 's'},
                                             {"fail-rate", required_argument, NULL, 'f'},
                                             {"timeout", required_argument, NULL, 'T'},
                                             {"retries", required_argument, NULL, 'R'},
                                             {"no-sequential", no_argument, NULL, 'Q'},
                                             {"preset", required_argument, NULL, 'P'},
                                             PK_COMMON_LONGOPTS,
                                             {NULL, 0, NULL, 0}};
    struct pk_common_opts common;
    pk_common_defaults(&common);
    uint64_t n = 50, workers = 10, seed = 42, retries = 0;
    double fail_rate = 0, timeout_s = 0, a = 0.1, b = 0;
    enum dist d = FIXED;
    bool sequential = true, stores = false, health = false;
    struct pk_err err = {0};
    opterr = 0;
    optind = 1;
    int code;
    while ((code = getopt_long(argc, argv, ":n:" PK_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
        int rc = PK_OK;
        char *end = NULL;
        switch (code) {
        case 'n':
            rc = pk_parse_count("--tasks", optarg, 0, UINT64_C(1) << 24, &n, &err);
            break;
        case 'w':
            rc = pk_parse_count("--workers", optarg, 1, 4096, &workers, &err);
            break;
        case 'l':
            rc = parse_latency(optarg, &d, &a, &b, &err);
            break;
        case 's':
            rc = pk_parse_count("--seed", optarg, 0, UINT64_MAX, &seed, &err);
            break;
        case 'f':
            fail_rate = strtod(optarg, &end);
            if (end == optarg || *end || !(fail_rate >= 0 && fail_rate <= 1))
                rc = pk_fail(&err, PK_EINVAL,
                             "--fail-rate expects a probability in [0, 1], "
                             "got '%s'",
                             optarg);
            break;
        case 'T':
            timeout_s = strtod(optarg, &end);
            if (end == optarg || *end || !(timeout_s > 0 && timeout_s <= 3600))
                rc = pk_fail(&err, PK_EINVAL, "--timeout expects seconds in (0, 3600], got '%s'",
                             optarg);
            break;
        case 'R':
            rc = pk_parse_count("--retries", optarg, 0, MAX_RETRIES, &retries, &err);
            break;
        case 'Q':
            sequential = false;
            break;
        case 'P':
            stores = strcmp(optarg, "stores") == 0;
            health = strcmp(optarg, "health") == 0;
            if (!stores && !health)
                rc =
                    pk_fail(&err, PK_EINVAL, "--preset expects stores or health, got '%s'", optarg);
            break;
        default: {
            int handled = pk_cli_option(c, "api", usage, code, argv, &common);
            if (handled == PK_OPT_HELP_SHOWN)
                return PK_EXIT_OK;
            if (handled != PK_OPT_DONE)
                return PK_EXIT_USAGE;
        }
        }
        if (rc != PK_OK) {
            pk_error(c, false, "api", "%s", err.msg);
            return PK_EXIT_USAGE;
        }
    }
    if (pk_cli_no_operands(c, "api", argc, argv) != PK_EXIT_OK)
        return PK_EXIT_USAGE;
    if (pk_cli_single_process(c, "api") != PK_EXIT_OK)
        return PK_EXIT_USAGE;
    if (stores) { /* the tutorial: 50 stores, 0.1 s each, 10 workers */
        n = 50;
        workers = 10;
        d = FIXED;
        a = 0.1;
    } else if (health) { /* eight services, some slow or down */
        n = sizeof health_names / sizeof health_names[0];
        workers = n;
        d = UNIFORM;
        a = 0.05;
        b = 0.3;
        fail_rate = 0.2;
        timeout_s = 0.25;
        sequential = false;
    }
    struct plan plan;
    struct call_ctx *ctx = calloc(n ? n : 1, sizeof *ctx);
    _Atomic int *ran = calloc(n ? n : 1, sizeof *ran);
    struct pk_future **fut = calloc(n ? n : 1, sizeof *fut);
    int rc = make_plan(&plan, (size_t)n, (int)retries + 1, timeout_s, d, a, b, fail_rate, seed);
    if (rc != PK_OK || !ctx || !ran || !fut) {
        pk_error(c, false, "api", "out of memory");
        free_plan(&plan);
        free(ctx);
        free(ran);
        free(fut);
        return PK_EXIT_RUNTIME;
    }
    pk_interrupt_install();
    size_t bad = 0, failed = 0;
    double seq_s = 0, pool_s = 0;
    if (sequential) {
        double t0 = pk_now_s();
        for (size_t t = 0; t < n && !pk_interrupted(); t++) {
            ctx[t] = (struct call_ctx){.plan = &plan, .task = t, .ran = ran};
            call(&ctx[t], NULL, NULL, NULL);
        }
        seq_s = pk_now_s() - t0;
        if (!pk_interrupted())
            bad += check_run(&plan, ctx, ran);
    }
    struct pk_pool *pool = NULL;
    struct pk_queue *done = NULL;
    size_t finished = 0;
    if (!pk_interrupted() && pk_pool_create((int)workers, &pool) == PK_OK &&
        pk_queue_create(n ? n : 1, pk_future_release_item, &done) == PK_OK) {
        for (size_t t = 0; t < n; t++) {
            atomic_store(&ran[t], 0);
            ctx[t] = (struct call_ctx){.plan = &plan, .task = t, .ran = ran};
        }
        if (health)
            printf("# health checks as they complete (timeout %.2f s)\n", timeout_s);
        double t0 = pk_now_s();
        for (size_t t = 0; t < n; t++)
            if (pk_pool_submit(pool, call, &ctx[t], 0, done, &fut[t]) != PK_OK)
                fut[t] = NULL;
        /* as_completed; Ctrl-C cancels what has not finished */
        while (finished < n) {
            void *f;
            int prc = pk_queue_pop_timed(done, &f, 0.05);
            if (pk_interrupted()) {
                pk_pool_shutdown(pool, true, NULL);
                break;
            }
            if (prc != PK_OK)
                continue;
            struct pk_err ferr = {0};
            int st = pk_future_wait(f, -1, NULL, &ferr);
            finished++;
            if (health) {
                size_t t = 0;
                while (t < n && fut[t] != f)
                    t++;
                printf("%-10s %s  %.3f s%s%s\n", t < n ? health_names[t] : "?",
                       st == PK_OK ? "UP  " : "DOWN", pk_now_s() - t0, st == PK_OK ? "" : "  ",
                       st == PK_OK ? "" : ferr.msg);
            }
            pk_future_release(f);
        }
        pool_s = pk_now_s() - t0;
        pk_pool_shutdown(pool, true, NULL);
        if (!pk_interrupted())
            bad += check_run(&plan, ctx, ran);
        for (size_t t = 0; t < n; t++)
            failed += !ctx[t].ok;
    } else if (!pk_interrupted()) {
        pk_error(c, false, "api", "cannot start %llu workers", (unsigned long long)workers);
        rc = PK_ENOMEM;
    }
    pk_interrupt_restore();
    for (size_t t = 0; t < n; t++)
        pk_future_release(fut[t]);
    pk_pool_destroy(pool);
    pk_queue_destroy(done);

    double mean_t = 0;
    for (size_t t = 0; t < n; t++)
        mean_t += task_time(&plan, t) / (double)(n ? n : 1);
    double bound = mean_t > 0 ? (double)workers / mean_t : 0;
    double thr = pool_s > 0 ? (double)finished / pool_s : 0;
    bool verified = !pk_interrupted() && rc == PK_OK && bad == 0;
    int status = pk_interrupted() || rc != PK_OK ? PK_EXIT_RUNTIME
                 : !verified                     ? PK_EXIT_VERIFY
                 : failed                        ? PK_EXIT_RUNTIME
                                                 : PK_EXIT_OK;
    /* the tutorial's business summary over the stores that answered */
    uint64_t answered = 0, profitable = 0;
    double sales = 0, profit = 0;
    for (size_t t = 0; stores && t < n; t++) {
        if (!ctx[t].ok)
            continue;
        double s_t = 25000.0 + 800.0 * (double)(t + 1), p_t = 0.28 * s_t - 12000.0;
        answered++;
        sales += s_t;
        profit += p_t;
        profitable += p_t > 5000;
    }
    if (stores && verified && answered == n) {
        /* closed forms: sales = sum of 25000 + 800 id over id = 1..n; profit = 224 id - 5000,
         * so a store is profitable (profit > 5000) iff id >= 45 */
        double want = 25000.0 * (double)n + 800.0 * (double)n * (double)(n + 1) / 2;
        uint64_t want_prof = n >= 45 ? n - 44 : 0;
        if (fabs(sales - want) > 1e-6 * want || profitable != want_prof) {
            verified = false;
            status = PK_EXIT_VERIFY;
        }
    }
    json_t *rec = pk_record_new("api");
    json_object_set_new(rec, "params",
                        json_pack("{s:I, s:I, s:s, s:f, s:f, s:f, s:f, s:I, s:I, s:s}", "tasks",
                                  (json_int_t)n, "workers", (json_int_t)workers, "latency",
                                  d == FIXED         ? "fixed"
                                  : d == UNIFORM     ? "uniform"
                                  : d == EXPONENTIAL ? "exponential"
                                                     : "lognormal",
                                  "a", a, "b", b, "fail_rate", fail_rate, "timeout_s", timeout_s,
                                  "retries", (json_int_t)retries, "seed", (json_int_t)seed,
                                  "preset",
                                  stores   ? "stores"
                                  : health ? "health"
                                           : "none"));
    json_object_set_new(rec, "result",
                        json_pack("{s:f, s:f, s:f, s:f, s:f, s:I, s:I}", "sequential_s", seq_s,
                                  "pooled_s", pool_s, "throughput_per_s", thr, "littles_bound",
                                  bound, "mean_task_s", mean_t, "finished", (json_int_t)finished,
                                  "failed", (json_int_t)failed));
    json_object_set_new(rec, "verified", json_boolean(verified));
    pk_record_set_timing(rec, &pool_s, 1, 0);
    json_t *sysinfo = pk_sysinfo_for_command(c, "api", 1);
    pk_record_set_provenance(rec, sysinfo);
    if (common.format == PK_FORMAT_JSON) {
        json_dumpf(rec, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
        putchar('\n');
    } else {
        printf("# parkit api: %llu calls, %llu workers, mean %.4f s per call (with retries)\n",
               (unsigned long long)n, (unsigned long long)workers, mean_t);
        if (sequential)
            printf("Sequential  %.3f s\n", seq_s);
        printf("Concurrent  %.3f s", pool_s);
        if (sequential && pool_s > 0)
            printf("   Speedup %.2fx", seq_s / pool_s);
        printf("\nthroughput  %.2f calls/s, %.0f%% of Little's law bound W / mean = %.2f\n", thr,
               bound > 0 ? 100 * thr / bound : 0.0, bound);
        if (stores)
            printf("business    %llu of %llu stores answered; total sales %.0f, total profit "
                   "%.0f; %llu profitable (profit > 5000)\n",
                   (unsigned long long)answered, (unsigned long long)n, sales, profit,
                   (unsigned long long)profitable);
        printf("failed      %zu call%s after retries\n", failed, failed == 1 ? "" : "s");
        printf("verified    %s\n", verified           ? "yes (every call as planned)"
                                   : pk_interrupted() ? "no (interrupted)"
                                                      : "NO");
    }
    if (common.record && pk_record_append(common.record, rec, &err) != PK_OK) {
        pk_error(c, false, "api", "%s", err.msg);
        status = PK_EXIT_RUNTIME;
    }
    if (pk_interrupted())
        pk_error(c, false, "api", "interrupted after %zu of %llu calls", finished,
                 (unsigned long long)n);
    else if (status == PK_EXIT_VERIFY)
        pk_error(c, false, "api", "verification failed");
    else if (failed)
        pk_error(c, false, "api", "%zu call%s failed after %llu retr%s", failed,
                 failed == 1 ? "" : "s", (unsigned long long)retries, retries == 1 ? "y" : "ies");
    json_decref(rec);
    json_decref(sysinfo);
    free_plan(&plan);
    free(ctx);
    free(ran);
    free(fut);
    return status;
}
