/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE /* readlink, the SYS_* numbers */
#include "sample.h"

#include "parkit/dirlist.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

const char *const pk_use_name[PK_USE_N] = {"cpu",  "queue", "lock",  "network", "disk",
                                           "pipe", "timer", "child", "other"};

void pk_sampler_init(struct pk_sampler *s, pid_t root, double start_s)
{
    *s = (struct pk_sampler){.root = root, .last_s = start_s};
}

void pk_sampler_free(struct pk_sampler *s)
{
    free(s->t);
    *s = (struct pk_sampler){0};
}

/* The first line of a /proc file into buf; false when it cannot be read (the thread ended). */
static bool read_line(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    bool ok = fgets(buf, (int)size, f) != NULL;
    fclose(f);
    return ok;
}

/* What descriptor fd of process pid is: a socket, a pipe, a file, or something else. */
static enum pk_use fd_use(pid_t pid, long fd)
{
    char path[64], target[256];
    snprintf(path, sizeof path, "/proc/%d/fd/%ld", (int)pid, fd);
    ssize_t n = readlink(path, target, sizeof target - 1);
    if (n <= 0)
        return PK_USE_OTHER;
    target[n] = '\0';
    if (strncmp(target, "socket:", 7) == 0)
        return PK_USE_NET;
    if (strncmp(target, "pipe:", 5) == 0)
        return PK_USE_PIPE;
    if (target[0] == '/' && strncmp(target, "/dev/", 5) != 0)
        return PK_USE_DISK;
    return PK_USE_OTHER;
}

/* True when process pid holds a socket: a thread polling then waits on the network. */
static bool has_socket(pid_t pid)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%d/fd", (int)pid);
    struct pk_dirlist fds;
    bool found = false;
    if (pk_dirlist_read(dir, NULL, false, &fds) == 0)
        for (size_t i = 0; i < fds.n && !found; i++)
            found = fd_use(pid, strtol(fds.name[i], NULL, 10)) == PK_USE_NET;
    pk_dirlist_free(&fds);
    return found;
}

/* What a blocked thread waits for, from its system call (/proc/PID/task/TID/syscall: the
 * number, then the arguments; the first is the descriptor for the I/O calls). */
static enum pk_use syscall_use(pid_t pid, const char *line)
{
    char *end;
    long nr = strtol(line, &end, 10);
    if (end == line)
        return PK_USE_OTHER; /* "running" */
    unsigned long long arg0 = strtoull(end, NULL, 16);
    switch (nr) {
    case SYS_futex:
        return PK_USE_LOCK;
    case SYS_nanosleep:
    case SYS_clock_nanosleep:
        return PK_USE_TIMER;
    case SYS_wait4:
    case SYS_waitid:
        return PK_USE_CHILD;
    case SYS_fsync:
    case SYS_fdatasync:
    case SYS_sync:
    case SYS_syncfs:
    case SYS_sync_file_range:
        return PK_USE_DISK;
    case SYS_read:
    case SYS_readv:
    case SYS_pread64:
    case SYS_write:
    case SYS_writev:
    case SYS_pwrite64:
    case SYS_recvfrom:
    case SYS_recvmsg:
    case SYS_sendto:
    case SYS_sendmsg:
    case SYS_connect:
    case SYS_accept:
    case SYS_accept4:
        return fd_use(pid, (long)arg0);
#ifdef SYS_poll
    case SYS_poll:
    case SYS_select:
    case SYS_epoll_wait:
#endif
    case SYS_ppoll:
    case SYS_pselect6:
    case SYS_epoll_pwait:
        return has_socket(pid) ? PK_USE_NET : PK_USE_PIPE;
    default:
        return PK_USE_OTHER;
    }
}

/* What thread tid of pid is blocked in now, from its state and system call. */
static enum pk_use blocked_use(pid_t pid, pid_t tid, char state)
{
    if (state == 'D')
        return PK_USE_DISK; /* uninterruptible: the disk (or a network file system) */
    char path[96], line[256];
    snprintf(path, sizeof path, "/proc/%d/task/%d/syscall", (int)pid, (int)tid);
    if (state != 'S' || !read_line(path, line, sizeof line))
        return PK_USE_OTHER;
    return syscall_use(pid, line);
}

static struct pk_thread_use *find_or_add(struct pk_sampler *s, pid_t pid, pid_t tid)
{
    for (size_t i = s->n; i-- > 0;)
        if (s->t[i].tid == tid && s->t[i].pid == pid)
            return &s->t[i];
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        struct pk_thread_use *t = realloc(s->t, cap * sizeof *t);
        if (!t)
            return NULL;
        s->t = t;
        s->cap = cap;
    }
    /* a thread first seen now began after the last sample (or at the start): its schedstat
     * counts from zero, and the interval from the previous sample */
    struct pk_thread_use *u = &s->t[s->n++];
    *u = (struct pk_thread_use){.pid = pid, .tid = tid, .last_s = -1, .last_block = PK_USE_OTHER};
    return u;
}

/* Accounts one thread of pid at time now_s; false when it ended meanwhile. */
static bool sample_thread(struct pk_sampler *s, pid_t pid, pid_t tid, double now_s)
{
    char path[96], line[512];
    unsigned long long run_ns, wait_ns;
    snprintf(path, sizeof path, "/proc/%d/task/%d/schedstat", (int)pid, (int)tid);
    if (!read_line(path, line, sizeof line) || sscanf(line, "%llu %llu", &run_ns, &wait_ns) != 2)
        return false;
    snprintf(path, sizeof path, "/proc/%d/task/%d/stat", (int)pid, (int)tid);
    const char *paren = read_line(path, line, sizeof line) ? strrchr(line, ')') : NULL;
    if (!paren || !paren[1])
        return false;
    char state = paren[2];
    struct pk_thread_use *u = find_or_add(s, pid, tid);
    if (!u)
        return true; /* out of memory: counted, not accounted */
    double dt = now_s - (u->last_s >= 0 ? u->last_s : s->last_s);
    double run = 1e-9 * (double)(run_ns - u->run_ns), queue = 1e-9 * (double)(wait_ns - u->wait_ns);
    double blocked = dt - run - queue;
    u->s[PK_USE_CPU] += run;
    u->s[PK_USE_QUEUE] += queue;
    /* a thread running at the sample was blocked earlier in the interval, most likely where it
     * blocked the last time it was seen blocked */
    enum pk_use why = state == 'R' ? u->last_block : blocked_use(pid, tid, state);
    if (state != 'R')
        u->last_block = why;
    if (blocked > 0)
        u->s[why] += blocked;
    u->run_ns = run_ns;
    u->wait_ns = wait_ns;
    u->last_s = now_s;
    return true;
}

/* Adds the children of every thread of pid (/proc/PID/task/TID/children) to the queue. */
static int add_children(pid_t pid, const struct pk_dirlist *tasks, pid_t **queue, size_t *n,
                        size_t *cap)
{
    for (size_t i = 0; i < tasks->n; i++) {
        char path[96], line[4096];
        snprintf(path, sizeof path, "/proc/%d/task/%s/children", (int)pid, tasks->name[i]);
        if (!read_line(path, line, sizeof line))
            continue;
        char *p = line, *end;
        for (long child; (child = strtol(p, &end, 10)), end != p; p = end) {
            if (*n == *cap) {
                size_t c = 2 * *cap;
                pid_t *q = realloc(*queue, c * sizeof *q);
                if (!q)
                    return ENOMEM;
                *queue = q;
                *cap = c;
            }
            (*queue)[(*n)++] = (pid_t)child;
        }
    }
    return 0;
}

int pk_sampler_take(struct pk_sampler *s, double now_s)
{
    size_t cap = 16, n = 1, procs = 0;
    int threads = 0, rc = 0;
    pid_t *queue = malloc(cap * sizeof *queue);
    if (!queue)
        return ENOMEM;
    queue[0] = s->root;
    for (size_t k = 0; k < n && rc == 0; k++) {
        char dir[64];
        snprintf(dir, sizeof dir, "/proc/%d/task", (int)queue[k]);
        struct pk_dirlist tasks;
        if (pk_dirlist_read(dir, NULL, false, &tasks) == 0) {
            procs++;
            for (size_t i = 0; i < tasks.n; i++) {
                if (sample_thread(s, queue[k], (pid_t)atoi(tasks.name[i]), now_s))
                    threads++;
            }
            rc = add_children(queue[k], &tasks, &queue, &n, &cap);
        }
        pk_dirlist_free(&tasks);
    }
    free(queue);
    s->max_threads = threads > s->max_threads ? threads : s->max_threads;
    s->max_procs = (int)procs > s->max_procs ? (int)procs : s->max_procs;
    s->samples++;
    s->last_s = now_s;
    return rc;
}
