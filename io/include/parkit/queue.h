/* SPDX-License-Identifier: MIT */
/* Bounded multi-producer multi-consumer queue of opaque items, the link between pthread stages
 * (readers, workers, writers). A fixed ring of `capacity` slots under one mutex with two
 * condition variables; batched push/pop move many items per lock acquisition, which is what
 * makes millions of items per second possible with several consumers.
 *
 * Life cycle: open -> closed (pk_queue_close: producers get PK_ECLOSED, consumers drain what is
 * left and then get PK_ECLOSED) or -> shut down (pk_queue_shutdown: leftovers are freed with
 * free_item at once and every call returns PK_ECLOSED). Every function is thread-safe. */
#ifndef PARKIT_QUEUE_H
#define PARKIT_QUEUE_H

#include "parkit/status.h"

#include <stddef.h>
#include <stdint.h>

struct pk_queue;

/* On success *out owns a new queue (pk_queue_destroy frees it); on failure *out is NULL.
 * capacity >= 1. free_item (may be NULL) frees items the queue still holds at shutdown or
 * destroy; it is called from the thread that shuts down or destroys, with no lock held (only
 * when memory for the list of leftovers cannot be had are they freed under the lock). */
int pk_queue_create(size_t capacity, void (*free_item)(void *), struct pk_queue **out);
/* Frees leftover items with free_item, then the queue. NULL ok. No thread may still use q. */
void pk_queue_destroy(struct pk_queue *q);

/* Blocks while full. On PK_OK the queue owns item; on PK_ECLOSED the caller still does. */
int pk_queue_push(struct pk_queue *q, void *item);
/* As push, waiting at most timeout_s seconds (PK_ETIMEDOUT; the caller still owns item). */
int pk_queue_push_timed(struct pk_queue *q, void *item, double timeout_s);
/* Blocks while empty. On PK_OK the caller owns *item; PK_ECLOSED once closed and drained. */
int pk_queue_pop(struct pk_queue *q, void **item);
/* As pop, waiting at most timeout_s seconds (PK_ETIMEDOUT, *item NULL). */
int pk_queue_pop_timed(struct pk_queue *q, void **item, double timeout_s);

/* Pushes items[0..n) in order, blocking while full, as many per lock acquisition as fit.
 * Returns how many the queue took: n with *status PK_OK, or fewer when it was closed (*status
 * PK_ECLOSED; the caller still owns the rest). status may be NULL. */
size_t pk_queue_push_many(struct pk_queue *q, void *const *items, size_t n, int *status);
/* Pops between 1 and max items into items[], blocking until at least one is there. Returns the
 * number popped; 0 with *status PK_ECLOSED once closed and drained (PK_EINVAL for max 0).
 * status may be NULL. */
size_t pk_queue_pop_many(struct pk_queue *q, void **items, size_t max, int *status);

/* No more pushes: blocked and later producers get PK_ECLOSED; consumers drain, then get
 * PK_ECLOSED. Wakes every waiter. Idempotent. */
void pk_queue_close(struct pk_queue *q);
/* Close and drop: leftover items are freed with free_item, every waiter wakes with
 * PK_ECLOSED. Idempotent. */
void pk_queue_shutdown(struct pk_queue *q);

struct pk_queue_stats {
    size_t capacity, length, max_length;  /* max_length: the highest occupancy seen */
    uint64_t pushed, popped, dropped;     /* dropped: freed by shutdown or destroy */
    double push_blocked_s, pop_blocked_s; /* total time callers waited, over all threads */
    int closed;                           /* 0 open, 1 closed, 2 shut down */
};
/* A consistent snapshot of the counters. */
void pk_queue_get_stats(struct pk_queue *q, struct pk_queue_stats *s);

#endif
