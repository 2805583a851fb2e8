/* SPDX-License-Identifier: MIT */
#include "verdict.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* A thread computed when it ran at least this share of all the CPU time sampled. */
#define COMPUTING_SHARE 0.10
/* A thread worked when it ran or waited on I/O or a timer at least this share of the wall. */
#define WORKING_SHARE 0.10
/* Ready without a core this share of the time it wanted one: the machine is oversubscribed. */
#define QUEUED_ABOVE 0.25
/* Share of the cores busy on average from which a command saturates the machine. */
#define SATURATED 0.85
/* Threads running or ready this many times the cores, on average: they outnumber the cores. */
#define OUTNUMBER 1.15
/* Cores busy on average from which a command computes in parallel (threads serialised by a
 * global lock stay near 1.0). */
#define PARALLEL_FROM 1.25
/* Computing threads blocked in a lock this share of their time take turns. */
#define SERIALISED_FROM 0.30
/* A working thread computing less than this share of its time waits more than it computes
 * (I/O-bound); up to MIXED_BELOW it both waits and computes. */
#define WAITING_BELOW 0.50
#define MIXED_BELOW   0.70

/* Threads in a lock, by process: a global lock (an interpreter's, a mutex) serialises the
 * threads of one process; separate processes do not take turns. The largest share of the
 * computing threads' time in a lock, over processes with two computing threads or more. Their
 * time includes their I/O waits: threads that mostly wait on sockets and meet at the lock on
 * each return (Python's HTTP clients) do not take turns computing. */
static double lock_share(const struct pk_sampler *s, double cpu)
{
    double best = 0;
    for (size_t i = 0; i < s->n; i++) {
        bool first = true; /* each process once: at its first thread */
        for (size_t j = 0; j < i && first; j++)
            first = s->t[j].pid != s->t[i].pid;
        if (!first)
            continue;
        int computing = 0;
        double lock = 0, turns = 0;
        for (size_t j = i; j < s->n; j++) {
            const double *u = s->t[j].s;
            if (s->t[j].pid != s->t[i].pid || u[PK_USE_CPU] < COMPUTING_SHARE * cpu)
                continue;
            computing++;
            lock += u[PK_USE_LOCK];
            turns += u[PK_USE_CPU] + u[PK_USE_QUEUE] + u[PK_USE_LOCK] + u[PK_USE_NET] +
                     u[PK_USE_DISK] + u[PK_USE_PIPE] + u[PK_USE_TIMER] + u[PK_USE_OTHER];
        }
        if (computing >= 2 && turns > 0 && lock / turns > best)
            best = lock / turns;
    }
    return best;
}

void pk_advise_summarise(const struct pk_sampler *s, struct pk_advise_measure *m)
{
    double cpu = 0;
    for (size_t i = 0; i < s->n; i++)
        cpu += s->t[i].s[PK_USE_CPU];
    for (size_t i = 0; i < s->n; i++) {
        const double *u = s->t[i].s;
        double worked = u[PK_USE_CPU] + u[PK_USE_QUEUE] + u[PK_USE_NET] + u[PK_USE_DISK] +
                        u[PK_USE_PIPE] + u[PK_USE_TIMER];
        bool working = worked >= WORKING_SHARE * m->wall_s;
        for (int k = 0; k < PK_USE_N; k++) {
            m->use[k] += u[k];
            m->work[k] += working ? u[k] : 0;
        }
        m->computing += cpu > 0 && u[PK_USE_CPU] >= COMPUTING_SHARE * cpu;
    }
    m->computing_lock_share = cpu > 0 ? lock_share(s, cpu) : 0;
    m->max_threads = s->max_threads > 0 ? s->max_threads : 1; /* ended before the first sample */
    m->max_procs = s->max_procs > 0 ? s->max_procs : 1;
}

/* The largest wait among uses (lock .. other) of u, and the sum of those waits. */
static int largest_wait(const double *u, double *waits)
{
    int best = PK_USE_OTHER;
    *waits = 0;
    for (int k = PK_USE_LOCK; k < PK_USE_N; k++) {
        if (k == PK_USE_CHILD) /* the child's own threads are sampled: its time is theirs */
            continue;
        *waits += u[k];
        if (u[k] > u[best])
            best = k;
    }
    return best;
}

/* The wait, in words. */
static const char *const wait_words[PK_USE_N] = {
    "computing",         "a core",          "a lock",
    "the network",       "the disk",        "a pipe",
    "timers (sleeping)", "a child process", "something else (a terminal, a signal)"};

static void waits_text(long cores, double f, struct pk_advice *a)
{
    const char *on = wait_words[a->wait];
    if (f < WAITING_BELOW) {
        /* Little's law: each waiting worker keeps f of a core busy, so the CPU saturates near
         * cores / f workers; the waits' source (a server, a disk) may saturate sooner */
        double w = f > 0 ? (double)cores / f : 1024;
        a->workers = w > 1024 ? 1024 : w < 1 ? 1 : (int)ceil(w);
        a->kind = "io-bound";
        snprintf(a->text, sizeof a->text,
                 "I/O-bound: its working threads wait %.0f%% of the time, mostly on %s. Use "
                 "threads (or an event loop), not processes: a pool of workers (parkit api, "
                 "fetch, files; io/ pool) overlaps the waits. The CPU would saturate near %d "
                 "workers; what it waits on may allow fewer, so measure a few counts up to it.",
                 100 * (1 - f), on, a->workers);
        return;
    }
    a->kind = "mixed";
    a->workers = (int)cores * 2;
    snprintf(a->text, sizeof a->text,
             "Mixed: its working threads compute %.0f%% of the time and wait %.0f%%, mostly on "
             "%s. Overlap them: a pipeline whose waiting stages are threads and whose compute "
             "stage uses the cores (parkit pipeline); about %d workers to start with.",
             100 * f, 100 * (1 - f), on, a->workers);
}

static void cpu_text(const struct pk_advise_measure *m, long cores, struct pk_advice *a)
{
    a->workers = (int)cores;
    a->wait = PK_USE_CPU;
    if (a->busy >= PARALLEL_FROM) {
        a->kind = "cpu-bound-parallel";
        double q = m->use[PK_USE_QUEUE], share = q / (q + m->use[PK_USE_CPU] + 1e-12);
        char own[160] = "";
        if (share >= QUEUED_ABOVE)
            snprintf(own, sizeof own,
                     " Its threads outnumber the cores: ready without one %.0f%% of the time.",
                     100 * share);
        snprintf(a->text, sizeof a->text,
                 "CPU-bound and parallel: %.2f of %ld cores busy on average, in %d %s (up to %d "
                 "threads). %s%s",
                 a->busy, cores, m->max_procs, m->max_procs > 1 ? "processes" : "process",
                 m->max_threads,
                 a->busy > SATURATED * (double)cores
                     ? "The cores are saturated: more threads will not help; more nodes (MPI "
                       "ranks) can."
                     : "Cores are left: more workers (threads or ranks) may help.",
                 own);
    } else if (m->computing >= 2 && m->computing_lock_share >= SERIALISED_FROM) {
        a->kind = "cpu-bound-serialised";
        snprintf(a->text, sizeof a->text,
                 "CPU-bound but serialised: %d threads took turns, %.2f of %ld cores busy, each "
                 "blocked in a lock %.0f%% of its time (a global interpreter lock such as "
                 "Python's, or one mutex). More threads will not help; processes "
                 "(ProcessPoolExecutor, multiprocessing, MPI ranks) or a language without a "
                 "global lock will, up to %ld.",
                 m->computing, a->busy, cores, 100 * m->computing_lock_share, cores);
    } else {
        a->kind = "cpu-bound-serial";
        snprintf(a->text, sizeof a->text,
                 "CPU-bound on one core: it computes %.2f of %ld cores. Spread the work: OpenMP "
                 "threads (-t %ld; in C threads compute in parallel, there is no GIL), "
                 "processes, or MPI ranks across nodes. Expect at most %ldx.",
                 a->busy, cores, cores, cores);
    }
}

void pk_advise_decide(const struct pk_advise_measure *m, long cores, struct pk_advice *a)
{
    memset(a, 0, sizeof *a);
    a->busy = m->wall_s > 0 ? (m->user_s + m->sys_s) / m->wall_s : 0;
    double cpu = m->use[PK_USE_CPU], queued = m->use[PK_USE_QUEUE];
    /* ready without a core: when its own threads wanted more cores than there are (running or
     * ready, on average), they outnumber the cores (said with the parallel verdict); otherwise
     * something else held the cores */
    bool queues = queued >= QUEUED_ABOVE * (cpu + queued) && queued >= 0.1 * m->wall_s &&
                  queued >= 0.02; /* a short run's wake-ups are not an oversubscribed machine */
    double demand = m->wall_s > 0 ? (cpu + queued) / m->wall_s : 0;
    if (queues && demand < OUTNUMBER * (double)cores) {
        a->kind = "oversubscribed";
        a->wait = PK_USE_QUEUE;
        a->workers = (int)cores;
        snprintf(a->text, sizeof a->text,
                 "Oversubscribed: its threads were ready to run but had no core for %.2f s, %.0f%% "
                 "of the time they wanted one (up to %d threads on %ld cores, and whatever else "
                 "runs here). Use at most %ld workers per node, or run it where the cores are "
                 "free; its timings mean little until then.",
                 queued, 100 * queued / (cpu + queued), m->max_threads, cores, cores);
        return;
    }
    const double *u = m->work[PK_USE_CPU] + m->work[PK_USE_QUEUE] > 0 ? m->work : m->use;
    double waits;
    a->wait = largest_wait(u, &waits);
    double f = u[PK_USE_CPU] + u[PK_USE_QUEUE] + waits > 0
                   ? (u[PK_USE_CPU] + u[PK_USE_QUEUE]) / (u[PK_USE_CPU] + u[PK_USE_QUEUE] + waits)
                   : 0;
    /* busy below MIXED_BELOW but f above: it computes most of the time it is not waiting on a
     * child or a lock, which is CPU-bound too */
    bool computes = a->busy >= MIXED_BELOW || f >= MIXED_BELOW ||
                    (m->computing >= 2 && m->computing_lock_share >= SERIALISED_FROM);
    if (computes)
        cpu_text(m, cores, a);
    else
        waits_text(cores, f, a);
}
