/* SPDX-License-Identifier: MIT */
/* scale run's experiment: every point's repetitions in one seeded random order (drift and heat
 * cannot favour a point), each point recorded the moment it is complete (a killed sweep keeps
 * its finished points, and --resume runs only the others), failed points recorded as failed
 * and never timed, and with --target-ci more repetitions for the points whose median is not
 * yet known to the asked precision. */
#define _GNU_SOURCE /* sched_getaffinity */
#include "sweep.h"

#include "emit.h"
#include "parkit/lines.h"
#include "record.h"
#include "scaling.h"
#include "sysinfo.h"
#include "timing.h"

#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *const launcher_names[] = {"mpirun", "srun", "none"};
static const char *const run_mode_names[] = {"strong", "weak", "throughput"};

/* What the whole experiment shares. */
struct sweep {
    const struct pk_comm *c;
    const struct pk_run_opts *o;
    struct pk_run_point *pts;
    struct pk_run_acc *acc;
    char ***argv; /* each point's command line */
    size_t n;
    char experiment[128], signature[17], kernel[96];
    json_t *sysinfo, *points; /* points: the records shown at the end */
    int status;
    size_t runs; /* runs started so far, warm-ups included */
    long cores;
    double start;
};

/* Grows one array of a to cap entries of elem bytes; the old one stays on failure. */
static bool grow(void *field, size_t cap, size_t elem)
{
    void *p = realloc(*(void **)field, cap * elem);
    if (p)
        *(void **)field = p;
    return p != NULL;
}

#define GROW(a, field, cap) grow(&(a)->field, cap, sizeof *(a)->field)

static bool acc_grow(struct pk_run_acc *a)
{
    if (a->n < a->cap)
        return true;
    size_t cap = a->cap ? 2 * a->cap : 8;
    /* each array keeps its old size until all have grown: a->cap counts only then */
    bool ok = GROW(a, wall, cap) && GROW(a, metric, cap) && GROW(a, user, cap) &&
              GROW(a, sys, cap) && GROW(a, delay, cap) && GROW(a, other, cap) &&
              GROW(a, rss, cap) && GROW(a, pos, cap) && GROW(a, mhz, cap) &&
              GROW(a, rank_spread, cap) && GROW(a, rank_slowest, cap) && GROW(a, rank_seen, cap);
    if (ok)
        a->cap = cap;
    return ok;
}

static void acc_free(struct pk_run_acc *a)
{
    free(a->wall);
    free(a->metric);
    free(a->user);
    free(a->sys);
    free(a->delay);
    free(a->other);
    free(a->rss);
    free(a->pos);
    free(a->mhz);
    free(a->rank_spread);
    free(a->rank_slowest);
    free(a->rank_seen);
}

/* 64-bit FNV-1a of the text, as 16 hex digits: the experiment's signature. */
static void fnv_hex(const char *text, char out[17])
{
    uint64_t h = 1469598103934665603ull;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

/* What makes two sweeps one experiment for --resume: the command as written, the mode, the
 * launcher, the repetitions, the metric and the host. */
static void make_signature(struct sweep *s)
{
    const struct pk_run_opts *o = s->o;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) {
        snprintf(s->signature, sizeof s->signature, "0");
        return;
    }
    for (size_t i = 0; i < o->ncmd; i++)
        fprintf(f, "%s%c", o->cmd[i], 0x1f);
    fprintf(f, "|%d|%d|%d|%d|%d|%s|%s|%g|%s", o->mode, (int)pk__run_launched(o), o->launcher,
            (int)o->no_rank_timer, o->common.reps, o->metric_re ? o->metric_re : "",
            o->metric_json ? o->metric_json : "", o->target_ci_pct,
            json_string_value(json_object_get(s->sysinfo, "host"))
                ? json_string_value(json_object_get(s->sysinfo, "host"))
                : "?");
    fclose(f);
    fnv_hex(buf, s->signature);
    free(buf);
}

static json_t *reals(const double *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, isfinite(v[i]) ? json_real(v[i]) : json_null());
    return a;
}

/* params: what ran. */
static json_t *params_json(const struct sweep *s, size_t i)
{
    const struct pk_run_point *p = &s->pts[i];
    json_t *argv = json_array();
    for (size_t k = 0; s->argv[i][k]; k++)
        json_array_append_new(argv, pk_json_text(s->argv[i][k]));
    json_t *params = json_pack(
        "{s:o, s:i, s:i, s:i, s:i, s:s}", "argv", argv, "threads", p->threads, "ranks", p->ranks,
        "reps", (int)s->acc[i].n, "warmup", s->o->common.warmup, "launcher",
        pk__run_launched(s->o) ? launcher_names[s->o->launcher == PK_LAUNCH_SRUN] : "none");
    if (p->has_size)
        json_object_set_new(params, "size", json_integer((json_int_t)p->size));
    json_object_set_new(params, "rank_timer", json_boolean(pk__run_rank_timed(s->o)));
    return params;
}

/* result: the figure of merit and what wait4 said of each repetition. */
static json_t *result_json(const struct sweep *s, size_t i)
{
    const struct pk_run_acc *a = &s->acc[i];
    const struct pk_run_opts *o = s->o;
    json_t *rss = json_array();
    for (size_t k = 0; k < a->n; k++)
        json_array_append_new(rss, json_integer(a->rss[k]));
    json_t *r = json_pack("{s:o, s:o, s:o}", "user_s", reals(a->user, a->n), "sys_s",
                          reals(a->sys, a->n), "max_rss_kb", rss);
    const char *name = o->metric_re ? o->metric_re : o->metric_json;
    if (name && a->n > 0) {
        struct pk_stats st = pk_stats_of(a->metric, (int)a->n);
        json_object_set_new(r, "metric", pk_json_text(name));
        json_object_set_new(r, "metric_reps", reals(a->metric, a->n));
        json_object_set_new(r, "metric_median", json_real(st.median));
    }
    if (o->mode == PK_RUN_THROUGHPUT && a->n > 0) {
        /* per second: the metric, else the size, else the runs themselves */
        double *per = malloc(a->n * sizeof *per);
        for (size_t k = 0; per && k < a->n; k++)
            per[k] = (name                 ? a->metric[k]
                      : s->pts[i].has_size ? (double)s->pts[i].size
                                           : 1) /
                     a->wall[k];
        if (per) {
            json_object_set_new(r, "throughput_per_s", reals(per, a->n));
            json_object_set_new(r, "throughput_median_per_s",
                                json_real(pk_stats_of(per, (int)a->n).median));
        }
        free(per);
    }
    return r;
}

/* The scale block: what `parkit report` groups by, and scale run's own facts. */
static json_t *scale_json(const struct sweep *s, size_t i)
{
    const struct pk_run_point *p = &s->pts[i];
    const struct pk_run_acc *a = &s->acc[i];
    int workers = p->threads * p->ranks;
    /* report knows strong and weak: throughput keeps the size, so it is strong in time */
    json_t *b = json_pack(
        "{s:o, s:s, s:s, s:s, s:i, s:i, s:i, s:I, s:I, s:b, s:b, s:i, s:i, s:s, s:o}", "experiment",
        pk_json_text(s->experiment), "mode", s->o->mode == PK_RUN_WEAK ? "weak" : "strong",
        "run_mode", run_mode_names[s->o->mode], "kernel", s->kernel, "workers", workers, "threads",
        p->threads, "ranks", p->ranks, "size", (json_int_t)p->size, "base_size",
        (json_int_t)p->base_size, "oversubscribed", workers > s->cores, "serial", 0, "point",
        (int)i, "points", (int)s->n, "signature", s->signature, "seed", pk_json_u64(s->o->seed));
    json_object_set_new(b, "run_order", reals(a->pos, a->n));
    json_object_set_new(b, "noise", pk__run_noise(a));
    if (s->o->target_ci_pct > 0)
        json_object_set_new(b, "ci",
                            json_pack("{s:f, s:o, s:s}", "target_pct", s->o->target_ci_pct,
                                      "half_width_pct",
                                      isfinite(a->ci_pct) ? json_real(a->ci_pct) : json_null(),
                                      "stopped", a->ci_stop ? a->ci_stop : "-"));
    return b;
}

static json_t *build_record(const struct sweep *s, size_t i)
{
    const struct pk_run_acc *a = &s->acc[i];
    json_t *rec = pk_record_new("run");
    json_object_set_new(rec, "params", params_json(s, i));
    json_object_set_new(rec, "result", result_json(s, i));
    json_object_set_new(rec, "verified", json_boolean(!a->failed));
    json_object_set_new(
        rec, "verification",
        json_pack("{s:s}", "method",
                  s->o->metric_re || s->o->metric_json
                      ? "every run exited with status 0 and printed its figure of merit"
                      : "every run exited with status 0"));
    if (a->failed) {
        json_t *f = json_pack("{s:s, s:i}", "why", a->failure, "after_reps", (int)a->n);
        if (a->fail_status >= 0 && WIFEXITED(a->fail_status))
            json_object_set_new(f, "exit_status", json_integer(WEXITSTATUS(a->fail_status)));
        if (a->fail_status >= 0 && WIFSIGNALED(a->fail_status))
            json_object_set_new(f, "signal", json_integer(WTERMSIG(a->fail_status)));
        json_object_set_new(rec, "failed", f);
    } else {
        pk_record_set_timing(rec, a->wall, (int)a->n, s->o->common.warmup);
    }
    pk_record_set_provenance(rec, s->sysinfo);
    json_object_set_new(rec, "scale", scale_json(s, i));
    return rec;
}

/* Point i is complete: its record goes to the file at once and joins the table. */
static void finish(struct sweep *s, size_t i)
{
    struct pk_run_acc *a = &s->acc[i];
    a->final = true;
    json_t *rec = build_record(s, i);
    struct pk_err err = {0};
    if (s->o->common.record && pk_record_append(s->o->common.record, rec, &err) != PK_OK) {
        pk_error(s->c, false, "scale run", "%s", err.msg);
        s->status = PK_EXIT_RUNTIME;
    }
    if (a->failed) {
        char size[40] = "";
        if (s->pts[i].has_size)
            snprintf(size, sizeof size, ", size %llu", (unsigned long long)s->pts[i].size);
        pk_error(s->c, false, "scale run", "point %d ranks x %d threads%s failed: %s",
                 s->pts[i].ranks, s->pts[i].threads, size, a->failure);
        if (s->status == PK_EXIT_OK)
            s->status = PK_EXIT_RUNTIME;
    }
    json_array_append_new(s->points, rec);
}

/* Marks point i failed with why (printf). */
static void fail_point(struct sweep *s, size_t i, int status, const char *fmt, const char *arg)
{
    struct pk_run_acc *a = &s->acc[i];
    a->failed = true;
    a->fail_status = status;
    snprintf(a->failure, sizeof a->failure, fmt, arg);
}

/* The most ranks whose times are read back from one run. */
#define PK_RANKS_READ 4096

/* One run of point i: a warm-up when one is due (untimed, but it must succeed), else a timed
 * repetition. Returns false when the point failed. */
static bool run_once(struct sweep *s, size_t i)
{
    struct pk_run_acc *a = &s->acc[i];
    const struct pk_run_point *p = &s->pts[i];
    char omp[48];
    snprintf(omp, sizeof omp, "OMP_NUM_THREADS=%d", p->threads);
    /* as jobs/ranks-sweep.sh: the machines here have fewer cores than some points' ranks */
    char *env[] = {omp, "OMPI_MCA_rmaps_base_oversubscribe=1"};
    size_t nenv = getenv("OMPI_MCA_rmaps_base_oversubscribe") ? 1 : 2;
    struct pk_child_result r;
    size_t at = s->runs++;
    int e = pk_child_run(s->argv[i], env, nenv, &r);
    if (e || r.exec_errno) {
        fail_point(s, i, -1, "cannot run '%s'", s->argv[i][0]);
        size_t l = strlen(a->failure);
        snprintf(a->failure + l, sizeof a->failure - l, ": %s", strerror(e ? e : r.exec_errno));
        free(r.out);
        return false;
    }
    char text[96];
    pk_child_status_text(r.status, text, sizeof text);
    if (!WIFEXITED(r.status) || WEXITSTATUS(r.status) != 0) {
        fail_point(s, i, r.status, "%s", text);
        free(r.out);
        return false;
    }
    struct pk_rank_time ranks[PK_RANKS_READ];
    size_t nranks = pk__run_rank_times(r.out, &r.out_len, ranks, PK_RANKS_READ);
    double metric = NAN;
    char why[200];
    if ((s->o->metric_re || s->o->metric_json) &&
        !pk__run_metric(s->o, r.out, r.out_len, &metric, why, sizeof why)) {
        fail_point(s, i, -1, "%s", why);
        free(r.out);
        return false;
    }
    free(r.out);
    if (a->warm_left > 0) {
        a->warm_left--;
        return true;
    }
    if (!acc_grow(a)) {
        fail_point(s, i, -1, "%s", "out of memory");
        return false;
    }
    a->wall[a->n] = r.wall_s;
    a->metric[a->n] = metric;
    a->user[a->n] = r.user_s;
    a->sys[a->n] = r.sys_s;
    a->delay[a->n] = r.run_delay_s;
    a->other[a->n] = r.other_cpu_s;
    a->rss[a->n] = r.max_rss_kb;
    a->pos[a->n] = (double)at;
    a->mhz[a->n] = r.mhz_before > 0 ? 100 * (r.mhz_after / r.mhz_before - 1) : NAN;
    long slowest = -1; /* every rank must have said, or the spread is not known */
    bool all = pk__run_rank_timed(s->o) && nranks == (size_t)p->ranks;
    a->rank_spread[a->n] = all ? pk__run_rank_spread(ranks, nranks, &slowest) : NAN;
    a->rank_slowest[a->n] = slowest >= 0 ? (double)slowest : NAN;
    a->rank_seen[a->n] = pk__run_rank_timed(s->o) ? (double)nranks : NAN;
    a->n++;
    return true;
}

/* Runs point i once more, its warm-ups first; records it when it failed. */
static void step(struct sweep *s, size_t i)
{
    struct pk_run_acc *a = &s->acc[i];
    bool ok = true;
    while (ok && a->warm_left > 0)
        ok = run_once(s, i);
    if (ok)
        ok = run_once(s, i);
    if (!ok)
        finish(s, i);
}

static void progress(const struct sweep *s, size_t done, size_t total)
{
    if (!isatty(STDERR_FILENO))
        return;
    double el = pk_now_s() - s->start;
    fprintf(stderr, "\rparkit scale run: run %zu/%zu, %.1f s elapsed, about %.1f s left   ", done,
            total, el, done ? el / (double)done * (double)(total - done) : 0.0);
    if (done == total)
        fputc('\n', stderr);
    fflush(stderr);
}

/* --target-ci: the half-width of the median's 95% order-statistic interval, % of the median;
 * NaN while too few repetitions give that coverage at all. */
static double ci_half_pct(const struct pk_run_acc *a)
{
    double *v = malloc((a->n ? a->n : 1) * sizeof *v), lo, hi, cov;
    if (!v || a->n == 0) {
        free(v);
        return NAN;
    }
    memcpy(v, a->wall, a->n * sizeof *v);
    for (size_t i = 1; i < a->n; i++) /* insertion sort: a few dozen repetitions */
        for (size_t k = i; k > 0 && v[k - 1] > v[k]; k--) {
            double t = v[k];
            v[k] = v[k - 1];
            v[k - 1] = t;
        }
    double med = a->n % 2 ? v[a->n / 2] : 0.5 * (v[a->n / 2 - 1] + v[a->n / 2]);
    int rc = pk_scaling_median_ci(v, a->n, 0.95, &lo, &hi, &cov);
    free(v);
    if (rc != 0 || cov < 0.95 || !(med > 0))
        return NAN;
    return 100 * fmax(med - lo, hi - med) / med;
}

/* More repetitions, one per unsettled point per round in a shuffled order, until each median
 * is known within --target-ci or --max-time is spent; says which for every point. */
static void adapt(struct sweep *s, size_t *order)
{
    const struct pk_run_opts *o = s->o;
    for (uint64_t round = 1;; round++) {
        size_t pending = 0;
        for (size_t i = 0; i < s->n; i++) {
            struct pk_run_acc *a = &s->acc[i];
            if (a->final)
                continue;
            a->ci_pct = ci_half_pct(a);
            if (a->ci_pct <= o->target_ci_pct) {
                a->ci_stop = "target reached";
                finish(s, i);
            } else {
                order[pending++] = i;
            }
        }
        if (pending == 0)
            return;
        bool spent = pk_now_s() - s->start >= o->max_time_s;
        for (size_t k = 0; k < pending && spent; k++) {
            s->acc[order[k]].ci_stop = "time budget spent";
            finish(s, order[k]);
        }
        if (spent)
            return;
        pk__run_shuffle(order, pending, o->seed + round);
        for (size_t k = 0; k < pending && pk_now_s() - s->start < o->max_time_s; k++)
            if (!s->acc[order[k]].final)
                step(s, order[k]);
    }
}

/* Every repetition of every point in the seeded order; a point is recorded once complete. */
static int run_all(struct sweep *s)
{
    const struct pk_run_opts *o = s->o;
    size_t *order;
    if (pk__run_order(s->n, o->common.reps, o->seed, &order) != PK_OK)
        return PK_EXIT_RUNTIME;
    size_t total = s->n * (size_t)o->common.reps, done = 0, todo = 0;
    for (size_t i = 0; i < s->n; i++)
        todo += s->acc[i].final ? 0 : (size_t)o->common.reps;
    for (size_t k = 0; k < total; k++) {
        size_t i = order[k];
        if (s->acc[i].final)
            continue;
        step(s, i);
        progress(s, ++done, todo);
        if (!s->acc[i].final && s->acc[i].n >= (size_t)o->common.reps && o->target_ci_pct <= 0)
            finish(s, i);
    }
    if (o->target_ci_pct > 0)
        adapt(s, order);
    free(order);
    return PK_EXIT_OK;
}

/* The point a record of this experiment is for; -1 when none (another experiment, or a point
 * this sweep does not have). */
static long point_of_record(const struct sweep *s, const json_t *rec)
{
    const json_t *b = json_object_get(rec, "scale");
    const char *sig = json_string_value(json_object_get(b, "signature"));
    if (!sig || strcmp(sig, s->signature) != 0)
        return -1;
    json_int_t t = json_integer_value(json_object_get(b, "threads"));
    json_int_t r = json_integer_value(json_object_get(b, "ranks"));
    json_int_t z = json_integer_value(json_object_get(b, "size"));
    for (size_t i = 0; i < s->n; i++)
        if (s->pts[i].threads == t && s->pts[i].ranks == r && (json_int_t)s->pts[i].size == z)
            return (long)i;
    return -1;
}

/* --resume: the points the file already holds for this experiment are done (shown, not run
 * again); the experiment keeps its id. A file that does not exist yet is a fresh start. */
static int resume(struct sweep *s)
{
    FILE *f = fopen(s->o->resume, "r");
    if (!f) {
        if (errno == ENOENT)
            return PK_EXIT_OK;
        pk_error(s->c, false, "scale run", "cannot read --resume '%s': %s", s->o->resume,
                 strerror(errno));
        return PK_EXIT_USAGE;
    }
    char *line = NULL;
    size_t cap = 0, found = 0;
    ssize_t len;
    while ((len = pk_line_read(f, &line, &cap, PK_LINE_MAX)) >= 0) {
        json_t *rec = json_loadb(line, (size_t)len, 0, NULL);
        long i = rec ? point_of_record(s, rec) : -1;
        if (i >= 0 && !s->acc[i].final) {
            s->acc[i].final = true;
            found++;
            const char *id =
                json_string_value(json_object_get(json_object_get(rec, "scale"), "experiment"));
            if (id && !s->o->experiment)
                snprintf(s->experiment, sizeof s->experiment, "%s", id);
            json_array_append(s->points, rec);
            if (json_is_false(json_object_get(rec, "verified")))
                s->status = PK_EXIT_RUNTIME; /* it failed then: it still fails the sweep */
        }
        json_decref(rec);
    }
    free(line);
    fclose(f);
    if (len != PK_LINE_EOF) {
        pk_error(s->c, false, "scale run", "cannot read --resume '%s' to the end", s->o->resume);
        return PK_EXIT_USAGE;
    }
    fprintf(stderr, "parkit scale run: --resume: %zu of %zu points already in '%s'\n", found, s->n,
            s->o->resume);
    return PK_EXIT_OK;
}

static void name_experiment(struct sweep *s)
{
    const char *prog = strrchr(s->o->cmd[0], '/');
    prog = prog ? prog + 1 : s->o->cmd[0];
    snprintf(s->kernel, sizeof s->kernel, "run:%.80s", prog);
    if (s->o->experiment)
        snprintf(s->experiment, sizeof s->experiment, "%s", s->o->experiment);
    else
        snprintf(s->experiment, sizeof s->experiment, "run-%.60s-%ld-%d", prog, (long)time(NULL),
                 (int)getpid());
}

/* Builds the sweep: points, command lines, facts, signature. */
static int setup(struct sweep *s)
{
    int st = pk__run_plan(s->o, &s->pts, &s->n);
    if (st != PK_EXIT_OK)
        return st;
    s->acc = calloc(s->n, sizeof *s->acc);
    s->argv = calloc(s->n, sizeof *s->argv);
    s->points = json_array();
    if (!s->acc || !s->argv || !s->points)
        return PK_EXIT_RUNTIME;
    for (size_t i = 0; i < s->n; i++) {
        s->acc[i] = (struct pk_run_acc){.warm_left = s->o->common.warmup, .ci_pct = NAN};
        if (!(s->argv[i] = pk__run_argv(s->o, &s->pts[i])))
            return PK_EXIT_RUNTIME;
    }
    s->cores = pk_sysinfo_usable_cores();
    s->sysinfo = pk_sysinfo_for_command(s->c, "scale", 1);
    name_experiment(s);
    make_signature(s);
    return s->o->resume ? resume(s) : PK_EXIT_OK;
}

static void teardown(struct sweep *s)
{
    for (size_t i = 0; s->acc && i < s->n; i++)
        acc_free(&s->acc[i]);
    for (size_t i = 0; s->argv && i < s->n; i++)
        pk__run_argv_free(s->argv[i]);
    free(s->acc);
    free(s->argv);
    free(s->pts);
    json_decref(s->sysinfo);
    json_decref(s->points);
}

static long long scale_int(const json_t *rec, const char *key)
{
    return json_integer_value(json_object_get(json_object_get(rec, "scale"), key));
}

static int cmp_point(const void *pa, const void *pb)
{
    const json_t *a = *(json_t *const *)pa, *b = *(json_t *const *)pb;
    static const char *const keys[] = {"base_size", "ranks", "threads"};
    for (size_t k = 0; k < 3; k++) {
        long long x = scale_int(a, keys[k]), y = scale_int(b, keys[k]);
        if (x != y)
            return x < y ? -1 : 1;
    }
    return 0;
}

/* The points in the order of the table (they finished in the random order): a new array. */
static json_t *sorted_points(const json_t *points)
{
    size_t n = json_array_size(points);
    json_t **v = malloc((n ? n : 1) * sizeof *v), *out = json_array();
    for (size_t i = 0; v && i < n; i++)
        v[i] = json_array_get(points, i);
    if (v)
        qsort(v, n, sizeof *v, cmp_point);
    for (size_t i = 0; i < n; i++)
        json_array_append(out, v ? v[i] : json_array_get(points, i));
    free(v);
    return out;
}

int pk_scale_run(const struct pk_comm *c, struct pk_run_opts *o)
{
    if (pk_cli_single_process(c, "scale run") != PK_EXIT_OK)
        return PK_EXIT_USAGE;
    if (o->resume)
        o->common.record = o->resume;
    static char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    o->self = len > 0 ? (self[len] = 0, self) : NULL; /* no /proc: ranks start directly */
    struct sweep s = {.c = c, .o = o, .start = pk_now_s()};
    int st = setup(&s);
    if (st == PK_EXIT_OK)
        st = run_all(&s);
    if (st != PK_EXIT_OK) {
        if (st == PK_EXIT_RUNTIME)
            pk_error(c, false, "scale run", "out of memory");
        teardown(&s);
        return st;
    }
    if (o->target_ci_pct > 0) {
        size_t reached = 0, spent = 0;
        for (size_t i = 0; i < s.n; i++) {
            const char *why = s.acc[i].ci_stop;
            reached += why && strcmp(why, "target reached") == 0;
            spent += why && strcmp(why, "time budget spent") == 0;
        }
        fprintf(stderr, "parkit scale run: --target-ci %g%%: %zu of %zu points reached it",
                o->target_ci_pct, reached, s.n);
        if (spent)
            fprintf(stderr, "; --max-time stopped %zu", spent);
        fputc('\n', stderr);
    }
    struct pk_common_opts shown = o->common;
    shown.record = NULL; /* every point went to --record as it finished */
    static const struct pk_view view = {pk__run_table, pk__run_csv};
    json_t *points = sorted_points(s.points);
    st = pk_emit(c, "scale run", &shown, &view, o, points, s.status);
    teardown(&s);
    return st;
}
