/* SPDX-License-Identifier: MIT */
/* The one directory lister: the entry names of a directory, filtered and sorted, so every rank
 * and every run sees the same list in the same order. Thread-safe (no shared state). */
#ifndef PARKIT_DIRLIST_H
#define PARKIT_DIRLIST_H

#include <stdbool.h>
#include <stddef.h>

struct pk_dirlist {
    char **name; /* owned, each name too; sorted by strcmp */
    size_t n;
};

/* Lists dir: every entry except "." and "..", and except names starting with '.' unless
 * `hidden`; when pattern is not NULL, only names fnmatch(3) accepts (a leading '.' must then be
 * matched explicitly). Fills *out (release with pk_dirlist_free, also after a failure). Returns 0
 * or an errno value (ENOENT, ENOTDIR, EACCES, ENOMEM, ...). */
int pk_dirlist_read(const char *dir, const char *pattern, bool hidden, struct pk_dirlist *out);
/* pk_dirlist_read without what is not a regular file (a symbolic link counts as what it points
 * to), for the commands that read every file listed: a FIFO named like the others would block
 * the open forever, a device would never end. An entry that cannot be stat'ed (a dangling link)
 * is kept, so that its reader says why it fails. The entries that pass the filter but are not
 * regular files (directories, FIFOs, sockets, devices) go to *skipped when it is not NULL
 * (release it too), so that the caller can say so. Returns as pk_dirlist_read. */
int pk_dirlist_read_files(const char *dir, const char *pattern, bool hidden, struct pk_dirlist *out,
                          struct pk_dirlist *skipped);
/* Frees what l owns and zeroes it. NULL ok. */
void pk_dirlist_free(struct pk_dirlist *l);

#endif
