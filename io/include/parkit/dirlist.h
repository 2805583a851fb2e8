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
/* Frees what l owns and zeroes it. NULL ok. */
void pk_dirlist_free(struct pk_dirlist *l);

#endif
