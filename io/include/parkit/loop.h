/* SPDX-License-Identifier: MIT */
/* Event-loop engine: many waits on few threads, beside the thread pool (parkit/pool.h). Where the
 * pool gives each waiting task a thread, the engine runs N loop threads (libuv), each holding
 * thousands of waits at once: timers of nanosecond precision (a timerfd per loop under one
 * min-heap; libuv's own timers round to milliseconds) and whatever a task parks on (sockets, a
 * libcurl multi handle) through its loop.
 *
 * A task is a small state machine, run on its loop's thread: its step function is called when
 * the task starts and again each time the wait it asked for is over, until it returns a final
 * status. The pool's semantics are kept: every submission returns a handle to wait on (with a
 * timeout), fetch the result or error from, or cancel; results pass over once; an error nobody
 * fetched is counted at shutdown; a deadline ends a task that runs too long; finished tasks are
 * pushed on a pk_queue (as_completed). At most max_inflight tasks are started at once (the rest
 * wait their turn in submission order), so a million submissions cost memory, not sockets.
 *
 * Threads: pk_loop_create, _submit, _shutdown, _destroy and the pk_ltask_* functions are
 * thread-safe; the pk_lctx_* functions, pk_ltask_resume and every callback run on the loop
 * thread that owns the task, with no engine lock held. */
#ifndef PARKIT_LOOP_H
#define PARKIT_LOOP_H

#include "parkit/queue.h"
#include "parkit/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pk_loop;
struct pk_ltask;
struct pk_lctx; /* a task's view of its loop, valid during a callback */

/* What a step returns besides a final PK_* status (PK_OK or a negative error). */
enum {
    PK_STEP_SLEEP = 1, /* call me again after *sleep_s seconds */
    PK_STEP_PARK = 2,   /* call me again when someone calls pk_ltask_resume (a socket's
                         * callback, say) */
};

/* One step of a task, on its loop thread. Returns PK_STEP_SLEEP (with *sleep_s >= 0),
 * PK_STEP_PARK, or a final status: on PK_OK *result (initially NULL) goes to whoever waits; on
 * another status err (zeroed) may say why. */
typedef int (*pk_step_fn)(void *arg, struct pk_lctx *ctx, double *sleep_s, void **result,
                          struct pk_err *err);
/* Called instead of the next step when a started task (asleep or parked) is cancelled or
 * passes its deadline, so that it can let go of what it holds (remove its socket from the
 * loop, say). May be NULL. */
typedef void (*pk_abort_fn)(void *arg, struct pk_lctx *ctx);

struct pk_ltask_ops {
    pk_step_fn step;
    pk_abort_fn abort;
};

/* Per loop thread: init runs on the thread before any task (its return != PK_OK fails
 * pk_loop_create), fini after the last; *state is what pk_lctx_state returns there. Either may
 * be NULL. */
struct pk_loop_hooks {
    int (*init)(void *hook_arg, struct pk_lctx *ctx, void **state);
    void (*fini)(void *hook_arg, void *state);
    void *hook_arg;
};

/* On success *out owns an engine of nthreads (1..256) loop threads that together run at most
 * max_inflight (0: no bound) tasks at once. hooks may be NULL. */
int pk_loop_create(int nthreads, size_t max_inflight, const struct pk_loop_hooks *hooks,
                   struct pk_loop **out);
/* Stops accepting work. Without cancel_pending, submitted tasks still run to their end; with it,
 * tasks not started finish PK_ECANCELED and running ones are aborted (PK_ECANCELED). Then joins
 * the loop threads. *unfetched_errors (may be NULL): failed tasks whose error was never fetched.
 * Idempotent. */
int pk_loop_shutdown(struct pk_loop *l, bool cancel_pending, uint64_t *unfetched_errors);
/* Shuts down (letting submitted tasks finish) if not done, then frees the engine. Task handles
 * still held stay valid until released. NULL ok. */
void pk_loop_destroy(struct pk_loop *l);

/* Queues a task (ops is not copied: it must outlive the task). The engine spreads tasks over its
 * threads in turn. deadline_s > 0 ends the task with PK_ETIMEDOUT that many seconds after
 * submission. done (may be NULL): the handle is pushed there (with its own reference, released by
 * whoever pops it) when the task finishes. On PK_OK *out is a handle the caller releases;
 * PK_ECLOSED after shutdown; PK_EINVAL; PK_ENOMEM. */
int pk_loop_submit(struct pk_loop *l, const struct pk_ltask_ops *ops, void *arg,
                   double deadline_s, struct pk_queue *done, struct pk_ltask **out);
/* Queues n tasks at once, args[i] each, the same ops, deadline and done queue: one lock and one
 * wake-up per loop thread for all of them, which is what makes 100,000 submissions cheap. out[i]
 * as pk_loop_submit's. PK_ECLOSED when a shutdown began meanwhile: the tasks whose out[i] is
 * NULL were not queued; PK_EINVAL and PK_ENOMEM queue none. */
int pk_loop_submit_many(struct pk_loop *l, const struct pk_ltask_ops *ops, void *const *args,
                        size_t n, double deadline_s, struct pk_queue *done,
                        struct pk_ltask **out);

/* As pk_future_wait: waits at most timeout_s (< 0: forever); PK_ETIMEDOUT if not finished, else
 * the task's status. On PK_OK *result (may be NULL) gets the result the first time only; on an
 * error err (may be NULL) gets its message and the error counts as fetched. */
int pk_ltask_wait(struct pk_ltask *t, double timeout_s, void **result, struct pk_err *err);
/* True once the task has finished (or was cancelled). */
bool pk_ltask_done(struct pk_ltask *t);
/* Cancels: PK_OK when the task had not started (it never will); PK_EINVAL when it had finished;
 * PK_ECLOSED when it is running: its loop aborts it (PK_ECANCELED) shortly after. */
int pk_ltask_cancel(struct pk_ltask *t);
/* The argument it was submitted with. */
void *pk_ltask_arg(const struct pk_ltask *t);
/* Drops the caller's reference. NULL ok. */
void pk_ltask_release(struct pk_ltask *t);
/* pk_ltask_release for a void pointer: the free_item of a done queue. */
void pk_ltask_release_item(void *t);

/* Loop thread only: calls a parked task's step again (from a socket callback, say). */
void pk_ltask_resume(struct pk_ltask *t);
/* Loop thread only, during a callback: the task itself, the libuv loop (uv_loop_t *), the
 * thread's hook state, and the thread's index. */
struct pk_ltask *pk_lctx_task(struct pk_lctx *ctx);
void *pk_lctx_uv(struct pk_lctx *ctx);
void *pk_lctx_state(struct pk_lctx *ctx);
int pk_lctx_index(const struct pk_lctx *ctx);

struct pk_loop_stats {
    uint64_t submitted, finished, max_inflight_seen;
    int nthreads;
};
void pk_loop_get_stats(struct pk_loop *l, struct pk_loop_stats *s);

#endif
