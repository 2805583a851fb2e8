/* SPDX-License-Identifier: MIT */
/* parkit: one program, one subcommand per driver file. main initialises MPI when started by a
 * launcher, dispatches, and returns the exit status every rank agreed on. */
#include "commands.h"
#include "interrupt.h"
#include "parkit/features.h"
#include "record.h"
#include "scalerun/run.h"

#include <errno.h>
#include <gsl/gsl_errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct command {
    const char *name;
    int (*run)(int argc, char **argv, const struct pk_comm *c);
    const char *summary;
    /* Idle OpenMP threads should sleep rather than spin: task-parallel GMP work waits often, and
     * spinning waiters made !1e6 on 2 threads take 0.50 s instead of 0.29 s on the reference
     * machine. Fine-grained loops (sumsq) keep libgomp's default, which wakes faster; the demo
     * runs factsum too, and its sumsq sizes are large enough not to notice. */
    bool passive_wait;
    /* These commands also get BIGNUM_MALLOC below. */
    /* Commands of an optional part: why the part is off, when it is (NULL run). */
    const char *part_off;
};

/* glibc malloc for GMP's large temporaries (factsum, fib): blocks up to 32 MiB from the heap
 * instead of a fresh mmap each (whose every page faults again: 11 us per 4 KiB page on the
 * reference VM), freed memory kept (trim at 1 GiB), and the heap on transparent huge pages.
 * Measured at !1e6 on 1 thread (3 reps and the digits): 26,500 page faults -> 2,000 and 2.2-2.4
 * -> 1.9-2.0 s of CPU time. The heap grows 64 MiB at a time (top_pad), so that a growing heap
 * is whole huge pages rather than 4 KiB pages at its edge: one cold !1e6 with its digits on 2
 * threads 4,700 -> 1,200 page faults and 0.95x the whole process's time (median of 15
 * interleaved pairs), !1e7 26,500 -> 2,500 faults; the resident size is unchanged. */
#define BIGNUM_MALLOC                                                                              \
    "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824:"                 \
    "glibc.malloc.hugetlb=1:glibc.malloc.top_pad=67108864"

/* The commands of an optional part are compiled only with it (cmake/PkFeatures.cmake). One that
 * is off keeps its name, so that a user asking for it learns why it is missing. */
#if PK_FEATURE_SLEEF
#    define TRANSFORM_RUN pk_cmd_transform
#else
#    define TRANSFORM_RUN NULL
#endif
#if PK_FEATURE_CURL
#    define FETCH_RUN pk_cmd_fetch
#else
#    define FETCH_RUN NULL
#endif
#if PK_FEATURE_IMAGES
#    define RESIZE_RUN pk_cmd_resize
#else
#    define RESIZE_RUN NULL
#endif
#define PART_OFF(part, label) (PK_FEATURE_##part ? NULL : label " " PK_FEATURE_WHY_##part)

static const struct command commands[] = {
    {"sumsq", pk_cmd_sumsq,
     "sum of squares: exact integer range, seeded Gaussian chunks, float64 array or file", false},
    {"factsum", pk_cmd_factsum,
     "exact left factorials !N = sum of i! for i < N (GMP), many N in one pass", true},
    {"fib", pk_cmd_fib, "exact Fibonacci numbers F(N) (GMP), many N over threads and ranks", true},
    {"api", pk_cmd_api, "simulated API calls, sequential vs a pool of threads (futures)", false},
    {"transform", TRANSFORM_RUN,
     "chunked transforms (SLEEF) with per-chunk statistics, exact across threads and ranks", false,
     PART_OFF(SLEEF, "SLEEF")},
    {"fetch", FETCH_RUN, "HTTP(S) downloads on a pool of threads, one libcurl handle each", false,
     PART_OFF(CURL, "libcurl")},
    {"files", pk_cmd_files,
     "CSV reports of a directory: per-column statistics, sequential vs a pool of threads", false},
    {"pipeline", pk_cmd_pipeline,
     "assembly line of pthread stages over bounded queues (simulated work)", false},
    {"race", pk_cmd_race,
     "threads on one shared counter: no lock (lost updates), mutex, atomic, thread-local", false},
    {"resize", RESIZE_RUN,
     "batch thumbnails: decode, antialiased resample, encode, on a pool and across ranks", false,
     PART_OFF(IMAGES, "images")},
    {"scale", pk_cmd_scale,
     "scaling experiment: a kernel at each thread count, speedup, efficiency, records", true},
    {"report", pk_cmd_report,
     "scaling report of records: speedup, efficiency, Amdahl/Gustafson fits, plots, baseline",
     false},
    {"advise", pk_cmd_advise,
     "run a command and say whether it is I/O- or CPU-bound, and how many workers fit", false},
    {"info", pk_cmd_info,
     "host, cores, memory, OpenMP and MPI settings, affinity of every rank and thread", false},
    {"demo", pk_cmd_demo,
     "the main job: every kernel at laptop size, sequential vs parallel, verified", true},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

bool pk_command_built(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(name, commands[i].name) == 0)
            return commands[i].run != NULL;
    return false;
}

static void usage(FILE *f)
{
    fprintf(f, "Usage: parkit COMMAND [options]     (parkit COMMAND --help for its options)\n"
               "       mpirun -np N parkit COMMAND [options]\n\nCommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (commands[i].run)
            fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
    int off = 0;
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (!commands[i].run)
            fprintf(f, "%s  %-8s %s\n", off++ ? "" : "\nNot in this build:\n", commands[i].name,
                    commands[i].part_off);
    fprintf(f,
            "\nOptions:\n  -h, --help     this help\n  -V, --version  version, commit, "
            "compiler and library versions\n\n%s",
            pk_exit_help);
}

/* Every command's output ends here: a failed write to stdout (a full disk, a closed pipe
 * with SIGPIPE ignored) is exit 1 with a message, never a silent 0. Where a command already
 * failed (the emitter names a failed write itself), its status stands. */
static int finish_stdout(const char *name, int status)
{
    errno = 0;
    if (fflush(stdout) == 0 && !ferror(stdout))
        return status;
    if (status == PK_EXIT_OK) {
        fprintf(stderr, "parkit%s%s: error: cannot write the output: %s\n", name ? " " : "",
                name ? name : "", strerror(errno ? errno : EIO));
        status = PK_EXIT_RUNTIME;
    }
    return status;
}

/* Starts this program again with the same arguments. By its own path, not /proc/self/exe: the
 * process takes its name (ps, top, pkill) from the file it runs, which would then be "exe".
 * Returns only when neither exec works. */
static void start_again(char **argv)
{
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        execv(self, argv);
    }
    execv("/proc/self/exe", argv); /* the file was replaced or removed since it started */
}

int main(int argc, char **argv)
{
    /* GSL's default handler aborts; parkit checks every status itself. */
    gsl_set_error_handler_off();
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return finish_stdout(NULL, argc < 2 ? PK_EXIT_USAGE : PK_EXIT_OK);
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
        pk_version_print(stdout);
        return finish_stdout(NULL, PK_EXIT_OK);
    }
    /* what scale run's launcher starts as each rank: before MPI, which it must not start */
    if (strcmp(argv[1], PK_RANK_TIMER_ARG) == 0)
        return pk_rank_timer_main(argc - 2, argv + 2);
    const struct command *cmd = NULL;
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            cmd = &commands[i];
    if (!cmd) {
        fprintf(stderr, "parkit: error: unknown command '%s' (see parkit --help)\n", argv[1]);
        return PK_EXIT_USAGE;
    }
    if (!cmd->run) {
        fprintf(stderr, "parkit: error: '%s' is not in this build: %s\n", cmd->name, cmd->part_off);
        return PK_EXIT_USAGE;
    }
    /* libgomp reads OMP_WAIT_POLICY once, when it loads, and glibc its malloc tunables, so the
     * only way to choose them for one command is to set them and start again. A user's own
     * settings always win; the records show those in effect (provenance.machine.openmp.env,
     * provenance.machine.glibc_tunables). */
    bool set_wait = cmd->passive_wait && !getenv("OMP_WAIT_POLICY");
    bool set_malloc = cmd->passive_wait && !getenv("GLIBC_TUNABLES");
    if (set_wait || set_malloc) {
        if (set_wait)
            setenv("OMP_WAIT_POLICY", "passive", 1);
        if (set_malloc)
            setenv("GLIBC_TUNABLES", BIGNUM_MALLOC, 1);
        start_again(argv);
        /* exec failed (no /proc): carry on with the defaults */
    }
    /* hwloc (parkit's topology report, and Open MPI's) loads every plugin it finds when it
     * starts; those for GPUs and the XML library bring OpenCL, X11, libxml2 and ICU with them:
     * 12 ms of every command's 35 (measured with factsum 10). parkit asks for cores and NUMA
     * nodes only, and hwloc reads XML without the library. A user's own list wins. */
    setenv("HWLOC_PLUGINS_BLACKLIST", "hwloc_gl,hwloc_opencl,hwloc_xml_libxml", 0);
    struct pk_comm comm;
    struct pk_err err = {0};
    if (pk_dist_init(&argc, &argv, false, &comm, &err) != PK_OK) {
        fprintf(stderr, "parkit: error: %s\n", err.msg);
        return err.status == PK_EINVAL ? PK_EXIT_USAGE : PK_EXIT_RUNTIME;
    }
    pk_interrupt_setup(comm.nranks);
    int status = finish_stdout(cmd->name, cmd->run(argc - 1, argv + 1, &comm));
    pk_dist_finalize(&comm);
    return status;
}
