/* SPDX-License-Identifier: MIT */
/* Tests of the HTTP client (parkit/http.h) and of output directories (parkit/outdir.h).
 *
 * Each HTTP case starts its own tiny server on a loopback port: one thread that answers
 * connections one after another from a script of replies (status, body length), closing each
 * connection after its reply. Bodies are a fixed byte pattern, so the oracle is computed here
 * independently (zlib's CRC-32 over the same pattern). Files go to a directory
 * http_<case>.XXXXXX under the current directory, removed when the case passes. */
#ifndef _POSIX_C_SOURCE
#    define _POSIX_C_SOURCE 200809L
#endif
#define WATCHDOG_S 30.0

#include "check.h"
/* io_test.h gives the watchdog and the crew; its sleep helper is not needed here. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include "io_test.h"
#pragma GCC diagnostic pop
#include "parkit/http.h"
#include "parkit/outdir.h"
#include "parkit/status.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <zlib.h>

enum { MAX_REPLIES = 8 };

struct reply {
    int status;
    size_t nbytes;
};

/* The server: the script is written before the thread starts and read only by it; served is
 * read after the join. */
struct server {
    int fd, port;
    struct reply script[MAX_REPLIES];
    int nreplies, served;
    struct crew crew;
};

static unsigned char pattern(size_t i)
{
    return (unsigned char)((i * 7919u + 13u) % 251u);
}

static uint32_t pattern_crc(size_t n)
{
    uLong crc = crc32(0L, Z_NULL, 0);
    for (size_t i = 0; i < n; i++) {
        unsigned char b = pattern(i);
        crc = crc32(crc, &b, 1);
    }
    return (uint32_t)crc;
}

static void send_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        c += w;
        n -= (size_t)w;
    }
}

static void *serve(void *arg)
{
    struct server *s = arg;
    for (int k = 0; k < s->nreplies; k++) {
        int c = accept(s->fd, NULL, NULL);
        if (c < 0)
            break;
        char req[4096];
        size_t have = 0;
        req[0] = '\0';
        while (have < sizeof req - 1 && !strstr(req, "\r\n\r\n")) {
            ssize_t got = recv(c, req + have, sizeof req - 1 - have, 0);
            if (got <= 0)
                break;
            have += (size_t)got;
            req[have] = '\0';
        }
        char hdr[256];
        int h = snprintf(hdr, sizeof hdr,
                         "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n",
                         s->script[k].status, s->script[k].nbytes,
                         s->script[k].status == 503 ? "Retry-After: 0\r\n" : "");
        send_all(c, hdr, (size_t)h);
        unsigned char buf[4096];
        for (size_t off = 0; off < s->script[k].nbytes;) {
            size_t n =
                s->script[k].nbytes - off < sizeof buf ? s->script[k].nbytes - off : sizeof buf;
            for (size_t i = 0; i < n; i++)
                buf[i] = pattern(off + i);
            send_all(c, buf, n);
            off += n;
        }
        close(c);
        s->served++;
    }
    return NULL;
}

/* Listens on 127.0.0.1 (a free port) and serves the replies given, in order. */
static int server_start(struct server *s, const struct reply *script, int n)
{
    *s = (struct server){.nreplies = n};
    memcpy(s->script, script, (size_t)n * sizeof *script);
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(s->fd, 8) != 0 ||
        getsockname(s->fd, (struct sockaddr *)&a, &len) != 0)
        return -1;
    s->port = ntohs(a.sin_port);
    crew_start(&s->crew, serve, s);
    return s->crew.failed ? -1 : 0;
}

/* Stops the server (shutting the listening socket wakes its accept) and returns the number of
 * replies it sent. */
static int server_stop(struct server *s)
{
    shutdown(s->fd, SHUT_RDWR);
    crew_join(&s->crew);
    close(s->fd);
    return s->served;
}

static void url(char *buf, size_t cap, const struct server *s, const char *path)
{
    snprintf(buf, cap, "http://127.0.0.1:%d%s", s->port, path);
}

static struct pk_http_opts quick_opts(void)
{
    return (struct pk_http_opts){.connect_timeout_s = 5,
                                 .timeout_s = 10,
                                 .max_redirects = 2,
                                 .retries = 0,
                                 .backoff_s = 0,
                                 .max_bytes = UINT64_C(1) << 30};
}

/* A sink that keeps the body in memory and counts restarts. */
struct mem {
    unsigned char *p;
    size_t n, cap;
    int restarts;
};

static int mem_write(void *ctx, const void *data, size_t n, struct pk_err *err)
{
    struct mem *m = ctx;
    if (m->n + n > m->cap) {
        size_t cap = 2 * (m->n + n);
        unsigned char *p = realloc(m->p, cap);
        if (!p)
            return pk_fail(err, PK_ENOMEM, "out of memory");
        m->p = p;
        m->cap = cap;
    }
    memcpy(m->p + m->n, data, n);
    m->n += n;
    return 0;
}

static int mem_restart(void *ctx, struct pk_err *err)
{
    struct mem *m = ctx;
    (void)err;
    m->n = 0;
    m->restarts++;
    return 0;
}

static bool is_pattern(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != pattern(i))
            return false;
    return true;
}

/* Files in dir (hidden ones included), to see that no temporary file was left. */
static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    if (d)
        closedir(d);
    return n;
}

static bool file_is_pattern(const char *path, size_t n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    unsigned char *p = malloc(n + 1);
    size_t got = p ? fread(p, 1, n + 1, f) : 0;
    fclose(f);
    bool ok = p && got == n && is_pattern(p, n);
    free(p);
    return ok;
}

static int case_sink_gets_body(void)
{
    WATCH();
    enum { N = 100003 }; /* prime: never a whole number of libcurl's buffers */
    struct server s;
    CHECK(server_start(&s, (struct reply[]){{200, N}}, 1) == 0);
    struct pk_http_opts o = quick_opts();
    struct pk_http *h = NULL;
    CHECK_OK(pk_http_create(&o, &h, NULL));
    struct mem m = {0};
    struct pk_http_sink sink = {.write = mem_write, .restart = mem_restart, .ctx = &m};
    struct pk_http_result r;
    char u[64];
    url(u, sizeof u, &s, "/a");
    CHECK_OK(pk_http_get(h, u, &sink, NULL, NULL, &r, NULL));
    CHECK_EQ_INT(server_stop(&s), 1);
    pk_http_destroy(h);
    CHECK_EQ_INT(r.status, 200);
    CHECK_EQ_INT(r.attempts, 1);
    CHECK_EQ_INT(r.bytes, N);
    CHECK_EQ_INT(r.announced, N);
    CHECK_EQ_INT(r.crc32, pattern_crc(N));
    CHECK_EQ_INT(m.n, N);
    CHECK(is_pattern(m.p, m.n));
    CHECK_EQ_INT(m.restarts, 0);
    CHECK(!r.saved);
    free(m.p);
    return 0;
}

/* A 503 (with Retry-After: 0) is retried; the sink starts over before the second attempt. */
static int case_retry_restarts_sink(void)
{
    WATCH();
    struct server s;
    CHECK(server_start(&s, (struct reply[]){{503, 777}, {200, 4099}}, 2) == 0);
    struct pk_http_opts o = quick_opts();
    o.retries = 3;
    o.backoff_s = 5; /* Retry-After: 0 must win, or the case takes 5 s */
    struct pk_http *h = NULL;
    CHECK_OK(pk_http_create(&o, &h, NULL));
    struct mem m = {0};
    struct pk_http_sink sink = {.write = mem_write, .restart = mem_restart, .ctx = &m};
    struct pk_http_result r;
    char u[64];
    url(u, sizeof u, &s, "/flaky");
    double t0 = now_s();
    CHECK_OK(pk_http_get(h, u, &sink, NULL, NULL, &r, NULL));
    double took = now_s() - t0;
    CHECK_EQ_INT(server_stop(&s), 2);
    pk_http_destroy(h);
    CHECK_EQ_INT(r.attempts, 2);
    CHECK_EQ_INT(m.restarts, 1);
    CHECK_EQ_INT(m.n, 4099);
    CHECK(is_pattern(m.p, m.n));
    CHECK_EQ_INT(r.crc32, pattern_crc(4099));
    CHECK(took < 4);
    free(m.p);
    return 0;
}

/* A 404 is a failure naming the status and is not retried; nothing is saved. */
static int case_http_error_not_saved(void)
{
    WATCH();
    char dir[] = "http_error.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    struct server s;
    CHECK(server_start(&s, (struct reply[]){{404, 10}}, 1) == 0);
    struct pk_http_opts o = quick_opts();
    o.retries = 2;
    struct pk_http *h = NULL;
    CHECK_OK(pk_http_create(&o, &h, NULL));
    char path[128], u[64];
    snprintf(path, sizeof path, "%s/f", dir);
    struct pk_http_save save = {.path = path, .mode = 0644};
    struct pk_http_result r;
    struct pk_err err = {0};
    url(u, sizeof u, &s, "/missing");
    CHECK_EQ_INT(pk_http_get(h, u, NULL, &save, NULL, &r, &err), PK_ENET);
    CHECK_EQ_INT(server_stop(&s), 1);
    pk_http_destroy(h);
    CHECK(strcmp(err.msg, "HTTP 404") == 0);
    CHECK_EQ_INT(r.status, 404);
    CHECK_EQ_INT(r.attempts, 1);
    CHECK(!r.saved);
    CHECK_EQ_INT(count_entries(dir), 0);
    CHECK(rmdir(dir) == 0);
    return 0;
}

/* Saved atomically with the mode asked for; an existing file stays unless force. */
static int case_save_mode_and_noreplace(void)
{
    WATCH();
    enum { N = 65537 };
    char dir[] = "http_save.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    struct server s;
    CHECK(server_start(&s, (struct reply[]){{200, N}, {200, 5}, {200, 3}}, 3) == 0);
    struct pk_http_opts o = quick_opts();
    struct pk_http *h = NULL;
    CHECK_OK(pk_http_create(&o, &h, NULL));
    char path[128], u[64];
    snprintf(path, sizeof path, "%s/body", dir);
    struct pk_http_save save = {.path = path, .mode = 0640};
    struct pk_http_result r;
    struct pk_err err = {0};
    url(u, sizeof u, &s, "/body");
    CHECK_OK(pk_http_get(h, u, NULL, &save, NULL, &r, &err));
    CHECK(r.saved);
    struct stat st;
    CHECK(stat(path, &st) == 0);
    CHECK_EQ_INT(st.st_mode & 07777, 0640);
    CHECK(file_is_pattern(path, N));
    CHECK_EQ_INT(pk_http_get(h, u, NULL, &save, NULL, &r, &err), PK_EIO);
    CHECK(strstr(err.msg, "not replacing existing") != NULL);
    CHECK(!r.saved);
    CHECK(file_is_pattern(path, N)); /* the first body, untouched */
    save.force = true;
    CHECK_OK(pk_http_get(h, u, NULL, &save, NULL, &r, &err));
    CHECK(file_is_pattern(path, 3));
    CHECK_EQ_INT(server_stop(&s), 3);
    pk_http_destroy(h);
    CHECK_EQ_INT(count_entries(dir), 1); /* no temporary file left */
    CHECK(unlink(path) == 0 && rmdir(dir) == 0);
    return 0;
}

/* A body over max_bytes fails (PK_ERANGE) and leaves no file. */
static int case_max_bytes(void)
{
    WATCH();
    char dir[] = "http_max.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    struct server s;
    CHECK(server_start(&s, (struct reply[]){{200, 1000}}, 1) == 0);
    struct pk_http_opts o = quick_opts();
    o.max_bytes = 999;
    o.retries = 2; /* not transient: one attempt */
    struct pk_http *h = NULL;
    CHECK_OK(pk_http_create(&o, &h, NULL));
    char path[128], u[64];
    snprintf(path, sizeof path, "%s/big", dir);
    struct pk_http_save save = {.path = path, .mode = 0644};
    struct pk_http_result r;
    struct pk_err err = {0};
    url(u, sizeof u, &s, "/big");
    CHECK_EQ_INT(pk_http_get(h, u, NULL, &save, NULL, &r, &err), PK_ERANGE);
    CHECK_EQ_INT(server_stop(&s), 1);
    pk_http_destroy(h);
    CHECK(strstr(err.msg, "999") != NULL);
    CHECK_EQ_INT(r.attempts, 1);
    CHECK_EQ_INT(count_entries(dir), 0);
    CHECK(rmdir(dir) == 0);
    return 0;
}

/* Only http and https: file:// is refused without being read. */
static int case_protocols_restricted(void)
{
    WATCH();
    struct pk_http_opts o = quick_opts();
    struct pk_http *h = NULL;
    CHECK_OK(pk_http_create(&o, &h, NULL));
    struct mem m = {0};
    struct pk_http_sink sink = {.write = mem_write, .ctx = &m};
    struct pk_http_result r;
    struct pk_err err = {0};
    CHECK_EQ_INT(pk_http_get(h, "file:///etc/passwd", &sink, NULL, NULL, &r, &err), PK_ENET);
    pk_http_destroy(h);
    CHECK_EQ_INT(m.n, 0);
    CHECK(err.msg[0] != '\0');
    free(m.p);
    return 0;
}

static double abort_at_s; /* written and read by the case's own thread only */

static bool abort_later(void *ctx)
{
    (void)ctx;
    return now_s() >= abort_at_s;
}

/* A refused connection is retried after the backoff; the abort hook ends the wait early. */
static int case_abort_ends_backoff(void)
{
    WATCH();
    struct pk_http_opts o = quick_opts();
    o.retries = 5;
    o.backoff_s = 20; /* never waited in full: the hook aborts within 10 ms */
    o.abort_requested = abort_later;
    struct pk_http *h = NULL;
    CHECK_OK(pk_http_create(&o, &h, NULL));
    struct pk_http_result r;
    struct pk_err err = {0};
    double t0 = now_s();
    abort_at_s = t0 + 0.3; /* after the refusal (immediate on loopback), during the wait */
    /* port 1 on loopback: nothing listens there, the connection is refused at once */
    CHECK_EQ_INT(pk_http_get(h, "http://127.0.0.1:1/", NULL, NULL, NULL, &r, &err), PK_ECANCELED);
    double took = now_s() - t0;
    pk_http_destroy(h);
    CHECK(strcmp(err.msg, "cancelled") == 0);
    CHECK_EQ_INT(r.attempts, 1);
    CHECK(took < 5);
    return 0;
}

/* Without Retry-After the waits are backoff, then twice that: 0.1 + 0.2 s before the third
 * attempt (they were skipped when libcurl's "no header" 0 was taken for "Retry-After: 0"). */
static int case_backoff_doubles(void)
{
    WATCH();
    struct pk_http_opts o = quick_opts();
    o.retries = 2;
    o.backoff_s = 0.1;
    struct pk_http *h = NULL;
    CHECK_OK(pk_http_create(&o, &h, NULL));
    struct pk_http_result r;
    double t0 = now_s();
    CHECK_EQ_INT(pk_http_get(h, "http://127.0.0.1:1/", NULL, NULL, NULL, &r, NULL), PK_ENET);
    double took = now_s() - t0;
    pk_http_destroy(h);
    CHECK_EQ_INT(r.attempts, 3);
    CHECK(took >= 0.3);
    CHECK(r.time_s >= 0.3);
    return 0;
}

static int case_invalid_arguments(void)
{
    WATCH();
    struct pk_http_opts o = quick_opts();
    o.timeout_s = 0;
    struct pk_http *h = (struct pk_http *)&o;
    struct pk_err err = {0};
    CHECK_EQ_INT(pk_http_create(&o, &h, &err), PK_EINVAL);
    CHECK(h == NULL);
    CHECK(strstr(err.msg, "timeout") != NULL);
    o = quick_opts();
    CHECK_OK(pk_http_create(&o, &h, NULL));
    struct mem m = {0};
    struct pk_http_sink sink = {.write = mem_write, .ctx = &m};
    struct pk_http_save save = {.path = "never", .mode = 0644};
    struct pk_http_result r;
    CHECK_EQ_INT(pk_http_get(h, "http://127.0.0.1:1/", &sink, &save, NULL, &r, &err), PK_EINVAL);
    CHECK_EQ_INT(r.attempts, 0);
    CHECK(access("never", F_OK) != 0);
    pk_http_destroy(h);
    pk_http_destroy(NULL);
    return 0;
}

static int case_outdir_makes_parents(void)
{
    WATCH();
    char dir[] = "http_outdir.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    mode_t mask = umask(027); /* one thread here: nothing else creates files meanwhile */
    char path[128];
    snprintf(path, sizeof path, "%s/a/b/c", dir);
    bool created = false;
    CHECK_OK(pk_outdir_make(path, &created, NULL));
    CHECK(created);
    struct stat st;
    CHECK(stat(path, &st) == 0 && S_ISDIR(st.st_mode));
    CHECK_EQ_INT(st.st_mode & 07777, 0750);
    snprintf(path, sizeof path, "%s/a", dir);
    CHECK(stat(path, &st) == 0);
    CHECK_EQ_INT(st.st_mode & 07777, 0750);
    umask(mask);
    CHECK_OK(pk_outdir_make(path, &created, NULL)); /* exists: used as it is */
    CHECK(!created);
    snprintf(path, sizeof path, "%s/file", dir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fclose(f);
    struct pk_err err = {0};
    CHECK_EQ_INT(pk_outdir_make(path, &created, &err), PK_EINVAL);
    CHECK(strstr(err.msg, "is not a directory") != NULL);
    snprintf(path, sizeof path, "%s/file/sub", dir);
    CHECK_EQ_INT(pk_outdir_make(path, &created, &err), PK_EIO);
    CHECK(strstr(err.msg, "Not a directory") != NULL);
    CHECK_EQ_INT(pk_outdir_make("", NULL, &err), PK_EINVAL);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -r '%s'", dir);
    CHECK(system(cmd) == 0);
    return 0;
}

static const struct check_case cases[] = {
    {"sink_gets_body", case_sink_gets_body},
    {"retry_restarts_sink", case_retry_restarts_sink},
    {"http_error_not_saved", case_http_error_not_saved},
    {"save_mode_and_noreplace", case_save_mode_and_noreplace},
    {"max_bytes", case_max_bytes},
    {"protocols_restricted", case_protocols_restricted},
    {"abort_ends_backoff", case_abort_ends_backoff},
    {"backoff_doubles", case_backoff_doubles},
    {"invalid_arguments", case_invalid_arguments},
    {"outdir_makes_parents", case_outdir_makes_parents},
};

int main(int argc, char **argv)
{
    if (pk_http_global_init(NULL) != PK_OK)
        return 1;
    int rc = CHECK_MAIN(cases);
    pk_http_global_cleanup();
    return rc;
}
