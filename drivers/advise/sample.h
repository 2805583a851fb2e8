/* SPDX-License-Identifier: MIT */
/* What the threads of a process tree spend their time on, sampled from /proc (Linux). Each
 * sample reads, for every thread of the command and of its descendants, the time it ran and the
 * time it was ready without a core (schedstat, exact), and for the rest of the interval what it
 * was blocked in: its state, its current system call and, for a file descriptor, what the
 * descriptor is. That tells a lock (futex: a GIL, a mutex) from the network, the disk, a pipe,
 * a timer or a child process, which CPU time against wall time alone cannot. */
#ifndef PARKIT_ADVISE_SAMPLE_H
#define PARKIT_ADVISE_SAMPLE_H

#include <stddef.h>
#include <sys/types.h>

/* Where a thread's time went. */
enum pk_use {
    PK_USE_CPU,    /* running */
    PK_USE_QUEUE,  /* ready to run, no free core */
    PK_USE_LOCK,   /* blocked in a futex: a lock, a condition, a join */
    PK_USE_NET,    /* a socket, or polling while it has sockets */
    PK_USE_DISK,   /* a file, fsync, or uninterruptible sleep */
    PK_USE_PIPE,   /* a pipe, or polling without sockets */
    PK_USE_TIMER,  /* sleep, nanosleep */
    PK_USE_CHILD,  /* waiting for a child process */
    PK_USE_OTHER,  /* anything else (a terminal, a signal, unknown) */
    PK_USE_N
};
extern const char *const pk_use_name[PK_USE_N];

struct pk_thread_use {
    pid_t pid, tid;
    unsigned long long run_ns, wait_ns; /* schedstat at the last sample */
    double last_s;                       /* time of the last sample that saw it */
    enum pk_use last_block;              /* what it was blocked in when last seen blocked */
    double s[PK_USE_N];                  /* seconds, by use */
};

struct pk_sampler {
    pid_t root;
    double last_s; /* time of the last sample (the start before the first) */
    struct pk_thread_use *t; /* every thread seen, in order of first sight */
    size_t n, cap;
    int max_threads, max_procs; /* most seen at once */
    size_t samples;
};

void pk_sampler_init(struct pk_sampler *s, pid_t root, double start_s);
/* One sample of the tree under s->root at time now_s. Threads that ended since the last
 * sample keep what was seen of them. Returns 0, or ENOMEM. */
int pk_sampler_take(struct pk_sampler *s, double now_s);
void pk_sampler_free(struct pk_sampler *s);

#endif
