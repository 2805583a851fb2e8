/* SPDX-License-Identifier: MIT */
/* parkit scale grain: the tutorials' "tiny tasks" lesson, measured. A fixed total of cheap,
 * checkable work items (a 64-bit hash each, summed modulo 2^64, so any split gives the same sum)
 * is cut into chunks of each size of --chunk and run three ways: an OpenMP loop with
 * schedule(dynamic, chunk), the io/ pthread pool with one task per chunk, and, under mpirun,
 * ranks that each reduce their chunks with one allreduce per round of chunks. The fixed costs
 * that make small chunks slow are measured on their own: an empty parallel region, an empty
 * pool task (submit + wait), an MPI barrier and an allreduce of one word. */
#include "commands.h"
#include "emit.h"
#include "opt.h"
#include "parkit/pool.h"
#include "record.h"
#include "sysinfo.h"
#include "timing.h"

#include <inttypes.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline uint64_t item(uint64_t i)
{
    uint64_t z = i + UINT64_C(0x9e3779b97f4a7c15); /* splitmix64 */
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static uint64_t range_sum(uint64_t lo, uint64_t hi)
{
    uint64_t s = 0;
    for (uint64_t i = lo; i < hi; i++)
        s += item(i);
    return s;
}

struct pool_job {
    uint64_t total, chunk;
};

static const struct pool_job *the_job; /* read-only while a pool run is in flight */

static int chunk_task(void *arg, struct pk_cancel *cancel, void **result, struct pk_err *err)
{
    (void)cancel, (void)err;
    uint64_t k = (uint64_t)(uintptr_t)arg;
    uint64_t lo = k * the_job->chunk, hi = lo + the_job->chunk;
    *result = (void *)(uintptr_t)range_sum(lo, hi < the_job->total ? hi : the_job->total);
    return PK_OK;
}

static int add_result(void *ctx, size_t index, void *result)
{
    (void)index;
    *(uint64_t *)ctx += (uint64_t)(uintptr_t)result;
    return PK_OK;
}

static int empty_task(void *arg, struct pk_cancel *cancel, void **result, struct pk_err *err)
{
    (void)arg, (void)cancel, (void)result, (void)err;
    return PK_OK;
}

/* Seconds for the whole total as an OpenMP dynamic loop; *sum gets the sum. */
static double omp_run(uint64_t total, uint64_t chunk, int nthreads, uint64_t lo, uint64_t hi,
                      uint64_t *sum)
{
    uint64_t s = 0;
    (void)total;
    double t0 = pk_now_s();
#pragma omp parallel for num_threads(nthreads) schedule(dynamic, chunk) reduction(+ : s)
    for (uint64_t i = lo; i < hi; i++)
        s += item(i);
    *sum = s;
    return pk_now_s() - t0;
}

/* Seconds for [lo, hi) as one pool task per chunk, up to 256 per thread in flight (map hands the
 * results back in order, so a small window would measure the round trip, not the throughput). */
static double pool_run(struct pk_pool *pool, void **inputs, uint64_t lo, uint64_t hi,
                       uint64_t chunk, int nthreads, uint64_t *sum, int *rc)
{
    struct pool_job job = {.total = hi, .chunk = chunk};
    the_job = &job;
    uint64_t first = lo / chunk, n = (hi - lo + chunk - 1) / chunk;
    for (uint64_t k = 0; k < n; k++)
        inputs[k] = (void *)(uintptr_t)(first + k);
    *sum = 0;
    double t0 = pk_now_s();
    *rc = pk_pool_map(pool, chunk_task, inputs, n, 256 * (size_t)nthreads, add_result, sum, NULL,
                      NULL);
    return pk_now_s() - t0;
}

/* Seconds for the total over ranks: round r gives chunk r*nranks+rank to each rank, then one
 * allreduce adds the round's partials. */
static double mpi_run(const struct pk_comm *c, uint64_t total, uint64_t chunk, uint64_t *sum)
{
    uint64_t nchunks = (total + chunk - 1) / chunk, rounds = (nchunks + c->nranks - 1) / c->nranks;
    *sum = 0;
    pk_dist_barrier(c);
    double t0 = pk_now_s();
    for (uint64_t r = 0; r < rounds; r++) {
        uint64_t k = r * (uint64_t)c->nranks + (uint64_t)c->rank, part = 0;
        if (k < nchunks) {
            uint64_t lo = k * chunk, hi = lo + chunk;
            part = range_sum(lo, hi < total ? hi : total);
        }
        pk_dist_sum_u64(c, &part, 1);
        *sum += part;
    }
    return pk_dist_max_double(c, pk_now_s() - t0);
}

/* ---- options ----------------------------------------------------------------------------- */

struct grain_opts {
    uint64_t total;
    struct pk_count_list chunks;
    struct pk_common_opts common;
};

static const char description[] =
    "The same total of cheap work items (a 64-bit hash each, summed) cut into chunks of\n"
    "each size in LIST, run as an OpenMP loop with schedule(dynamic, chunk), as one io/ pool\n"
    "task per chunk on T threads, and under mpirun as ranks that allreduce once per round of\n"
    "chunks; prints nanoseconds per item for each (the best of --reps), and the fixed costs\n"
    "behind them: an empty parallel region, an empty pool task (submit + wait), an MPI\n"
    "barrier and an allreduce. Where the time per item levels off, the chunk amortises the\n"
    "scheduling cost. --format csv gives one row per chunk size.\n"
    "\n"
    "Verified: every way and every chunk size gives the serial sum.\n";

static int parse(int argc, char **argv, const struct pk_comm *c, struct grain_opts *o)
{
    *o = (struct grain_opts){.total = UINT64_C(1) << 20};
    const struct pk_opt table[] = {
        {"total", 0, PK_OPT_COUNT, &o->total, "N", "work items (default 2^20)", .min = 1,
         .max = UINT64_C(1) << 34},
        {"chunk", 0, PK_OPT_LIST, &o->chunks, "LIST", "chunk sizes (default 1,8,64,512,4096,32768)",
         .min = 1, .max = UINT64_C(1) << 32},
        {NULL},
    };
    const struct pk_cmd_spec spec = {
        .name = "scale grain",
        .synopsis = "[--total N] [--chunk LIST] [-t T] [--reps R] [options]",
        .summary = "How big a task must be: nanoseconds per item by chunk size, OpenMP, the pool "
                   "and MPI.",
        .description = description,
        .opts = table,
        .shared = PK_SHARED_THREADS | PK_SHARED_TIMED | PK_SHARED_RECORD | PK_SHARED_FORMAT,
        .formats = PK_FORMATS_CSV,
        .reps_default = 3,
    };
    return pk_opts_parse(&spec, c, argc, argv, &o->common, NULL);
}

/* The default sizes, and no more pool tasks than the inputs array may hold. */
static int plan(const struct pk_comm *c, struct grain_opts *o, uint64_t *smallest)
{
    static const uint64_t defaults[] = {1, 8, 64, 512, 4096, 32768};
    size_t n = sizeof defaults / sizeof defaults[0];
    if (o->chunks.n == 0) {
        if (!(o->chunks.v = malloc(sizeof defaults))) {
            pk_error(c, false, "scale grain", "out of memory");
            return PK_EXIT_RUNTIME;
        }
        memcpy(o->chunks.v, defaults, sizeof defaults);
        o->chunks.n = n;
    }
    *smallest = o->chunks.v[0];
    for (size_t i = 1; i < o->chunks.n; i++)
        *smallest = o->chunks.v[i] < *smallest ? o->chunks.v[i] : *smallest;
    if (o->total / *smallest > (UINT64_C(1) << 26))
        return pk_usage_error(c, "scale grain",
                              "--total %" PRIu64 " in chunks of %" PRIu64
                              " is more than 2^26 pool tasks",
                              o->total, *smallest);
    return PK_EXIT_OK;
}

/* ---- the runs ---------------------------------------------------------------------------- */

/* The pool and its task inputs live on rank 0, which also runs the OpenMP loop. */
struct grain_run {
    const struct pk_comm *c;
    const struct grain_opts *o;
    struct pk_pool *pool;
    void **inputs;
    uint64_t want; /* the serial sum */
};

struct fixed_costs {
    double region_us, task_us, barrier_us, allreduce_us;
};

/* The empty parallel region and the empty pool task on rank 0, each averaged over many calls
 * after a warm-up pass. */
static void local_costs(const struct grain_run *r, struct fixed_costs *fc)
{
    int nt = r->o->common.nthreads, k, sink = 0;
    for (int pass = 0; pass < 2; pass++) {
        double t0 = pk_now_s();
        for (k = 0; k < 2000; k++) {
#pragma omp parallel num_threads(nt) reduction(+ : sink)
            sink += omp_get_thread_num() >= 0;
        }
        fc->region_us = (pk_now_s() - t0) / k * 1e6;
    }
    (void)sink;
    for (int pass = 0; pass < 2; pass++) {
        double t0 = pk_now_s();
        for (k = 0; k < 20000; k++) {
            struct pk_future *f;
            if (pk_pool_submit(r->pool, empty_task, NULL, 0, NULL, &f) == PK_OK) {
                pk_future_wait(f, -1, NULL, NULL);
                pk_future_release(f);
            }
        }
        fc->task_us = (pk_now_s() - t0) / k * 1e6;
    }
}

/* A barrier and a one-word allreduce, the slowest rank's average (collective). */
static void mpi_costs(const struct pk_comm *c, struct fixed_costs *fc)
{
    for (int pass = 0; pass < 2; pass++) {
        pk_dist_barrier(c);
        double t0 = pk_now_s();
        for (int k = 0; k < 500; k++)
            pk_dist_barrier(c);
        fc->barrier_us = pk_dist_max_double(c, (pk_now_s() - t0) / 500 * 1e6);
        uint64_t one = 1;
        t0 = pk_now_s();
        for (int k = 0; k < 500; k++)
            pk_dist_sum_u64(c, &one, 1);
        fc->allreduce_us = pk_dist_max_double(c, (pk_now_s() - t0) / 500 * 1e6);
    }
}

/* One chunk size: the best time of each way over the reps, every run checked against the
 * serial sum (collective). Rank 0 gets the point. */
static json_t *run_chunk(const struct grain_run *r, uint64_t ch, bool *ok)
{
    const struct grain_opts *o = r->o;
    int nt = o->common.nthreads;
    double best[3] = {1e300, 1e300, 1e300};
    *ok = true;
    for (int rep = -o->common.warmup; rep < o->common.reps; rep++) {
        uint64_t s;
        double t[3] = {1e300, 1e300, 1e300};
        if (r->c->rank == 0) {
            t[0] = omp_run(o->total, ch, nt, 0, o->total, &s);
            *ok = *ok && s == r->want;
            int prc;
            t[1] = pool_run(r->pool, r->inputs, 0, o->total, ch, nt, &s, &prc);
            *ok = *ok && prc == PK_OK && s == r->want;
        }
        if (r->c->nranks > 1) {
            t[2] = mpi_run(r->c, o->total, ch, &s);
            *ok = *ok && s == r->want;
        }
        for (int k = 0; k < 3 && rep >= 0; k++)
            best[k] = t[k] < best[k] ? t[k] : best[k];
    }
    *ok = pk_dist_agree(r->c, *ok ? PK_EXIT_OK : PK_EXIT_VERIFY) == PK_EXIT_OK;
    if (r->c->rank != 0)
        return NULL;
    double per[3];
    for (int k = 0; k < 3; k++)
        per[k] = best[k] < 1e300 ? best[k] / (double)o->total * 1e9 : 0;
    return json_pack("{s:I, s:I, s:f, s:f, s:f, s:b}", "chunk", (json_int_t)ch, "chunks",
                     (json_int_t)((o->total + ch - 1) / ch), "openmp_ns_per_item", per[0],
                     "pool_ns_per_item", per[1], "mpi_ns_per_item", per[2], "verified", *ok);
}

/* Every chunk size, then the record (rank 0). Returns the agreed status. */
static int run_all(const struct grain_run *r, const json_t *sysinfo, json_t **rec)
{
    const struct grain_opts *o = r->o;
    struct fixed_costs fc = {0};
    if (r->c->rank == 0)
        local_costs(r, &fc);
    if (r->c->nranks > 1)
        mpi_costs(r->c, &fc);
    json_t *points = json_array();
    bool all_ok = true;
    for (size_t i = 0; i < o->chunks.n; i++) {
        bool ok;
        json_t *p = run_chunk(r, o->chunks.v[i], &ok);
        all_ok = all_ok && ok;
        if (p)
            json_array_append_new(points, p);
    }
    if (r->c->rank == 0) {
        *rec = pk_record_new("grain");
        json_object_set_new(*rec, "params",
                            json_pack("{s:I, s:i, s:i, s:i, s:i}", "total", (json_int_t)o->total,
                                      "threads", o->common.nthreads, "ranks", r->c->nranks, "reps",
                                      o->common.reps, "warmup", o->common.warmup));
        json_object_set_new(*rec, "result",
                            json_pack("{s:o, s:f, s:f, s:f, s:f}", "points", points,
                                      "parallel_region_us", fc.region_us, "pool_task_us",
                                      fc.task_us, "barrier_us", fc.barrier_us, "allreduce_us",
                                      fc.allreduce_us));
        json_object_set_new(*rec, "verified", json_boolean(all_ok));
        pk_record_set_provenance(*rec, sysinfo);
    } else {
        json_decref(points);
    }
    return all_ok ? PK_EXIT_OK : PK_EXIT_VERIFY;
}

/* ---- output ------------------------------------------------------------------------------ */

static double num(const json_t *obj, const char *key)
{
    return json_number_value(json_object_get(obj, key));
}

static void print_table(const json_t *rec, const void *ctx)
{
    const struct grain_opts *o = ctx;
    const json_t *res = json_object_get(rec, "result");
    int nt = o->common.nthreads;
    int nranks = (int)json_integer_value(json_object_get(json_object_get(rec, "params"), "ranks"));
    printf("# parkit scale grain: %" PRIu64 " items, %d %s%s; best of %d after %d warm-up\n",
           o->total, nt, pk_plural((unsigned long long)nt, "thread", "threads"),
           nranks > 1 ? ", and the ranks" : "", o->common.reps, o->common.warmup);
    printf("%12s %10s %14s %14s %14s  %s\n", "chunk", "chunks", "openmp ns/item", "pool ns/item",
           nranks > 1 ? "mpi ns/item" : "", "verified");
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(res, "points"), i, p)
    {
        char mpi[32] = "";
        if (nranks > 1)
            snprintf(mpi, sizeof mpi, "%14.2f", num(p, "mpi_ns_per_item"));
        printf("%12" PRIu64 " %10" PRIu64 " %14.2f %14.2f %14s  %s\n",
               (uint64_t)json_integer_value(json_object_get(p, "chunk")),
               (uint64_t)json_integer_value(json_object_get(p, "chunks")),
               num(p, "openmp_ns_per_item"), num(p, "pool_ns_per_item"), mpi,
               json_is_true(json_object_get(p, "verified")) ? "yes" : "NO");
    }
    const char *policy = getenv("OMP_WAIT_POLICY");
    printf("fixed costs: empty OpenMP parallel region %.2f us (%d threads, OMP_WAIT_POLICY=%s), "
           "empty pool task (submit + wait) %.2f us",
           num(res, "parallel_region_us"), nt, policy ? policy : "default",
           num(res, "pool_task_us"));
    if (nranks > 1)
        printf(", MPI barrier %.2f us, allreduce of one word %.2f us (%d ranks)",
               num(res, "barrier_us"), num(res, "allreduce_us"), nranks);
    printf("\nA chunk of k items pays these once per chunk: below about (fixed cost / time per "
           "item) items, scheduling dominates.\nverified    %s\n",
           json_is_true(json_object_get(rec, "verified"))
               ? "yes (every way and chunk gives the serial sum)"
               : "NO");
}

/* One row per chunk size; the run's fixed costs repeat on every row. */
static void print_csv(const json_t *rec, struct pk_csvw *w, const void *ctx)
{
    const struct grain_opts *o = ctx;
    static const char *const header[] = {"total",
                                         "threads",
                                         "ranks",
                                         "chunk",
                                         "chunks",
                                         "openmp_ns_per_item",
                                         "pool_ns_per_item",
                                         "mpi_ns_per_item",
                                         "parallel_region_us",
                                         "pool_task_us",
                                         "barrier_us",
                                         "allreduce_us",
                                         "verified",
                                         NULL};
    const json_t *res = json_object_get(rec, "result");
    int nranks = (int)json_integer_value(json_object_get(json_object_get(rec, "params"), "ranks"));
    pk_csvw_row(w, header);
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(res, "points"), i, p)
    {
        pk_csvw_fieldf(w, "%" PRIu64, o->total);
        pk_csvw_fieldf(w, "%d", o->common.nthreads);
        pk_csvw_fieldf(w, "%d", nranks);
        pk_csvw_fieldf(w, "%lld", (long long)json_integer_value(json_object_get(p, "chunk")));
        pk_csvw_fieldf(w, "%lld", (long long)json_integer_value(json_object_get(p, "chunks")));
        pk_csvw_fieldf(w, "%.4f", num(p, "openmp_ns_per_item"));
        pk_csvw_fieldf(w, "%.4f", num(p, "pool_ns_per_item"));
        /* no MPI way on one rank: an empty field, not a zero time */
        if (nranks > 1)
            pk_csvw_fieldf(w, "%.4f", num(p, "mpi_ns_per_item"));
        else
            pk_csvw_field(w, NULL);
        pk_csvw_fieldf(w, "%.4f", num(res, "parallel_region_us"));
        pk_csvw_fieldf(w, "%.4f", num(res, "pool_task_us"));
        if (nranks > 1) {
            pk_csvw_fieldf(w, "%.4f", num(res, "barrier_us"));
            pk_csvw_fieldf(w, "%.4f", num(res, "allreduce_us"));
        } else {
            pk_csvw_field(w, NULL);
            pk_csvw_field(w, NULL);
        }
        pk_csvw_field(w, json_is_true(json_object_get(p, "verified")) ? "yes" : "no");
        pk_csvw_end(w);
    }
}

int pk_scale_grain(int argc, char **argv, const struct pk_comm *c)
{
    struct grain_opts o;
    uint64_t smallest;
    /* argv[0] is "scale", argv[1] "grain": the options follow */
    int status = parse(argc - 1, argv + 1, c, &o);
    if (status == PK_EXIT_OK)
        status = plan(c, &o, &smallest);
    if (status != PK_EXIT_OK) {
        pk_count_list_free(&o.chunks);
        return pk_opts_exit(status);
    }
    struct grain_run r = {.c = c, .o = &o};
    if (c->rank == 0 && (pk_pool_create(o.common.nthreads, &r.pool) != PK_OK ||
                         !(r.inputs = malloc((size_t)(o.total / smallest + 1) * sizeof *r.inputs))))
        status = PK_EXIT_RUNTIME;
    json_t *rec = NULL;
    if (pk_dist_agree(c, status) != PK_EXIT_OK) {
        pk_error(c, false, "scale grain", "out of memory or threads");
        status = PK_EXIT_RUNTIME;
    } else {
        json_t *sysinfo = pk_sysinfo_for_command(c, "scale", o.common.nthreads);
        r.want = range_sum(0, o.total);
        status = run_all(&r, sysinfo, &rec);
        json_decref(sysinfo);
    }
    pk_pool_destroy(r.pool);
    free(r.inputs);
    static const struct pk_view view = {print_table, print_csv};
    status = pk_emit(c, "scale grain", &o.common, &view, &o, rec, status);
    pk_count_list_free(&o.chunks);
    return status;
}
