/* SPDX-License-Identifier: MIT */
#include "parkit/rawfile.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int pk_rawfile_count(const char *path, uint64_t *n, struct pk_err *err)
{
    *n = 0;
    struct stat st;
    if (stat(path, &st) != 0)
        return pk_fail(err, PK_EIO, "cannot open '%s': %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return pk_fail(err, PK_EINVAL, "'%s' is not a regular file", path);
    if (st.st_size % 8 != 0)
        return pk_fail(err, PK_EINVAL,
                       "'%s' has %lld bytes, not a multiple of 8 (raw float64 expected)", path,
                       (long long)st.st_size);
    *n = (uint64_t)st.st_size / 8;
    return PK_OK;
}

int pk_rawfile_read(const char *path, uint64_t first, size_t n, double *x, struct pk_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return pk_fail(err, PK_EIO, "cannot open '%s': %s", path, strerror(errno));
    /* Sequential hint: the kernel then streams at page-cache speed on the first pass too. */
    (void)posix_fadvise(fd, (off_t)(first * 8), (off_t)(n * 8), POSIX_FADV_SEQUENTIAL);
    char *dst = (char *)x;
    size_t want = n * 8, got = 0;
    int status = PK_OK;
    while (got < want) {
        ssize_t r = pread(fd, dst + got, want - got, (off_t)(first * 8 + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            status = pk_fail(err, PK_EIO, "cannot read '%s': %s", path, strerror(errno));
            break;
        }
        if (r == 0) {
            status = pk_fail(err, PK_EIO, "'%s' ended after %llu of %llu bytes (truncated?)", path,
                             (unsigned long long)(first * 8 + got),
                             (unsigned long long)((first + n) * 8));
            break;
        }
        got += (size_t)r;
    }
    close(fd);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    for (size_t i = 0; i < n && status == PK_OK; i++) {
        uint64_t v;
        memcpy(&v, &x[i], 8);
        v = __builtin_bswap64(v);
        memcpy(&x[i], &v, 8);
    }
#endif
    return status;
}
