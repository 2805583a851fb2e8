/* SPDX-License-Identifier: MIT */
/* Raw float64 files: whole slices (pk_rawfile_read) and streams of blocks; see parkit/rawfile.h.
 * MADV_POPULATE_READ and MAP_POPULATE (Linux) are outside POSIX; without them the stream faults
 * the pages in itself. */
#define _DEFAULT_SOURCE
#include "parkit/rawfile.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Values are little-endian in the file; on a big-endian host they are swapped after reading. */
static void from_little_endian(double *x, size_t n)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    for (size_t i = 0; i < n; i++) {
        uint64_t v;
        memcpy(&v, &x[i], 8);
        v = __builtin_bswap64(v);
        memcpy(&x[i], &v, 8);
    }
#else
    (void)x;
    (void)n;
#endif
}

/* Files of /proc and similar say 0 bytes and then give data: the size cannot be trusted, and
 * the blocks are planned from it, so such a file would be read as empty and verified. One byte
 * read tells them apart from an empty file; a file that cannot be opened counts as empty here
 * (the read that follows reports why). */
static bool really_empty(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return true;
    char c;
    ssize_t got = read(fd, &c, 1);
    close(fd);
    return got <= 0;
}

int pk_rawfile_count(const char *path, uint64_t *n, struct pk_err *err)
{
    *n = 0;
    struct stat st;
    if (stat(path, &st) != 0)
        return pk_fail(err, PK_EIO, "cannot open '%s': %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return pk_fail(err, PK_EINVAL, "'%s' is not a regular file", path);
    if (st.st_size == 0 && !really_empty(path))
        return pk_fail(err, PK_EINVAL,
                       "'%s' reports a size of 0 but has data (a special file such as /proc's): "
                       "copy it to a regular file first",
                       path);
    if (st.st_size % 8 != 0)
        return pk_fail(err, PK_EINVAL,
                       "'%s' has %lld bytes, not a multiple of 8 (raw float64 expected)", path,
                       (long long)st.st_size);
    *n = (uint64_t)st.st_size / 8;
    return PK_OK;
}

/* Values [first, first + n) of the open file fd (named path) into x, converted to the host's
 * order; PK_EIO naming the file when a read fails or the file ends early. Thread-safe. */
static int pread_values(int fd, const char *path, uint64_t first, size_t n, double *x,
                        struct pk_err *err)
{
    size_t want = n * 8, done = 0;
    while (done < want) {
        ssize_t got = pread(fd, (char *)x + done, want - done, (off_t)(first * 8 + done));
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return pk_fail(
                err, PK_EIO, "'%s' ended or failed at value %" PRIu64 " (expected %" PRIu64 "): %s",
                path, first + done / 8, first + n, got < 0 ? strerror(errno) : "file truncated");
        done += (size_t)got;
    }
    from_little_endian(x, n);
    return PK_OK;
}

int pk_rawfile_read(const char *path, uint64_t first, size_t n, double *x, struct pk_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return pk_fail(err, PK_EIO, "cannot open '%s': %s", path, strerror(errno));
    /* Sequential hint: the kernel then streams at page-cache speed on the first pass too. */
    (void)posix_fadvise(fd, (off_t)(first * 8), (off_t)(n * 8), POSIX_FADV_SEQUENTIAL);
    int status = pread_values(fd, path, first, n, x, err);
    close(fd);
    return status;
}

/* ---- streaming ------------------------------------------------------------------------------ */

/* One mapping shared by the stream and the blocks that view it: unmapped when the last of them
 * lets go. */
struct pk_rawfile_window {
    char *p;
    uint64_t off, len; /* the file's bytes it maps */
    _Atomic int refs;
};

static struct pk_rawfile_window *window_hold(struct pk_rawfile_window *w)
{
    atomic_fetch_add(&w->refs, 1);
    return w;
}

static void guard_remove(void *m);

static void window_drop(struct pk_rawfile_window *w)
{
    if (!w || atomic_fetch_sub(&w->refs, 1) != 1)
        return;
    guard_remove(w->p);
    munmap(w->p, (size_t)w->len);
    free(w);
}

/* Only the thread calling pk_rawfile_stream_get uses it (see the header). */
struct pk_rawfile_stream {
    int fd;
    bool map; /* mapping still worth trying */
    uint64_t page;
    uint64_t id;                   /* names the stream to the SIGBUS guard */
    struct pk_rawfile_window *win; /* the file from the first block to its end, mapped once */
    char path[];
};

/* ---- a file that shrinks under a mapping ----------------------------------------------------
 * Truncating a mapped file makes the next access past its new end raise SIGBUS, in whichever
 * thread touches it (the compute's). The handler turns such a fault inside one of our mappings
 * into zero pages, so that thread carries on, and notes the stream: pk_rawfile_stream_changed
 * then tells the caller, who reports the file as changed and discards the result. A SIGBUS
 * anywhere else keeps its meaning: the previous disposition is restored and the access repeats.
 * Only atomics and mmap run in the handler. */
#define GUARDS 256
static struct {
    _Atomic uintptr_t lo; /* the mapping's start; 0 free, 1 being filled */
    _Atomic size_t len;
    _Atomic uint64_t stream;
} guard[GUARDS];
static _Atomic uint64_t hit_stream[GUARDS]; /* streams whose file shrank, in order */
static _Atomic unsigned hits;
static _Atomic uint64_t next_stream_id = 1;
static struct sigaction previous_bus;
static pthread_once_t guard_once = PTHREAD_ONCE_INIT;
static uintptr_t guard_page;

static void on_sigbus(int sig, siginfo_t *si, void *ctx)
{
    (void)sig;
    (void)ctx;
    uintptr_t a = (uintptr_t)si->si_addr;
    for (int i = 0; i < GUARDS; i++) {
        uintptr_t lo = atomic_load(&guard[i].lo);
        size_t len = atomic_load(&guard[i].len);
        if (lo <= 1 || a < lo || a >= lo + len)
            continue;
        uintptr_t from = a & ~(guard_page - 1);
        if (mmap((void *)from, lo + len - from, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                 -1, 0) == MAP_FAILED)
            break;
        unsigned k = atomic_fetch_add(&hits, 1);
        if (k < GUARDS)
            atomic_store(&hit_stream[k], atomic_load(&guard[i].stream));
        return;
    }
    sigaction(SIGBUS, &previous_bus, NULL);
}

static void guard_install(void)
{
    guard_page = (uintptr_t)sysconf(_SC_PAGESIZE);
    struct sigaction sa = {.sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO | SA_RESTART};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, &previous_bus);
}

/* Watches [m, m + len) for stream id; false when every slot is taken (then do not map). */
static bool guard_add(void *m, size_t len, uint64_t id)
{
    pthread_once(&guard_once, guard_install);
    for (int i = 0; i < GUARDS; i++) {
        uintptr_t free_slot = 0;
        if (!atomic_compare_exchange_strong(&guard[i].lo, &free_slot, 1))
            continue;
        atomic_store(&guard[i].len, len);
        atomic_store(&guard[i].stream, id);
        atomic_store(&guard[i].lo, (uintptr_t)m);
        return true;
    }
    return false;
}

static void guard_remove(void *m)
{
    if (!m)
        return;
    for (int i = 0; i < GUARDS; i++)
        if (atomic_load(&guard[i].lo) == (uintptr_t)m) {
            atomic_store(&guard[i].len, 0);
            atomic_store(&guard[i].lo, 0);
            return;
        }
}

bool pk_rawfile_stream_changed(const struct pk_rawfile_stream *s)
{
    unsigned n = atomic_load(&hits);
    if (n > GUARDS)
        return true; /* more files shrank than were noted: assume this one did */
    for (unsigned k = 0; k < n; k++)
        if (atomic_load(&hit_stream[k]) == s->id)
            return true;
    return false;
}

int pk_rawfile_stream_open(const char *path, bool map, struct pk_rawfile_stream **out,
                           struct pk_err *err)
{
    *out = NULL;
    struct pk_rawfile_stream *s = malloc(sizeof *s + strlen(path) + 1);
    if (!s)
        return pk_fail(err, PK_ENOMEM, "out of memory opening '%s'", path);
    s->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (s->fd < 0) {
        int rc = pk_fail(err, PK_EIO, "cannot open '%s': %s", path, strerror(errno));
        free(s);
        return rc;
    }
    /* a mapping holds the file's bytes as they are: no use where they need swapping */
    s->map = map && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__;
    s->page = (uint64_t)sysconf(_SC_PAGESIZE);
    s->id = atomic_fetch_add(&next_stream_id, 1);
    s->win = NULL;
    strcpy(s->path, path);
    (void)posix_fadvise(s->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    *out = s;
    return PK_OK;
}

bool pk_rawfile_stream_maps(const struct pk_rawfile_stream *s)
{
    return s->map;
}

/* Faults the pages of [p, p + len) in here, on the caller's core, rather than in the compute's
 * threads. */
static void populate(const char *p, size_t len, uint64_t page)
{
#ifdef MADV_POPULATE_READ
    if (madvise((void *)p, len, MADV_POPULATE_READ) == 0)
        return;
#endif
    posix_madvise((void *)p, len, POSIX_MADV_WILLNEED);
    volatile const char *touch = p;
    char sink = 0;
    for (size_t k = 0; k < len; k += (size_t)page)
        sink ^= touch[k];
    (void)sink;
}

/* The window: the file from base to its current end, mapped once, guarded. Mapping each 8 MiB
 * block on its own made transform's file mode 1.6x slower on a 2-core VM (an mmap and a munmap
 * per buffer while the other core computes; a munmap must flush that core's TLB too). */
static struct pk_rawfile_window *window(struct pk_rawfile_stream *s, uint64_t base, uint64_t size)
{
    if (s->win || size <= base)
        return s->win;
    struct pk_rawfile_window *w = malloc(sizeof *w);
    if (!w)
        return NULL;
    void *m = mmap(NULL, (size_t)(size - base), PROT_READ, MAP_SHARED, s->fd, (off_t)base);
    /* unguarded, a shrinking file would end the process */
    if (m != MAP_FAILED && !guard_add(m, (size_t)(size - base), s->id)) {
        munmap(m, (size_t)(size - base));
        m = MAP_FAILED;
    }
    if (m == MAP_FAILED) {
        free(w);
        return NULL;
    }
    *w = (struct pk_rawfile_window){.p = m, .off = base, .len = size - base};
    atomic_init(&w->refs, 1); /* the stream's */
    s->win = w;
    return w;
}

/* Makes b's values a view of the window (mapped at the first block), its pages faulted in here.
 * A block outside the window (before it: the caller went back) gets a mapping of its own.
 * PK_OK with *mapped set; PK_OK with *mapped false when mapping is refused (the caller reads
 * instead); PK_EIO when the file is too short (mapping past its end would raise SIGBUS on
 * access). */
static int map_block(struct pk_rawfile_stream *s, struct pk_rawfile_block *b, bool *mapped,
                     struct pk_err *err)
{
    struct stat st;
    uint64_t end = (b->first + b->n) * 8;
    *mapped = false;
    if (fstat(s->fd, &st) != 0 || (uint64_t)st.st_size < end)
        return pk_fail(err, PK_EIO, "'%s' is shorter than %" PRIu64 " values: file truncated",
                       s->path, b->first + b->n);
    uint64_t off = b->first * 8, base = off - off % s->page;
    struct pk_rawfile_window *w = window(s, base, (uint64_t)st.st_size);
    if (w && base >= w->off && end <= w->off + w->len) {
        populate(w->p + (base - w->off), (size_t)(end - base), s->page);
        b->values = (const double *)(w->p + (off - w->off));
        b->window = window_hold(w);
        *mapped = true;
        return PK_OK;
    }
    size_t len = (size_t)(end - base);
    void *m = mmap(NULL, len, PROT_READ, MAP_SHARED, s->fd, (off_t)base);
    if (m == MAP_FAILED)
        return PK_OK;
    if (!guard_add(m, len, s->id)) {
        munmap(m, len);
        return PK_OK;
    }
    populate(m, len, s->page);
    b->map = m;
    b->maplen = len;
    b->values = (const double *)((const char *)m + (off - base));
    *mapped = true;
    return PK_OK;
}

static int read_block(struct pk_rawfile_stream *s, struct pk_rawfile_block *b, double *buf,
                      struct pk_err *err)
{
    int rc = pread_values(s->fd, s->path, b->first, b->n, buf, err);
    b->values = buf;
    return rc;
}

int pk_rawfile_stream_copy(struct pk_rawfile_stream *s, uint64_t first, size_t n, double *dst,
                           struct pk_err *err)
{
    return pread_values(s->fd, s->path, first, n, dst, err);
}

int pk_rawfile_stream_get(struct pk_rawfile_stream *s, uint64_t first, size_t n, double *buf,
                          struct pk_rawfile_block *b, struct pk_err *err)
{
    *b = (struct pk_rawfile_block){.values = buf, .first = first, .n = n};
    if (n == 0)
        return PK_OK;
    int rc = PK_OK;
    bool mapped = false;
    if (s->map) {
        rc = map_block(s, b, &mapped, err);
        if (rc == PK_OK && !mapped)
            s->map = false; /* refused (a file system without mmap, say): read from now on */
    }
    if (rc == PK_OK && !mapped)
        rc = read_block(s, b, buf, err);
    if (rc != PK_OK)
        *b = (struct pk_rawfile_block){0};
    return rc;
}

bool pk_rawfile_block_mapped(const struct pk_rawfile_block *b)
{
    return b->map || b->window;
}

void pk_rawfile_block_release(struct pk_rawfile_block *b)
{
    if (!b)
        return;
    if (b->map) {
        guard_remove(b->map);
        munmap(b->map, b->maplen);
    }
    window_drop(b->window);
    *b = (struct pk_rawfile_block){0};
}

void pk_rawfile_stream_close(struct pk_rawfile_stream *s)
{
    if (!s)
        return;
    window_drop(s->win);
    close(s->fd);
    free(s);
}
