/* SPDX-License-Identifier: MIT */
/* Raw little-endian float64 files: the input format of `sumsq --file` and `transform --input`.
 * Under MPI each rank reads only its own slice, so a file is never loaded whole by one process.
 * Returns statuses and fills a caller-owned struct pk_err that names the file; never prints.
 *
 * Two ways in: pk_rawfile_read copies one slice into the caller's array (one call, thread-safe,
 * no shared state); the stream below hands out a slice block by block, for a reader stage that
 * runs ahead of the compute with a bounded number of blocks in flight. */
#ifndef PARKIT_RAWFILE_H
#define PARKIT_RAWFILE_H

#include "parkit/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* *n = number of float64 values in the file at path. PK_EIO when it cannot be opened or is not
 * a regular file, PK_EINVAL when its size is not a multiple of 8 bytes. */
int pk_rawfile_count(const char *path, uint64_t *n, struct pk_err *err);
/* Reads values [first, first + n) of the file into x (caller-owned, n doubles). Values are
 * converted from little-endian on big-endian hosts. PK_EIO on a read error or when the file is
 * shorter than expected (it changed since pk_rawfile_count). */
int pk_rawfile_read(const char *path, uint64_t first, size_t n, double *x, struct pk_err *err);

/* ---- streaming ------------------------------------------------------------------------------
 * An open file read block by block. Blocks are views of one read-only mapping of the file's
 * page-cache pages (the window, from the first block asked for to the file's end, mapped once),
 * each block's pages faulted in by pk_rawfile_stream_get so the caller's compute threads take
 * no page faults; or, where mapping is refused or the host is big-endian, copies made with pread
 * into the caller's buffer. The stream falls back from mapping to pread once, for good, at the
 * first refused mapping.
 *
 * Thread-safety: one thread at a time may call pk_rawfile_stream_get on a stream (it holds the
 * window and the fallback state); blocks hold the mapping they view, so any thread may use and
 * release a block, also after the stream is closed. A file truncated while it is mapped does not
 * end the process: values past the new end read as zeros and pk_rawfile_stream_changed turns true
 * (a SIGBUS handler, installed at the first mapping, guards the stream's mappings only). */
struct pk_rawfile_stream;

/* A block of values. values points into the stream's window (window: held by the block), into
 * a mapping the block owns (map, maplen: a block before the window), both let go by
 * pk_rawfile_block_release, or into the caller's buffer passed to pk_rawfile_stream_get. */
struct pk_rawfile_window;
struct pk_rawfile_block {
    const double *values; /* n values, the file's [first, first + n) */
    uint64_t first;
    size_t n;
    void *map; /* the block's own mapping, or NULL */
    size_t maplen;
    struct pk_rawfile_window *window; /* the window it views, or NULL */
};

/* Opens path for streaming. map: try mapping first (false: always pread, e.g. for files on
 * file systems that map badly). On success *out owns the stream (pk_rawfile_stream_close frees
 * it); on failure *out is NULL and err names the file (PK_EIO: cannot open, PK_ENOMEM). */
int pk_rawfile_stream_open(const char *path, bool map, struct pk_rawfile_stream **out,
                           struct pk_err *err);
/* Makes values [first, first + n) available in *b. buf (caller-owned, room for n doubles) is
 * used when the block cannot be mapped; the caller must keep it until b is released. PK_EIO
 * with err naming the file when it is shorter than first + n values (truncated since it was
 * counted) or a read fails; *b is then empty. */
int pk_rawfile_stream_get(struct pk_rawfile_stream *s, uint64_t first, size_t n, double *buf,
                          struct pk_rawfile_block *b, struct pk_err *err);
/* Copies values [first, first + n) into dst (caller-owned, n doubles) with pread, converted from
 * little-endian on big-endian hosts; maps nothing. Thread-safe: any number of threads at once, also
 * beside pk_rawfile_stream_get. PK_EIO with err naming the file and the value where it ended
 * when the file is shorter than first + n values or a read fails. */
int pk_rawfile_stream_copy(struct pk_rawfile_stream *s, uint64_t first, size_t n, double *dst,
                           struct pk_err *err);
/* True when the file shrank under one of the stream's mappings since it was opened: values read
 * since then may be zeros that were never in the file. Any thread; check after the blocks were
 * used. */
bool pk_rawfile_stream_changed(const struct pk_rawfile_stream *s);
/* True while the stream maps blocks (false after the fallback to pread). */
bool pk_rawfile_stream_maps(const struct pk_rawfile_stream *s);
/* True when b's values are mapped (not in the caller's buffer). */
bool pk_rawfile_block_mapped(const struct pk_rawfile_block *b);
/* Lets go of b's mapping or window, if any, and empties b. NULL and empty blocks ok;
 * idempotent. */
void pk_rawfile_block_release(struct pk_rawfile_block *b);
/* Closes the file and frees s (its window stays mapped while blocks view it). NULL ok. */
void pk_rawfile_stream_close(struct pk_rawfile_stream *s);

#endif
