/* SPDX-License-Identifier: MIT */
/* The one atomic file writer: a result file appears whole or not at all. It is written under a
 * temporary name in the target's directory (so the rename cannot cross file systems), flushed
 * to disk, given the mode a plain create would have (0666 less the umask), and renamed over the
 * target only when complete; a failure or an abort removes the temporary.
 *
 * One writer per file, used by one thread. Reads the process umask (umask is process-wide:
 * call from the thread that writes results, not from pool workers that create files). */
#ifndef PARKIT_ATOMICFILE_H
#define PARKIT_ATOMICFILE_H

#include "parkit/status.h"

#include <stddef.h>
#include <stdio.h>

struct pk_atomicfile {
    FILE *f;    /* write here (buffered) */
    char *path; /* owned copies */
    char *tmp;
};

/* Creates the temporary for path. PK_OK, or PK_EIO/PK_ENOMEM with err naming path. */
int pk_atomicfile_open(struct pk_atomicfile *a, const char *path, struct pk_err *err);
/* Flushes, syncs and closes the temporary and renames it to the target; on any failure the
 * temporary is removed and err names the step. Always releases a. */
int pk_atomicfile_commit(struct pk_atomicfile *a, struct pk_err *err);
/* Removes the temporary and releases a (after a failed write, say). NULL-safe, idempotent. */
void pk_atomicfile_abort(struct pk_atomicfile *a);

/* The whole file in one call: lines[0..n), each followed by a newline. */
int pk_atomicfile_write_lines(const char *path, char *const *lines, size_t n, struct pk_err *err);

#endif
