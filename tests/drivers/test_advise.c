/* SPDX-License-Identifier: MIT */
/* advise's verdict rules (drivers/advise/verdict.c) on measurements made up to sit on each side
 * of each rule, and the summary of sampled threads. The real workloads, measured, are
 * tests/advise/workload.sh (label stress). */
#include "advise/verdict.h"
#include "check.h"

#include <string.h>

/* One made-up run: wall 1 s on 2 cores, cpu the command's CPU seconds. */
static struct pk_advise_measure run(double cpu, int computing, double lock_share)
{
    struct pk_advise_measure m = {.wall_s = 1,
                                  .user_s = cpu,
                                  .max_threads = computing + 1,
                                  .max_procs = 1,
                                  .computing = computing,
                                  .computing_lock_share = lock_share};
    m.use[PK_USE_CPU] = m.work[PK_USE_CPU] = cpu;
    return m;
}

static int case_parallel(void)
{
    struct pk_advise_measure m = run(1.9, 2, 0.02);
    struct pk_advice a;
    pk_advise_decide(&m, 2, &a);
    CHECK(strcmp(a.kind, "cpu-bound-parallel") == 0);
    CHECK(strstr(a.text, "saturated") != NULL);
    CHECK_EQ_INT(a.workers, 2);
    /* its own threads queue for the cores (3 running or ready on 2 cores): still parallel */
    m.use[PK_USE_QUEUE] = 1.1;
    pk_advise_decide(&m, 2, &a);
    CHECK(strcmp(a.kind, "cpu-bound-parallel") == 0);
    CHECK(strstr(a.text, "outnumber the cores") != NULL);
    return 0;
}

static int case_serialised(void)
{
    /* four threads taking turns on one core, each blocked in a lock 75% of its time: the GIL */
    struct pk_advise_measure m = run(1.0, 4, 0.75);
    struct pk_advice a;
    pk_advise_decide(&m, 2, &a);
    CHECK(strcmp(a.kind, "cpu-bound-serialised") == 0);
    CHECK(strstr(a.text, "processes") != NULL);
    /* the same threads barely in a lock: one core computing, which is serial */
    m.computing_lock_share = 0.05;
    pk_advise_decide(&m, 2, &a);
    CHECK(strcmp(a.kind, "cpu-bound-serial") == 0);
    return 0;
}

static int case_oversubscribed(void)
{
    /* two threads, ready without a core as long as they ran: other work held the cores */
    struct pk_advise_measure m = run(1.0, 2, 0);
    m.use[PK_USE_QUEUE] = 1.0;
    struct pk_advice a;
    pk_advise_decide(&m, 2, &a);
    CHECK(strcmp(a.kind, "oversubscribed") == 0);
    CHECK_EQ_INT(a.wait, PK_USE_QUEUE);
    /* a little queueing is normal */
    m.use[PK_USE_QUEUE] = 0.04;
    pk_advise_decide(&m, 2, &a);
    CHECK(strcmp(a.kind, "oversubscribed") != 0);
    return 0;
}

static int case_io_bound(void)
{
    /* 8 threads sleeping 3.2 thread-seconds for 0.05 s of CPU: waits on timers; Little's law
     * puts the CPU's saturation at 2 cores / (0.05 / 3.25) workers */
    struct pk_advise_measure m = run(0.05, 1, 0);
    m.work[PK_USE_TIMER] = m.use[PK_USE_TIMER] = 3.2;
    m.use[PK_USE_LOCK] = 0.9; /* the main thread waits on the futures: not a working thread */
    struct pk_advice a;
    pk_advise_decide(&m, 2, &a);
    CHECK(strcmp(a.kind, "io-bound") == 0);
    CHECK_EQ_INT(a.wait, PK_USE_TIMER);
    CHECK_EQ_INT(a.workers, 130);
    /* the same on sockets */
    m.work[PK_USE_TIMER] = 0;
    m.work[PK_USE_NET] = 3.2;
    pk_advise_decide(&m, 2, &a);
    CHECK_EQ_INT(a.wait, PK_USE_NET);
    CHECK(strstr(a.text, "the network") != NULL);
    return 0;
}

static int case_mixed_and_child(void)
{
    /* computes 40%, waits on the disk 60%: more waiting than computing is I/O-bound */
    struct pk_advise_measure m = run(0.4, 1, 0);
    m.work[PK_USE_DISK] = 0.6;
    struct pk_advice a;
    pk_advise_decide(&m, 2, &a);
    CHECK(strcmp(a.kind, "io-bound") == 0);
    /* computes 60%, waits 40%: mixed */
    m = run(0.6, 1, 0);
    m.work[PK_USE_PIPE] = 0.4;
    pk_advise_decide(&m, 2, &a);
    CHECK(strcmp(a.kind, "mixed") == 0);
    CHECK_EQ_INT(a.wait, PK_USE_PIPE);
    /* a shell waiting for its child is not waiting: the child's threads are measured */
    m = run(0.5, 1, 0);
    m.work[PK_USE_CHILD] = 5;
    m.work[PK_USE_TIMER] = 0.01;
    pk_advise_decide(&m, 2, &a);
    CHECK(strcmp(a.kind, "cpu-bound-serial") == 0);
    return 0;
}

static int case_summarise(void)
{
    /* three threads: two taking turns (each 0.5 s CPU, 0.5 s in a lock), one main thread only
     * waiting on a lock (a coordinator, not a working thread) */
    struct pk_thread_use t[3] = {{.pid = 1, .tid = 1}, {.pid = 1, .tid = 2}, {.pid = 1, .tid = 3}};
    t[0].s[PK_USE_CPU] = t[1].s[PK_USE_CPU] = 0.5;
    t[0].s[PK_USE_LOCK] = t[1].s[PK_USE_LOCK] = 0.5;
    t[2].s[PK_USE_LOCK] = 1.0;
    t[2].s[PK_USE_CPU] = 0.01;
    struct pk_sampler s = {.t = t, .n = 3, .max_threads = 3, .max_procs = 1};
    struct pk_advise_measure m = {.wall_s = 1, .user_s = 1.01};
    pk_advise_summarise(&s, &m);
    CHECK_EQ_INT(m.computing, 2);
    CHECK_EQ_DBL(m.computing_lock_share, 0.5);
    CHECK_EQ_DBL(m.use[PK_USE_LOCK], 2.0);
    CHECK_EQ_DBL(m.work[PK_USE_LOCK], 1.0); /* the coordinator's lock time is not work */
    CHECK_EQ_INT(m.max_threads, 3);
    struct pk_advice a;
    pk_advise_decide(&m, 2, &a);
    CHECK(strcmp(a.kind, "cpu-bound-serialised") == 0);
    /* the same threads in two processes do not take turns on one lock: no share */
    t[1].pid = 2;
    m = (struct pk_advise_measure){.wall_s = 1, .user_s = 1.01};
    pk_advise_summarise(&s, &m);
    CHECK_EQ_INT(m.computing, 2);
    CHECK_EQ_DBL(m.computing_lock_share, 0.0);
    return 0;
}

static int case_lock_between_waits(void)
{
    /* four HTTP client threads of one process, each waiting 0.4 s on a socket and 0.12 s for
     * the interpreter's lock after each reply, computing 0.05 s (as advise.network measured
     * once): they meet at the lock between waits; they do not take turns computing */
    struct pk_thread_use t[4];
    for (int i = 0; i < 4; i++) {
        t[i] = (struct pk_thread_use){.pid = 1, .tid = i + 1};
        t[i].s[PK_USE_CPU] = 0.04 + 0.01 * (i < 2);
        t[i].s[PK_USE_LOCK] = 0.12;
        t[i].s[PK_USE_NET] = 0.4;
    }
    struct pk_sampler s = {.t = t, .n = 4, .max_threads = 4, .max_procs = 1};
    struct pk_advise_measure m = {.wall_s = 0.6, .user_s = 0.18};
    pk_advise_summarise(&s, &m);
    CHECK_EQ_INT(m.computing, 4);
    CHECK(m.computing_lock_share < 0.25);
    struct pk_advice a;
    pk_advise_decide(&m, 2, &a);
    CHECK(strcmp(a.kind, "io-bound") == 0);
    CHECK_EQ_INT(a.wait, PK_USE_NET);
    return 0;
}

static const struct check_case cases[] = {
    {"parallel", case_parallel},
    {"serialised", case_serialised},
    {"oversubscribed", case_oversubscribed},
    {"io_bound", case_io_bound},
    {"mixed_and_child", case_mixed_and_child},
    {"summarise", case_summarise},
    {"lock_between_waits", case_lock_between_waits},
};

int main(int argc, char **argv)
{
    return CHECK_MAIN(cases);
}
