/* SPDX-License-Identifier: MIT */
/* parkit scale grain: the tutorials' "tiny tasks" lesson, measured. A fixed total of cheap,
 * checkable work items (a 64-bit hash each, summed modulo 2^64, so any split gives the same sum)
 * is cut into chunks of each size of --chunk and run three ways: an OpenMP loop with
 * schedule(dynamic, chunk), the io/ pthread pool with one task per chunk, and, under mpirun,
 * ranks that each reduce their chunks with one allreduce per round of chunks. The fixed costs
 * that make small chunks slow are measured on their own: an empty parallel region, an empty
 * pool task (submit + wait), an MPI barrier and an allreduce of one word. */
#include "commands.h"
#include "parkit/pool.h"
#include "record.h"
#include "sysinfo.h"
#include "timing.h"

#include <getopt.h>
#include <inttypes.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CHUNKS 32

static const char usage[] =
    "Usage: parkit scale grain [--total N] [--chunk LIST] [-t T] [--reps R] [options]\n"
    "The same total of cheap work items (a 64-bit hash each, summed) cut into chunks of\n"
    "each size in LIST, run as an OpenMP loop with schedule(dynamic, chunk), as one io/ pool\n"
    "task per chunk on T threads, and under mpirun as ranks that allreduce once per round of\n"
    "chunks; prints nanoseconds per item for each, and the fixed costs behind them: an empty\n"
    "parallel region, an empty pool task (submit + wait), an MPI barrier and an allreduce.\n"
    "Where the time per item levels off, the chunk amortises the scheduling cost.\n"
    "\n"
    "  --total N     work items (default 2^20)\n"
    "  --chunk LIST  chunk sizes (default 1,8,64,512,4096,32768)\n"
    "\n"
    "Verified: every way and every chunk size gives the serial sum.\n\n";

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

static int parse_chunks(const char *text, uint64_t *chunks, int *n, struct pk_err *err)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", text);
    *n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (*n == MAX_CHUNKS)
            return pk_fail(err, PK_EINVAL, "--chunk: at most %d sizes", MAX_CHUNKS);
        int rc = pk_parse_count("--chunk", tok, 1, UINT64_C(1) << 32, &chunks[*n], err);
        if (rc != PK_OK)
            return rc;
        (*n)++;
    }
    return *n ? PK_OK
              : pk_fail(err, PK_EINVAL, "--chunk expects a list like 1,64,4096, got '%s'", text);
}

int pk_scale_grain(int argc, char **argv, const struct pk_comm *c)
{
    static const struct option longopts[] = {{"total", required_argument, NULL, 'N'},
                                             {"chunk", required_argument, NULL, 'C'},
                                             PK_COMMON_LONGOPTS,
                                             {NULL, 0, NULL, 0}};
    struct pk_common_opts common;
    pk_common_defaults(&common);
    common.reps = 3;
    uint64_t total = UINT64_C(1) << 20, chunks[MAX_CHUNKS] = {1, 8, 64, 512, 4096, 32768};
    int nchunks = 6;
    struct pk_err err = {0};
    opterr = 0;
    optind = 2; /* argv[1] is "grain" */
    int code;
    while ((code = getopt_long(argc, argv, ":" PK_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
        int rc = PK_OK;
        if (code == 'N')
            rc = pk_parse_count("--total", optarg, 1, UINT64_C(1) << 34, &total, &err);
        else if (code == 'C')
            rc = parse_chunks(optarg, chunks, &nchunks, &err);
        else {
            int handled = pk_cli_option(c, "scale grain", usage, code, argv, &common);
            if (handled == PK_OPT_HELP_SHOWN)
                return PK_EXIT_OK;
            if (handled != PK_OPT_DONE)
                return PK_EXIT_USAGE;
        }
        if (rc != PK_OK) {
            pk_error(c, false, "scale", "%s", err.msg);
            return PK_EXIT_USAGE;
        }
    }
    if (pk_cli_no_operands(c, "scale", argc, argv) != PK_EXIT_OK)
        return PK_EXIT_USAGE;
    uint64_t smallest = chunks[0];
    for (int i = 1; i < nchunks; i++)
        smallest = chunks[i] < smallest ? chunks[i] : smallest;
    if (total / smallest > (UINT64_C(1) << 26)) {
        pk_error(c, false, "scale",
                 "--total %" PRIu64 " in chunks of %" PRIu64 " is more than 2^26 pool tasks", total,
                 smallest);
        return PK_EXIT_USAGE;
    }
    json_t *sysinfo = pk_sysinfo_for_command(c, "scale", common.nthreads);
    int nt = common.nthreads;
    /* the pool runs on rank 0 over the whole total; so does the OpenMP loop */
    struct pk_pool *pool = NULL;
    void **inputs = NULL;
    int status = PK_EXIT_OK;
    if (c->rank == 0 && (pk_pool_create(nt, &pool) != PK_OK ||
                         !(inputs = malloc((size_t)(total / smallest + 1) * sizeof *inputs))))
        status = PK_EXIT_RUNTIME;
    if (pk_dist_agree(c, status) != PK_EXIT_OK) {
        pk_error(c, false, "scale", "out of memory or threads");
        pk_pool_destroy(pool);
        free(inputs);
        json_decref(sysinfo);
        return PK_EXIT_RUNTIME;
    }
    uint64_t want = range_sum(0, total);

    /* fixed costs, averaged over many calls after a warm-up */
    double region_us = 0, task_us = 0, barrier_us = 0, allreduce_us = 0;
    if (c->rank == 0) {
        int k, sink = 0;
        for (int pass = 0; pass < 2; pass++) {
            double t0 = pk_now_s();
            for (k = 0; k < 2000; k++) {
#pragma omp parallel num_threads(nt) reduction(+ : sink)
                sink += omp_get_thread_num() >= 0;
            }
            region_us = (pk_now_s() - t0) / k * 1e6;
        }
        (void)sink;
        for (int pass = 0; pass < 2; pass++) {
            double t0 = pk_now_s();
            for (k = 0; k < 20000; k++) {
                struct pk_future *f;
                if (pk_pool_submit(pool, empty_task, NULL, 0, NULL, &f) == PK_OK) {
                    pk_future_wait(f, -1, NULL, NULL);
                    pk_future_release(f);
                }
            }
            task_us = (pk_now_s() - t0) / k * 1e6;
        }
    }
    if (c->nranks > 1) {
        for (int pass = 0; pass < 2; pass++) {
            pk_dist_barrier(c);
            double t0 = pk_now_s();
            for (int k = 0; k < 500; k++)
                pk_dist_barrier(c);
            barrier_us = pk_dist_max_double(c, (pk_now_s() - t0) / 500 * 1e6);
            uint64_t one = 1;
            t0 = pk_now_s();
            for (int k = 0; k < 500; k++)
                pk_dist_sum_u64(c, &one, 1);
            allreduce_us = pk_dist_max_double(c, (pk_now_s() - t0) / 500 * 1e6);
        }
    }

    if (c->rank == 0 && common.format == PK_FORMAT_TABLE) {
        printf("# parkit scale grain: %" PRIu64 " items, %d thread%s%s; best of %d after %d "
               "warm-up\n",
               total, nt, nt == 1 ? "" : "s", c->nranks > 1 ? ", and the ranks" : "", common.reps,
               common.warmup);
        printf("%12s %10s %14s %14s %14s  %s\n", "chunk", "chunks", "openmp ns/item",
               "pool ns/item", c->nranks > 1 ? "mpi ns/item" : "", "verified");
    }
    json_t *points = json_array();
    bool all_ok = true;
    for (int i = 0; i < nchunks; i++) {
        uint64_t ch = chunks[i];
        double best[3] = {1e300, 1e300, 1e300};
        bool ok = true;
        for (int r = -common.warmup; r < common.reps; r++) {
            uint64_t s;
            if (c->rank == 0) {
                double t = omp_run(total, ch, nt, 0, total, &s);
                ok = ok && s == want;
                if (r >= 0 && t < best[0])
                    best[0] = t;
                int prc;
                t = pool_run(pool, inputs, 0, total, ch, nt, &s, &prc);
                ok = ok && prc == PK_OK && s == want;
                if (r >= 0 && t < best[1])
                    best[1] = t;
            }
            if (c->nranks > 1) {
                double t = mpi_run(c, total, ch, &s);
                ok = ok && s == want;
                if (r >= 0 && t < best[2])
                    best[2] = t;
            }
        }
        ok = pk_dist_agree(c, ok ? PK_EXIT_OK : PK_EXIT_VERIFY) == PK_EXIT_OK;
        all_ok = all_ok && ok;
        if (c->rank != 0)
            continue;
        double per[3];
        for (int k = 0; k < 3; k++)
            per[k] = best[k] < 1e300 ? best[k] / (double)total * 1e9 : 0;
        json_array_append_new(points,
                              json_pack("{s:I, s:I, s:f, s:f, s:f, s:b}", "chunk", (json_int_t)ch,
                                        "chunks", (json_int_t)((total + ch - 1) / ch),
                                        "openmp_ns_per_item", per[0], "pool_ns_per_item", per[1],
                                        "mpi_ns_per_item", per[2], "verified", ok));
        if (common.format == PK_FORMAT_TABLE) {
            char mpi[32] = "";
            if (c->nranks > 1)
                snprintf(mpi, sizeof mpi, "%14.2f", per[2]);
            printf("%12" PRIu64 " %10" PRIu64 " %14.2f %14.2f %14s  %s\n", ch,
                   (total + ch - 1) / ch, per[0], per[1], mpi, ok ? "yes" : "NO");
            fflush(stdout);
        }
    }
    int rc = all_ok ? PK_EXIT_OK : PK_EXIT_VERIFY;
    if (c->rank == 0) {
        json_t *rec = pk_record_new("grain");
        json_object_set_new(rec, "params",
                            json_pack("{s:I, s:i, s:i, s:i, s:i}", "total", (json_int_t)total,
                                      "threads", nt, "ranks", c->nranks, "reps", common.reps,
                                      "warmup", common.warmup));
        json_object_set_new(rec, "result",
                            json_pack("{s:o, s:f, s:f, s:f, s:f}", "points", points,
                                      "parallel_region_us", region_us, "pool_task_us", task_us,
                                      "barrier_us", barrier_us, "allreduce_us", allreduce_us));
        json_object_set_new(rec, "verified", json_boolean(all_ok));
        pk_record_set_provenance(rec, sysinfo);
        if (common.format == PK_FORMAT_JSON) {
            json_dumpf(rec, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
            putchar('\n');
        } else {
            const char *policy = getenv("OMP_WAIT_POLICY");
            printf("fixed costs: empty OpenMP parallel region %.2f us (%d threads, "
                   "OMP_WAIT_POLICY=%s), empty pool task (submit + wait) %.2f us",
                   region_us, nt, policy ? policy : "default", task_us);
            if (c->nranks > 1)
                printf(", MPI barrier %.2f us, allreduce of one word %.2f us (%d ranks)",
                       barrier_us, allreduce_us, c->nranks);
            printf("\nA chunk of k items pays these once per chunk: below about (fixed cost / "
                   "time per item) items, scheduling dominates.\nverified    %s\n",
                   all_ok ? "yes (every way and chunk gives the serial sum)" : "NO");
        }
        if (common.record && pk_record_append(common.record, rec, &err) != PK_OK) {
            pk_error(c, false, "scale", "%s", err.msg);
            rc = PK_EXIT_RUNTIME;
        }
        if (!all_ok)
            pk_error(c, false, "scale", "verification failed");
        json_decref(rec);
    } else {
        json_decref(points);
    }
    pk_pool_destroy(pool);
    free(inputs);
    json_decref(sysinfo);
    return pk_dist_agree(c, rc);
}
