/* SPDX-License-Identifier: MIT */
/* Event-loop engine; see parkit/loop.h.
 *
 * Each loop thread owns a libuv loop, a timerfd polled by it and a min-heap of its tasks' wake
 * times: the timerfd is armed (absolute, nanoseconds) at the heap's earliest key, which is what
 * makes a 10 ms wait take 10 ms, where libuv's millisecond timers would round it. A task's key
 * is the earlier of its sleep's end and its deadline, so it is in the heap at most once.
 *
 * Locks: the engine lock (l->lock) guards every task's state, result, message and references,
 * as the pool's lock does; a thread's inbox lock guards its incoming tasks, cancel requests and
 * stop flags, which reach the loop through a uv_async_t. Everything else of a thread (its heap,
 * pending list, running list, in-flight count) is touched by that thread alone.
 * Lifetimes: a task is freed when its references (the submitter's, the engine's until it
 * finishes, the done queue's) are gone; the engine when its owner destroyed it and no task
 * refers to it. */
#include "parkit/loop.h"

#include "mutex.h"
#include "slab.h"
#include "parkit/clock.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <uv.h>

enum { T_QUEUED, T_RUNNING, T_DONE };
#define NOT_IN_HEAP SIZE_MAX

struct pk_ltask {
    struct pk_loop *loop;
    struct lthread *th;
    const struct pk_ltask_ops *ops;
    void *arg;
    struct pk_queue *done_q;
    double deadline; /* pk_now_s() seconds; 0: none */
    /* the owning loop thread's only: */
    double wake;     /* end of the current sleep; 0: not sleeping */
    size_t heap_at;
    bool parked;
    struct pk_ltask *next;             /* in an inbox or the pending list */
    struct pk_ltask *cnext;            /* in the cancel inbox */
    struct pk_ltask *rprev, *rnext;    /* in the running list */
    /* guarded by loop->lock: */
    int state, status, refs;
    bool cancel_posted, result_taken, error_counted;
    void *result;
    char *msg; /* an error's, allocated then: most tasks succeed, and a task stays small */
};

struct pk_lctx {
    struct lthread *th;
    struct pk_ltask *task;
};

struct lthread {
    struct pk_loop *loop;
    int index;
    pthread_t tid;
    uv_loop_t uv;
    uv_async_t wake;
    uv_poll_t tpoll;
    int tfd;
    void *state; /* the hooks' */
    struct pk_lctx ctx;
    /* guarded by inbox_lock: */
    pthread_mutex_t inbox_lock;
    struct pk_ltask *in_head, *in_tail, *cancels;
    bool stop, cancel_all, closed;
    /* this thread's only: */
    struct pk_ltask *pend_head, *pend_tail, *running;
    struct hslot *heap; /* keys beside the tasks: sifting reads one array, not the tasks */
    size_t heap_n, heap_cap, inflight, cap;
    double armed; /* the timerfd's expiry; 0: disarmed */
    struct pk_ltask **out; /* finished, for out_q: pushed together when the callback ends */
    size_t out_n, out_cap;
    struct pk_queue *out_q;
    bool closing;
};

struct pk_loop {
    pthread_mutex_t lock;
    pthread_cond_t done, started;
    /* guarded by lock: */
    bool stopping, joined;
    int started_n, init_failed;
    size_t done_waiters, refs;
    uint64_t unfetched, submitted, finished;
    /* set at creation: */
    int nthreads, nsubmit; /* tasks go to the first nsubmit threads: all that may run one */
    struct lthread *th;
    struct pk_loop_hooks hooks;
    atomic_uint next_thread;
    struct pk_slabs tasks; /* where tasks come from (pre-faulted: see slab.h); guarded by lock */
    atomic_size_t inflight, max_inflight_seen;
};

static void lock(pthread_mutex_t *m)
{
    int rc = pthread_mutex_lock(m);
    assert(rc == 0); /* only our own bug can make this fail */
    (void)rc;
}

static void unlock(pthread_mutex_t *m)
{
    int rc = pthread_mutex_unlock(m);
    assert(rc == 0);
    (void)rc;
}

/* ---- the heap of wake times (thread-local) ---- */

struct hslot {
    double key;
    struct pk_ltask *t;
};

static double key_of(const struct pk_ltask *t)
{
    if (t->wake > 0 && t->deadline > 0)
        return t->wake < t->deadline ? t->wake : t->deadline;
    return t->wake > 0 ? t->wake : t->deadline;
}

static void heap_place(struct lthread *th, size_t i, struct hslot h)
{
    th->heap[i] = h;
    h.t->heap_at = i;
}

static void heap_up(struct lthread *th, size_t i)
{
    struct hslot h = th->heap[i];
    while (i > 0 && th->heap[(i - 1) / 2].key > h.key) {
        heap_place(th, i, th->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    heap_place(th, i, h);
}

static void heap_down(struct lthread *th, size_t i)
{
    struct hslot h = th->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= th->heap_n)
            break;
        if (c + 1 < th->heap_n && th->heap[c + 1].key < th->heap[c].key)
            c++;
        if (th->heap[c].key >= h.key)
            break;
        heap_place(th, i, th->heap[c]);
        i = c;
    }
    heap_place(th, i, h);
}

static void heap_remove(struct lthread *th, struct pk_ltask *t)
{
    size_t i = t->heap_at;
    if (i == NOT_IN_HEAP)
        return;
    t->heap_at = NOT_IN_HEAP;
    struct hslot last = th->heap[--th->heap_n];
    if (i == th->heap_n)
        return;
    heap_place(th, i, last);
    heap_up(th, i);
    heap_down(th, last.t->heap_at);
}

static void arm(struct lthread *th, double when)
{
    struct itimerspec its = {0};
    if (when > 0) {
        its.it_value.tv_sec = (time_t)when;
        its.it_value.tv_nsec = (long)((when - (double)its.it_value.tv_sec) * 1e9);
        if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
            its.it_value.tv_nsec = 1; /* zero would disarm */
    }
    timerfd_settime(th->tfd, TFD_TIMER_ABSTIME, &its, NULL);
    th->armed = when;
}

/* (Re)inserts t under its current key; arms the timer when t is now the earliest. */
static int heap_insert(struct lthread *th, struct pk_ltask *t)
{
    heap_remove(th, t);
    if (key_of(t) <= 0)
        return PK_OK;
    if (th->heap_n == th->heap_cap) {
        size_t cap = th->heap_cap ? 2 * th->heap_cap : 256;
        struct hslot *h = realloc(th->heap, cap * sizeof *h);
        if (!h)
            return PK_ENOMEM;
        th->heap = h;
        th->heap_cap = cap;
    }
    heap_place(th, th->heap_n++, (struct hslot){key_of(t), t});
    heap_up(th, th->heap_n - 1);
    if (th->armed == 0 || key_of(t) < th->armed)
        arm(th, key_of(t));
    return PK_OK;
}

/* ---- task lifetimes and states (engine lock) ---- */

static void loop_free(struct pk_loop *l)
{
    for (int i = 0; i < l->nthreads; i++) {
        pthread_mutex_destroy(&l->th[i].inbox_lock);
        free(l->th[i].heap);
        free(l->th[i].out);
    }
    pthread_cond_destroy(&l->done);
    pthread_cond_destroy(&l->started);
    pthread_mutex_destroy(&l->lock);
    pk_slabs_destroy(&l->tasks);
    free(l->th);
    free(l);
}

/* A task's memory (lock held); NULL when no slab can be mapped. */
static struct pk_ltask *task_alloc_locked(struct pk_loop *l)
{
    return pk_slabs_alloc(&l->tasks);
}

static void task_free_locked(struct pk_loop *l, struct pk_ltask *t)
{
    pk_slabs_free(&l->tasks, t);
}

/* Drops one reference (lock held); returns whether the engine lost its last reference. */
static bool task_unref_locked(struct pk_ltask *t)
{
    struct pk_loop *l = t->loop;
    if (--t->refs > 0)
        return false;
    free(t->msg);
    task_free_locked(l, t);
    return --l->refs == 0;
}

static void task_unref(struct pk_ltask *t)
{
    struct pk_loop *l = t->loop;
    lock(&l->lock);
    bool last = task_unref_locked(t);
    unlock(&l->lock);
    if (last)
        loop_free(l);
}

/* Marks t finished (lock held) and wakes its waiters. */
static void finish_locked(struct pk_ltask *t, int status, void *result, const char *msg)
{
    struct pk_loop *l = t->loop;
    t->state = T_DONE;
    t->status = status;
    t->result = result;
    if (status != PK_OK)
        t->msg = strdup(msg && msg[0] ? msg : pk_strerror(status)); /* NULL: said by status */
    if (status != PK_OK && status != PK_ECANCELED) {
        t->error_counted = true;
        l->unfetched++;
    }
    l->finished++;
    if (l->done_waiters)
        pthread_cond_broadcast(&l->done);
}

/* Finishes t on its loop thread and hands it over: the engine's reference passes to the done
 * queue, or is dropped (never the engine's last: its owner's lasts until the threads are
 * joined). One critical section per task, which matters when 10,000 timers end together. */
/* Pushes the outbox to its done queue in one go: one wake-up of the consumer, not one per
 * task. What a closed queue refuses loses the reference it would have held. */
static void flush_out(struct lthread *th)
{
    size_t took = th->out_n ? pk_queue_push_many(th->out_q, (void *const *)th->out, th->out_n,
                                                 NULL)
                            : 0;
    for (size_t i = took; i < th->out_n; i++)
        task_unref(th->out[i]);
    th->out_n = 0;
}

static void hand_over(struct lthread *th, struct pk_ltask *t, struct pk_queue *q)
{
    if (th->out_n && (th->out_q != q || th->out_n == th->out_cap))
        flush_out(th);
    if (th->out_n == th->out_cap) {
        size_t cap = th->out_cap ? 2 * th->out_cap : 64;
        struct pk_ltask **o = cap <= 4096 ? realloc(th->out, cap * sizeof *o) : NULL;
        if (o) {
            th->out = o;
            th->out_cap = cap;
        }
    }
    if (th->out_n == th->out_cap) { /* no room: push it alone */
        if (pk_queue_push(q, t) != PK_OK)
            task_unref(t);
        return;
    }
    th->out_q = q;
    th->out[th->out_n++] = t;
}

static void complete(struct lthread *th, struct pk_ltask *t, int status, void *result,
                     const char *msg)
{
    struct pk_loop *l = t->loop;
    struct pk_queue *q = t->done_q;
    lock(&l->lock);
    bool cancelled = t->state == T_DONE; /* by pk_ltask_cancel before it started */
    if (!cancelled)
        finish_locked(t, status, result, msg);
    if (cancelled)
        q = NULL; /* pk_ltask_cancel handed it over: only the engine's reference is left */
    bool last = !q && task_unref_locked(t);
    unlock(&l->lock);
    assert(!last);
    (void)last;
    if (q)
        hand_over(th, t, q);
}

/* ---- on a loop thread ---- */

static void start_pending(struct lthread *th);

static void running_unlink(struct lthread *th, struct pk_ltask *t)
{
    if (t->rprev)
        t->rprev->rnext = t->rnext;
    else
        th->running = t->rnext;
    if (t->rnext)
        t->rnext->rprev = t->rprev;
    t->rprev = t->rnext = NULL;
}

/* Ends a running task on its thread. */
static void finish(struct lthread *th, struct pk_ltask *t, int status, void *result,
                   const char *msg)
{
    heap_remove(th, t);
    running_unlink(th, t);
    th->inflight--;
    atomic_fetch_sub(&th->loop->inflight, 1);
    complete(th, t, status, result, msg);
}

/* Calls t's step and does what it asks. */
static void run_step(struct lthread *th, struct pk_ltask *t)
{
    double sleep_s = 0;
    void *result = NULL;
    struct pk_err err = {0};
    th->ctx.task = t;
    t->wake = 0;
    t->parked = false;
    int rc = t->ops->step(t->arg, &th->ctx, &sleep_s, &result, &err);
    th->ctx.task = NULL;
    if (rc == PK_STEP_SLEEP) {
        t->wake = pk_now_s() + (sleep_s > 0 ? sleep_s : 0);
        if (heap_insert(th, t) != PK_OK)
            finish(th, t, PK_ENOMEM, NULL, "no memory for a timer");
    } else if (rc == PK_STEP_PARK) {
        t->parked = true;
        if (heap_insert(th, t) != PK_OK) /* its deadline, if any */
            finish(th, t, PK_ENOMEM, NULL, "no memory for a timer");
    } else {
        finish(th, t, rc > 0 ? PK_EINVAL : rc, rc == PK_OK ? result : NULL, err.msg);
    }
}

/* Ends a started task early (cancel, deadline, shutdown): it lets go of what it holds first. */
static void abort_task(struct lthread *th, struct pk_ltask *t, int status, const char *msg)
{
    if (t->ops->abort) {
        th->ctx.task = t;
        t->ops->abort(t->arg, &th->ctx);
        th->ctx.task = NULL;
    }
    finish(th, t, status, NULL, msg);
}

/* Starts one task taken from the pending list (unless it was cancelled while it waited). */
static void start_task(struct lthread *th, struct pk_ltask *t)
{
    struct pk_loop *l = th->loop;
    lock(&l->lock);
    bool cancelled = t->state != T_QUEUED;
    if (!cancelled)
        t->state = T_RUNNING;
    unlock(&l->lock);
    if (cancelled) {
        task_unref(t); /* finished by pk_ltask_cancel: only the engine's reference is left */
        return;
    }
    t->rnext = th->running;
    if (th->running)
        th->running->rprev = t;
    th->running = t;
    th->inflight++;
    size_t now = atomic_fetch_add(&l->inflight, 1) + 1, seen = atomic_load(&l->max_inflight_seen);
    while (now > seen && !atomic_compare_exchange_weak(&l->max_inflight_seen, &seen, now))
        ;
    if (t->deadline > 0 && pk_now_s() >= t->deadline)
        finish(th, t, PK_ETIMEDOUT, NULL, "its deadline passed before it started");
    else
        run_step(th, t);
}

static void start_pending(struct lthread *th)
{
    while (th->pend_head && th->inflight < th->cap && !th->closing) {
        struct pk_ltask *t = th->pend_head;
        th->pend_head = t->next;
        if (!th->pend_head)
            th->pend_tail = NULL;
        t->next = NULL;
        start_task(th, t);
    }
}

/* Closes the thread's handles once it was told to stop and has nothing left; uv_run returns
 * after their close callbacks. */
static void maybe_close(struct lthread *th)
{
    lock(&th->inbox_lock);
    bool done = th->stop && !th->in_head && !th->cancels && !th->pend_head && !th->running &&
                !th->closed;
    if (done)
        th->closed = true;
    unlock(&th->inbox_lock);
    if (!done)
        return;
    th->closing = true;
    struct pk_loop_hooks *h = &th->loop->hooks;
    if (h->fini)
        h->fini(h->hook_arg, th->state); /* inside the loop: it closes its own handles */
    uv_close((uv_handle_t *)&th->wake, NULL);
    uv_poll_stop(&th->tpoll);
    uv_close((uv_handle_t *)&th->tpoll, NULL);
}

static void on_timer(uv_poll_t *h, int status, int events)
{
    (void)status;
    (void)events;
    struct lthread *th = h->data;
    uint64_t expirations;
    if (read(th->tfd, &expirations, sizeof expirations) < 0 && errno != EAGAIN)
        return; /* a timerfd read fails only when nothing expired */
    double now = pk_now_s();
    while (th->heap_n && th->heap[0].key <= now) {
        struct pk_ltask *t = th->heap[0].t;
        heap_remove(th, t);
        if (t->deadline > 0 && now >= t->deadline)
            abort_task(th, t, PK_ETIMEDOUT, "it ran past its deadline");
        else
            run_step(th, t); /* its sleep is over */
    }
    arm(th, th->heap_n ? th->heap[0].key : 0);
    start_pending(th);
    flush_out(th);
    maybe_close(th);
}

/* Tasks not started yet, at a cancelling shutdown. */
static void cancel_pending(struct lthread *th)
{
    while (th->pend_head) {
        struct pk_ltask *t = th->pend_head;
        th->pend_head = t->next;
        complete(th, t, PK_ECANCELED, NULL, "cancelled at shutdown");
    }
    th->pend_tail = NULL;
}

/* Cancel requests: each holds a reference to its task. */
static void serve_cancels(struct lthread *th, struct pk_ltask *c)
{
    while (c) {
        struct pk_ltask *t = c;
        c = c->cnext;
        lock(&th->loop->lock);
        bool running = t->state == T_RUNNING; /* only this thread ends a running task */
        unlock(&th->loop->lock);
        if (running)
            abort_task(th, t, PK_ECANCELED, "cancelled");
        task_unref(t);
    }
}

static void on_wake(uv_async_t *h)
{
    struct lthread *th = h->data;
    lock(&th->inbox_lock);
    struct pk_ltask *in = th->in_head, *in_tail = th->in_tail, *cancels = th->cancels;
    th->in_head = th->in_tail = NULL;
    th->cancels = NULL;
    bool cancel_all = th->cancel_all;
    unlock(&th->inbox_lock);
    if (in) {
        if (th->pend_tail)
            th->pend_tail->next = in;
        else
            th->pend_head = in;
        th->pend_tail = in_tail;
    }
    serve_cancels(th, cancels);
    if (cancel_all) {
        cancel_pending(th);
        while (th->running)
            abort_task(th, th->running, PK_ECANCELED, "cancelled at shutdown");
    }
    start_pending(th);
    flush_out(th);
    maybe_close(th);
}

/* ---- loop threads ---- */

static int thread_setup(struct lthread *th)
{
    th->ctx.th = th;
    if (uv_loop_init(&th->uv) != 0)
        return PK_ENOMEM;
    th->wake.data = th;
    th->tpoll.data = th;
    th->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    bool ok = uv_async_init(&th->uv, &th->wake, on_wake) == 0;
    if (ok && th->tfd >= 0 && uv_poll_init(&th->uv, &th->tpoll, th->tfd) == 0) {
        if (uv_poll_start(&th->tpoll, UV_READABLE, on_timer) == 0) {
            struct pk_loop_hooks *h = &th->loop->hooks;
            if (!h->init || h->init(h->hook_arg, &th->ctx, &th->state) == PK_OK)
                return PK_OK;
        }
        uv_close((uv_handle_t *)&th->tpoll, NULL);
    }
    if (ok)
        uv_close((uv_handle_t *)&th->wake, NULL);
    uv_run(&th->uv, UV_RUN_DEFAULT); /* the close callbacks */
    uv_loop_close(&th->uv);
    if (th->tfd >= 0)
        close(th->tfd);
    return PK_ENOMEM;
}

static void *loop_main(void *arg)
{
    struct lthread *th = arg;
    struct pk_loop *l = th->loop;
    prctl(PR_SET_TIMERSLACK, 1000UL); /* wake within a microsecond of the timer, not 50 */
    int rc = thread_setup(th);
    lock(&l->lock);
    l->started_n++;
    l->init_failed += rc != PK_OK;
    pthread_cond_broadcast(&l->started);
    unlock(&l->lock);
    if (rc != PK_OK) {
        lock(&th->inbox_lock);
        th->closed = true;
        unlock(&th->inbox_lock);
        return NULL;
    }
    uv_run(&th->uv, UV_RUN_DEFAULT);
    uv_loop_close(&th->uv);
    close(th->tfd);
    return NULL;
}

static bool loop_alloc(int nthreads, size_t max_inflight, const struct pk_loop_hooks *hooks,
                       struct pk_loop **out)
{
    struct pk_loop *l = calloc(1, sizeof *l);
    if (!l)
        return false;
    l->th = calloc((size_t)nthreads, sizeof *l->th);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    bool ok = l->th && pk_mutex_init(&l->lock) == 0 && pthread_cond_init(&l->done, &ca) == 0 &&
              pthread_cond_init(&l->started, &ca) == 0;
    pthread_condattr_destroy(&ca);
    for (int i = 0; ok && i < nthreads; i++) {
        struct lthread *th = &l->th[i];
        *th = (struct lthread){.loop = l, .index = i, .tfd = -1};
        th->cap = SIZE_MAX;
        if (max_inflight) /* the bound split exactly: the first threads take the remainder */
            th->cap = max_inflight / (size_t)nthreads + ((size_t)i < max_inflight % (size_t)nthreads);
        ok = pk_mutex_init(&th->inbox_lock) == 0;
    }
    if (!ok) { /* partial init only when the system is out of resources */
        free(l->th);
        free(l);
        return false;
    }
    l->hooks = hooks ? *hooks : (struct pk_loop_hooks){0};
    l->tasks.size = sizeof(struct pk_ltask);
    l->nsubmit = max_inflight && max_inflight < (size_t)nthreads ? (int)max_inflight : nthreads;
    l->refs = 1;
    *out = l;
    return true;
}

int pk_loop_create(int nthreads, size_t max_inflight, const struct pk_loop_hooks *hooks,
                   struct pk_loop **out)
{
    *out = NULL;
    if (nthreads < 1 || nthreads > 256)
        return PK_EINVAL;
    struct pk_loop *l;
    if (!loop_alloc(nthreads, max_inflight, hooks, &l))
        return PK_ENOMEM;
    for (int i = 0; i < nthreads; i++) {
        if (pthread_create(&l->th[i].tid, NULL, loop_main, &l->th[i]) != 0)
            break;
        l->nthreads = i + 1;
    }
    lock(&l->lock);
    while (l->started_n < l->nthreads)
        pthread_cond_wait(&l->started, &l->lock);
    bool ok = l->nthreads == nthreads && l->init_failed == 0;
    unlock(&l->lock);
    if (!ok) {
        pk_loop_destroy(l);
        return PK_ENOMEM;
    }
    *out = l;
    return PK_OK;
}

/* Appends a chain of tasks to a thread's inbox, unless that thread was told to stop. */
static int post(struct lthread *th, struct pk_ltask *head, struct pk_ltask *tail)
{
    lock(&th->inbox_lock);
    if (th->stop) {
        unlock(&th->inbox_lock);
        return PK_ECLOSED;
    }
    if (th->in_tail)
        th->in_tail->next = head;
    else
        th->in_head = head;
    th->in_tail = tail;
    uv_async_send(&th->wake); /* under the lock: the thread closes the handle only under it */
    unlock(&th->inbox_lock);
    return PK_OK;
}

/* Spreads out[0..n) over the threads that may run tasks, task i to thread (first + i) mod ns,
 * one post per thread. A thread that refuses (a shutdown began meanwhile) never saw its tasks:
 * they are freed here and their out[i] cleared. */
static int post_all(struct pk_loop *l, struct pk_ltask **out, size_t n)
{
    int rc = PK_OK;
    size_t ns = (size_t)l->nsubmit, first = atomic_fetch_add(&l->next_thread, (unsigned)n) % ns;
    for (size_t k = 0; k < ns; k++) {
        size_t start = (k + ns - first) % ns, count = 0;
        for (size_t i = start; i < n; i += ns, count++) {
            out[i]->th = &l->th[k];
            out[i]->next = i + ns < n ? out[i + ns] : NULL;
        }
        if (!count || post(&l->th[k], out[start], out[start + (count - 1) * ns]) == PK_OK)
            continue;
        lock(&l->lock);
        for (size_t i = start; i < n; i += ns) {
            task_free_locked(l, out[i]);
            out[i] = NULL;
        }
        l->refs -= count; /* the owner's reference keeps it above zero */
        l->submitted -= count;
        unlock(&l->lock);
        rc = PK_ECLOSED;
    }
    return rc;
}

int pk_loop_submit_many(struct pk_loop *l, const struct pk_ltask_ops *ops, void *const *args,
                        size_t n, double deadline_s, struct pk_queue *done,
                        struct pk_ltask **out)
{
    memset(out, 0, n * sizeof *out);
    if (!ops || !ops->step)
        return PK_EINVAL;
    double deadline = deadline_s > 0 ? pk_now_s() + deadline_s : 0;
    lock(&l->lock);
    int rc = l->stopping ? PK_ECLOSED : PK_OK;
    for (size_t i = 0; i < n && rc == PK_OK; i++)
        if (!(out[i] = task_alloc_locked(l)))
            rc = PK_ENOMEM;
    for (size_t i = 0; i < n && rc != PK_OK && out[i]; i++)
        task_free_locked(l, out[i]);
    if (rc == PK_OK) {
        l->refs += n;
        l->submitted += n;
    }
    unlock(&l->lock);
    if (rc != PK_OK) {
        memset(out, 0, n * sizeof *out);
        return rc;
    }
    for (size_t i = 0; i < n; i++)
        *out[i] = (struct pk_ltask){.loop = l, .ops = ops, .arg = args[i],
                                    .done_q = done, .deadline = deadline,
                                    .heap_at = NOT_IN_HEAP, .state = T_QUEUED, .refs = 2};
    return post_all(l, out, n);
}

int pk_loop_submit(struct pk_loop *l, const struct pk_ltask_ops *ops, void *arg,
                   double deadline_s, struct pk_queue *done, struct pk_ltask **out)
{
    return pk_loop_submit_many(l, ops, &arg, 1, deadline_s, done, out);
}

int pk_loop_shutdown(struct pk_loop *l, bool cancel_pending, uint64_t *unfetched_errors)
{
    lock(&l->lock);
    bool first = !l->stopping;
    l->stopping = true;
    unlock(&l->lock);
    if (first) {
        for (int i = 0; i < l->nthreads; i++) {
            struct lthread *th = &l->th[i];
            lock(&th->inbox_lock);
            th->stop = true;
            th->cancel_all = cancel_pending;
            if (!th->closed)
                uv_async_send(&th->wake);
            unlock(&th->inbox_lock);
        }
        for (int i = 0; i < l->nthreads; i++)
            pthread_join(l->th[i].tid, NULL);
        lock(&l->lock);
        l->joined = true;
        pthread_cond_broadcast(&l->done);
        unlock(&l->lock);
    } else {
        lock(&l->lock); /* another caller is joining: wait for it */
        l->done_waiters++;
        while (!l->joined)
            pthread_cond_wait(&l->done, &l->lock);
        l->done_waiters--;
        unlock(&l->lock);
    }
    if (unfetched_errors) {
        lock(&l->lock);
        *unfetched_errors = l->unfetched;
        unlock(&l->lock);
    }
    return PK_OK;
}

void pk_loop_destroy(struct pk_loop *l)
{
    if (!l)
        return;
    pk_loop_shutdown(l, false, NULL);
    lock(&l->lock);
    bool last = --l->refs == 0;
    unlock(&l->lock);
    if (last)
        loop_free(l);
}

/* ---- task handles ---- */

int pk_ltask_wait(struct pk_ltask *t, double timeout_s, void **result, struct pk_err *err)
{
    struct pk_loop *l = t->loop;
    double until = timeout_s >= 0 ? pk_now_s() + timeout_s : 0;
    if (result)
        *result = NULL; /* on failure too */
    lock(&l->lock);
    l->done_waiters++;
    while (t->state != T_DONE) {
        if (timeout_s < 0) {
            pthread_cond_wait(&l->done, &l->lock);
            continue;
        }
        struct timespec ts = {.tv_sec = (time_t)until};
        ts.tv_nsec = (long)((until - (double)ts.tv_sec) * 1e9);
        if (pthread_cond_timedwait(&l->done, &l->lock, &ts) == ETIMEDOUT && t->state != T_DONE)
            break;
    }
    l->done_waiters--;
    bool finished = t->state == T_DONE;
    int rc = finished ? t->status : PK_ETIMEDOUT;
    if (rc == PK_OK && result) {
        *result = t->result_taken ? NULL : t->result;
        t->result_taken = true;
    } else if (rc != PK_OK && finished) { /* a task's own PK_ETIMEDOUT has a message too */
        if (err)
            pk_fail(err, rc, "%s", t->msg ? t->msg : pk_strerror(rc));
        if (t->error_counted) {
            t->error_counted = false;
            l->unfetched--;
        }
    }
    unlock(&l->lock);
    return rc;
}

bool pk_ltask_done(struct pk_ltask *t)
{
    lock(&t->loop->lock);
    bool done = t->state == T_DONE;
    unlock(&t->loop->lock);
    return done;
}

int pk_ltask_cancel(struct pk_ltask *t)
{
    struct pk_loop *l = t->loop;
    lock(&l->lock);
    int state = t->state;
    if (state == T_QUEUED)
        finish_locked(t, PK_ECANCELED, NULL, "cancelled before it started");
    bool post_cancel = state == T_RUNNING && !t->cancel_posted;
    if (post_cancel) {
        t->cancel_posted = true;
        t->refs++; /* the request's, dropped by the loop thread */
    }
    unlock(&l->lock);
    if (state == T_QUEUED) {
        if (t->done_q) { /* the engine keeps its reference until the thread skips the task */
            lock(&l->lock);
            t->refs++;
            unlock(&l->lock);
            if (pk_queue_push(t->done_q, t) != PK_OK)
                task_unref(t);
        }
        return PK_OK;
    }
    if (state == T_DONE)
        return PK_EINVAL;
    if (post_cancel) {
        struct lthread *th = t->th;
        lock(&th->inbox_lock);
        bool closed = th->closed;
        if (!closed) {
            t->cnext = th->cancels;
            th->cancels = t;
            uv_async_send(&th->wake);
        }
        unlock(&th->inbox_lock);
        if (closed)
            task_unref(t);
    }
    return PK_ECLOSED;
}

void *pk_ltask_arg(const struct pk_ltask *t)
{
    return t->arg;
}

void pk_ltask_release(struct pk_ltask *t)
{
    if (t)
        task_unref(t);
}

void pk_ltask_release_item(void *t)
{
    pk_ltask_release(t);
}

/* ---- on the loop thread, for the tasks' callbacks ---- */

void pk_ltask_resume(struct pk_ltask *t)
{
    struct lthread *th = t->th;
    if (!t->parked)
        return;
    heap_remove(th, t);
    run_step(th, t);
    start_pending(th);
    flush_out(th);
}

struct pk_ltask *pk_lctx_task(struct pk_lctx *ctx)
{
    return ctx->task;
}

void *pk_lctx_uv(struct pk_lctx *ctx)
{
    return &ctx->th->uv;
}

void *pk_lctx_state(struct pk_lctx *ctx)
{
    return ctx->th->state;
}

int pk_lctx_index(const struct pk_lctx *ctx)
{
    return ctx->th->index;
}

void pk_loop_get_stats(struct pk_loop *l, struct pk_loop_stats *s)
{
    lock(&l->lock);
    *s = (struct pk_loop_stats){.submitted = l->submitted, .finished = l->finished,
                                .max_inflight_seen = atomic_load(&l->max_inflight_seen),
                                .nthreads = l->nthreads};
    unlock(&l->lock);
}
