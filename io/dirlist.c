/* SPDX-License-Identifier: MIT */
#include "parkit/dirlist.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool wanted(const char *name, const char *pattern, bool hidden)
{
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return false;
    if (name[0] == '.' && !hidden)
        return false;
    return !pattern || fnmatch(pattern, name, FNM_PERIOD) == 0;
}

static int push(struct pk_dirlist *l, size_t *cap, const char *name)
{
    if (l->n == *cap) {
        size_t grown = *cap ? 2 * *cap : 64;
        char **v = realloc(l->name, grown * sizeof *v);
        if (!v)
            return ENOMEM;
        l->name = v;
        *cap = grown;
    }
    if (!(l->name[l->n] = strdup(name)))
        return ENOMEM;
    l->n++;
    return 0;
}

int pk_dirlist_read(const char *dir, const char *pattern, bool hidden, struct pk_dirlist *out)
{
    *out = (struct pk_dirlist){0};
    DIR *d = opendir(dir);
    if (!d)
        return errno;
    size_t cap = 0;
    int rc = 0;
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(d);
        if (!e) {
            rc = errno;
            break;
        }
        if (wanted(e->d_name, pattern, hidden) && (rc = push(out, &cap, e->d_name)) != 0)
            break;
    }
    closedir(d);
    if (out->n > 1)
        qsort(out->name, out->n, sizeof *out->name, cmp_name);
    return rc;
}

int pk_dirlist_read_files(const char *dir, const char *pattern, bool hidden, struct pk_dirlist *out,
                          struct pk_dirlist *skipped)
{
    if (skipped)
        *skipped = (struct pk_dirlist){0};
    int rc = pk_dirlist_read(dir, pattern, hidden, out);
    int dfd = rc == 0 ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (rc == 0 && dfd < 0)
        rc = errno;
    size_t kept = 0, cap = 0, i = 0;
    for (; rc == 0 && i < out->n; i++) {
        struct stat st;
        /* stat, not lstat: a link to a regular file is read like one. An entry that cannot be
         * stat'ed (a dangling link) stays: reading it reports why. */
        if (fstatat(dfd, out->name[i], &st, 0) != 0 || S_ISREG(st.st_mode)) {
            out->name[kept++] = out->name[i];
            continue;
        }
        if (skipped && (rc = push(skipped, &cap, out->name[i])) != 0) {
            /* slots kept..i-1 moved down or were freed: empty them so that a free frees once */
            for (size_t j = kept; j < i; j++)
                out->name[j] = NULL;
            break;
        }
        free(out->name[i]);
        out->name[i] = NULL;
    }
    if (rc == 0)
        out->n = kept; /* both lists stay sorted */
    if (dfd >= 0)
        close(dfd);
    return rc;
}

void pk_dirlist_free(struct pk_dirlist *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        free(l->name[i]);
    free(l->name);
    *l = (struct pk_dirlist){0};
}
