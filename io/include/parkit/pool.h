/* SPDX-License-Identifier: MIT */
/* Thread pool with futures: Python's ThreadPoolExecutor semantics at native cost. A fixed number
 * of pre-started threads runs submitted tasks in submission order; each submission returns a
 * future to wait on (with a timeout), fetch the result or the error from, or cancel.
 *
 * - An error is never lost: a failed task whose error nobody fetched (pk_future_wait) is counted
 *   and the count is returned by pk_pool_shutdown.
 * - Cancellation is cooperative: every task gets a token it can poll (pk_cancel_requested) or
 *   sleep on (pk_cancel_sleep, which wakes at once on cancel). A deadline cancels the token when
 *   it passes. A future cancelled before it started never runs.
 * - Completion order: submit with a pk_queue and the future is pushed there when it completes
 *   (as_completed). pk_futures_wait waits for the first completed, the first error, or all.
 * - pk_pool_map runs a function over N inputs with at most `window` in flight and hands the
 *   results over in input order, so memory stays bounded for any N.
 * Every function is thread-safe. */
#ifndef PARKIT_POOL_H
#define PARKIT_POOL_H

#include "parkit/queue.h"
#include "parkit/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pk_pool;
struct pk_future;
struct pk_cancel;

/* A task. Runs on a pool thread with no lock held. On PK_OK, *result (initially NULL) goes to
 * whoever waits on the future; on any other status, err (zeroed) may say why. cancel is valid
 * for the duration of the call. */
typedef int (*pk_task_fn)(void *arg, struct pk_cancel *cancel, void **result, struct pk_err *err);

/* On success *out owns a pool of nthreads (1..16384) threads, every one running when it returns
 * (so that a clock started after it times tasks, not thread start-up); on failure *out is NULL. */
int pk_pool_create(int nthreads, struct pk_pool **out);
/* Stops accepting work. Without cancel_pending, queued tasks still run; with it, queued tasks are
 * cancelled (PK_ECANCELED) and running ones get their tokens cancelled. Then waits for every
 * thread. *unfetched_errors (may be NULL) = failed tasks whose error was never fetched, counting
 * futures still held by the caller. Idempotent. Returns PK_OK. */
int pk_pool_shutdown(struct pk_pool *p, bool cancel_pending, uint64_t *unfetched_errors);
/* Shuts down (waiting for queued work) if not done, then frees the pool. Futures still held stay
 * valid until released. NULL ok. */
void pk_pool_destroy(struct pk_pool *p);

/* Queues fn(arg). deadline_s > 0 cancels the task's token that many seconds after submission.
 * done (may be NULL): the future is pushed there (with its own reference, which the consumer
 * releases) when it completes or is cancelled; give it room for every such future or drain it
 * concurrently. On PK_OK *out is a future the caller releases with pk_future_release;
 * PK_ECLOSED after shutdown; PK_ENOMEM. */
int pk_pool_submit(struct pk_pool *p, pk_task_fn fn, void *arg, double deadline_s,
                   struct pk_queue *done, struct pk_future **out);

/* Waits at most timeout_s (< 0: forever) for f to finish: PK_ETIMEDOUT if it has not, else the
 * task's status (PK_ECANCELED when cancelled before it ran). On PK_OK, *result (may be NULL)
 * receives the result, which passes to the caller the first time only (NULL after); on an error
 * err (may be NULL) gets its message and the error counts as fetched. */
int pk_future_wait(struct pk_future *f, double timeout_s, void **result, struct pk_err *err);
/* True once f has finished or was cancelled. */
bool pk_future_done(struct pk_future *f);
/* Cancels f: PK_OK when it had not started (it will never run; waiters get PK_ECANCELED);
 * PK_EINVAL when it had already finished; when it is running, its token is cancelled and
 * PK_ECLOSED is returned: the task decides when to stop. */
int pk_future_cancel(struct pk_future *f);
/* Drops the caller's reference. NULL ok. */
void pk_future_release(struct pk_future *f);
/* pk_future_release for a void pointer: the free_item of a done queue, so that destroying the
 * queue releases the futures nobody popped (after Ctrl-C, say). */
void pk_future_release_item(void *f);

/* True when the task's token was cancelled or its deadline passed. Callable from the task. */
bool pk_cancel_requested(const struct pk_cancel *c);
/* Sleeps seconds: PK_OK after the full time, PK_ECANCELED as soon as the token is cancelled or
 * its deadline passes. */
int pk_cancel_sleep(struct pk_cancel *c, double seconds);

enum pk_wait_mode { PK_WAIT_FIRST, PK_WAIT_FIRST_ERROR, PK_WAIT_ALL };
/* Waits at most timeout_s (< 0: forever) over f[0..n): FIRST returns when any is done (*index =
 * its position); FIRST_ERROR when any finished with an error (*index) or all are done (*index =
 * n); ALL when all are done (*index = n). PK_OK, or PK_ETIMEDOUT. Futures of one pool only. */
int pk_futures_wait(struct pk_future *const *f, size_t n, enum pk_wait_mode mode, double timeout_s,
                    size_t *index);

/* Receives map results in input order, on the caller's thread; result ownership passes to it.
 * A non-zero return stops the map with that status. */
typedef int (*pk_map_sink)(void *ctx, size_t index, void *result);
/* Runs fn(inputs[i]) for i < n with at most window (>= 1) tasks in flight and gives each result
 * to sink in input order. The first failure (a task's or the sink's) cancels what is in flight
 * and is returned, with *failed_index (may be NULL) and err (may be NULL) saying which and why.
 * Results of tasks still in flight at a failure are dropped unseen: tasks that allocate results
 * should poll their token so that cancelled ones return PK_ECANCELED without one. */
int pk_pool_map(struct pk_pool *p, pk_task_fn fn, void *const *inputs, size_t n, size_t window,
                pk_map_sink sink, void *ctx, size_t *failed_index, struct pk_err *err);

#endif
