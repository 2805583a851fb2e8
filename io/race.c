/* SPDX-License-Identifier: MIT */
/* The shared counter of parkit/race.h. The threads spin on one start flag, so that they start
 * counting within nanoseconds of each other: woken one by one from a condition variable, the
 * first would be done before the last woke, and nothing would race. The clock runs from that
 * flag to the last join. */
#include "parkit/race.h"

#include "mutex.h"
#include "parkit/clock.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

/* The start: each thread adds itself to ready, then spins while go is 0; go turns 1 once all
 * are ready (count), or -1 when a thread could not be made (give up). */
struct race {
    enum pk_race_way way;
    uint64_t increments;
    _Atomic uint64_t counter; /* unlocked and atomic ways */
    uint64_t locked;          /* mutex way: guarded by lock */
    pthread_mutex_t lock;
    _Atomic int ready, go;
};

struct worker {
    struct race *r;
    uint64_t local; /* thread-local way: this thread's count, merged after the join */
};

/* Spins, yielding the core now and then: with more threads than cores the others must run to
 * get ready. */
static void spin_until(_Atomic int *v, int at_least)
{
    for (unsigned i = 1; atomic_load(v) < at_least; i++)
        if (i % 1024 == 0)
            sched_yield();
}

static bool wait_start(struct race *r)
{
    atomic_fetch_add(&r->ready, 1);
    int go;
    for (unsigned i = 1; (go = atomic_load(&r->go)) == 0; i++)
        if (i % 1024 == 0)
            sched_yield();
    return go > 0;
}

/* One thread's increments; called on its own thread, no lock held. */
static void *count(void *arg)
{
    struct worker *w = arg;
    struct race *r = w->r;
    if (!wait_start(r))
        return NULL;
    uint64_t n = r->increments, mine = 0;
    switch (r->way) {
    case PK_RACE_UNLOCKED: /* read, then write back plus one: another thread may write between */
        for (uint64_t i = 0; i < n; i++) {
            uint64_t v = atomic_load_explicit(&r->counter, memory_order_relaxed);
            atomic_store_explicit(&r->counter, v + 1, memory_order_relaxed);
        }
        break;
    case PK_RACE_MUTEX:
        for (uint64_t i = 0; i < n; i++) {
            pthread_mutex_lock(&r->lock);
            r->locked++;
            pthread_mutex_unlock(&r->lock);
        }
        break;
    case PK_RACE_ATOMIC:
        for (uint64_t i = 0; i < n; i++)
            atomic_fetch_add_explicit(&r->counter, 1, memory_order_relaxed);
        break;
    case PK_RACE_LOCAL:
        /* the empty asm keeps one real add per increment: the compiler would fold the loop */
        for (uint64_t i = 0; i < n; i++) {
            mine++;
            __asm__ volatile("" : "+r"(mine));
        }
        w->local = mine;
        break;
    }
    return NULL;
}

int pk_race_run(enum pk_race_way way, int nthreads, uint64_t increments, struct pk_race_result *out,
                struct pk_err *err)
{
    if (nthreads < 1 || way < PK_RACE_UNLOCKED || way > PK_RACE_LOCAL)
        return pk_fail(err, PK_EINVAL, "race: %d threads, way %d", nthreads, (int)way);
    struct race r = {.way = way, .increments = increments};
    struct worker *w = calloc((size_t)nthreads, sizeof *w);
    pthread_t *tid = calloc((size_t)nthreads, sizeof *tid);
    if (!w || !tid) {
        free(w);
        free(tid);
        return pk_fail(err, PK_ENOMEM, "race: out of memory for %d threads", nthreads);
    }
    pk_mutex_init(&r.lock);
    int made = 0, rc = PK_OK;
    for (; made < nthreads; made++) {
        w[made].r = &r;
        if (pthread_create(&tid[made], NULL, count, &w[made]) != 0) {
            rc = pk_fail(err, PK_ENOMEM, "race: cannot start thread %d of %d", made + 1, nthreads);
            break;
        }
    }
    if (rc == PK_OK)
        spin_until(&r.ready, made);
    double t0 = pk_now_s();
    atomic_store(&r.go, rc == PK_OK ? 1 : -1);
    for (int i = 0; i < made; i++)
        pthread_join(tid[i], NULL);
    out->time_s = pk_now_s() - t0;
    out->count = way == PK_RACE_MUTEX ? r.locked : atomic_load(&r.counter);
    for (int i = 0; way == PK_RACE_LOCAL && i < made; i++)
        out->count += w[i].local; /* the merge: once per thread, after the join */
    pthread_mutex_destroy(&r.lock);
    free(w);
    free(tid);
    return rc;
}
