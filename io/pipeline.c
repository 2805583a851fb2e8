/* SPDX-License-Identifier: MIT */
/* Pipeline of pthread stages over bounded queues; see parkit/pipeline.h.
 *
 * queue[s] feeds stage s (s >= 1) and holds stage s-1's outputs, so it frees leftovers with
 * stage s-1's free_item. A stage's last worker to leave closes the queue into the next stage:
 * that is the end-of-stream. The first failure shuts every queue down, which wakes every worker
 * (push and pop return PK_ECLOSED) and frees what was queued; sources stop producing. Blocked
 * time comes from the queues' own counters; busy time is measured around each call. */
#include "parkit/pipeline.h"

#include "mutex.h"
#include "parkit/clock.h"
#include "parkit/queue.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct run {
    const struct pk_stage *stage;
    size_t n;
    struct pk_queue **queue; /* queue[s] feeds stage s; queue[0] is NULL */
    _Atomic uint64_t *taken; /* items each stage has started on (ordinals for error reports) */
    atomic_bool failed;      /* set once by the first failure; sources poll it */
    /* lock guards active, busy_s, items and the first-error fields below. */
    pthread_mutex_t lock;
    int *active; /* workers of each stage still running */
    double *busy_s;
    uint64_t *items;
    int status;
    size_t failed_stage;
    uint64_t failed_item;
    char message[256];
    bool lock_made; /* lock was initialised (run_free destroys it) */
};

struct worker {
    struct run *run;
    size_t s;
    pthread_t thread;
    bool started;
};

/* A worker of stage s leaves with its figures; the last one out closes the queue into the next
 * stage: that is its end of stream. */
static void leave_stage(struct run *r, size_t s, double busy, uint64_t items)
{
    pthread_mutex_lock(&r->lock);
    r->busy_s[s] += busy;
    r->items[s] += items;
    bool last = --r->active[s] == 0;
    pthread_mutex_unlock(&r->lock);
    if (last && s + 1 < r->n)
        pk_queue_close(r->queue[s + 1]);
}

/* Records the first failure and stops everything. Called from any worker, lock not held. */
static void fail(struct run *r, size_t s, uint64_t item, int status, const char *msg)
{
    pthread_mutex_lock(&r->lock);
    bool first = r->status == PK_OK;
    if (first) {
        r->status = status;
        r->failed_stage = s;
        r->failed_item = item;
        snprintf(r->message, sizeof r->message, "%s", msg && *msg ? msg : pk_strerror(status));
    }
    pthread_mutex_unlock(&r->lock);
    if (!first)
        return;
    atomic_store(&r->failed, true);
    for (size_t i = 1; i < r->n; i++)
        pk_queue_shutdown(r->queue[i]);
}

static void *work(void *arg)
{
    struct worker *w = arg;
    struct run *r = w->run;
    size_t s = w->s;
    const struct pk_stage *st = &r->stage[s];
    struct pk_queue *in = s > 0 ? r->queue[s] : NULL;
    struct pk_queue *out = s + 1 < r->n ? r->queue[s + 1] : NULL;
    double busy = 0;
    uint64_t items = 0;
    for (;;) {
        void *item = NULL, *product = NULL;
        if (in) {
            if (pk_queue_pop(in, &item) != PK_OK)
                break; /* closed and drained (end of stream) or shut down (failure) */
        } else if (atomic_load(&r->failed)) {
            break;
        }
        uint64_t ordinal = atomic_fetch_add(&r->taken[s], 1) + 1;
        struct pk_err err = {0};
        double t0 = pk_now_s();
        int rc = st->fn(st->ctx, item, &product, &err);
        busy += pk_now_s() - t0;
        if (rc == PK_ECLOSED && !in) {
            atomic_fetch_sub(&r->taken[s], 1); /* the end of the stream is not an item */
            break;
        }
        if (rc != PK_OK) {
            fail(r, s, ordinal, rc, err.msg);
            break;
        }
        items++;
        if (!product)
            continue;
        if (!out) {
            if (st->free_item)
                st->free_item(product); /* the sink's outputs end here */
        } else if (pk_queue_push(out, product) != PK_OK) {
            if (st->free_item)
                st->free_item(product); /* shut down after a failure elsewhere */
            break;
        }
    }
    leave_stage(r, s, busy, items);
    return NULL;
}

static int check(const struct pk_stage *stages, size_t n)
{
    if (!stages || n == 0)
        return PK_EINVAL;
    for (size_t s = 0; s < n; s++)
        if (stages[s].workers < 1 || !stages[s].fn || (s > 0 && stages[s].queue_capacity == 0))
            return PK_EINVAL;
    return PK_OK;
}

/* The run's arrays, queues and lock for stages[0, n). */
static int run_init(struct run *r, const struct pk_stage *stages, size_t n)
{
    *r = (struct run){.stage = stages, .n = n, .status = PK_OK};
    r->queue = calloc(n, sizeof *r->queue);
    r->taken = calloc(n, sizeof *r->taken);
    r->active = calloc(n, sizeof *r->active);
    r->busy_s = calloc(n, sizeof *r->busy_s);
    r->items = calloc(n, sizeof *r->items);
    int status = r->queue && r->taken && r->active && r->busy_s && r->items ? PK_OK : PK_ENOMEM;
    for (size_t s = 1; s < n && status == PK_OK; s++)
        status = pk_queue_create(stages[s].queue_capacity, stages[s - 1].free_item, &r->queue[s]);
    if (status == PK_OK && pk_mutex_init(&r->lock) != 0)
        status = PK_ENOMEM;
    r->lock_made = status == PK_OK;
    atomic_init(&r->failed, false);
    for (size_t s = 0; status == PK_OK && s < n; s++)
        r->active[s] = stages[s].workers;
    return status;
}

static void run_free(struct run *r)
{
    if (r->lock_made)
        pthread_mutex_destroy(&r->lock);
    for (size_t s = 1; r->queue && s < r->n; s++)
        pk_queue_destroy(r->queue[s]);
    free(r->queue);
    free(r->taken);
    free(r->active);
    free(r->busy_s);
    free(r->items);
}

/* Every stage's workers into w, then waits for them all. A worker that cannot start fails the
 * run and leaves its stage as if it had run. */
static void run_workers(struct run *r, struct worker *w, size_t nworkers)
{
    size_t k = 0;
    for (size_t s = 0; s < r->n; s++) {
        for (int i = 0; i < r->stage[s].workers; i++, k++) {
            w[k] = (struct worker){.run = r, .s = s};
            if (pthread_create(&w[k].thread, NULL, work, &w[k]) == 0) {
                w[k].started = true;
                continue;
            }
            leave_stage(r, s, 0, 0);
            fail(r, s, 0, PK_ENOMEM, "cannot start a worker thread");
        }
    }
    for (k = 0; k < nworkers; k++)
        if (w[k].started)
            pthread_join(w[k].thread, NULL);
}

static void fill_stage_reports(const struct run *r, struct pk_stage_report *reports)
{
    for (size_t s = 0; s < r->n; s++) {
        struct pk_queue_stats in = {0}, out = {0};
        if (s > 0)
            pk_queue_get_stats(r->queue[s], &in);
        if (s + 1 < r->n)
            pk_queue_get_stats(r->queue[s + 1], &out);
        reports[s] = (struct pk_stage_report){.items = r->items[s],
                                              .busy_s = r->busy_s[s],
                                              .blocked_s = in.pop_blocked_s + out.push_blocked_s,
                                              .max_queue = in.max_length,
                                              .queue_capacity = in.capacity};
    }
}

int pk_pipeline_run(const struct pk_stage *stages, size_t nstages,
                    struct pk_stage_report *stage_reports, struct pk_pipeline_report *report,
                    struct pk_err *err)
{
    struct pk_pipeline_report rep = {.status = PK_OK};
    struct run r = {0};
    struct worker *w = NULL;
    size_t nworkers = 0;
    int status = check(stages, nstages);
    if (status != PK_OK) {
        rep.status = pk_fail(err, PK_EINVAL, "invalid pipeline definition");
        goto out;
    }
    for (size_t s = 0; s < nstages; s++)
        nworkers += (size_t)stages[s].workers;
    w = calloc(nworkers, sizeof *w);
    status = run_init(&r, stages, nstages);
    if (status == PK_OK && !w)
        status = PK_ENOMEM;
    if (status != PK_OK) {
        rep.status = pk_fail(err, status, "cannot set up the pipeline: %s", pk_strerror(status));
        free(w);
        goto out;
    }
    double t0 = pk_now_s();
    run_workers(&r, w, nworkers);
    free(w);
    rep.wall_s = pk_now_s() - t0;
    rep.status = r.status;
    rep.failed_stage = r.failed_stage;
    rep.failed_item = r.failed_item;
    snprintf(rep.message, sizeof rep.message, "%s", r.message);
    if (r.status != PK_OK)
        pk_fail(err, r.status, "stage %s, item %llu: %s",
                stages[r.failed_stage].name ? stages[r.failed_stage].name : "?",
                (unsigned long long)r.failed_item, r.message);
    if (stage_reports)
        fill_stage_reports(&r, stage_reports);
out:
    run_free(&r);
    if (report)
        *report = rep;
    return rep.status;
}
