/* SPDX-License-Identifier: MIT */
/* parkit demo: the main job. Every kernel built so far, at laptop size, run sequentially (one
 * thread per rank) and concurrently (all threads), verified, as the tutorials' table
 * "Sequential | Concurrent | Speedup". Lists only kernels that exist. */
#include "commands.h"
#include "record.h"
#include "sysinfo.h"

#include <getopt.h>
#include <stdio.h>

static const char usage[] =
    "Usage: parkit demo [-t T] [--reps R] [--record FILE] [--scale K]\n"
    "Runs each kernel at laptop size with 1 thread and with T threads (default: all cores),\n"
    "verifies every result, and prints Sequential | Concurrent | Speedup. Under mpirun every\n"
    "rank takes part. --scale K multiplies every size by K (default 1).\n"
    "Kernels: sumsq --range 1e9 (exact, 128-bit), sumsq --gauss 2e7 (chunks of 1e6),\n"
    "sumsq --array 2^25 (float64 in memory, 256 MiB), factsum 1000 2000 3000 4000 (the\n"
    "tutorial), factsum 3e5, fib 1e5 2e5 3e5 4e5 (the tutorial).\n\n";

/* The sizes of one demo row. */
struct demo_item {
    enum pk_sumsq_variant variant; /* sumsq rows */
    uint64_t n[4];                 /* sizes (factsum, fib: up to four N) */
    size_t count;
};

static int run_sumsq(const struct demo_item *it, const struct pk_comm *c,
                     const struct pk_common_opts *common, uint64_t scale, const json_t *sysinfo,
                     json_t **record)
{
    struct pk_sumsq_opts o = {.variant = it->variant,
                              .n = it->n[0] * scale,
                              .chunk = 1000000,
                              .seed = 42,
                              .common = *common};
    return pk_sumsq_execute(c, &o, sysinfo, record);
}

static int run_factsum(const struct demo_item *it, const struct pk_comm *c,
                       const struct pk_common_opts *common, uint64_t scale, const json_t *sysinfo,
                       json_t **record)
{
    uint64_t n[4];
    for (size_t i = 0; i < it->count; i++)
        n[i] = it->n[i] * scale;
    struct pk_factsum_opts o = {.n = n, .count = it->count, .common = *common};
    return pk_factsum_execute(c, &o, sysinfo, record);
}

static int run_fib(const struct demo_item *it, const struct pk_comm *c,
                   const struct pk_common_opts *common, uint64_t scale, const json_t *sysinfo,
                   json_t **record)
{
    uint64_t n[4];
    for (size_t i = 0; i < it->count; i++)
        n[i] = it->n[i] * scale;
    struct pk_fib_opts o = {.n = n, .count = it->count, .common = *common};
    return pk_fib_execute(c, &o, sysinfo, record);
}

struct demo_row {
    const char *label;
    const char *size;
    int (*run)(const struct demo_item *it, const struct pk_comm *c,
               const struct pk_common_opts *common, uint64_t scale, const json_t *sysinfo,
               json_t **record);
    struct demo_item item;
};

static const struct demo_row rows[] = {
    {"sumsq --range (exact int128)",
     "1e9",
     run_sumsq,
     {.variant = PK_SUMSQ_RANGE, .n = {1000000000}, .count = 1}},
    {"sumsq --gauss (GSL chunks)",
     "2e7",
     run_sumsq,
     {.variant = PK_SUMSQ_GAUSS, .n = {20000000}, .count = 1}},
    {"sumsq --array (float64, RAM)",
     "2^25",
     run_sumsq,
     {.variant = PK_SUMSQ_ARRAY, .n = {UINT64_C(1) << 25}, .count = 1}},
    {"factsum (tutorial: 4 N)",
     "1e3..4e3",
     run_factsum,
     {.n = {1000, 2000, 3000, 4000}, .count = 4}},
    {"factsum (one large N)", "3e5", run_factsum, {.n = {300000}, .count = 1}},
    {"fib (tutorial: 4 N)",
     "1e5..4e5",
     run_fib,
     {.n = {100000, 200000, 300000, 400000}, .count = 4}},
};

int pk_cmd_demo(int argc, char **argv, const struct pk_comm *c)
{
    static const struct option longopts[] = {
        {"scale", required_argument, NULL, 's'}, PK_COMMON_LONGOPTS, {NULL, 0, NULL, 0}};
    struct pk_common_opts common;
    pk_common_defaults(&common);
    common.reps = 3;
    uint64_t scale = 1;
    struct pk_err err = {0};
    opterr = 0;
    optind = 1;
    int code;
    while ((code = getopt_long(argc, argv, ":" PK_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
        int rc = pk_cli_option(c, "demo", usage, code, argv, &common);
        if (rc == PK_OPT_HELP_SHOWN)
            return PK_EXIT_OK;
        if (rc == PK_OPT_MINE) {
            /* the only option of its own: --scale */
            rc = PK_OPT_DONE;
            if (pk_parse_count("--scale", optarg, 1, 1000000, &scale, &err) != PK_OK) {
                pk_error(c, false, "demo", "%s", err.msg);
                rc = PK_EXIT_USAGE;
            }
        }
        if (rc != PK_OPT_DONE)
            return rc;
    }
    if (pk_cli_no_operands(c, "demo", argc, argv) != PK_EXIT_OK)
        return PK_EXIT_USAGE;
    json_t *sysinfo = pk_sysinfo_for_command(c, "demo", common.nthreads);
    if (c->rank == 0) {
        printf("parkit demo: 1 thread vs %d threads per rank, %d rank%s, median of %d runs "
               "after %d warm-up\n\n",
               common.nthreads, c->nranks, c->nranks > 1 ? "s" : "", common.reps, common.warmup);
        printf("%-30s %12s %12s %12s %8s  %s\n", "kernel", "size", "Sequential", "Concurrent",
               "Speedup", "verified");
        fflush(stdout);
    }
    int worst = PK_EXIT_OK;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        double median[2] = {0, 0};
        int ok[2] = {0, 0};
        for (int pass = 0; pass < 2; pass++) {
            struct pk_common_opts o = common;
            o.nthreads = pass == 0 ? 1 : common.nthreads;
            json_t *rec = NULL;
            int status = rows[i].run(&rows[i].item, c, &o, scale, sysinfo, &rec);
            if (status > worst)
                worst = status;
            if (rec) {
                json_t *tim = json_object_get(rec, "timing");
                median[pass] = json_real_value(json_object_get(tim, "median_s"));
                ok[pass] = json_is_true(json_object_get(rec, "verified"));
                if (common.record && pk_record_append(common.record, rec, &err) != PK_OK) {
                    pk_error(c, false, "demo", "%s", err.msg);
                    worst = worst > PK_EXIT_RUNTIME ? worst : PK_EXIT_RUNTIME;
                }
            }
            json_decref(rec);
        }
        if (c->rank == 0) {
            char size[32];
            if (scale == 1)
                snprintf(size, sizeof size, "%s", rows[i].size);
            else
                snprintf(size, sizeof size, "%s x%llu", rows[i].size, (unsigned long long)scale);
            printf("%-30s %12s %10.4f s %10.4f s %7.2fx  %s\n", rows[i].label, size, median[0],
                   median[1], median[1] > 0 ? median[0] / median[1] : 0.0,
                   ok[0] && ok[1]     ? "yes"
                   : common.no_verify ? "skipped"
                                      : "NO");
            fflush(stdout);
        }
    }
    json_decref(sysinfo);
    return pk_dist_agree(c, worst);
}
