/* SPDX-License-Identifier: MIT */
#include "interrupt.h"

#include "parkit/status.h"
#include "timing.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

/* Read by worker threads as well (fetch's transfers poll it): a lock-free atomic is both
 * async-signal-safe and race-free, which volatile sig_atomic_t is not across threads. */
static atomic_int interrupted;
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "the Ctrl-C flag must be lock-free");
static struct sigaction saved;

static void on_sigint(int sig)
{
    (void)sig;
    int saved_errno = errno;
    if (atomic_exchange(&interrupted, 1))
        _exit(130); /* second Ctrl-C: at once */
    errno = saved_errno;
}

void pk_interrupt_install(void)
{
    atomic_store(&interrupted, 0);
    struct sigaction sa = {.sa_handler = on_sigint};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &saved);
}

void pk_interrupt_restore(void)
{
    sigaction(SIGINT, &saved, NULL);
}

bool pk_interrupted(void)
{
    return atomic_load(&interrupted) != 0;
}

int pk_sleep_interruptible(double seconds)
{
    double end = pk_now_s() + seconds;
    for (;;) {
        if (pk_interrupted())
            return PK_ECANCELED;
        double left = end - pk_now_s();
        if (left <= 0)
            return PK_OK;
        double slice = left < 0.01 ? left : 0.01;
        struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)(slice * 1e9)};
        nanosleep(&ts, NULL);
    }
}
