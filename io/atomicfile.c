/* SPDX-License-Identifier: MIT */
#ifndef _GNU_SOURCE
#    define _GNU_SOURCE /* O_TMPFILE, renameat2, mkostemp */
#endif
#include "parkit/atomicfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- named temporaries a signal handler removes ---------------------------------------- */

/* Paths are stored inline: the handler may run while the owner frees its copy. A slot is free
 * (0), being filled (1) or live (2). Past NSLOTS live temporaries, the rest go unregistered. */
#define NSLOTS 64
static struct {
    atomic_int state;
    char path[PATH_MAX];
} slots[NSLOTS];

static int register_temp(const char *path)
{
    size_t len = strlen(path);
    for (int i = 0; i < NSLOTS && len < PATH_MAX; i++) {
        int expect = 0;
        if (!atomic_compare_exchange_strong(&slots[i].state, &expect, 1))
            continue;
        memcpy(slots[i].path, path, len + 1);
        atomic_store(&slots[i].state, 2);
        return i;
    }
    return -1;
}

static void unregister_temp(int *slot)
{
    if (*slot >= 0)
        atomic_store(&slots[*slot].state, 0);
    *slot = -1;
}

void pk_atomicfile_remove_temps(void)
{
    for (int i = 0; i < NSLOTS; i++)
        if (atomic_load(&slots[i].state) == 2)
            unlink(slots[i].path);
}

/* ---- targets ----------------------------------------------------------------------------- */

int pk_atomicfile_check_target(const char *path, struct pk_err *err)
{
    struct stat st;
    if (stat(path, &st) != 0 || S_ISREG(st.st_mode) || S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))
        return PK_OK; /* a missing file is created; other errors show when it is written */
    const char *what = S_ISDIR(st.st_mode)    ? "a directory"
                       : S_ISBLK(st.st_mode)  ? "a block device"
                       : S_ISSOCK(st.st_mode) ? "a socket"
                                              : "not a regular file";
    return pk_fail(err, PK_EINVAL,
                   "'%s' is %s (an output must be a regular file, a character device or a FIFO)",
                   path, what);
}

/* path with its directory resolved ("./a" and "d/../a" are "/cwd/a"), or a copy of path
 * where the directory cannot be resolved. NULL when out of memory. */
static char *resolved_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, (size_t)(slash - path) + 1) : strdup(".");
    char *real = dir ? realpath(dir, NULL) : NULL;
    const char *base = slash ? slash + 1 : path;
    size_t len = real ? strlen(real) + strlen(base) + 2 : 0;
    char *out = real ? malloc(len) : strdup(path);
    if (real && out)
        snprintf(out, len, "%s/%s", real, base);
    free(dir);
    free(real);
    return out;
}

bool pk_atomicfile_same(const char *out, const char *in)
{
    struct stat so, si;
    if (stat(out, &so) == 0)
        return stat(in, &si) == 0 && so.st_dev == si.st_dev && so.st_ino == si.st_ino;
    char *a = resolved_dir(out), *b = resolved_dir(in);
    bool same = a && b ? strcmp(a, b) == 0 : strcmp(out, in) == 0;
    free(a);
    free(b);
    return same;
}

/* ---- opening ----------------------------------------------------------------------------- */

static void release(struct pk_atomicfile *a)
{
    unregister_temp(&a->slot);
    free(a->path);
    free(a->tmp);
    *a = (struct pk_atomicfile){.fd = -1, .slot = -1};
}

static int unseekable(const struct pk_atomicfile *a, struct pk_err *err)
{
    return pk_fail(err, PK_EINVAL,
                   "'%s' cannot seek (a FIFO or terminal), and it is written at offsets", a->path);
}

/* A character device or FIFO: opened for writing as it is (a FIFO waits for its reader, as a
 * shell redirection does). 1: opened, 0: not such a target, <0: failed. */
static int open_in_place(struct pk_atomicfile *a, struct pk_err *err)
{
    struct stat st;
    if (stat(a->path, &st) != 0 || S_ISREG(st.st_mode))
        return 0;
    if (!S_ISCHR(st.st_mode) && !S_ISFIFO(st.st_mode))
        return pk_atomicfile_check_target(a->path, err);
    if (a->o.no_replace)
        return pk_fail(err, PK_EIO, "not replacing existing '%s'", a->path);
    if (a->o.seekable && S_ISFIFO(st.st_mode))
        return unseekable(a, err);
    int fd = open(a->path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return pk_fail(err, PK_EIO, "cannot open '%s': %s", a->path, strerror(errno));
    if (fstat(fd, &st) != 0 || !(S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))) {
        close(fd); /* it changed under us: not written in place after all */
        return 0;
    }
    if (a->o.seekable && lseek(fd, 0, SEEK_CUR) < 0) {
        close(fd);
        return unseekable(a, err);
    }
    a->fd = fd;
    a->in_place = true;
    return 1;
}

/* A symlink to a file is kept: its target is what gets replaced (renaming over the link would
 * replace the link itself, /dev/stdout say, by a regular file). 0 or <0 with err. */
static int follow_symlink(struct pk_atomicfile *a, struct pk_err *err)
{
    struct stat st;
    if (lstat(a->path, &st) != 0 || !S_ISLNK(st.st_mode) || stat(a->path, &st) != 0)
        return 0; /* not a link, or a dangling one: the link itself is what gets written */
    char *real = realpath(a->path, NULL);
    if (!real)
        return pk_fail(err, PK_EIO, "cannot resolve '%s': %s", a->path, strerror(errno));
    free(a->path);
    a->path = real;
    return 0;
}

/* The unnamed temporary in path's directory (needs O_TMPFILE and /proc to link it later). */
static int open_unnamed(const struct pk_atomicfile *a)
{
#ifdef O_TMPFILE
    if (a->o.named || access("/proc/self/fd", X_OK) != 0)
        return -1;
    const char *slash = strrchr(a->path, '/');
    char *dir = slash ? strndup(a->path, (size_t)(slash - a->path) + 1) : strdup(".");
    int fd = dir ? open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600) : -1;
    free(dir);
    return fd;
#else
    (void)a;
    return -1;
#endif
}

/* "<dir>/.<name>.parkit-XXXXXX" in a->tmp, filled in by mkostemp; fd or -1 with errno. */
static int open_named(struct pk_atomicfile *a)
{
    const char *slash = strrchr(a->path, '/');
    size_t dirlen = slash ? (size_t)(slash - a->path) + 1 : 0;
    size_t len = strlen(a->path) + 16;
    a->tmp = malloc(len);
    if (!a->tmp) {
        errno = ENOMEM;
        return -1;
    }
    snprintf(a->tmp, len, "%.*s.%s.parkit-XXXXXX", (int)dirlen, a->path, a->path + dirlen);
    int fd = mkostemp(a->tmp, O_CLOEXEC);
    if (fd < 0) {
        free(a->tmp);
        a->tmp = NULL;
        return -1;
    }
    a->slot = register_temp(a->tmp);
    return fd;
}

static unsigned file_mode(const struct pk_atomicfile_opts *o)
{
    if (o->mode)
        return o->mode;
    mode_t mask = umask(0);
    umask(mask);
    return 0666 & ~mask;
}

int pk_atomicfile_open_with(struct pk_atomicfile *a, const char *path,
                            const struct pk_atomicfile_opts *opts, struct pk_err *err)
{
    *a = (struct pk_atomicfile){.fd = -1, .slot = -1};
    if (opts)
        a->o = *opts;
    a->path = strdup(path);
    if (!a->path)
        return pk_fail(err, PK_ENOMEM, "out of memory");
    int rc = open_in_place(a, err);
    if (rc == 0)
        rc = follow_symlink(a, err);
    if (rc < 0) {
        release(a);
        return rc;
    }
    if (!a->in_place) {
        a->fd = open_unnamed(a);
        if (a->fd < 0)
            a->fd = open_named(a);
        if (a->fd < 0 || fchmod(a->fd, (mode_t)file_mode(&a->o)) != 0) {
            int e = errno;
            pk_atomicfile_abort(a);
            return pk_fail(err, PK_EIO, "cannot create '%s': %s", path, strerror(e));
        }
    }
    a->f = fdopen(a->fd, "w");
    if (!a->f) {
        pk_atomicfile_abort(a);
        return pk_fail(err, PK_ENOMEM, "cannot write '%s': out of memory", path);
    }
    return PK_OK;
}

int pk_atomicfile_open(struct pk_atomicfile *a, const char *path, struct pk_err *err)
{
    return pk_atomicfile_open_with(a, path, NULL, err);
}

/* ---- publishing -------------------------------------------------------------------------- */

/* The unnamed file as path: linkat refuses an existing path, so replacing links it under a
 * registered exclusive name first and renames that over path. */
static int publish_unnamed(struct pk_atomicfile *a)
{
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", a->fd);
    if (linkat(AT_FDCWD, proc, AT_FDCWD, a->path, AT_SYMLINK_FOLLOW) == 0)
        return 0;
    if (errno != EEXIST || a->o.no_replace)
        return -1;
    const char *slash = strrchr(a->path, '/');
    size_t dirlen = slash ? (size_t)(slash - a->path) + 1 : 0;
    size_t len = strlen(a->path) + 32;
    a->tmp = malloc(len);
    for (unsigned k = 0; a->tmp && k < 100; k++) {
        snprintf(a->tmp, len, "%.*s.%s.parkit-%08x", (int)dirlen, a->path, a->path + dirlen,
                 (unsigned)((unsigned)getpid() * 2654435761u + k * 40503u));
        a->slot = register_temp(a->tmp);
        if (linkat(AT_FDCWD, proc, AT_FDCWD, a->tmp, AT_SYMLINK_FOLLOW) == 0)
            return rename(a->tmp, a->path);
        unregister_temp(&a->slot);
        if (errno != EEXIST)
            break;
    }
    free(a->tmp);
    a->tmp = NULL;
    return -1;
}

/* The named temporary as path; without replace an existing path stays (renameat2 where the
 * filesystem has RENAME_NOREPLACE, else link, which never replaces). */
static int publish_named(struct pk_atomicfile *a)
{
    if (!a->o.no_replace)
        return rename(a->tmp, a->path);
    if (renameat2(AT_FDCWD, a->tmp, AT_FDCWD, a->path, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -1;
    if (link(a->tmp, a->path) != 0)
        return -1;
    unlink(a->tmp);
    return 0;
}

/* After publishing: path must still be our file, or another process replaced it. */
static int check_ours(const struct pk_atomicfile *a, struct pk_err *err)
{
    struct stat mine, now;
    if (fstat(a->fd, &mine) != 0 || stat(a->path, &now) != 0 || mine.st_dev != now.st_dev ||
        mine.st_ino != now.st_ino)
        return pk_fail(err, PK_EIO, "'%s' was replaced by another process while written", a->path);
    return PK_OK;
}

static int publish(struct pk_atomicfile *a, struct pk_err *err)
{
    int rc = a->tmp ? publish_named(a) : publish_unnamed(a);
    if (rc != 0 && errno == EEXIST && a->o.no_replace)
        return pk_fail(err, PK_EIO, "not replacing existing '%s'", a->path);
    if (rc != 0)
        return pk_fail(err, PK_EIO, "cannot create '%s': %s", a->path, strerror(errno));
    unregister_temp(&a->slot); /* the temporary's name is gone: nothing to remove */
    free(a->tmp);
    a->tmp = NULL;
    return check_ours(a, err);
}

int pk_atomicfile_commit(struct pk_atomicfile *a, struct pk_err *err)
{
    int rc = PK_OK;
    if (fflush(a->f) != 0 || ferror(a->f))
        rc = pk_fail(err, PK_EIO, "cannot write '%s': %s", a->path, strerror(errno));
    else if (!a->in_place && !a->o.no_sync && fsync(a->fd) != 0)
        rc = pk_fail(err, PK_EIO, "cannot write '%s': %s", a->path, strerror(errno));
    if (rc == PK_OK && !a->in_place)
        rc = publish(a, err);
    if (fclose(a->f) != 0 && rc == PK_OK)
        rc = pk_fail(err, PK_EIO, "cannot close '%s': %s", a->path, strerror(errno));
    a->f = NULL;
    a->fd = -1;
    if (rc != PK_OK && a->tmp)
        unlink(a->tmp);
    release(a);
    return rc;
}

void pk_atomicfile_abort(struct pk_atomicfile *a)
{
    if (!a || !a->path)
        return;
    if (a->f)
        fclose(a->f);
    else if (a->fd >= 0)
        close(a->fd);
    if (a->tmp)
        unlink(a->tmp);
    release(a);
}

int pk_atomicfile_write_lines(const char *path, char *const *lines, size_t n, struct pk_err *err)
{
    struct pk_atomicfile a;
    int rc = pk_atomicfile_open(&a, path, err);
    if (rc != PK_OK)
        return rc;
    for (size_t i = 0; i < n; i++) {
        fputs(lines[i], a.f);
        fputc('\n', a.f);
    }
    return pk_atomicfile_commit(&a, err);
}
