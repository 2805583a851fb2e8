/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE /* pipe2, strsignal */
/* parkit advise -- COMMAND: the tutorials' "threads or processes?" decision, measured instead of
 * guessed from keywords. Runs the command, and from its wall time, the CPU time of it and its
 * children (wait4), its context switches and a sampled thread count, says whether it mostly
 * waits (I/O-bound: more threads or async I/O help, up to what the waits allow) or computes
 * (CPU-bound: spread it over the cores with OpenMP or ranks; in C threads compute in parallel,
 * there is no GIL), and which worker count fits. */
#include "commands.h"
#include "parkit/dirlist.h"
#include "emit.h"
#include "opt.h"
#include "record.h"
#include "sysinfo.h"
#include "timing.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Below this share of the wall time on a CPU, the command mostly waits. */
#define WAITING_BELOW 0.30
/* Between WAITING_BELOW and this it both waits and computes: overlap them. */
#define MIXED_BELOW 0.70
/* How often the child's thread count is sampled. */
#define SAMPLE_S 0.01

struct measure {
    double wall_s, user_s, sys_s;
    long vcsw, ivcsw, inblock, oublock, maxrss_kb;
    double queued_s; /* ready to run but waiting for a core (sampled /proc schedstat) */
    int max_threads;
    int status; /* wait status */
};

/* Threads of process pid now (from /proc/PID/stat), 0 when unknown. */
static int threads_of(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* fields after the command name, which is in parentheses and may hold spaces */
    char *p = strrchr(buf, ')');
    int field = 2, threads = 0;
    for (; p && *p && field < 20; p++)
        if (*p == ' ')
            field++;
    if (p && field == 20)
        threads = atoi(p);
    return threads;
}

/* Seconds the threads of pid have spent ready to run but without a core, summed from
 * /proc/PID/task/TID/schedstat (its second field); -1 when unknown. A busy process on a busy
 * machine waits there, which is not waiting for I/O. */
static double queued_of(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    struct pk_dirlist tasks;
    if (pk_dirlist_read(path, NULL, false, &tasks) != 0) {
        pk_dirlist_free(&tasks);
        return -1;
    }
    double sum = 0;
    for (size_t i = 0; i < tasks.n; i++) {
        char file[384];
        snprintf(file, sizeof file, "/proc/%d/task/%s/schedstat", (int)pid, tasks.name[i]);
        FILE *f = fopen(file, "r");
        unsigned long long run_ns, wait_ns;
        if (f && fscanf(f, "%llu %llu", &run_ns, &wait_ns) == 2)
            sum += 1e-9 * (double)wait_ns;
        if (f)
            fclose(f);
    }
    pk_dirlist_free(&tasks);
    return sum;
}

static double tv_s(struct timeval tv)
{
    return (double)tv.tv_sec + 1e-6 * (double)tv.tv_usec;
}

/* Runs argv; 0 with *m filled, or errno when it could not be started. */
static int run_measured(char **argv, struct measure *m)
{
    /* the child writes exec's errno here; close-on-exec makes a successful exec close it */
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0)
        return errno;
    double t0 = pk_now_s();
    pid_t pid = fork();
    if (pid < 0)
        return errno;
    if (pid == 0) {
        close(pipefd[0]);
        execvp(argv[0], argv);
        int e = errno; /* tell the parent why exec failed */
        ssize_t w = write(pipefd[1], &e, sizeof e);
        (void)w;
        _exit(127);
    }
    close(pipefd[1]);
    /* like time(1): Ctrl-C goes to the command; advise stays to report */
    struct sigaction ign = {.sa_handler = SIG_IGN}, old_int, old_quit;
    sigaction(SIGINT, &ign, &old_int);
    sigaction(SIGQUIT, &ign, &old_quit);
    struct rusage ru;
    int status = 0;
    *m = (struct measure){0};
    for (;;) {
        pid_t r = wait4(pid, &status, WNOHANG, &ru);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR)
            break;
        int t = threads_of(pid);
        m->max_threads = t > m->max_threads ? t : m->max_threads;
        double q = queued_of(pid);
        m->queued_s = q > m->queued_s ? q : m->queued_s;
        struct timespec ts = {0, (long)(SAMPLE_S * 1e9)};
        nanosleep(&ts, NULL);
    }
    m->wall_s = pk_now_s() - t0;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGQUIT, &old_quit, NULL);
    int exec_errno = 0;
    ssize_t got = read(pipefd[0], &exec_errno, sizeof exec_errno);
    close(pipefd[0]);
    if (got == (ssize_t)sizeof exec_errno && exec_errno)
        return exec_errno;
    /* wait4's usage covers the command and the children it waited for */
    m->user_s = tv_s(ru.ru_utime);
    m->sys_s = tv_s(ru.ru_stime);
    m->vcsw = ru.ru_nvcsw;
    m->ivcsw = ru.ru_nivcsw;
    m->inblock = ru.ru_inblock;
    m->oublock = ru.ru_oublock;
    m->maxrss_kb = ru.ru_maxrss;
    m->status = status;
    if (m->max_threads == 0)
        m->max_threads = 1; /* it ended before the first sample */
    return 0;
}

struct advice {
    const char *kind; /* io-bound, mixed, cpu-bound-serial, cpu-bound-parallel */
    double busy;      /* CPU time / wall time: cores kept busy on average */
    int workers;      /* worker count to try */
    char text[512];
};

static void decide(const struct measure *m, long cores, struct advice *a)
{
    double cpu = m->user_s + m->sys_s;
    a->busy = m->wall_s > 0 ? cpu / m->wall_s : 0;
    /* share of each thread's time it ran or was ready to: a single-threaded command at 0.2
     * waits 80% of the time for something other than a core */
    double ready = m->wall_s > 0 ? (cpu + m->queued_s) / m->wall_s : 0;
    double per_thread = ready / (m->max_threads > 0 ? m->max_threads : 1);
    if (per_thread < WAITING_BELOW) {
        a->kind = "io-bound";
        /* Little's law: each waiting worker uses busy/threads of a core, so the CPU saturates
         * near cores / per_thread workers; the waits (a server, a disk) may saturate sooner */
        double w = per_thread > 0 ? (double)cores / per_thread : 1024;
        w = w < 1 ? 1 : w;
        a->workers = w > 1024 ? 1024 : (int)ceil(w);
        snprintf(a->text, sizeof a->text,
                 "I/O-bound: it waits %.0f%% of the time. Use threads, not processes: a pool of "
                 "workers (parkit api/fetch/files, io/ pool) overlaps the waits. The CPU would "
                 "saturate near %d workers; the waits' source (server, disk, rate limit) may "
                 "allow fewer, so measure a few counts up to it.",
                 100 * (1 - (per_thread < 1 ? per_thread : 1)), a->workers);
    } else if (per_thread < MIXED_BELOW) {
        a->kind = "mixed";
        a->workers = (int)cores * 2;
        snprintf(
            a->text, sizeof a->text,
            "Mixed: it runs (or is ready to) %.0f%% of the time and waits the rest. Overlap them: "
            "a pipeline whose I/O stages are threads and whose compute stage uses the "
            "cores (parkit pipeline); about %d workers to start with.",
            100 * per_thread, a->workers);
    } else if (a->busy < 1.5 && cores > 1) {
        a->kind = "cpu-bound-serial";
        a->workers = (int)cores;
        snprintf(a->text, sizeof a->text,
                 "CPU-bound on one core: it runs (or is ready to) %.0f%% of the time but uses %.2f "
                 "of %ld "
                 "cores. Spread the work: OpenMP threads (-t %ld; in C threads compute in "
                 "parallel, there is no GIL) or MPI ranks across nodes. Expect at most %ldx.",
                 100 * per_thread, a->busy, cores, cores, cores);
    } else {
        a->kind = "cpu-bound-parallel";
        a->workers = (int)cores;
        snprintf(a->text, sizeof a->text,
                 "CPU-bound and already parallel: %.2f of %ld cores busy on average%s. More "
                 "threads than cores will not help; more nodes (MPI ranks) can.",
                 a->busy, cores,
                 a->busy > 0.9 * (double)cores ? " (the machine is saturated)" : "");
    }
}

/* ---- options ----------------------------------------------------------------------------- */

static const char description[] =
    "Runs COMMAND, measures its wall time against the CPU time it and its children used,\n"
    "their context switches and how many threads it ran, and says whether it is I/O-bound\n"
    "(it waits: use threads, a pool of W workers) or CPU-bound (it computes: use the cores,\n"
    "with OpenMP threads or MPI ranks), with a worker count to try. COMMAND's own output\n"
    "passes through; the advice goes to stdout after it (--format csv: a header row and one\n"
    "row of measurements).\n"
    "\n"
    "Exit status: 0 when COMMAND ran and exited 0; 1 when it failed or was killed (the\n"
    "measurements are still printed); 2 for a usage error, or when COMMAND cannot be run.\n";

/* The command to run is everything after "--", so its own options are never advise's. */
static int parse(int argc, char **argv, const struct pk_comm *c, struct pk_common_opts *common,
                 struct pk_args *args)
{
    static const struct pk_opt table[] = {{NULL}};
    const struct pk_cmd_spec spec = {
        .name = "advise",
        .synopsis = "[--format F] [--record FILE] [--] COMMAND [ARGS...]",
        .summary = "Threads or processes? Measures COMMAND and says whether it waits or computes.",
        .description = description,
        .opts = table,
        .shared = PK_SHARED_RECORD | PK_SHARED_FORMAT,
        .formats = PK_FORMATS_CSV,
        .rest = "COMMAND",
        .rest_at_operand = true,
    };
    int status = pk_opts_parse(&spec, c, argc, argv, common, args);
    if (status != PK_EXIT_OK)
        return status;
    if (args->nrest == 0) {
        pk_error(c, false, "advise", "give the command to run");
        return PK_EXIT_USAGE;
    }
    return pk_cli_single_process(c, "advise");
}

/* ---- the record -------------------------------------------------------------------------- */

/* How the command ended, in words. */
static void ending(int status, char *how, size_t size)
{
    if (WIFEXITED(status))
        snprintf(how, size, "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(how, size, "killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(how, size, "ended (status 0x%x)", status);
}

static json_t *make_record(const struct pk_comm *c, const struct pk_args *a,
                           const struct measure *m, const struct advice *adv, long cores)
{
    char how[64];
    ending(m->status, how, sizeof how);
    json_t *cmd = json_array();
    for (size_t i = 0; i < a->nrest; i++)
        json_array_append_new(cmd, pk_json_text(a->rest[i]));
    json_t *rec = pk_record_new("advise");
    json_object_set_new(rec, "params", json_pack("{s:o}", "command", cmd));
    json_object_set_new(
        rec, "result",
        json_pack(
            "{s:s, s:f, s:f, s:f, s:f, s:f, s:i, s:I, s:I, s:I, s:I, s:I, s:s, s:i, s:s, s:i}",
            "exit", how, "wall_s", m->wall_s, "user_s", m->user_s, "sys_s", m->sys_s, "busy_cores",
            adv->busy, "run_queue_s", m->queued_s, "max_threads", m->max_threads,
            "voluntary_switches", (json_int_t)m->vcsw, "involuntary_switches", (json_int_t)m->ivcsw,
            "blocks_read", (json_int_t)m->inblock, "blocks_written", (json_int_t)m->oublock,
            "max_rss_kb", (json_int_t)m->maxrss_kb, "kind", adv->kind, "workers", adv->workers,
            "advice", adv->text, "cores", (int)cores));
    json_object_set_new(rec, "verified", json_null()); /* a measurement, nothing to verify */
    pk_record_set_timing(rec, &m->wall_s, 1, 0);
    json_t *sysinfo = pk_sysinfo_for_command(c, "advise", 1);
    pk_record_set_provenance(rec, sysinfo);
    json_decref(sysinfo);
    return rec;
}

/* ---- output ------------------------------------------------------------------------------ */

static double num(const json_t *res, const char *key)
{
    return json_number_value(json_object_get(res, key));
}

static long long whole(const json_t *res, const char *key)
{
    return (long long)json_integer_value(json_object_get(res, key));
}

static const char *text(const json_t *res, const char *key)
{
    return json_string_value(json_object_get(res, key));
}

static void print_table(const json_t *rec, const void *ctx)
{
    (void)ctx;
    const json_t *res = json_object_get(rec, "result");
    printf("# parkit advise\ncommand     ");
    size_t i;
    json_t *w;
    const json_t *cmd = json_object_get(json_object_get(rec, "params"), "command");
    json_array_foreach(cmd, i, w)
        printf("%s%s", json_string_value(w), i + 1 < json_array_size(cmd) ? " " : "\n");
    printf("ended       %s\n", text(res, "exit"));
    printf("wall        %.3f s\n", num(res, "wall_s"));
    printf("cpu         %.3f s user + %.3f s sys = %.2f cores busy on average (of %lld)\n",
           num(res, "user_s"), num(res, "sys_s"), num(res, "busy_cores"), whole(res, "cores"));
    printf("threads     up to %lld (sampled every %.0f ms)\n", whole(res, "max_threads"),
           SAMPLE_S * 1e3);
    printf("run queue   %.3f s ready to run but without a free core\n", num(res, "run_queue_s"));
    printf("switches    %lld voluntary (it blocked), %lld involuntary (it was preempted)\n",
           whole(res, "voluntary_switches"), whole(res, "involuntary_switches"));
    printf("disk        %lld blocks read, %lld written; peak memory %.1f MiB\n",
           whole(res, "blocks_read"), whole(res, "blocks_written"),
           (double)whole(res, "max_rss_kb") / 1024);
    long long workers = whole(res, "workers");
    printf("verdict     %s; try %lld %s\n", text(res, "kind"), workers,
           pk_plural((unsigned long long)workers, "worker", "workers"));
    printf("advice      %s\n", text(res, "advice"));
}

/* One row: the measurements and the verdict. */
static void print_csv(const json_t *rec, struct pk_csvw *w, const void *ctx)
{
    (void)ctx;
    static const char *const header[] = {"command",
                                         "exit",
                                         "wall_s",
                                         "user_s",
                                         "sys_s",
                                         "busy_cores",
                                         "cores",
                                         "max_threads",
                                         "run_queue_s",
                                         "voluntary_switches",
                                         "involuntary_switches",
                                         "blocks_read",
                                         "blocks_written",
                                         "max_rss_kb",
                                         "kind",
                                         "workers",
                                         "advice",
                                         NULL};
    const json_t *res = json_object_get(rec, "result");
    pk_csvw_row(w, header);
    /* the command as one field, its words separated by spaces */
    char cmd[1024] = "";
    size_t i, len = 0;
    json_t *word;
    json_array_foreach(json_object_get(json_object_get(rec, "params"), "command"), i, word) len +=
        (size_t)snprintf(cmd + len, len < sizeof cmd ? sizeof cmd - len : 0, "%s%s", i ? " " : "",
                         json_string_value(word));
    pk_csvw_field(w, cmd);
    pk_csvw_field(w, text(res, "exit"));
    pk_csvw_fieldf(w, "%.6f", num(res, "wall_s"));
    pk_csvw_fieldf(w, "%.6f", num(res, "user_s"));
    pk_csvw_fieldf(w, "%.6f", num(res, "sys_s"));
    pk_csvw_fieldf(w, "%.4f", num(res, "busy_cores"));
    pk_csvw_fieldf(w, "%lld", whole(res, "cores"));
    pk_csvw_fieldf(w, "%lld", whole(res, "max_threads"));
    pk_csvw_fieldf(w, "%.6f", num(res, "run_queue_s"));
    pk_csvw_fieldf(w, "%lld", whole(res, "voluntary_switches"));
    pk_csvw_fieldf(w, "%lld", whole(res, "involuntary_switches"));
    pk_csvw_fieldf(w, "%lld", whole(res, "blocks_read"));
    pk_csvw_fieldf(w, "%lld", whole(res, "blocks_written"));
    pk_csvw_fieldf(w, "%lld", whole(res, "max_rss_kb"));
    pk_csvw_field(w, text(res, "kind"));
    pk_csvw_fieldf(w, "%lld", whole(res, "workers"));
    pk_csvw_field(w, text(res, "advice"));
    pk_csvw_end(w);
}

int pk_cmd_advise(int argc, char **argv, const struct pk_comm *c)
{
    struct pk_common_opts common;
    struct pk_args args = {0};
    int status = parse(argc, argv, c, &common, &args);
    if (status != PK_EXIT_OK) {
        pk_args_free(&args);
        return pk_opts_exit(status);
    }
    /* execvp wants a NULL-terminated list */
    char **cmd = calloc(args.nrest + 1, sizeof *cmd);
    if (!cmd) {
        pk_error(c, false, "advise", "out of memory");
        pk_args_free(&args);
        return PK_EXIT_RUNTIME;
    }
    memcpy(cmd, args.rest, args.nrest * sizeof *cmd);
    fflush(stdout);
    struct measure m;
    int e = run_measured(cmd, &m);
    free(cmd);
    if (e) {
        pk_error(c, false, "advise", "cannot run '%s': %s", args.rest[0], strerror(e));
        pk_args_free(&args);
        return PK_EXIT_USAGE;
    }
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    cores = cores > 0 ? cores : 1;
    struct advice adv;
    decide(&m, cores, &adv);
    json_t *rec = make_record(c, &args, &m, &adv, cores);
    bool ok = WIFEXITED(m.status) && WEXITSTATUS(m.status) == 0;
    if (!ok)
        pk_error(c, false, "advise", "'%s' %s", args.rest[0],
                 text(json_object_get(rec, "result"), "exit"));
    static const struct pk_view view = {print_table, print_csv};
    status = pk_emit(c, "advise", &common, &view, NULL, rec, ok ? PK_EXIT_OK : PK_EXIT_RUNTIME);
    pk_args_free(&args);
    return status;
}
