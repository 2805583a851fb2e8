/* SPDX-License-Identifier: MIT */
/* A small HTTP/1.1 server on loopback for the fetch tests and benchmark: never the internet.
 * One thread per connection, keep-alive, GET and HEAD. Routes:
 *   /                 a short index page
 *   /bytes/N          N bytes of a pattern that depends on N (the tests recompute it)
 *   /files/NAME       a file from --root (no '/' or leading '.' in NAME)
 *   /status/C         status C with a short body
 *   /slow/MS          waits MS milliseconds, then 200
 *   /redirect/K       302 to /redirect/K-1; /redirect/0 answers 200
 *   /flaky/ID/K       503 (Retry-After: 0) for the first K requests of ID, then 200
 *   /truncated/N      promises N bytes, sends half, closes the connection
 *   /uuid[?...]       a new identifier on every request, always 49 bytes (content that changes)
 * Usage: httpd --port-file F [--root DIR] [--idle-exit S]. It binds 127.0.0.1 on a free port,
 * writes the port to F once it listens, and exits on SIGTERM/SIGINT or after S seconds without
 * a request (default 120), so a test that dies cannot leave it running for long. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *root = ".";
static _Atomic long last_request_s;
static _Atomic unsigned long uuid_serial; /* /uuid: requests served so far */
static volatile sig_atomic_t stop;

/* flaky counters: guarded by flaky_lock */
#define FLAKY_MAX 256
static pthread_mutex_t flaky_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    char id[32];
    long hits;
} flaky[FLAKY_MAX];

static long now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec;
}

static int send_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Byte i of /bytes/N: a pattern that changes with N, so a response of the wrong length or
 * from the wrong URL cannot match by accident. */
static unsigned char pattern_byte(unsigned long n, unsigned long i)
{
    return (unsigned char)((i * 131u + n * 7u + (i >> 8)) & 0xff);
}

static int reply(int fd, int status, const char *extra_headers, const void *body, size_t len,
                 bool head)
{
    const char *reason = status == 200   ? "OK"
                         : status == 302 ? "Found"
                         : status == 404 ? "Not Found"
                         : status == 503 ? "Service Unavailable"
                                         : "Status";
    char hdr[512];
    int h = snprintf(hdr, sizeof hdr,
                     "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\nContent-Type: "
                     "application/octet-stream\r\n%s\r\n",
                     status, reason, len, extra_headers ? extra_headers : "");
    if (send_all(fd, hdr, (size_t)h) != 0)
        return -1;
    return head || len == 0 ? 0 : send_all(fd, body, len);
}

static int serve_bytes(int fd, unsigned long n, bool head)
{
    if (head)
        return reply(fd, 200, NULL, NULL, n, true);
    char hdr[128];
    int h = snprintf(hdr, sizeof hdr,
                     "HTTP/1.1 200 OK\r\nContent-Length: %lu\r\nContent-Type: "
                     "application/octet-stream\r\n\r\n",
                     n);
    if (send_all(fd, hdr, (size_t)h) != 0)
        return -1;
    unsigned char buf[16384];
    for (unsigned long i = 0; i < n;) {
        size_t k = 0;
        for (; k < sizeof buf && i < n; k++, i++)
            buf[k] = pattern_byte(n, i);
        if (send_all(fd, buf, k) != 0)
            return -1;
    }
    return 0;
}

static int serve_file(int fd, const char *name, bool head)
{
    if (!*name || strchr(name, '/') || name[0] == '.')
        return reply(fd, 404, NULL, "no such file\n", 13, head);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", root, name);
    int in = open(path, O_RDONLY);
    struct stat st;
    if (in < 0 || fstat(in, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (in >= 0)
            close(in);
        return reply(fd, 404, NULL, "no such file\n", 13, head);
    }
    char *body = malloc(st.st_size ? (size_t)st.st_size : 1);
    ssize_t got = body ? read(in, body, (size_t)st.st_size) : -1;
    close(in);
    int rc = got == st.st_size ? reply(fd, 200, NULL, body, (size_t)got, head)
                               : reply(fd, 500, NULL, "read error\n", 11, head);
    free(body);
    return rc;
}

/* Handles one request; returns -1 to close the connection. */
static int handle(int fd, const char *method, const char *target)
{
    bool head = strcmp(method, "HEAD") == 0;
    if (!head && strcmp(method, "GET") != 0)
        return reply(fd, 405, NULL, "GET or HEAD\n", 12, false);
    unsigned long a = 0, b = 0;
    char id[32];
    if (strcmp(target, "/") == 0)
        return reply(fd, 200, NULL, "parkit test server\n", 19, head);
    if (sscanf(target, "/bytes/%lu", &a) == 1)
        return serve_bytes(fd, a, head);
    if (strncmp(target, "/files/", 7) == 0)
        return serve_file(fd, target + 7, head);
    if (sscanf(target, "/status/%lu", &a) == 1 && a >= 200 && a < 600)
        return reply(fd, (int)a, NULL, "status\n", 7, head);
    if (sscanf(target, "/slow/%lu", &a) == 1) {
        struct timespec ts = {(time_t)(a / 1000), (long)(a % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        return reply(fd, 200, NULL, "slow\n", 5, head);
    }
    if (sscanf(target, "/redirect/%lu", &a) == 1) {
        if (a == 0)
            return reply(fd, 200, NULL, "done\n", 5, head);
        char loc[64];
        snprintf(loc, sizeof loc, "Location: /redirect/%lu\r\n", a - 1);
        return reply(fd, 302, loc, "", 0, head);
    }
    if (sscanf(target, "/flaky/%31[^/]/%lu", id, &b) == 2) {
        long hits = -1;
        pthread_mutex_lock(&flaky_lock);
        for (int i = 0; i < FLAKY_MAX; i++)
            if (!flaky[i].id[0] || strcmp(flaky[i].id, id) == 0) {
                snprintf(flaky[i].id, sizeof flaky[i].id, "%s", id);
                hits = flaky[i].hits++;
                break;
            }
        pthread_mutex_unlock(&flaky_lock);
        if (hits >= 0 && (unsigned long)hits < b)
            return reply(fd, 503, "Retry-After: 0\r\n", "busy\n", 5, head);
        return reply(fd, 200, NULL, "ok\n", 3, head);
    }
    if (strcmp(target, "/uuid") == 0 || strncmp(target, "/uuid?", 6) == 0) {
        /* version-4 shape, the serial mixed so that every digit changes from one to the next */
        unsigned long long v = (atomic_fetch_add(&uuid_serial, 1) + 1) * 0x9E3779B97F4A7C15ULL;
        char body[64];
        int n = snprintf(body, sizeof body,
                         "{\"uuid\": \"%08llx-%04llx-4%03llx-a%03llx-%012llx\"}\n", v >> 32, (v >> 16) & 0xffff, v & 0xfff, (v >> 52) & 0xfff,
                         (v * 31) & 0xffffffffffffULL);
        return reply(fd, 200, NULL, body, (size_t)n, head);
    }
    if (sscanf(target, "/truncated/%lu", &a) == 1) {
        char hdr[128];
        int h = snprintf(hdr, sizeof hdr, "HTTP/1.1 200 OK\r\nContent-Length: %lu\r\n\r\n", a);
        send_all(fd, hdr, (size_t)h);
        char *half = calloc(a / 2 + 1, 1);
        if (half)
            send_all(fd, half, a / 2);
        free(half);
        return -1;
    }
    return reply(fd, 404, NULL, "no such route\n", 14, head);
}

static void *connection(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char buf[8192];
    size_t have = 0;
    for (;;) {
        char *end = memmem(buf, have, "\r\n\r\n", 4);
        if (!end) {
            if (have == sizeof buf)
                break; /* header too large */
            ssize_t r = recv(fd, buf + have, sizeof buf - have, 0);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            have += (size_t)r;
            continue;
        }
        atomic_store(&last_request_s, now_s());
        *end = '\0';
        char method[16], target[2048], version[16];
        bool close_after = strcasestr(buf, "\r\nConnection: close") != NULL;
        int rc = sscanf(buf, "%15s %2047s %15s", method, target, version) == 3
                     ? handle(fd, method, target)
                     : reply(fd, 400, NULL, "bad request\n", 12, false);
        size_t used = (size_t)(end + 4 - buf);
        memmove(buf, buf + used, have - used);
        have -= used;
        if (rc != 0 || close_after)
            break;
    }
    close(fd);
    return NULL;
}

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

int main(int argc, char **argv)
{
    const char *port_file = NULL;
    long idle_exit = 120;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--port-file") == 0)
            port_file = argv[i + 1];
        else if (strcmp(argv[i], "--root") == 0)
            root = argv[i + 1];
        else if (strcmp(argv[i], "--idle-exit") == 0)
            idle_exit = atol(argv[i + 1]);
        else {
            fprintf(stderr, "httpd: unknown option '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!port_file) {
        fprintf(stderr, "usage: httpd --port-file F [--root DIR] [--idle-exit S]\n");
        return 2;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof addr;
    if (ls < 0 || bind(ls, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(ls, 1024) != 0 ||
        getsockname(ls, (struct sockaddr *)&addr, &alen) != 0) {
        perror("httpd: listen");
        return 1;
    }
    /* the port appears in the file all at once: written to a temporary name, then renamed */
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%d\n", ntohs(addr.sin_port)) < 0 || fclose(f) != 0 ||
        rename(tmp, port_file) != 0) {
        perror("httpd: port file");
        return 1;
    }
    atomic_store(&last_request_s, now_s());
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    while (!stop && now_s() - atomic_load(&last_request_s) < idle_exit) {
        struct pollfd p = {.fd = ls, .events = POLLIN};
        if (poll(&p, 1, 200) <= 0)
            continue;
        int fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        pthread_t t;
        if (pthread_create(&t, &attr, connection, (void *)(intptr_t)fd) != 0)
            close(fd);
    }
    unlink(port_file);
    return 0;
}
