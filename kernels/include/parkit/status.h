/* SPDX-License-Identifier: MIT */
/* Status codes shared by every parkit library: 0 is success, failures are negative, and a
 * caller-owned struct pk_err carries the message that names the bad value. */
#ifndef PARKIT_STATUS_H
#define PARKIT_STATUS_H

enum pk_status {
    PK_OK = 0,
    PK_EINVAL = -1,    /* bad argument or input data */
    PK_ENOMEM = -2,    /* allocation failed */
    PK_ECLOSED = -3,   /* queue or pool closed */
    PK_ETIMEDOUT = -4, /* deadline passed */
    PK_EIO = -5,       /* read, write or open failed */
    PK_ENET = -6,      /* network failure */
    PK_EMPI = -7,      /* an MPI call failed */
    PK_ERANGE = -8,    /* result or size does not fit the representation */
    PK_ECANCELED = -9, /* cancelled (before it started, or cooperatively while running) */
};

/* A message buffer owned by the caller; every function that takes one accepts NULL. */
struct pk_err {
    int status;
    char msg[256];
};

/* Fills err (when not NULL) with status and the formatted message; returns status. */
int pk_fail(struct pk_err *err, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Static text for a status code; never NULL. */
const char *pk_strerror(int status);

#endif
