/* SPDX-License-Identifier: MIT */
/* The one writer of result files: a file appears whole or not at all, and nothing else is ever
 * destroyed on the way.
 *
 * - A regular target (or a new one) is written to a temporary in the target's directory (so the
 *   rename cannot cross file systems): preferably unnamed (O_TMPFILE), so that not even a
 *   SIGKILL leaves a file behind, else an exclusive ".<name>.parkit-XXXXXX" (mkstemp: never an
 *   existing file, never through a symlink). Once complete it is synced and linked or renamed
 *   onto the target; a failure or an abort removes it. If another process put its own file at
 *   the target meanwhile, commit says so (PK_EIO) rather than report success.
 * - A character device or FIFO target (/dev/null, /dev/stdout, a named pipe, `>(cmd)`) is
 *   written in place: renaming over it would replace the device node by a regular file. Any
 *   other kind of target (directory, block device, socket) is refused with PK_EINVAL.
 * - A symlink to a file stays a symlink: the file it points to is what gets replaced.
 * - Named temporaries are registered so that a signal handler can remove them
 *   (pk_atomicfile_remove_temps) before the process exits.
 *
 * One writer per file, used by one thread. Reads the process umask when no mode is given (umask
 * is process-wide: call from the thread that writes results, not from pool workers). */
#ifndef PARKIT_ATOMICFILE_H
#define PARKIT_ATOMICFILE_H

#include "parkit/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct pk_atomicfile_opts {
    unsigned mode;   /* the file's mode; 0: 0666 less the umask, as a plain create */
    bool no_replace; /* an existing target is kept and commit fails: "'PATH' exists" */
    bool named;      /* the temporary must have a name (tmp) that other processes can open */
    bool no_sync;    /* published without fsync: gone or whole, not durable, after a crash */
    bool seekable;   /* written at offsets: a target that cannot seek (FIFO, terminal) is
                        refused with PK_EINVAL (a FIFO without being opened) */
};

struct pk_atomicfile {
    FILE *f;       /* write here (buffered), or to fd unbuffered: not both */
    int fd;        /* fileno(f) */
    char *path;    /* owned copy */
    char *tmp;     /* the named temporary, NULL when unnamed or in place */
    bool in_place; /* a character device or FIFO, written directly */
    int slot;      /* the temporary's registration, -1 for none */
    struct pk_atomicfile_opts o;
};

/* Opens the writer for path with the default options. PK_OK; PK_EINVAL for a target that is
 * neither regular, a character device nor a FIFO; PK_EIO/PK_ENOMEM; err names path. */
int pk_atomicfile_open(struct pk_atomicfile *a, const char *path, struct pk_err *err);
/* The same with options (NULL: defaults). */
int pk_atomicfile_open_with(struct pk_atomicfile *a, const char *path,
                            const struct pk_atomicfile_opts *opts, struct pk_err *err);
/* Flushes, syncs and publishes the file as path; on any failure the temporary is removed and
 * err names the step. Always releases a. */
int pk_atomicfile_commit(struct pk_atomicfile *a, struct pk_err *err);
/* Removes the temporary and releases a (after a failed write, say). NULL-safe, idempotent. */
void pk_atomicfile_abort(struct pk_atomicfile *a);

/* The whole file in one call: lines[0..n), each followed by a newline. */
int pk_atomicfile_write_lines(const char *path, char *const *lines, size_t n, struct pk_err *err);

/* For an option's check: PK_OK when path may be written (missing, regular, character device,
 * FIFO), else PK_EINVAL with err naming path and what it is. */
int pk_atomicfile_check_target(const char *path, struct pk_err *err);
/* True when writing out would replace in: the same file (st_dev, st_ino), or, while out does
 * not exist, the same path once its directory is resolved. */
bool pk_atomicfile_same(const char *out, const char *in);

/* Removes every registered named temporary. Async-signal-safe: for a handler about to _exit. */
void pk_atomicfile_remove_temps(void);

#endif
