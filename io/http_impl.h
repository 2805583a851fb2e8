/* SPDX-License-Identifier: MIT */
/* Private to io/: what the blocking client (http.c) and the event-loop one (http_loop.c) share,
 * so that both make the same requests, retry the same failures after the same waits, and fail
 * with the same messages. */
#ifndef PARKIT_IO_HTTP_IMPL_H
#define PARKIT_IO_HTTP_IMPL_H

#include "parkit/atomicfile.h"
#include "parkit/http.h"

#include "curl_lazy.h" /* libcurl, loaded on first use */

#include <zlib.h>

struct pk_http {
    CURL *curl;
    struct pk_http_opts o;            /* user_agent is not kept: libcurl copied it */
    char curl_error[CURL_ERROR_SIZE]; /* libcurl's message of the last attempt */
};

/* One request in flight: what libcurl's callbacks see. Lives on the requesting thread only. */
struct xfer {
    struct pk_http *h;
    const struct pk_http_sink *sink;
    struct pk_cancel *cancel;
    int fd;           /* the temporary file when saving, else -1 */
    const char *path; /* the file it becomes, for messages */
    uint64_t bytes;
    uLong crc;
    int fail_status;    /* set by a callback that failed the transfer, else PK_OK */
    int socket_errno;   /* why the last socket() failed (EMFILE...), 0 when none did */
    struct pk_err *err; /* the caller's (may be NULL); a failing callback fills it */
};

/* The request-independent options of h's easy handle (user_agent NULL: "parkit"). */
void http_easy_setup(struct pk_http *h, const char *user_agent);
/* libcurl's write callback: the body to the file or sink, its length and CRC-32 measured. */
size_t http_on_body(char *data, size_t size, size_t n, void *arg);
/* Seconds as libcurl's milliseconds, at least 1. */
long http_ms(double s);
/* A failure worth another attempt: connect errors, timeouts, truncated replies, 408, 429, 5xx. */
bool http_transient(CURLcode cc, long status);
/* The wait before retry k (0-based): Retry-After when sent, else backoff * 2^k, capped. */
double http_retry_wait(struct pk_http *h, int k);
/* Starts the body over for another attempt. */
int http_restart_body(struct xfer *x);
/* The request's status and message, from its last attempt. */
int http_outcome(const struct xfer *x, CURLcode cc, long status, struct pk_err *err);
/* The save's atomic writer. */
int http_open_save(const struct pk_http_save *save, struct pk_atomicfile *file,
                   struct pk_err *err);

#endif
