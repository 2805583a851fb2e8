/* SPDX-License-Identifier: MIT */
/* Multi-stage pipeline on pthreads: stages connected by bounded queues (parkit/queue.h), k
 * workers per stage. The first stage is the source: its workers are called with no input until
 * they report the end of the stream. End-of-stream then propagates on its own: when the last
 * worker of a stage finishes, the queue into the next stage is closed, so nobody counts
 * sentinels. The first error anywhere stops the whole pipeline (every queue is shut down, items
 * in flight are freed) and is reported with its stage and item. Returns statuses, never prints. */
#ifndef PARKIT_PIPELINE_H
#define PARKIT_PIPELINE_H

#include "parkit/status.h"

#include <stddef.h>
#include <stdint.h>

/* One call of a stage's work. Called by one of that stage's worker threads, no lock held, with
 * `ctx` shared by all of the stage's workers (the stage makes it thread-safe).
 * - Source (stage 0): `in` is NULL; return PK_OK with *out the next item, or PK_ECLOSED at the
 *   end of the stream (*out ignored).
 * - Other stages: `in` is an item the function now owns; return PK_OK with *out the item for the
 *   next stage (NULL: drop it; the last stage's outputs are freed with its free_item).
 * Any other status stops the pipeline; err (may be filled) says why. */
typedef int (*pk_stage_fn)(void *ctx, void *in, void **out, struct pk_err *err);

struct pk_stage {
    const char *name;
    int workers;           /* >= 1 */
    size_t queue_capacity; /* capacity of the queue feeding this stage (ignored for stage 0) */
    pk_stage_fn fn;
    void *ctx;
    void (*free_item)(void *); /* frees this stage's output items (NULL: nothing to free) */
};

struct pk_stage_report {
    uint64_t items;   /* calls that returned PK_OK (source: items produced) */
    double busy_s;    /* time inside fn, summed over the stage's workers */
    double blocked_s; /* time waiting for input or for room downstream, summed */
    size_t max_queue; /* highest occupancy of the queue feeding the stage */
    size_t queue_capacity;
};

struct pk_pipeline_report {
    double wall_s;
    int status;           /* PK_OK, or the first error */
    size_t failed_stage;  /* with status != PK_OK: the stage that failed */
    uint64_t failed_item; /* ... and the ordinal (from 1) of the item it was working on */
    char message[256];    /* ... and what it said */
};

/* Runs the pipeline to completion: the end of the source's stream, or the first error.
 * stage_reports (may be NULL) receives nstages reports. Returns report->status; on an error
 * err (may be NULL) also says "stage NAME, item K: MESSAGE". PK_EINVAL for a bad definition
 * (no stage, a stage without workers or function, a queue of capacity 0). */
int pk_pipeline_run(const struct pk_stage *stages, size_t nstages,
                    struct pk_stage_report *stage_reports, struct pk_pipeline_report *report,
                    struct pk_err *err);

#endif
