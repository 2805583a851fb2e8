/* SPDX-License-Identifier: MIT */
/* Bounded MPMC queue: a ring under one mutex, two condition variables. See parkit/queue.h.
 *
 * Waiters are counted so that a push or pop signals only when somebody waits, and a batch wakes
 * everybody it may have made room (or work) for. Time spent waiting is measured only around
 * actual waits, so the counters cost nothing on the fast path. */
#include "parkit/queue.h"

#include "mutex.h"
#include "parkit/clock.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { OPEN = 0, CLOSED = 1, SHUT = 2 };

struct pk_queue {
    /* lock guards every field below except capacity and free_item, which never change.
     * not_full: waits for len < capacity or state != OPEN.
     * not_empty: waits for len > 0 or state != OPEN. */
    pthread_mutex_t lock;
    pthread_cond_t not_full, not_empty;
    void **ring;
    size_t capacity, head, len; /* items are ring[(head + i) % capacity], i < len */
    int state;
    size_t push_waiters, pop_waiters;
    size_t max_len;
    uint64_t pushed, popped, dropped;
    double push_blocked_s, pop_blocked_s;
    void (*free_item)(void *);
};

/* Failing to lock or unlock our own valid mutex can only be our bug (a double unlock, a
 * relock): the error-checking mutexes of debug builds report it here. */
static void lock(struct pk_queue *q)
{
    int rc = pthread_mutex_lock(&q->lock);
    assert(rc == 0);
    (void)rc;
}

static void unlock(struct pk_queue *q)
{
    int rc = pthread_mutex_unlock(&q->lock);
    assert(rc == 0);
    (void)rc;
}

int pk_queue_create(size_t capacity, void (*free_item)(void *), struct pk_queue **out)
{
    *out = NULL;
    if (capacity == 0 || capacity > SIZE_MAX / sizeof(void *))
        return PK_EINVAL;
    struct pk_queue *q = calloc(1, sizeof *q);
    if (!q)
        return PK_ENOMEM;
    q->ring = malloc(capacity * sizeof *q->ring);
    if (!q->ring) {
        free(q);
        return PK_ENOMEM;
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* timeouts immune to clock changes */
    int rc = pk_mutex_init(&q->lock);
    if (rc == 0) {
        rc = pthread_cond_init(&q->not_full, &ca);
        if (rc == 0) {
            rc = pthread_cond_init(&q->not_empty, &ca);
            if (rc != 0)
                pthread_cond_destroy(&q->not_full);
        }
        if (rc != 0)
            pthread_mutex_destroy(&q->lock);
    }
    pthread_condattr_destroy(&ca);
    if (rc != 0) {
        free(q->ring);
        free(q);
        return PK_ENOMEM;
    }
    q->capacity = capacity;
    q->free_item = free_item;
    *out = q;
    return PK_OK;
}

/* Takes every item out of the ring (caller holds the lock) into a malloc'd array for freeing
 * outside the lock; when that allocation fails they are freed here, under the lock. */
static void **take_all(struct pk_queue *q, size_t *n)
{
    *n = q->len;
    void **items = q->len ? malloc(q->len * sizeof *items) : NULL;
    for (size_t i = 0; i < q->len; i++) {
        void *it = q->ring[(q->head + i) % q->capacity];
        if (items)
            items[i] = it;
        else if (q->free_item)
            q->free_item(it);
    }
    q->dropped += q->len;
    q->len = 0;
    q->head = 0;
    if (!items)
        *n = 0;
    return items;
}

static void free_all(void (*free_item)(void *), void **items, size_t n)
{
    for (size_t i = 0; free_item && i < n; i++)
        free_item(items[i]);
    free(items);
}

void pk_queue_destroy(struct pk_queue *q)
{
    if (!q)
        return;
    size_t n;
    void **items = take_all(q, &n);
    free_all(q->free_item, items, n);
    pthread_cond_destroy(&q->not_full);
    pthread_cond_destroy(&q->not_empty);
    pthread_mutex_destroy(&q->lock);
    free(q->ring);
    free(q);
}

/* Absolute CLOCK_MONOTONIC time timeout_s from now. */
static struct timespec deadline_in(double timeout_s)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    if (!(timeout_s > 0)) /* negative or NaN: do not wait */
        timeout_s = 0;
    if (timeout_s > 1e9) /* far enough to mean "forever" without overflowing time_t */
        timeout_s = 1e9;
    time_t whole = (time_t)timeout_s;
    long nsec = ts.tv_nsec + (long)((timeout_s - (double)whole) * 1e9);
    ts.tv_sec += whole + nsec / 1000000000L;
    ts.tv_nsec = nsec % 1000000000L;
    return ts;
}

/* Waits (lock held) for room or a state change; PK_ETIMEDOUT when the deadline (NULL: none)
 * passes first. Measures the time spent waiting. */
static int wait_room(struct pk_queue *q, const struct timespec *deadline)
{
    if (q->len < q->capacity || q->state != OPEN)
        return PK_OK;
    int status = PK_OK;
    double t0 = pk_now_s();
    q->push_waiters++;
    while (q->len == q->capacity && q->state == OPEN) {
        int rc = deadline ? pthread_cond_timedwait(&q->not_full, &q->lock, deadline)
                          : pthread_cond_wait(&q->not_full, &q->lock);
        if (rc == ETIMEDOUT && q->len == q->capacity && q->state == OPEN) {
            status = PK_ETIMEDOUT;
            break;
        }
    }
    q->push_waiters--;
    q->push_blocked_s += pk_now_s() - t0;
    return status;
}

/* Waits (lock held) for an item or a state change; as wait_room. */
static int wait_item(struct pk_queue *q, const struct timespec *deadline)
{
    if (q->len > 0 || q->state != OPEN)
        return PK_OK;
    int status = PK_OK;
    double t0 = pk_now_s();
    q->pop_waiters++;
    while (q->len == 0 && q->state == OPEN) {
        int rc = deadline ? pthread_cond_timedwait(&q->not_empty, &q->lock, deadline)
                          : pthread_cond_wait(&q->not_empty, &q->lock);
        if (rc == ETIMEDOUT && q->len == 0 && q->state == OPEN) {
            status = PK_ETIMEDOUT;
            break;
        }
    }
    q->pop_waiters--;
    q->pop_blocked_s += pk_now_s() - t0;
    return status;
}

/* Wakes consumers for `added` new items: one for one, all for a batch. Lock held. */
static void wake_consumers(struct pk_queue *q, size_t added)
{
    if (q->pop_waiters == 0 || added == 0)
        return;
    if (added == 1)
        pthread_cond_signal(&q->not_empty);
    else
        pthread_cond_broadcast(&q->not_empty);
}

static void wake_producers(struct pk_queue *q, size_t removed)
{
    if (q->push_waiters == 0 || removed == 0)
        return;
    if (removed == 1)
        pthread_cond_signal(&q->not_full);
    else
        pthread_cond_broadcast(&q->not_full);
}

/* Moves up to n items into the ring (lock held, room available); returns how many. */
static size_t put(struct pk_queue *q, void *const *items, size_t n)
{
    size_t room = q->capacity - q->len;
    size_t k = n < room ? n : room;
    for (size_t i = 0; i < k; i++)
        q->ring[(q->head + q->len + i) % q->capacity] = items[i];
    q->len += k;
    q->pushed += k;
    if (q->len > q->max_len)
        q->max_len = q->len;
    wake_consumers(q, k);
    return k;
}

static size_t take(struct pk_queue *q, void **items, size_t max)
{
    size_t k = max < q->len ? max : q->len;
    for (size_t i = 0; i < k; i++)
        items[i] = q->ring[(q->head + i) % q->capacity];
    q->head = (q->head + k) % q->capacity;
    q->len -= k;
    q->popped += k;
    wake_producers(q, k);
    return k;
}

static int push_one(struct pk_queue *q, void *item, const struct timespec *deadline)
{
    lock(q);
    int status = wait_room(q, deadline);
    if (status == PK_OK && q->state != OPEN)
        status = PK_ECLOSED;
    if (status == PK_OK)
        put(q, &item, 1);
    unlock(q);
    return status;
}

static int pop_one(struct pk_queue *q, void **item, const struct timespec *deadline)
{
    *item = NULL;
    lock(q);
    int status = wait_item(q, deadline);
    /* closed queues still hand out what they hold; shut down ones hold nothing */
    if (status == PK_OK && q->len == 0)
        status = PK_ECLOSED;
    if (status == PK_OK)
        take(q, item, 1);
    unlock(q);
    return status;
}

int pk_queue_push(struct pk_queue *q, void *item)
{
    return push_one(q, item, NULL);
}

int pk_queue_push_timed(struct pk_queue *q, void *item, double timeout_s)
{
    struct timespec deadline = deadline_in(timeout_s);
    return push_one(q, item, &deadline);
}

int pk_queue_pop(struct pk_queue *q, void **item)
{
    return pop_one(q, item, NULL);
}

int pk_queue_pop_timed(struct pk_queue *q, void **item, double timeout_s)
{
    struct timespec deadline = deadline_in(timeout_s);
    return pop_one(q, item, &deadline);
}

size_t pk_queue_push_many(struct pk_queue *q, void *const *items, size_t n, int *status)
{
    size_t done = 0;
    int rc = PK_OK;
    lock(q);
    while (done < n) {
        wait_room(q, NULL);
        if (q->state != OPEN) {
            rc = PK_ECLOSED;
            break;
        }
        done += put(q, items + done, n - done);
    }
    unlock(q);
    if (status)
        *status = rc;
    return done;
}

size_t pk_queue_pop_many(struct pk_queue *q, void **items, size_t max, int *status)
{
    size_t k = 0;
    int rc = PK_OK;
    if (max == 0) {
        if (status)
            *status = PK_EINVAL;
        return 0;
    }
    lock(q);
    wait_item(q, NULL);
    if (q->len == 0)
        rc = PK_ECLOSED;
    else
        k = take(q, items, max);
    unlock(q);
    if (status)
        *status = rc;
    return k;
}

void pk_queue_close(struct pk_queue *q)
{
    lock(q);
    if (q->state == OPEN)
        q->state = CLOSED;
    pthread_cond_broadcast(&q->not_full);
    pthread_cond_broadcast(&q->not_empty);
    unlock(q);
}

void pk_queue_shutdown(struct pk_queue *q)
{
    lock(q);
    q->state = SHUT;
    size_t n;
    void **items = take_all(q, &n);
    pthread_cond_broadcast(&q->not_full);
    pthread_cond_broadcast(&q->not_empty);
    unlock(q);
    free_all(q->free_item, items, n);
}

void pk_queue_get_stats(struct pk_queue *q, struct pk_queue_stats *s)
{
    lock(q);
    *s = (struct pk_queue_stats){.capacity = q->capacity,
                                 .length = q->len,
                                 .max_length = q->max_len,
                                 .pushed = q->pushed,
                                 .popped = q->popped,
                                 .dropped = q->dropped,
                                 .push_blocked_s = q->push_blocked_s,
                                 .pop_blocked_s = q->pop_blocked_s,
                                 .closed = q->state};
    unlock(q);
}
