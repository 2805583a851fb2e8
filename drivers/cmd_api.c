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
    "to choose, and every run is checked. Runs on one process.\n";

enum dist { FIXED, UNIFORM, EXPONENTIAL, LOGNORMAL };

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
    _Atomic int *ran; /* attempts made, per task (each attempt exactly once) */
    int attempt_used;
    bool ok;
};

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

enum { GIVEN_TASKS = 1, GIVEN_WORKERS = 2, GIVEN_LATENCY = 4, GIVEN_FAIL = 8, GIVEN_TIMEOUT = 16 };

/* What the command was asked to do, presets applied. */
struct api_opts {
    uint64_t n, workers, seed, retries;
    double fail_rate, timeout_s; /* timeout 0: none */
    struct latency lat;
    int preset; /* -1: none; else an index into preset_names */
    int given;  /* GIVEN_* of the options on the command line, which a preset must not drop */
    bool no_sequential, sequential, stores, health;
    struct pk_common_opts common; /* of the shared options, api takes --record and --format */
};

/* The two runs over the same plan, and how they went. */
struct api_run {
    struct plan plan;
    struct call_ctx *ctx;
    _Atomic int *ran;
    struct pk_future **fut;
    size_t bad;      /* tasks that did not go as planned, over both runs */
    size_t failed;   /* tasks of the pooled run that failed after their retries */
    size_t finished; /* tasks of the pooled run that finished (ok or not) */
    double seq_s, pool_s;
    int rc;
    bool interrupted;
};

/* What is reported besides the times. */
struct api_summary {
    double mean_t, bound, thr; /* plan's mean time per task, Little's bound, pooled calls/s */
    uint64_t answered, profitable;
    double sales, profit; /* --preset stores: over the stores that answered */
    bool verified;
    int status;
};

static const char *const preset_names[] = {"stores", "health", NULL};

/* The tutorials' presets replace what they set; an option that a preset sets, given with it,
 * is refused (exit 2) rather than dropped without a word. */
static int apply_preset(const struct pk_comm *c, struct api_opts *o)
{
    static const char *const names[] = {"--tasks", "--workers", "--latency", "--fail-rate",
                                        "--timeout"};
    int sets = o->stores ? GIVEN_TASKS | GIVEN_WORKERS | GIVEN_LATENCY
               : o->health
                   ? GIVEN_TASKS | GIVEN_WORKERS | GIVEN_LATENCY | GIVEN_FAIL | GIVEN_TIMEOUT
                   : 0;
    for (int k = 0; k < 5; k++)
        if (o->given & sets & (1 << k)) {
            pk_error(c, false, "api", "--preset %s sets %s itself: give one or the other",
                     preset_names[o->preset], names[k]);
            return PK_EXIT_USAGE;
        }
    if (o->stores) { /* the tutorial: 50 stores, 0.1 s each, 10 workers */
        o->n = 50;
        o->workers = 10;
        o->lat.d = FIXED;
        o->lat.a = 0.1;
    } else if (o->health) { /* eight services, some slow or down */
        o->n = sizeof health_names / sizeof health_names[0];
        o->workers = o->n;
        o->lat.d = UNIFORM;
        o->lat.a = 0.05;
        o->lat.b = 0.3;
        o->fail_rate = 0.2;
        o->timeout_s = 0.25;
        o->sequential = false;
    }
    return PK_EXIT_OK;
}

/* Fills o, presets applied; returns a pk_opts_parse result (errors and help printed). */
static int parse(int argc, char **argv, const struct pk_comm *c, struct api_opts *o)
{
    *o = (struct api_opts){
        .n = 50, .workers = 10, .seed = 42, .lat = {.d = FIXED, .a = 0.1}, .preset = -1};
    int given[5] = {0}; /* one per option: a tag sets its int */
    const struct pk_opt table[] = {
        {"tasks", 'n', PK_OPT_COUNT, &o->n, "N", "calls (default 50)", .max = UINT64_C(1) << 24,
         .tag = &given[0], .tag_value = GIVEN_TASKS},
        {"workers", 0, PK_OPT_COUNT, &o->workers, "W", "pool threads, 1..4096 (default 10)",
         .min = 1, .max = 4096, .tag = &given[1], .tag_value = GIVEN_WORKERS},
        {"latency", 0, PK_OPT_STRING, &o->lat.text, "DIST",
         "fixed:S | uniform:A:B | exponential:MEAN | lognormal:MU:SIGMA, or S:\n"
         "a bare number S is fixed:S (seconds, 0..3600; lognormal: of the\n"
         "seconds' log), drawn with GSL (default fixed:0.1)",
         .check = check_latency, .tag = &given[2], .tag_value = GIVEN_LATENCY},
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
         "business summary (sales = 25000 + 800 id, profit = 0.28 sales - 12000);\n"
         "health: the tutorial's health checks, printed as they complete (table\n"
         "only). Sets --tasks, --workers and --latency (health: also\n"
         "--fail-rate and --timeout), which may then not be given",
         .choices = preset_names},
        {NULL},
    };
    /* No -t, --reps, --warmup or --no-verify: the calls only wait (--workers is the
     * parallelism), each run is made once, and it is always checked. */
    const struct pk_cmd_spec spec = {
        .name = "api",
        .synopsis = "[--tasks N] [--workers W] [--latency DIST] [--preset stores|health] [options]",
        .summary = "Simulated API calls, one after another and on a thread pool, against Little's law.",
        .description = description,
        .opts = table,
        .shared = PK_SHARED_RECORD | PK_SHARED_FORMAT,
        .formats = PK_FORMATS_CSV,
    };
    int status = pk_opts_parse(&spec, c, argc, argv, &o->common, NULL);
    if (status == PK_EXIT_OK)
        status = pk_cli_single_process(c, "api");
    o->sequential = !o->no_sequential;
    o->stores = o->preset == 0;
    o->health = o->preset == 1;
    for (int k = 0; k < 5; k++)
        o->given |= given[k];
    if (status == PK_EXIT_OK)
        status = apply_preset(c, o);
    return status;
}

/* The as-completed lines of --preset health (name NULL: their heading); table output only, so
 * that csv and json stay parseable. */
static void print_health(const struct api_opts *o, const char *name, int st, double t_s,
                         const char *msg)
{
    if (!o->health || o->common.format != PK_FORMAT_TABLE)
        return;
    if (!name)
        printf("# health checks as they complete (timeout %.2f s)\n", o->timeout_s);
    else
        printf("%-10s %s  %.3f s%s%s\n", name, st == PK_OK ? "UP  " : "DOWN", t_s,
               st == PK_OK ? "" : "  ", st == PK_OK ? "" : msg);
    fflush(stdout);
}

/* Draws the plan and allocates the per-task state. */
static int run_setup(const struct api_opts *o, struct api_run *r)
{
    size_t n = o->n ? (size_t)o->n : 1;
    *r = (struct api_run){.ctx = calloc(n, sizeof *r->ctx),
                          .ran = calloc(n, sizeof *r->ran),
                          .fut = calloc(n, sizeof *r->fut)};
    int rc = make_plan(&r->plan, (size_t)o->n, (int)o->retries + 1, o->timeout_s, o->lat.d, o->lat.a, o->lat.b,
                       o->fail_rate, o->seed);
    return rc != PK_OK || !r->ctx || !r->ran || !r->fut ? PK_ENOMEM : PK_OK;
}

static void run_free(struct api_run *r)
{
    for (size_t t = 0; r->fut && t < r->plan.n; t++)
        pk_future_release(r->fut[t]);
    free_plan(&r->plan);
    free(r->ctx);
    free((void *)r->ran);
    free(r->fut);
}

static void reset_calls(struct api_run *r)
{
    for (size_t t = 0; t < r->plan.n; t++) {
        atomic_store(&r->ran[t], 0);
        r->ctx[t] = (struct call_ctx){.plan = &r->plan, .task = t, .ran = r->ran};
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

/* as_completed: takes the futures as they finish; Ctrl-C cancels what has not. */
static void collect(const struct api_opts *o, struct api_run *r, struct pk_pool *pool,
                    struct pk_queue *done, double t0)
{
    size_t n = r->plan.n;
    while (r->finished < n) {
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
        r->finished++;
        size_t t = 0;
        while (o->health && t < n && r->fut[t] != f)
            t++;
        if (o->health)
            print_health(o, t < n ? health_names[t] : "?", st, pk_now_s() - t0, ferr.msg);
        pk_future_release(f);
    }
}

/* The same calls on a pool of o->workers threads. */
static void run_pooled(const struct pk_comm *c, const struct api_opts *o, struct api_run *r)
{
    struct pk_pool *pool = NULL;
    struct pk_queue *done = NULL;
    size_t n = r->plan.n;
    if (pk_pool_create((int)o->workers, &pool) == PK_OK &&
        pk_queue_create(n ? n : 1, pk_future_release_item, &done) == PK_OK) {
        reset_calls(r);
        print_health(o, NULL, PK_OK, 0, NULL);
        double t0 = pk_now_s();
        for (size_t t = 0; t < n; t++)
            if (pk_pool_submit(pool, call, &r->ctx[t], 0, done, &r->fut[t]) != PK_OK)
                r->fut[t] = NULL;
        collect(o, r, pool, done, t0);
        r->pool_s = pk_now_s() - t0;
        pk_pool_shutdown(pool, true, NULL);
        if (!pk_interrupted())
            r->bad += check_run(&r->plan, r->ctx, r->ran);
        for (size_t t = 0; t < n; t++)
            r->failed += !r->ctx[t].ok;
    } else {
        pk_error(c, false, "api", "cannot start %llu workers", (unsigned long long)o->workers);
        r->rc = PK_ENOMEM;
    }
    pk_pool_destroy(pool);
    pk_queue_destroy(done);
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

/* Every call as planned, and for --preset stores the business summary against its closed form;
 * returns the exit status. */
static int verify(const struct api_opts *o, const struct api_run *r, struct api_summary *s)
{
    size_t n = r->plan.n;
    *s = (struct api_summary){0};
    for (size_t t = 0; t < n; t++)
        s->mean_t += task_time(&r->plan, t) / (double)n;
    s->bound = s->mean_t > 0 ? (double)o->workers / s->mean_t : 0;
    s->thr = r->pool_s > 0 ? (double)r->finished / r->pool_s : 0;
    s->verified = !r->interrupted && r->rc == PK_OK && r->bad == 0;
    for (size_t t = 0; o->stores && t < n; t++) {
        if (!r->ctx[t].ok)
            continue;
        double s_t = 25000.0 + 800.0 * (double)(t + 1), p_t = 0.28 * s_t - 12000.0;
        s->answered++;
        s->sales += s_t;
        s->profit += p_t;
        s->profitable += p_t > 5000;
    }
    if (o->stores && s->verified && s->answered == n) {
        /* closed forms: sales = sum of 25000 + 800 id over id = 1..n; profit = 224 id - 5000,
         * so a store is profitable (profit > 5000) iff id >= 45 */
        double want = 25000.0 * (double)n + 800.0 * (double)n * (double)(n + 1) / 2;
        uint64_t want_prof = n >= 45 ? n - 44 : 0;
        s->verified = fabs(s->sales - want) <= 1e-6 * want && s->profitable == want_prof;
    }
    s->status = r->interrupted || r->rc != PK_OK ? PK_EXIT_RUNTIME
                : !s->verified                   ? PK_EXIT_VERIFY
                : r->failed                      ? PK_EXIT_RUNTIME
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
    return o->stores ? "stores" : o->health ? "health" : "none";
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
    static const char *const head[] = {
        "tasks",    "workers",          "latency",       "a",
        "b",        "fail_rate",        "timeout_s",     "retries",
        "seed",     "preset",           "sequential_s",  "pooled_s",
        "speedup",  "throughput_per_s", "littles_bound", "mean_task_s",
        "finished", "failed",           "verified",      NULL};
    (void)rec;
    pk_csvw_row(w, head);
    pk_csvw_fieldf(w, "%llu", (unsigned long long)o->n);
    pk_csvw_fieldf(w, "%llu", (unsigned long long)o->workers);
    pk_csvw_field(w, dist_name(o->lat.d));
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
    pk_csvw_end(w);
}

static void print_table(const json_t *rec, const void *ctx)
{
    const struct api_view *v = ctx;
    const struct api_opts *o = v->o;
    const struct api_run *r = v->r;
    const struct api_summary *s = v->s;
    (void)rec;
    printf("# parkit api: %llu %s, %llu %s, mean %.4f s per call (with retries)\n",
           (unsigned long long)o->n, pk_plural(o->n, "call", "calls"),
           (unsigned long long)o->workers, pk_plural(o->workers, "worker", "workers"), s->mean_t);
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
        printf("business    %llu of %llu %s answered; total sales %.0f, total profit %.0f; "
               "%llu profitable (profit > 5000)\n",
               (unsigned long long)s->answered, (unsigned long long)o->n,
               pk_plural(o->n, "store", "stores"), s->sales, s->profit,
               (unsigned long long)s->profitable);
    printf("failed      %zu %s after retries\n", r->failed, pk_plural(r->failed, "call", "calls"));
    printf("verified    %s\n", s->verified      ? "yes (every call as planned)"
                               : r->interrupted ? "no (interrupted)"
                                                : "NO");
}

/* Why the status is not 0, besides a failed verification (pk_emit names that). */
static void say_why(const struct pk_comm *c, const struct api_opts *o, const struct api_run *r,
                    const struct api_summary *s)
{
    if (r->interrupted)
        pk_error(c, false, "api", "interrupted after %zu of %llu %s", r->finished,
                 (unsigned long long)o->n, pk_plural(o->n, "call", "calls"));
    else if (s->status != PK_EXIT_VERIFY && r->failed)
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
