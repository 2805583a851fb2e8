/* SPDX-License-Identifier: MIT */
/* Tests of the event-loop engine (parkit/loop.h).
 *
 * Tasks are `struct sleeper`s run by sleeper_step: the first step records its start and asks
 * for a sleep, the second records when it woke and finishes with the sleeper's status (a
 * malloc'd result on success, so ASan reports one that nobody freed). Every step is counted, so
 * a task run twice or never shows. Parked tasks (park_step) wait for pk_ltask_resume or an
 * abort. Everything a task touches lives in static storage, so a case that fails early and
 * leaves an engine behind cannot make a task write into a dead stack frame. Timed checks only
 * test that something happened soon enough (PROMPT_S) or not early, never a precise time. */
#ifndef _POSIX_C_SOURCE
#    define _POSIX_C_SOURCE 200809L
#endif

#include "check.h"
#include "parkit/loop.h"
#include "parkit/queue.h"
#include "parkit/status.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WATCHDOG_S 30.0
#include "io_test.h"
/* How soon a cancel, a deadline or a cancelling shutdown must end a task; generous for TSan
 * on a loaded machine. */
#define PROMPT_S 1.0

enum { MANY = 10000 };

struct sleeper {
    double sleep_s, started, woke;
    int status; /* what the second step returns */
    _Atomic int steps, aborts;
    struct pk_ltask *resume_other; /* resumed by this task's second step (same loop thread) */
};

static struct sleeper sl[MANY];
static _Atomic int running_now, running_max;

static void note_running(int delta)
{
    int now = atomic_fetch_add(&running_now, delta) + delta;
    int seen = atomic_load(&running_max);
    while (now > seen && !atomic_compare_exchange_weak(&running_max, &seen, now))
        ;
}

static int sleeper_step(void *arg, struct pk_lctx *ctx, double *sleep_s, void **result,
                        struct pk_err *err)
{
    (void)ctx;
    struct sleeper *s = arg;
    if (atomic_fetch_add(&s->steps, 1) == 0) {
        s->started = now_s();
        note_running(1);
        *sleep_s = s->sleep_s;
        return PK_STEP_SLEEP;
    }
    s->woke = now_s();
    note_running(-1);
    if (s->resume_other)
        pk_ltask_resume(s->resume_other);
    if (s->status != PK_OK)
        return pk_fail(err, s->status, "sleeper %zu failed", (size_t)(s - sl));
    size_t *r = malloc(sizeof *r);
    if (r)
        *r = (size_t)(s - sl);
    *result = r;
    return r ? PK_OK : PK_ENOMEM;
}

static void sleeper_abort(void *arg, struct pk_lctx *ctx)
{
    (void)ctx;
    atomic_fetch_add(&((struct sleeper *)arg)->aborts, 1);
}

static int park_step(void *arg, struct pk_lctx *ctx, double *sleep_s, void **result,
                     struct pk_err *err)
{
    (void)ctx, (void)sleep_s, (void)result, (void)err;
    struct sleeper *s = arg;
    if (atomic_fetch_add(&s->steps, 1) == 0)
        return PK_STEP_PARK;
    s->woke = now_s();
    return PK_OK;
}

static const struct pk_ltask_ops sleeper_ops = {sleeper_step, sleeper_abort};
static const struct pk_ltask_ops park_ops = {park_step, sleeper_abort};

static void reset(size_t n, double sleep_s)
{
    for (size_t i = 0; i < n; i++) {
        sl[i] = (struct sleeper){.sleep_s = sleep_s};
        atomic_init(&sl[i].steps, 0);
        atomic_init(&sl[i].aborts, 0);
    }
    atomic_store(&running_now, 0);
    atomic_store(&running_max, 0);
}

/* Runs n sleepers on an engine and takes them from the done queue: each exactly once, with its
 * own result, never woken before its time. */
static int run_many(int threads, size_t n, size_t max_inflight)
{
    struct pk_loop *l;
    struct pk_queue *done;
    static struct pk_ltask *t[MANY];
    static bool seen[MANY];
    CHECK_OK(pk_loop_create(threads, max_inflight, NULL, &l));
    CHECK_OK(pk_queue_create(n, pk_ltask_release_item, &done));
    for (size_t i = 0; i < n; i++) {
        sl[i].sleep_s = 0.001 * (double)(1 + i % 20);
        seen[i] = false;
        CHECK_OK(pk_loop_submit(l, &sleeper_ops, &sl[i], 0, done, &t[i]));
    }
    for (size_t k = 0; k < n; k++) {
        void *item;
        CHECK_OK(pk_queue_pop_timed(done, &item, 10.0));
        struct sleeper *s = pk_ltask_arg(item);
        size_t i = (size_t)(s - sl);
        CHECK(i < n && !seen[i]);
        seen[i] = true;
        pk_ltask_release(item);
    }
    for (size_t i = 0; i < n; i++) {
        void *r = NULL;
        CHECK_OK(pk_ltask_wait(t[i], 0, &r, NULL));
        CHECK(r && *(size_t *)r == i);
        free(r);
        CHECK_OK(pk_ltask_wait(t[i], 0, &r, NULL));
        CHECK(r == NULL); /* the result passes over once */
        CHECK_EQ_INT(atomic_load(&sl[i].steps), 2);
        CHECK(sl[i].woke - sl[i].started >= sl[i].sleep_s);
        pk_ltask_release(t[i]);
    }
    struct pk_loop_stats st;
    pk_loop_get_stats(l, &st);
    CHECK_EQ_INT(st.submitted, n);
    CHECK_EQ_INT(st.finished, n);
    uint64_t unfetched = 1;
    CHECK_OK(pk_loop_shutdown(l, false, &unfetched));
    CHECK_EQ_INT(unfetched, 0);
    pk_loop_destroy(l);
    pk_queue_destroy(done);
    return 0;
}

static int case_timers_one_thread(void)
{
    WATCH();
    reset(MANY, 0);
    return run_many(1, MANY, 0);
}

static int case_timers_threads(void)
{
    WATCH();
    reset(MANY, 0);
    return run_many(3, MANY, 0);
}

/* At most max_inflight run at once, split exactly over the threads (7 over 2 threads, and 2
 * over 3 threads, where one thread may run none). */
static int case_max_inflight(void)
{
    WATCH();
    const size_t bounds[][2] = {{2, 7}, {3, 2}, {1, 1}};
    for (size_t b = 0; b < 3; b++) {
        reset(60, 0);
        if (run_many((int)bounds[b][0], 60, bounds[b][1]))
            return 1;
        CHECK_EQ_INT(atomic_load(&running_max), (long long)bounds[b][1]);
    }
    return 0;
}

/* A failed task's error carries its message; one nobody fetched is counted at shutdown. */
static int case_errors(void)
{
    WATCH();
    reset(3, 0.001);
    sl[0].status = PK_EIO;
    sl[1].status = PK_ENET;
    struct pk_loop *l;
    struct pk_ltask *t[3];
    CHECK_OK(pk_loop_create(1, 0, NULL, &l));
    for (int i = 0; i < 3; i++)
        CHECK_OK(pk_loop_submit(l, &sleeper_ops, &sl[i], 0, NULL, &t[i]));
    struct pk_err err = {0};
    CHECK_EQ_INT(pk_ltask_wait(t[0], 5, NULL, &err), PK_EIO);
    CHECK(strstr(err.msg, "sleeper 0 failed") != NULL);
    CHECK_EQ_INT(pk_ltask_wait(t[1], 5, NULL, NULL), PK_ENET); /* fetched: not counted */
    void *r = NULL;
    CHECK_OK(pk_ltask_wait(t[2], 5, &r, NULL));
    free(r);
    reset(1, 0.001);
    sl[0].status = PK_EIO; /* a fourth task fails and nobody asks */
    struct pk_ltask *u;
    CHECK_OK(pk_loop_submit(l, &sleeper_ops, &sl[0], 0, NULL, &u));
    uint64_t unfetched = 0;
    CHECK_OK(pk_loop_shutdown(l, false, &unfetched));
    CHECK_EQ_INT(unfetched, 1);
    for (int i = 0; i < 3; i++)
        pk_ltask_release(t[i]);
    pk_ltask_release(u);
    pk_loop_destroy(l);
    return 0;
}

/* Waiting with a timeout on a task still asleep times out; the task is unharmed. */
static int case_wait_timeout(void)
{
    WATCH();
    reset(1, 0.3);
    struct pk_loop *l;
    struct pk_ltask *t;
    CHECK_OK(pk_loop_create(1, 0, NULL, &l));
    CHECK_OK(pk_loop_submit(l, &sleeper_ops, &sl[0], 0, NULL, &t));
    CHECK_EQ_INT(pk_ltask_wait(t, 0.01, NULL, NULL), PK_ETIMEDOUT);
    CHECK(!pk_ltask_done(t));
    void *r = NULL;
    CHECK_OK(pk_ltask_wait(t, -1, &r, NULL));
    CHECK(pk_ltask_done(t));
    free(r);
    pk_ltask_release(t);
    pk_loop_destroy(l);
    return 0;
}

/* With one task in flight at a time, a queued task cancelled never runs; a running one is
 * aborted at once. */
static int case_cancel(void)
{
    WATCH();
    reset(3, 10.0);
    struct pk_loop *l;
    struct pk_ltask *t[3];
    CHECK_OK(pk_loop_create(1, 1, NULL, &l));
    for (int i = 0; i < 3; i++)
        CHECK_OK(pk_loop_submit(l, &sleeper_ops, &sl[i], 0, NULL, &t[i]));
    CHECK_OK(pk_ltask_cancel(t[1])); /* queued behind t[0] */
    CHECK_EQ_INT(pk_ltask_wait(t[1], 0, NULL, NULL), PK_ECANCELED);
    double t0 = now_s();
    while (atomic_load(&sl[0].steps) == 0 && now_s() - t0 < PROMPT_S)
        sleep_s(0.001);
    CHECK_EQ_INT(pk_ltask_cancel(t[0]), PK_ECLOSED); /* running: aborted by its loop */
    CHECK_EQ_INT(pk_ltask_wait(t[0], PROMPT_S, NULL, NULL), PK_ECANCELED);
    CHECK_EQ_INT(pk_ltask_cancel(t[0]), PK_EINVAL); /* finished */
    int rc = pk_ltask_cancel(t[2]); /* queued, or started once t[0] was aborted */
    CHECK(rc == PK_OK || rc == PK_ECLOSED);
    CHECK_EQ_INT(pk_ltask_wait(t[2], PROMPT_S, NULL, NULL), PK_ECANCELED);
    CHECK_EQ_INT(atomic_load(&sl[1].steps), 0);
    CHECK_EQ_INT(atomic_load(&sl[0].aborts), 1); /* asleep: it lets go all the same */
    CHECK_EQ_INT(atomic_load(&sl[1].aborts), 0); /* never started */
    uint64_t unfetched = 1;
    CHECK_OK(pk_loop_shutdown(l, false, &unfetched));
    CHECK_EQ_INT(unfetched, 0); /* cancelled is not an error */
    for (int i = 0; i < 3; i++)
        pk_ltask_release(t[i]);
    pk_loop_destroy(l);
    return 0;
}

/* A deadline ends a sleeping task and a parked one (which lets go through its abort). */
static int case_deadline(void)
{
    WATCH();
    reset(2, 10.0);
    struct pk_loop *l;
    struct pk_ltask *t[2];
    CHECK_OK(pk_loop_create(1, 0, NULL, &l));
    double t0 = now_s();
    CHECK_OK(pk_loop_submit(l, &sleeper_ops, &sl[0], 0.05, NULL, &t[0]));
    CHECK_OK(pk_loop_submit(l, &park_ops, &sl[1], 0.05, NULL, &t[1]));
    struct pk_err err = {0};
    CHECK_EQ_INT(pk_ltask_wait(t[0], PROMPT_S, NULL, &err), PK_ETIMEDOUT);
    CHECK(strstr(err.msg, "deadline") != NULL);
    CHECK_EQ_INT(pk_ltask_wait(t[1], PROMPT_S, NULL, NULL), PK_ETIMEDOUT);
    CHECK(now_s() - t0 >= 0.05);
    CHECK_EQ_INT(atomic_load(&sl[0].aborts), 1);
    CHECK_EQ_INT(atomic_load(&sl[1].aborts), 1);
    CHECK_EQ_INT(atomic_load(&sl[1].steps), 1);
    for (int i = 0; i < 2; i++)
        pk_ltask_release(t[i]);
    pk_loop_destroy(l);
    return 0;
}

/* A parked task goes on when another task on its loop resumes it. */
static int case_resume(void)
{
    WATCH();
    reset(2, 0.02);
    struct pk_loop *l;
    struct pk_ltask *t[2];
    CHECK_OK(pk_loop_create(1, 0, NULL, &l));
    CHECK_OK(pk_loop_submit(l, &park_ops, &sl[0], 0, NULL, &t[0]));
    sl[1].resume_other = t[0];
    CHECK_OK(pk_loop_submit(l, &sleeper_ops, &sl[1], 0, NULL, &t[1]));
    CHECK_OK(pk_ltask_wait(t[0], PROMPT_S, NULL, NULL));
    void *r = NULL;
    CHECK_OK(pk_ltask_wait(t[1], PROMPT_S, &r, NULL));
    free(r);
    CHECK_EQ_INT(atomic_load(&sl[0].steps), 2);
    CHECK(sl[0].woke >= sl[1].woke);
    for (int i = 0; i < 2; i++)
        pk_ltask_release(t[i]);
    pk_loop_destroy(l);
    return 0;
}

/* A cancelling shutdown with 10,000 in flight (and more queued behind a bound) returns
 * promptly, and every task reaches the done queue, cancelled. */
static int case_shutdown_cancels(void)
{
    WATCH();
    reset(MANY, 10.0);
    struct pk_loop *l;
    struct pk_queue *done;
    CHECK_OK(pk_loop_create(2, MANY / 2, NULL, &l));
    CHECK_OK(pk_queue_create(MANY, pk_ltask_release_item, &done));
    for (size_t i = 0; i < MANY; i++) {
        struct pk_ltask *t;
        CHECK_OK(pk_loop_submit(l, &sleeper_ops, &sl[i], 0, done, &t));
        pk_ltask_release(t); /* the done queue keeps what is needed */
    }
    double t0 = now_s();
    while (atomic_load(&running_now) < MANY / 2 && now_s() - t0 < 5.0)
        sleep_s(0.001);
    t0 = now_s();
    CHECK_OK(pk_loop_shutdown(l, true, NULL));
    CHECK(now_s() - t0 < PROMPT_S);
    for (size_t k = 0; k < MANY; k++) {
        void *item;
        CHECK_OK(pk_queue_pop_timed(done, &item, 0));
        CHECK_EQ_INT(pk_ltask_wait(item, 0, NULL, NULL), PK_ECANCELED);
        pk_ltask_release(item);
    }
    CHECK_EQ_INT(pk_loop_submit(l, &sleeper_ops, &sl[0], 0, NULL, &(struct pk_ltask *){0}),
                 PK_ECLOSED);
    pk_loop_destroy(l);
    pk_queue_destroy(done);
    return 0;
}

/* A plain shutdown lets every task finish; handles outlive the engine. */
static int case_shutdown_waits(void)
{
    WATCH();
    reset(50, 0.02);
    struct pk_loop *l;
    static struct pk_ltask *t[50];
    CHECK_OK(pk_loop_create(2, 10, NULL, &l));
    for (int i = 0; i < 50; i++)
        CHECK_OK(pk_loop_submit(l, &sleeper_ops, &sl[i], 0, NULL, &t[i]));
    pk_loop_destroy(l);
    for (int i = 0; i < 50; i++) {
        void *r = NULL;
        CHECK_OK(pk_ltask_wait(t[i], 0, &r, NULL));
        free(r);
        pk_ltask_release(t[i]);
    }
    return 0;
}

struct hook_log {
    _Atomic int inits, finis, bad;
    int state[4];
};

static int hook_init(void *arg, struct pk_lctx *ctx, void **state)
{
    struct hook_log *h = arg;
    atomic_fetch_add(&h->inits, 1);
    h->state[pk_lctx_index(ctx)] = 100 + pk_lctx_index(ctx);
    *state = &h->state[pk_lctx_index(ctx)];
    return pk_lctx_uv(ctx) ? PK_OK : PK_EINVAL;
}

static void hook_fini(void *arg, void *state)
{
    struct hook_log *h = arg;
    atomic_fetch_add(&h->finis, 1);
    h->bad += state == NULL;
}

static int state_step(void *arg, struct pk_lctx *ctx, double *sleep_s, void **result,
                      struct pk_err *err)
{
    (void)sleep_s, (void)result, (void)err;
    struct hook_log *h = arg;
    int *st = pk_lctx_state(ctx);
    h->bad += *st != 100 + pk_lctx_index(ctx) || pk_lctx_task(ctx) == NULL;
    return PK_OK;
}

/* Each loop thread's init and fini run once, and its tasks see its state. */
static int case_hooks(void)
{
    WATCH();
    static struct hook_log h;
    static const struct pk_ltask_ops ops = {state_step, NULL};
    struct pk_loop_hooks hooks = {hook_init, hook_fini, &h};
    struct pk_loop *l;
    CHECK_OK(pk_loop_create(4, 0, &hooks, &l));
    CHECK_EQ_INT(atomic_load(&h.inits), 4);
    for (int i = 0; i < 40; i++) {
        struct pk_ltask *t;
        CHECK_OK(pk_loop_submit(l, &ops, &h, 0, NULL, &t));
        CHECK_OK(pk_ltask_wait(t, PROMPT_S, NULL, NULL));
        pk_ltask_release(t);
    }
    pk_loop_destroy(l);
    CHECK_EQ_INT(atomic_load(&h.finis), 4);
    CHECK_EQ_INT(atomic_load(&h.bad), 0);
    return 0;
}

static int case_bad_arguments(void)
{
    WATCH();
    struct pk_loop *l;
    CHECK_EQ_INT(pk_loop_create(0, 0, NULL, &l), PK_EINVAL);
    CHECK(l == NULL);
    CHECK_EQ_INT(pk_loop_create(257, 0, NULL, &l), PK_EINVAL);
    CHECK_OK(pk_loop_create(1, 0, NULL, &l));
    struct pk_ltask *t;
    static const struct pk_ltask_ops none = {NULL, NULL};
    CHECK_EQ_INT(pk_loop_submit(l, &none, NULL, 0, NULL, &t), PK_EINVAL);
    CHECK(t == NULL);
    pk_loop_destroy(l);
    return 0;
}

static const struct check_case cases[] = {
    {"timers_one_thread", case_timers_one_thread},
    {"timers_threads", case_timers_threads},
    {"max_inflight", case_max_inflight},
    {"errors", case_errors},
    {"wait_timeout", case_wait_timeout},
    {"cancel", case_cancel},
    {"deadline", case_deadline},
    {"resume", case_resume},
    {"shutdown_cancels", case_shutdown_cancels},
    {"shutdown_waits", case_shutdown_waits},
    {"hooks", case_hooks},
    {"bad_arguments", case_bad_arguments},
};

int main(int argc, char **argv)
{
    return CHECK_MAIN(cases);
}
