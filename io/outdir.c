/* SPDX-License-Identifier: MIT */
/* pk_outdir_make (see parkit/outdir.h): mkdir of every prefix of the path in turn. EEXIST is
 * never an error on the way (a parent may exist, or a concurrent run may create it first); the
 * final stat decides whether what is there is a directory. */
#include "parkit/outdir.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* mkdir -p of path; *made says whether the last component was created by this call. */
static int make_parents(const char *path, bool *made, struct pk_err *err)
{
    char *buf = strdup(path);
    if (!buf)
        return pk_fail(err, PK_ENOMEM, "out of memory");
    int rc = PK_OK;
    for (char *p = buf + 1; *p && rc == PK_OK; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            rc = pk_fail(err, PK_EIO, "cannot create directory '%s': %s", path, strerror(errno));
        *p = '/';
    }
    if (rc == PK_OK && mkdir(buf, 0777) == 0)
        *made = true;
    else if (rc == PK_OK && errno != EEXIST)
        rc = pk_fail(err, PK_EIO, "cannot create directory '%s': %s", path, strerror(errno));
    free(buf);
    return rc;
}

int pk_outdir_make(const char *path, bool *created, struct pk_err *err)
{
    bool made = false;
    if (created)
        *created = false;
    if (!path || !*path)
        return pk_fail(err, PK_EINVAL, "empty directory name");
    struct stat st;
    if (stat(path, &st) != 0) {
        int rc = make_parents(path, &made, err);
        if (rc != PK_OK)
            return rc;
        if (stat(path, &st) != 0)
            return pk_fail(err, PK_EIO, "cannot open directory '%s': %s", path, strerror(errno));
    }
    if (!S_ISDIR(st.st_mode))
        return pk_fail(err, PK_EINVAL, "'%s' is not a directory", path);
    if (access(path, W_OK | X_OK) != 0)
        return pk_fail(err, PK_EIO, "cannot write into directory '%s': %s", path, strerror(errno));
    if (created)
        *created = made;
    return PK_OK;
}
