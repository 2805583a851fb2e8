/* SPDX-License-Identifier: MIT */
/* HTTP(S) GETs through libcurl's easy interface (see parkit/http.h).
 *
 * Design: a client is one easy handle whose request-independent options are set once, so that
 * libcurl keeps its connection cache and DNS results for the client's lifetime. A request's
 * per-call state (struct xfer) lives on the caller's stack and is what libcurl's callbacks get;
 * nothing is shared between clients, so two threads with two clients never touch common state
 * apart from libcurl's own global init, done once before threads start.
 *
 * Invariants: a saved body is only ever visible under its final name complete (io/atomicfile
 * writes it to an unnamed or exclusive temporary beside it, published when the request
 * succeeded); on every failure path the temporary is removed; res is filled on every return. */
#include "parkit/http.h"

#include "http_impl.h"

#include "parkit/atomicfile.h"
#include "parkit/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

/* Backoff waits are slept in slices this long, so that an abort is seen within 10 ms. */
#define WAIT_SLICE_S 0.01

int pk_http_global_init(struct pk_err *err)
{
    int rc = pk_curl_load(err);
    if (rc != PK_OK)
        return rc;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return pk_fail(err, PK_ENET, "libcurl failed to initialise");
    return PK_OK;
}

void pk_http_global_cleanup(void)
{
    if (pk_curl_load(NULL) == PK_OK)
        curl_global_cleanup();
}

const char *pk_http_version(void)
{
    return pk_curl_load(NULL) == PK_OK ? curl_version() : "libcurl (not loadable)";
}

static bool aborted(const struct xfer *x)
{
    const struct pk_http_opts *o = &x->h->o;
    return (x->cancel && pk_cancel_requested(x->cancel)) ||
           (o->abort_requested && o->abort_requested(o->abort_ctx));
}

/* libcurl's write callback, on the requesting thread. Returning less than len fails the
 * transfer with CURLE_WRITE_ERROR. */
size_t http_on_body(char *data, size_t size, size_t n, void *arg)
{
    struct xfer *x = arg;
    size_t len = size * n;
    if (x->bytes + len > x->h->o.max_bytes) {
        x->fail_status = pk_fail(x->err, PK_ERANGE, "body larger than %llu bytes",
                                 (unsigned long long)x->h->o.max_bytes);
        return 0;
    }
    for (size_t off = 0; x->fd >= 0 && off < len;) {
        ssize_t w = write(x->fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            x->fail_status =
                pk_fail(x->err, PK_EIO, "cannot write '%s': %s", x->path, strerror(errno));
            return 0;
        }
        off += (size_t)w;
    }
    if (x->sink && x->sink->write(x->sink->ctx, data, len, x->err) != 0) {
        x->fail_status = PK_EIO;
        return 0;
    }
    x->crc = crc32(x->crc, (const Bytef *)data, (uInt)len);
    x->bytes += len;
    return len;
}

/* libcurl's socket opener, ours so that a failure's errno is kept (libcurl reports only "could
 * not connect"): with it a full descriptor table is named as such. */
static curl_socket_t open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct xfer *x = arg;
    (void)purpose;
    curl_socket_t fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
    if (fd == CURL_SOCKET_BAD && x)
        x->socket_errno = errno;
    return fd;
}

/* Called by libcurl often during a transfer and about once a second while it waits: a non-zero
 * return aborts the transfer, which is how a cancel reaches a slow request. */
static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    return aborted(arg);
}

long http_ms(double s)
{
    double v = ceil(s * 1000);
    return v < 1 ? 1 : (long)v; /* 0 would mean "no timeout" to libcurl */
}

static int check_opts(const struct pk_http_opts *o, struct pk_err *err)
{
    /* The upper bounds only keep the millisecond values libcurl takes far from overflow. */
    if (!(o->connect_timeout_s > 0 && o->connect_timeout_s <= 1e7))
        return pk_fail(err, PK_EINVAL, "connect timeout %g s not in (0, 1e7]",
                       o->connect_timeout_s);
    if (!(o->timeout_s > 0 && o->timeout_s <= 1e7))
        return pk_fail(err, PK_EINVAL, "timeout %g s not in (0, 1e7]", o->timeout_s);
    if (!(o->backoff_s >= 0 && o->backoff_s <= PK_HTTP_BACKOFF_CAP_S))
        return pk_fail(err, PK_EINVAL, "backoff %g s not in [0, %g]", o->backoff_s,
                       PK_HTTP_BACKOFF_CAP_S);
    if (o->retries > 1000 || o->max_redirects > 1000)
        return pk_fail(err, PK_EINVAL, "retries %u or redirects %u over 1000", o->retries,
                       o->max_redirects);
    return PK_OK;
}

/* The options that stay the same for every request of a client: set once, so that libcurl
 * keeps its connection cache and DNS results for the client's lifetime. */
void http_easy_setup(struct pk_http *h, const char *user_agent)
{
    CURL *c = h->curl;
    const struct pk_http_opts *o = &h->o;
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM for timeouts */
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, o->max_redirects > 0 ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, (long)o->max_redirects);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, http_ms(o->connect_timeout_s));
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, http_ms(o->timeout_s));
    curl_easy_setopt(c, CURLOPT_USERAGENT, user_agent ? user_agent : "parkit");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_on_body);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->curl_error);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_socket);
}

int pk_http_create(const struct pk_http_opts *o, struct pk_http **out, struct pk_err *err)
{
    *out = NULL;
    int rc = check_opts(o, err);
    if (rc == PK_OK)
        rc = pk_curl_load(err);
    if (rc != PK_OK)
        return rc;
    struct pk_http *h = calloc(1, sizeof *h);
    if (!h)
        return pk_fail(err, PK_ENOMEM, "out of memory");
    h->o = *o;
    h->o.user_agent = NULL;
    h->curl = curl_easy_init();
    if (!h->curl) {
        free(h);
        return pk_fail(err, PK_ENOMEM, "cannot create a libcurl handle");
    }
    http_easy_setup(h, o->user_agent);
    *out = h;
    return PK_OK;
}

void pk_http_destroy(struct pk_http *h)
{
    if (!h)
        return;
    curl_easy_cleanup(h->curl);
    free(h);
}

bool http_transient(CURLcode cc, long status)
{
    switch (cc) {
    case CURLE_OK:
        return status == 408 || status == 429 || (status >= 500 && status <= 599);
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_COULDNT_RESOLVE_HOST:
        return true;
    default:
        return false;
    }
}

/* Waits before retry k (0-based): Retry-After when the server sent one, else backoff * 2^k,
 * capped. PK_ECANCELED as soon as the request is aborted. CURLINFO_RETRY_AFTER reads 0 both
 * for "Retry-After: 0" and for no header at all, so the header's presence is asked first. */
double http_retry_wait(struct pk_http *h, int k)
{
    CURL *c = h->curl;
    struct curl_header *hdr = NULL;
    curl_off_t after = 0;
    double wait = h->o.backoff_s * ldexp(1.0, k);
    if (curl_easy_header(c, "Retry-After", 0, CURLH_HEADER, -1, &hdr) == CURLHE_OK &&
        curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &after) == CURLE_OK && after >= 0)
        wait = (double)after;
    return wait < PK_HTTP_BACKOFF_CAP_S ? wait : PK_HTTP_BACKOFF_CAP_S;
}

static int back_off(struct xfer *x, int k)
{
    double wait = http_retry_wait(x->h, k);
    for (double end = pk_now_s() + wait;;) {
        if (aborted(x))
            return PK_ECANCELED;
        double left = end - pk_now_s();
        if (left <= 0)
            return PK_OK;
        double slice = left < WAIT_SLICE_S ? left : WAIT_SLICE_S;
        if (x->cancel) {
            if (pk_cancel_sleep(x->cancel, slice) != PK_OK)
                return PK_ECANCELED;
        } else {
            struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)(slice * 1e9)};
            nanosleep(&ts, NULL);
        }
    }
}

/* Starts the body over for another attempt. */
int http_restart_body(struct xfer *x)
{
    x->bytes = 0;
    x->crc = crc32(0L, Z_NULL, 0);
    if (x->fd >= 0 && (ftruncate(x->fd, 0) != 0 || lseek(x->fd, 0, SEEK_SET) != 0))
        return pk_fail(x->err, PK_EIO, "cannot rewind '%s': %s", x->path, strerror(errno));
    if (x->sink && x->sink->restart && x->sink->restart(x->sink->ctx, x->err) != 0)
        return PK_EIO;
    return PK_OK;
}

/* Sends the request until it succeeds, fails for good or runs out of attempts. Returns the last
 * attempt's libcurl code; fills res's status, length and attempts. */
static CURLcode attempts(struct xfer *x, const char *url, struct pk_http_result *res)
{
    CURL *c = x->h->curl;
    CURLcode cc = CURLE_OK;
    int max_attempts = 1 + (int)x->h->o.retries;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, x);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, x);
    for (int k = 0; k < max_attempts; k++) {
        if (k > 0 && back_off(x, k - 1) != PK_OK)
            return CURLE_ABORTED_BY_CALLBACK;
        if (k > 0 && http_restart_body(x) != PK_OK) {
            x->fail_status = PK_EIO;
            return CURLE_WRITE_ERROR;
        }
        x->h->curl_error[0] = '\0';
        x->socket_errno = 0;
        cc = curl_easy_perform(c);
        res->attempts = k + 1;
        res->status = 0;
        curl_off_t announced = -1;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res->status);
        curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &announced);
        res->announced = announced;
        if (cc == CURLE_ABORTED_BY_CALLBACK || x->fail_status != PK_OK ||
            !http_transient(cc, res->status))
            break;
    }
    return cc;
}

/* libcurl's failure in words that say what to do: its own text names neither a reply header
 * over its limit (only "Out of memory") nor running out of descriptors (only "Couldn't
 * connect"). */
static int curl_failure(const struct xfer *x, CURLcode cc, struct pk_err *err)
{
    int status = cc == CURLE_OPERATION_TIMEDOUT ? PK_ETIMEDOUT : PK_ENET;
    const char *text = x->h->curl_error[0] ? x->h->curl_error : curl_easy_strerror(cc);
    long os = 0;
    curl_easy_getinfo(x->h->curl, CURLINFO_OS_ERRNO, &os);
    if (cc == CURLE_COULDNT_CONNECT && x->socket_errno)
        os = x->socket_errno; /* libcurl leaves a failed socket()'s errno out: open_socket kept it */
    if (os == EMFILE || os == ENFILE)
        return pk_fail(err, status,
                       "%s: %s (the open-file limit is reached: fewer --workers, or raise "
                       "ulimit -n)",
                       text, strerror((int)os));
    if (cc == CURLE_OUT_OF_MEMORY)
        return pk_fail(err, status,
                       "a reply header line over libcurl's limit of %d KiB, or out of memory "
                       "(libcurl: %s)",
                       CURL_MAX_HTTP_HEADER >> 10, text);
    return pk_fail(err, status, "%s", text);
}

/* The request's status and message, from the last attempt. */
int http_outcome(const struct xfer *x, CURLcode cc, long status, struct pk_err *err)
{
    if (x->fail_status != PK_OK)
        return x->fail_status; /* the callback that failed the transfer said why */
    if (cc == CURLE_ABORTED_BY_CALLBACK)
        return pk_fail(err, PK_ECANCELED, "cancelled");
    if (cc != CURLE_OK)
        return curl_failure(x, cc, err);
    if (status < 200 || status > 299)
        return pk_fail(err, PK_ENET, "HTTP %ld", status);
    return PK_OK;
}

/* The save's writer (io/atomicfile): an unnamed or exclusive temporary beside save->path,
 * given save->mode, published only when the request succeeded; without force an existing file
 * stays. Not synced (a body is fetched again more cheaply than every save waits for the disk). */
int http_open_save(const struct pk_http_save *save, struct pk_atomicfile *file,
                   struct pk_err *err)
{
    struct pk_atomicfile_opts o = {
        .mode = save->mode ? save->mode : 0644, .no_replace = !save->force, .no_sync = true};
    return pk_atomicfile_open_with(file, save->path, &o, err);
}

int pk_http_get(struct pk_http *h, const char *url, const struct pk_http_sink *sink,
                const struct pk_http_save *save, struct pk_cancel *cancel,
                struct pk_http_result *res, struct pk_err *err)
{
    *res = (struct pk_http_result){.announced = -1, .crc32 = (uint32_t)crc32(0L, Z_NULL, 0)};
    if (sink && save)
        return pk_fail(err, PK_EINVAL, "a body goes to a sink or a file, not both");
    double t0 = pk_now_s();
    struct pk_atomicfile file = {.fd = -1};
    struct xfer x = {.h = h, .sink = sink, .cancel = cancel, .fd = -1, .err = err};
    x.crc = crc32(0L, Z_NULL, 0);
    if (save) {
        int rc = http_open_save(save, &file, err);
        if (rc != PK_OK)
            return rc;
        x.fd = file.fd;
        x.path = save->path;
    }
    CURLcode cc = attempts(&x, url, res);
    res->bytes = x.bytes;
    res->crc32 = (uint32_t)x.crc;
    int status = http_outcome(&x, cc, res->status, err);
    if (save && status == PK_OK) {
        status = pk_atomicfile_commit(&file, err);
        res->saved = status == PK_OK;
    }
    if (save)
        pk_atomicfile_abort(&file); /* after a commit: nothing left to do */
    res->time_s = pk_now_s() - t0;
    return status;
}

/* ---- file names for URLs ------------------------------------------------------------------ */

/* The last path segment of url, made safe, in base (PK_HTTP_NAME_MAX + 1 bytes); true when it
 * had to be cut. */
static bool url_base_name(const char *url, char *base)
{
    const char *sep = strstr(url, "://");
    const char *u = sep ? sep + 3 : url;
    size_t end = strcspn(u, "?#");
    const char *path = memchr(u, '/', end);
    const char *seg = path ? path : u + end;
    for (const char *p = seg; p < u + end; p++)
        if (*p == '/')
            seg = p + 1;
    size_t len = (size_t)(u + end - seg);
    bool cut = len > PK_HTTP_NAME_MAX;
    if (cut) { /* back off to the start of a UTF-8 sequence */
        len = PK_HTTP_NAME_MAX;
        while (len > 0 && ((unsigned char)seg[len] & 0xc0) == 0x80)
            len--;
    }
    if (len == 0) {
        snprintf(base, PK_HTTP_NAME_MAX + 1, "index.html");
        return cut;
    }
    for (size_t k = 0; k < len; k++) {
        char ch = seg[k];
        base[k] = (ch == '.' && k == 0) || (unsigned char)ch < 32 || ch == 127 ? '_' : ch;
    }
    base[len] = '\0';
    return cut;
}

/* Open addressing over the names given so far; each slot also keeps the next K to try for a
 * name taken as a base, so n equal segments cost n probes, not n^2 (which was n^3 with the
 * linear search: 4,000 equal names took 35 s). */
struct name_set {
    size_t mask;
    const char **name; /* NULL: empty slot; the strings are the caller's */
    unsigned *next_k;
};

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

/* The slot of name: where it is, or the empty one where it would go. */
static size_t name_slot(const struct name_set *set, const char *name)
{
    size_t i = (size_t)fnv1a(name) & set->mask;
    while (set->name[i] && strcmp(set->name[i], name) != 0)
        i = (i + 1) & set->mask;
    return i;
}

/* The name for base (in buf, PK_HTTP_NAME_MAX + 16 bytes) now that it is taken: base.K for the
 * first K not in the set. */
static void next_free(struct name_set *set, size_t base_slot, const char *base, char *buf)
{
    for (unsigned k = set->next_k[base_slot];; k++) {
        snprintf(buf, PK_HTTP_NAME_MAX + 16, "%s.%u", base, k);
        if (!set->name[name_slot(set, buf)]) {
            set->next_k[base_slot] = k + 1;
            return;
        }
    }
}

int pk_http_file_names(char *const *urls, size_t n, char ***out, size_t *cut, struct pk_err *err)
{
    *out = NULL;
    size_t ncut = 0, cap = 16;
    while (cap < 2 * n) /* at most half full: short probe runs */
        cap *= 2;
    struct name_set set = {.mask = cap - 1,
                           .name = calloc(cap, sizeof *set.name),
                           .next_k = calloc(cap, sizeof *set.next_k)};
    char **names = calloc(n ? n : 1, sizeof *names);
    size_t i = 0;
    for (; names && set.name && set.next_k && i < n; i++) {
        char base[PK_HTTP_NAME_MAX + 1], name[PK_HTTP_NAME_MAX + 16];
        ncut += url_base_name(urls[i], base);
        size_t b = name_slot(&set, base);
        if (set.name[b])
            next_free(&set, b, base, name);
        else
            snprintf(name, sizeof name, "%s", base);
        names[i] = strdup(name);
        if (!names[i])
            break;
        size_t slot = name_slot(&set, names[i]);
        set.name[slot] = names[i];
        set.next_k[slot] = 1;
    }
    free(set.name);
    free(set.next_k);
    if (i < n || !names) {
        for (size_t k = 0; names && k < i; k++)
            free(names[k]);
        free(names);
        return pk_fail(err, PK_ENOMEM, "out of memory naming %zu files", n);
    }
    *out = names;
    if (cut)
        *cut = ncut;
    return PK_OK;
}
