/* SPDX-License-Identifier: MIT */
#include "parkit/status.h"

#include <stdarg.h>
#include <stdio.h>

int pk_fail(struct pk_err *err, int status, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->status = status;
    }
    return status;
}

const char *pk_strerror(int status)
{
    switch (status) {
    case PK_OK:
        return "success";
    case PK_EINVAL:
        return "invalid argument";
    case PK_ENOMEM:
        return "out of memory";
    case PK_ECLOSED:
        return "closed";
    case PK_ETIMEDOUT:
        return "timed out";
    case PK_EIO:
        return "input/output error";
    case PK_ENET:
        return "network error";
    case PK_EMPI:
        return "MPI error";
    case PK_ERANGE:
        return "out of range";
    case PK_ECANCELED:
        return "cancelled";
    }
    return "unknown status";
}
