/* SPDX-License-Identifier: MIT */
#include "parkit/atomicfile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void release(struct pk_atomicfile *a)
{
    free(a->path);
    free(a->tmp);
    *a = (struct pk_atomicfile){0};
}

int pk_atomicfile_open(struct pk_atomicfile *a, const char *path, struct pk_err *err)
{
    *a = (struct pk_atomicfile){0};
    size_t len = strlen(path) + 16;
    a->path = strdup(path);
    a->tmp = malloc(len);
    if (!a->path || !a->tmp) {
        release(a);
        return pk_fail(err, PK_ENOMEM, "out of memory");
    }
    snprintf(a->tmp, len, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(a->tmp);
    if (fd >= 0 && !(a->f = fdopen(fd, "w"))) {
        close(fd);
        unlink(a->tmp);
        fd = -1;
    }
    if (fd < 0) {
        int e = errno;
        release(a);
        return pk_fail(err, PK_EIO, "cannot create '%s': %s", path, strerror(e));
    }
    /* mkstemp creates 0600; give the file the mode a plain create would */
    mode_t mask = umask(0);
    umask(mask);
    (void)fchmod(fd, 0666 & ~mask);
    return PK_OK;
}

int pk_atomicfile_commit(struct pk_atomicfile *a, struct pk_err *err)
{
    int rc = PK_OK;
    if (fflush(a->f) != 0 || ferror(a->f) || fsync(fileno(a->f)) != 0)
        rc = pk_fail(err, PK_EIO, "cannot write '%s': %s", a->path, strerror(errno));
    if (fclose(a->f) != 0 && rc == PK_OK)
        rc = pk_fail(err, PK_EIO, "cannot close '%s': %s", a->path, strerror(errno));
    a->f = NULL;
    if (rc == PK_OK && rename(a->tmp, a->path) != 0)
        rc = pk_fail(err, PK_EIO, "cannot rename to '%s': %s", a->path, strerror(errno));
    if (rc != PK_OK)
        unlink(a->tmp);
    release(a);
    return rc;
}

void pk_atomicfile_abort(struct pk_atomicfile *a)
{
    if (!a || !a->tmp)
        return;
    if (a->f)
        fclose(a->f);
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
