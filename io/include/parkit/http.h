/* SPDX-License-Identifier: MIT */
/* HTTP(S) GET client on libcurl's easy interface, for worker threads.
 *
 * - One client (struct pk_http) per worker: libcurl forbids sharing an easy handle between
 *   threads, and a client kept for a whole run reuses its live connections and DNS results the
 *   way a browser or curl would.
 * - pk_http_get makes one request with every attempt it needs: transient failures (connect
 *   errors, timeouts, truncated replies, HTTP 408, 429 and 5xx) are retried after an
 *   exponential backoff, or after the wait a Retry-After header asks for.
 * - Only http and https are spoken, for the first request and for every redirect, and at most
 *   max_redirects redirects are followed.
 * - The body goes to a caller's sink, to a file saved atomically (io/atomicfile: an unnamed or
 *   exclusive temporary in the target's directory, published when the request succeeded,
 *   removed otherwise), or nowhere; its length and CRC-32 are always measured.
 * - Errors are a status plus a message naming the URL's trouble (struct pk_err). Nothing here
 *   prints.
 * Thread-safety is stated per function. */
#ifndef PARKIT_HTTP_H
#define PARKIT_HTTP_H

#include "parkit/loop.h"
#include "parkit/pool.h"
#include "parkit/status.h"

#include <stdbool.h>
#include <stdint.h>

/* Backoff waits are capped so that a misbehaving Retry-After cannot park a worker for hours. */
#define PK_HTTP_BACKOFF_CAP_S 30.0

/* Settings shared by every request of a client. */
struct pk_http_opts {
    double connect_timeout_s; /* to set up a connection, > 0 */
    double timeout_s;         /* for one whole attempt, > 0 */
    unsigned max_redirects;   /* followed per attempt; 0: a redirect is the final reply */
    unsigned retries;         /* attempts after a transient failure */
    double backoff_s;         /* wait before the first retry, doubled each time (capped) */
    uint64_t max_bytes;       /* a longer body fails the request (PK_ERANGE) */
    const char *user_agent;   /* copied; NULL sends "parkit" */
    /* Polled while a transfer runs (often while data flows, about once a second while it
     * waits) and every 10 ms of a backoff wait: true aborts the request with PK_ECANCELED.
     * Called on the thread that runs pk_http_get, with no lock held, so it must be
     * thread-safe (reading a flag a signal handler sets, say). NULL: never. */
    bool (*abort_requested)(void *ctx);
    void *abort_ctx; /* passed to abort_requested; the caller keeps it alive */
};

/* Where a body goes, besides the length and CRC-32 that are always measured. */
struct pk_http_sink {
    /* Receives the body in pieces, on the thread running pk_http_get; non-zero fails the
     * request (PK_EIO) and may fill err with why. */
    int (*write)(void *ctx, const void *data, size_t n, struct pk_err *err);
    /* Called before a retry: the next attempt sends the body from its start. May be NULL when
     * the client has no retries. Non-zero fails the request. */
    int (*restart)(void *ctx, struct pk_err *err);
    void *ctx; /* the caller's; kept alive for the duration of the call */
};

/* A file to save a 2xx body to. The caller owns the strings. */
struct pk_http_save {
    const char *path; /* its directory must exist */
    unsigned mode;    /* permission bits given to the file before it is named, usually
                       * 0666 & ~umask (read it once before threads start: umask() sets it) */
    bool force;       /* replace an existing file; without it one is left alone (PK_EIO) */
};

/* What happened, filled whatever the status. */
struct pk_http_result {
    long status;       /* HTTP status of the last reply, 0 when there was none */
    uint64_t bytes;    /* body bytes of the last attempt */
    int64_t announced; /* Content-Length of the last reply, -1 when none */
    uint32_t crc32;    /* CRC-32 (zlib's) of those bytes */
    double time_s;     /* every attempt and wait */
    int attempts;      /* requests sent, 0 when none was */
    bool saved;        /* the body is now the file at save->path */
};

struct pk_http;

/* Initialises libcurl for the process. Call once, on the main thread, before any client exists
 * and before other threads start (libcurl's rule). PK_ENET when it fails. Not thread-safe. */
int pk_http_global_init(struct pk_err *err);
/* Undoes pk_http_global_init once every client is destroyed. Not thread-safe. */
void pk_http_global_cleanup(void);
/* libcurl's version line (static text). Thread-safe after pk_http_global_init. */
const char *pk_http_version(void);

/* On success *out owns a new client with the settings of o (copied; o and its strings may go
 * away after), to be freed with pk_http_destroy; on failure *out is NULL and err says why
 * (PK_EINVAL for a bad setting, PK_ENOMEM). Thread-safe after pk_http_global_init. */
int pk_http_create(const struct pk_http_opts *o, struct pk_http **out, struct pk_err *err);
/* Closes the client's connections and frees it. NULL ok. Not while a request runs on it. */
void pk_http_destroy(struct pk_http *h);

/* GETs url (http:// or https://; the caller owns it) with every attempt it needs. The body goes
 * to sink (may be NULL) or, when save is not NULL, to the file save->path (at most one of the
 * two). cancel (may be NULL) is a pool task's token: cancelling it aborts the request like
 * abort_requested does. *res is always filled.
 * Returns PK_OK when the last reply had a 2xx status (and, when saving, the file is in place);
 * else err says why: PK_ENET (no reply, or a non-2xx status: "HTTP 404"), PK_ETIMEDOUT,
 * PK_ERANGE (body over max_bytes), PK_EIO (the sink or the file failed; an existing file kept),
 * PK_ECANCELED ("cancelled"), PK_EINVAL (both sink and save). No file or temporary file is left
 * behind on failure.
 * One request at a time per client: calls on different clients are thread-safe. */
int pk_http_get(struct pk_http *h, const char *url, const struct pk_http_sink *sink,
                const struct pk_http_save *save, struct pk_cancel *cancel,
                struct pk_http_result *res, struct pk_err *err);

/* ---- the same requests on the event-loop engine (parkit/loop.h) ----
 * Each loop thread drives one libcurl multi handle (multi_socket: its sockets polled by the
 * loop, its timer a loop timer), so one thread holds thousands of transfers at once and reuses
 * connections across them (HTTP/1.1 keep-alive, HTTP/2 multiplexing where a server offers it).
 * A request makes the attempts, waits (a loop timer), redirects and atomic saves pk_http_get
 * makes, and fails with the same statuses and messages. */
struct pk_http_loop;
struct pk_http_fetch_run;

/* Settings for every request (checked as pk_http_create checks them; o and its strings may go
 * away after). On success *out lives until pk_http_loop_destroy, which comes after the engine's
 * pk_loop_destroy. Thread-safe after pk_http_global_init. */
int pk_http_loop_create(const struct pk_http_opts *o, struct pk_http_loop **out,
                        struct pk_err *err);
/* The hooks to give pk_loop_create: each loop thread makes its multi handle there. */
void pk_http_loop_hooks(struct pk_http_loop *hl, struct pk_loop_hooks *hooks);
void pk_http_loop_destroy(struct pk_http_loop *hl);

/* One request, owned by the caller: fill url and save (at most one request saves to a path;
 * both must live until the task finishes), submit it with pk_http_fetch_ops and the fetch as
 * the task's argument. Once the task has finished, res is filled and the task's status and
 * error are pk_http_get's. run is the engine's. */
struct pk_http_fetch {
    const char *url;
    const struct pk_http_save *save; /* NULL: the body is measured, not kept */
    struct pk_http_result res;
    struct pk_http_fetch_run *run;
};
extern const struct pk_ltask_ops pk_http_fetch_ops;

/* The longest file name pk_http_file_names gives a URL before any ".K": room under NAME_MAX
 * (255) for ".K" and a temporary file's suffix. */
#define PK_HTTP_NAME_MAX 200

/* The file name under which each of urls[0..n) (http:// or https://; caller-owned) is saved:
 * its last path segment without query or fragment, made safe (no '/', no leading '.', no control
 * characters; "index.html" when empty), cut to PK_HTTP_NAME_MAX bytes at a UTF-8 boundary when
 * longer, and ".K" appended (K = 1, 2, ...) when an earlier URL already has the name. Linear in
 * n (a hash set of the names given). On success *out owns n malloc'd strings in URL order (free
 * each, then the array) and *cut (NULL ok) holds how many segments were cut; on failure
 * (PK_ENOMEM) *out is NULL. Thread-safe. */
int pk_http_file_names(char *const *urls, size_t n, char ***out, size_t *cut, struct pk_err *err);

#endif
