/* SPDX-License-Identifier: MIT */
/* What the io/ tests share: a monotonic clock, a sleep that survives signals, and the watchdog.
 * The watchdog is one thread, started by the first case, that waits on a CLOCK_MONOTONIC
 * condvar until the armed deadline and ends the process naming the case, so a lost wake-up or
 * a deadlock fails the case instead of hanging the suite. Every case re-arms it first thing
 * (WATCH()), so a case that failed early and left it armed does not matter. An atexit handler
 * stops and joins it: TSan sleeps a second at exit while another thread is alive. wd_mu guards
 * wd_name, wd_deadline and wd_quit; wd_cv is signalled when they change.
 * Also the crew: the helper threads of one case, joined before the case checks anything.
 * Define WATCHDOG_S (seconds) before including. */
#ifndef PARKIT_IO_TEST_H
#define PARKIT_IO_TEST_H

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#ifndef WATCHDOG_S
#    error "define WATCHDOG_S before including io_test.h"
#endif

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* CLOCK_MONOTONIC seconds as an absolute timespec for timed waits. */
static struct timespec abs_ts(double t)
{
    struct timespec ts;
    ts.tv_sec = (time_t)t;
    ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
    if (ts.tv_nsec > 999999999L)
        ts.tv_nsec = 999999999L;
    return ts;
}

static void sleep_s(double s)
{
    struct timespec ts;
    ts.tv_sec = (time_t)s;
    ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        continue;
}

static pthread_once_t wd_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t wd_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wd_cv;
static pthread_t wd_thread;
static const char *wd_name;
static double wd_deadline;
static int wd_quit;

static void *wd_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&wd_mu);
    while (!wd_quit) {
        if (wd_name && now_s() >= wd_deadline) {
            fprintf(stderr, "watchdog: %s still running after %.0f s: a thread is stuck\n", wd_name,
                    WATCHDOG_S);
            _exit(1);
        }
        if (!wd_name) {
            pthread_cond_wait(&wd_cv, &wd_mu);
        } else {
            struct timespec ts = abs_ts(wd_deadline);
            pthread_cond_timedwait(&wd_cv, &wd_mu, &ts);
        }
    }
    pthread_mutex_unlock(&wd_mu);
    return NULL;
}

static void wd_stop(void)
{
    pthread_mutex_lock(&wd_mu);
    wd_quit = 1;
    pthread_cond_signal(&wd_cv);
    pthread_mutex_unlock(&wd_mu);
    pthread_join(wd_thread, NULL);
}

static void wd_start(void)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(&wd_cv, &a);
    pthread_condattr_destroy(&a);
    if (pthread_create(&wd_thread, NULL, wd_main, NULL) == 0)
        atexit(wd_stop);
}

static void watch(const char *name)
{
    pthread_once(&wd_once, wd_start);
    pthread_mutex_lock(&wd_mu);
    wd_name = name;
    wd_deadline = now_s() + WATCHDOG_S;
    pthread_cond_signal(&wd_cv);
    pthread_mutex_unlock(&wd_mu);
}
#define WATCH() watch(__func__)

/* Helper threads of one case; the case joins them all before it checks what they recorded.
 * failed: a pthread_create failed (the case then fails after joining the others). */
enum { CREW_MAX = 16 };
struct crew {
    pthread_t tid[CREW_MAX];
    int n, failed;
};

static inline void crew_start(struct crew *c, void *(*fn)(void *), void *arg)
{
    if (c->n < CREW_MAX && pthread_create(&c->tid[c->n], NULL, fn, arg) == 0)
        c->n++;
    else
        c->failed = 1;
}

static inline void crew_join(struct crew *c)
{
    for (int i = 0; i < c->n; i++)
        pthread_join(c->tid[i], NULL);
    c->n = 0;
}

#endif
