/* SPDX-License-Identifier: MIT */
/* Tests of the pthread pipeline (parkit/pipeline.h).
 *
 * Every run is one heap-allocated rig: the stage definitions and contexts, the counters, and the
 * sink's record of the ids it saw. Items are malloc'd structs carrying their id, a value that
 * every stage changes by a known amount, and the index of the stage whose output they are. So the
 * sink checks each item's path, each stage's free_item checks that it frees its own stage's
 * outputs, and after every run, failed or not, the items allocated must equal the items freed
 * (ASan catches the double frees and use after free on top).
 *
 * pk_pipeline_run runs in a helper thread that the case waits for with a deadline, so a hang fails
 * the case with a message instead of stalling CTest. A run that misses its deadline is abandoned:
 * its rig is never freed, because the stuck threads may still use it. Stage functions sleep 0-200
 * us now and then, drawn from a per-thread deterministic generator, to vary the interleavings;
 * nothing coordinates through those sleeps. */
#include "check.h"
#include "parkit/pipeline.h"
#include "parkit/status.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the rig ------------------------------------------------------------------------------ */

#define MAX_STAGES 6
#define MAX_IDS    4096 /* ids the sink can record: every run that checks ids stays below */
#define NO_ID      UINT64_MAX
/* Runs here take milliseconds (a few hundred under TSAN on a loaded machine); one that lasts
 * this long hangs, and the CTest TIMEOUT of the io tests (60 s) is still far away. */
#define RUN_DEADLINE_S 10.0
/* A stage holding an item waits this long at most for what it waits for (see hold_id). */
#define HOLD_DEADLINE_S 2.0
#define ITEM_LIVE       UINT64_C(0x4c495645c0ffee01)
#define ITEM_DEAD       UINT64_C(0xdeadbeefdeadbeef)

struct rig;

struct item {
    uint64_t magic; /* ITEM_LIVE until freed */
    uint64_t id;
    uint64_t value; /* mix(id) plus the add of every stage the item went through */
    size_t stage;   /* the stage whose output the item is */
    struct rig *rig;
};

/* The ctx of one stage, shared by its workers: the configuration is written before the run and
 * only read during it; `calls` is atomic. */
struct stage_ctx {
    struct rig *rig;
    size_t index;
    uint64_t add;     /* added to every item's value */
    uint64_t fail_id; /* return fail_status on the item with this id (NO_ID: never) */
    int fail_status;  /* PK_EIO unless set */
    int fail_silent;  /* fail without a message */
    int drop_odd;     /* output NULL for odd ids (stages > 0) */
    int consume;      /* last stage: free items itself and output NULL */
    unsigned sleep_one_in, sleep_max_us; /* sleep 0..max us before 1 call in one_in (0: never) */
    unsigned sleep_fixed_us;             /* sleep this long before every call */
    uint64_t hold_id; /* on this id, first wait for an event of stage hold_for (see hold) */
    size_t hold_for;
    int hold_freed; /* the event: 0 hold_for was called, 1 one of its outputs was freed */
    _Atomic uint64_t calls;
};

struct rig {
    struct pk_stage stages[MAX_STAGES];
    struct stage_ctx ctx[MAX_STAGES];
    uint64_t prefix[MAX_STAGES]; /* an item leaving stage s holds mix(id) + prefix[s] */
    size_t nstages;
    uint64_t gen;        /* unique per rig: tells thread-local worker state of other runs apart */
    uint64_t seed;       /* of the per-thread sleep generators */
    uint64_t n;          /* items the source makes in all (unless per_worker_mode) */
    int per_worker_mode; /* each source worker makes per_worker items, then ends its stream */
    uint64_t per_worker;
    int stages_null;  /* pass stages == NULL */
    int null_outputs; /* pass stage_reports, report and err as NULL */

    /* counters, updated by the stage threads */
    _Atomic uint64_t next_id; /* the source's id counter */
    _Atomic uint64_t allocated, freed_by_fn, freed[MAX_STAGES], misfreed, bad_items;
    _Atomic uint64_t source_ends, calls_after_end;
    _Atomic unsigned threads;

    /* lock guards the sink's record below */
    pthread_mutex_t lock;
    uint64_t delivered, dups, id_sum, value_sum;
    unsigned char seen[MAX_IDS];

    /* the run's results, written by the run thread before it sets done */
    int rc;
    struct pk_stage_report reports[MAX_STAGES];
    struct pk_pipeline_report report;
    struct pk_err err;

    /* done_lock guards done; done_cond waits for done != 0 */
    pthread_mutex_t done_lock;
    pthread_cond_t done_cond;
    int done;
    pthread_t thread; /* runs pk_pipeline_run, while started */
    int started;
    int abandoned; /* the run missed its deadline: the rig must stay allocated */
};

static const char *const stage_names[MAX_STAGES] = {"source",  "alpha", "bravo",
                                                    "charlie", "delta", "echo"};

/* Frees of a pointer that is not a live item (a double free in a build without ASan): counted
 * here because such an item's rig cannot be trusted. */
static _Atomic uint64_t stray_frees;
static _Atomic uint64_t rig_generation;

static uint64_t mix(uint64_t id)
{
    uint64_t s = id ^ UINT64_C(0x5851f42d4c957f2d);
    return check_next_u64(&s);
}

static void fail_message(char *buf, size_t size, size_t stage, uint64_t id)
{
    snprintf(buf, size, "injected failure at stage %zu on id %llu", stage, (unsigned long long)id);
}

/* ---- items -------------------------------------------------------------------------------- */

/* free_item of stage `stage`: called by the pipeline, from any thread, no lock of ours held. */
static void item_free(void *p, size_t stage)
{
    struct item *it = p;
    if (!it || it->magic != ITEM_LIVE) {
        atomic_fetch_add(&stray_frees, 1);
        fprintf(stderr, "free_item of stage %zu: %p is not a live item\n", stage, p);
        return;
    }
    struct rig *r = it->rig;
    if (it->stage != stage)
        atomic_fetch_add(&r->misfreed, 1);
    atomic_fetch_add(&r->freed[stage], 1);
    it->magic = ITEM_DEAD;
    free(it);
}

static void free_item_0(void *p)
{
    item_free(p, 0);
}

static void free_item_1(void *p)
{
    item_free(p, 1);
}

static void free_item_2(void *p)
{
    item_free(p, 2);
}

static void free_item_3(void *p)
{
    item_free(p, 3);
}

static void free_item_4(void *p)
{
    item_free(p, 4);
}

static void free_item_5(void *p)
{
    item_free(p, 5);
}

static void (*const free_fns[MAX_STAGES])(void *) = {free_item_0, free_item_1, free_item_2,
                                                     free_item_3, free_item_4, free_item_5};

/* A stage function frees an item it owns (a drop, a failure, a consuming sink). */
static void item_release(struct rig *r, struct item *it)
{
    atomic_fetch_add(&r->freed_by_fn, 1);
    it->magic = ITEM_DEAD;
    free(it);
}

/* ---- stage functions ---------------------------------------------------------------------- */

/* Per worker thread: reset when the thread first works for another rig or stage. */
struct worker_state {
    uint64_t gen;
    size_t stage;
    uint64_t rng;
    uint64_t made; /* source: items this worker made */
    int ended;     /* source: this worker has returned PK_ECLOSED */
};

static _Thread_local struct worker_state tls;

static struct worker_state *worker_state(struct stage_ctx *c)
{
    struct rig *r = c->rig;
    if (tls.gen != r->gen || tls.stage != c->index) {
        unsigned t = atomic_fetch_add(&r->threads, 1);
        tls.gen = r->gen;
        tls.stage = c->index;
        tls.rng = r->seed ^ (UINT64_C(0x9e3779b97f4a7c15) * (t + 1));
        tls.made = 0;
        tls.ended = 0;
    }
    return &tls;
}

static void maybe_sleep(const struct stage_ctx *c, struct worker_state *w)
{
    long us = (long)c->sleep_fixed_us;
    if (c->sleep_one_in && check_below(&w->rng, c->sleep_one_in) == 0)
        us += (long)check_below(&w->rng, (uint64_t)c->sleep_max_us + 1);
    if (us > 0) {
        struct timespec ts = {0, us * 1000};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            continue;
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Waits for an event of another stage (see hold_id), polling every 50 us, for at most
 * HOLD_DEADLINE_S: it orders the run, it does not guess at timing. */
static void hold(const struct stage_ctx *c)
{
    struct rig *r = c->rig;
    _Atomic uint64_t *what = c->hold_freed ? &r->freed[c->hold_for] : &r->ctx[c->hold_for].calls;
    double t0 = now_s();
    while (*what == 0 && now_s() - t0 < HOLD_DEADLINE_S) {
        struct timespec ts = {0, 50000};
        nanosleep(&ts, NULL);
    }
}

static int inject_failure(struct stage_ctx *c, uint64_t id, struct pk_err *err)
{
    if (c->fail_silent)
        return c->fail_status;
    char msg[128];
    fail_message(msg, sizeof msg, c->index, id);
    return pk_fail(err, c->fail_status, "%s", msg);
}

static int source_call(struct stage_ctx *c, struct worker_state *w, void *in, void **out,
                       struct pk_err *err)
{
    struct rig *r = c->rig;
    if (in)
        atomic_fetch_add(&r->bad_items, 1);
    if (w->ended)
        atomic_fetch_add(&r->calls_after_end, 1);
    uint64_t id = NO_ID;
    if (!r->per_worker_mode || w->made < r->per_worker) {
        id = atomic_fetch_add(&r->next_id, 1);
        if (!r->per_worker_mode && id >= r->n)
            id = NO_ID;
    }
    if (id == NO_ID) {
        if (!w->ended)
            atomic_fetch_add(&r->source_ends, 1);
        w->ended = 1;
        return PK_ECLOSED;
    }
    if (id == c->fail_id)
        return inject_failure(c, id, err);
    struct item *it = malloc(sizeof *it);
    if (!it)
        return pk_fail(err, PK_ENOMEM, "out of memory for item %llu", (unsigned long long)id);
    *it = (struct item){.magic = ITEM_LIVE, .id = id, .value = mix(id), .stage = 0, .rig = r};
    atomic_fetch_add(&r->allocated, 1);
    w->made++;
    *out = it;
    return PK_OK;
}

static void record(struct rig *r, const struct item *it)
{
    pthread_mutex_lock(&r->lock);
    if (it->id < MAX_IDS) {
        r->dups += r->seen[it->id] != 0;
        r->seen[it->id] = 1;
    } else {
        atomic_fetch_add(&r->bad_items, 1);
    }
    r->delivered++;
    r->id_sum += it->id;
    r->value_sum += it->value;
    pthread_mutex_unlock(&r->lock);
}

/* Every stage's fn: called by the stage's workers, no lock held. */
static int stage_fn(void *ctx, void *in, void **out, struct pk_err *err)
{
    struct stage_ctx *c = ctx;
    struct rig *r = c->rig;
    struct worker_state *w = worker_state(c);
    atomic_fetch_add(&c->calls, 1);
    maybe_sleep(c, w);
    if (c->index == 0)
        return source_call(c, w, in, out, err);

    struct item *it = in;
    if (!it || it->magic != ITEM_LIVE) { /* not ours to free */
        atomic_fetch_add(&r->bad_items, 1);
        *out = NULL;
        return PK_OK;
    }
    if (it->rig != r || it->stage != c->index - 1 ||
        it->value != mix(it->id) + r->prefix[it->stage])
        atomic_fetch_add(&r->bad_items, 1);
    if (it->id == c->hold_id)
        hold(c);
    if (it->id == c->fail_id) {
        uint64_t id = it->id;
        item_release(r, it);
        return inject_failure(c, id, err);
    }
    if (c->drop_odd && it->id % 2) {
        item_release(r, it);
        *out = NULL;
        return PK_OK;
    }
    it->value += c->add;
    it->stage = c->index;
    if (c->index == r->nstages - 1)
        record(r, it);
    if (c->consume) {
        item_release(r, it);
        it = NULL;
    }
    *out = it;
    return PK_OK;
}

/* ---- building, running and freeing rigs --------------------------------------------------- */

/* A rig of nstages stages making n items: one worker each, queue capacity 2, no failures,
 * drops or sleeps. NULL when out of memory. */
static struct rig *rig_new(size_t nstages, uint64_t n, uint64_t seed)
{
    struct rig *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0) {
        free(r);
        return NULL;
    }
    int ok = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0;
    ok = ok && pthread_cond_init(&r->done_cond, &ca) == 0;
    pthread_condattr_destroy(&ca);
    if (ok && pthread_mutex_init(&r->done_lock, NULL) != 0) {
        pthread_cond_destroy(&r->done_cond);
        ok = 0;
    }
    if (ok && pthread_mutex_init(&r->lock, NULL) != 0) {
        pthread_mutex_destroy(&r->done_lock);
        pthread_cond_destroy(&r->done_cond);
        ok = 0;
    }
    if (!ok) {
        free(r);
        return NULL;
    }
    r->nstages = nstages;
    r->n = n;
    r->seed = seed;
    r->gen = atomic_fetch_add(&rig_generation, 1) + 1;
    uint64_t s = seed;
    for (size_t i = 0; i < MAX_STAGES; i++) {
        struct stage_ctx *c = &r->ctx[i];
        c->rig = r;
        c->index = i;
        c->add = i == 0 ? 0 : check_next_u64(&s);
        c->fail_id = NO_ID;
        c->fail_status = PK_EIO;
        c->hold_id = NO_ID;
        r->prefix[i] = (i == 0 ? 0 : r->prefix[i - 1]) + c->add;
        r->stages[i] = (struct pk_stage){.name = stage_names[i],
                                         .workers = 1,
                                         .queue_capacity = 2,
                                         .fn = stage_fn,
                                         .ctx = c,
                                         .free_item = free_fns[i]};
    }
    return r;
}

static void rig_set(struct rig *r, size_t s, int workers, size_t capacity)
{
    r->stages[s].workers = workers;
    r->stages[s].queue_capacity = capacity;
}

static void rig_sleepy(struct rig *r, unsigned one_in, unsigned max_us)
{
    for (size_t s = 0; s < MAX_STAGES; s++) {
        r->ctx[s].sleep_one_in = one_in;
        r->ctx[s].sleep_max_us = max_us;
    }
}

static void rig_free(struct rig *r)
{
    if (!r || r->abandoned)
        return;
    pthread_mutex_destroy(&r->lock);
    pthread_mutex_destroy(&r->done_lock);
    pthread_cond_destroy(&r->done_cond);
    free(r);
}

static void *run_main(void *arg)
{
    struct rig *r = arg;
    int out = !r->null_outputs;
    int rc = pk_pipeline_run(r->stages_null ? NULL : r->stages, r->nstages, out ? r->reports : NULL,
                             out ? &r->report : NULL, out ? &r->err : NULL);
    pthread_mutex_lock(&r->done_lock);
    r->rc = rc;
    r->done = 1;
    pthread_cond_signal(&r->done_cond);
    pthread_mutex_unlock(&r->done_lock);
    return NULL;
}

/* Starts the pipeline in a helper thread. 0, or 1 when no thread could be started. */
static int rig_start(struct rig *r)
{
    /* poison what the run must fill in */
    memset(r->reports, 0xff, sizeof r->reports);
    memset(&r->report, 0xff, sizeof r->report);
    strcpy(r->report.message, "(not set)");
    r->err.status = 12345;
    strcpy(r->err.msg, "(not set)");
    r->rc = 12345;
    if (pthread_create(&r->thread, NULL, run_main, r) != 0) {
        fprintf(stderr, "pthread_create failed\n");
        return 1;
    }
    r->started = 1;
    return 0;
}

/* Deadline RUN_DEADLINE_S from now, on the clock of the rigs' condition variables. */
static struct timespec run_deadline(void)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += (time_t)RUN_DEADLINE_S;
    return deadline;
}

/* Waits for a started run until `deadline`. 0: the run ended and its results are in r. 1: it
 * did not (r is then abandoned, never to be freed) or never started. */
static int rig_wait(struct rig *r, const struct timespec *deadline)
{
    if (!r->started)
        return 1;
    pthread_mutex_lock(&r->done_lock);
    int rc = 0;
    while (!r->done && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&r->done_cond, &r->done_lock, deadline);
    int done = r->done;
    pthread_mutex_unlock(&r->done_lock);
    r->started = 0;
    if (!done) {
        fprintf(stderr, "pk_pipeline_run did not return within %g s: hung, run abandoned\n",
                RUN_DEADLINE_S);
        r->abandoned = 1;
        pthread_detach(r->thread);
        return 1;
    }
    pthread_join(r->thread, NULL);
    return 0;
}

/* Runs the pipeline in a helper thread and waits for it at most RUN_DEADLINE_S; as rig_wait. */
static int rig_run(struct rig *r)
{
    if (rig_start(r))
        return 1;
    struct timespec deadline = run_deadline();
    return rig_wait(r, &deadline);
}

static void rig_describe(struct rig *r)
{
    fprintf(stderr, "  run of %zu stages, %s %llu items, seed %#llx\n", r->nstages,
            r->per_worker_mode ? "per source worker" : "in all",
            (unsigned long long)(r->per_worker_mode ? r->per_worker : r->n),
            (unsigned long long)r->seed);
    for (size_t s = 0; s < r->nstages && s < MAX_STAGES; s++) {
        const struct stage_ctx *c = &r->ctx[s];
        fprintf(stderr,
                "  stage %zu %s: workers %d capacity %zu; fail id %lld status %d%s; drop odd %d;"
                " consume %d; sleep 1/%u 0-%u us + %u us; calls %llu; freed %llu\n",
                s, r->stages[s].name ? r->stages[s].name : "(null)", r->stages[s].workers,
                r->stages[s].queue_capacity, c->fail_id == NO_ID ? -1LL : (long long)c->fail_id,
                c->fail_status, c->fail_silent ? " (silent)" : "", c->drop_odd, c->consume,
                c->sleep_one_in, c->sleep_max_us, c->sleep_fixed_us, (unsigned long long)c->calls,
                (unsigned long long)r->freed[s]);
    }
    fprintf(stderr, "  rc %d; allocated %llu, freed by stage fns %llu, delivered %llu\n", r->rc,
            (unsigned long long)r->allocated, (unsigned long long)r->freed_by_fn,
            (unsigned long long)r->delivered);
    if (!r->null_outputs)
        fprintf(stderr,
                "  report: status %d, failed stage %zu item %llu, message '%.256s'; "
                "err %d '%.256s'\n",
                r->report.status, r->report.failed_stage, (unsigned long long)r->report.failed_item,
                r->report.message, r->err.status, r->err.msg);
}

/* ---- checks ------------------------------------------------------------------------------- */

#define CHECK_CONTAINS(hay, needle)                                                                \
    do {                                                                                           \
        if (!strstr((hay), (needle))) {                                                            \
            fprintf(stderr, "%s:%d: '%s' does not contain '%s'\n", __FILE__, __LINE__, (hay),      \
                    (needle));                                                                     \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

#define CHECK_STREQ(a, b)                                                                          \
    do {                                                                                           \
        if (strcmp((a), (b)) != 0) {                                                               \
            fprintf(stderr, "%s:%d: '%s' != '%s'\n", __FILE__, __LINE__, (a), (b));                \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

static uint64_t source_total(const struct rig *r)
{
    return r->per_worker_mode ? r->per_worker * (uint64_t)r->stages[0].workers : r->n;
}

/* Does a stage in 1..s-1 drop odd ids? (s == nstages: before the sink's output.) */
static int dropped_before(const struct rig *r, size_t s)
{
    for (size_t i = 1; i < s; i++)
        if (r->ctx[i].drop_odd)
            return 1;
    return 0;
}

/* Items with ids 0..upto-1 that reach stage s (s == nstages: that leave the last stage). */
static uint64_t reaching(const struct rig *r, size_t s, uint64_t upto)
{
    return dropped_before(r, s) ? (upto + 1) / 2 : upto;
}

static int all_single_workers(const struct rig *r)
{
    for (size_t s = 0; s < r->nstages; s++)
        if (r->stages[s].workers != 1)
            return 0;
    return 1;
}

/* What holds after every run, ended or failed: every item freed exactly once, by the right
 * free_item or by the stage fn that owned it; no item damaged or seen twice; sane reports. */
static int check_accounting(struct rig *r)
{
    uint64_t freed = r->freed_by_fn;
    for (size_t s = 0; s < MAX_STAGES; s++)
        freed += r->freed[s];
    CHECK_EQ_INT(stray_frees, 0);
    CHECK_EQ_INT(freed, r->allocated);
    CHECK_EQ_INT(r->misfreed, 0);
    CHECK_EQ_INT(r->bad_items, 0);
    CHECK_EQ_INT(r->dups, 0);
    CHECK(r->delivered <= r->allocated);
    CHECK_EQ_INT(r->calls_after_end, 0);
    for (size_t s = r->nstages; s < MAX_STAGES; s++)
        CHECK_EQ_INT(r->ctx[s].calls, 0);
    if (r->nstages > 1) {
        /* the last stage's outputs are exactly the delivered items */
        size_t last = r->nstages - 1;
        CHECK_EQ_INT(r->freed[last], r->ctx[last].consume ? 0 : r->delivered);
    }
    if (r->null_outputs)
        return 0;
    CHECK(r->report.wall_s >= 0 && r->report.wall_s < RUN_DEADLINE_S);
    for (size_t s = 0; s < r->nstages; s++) {
        const struct pk_stage_report *p = &r->reports[s];
        CHECK(p->busy_s >= 0 && p->busy_s < 1e3);
        CHECK(p->blocked_s >= 0 && p->blocked_s < 1e3);
        CHECK(p->items <= r->ctx[s].calls);
        if (s > 0) {
            CHECK_EQ_INT(p->queue_capacity, r->stages[s].queue_capacity);
            CHECK(p->max_queue <= p->queue_capacity);
        }
    }
    return 0;
}

/* A run that reached the end of the source's stream. */
static int check_ok_run(struct rig *r)
{
    CHECK_EQ_INT(r->rc, PK_OK);
    CHECK_OK(check_accounting(r));
    uint64_t total = source_total(r);
    uint64_t workers0 = (uint64_t)r->stages[0].workers;
    size_t last = r->nstages - 1;
    CHECK_EQ_INT(r->allocated, total);
    /* every source worker is called until it ends its stream, and then no more */
    CHECK_EQ_INT(r->source_ends, workers0);
    CHECK_EQ_INT(r->ctx[0].calls, total + workers0);
    for (size_t s = 1; s < r->nstages; s++)
        CHECK_EQ_INT(r->ctx[s].calls, reaching(r, s, total));
    if (r->nstages == 1) {
        CHECK_EQ_INT(r->freed[0], total);
    } else {
        for (size_t s = 0; s < last; s++)
            CHECK_EQ_INT(r->freed[s], 0); /* nothing left over in a queue */
        uint64_t want = reaching(r, r->nstages, total), id_sum = 0, value_sum = 0;
        int drop = dropped_before(r, r->nstages);
        CHECK_EQ_INT(r->delivered, want);
        CHECK(total <= MAX_IDS);
        for (uint64_t id = 0; id < total; id++) {
            int expected = !(drop && id % 2);
            if (r->seen[id] != expected) {
                fprintf(stderr, "id %llu seen %d times, expected %d\n", (unsigned long long)id,
                        r->seen[id], expected);
                return 1;
            }
            if (expected) {
                id_sum += id;
                value_sum += mix(id) + r->prefix[last];
            }
        }
        CHECK_EQ_INT(r->id_sum, id_sum);
        CHECK(r->value_sum == value_sum);
    }
    if (r->null_outputs)
        return 0;
    CHECK_EQ_INT(r->report.status, PK_OK);
    CHECK_EQ_INT(r->reports[0].items, total);
    for (size_t s = 1; s < r->nstages; s++) {
        uint64_t in = reaching(r, s, total);
        CHECK_EQ_INT(r->reports[s].items, in);
        if (in > 0)
            CHECK(r->reports[s].max_queue >= 1);
    }
    return 0;
}

/* A run that failed at stage `stage` on item `id` with `status`. */
static int check_err_run(struct rig *r, size_t stage, uint64_t id, int status)
{
    CHECK_EQ_INT(r->rc, status);
    CHECK_OK(check_accounting(r));
    if (id < MAX_IDS)
        CHECK_EQ_INT(r->seen[id], 0);
    if (stage > 0)
        CHECK(r->delivered < r->allocated); /* the failed item was made, not delivered */
    CHECK(r->allocated <= source_total(r));
    if (r->null_outputs)
        return 0;
    CHECK_EQ_INT(r->report.status, status);
    CHECK_EQ_INT(r->report.failed_stage, stage);
    CHECK(r->report.failed_item >= 1);
    CHECK_EQ_INT(r->err.status, status);
    char msg[128], name[64];
    fail_message(msg, sizeof msg, stage, id);
    snprintf(name, sizeof name, "stage %s,", r->stages[stage].name);
    CHECK_CONTAINS(r->err.msg, name);
    if (!r->ctx[stage].fail_silent) {
        CHECK_CONTAINS(r->report.message, msg);
        CHECK_CONTAINS(r->err.msg, msg);
    }
    if (all_single_workers(r)) {
        /* one worker per stage keeps the order: the item's ordinal follows from its id */
        uint64_t ordinal = reaching(r, stage, id + 1);
        CHECK_EQ_INT(r->report.failed_item, ordinal);
        if (!r->ctx[stage].fail_silent) {
            char want[512];
            snprintf(want, sizeof want, "stage %s, item %llu: %s", r->stages[stage].name,
                     (unsigned long long)ordinal, msg);
            CHECK_STREQ(r->err.msg, want);
        }
        if (stage == 0) {
            CHECK_EQ_INT(r->allocated, id);
            CHECK_EQ_INT(r->reports[0].items, id);
        }
    }
    return 0;
}

/* The failure the rig's definition leads to: the one stage with a fail id that the item
 * reaches. Returns 0 when the run should end normally. */
static int expected_failure(const struct rig *r, size_t *stage, uint64_t *id, int *status)
{
    for (size_t s = 0; s < r->nstages; s++) {
        uint64_t f = r->ctx[s].fail_id;
        if (f == NO_ID || f >= source_total(r) || (s > 0 && f % 2 && dropped_before(r, s)))
            continue;
        *stage = s;
        *id = f;
        *status = r->ctx[s].fail_status;
        return 1;
    }
    return 0;
}

/* Checks the outcome r's definition promises, after rig_wait returned `waited`, and frees r
 * (unless abandoned). */
static int check_and_free(struct rig *r, int waited, const char *what)
{
    size_t stage = 0;
    uint64_t id = 0;
    int status = PK_OK;
    int bad = waited;
    if (!bad)
        bad = expected_failure(r, &stage, &id, &status) ? check_err_run(r, stage, id, status)
                                                        : check_ok_run(r);
    if (bad) {
        fprintf(stderr, "%s: run failed its checks\n", what);
        rig_describe(r);
    }
    rig_free(r);
    return bad;
}

/* Runs r, checks the outcome its definition promises and frees it (unless abandoned). */
static int run_and_check(struct rig *r, const char *what)
{
    if (!r) {
        fprintf(stderr, "%s: out of memory\n", what);
        return 1;
    }
    return check_and_free(r, rig_run(r), what);
}

/* ---- cases -------------------------------------------------------------------------------- */

static int case_no_loss_no_dup(void)
{
    /* N prime; capacities 1, 2 and 7 between stages of 1 to 4 workers, sources of 1 and 3 */
    enum { N = 499 };
    static const struct {
        size_t nstages;
        int workers[4];
        size_t capacity[4];
    } shapes[] = {
        {3, {0, 2, 1}, {0, 1, 7}},
        {4, {0, 4, 3, 1}, {0, 2, 1, 7}},
        {4, {0, 1, 1, 4}, {0, 7, 2, 1}},
        {4, {0, 3, 2, 2}, {0, 1, 1, 2}},
    };
    uint64_t seed = 0x5eed0401;
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        for (int sw = 1; sw <= 3; sw += 2) {
            struct rig *r = rig_new(shapes[k].nstages, N, seed++);
            if (r) {
                rig_set(r, 0, sw, 0);
                for (size_t s = 1; s < shapes[k].nstages; s++)
                    rig_set(r, s, shapes[k].workers[s], shapes[k].capacity[s]);
                rig_sleepy(r, 16, 200);
            }
            CHECK_OK(run_and_check(r, "no_loss_no_dup"));
        }
    }
    return 0;
}

static int case_single_stage_source_only(void)
{
    /* nstages == 1: the source's outputs go straight to its own free_item */
    const uint64_t ns[] = {0, 1, 500};
    uint64_t seed = 0x5eed0411;
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
        for (int w = 1; w <= 3; w += 2) {
            struct rig *r = rig_new(1, ns[i], seed++);
            if (r) {
                rig_set(r, 0, w, 3);
                rig_sleepy(r, 8, 100);
            }
            CHECK_OK(run_and_check(r, "single stage"));
        }
    }
    /* three workers with a stream each: one ending its stream must not end the others' */
    for (uint64_t per = 0; per <= 7; per += 7) {
        struct rig *r = rig_new(1, 0, seed++);
        if (r) {
            r->per_worker_mode = 1;
            r->per_worker = per;
            rig_set(r, 0, 3, 0);
            rig_sleepy(r, 4, 200);
        }
        CHECK_OK(run_and_check(r, "single stage, a stream per worker"));
    }
    return 0;
}

static int case_eos_with_many_workers(void)
{
    /* 5 workers everywhere and fewer items than workers, 0 included: the end of the stream
     * must reach every worker of every stage */
    const uint64_t ns[] = {0, 1, 2, 4, 7};
    const size_t nstages[] = {1, 2, 4};
    uint64_t seed = 0x5eed0421;
    for (int rep = 0; rep < 2; rep++) {
        for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
            for (size_t j = 0; j < sizeof nstages / sizeof nstages[0]; j++) {
                struct rig *r = rig_new(nstages[j], ns[i], seed++);
                if (r) {
                    for (size_t s = 0; s < nstages[j]; s++)
                        rig_set(r, s, 5, s == 0 ? 0 : (size_t)1 << (s - 1)); /* 1, 2, 4 */
                    rig_sleepy(r, 3, 200);
                }
                CHECK_OK(run_and_check(r, "eos"));
            }
        }
    }
    /* streams per worker, some of them empty: 5 workers making 0 or 1 items each */
    for (uint64_t per = 0; per <= 1; per++) {
        struct rig *r = rig_new(3, 0, seed++);
        if (r) {
            r->per_worker_mode = 1;
            r->per_worker = per;
            for (size_t s = 0; s < 3; s++)
                rig_set(r, s, 5, 1);
            rig_sleepy(r, 3, 200);
        }
        CHECK_OK(run_and_check(r, "eos, a stream per worker"));
    }
    return 0;
}

static int case_source_workers_end_independently(void)
{
    /* Each source worker makes its own stream (as a reader of one file each would): the run
     * ends after all of them ended, with every item of every stream delivered. */
    const int workers[] = {1, 2, 4};
    uint64_t seed = 0x5eed0431;
    for (size_t i = 0; i < sizeof workers / sizeof workers[0]; i++) {
        for (uint64_t per = 1; per <= 301; per += 150) {
            struct rig *r = rig_new(3, 0, seed++);
            if (r) {
                r->per_worker_mode = 1;
                r->per_worker = per;
                rig_set(r, 0, workers[i], 0);
                rig_set(r, 1, 2, 3);
                rig_set(r, 2, 2, 1);
                rig_sleepy(r, 16, 200);
            }
            CHECK_OK(run_and_check(r, "streams per source worker"));
        }
    }
    return 0;
}

static int case_error_at_every_stage(void)
{
    /* Each stage fails on the first, a middle and the last item, with one worker everywhere
     * (order kept: the item ordinal and err->msg are exact) and with several. Small capacities
     * keep upstream workers blocked on full queues when the failure comes. */
    enum { N = 41, NSTAGES = 4 };
    const uint64_t ids[] = {0, N / 2, N - 1};
    static const int many[NSTAGES] = {2, 3, 2, 2};
    static const size_t caps[NSTAGES] = {0, 1, 7, 1};
    uint64_t seed = 0x5eed0441;
    for (size_t s = 0; s < NSTAGES; s++) {
        for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
            for (int single = 1; single >= 0; single--) {
                struct rig *r = rig_new(NSTAGES, N, seed++);
                if (r) {
                    for (size_t t = 0; t < NSTAGES; t++)
                        rig_set(r, t, single ? 1 : many[t], caps[t]);
                    r->ctx[s].fail_id = ids[i];
                    rig_sleepy(r, 8, 200);
                }
                CHECK_OK(run_and_check(r, "error at every stage"));
            }
        }
    }
    return 0;
}

static int case_error_in_source(void)
{
    /* the source fails after k items, alone or with stages behind it */
    const uint64_t ks[] = {0, 1, 5, 39};
    const size_t nstages[] = {1, 3};
    uint64_t seed = 0x5eed0451;
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) {
        for (size_t j = 0; j < sizeof nstages / sizeof nstages[0]; j++) {
            for (int w = 1; w <= 3; w += 2) {
                struct rig *r = rig_new(nstages[j], 40, seed++);
                if (r) {
                    rig_set(r, 0, w, 0);
                    for (size_t s = 1; s < nstages[j]; s++)
                        rig_set(r, s, w, s);
                    r->ctx[0].fail_id = ks[i];
                    rig_sleepy(r, 8, 200);
                }
                CHECK_OK(run_and_check(r, "error in source"));
            }
        }
    }
    return 0;
}

static int case_error_stops_the_source(void)
{
    /* One source worker fails: the other must stop calling its fn, not make its 100000 items.
     * (It makes some until the failure is recorded; half of them would mean a stall of the
     * failing thread of 50 ms, 500 ms under TSAN.) */
    enum { N = 100000 };
    struct rig *r = rig_new(1, N, 0x5eed0462);
    CHECK(r != NULL);
    rig_set(r, 0, 2, 0);
    r->ctx[0].fail_id = 3;
    int bad = rig_run(r);
    if (!bad) {
        bad = check_err_run(r, 0, 3, PK_EIO);
        if (!bad && r->allocated > N / 2) {
            fprintf(stderr, "the second source worker made %llu items after the failure\n",
                    (unsigned long long)r->allocated);
            bad = 1;
        }
    }
    if (bad) {
        rig_describe(r);
        rig_free(r);
        return 1;
    }
    rig_free(r);

    /* A failure downstream stops the run: the source, blocked on a full queue of capacity 1,
     * must not go on making its 200000 items. */
    r = rig_new(3, 200000, 0x5eed0461);
    CHECK(r != NULL);
    rig_set(r, 0, 2, 0);
    rig_set(r, 1, 2, 1);
    rig_set(r, 2, 1, 1);
    r->ctx[2].fail_id = 3;
    bad = rig_run(r);
    if (!bad) {
        bad = check_err_run(r, 2, 3, PK_EIO);
        if (!bad && r->allocated > 1000) {
            fprintf(stderr, "the source made %llu items after the failure\n",
                    (unsigned long long)r->allocated);
            bad = 1;
        }
    }
    if (bad)
        rig_describe(r);
    rig_free(r);
    return bad;
}

static int case_error_frees_queued_items(void)
{
    /* Stage 1 fails on id 20 once the sink holds item 0, so ids 1-19 wait in the queue into
     * the sink (capacity 64). The failure shuts that queue down: those 19 items must be freed
     * with stage 1's free_item, not delivered (the sink holds item 0 until that happened). In
     * the second run the sink then fails on item 0 as well: a second error, after the first,
     * which must not replace it in the report. */
    for (int sink_fails = 0; sink_fails <= 1; sink_fails++) {
        struct rig *r = rig_new(3, 200, 0x5eed0465 + (uint64_t)sink_fails);
        CHECK(r != NULL);
        rig_set(r, 0, 1, 0);
        rig_set(r, 1, 1, 1);
        rig_set(r, 2, 1, 64);
        r->ctx[1].fail_id = 20;
        r->ctx[1].hold_id = 20;
        r->ctx[1].hold_for = 2;
        r->ctx[2].hold_id = 0;
        r->ctx[2].hold_for = 1;
        r->ctx[2].hold_freed = 1;
        if (sink_fails) {
            r->ctx[2].fail_id = 0;
            r->ctx[2].fail_status = PK_ENET;
        }
        int bad = rig_run(r);
        if (!bad) {
            bad = check_err_run(r, 1, 20, PK_EIO);
            if (!bad && (r->freed[1] != 19 || r->delivered != (uint64_t)!sink_fails)) {
                fprintf(stderr,
                        "after the failure: %llu queued items freed (want 19), %llu "
                        "delivered (want %d)\n",
                        (unsigned long long)r->freed[1], (unsigned long long)r->delivered,
                        !sink_fails);
                bad = 1;
            }
        }
        if (bad) {
            rig_describe(r);
            rig_free(r);
            return 1;
        }
        rig_free(r);
    }
    return 0;
}

static int case_error_status_propagates(void)
{
    /* the stage's own status comes back, not a fixed one; a failure without a message still
     * names its stage */
    const int statuses[] = {PK_ENET, PK_ERANGE, PK_ENOMEM, PK_EINVAL};
    uint64_t seed = 0x5eed0471;
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
        for (int silent = 0; silent <= 1; silent++) {
            struct rig *r = rig_new(3, 30, seed++);
            if (r) {
                size_t s = i % 3;
                r->ctx[s].fail_id = 7 + i;
                r->ctx[s].fail_status = statuses[i];
                r->ctx[s].fail_silent = silent;
            }
            CHECK_OK(run_and_check(r, "status propagates"));
        }
    }
    return 0;
}

static int case_two_errors_one_report(void)
{
    /* Stages 1 and 3 both fail, with different statuses; either may come first, but the
     * report, the return value and err must all describe the same one. */
    uint64_t seed = 0x5eed0481;
    for (int rep = 0; rep < 12; rep++) {
        struct rig *r = rig_new(4, 200, seed++);
        CHECK(r != NULL);
        for (size_t s = 0; s < 4; s++)
            rig_set(r, s, 2, 2);
        r->ctx[1].fail_id = 20;
        r->ctx[1].fail_status = PK_EIO;
        r->ctx[3].fail_id = 5;
        r->ctx[3].fail_status = PK_ENET;
        rig_sleepy(r, 4, 100 * (unsigned)(rep % 3));
        int bad = rig_run(r);
        if (!bad) {
            size_t s = r->report.failed_stage;
            if (s != 1 && s != 3) {
                fprintf(stderr, "failed_stage %zu, expected 1 or 3\n", s);
                bad = 1;
            } else {
                bad = check_err_run(r, s, r->ctx[s].fail_id, r->ctx[s].fail_status);
            }
        }
        if (bad) {
            rig_describe(r);
            rig_free(r);
            return 1;
        }
        rig_free(r);
    }
    return 0;
}

static int case_drop_items(void)
{
    /* a stage outputs NULL for odd ids: the sink sees every even id once and nothing else */
    static const struct {
        size_t nstages, drop;
        int workers[4];
        size_t capacity[4];
        int consume;
    } runs[] = {
        {4, 1, {2, 3, 2, 2}, {0, 1, 2, 7}, 0},
        {4, 2, {1, 1, 1, 1}, {0, 2, 1, 1}, 0},
        {3, 1, {3, 1, 4}, {0, 7, 1}, 1}, /* the sink consumes: free_item NULL */
        {3, 2, {2, 2, 2}, {0, 1, 1}, 0}, /* the sink drops */
    };
    uint64_t seed = 0x5eed0491;
    for (size_t k = 0; k < sizeof runs / sizeof runs[0]; k++) {
        for (uint64_t n = 500; n <= 501; n++) {
            struct rig *r = rig_new(runs[k].nstages, n, seed++);
            if (r) {
                for (size_t s = 0; s < runs[k].nstages; s++)
                    rig_set(r, s, runs[k].workers[s], runs[k].capacity[s]);
                r->ctx[runs[k].drop].drop_odd = 1;
                size_t last = runs[k].nstages - 1;
                if (runs[k].consume) {
                    r->ctx[last].consume = 1;
                    r->stages[last].free_item = NULL;
                }
                rig_sleepy(r, 16, 200);
            }
            CHECK_OK(run_and_check(r, "drop"));
        }
    }
    return 0;
}

/* Runs a rig that must be rejected: PK_EINVAL, and no stage ever called. */
static int expect_einval(struct rig *r, const char *what)
{
    if (!r)
        return 1;
    int bad = rig_run(r);
    if (!bad) {
        int ok = r->rc == PK_EINVAL && r->report.status == PK_EINVAL &&
                 r->err.status == PK_EINVAL && r->err.msg[0] != '\0' &&
                 strcmp(r->err.msg, "(not set)") != 0 && r->allocated == 0;
        for (size_t s = 0; s < MAX_STAGES; s++)
            ok = ok && r->ctx[s].calls == 0;
        bad = !ok;
    }
    if (bad) {
        fprintf(stderr, "invalid definition '%s' not rejected as expected\n", what);
        rig_describe(r);
    }
    rig_free(r);
    return bad;
}

static int case_invalid_definitions(void)
{
    struct rig *r;
    r = rig_new(0, 10, 1);
    CHECK_OK(expect_einval(r, "no stage"));
    r = rig_new(0, 10, 2);
    if (r)
        r->stages_null = 1;
    CHECK_OK(expect_einval(r, "stages NULL, nstages 0"));

    static const struct {
        size_t stage;
        int workers;
        size_t capacity;
        int null_fn;
        const char *what;
    } bad[] = {
        {0, 0, 2, 0, "source without workers"},     {1, 0, 2, 0, "stage 1 without workers"},
        {2, 0, 2, 0, "last stage without workers"}, {1, -3, 2, 0, "negative workers"},
        {0, 1, 2, 1, "source without fn"},          {2, 1, 2, 1, "last stage without fn"},
        {1, 1, 0, 0, "stage 1 capacity 0"},         {2, 1, 0, 0, "last stage capacity 0"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        r = rig_new(3, 10, 10 + k);
        if (r) {
            rig_set(r, 1, 2, 2);
            rig_set(r, bad[k].stage, bad[k].workers, bad[k].capacity);
            if (bad[k].null_fn)
                r->stages[bad[k].stage].fn = NULL;
        }
        CHECK_OK(expect_einval(r, bad[k].what));
    }

    /* what is fine: the source's capacity is ignored, even 0; all outputs NULL */
    r = rig_new(3, 10, 20);
    if (r)
        rig_set(r, 0, 1, 0);
    CHECK_OK(run_and_check(r, "source capacity 0"));
    r = rig_new(3, 10, 21);
    if (r)
        r->null_outputs = 1;
    CHECK_OK(run_and_check(r, "no reports, no err"));
    r = rig_new(2, 10, 22);
    if (r) {
        r->null_outputs = 1;
        r->ctx[1].fail_id = 4;
    }
    CHECK_OK(run_and_check(r, "a failure with no report and no err"));
    return 0;
}

static int case_stats_blocked_and_busy(void)
{
    /* A slow sink (at least 100 us per item) behind queues of capacity 1: both upstream stages
     * wait for room, the sink is busy at least N * 100 us (nanosleep never returns early), and
     * the run lasts at least that long. 10 % slack for clock granularity. */
    enum { N = 200 };
    const double slow_s = N * 100e-6 * 0.9;
    struct rig *r = rig_new(3, N, 0x5eed04a1);
    CHECK(r != NULL);
    rig_set(r, 0, 1, 0);
    rig_set(r, 1, 1, 1);
    rig_set(r, 2, 1, 1);
    r->ctx[2].sleep_fixed_us = 100;
    int bad = rig_run(r) || check_ok_run(r);
    if (!bad) {
        const struct pk_stage_report *p = r->reports;
        bad = !(p[0].blocked_s > 0 && p[1].blocked_s > 0 && p[2].busy_s >= slow_s &&
                r->report.wall_s >= slow_s && r->report.wall_s >= 0.9 * p[2].busy_s &&
                p[2].max_queue == 1);
    }
    if (bad) {
        fprintf(stderr, "slow sink: blocked %g %g, sink busy %g (want >= %g), wall %g\n",
                r->reports[0].blocked_s, r->reports[1].blocked_s, r->reports[2].busy_s, slow_s,
                r->report.wall_s);
        rig_describe(r);
        rig_free(r);
        return 1;
    }
    rig_free(r);

    /* A slow source: the stage behind it waits for input, and the source is the busy one. */
    r = rig_new(2, N, 0x5eed04a2);
    CHECK(r != NULL);
    rig_set(r, 1, 1, 4);
    r->ctx[0].sleep_fixed_us = 100;
    bad = rig_run(r) || check_ok_run(r);
    if (!bad)
        bad = !(r->reports[1].blocked_s > 0 && r->reports[0].busy_s >= slow_s &&
                r->report.wall_s >= slow_s);
    if (bad) {
        fprintf(stderr, "slow source: sink blocked %g, source busy %g (want >= %g), wall %g\n",
                r->reports[1].blocked_s, r->reports[0].busy_s, slow_s, r->report.wall_s);
        rig_describe(r);
        rig_free(r);
        return 1;
    }
    rig_free(r);
    return 0;
}

/* A random small rig for the stress case, drawn from *s. NULL when out of memory. */
static struct rig *random_rig(uint64_t *s)
{
    size_t ns = 1 + (size_t)check_below(s, 5);
    uint64_t n = check_below(s, 4) == 0 ? check_below(s, 4) : check_below(s, 24);
    struct rig *r = rig_new(ns, n, check_next_u64(s));
    if (!r)
        return NULL;
    for (size_t t = 0; t < ns; t++) {
        int w = check_below(s, 8) == 0 ? 3 + (int)check_below(s, 2) : 1 + (int)check_below(s, 2);
        rig_set(r, t, w, t == 0 ? (size_t)check_below(s, 9) : 1 + (size_t)check_below(s, 8));
    }
    if (check_below(s, 5) == 0) {
        r->per_worker_mode = 1;
        r->per_worker = check_below(s, 8);
    }
    if (ns > 1 && check_below(s, 4) == 0)
        r->ctx[1 + check_below(s, ns - 1)].drop_odd = 1;
    if (ns > 1 && check_below(s, 4) == 0) {
        r->ctx[ns - 1].consume = 1;
        r->stages[ns - 1].free_item = NULL;
    }
    if (check_below(s, 3) == 0)
        rig_sleepy(r, 32, 50);
    uint64_t total = source_total(r);
    if (total > 0 && check_below(s, 4) == 0) {
        static const int statuses[] = {PK_EIO, PK_ENET, PK_ERANGE};
        struct stage_ctx *c = &r->ctx[check_below(s, ns)];
        c->fail_id = check_below(s, total);
        c->fail_status = statuses[check_below(s, 3)];
    }
    return r;
}

static int case_stress_many_runs(void)
{
    /* Random shapes from a fixed seed: 1-5 stages of 1-2 workers (3 or 4 now and then),
     * capacities 1-8 (the source's 0-8, ignored), 0-23 items or a stream per source worker,
     * sometimes a dropping stage, a consuming sink, sleeps, or a failure at a random stage and
     * item. BATCH runs at a time share the process, which also shows that pipelines share no
     * state: on a loaded machine every run pays for scheduling its threads, and overlapping
     * runs pay for it together (about 1 s under TSAN with two CPU hogs on two cores). */
    enum { RUNS = 240, BATCH = 4 };
    uint64_t s = 0x5eed04b1;
    for (int run = 0; run < RUNS; run += BATCH) {
        struct rig *r[BATCH];
        int bad = 0;
        for (int b = 0; b < BATCH; b++) {
            r[b] = random_rig(&s);
            if (!r[b] || rig_start(r[b])) {
                fprintf(stderr, "stress run %d could not start\n", run + b);
                bad = 1;
            }
        }
        struct timespec deadline = run_deadline();
        for (int b = 0; b < BATCH; b++) {
            if (!r[b])
                continue;
            char what[64];
            snprintf(what, sizeof what, "stress run %d", run + b);
            bad |= check_and_free(r[b], rig_wait(r[b], &deadline), what);
        }
        CHECK(!bad);
    }
    return 0;
}

static const struct check_case cases[] = {
    {"no_loss_no_dup", case_no_loss_no_dup},
    {"single_stage_source_only", case_single_stage_source_only},
    {"eos_with_many_workers", case_eos_with_many_workers},
    {"source_workers_end_independently", case_source_workers_end_independently},
    {"error_at_every_stage", case_error_at_every_stage},
    {"error_in_source", case_error_in_source},
    {"error_stops_the_source", case_error_stops_the_source},
    {"error_frees_queued_items", case_error_frees_queued_items},
    {"error_status_propagates", case_error_status_propagates},
    {"two_errors_one_report", case_two_errors_one_report},
    {"drop_items", case_drop_items},
    {"invalid_definitions", case_invalid_definitions},
    {"stats_blocked_and_busy", case_stats_blocked_and_busy},
    {"stress_many_runs", case_stress_many_runs},
};

int main(int argc, char **argv)
{
    return CHECK_MAIN(cases);
}
