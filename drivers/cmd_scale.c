/* SPDX-License-Identifier: MIT */
/* parkit scale: a thread-scaling experiment in one process. Runs a kernel at each thread count
 * of --threads, strong (size fixed) or weak (size grown with the workers), each point verified,
 * warmed up untimed, timed over --reps repetitions with a barrier before each, and recorded as
 * a JSON line with a "scale" block that `parkit report` groups by. Under mpirun every rank takes
 * part and the workers of a point are ranks x threads; sweeps over rank counts are jobs/
 * scripts, since a process cannot change its rank count.
 *
 * --serial runs every point on one thread while labelling it with the point's workers: a check
 * of the harness and of `report`, whose efficiency must come out near 1/p. */
#include "commands.h"
#include "record.h"
#include "selfrun.h"
#include "sysinfo.h"
#include "timing.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_POINTS 64

static const char usage[] =
    "Usage: parkit scale sumsq --range N | --gauss N [--chunk C] | --array N [options]\n"
    "       parkit scale factsum N [options]\n"
    "       parkit scale fib N [options]\n"
    "       parkit scale sleep SECONDS [options]\n"
    "       parkit scale api|fetch|pipeline --workers LIST [options] -- [its options]\n"
    "       parkit scale grain [--total N] [--chunk LIST]   (see parkit scale grain --help)\n"
    "Runs the kernel once per thread count, verified, and prints time, speedup, parallel\n"
    "efficiency and the Karp-Flatt serial fraction of each point; with --record every point\n"
    "becomes a JSON line for `parkit report`.\n"
    "\n"
    "  --threads LIST   thread counts per rank, e.g. 1,2,4 (default 1 and every power of two\n"
    "                   up to the cores, then the cores)\n"
    "  --mode strong    the size stays N at every point (default)\n"
    "  --mode weak      the size is N x workers: the work per worker stays the same (for\n"
    "                   factsum the work grows a little faster than N, so ideal weak\n"
    "                   efficiency is slightly below 1)\n"
    "  --chunk C        sumsq --gauss chunk size (default 1e6)\n"
    "  --seed S         sumsq --gauss/--array seed (default 42)\n"
    "  --serial         run every point on one thread (harness check: efficiency ~ 1/p)\n"
    "  --experiment ID  the records' experiment id (default: kernel, time and process id);\n"
    "                   give one id to points run by separate commands, e.g. a rank sweep\n"
    "\n"
    "sleep is the harness's own calibration: each repetition sleeps SECONDS / workers\n"
    "(perfect scaling) or, with --serial, SECONDS at every point (no scaling at all); it\n"
    "computes nothing, so it reads the same on a busy machine, and what it reports beyond\n"
    "the ideal is the harness's overhead. Verified: no repetition was shorter than asked.\n"
    "\n"
    "api, fetch and pipeline sweep the worker count of the I/O commands (--workers, e.g.\n"
    "1,2,4,...,512): each point runs the command (a child process, --reps times after\n"
    "--warmup) with the options after '--', and reports its time and throughput against the\n"
    "bound: Little's law (W / mean call time) for api, the slowest stage for pipeline. In\n"
    "the options, {w} stands for the point's worker count: pipeline needs it in --stages\n"
    "(e.g. -- --stages read:0.01:{w},parse:0.02:{w}); api and fetch get --workers W.\n"
    "\n"
    "Workers = ranks x threads. A point whose threads outnumber the cores is run but warned\n"
    "about first, and its record says so. A progress line goes to stderr on a terminal.\n"
    "Speedup is against the first point (scaled speedup p T1 / Tp for weak scaling).\n\n";

enum kernel { K_SUMSQ, K_FACTSUM, K_FIB, K_SLEEP, K_API, K_FETCH, K_PIPELINE };

static bool is_io(enum kernel k)
{
    return k == K_API || k == K_FETCH || k == K_PIPELINE;
}

struct scale_opts {
    enum kernel kernel;
    enum pk_sumsq_variant variant;
    uint64_t n, chunk, seed;
    double seconds;         /* sleep */
    char **pass;            /* api, fetch, pipeline: the command's own options ({w} = workers) */
    const char *experiment; /* --experiment: one id for points run by separate commands */
    int npass;
    bool weak, serial;
    int threads[MAX_POINTS];
    int npoints;
    struct pk_common_opts common;
};

static int parse_threads(const char *text, struct scale_opts *o, struct pk_err *err)
{
    char *copy = strdup(text);
    if (!copy)
        return pk_fail(err, PK_ENOMEM, "out of memory");
    o->npoints = 0;
    int rc = PK_OK;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok && rc == PK_OK;
         tok = strtok_r(NULL, ",", &save)) {
        uint64_t t;
        if (o->npoints == MAX_POINTS)
            rc = pk_fail(err, PK_EINVAL, "--threads: at most %d counts", MAX_POINTS);
        else if ((rc = pk_parse_count("--threads", tok, 1, 4096, &t, err)) == PK_OK)
            o->threads[o->npoints++] = (int)t;
    }
    if (rc == PK_OK && o->npoints == 0)
        rc = pk_fail(err, PK_EINVAL, "--threads expects a list like 1,2,4, got '%s'", text);
    free(copy);
    return rc;
}

/* 1, 2, 4, ... up to the cores, then the cores themselves. */
static void default_threads(struct scale_opts *o)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    o->npoints = 0;
    for (int t = 1; t <= cores && o->npoints < MAX_POINTS - 1; t *= 2)
        o->threads[o->npoints++] = t;
    if (o->threads[o->npoints - 1] != cores && cores > 1)
        o->threads[o->npoints++] = (int)cores;
}

static const char *kernel_name(const struct scale_opts *o)
{
    switch (o->kernel) {
    case K_SUMSQ:
        return o->variant == PK_SUMSQ_RANGE   ? "sumsq:range"
               : o->variant == PK_SUMSQ_GAUSS ? "sumsq:gauss"
                                              : "sumsq:array";
    case K_FACTSUM:
        return "factsum";
    case K_SLEEP:
        return "sleep";
    case K_API:
        return "api";
    case K_FETCH:
        return "fetch";
    case K_PIPELINE:
        return "pipeline";
    default:
        return "fib";
    }
}

/* The calibration kernel: every rank sleeps `seconds` per repetition after a barrier; the time
 * of a repetition is the slowest rank's. Rank 0 gets a record like the kernels'. */
static int run_sleep(const struct pk_comm *c, const struct scale_opts *o, double seconds,
                     json_t **rec)
{
    int reps = o->common.reps, short_reps = 0;
    double *t = calloc((size_t)reps, sizeof *t);
    if (!t)
        return pk_dist_agree(c, PK_EXIT_RUNTIME);
    for (int i = -o->common.warmup; i < reps; i++) {
        pk_dist_barrier(c);
        double t0 = pk_now_s();
        struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
        while (nanosleep(&ts, &ts) != 0)
            continue;
        double dt = pk_dist_max_double(c, pk_now_s() - t0);
        if (i >= 0) {
            t[i] = dt;
            short_reps += dt < seconds;
        }
    }
    if (c->rank == 0) {
        *rec = pk_record_new("sleep");
        json_object_set_new(*rec, "params",
                            json_pack("{s:f, s:i, s:i, s:i, s:i}", "seconds", seconds, "threads", 1,
                                      "ranks", c->nranks, "reps", reps, "warmup",
                                      o->common.warmup));
        json_object_set_new(*rec, "result", json_pack("{s:f}", "seconds", seconds));
        json_object_set_new(*rec, "verified", json_boolean(short_reps == 0));
        json_object_set_new(*rec, "verification",
                            json_pack("{s:s, s:i}", "method",
                                      "no repetition shorter than the requested sleep",
                                      "short_reps", short_reps));
        pk_record_set_timing(*rec, t, reps, o->common.warmup);
    }
    free(t);
    return pk_dist_agree(c, short_reps ? PK_EXIT_VERIFY : PK_EXIT_OK);
}

/* text with every "{w}" replaced by w (malloc'd). */
static char *with_workers(const char *text, int w)
{
    char num[16];
    int nlen = snprintf(num, sizeof num, "%d", w);
    size_t n = strlen(text) + 1;
    for (const char *p = strstr(text, "{w}"); p; p = strstr(p + 3, "{w}"))
        n += (size_t)nlen;
    char *out = malloc(n), *q = out;
    if (!out)
        return NULL;
    for (const char *p = text; *p;) {
        if (strncmp(p, "{w}", 3) == 0) {
            memcpy(q, num, (size_t)nlen);
            q += nlen;
            p += 3;
        } else {
            *q++ = *p++;
        }
    }
    *q = '\0';
    return out;
}

/* One point of an I/O sweep: the command as a child process (it owns its pool and its
 * Ctrl-C), warm-up and reps runs, each run's pooled time; the record is the last run's with
 * the timing of all of them and its throughput. */
static int run_io(const struct scale_opts *o, int w, json_t **rec)
{
    const char *cmd = kernel_name(o);
    char wstr[16];
    snprintf(wstr, sizeof wstr, "%d", w);
    char **args = calloc((size_t)o->npass + 8, sizeof *args);
    double *t = calloc((size_t)o->common.reps, sizeof *t);
    int n = 0, status = PK_EXIT_OK;
    if (!args || !t) {
        free(args);
        free(t);
        return PK_EXIT_RUNTIME;
    }
    args[n++] = "parkit";
    args[n++] = (char *)cmd;
    int first_pass = n;
    for (int i = 0; i < o->npass; i++)
        if (!(args[n++] = with_workers(o->pass[i], w)))
            status = PK_EXIT_RUNTIME;
    int last_pass = n;
    if (o->kernel != K_PIPELINE) {
        args[n++] = "--workers";
        args[n++] = wstr;
    }
    if (o->kernel == K_API)
        args[n++] = "--no-sequential";
    args[n++] = "--format";
    args[n++] = "json";
    bool verified = true;
    for (int r = -o->common.warmup; r < o->common.reps && status == PK_EXIT_OK; r++) {
        json_t *one = NULL;
        int rc = pk_run_self_json(args, &one);
        json_t *res = json_object_get(one, "result");
        double sec = json_number_value(
            json_object_get(res, o->kernel == K_PIPELINE ? "wall_s" : "pooled_s"));
        verified = verified && json_is_true(json_object_get(one, "verified"));
        if (rc != 0)
            status = rc < 0 ? PK_EXIT_RUNTIME : rc;
        if (r >= 0)
            t[r] = sec;
        if (r == o->common.reps - 1 || status != PK_EXIT_OK) {
            json_decref(*rec);
            *rec = one;
        } else {
            json_decref(one);
        }
    }
    if (*rec && status == PK_EXIT_OK) {
        pk_record_set_timing(*rec, t, o->common.reps, o->common.warmup);
        json_t *res = json_object_get(*rec, "result");
        double med =
            json_number_value(json_object_get(json_object_get(*rec, "timing"), "median_s"));
        double done = json_number_value(json_object_get(res, "finished"));
        json_object_set_new(res, "median_throughput_per_s", json_real(med > 0 ? done / med : 0));
        json_object_set_new(*rec, "verified", json_boolean(verified));
        /* records of api and pipeline name their threads "workers"; report reads threads */
        json_object_set_new(json_object_get(*rec, "params"), "threads", json_integer(w));
        json_object_set_new(json_object_get(*rec, "params"), "ranks", json_integer(1));
    }
    for (int i = first_pass; i < last_pass; i++)
        free(args[i]);
    free(args);
    free(t);
    return status == PK_EXIT_OK && !verified ? PK_EXIT_VERIFY : status;
}

/* Runs one point; rank 0 gets the kernel's record. */
static int run_point(const struct pk_comm *c, const struct scale_opts *o, uint64_t size,
                     int nthreads, const json_t *sysinfo, json_t **rec)
{
    struct pk_common_opts common = o->common;
    common.nthreads = o->serial ? 1 : nthreads;
    if (o->kernel == K_SUMSQ) {
        struct pk_sumsq_opts so = {
            .variant = o->variant, .n = size, .chunk = o->chunk, .seed = o->seed, .common = common};
        return pk_sumsq_execute(c, &so, sysinfo, rec);
    }
    if (is_io(o->kernel))
        return run_io(o, nthreads, rec);
    if (o->kernel == K_SLEEP) {
        /* strong: the work (seconds) is shared by the workers; weak: each has its own */
        double w = (double)nthreads * c->nranks;
        double t = o->weak ? (o->serial ? o->seconds * w : o->seconds)
                           : (o->serial ? o->seconds : o->seconds / w);
        int rc = run_sleep(c, o, t, rec);
        if (*rec)
            pk_record_set_provenance(*rec, sysinfo);
        return rc;
    }
    uint64_t n[1] = {size};
    if (o->kernel == K_FACTSUM) {
        struct pk_factsum_opts fo = {.n = n, .count = 1, .common = common};
        return pk_factsum_execute(c, &fo, sysinfo, rec);
    }
    struct pk_fib_opts bo = {.n = n, .count = 1, .common = common};
    return pk_fib_execute(c, &bo, sysinfo, rec);
}

/* Whether the machine facts of a point warn about oversubscribed or shared cores. */
static bool oversubscribed(const json_t *sysinfo)
{
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(sysinfo, "warnings"), i, w)
    {
        const char *s = json_string_value(w);
        if (s && (strstr(s, "oversubscribed") || strstr(s, "share cpu") ||
                  strstr(s, "bound to one cpu")))
            return true;
    }
    return false;
}

static void progress(int done, int total, double elapsed, double est_left)
{
    fprintf(stderr, "\rparkit scale: point %d/%d, %.1f s elapsed, about %.1f s left   ", done,
            total, elapsed, est_left);
    if (done == total)
        fputc('\n', stderr);
    fflush(stderr);
}

static int parse_args(int argc, char **argv, const struct pk_comm *c, struct scale_opts *o)
{
    static const struct option longopts[] = {{"range", required_argument, NULL, 'R'},
                                             {"gauss", required_argument, NULL, 'G'},
                                             {"array", required_argument, NULL, 'A'},
                                             {"chunk", required_argument, NULL, 'C'},
                                             {"seed", required_argument, NULL, 'S'},
                                             {"mode", required_argument, NULL, 'M'},
                                             {"serial", no_argument, NULL, 'Z'},
                                             {"workers", required_argument, NULL, 'W'},
                                             {"experiment", required_argument, NULL, 'E'},
                                             PK_COMMON_LONGOPTS,
                                             {NULL, 0, NULL, 0}};
    struct pk_err err = {0};
    if (argc < 2 || argv[1][0] == '-') {
        if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
            if (c->rank == 0)
                printf("%s%s%s", usage, pk_common_help, pk_exit_help);
            return PK_OPT_HELP_SHOWN;
        }
        pk_error(c, false, "scale",
                 "name a kernel: sumsq, factsum, fib, sleep, api, fetch or pipeline (see --help)");
        return PK_EXIT_USAGE;
    }
    const char *k = argv[1];
    if (strcmp(k, "sumsq") == 0)
        o->kernel = K_SUMSQ;
    else if (strcmp(k, "factsum") == 0)
        o->kernel = K_FACTSUM;
    else if (strcmp(k, "fib") == 0)
        o->kernel = K_FIB;
    else if (strcmp(k, "sleep") == 0)
        o->kernel = K_SLEEP;
    else if (strcmp(k, "api") == 0)
        o->kernel = K_API;
    else if (strcmp(k, "fetch") == 0)
        o->kernel = K_FETCH;
    else if (strcmp(k, "pipeline") == 0)
        o->kernel = K_PIPELINE;
    else {
        pk_error(c, false, "scale",
                 "unknown kernel '%s' (sumsq, factsum, fib, sleep, api, fetch or pipeline)", k);
        return PK_EXIT_USAGE;
    }
    int nvariants = 0;
    bool have_threads = false;
    /* -t/--threads is the shared option, but here it takes a list */
    opterr = 0;
    optind = 2;
    int code;
    while ((code = getopt_long(argc, argv, ":" PK_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
        int rc = PK_OK;
        switch (code) {
        case 'R':
        case 'G':
        case 'A':
            if (o->kernel != K_SUMSQ) {
                pk_error(c, false, "scale", "--range, --gauss and --array are sumsq options");
                return PK_EXIT_USAGE;
            }
            o->variant = code == 'R'   ? PK_SUMSQ_RANGE
                         : code == 'G' ? PK_SUMSQ_GAUSS
                                       : PK_SUMSQ_ARRAY;
            nvariants++;
            rc = pk_parse_count(code == 'R'   ? "--range"
                                : code == 'G' ? "--gauss"
                                              : "--array",
                                optarg, 1, UINT64_C(1) << 40, &o->n, &err);
            break;
        case 'C':
            rc = pk_parse_count("--chunk", optarg, 1, UINT64_C(1) << 30, &o->chunk, &err);
            break;
        case 'S':
            rc = pk_parse_count("--seed", optarg, 0, UINT64_MAX, &o->seed, &err);
            break;
        case PK_OPT_THREADS:
        case 'W':
            if ((code == 'W') != is_io(o->kernel)) {
                pk_error(c, false, "scale", "%s",
                         is_io(o->kernel)
                             ? "api, fetch and pipeline sweep --workers, not --threads"
                             : "--workers is for api, fetch and pipeline; kernels take --threads");
                return PK_EXIT_USAGE;
            }
            rc = parse_threads(optarg, o, &err);
            have_threads = true;
            break;
        case 'M':
            if (strcmp(optarg, "strong") == 0 || strcmp(optarg, "weak") == 0)
                o->weak = strcmp(optarg, "weak") == 0;
            else
                rc = pk_fail(&err, PK_EINVAL, "--mode expects strong or weak, got '%s'", optarg);
            break;
        case 'Z':
            o->serial = true;
            break;
        case 'E':
            if (strlen(optarg) >= 120 || !*optarg)
                rc = pk_fail(&err, PK_EINVAL, "--experiment expects 1 to 119 characters, got '%s'",
                             optarg);
            o->experiment = optarg;
            break;
        default: {
            int handled = pk_cli_option(c, "scale", usage, code, argv, &o->common);
            if (handled != PK_OPT_DONE)
                return handled;
        }
        }
        if (rc != PK_OK) {
            pk_error(c, false, "scale", "%s", err.msg);
            return PK_EXIT_USAGE;
        }
    }
    if (is_io(o->kernel)) {
        if (!have_threads) {
            pk_error(c, false, "scale", "%s needs --workers LIST, e.g. 1,2,4,8", k);
            return PK_EXIT_USAGE;
        }
        if (c->nranks > 1) {
            pk_error(c, false, "scale", "%s runs on one process; start it without mpirun", k);
            return PK_EXIT_USAGE;
        }
        o->pass = argv + optind;
        o->npass = argc - optind;
        bool has_w = false;
        for (int i = 0; i < o->npass; i++)
            has_w = has_w || strstr(o->pass[i], "{w}");
        if (o->kernel == K_PIPELINE && !has_w) {
            pk_error(c, false, "scale",
                     "pipeline: put {w} where the worker count goes, e.g. -- --stages "
                     "a:0.01:{w},b:0.02:{w}");
            return PK_EXIT_USAGE;
        }
        if (o->weak) {
            pk_error(c, false, "scale", "%s sweeps are strong only (a fixed number of tasks)", k);
            return PK_EXIT_USAGE;
        }
        o->n = 0;
        return PK_OPT_DONE;
    }
    if (o->kernel == K_SUMSQ) {
        if (nvariants != 1) {
            pk_error(c, false, "scale",
                     "sumsq needs exactly one of --range N, --gauss N, --array N");
            return PK_EXIT_USAGE;
        }
        if (optind < argc) {
            pk_error(c, false, "scale", "unexpected argument '%s'", argv[optind]);
            return PK_EXIT_USAGE;
        }
    } else {
        if (optind + 1 != argc) {
            pk_error(c, false, "scale", "%s needs exactly one %s%s%s%s", k,
                     o->kernel == K_SLEEP ? "time in SECONDS" : "size N",
                     optind < argc ? " (got '" : "", optind < argc ? argv[argc - 1] : "",
                     optind < argc ? "' too)" : "");
            return PK_EXIT_USAGE;
        }
        if (o->kernel == K_SLEEP) {
            char *end = NULL;
            o->seconds = strtod(argv[optind], &end);
            o->n = 1;
            if (end == argv[optind] || *end || !(o->seconds > 0 && o->seconds <= 60)) {
                pk_error(c, false, "scale", "sleep expects seconds in (0, 60], got '%s'",
                         argv[optind]);
                return PK_EXIT_USAGE;
            }
        } else if (pk_parse_count("N", argv[optind], 1, UINT64_C(1) << 32, &o->n, &err) != PK_OK) {
            pk_error(c, false, "scale", "%s", err.msg);
            return PK_EXIT_USAGE;
        }
    }
    if (!have_threads)
        default_threads(o);
    /* the largest size must still be something the kernel accepts */
    uint64_t most = 1;
    for (int i = 0; i < o->npoints; i++)
        most = (uint64_t)o->threads[i] * (uint64_t)c->nranks > most
                   ? (uint64_t)o->threads[i] * (uint64_t)c->nranks
                   : most;
    if (o->weak && o->n > UINT64_MAX / most) {
        pk_error(c, false, "scale", "weak scaling: %" PRIu64 " x %" PRIu64 " workers overflows",
                 o->n, most);
        return PK_EXIT_USAGE;
    }
    return PK_OPT_DONE;
}

static void print_row(const struct scale_opts *o, int workers, int threads, int ranks,
                      uint64_t size, const json_t *rec, double t1, int workers1, bool over)
{
    json_t *tim = json_object_get(rec, "timing");
    double med = json_real_value(json_object_get(tim, "median_s"));
    double mn = json_real_value(json_object_get(tim, "min_s"));
    double mx = json_real_value(json_object_get(tim, "max_s"));
    double rel = (double)workers / workers1; /* workers relative to the first point */
    double speedup = med > 0 ? (o->weak ? rel * t1 / med : t1 / med) : 0;
    double eff = rel > 0 ? speedup / rel : 0;
    bool verified = json_is_true(json_object_get(rec, "verified"));
    const char *v = verified ? "yes" : o->common.no_verify ? "skipped" : "NO";
    if (o->common.format == PK_FORMAT_CSV) {
        printf("%s,%s,%d,%d,%d,%" PRIu64 ",%.9f,%.9f,%.9f,%.4f,%.4f,%s,%s\n", kernel_name(o),
               o->weak ? "weak" : "strong", workers, threads, ranks, size, med, mn, mx, speedup,
               eff, v, over ? "yes" : "no");
        return;
    }
    char kf[16] = "-";
    /* Karp-Flatt: e = (1/S - 1/p) / (1 - 1/p), the serial fraction the measured speedup implies */
    if (rel > 1 && speedup > 0)
        snprintf(kf, sizeof kf, "%.3f", (1 / speedup - 1 / rel) / (1 - 1 / rel));
    printf("%7d %7d %5d %14" PRIu64 " %10.4f %10.4f %10.4f %8.2f %10.2f %10s  %s%s", workers,
           threads, ranks, size, med, mn, mx, speedup, eff, kf, v, over ? "  oversubscribed" : "");
    if (is_io(o->kernel)) {
        /* throughput against the command's own bound: Little's law or the slowest stage */
        json_t *res = json_object_get(rec, "result");
        double thr = json_number_value(json_object_get(res, "median_throughput_per_s"));
        double bound = json_number_value(
            json_object_get(res, o->kernel == K_API ? "littles_bound" : "bound_per_s"));
        printf("  %.1f/s", thr);
        if (bound > 0)
            printf(" = %.0f%% of bound %.1f/s", 100 * thr / bound, bound);
    }
    putchar('\n');
}

int pk_cmd_scale(int argc, char **argv, const struct pk_comm *c)
{
    if (argc >= 2 && strcmp(argv[1], "grain") == 0)
        return pk_scale_grain(argc, argv, c);
    struct scale_opts o = {.chunk = 1000000, .seed = 42};
    pk_common_defaults(&o.common);
    o.common.reps = 5;
    int rc = parse_args(argc, argv, c, &o);
    if (rc == PK_OPT_HELP_SHOWN)
        return PK_EXIT_OK;
    if (rc != PK_OPT_DONE)
        return PK_EXIT_USAGE;

    /* one id for the whole sweep, so `report` can tell experiments apart */
    char experiment[128];
    if (o.experiment)
        snprintf(experiment, sizeof experiment, "%s", o.experiment);
    else
        snprintf(experiment, sizeof experiment, "%s-%ld-%d", kernel_name(&o), (long)time(NULL),
                 (int)getpid());
    bool tty = c->rank == 0 && isatty(STDERR_FILENO);
    if (c->rank == 0) {
        if (o.common.format == PK_FORMAT_CSV)
            printf("kernel,mode,workers,threads,ranks,size,median_s,min_s,max_s,speedup,"
                   "efficiency,verified,oversubscribed\n");
        else if (o.common.format == PK_FORMAT_TABLE) {
            char size[64];
            if (o.kernel == K_SLEEP)
                snprintf(size, sizeof size, "%g s of sleep", o.seconds);
            else if (is_io(o.kernel))
                snprintf(size, sizeof size, "a fixed number of tasks");
            else
                snprintf(size, sizeof size, "N = %" PRIu64, o.n);
            printf("# parkit scale: %s, %s scaling, %s%s, %d rank%s; median of %d "
                   "after %d warm-up%s\n%7s %7s %5s %14s %10s %10s %10s %8s %10s %10s  %s\n",
                   kernel_name(&o), o.weak ? "weak" : "strong", size, o.weak ? " per worker" : "",
                   c->nranks, c->nranks > 1 ? "s" : "", o.common.reps, o.common.warmup,
                   o.serial ? "; --serial: one thread always" : "", "workers", "threads", "ranks",
                   "size", "median_s", "min_s", "max_s", "speedup", "efficiency", "karp-flatt",
                   "verified");
        }
        fflush(stdout);
    }
    json_t *all = json_array();
    int worst = PK_EXIT_OK;
    double t1 = 0, start = pk_now_s();
    int workers1 = 0;
    for (int i = 0; i < o.npoints; i++) {
        int t = o.threads[i];
        int workers = t * c->nranks;
        uint64_t size = o.weak ? o.n * (uint64_t)workers : o.n;
        /* gathered per point: the warnings speak of this point's threads, and go out before it */
        json_t *sysinfo = pk_sysinfo_for_command(
            c, "scale", o.serial || o.kernel == K_SLEEP || is_io(o.kernel) ? 1 : t);
        bool over = c->rank == 0 && oversubscribed(sysinfo);
        json_t *rec = NULL;
        int status = run_point(c, &o, size, t, sysinfo, &rec);
        worst = status > worst ? status : worst;
        if (rec && is_io(o.kernel)) { /* the size is the command's task count */
            json_t *params = json_object_get(rec, "params");
            const char *key = o.kernel == K_API ? "tasks" : o.kernel == K_FETCH ? "urls" : "items";
            size = (uint64_t)json_integer_value(json_object_get(params, key));
            pk_record_set_provenance(rec, sysinfo);
        }
        if (rec) {
            json_object_set_new(
                rec, "scale",
                json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:I, s:I, s:b, s:b, s:i, s:i}",
                          "experiment", experiment, "mode", o.weak ? "weak" : "strong", "kernel",
                          kernel_name(&o), "workers", workers, "threads", t, "ranks", c->nranks,
                          "size", (json_int_t)size, "base_size", (json_int_t)o.n, "oversubscribed",
                          over, "serial", o.serial, "point", i, "points", o.npoints));
            if (i == 0) {
                t1 = json_real_value(json_object_get(json_object_get(rec, "timing"), "median_s"));
                workers1 = workers;
            }
            if (o.common.format != PK_FORMAT_JSON)
                print_row(&o, workers, t, c->nranks, size, rec, t1, workers1, over);
            fflush(stdout);
            struct pk_err err = {0};
            if (o.common.record && pk_record_append(o.common.record, rec, &err) != PK_OK) {
                pk_error(c, false, "scale", "%s", err.msg);
                worst = worst > PK_EXIT_RUNTIME ? worst : PK_EXIT_RUNTIME;
            }
            json_array_append_new(all, rec);
        }
        json_decref(sysinfo);
        if (tty) {
            double el = pk_now_s() - start;
            progress(i + 1, o.npoints, el, el / (i + 1) * (o.npoints - i - 1));
        }
        /* a failed point ends the sweep on every rank alike */
        if (pk_dist_agree(c, status) != PK_EXIT_OK)
            break;
    }
    if (c->rank == 0 && o.common.format == PK_FORMAT_JSON) {
        json_dumpf(all, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
        putchar('\n');
    }
    json_decref(all);
    return pk_dist_agree(c, worst);
}
