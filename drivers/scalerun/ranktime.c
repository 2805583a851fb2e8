/* SPDX-License-Identifier: MIT */
/* scale run's per-rank timer. A launcher starts `parkit __rank-timer PROGRAM ARGS` as each
 * rank; it runs the program as its child, passes its signals on, and when the program ends
 * prints one marker line with the rank's own wall and CPU time on stdout, which the launcher
 * forwards to scale run (no shared file system needed, as under srun on many nodes). scale run
 * takes the markers out of the output before it looks for the figure of merit, and compares
 * the slowest rank with the median rank. The wrapper ends as the program did: the same exit
 * status, or the same signal. */
#define _GNU_SOURCE /* prctl */
#include "parkit/clock.h"
#include "sweep.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char marker[] = "@@parkit-rank-time ";

static volatile sig_atomic_t child_pid;

static void pass_on(int sig)
{
    if (child_pid > 0)
        kill((pid_t)child_pid, sig);
}

/* The rank as the launchers number it (Open MPI, PMIx, MPICH, MVAPICH, Slurm); -1: none. */
static long rank_from_env(void)
{
    static const char *const names[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK",    "PMI_RANK",
                                        "MV2_COMM_WORLD_RANK",  "SLURM_PROCID", NULL};
    for (size_t i = 0; names[i]; i++) {
        const char *v = getenv(names[i]);
        char *end;
        long r = v && *v ? strtol(v, &end, 10) : -1;
        if (v && *v && *end == 0 && r >= 0)
            return r;
    }
    return -1;
}

/* Ends this process as the program ended: its exit status, or the signal that killed it. */
static int end_like(int status)
{
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        signal(sig, SIG_DFL);
        struct rlimit none = {0, 0};
        setrlimit(RLIMIT_CORE, &none); /* the program dumped its own core, if any */
        raise(sig);
        return 128 + sig;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int pk_rank_timer_main(int argc, char **argv)
{
    if (argc < 1) {
        fprintf(stderr, "parkit __rank-timer: usage: parkit __rank-timer PROGRAM [ARGS]\n");
        return PK_EXIT_USAGE;
    }
    static const int passed[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCONT};
    struct sigaction sa = {.sa_handler = pass_on, .sa_flags = SA_RESTART};
    for (size_t i = 0; i < sizeof passed / sizeof *passed; i++)
        sigaction(passed[i], &sa, NULL);
    struct timespec start;
    clock_gettime(CLOCK_REALTIME, &start);
    double t0 = pk_now_s();
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* the launcher killed the wrapper: end the rank */
        execvp(argv[0], argv);
        fprintf(stderr, "parkit __rank-timer: cannot run '%s': %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    if (pid < 0) {
        fprintf(stderr, "parkit __rank-timer: cannot start '%s': %s\n", argv[0], strerror(errno));
        return PK_EXIT_RUNTIME;
    }
    child_pid = pid;
    int status = 0;
    struct rusage ru = {0};
    while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR)
        ;
    double wall = pk_now_s() - t0;
    char host[256] = "?";
    gethostname(host, sizeof host - 1);
    char line[512];
    int len =
        snprintf(line, sizeof line, "%srank=%ld start=%.6f wall=%.6f user=%.6f sys=%.6f host=%s\n",
                 marker, rank_from_env(), (double)start.tv_sec + 1e-9 * (double)start.tv_nsec, wall,
                 (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec,
                 (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec, host);
    fflush(stdout);
    ssize_t w = write(STDOUT_FILENO, line, (size_t)len); /* one write: one piece in the pipe */
    (void)w;
    return end_like(status);
}

/* Parses one marker's fields (after the prefix, up to the line's end); false when malformed. */
static bool parse_marker(const char *p, struct pk_rank_time *t)
{
    char host[65] = "";
    int got = sscanf(p, "rank=%ld start=%lf wall=%lf user=%lf sys=%lf host=%64s", &t->rank,
                     &t->start, &t->wall, &t->user, &t->sys, host);
    return got >= 5 && t->wall >= 0;
}

size_t pk__run_rank_times(char *out, size_t *len, struct pk_rank_time *v, size_t cap)
{
    size_t n = 0, mlen = sizeof marker - 1;
    char *w = out, *end = out + *len;
    for (char *r = out; r < end;) {
        char *m = memmem(r, (size_t)(end - r), marker, mlen);
        size_t keep = (size_t)((m ? m : end) - r);
        memmove(w, r, keep);
        w += keep;
        if (!m)
            break;
        char *eol = memchr(m, '\n', (size_t)(end - m));
        eol = eol ? eol + 1 : end;
        char save = eol < end ? *eol : 0;
        if (eol < end)
            *eol = 0; /* sscanf stops at the line's end */
        struct pk_rank_time t;
        if (n < cap && parse_marker(m + mlen, &t))
            v[n++] = t;
        if (eol < end)
            *eol = save;
        r = eol;
    }
    *len = (size_t)(w - out);
    if (out)
        out[*len] = 0;
    return n;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double pk__run_rank_spread(const struct pk_rank_time *v, size_t n, long *slowest)
{
    *slowest = -1;
    double *w = malloc((n ? n : 1) * sizeof *w);
    if (!w || n == 0) {
        free(w);
        return NAN;
    }
    size_t top = 0;
    for (size_t i = 0; i < n; i++) {
        w[i] = v[i].wall;
        top = v[i].wall > v[top].wall ? i : top;
    }
    qsort(w, n, sizeof *w, cmp_double);
    double med = n % 2 ? w[n / 2] : 0.5 * (w[n / 2 - 1] + w[n / 2]);
    free(w);
    *slowest = v[top].rank;
    return med > 0 ? 100 * (v[top].wall / med - 1) : NAN;
}
