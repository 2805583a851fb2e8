/* SPDX-License-Identifier: MIT */
/* parkit fetch: real HTTP(S) GETs through libcurl on the io/ pool, the tutorials' threaded
 * downloads and fetch_url_info. Each worker owns one easy handle for the whole run (handed out
 * through a queue), so connections and DNS results are reused as a browser or curl would;
 * transient failures (connect errors, timeouts, truncated replies, 408/429/5xx) are retried with
 * exponential backoff, honouring Retry-After. --out saves bodies under a temporary name renamed
 * when complete, so a failed or interrupted download leaves nothing behind.
 *
 * Verified: every 2xx body has the length the server announced; a saved file, read back, has
 * the bytes and CRC-32 that came off the wire; with --compare the sequential and pooled runs got
 * the same bytes for every URL. */
#define _GNU_SOURCE /* renameat2 */
#include "commands.h"
#include "interrupt.h"
#include "parkit/pool.h"
#include "record.h"
#include "sysinfo.h"
#include "timing.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define MAX_RETRIES 10
#define MAX_URLS    (UINT64_C(1) << 24)
#define BACKOFF_CAP 30.0

static const char usage[] =
    "Usage: parkit fetch URL... [options]\n"
    "       parkit fetch --url-file FILE [options]\n"
    "HTTP(S) GET of every URL on a pool of worker threads, each with its own libcurl handle\n"
    "(connections are kept alive and reused). Prints, per URL in the order given, the HTTP\n"
    "status, bytes, seconds, attempts and any error, then requests/s and MB/s.\n"
    "\n"
    "  --url-file FILE        URLs one per line ('-' for stdin); blank lines and # comments\n"
    "                         are skipped\n"
    "  --workers W            concurrent requests, 1..1024 (default 8)\n"
    "  --connect-timeout S    seconds to connect (default 10)\n"
    "  --timeout S            seconds for a whole request (default 60)\n"
    "  --retries R            attempts after a transient failure: connect error, timeout,\n"
    "                         truncated reply, HTTP 408, 429 or 5xx; 0..10 (default 2)\n"
    "  --backoff S            first retry waits S seconds, doubling each time up to 30 s;\n"
    "                         a Retry-After header wins (default 0.2)\n"
    "  --max-redirects N      redirects followed, 0..50 (default 5); http and https only\n"
    "  --max-bytes N          a larger body fails (default 1 GiB)\n"
    "  --out DIR              save each 2xx body as DIR/<last path segment> ('index.html'\n"
    "                         when empty; '.K' appended to a name used earlier in the list),\n"
    "                         written under a temporary name and renamed when complete; an\n"
    "                         existing file is an error for that URL unless --force\n"
    "  --force                replace existing files in DIR\n"
    "  --compare              fetch every URL one after another first, then on the pool, and\n"
    "                         print the speedup (the sequential run saves nothing)\n"
    "  --quiet                no per-URL lines, only the summary\n"
    "  --canary               corrupt one result after the run, to prove verification fails\n"
    "\n"
    "A URL is a failure when it could not be fetched or its final status is not 2xx. Verified:\n"
    "each 2xx body has the announced Content-Length, each saved file reads back with the same\n"
    "bytes and CRC-32, and with --compare both runs got the same bytes (exit 3 otherwise).\n"
    "Ctrl-C cancels what has not finished, aborts transfers within about a second, reports what\n"
    "finished and exits 1; a second Ctrl-C exits at once.\n\n";

struct fetch_opts {
    uint64_t workers, retries, max_redirs, max_bytes;
    double connect_timeout_s, timeout_s, backoff_s;
    const char *out_dir;
    bool force, compare, quiet, canary;
};

struct url_result {
    long http_status;     /* final status, 0 when no reply */
    uint64_t bytes;       /* body bytes of the last attempt */
    curl_off_t announced; /* Content-Length, -1 when none */
    uLong crc;            /* CRC-32 of the body */
    double time_s;        /* all attempts, backoff included */
    int attempts;
    bool ok, saved;
    char error[CURL_ERROR_SIZE + 64];
};

/* One URL's task. The body goes to sink_fd (a temporary file in --out) or only through the
 * CRC. */
struct job {
    const struct fetch_opts *o;
    const char *url;
    const char *name;       /* file name in --out, NULL when not saving */
    struct pk_queue *curls; /* idle easy handles, one per worker */
    struct pk_cancel *cancel;
    int fd;
    uint64_t max_bytes;
    struct url_result r;
    char curl_error[CURL_ERROR_SIZE]; /* libcurl's message; the handle points here */
};

static int parse_seconds(const char *option, const char *text, double min, double max, double *out,
                         struct pk_err *err)
{
    char *end = NULL;
    double v = strtod(text, &end);
    if (end == text || *end || !(v >= min && v <= max))
        return pk_fail(err, PK_EINVAL, "%s expects seconds in [%g, %g], got '%s'", option, min, max,
                       text);
    *out = v;
    return PK_OK;
}

/* Says why the URL failed (truncated to fit: long paths stay readable at the front). */
static void set_error(struct job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_error(struct job *j, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->r.error, sizeof j->r.error, fmt, ap);
    va_end(ap);
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    struct job *j = arg;
    size_t len = size * n;
    if (j->r.bytes + len > j->max_bytes) {
        set_error(j, "body larger than --max-bytes %llu", (unsigned long long)j->max_bytes);
        return 0; /* libcurl fails the transfer with CURLE_WRITE_ERROR */
    }
    for (size_t off = 0; j->fd >= 0 && off < len;) {
        ssize_t w = write(j->fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            set_error(j, "cannot write: %s", strerror(errno));
            return 0;
        }
        off += (size_t)w;
    }
    j->r.crc = crc32(j->r.crc, (const Bytef *)data, (uInt)len);
    j->r.bytes += len;
    return len;
}

/* Called by libcurl often during a transfer and about once a second while it waits: a non-zero
 * return aborts the transfer, which is how Ctrl-C and pool shutdown reach a slow request. */
static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    struct job *j = arg;
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    return (j->cancel && pk_cancel_requested(j->cancel)) || pk_interrupted();
}

static bool transient(CURLcode cc, long status)
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

/* Options that stay the same for every request of a handle: set once, when it is made. */
static CURL *new_handle(const struct fetch_opts *o)
{
    CURL *h = curl_easy_init();
    if (!h)
        return NULL;
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM for timeouts */
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, o->max_redirs > 0 ? 1L : 0L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, (long)o->max_redirs);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(o->connect_timeout_s * 1000));
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(o->timeout_s * 1000));
    curl_easy_setopt(h, CURLOPT_USERAGENT, "parkit/" PK_VERSION);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    return h;
}

/* The options of one request. The handle keeps its live connections between requests. */
static void set_request(CURL *h, struct job *j)
{
    curl_easy_setopt(h, CURLOPT_URL, j->url);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, j);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, j);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, j->curl_error);
}

/* Waits before retry k (0-based): Retry-After when the server sent one, else backoff * 2^k. */
static int back_off(struct job *j, CURL *h, int k)
{
    curl_off_t after = -1;
    double wait = j->o->backoff_s * ldexp(1.0, k);
    if (curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &after) == CURLE_OK && after >= 0)
        wait = (double)after;
    wait = wait < BACKOFF_CAP ? wait : BACKOFF_CAP;
    return j->cancel ? pk_cancel_sleep(j->cancel, wait) : pk_sleep_interruptible(wait);
}

/* Starts the body over for another attempt. */
static bool rewind_sink(struct job *j)
{
    j->r.bytes = 0;
    j->r.crc = crc32(0L, Z_NULL, 0);
    return j->fd < 0 || (ftruncate(j->fd, 0) == 0 && lseek(j->fd, 0, SEEK_SET) == 0);
}

/* Moves the finished temporary file to its name; without --force an existing file stays. */
static bool publish(struct job *j, const char *tmp)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", j->o->out_dir, j->name);
    if (close(j->fd) != 0) {
        j->fd = -1;
        set_error(j, "cannot write '%s': %s", tmp, strerror(errno));
        return false;
    }
    j->fd = -1;
    int rc = j->o->force ? rename(tmp, path)
                         : renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE);
    if (rc != 0) {
        set_error(j, "%s '%s'", errno == EEXIST ? "not replacing existing" : strerror(errno), path);
        return false;
    }
    return true;
}

/* One URL, every attempt, on a pool thread (or the caller's for --compare). */
static int fetch_one(void *arg, struct pk_cancel *cancel, void **result, struct pk_err *err)
{
    struct job *j = arg;
    (void)result;
    j->cancel = cancel;
    j->fd = -1;
    j->r = (struct url_result){.announced = -1};
    void *item = NULL;
    if (pk_queue_pop(j->curls, &item) != PK_OK) /* never waits: at most one job per worker */
        return pk_fail(err, PK_ECLOSED, "no handle");
    CURL *h = item;
    char tmp[PATH_MAX] = "";
    if (j->name) {
        snprintf(tmp, sizeof tmp, "%s/.%s.parkit-XXXXXX", j->o->out_dir, j->name);
        j->fd = mkstemp(tmp);
        if (j->fd < 0) {
            set_error(j, "cannot create '%s': %s", tmp, strerror(errno));
            pk_queue_push(j->curls, h);
            return pk_fail(err, PK_EIO, "%s", j->r.error);
        }
    }
    double t0 = pk_now_s();
    CURLcode cc = CURLE_OK;
    int max_attempts = 1 + (int)j->o->retries;
    for (int k = 0; k < max_attempts; k++) {
        if (k > 0 && back_off(j, h, k - 1) != PK_OK) {
            cc = CURLE_ABORTED_BY_CALLBACK;
            break;
        }
        if (!rewind_sink(j)) {
            set_error(j, "cannot rewind '%s': %s", tmp, strerror(errno));
            cc = CURLE_WRITE_ERROR;
            break;
        }
        j->curl_error[0] = '\0';
        j->r.error[0] = '\0';
        set_request(h, j);
        cc = curl_easy_perform(h);
        j->r.attempts = k + 1;
        j->r.http_status = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &j->r.http_status);
        curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &j->r.announced);
        if (cc == CURLE_ABORTED_BY_CALLBACK || !transient(cc, j->r.http_status))
            break;
    }
    j->r.time_s = pk_now_s() - t0;
    j->r.ok = cc == CURLE_OK && j->r.http_status >= 200 && j->r.http_status < 300;
    if (cc == CURLE_ABORTED_BY_CALLBACK && !j->r.error[0])
        set_error(j, "cancelled");
    else if (cc != CURLE_OK && !j->r.error[0])
        set_error(j, "%s", j->curl_error[0] ? j->curl_error : curl_easy_strerror(cc));
    else if (cc == CURLE_OK && !j->r.ok)
        set_error(j, "HTTP %ld", j->r.http_status);
    if (j->fd >= 0) {
        j->r.saved = j->r.ok && publish(j, tmp);
        j->r.ok = j->r.ok && j->r.saved;
        if (j->fd >= 0)
            close(j->fd);
        if (!j->r.saved)
            unlink(tmp);
        j->fd = -1;
    }
    pk_queue_push(j->curls, h);
    if (!j->r.ok)
        return pk_fail(err, cc == CURLE_ABORTED_BY_CALLBACK ? PK_ECANCELED : PK_ENET, "%s",
                       j->r.error);
    return PK_OK;
}

/* Reads the URL list: operands, or --url-file (one per line, '#' comments). Each must be an
 * http:// or https:// URL. */
static int read_urls(const char *file, int argc, char *const argv[], char ***urls, size_t *n,
                     struct pk_err *err)
{
    size_t cap = 16, count = 0;
    char **list = malloc(cap * sizeof *list);
    if (!list)
        return pk_fail(err, PK_ENOMEM, "out of memory");
    FILE *f = NULL;
    if (file) {
        f = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
        if (!f) {
            free(list);
            return pk_fail(err, PK_EINVAL, "cannot open --url-file '%s': %s", file,
                           strerror(errno));
        }
    }
    char *line = NULL;
    size_t linecap = 0;
    size_t lineno = 0;
    int rc = PK_OK;
    for (int a = optind;; a++) {
        char *u;
        if (f) {
            ssize_t len = getline(&line, &linecap, f);
            if (len < 0)
                break;
            lineno++;
            while (len > 0 && strchr("\r\n \t", line[len - 1]))
                line[--len] = '\0';
            u = line + strspn(line, " \t");
            if (!*u || *u == '#')
                continue;
        } else if (a < argc) {
            u = argv[a];
        } else {
            break;
        }
        if (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0) {
            rc = f ? pk_fail(err, PK_EINVAL,
                             "--url-file '%s' line %zu: '%s' is not an http:// or "
                             "https:// URL",
                             file, lineno, u)
                   : pk_fail(err, PK_EINVAL, "'%s' is not an http:// or https:// URL", u);
            break;
        }
        if (count == MAX_URLS) {
            rc = pk_fail(err, PK_EINVAL, "more than %llu URLs", (unsigned long long)MAX_URLS);
            break;
        }
        if (count == cap) {
            char **grown = realloc(list, 2 * cap * sizeof *list);
            if (!grown) {
                rc = pk_fail(err, PK_ENOMEM, "out of memory");
                break;
            }
            list = grown;
            cap *= 2;
        }
        if (!(list[count] = strdup(u))) {
            rc = pk_fail(err, PK_ENOMEM, "out of memory");
            break;
        }
        count++;
    }
    if (f && f != stdin && ferror(f) && rc == PK_OK)
        rc = pk_fail(err, PK_EINVAL, "cannot read --url-file '%s'", file);
    free(line);
    if (f && f != stdin)
        fclose(f);
    if (rc == PK_OK && count == 0)
        rc = pk_fail(err, PK_EINVAL, "no URLs given (operands or --url-file)");
    if (rc != PK_OK) {
        for (size_t i = 0; i < count; i++)
            free(list[i]);
        free(list);
        return rc;
    }
    *urls = list;
    *n = count;
    return PK_OK;
}

/* File name for each URL in --out: the last path segment without query or fragment, made safe
 * (no '/', no leading '.'), 'index.html' when empty, '.K' appended when used before. */
static char **output_names(char *const *urls, size_t n)
{
    char **names = calloc(n, sizeof *names);
    for (size_t i = 0; names && i < n; i++) {
        const char *u = strstr(urls[i], "://") + 3;
        size_t end = strcspn(u, "?#");
        const char *path = memchr(u, '/', end);
        const char *seg = path ? path : u + end;
        for (const char *p = seg; p < u + end; p++)
            if (*p == '/')
                seg = p + 1;
        size_t len = (size_t)(u + end - seg);
        char base[256];
        if (len == 0 || len >= 200) {
            snprintf(base, sizeof base, "index.html");
        } else {
            for (size_t k = 0; k < len; k++) {
                char ch = seg[k];
                base[k] = (ch == '.' && k == 0) || ch < 32 || ch == 127 ? '_' : ch;
            }
            base[len] = '\0';
        }
        char name[300];
        snprintf(name, sizeof name, "%s", base);
        for (unsigned dup = 1;; dup++) {
            size_t k = 0;
            while (k < i && strcmp(names[k], name) != 0)
                k++;
            if (k == i)
                break;
            snprintf(name, sizeof name, "%s.%u", base, dup);
        }
        if (!(names[i] = strdup(name))) {
            for (size_t k = 0; k < i; k++)
                free(names[k]);
            free(names);
            return NULL;
        }
    }
    return names;
}

/* Reads a saved file back: its size and CRC-32 must be what came off the wire. */
static bool saved_matches(const char *dir, const char *name, const struct url_result *r)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return false;
    uLong crc = crc32(0L, Z_NULL, 0);
    uint64_t bytes = 0;
    unsigned char buf[65536];
    ssize_t got;
    while ((got = read(fd, buf, sizeof buf)) > 0) {
        crc = crc32(crc, buf, (uInt)got);
        bytes += (uint64_t)got;
    }
    close(fd);
    return got == 0 && bytes == r->bytes && crc == r->crc;
}

/* Corrupts one saved byte (or, without --out, one byte count) of the first good result. */
static void apply_canary(const struct fetch_opts *o, struct job *jobs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!jobs[i].r.ok)
            continue;
        if (o->out_dir && jobs[i].r.bytes > 0) {
            char path[PATH_MAX];
            snprintf(path, sizeof path, "%s/%s", o->out_dir, jobs[i].name);
            int fd = open(path, O_RDWR);
            unsigned char b;
            if (fd >= 0 && pread(fd, &b, 1, 0) == 1) {
                b ^= 1;
                if (pwrite(fd, &b, 1, 0) != 1)
                    jobs[i].r.bytes++;
            }
            if (fd >= 0)
                close(fd);
        } else {
            jobs[i].r.bytes++;
        }
        return;
    }
}

/* Checks every result; returns the number of URLs that fail a check and describes the first. */
static size_t verify(const struct fetch_opts *o, const struct job *jobs, const struct job *seq,
                     size_t n, char *first, size_t cap)
{
    size_t bad = 0;
    first[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const struct url_result *r = &jobs[i].r;
        const char *why = NULL;
        if (r->ok && r->announced >= 0 && (uint64_t)r->announced != r->bytes)
            why = "body length differs from Content-Length";
        else if (r->ok && o->out_dir && !saved_matches(o->out_dir, jobs[i].name, r))
            why = "saved file does not read back as received";
        else if (seq && r->ok && seq[i].r.ok &&
                 (seq[i].r.bytes != r->bytes || seq[i].r.crc != r->crc))
            why = "sequential and pooled runs got different bytes";
        if (why && bad++ == 0)
            snprintf(first, cap, "%s: %s", jobs[i].url, why);
    }
    return bad;
}

static json_t *results_json(const struct job *jobs, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        const struct url_result *r = &jobs[i].r;
        json_array_append_new(
            a, json_pack("{s:s, s:I, s:I, s:f, s:i, s:b, s:s}", "url", jobs[i].url, "status",
                         (json_int_t)r->http_status, "bytes", (json_int_t)r->bytes, "time_s",
                         r->time_s, "attempts", r->attempts, "ok", r->ok, "error", r->error));
    }
    return a;
}

static void print_results(const struct job *jobs, size_t n, enum pk_format format)
{
    if (format == PK_FORMAT_CSV)
        printf("url,status,bytes,time_s,attempts,ok,error\n");
    else
        printf("%-6s %12s %9s %3s  %s\n", "status", "bytes", "seconds", "try", "url");
    for (size_t i = 0; i < n; i++) {
        const struct url_result *r = &jobs[i].r;
        if (format == PK_FORMAT_CSV) {
            printf("\"%s\",%ld,%llu,%.6f,%d,%s,\"%s\"\n", jobs[i].url, r->http_status,
                   (unsigned long long)r->bytes, r->time_s, r->attempts, r->ok ? "yes" : "no",
                   r->error);
            continue;
        }
        char status[16];
        snprintf(status, sizeof status, r->http_status ? "%ld" : "-", r->http_status);
        printf("%-6s %12llu %9.4f %3d  %s%s%s\n", status, (unsigned long long)r->bytes, r->time_s,
               r->attempts, jobs[i].url, r->error[0] ? "  " : "", r->error);
    }
}

/* Runs every job on a pool of o->workers threads, in completion order; Ctrl-C cancels what has
 * not finished. Returns the number finished and the wall time. */
static int run_pooled(const struct fetch_opts *o, struct job *jobs, size_t n, size_t *finished,
                      double *wall_s)
{
    struct pk_pool *pool = NULL;
    struct pk_queue *done = NULL;
    struct pk_future **fut = calloc(n, sizeof *fut);
    int rc = fut ? pk_pool_create((int)o->workers, &pool) : PK_ENOMEM;
    if (rc == PK_OK)
        rc = pk_queue_create(n, pk_future_release_item, &done);
    *finished = 0;
    double t0 = pk_now_s();
    for (size_t i = 0; rc == PK_OK && i < n; i++)
        if (pk_pool_submit(pool, fetch_one, &jobs[i], 0, done, &fut[i]) != PK_OK)
            rc = PK_ENOMEM;
    while (rc == PK_OK && *finished < n) {
        void *f;
        int prc = pk_queue_pop_timed(done, &f, 0.05);
        if (pk_interrupted()) {
            pk_pool_shutdown(pool, true, NULL);
            break;
        }
        if (prc != PK_OK)
            continue;
        pk_future_wait(f, -1, NULL, NULL); /* the job's own result says what happened */
        pk_future_release(f);
        (*finished)++;
    }
    *wall_s = pk_now_s() - t0;
    if (pool)
        pk_pool_shutdown(pool, true, NULL);
    for (size_t i = 0; fut && i < n; i++)
        pk_future_release(fut[i]);
    pk_pool_destroy(pool);
    pk_queue_destroy(done);
    free(fut);
    return rc;
}

int pk_cmd_fetch(int argc, char **argv, const struct pk_comm *c)
{
    static const struct option longopts[] = {{"url-file", required_argument, NULL, 'u'},
                                             {"workers", required_argument, NULL, 'w'},
                                             {"connect-timeout", required_argument, NULL, 'C'},
                                             {"timeout", required_argument, NULL, 'T'},
                                             {"retries", required_argument, NULL, 'R'},
                                             {"backoff", required_argument, NULL, 'B'},
                                             {"max-redirects", required_argument, NULL, 'M'},
                                             {"max-bytes", required_argument, NULL, 'X'},
                                             {"out", required_argument, NULL, 'o'},
                                             {"force", no_argument, NULL, 'F'},
                                             {"compare", no_argument, NULL, 'S'},
                                             {"quiet", no_argument, NULL, 'q'},
                                             {"canary", no_argument, NULL, 'K'},
                                             PK_COMMON_LONGOPTS,
                                             {NULL, 0, NULL, 0}};
    struct pk_common_opts common;
    pk_common_defaults(&common);
    struct fetch_opts o = {.workers = 8,
                           .retries = 2,
                           .max_redirs = 5,
                           .max_bytes = UINT64_C(1) << 30,
                           .connect_timeout_s = 10,
                           .timeout_s = 60,
                           .backoff_s = 0.2};
    const char *url_file = NULL;
    struct pk_err err = {0};
    opterr = 0;
    optind = 1;
    int code;
    while ((code = getopt_long(argc, argv, ":" PK_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
        int rc = PK_OK;
        switch (code) {
        case 'u':
            url_file = optarg;
            break;
        case 'w':
            rc = pk_parse_count("--workers", optarg, 1, 1024, &o.workers, &err);
            break;
        case 'C':
            rc =
                parse_seconds("--connect-timeout", optarg, 0.001, 3600, &o.connect_timeout_s, &err);
            break;
        case 'T':
            rc = parse_seconds("--timeout", optarg, 0.001, 86400, &o.timeout_s, &err);
            break;
        case 'R':
            rc = pk_parse_count("--retries", optarg, 0, MAX_RETRIES, &o.retries, &err);
            break;
        case 'B':
            rc = parse_seconds("--backoff", optarg, 0, BACKOFF_CAP, &o.backoff_s, &err);
            break;
        case 'M':
            rc = pk_parse_count("--max-redirects", optarg, 0, 50, &o.max_redirs, &err);
            break;
        case 'X':
            rc = pk_parse_count("--max-bytes", optarg, 0, UINT64_C(1) << 40, &o.max_bytes, &err);
            break;
        case 'o':
            o.out_dir = optarg;
            break;
        case 'F':
            o.force = true;
            break;
        case 'S':
            o.compare = true;
            break;
        case 'q':
            o.quiet = true;
            break;
        case 'K':
            o.canary = true;
            break;
        default: {
            int handled = pk_cli_option(c, "fetch", usage, code, argv, &common);
            if (handled == PK_OPT_HELP_SHOWN)
                return PK_EXIT_OK;
            if (handled != PK_OPT_DONE)
                return PK_EXIT_USAGE;
        }
        }
        if (rc != PK_OK) {
            pk_error(c, false, "fetch", "%s", err.msg);
            return PK_EXIT_USAGE;
        }
    }
    if (pk_cli_single_process(c, "fetch") != PK_EXIT_OK)
        return PK_EXIT_USAGE;
    if (url_file && optind < argc) {
        pk_error(c, false, "fetch", "give URLs as operands or --url-file, not both (got '%s')",
                 argv[optind]);
        return PK_EXIT_USAGE;
    }
    struct stat st;
    if (o.out_dir) {
        const char *why = stat(o.out_dir, &st) != 0             ? strerror(errno)
                          : !S_ISDIR(st.st_mode)                ? "not a directory"
                          : access(o.out_dir, W_OK | X_OK) != 0 ? strerror(errno)
                                                                : NULL;
        if (why) {
            pk_error(c, false, "fetch", "--out '%s' is not a writable directory: %s", o.out_dir,
                     why);
            return PK_EXIT_USAGE;
        }
    }
    char **urls = NULL;
    size_t n = 0;
    if (read_urls(url_file, argc, argv, &urls, &n, &err) != PK_OK) {
        pk_error(c, false, "fetch", "%s", err.msg);
        return err.status == PK_ENOMEM ? PK_EXIT_RUNTIME : PK_EXIT_USAGE;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        pk_error(c, false, "fetch", "libcurl failed to initialise");
        for (size_t i = 0; i < n; i++)
            free(urls[i]);
        free(urls);
        return PK_EXIT_RUNTIME;
    }
    char **names = o.out_dir ? output_names(urls, n) : NULL;
    struct job *jobs = calloc(n, sizeof *jobs), *seq = o.compare ? calloc(n, sizeof *seq) : NULL;
    struct pk_queue *curls = NULL;
    int rc = (o.out_dir && !names) || !jobs || (o.compare && !seq)
                 ? PK_ENOMEM
                 : pk_queue_create(o.workers, NULL, &curls);
    for (uint64_t w = 0; rc == PK_OK && w < o.workers; w++) {
        CURL *h = new_handle(&o);
        rc = h ? pk_queue_push(curls, h) : PK_ENOMEM;
    }
    json_t *sysinfo = pk_sysinfo_for_command(c, "fetch", 1);
    pk_interrupt_install();
    double seq_s = 0, pool_s = 0;
    size_t finished = 0;
    for (size_t i = 0; rc == PK_OK && i < n; i++) {
        jobs[i] = (struct job){.o = &o,
                               .url = urls[i],
                               .name = names ? names[i] : NULL,
                               .curls = curls,
                               .max_bytes = o.max_bytes};
        if (seq)
            seq[i] =
                (struct job){.o = &o, .url = urls[i], .curls = curls, .max_bytes = o.max_bytes};
    }
    if (rc == PK_OK && seq) {
        double t0 = pk_now_s();
        for (size_t i = 0; i < n && !pk_interrupted(); i++)
            fetch_one(&seq[i], NULL, NULL, NULL);
        seq_s = pk_now_s() - t0;
    }
    if (rc == PK_OK && !pk_interrupted())
        rc = run_pooled(&o, jobs, n, &finished, &pool_s);
    pk_interrupt_restore();
    bool interrupted = pk_interrupted();
    size_t failed = 0, retried = 0;
    uint64_t bytes = 0;
    for (size_t i = 0; rc == PK_OK && i < n; i++) {
        if (jobs[i].r.attempts == 0 && !jobs[i].r.error[0])
            snprintf(jobs[i].r.error, sizeof jobs[i].r.error, "not started");
        failed += !jobs[i].r.ok;
        retried += jobs[i].r.attempts > 1 ? (size_t)jobs[i].r.attempts - 1 : 0;
        bytes += jobs[i].r.bytes;
    }
    if (o.canary && rc == PK_OK)
        apply_canary(&o, jobs, n);
    char first_bad[PATH_MAX + 128] = "";
    size_t bad = rc == PK_OK ? verify(&o, jobs, seq, n, first_bad, sizeof first_bad) : 0;
    bool verified = rc == PK_OK && !interrupted && bad == 0;
    int status = rc != PK_OK || interrupted ? PK_EXIT_RUNTIME
                 : bad                      ? PK_EXIT_VERIFY
                 : failed                   ? PK_EXIT_RUNTIME
                                            : PK_EXIT_OK;
    double rate = pool_s > 0 ? (double)finished / pool_s : 0;
    json_t *rec = pk_record_new("fetch");
    json_object_set_new(rec, "params",
                        json_pack("{s:I, s:I, s:f, s:f, s:I, s:f, s:I, s:s?, s:b, s:s}", "urls",
                                  (json_int_t)n, "workers", (json_int_t)o.workers,
                                  "connect_timeout_s", o.connect_timeout_s, "timeout_s",
                                  o.timeout_s, "retries", (json_int_t)o.retries, "backoff_s",
                                  o.backoff_s, "max_redirects", (json_int_t)o.max_redirs, "out",
                                  o.out_dir, "compare", o.compare, "libcurl", curl_version()));
    json_object_set_new(rec, "result",
                        json_pack("{s:I, s:I, s:I, s:I, s:f, s:f, s:f, s:o}", "finished",
                                  (json_int_t)finished, "failed", (json_int_t)failed, "retries",
                                  (json_int_t)retried, "bytes", (json_int_t)bytes, "pooled_s",
                                  pool_s, "sequential_s", seq_s, "requests_per_s", rate, "urls",
                                  /* the per-URL list only when it is read: for thousands
                                   * of URLs it costs milliseconds */
                                  rc == PK_OK && (common.record || common.format == PK_FORMAT_JSON)
                                      ? results_json(jobs, n)
                                      : json_array()));
    json_object_set_new(rec, "verified", json_boolean(verified));
    pk_record_set_timing(rec, &pool_s, 1, 0);
    pk_record_set_provenance(rec, sysinfo);
    if (common.format == PK_FORMAT_JSON) {
        json_dumpf(rec, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
        putchar('\n');
    } else if (rc == PK_OK) {
        if (!o.quiet)
            print_results(jobs, n, common.format);
        if (common.format == PK_FORMAT_TABLE) {
            printf("# parkit fetch: %zu URLs on %llu workers (one libcurl handle each)\n", n,
                   (unsigned long long)o.workers);
            if (seq)
                printf("Sequential  %.3f s\n", seq_s);
            printf("Concurrent  %.3f s", pool_s);
            if (seq && pool_s > 0)
                printf("   Speedup %.2fx", seq_s / pool_s);
            printf("\nthroughput  %.0f requests/s, %.2f MB/s (%llu bytes)\n", rate,
                   pool_s > 0 ? (double)bytes / pool_s / 1e6 : 0.0, (unsigned long long)bytes);
            printf("failed      %zu of %zu URLs; %zu retr%s\n", failed, n, retried,
                   retried == 1 ? "y" : "ies");
            printf("verified    %s\n", verified      ? "yes (lengths, saved files, runs agree)"
                                       : interrupted ? "no (interrupted)"
                                                     : "NO");
        }
    }
    if (common.record && pk_record_append(common.record, rec, &err) != PK_OK) {
        pk_error(c, false, "fetch", "%s", err.msg);
        status = PK_EXIT_RUNTIME;
    }
    if (rc != PK_OK)
        pk_error(c, false, "fetch", "%s", pk_strerror(rc));
    else if (interrupted)
        pk_error(c, false, "fetch", "interrupted after %zu of %zu URLs", finished, n);
    else if (bad)
        pk_error(c, false, "fetch", "verification failed for %zu URL%s; first: %s", bad,
                 bad == 1 ? "" : "s", first_bad);
    else if (failed)
        pk_error(c, false, "fetch", "%zu of %zu URLs failed", failed, n);
    json_decref(rec);
    json_decref(sysinfo);
    void *h;
    while (curls && pk_queue_pop_timed(curls, &h, 0) == PK_OK)
        curl_easy_cleanup(h);
    pk_queue_destroy(curls);
    curl_global_cleanup();
    for (size_t i = 0; i < n; i++) {
        free(urls[i]);
        if (names)
            free(names[i]);
    }
    free(urls);
    free(names);
    free(jobs);
    free(seq);
    return status;
}
