/* SPDX-License-Identifier: MIT */
/* Tests of the thread pool with futures (parkit/pool.h).
 *
 * Tasks are `struct job`s run by job_task: it counts its runs, records what it saw (whether
 * *result and err started out cleared, whether its token was cancelled, when it started and
 * ended), optionally waits at a gate the case opens, sleeps (plainly or on its token) and then
 * succeeds with a malloc'd result (so ASan reports one that nobody freed) or fails with a
 * message naming its value. Gates make the order of events deterministic: a case knows that a
 * task is running (it arrived at the gate) or still queued (the only thread is held at a gate)
 * without guessing from sleeps. Timed checks only ever test that something happened soon
 * enough (PROMPT_S) or not too early, never that it took a precise time.
 *
 * pk_pool_map is driven by map_task over `struct map_item`s: each task checks, when it starts,
 * how far it is ahead of the results the sink has taken, and counts how many tasks run at once;
 * the sink checks order, values and the calling thread.
 *
 * Everything a task touches lives in static storage, so a case that fails early and leaves a
 * pool behind cannot make a task write into a dead stack frame, and gates and token sleeps are
 * bounded, so such a pool drains by itself. Helper threads are joined before what they recorded
 * is checked. A watchdog thread ends the process if a case outlives WATCHDOG_S, so a lost
 * wake-up or a deadlock fails the case instead of hanging it. */
#ifndef _POSIX_C_SOURCE
#    define _POSIX_C_SOURCE 200809L
#endif

#include "check.h"
#include "parkit/pool.h"
#include "parkit/queue.h"
#include "parkit/status.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A case takes well under 2 s even under TSan on a loaded 2-core machine. A lost wake-up
 * would block forever, so after this long the watchdog ends the process naming the case. It
 * is longer than the 10 s token sleeps, so a cancellation that never arrives shows as a failed
 * CHECK on a bounded wait (LONG_WAIT_S) rather than as a watchdog kill. */
#define WATCHDOG_S 15.0
#include "io_test.h"
/* Timeout of waits that a task, a cancellation or a shutdown must end long before it. */
#define LONG_WAIT_S 4.0
/* How long a gate holds a task at most when the case never opens it (it failed early), so a
 * pool left behind still drains. Longer than LONG_WAIT_S, so a case sees a stuck gate as a
 * timed-out wait and not as a task that went on by itself. */
#define GATE_MAX_S 8.0
/* "Promptly": how soon a cancelled token sleep, a woken waiter or a cancelling shutdown must
 * return. Generous for TSan on a loaded machine; one that is not woken takes seconds. */
#define PROMPT_S 1.0
/* A deadline must have cancelled a token sleep within this long after submission. */
#define DEADLINE_PROMPT_S 0.5
/* The short timeout of waits that must time out. */
#define SHORT_S 0.005
/* Timed waits may end this much before their timeout by clock rounding, and no more. */
#define CLOCK_SLACK_S 0.001
/* How long a case sleeps so that a helper that arrived at a gate is blocked inside the pool.
 * No outcome depends on it; it only makes the wake-up path the one tested. */
#define SETTLE_S 0.02

/* ---- helpers ------------------------------------------------------------------------------ */

/* The value a successful job returns for input x: any bijection that scrambles bits. */
static uint64_t mix(uint64_t x)
{
    x ^= x >> 31;
    x *= UINT64_C(0x7fb5d329728ea185);
    x ^= x >> 27;
    x *= UINT64_C(0x81dadef4bc2dd44d);
    x ^= x >> 33;
    return x;
}

/* A non-NULL address to preset result pointers with, to see that a call wrote them. */
static char sentinel;

#define CHECK_STR(got, want)                                                                       \
    do {                                                                                           \
        const char *check_g_ = (got), *check_w_ = (want);                                          \
        if (strcmp(check_g_, check_w_) != 0) {                                                     \
            fprintf(stderr, "%s:%d: %s == \"%s\" failed: got \"%s\"\n", __FILE__, __LINE__, #got,  \
                    check_w_, check_g_);                                                           \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

/* A gate counts the threads that reach it (arrived) and holds them until it is opened; an
 * open gate only counts. mu guards arrived and open; cv (CLOCK_MONOTONIC) is broadcast when
 * either changes. */
struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int arrived;
    bool open;
};

static void gate_init(struct gate *g, bool open)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, &a);
    pthread_condattr_destroy(&a);
    g->arrived = 0;
    g->open = open;
}

static void gate_destroy(struct gate *g)
{
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
}

static void gate_open(struct gate *g)
{
    pthread_mutex_lock(&g->mu);
    g->open = true;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

/* Arrives, then waits until the gate is open: PK_OK, or PK_ETIMEDOUT after GATE_MAX_S. */
static int gate_pass(struct gate *g)
{
    struct timespec until = abs_ts(now_s() + GATE_MAX_S);
    int rc = PK_OK;
    pthread_mutex_lock(&g->mu);
    g->arrived++;
    pthread_cond_broadcast(&g->cv);
    while (!g->open && rc == PK_OK) {
        if (pthread_cond_timedwait(&g->cv, &g->mu, &until) == ETIMEDOUT && !g->open)
            rc = PK_ETIMEDOUT;
    }
    pthread_mutex_unlock(&g->mu);
    return rc;
}

/* Waits until n threads have arrived, LONG_WAIT_S at most; false if they did not. */
static bool gate_wait_arrived(struct gate *g, int n)
{
    struct timespec until = abs_ts(now_s() + LONG_WAIT_S);
    bool late = false;
    pthread_mutex_lock(&g->mu);
    while (g->arrived < n && !late)
        late = pthread_cond_timedwait(&g->cv, &g->mu, &until) == ETIMEDOUT && g->arrived < n;
    pthread_mutex_unlock(&g->mu);
    return !late;
}

/* ---- jobs --------------------------------------------------------------------------------- */

/* One task's recipe and what it saw. The case writes the recipe before submitting and reads
 * the rest after the future completed (the pool's hand-over orders the accesses; TSan reports
 * a pool that does not). */
struct job {
    uint64_t value;        /* input; a successful result is a malloc'd uint64_t mix(value) */
    struct gate *gate;     /* when not NULL the task passes it first */
    double sleep_s;        /* then sleeps this long, ignoring its token */
    double cancel_sleep_s; /* then sleeps on its token this long; a failed sleep is returned */
    int fail;              /* then fails with this status and job_msg's message (0: succeeds) */
    bool quiet;            /* fail without a message */
    bool no_result;        /* succeed leaving *result NULL (nothing to free) */
    atomic_int runs;       /* how often the task ran */
    bool clean_start;      /* *result was NULL and err zeroed on entry */
    bool cancel_at_start;  /* pk_cancel_requested on entry */
    bool cancel_at_end;    /* pk_cancel_requested before returning */
    int sleep_rc;          /* what pk_cancel_sleep returned (1: not called) */
    double started_at, ended_at;
};

static void job_init(struct job *j, uint64_t value)
{
    memset(j, 0, sizeof *j);
    atomic_init(&j->runs, 0);
    j->value = value;
    j->sleep_rc = 1;
}

/* The message a failing job gives. */
static void job_msg(const struct job *j, char *buf, size_t size)
{
    snprintf(buf, size, "cannot read 'item-%016llx.raw'", (unsigned long long)j->value);
}

/* Runs on a pool thread, no lock held. */
static int job_task(void *arg, struct pk_cancel *cancel, void **result, struct pk_err *err)
{
    struct job *j = arg;
    atomic_fetch_add(&j->runs, 1);
    j->started_at = now_s();
    j->clean_start =
        result != NULL && *result == NULL && err != NULL && err->status == 0 && err->msg[0] == '\0';
    j->cancel_at_start = pk_cancel_requested(cancel);
    int rc = PK_OK;
    if (j->gate)
        rc = gate_pass(j->gate);
    if (rc == PK_OK && j->sleep_s > 0)
        sleep_s(j->sleep_s);
    if (rc == PK_OK && j->cancel_sleep_s > 0) {
        j->sleep_rc = pk_cancel_sleep(cancel, j->cancel_sleep_s);
        rc = j->sleep_rc;
    }
    j->cancel_at_end = pk_cancel_requested(cancel);
    j->ended_at = now_s();
    if (rc != PK_OK)
        return rc;
    if (j->fail != 0 && j->quiet)
        return j->fail;
    if (j->fail != 0) {
        char msg[128];
        job_msg(j, msg, sizeof msg);
        return pk_fail(err, j->fail, "%s", msg);
    }
    if (j->no_result)
        return PK_OK;
    uint64_t *r = malloc(sizeof *r);
    if (!r)
        return pk_fail(err, PK_ENOMEM, "no memory for the result of job %llx",
                       (unsigned long long)j->value);
    *r = mix(j->value);
    *result = r;
    return PK_OK;
}

static int submit_job(struct pk_pool *p, struct job *j, double deadline_s, struct pk_queue *done,
                      struct pk_future **out)
{
    return pk_pool_submit(p, job_task, j, deadline_s, done, out);
}

/* Waits for f and checks that it succeeded with j's result, which it frees. A second wait must
 * give PK_OK again with no result: the result passes to the first waiter only. */
static int expect_value(struct pk_future *f, const struct job *j)
{
    void *r = NULL;
    struct pk_err e = {0};
    int rc = pk_future_wait(f, LONG_WAIT_S, &r, &e);
    if (rc != PK_OK)
        fprintf(stderr, "wait returned %d (%s): '%s'\n", rc, pk_strerror(rc), e.msg);
    CHECK_EQ_INT(rc, PK_OK);
    CHECK(r != NULL);
    uint64_t got = *(uint64_t *)r;
    free(r);
    CHECK_EQ_INT(got, mix(j->value));
    CHECK(pk_future_done(f));
    r = &sentinel;
    CHECK_EQ_INT(pk_future_wait(f, 0, &r, NULL), PK_OK);
    CHECK(r == NULL);
    return 0;
}

/* Waits for f and checks that it failed with status and, when j is not NULL, j's message. */
static int expect_error(struct pk_future *f, int status, const struct job *j)
{
    void *r = NULL;
    struct pk_err e;
    memset(&e, 0, sizeof e);
    int rc = pk_future_wait(f, LONG_WAIT_S, &r, &e);
    CHECK_EQ_INT(rc, status);
    CHECK(pk_future_done(f));
    if (j) {
        char want[256];
        job_msg(j, want, sizeof want);
        CHECK_EQ_INT(e.status, status);
        CHECK_STR(e.msg, want);
    }
    return 0;
}

/* The queues' free_item: a done queue holds one reference per future. */
static void release_item(void *item)
{
    pk_future_release(item);
}

/* A helper thread that waits on a future: it arrives at gate (an open one, so it only counts)
 * and then waits LONG_WAIT_S at most. */
struct waiter {
    struct pk_future *f;
    struct gate *gate;
    int rc;
    void *result;
    struct pk_err err;
    double returned_at;
};

static void *waiter_main(void *arg)
{
    struct waiter *w = arg;
    gate_pass(w->gate);
    w->result = NULL;
    w->rc = pk_future_wait(w->f, LONG_WAIT_S, &w->result, &w->err);
    w->returned_at = now_s();
    return NULL;
}

/* ---- creation, results, errors ------------------------------------------------------------ */

static int case_create_invalid(void)
{
    WATCH();
    const int bad[] = {0, 16385, -1, INT_MIN, INT_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct pk_pool *p = (struct pk_pool *)(void *)&sentinel;
        CHECK_EQ_INT(pk_pool_create(bad[i], &p), PK_EINVAL);
        CHECK(p == NULL);
    }
    /* The smallest valid size works; 4096 threads would take too long under TSan. */
    struct pk_pool *p = NULL;
    CHECK_OK(pk_pool_create(1, &p));
    CHECK(p != NULL);
    pk_pool_destroy(p);
    pk_pool_destroy(NULL);
    pk_future_release(NULL);
    return 0;
}

static int case_submit_and_wait(void)
{
    WATCH();
    /* 97 tasks (prime: no thread count divides them) on 1..8 threads, waited in a shuffled
     * order, so a late future is often waited before an early one. Every 7th fails. Each task
     * runs exactly once and starts with *result NULL and err zeroed. */
    enum { N = 97 };
    static struct job jobs[N];
    static struct pk_future *f[N];
    uint64_t seed = UINT64_C(0x3c6ef372fe94f82b);
    for (int t = 1; t <= 8; t++) {
        struct pk_pool *p = NULL;
        CHECK_OK(pk_pool_create(t, &p));
        CHECK(p != NULL);
        for (size_t i = 0; i < N; i++) {
            job_init(&jobs[i], check_next_u64(&seed));
            jobs[i].fail = i % 7 == 3 ? PK_ERANGE : PK_OK;
            jobs[i].no_result = i % 11 == 5;
            f[i] = NULL;
            CHECK_OK(submit_job(p, &jobs[i], 0, NULL, &f[i]));
            CHECK(f[i] != NULL);
        }
        size_t order[N];
        for (size_t i = 0; i < N; i++)
            order[i] = i;
        for (size_t i = N - 1; i > 0; i--) {
            size_t k = (size_t)check_below(&seed, i + 1), tmp = order[i];
            order[i] = order[k];
            order[k] = tmp;
        }
        for (size_t k = 0; k < N; k++) {
            size_t i = order[k];
            if (jobs[i].fail) {
                CHECK_OK(expect_error(f[i], jobs[i].fail, &jobs[i]));
            } else if (jobs[i].no_result) {
                void *r = NULL;
                CHECK_EQ_INT(pk_future_wait(f[i], -1, &r, NULL), PK_OK);
                CHECK(r == NULL);
            } else {
                CHECK_OK(expect_value(f[i], &jobs[i]));
            }
            CHECK_EQ_INT(atomic_load(&jobs[i].runs), 1);
            CHECK(jobs[i].clean_start);
            CHECK(!jobs[i].cancel_at_start);
            CHECK(!jobs[i].cancel_at_end);
            pk_future_release(f[i]);
        }
        uint64_t unfetched = 99;
        CHECK_OK(pk_pool_shutdown(p, false, &unfetched));
        CHECK_EQ_INT(unfetched, 0); /* every error was fetched by a wait */
        pk_pool_destroy(p);
    }
    return 0;
}

static int case_error_reaches_caller(void)
{
    WATCH();
    /* A task's status and message cross to the waiter unchanged, and stay there for a second
     * wait. A task that fails without a message still reports its status. */
    enum { N = 4 };
    static struct job jobs[N];
    struct pk_future *f[N] = {0};
    struct pk_pool *p = NULL;
    CHECK_OK(pk_pool_create(2, &p));
    for (size_t i = 0; i < N; i++)
        job_init(&jobs[i], UINT64_C(0xd1b54a32d192ed03) * (i + 1));
    jobs[0].fail = PK_EIO;
    jobs[1].fail = PK_EIO;
    jobs[1].quiet = true;
    jobs[2].fail = PK_ETIMEDOUT; /* a task's own timeout: its message and count as any error's */
    for (size_t i = 0; i < N; i++)
        CHECK_OK(submit_job(p, &jobs[i], 0, NULL, &f[i]));

    char want[256];
    job_msg(&jobs[0], want, sizeof want);
    struct pk_err e;
    memset(&e, 0x5a, sizeof e);
    e.msg[sizeof e.msg - 1] = '\0';
    void *r = NULL;
    CHECK_EQ_INT(pk_future_wait(f[0], LONG_WAIT_S, &r, &e), PK_EIO);
    CHECK_EQ_INT(e.status, PK_EIO);
    CHECK_STR(e.msg, want);
    CHECK(r == NULL);
    /* again, without err and with a fresh one: the message is still there */
    CHECK_EQ_INT(pk_future_wait(f[0], 0, NULL, NULL), PK_EIO);
    memset(&e, 0, sizeof e);
    CHECK_EQ_INT(pk_future_wait(f[0], 0, NULL, &e), PK_EIO);
    CHECK_STR(e.msg, want);

    CHECK_EQ_INT(pk_future_wait(f[1], LONG_WAIT_S, NULL, NULL), PK_EIO);
    memset(&e, 0, sizeof e);
    CHECK_EQ_INT(pk_future_wait(f[1], 0, &r, &e), PK_EIO);
    CHECK_OK(expect_error(f[2], PK_ETIMEDOUT, &jobs[2]));
    CHECK_OK(expect_value(f[3], &jobs[3]));
    for (size_t i = 0; i < N; i++) {
        CHECK(jobs[i].clean_start);
        pk_future_release(f[i]);
    }
    uint64_t unfetched = 99;
    CHECK_OK(pk_pool_shutdown(p, false, &unfetched));
    CHECK_EQ_INT(unfetched, 0);
    pk_pool_destroy(p);

    /* STYLE 4: on failure a pointer output is set to NULL. Checked last, so that an
     * implementation that leaves *result alone fails here and nowhere else. */
    CHECK_OK(pk_pool_create(1, &p));
    job_init(&jobs[0], 77);
    jobs[0].fail = PK_EIO;
    CHECK_OK(submit_job(p, &jobs[0], 0, NULL, &f[0]));
    r = &sentinel;
    CHECK_EQ_INT(pk_future_wait(f[0], LONG_WAIT_S, &r, NULL), PK_EIO);
    pk_future_release(f[0]);
    pk_pool_destroy(p);
    CHECK(r == NULL);
    return 0;
}

static int case_wait_timeout(void)
{
    WATCH();
    /* Part 1 is deterministic: a task held at a closed gate cannot be done, so every timed wait
     * must time out, after its timeout and not long after. Part 2 is the 50 ms sleeper: a wait
     * of 5 ms that ends before the sleeper could have finished must time out. */
    static struct job jobs[2];
    static struct gate g;
    struct pk_future *f = NULL;
    struct pk_pool *p = NULL;
    bool result_cleared = true; /* STYLE 4, checked last: *result NULL after a timeout */
    CHECK_OK(pk_pool_create(1, &p));
    gate_init(&g, false);
    job_init(&jobs[0], 0x5eed);
    jobs[0].gate = &g;
    CHECK_OK(submit_job(p, &jobs[0], 0, NULL, &f));
    CHECK(gate_wait_arrived(&g, 1));
    for (int k = 0; k < 3; k++) {
        void *r = &sentinel;
        double t0 = now_s();
        int rc = pk_future_wait(f, SHORT_S, &r, NULL);
        double dt = now_s() - t0;
        CHECK_EQ_INT(rc, PK_ETIMEDOUT);
        CHECK(dt >= SHORT_S - CLOCK_SLACK_S);
        CHECK(dt < PROMPT_S);
        result_cleared = result_cleared && r == NULL;
    }
    void *r0 = &sentinel;
    double t0 = now_s();
    CHECK_EQ_INT(pk_future_wait(f, 0, &r0, NULL), PK_ETIMEDOUT);
    CHECK(now_s() - t0 < PROMPT_S);
    result_cleared = result_cleared && r0 == NULL;
    CHECK(!pk_future_done(f));
    gate_open(&g);
    void *r = NULL;
    CHECK_EQ_INT(pk_future_wait(f, -1, &r, NULL), PK_OK); /* forever: the watchdog bounds it */
    CHECK(r != NULL);
    CHECK_EQ_INT(*(uint64_t *)r, mix(jobs[0].value));
    free(r);
    pk_future_release(f);

    job_init(&jobs[1], 0xfeed);
    jobs[1].sleep_s = 0.05;
    t0 = now_s();
    CHECK_OK(submit_job(p, &jobs[1], 0, NULL, &f));
    r = NULL;
    int rc = pk_future_wait(f, SHORT_S, &r, NULL);
    double t2 = now_s();
    if (t2 - t0 < jobs[1].sleep_s - CLOCK_SLACK_S)
        CHECK_EQ_INT(rc, PK_ETIMEDOUT);
    else
        CHECK(rc == PK_ETIMEDOUT || rc == PK_OK); /* this thread was descheduled for long */
    if (rc == PK_OK) {
        CHECK(r != NULL);
        free(r);
    } else {
        CHECK_OK(expect_value(f, &jobs[1]));
    }
    CHECK(jobs[1].ended_at - t0 >= jobs[1].sleep_s - CLOCK_SLACK_S);
    pk_future_release(f);
    pk_pool_destroy(p);
    gate_destroy(&g);
    CHECK(result_cleared);
    return 0;
}

static int case_result_once_many_waiters(void)
{
    WATCH();
    /* Four threads and the case wait on one future. When it succeeds, each gets PK_OK and
     * exactly one of them gets the result; when it fails, each gets the error and message. */
    enum { W = 4 };
    static struct job job;
    static struct gate hold, arrive;
    static struct waiter w[W];
    for (int round = 0; round < 2; round++) {
        struct pk_pool *p = NULL;
        CHECK_OK(pk_pool_create(1, &p));
        gate_init(&hold, false);
        gate_init(&arrive, true);
        job_init(&job, 0xabcdef12345ULL + (uint64_t)round);
        job.gate = &hold;
        job.fail = round == 1 ? PK_EIO : PK_OK;
        struct pk_future *f = NULL;
        CHECK_OK(submit_job(p, &job, 0, NULL, &f));
        struct crew crew = {0};
        for (int i = 0; i < W; i++) {
            memset(&w[i], 0, sizeof w[i]);
            w[i].f = f;
            w[i].gate = &arrive;
            w[i].rc = 1;
            crew_start(&crew, waiter_main, &w[i]);
        }
        bool arrived = gate_wait_arrived(&arrive, crew.n);
        if (arrived)
            sleep_s(SETTLE_S);
        gate_open(&hold);
        void *mine = NULL;
        int rc = pk_future_wait(f, LONG_WAIT_S, &mine, NULL);
        crew_join(&crew);
        CHECK(!crew.failed);
        CHECK(arrived);
        CHECK_EQ_INT(rc, job.fail);
        int holders = mine != NULL;
        void *got = mine;
        char want[256];
        job_msg(&job, want, sizeof want);
        for (int i = 0; i < W; i++) {
            CHECK_EQ_INT(w[i].rc, job.fail);
            if (job.fail)
                CHECK_STR(w[i].err.msg, want);
            if (w[i].result) {
                holders++;
                got = w[i].result;
            }
        }
        if (job.fail) {
            CHECK_EQ_INT(holders, 0);
        } else {
            CHECK_EQ_INT(holders, 1);
            CHECK_EQ_INT(*(uint64_t *)got, mix(job.value));
            free(got);
        }
        CHECK_EQ_INT(atomic_load(&job.runs), 1);
        pk_future_release(f);
        uint64_t unfetched = 99;
        CHECK_OK(pk_pool_shutdown(p, false, &unfetched));
        CHECK_EQ_INT(unfetched, 0);
        pk_pool_destroy(p);
        gate_destroy(&hold);
        gate_destroy(&arrive);
    }
    return 0;
}

/* ---- cancellation and deadlines ----------------------------------------------------------- */

static int case_cancel_before_start(void)
{
    WATCH();
    /* One thread, held by a task sleeping 10 s on its token. Queued tasks that are cancelled
     * never run and their waiters get PK_ECANCELED at once; the others run after the sleeper.
     * Cancelling the running sleeper returns PK_ECLOSED and wakes it promptly; cancelling a
     * finished future returns PK_EINVAL. */
    enum { NQ = 6 };
    static struct job sleeper, q[NQ];
    static struct gate arrive;
    const bool cancel[NQ] = {false, true, false, true, true, false};
    struct pk_future *fs = NULL, *fq[NQ] = {0};
    struct pk_pool *p = NULL;
    CHECK_OK(pk_pool_create(1, &p));
    gate_init(&arrive, true);
    job_init(&sleeper, 1);
    sleeper.gate = &arrive;
    sleeper.cancel_sleep_s = 10.0;
    CHECK_OK(submit_job(p, &sleeper, 0, NULL, &fs));
    CHECK(gate_wait_arrived(&arrive, 1));
    for (size_t i = 0; i < NQ; i++) {
        job_init(&q[i], UINT64_C(0x9e3779b97f4a7c15) * (i + 3));
        CHECK_OK(submit_job(p, &q[i], 0, NULL, &fq[i]));
    }
    for (size_t i = 0; i < NQ; i++) {
        if (!cancel[i])
            continue;
        CHECK_EQ_INT(pk_future_cancel(fq[i]), PK_OK);
        CHECK(pk_future_done(fq[i]));
        void *r = NULL;
        double t0 = now_s();
        CHECK_EQ_INT(pk_future_wait(fq[i], LONG_WAIT_S, &r, NULL), PK_ECANCELED);
        CHECK(now_s() - t0 < PROMPT_S);
        CHECK(r == NULL);
    }
    for (size_t i = 0; i < NQ; i++)
        if (!cancel[i])
            CHECK(!pk_future_done(fq[i])); /* still queued behind the sleeper */
    CHECK(!pk_future_done(fs));

    double t0 = now_s();
    CHECK_EQ_INT(pk_future_cancel(fs), PK_ECLOSED);
    CHECK_EQ_INT(pk_future_wait(fs, LONG_WAIT_S, NULL, NULL), PK_ECANCELED);
    double woke = now_s() - t0;
    if (woke >= PROMPT_S)
        fprintf(stderr, "the cancelled sleeper took %.3f s to return\n", woke);
    CHECK(woke < PROMPT_S);
    CHECK_EQ_INT(sleeper.sleep_rc, PK_ECANCELED);
    CHECK(sleeper.cancel_at_end);
    CHECK(!sleeper.cancel_at_start);

    for (size_t i = 0; i < NQ; i++) {
        if (!cancel[i])
            CHECK_OK(expect_value(fq[i], &q[i]));
    }
    CHECK_EQ_INT(pk_future_cancel(fq[0]), PK_EINVAL); /* finished */
    CHECK_EQ_INT(pk_future_cancel(fs), PK_EINVAL);
    CHECK_EQ_INT(pk_future_wait(fq[0], 0, NULL, NULL), PK_OK); /* a late cancel changes nothing */
    uint64_t unfetched = 99;
    CHECK_OK(pk_pool_shutdown(p, false, &unfetched));
    CHECK_EQ_INT(unfetched, 0); /* every failure, cancellations included, was waited for */
    for (size_t i = 0; i < NQ; i++) {
        CHECK_EQ_INT(atomic_load(&q[i].runs), cancel[i] ? 0 : 1);
        CHECK_EQ_INT(pk_future_wait(fq[i], 0, NULL, NULL), cancel[i] ? PK_ECANCELED : PK_OK);
        pk_future_release(fq[i]);
    }
    pk_future_release(fs);
    pk_pool_destroy(p);
    gate_destroy(&arrive);
    return 0;
}

static int case_deadline_cancels(void)
{
    WATCH();
    static struct job d, e, s, hold_job, queued;
    static struct gate hold;
    struct pk_pool *p = NULL;
    CHECK_OK(pk_pool_create(2, &p));

    /* A 20 ms deadline ends a 5 s token sleep: not before 20 ms, and soon after. */
    job_init(&d, 11);
    d.cancel_sleep_s = 5.0;
    struct pk_future *fd = NULL;
    double t0 = now_s();
    CHECK_OK(submit_job(p, &d, 0.02, NULL, &fd));
    CHECK_EQ_INT(pk_future_wait(fd, LONG_WAIT_S, NULL, NULL), PK_ECANCELED);
    double dt = now_s() - t0;
    if (dt >= DEADLINE_PROMPT_S)
        fprintf(stderr, "a 20 ms deadline ended the sleep after %.3f s\n", dt);
    CHECK(dt < DEADLINE_PROMPT_S);
    CHECK_EQ_INT(d.sleep_rc, PK_ECANCELED);
    CHECK(d.ended_at - t0 >= 0.02 - CLOCK_SLACK_S);
    CHECK(d.cancel_at_end);
    if (d.started_at - t0 < 0.015)
        CHECK(!d.cancel_at_start);
    CHECK_EQ_INT(atomic_load(&d.runs), 1);
    pk_future_release(fd);

    /* A far deadline changes nothing: a short token sleep completes, no cancel is seen. */
    job_init(&e, 12);
    e.cancel_sleep_s = 0.01;
    struct pk_future *fe = NULL;
    t0 = now_s();
    CHECK_OK(submit_job(p, &e, 10.0, NULL, &fe));
    CHECK_OK(expect_value(fe, &e));
    CHECK_EQ_INT(e.sleep_rc, PK_OK);
    CHECK(e.ended_at - e.started_at >= 0.01 - CLOCK_SLACK_S);
    CHECK(!e.cancel_at_start);
    CHECK(!e.cancel_at_end);
    pk_future_release(fe);

    /* No deadline: a 1 ns token sleep returns PK_OK at once. */
    job_init(&s, 13);
    s.cancel_sleep_s = 1e-9;
    struct pk_future *fs = NULL;
    CHECK_OK(submit_job(p, &s, 0, NULL, &fs));
    CHECK_OK(expect_value(fs, &s));
    CHECK_EQ_INT(s.sleep_rc, PK_OK);
    pk_future_release(fs);
    uint64_t unfetched = 99;
    CHECK_OK(pk_pool_shutdown(p, false, &unfetched));
    CHECK_EQ_INT(unfetched, 0);
    pk_pool_destroy(p);

    /* A deadline that passes while the task is still queued: whether the pool skips it or runs
     * it with its token already cancelled, the waiter gets PK_ECANCELED promptly. */
    CHECK_OK(pk_pool_create(1, &p));
    gate_init(&hold, false);
    job_init(&hold_job, 14);
    hold_job.gate = &hold;
    hold_job.no_result = true;
    job_init(&queued, 15);
    queued.cancel_sleep_s = 5.0;
    struct pk_future *fh = NULL, *fq = NULL;
    CHECK_OK(submit_job(p, &hold_job, 0, NULL, &fh));
    CHECK(gate_wait_arrived(&hold, 1));
    t0 = now_s();
    CHECK_OK(submit_job(p, &queued, 0.02, NULL, &fq));
    sleep_s(0.05); /* past the deadline; the outcome is the same if this overruns or not */
    double t1 = now_s();
    gate_open(&hold);
    CHECK_EQ_INT(pk_future_wait(fq, LONG_WAIT_S, NULL, NULL), PK_ECANCELED);
    CHECK(now_s() - t1 < PROMPT_S);
    int runs = atomic_load(&queued.runs);
    CHECK(runs <= 1);
    if (runs == 1) {
        CHECK(queued.started_at - t0 >= 0.02 - CLOCK_SLACK_S);
        CHECK(queued.cancel_at_start);
        CHECK_EQ_INT(queued.sleep_rc, PK_ECANCELED);
    }
    CHECK_EQ_INT(pk_future_wait(fh, LONG_WAIT_S, NULL, NULL), PK_OK);
    pk_future_release(fh);
    pk_future_release(fq);
    pk_pool_destroy(p);
    gate_destroy(&hold);
    return 0;
}

/* ---- completion order --------------------------------------------------------------------- */

/* Finds item among f[0..n): its index, or n. */
static size_t find_future(struct pk_future *const *f, size_t n, const void *item)
{
    size_t i = 0;
    while (i < n && (const void *)f[i] != item)
        i++;
    return i;
}

/* Drains want futures from a done queue on its own thread, releasing the queue's references. */
enum { DRAIN_MAX = 32 };
struct drainer {
    struct pk_queue *q;
    size_t want, got;
    void *items[DRAIN_MAX];
    int rc, not_done;
};

static void *drain_main(void *arg)
{
    struct drainer *d = arg;
    d->rc = PK_OK;
    while (d->got < d->want && d->got < DRAIN_MAX) {
        void *it = NULL;
        d->rc = pk_queue_pop_timed(d->q, &it, LONG_WAIT_S);
        if (d->rc != PK_OK)
            break;
        d->not_done += !pk_future_done(it);
        d->items[d->got++] = it;
        pk_future_release(it);
    }
    return NULL;
}

static int case_as_completed(void)
{
    WATCH();
    /* Part 1: tasks sleeping 0..120 ms, submitted out of order, reach the done queue in the
     * order they ended. Two tasks that end within ORDER_SLACK_S of each other may swap (the
     * push follows the return); the sleeps are 30 ms apart, so a pool that pushes in submission
     * order fails. */
    enum { NS = 5 };
    const double ORDER_SLACK_S = 0.01;
    static const int sleep_ms[NS] = {90, 30, 120, 0, 60};
    static struct job jobs[NS];
    struct pk_future *f[NS] = {0};
    struct pk_queue *q = NULL;
    struct pk_pool *p = NULL;
    CHECK_OK(pk_queue_create(NS + 1, release_item, &q));
    CHECK_OK(pk_pool_create(NS, &p));
    for (size_t i = 0; i < NS; i++) {
        job_init(&jobs[i], 100 + i);
        jobs[i].sleep_s = sleep_ms[i] / 1000.0;
        CHECK_OK(submit_job(p, &jobs[i], 0, q, &f[i]));
    }
    size_t order[NS];
    bool seen[NS] = {false};
    for (size_t k = 0; k < NS; k++) {
        void *it = NULL;
        CHECK_OK(pk_queue_pop_timed(q, &it, LONG_WAIT_S));
        size_t i = find_future(f, NS, it);
        CHECK(i < NS);
        CHECK(!seen[i]);
        seen[i] = true;
        order[k] = i;
        CHECK(pk_future_done(it));
        pk_future_release(it);
    }
    void *extra = NULL;
    CHECK_EQ_INT(pk_queue_pop_timed(q, &extra, 0), PK_ETIMEDOUT);
    for (size_t k = 1; k < NS; k++) {
        const struct job *a = &jobs[order[k - 1]], *b = &jobs[order[k]];
        if (b->ended_at < a->ended_at - ORDER_SLACK_S)
            fprintf(stderr, "arrival %zu: job %zu (%d ms) ended %.3f s before job %zu (%d ms)\n", k,
                    order[k], sleep_ms[order[k]], a->ended_at - b->ended_at, order[k - 1],
                    sleep_ms[order[k - 1]]);
        CHECK(b->ended_at >= a->ended_at - ORDER_SLACK_S);
    }
    for (size_t i = 0; i < NS; i++) {
        CHECK_OK(expect_value(f[i], &jobs[i]));
        pk_future_release(f[i]);
    }
    pk_pool_destroy(p);

    /* Part 2, deterministic: four tasks held at their own gates, opened in the order 2 0 3 1;
     * each must arrive right after its gate opens, errors included. A fifth, queued behind
     * them and cancelled, arrives at once. The caller's reference to f[0] is dropped before it
     * completes: the queue's own reference keeps it alive. */
    enum { NG = 4 };
    static struct job g_jobs[NG + 1];
    static struct gate gates[NG];
    struct pk_future *g[NG + 1] = {0};
    CHECK_OK(pk_pool_create(NG, &p)); /* all threads held, so the fifth task stays queued */
    for (size_t i = 0; i < NG + 1; i++) {
        job_init(&g_jobs[i], 200 + i);
        if (i < NG) {
            gate_init(&gates[i], false);
            g_jobs[i].gate = &gates[i];
        }
    }
    g_jobs[3].fail = PK_EIO;
    for (size_t i = 0; i < NG + 1; i++)
        CHECK_OK(submit_job(p, &g_jobs[i], 0, q, &g[i]));
    for (size_t i = 0; i < NG; i++)
        CHECK(gate_wait_arrived(&gates[i], 1));
    CHECK_EQ_INT(pk_queue_pop_timed(q, &extra, 0), PK_ETIMEDOUT);
    struct pk_future *f0 = g[0];
    pk_future_release(g[0]);
    g[0] = NULL;

    CHECK_EQ_INT(pk_future_cancel(g[NG]), PK_OK);
    void *it = NULL;
    CHECK_OK(pk_queue_pop_timed(q, &it, LONG_WAIT_S));
    CHECK(it == (void *)g[NG]);
    CHECK_EQ_INT(pk_future_wait(it, 0, NULL, NULL), PK_ECANCELED);
    pk_future_release(it);

    const size_t open_order[NG] = {2, 0, 3, 1};
    for (size_t k = 0; k < NG; k++) {
        size_t i = open_order[k];
        gate_open(&gates[i]);
        it = NULL;
        CHECK_OK(pk_queue_pop_timed(q, &it, LONG_WAIT_S));
        CHECK(it == (void *)(i == 0 ? f0 : g[i]));
        CHECK(pk_future_done(it));
        if (g_jobs[i].fail)
            CHECK_OK(expect_error(it, PK_EIO, &g_jobs[i]));
        else
            CHECK_OK(expect_value(it, &g_jobs[i]));
        pk_future_release(it);
    }
    CHECK_EQ_INT(pk_queue_pop_timed(q, &extra, 0), PK_ETIMEDOUT);
    CHECK_EQ_INT(atomic_load(&g_jobs[NG].runs), 0);
    for (size_t i = 1; i < NG + 1; i++)
        pk_future_release(g[i]);
    uint64_t unfetched = 99;
    CHECK_OK(pk_pool_shutdown(p, false, &unfetched));
    CHECK_EQ_INT(unfetched, 0);
    pk_pool_destroy(p);
    for (size_t i = 0; i < NG; i++)
        gate_destroy(&gates[i]);
    pk_queue_destroy(q);

    /* Part 3: more futures than the done queue holds, drained concurrently by another thread:
     * every one arrives exactly once and nothing blocks for good. */
    enum { ND = 24 };
    static struct job d_jobs[ND];
    static struct drainer dr;
    struct pk_future *d[ND] = {0};
    CHECK_OK(pk_queue_create(2, release_item, &q));
    CHECK_OK(pk_pool_create(3, &p));
    memset(&dr, 0, sizeof dr);
    dr.q = q;
    dr.want = ND;
    dr.rc = 1;
    struct crew crew = {0};
    crew_start(&crew, drain_main, &dr);
    int submit_rc = PK_OK;
    for (size_t i = 0; i < ND && submit_rc == PK_OK; i++) {
        job_init(&d_jobs[i], 300 + i);
        d_jobs[i].no_result = true;
        submit_rc = submit_job(p, &d_jobs[i], 0, q, &d[i]);
    }
    if (submit_rc != PK_OK)
        pk_queue_shutdown(q); /* lets the drainer go */
    crew_join(&crew);
    CHECK(!crew.failed);
    CHECK_OK(submit_rc);
    CHECK_OK(dr.rc);
    CHECK_EQ_INT(dr.got, ND);
    CHECK_EQ_INT(dr.not_done, 0);
    bool d_seen[ND] = {false};
    for (size_t k = 0; k < ND; k++) {
        size_t i = find_future(d, ND, dr.items[k]);
        CHECK(i < ND);
        CHECK(!d_seen[i]);
        d_seen[i] = true;
    }
    for (size_t i = 0; i < ND; i++) {
        CHECK_EQ_INT(pk_future_wait(d[i], 0, NULL, NULL), PK_OK);
        pk_future_release(d[i]);
    }
    pk_pool_destroy(p);
    CHECK_EQ_INT(pk_queue_pop_timed(q, &extra, 0), PK_ETIMEDOUT);
    pk_queue_destroy(q);
    return 0;
}

static int case_futures_wait_modes(void)
{
    WATCH();
    /* Four tasks held at gates (the second fails when let go) and a fifth sleeping 30 ms; the
     * gates are opened one by one and every mode is checked in between. */
    enum { N = 4 };
    static struct job jobs[N + 1];
    static struct gate gates[N];
    struct pk_future *f[N] = {0}, *slow = NULL;
    struct pk_pool *p = NULL;
    size_t idx = 12345;
    CHECK_OK(pk_pool_create(N + 1, &p));

    /* n = 0: nothing to wait for, so ALL and FIRST_ERROR are satisfied at once. */
    CHECK_OK(pk_futures_wait(f, 0, PK_WAIT_ALL, 0, &idx));
    CHECK_EQ_INT(idx, 0);
    idx = 12345;
    CHECK_OK(pk_futures_wait(f, 0, PK_WAIT_FIRST_ERROR, 0, &idx));
    CHECK_EQ_INT(idx, 0);

    for (size_t i = 0; i < N; i++) {
        job_init(&jobs[i], 400 + i);
        gate_init(&gates[i], false);
        jobs[i].gate = &gates[i];
        jobs[i].fail = i == 1 ? PK_EIO : PK_OK;
        CHECK_OK(submit_job(p, &jobs[i], 0, NULL, &f[i]));
    }
    for (size_t i = 0; i < N; i++)
        CHECK(gate_wait_arrived(&gates[i], 1));

    const enum pk_wait_mode modes[] = {PK_WAIT_FIRST, PK_WAIT_FIRST_ERROR, PK_WAIT_ALL};
    for (size_t m = 0; m < 3; m++) {
        double t0 = now_s();
        CHECK_EQ_INT(pk_futures_wait(f, N, modes[m], SHORT_S, &idx), PK_ETIMEDOUT);
        double dt = now_s() - t0;
        CHECK(dt >= SHORT_S - CLOCK_SLACK_S);
        CHECK(dt < PROMPT_S);
        CHECK_EQ_INT(pk_futures_wait(f, N, modes[m], 0, &idx), PK_ETIMEDOUT);
    }

    gate_open(&gates[2]);
    idx = 12345;
    CHECK_OK(pk_futures_wait(f, N, PK_WAIT_FIRST, LONG_WAIT_S, &idx));
    CHECK_EQ_INT(idx, 2);
    CHECK(pk_future_done(f[2]));
    idx = 12345;
    CHECK_OK(pk_futures_wait(f, N, PK_WAIT_FIRST, 0, &idx)); /* already done: no wait */
    CHECK_EQ_INT(idx, 2);
    /* a success is not an error, and not all are done */
    CHECK_EQ_INT(pk_futures_wait(f, N, PK_WAIT_FIRST_ERROR, SHORT_S, &idx), PK_ETIMEDOUT);
    CHECK_EQ_INT(pk_futures_wait(f, N, PK_WAIT_ALL, SHORT_S, &idx), PK_ETIMEDOUT);

    /* FIRST is woken by a completion, not only by its timeout. */
    job_init(&jobs[N], 499);
    jobs[N].sleep_s = 0.03;
    double t0 = now_s();
    CHECK_OK(submit_job(p, &jobs[N], 0, NULL, &slow));
    struct pk_future *pair[2] = {f[0], slow};
    idx = 12345;
    CHECK_OK(pk_futures_wait(pair, 2, PK_WAIT_FIRST, LONG_WAIT_S, &idx));
    double dt = now_s() - t0;
    CHECK_EQ_INT(idx, 1);
    CHECK(dt >= 0.03 - CLOCK_SLACK_S);
    CHECK(dt < PROMPT_S);

    gate_open(&gates[1]);
    idx = 12345;
    CHECK_OK(pk_futures_wait(f, N, PK_WAIT_FIRST_ERROR, LONG_WAIT_S, &idx));
    CHECK_EQ_INT(idx, 1);
    CHECK_EQ_INT(pk_futures_wait(f, N, PK_WAIT_ALL, SHORT_S, &idx), PK_ETIMEDOUT);

    gate_open(&gates[0]);
    gate_open(&gates[3]);
    idx = 12345;
    CHECK_OK(pk_futures_wait(f, N, PK_WAIT_ALL, LONG_WAIT_S, &idx));
    CHECK_EQ_INT(idx, N);
    for (size_t i = 0; i < N; i++)
        CHECK(pk_future_done(f[i]));
    idx = 12345;
    CHECK_OK(pk_futures_wait(f, N, PK_WAIT_ALL, 0, &idx));
    CHECK_EQ_INT(idx, N);
    idx = 12345;
    CHECK_OK(pk_futures_wait(f, N, PK_WAIT_FIRST_ERROR, 0, &idx)); /* all done, one failed */
    CHECK_EQ_INT(idx, 1);
    struct pk_future *good[3] = {f[0], f[2], f[3]};
    idx = 12345;
    CHECK_OK(pk_futures_wait(good, 3, PK_WAIT_FIRST_ERROR, LONG_WAIT_S, &idx));
    CHECK_EQ_INT(idx, 3); /* all done, none failed */
    idx = 12345;
    CHECK_OK(pk_futures_wait(f + 1, 1, PK_WAIT_FIRST, LONG_WAIT_S, &idx));
    CHECK_EQ_INT(idx, 0);

    /* pk_futures_wait does not fetch errors: the failed task, never waited on with
     * pk_future_wait, is counted at shutdown. */
    CHECK_OK(expect_value(f[0], &jobs[0]));
    CHECK_OK(expect_value(f[2], &jobs[2]));
    CHECK_OK(expect_value(f[3], &jobs[3]));
    CHECK_OK(expect_value(slow, &jobs[N]));
    for (size_t i = 0; i < N; i++)
        pk_future_release(f[i]);
    pk_future_release(slow);
    uint64_t unfetched = 99;
    CHECK_OK(pk_pool_shutdown(p, false, &unfetched));
    CHECK_EQ_INT(unfetched, 1);
    pk_pool_destroy(p);
    for (size_t i = 0; i < N; i++)
        gate_destroy(&gates[i]);
    return 0;
}

/* ---- map ---------------------------------------------------------------------------------- */

enum { MAP_MAX = 1000 };
struct map_run;
struct map_item {
    size_t idx;
    uint64_t value;
    int fail;              /* fail with this status after 5 ms (0: succeed) */
    double cancel_sleep_s; /* sleep on the token this long first */
    struct map_run *run;
};

/* One pk_pool_map call's bookkeeping. The case sets the first block before the call; tasks
 * update the atomics; the sink (the caller's thread) owns the last block. */
struct map_run {
    size_t n, window;
    bool static_results; /* a result is its item's address; else a malloc'd mix(value) */
    size_t sink_fail_at; /* the sink fails at this index (SIZE_MAX: never) */
    int sink_fail_status;
    pthread_t caller;
    atomic_int started[MAP_MAX];
    atomic_size_t running, max_running; /* task bodies running at once, and the most seen */
    atomic_size_t sunk;                 /* results the sink has taken */
    atomic_int ahead;                   /* tasks that started too far ahead of the sink */
    atomic_int sleep_rc;                /* the token sleeper's status (1: it did not sleep) */
    size_t calls, next;
    int order_bad, value_bad, thread_bad;
};

static struct map_item map_items[MAP_MAX];
static void *map_inputs[MAP_MAX];
static struct map_run map_run;

static void map_reset(size_t n, size_t window, bool static_results)
{
    struct map_run *m = &map_run;
    memset(m, 0, sizeof *m);
    m->n = n;
    m->window = window;
    m->static_results = static_results;
    m->sink_fail_at = SIZE_MAX;
    m->caller = pthread_self();
    for (size_t i = 0; i < MAP_MAX; i++)
        atomic_init(&m->started[i], 0);
    atomic_init(&m->running, 0);
    atomic_init(&m->max_running, 0);
    atomic_init(&m->sunk, 0);
    atomic_init(&m->ahead, 0);
    atomic_init(&m->sleep_rc, 1);
    uint64_t seed = UINT64_C(0x6a09e667f3bcc909) ^ n ^ (window << 20);
    for (size_t i = 0; i < n; i++) {
        map_items[i] = (struct map_item){.idx = i, .value = check_next_u64(&seed), .run = m};
        map_inputs[i] = &map_items[i];
    }
}

/* Runs on a pool thread, no lock held. A task may only start when the map has fewer than
 * window futures outstanding: i <= sunk + window (the one of slack allows a map that submits
 * the next input before it hands the previous result to the sink). */
static int map_task(void *arg, struct pk_cancel *cancel, void **result, struct pk_err *err)
{
    struct map_item *it = arg;
    struct map_run *m = it->run;
    atomic_fetch_add(&m->started[it->idx], 1);
    size_t running = atomic_fetch_add(&m->running, 1) + 1;
    size_t most = atomic_load(&m->max_running);
    while (running > most && !atomic_compare_exchange_weak(&m->max_running, &most, running))
        continue;
    size_t sunk = atomic_load(&m->sunk);
    if (it->idx > sunk && it->idx - sunk > m->window)
        atomic_fetch_add(&m->ahead, 1);
    int rc = PK_OK;
    if (it->idx % 50 == 7)
        sleep_s(0.001); /* a slow task lets the window fill up behind it */
    if (it->cancel_sleep_s > 0) {
        rc = pk_cancel_sleep(cancel, it->cancel_sleep_s);
        atomic_store(&m->sleep_rc, rc);
    }
    if (rc == PK_OK && it->fail != 0) {
        sleep_s(0.005);
        rc = pk_fail(err, it->fail, "item %zu is bad", it->idx);
    }
    if (rc == PK_OK && m->static_results) {
        *result = it;
    } else if (rc == PK_OK) {
        uint64_t *r = malloc(sizeof *r);
        if (r) {
            *r = mix(it->value);
            *result = r;
        } else {
            rc = pk_fail(err, PK_ENOMEM, "no memory for result %zu", it->idx);
        }
    }
    atomic_fetch_sub(&m->running, 1);
    return rc;
}

/* The caller's thread calls it; it owns result. */
static int map_sink(void *ctx, size_t idx, void *result)
{
    struct map_run *m = ctx;
    m->calls++;
    m->thread_bad += !pthread_equal(pthread_self(), m->caller);
    m->order_bad += idx != m->next;
    m->next = idx + 1;
    if (idx >= m->n)
        m->value_bad++;
    else if (m->static_results)
        m->value_bad += result != (void *)&map_items[idx];
    else
        m->value_bad += result == NULL || *(uint64_t *)result != mix(map_items[idx].value);
    if (!m->static_results)
        free(result);
    atomic_fetch_add(&m->sunk, 1);
    return idx == m->sink_fail_at ? m->sink_fail_status : PK_OK;
}

/* Runs one successful map and checks everything the sink and the tasks recorded. */
static int map_ok(struct pk_pool *p, size_t n, size_t window, int nthreads)
{
    map_reset(n, window, false);
    size_t failed = 12345;
    struct pk_err e = {0};
    int rc = pk_pool_map(p, map_task, map_inputs, n, window, map_sink, &map_run, &failed, &e);
    struct map_run *m = &map_run;
    size_t most = atomic_load(&m->max_running);
    if (rc != PK_OK || m->calls != n || m->order_bad || m->value_bad || m->thread_bad ||
        atomic_load(&m->ahead) || most > window)
        fprintf(stderr,
                "map n=%zu window=%zu threads=%d: rc %d '%s', %zu sink calls, %d out of order, "
                "%d bad values, %d on other threads, %d tasks ahead, %zu ran at once\n",
                n, window, nthreads, rc, e.msg, m->calls, m->order_bad, m->value_bad, m->thread_bad,
                atomic_load(&m->ahead), most);
    CHECK_OK(rc);
    CHECK_EQ_INT(m->calls, n);
    CHECK_EQ_INT(m->next, n);
    CHECK_EQ_INT(m->order_bad, 0);
    CHECK_EQ_INT(m->value_bad, 0);
    CHECK_EQ_INT(m->thread_bad, 0);
    CHECK_EQ_INT(atomic_load(&m->ahead), 0);
    CHECK(most <= window);
    CHECK(most <= (size_t)nthreads);
    for (size_t i = 0; i < n; i++)
        CHECK_EQ_INT(atomic_load(&m->started[i]), 1);
    return 0;
}

static int case_map_in_order(void)
{
    WATCH();
    /* n = 1000 on 8 threads with windows below, at and above the thread count and above n;
     * then small n (0, 1, prime) on 1 and 3 threads, where threads outnumber items too. */
    const size_t windows[] = {1, 4, 64, MAP_MAX + 1};
    struct pk_pool *p = NULL;
    CHECK_OK(pk_pool_create(8, &p));
    for (size_t w = 0; w < sizeof windows / sizeof windows[0]; w++)
        CHECK_OK(map_ok(p, MAP_MAX, windows[w], 8));

    /* window 0 is refused before anything runs */
    map_reset(5, 0, false);
    CHECK_EQ_INT(pk_pool_map(p, map_task, map_inputs, 5, 0, map_sink, &map_run, NULL, NULL),
                 PK_EINVAL);
    CHECK_EQ_INT(map_run.calls, 0);
    uint64_t unfetched = 99;
    CHECK_OK(pk_pool_shutdown(p, false, &unfetched));
    CHECK_EQ_INT(unfetched, 0);
    for (size_t i = 0; i < 5; i++)
        CHECK_EQ_INT(atomic_load(&map_run.started[i]), 0);
    pk_pool_destroy(p);

    const int threads[] = {1, 3};
    const size_t ns[] = {0, 1, 13};
    const size_t small_windows[] = {1, 5, SIZE_MAX};
    for (size_t t = 0; t < 2; t++) {
        CHECK_OK(pk_pool_create(threads[t], &p));
        for (size_t k = 0; k < 3; k++)
            for (size_t w = 0; w < 3; w++)
                CHECK_OK(map_ok(p, ns[k], small_windows[w], threads[t]));
        CHECK_OK(pk_pool_shutdown(p, false, &unfetched));
        CHECK_EQ_INT(unfetched, 0);
        pk_pool_destroy(p);
    }
    return 0;
}

static int case_map_first_error_stops(void)
{
    WATCH();
    /* Input k fails (after 5 ms); input k+1, when the window lets it start, sleeps 5 s on its
     * token, so a map that does not cancel what is in flight takes seconds. The map returns
     * the failure with k, the sink saw exactly 0..k-1, and no input at k+window or later ever
     * started (checked after shutdown, when nothing can start any more). Results are the
     * items' addresses: nothing to free for the results the map drops. */
    enum { N = 200 };
    const size_t ks[] = {0, 37, N - 1};
    const size_t windows[] = {1, 4};
    for (size_t a = 0; a < 3; a++) {
        for (size_t b = 0; b < 2; b++) {
            const size_t k = ks[a], window = windows[b];
            struct pk_pool *p = NULL;
            CHECK_OK(pk_pool_create(4, &p));
            map_reset(N, window, true);
            map_items[k].fail = PK_EIO;
            if (k + 1 < N)
                map_items[k + 1].cancel_sleep_s = 5.0;
            size_t failed = 12345;
            struct pk_err e = {0};
            double t0 = now_s();
            int rc =
                pk_pool_map(p, map_task, map_inputs, N, window, map_sink, &map_run, &failed, &e);
            double dt = now_s() - t0;
            t0 = now_s();
            CHECK_OK(pk_pool_shutdown(p, false, NULL));
            double shut = now_s() - t0;
            struct map_run *m = &map_run;
            if (rc != PK_EIO || failed != k || m->calls != k || dt >= PROMPT_S || shut >= PROMPT_S)
                fprintf(stderr,
                        "k=%zu window=%zu: rc %d failed_index %zu '%s', %zu sink calls, map "
                        "took %.3f s, shutdown %.3f s\n",
                        k, window, rc, failed, e.msg, m->calls, dt, shut);
            CHECK_EQ_INT(rc, PK_EIO);
            CHECK_EQ_INT(failed, k);
            char want[64];
            snprintf(want, sizeof want, "item %zu is bad", k);
            CHECK_EQ_INT(e.status, PK_EIO);
            CHECK_STR(e.msg, want);
            CHECK_EQ_INT(m->calls, k);
            CHECK_EQ_INT(m->next, k);
            CHECK_EQ_INT(m->order_bad, 0);
            CHECK_EQ_INT(m->value_bad, 0);
            CHECK_EQ_INT(atomic_load(&m->ahead), 0);
            CHECK(atomic_load(&m->max_running) <= window);
            CHECK(dt < PROMPT_S);
            CHECK(shut < PROMPT_S);
            for (size_t i = 0; i < N; i++) {
                int started = atomic_load(&m->started[i]);
                CHECK(started <= 1);
                if (i <= k)
                    CHECK_EQ_INT(started, 1);
                if (i >= k + window && started != 0)
                    fprintf(stderr, "k=%zu window=%zu: input %zu started\n", k, window, i);
                if (i >= k + window)
                    CHECK_EQ_INT(started, 0);
            }
            int sleep_rc = atomic_load(&m->sleep_rc);
            CHECK(sleep_rc == 1 || sleep_rc == PK_ECANCELED);
            pk_pool_destroy(p);
        }
    }
    return 0;
}

static int case_map_sink_error(void)
{
    WATCH();
    /* The sink fails at input j: the map returns its status with j, never calls the sink
     * again, and starts nothing beyond j+window (one of slack: the next input may have been
     * submitted before j was handed over). */
    enum { N = 100 };
    const size_t js[] = {0, 10, N - 1};
    const size_t windows[] = {1, 4};
    for (size_t a = 0; a < 3; a++) {
        for (size_t b = 0; b < 2; b++) {
            const size_t j = js[a], window = windows[b];
            struct pk_pool *p = NULL;
            CHECK_OK(pk_pool_create(3, &p));
            map_reset(N, window, true);
            map_run.sink_fail_at = j;
            map_run.sink_fail_status = PK_ERANGE;
            size_t failed = 12345;
            struct pk_err e = {0};
            int rc =
                pk_pool_map(p, map_task, map_inputs, N, window, map_sink, &map_run, &failed, &e);
            CHECK_OK(pk_pool_shutdown(p, false, NULL));
            struct map_run *m = &map_run;
            if (rc != PK_ERANGE || failed != j || m->calls != j + 1)
                fprintf(stderr, "j=%zu window=%zu: rc %d failed_index %zu, %zu sink calls\n", j,
                        window, rc, failed, m->calls);
            CHECK_EQ_INT(rc, PK_ERANGE);
            CHECK_EQ_INT(failed, j);
            CHECK_EQ_INT(m->calls, j + 1);
            CHECK_EQ_INT(m->order_bad, 0);
            CHECK_EQ_INT(m->value_bad, 0);
            CHECK_EQ_INT(atomic_load(&m->ahead), 0);
            for (size_t i = 0; i < N; i++) {
                int started = atomic_load(&m->started[i]);
                CHECK(started <= 1);
                if (i <= j)
                    CHECK_EQ_INT(started, 1);
                if (i > j + window)
                    CHECK_EQ_INT(started, 0);
            }
            pk_pool_destroy(p);
        }
    }
    return 0;
}

/* ---- shutdown ----------------------------------------------------------------------------- */

static int case_unfetched_errors_counted(void)
{
    WATCH();
    /* Three failures: A is waited on (fetched), B is released while it is still held at a
     * gate, C is released after it failed. A success released unwaited does not count. */
    static struct job a, b, c, ok, d;
    static struct gate hold;
    struct pk_future *fa = NULL, *fb = NULL, *fc = NULL, *fok = NULL, *fd = NULL;
    struct pk_pool *p = NULL;
    CHECK_OK(pk_pool_create(2, &p));
    gate_init(&hold, false);
    job_init(&a, 1);
    job_init(&b, 2);
    job_init(&c, 3);
    job_init(&ok, 4);
    a.fail = b.fail = c.fail = PK_EIO;
    b.gate = &hold;
    ok.no_result = true;
    CHECK_OK(submit_job(p, &b, 0, NULL, &fb));
    CHECK_OK(submit_job(p, &a, 0, NULL, &fa));
    CHECK_OK(submit_job(p, &c, 0, NULL, &fc));
    CHECK_OK(submit_job(p, &ok, 0, NULL, &fok));
    CHECK(gate_wait_arrived(&hold, 1));
    pk_future_release(fb);
    CHECK_OK(expect_error(fa, PK_EIO, &a));
    pk_future_release(fa);
    size_t idx = 0;
    CHECK_OK(pk_futures_wait(&fc, 1, PK_WAIT_ALL, LONG_WAIT_S, &idx));
    pk_future_release(fc);
    CHECK_OK(pk_futures_wait(&fok, 1, PK_WAIT_ALL, LONG_WAIT_S, &idx));
    pk_future_release(fok);
    gate_open(&hold);
    uint64_t unfetched = 99;
    CHECK_OK(pk_pool_shutdown(p, false, &unfetched));
    CHECK_EQ_INT(unfetched, 2);
    CHECK_EQ_INT(atomic_load(&b.runs), 1);
    CHECK_OK(pk_pool_shutdown(p, false, NULL)); /* idempotent */
    CHECK_OK(pk_pool_shutdown(p, true, NULL));
    pk_pool_destroy(p);
    gate_destroy(&hold);

    /* A failure whose future the caller still holds, unwaited, counts too; the error can
     * still be fetched after shutdown. */
    CHECK_OK(pk_pool_create(1, &p));
    job_init(&d, 5);
    d.fail = PK_EIO;
    CHECK_OK(submit_job(p, &d, 0, NULL, &fd));
    unfetched = 99;
    CHECK_OK(pk_pool_shutdown(p, false, &unfetched));
    CHECK_EQ_INT(unfetched, 1);
    CHECK_OK(expect_error(fd, PK_EIO, &d));
    pk_future_release(fd);
    pk_pool_destroy(p);
    return 0;
}

static int case_shutdown_waits(void)
{
    WATCH();
    /* Without cancel_pending every queued task still runs, with its token never cancelled,
     * and every future reaches the done queue. A 30 ms task in front keeps the others queued
     * when shutdown starts (most of the time; the outcome is the same either way). */
    enum { N = 21 };
    static struct job jobs[N];
    const int threads[] = {1, 3};
    for (size_t t = 0; t < 2; t++) {
        struct pk_future *f[N] = {0};
        struct pk_queue *q = NULL;
        struct pk_pool *p = NULL;
        CHECK_OK(pk_queue_create(N, release_item, &q));
        CHECK_OK(pk_pool_create(threads[t], &p));
        for (size_t i = 0; i < N; i++) {
            job_init(&jobs[i], 500 + i);
            jobs[i].sleep_s = i == 0 ? 0.03 : 0;
            CHECK_OK(submit_job(p, &jobs[i], 0, q, &f[i]));
        }
        uint64_t unfetched = 99;
        CHECK_OK(pk_pool_shutdown(p, false, &unfetched));
        CHECK_EQ_INT(unfetched, 0);
        for (size_t i = 0; i < N; i++) {
            CHECK_EQ_INT(atomic_load(&jobs[i].runs), 1);
            CHECK(pk_future_done(f[i]));
            CHECK(!jobs[i].cancel_at_start);
            CHECK(!jobs[i].cancel_at_end);
        }
        bool seen[N] = {false};
        for (size_t k = 0; k < N; k++) {
            void *it = NULL;
            CHECK_OK(pk_queue_pop_timed(q, &it, 0));
            size_t i = find_future(f, N, it);
            CHECK(i < N);
            CHECK(!seen[i]);
            seen[i] = true;
            pk_future_release(it);
        }
        void *extra = NULL;
        CHECK_EQ_INT(pk_queue_pop_timed(q, &extra, 0), PK_ETIMEDOUT);
        for (size_t i = 0; i < N; i++) {
            CHECK_OK(expect_value(f[i], &jobs[i]));
            pk_future_release(f[i]);
        }
        pk_pool_destroy(p);
        pk_queue_destroy(q);
    }
    return 0;
}

static int case_shutdown_cancels(void)
{
    WATCH();
    /* Two threads, both in a 10 s token sleep; ten tasks queued behind them; a helper thread
     * blocked waiting on one of the queued ones. Shutdown with cancel_pending must return
     * promptly: the sleepers wake with PK_ECANCELED, the queued tasks never run, every waiter
     * gets PK_ECANCELED, and every future reaches the done queue exactly once. */
    enum { NR = 2, NQ = 10, N = NR + NQ };
    static struct job jobs[N];
    static struct gate arrive, waiting;
    static struct waiter w;
    struct pk_future *f[N] = {0};
    struct pk_queue *q = NULL;
    struct pk_pool *p = NULL;
    CHECK_OK(pk_queue_create(N, release_item, &q));
    CHECK_OK(pk_pool_create(NR, &p));
    gate_init(&arrive, true);
    gate_init(&waiting, true);
    for (size_t i = 0; i < N; i++) {
        job_init(&jobs[i], 600 + i);
        if (i < NR) {
            jobs[i].gate = &arrive;
            jobs[i].cancel_sleep_s = 10.0;
        }
        CHECK_OK(submit_job(p, &jobs[i], 0, q, &f[i]));
        if (i == NR - 1)
            CHECK(gate_wait_arrived(&arrive, NR));
    }
    memset(&w, 0, sizeof w);
    w.f = f[NR + 3];
    w.gate = &waiting;
    w.rc = 1;
    struct crew crew = {0};
    crew_start(&crew, waiter_main, &w);
    bool arrived = gate_wait_arrived(&waiting, crew.n);
    if (arrived)
        sleep_s(SETTLE_S);
    double t0 = now_s();
    int rc = pk_pool_shutdown(p, true, NULL);
    double dt = now_s() - t0;
    crew_join(&crew);
    CHECK(!crew.failed);
    CHECK(arrived);
    CHECK_OK(rc);
    if (dt >= PROMPT_S)
        fprintf(stderr, "shutdown with cancel_pending took %.3f s\n", dt);
    CHECK(dt < PROMPT_S);
    CHECK_EQ_INT(w.rc, PK_ECANCELED);
    CHECK(w.returned_at - t0 < PROMPT_S);
    CHECK(w.result == NULL);
    for (size_t i = 0; i < N; i++) {
        CHECK(pk_future_done(f[i]));
        CHECK_EQ_INT(pk_future_wait(f[i], 0, NULL, NULL), PK_ECANCELED);
        CHECK_EQ_INT(atomic_load(&jobs[i].runs), i < NR ? 1 : 0);
        if (i < NR) {
            CHECK_EQ_INT(jobs[i].sleep_rc, PK_ECANCELED);
            CHECK(jobs[i].ended_at - t0 < PROMPT_S);
        }
    }
    bool seen[N] = {false};
    for (size_t k = 0; k < N; k++) {
        void *it = NULL;
        CHECK_OK(pk_queue_pop_timed(q, &it, 0));
        size_t i = find_future(f, N, it);
        CHECK(i < N);
        CHECK(!seen[i]);
        seen[i] = true;
        pk_future_release(it);
    }
    void *extra = NULL;
    CHECK_EQ_INT(pk_queue_pop_timed(q, &extra, 0), PK_ETIMEDOUT);
    struct pk_future *late = NULL;
    CHECK_EQ_INT(submit_job(p, &jobs[0], 0, NULL, &late), PK_ECLOSED);
    for (size_t i = 0; i < N; i++)
        pk_future_release(f[i]);
    pk_pool_destroy(p);
    pk_queue_destroy(q);
    gate_destroy(&arrive);
    gate_destroy(&waiting);
    return 0;
}

/* A helper thread that shuts a pool down: it arrives at gate (an open one) first. */
struct stopper {
    struct pk_pool *p;
    struct gate *gate;
    int rc;
    uint64_t unfetched;
    double returned_at;
};

static void *stopper_main(void *arg)
{
    struct stopper *s = arg;
    gate_pass(s->gate);
    s->unfetched = 99;
    s->rc = pk_pool_shutdown(s->p, false, &s->unfetched);
    s->returned_at = now_s();
    return NULL;
}

static int case_shutdown_concurrent(void)
{
    WATCH();
    /* Two threads shut the same pool down at once while its only thread is held at a gate and
     * a failing task waits behind it. "Every function is thread-safe" and shutdown "waits for
     * every thread": neither call may return before the held task is let go, and both must
     * count the failure that runs after it. */
    enum { NS = 2 };
    static struct job held, failing;
    static struct gate hold, arrive;
    static struct stopper st[NS];
    struct pk_future *fh = NULL, *ff = NULL;
    struct pk_pool *p = NULL;
    CHECK_OK(pk_pool_create(1, &p));
    gate_init(&hold, false);
    gate_init(&arrive, true);
    job_init(&held, 1000);
    held.gate = &hold;
    held.no_result = true;
    job_init(&failing, 1001);
    failing.fail = PK_EIO;
    CHECK_OK(submit_job(p, &held, 0, NULL, &fh));
    CHECK(gate_wait_arrived(&hold, 1));
    CHECK_OK(submit_job(p, &failing, 0, NULL, &ff));
    struct crew crew = {0};
    for (int i = 0; i < NS; i++) {
        memset(&st[i], 0, sizeof st[i]);
        st[i].p = p;
        st[i].gate = &arrive;
        st[i].rc = 1;
        crew_start(&crew, stopper_main, &st[i]);
    }
    bool arrived = gate_wait_arrived(&arrive, crew.n);
    if (arrived)
        sleep_s(SETTLE_S);
    double opened_at = now_s();
    gate_open(&hold);
    crew_join(&crew);
    CHECK(!crew.failed);
    CHECK(arrived);
    for (int i = 0; i < NS; i++) {
        if (st[i].returned_at < opened_at || st[i].unfetched != 1)
            fprintf(stderr,
                    "shutdown %d returned %.3f s before the held task was let go, counting %llu "
                    "unfetched errors\n",
                    i, opened_at - st[i].returned_at, (unsigned long long)st[i].unfetched);
        CHECK_OK(st[i].rc);
        CHECK(st[i].returned_at >= opened_at);
        CHECK_EQ_INT(st[i].unfetched, 1);
    }
    CHECK_EQ_INT(atomic_load(&failing.runs), 1);
    CHECK_EQ_INT(pk_future_wait(fh, 0, NULL, NULL), PK_OK);
    pk_future_release(fh);
    pk_future_release(ff);
    pk_pool_destroy(p);
    gate_destroy(&hold);
    gate_destroy(&arrive);
    return 0;
}

static int case_submit_after_shutdown(void)
{
    WATCH();
    /* After either kind of shutdown, submit and map refuse with PK_ECLOSED, *out is NULL,
     * nothing runs and nothing reaches the done queue. */
    static struct job job;
    for (int cancel = 0; cancel < 2; cancel++) {
        struct pk_pool *p = NULL;
        struct pk_queue *q = NULL;
        CHECK_OK(pk_queue_create(4, release_item, &q));
        CHECK_OK(pk_pool_create(2, &p));
        uint64_t unfetched = 99;
        CHECK_OK(pk_pool_shutdown(p, cancel != 0, &unfetched));
        CHECK_EQ_INT(unfetched, 0);
        job_init(&job, 700);
        struct pk_future *f = (struct pk_future *)(void *)&sentinel;
        CHECK_EQ_INT(submit_job(p, &job, 0, NULL, &f), PK_ECLOSED);
        CHECK(f == NULL);
        f = (struct pk_future *)(void *)&sentinel;
        CHECK_EQ_INT(submit_job(p, &job, 1.0, q, &f), PK_ECLOSED);
        CHECK(f == NULL);
        map_reset(3, 2, false);
        CHECK_EQ_INT(pk_pool_map(p, map_task, map_inputs, 3, 2, map_sink, &map_run, NULL, NULL),
                     PK_ECLOSED);
        CHECK_EQ_INT(map_run.calls, 0);
        CHECK_OK(pk_pool_shutdown(p, false, NULL)); /* idempotent */
        pk_pool_destroy(p);
        CHECK_EQ_INT(atomic_load(&job.runs), 0);
        for (size_t i = 0; i < 3; i++)
            CHECK_EQ_INT(atomic_load(&map_run.started[i]), 0);
        void *extra = NULL;
        CHECK_EQ_INT(pk_queue_pop_timed(q, &extra, 0), PK_ETIMEDOUT);
        pk_queue_destroy(q);
    }
    return 0;
}

static int case_futures_outlive_pool(void)
{
    WATCH();
    /* pk_pool_destroy without a shutdown first still runs everything queued; afterwards every
     * future, and every reference in a done queue, stays usable until released (ASan reports a
     * future that points into the freed pool). */
    enum { N = 8 };
    static struct job jobs[N], hold_job, cancelled;
    static struct gate hold;
    struct pk_future *f[N] = {0};
    struct pk_queue *q = NULL;
    struct pk_pool *p = NULL;
    CHECK_OK(pk_queue_create(N, release_item, &q));
    CHECK_OK(pk_pool_create(2, &p));
    for (size_t i = 0; i < N; i++) {
        job_init(&jobs[i], 800 + i);
        jobs[i].sleep_s = i == 0 ? 0.02 : 0;
        jobs[i].fail = i == 5 ? PK_EIO : PK_OK;
        CHECK_OK(submit_job(p, &jobs[i], i == 1 ? 10.0 : 0, q, &f[i]));
    }
    pk_pool_destroy(p);
    for (size_t i = 0; i < N; i++) {
        CHECK_EQ_INT(atomic_load(&jobs[i].runs), 1);
        CHECK(pk_future_done(f[i]));
        if (jobs[i].fail)
            CHECK_OK(expect_error(f[i], PK_EIO, &jobs[i]));
        else
            CHECK_OK(expect_value(f[i], &jobs[i]));
        CHECK_EQ_INT(pk_future_cancel(f[i]), PK_EINVAL);
        pk_future_release(f[i]);
    }
    for (size_t k = 0; k < N; k++) {
        void *it = NULL;
        CHECK_OK(pk_queue_pop_timed(q, &it, 0));
        CHECK(pk_future_done(it));
        pk_future_release(it);
    }
    pk_queue_destroy(q);

    /* A future cancelled before it ran, held across destroy. */
    CHECK_OK(pk_pool_create(1, &p));
    gate_init(&hold, false);
    job_init(&hold_job, 900);
    hold_job.gate = &hold;
    job_init(&cancelled, 901);
    struct pk_future *fh = NULL, *fc = NULL;
    CHECK_OK(submit_job(p, &hold_job, 0, NULL, &fh));
    CHECK(gate_wait_arrived(&hold, 1));
    CHECK_OK(submit_job(p, &cancelled, 0, NULL, &fc));
    CHECK_EQ_INT(pk_future_cancel(fc), PK_OK);
    gate_open(&hold);
    pk_pool_destroy(p);
    CHECK_EQ_INT(pk_future_wait(fc, 0, NULL, NULL), PK_ECANCELED);
    CHECK_EQ_INT(atomic_load(&cancelled.runs), 0);
    CHECK_OK(expect_value(fh, &hold_job));
    pk_future_release(fc);
    pk_future_release(fh);
    gate_destroy(&hold);
    return 0;
}

/* ---- stress ------------------------------------------------------------------------------- */

/* One cycle: a pool of 1..3 threads gets 1..6 tasks (malloc'd result, no result, or failure),
 * and each future is waited on, released unwaited, cancelled at once (racing the start) and
 * then waited on, or kept past the pool's end. The pool ends by destroy alone, by shutdown
 * and destroy, or by a cancelling shutdown and destroy. Invariants: a task runs at most once;
 * a successful cancel means it never runs and waits give PK_ECANCELED; any other cancel result
 * means it ran (PK_EINVAL: it had finished, PK_ECLOSED: it was running) and the wait gives its
 * own status; without a cancelling shutdown everything not cancelled runs, and shutdown counts
 * exactly the failures released or kept unwaited. */
/* On an idle machine 3000 cycles take about 0.25 s plain and 1 s under TSan; on a busy one
 * every hand-off waits for a time slice, so the case stops after STRESS_BUDGET_S once the
 * first STRESS_MIN_CYCLES ran. */
enum { STRESS_CYCLES = 3000, STRESS_MAX_TASKS = 6, STRESS_MIN_CYCLES = 200 };
#define STRESS_BUDGET_S 0.75

enum stress_kind { SK_VALUE, SK_NO_RESULT, SK_FAIL };
enum stress_act { SA_WAIT, SA_RELEASE, SA_CANCEL, SA_KEEP };
enum stress_end { SE_DESTROY, SE_SHUTDOWN, SE_CANCEL_ALL };

/* Checks that f (not yet released) completed as its task and the cancel result say. */
static int stress_expect(struct pk_future *f, const struct job *j, enum stress_kind kind,
                         int cancel_rc, bool may_be_cancelled)
{
    void *r = NULL;
    int rc = pk_future_wait(f, LONG_WAIT_S, &r, NULL);
    int runs = atomic_load(&j->runs);
    CHECK(runs <= 1);
    if (cancel_rc == PK_OK || (may_be_cancelled && runs == 0)) {
        CHECK_EQ_INT(runs, 0);
        CHECK_EQ_INT(rc, PK_ECANCELED);
        CHECK(r == NULL);
        return 0;
    }
    CHECK_EQ_INT(runs, 1);
    if (kind == SK_FAIL) {
        CHECK_EQ_INT(rc, PK_EIO);
    } else {
        CHECK_EQ_INT(rc, PK_OK);
        CHECK(kind == SK_VALUE ? r != NULL : r == NULL);
        if (r)
            CHECK_EQ_INT(*(uint64_t *)r, mix(j->value));
        free(r);
    }
    return 0;
}

static int case_stress(void)
{
    WATCH();
    static struct job jobs[STRESS_MAX_TASKS];
    uint64_t seed = UINT64_C(0xbb67ae8584caa73b);
    const double t0 = now_s();
    int cycle = 0;
    for (; cycle < STRESS_CYCLES; cycle++) {
        if (cycle >= STRESS_MIN_CYCLES && now_s() - t0 > STRESS_BUDGET_S)
            break;
        const int nthreads = 1 + (int)check_below(&seed, 3);
        const size_t n = 1 + (size_t)check_below(&seed, STRESS_MAX_TASKS);
        const enum stress_end end = (enum stress_end)check_below(&seed, 3);
        enum stress_kind kind[STRESS_MAX_TASKS];
        enum stress_act act[STRESS_MAX_TASKS];
        int cancel_rc[STRESS_MAX_TASKS];
        struct pk_future *f[STRESS_MAX_TASKS] = {0};
        size_t order[STRESS_MAX_TASKS];
        uint64_t want_unfetched = 0;
        struct pk_pool *p = NULL;
        CHECK_OK(pk_pool_create(nthreads, &p));
        for (size_t i = 0; i < n; i++) {
            job_init(&jobs[i], check_next_u64(&seed));
            kind[i] = (enum stress_kind)check_below(&seed, 3);
            act[i] = (enum stress_act)check_below(&seed, 4);
            if (act[i] == SA_RELEASE && kind[i] == SK_VALUE)
                kind[i] = SK_NO_RESULT; /* nobody could free its result */
            jobs[i].fail = kind[i] == SK_FAIL ? PK_EIO : PK_OK;
            jobs[i].no_result = kind[i] == SK_NO_RESULT;
            cancel_rc[i] = 1;
            order[i] = i;
            want_unfetched += kind[i] == SK_FAIL && (act[i] == SA_RELEASE || act[i] == SA_KEEP);
            CHECK_OK(submit_job(p, &jobs[i], 0, NULL, &f[i]));
        }
        for (size_t i = n - 1; i > 0; i--) {
            size_t k = (size_t)check_below(&seed, i + 1), tmp = order[i];
            order[i] = order[k];
            order[k] = tmp;
        }
        for (size_t k = 0; k < n; k++) {
            size_t i = order[k];
            if (act[i] == SA_CANCEL) {
                cancel_rc[i] = pk_future_cancel(f[i]);
                if (cancel_rc[i] != PK_OK && cancel_rc[i] != PK_EINVAL &&
                    cancel_rc[i] != PK_ECLOSED)
                    fprintf(stderr, "cycle %d: cancel returned %d\n", cycle, cancel_rc[i]);
                CHECK(cancel_rc[i] == PK_OK || cancel_rc[i] == PK_EINVAL ||
                      cancel_rc[i] == PK_ECLOSED);
            }
            if (act[i] == SA_WAIT || act[i] == SA_CANCEL) {
                int bad = stress_expect(f[i], &jobs[i], kind[i], cancel_rc[i], false);
                if (bad)
                    fprintf(stderr, "cycle %d: task %zu kind %d act %d cancel %d\n", cycle, i,
                            kind[i], act[i], cancel_rc[i]);
                CHECK_OK(bad);
            }
            if (act[i] != SA_KEEP) {
                pk_future_release(f[i]);
                f[i] = NULL;
            }
        }
        uint64_t unfetched = 0;
        if (end == SE_SHUTDOWN) {
            CHECK_OK(pk_pool_shutdown(p, false, &unfetched));
            if (unfetched != want_unfetched)
                fprintf(stderr, "cycle %d: shutdown counted %llu unfetched errors, want %llu\n",
                        cycle, (unsigned long long)unfetched, (unsigned long long)want_unfetched);
            CHECK_EQ_INT(unfetched, want_unfetched);
        } else if (end == SE_CANCEL_ALL) {
            CHECK_OK(pk_pool_shutdown(p, true, NULL));
        }
        pk_pool_destroy(p);
        for (size_t i = 0; i < n; i++) {
            int runs = atomic_load(&jobs[i].runs);
            CHECK(runs <= 1);
            if (end != SE_CANCEL_ALL && cancel_rc[i] != PK_OK)
                CHECK_EQ_INT(runs, 1);
            if (f[i]) {
                CHECK(pk_future_done(f[i]));
                int bad =
                    stress_expect(f[i], &jobs[i], kind[i], cancel_rc[i], end == SE_CANCEL_ALL);
                if (bad)
                    fprintf(stderr, "cycle %d: kept task %zu kind %d end %d\n", cycle, i, kind[i],
                            end);
                CHECK_OK(bad);
                pk_future_release(f[i]);
            }
        }
    }
    CHECK(cycle >= STRESS_MIN_CYCLES);
    return 0;
}

static const struct check_case cases[] = {
    {"create_invalid", case_create_invalid},
    {"submit_and_wait", case_submit_and_wait},
    {"error_reaches_caller", case_error_reaches_caller},
    {"wait_timeout", case_wait_timeout},
    {"result_once_many_waiters", case_result_once_many_waiters},
    {"cancel_before_start", case_cancel_before_start},
    {"deadline_cancels", case_deadline_cancels},
    {"as_completed", case_as_completed},
    {"futures_wait_modes", case_futures_wait_modes},
    {"map_in_order", case_map_in_order},
    {"map_first_error_stops", case_map_first_error_stops},
    {"map_sink_error", case_map_sink_error},
    {"unfetched_errors_counted", case_unfetched_errors_counted},
    {"shutdown_waits", case_shutdown_waits},
    {"shutdown_cancels", case_shutdown_cancels},
    {"shutdown_concurrent", case_shutdown_concurrent},
    {"submit_after_shutdown", case_submit_after_shutdown},
    {"futures_outlive_pool", case_futures_outlive_pool},
    {"stress", case_stress},
};

int main(int argc, char **argv)
{
    return CHECK_MAIN(cases);
}
