/* SPDX-License-Identifier: MIT */
/* Raw little-endian float64 files: the input format of `sumsq --file`. Under MPI each rank reads
 * only its own slice, so a file is never loaded whole by one process. Returns statuses and fills
 * a caller-owned struct pk_err that names the file; never prints. Thread-safe (no shared state). */
#ifndef PARKIT_RAWFILE_H
#define PARKIT_RAWFILE_H

#include "parkit/status.h"

#include <stddef.h>
#include <stdint.h>

/* *n = number of float64 values in the file at path. PK_EIO when it cannot be opened or is not
 * a regular file, PK_EINVAL when its size is not a multiple of 8 bytes. */
int pk_rawfile_count(const char *path, uint64_t *n, struct pk_err *err);
/* Reads values [first, first + n) of the file into x (caller-owned, n doubles). Values are
 * converted from little-endian on big-endian hosts. PK_EIO on a read error or when the file is
 * shorter than expected (it changed since pk_rawfile_count). */
int pk_rawfile_read(const char *path, uint64_t first, size_t n, double *x, struct pk_err *err);

#endif
