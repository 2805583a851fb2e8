/* SPDX-License-Identifier: MIT */
/* Tests of the bounded MPMC queue (parkit/queue.h).
 *
 * Single-threaded cases run the queue against a model ring and walk every error path and
 * counter. Threaded cases park producers on a full queue and consumers on an empty one, then
 * close or shut the queue down and check that every waiter returns PK_ECLOSED promptly, that
 * items pushed before close are drained exactly once, and that the queue frees exactly the items
 * it still owns. The MPMC case moves 200000 distinct values through a small ring and checks that
 * each arrives exactly once and, per consumer, in its producer's order.
 *
 * Items are never dereferenced: they are small integers cast to void * or addresses of `pool`
 * slots, whose free_item (count_free) counts the calls per slot. No CHECK runs while a case's
 * threads are alive: results are recorded and checked after the joins, so a failing check never
 * leaves a thread using a dead stack frame. A watchdog thread ends the process if a case outlives
 * WATCHDOG_S, so a lost wake-up or a deadlock fails the case instead of hanging it. */
#ifndef _POSIX_C_SOURCE
#    define _POSIX_C_SOURCE 200809L
#endif

#include "check.h"
#include "parkit/queue.h"
#include "parkit/status.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Huge allocations abort under ASan and TSan unless allocator_may_return_null is set, so the
 * out-of-memory path of pk_queue_create is only tried in plain builds. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#    define SANITIZED 1
#elif defined(__has_feature)
#    if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#        define SANITIZED 1
#    endif
#endif
#ifndef SANITIZED
#    define SANITIZED 0
#endif

/* A case takes well under 2 s even under TSan on a loaded 2-core machine; a lost wake-up
 * would block forever, so after this long the watchdog ends the process naming the case. */
#define WATCHDOG_S 10.0
#include "io_test.h"
/* Timeout of timed calls that close, shutdown or another thread must end long before it:
 * shorter than the watchdog, so a missed wake-up shows as a failed CHECK. */
#define LONG_WAIT_S 4.0
/* "Promptly": how soon after close or shutdown every waiter must have returned. Generous for
 * TSan on a loaded machine; a waiter that is not woken at all takes LONG_WAIT_S or forever. */
#define PROMPT_S 1.0
/* How long a case sleeps so that a thread that has arrived at the gate is blocked inside the
 * queue. The outcome does not depend on it; it only makes the wake-up path the one tested. */
#define SETTLE_S 0.05

/* ---- helpers ------------------------------------------------------------------------------ */

/* Items that free_item can count: addresses of pool slots. count_free is the queues' free_item;
 * it records how often each slot was freed, calls for addresses outside the pool, and calls
 * from a thread other than free_thread (the header says: the thread that shuts down or
 * destroys). When free_probe is set it also takes a stats snapshot of that queue, which
 * deadlocks (and trips the watchdog) if free_item is called with the queue's lock held. */
enum { POOL = 64 };
static char pool[POOL];
static atomic_int freed[POOL];
static atomic_int freed_total, freed_stray, freed_elsewhere;
static pthread_t free_thread;
static _Atomic(struct pk_queue *) free_probe;

static void *slot(size_t i)
{
    return pool + i;
}

/* Value items: nonzero integers. */
static void *val(uintptr_t v)
{
    return (void *)v;
}

/* The pool index of an item, POOL for anything else. */
static size_t slot_of(void *p)
{
    uintptr_t a = (uintptr_t)p, lo = (uintptr_t)pool;
    return a >= lo && a < lo + POOL ? (size_t)(a - lo) : POOL;
}

static uintptr_t unval(void *p)
{
    return (uintptr_t)p;
}

static void count_free(void *p)
{
    size_t i = slot_of(p);
    if (i < POOL)
        atomic_fetch_add(&freed[i], 1);
    else
        atomic_fetch_add(&freed_stray, 1);
    atomic_fetch_add(&freed_total, 1);
    if (!pthread_equal(pthread_self(), free_thread))
        atomic_fetch_add(&freed_elsewhere, 1);
    struct pk_queue *probe = atomic_load(&free_probe);
    if (probe) {
        struct pk_queue_stats s;
        pk_queue_get_stats(probe, &s);
    }
}

static void track_reset(void)
{
    for (int i = 0; i < POOL; i++)
        atomic_store(&freed[i], 0);
    atomic_store(&freed_total, 0);
    atomic_store(&freed_stray, 0);
    atomic_store(&freed_elsewhere, 0);
    atomic_store(&free_probe, NULL);
    free_thread = pthread_self();
}

/* Counts threads that are about to call into the queue (arrived) and that came back (left).
 * mu guards both; cv is broadcast when either grows. */
struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int arrived, left;
};

static void gate_init(struct gate *g)
{
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    g->arrived = g->left = 0;
}

static void gate_destroy(struct gate *g)
{
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
}

static void gate_bump(struct gate *g, int *counter)
{
    pthread_mutex_lock(&g->mu);
    (*counter)++;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

/* Waits (bounded by the watchdog) until n threads have arrived. */
static void gate_wait(struct gate *g, int n)
{
    pthread_mutex_lock(&g->mu);
    while (g->arrived < n)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

static int gate_left(struct gate *g)
{
    pthread_mutex_lock(&g->mu);
    int n = g->left;
    pthread_mutex_unlock(&g->mu);
    return n;
}

/* One caller on its own thread: it arrives at the gate, sleeps delay_s, makes its call (pops
 * repeat while drain is set and the status is PK_OK) and records what it got. */
enum op { OP_PUSH, OP_PUSH_TIMED, OP_PUSH_MANY, OP_POP, OP_POP_TIMED, OP_POP_MANY };
enum { CALLER_ITEMS = 8 };
struct caller {
    struct pk_queue *q;
    struct gate *gate;
    double delay_s;
    void *items[CALLER_ITEMS]; /* pushed from, or popped into (in order) */
    size_t n;                  /* push_many: how many to push; pop_many: max */
    size_t got;                /* pushes: how many the queue took; pops: how many were popped */
    double returned_at;        /* now_s() when the call (or the drain) ended */
    enum op op;
    int drain;
    int rc;  /* the last status; 1 before any (no parkit status is positive) */
    int bad; /* a batch count out of range, or more pops than items[] holds */
};

static void caller_pop(struct caller *c)
{
    do {
        void *buf[CALLER_ITEMS] = {0};
        size_t n = 0;
        c->rc = 1;
        if (c->op == OP_POP) {
            c->rc = pk_queue_pop(c->q, &buf[0]);
            n = c->rc == PK_OK;
        } else if (c->op == OP_POP_TIMED) {
            c->rc = pk_queue_pop_timed(c->q, &buf[0], LONG_WAIT_S);
            n = c->rc == PK_OK;
        } else {
            n = pk_queue_pop_many(c->q, buf, c->n, &c->rc);
            if (n > c->n || (n == 0 && c->rc == 1))
                c->bad++;
            if (n > 0)
                c->rc = PK_OK; /* the status is only specified for a return of 0 */
        }
        for (size_t i = 0; i < n; i++) {
            if (c->got < CALLER_ITEMS)
                c->items[c->got] = buf[i];
            else
                c->bad++;
            c->got++;
        }
    } while (c->drain && c->rc == PK_OK);
}

static void *caller_main(void *arg)
{
    struct caller *c = arg;
    gate_bump(c->gate, &c->gate->arrived);
    if (c->delay_s > 0)
        sleep_s(c->delay_s);
    c->rc = 1;
    switch (c->op) {
    case OP_PUSH:
        c->rc = pk_queue_push(c->q, c->items[0]);
        c->got = c->rc == PK_OK;
        break;
    case OP_PUSH_TIMED:
        c->rc = pk_queue_push_timed(c->q, c->items[0], LONG_WAIT_S);
        c->got = c->rc == PK_OK;
        break;
    case OP_PUSH_MANY:
        c->got = pk_queue_push_many(c->q, c->items, c->n, &c->rc);
        break;
    default:
        caller_pop(c);
        break;
    }
    c->returned_at = now_s();
    gate_bump(c->gate, &c->gate->left);
    return NULL;
}

static struct caller caller_make(struct pk_queue *q, struct gate *g, enum op op)
{
    struct caller c;
    memset(&c, 0, sizeof c);
    c.q = q;
    c.gate = g;
    c.op = op;
    c.rc = 1;
    return c;
}

/* Checks one stats snapshot against expected counters (-1: do not check). */
#define CHECK_STATS(q, cap, len, maxlen, npushed, npopped, ndropped, nclosed)                      \
    do {                                                                                           \
        struct pk_queue_stats st_;                                                                 \
        memset(&st_, 0xa5, sizeof st_);                                                            \
        pk_queue_get_stats((q), &st_);                                                             \
        CHECK_EQ_INT(st_.capacity, (cap));                                                         \
        CHECK_EQ_INT(st_.length, (len));                                                           \
        if ((long long)(maxlen) >= 0)                                                              \
            CHECK_EQ_INT(st_.max_length, (maxlen));                                                \
        CHECK_EQ_INT(st_.pushed, (npushed));                                                       \
        CHECK_EQ_INT(st_.popped, (npopped));                                                       \
        CHECK_EQ_INT(st_.dropped, (ndropped));                                                     \
        CHECK_EQ_INT(st_.closed, (nclosed));                                                       \
    } while (0)

/* ---- single thread -------------------------------------------------------------------------- */

static int case_push_pop_fifo(void)
{
    WATCH();
    /* The queue against a model ring over thousands of random pushes and pops, every call
     * checked, and the counters after each: capacity 1 is full and empty at once, 7 wraps at
     * every offset. A push on a full queue and a pop on an empty one with timeout 0 must fail
     * at once with PK_ETIMEDOUT and change nothing. */
    const size_t caps[] = {1, 7};
    uint64_t s = UINT64_C(0x9f1e5ab3c0d27a41);
    for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++) {
        const size_t cap = caps[c];
        struct pk_queue *q = NULL;
        CHECK_OK(pk_queue_create(cap, NULL, &q));
        CHECK(q != NULL);
        uintptr_t model[8];
        size_t head = 0, len = 0, maxlen = 0, full_hits = 0, empty_hits = 0;
        uint64_t pushed = 0, popped = 0;
        for (int step = 0; step < 2500; step++) {
            CHECK_STATS(q, cap, len, maxlen, pushed, popped, 0, 0);
            uint64_t r = check_next_u64(&s);
            if (r & 1) {
                uintptr_t v = (uintptr_t)(r >> 8) | 1;
                if (len == cap) {
                    CHECK_EQ_INT(pk_queue_push_timed(q, val(v), 0), PK_ETIMEDOUT);
                    full_hits++;
                    continue;
                }
                if (r & 2)
                    CHECK_OK(pk_queue_push(q, val(v)));
                else
                    CHECK_OK(pk_queue_push_timed(q, val(v), LONG_WAIT_S));
                model[(head + len) % cap] = v;
                len++;
                pushed++;
                maxlen = len > maxlen ? len : maxlen;
            } else {
                void *it = slot(1);
                if (len == 0) {
                    CHECK_EQ_INT(pk_queue_pop_timed(q, &it, 0), PK_ETIMEDOUT);
                    CHECK(it == NULL);
                    empty_hits++;
                    continue;
                }
                if (r & 2)
                    CHECK_OK(pk_queue_pop(q, &it));
                else
                    CHECK_OK(pk_queue_pop_timed(q, &it, LONG_WAIT_S));
                CHECK_EQ_INT(unval(it), model[head]);
                head = (head + 1) % cap;
                len--;
                popped++;
            }
        }
        CHECK_EQ_INT(maxlen, cap);
        CHECK(full_hits > 10 && empty_hits > 10); /* both edges were exercised */
        pk_queue_destroy(q);
    }
    return 0;
}

static int case_create_invalid(void)
{
    WATCH();
    /* capacity 0 is refused and *out is set to NULL, whatever it held */
    struct pk_queue *q = (struct pk_queue *)(void *)pool;
    CHECK_EQ_INT(pk_queue_create(0, NULL, &q), PK_EINVAL);
    CHECK(q == NULL);
    q = (struct pk_queue *)(void *)pool;
    CHECK_EQ_INT(pk_queue_create(0, count_free, &q), PK_EINVAL);
    CHECK(q == NULL);
    /* A ring whose size in bytes overflows size_t (SIZE_MAX / 8 + 1 slots of 8 bytes wrap to 0
     * bytes, SIZE_MAX / 4 + 3 to 16) or is too large to allocate fails cleanly. */
    if (!SANITIZED) {
        const size_t huge[] = {SIZE_MAX, SIZE_MAX / sizeof(void *) + 1, SIZE_MAX / 4 + 3,
                               SIZE_MAX / 16};
        for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
            q = (struct pk_queue *)(void *)pool;
            int rc = pk_queue_create(huge[i], NULL, &q);
            if (rc == PK_OK)
                fprintf(stderr, "capacity %zu accepted\n", huge[i]);
            CHECK(rc == PK_ENOMEM || rc == PK_EINVAL || rc == PK_ERANGE);
            CHECK(q == NULL);
        }
    }
    /* the smallest valid queue works; destroy takes NULL */
    CHECK_OK(pk_queue_create(1, NULL, &q));
    CHECK(q != NULL);
    CHECK_STATS(q, 1, 0, 0, 0, 0, 0, 0);
    pk_queue_destroy(q);
    pk_queue_destroy(NULL);
    return 0;
}

static int case_full_blocks_then_times_out(void)
{
    WATCH();
    track_reset();
    struct pk_queue *q;
    CHECK_OK(pk_queue_create(3, count_free, &q));
    for (size_t i = 0; i < 3; i++)
        CHECK_OK(pk_queue_push(q, slot(i)));
    /* timeout 0 fails at once; a positive timeout waits about that long. 0.15 s is long against
     * scheduling noise and short for the case; the 10% slack allows a coarse clock. */
    double t0 = now_s();
    CHECK_EQ_INT(pk_queue_push_timed(q, slot(3), 0), PK_ETIMEDOUT);
    CHECK(now_s() - t0 < PROMPT_S);
    const double tmo = 0.15;
    t0 = now_s();
    CHECK_EQ_INT(pk_queue_push_timed(q, slot(3), tmo), PK_ETIMEDOUT);
    double waited = now_s() - t0;
    if (waited < 0.9 * tmo || waited > tmo + PROMPT_S)
        fprintf(stderr, "push_timed(%g) returned after %g s\n", tmo, waited);
    CHECK(waited >= 0.9 * tmo && waited <= tmo + PROMPT_S);
    /* the caller still owns slot 3: the queue holds 0, 1, 2 as before and frees nothing */
    CHECK_STATS(q, 3, 3, 3, 3, 0, 0, 0);
    for (size_t i = 0; i < 3; i++) {
        void *it = NULL;
        CHECK_OK(pk_queue_pop_timed(q, &it, 0));
        CHECK(it == slot(i));
    }
    void *it = slot(9);
    CHECK_EQ_INT(pk_queue_pop_timed(q, &it, 0), PK_ETIMEDOUT);
    CHECK(it == NULL);
    CHECK_EQ_INT(atomic_load(&freed_total), 0);

    /* the same call succeeds once a consumer makes room before the deadline */
    for (size_t i = 4; i < 7; i++)
        CHECK_OK(pk_queue_push(q, slot(i)));
    struct gate g;
    gate_init(&g);
    struct crew crew = {0};
    struct caller c = caller_make(q, &g, OP_POP_TIMED);
    c.delay_s = SETTLE_S;
    t0 = now_s();
    crew_start(&crew, caller_main, &c);
    int rc = pk_queue_push_timed(q, slot(3), LONG_WAIT_S);
    waited = now_s() - t0;
    crew_join(&crew);
    gate_destroy(&g);
    CHECK(!crew.failed);
    CHECK_OK(rc);
    CHECK(waited < SETTLE_S + PROMPT_S); /* woken by the pop, not by its timeout */
    CHECK_OK(c.rc);
    CHECK_EQ_INT(c.got, 1);
    CHECK(c.items[0] == slot(4));
    CHECK_STATS(q, 3, 3, 3, 7, 4, 0, 0);
    /* destroy frees the three left, in the queue's order 5, 6, 3, each once */
    pk_queue_destroy(q);
    CHECK_EQ_INT(atomic_load(&freed_total), 3);
    CHECK_EQ_INT(atomic_load(&freed[5]) + atomic_load(&freed[6]) + atomic_load(&freed[3]), 3);
    CHECK_EQ_INT(atomic_load(&freed[5]) * atomic_load(&freed[6]) * atomic_load(&freed[3]), 1);
    return 0;
}

static int case_empty_pop_times_out(void)
{
    WATCH();
    struct pk_queue *q;
    CHECK_OK(pk_queue_create(5, NULL, &q));
    void *it = slot(9);
    double t0 = now_s();
    CHECK_EQ_INT(pk_queue_pop_timed(q, &it, 0), PK_ETIMEDOUT);
    CHECK(it == NULL);
    CHECK(now_s() - t0 < PROMPT_S);
    const double tmo = 0.12;
    it = slot(9);
    t0 = now_s();
    CHECK_EQ_INT(pk_queue_pop_timed(q, &it, tmo), PK_ETIMEDOUT);
    double waited = now_s() - t0;
    if (waited < 0.9 * tmo || waited > tmo + PROMPT_S)
        fprintf(stderr, "pop_timed(%g) returned after %g s\n", tmo, waited);
    CHECK(waited >= 0.9 * tmo && waited <= tmo + PROMPT_S);
    CHECK(it == NULL);
    CHECK_STATS(q, 5, 0, 0, 0, 0, 0, 0);

    /* a pop that times out takes nothing: later items arrive in order */
    CHECK_OK(pk_queue_push(q, val(0x5bd1e995)));
    CHECK_OK(pk_queue_push(q, val(0x1b873593)));
    CHECK_OK(pk_queue_pop_timed(q, &it, 0));
    CHECK_EQ_INT(unval(it), 0x5bd1e995);
    CHECK_OK(pk_queue_pop_timed(q, &it, tmo));
    CHECK_EQ_INT(unval(it), 0x1b873593);

    /* the same call succeeds when a producer pushes before the deadline */
    struct gate g;
    gate_init(&g);
    struct crew crew = {0};
    struct caller c = caller_make(q, &g, OP_PUSH);
    c.delay_s = SETTLE_S;
    c.items[0] = val(0xcc9e2d51);
    t0 = now_s();
    crew_start(&crew, caller_main, &c);
    it = NULL;
    int rc = pk_queue_pop_timed(q, &it, LONG_WAIT_S);
    waited = now_s() - t0;
    crew_join(&crew);
    gate_destroy(&g);
    CHECK(!crew.failed);
    CHECK_OK(rc);
    CHECK(waited < SETTLE_S + PROMPT_S); /* woken by the push, not by its timeout */
    CHECK_OK(c.rc);
    CHECK_EQ_INT(unval(it), 0xcc9e2d51);
    CHECK_EQ_INT(pk_queue_pop_timed(q, &it, 0), PK_ETIMEDOUT);
    CHECK_STATS(q, 5, 0, 2, 3, 3, 0, 0);
    pk_queue_destroy(q);
    return 0;
}

static int case_close_drains_then_closed(void)
{
    WATCH();
    track_reset();
    struct pk_queue *q;
    CHECK_OK(pk_queue_create(7, count_free, &q));
    CHECK_OK(pk_queue_push(q, slot(0)));
    CHECK_OK(pk_queue_push_timed(q, slot(1), 0));
    void *const two[] = {slot(2), slot(3)};
    CHECK_EQ_INT(pk_queue_push_many(q, two, 2, NULL), 2);
    CHECK_OK(pk_queue_push(q, slot(4)));
    pk_queue_close(q);
    pk_queue_close(q); /* idempotent */
    CHECK_STATS(q, 7, 5, 5, 5, 0, 0, 1);

    /* every push fails with PK_ECLOSED at once, a timed one too (not PK_ETIMEDOUT after its
     * timeout), and the caller keeps the item: the queue neither holds nor frees it */
    CHECK_EQ_INT(pk_queue_push(q, slot(5)), PK_ECLOSED);
    CHECK_EQ_INT(pk_queue_push_timed(q, slot(5), 0), PK_ECLOSED);
    double t0 = now_s();
    CHECK_EQ_INT(pk_queue_push_timed(q, slot(5), LONG_WAIT_S), PK_ECLOSED);
    CHECK(now_s() - t0 < PROMPT_S);
    int st = 1;
    void *const more[] = {slot(5), slot(6)};
    CHECK_EQ_INT(pk_queue_push_many(q, more, 2, &st), 0);
    CHECK_EQ_INT(st, PK_ECLOSED);
    CHECK_EQ_INT(pk_queue_push_many(q, more, 2, NULL), 0);
    CHECK_STATS(q, 7, 5, 5, 5, 0, 0, 1);
    CHECK_EQ_INT(atomic_load(&freed_total), 0);

    /* consumers drain all five in order through every kind of pop, then get PK_ECLOSED */
    void *it = NULL;
    CHECK_OK(pk_queue_pop(q, &it));
    CHECK(it == slot(0));
    CHECK_OK(pk_queue_pop_timed(q, &it, 0));
    CHECK(it == slot(1));
    size_t next = 2;
    while (next < 5) {
        void *buf[3] = {NULL, NULL, NULL};
        st = 1;
        size_t n = pk_queue_pop_many(q, buf, 2, &st);
        CHECK(n >= 1 && n <= 2 && n <= 5 - next);
        for (size_t i = 0; i < n; i++)
            CHECK(buf[i] == slot(next++));
        CHECK(buf[2] == NULL);
    }
    CHECK_STATS(q, 7, 0, 5, 5, 5, 0, 1);
    CHECK_EQ_INT(pk_queue_pop(q, &it), PK_ECLOSED);
    CHECK_EQ_INT(pk_queue_pop_timed(q, &it, 0), PK_ECLOSED);
    t0 = now_s();
    CHECK_EQ_INT(pk_queue_pop_timed(q, &it, LONG_WAIT_S), PK_ECLOSED);
    CHECK(now_s() - t0 < PROMPT_S);
    void *buf[4];
    st = 1;
    CHECK_EQ_INT(pk_queue_pop_many(q, buf, 4, &st), 0);
    CHECK_EQ_INT(st, PK_ECLOSED);
    CHECK_EQ_INT(pk_queue_pop_many(q, buf, 4, NULL), 0);
    pk_queue_destroy(q); /* drained: nothing to free */
    CHECK_EQ_INT(atomic_load(&freed_total), 0);

    /* a push on a queue that is closed and full fails at once rather than waiting for room */
    CHECK_OK(pk_queue_create(2, count_free, &q));
    CHECK_OK(pk_queue_push(q, slot(7)));
    CHECK_OK(pk_queue_push(q, slot(8)));
    pk_queue_close(q);
    t0 = now_s();
    CHECK_EQ_INT(pk_queue_push_timed(q, slot(9), LONG_WAIT_S), PK_ECLOSED);
    CHECK_EQ_INT(pk_queue_push(q, slot(9)), PK_ECLOSED);
    CHECK(now_s() - t0 < PROMPT_S);
    CHECK_OK(pk_queue_pop(q, &it));
    CHECK(it == slot(7));
    pk_queue_destroy(q); /* closed, not drained: destroy frees slot 8 only */
    CHECK_EQ_INT(atomic_load(&freed_total), 1);
    CHECK_EQ_INT(atomic_load(&freed[8]), 1);
    CHECK_EQ_INT(atomic_load(&freed_elsewhere), 0);
    return 0;
}

static int case_destroy_frees_leftovers(void)
{
    WATCH();
    track_reset();
    /* leftovers that wrap around the end of the ring: 5..10 of 0..10 */
    struct pk_queue *q;
    CHECK_OK(pk_queue_create(8, count_free, &q));
    for (size_t i = 0; i < 8; i++)
        CHECK_OK(pk_queue_push(q, slot(i)));
    for (size_t i = 0; i < 5; i++) {
        void *it;
        CHECK_OK(pk_queue_pop(q, &it));
        CHECK(it == slot(i));
    }
    void *const three[] = {slot(8), slot(9), slot(10)};
    CHECK_EQ_INT(pk_queue_push_many(q, three, 3, NULL), 3);
    CHECK_EQ_INT(atomic_load(&freed_total), 0);
    pk_queue_destroy(q);
    for (size_t i = 0; i < 11; i++)
        CHECK_EQ_INT(atomic_load(&freed[i]), i >= 5);
    CHECK_EQ_INT(atomic_load(&freed_total), 6);

    /* closed but not drained: the two left are freed */
    track_reset();
    CHECK_OK(pk_queue_create(4, count_free, &q));
    for (size_t i = 20; i < 23; i++)
        CHECK_OK(pk_queue_push(q, slot(i)));
    pk_queue_close(q);
    void *it;
    CHECK_OK(pk_queue_pop(q, &it));
    CHECK(it == slot(20));
    pk_queue_destroy(q);
    CHECK_EQ_INT(atomic_load(&freed[20]), 0);
    CHECK_EQ_INT(atomic_load(&freed[21]), 1);
    CHECK_EQ_INT(atomic_load(&freed[22]), 1);
    CHECK_EQ_INT(atomic_load(&freed_total), 2);

    /* shut down first: shutdown frees them, destroy frees nothing more */
    track_reset();
    CHECK_OK(pk_queue_create(3, count_free, &q));
    CHECK_OK(pk_queue_push(q, slot(30)));
    CHECK_OK(pk_queue_push(q, slot(31)));
    pk_queue_shutdown(q);
    CHECK_EQ_INT(atomic_load(&freed_total), 2);
    pk_queue_destroy(q);
    CHECK_EQ_INT(atomic_load(&freed[30]), 1);
    CHECK_EQ_INT(atomic_load(&freed[31]), 1);
    CHECK_EQ_INT(atomic_load(&freed_total), 2);

    /* an empty queue frees nothing; a NULL free_item leaves leftovers alone */
    track_reset();
    CHECK_OK(pk_queue_create(1, count_free, &q));
    pk_queue_destroy(q);
    CHECK_OK(pk_queue_create(4, NULL, &q));
    CHECK_OK(pk_queue_push(q, slot(40)));
    CHECK_OK(pk_queue_push(q, slot(41)));
    pk_queue_shutdown(q);
    pk_queue_destroy(q);
    CHECK_OK(pk_queue_create(4, NULL, &q));
    CHECK_OK(pk_queue_push(q, slot(42)));
    pk_queue_destroy(q);
    CHECK_EQ_INT(atomic_load(&freed_total), 0);
    CHECK_EQ_INT(atomic_load(&freed_stray), 0);
    CHECK_EQ_INT(atomic_load(&freed_elsewhere), 0);
    return 0;
}

/* ---- close and shutdown with waiters -------------------------------------------------------- */

static int case_close_wakes_all(void)
{
    WATCH();
    track_reset();
    /* qf is full (slots 0, 1) with four producers blocked on it, one of each kind; qe is empty
     * with four draining consumers blocked on it. */
    struct pk_queue *qf, *qe;
    CHECK_OK(pk_queue_create(2, count_free, &qf));
    CHECK_OK(pk_queue_create(5, count_free, &qe));
    CHECK_OK(pk_queue_push(qf, slot(0)));
    CHECK_OK(pk_queue_push(qf, slot(1)));
    struct gate g;
    gate_init(&g);
    struct crew crew = {0};
    enum { NP = 4, NC = 4, ND = 3, K = 5 };
    struct caller prod[NP], cons[NC], drainer[ND];
    const enum op pop_ops[NC] = {OP_POP, OP_POP, OP_POP_TIMED, OP_POP_MANY};
    const enum op push_ops[NP] = {OP_PUSH, OP_PUSH, OP_PUSH_TIMED, OP_PUSH_MANY};
    for (int i = 0; i < NP; i++) {
        prod[i] = caller_make(qf, &g, push_ops[i]);
        prod[i].items[0] = slot(10 + (size_t)i);
        if (push_ops[i] == OP_PUSH_MANY) {
            prod[i].items[1] = slot(20);
            prod[i].items[2] = slot(21);
            prod[i].n = 3;
        }
        crew_start(&crew, caller_main, &prod[i]);
    }
    for (int i = 0; i < NC; i++) {
        cons[i] = caller_make(qe, &g, pop_ops[i]);
        cons[i].n = 3;
        cons[i].drain = 1;
        crew_start(&crew, caller_main, &cons[i]);
    }
    gate_wait(&g, crew.n);
    sleep_s(SETTLE_S);
    int left_before = gate_left(&g);
    struct pk_queue_stats before;
    pk_queue_get_stats(qf, &before);

    /* K items for qe and close it at once (most are still queued when it closes), close qf
     * (twice: idempotent), then three consumers drain qf after the close. */
    double t_close = now_s();
    void *const items[K] = {slot(30), slot(31), slot(32), slot(33), slot(34)};
    int st = 1;
    size_t took = pk_queue_push_many(qe, items, K, &st);
    pk_queue_close(qe);
    pk_queue_close(qf);
    pk_queue_close(qf);
    for (int i = 0; i < ND; i++) {
        drainer[i] = caller_make(qf, &g, pop_ops[i + 1]);
        drainer[i].n = 2;
        drainer[i].drain = 1;
        crew_start(&crew, caller_main, &drainer[i]);
    }
    crew_join(&crew);
    gate_destroy(&g);

    CHECK(!crew.failed);
    CHECK_EQ_INT(left_before, 0); /* nobody returned before the close */
    CHECK_EQ_INT(before.length, 2);
    CHECK_EQ_INT(before.pushed, 2);
    CHECK_EQ_INT(took, K);
    /* every producer got PK_ECLOSED promptly and the queue took none of its items */
    for (int i = 0; i < NP; i++) {
        CHECK_EQ_INT(prod[i].rc, PK_ECLOSED);
        CHECK_EQ_INT(prod[i].got, 0);
        CHECK(prod[i].returned_at - t_close < PROMPT_S);
    }
    /* every consumer ended with PK_ECLOSED promptly; together they popped each item once */
    int seen[POOL + 1] = {0};
    size_t total = 0;
    for (int i = 0; i < NC; i++) {
        CHECK_EQ_INT(cons[i].rc, PK_ECLOSED);
        CHECK_EQ_INT(cons[i].bad, 0);
        CHECK(cons[i].returned_at - t_close < PROMPT_S);
        for (size_t j = 0; j < cons[i].got; j++)
            seen[slot_of(cons[i].items[j])]++;
        total += cons[i].got;
    }
    CHECK_EQ_INT(total, K);
    for (int i = 30; i < 30 + K; i++)
        CHECK_EQ_INT(seen[i], 1);
    /* the drainers of qf took slots 0 and 1 (each once) before PK_ECLOSED */
    total = 0;
    for (int i = 0; i < ND; i++) {
        CHECK_EQ_INT(drainer[i].rc, PK_ECLOSED);
        CHECK_EQ_INT(drainer[i].bad, 0);
        for (size_t j = 0; j < drainer[i].got; j++)
            seen[slot_of(drainer[i].items[j])] += 10;
        total += drainer[i].got;
    }
    CHECK_EQ_INT(total, 2);
    CHECK_EQ_INT(seen[0], 10);
    CHECK_EQ_INT(seen[1], 10);
    CHECK_STATS(qf, 2, 0, 2, 2, 2, 0, 1);
    CHECK_STATS(qe, 5, 0, -1, K, K, 0, 1);
    pk_queue_destroy(qf);
    pk_queue_destroy(qe);
    CHECK_EQ_INT(atomic_load(&freed_total), 0); /* close frees nothing; producers kept theirs */
    return 0;
}

static int case_shutdown_frees_leftovers(void)
{
    WATCH();
    track_reset();
    /* qf holds slots 2..6, wrapped around its ring of 5, with three producers blocked on it;
     * qe is empty with three draining consumers blocked on it. */
    struct pk_queue *qf, *qe;
    CHECK_OK(pk_queue_create(5, count_free, &qf));
    CHECK_OK(pk_queue_create(3, count_free, &qe));
    for (size_t i = 0; i < 5; i++)
        CHECK_OK(pk_queue_push(qf, slot(i)));
    for (size_t i = 0; i < 2; i++) {
        void *it;
        CHECK_OK(pk_queue_pop(qf, &it));
        CHECK(it == slot(i));
    }
    CHECK_OK(pk_queue_push(qf, slot(5)));
    CHECK_OK(pk_queue_push(qf, slot(6)));
    struct gate g;
    gate_init(&g);
    struct crew crew = {0};
    enum { NP = 3, NC = 3 };
    struct caller prod[NP], cons[NC];
    const enum op push_ops[NP] = {OP_PUSH, OP_PUSH_TIMED, OP_PUSH_MANY};
    const enum op pop_ops[NC] = {OP_POP, OP_POP_TIMED, OP_POP_MANY};
    for (int i = 0; i < NP; i++) {
        prod[i] = caller_make(qf, &g, push_ops[i]);
        prod[i].items[0] = slot(10 + (size_t)i);
        prod[i].items[1] = slot(20);
        prod[i].n = 2;
        crew_start(&crew, caller_main, &prod[i]);
    }
    for (int i = 0; i < NC; i++) {
        cons[i] = caller_make(qe, &g, pop_ops[i]);
        cons[i].n = 4;
        cons[i].drain = 1;
        crew_start(&crew, caller_main, &cons[i]);
    }
    gate_wait(&g, crew.n);
    sleep_s(SETTLE_S);
    int left_before = gate_left(&g);

    /* free_item must run without the queue lock: it takes a stats snapshot of qf */
    double t_shut = now_s();
    atomic_store(&free_probe, qf);
    pk_queue_shutdown(qf);
    atomic_store(&free_probe, NULL);
    int freed_at_shutdown = atomic_load(&freed_total);
    pk_queue_shutdown(qe);
    pk_queue_shutdown(qf); /* idempotent: frees nothing more */
    pk_queue_close(qf);    /* and close after shutdown leaves it shut down */
    struct pk_queue_stats sf;
    pk_queue_get_stats(qf, &sf);
    crew_join(&crew);
    gate_destroy(&g);

    CHECK(!crew.failed);
    CHECK_EQ_INT(left_before, 0);
    CHECK_EQ_INT(freed_at_shutdown, 5); /* the leftovers are freed before shutdown returns */
    for (size_t i = 0; i < POOL; i++)
        CHECK_EQ_INT(atomic_load(&freed[i]), i >= 2 && i <= 6);
    CHECK_EQ_INT(atomic_load(&freed_total), 5);
    CHECK_EQ_INT(atomic_load(&freed_elsewhere), 0);
    CHECK_EQ_INT(sf.closed, 2);
    CHECK_EQ_INT(sf.dropped, 5);
    CHECK_EQ_INT(sf.length, 0);
    CHECK_EQ_INT(sf.pushed, 7);
    CHECK_EQ_INT(sf.popped, 2);
    for (int i = 0; i < NP; i++) {
        CHECK_EQ_INT(prod[i].rc, PK_ECLOSED);
        CHECK_EQ_INT(prod[i].got, 0);
        CHECK(prod[i].returned_at - t_shut < PROMPT_S);
    }
    for (int i = 0; i < NC; i++) {
        CHECK_EQ_INT(cons[i].rc, PK_ECLOSED);
        CHECK_EQ_INT(cons[i].got, 0);
        CHECK_EQ_INT(cons[i].bad, 0);
        CHECK(cons[i].returned_at - t_shut < PROMPT_S);
    }
    /* every call on a shut-down queue returns PK_ECLOSED at once */
    void *it;
    int st = 1;
    void *buf[2];
    CHECK_EQ_INT(pk_queue_pop(qf, &it), PK_ECLOSED);
    CHECK_EQ_INT(pk_queue_pop_timed(qf, &it, LONG_WAIT_S), PK_ECLOSED);
    CHECK_EQ_INT(pk_queue_pop_many(qf, buf, 2, &st), 0);
    CHECK_EQ_INT(st, PK_ECLOSED);
    CHECK_EQ_INT(pk_queue_push(qf, slot(40)), PK_ECLOSED);
    CHECK_EQ_INT(pk_queue_push_timed(qf, slot(40), LONG_WAIT_S), PK_ECLOSED);
    void *const two[] = {slot(40), slot(41)};
    st = 1;
    CHECK_EQ_INT(pk_queue_push_many(qf, two, 2, &st), 0);
    CHECK_EQ_INT(st, PK_ECLOSED);
    CHECK(now_s() - t_shut < 2 * PROMPT_S);
    CHECK_STATS(qe, 3, 0, 0, 0, 0, 0, 2);
    pk_queue_destroy(qf);
    pk_queue_destroy(qe);
    CHECK_EQ_INT(atomic_load(&freed_total), 5);
    return 0;
}

/* ---- many threads --------------------------------------------------------------------------- */

/* 4 producers x 3 consumers move MP_ITEMS distinct values 1..MP_ITEMS through a ring of MP_CAP
 * (prime, so bursts never line up with the ring). Producer p owns the contiguous range
 * [1 + p * MP_PER, 1 + (p + 1) * MP_PER) and pushes it in increasing order; FIFO order then means
 * every consumer sees each producer's values in increasing order. */
enum { MP_PRODUCERS = 4, MP_CONSUMERS = 3, MP_ITEMS = 200000, MP_CAP = 61, MP_BURST = 16 };
enum { MP_PER = MP_ITEMS / MP_PRODUCERS };
_Static_assert(MP_ITEMS % MP_PRODUCERS == 0, "producers split the values evenly");

static atomic_uchar mp_seen[MP_ITEMS + 1]; /* how often each value was popped (saturates) */
static atomic_int mp_producers_done;

struct mp_producer {
    struct pk_queue *q;
    uintptr_t first, end;
    uint64_t seed;
    int rc; /* PK_OK, or the first failing status */
};

struct mp_consumer {
    struct pk_queue *q;
    uint64_t seed, count, sum;
    uintptr_t last[MP_PRODUCERS]; /* the last value seen from each producer */
    int rc;                       /* PK_ECLOSED at the end, or the first unexpected status */
    uint64_t out_of_order, out_of_range, bad_batch;
};

static void *mp_produce(void *arg)
{
    struct mp_producer *p = arg;
    uint64_t s = p->seed;
    uintptr_t v = p->first;
    p->rc = PK_OK;
    while (v < p->end && p->rc == PK_OK) {
        size_t n = 1 + (size_t)check_below(&s, MP_BURST);
        if (n > p->end - v)
            n = p->end - v;
        switch (check_below(&s, 4)) {
        case 0:
            for (size_t i = 0; i < n && p->rc == PK_OK; i++)
                p->rc = pk_queue_push(p->q, val(v++));
            break;
        case 1:
            for (size_t i = 0; i < n && p->rc == PK_OK; i++)
                p->rc = pk_queue_push_timed(p->q, val(v++), LONG_WAIT_S);
            break;
        default: {
            void *buf[MP_BURST];
            for (size_t i = 0; i < n; i++)
                buf[i] = val(v + i);
            int st = PK_OK;
            size_t took = pk_queue_push_many(p->q, buf, n, &st);
            v += took;
            if (took != n)
                p->rc = st != PK_OK ? st : 1;
            break;
        }
        }
    }
    atomic_fetch_add(&mp_producers_done, 1);
    return NULL;
}

static void *mp_consume(void *arg)
{
    struct mp_consumer *c = arg;
    uint64_t s = c->seed;
    for (;;) {
        void *buf[MP_BURST];
        size_t n = 0, max = 1;
        int rc = 1;
        switch (check_below(&s, 3)) {
        case 0:
            rc = pk_queue_pop(c->q, &buf[0]);
            n = rc == PK_OK;
            break;
        case 1:
            rc = pk_queue_pop_timed(c->q, &buf[0], LONG_WAIT_S);
            n = rc == PK_OK;
            break;
        default:
            max = 1 + (size_t)check_below(&s, MP_BURST);
            n = pk_queue_pop_many(c->q, buf, max, &rc);
            if (n > max) {
                c->bad_batch++;
                n = max;
            }
            if (n > 0)
                rc = PK_OK;
            break;
        }
        if (rc != PK_OK) {
            c->rc = rc;
            return NULL;
        }
        for (size_t i = 0; i < n; i++) {
            uintptr_t v = unval(buf[i]);
            if (v < 1 || v > MP_ITEMS) {
                c->out_of_range++;
                continue;
            }
            if (atomic_load_explicit(&mp_seen[v], memory_order_relaxed) < 200)
                atomic_fetch_add_explicit(&mp_seen[v], 1, memory_order_relaxed);
            size_t p = (v - 1) / MP_PER;
            if (v <= c->last[p])
                c->out_of_order++;
            c->last[p] = v;
            c->count++;
            c->sum += v;
        }
    }
}

static int case_mpmc_no_loss_no_dup(void)
{
    WATCH();
    for (size_t v = 0; v <= MP_ITEMS; v++)
        atomic_store_explicit(&mp_seen[v], 0, memory_order_relaxed);
    atomic_store(&mp_producers_done, 0);
    struct pk_queue *q;
    CHECK_OK(pk_queue_create(MP_CAP, NULL, &q));
    struct mp_producer prod[MP_PRODUCERS];
    struct mp_consumer cons[MP_CONSUMERS];
    struct crew producers = {0}, consumers = {0};
    memset(cons, 0, sizeof cons);
    for (int i = 0; i < MP_CONSUMERS; i++) {
        cons[i].q = q;
        cons[i].seed = UINT64_C(0xc0ffee00) + (uint64_t)i;
        cons[i].rc = 1;
        crew_start(&consumers, mp_consume, &cons[i]);
    }
    for (int i = 0; i < MP_PRODUCERS; i++) {
        prod[i].q = q;
        prod[i].first = 1 + (uintptr_t)i * MP_PER;
        prod[i].end = prod[i].first + MP_PER;
        prod[i].seed = UINT64_C(0xfeed0000) + (uint64_t)i;
        prod[i].rc = 1;
        crew_start(&producers, mp_produce, &prod[i]);
    }
    /* Meanwhile every snapshot must be consistent: pushed = popped + length, length within
     * capacity, and the totals never decrease. Sampling every 2 ms keeps the lock free. */
    uint64_t last_pushed = 0, last_popped = 0, inconsistent = 0;
    while (atomic_load(&mp_producers_done) < producers.n) {
        struct pk_queue_stats s;
        pk_queue_get_stats(q, &s);
        inconsistent += s.pushed != s.popped + s.length || s.length > MP_CAP ||
                        s.max_length > MP_CAP || s.max_length < s.length || s.dropped != 0 ||
                        s.closed != 0 || s.pushed < last_pushed || s.popped < last_popped;
        last_pushed = s.pushed;
        last_popped = s.popped;
        sleep_s(0.002);
    }
    crew_join(&producers);
    pk_queue_close(q);
    crew_join(&consumers);

    CHECK(!producers.failed && !consumers.failed);
    CHECK_EQ_INT(inconsistent, 0);
    for (int i = 0; i < MP_PRODUCERS; i++)
        CHECK_OK(prod[i].rc);
    uint64_t count = 0, sum = 0;
    for (int i = 0; i < MP_CONSUMERS; i++) {
        CHECK_EQ_INT(cons[i].rc, PK_ECLOSED);
        CHECK_EQ_INT(cons[i].bad_batch, 0);
        CHECK_EQ_INT(cons[i].out_of_range, 0);
        CHECK_EQ_INT(cons[i].out_of_order, 0);
        count += cons[i].count;
        sum += cons[i].sum;
    }
    for (size_t v = 1; v <= MP_ITEMS; v++) {
        int n = atomic_load(&mp_seen[v]);
        if (n != 1)
            fprintf(stderr, "value %zu popped %d times\n", v, n);
        CHECK_EQ_INT(n, 1);
    }
    CHECK_EQ_INT(count, MP_ITEMS);
    CHECK_EQ_INT(sum, (uint64_t)MP_ITEMS * (MP_ITEMS + 1) / 2);
    struct pk_queue_stats s;
    pk_queue_get_stats(q, &s);
    CHECK_EQ_INT(s.pushed, MP_ITEMS);
    CHECK_EQ_INT(s.popped, MP_ITEMS);
    CHECK_EQ_INT(s.length, 0);
    CHECK(s.max_length >= 1 && s.max_length <= MP_CAP);
    CHECK_EQ_INT(s.closed, 1);
    pk_queue_destroy(q);
    return 0;
}

/* A consumer that pops with pop_many of varying max until PK_ECLOSED, keeping what it got. */
struct batch_consumer {
    struct pk_queue *q;
    uint64_t seed;
    void *got[32];
    size_t n, bad;
    int rc;
};

static void *batch_consume(void *arg)
{
    struct batch_consumer *c = arg;
    for (;;) {
        void *buf[8];
        size_t max = 1 + (size_t)check_below(&c->seed, 8);
        int st = 1;
        size_t n = pk_queue_pop_many(c->q, buf, max, &st);
        if (n == 0) {
            c->rc = st;
            return NULL;
        }
        if (n > max) {
            c->bad++;
            n = max;
        }
        for (size_t i = 0; i < n; i++) {
            if (c->n < 32)
                c->got[c->n] = buf[i];
            else
                c->bad++;
            c->n++;
        }
    }
}

static int case_batch_ops(void)
{
    WATCH();
    uint64_t s = UINT64_C(0x2545f4914f6cdd1d);
    void *items[23];
    for (size_t i = 0; i < 23; i++)
        items[i] = val((uintptr_t)(check_next_u64(&s) >> 16) | 1);

    /* push_many of 23 items into a ring of 5 blocks until the consumer makes room and takes
     * them all, in order; the consumer's pop_many calls return 1..max each */
    struct pk_queue *q;
    CHECK_OK(pk_queue_create(5, NULL, &q));
    struct batch_consumer bc;
    memset(&bc, 0, sizeof bc);
    bc.q = q;
    bc.seed = 77;
    bc.rc = 1;
    struct crew crew = {0};
    crew_start(&crew, batch_consume, &bc);
    int st = 1;
    size_t took = pk_queue_push_many(q, items, 23, &st);
    pk_queue_close(q);
    crew_join(&crew);
    CHECK(!crew.failed);
    CHECK_EQ_INT(took, 23);
    CHECK_EQ_INT(st, PK_OK);
    CHECK_EQ_INT(bc.rc, PK_ECLOSED);
    CHECK_EQ_INT(bc.bad, 0);
    CHECK_EQ_INT(bc.n, 23);
    for (size_t i = 0; i < 23; i++)
        CHECK(bc.got[i] == items[i]);
    CHECK_STATS(q, 5, 0, -1, 23, 23, 0, 1);
    pk_queue_destroy(q);

    /* pop_many returns between 1 and max and never more than is there; batches wrap the ring */
    CHECK_OK(pk_queue_create(7, NULL, &q));
    CHECK_EQ_INT(pk_queue_push_many(q, items, 5, NULL), 5);
    CHECK_EQ_INT(pk_queue_push_many(q, items, 0, NULL), 0); /* n = 0 takes nothing */
    void *buf[16];
    CHECK_EQ_INT(pk_queue_pop_many(q, buf, 1, NULL), 1);
    CHECK(buf[0] == items[0]);
    size_t next = 1;
    while (next < 5) {
        size_t max = next == 1 ? 3 : 10;
        size_t n = pk_queue_pop_many(q, buf, max, &st);
        CHECK(n >= 1 && n <= max && n <= 5 - next);
        for (size_t i = 0; i < n; i++)
            CHECK(buf[i] == items[next++]);
    }
    /* head is at 5 of 7: six items wrap */
    CHECK_EQ_INT(pk_queue_push_many(q, items + 5, 6, &st), 6);
    CHECK_STATS(q, 7, 6, 6, 11, 5, 0, 0);
    next = 5;
    while (next < 11) {
        size_t n = pk_queue_pop_many(q, buf, 16, NULL);
        CHECK(n >= 1 && n <= 11 - next);
        for (size_t i = 0; i < n; i++)
            CHECK(buf[i] == items[next++]);
    }
    /* a full queue: n = 0 still returns at once */
    CHECK_EQ_INT(pk_queue_push_many(q, items, 7, NULL), 7);
    CHECK_EQ_INT(pk_queue_push_many(q, items, 0, NULL), 0);
    pk_queue_close(q);
    for (next = 0; next < 7;) {
        size_t n = pk_queue_pop_many(q, buf, 3, NULL);
        CHECK(n >= 1 && n <= 3);
        for (size_t i = 0; i < n; i++)
            CHECK(buf[i] == items[next++]);
    }
    st = 1;
    CHECK_EQ_INT(pk_queue_pop_many(q, buf, 16, &st), 0);
    CHECK_EQ_INT(st, PK_ECLOSED);
    pk_queue_destroy(q);

    /* a push_many cut short by close: it takes what fits (3 into the 3 free slots), blocks,
     * and returns 3 with PK_ECLOSED; the caller keeps the other 3 */
    CHECK_OK(pk_queue_create(4, NULL, &q));
    CHECK_OK(pk_queue_push(q, items[0]));
    struct gate g;
    gate_init(&g);
    struct caller c = caller_make(q, &g, OP_PUSH_MANY);
    for (size_t i = 0; i < 6; i++)
        c.items[i] = items[1 + i];
    c.n = 6;
    crew_start(&crew, caller_main, &c);
    gate_wait(&g, crew.n);
    struct pk_queue_stats sq;
    for (;;) { /* bounded by the watchdog */
        pk_queue_get_stats(q, &sq);
        if (sq.length >= 4)
            break;
        sleep_s(0.001);
    }
    sleep_s(SETTLE_S);
    int left_before = gate_left(&g);
    pk_queue_close(q);
    crew_join(&crew);
    gate_destroy(&g);
    CHECK(!crew.failed);
    CHECK_EQ_INT(left_before, 0);
    CHECK_EQ_INT(c.got, 3);
    CHECK_EQ_INT(c.rc, PK_ECLOSED);
    for (next = 0; next < 4;) {
        size_t n = pk_queue_pop_many(q, buf, 16, &st);
        CHECK(n >= 1 && n <= 4 - next);
        for (size_t i = 0; i < n; i++)
            CHECK(buf[i] == items[next++]);
    }
    st = 1;
    CHECK_EQ_INT(pk_queue_pop_many(q, buf, 16, &st), 0);
    CHECK_EQ_INT(st, PK_ECLOSED);
    CHECK_STATS(q, 4, 0, 4, 4, 4, 0, 1);
    pk_queue_destroy(q);
    return 0;
}

static int case_stats_counters(void)
{
    WATCH();
    track_reset();
    struct pk_queue *q;
    CHECK_OK(pk_queue_create(4, count_free, &q));
    struct pk_queue_stats s;
    memset(&s, 0xa5, sizeof s);
    pk_queue_get_stats(q, &s);
    CHECK_EQ_INT(s.capacity, 4);
    CHECK_EQ_INT(s.length, 0);
    CHECK_EQ_INT(s.max_length, 0);
    CHECK_EQ_INT(s.pushed, 0);
    CHECK_EQ_INT(s.popped, 0);
    CHECK_EQ_INT(s.dropped, 0);
    CHECK(s.push_blocked_s == 0.0);
    CHECK(s.pop_blocked_s == 0.0);
    CHECK_EQ_INT(s.closed, 0);

    /* occupancy rises to 3, falls, rises to 4; max_length keeps the peak */
    void *it;
    for (size_t i = 0; i < 3; i++)
        CHECK_OK(pk_queue_push(q, slot(i)));
    CHECK_OK(pk_queue_pop(q, &it));
    CHECK_STATS(q, 4, 2, 3, 3, 1, 0, 0);
    CHECK_OK(pk_queue_push(q, slot(3)));
    CHECK_OK(pk_queue_push(q, slot(4)));
    CHECK_STATS(q, 4, 4, 4, 5, 1, 0, 0);
    for (size_t i = 0; i < 4; i++)
        CHECK_OK(pk_queue_pop(q, &it));
    CHECK_STATS(q, 4, 0, 4, 5, 5, 0, 0);
    pk_queue_get_stats(q, &s);
    CHECK(s.push_blocked_s == 0.0); /* no call has waited yet */
    CHECK(s.pop_blocked_s == 0.0);

    /* A consumer blocks on the empty queue until the main thread pushes, then a producer
     * blocks on the full queue until the main thread pops. Each blocked time must be positive
     * and at most the episode's length. A thread that had not yet reached its wait after
     * SETTLE_S would not block; the episode is then repeated (at most 5 times). */
    for (int pass = 0; pass < 2; pass++) {
        const int producer = pass == 1;
        double blocked = 0, episodes = 0, last_blocked = 0;
        int rc_main = PK_OK, rc_helper = PK_OK;
        for (int attempt = 0; attempt < 5 && blocked <= last_blocked; attempt++) {
            if (producer)
                for (size_t i = 0; i < 4; i++)
                    CHECK_OK(pk_queue_push(q, slot(10 + i)));
            struct gate g;
            gate_init(&g);
            struct crew crew = {0};
            struct caller c = caller_make(q, &g, producer ? OP_PUSH_TIMED : OP_POP_TIMED);
            c.items[0] = slot(20);
            double t0 = now_s();
            crew_start(&crew, caller_main, &c);
            gate_wait(&g, crew.n);
            sleep_s(SETTLE_S);
            if (producer)
                rc_main = pk_queue_pop(q, &it);
            else
                rc_main = pk_queue_push(q, slot(21));
            crew_join(&crew);
            gate_destroy(&g);
            double episode = now_s() - t0;
            episodes += episode;
            CHECK(!crew.failed);
            CHECK(episode < SETTLE_S + PROMPT_S); /* the helper was woken, not timed out */
            rc_helper = c.rc;
            CHECK_OK(rc_main);
            CHECK_OK(rc_helper);
            /* empty the queue again */
            for (;;) {
                void *buf[8];
                pk_queue_get_stats(q, &s);
                if (s.length == 0)
                    break;
                CHECK(pk_queue_pop_many(q, buf, 8, NULL) >= 1);
            }
            last_blocked = blocked;
            blocked = producer ? s.push_blocked_s : s.pop_blocked_s;
            if (!producer)
                CHECK(s.push_blocked_s == 0.0);
        }
        if (!(blocked > 0 && blocked <= episodes + 1e-3))
            fprintf(stderr, "%s blocked %g s over episodes of %g s\n", producer ? "push" : "pop",
                    blocked, episodes);
        CHECK(blocked > 0);
        CHECK(blocked <= episodes + 1e-3);
    }
    pk_queue_get_stats(q, &s);
    CHECK_EQ_INT(s.max_length, 4);
    CHECK_EQ_INT(s.pushed, s.popped);
    CHECK(s.pushed >= 5 + 2);
    CHECK_EQ_INT(atomic_load(&freed_total), 0);

    /* shutdown drops the leftovers: dropped counts them, popped does not */
    uint64_t pushed = s.pushed, popped = s.popped;
    CHECK_OK(pk_queue_push(q, slot(30)));
    CHECK_OK(pk_queue_push(q, slot(31)));
    CHECK_OK(pk_queue_push(q, slot(32)));
    CHECK_OK(pk_queue_pop(q, &it));
    CHECK(it == slot(30));
    pk_queue_shutdown(q);
    CHECK_STATS(q, 4, 0, 4, pushed + 3, popped + 1, 2, 2);
    CHECK_EQ_INT(atomic_load(&freed_total), 2);
    pk_queue_destroy(q);
    CHECK_EQ_INT(atomic_load(&freed_total), 2);
    CHECK_EQ_INT(atomic_load(&freed[31]) + atomic_load(&freed[32]), 2);
    return 0;
}

/* ---- create and destroy under load ---------------------------------------------------------- */

/* One cycle: a producer pushes slots 0..k-1 (singly or in bursts) and stops at PK_ECLOSED; a
 * consumer pops until PK_ECLOSED. mode 0: close after the producer is done; 1: close racing
 * both; 2: shutdown racing both; 3: no consumer, destroy with everything left. Every slot must
 * end up exactly once popped, freed by the queue, or kept by the producer. */
/* 2000 cycles take 0.2 s plain and 0.5 s under TSan on an idle machine. On a machine whose
 * cores are all busy, every hand-off between the two threads waits for a time slice, so the case
 * stops after STRESS_BUDGET_S once the first STRESS_MIN_CYCLES (every mode with every k) ran. */
enum { STRESS_CYCLES = 2000, STRESS_K = 7, STRESS_MIN_CYCLES = 4 * (STRESS_K + 1) * 4 };
#define STRESS_BUDGET_S 1.0

struct stress {
    struct pk_queue *q;
    size_t k, taken; /* producer: slots 0..taken-1 were accepted, the rest it keeps */
    int push_rc;     /* producer: PK_OK, or the status that stopped it */
    unsigned popped; /* consumer: bit i set when slot i was popped */
    int dup, pop_rc; /* consumer: a slot popped twice or out of range; the final status */
    uint64_t seed;
};

static void *stress_produce(void *arg)
{
    struct stress *x = arg;
    x->push_rc = PK_OK;
    while (x->taken < x->k && x->push_rc == PK_OK) {
        if (check_below(&x->seed, 2)) {
            x->push_rc = pk_queue_push(x->q, slot(x->taken));
            x->taken += x->push_rc == PK_OK;
        } else {
            void *buf[STRESS_K];
            size_t n = x->k - x->taken;
            for (size_t i = 0; i < n; i++)
                buf[i] = slot(x->taken + i);
            int st = PK_OK;
            size_t took = pk_queue_push_many(x->q, buf, n, &st);
            x->taken += took;
            if (took != n)
                x->push_rc = st != PK_OK ? st : 1;
        }
    }
    return NULL;
}

static void *stress_consume(void *arg)
{
    struct stress *x = arg;
    for (;;) {
        void *it = NULL;
        int rc = pk_queue_pop(x->q, &it);
        if (rc != PK_OK) {
            x->pop_rc = rc;
            return NULL;
        }
        size_t i = slot_of(it);
        if (i >= STRESS_K || (x->popped >> i & 1))
            x->dup = 1;
        else
            x->popped |= 1u << i;
    }
}

static int case_stress_create_destroy(void)
{
    WATCH();
    track_reset();
    const double t0 = now_s();
    int cycle = 0;
    for (; cycle < STRESS_CYCLES; cycle++) {
        if (cycle >= STRESS_MIN_CYCLES && now_s() - t0 > STRESS_BUDGET_S)
            break;
        const int mode = cycle % 4;
        struct stress x;
        memset(&x, 0, sizeof x);
        x.k = (size_t)(cycle / 4) % (STRESS_K + 1); /* 0..7 items, each k in every mode */
        x.seed = (uint64_t)cycle;
        x.pop_rc = 1;
        size_t cap = mode == 3 ? x.k + 1 : 1 + (size_t)cycle % 3;
        for (size_t i = 0; i < STRESS_K; i++)
            atomic_store(&freed[i], 0);
        CHECK_OK(pk_queue_create(cap, count_free, &x.q));
        struct crew crew = {0};
        crew_start(&crew, stress_produce, &x);
        if (mode != 3)
            crew_start(&crew, stress_consume, &x);
        if (mode == 0 && crew.n == 2) {
            pthread_join(crew.tid[0], NULL);
            pk_queue_close(x.q);
            pthread_join(crew.tid[1], NULL);
            crew.n = 0;
        } else if (mode == 1) {
            pk_queue_close(x.q);
        } else if (mode == 2) {
            pk_queue_shutdown(x.q);
        }
        crew_join(&crew);
        pk_queue_destroy(x.q);

        CHECK(!crew.failed);
        int ok = !x.dup && x.taken <= x.k;
        for (size_t i = 0; i < STRESS_K && ok; i++) {
            int popped = (int)(x.popped >> i & 1), nfreed = atomic_load(&freed[i]);
            int kept = i >= x.taken && i < x.k;
            ok = i < x.k ? popped + nfreed + kept == 1 : popped + nfreed == 0;
            ok = ok && (mode != 3 || i >= x.k || nfreed == 1);  /* destroy frees all */
            ok = ok && (mode == 2 || mode == 3 || nfreed == 0); /* close frees nothing */
        }
        ok = ok && (mode == 3 || x.pop_rc == PK_ECLOSED);
        ok = ok && (x.taken == x.k ? x.push_rc == PK_OK : x.push_rc == PK_ECLOSED);
        ok = ok && (mode != 0 || x.taken == x.k);
        if (!ok)
            fprintf(stderr,
                    "cycle %d mode %d k %zu cap %zu: taken %zu push_rc %d popped %#x pop_rc %d "
                    "dup %d\n",
                    cycle, mode, x.k, cap, x.taken, x.push_rc, x.popped, x.pop_rc, x.dup);
        CHECK(ok);
    }
    CHECK_EQ_INT(atomic_load(&freed_stray), 0);
    CHECK_EQ_INT(atomic_load(&freed_elsewhere), 0);
    return 0;
}

static const struct check_case cases[] = {
    {"push_pop_fifo", case_push_pop_fifo},
    {"create_invalid", case_create_invalid},
    {"full_blocks_then_times_out", case_full_blocks_then_times_out},
    {"empty_pop_times_out", case_empty_pop_times_out},
    {"close_drains_then_closed", case_close_drains_then_closed},
    {"destroy_frees_leftovers", case_destroy_frees_leftovers},
    {"close_wakes_all", case_close_wakes_all},
    {"shutdown_frees_leftovers", case_shutdown_frees_leftovers},
    {"mpmc_no_loss_no_dup", case_mpmc_no_loss_no_dup},
    {"batch_ops", case_batch_ops},
    {"stats_counters", case_stats_counters},
    {"stress_create_destroy", case_stress_create_destroy},
};

int main(int argc, char **argv)
{
    return CHECK_MAIN(cases);
}
