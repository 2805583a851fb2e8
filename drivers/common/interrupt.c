/* SPDX-License-Identifier: MIT */
#include "interrupt.h"

#include "parkit/atomicfile.h"
#include "parkit/status.h"
#include "timing.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <time.h>
#include <unistd.h>

/* Read by worker threads as well (fetch's transfers poll it): a lock-free atomic is both
 * async-signal-safe and race-free, which volatile sig_atomic_t is not across threads. */
static atomic_int interrupted, polled;
static pthread_t main_thread;
static bool term_at_once;
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "the Ctrl-C flag must be lock-free");

#define NCLEANUPS 4
static struct {
    atomic_int used;
    _Atomic(void (*)(void *)) fn; /* set last: the handler runs a slot once fn is set */
    void *_Atomic arg;
} cleanups[NCLEANUPS];

/* Removes what writes in progress left, then exits as the shell reports a signal's death. On
 * the thread that runs the command: a write it has under way must not finish after the
 * cleanup, so another thread hands the signal over and carries on until the exit. */
static void exit_now(int sig)
{
    if (!pthread_equal(pthread_self(), main_thread)) {
        pthread_kill(main_thread, sig);
        return;
    }
    for (int i = 0; i < NCLEANUPS; i++) {
        void (*fn)(void *) = atomic_load(&cleanups[i].fn);
        if (fn)
            fn(atomic_load(&cleanups[i].arg));
    }
    pk_atomicfile_remove_temps();
    _exit(128 + sig);
}

static void on_signal(int sig)
{
    int saved_errno = errno;
    if ((sig == SIGTERM && term_at_once) || !atomic_load(&polled) ||
        atomic_exchange(&interrupted, 1))
        exit_now(sig); /* the launcher's, nobody polls, or the second signal: at once */
    errno = saved_errno;
}

void pk_interrupt_setup(int nranks)
{
    main_thread = pthread_self();
    term_at_once = nranks > 1;
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGINT);
    sigaddset(&sa.sa_mask, SIGTERM);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

void pk_interrupt_install(void)
{
    atomic_store(&interrupted, 0);
    atomic_store(&polled, 1);
}

void pk_interrupt_restore(void)
{
    atomic_store(&polled, 0);
}

bool pk_interrupted(void)
{
    return atomic_load(&interrupted) != 0;
}

int pk_interrupt_cleanup_add(void (*fn)(void *arg), void *arg)
{
    for (int i = 0; i < NCLEANUPS; i++) {
        int expect = 0;
        if (!atomic_compare_exchange_strong(&cleanups[i].used, &expect, 1))
            continue;
        atomic_store(&cleanups[i].arg, arg);
        atomic_store(&cleanups[i].fn, fn);
        return i;
    }
    return -1;
}

void pk_interrupt_cleanup_remove(int handle)
{
    if (handle < 0 || handle >= NCLEANUPS)
        return;
    atomic_store(&cleanups[handle].fn, NULL);
    atomic_store(&cleanups[handle].used, 0);
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
