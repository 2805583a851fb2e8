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
#include "emit.h"
#include "interrupt.h"
#include "opt.h"
#include "parkit/loop.h"
#include "parkit/pool.h"
#include "record.h"
#include "sysinfo.h"
#include "timing.h"

#include <ctype.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_RETRIES 10

static const char description[] =
    "Each call waits its latency. The calls run one after another, then on a pool of W threads;\n"
    "printed: both times, the speedup, and the pooled throughput against Little's law,\n"
    "W / mean latency.\n"
    "\n"
    "The latencies, failures and retries are drawn before either run, so both runs make the\n"
    "same calls. Verified: every call's outcome matches that plan (exit 3 otherwise); --preset\n"
    "stores also checks its business summary against the closed form. A run with calls that\n"
    "failed after their retries exits 1. The calls only wait: --workers is the one parallelism\n"
    "to choose, and every run is checked. Runs on one process.\n"
    "\n"
    "--durations and --preset health print each result as it completes and check that they\n"
    "completed in the order the pool plays out. A health check that answers \"unhealthy\" is a\n"
    "result (exit 0); one that runs past --timeout is a failed check (exit 1), and says so.\n";

enum dist { FIXED, UNIFORM, EXPONENTIAL, LOGNORMAL };
enum { ENGINE_THREADS, ENGINE_LOOP };
static const char *const engine_names[] = {"threads", "loop", NULL};

/* --latency: the text as given (first, so that it is the option's destination) and what it
 * means once checked. */
struct latency {
    const char *text;
    enum dist d;
    double a, b; /* the distribution's parameters */
};

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
    _Atomic int *ran;           /* attempts made, per task (each attempt exactly once) */
    _Atomic size_t *finish_seq; /* shared: tasks finished so far, in completion order */
    int attempt_used;
    int attempt_now; /* the loop engine's: the attempt under way, -1 before the first */
    bool ok, timed_out;
    size_t finished_as; /* this task's place in the completion order */
};

/* --durations: the text as given (first: the option's destination) and the seconds it lists. */
enum { MAX_DURATIONS = 1024 };
struct durations {
    const char *text;
    size_t n;
    double s[MAX_DURATIONS];
};

/* A business model of the stores lessons, in whole dollars: store id (1..n) sells
 * base + per_id * id, its profit is 28% of its sales less cost, and it is profitable when the
 * profit is above `above`. Profits are kept in cents (28 * sales - 100 * cost), so every figure
 * is exact. */
struct store_model {
    int64_t base, per_id, cost, above;
};

/* The health lesson's services and how long each one's check takes. */
struct service {
    const char *name;
    double check_s;
};
static const struct service health_services[] = {
    {"Database", 0.5}, {"Cache", 0.1}, {"Auth", 0.3}, {"Payments", 0.4}, {"Email", 0.2},
};
enum { N_SERVICES = sizeof health_services / sizeof health_services[0] };

/* The .check of --latency: the text is in l->text (its first member); fills in what it means. */
static int check_latency(const struct pk_opt *opt, const char *text, struct pk_err *err)
{
    struct latency *l = opt->dest;
    char name[16] = "", tail = 0, *end = NULL;
    l->a = l->b = 0;
    int n = sscanf(text, "%15[a-z]:%lf:%lf%c", name, &l->a, &l->b, &tail);
    /* sscanf stops at the first character a number cannot have: "fixed:2^64" would be
     * fixed:2. Every character must belong to the fields read. */
    int used = 0;
    if (n == 2)
        sscanf(text, "%*15[a-z]:%*f%n", &used);
    else if (n == 3)
        sscanf(text, "%*15[a-z]:%*f:%*f%n", &used);
    if ((n == 2 || n == 3) && text[used] != 0)
        n = 0;
    bool ok = false;
    double bare = strtod(text, &end);
    /* decimal text only: strtod alone would also take inf, nan and hex */
    bool decimal = (isdigit((unsigned char)text[0]) || text[0] == '.') &&
                   strspn(text, "0123456789.eE+-") == strlen(text);
    if (decimal && end != text && !*end) {
        /* a bare number, as people type it: fixed seconds */
        l->d = FIXED;
        l->a = bare;
        ok = l->a >= 0 && l->a <= 3600;
    } else if (strcmp(name, "fixed") == 0) {
        l->d = FIXED;
        ok = n == 2 && l->a >= 0 && l->a <= 3600;
    } else if (strcmp(name, "uniform") == 0) {
        l->d = UNIFORM;
        ok = n == 3 && l->a >= 0 && l->b >= l->a && l->b <= 3600;
    } else if (strcmp(name, "exponential") == 0) {
        l->d = EXPONENTIAL;
        ok = n == 2 && l->a > 0 && l->a <= 3600;
    } else if (strcmp(name, "lognormal") == 0) {
        l->d = LOGNORMAL; /* mu and sigma of log(seconds) */
        ok = n == 3 && l->a >= -50 && l->a <= 8 && l->b >= 0 && l->b <= 10;
    }
    if (ok)
        return PK_OK;
    return pk_fail(err, PK_EINVAL,
                   "--latency expects S or fixed:S, uniform:A:B, exponential:MEAN (seconds in "
                   "[0, 3600]) or lognormal:MU:SIGMA, got '%s'",
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

/* Starts attempt k of a call: counts it and returns how long it waits. */
static double attempt_start(struct call_ctx *c, int k)
{
    const struct plan *p = c->plan;
    atomic_fetch_add(&c->ran[c->task], 1);
    double lat = p->latency_s[c->task * (size_t)p->attempts + (size_t)k];
    return p->timeout_s > 0 && lat > p->timeout_s ? p->timeout_s : lat;
}

/* Ends attempt k: whether the call is over (answered, or out of attempts). */
static bool attempt_end(struct call_ctx *c, int k)
{
    const struct plan *p = c->plan;
    size_t at = c->task * (size_t)p->attempts + (size_t)k;
    bool answered = !(p->timeout_s > 0 && p->latency_s[at] > p->timeout_s) && !p->fail[at];
    if (!answered && k + 1 < p->attempts)
        return false;
    c->attempt_used = k + 1;
    c->ok = answered;
    c->timed_out = !answered && p->timeout_s > 0 && p->latency_s[at] > p->timeout_s;
    c->finished_as = atomic_fetch_add(c->finish_seq, 1);
    return true;
}

/* A call that is over: PK_OK, or why it failed. */
static int call_status(const struct call_ctx *c, struct pk_err *err)
{
    const struct plan *p = c->plan;
    const char *s = p->attempts > 1 ? "s" : "";
    if (c->ok)
        return PK_OK;
    if (c->timed_out)
        return pk_fail(err, PK_ETIMEDOUT,
                       "no answer within the %.3g s timeout (the call takes "
                       "%.3g s) after %d attempt%s",
                       p->timeout_s, p->latency_s[(c->task + 1) * (size_t)p->attempts - 1],
                       p->attempts, s);
    return pk_fail(err, PK_ENET, "error after %d attempt%s", p->attempts, s);
}

/* One simulated call, the attempts made one after another (on a pool thread or the caller's). */
static int call(void *arg, struct pk_cancel *cancel, void **result, struct pk_err *err)
{
    struct call_ctx *c = arg;
    (void)result;
    for (int k = 0;; k++) {
        double wait = attempt_start(c, k);
        /* the pool's token lets Ctrl-C end the wait at once; the sequential run sleeps plainly */
        int rc = cancel ? pk_cancel_sleep(cancel, wait) : pk_sleep_interruptible(wait);
        if (rc != PK_OK)
            return pk_fail(err, rc, "task %zu cancelled", c->task);
        if (attempt_end(c, k))
            return call_status(c, err);
    }
}

/* The same call on the event loop: each attempt a timer. */
static int call_step(void *arg, struct pk_lctx *lctx, double *sleep_s, void **result,
                     struct pk_err *err)
{
    struct call_ctx *c = arg;
    (void)lctx, (void)result;
    if (c->attempt_now >= 0 && attempt_end(c, c->attempt_now))
        return call_status(c, err);
    *sleep_s = attempt_start(c, ++c->attempt_now);
    return PK_STEP_SLEEP;
}

static const struct pk_ltask_ops call_ops = {call_step, NULL};

/* A handle of the concurrent run: a pool future or a loop task. */
static void handle_release(int kind, void *h)
{
    if (kind == ENGINE_LOOP)
        pk_ltask_release(h);
    else
        pk_future_release(h);
}

static void handle_release_loop(void *h)
{
    pk_ltask_release(h);
}

/* Draws every attempt's latency and failure before any run; expect_ok says which tasks will
 * succeed within their attempts. given_s (NULL: drawn) fixes each task's latency. */
static int make_plan(struct plan *p, size_t n, int attempts, double timeout_s, enum dist d,
                     double a, double b, double fail_rate, uint64_t seed, const double *given_s)
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
            p->latency_s[at] = given_s ? given_s[t] : draw(r, d, a, b);
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

enum { GIVEN_TASKS = 1, GIVEN_WORKERS = 2, GIVEN_LATENCY = 4, GIVEN_FAIL = 8, GIVEN_TIMEOUT = 16 };

/* What the command was asked to do, presets applied. */
struct api_opts {
    uint64_t n, workers, seed, retries;
    uint64_t concurrency;        /* 0: not given */
    int engine;                  /* ENGINE_* */
    double fail_rate, timeout_s; /* timeout 0: none */
    struct latency lat;
    int preset; /* -1: none; else an index into preset_names */
    int given;  /* GIVEN_* of the options on the command line, which a preset must not drop */
    bool no_sequential, sequential, health;
    const struct store_model *stores; /* the stores presets; NULL: none */
    struct durations dur;             /* --durations, or the health checks' */
    struct pk_common_opts common;     /* of the shared options, api takes --record and --format */
};

/* The two runs over the same plan, and how they went. */
struct api_run {
    struct plan plan;
    struct call_ctx *ctx;
    _Atomic int *ran;
    void **handle; /* the concurrent run's futures or loop tasks */
    int engine;
    size_t bad;       /* tasks that did not go as planned, over both runs */
    size_t failed;    /* tasks of the pooled run that failed after their retries */
    size_t finished;  /* tasks of the pooled run that finished (ok or not) */
    size_t timed_out; /* of the failed: those that ran past their timeout */
    _Atomic size_t finish_seq;
    double seq_s, pool_s;
    int rc;
    bool interrupted;
};

/* What is reported besides the times. */
struct api_summary {
    double mean_t, bound, thr; /* plan's mean time per task, Little's bound, pooled calls/s */
    uint64_t answered, profitable, healthy;
    int64_t sales, profit_c, profitable_c; /* stores presets, over the stores that answered:
                                            * dollars; profits in cents, all and profitable */
    bool in_order;                         /* the completion order is the one the durations give */
    bool verified;
    int status;
};

/* The stores lessons: the lesson (50 stores x 0.1 s, 10 workers), its first step (5 stores x
 * 1 s) and its exercise (20 stores x 0.2 s, workers the user's choice). */
static const struct preset_stores {
    uint64_t n, workers; /* workers 0: the user's --workers */
    double latency_s;
    struct store_model m;
} preset_stores[] = {
    {50, 10, 0.1, {25000, 800, 12000, 5000}},
    {5, 5, 1.0, {25000, 800, 12000, 5000}},
    {20, 0, 0.2, {20000, 1000, 8000, 5000}},
};
static const char *const preset_names[] = {"stores", "health", "stores-first", "stores-exercise",
                                           NULL};
static const int preset_stores_of[] = {0, -1, 1, 2}; /* by preset: its preset_stores, or -1 */

/* The tutorials' presets replace what they set; an option that a preset sets, given with it,
 * is refused (exit 2) rather than dropped without a word. */
static int apply_preset(const struct pk_comm *c, struct api_opts *o)
{
    static const char *const names[] = {"--tasks", "--workers", "--latency", "--fail-rate",
                                        "--timeout"};
    const struct preset_stores *ps = o->preset >= 0 && preset_stores_of[o->preset] >= 0
                                         ? &preset_stores[preset_stores_of[o->preset]]
                                         : NULL;
    int sets = ps          ? GIVEN_TASKS | GIVEN_LATENCY | (ps->workers ? GIVEN_WORKERS : 0)
               : o->health ? GIVEN_TASKS | GIVEN_WORKERS | GIVEN_LATENCY | GIVEN_FAIL
                           : 0;
    for (int k = 0; k < 5; k++)
        if (o->given & sets & (1 << k))
            return pk_usage_error(c, "api", "--preset %s sets %s itself: give one or the other",
                                  preset_names[o->preset], names[k]);
    if (ps) {
        o->stores = &ps->m;
        o->n = ps->n;
        o->workers = ps->workers ? ps->workers : o->workers;
        o->lat.d = FIXED;
        o->lat.a = ps->latency_s;
    } else if (o->health) { /* five services checked at once, each one's check as long as it is */
        o->n = N_SERVICES;
        o->workers = N_SERVICES;
        o->dur.n = N_SERVICES;
        for (size_t i = 0; i < N_SERVICES; i++)
            o->dur.s[i] = health_services[i].check_s;
        o->fail_rate = 0.2; /* the lesson's draw: a service is unhealthy one time in five */
        o->sequential = false;
    } else if (o->dur.n) {
        o->n = o->dur.n;
    }
    return PK_EXIT_OK;
}

/* The .check of --durations: seconds, comma-separated, each in [0, 3600]. */
static int check_durations(const struct pk_opt *opt, const char *text, struct pk_err *err)
{
    struct durations *d = opt->dest;
    const char *p = text;
    d->n = 0;
    for (;;) {
        char *end = NULL;
        size_t len = strcspn(p, ","); /* decimal text only: strtod alone takes hex too */
        bool decimal =
            (isdigit((unsigned char)*p) || *p == '.') && strspn(p, "0123456789.eE+-") >= len;
        double v = decimal ? strtod(p, &end) : -1;
        if (v < 0 || v > 3600 || !end || end == p || (*end && *end != ',') || d->n == MAX_DURATIONS)
            return pk_fail(err, PK_EINVAL,
                           "--durations expects up to %d seconds in [0, 3600], comma-separated "
                           "(3,2,1,0.5), got '%s'",
                           MAX_DURATIONS, text);
        d->s[d->n++] = v;
        if (!*end)
            return PK_OK;
        p = end + 1;
    }
}

/* Fills o, presets applied; returns a pk_opts_parse result (errors and help printed). */
/* What the table cannot say: one process, --durations without --tasks or a preset; then the
 * preset applied. */
static int check_parsed(const struct pk_comm *c, struct api_opts *o)
{
    o->sequential = !o->no_sequential;
    o->health = o->preset == 1;
    if (pk_cli_single_process(c, "api") != PK_EXIT_OK)
        return PK_EXIT_USAGE;
    if (o->dur.n && ((o->given & GIVEN_TASKS) || o->preset >= 0))
        return pk_usage_error(c, "api", "--durations sets the calls: give no %s",
                              (o->given & GIVEN_TASKS) ? "--tasks" : "--preset");
    return apply_preset(c, o);
}

static int parse(int argc, char **argv, const struct pk_comm *c, struct api_opts *o)
{
    *o = (struct api_opts){
        .n = 50, .workers = 10, .seed = 42, .lat = {.d = FIXED, .a = 0.1}, .preset = -1};
    enum { G_LATENCY = 1 }; /* --latency and --durations both say how long the calls take */
    int given[5] = {0};     /* one per option: a tag sets its int */
    const struct pk_opt table[] = {
        {"tasks", 'n', PK_OPT_COUNT, &o->n, "N", "calls (default 50)", .max = UINT64_C(1) << 24,
         .tag = &given[0], .tag_value = GIVEN_TASKS},
        {"workers", 0, PK_OPT_COUNT, &o->workers, "W",
         "calls in flight, as Python's max_workers: threads: the pool's\n"
         "threads; loop: the calls its one thread waits on at once\n"
         "(1..16384, default 10)",
         .min = 1, .max = 16384, .tag = &given[1], .tag_value = GIVEN_WORKERS},
        {"engine", 0, PK_OPT_ENUM, &o->engine, "E",
         "threads: a thread per call in flight (the pool); loop: timers on\n"
         "one event-loop thread (default threads)",
         .choices = engine_names},
        {"concurrency", 0, PK_OPT_COUNT, &o->concurrency, "C",
         "calls in flight at most, for either engine (default: --workers)", .min = 1,
         .max = UINT64_C(1) << 24},
        {"latency", 0, PK_OPT_STRING, &o->lat.text, "DIST",
         "fixed:S | uniform:A:B | exponential:MEAN | lognormal:MU:SIGMA, or S:\n"
         "a bare number S is fixed:S (seconds, 0..3600; lognormal: of the\n"
         "seconds' log), drawn with GSL (default fixed:0.1)",
         .check = check_latency, .tag = &given[2], .tag_value = GIVEN_LATENCY, .group = G_LATENCY},
        {"durations", 0, PK_OPT_STRING, &o->dur.text, "S,S,...",
         "one call per duration, each taking that long (seconds): the\n"
         "as_completed demo, results printed as they finish and their order\n"
         "checked (calls that finish within 0.05 s of each other may swap)",
         .check = check_durations, .group = G_LATENCY},
        {"seed", 0, PK_OPT_COUNT, &o->seed, "S", "seed of every draw (default 42)"},
        {"fail-rate", 0, PK_OPT_REAL, &o->fail_rate, "P",
         "probability that a call fails, 0..1 (default 0)", .rmin = 0, .rmax = 1, .tag = &given[3],
         .tag_value = GIVEN_FAIL},
        {"timeout", 0, PK_OPT_SECONDS, &o->timeout_s, "S",
         "a call taking longer is abandoned, up to 1h (default 0: none)", .rmax = 3600,
         .tag = &given[4], .tag_value = GIVEN_TIMEOUT},
        {"retries", 0, PK_OPT_COUNT, &o->retries, "R",
         "attempts after a failure or timeout, 0..10 (default 0)", .max = MAX_RETRIES},
        {"no-sequential", 0, PK_OPT_FLAG, &o->no_sequential, NULL, "skip the sequential run"},
        {"preset", 0, PK_OPT_ENUM, &o->preset, "NAME",
         "stores: the tutorial's 50 stores x 0.1 s on 10 workers, with its\n"
         "business summary (sales = 25000 + 800 id, profit = 0.28 sales - 12000,\n"
         "profitable above 5000); stores-first: its first step, 5 stores x 1 s;\n"
         "stores-exercise: its exercise, 20 stores x 0.2 s on --workers\n"
         "(sales = 20000 + 1000 id, profit = 0.28 sales - 8000); health: the\n"
         "tutorial's five health checks on five workers, printed as they\n"
         "complete (table only), a seeded one in five unhealthy. Sets --tasks,\n"
         "--workers (not stores-exercise) and --latency (health: also\n"
         "--fail-rate), which may then not be given",
         .choices = preset_names},
        {NULL},
    };
    /* No -t, --reps, --warmup or --no-verify: the calls only wait (--workers is the
     * parallelism), each run is made once, and it is always checked. */
    const struct pk_cmd_spec spec = {
        .name = "api",
        .synopsis = "[--tasks N | --durations S,...] [--workers W] [--latency DIST] "
                    "[--preset NAME] [options]",
        .summary =
            "Simulated API calls, one after another and on a thread pool, against Little's law.",
        .description = description,
        .opts = table,
        .shared = PK_SHARED_RECORD | PK_SHARED_FORMAT,
        .formats = PK_FORMATS_CSV,
    };
    int status = pk_opts_parse(&spec, c, argc, argv, &o->common, NULL);
    for (int k = 0; k < 5; k++)
        o->given |= given[k];
    return status == PK_EXIT_OK ? check_parsed(c, o) : status;
}

/* Whether the calls print as they complete: health checks and --durations, in the table view
 * only, so that csv and json stay parseable. */
static bool as_completed(const struct api_opts *o)
{
    return (o->health || o->dur.n) && o->common.format == PK_FORMAT_TABLE;
}

/* One as-completed line (c NULL: their heading). A health check that answered is a result,
 * healthy or not; one that timed out says why. */
static void print_completed(const struct api_opts *o, const struct call_ctx *c, int st, double t_s,
                            const char *msg)
{
    if (!as_completed(o))
        return;
    if (!c && o->health)
        printf("# health checks as they complete (%d services, %llu %s)\n", N_SERVICES,
               (unsigned long long)o->workers, pk_plural(o->workers, "worker", "workers"));
    else if (!c)
        printf("# results as they complete (%zu %s, %llu %s)\n", o->dur.n,
               pk_plural(o->dur.n, "call", "calls"), (unsigned long long)o->workers,
               pk_plural(o->workers, "worker", "workers"));
    else if (o->health && c->timed_out) /* the pool keeps no message for a timeout: say it here */
        printf("%-10s TIMED OUT  check %.2f s, done at %.3f s: no answer within the %.3g s "
               "timeout\n",
               health_services[c->task].name, health_services[c->task].check_s, t_s, o->timeout_s);
    else if (o->health)
        printf("%-10s %-10s check %.2f s, done at %.3f s\n", health_services[c->task].name,
               c->ok ? "healthy" : "unhealthy", health_services[c->task].check_s, t_s);
    else
        printf("task %-5zu %-6s %.3f s, done at %.3f s%s%s\n", c->task + 1,
               st == PK_OK ? "ok" : "failed",
               c->plan->latency_s[c->task * (size_t)c->plan->attempts], t_s,
               st == PK_OK ? "" : ": ",
               st == PK_OK    ? ""
               : c->timed_out ? "no answer within the timeout"
                              : msg);
    fflush(stdout);
}

/* Draws the plan and allocates the per-task state. */
static int run_setup(const struct api_opts *o, struct api_run *r)
{
    size_t n = o->n ? (size_t)o->n : 1;
    *r = (struct api_run){.ctx = calloc(n, sizeof *r->ctx),
                          .ran = calloc(n, sizeof *r->ran),
                          .handle = calloc(n, sizeof *r->handle)};
    int rc = make_plan(&r->plan, (size_t)o->n, (int)o->retries + 1, o->timeout_s, o->lat.d,
                       o->lat.a, o->lat.b, o->fail_rate, o->seed, o->dur.n ? o->dur.s : NULL);
    return rc != PK_OK || !r->ctx || !r->ran || !r->handle ? PK_ENOMEM : PK_OK;
}

static void run_free(struct api_run *r)
{
    for (size_t t = 0; r->handle && t < r->plan.n; t++)
        handle_release(r->engine, r->handle[t]);
    free_plan(&r->plan);
    free(r->ctx);
    free((void *)r->ran);
    free(r->handle);
}

static void reset_calls(struct api_run *r)
{
    atomic_store(&r->finish_seq, 0);
    for (size_t t = 0; t < r->plan.n; t++) {
        atomic_store(&r->ran[t], 0);
        r->ctx[t] = (struct call_ctx){.plan = &r->plan,
                                      .task = t,
                                      .ran = r->ran,
                                      .finish_seq = &r->finish_seq,
                                      .attempt_now = -1};
    }
}

/* The calls one after another on this thread. */
static void run_sequential(struct api_run *r)
{
    reset_calls(r);
    double t0 = pk_now_s();
    for (size_t t = 0; t < r->plan.n && !pk_interrupted(); t++)
        call(&r->ctx[t], NULL, NULL, NULL);
    r->seq_s = pk_now_s() - t0;
    if (!pk_interrupted())
        r->bad += check_run(&r->plan, r->ctx, r->ran);
}

/* Calls in flight at most: --concurrency bounds --workers, for either engine. */
static uint64_t in_flight(const struct api_opts *o)
{
    return o->concurrency && o->concurrency < o->workers ? o->concurrency : o->workers;
}

/* The concurrent run's engine: the thread pool (a thread per call in flight) or one event-loop
 * thread (a timer per call), the same calls and the same done queue either way. */
struct engine {
    int kind;
    struct pk_pool *pool;
    struct pk_loop *loop;
    struct pk_queue *done;
};

static int engine_start(const struct api_opts *o, size_t n, struct engine *e)
{
    *e = (struct engine){.kind = o->engine};
    int rc = e->kind == ENGINE_LOOP ? pk_loop_create(1, (size_t)in_flight(o), NULL, &e->loop)
                                    : pk_pool_create((int)in_flight(o), &e->pool);
    if (rc == PK_OK)
        rc = pk_queue_create(n ? n : 1,
                             e->kind == ENGINE_LOOP ? handle_release_loop : pk_future_release_item,
                             &e->done);
    return rc;
}

/* Submits every call; the loop takes them in one batch. A call refused has a NULL handle. */
static void engine_submit_all(struct engine *e, struct api_run *r)
{
    size_t n = r->plan.n;
    void **args = e->kind == ENGINE_LOOP ? malloc((n ? n : 1) * sizeof *args) : NULL;
    if (args) {
        for (size_t t = 0; t < n; t++)
            args[t] = &r->ctx[t];
        pk_loop_submit_many(e->loop, &call_ops, args, n, 0, e->done, (struct pk_ltask **)r->handle);
        free(args);
        return;
    }
    for (size_t t = 0; t < n; t++) { /* threads, or no memory for the batch */
        int rc = e->kind == ENGINE_LOOP ? pk_loop_submit(e->loop, &call_ops, &r->ctx[t], 0, e->done,
                                                         (struct pk_ltask **)&r->handle[t])
                                        : pk_pool_submit(e->pool, call, &r->ctx[t], 0, e->done,
                                                         (struct pk_future **)&r->handle[t]);
        if (rc != PK_OK)
            r->handle[t] = NULL;
    }
}

/* cancel: what has not finished is cancelled (Ctrl-C). */
static void engine_stop(struct engine *e, bool cancel)
{
    if (e->loop)
        pk_loop_shutdown(e->loop, cancel, NULL);
    if (e->pool)
        pk_pool_shutdown(e->pool, cancel, NULL);
}

static void engine_free(struct engine *e)
{
    pk_loop_destroy(e->loop);
    pk_pool_destroy(e->pool);
    pk_queue_destroy(e->done);
}

static int handle_wait(int kind, void *h, struct pk_err *err)
{
    return kind == ENGINE_LOOP ? pk_ltask_wait(h, -1, NULL, err) : pk_future_wait(h, -1, NULL, err);
}

/* as_completed: takes the calls as they finish; Ctrl-C cancels what has not. */
static void collect(const struct api_opts *o, struct api_run *r, struct engine *e, double t0)
{
    size_t n = r->plan.n;
    while (r->finished < n) {
        void *h;
        int prc = pk_queue_pop_timed(e->done, &h, 0.05);
        if (pk_interrupted()) {
            engine_stop(e, true);
            break;
        }
        if (prc != PK_OK)
            continue;
        struct pk_err ferr = {0};
        int st = handle_wait(e->kind, h, &ferr);
        r->finished++;
        size_t t = 0;
        while (as_completed(o) && t < n && r->handle[t] != h)
            t++; /* at most MAX_DURATIONS calls print as they complete */
        if (t < n && as_completed(o))
            print_completed(o, &r->ctx[t], st, pk_now_s() - t0, ferr.msg);
        handle_release(e->kind, h);
    }
}

/* The same calls on the engine, at most in_flight(o) at once. */
static void run_pooled(const struct pk_comm *c, const struct api_opts *o, struct api_run *r)
{
    struct engine e;
    size_t n = r->plan.n;
    r->engine = o->engine;
    if (engine_start(o, n, &e) == PK_OK) {
        reset_calls(r);
        print_completed(o, NULL, PK_OK, 0, NULL);
        double t0 = pk_now_s();
        engine_submit_all(&e, r);
        collect(o, r, &e, t0);
        r->pool_s = pk_now_s() - t0;
        engine_stop(&e, true);
        if (!pk_interrupted())
            r->bad += check_run(&r->plan, r->ctx, r->ran);
        for (size_t t = 0; t < n; t++) {
            r->failed += !r->ctx[t].ok;
            r->timed_out += r->ctx[t].timed_out;
        }
    } else {
        pk_error(c, false, "api", "cannot start the %s engine for %llu calls in flight",
                 engine_names[o->engine], (unsigned long long)in_flight(o));
        r->rc = PK_ENOMEM;
    }
    engine_free(&e);
}

static void run(const struct pk_comm *c, const struct api_opts *o, struct api_run *r)
{
    pk_interrupt_install();
    if (o->sequential)
        run_sequential(r);
    if (!pk_interrupted())
        run_pooled(c, o, r);
    r->interrupted = pk_interrupted();
    pk_interrupt_restore();
}

/* The stores' business summary, store by store over those that answered. */
static void sum_stores(const struct api_opts *o, const struct api_run *r, struct api_summary *s)
{
    const struct store_model *m = o->stores;
    for (size_t t = 0; t < r->plan.n; t++) {
        if (!r->ctx[t].ok)
            continue;
        int64_t sales = m->base + m->per_id * (int64_t)(t + 1);
        int64_t profit_c = 28 * sales - 100 * m->cost;
        s->answered++;
        s->sales += sales;
        s->profit_c += profit_c;
        if (profit_c > 100 * m->above) {
            s->profitable++;
            s->profitable_c += profit_c;
        }
    }
}

/* The closed forms of the stores' summary when every store answered: total sales
 * n base + per_id n(n+1)/2; profit is increasing in id, so the profitable stores are ids
 * first..n, first the least id with 28 (base + per_id id) > 100 (above + cost). */
static bool stores_closed_form(const struct store_model *m, int64_t n, const struct api_summary *s)
{
    int64_t rhs = 100 * (m->above + m->cost) - 28 * m->base, q = 28 * m->per_id;
    int64_t first = (rhs >= 0 ? rhs / q : -((-rhs + q - 1) / q)) + 1; /* floor(rhs / q) + 1 */
    first = first < 1 ? 1 : first > n + 1 ? n + 1 : first;
    int64_t k = n + 1 - first, ids = (n * (n + 1) - (first - 1) * first) / 2;
    int64_t want_sales = n * m->base + m->per_id * n * (n + 1) / 2;
    int64_t want_prof_c = 28 * (m->base * k + m->per_id * ids) - 100 * m->cost * k;
    int64_t want_all_c = 28 * want_sales - 100 * m->cost * n;
    return s->sales == want_sales && s->profitable == (uint64_t)k &&
           s->profitable_c == want_prof_c && s->profit_c == want_all_c;
}

/* as_completed: whether the calls finished in the order of their planned finish times, found by
 * playing the pool (each call, in submission order, to the worker free first). Calls planned
 * to finish within ORDER_SLACK_S of each other may swap: sleeps overrun by scheduler delays,
 * tens of ms on a loaded 2-core machine under sanitizers. That is timing, not correctness: a
 * different order is a warning, not a failed verification. */
#define ORDER_SLACK_S 0.05
static bool completion_in_order(const struct api_opts *o, const struct api_run *r)
{
    size_t n = r->plan.n, w = in_flight(o) < n ? (size_t)in_flight(o) : n;
    double *free_at = calloc(w ? w : 1, sizeof *free_at), *end = calloc(n ? n : 1, sizeof *end);
    size_t *by_seq = calloc(n ? n : 1, sizeof *by_seq);
    bool ok = free_at && end && by_seq;
    for (size_t t = 0; ok && t < n; t++) {
        size_t k = 0;
        for (size_t j = 1; j < w; j++)
            k = free_at[j] < free_at[k] ? j : k;
        end[t] = free_at[k] += task_time(&r->plan, t);
        ok = r->ctx[t].finished_as < n;
        if (ok)
            by_seq[r->ctx[t].finished_as] = t;
    }
    double latest = 0; /* the latest planned end of the calls finished so far */
    for (size_t i = 0; ok && i < n; i++) {
        ok = end[by_seq[i]] + ORDER_SLACK_S >= latest;
        latest = end[by_seq[i]] > latest ? end[by_seq[i]] : latest;
    }
    free(free_at);
    free(end);
    free(by_seq);
    return ok;
}

/* Every call as planned; for the stores presets the business summary against its closed
 * form; for --durations and health the completion order. Returns the exit status. A health
 * check that answered "unhealthy" is a result; one that timed out is a failed check. */
static int verify(const struct api_opts *o, const struct api_run *r, struct api_summary *s)
{
    size_t n = r->plan.n;
    *s = (struct api_summary){.in_order = true};
    for (size_t t = 0; t < n; t++)
        s->mean_t += task_time(&r->plan, t) / (double)n;
    s->bound = s->mean_t > 0 ? (double)in_flight(o) / s->mean_t : 0;
    s->thr = r->pool_s > 0 ? (double)r->finished / r->pool_s : 0;
    s->verified = !r->interrupted && r->rc == PK_OK && r->bad == 0;
    if (o->stores)
        sum_stores(o, r, s);
    if (o->stores && s->verified && s->answered == n)
        s->verified = stores_closed_form(o->stores, (int64_t)n, s);
    if (o->dur.n && s->verified)
        s->in_order = completion_in_order(o, r);
    for (size_t t = 0; o->health && t < n; t++)
        s->healthy += r->ctx[t].ok;
    size_t failed = o->health ? r->timed_out : r->failed;
    s->status = r->interrupted || r->rc != PK_OK ? PK_EXIT_RUNTIME
                : !s->verified                   ? PK_EXIT_VERIFY
                : failed                         ? PK_EXIT_RUNTIME
                                                 : PK_EXIT_OK;
    return s->status;
}

static const char *dist_name(enum dist d)
{
    return d == FIXED         ? "fixed"
           : d == UNIFORM     ? "uniform"
           : d == EXPONENTIAL ? "exponential"
                              : "lognormal";
}

static const char *preset_name(const struct api_opts *o)
{
    return o->preset >= 0 ? preset_names[o->preset] : o->dur.n ? "durations" : "none";
}

static json_t *make_record(const struct pk_comm *c, const struct api_opts *o,
                           const struct api_run *r, const struct api_summary *s)
{
    json_t *rec = pk_record_new("api");
    json_object_set_new(
        rec, "params",
        json_pack("{s:I, s:I, s:s, s:f, s:f, s:f, s:f, s:I, s:o, s:s}", "tasks", (json_int_t)o->n,
                  "workers", (json_int_t)o->workers, "latency", dist_name(o->lat.d), "a", o->lat.a,
                  "b", o->lat.b, "fail_rate", o->fail_rate, "timeout_s", o->timeout_s, "retries",
                  (json_int_t)o->retries, "seed", pk_json_u64(o->seed), "preset", preset_name(o)));
    json_object_set_new(rec, "result",
                        json_pack("{s:f, s:f, s:f, s:o, s:f, s:I, s:I}", "sequential_s", r->seq_s,
                                  "pooled_s", r->pool_s, "throughput_per_s", s->thr,
                                  "littles_bound", s->bound > 0 ? json_real(s->bound) : json_null(),
                                  "mean_task_s", s->mean_t, "finished", (json_int_t)r->finished,
                                  "failed", (json_int_t)r->failed));
    json_t *params = json_object_get(rec, "params");
    json_object_set_new(params, "engine", json_string(engine_names[o->engine]));
    json_object_set_new(params, "in_flight", json_integer((json_int_t)in_flight(o)));
    if (o->dur.n) { /* the calls' own durations, not a distribution */
        json_t *d = json_array();
        for (size_t i = 0; i < o->dur.n; i++)
            json_array_append_new(d, json_real(o->dur.s[i]));
        json_object_set_new(params, "latency", json_string("durations"));
        json_object_set_new(params, "durations", d);
    }
    json_t *res = json_object_get(rec, "result");
    if (o->stores)
        json_object_set_new(res, "stores",
                            json_pack("{s:I, s:I, s:I, s:f, s:f}", "answered",
                                      (json_int_t)s->answered, "profitable",
                                      (json_int_t)s->profitable, "total_sales",
                                      (json_int_t)s->sales, "total_profit", s->profit_c / 100.0,
                                      "profitable_total_profit", s->profitable_c / 100.0));
    if (o->health)
        json_object_set_new(res, "healthy", json_integer((json_int_t)s->healthy));
    if (o->dur.n) {
        json_t *order = json_array(); /* task numbers (from 1) in the order they finished */
        for (size_t i = 0; i < r->plan.n; i++)
            for (size_t t = 0; t < r->plan.n; t++)
                if (r->ctx[t].finished_as == i)
                    json_array_append_new(order, json_integer((json_int_t)t + 1));
        json_object_set_new(res, "completion_order", order);
        json_object_set_new(res, "in_order", json_boolean(s->in_order));
    }
    json_object_set_new(rec, "verified", json_boolean(s->verified));
    double pool_s = r->pool_s;
    pk_record_set_timing(rec, &pool_s, 1, 0);
    json_t *sysinfo = pk_sysinfo_for_command(c, "api", 1);
    pk_record_set_provenance(rec, sysinfo);
    json_decref(sysinfo);
    return rec;
}

/* What the views print besides the record: the plan's and the run's details. */
struct api_view {
    const struct api_opts *o;
    const struct api_run *r;
    const struct api_summary *s;
};

/* A header and one row: the run's summary; what was not run is an empty field. */
static void print_csv(const json_t *rec, struct pk_csvw *w, const void *ctx)
{
    const struct api_view *v = ctx;
    const struct api_opts *o = v->o;
    const struct api_run *r = v->r;
    const struct api_summary *s = v->s;
    static const char *const head[] = {"tasks",
                                       "workers",
                                       "latency",
                                       "a",
                                       "b",
                                       "fail_rate",
                                       "timeout_s",
                                       "retries",
                                       "seed",
                                       "preset",
                                       "sequential_s",
                                       "pooled_s",
                                       "speedup",
                                       "throughput_per_s",
                                       "littles_bound",
                                       "mean_task_s",
                                       "finished",
                                       "failed",
                                       "verified",
                                       "engine",
                                       "in_flight",
                                       NULL};
    (void)rec;
    pk_csvw_row(w, head);
    pk_csvw_fieldf(w, "%llu", (unsigned long long)o->n);
    pk_csvw_fieldf(w, "%llu", (unsigned long long)o->workers);
    pk_csvw_field(w, o->dur.n ? "durations" : dist_name(o->lat.d));
    pk_csvw_fieldf(w, "%.9g", o->lat.a);
    pk_csvw_fieldf(w, "%.9g", o->lat.b);
    pk_csvw_fieldf(w, "%.9g", o->fail_rate);
    pk_csvw_fieldf(w, "%.9g", o->timeout_s);
    pk_csvw_fieldf(w, "%llu", (unsigned long long)o->retries);
    pk_csvw_fieldf(w, "%llu", (unsigned long long)o->seed);
    pk_csvw_field(w, preset_name(o));
    if (o->sequential)
        pk_csvw_fieldf(w, "%.9f", r->seq_s);
    else
        pk_csvw_field(w, NULL);
    pk_csvw_fieldf(w, "%.9f", r->pool_s);
    if (o->sequential && r->pool_s > 0)
        pk_csvw_fieldf(w, "%.6g", r->seq_s / r->pool_s);
    else
        pk_csvw_field(w, NULL);
    pk_csvw_fieldf(w, "%.6g", s->thr);
    if (s->bound > 0) /* none at zero latency */
        pk_csvw_fieldf(w, "%.6g", s->bound);
    else
        pk_csvw_field(w, NULL);
    pk_csvw_fieldf(w, "%.9f", s->mean_t);
    pk_csvw_fieldf(w, "%zu", r->finished);
    pk_csvw_fieldf(w, "%zu", r->failed);
    pk_csvw_field(w, s->verified ? "yes" : "no");
    pk_csvw_field(w, engine_names[o->engine]);
    pk_csvw_fieldf(w, "%llu", (unsigned long long)in_flight(o));
    pk_csvw_end(w);
}

/* Whole dollars with thousands separators, and cents when there are any: $33,840. */
static void money(char *buf, size_t len, int64_t cents)
{
    uint64_t a = (uint64_t)(cents < 0 ? -cents : cents), d = a / 100;
    char digits[32], *p = digits + sizeof digits - 1;
    *p = 0;
    for (int i = 0; i == 0 || d; i++, d /= 10) {
        if (i && i % 3 == 0)
            *--p = ',';
        *--p = (char)('0' + d % 10);
    }
    if (a % 100)
        snprintf(buf, len, "%s$%s.%02u", cents < 0 ? "-" : "", p, (unsigned)(a % 100));
    else
        snprintf(buf, len, "%s$%s", cents < 0 ? "-" : "", p);
}

/* The lesson's business summary: profitable stores k/n and their "Total profit". */
static void print_stores(const struct api_opts *o, const struct api_summary *s)
{
    char sales[40], prof[40], all[40], above[40];
    money(sales, sizeof sales, s->sales * 100);
    money(prof, sizeof prof, s->profitable_c);
    money(all, sizeof all, s->profit_c);
    money(above, sizeof above, o->stores->above * 100);
    printf("business    %llu of %llu %s answered; total sales %s, profit over all %s\n",
           (unsigned long long)s->answered, (unsigned long long)o->n,
           pk_plural(o->n, "store", "stores"), sales, all);
    printf("Profitable stores: %llu/%llu (profit above %s)\n", (unsigned long long)s->profitable,
           (unsigned long long)o->n, above);
    printf("Total profit: %s (the profitable stores)\n", prof);
}

static void print_table(const json_t *rec, const void *ctx)
{
    const struct api_view *v = ctx;
    const struct api_opts *o = v->o;
    const struct api_run *r = v->r;
    const struct api_summary *s = v->s;
    (void)rec;
    printf("# parkit api: %llu %s, %llu %s, mean %.4f s per call (with retries)%s\n",
           (unsigned long long)o->n, pk_plural(o->n, "call", "calls"),
           (unsigned long long)in_flight(o), pk_plural(in_flight(o), "worker", "workers"),
           s->mean_t, o->engine == ENGINE_LOOP ? ", timers on one event-loop thread" : "");
    if (o->sequential)
        printf("Sequential  %.3f s\n", r->seq_s);
    printf("Concurrent  %.3f s", r->pool_s);
    if (o->sequential && r->pool_s > 0)
        printf("   Speedup %.2fx", r->seq_s / r->pool_s);
    if (s->bound > 0)
        printf("\nthroughput  %.2f calls/s, %.0f%% of Little's law bound W / mean = %.2f\n", s->thr,
               100 * s->thr / s->bound, s->bound);
    else /* calls that take no time: W / 0 bounds nothing */
        printf("\nthroughput  %.2f calls/s (no Little's law bound: the mean latency is 0)\n",
               s->thr);
    if (o->stores)
        print_stores(o, s);
    if (o->health)
        printf("Health Summary %llu/%d services healthy\n", (unsigned long long)s->healthy,
               N_SERVICES);
    if (o->dur.n)
        printf("order       as completed, %s\n",
               s->in_order ? "in the planned order (shortest first on a free worker)"
                           : "NOT in the planned order (a loaded machine?)");
    printf("failed      %zu %s after retries\n", o->health ? r->timed_out : r->failed,
           pk_plural(o->health ? r->timed_out : r->failed, "call", "calls"));
    printf("verified    %s\n", s->verified      ? "yes (every call as planned)"
                               : r->interrupted ? "no (interrupted)"
                                                : "NO");
}

/* Why the status is not 0, besides a failed verification (pk_emit names that). */
static void say_why(const struct pk_comm *c, const struct api_opts *o, const struct api_run *r,
                    const struct api_summary *s)
{
    if (!s->in_order)
        fprintf(stderr,
                "parkit api: warning: the calls did not complete in the planned order "
                "(planned ends more than %.2f s apart swapped): a loaded machine?\n",
                ORDER_SLACK_S);
    if (r->interrupted)
        pk_error(c, false, "api", "interrupted after %zu of %llu %s", r->finished,
                 (unsigned long long)o->n, pk_plural(o->n, "call", "calls"));
    else if (o->health && s->status != PK_EXIT_VERIFY && r->timed_out)
        pk_error(c, false, "api", "%zu health %s timed out (after %llu %s)", r->timed_out,
                 pk_plural(r->timed_out, "check", "checks"), (unsigned long long)o->retries,
                 pk_plural(o->retries, "retry", "retries"));
    else if (!o->health && s->status != PK_EXIT_VERIFY && r->failed)
        pk_error(c, false, "api", "%zu %s failed after %llu %s", r->failed,
                 pk_plural(r->failed, "call", "calls"), (unsigned long long)o->retries,
                 pk_plural(o->retries, "retry", "retries"));
}

int pk_cmd_api(int argc, char **argv, const struct pk_comm *c)
{
    struct api_opts o;
    int status = parse(argc, argv, c, &o);
    if (status != PK_EXIT_OK)
        return pk_opts_exit(status);
    struct api_run r;
    if (run_setup(&o, &r) != PK_OK) {
        pk_error(c, false, "api", "out of memory");
        run_free(&r);
        return PK_EXIT_RUNTIME;
    }
    run(c, &o, &r);
    struct api_summary s;
    verify(&o, &r, &s);
    static const struct pk_view view = {print_table, print_csv};
    const struct api_view ctx = {&o, &r, &s};
    status = pk_emit(c, "api", &o.common, &view, &ctx, make_record(c, &o, &r, &s), s.status);
    say_why(c, &o, &r, &s);
    run_free(&r);
    return status;
}
