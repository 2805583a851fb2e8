/* SPDX-License-Identifier: MIT */
#include "interrupt.h"

#include "parkit/status.h"
#include "timing.h"

#include <signal.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t interrupted;
static struct sigaction saved;

static void on_sigint(int sig)
{
    (void)sig;
    if (interrupted)
        _exit(130); /* second Ctrl-C: at once */
    interrupted = 1;
}

void pk_interrupt_install(void)
{
    interrupted = 0;
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
    return interrupted != 0;
}

int pk_sleep_interruptible(double seconds)
{
    double end = pk_now_s() + seconds;
    for (;;) {
        if (interrupted)
            return PK_ECANCELED;
        double left = end - pk_now_s();
        if (left <= 0)
            return PK_OK;
        double slice = left < 0.01 ? left : 0.01;
        struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)(slice * 1e9)};
        nanosleep(&ts, NULL);
    }
}
