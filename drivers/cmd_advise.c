/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE /* pipe2, strsignal, sched_getaffinity */
/* parkit advise -- COMMAND: the tutorials' "threads or processes?" decision, measured instead of
 * guessed from keywords. Runs the command, times it as a whole (wait4: wall, CPU of it and its
 * children), samples what each of its threads and its children's threads spends its time on
 * (advise/sample.c: running, ready without a core, a lock, the network, the disk, a pipe, a
 * timer), and says whether it computes in parallel, computes but serialised (threads taking
 * turns on a lock, such as Python's GIL), computes on one core, waits (I/O-bound, and on what),
 * both, or runs on an oversubscribed machine (advise/verdict.c), with a worker count to try. */
#include "advise/sample.h"
#include "advise/verdict.h"
#include "commands.h"
#include "emit.h"
#include "opt.h"
#include "record.h"
#include "sysinfo.h"
#include "timing.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* How often the command's threads are sampled. */
#define SAMPLE_S 0.01

static double tv_s(struct timeval tv)
{
    return (double)tv.tv_sec + 1e-6 * (double)tv.tv_usec;
}

/* Waits for pid, sampling its tree every SAMPLE_S; the usage of it and its waited-for
 * children in *ru. Returns the wait status. */
static int wait_sampled(pid_t pid, struct pk_sampler *smp, struct rusage *ru)
{
    int status = 0;
    for (;;) {
        pid_t r = wait4(pid, &status, WNOHANG, ru);
        if (r == pid || (r < 0 && errno != EINTR))
            return status;
        if (pk_sampler_take(smp, pk_now_s()) != 0) {
            /* out of memory: the verdict rests on what was seen; wait without sampling */
            while (wait4(pid, &status, 0, ru) < 0 && errno == EINTR)
                ;
            return status;
        }
        struct timespec ts = {0, (long)(SAMPLE_S * 1e9)};
        nanosleep(&ts, NULL);
    }
}

/* Runs argv; 0 with *m filled, or errno when it could not be started. */
static int run_measured(char **argv, struct pk_advise_measure *m)
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
    struct pk_sampler smp;
    pk_sampler_init(&smp, pid, t0);
    struct rusage ru = {0};
    *m = (struct pk_advise_measure){0};
    m->status = wait_sampled(pid, &smp, &ru);
    m->wall_s = pk_now_s() - t0;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGQUIT, &old_quit, NULL);
    int exec_errno = 0;
    ssize_t got = read(pipefd[0], &exec_errno, sizeof exec_errno);
    close(pipefd[0]);
    if (got == (ssize_t)sizeof exec_errno && exec_errno) {
        pk_sampler_free(&smp);
        return exec_errno;
    }
    m->user_s = tv_s(ru.ru_utime);
    m->sys_s = tv_s(ru.ru_stime);
    m->vcsw = ru.ru_nvcsw;
    m->ivcsw = ru.ru_nivcsw;
    m->inblock = ru.ru_inblock;
    m->oublock = ru.ru_oublock;
    m->maxrss_kb = ru.ru_maxrss;
    pk_advise_summarise(&smp, m);
    pk_sampler_free(&smp);
    return 0;
}

/* ---- options ----------------------------------------------------------------------------- */

static const char description[] =
    "Runs COMMAND, times it as a whole (wall, and the CPU time of it and its children) and\n"
    "samples what each of its threads (and its child processes' threads) spends its time on:\n"
    "running, ready without a free core, or blocked in a lock (a GIL, a mutex), the network,\n"
    "the disk, a pipe, a timer or a child. Says whether it computes in parallel, computes but\n"
    "serialised (threads taking turns: use processes), computes on one core, waits (I/O-bound:\n"
    "use threads, with the worker count where the CPU would saturate), both, or ran on an\n"
    "oversubscribed machine. COMMAND's own output passes through; the advice goes to stdout\n"
    "after it (--format csv: a header row and one row of measurements).\n"
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
    if (args->nrest == 0)
        return pk_usage_error(c, "advise", "give the command to run");
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

/* Thread-seconds by use, as a JSON object (cpu, queue, lock, network, ...). */
static json_t *uses_json(const double *u)
{
    json_t *o = json_object();
    for (int k = 0; k < PK_USE_N; k++)
        json_object_set_new(o, pk_use_name[k], json_real(u[k]));
    return o;
}

static json_t *make_record(const struct pk_comm *c, const struct pk_args *a,
                           const struct pk_advise_measure *m, const struct pk_advice *adv,
                           long cores)
{
    char how[64];
    ending(m->status, how, sizeof how);
    json_t *cmd = json_array();
    for (size_t i = 0; i < a->nrest; i++)
        json_array_append_new(cmd, pk_json_text(a->rest[i]));
    json_t *rec = pk_record_new("advise");
    json_object_set_new(rec, "params",
                        json_pack("{s:o, s:f}", "command", cmd, "sample_s", SAMPLE_S));
    json_t *res = json_pack(
        "{s:s, s:f, s:f, s:f, s:f, s:f, s:i, s:i, s:i, s:f, s:I, s:I, s:I, s:I, s:I}", "exit", how,
        "wall_s", m->wall_s, "user_s", m->user_s, "sys_s", m->sys_s, "busy_cores", adv->busy,
        "run_queue_s", m->use[PK_USE_QUEUE], "max_threads", m->max_threads, "processes",
        m->max_procs, "computing_threads", m->computing, "computing_lock_share",
        m->computing_lock_share, "voluntary_switches", (json_int_t)m->vcsw, "involuntary_switches",
        (json_int_t)m->ivcsw, "blocks_read", (json_int_t)m->inblock, "blocks_written",
        (json_int_t)m->oublock, "max_rss_kb", (json_int_t)m->maxrss_kb);
    json_object_set_new(res, "thread_s", uses_json(m->use));
    json_object_set_new(res, "working_thread_s", uses_json(m->work));
    json_object_update_new(res, json_pack("{s:s, s:s, s:i, s:s, s:i}", "kind", adv->kind,
                                          "waits_on", pk_use_name[adv->wait], "workers",
                                          adv->workers, "advice", adv->text, "cores", (int)cores));
    json_object_set_new(rec, "result", res);
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
    printf("threads     up to %lld in %lld %s, %lld of them computing (sampled every %.0f ms)\n",
           whole(res, "max_threads"), whole(res, "processes"),
           whole(res, "processes") > 1 ? "processes" : "process", whole(res, "computing_threads"),
           SAMPLE_S * 1e3);
    /* where the threads' time went, largest first after the CPU */
    const json_t *ts = json_object_get(res, "thread_s");
    printf("time        ");
    for (int k = 0; k < PK_USE_N; k++)
        printf("%s%s %.3f s", k ? ", " : "", k == PK_USE_QUEUE ? "no core" : pk_use_name[k],
               json_number_value(json_object_get(ts, pk_use_name[k])));
    printf(" (thread-seconds)\n");
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
                                         "processes",
                                         "computing_threads",
                                         "computing_lock_share",
                                         "run_queue_s",
                                         "voluntary_switches",
                                         "involuntary_switches",
                                         "blocks_read",
                                         "blocks_written",
                                         "max_rss_kb",
                                         "cpu_s",
                                         "queue_s",
                                         "lock_s",
                                         "network_s",
                                         "disk_s",
                                         "pipe_s",
                                         "timer_s",
                                         "child_s",
                                         "other_s",
                                         "kind",
                                         "waits_on",
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
    pk_csvw_fieldf(w, "%lld", whole(res, "processes"));
    pk_csvw_fieldf(w, "%lld", whole(res, "computing_threads"));
    pk_csvw_fieldf(w, "%.4f", num(res, "computing_lock_share"));
    pk_csvw_fieldf(w, "%.6f", num(res, "run_queue_s"));
    pk_csvw_fieldf(w, "%lld", whole(res, "voluntary_switches"));
    pk_csvw_fieldf(w, "%lld", whole(res, "involuntary_switches"));
    pk_csvw_fieldf(w, "%lld", whole(res, "blocks_read"));
    pk_csvw_fieldf(w, "%lld", whole(res, "blocks_written"));
    pk_csvw_fieldf(w, "%lld", whole(res, "max_rss_kb"));
    for (int k = 0; k < PK_USE_N; k++)
        pk_csvw_fieldf(
            w, "%.6f",
            json_number_value(json_object_get(json_object_get(res, "thread_s"), pk_use_name[k])));
    pk_csvw_field(w, text(res, "kind"));
    pk_csvw_field(w, text(res, "waits_on"));
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
    struct pk_advise_measure m;
    int e = run_measured(cmd, &m);
    free(cmd);
    if (e) {
        pk_error(c, false, "advise", "cannot run '%s': %s", args.rest[0], strerror(e));
        pk_args_free(&args);
        return PK_EXIT_USAGE;
    }
    long cores = pk_sysinfo_usable_cores();
    struct pk_advice adv;
    pk_advise_decide(&m, cores, &adv);
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
