/* SPDX-License-Identifier: MIT */
/* Tests of raw float64 files (parkit/rawfile.h): the stream gives the same bits as the file
 * holds, mapped or read, on blocks that start and end off the page grid; a file shorter than
 * asked for is an error naming it (never a crash); blocks outlive the stream and may be released
 * by another thread, as transform's reader and compute stages do. Each case writes its own file
 * under /tmp. */
#ifndef _POSIX_C_SOURCE
#    define _POSIX_C_SOURCE 200809L
#endif

#include "check.h"
#include "parkit/queue.h"
#include "parkit/rawfile.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A prime count of values, so no block size divides it: 781 KiB, about 191 pages. */
#define NVALUES 100003

static char path[64];

/* High-entropy values (not 0, 1, 2...): every bit of the mantissa matters. */
static double value(uint64_t i)
{
    return (double)i * 0.7071067811865476 + 1.0 / (double)(i + 3) - 1e5;
}

/* Writes NVALUES values little-endian (the test hosts are little-endian; see below). */
static int make_file(uint64_t n)
{
    snprintf(path, sizeof path, "/tmp/pk_rawfile_XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    FILE *f = fdopen(fd, "wb");
    for (uint64_t i = 0; f && i < n; i++) {
        double v = value(i);
        fwrite(&v, 8, 1, f);
    }
    return f && fclose(f) == 0 ? 0 : -1;
}

static bool same_bits(const double *x, uint64_t first, size_t n)
{
    for (size_t j = 0; j < n; j++) {
        double want = value(first + j);
        if (memcmp(&x[j], &want, 8) != 0) {
            fprintf(stderr, "value %llu: got %a, want %a\n", (unsigned long long)(first + j), x[j],
                    want);
            return false;
        }
    }
    return true;
}

/* The whole file in blocks of `step` values, from `first`: every value as written. */
static int stream_all(bool map, uint64_t first, size_t step, bool *mapped)
{
    struct pk_rawfile_stream *s;
    struct pk_err err = {0};
    CHECK_OK(pk_rawfile_stream_open(path, map, &s, &err));
    double *buf = malloc(step * sizeof *buf);
    CHECK(buf);
    *mapped = false;
    for (uint64_t pos = first; pos < NVALUES;) {
        size_t n = NVALUES - pos < step ? (size_t)(NVALUES - pos) : step;
        struct pk_rawfile_block b;
        CHECK_OK(pk_rawfile_stream_get(s, pos, n, buf, &b, &err));
        CHECK(b.first == pos && b.n == n);
        CHECK(pk_rawfile_block_mapped(&b) ? b.values != buf : b.values == buf);
        *mapped = *mapped || pk_rawfile_block_mapped(&b);
        CHECK(same_bits(b.values, pos, n));
        pk_rawfile_block_release(&b);
        CHECK(!pk_rawfile_block_mapped(&b) && b.values == NULL);
        pos += n;
    }
    free(buf);
    pk_rawfile_stream_close(s);
    return 0;
}

static int case_mapped_and_read(void)
{
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
    return 77; /* the file is written in host order */
#endif
    CHECK_OK(make_file(NVALUES));
    bool mapped = false, read_mapped = true;
    /* 4099 values: blocks begin at every offset within a page; 1 value: the smallest block */
    int rc = stream_all(true, 0, 4099, &mapped);
    if (rc == 0)
        rc = stream_all(false, 0, 4099, &read_mapped);
    if (rc == 0)
        rc = stream_all(true, NVALUES - 3, 1, &mapped);
    unlink(path);
    CHECK_OK(rc);
    CHECK(mapped);       /* a regular file in /tmp maps */
    CHECK(!read_mapped); /* map = false never maps */
    return 0;
}

/* The stream and pk_rawfile_read agree on a slice that starts mid-page. */
static int case_agrees_with_read(void)
{
    CHECK_OK(make_file(NVALUES));
    double *x = malloc(5000 * sizeof *x), *buf = malloc(5000 * sizeof *buf);
    CHECK(x && buf);
    struct pk_err err = {0};
    struct pk_rawfile_stream *s = NULL;
    struct pk_rawfile_block b = {0};
    int rc = pk_rawfile_read(path, 777, 5000, x, &err);
    if (rc == PK_OK)
        rc = pk_rawfile_stream_open(path, true, &s, &err);
    if (rc == PK_OK)
        rc = pk_rawfile_stream_get(s, 777, 5000, buf, &b, &err);
    bool same = rc == PK_OK && memcmp(x, b.values, 5000 * sizeof *x) == 0;
    pk_rawfile_block_release(&b);
    pk_rawfile_stream_close(s);
    unlink(path);
    free(x);
    free(buf);
    CHECK_OK(rc);
    CHECK(same);
    return 0;
}

/* A file shorter than asked for (truncated after it was counted): PK_EIO naming the file, an
 * empty block, no SIGBUS; mapped and read alike. A block of 0 values is fine anywhere. */
static int case_truncated(void)
{
    CHECK_OK(make_file(100));
    double buf[64];
    for (int map = 0; map < 2; map++) {
        struct pk_rawfile_stream *s;
        struct pk_err err = {0};
        CHECK_OK(pk_rawfile_stream_open(path, map, &s, &err));
        struct pk_rawfile_block b;
        int rc = pk_rawfile_stream_get(s, 80, 40, buf, &b, &err);
        bool named = strstr(err.msg, path) && strstr(err.msg, "truncated");
        int rc0 = pk_rawfile_stream_get(s, 500, 0, buf, &b, &err);
        pk_rawfile_stream_close(s);
        CHECK_EQ_INT(rc, PK_EIO);
        CHECK(named);
        CHECK_OK(rc0);
        CHECK(b.n == 0 && !pk_rawfile_block_mapped(&b));
    }
    unlink(path);
    return 0;
}

/* The file shrinks while a block of it is mapped (another process truncating it): reading the
 * block's values past the new end gives zeros instead of SIGBUS, the stream says it changed,
 * and a second stream that saw no change says so. */
static int case_shrunk_under_mapping(void)
{
    CHECK_OK(make_file(NVALUES));
    struct pk_err err = {0};
    struct pk_rawfile_stream *s, *other;
    CHECK_OK(pk_rawfile_stream_open(path, true, &s, &err));
    CHECK_OK(pk_rawfile_stream_open(path, true, &other, &err));
    double *buf = malloc(NVALUES * sizeof *buf);
    CHECK(buf);
    struct pk_rawfile_block b;
    CHECK_OK(pk_rawfile_stream_get(s, 0, NVALUES, buf, &b, &err));
    CHECK(pk_rawfile_block_mapped(&b));
    CHECK(!pk_rawfile_stream_changed(s));
    CHECK_OK(truncate(path, 8 * 1000)); /* keep 1000 values */
    double tail = 0;
    for (size_t j = 50000; j < NVALUES; j++)
        tail += b.values[j]; /* past the end: SIGBUS before the guard */
    bool head_same = same_bits(b.values, 0, 1000);
    pk_rawfile_block_release(&b);
    bool changed = pk_rawfile_stream_changed(s), other_changed = pk_rawfile_stream_changed(other);
    pk_rawfile_stream_close(s);
    pk_rawfile_stream_close(other);
    unlink(path);
    free(buf);
    CHECK(tail == 0.0);
    CHECK(head_same);
    CHECK(changed);
    CHECK(!other_changed);
    return 0;
}

static int case_errors(void)
{
    struct pk_rawfile_stream *s = (struct pk_rawfile_stream *)&s;
    struct pk_err err = {0};
    CHECK_EQ_INT(pk_rawfile_stream_open("/nonexistent/pk.f64", true, &s, &err), PK_EIO);
    CHECK(s == NULL);
    CHECK(strstr(err.msg, "cannot open '/nonexistent/pk.f64'"));
    pk_rawfile_stream_close(NULL);
    pk_rawfile_block_release(NULL);
    struct pk_rawfile_block empty = {0};
    pk_rawfile_block_release(&empty);
    return 0;
}

/* A reader thread gets blocks and hands them over a queue; this thread checks and releases
 * them after the stream is closed, as transform's stages do (run under ThreadSanitizer). */
struct reader {
    struct pk_queue *q;
    int status;
};

static void *reader_main(void *arg)
{
    struct reader *r = arg;
    struct pk_rawfile_stream *s;
    struct pk_err err = {0};
    r->status = pk_rawfile_stream_open(path, true, &s, &err);
    for (uint64_t pos = 0; r->status == PK_OK && pos < NVALUES; pos += 10007) {
        size_t n = NVALUES - pos < 10007 ? (size_t)(NVALUES - pos) : 10007;
        struct pk_rawfile_block *b = malloc(sizeof *b);
        double *buf = malloc(n * sizeof *buf);
        if (!b || !buf)
            r->status = PK_ENOMEM;
        if (r->status == PK_OK)
            r->status = pk_rawfile_stream_get(s, pos, n, buf, b, &err);
        if (r->status == PK_OK && pk_rawfile_block_mapped(b))
            free(buf); /* the mapping holds the values */
        if (r->status == PK_OK)
            r->status = pk_queue_push(r->q, b);
        if (r->status != PK_OK) {
            free(b);
            free(buf);
        }
    }
    pk_rawfile_stream_close(s);
    pk_queue_close(r->q);
    return NULL;
}

static int case_blocks_cross_threads(void)
{
    CHECK_OK(make_file(NVALUES));
    struct reader r = {0};
    CHECK_OK(pk_queue_create(2, NULL, &r.q));
    pthread_t t;
    CHECK_OK(pthread_create(&t, NULL, reader_main, &r));
    void *item;
    bool ok = true;
    uint64_t next = 0;
    while (pk_queue_pop(r.q, &item) == PK_OK) {
        struct pk_rawfile_block *b = item;
        ok = ok && b->first == next && same_bits(b->values, b->first, b->n);
        next = b->first + b->n;
        double *copy = pk_rawfile_block_mapped(b) ? NULL : (double *)b->values;
        pk_rawfile_block_release(b);
        free(copy);
        free(b);
    }
    pthread_join(t, NULL);
    pk_queue_destroy(r.q);
    unlink(path);
    CHECK_OK(r.status);
    CHECK(ok && next == NVALUES);
    return 0;
}

/* How many of this process's mappings are of path (/proc/self/maps); -1 without /proc. */
static int mappings_of_path(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return -1;
    char line[512];
    int n = 0;
    while (fgets(line, sizeof line, f))
        n += strstr(line, path) != NULL;
    fclose(f);
    return n;
}

/* Blocks view one mapping of the file (not one each), which outlives the stream while a block
 * views it and goes with the last one; a block before the window maps on its own. */
static int case_window_lifetime(void)
{
    CHECK_OK(make_file(NVALUES));
    struct pk_err err = {0};
    struct pk_rawfile_stream *s;
    CHECK_OK(pk_rawfile_stream_open(path, true, &s, &err));
    double buf[4096];
    struct pk_rawfile_block b[4];
    for (int k = 0; k < 3; k++)
        CHECK_OK(pk_rawfile_stream_get(s, 1000 + 4096 * (uint64_t)k, 4096, buf, &b[k], &err));
    CHECK_OK(pk_rawfile_stream_get(s, 10, 500, buf, &b[3], &err)); /* before the window */
    int with_all = mappings_of_path();
    pk_rawfile_stream_close(s);
    bool ok = true;
    for (int k = 0; k < 4; k++)
        ok = ok && pk_rawfile_block_mapped(&b[k]) && same_bits(b[k].values, b[k].first, b[k].n);
    pk_rawfile_block_release(&b[3]);
    pk_rawfile_block_release(&b[0]);
    pk_rawfile_block_release(&b[1]);
    int one_left = mappings_of_path();
    ok = ok && same_bits(b[2].values, b[2].first, b[2].n);
    pk_rawfile_block_release(&b[2]);
    int none_left = mappings_of_path();
    unlink(path);
    if (with_all < 0)
        return 77; /* no /proc: the values were still checked */
    CHECK(ok);
    CHECK_EQ_INT(with_all, 2); /* the window and the block before it */
    CHECK_EQ_INT(one_left, 1);
    CHECK_EQ_INT(none_left, 0);
    return 0;
}

/* Copies from several threads at once, on the same stream, each its own slices: every value as
 * written; past the end, PK_EIO naming the file and where it ended. */
struct copier {
    struct pk_rawfile_stream *s;
    uint64_t first, stride;
    int bad;
};

static void *copy_slices(void *arg)
{
    struct copier *c = arg;
    double buf[3001];
    struct pk_err e = {0};
    for (uint64_t pos = c->first; pos < NVALUES; pos += c->stride) {
        size_t n = NVALUES - pos < 3001 ? (size_t)(NVALUES - pos) : 3001;
        c->bad += pk_rawfile_stream_copy(c->s, pos, n, buf, &e) != PK_OK || !same_bits(buf, pos, n);
    }
    return NULL;
}

static int case_copy_concurrent(void)
{
    CHECK_OK(make_file(NVALUES));
    struct pk_rawfile_stream *s = NULL;
    struct pk_err err = {0};
    CHECK_OK(pk_rawfile_stream_open(path, false, &s, &err));
    struct copier c[3];
    pthread_t th[3];
    for (int t = 0; t < 3; t++) {
        c[t] = (struct copier){s, (uint64_t)t * 3001, 3 * 3001, 0};
        CHECK(pthread_create(&th[t], NULL, copy_slices, &c[t]) == 0);
    }
    for (int t = 0; t < 3; t++)
        pthread_join(th[t], NULL);
    double tail[10];
    int rc = pk_rawfile_stream_copy(s, NVALUES - 5, 10, tail, &err);
    pk_rawfile_stream_close(s);
    unlink(path);
    CHECK_EQ_INT(c[0].bad + c[1].bad + c[2].bad, 0);
    CHECK_EQ_INT(rc, PK_EIO);
    CHECK(strstr(err.msg, path) && strstr(err.msg, "ended or failed at value 100003"));
    return 0;
}

static const struct check_case cases[] = {
    {"window_lifetime", case_window_lifetime},
    {"mapped_and_read", case_mapped_and_read},
    {"agrees_with_read", case_agrees_with_read},
    {"truncated", case_truncated},
    {"errors", case_errors},
    {"shrunk_under_mapping", case_shrunk_under_mapping},
    {"blocks_cross_threads", case_blocks_cross_threads},
    {"copy_concurrent", case_copy_concurrent},
};

int main(int argc, char **argv)
{
    return CHECK_MAIN(cases);
}
