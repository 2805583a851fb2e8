/* SPDX-License-Identifier: MIT */
/* Thread pool with futures; see parkit/pool.h.
 *
 * One mutex (pool->lock) guards the pool and every future's state, which keeps the rules simple:
 * a future's fields other than fn, arg, done_q and the token's flag and deadline are read and
 * written only under it. Two condition variables share that mutex:
 *   work:   a worker waits for (head != NULL || stopping);
 *   done:   waiters wait for their future(s) to reach F_DONE (broadcast only when someone waits),
 *           and pk_pool_create for its last thread to start.
 * Sleepers of pk_cancel_sleep do not touch it: each waits on the wake condition of one of
 * SLEEP_STRIPES stripes (its own mutex), chosen by the token's address, until the token's flag
 * is set or its time is up; a cancel broadcasts only on its token's stripe.
 * Lifetimes: a future is freed when its references (the submitter's, the pool's while queued or
 * running, the done queue's) are gone; the pool is freed when its owner destroyed it and no
 * future refers to it any more, so futures may outlive pk_pool_destroy. */
#include "parkit/pool.h"

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
#include <time.h>

enum { F_QUEUED, F_RUNNING, F_DONE };

struct pk_cancel {
    atomic_bool flag;
    double deadline; /* CLOCK_MONOTONIC seconds; 0: none. Set before the future is queued. */
    struct pk_pool *pool;
};

struct pk_future {
    struct pk_pool *pool;
    pk_task_fn fn;
    void *arg;
    struct pk_queue *done_q;
    struct pk_cancel cancel;
    /* guarded by pool->lock: */
    int state, status, refs;
    void *result;
    bool result_taken, error_counted;
    char *msg; /* an error's, allocated then: most tasks succeed, and a future stays small */
    struct pk_future *next; /* in the pool's queue while F_QUEUED */
};

#define SLEEP_STRIPES 64

struct sleep_stripe {
    pthread_mutex_t lock;
    pthread_cond_t wake; /* predicate: the sleeper's token flag, or its time is up */
};

struct pk_pool {
    pthread_mutex_t lock;
    pthread_cond_t work, done;
    struct sleep_stripe stripe[SLEEP_STRIPES];
    /* guarded by lock: */
    struct pk_future *head, *tail;
    bool stopping, joining, joined; /* joining: a shutdown is joining the threads;
                                     * joined: it has (others wait on done for it) */
    size_t done_waiters;
    int running, nthreads_wanted; /* threads that reached their loop, of those started */
    uint64_t unfetched;         /* failed futures whose error nobody fetched yet */
    size_t refs;                /* the owner's (until destroy) plus one per live future */
    struct pk_future **current; /* current[i]: the future worker i runs, or NULL */
    struct pk_slabs futures;    /* where futures come from (pre-faulted: see slab.h) */
    /* set at creation: */
    int nthreads;
    pthread_t *threads;
    struct worker_arg *args;
};

struct worker_arg {
    struct pk_pool *pool;
    int index;
};

static struct timespec abs_time(double t)
{
    if (t > 1e12) /* "forever" without overflowing time_t */
        t = 1e12;
    struct timespec ts = {.tv_sec = (time_t)t};
    ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

static void lock(struct pk_pool *p)
{
    int rc = pthread_mutex_lock(&p->lock);
    assert(rc == 0); /* only our own bug can make this fail */
    (void)rc;
}

static void unlock(struct pk_pool *p)
{
    int rc = pthread_mutex_unlock(&p->lock);
    assert(rc == 0);
    (void)rc;
}

static void pool_free(struct pk_pool *p)
{
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->done);
    for (int i = 0; i < SLEEP_STRIPES; i++) {
        pthread_cond_destroy(&p->stripe[i].wake);
        pthread_mutex_destroy(&p->stripe[i].lock);
    }
    pthread_mutex_destroy(&p->lock);
    pk_slabs_destroy(&p->futures);
    free(p->threads);
    free(p->current);
    free(p->args);
    free(p);
}

/* Drops one reference to f (lock held); returns whether the pool lost its last reference. */
static bool future_unref_locked(struct pk_future *f)
{
    struct pk_pool *p = f->pool;
    if (--f->refs > 0)
        return false;
    free(f->msg);
    pk_slabs_free(&p->futures, f);
    return --p->refs == 0;
}

static void future_unref(struct pk_future *f)
{
    struct pk_pool *p = f->pool;
    lock(p);
    bool last = future_unref_locked(f);
    unlock(p);
    if (last)
        pool_free(p);
}

/* Marks f done with status (lock held) and wakes its waiters. */
static void finish_locked(struct pk_future *f, int status)
{
    struct pk_pool *p = f->pool;
    f->state = F_DONE;
    f->status = status;
    if (status != PK_OK && status != PK_ECANCELED) {
        f->error_counted = true;
        p->unfetched++;
    }
    if (p->done_waiters)
        pthread_cond_broadcast(&p->done);
}

/* Hands a finished future to its done queue (no lock held), then drops the pool's reference. */
static void deliver(struct pk_future *f)
{
    if (f->done_q) {
        lock(f->pool);
        f->refs++; /* the queue's reference, released by whoever pops it */
        unlock(f->pool);
        if (pk_queue_push(f->done_q, f) != PK_OK)
            future_unref(f);
    }
    future_unref(f);
}

static void *worker(void *arg)
{
    struct worker_arg *wa = arg;
    struct pk_pool *p = wa->pool;
    lock(p);
    if (++p->running == p->nthreads_wanted)
        pthread_cond_broadcast(&p->done); /* pk_pool_create waits for the last one */
    for (;;) {
        while (!p->head && !p->stopping)
            pthread_cond_wait(&p->work, &p->lock);
        if (!p->head)
            break; /* stopping, nothing left */
        struct pk_future *f = p->head;
        p->head = f->next;
        if (!p->head)
            p->tail = NULL;
        f->state = F_RUNNING;
        p->current[wa->index] = f;
        unlock(p);
        void *result = NULL;
        struct pk_err err = {0};
        int status = f->fn(f->arg, &f->cancel, &result, &err);
        /* One critical section finishes this task, drops the pool's reference and takes the
         * next: with 1000 workers waking together, every extra lock round trip convoys. */
        lock(p);
        p->current[wa->index] = NULL;
        f->result = result;
        if (status != PK_OK)
            f->msg = strdup(err.msg[0] ? err.msg : pk_strerror(status)); /* NULL: status says */
        finish_locked(f, status);
        if (f->done_q) {
            f->refs++; /* the queue's reference, released by whoever pops it */
            unlock(p);
            if (pk_queue_push(f->done_q, f) != PK_OK)
                future_unref(f);
            lock(p);
        }
        /* not the pool's last reference: the owner's lasts until the threads are joined */
        bool last = future_unref_locked(f);
        assert(!last);
        (void)last;
    }
    unlock(p);
    return NULL;
}

int pk_pool_create(int nthreads, struct pk_pool **out)
{
    *out = NULL;
    if (nthreads < 1 || nthreads > 16384)
        return PK_EINVAL;
    struct pk_pool *p = calloc(1, sizeof *p);
    if (!p)
        return PK_ENOMEM;
    p->threads = calloc((size_t)nthreads, sizeof *p->threads);
    p->current = calloc((size_t)nthreads, sizeof *p->current);
    p->args = calloc((size_t)nthreads, sizeof *p->args);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    bool ok = p->threads && p->current && p->args && pk_mutex_init(&p->lock) == 0;
    ok = ok && pthread_cond_init(&p->work, &ca) == 0 && pthread_cond_init(&p->done, &ca) == 0;
    for (int i = 0; i < SLEEP_STRIPES && ok; i++)
        ok = pk_mutex_init(&p->stripe[i].lock) == 0 &&
             pthread_cond_init(&p->stripe[i].wake, &ca) == 0;
    pthread_condattr_destroy(&ca);
    if (!ok) { /* partial init only when the system is out of resources */
        free(p->threads);
        free(p->current);
        free(p->args);
        free(p);
        return PK_ENOMEM;
    }
    p->refs = 1;
    p->futures.size = sizeof(struct pk_future);
    p->nthreads_wanted = nthreads;
    for (int i = 0; i < nthreads; i++) {
        p->args[i] = (struct worker_arg){.pool = p, .index = i};
        if (pthread_create(&p->threads[i], NULL, worker, &p->args[i]) != 0) {
            p->nthreads = i;
            pk_pool_destroy(p);
            return PK_ENOMEM;
        }
        p->nthreads = i + 1;
    }
    /* Every thread is running before the pool is handed out, so that a caller's clock started
     * after creation times the tasks, not the start-up of 1,000 threads. */
    lock(p);
    while (p->running < nthreads)
        pthread_cond_wait(&p->done, &p->lock);
    unlock(p);
    *out = p;
    return PK_OK;
}

int pk_pool_submit(struct pk_pool *p, pk_task_fn fn, void *arg, double deadline_s,
                   struct pk_queue *done, struct pk_future **out)
{
    *out = NULL;
    if (!fn)
        return PK_EINVAL;
    double deadline = deadline_s > 0 ? pk_now_s() + deadline_s : 0;
    lock(p);
    struct pk_future *f = p->stopping ? NULL : pk_slabs_alloc(&p->futures);
    if (!f) {
        int rc = p->stopping ? PK_ECLOSED : PK_ENOMEM;
        unlock(p);
        return rc;
    }
    *f = (struct pk_future){.pool = p, .fn = fn, .arg = arg, .done_q = done, .state = F_QUEUED};
    f->cancel.pool = p;
    f->cancel.deadline = deadline;
    atomic_init(&f->cancel.flag, false);
    f->refs = 2; /* the caller's and the pool's */
    p->refs++;
    if (p->tail)
        p->tail->next = f;
    else
        p->head = f;
    p->tail = f;
    pthread_cond_signal(&p->work);
    unlock(p);
    *out = f;
    return PK_OK;
}

/* Removes a queued future from the pool's list (lock held). */
static void unlink_locked(struct pk_pool *p, struct pk_future *f)
{
    struct pk_future **at = &p->head, *prev = NULL;
    while (*at && *at != f) {
        prev = *at;
        at = &(*at)->next;
    }
    if (!*at)
        return;
    *at = f->next;
    if (p->tail == f)
        p->tail = prev;
    f->next = NULL;
}

static struct sleep_stripe *stripe_of(const struct pk_cancel *c)
{
    uintptr_t h = (uintptr_t)c;
    h ^= h >> 17; /* futures are calloc'd: mix the address bits above the allocation grain */
    return &c->pool->stripe[(h >> 6) % SLEEP_STRIPES];
}

/* Sets the token and wakes its sleeper. Any lock may be held (the stripe lock is innermost). */
static void cancel_token_locked(struct pk_pool *p, struct pk_future *f)
{
    (void)p;
    struct sleep_stripe *st = stripe_of(&f->cancel);
    pthread_mutex_lock(&st->lock);
    atomic_store(&f->cancel.flag, true);
    pthread_cond_broadcast(&st->wake);
    pthread_mutex_unlock(&st->lock);
}

int pk_future_cancel(struct pk_future *f)
{
    struct pk_pool *p = f->pool;
    lock(p);
    int state = f->state;
    if (state == F_QUEUED) {
        unlink_locked(p, f);
        atomic_store(&f->cancel.flag, true);
        finish_locked(f, PK_ECANCELED);
    } else if (state == F_RUNNING) {
        cancel_token_locked(p, f);
    }
    unlock(p);
    if (state == F_QUEUED) {
        deliver(f); /* the pool's reference goes with it */
        return PK_OK;
    }
    return state == F_RUNNING ? PK_ECLOSED : PK_EINVAL;
}

int pk_future_wait(struct pk_future *f, double timeout_s, void **result, struct pk_err *err)
{
    struct pk_pool *p = f->pool;
    if (result)
        *result = NULL;
    struct timespec deadline = abs_time(pk_now_s() + (timeout_s < 0 ? 1e12 : timeout_s));
    lock(p);
    if (f->state != F_DONE) {
        p->done_waiters++;
        while (f->state != F_DONE) {
            int rc = timeout_s < 0 ? pthread_cond_wait(&p->done, &p->lock)
                                   : pthread_cond_timedwait(&p->done, &p->lock, &deadline);
            if (rc == ETIMEDOUT)
                break;
        }
        p->done_waiters--;
    }
    bool finished = f->state == F_DONE;
    int status = finished ? f->status : PK_ETIMEDOUT;
    if (status == PK_OK && result && !f->result_taken) {
        *result = f->result;
        f->result_taken = true;
    } else if (status != PK_OK && finished) { /* a task's own PK_ETIMEDOUT has a message too */
        if (f->error_counted) {
            f->error_counted = false;
            p->unfetched--;
        }
        pk_fail(err, status, "%s", f->msg ? f->msg : pk_strerror(status));
    }
    unlock(p);
    return status;
}

bool pk_future_done(struct pk_future *f)
{
    lock(f->pool);
    bool done = f->state == F_DONE;
    unlock(f->pool);
    return done;
}

void pk_future_release(struct pk_future *f)
{
    if (f)
        future_unref(f);
}

void pk_future_release_item(void *f)
{
    pk_future_release(f);
}

bool pk_cancel_requested(const struct pk_cancel *c)
{
    return atomic_load(&c->flag) || (c->deadline > 0 && pk_now_s() >= c->deadline);
}

int pk_cancel_sleep(struct pk_cancel *c, double seconds)
{
    struct sleep_stripe *st = stripe_of(c);
    double end = pk_now_s() + (seconds > 0 ? seconds : 0);
    double until = c->deadline > 0 && c->deadline < end ? c->deadline : end;
    struct timespec ts = abs_time(until);
    pthread_mutex_lock(&st->lock);
    while (!atomic_load(&c->flag)) {
        if (pthread_cond_timedwait(&st->wake, &st->lock, &ts) == ETIMEDOUT)
            break;
    }
    pthread_mutex_unlock(&st->lock);
    return pk_cancel_requested(c) ? PK_ECANCELED : PK_OK;
}

int pk_futures_wait(struct pk_future *const *f, size_t n, enum pk_wait_mode mode, double timeout_s,
                    size_t *index)
{
    *index = n;
    if (n == 0)
        return PK_OK;
    struct pk_pool *p = f[0]->pool;
    struct timespec deadline = abs_time(pk_now_s() + (timeout_s < 0 ? 1e12 : timeout_s));
    int status = PK_ETIMEDOUT;
    lock(p);
    p->done_waiters++;
    for (;;) {
        size_t ndone = 0, first_done = n, first_err = n;
        for (size_t i = 0; i < n; i++) {
            if (f[i]->state != F_DONE)
                continue;
            ndone++;
            if (first_done == n)
                first_done = i;
            if (first_err == n && f[i]->status != PK_OK)
                first_err = i;
        }
        bool ready = mode == PK_WAIT_FIRST         ? first_done < n
                     : mode == PK_WAIT_FIRST_ERROR ? first_err < n || ndone == n
                                                   : ndone == n;
        if (ready) {
            *index = mode == PK_WAIT_FIRST         ? first_done
                     : mode == PK_WAIT_FIRST_ERROR ? first_err
                                                   : n;
            status = PK_OK;
            break;
        }
        int rc = timeout_s < 0 ? pthread_cond_wait(&p->done, &p->lock)
                               : pthread_cond_timedwait(&p->done, &p->lock, &deadline);
        if (rc == ETIMEDOUT)
            break;
    }
    p->done_waiters--;
    unlock(p);
    return status;
}

int pk_pool_shutdown(struct pk_pool *p, bool cancel_pending, uint64_t *unfetched_errors)
{
    struct pk_future *cancelled = NULL;
    lock(p);
    p->stopping = true;
    if (cancel_pending) {
        cancelled = p->head; /* every queued future, in order */
        p->head = p->tail = NULL;
        for (struct pk_future *f = cancelled; f; f = f->next) {
            atomic_store(&f->cancel.flag, true);
            finish_locked(f, PK_ECANCELED);
        }
        for (int i = 0; i < p->nthreads; i++)
            if (p->current[i])
                cancel_token_locked(p, p->current[i]);
    }
    pthread_cond_broadcast(&p->work);
    unlock(p);
    for (struct pk_future *f = cancelled, *next; f; f = next) {
        next = f->next;
        f->next = NULL;
        deliver(f);
    }
    /* One caller joins the threads; concurrent callers wait until it has, so that every
     * shutdown returns only once no task runs any more. */
    lock(p);
    bool join = !p->joining;
    p->joining = true;
    unlock(p);
    if (join)
        for (int i = 0; i < p->nthreads; i++)
            pthread_join(p->threads[i], NULL);
    lock(p);
    if (join) {
        p->joined = true;
        pthread_cond_broadcast(&p->done);
    }
    p->done_waiters++;
    while (!p->joined)
        pthread_cond_wait(&p->done, &p->lock);
    p->done_waiters--;
    if (unfetched_errors)
        *unfetched_errors = p->unfetched;
    unlock(p);
    return PK_OK;
}

void pk_pool_destroy(struct pk_pool *p)
{
    if (!p)
        return;
    pk_pool_shutdown(p, false, NULL);
    lock(p);
    bool last = --p->refs == 0;
    unlock(p);
    if (last)
        pool_free(p);
}

int pk_pool_map(struct pk_pool *p, pk_task_fn fn, void *const *inputs, size_t n, size_t window,
                pk_map_sink sink, void *ctx, size_t *failed_index, struct pk_err *err)
{
    if (failed_index)
        *failed_index = n;
    if (!fn || !sink || window == 0)
        return pk_fail(err, PK_EINVAL, "map needs a function, a sink and a window >= 1");
    if (window > n)
        window = n ? n : 1;
    struct pk_future **ring = calloc(window, sizeof *ring);
    if (!ring)
        return pk_fail(err, PK_ENOMEM, "out of memory");
    /* futures [done, sent) are in flight, at ring[i % window] */
    size_t sent = 0, done = 0, failed = n;
    int status = PK_OK;
    while (done < n && status == PK_OK) {
        while (sent < n && sent - done < window && status == PK_OK) {
            status = pk_pool_submit(p, fn, inputs[sent], 0, NULL, &ring[sent % window]);
            if (status != PK_OK) {
                failed = sent;
                pk_fail(err, status, "cannot submit input %zu: %s", sent, pk_strerror(status));
            } else {
                sent++;
            }
        }
        if (status != PK_OK)
            break;
        void *result = NULL;
        struct pk_future *f = ring[done % window];
        status = pk_future_wait(f, -1, &result, err);
        pk_future_release(f);
        ring[done % window] = NULL;
        if (status == PK_OK) {
            status = sink(ctx, done, result);
            if (status != PK_OK)
                pk_fail(err, status, "the sink stopped at input %zu: %s", done,
                        pk_strerror(status));
        }
        if (status != PK_OK)
            failed = done;
        done++;
    }
    /* After a failure: cancel what is in flight and wait for it (results are dropped). */
    for (size_t i = done; i < sent; i++) {
        struct pk_future *f = ring[i % window];
        pk_future_cancel(f);
        pk_future_wait(f, -1, NULL, NULL);
        pk_future_release(f);
    }
    free(ring);
    if (failed_index)
        *failed_index = failed;
    return status;
}
