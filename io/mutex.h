/* SPDX-License-Identifier: MIT */
/* Private to io/: the one way its mutexes are made. Debug builds get error-checking mutexes,
 * which catch double unlocks, unlocks by a non-owner and self-deadlocks, as libuv's debug builds
 * do; release builds keep the default (fast) kind. */
#ifndef PARKIT_IO_MUTEX_H
#define PARKIT_IO_MUTEX_H

#include <pthread.h>

static inline int pk_mutex_init(pthread_mutex_t *m)
{
    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
#ifndef NDEBUG
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ERRORCHECK);
#endif
    int rc = pthread_mutex_init(m, &ma);
    pthread_mutexattr_destroy(&ma);
    return rc;
}

#endif
