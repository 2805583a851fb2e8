/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE /* pipe2, prctl, strsignal */
#include "child.h"

#include "advise/sample.h"
#include "parkit/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* How often the tree is sampled while the pipe is quiet. */
#define SAMPLE_MS 10

static double tv_s(struct timeval tv)
{
    return (double)tv.tv_sec + 1e-6 * (double)tv.tv_usec;
}

/* Busy CPU seconds of the whole machine since boot (/proc/stat: all but idle and iowait);
 * NaN when unreadable. */
static double machine_busy_s(void)
{
    FILE *f = fopen("/proc/stat", "r");
    unsigned long long v[8] = {0};
    int got = f ? fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                         &v[3], &v[4], &v[5], &v[6], &v[7])
                : 0;
    if (f)
        fclose(f);
    if (got < 4)
        return NAN;
    /* user nice system idle iowait irq softirq steal: idle (3) and iowait (4) are not busy */
    unsigned long long busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
    return (double)busy / (double)sysconf(_SC_CLK_TCK);
}

/* The mean clock of the online CPUs in MHz: cpufreq's current frequencies, else /proc/cpuinfo's
 * "cpu MHz" lines; NaN when neither is there. */
static double mean_mhz(void)
{
    double sum = 0;
    int n = 0;
    for (int cpu = 0; cpu < 4096; cpu++) {
        char path[96];
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/cpufreq/scaling_cur_freq", cpu);
        FILE *f = fopen(path, "r");
        double khz;
        bool ok = f && fscanf(f, "%lf", &khz) == 1;
        if (f)
            fclose(f);
        if (!ok)
            break;
        sum += khz / 1000;
        n++;
    }
    FILE *f = n ? NULL : fopen("/proc/cpuinfo", "r");
    char line[256];
    while (f && fgets(line, sizeof line, f)) {
        const char *colon = strchr(line, ':');
        if (colon && strncmp(line, "cpu MHz", 7) == 0) {
            sum += strtod(colon + 1, NULL);
            n++;
        }
    }
    if (f)
        fclose(f);
    return n ? sum / n : NAN;
}

static double self_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return tv_s(ru.ru_utime) + tv_s(ru.ru_stime);
}

/* Appends what the pipe holds to r->out (kept up to PK_CHILD_OUT_MAX, the rest read and
 * dropped). Returns false at end of file. */
static bool drain(int fd, struct pk_child_result *r, size_t *cap)
{
    char buf[65536];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0)
        return errno == EINTR || errno == EAGAIN;
    if (n == 0)
        return false;
    size_t keep = (size_t)n;
    if (r->out_len + keep > PK_CHILD_OUT_MAX)
        keep = PK_CHILD_OUT_MAX - r->out_len;
    if (r->out_len + keep + 1 > *cap) {
        size_t ncap = (r->out_len + keep + 1) * 2;
        char *p = realloc(r->out, ncap);
        if (!p)
            return true; /* out of memory: the output is lost, the run still timed */
        r->out = p;
        *cap = ncap;
    }
    memcpy(r->out + r->out_len, buf, keep);
    r->out_len += keep;
    r->out[r->out_len] = 0;
    return true;
}

static void exec_child(char *const *argv, char *const *env, size_t nenv, int out_fd, int err_fd)
{
    prctl(PR_SET_PDEATHSIG, SIGTERM); /* mpirun, told so, ends its ranks too */
    dup2(out_fd, STDOUT_FILENO);
    for (size_t i = 0; i < nenv; i++)
        putenv(env[i]);
    execvp(argv[0], argv);
    int e = errno; /* tell the parent why exec failed */
    ssize_t w = write(err_fd, &e, sizeof e);
    (void)w;
    _exit(127);
}

/* Reads the pipe and samples the tree until the child is reaped and the pipe is closed (or,
 * when a grandchild keeps it open, a second after the child ended). The child's end wakes the
 * poll at once through a pidfd (Linux 5.3); without one, the wait is checked every
 * millisecond. Returns the time the child was reaped. */
static double watch(pid_t pid, int fd, struct pk_child_result *r, struct pk_sampler *smp,
                    struct rusage *ru)
{
    size_t cap = 0;
    bool open = true, sampling = true;
    double reaped_at = -1, next_sample = 0;
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    while (open || reaped_at < 0) {
        struct pollfd p[2] = {{.fd = open ? fd : -1, .events = POLLIN},
                              {.fd = reaped_at < 0 ? pidfd : -1, .events = POLLIN}};
        int ms = reaped_at >= 0 ? 100 : pidfd >= 0 ? SAMPLE_MS : 1;
        if (poll(p, 2, ms) > 0 && (p[0].revents & (POLLIN | POLLHUP)))
            open = drain(fd, r, &cap);
        double now = pk_now_s();
        if (reaped_at < 0) {
            pid_t w = wait4(pid, &r->status, WNOHANG, ru);
            if (w == pid || (w < 0 && errno != EINTR)) {
                reaped_at = now;
            } else if (sampling && now >= next_sample) {
                /* out of memory: the run delay rests on what was seen */
                sampling = pk_sampler_take(smp, now) == 0;
                next_sample = now + SAMPLE_MS * 1e-3;
            }
        } else if (now - reaped_at > 1.0) {
            open = false;
        }
    }
    if (pidfd >= 0)
        close(pidfd);
    return reaped_at;
}

int pk_child_run(char *const *argv, char *const *env, size_t nenv, struct pk_child_result *r)
{
    *r = (struct pk_child_result){.other_cpu_s = NAN};
    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) != 0)
        return errno;
    if (pipe2(err, O_CLOEXEC) != 0) {
        int e = errno;
        close(out[0]);
        close(out[1]);
        return e;
    }
    r->mhz_before = mean_mhz();
    double busy0 = machine_busy_s(), self0 = self_cpu_s(), t0 = pk_now_s();
    pid_t pid = fork();
    if (pid == 0)
        exec_child(argv, env, nenv, out[1], err[1]);
    int fork_errno = pid < 0 ? errno : 0;
    close(out[1]);
    close(err[1]);
    if (pid < 0) {
        close(out[0]);
        close(err[0]);
        return fork_errno;
    }
    struct pk_sampler smp;
    pk_sampler_init(&smp, pid, t0);
    struct rusage ru = {0};
    r->wall_s = watch(pid, out[0], r, &smp, &ru) - t0;
    close(out[0]);
    ssize_t got = read(err[0], &r->exec_errno, sizeof r->exec_errno);
    if (got != (ssize_t)sizeof r->exec_errno)
        r->exec_errno = 0;
    close(err[0]);
    r->user_s = tv_s(ru.ru_utime);
    r->sys_s = tv_s(ru.ru_stime);
    r->max_rss_kb = ru.ru_maxrss;
    for (size_t i = 0; i < smp.n; i++)
        r->run_delay_s += smp.t[i].s[PK_USE_QUEUE];
    r->threads_seen = smp.max_threads;
    pk_sampler_free(&smp);
    double busy = machine_busy_s() - busy0 - (self_cpu_s() - self0) - r->user_s - r->sys_s;
    r->other_cpu_s = isnan(busy) ? NAN : busy < 0 ? 0 : busy;
    r->mhz_after = mean_mhz();
    return 0;
}

void pk_child_status_text(int status, char *buf, size_t len)
{
    if (WIFEXITED(status))
        snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(buf, len, "ended with wait status %d", status);
}
