/* SPDX-License-Identifier: MIT */
/* parkit factsum N [N ...]: exact left factorials !N = sum_{i<N} i!, one pass for all N.
 *
 * Ranks own cost-balanced contiguous ranges of [1, max N) and merge their (P, T) parts up a
 * binomial tree to rank 0 (GMP integers sent as bytes). Inside a rank, OpenMP tasks run the
 * binary-splitting trees of the segments between requested N, then a fold gives T(1, N) at every
 * N. Verification: OEIS values for N <= 10, and !N mod four 62-bit primes by the O(N) recurrence
 * (a different algorithm), primes spread over the ranks' threads. */
#include "bigout.h"
#include "commands.h"
#include "parkit/factsum.h"
#include "record.h"
#include "sysinfo.h"
#include "timing.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NPRIMES 4

static const char usage[] =
    "Usage: parkit factsum N [N ...] [--digits FILE] [--max-memory BYTES] [options]\n"
    "Exact left factorial !N = sum of i! for 0 <= i < N (OEIS A003422) with GMP.\n"
    "Prints per N: decimal digits, the first and last 20 digits, the value mod 2^64 and\n"
    "mod 10^9+7. N is an integer in 0..1e9.\n"
    "\n"
    "Method: binary splitting over the Horner form (P = prod k, T = sum of partial products;\n"
    "halves merge as P = P1*P2, T = T1 + P1*T2), split by cost (product bits), OpenMP tasks for\n"
    "the halves, the merge products and the pieces of one large product. Many N are ONE pass:\n"
    "[1, max N) is cut at every N, the segments run concurrently, and a fold yields every !N\n"
    "(cheaper than separate runs, which would repeat the shared prefix). Under mpirun each rank\n"
    "takes a cost-balanced range and parts merge up a tree of ranks. The decimal conversion\n"
    "(divide and conquer, parallel) is timed separately (decimal_s).\n"
    "\n"
    "Memory: about 10 bytes per bit of !N's size, i.e. 1.25 x log2((N-1)!) bytes plus 16 MiB:\n"
    "!1e6 ~ 24 MiB, !1e7 ~ 290 MiB, !1e8 ~ 3.4 GiB, !1e9 ~ 37 GiB. An N whose estimate\n"
    "exceeds the available memory (or --max-memory) is refused before starting (exit 2);\n"
    "GMP running out of memory anyway ends every rank with exit 1 and a message.\n"
    "\n"
    "  --digits FILE       write the full decimal value(s), one line per N in the order given;\n"
    "                      written to a temporary name and renamed when complete\n"
    "  --max-memory BYTES  memory limit (default: MemAvailable); also a hard cap on GMP\n"
    "  --force             skip the estimate check (the hard cap still applies)\n"
    "  --canary            corrupt the merges (T = T1 + P2*T2): verification must fail;\n"
    "                      needs a merge, i.e. any N > 129 or two N\n"
    "\n"
    "Verification: !N for N <= 10 against the OEIS values; every N mod four 62-bit primes by\n"
    "the O(N) recurrence fact = fact*i mod p, sum += fact (Montgomery arithmetic, in parallel).\n"
    "\n";

static int parse(int argc, char **argv, const struct pk_comm *c, struct pk_factsum_opts *o)
{
    static const struct option longopts[] = {{"digits", required_argument, NULL, 'd'},
                                             {"max-memory", required_argument, NULL, 'm'},
                                             {"force", no_argument, NULL, 'F'},
                                             {"canary", no_argument, NULL, 'C'},
                                             PK_COMMON_LONGOPTS,
                                             {NULL, 0, NULL, 0}};
    pk_common_defaults(&o->common);
    o->common.reps = 3;
    struct pk_err err = {0};
    opterr = 0;
    optind = 1;
    int code;
    while ((code = getopt_long(argc, argv, ":" PK_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
        int rc = PK_OK;
        switch (code) {
        case 'd':
            o->digits = optarg;
            break;
        case 'm':
            rc = pk_parse_count("--max-memory", optarg, 1, UINT64_MAX, &o->max_memory, &err);
            break;
        case 'F':
            o->force = true;
            break;
        case 'C':
            o->canary = true;
            break;
        default: {
            int handled = pk_cli_option(c, "factsum", usage, code, argv, &o->common);
            if (handled == PK_OPT_HELP_SHOWN)
                return -1;
            if (handled != PK_OPT_DONE)
                return PK_EXIT_USAGE;
        }
        }
        if (rc != PK_OK) {
            pk_error(c, false, "factsum", "%s", err.msg);
            return PK_EXIT_USAGE;
        }
    }
    return pk_cli_counts(c, "factsum", argc, argv, PK_FACTSUM_MAX_N, &o->n, &o->count);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* ---- the rank tree ------------------------------------------------------------------------ */

/* Whether the node of rank r covering 2^level ranks needs its P: as the left side of a later
 * merge it does; as a right side, only when the merged node does; the root never does. */
static bool node_needs_P(int r, int level, int nranks)
{
    long span = 1L << level;
    if (span >= nranks)
        return false;
    if (r % (2 * span) == 0)
        return r + span < nranks ? true : node_needs_P(r, level + 1, nranks);
    return node_needs_P((int)(r - span), level + 1, nranks);
}

static bool is_mark(const uint64_t *marks, size_t n, uint64_t v)
{
    return bsearch(&v, marks, n, sizeof v, cmp_u64) != NULL;
}

/* Cuts [1, nmax) into the ranks' ranges (pts has nranks + 1 entries), weighted by the work per
 * bit of each rank's part. */
static int rank_cuts(const struct pk_comm *c, uint64_t nmax, uint64_t *pts)
{
    double *weight = malloc(sizeof *weight * (size_t)c->nranks);
    if (!weight)
        return PK_ENOMEM;
    for (int r = 0; r < c->nranks; r++)
        weight[r] = node_needs_P(r, 0, c->nranks) ? PK_FACTSUM_P_WEIGHT : 1.0;
    pk_factsum_split(1, nmax, c->nranks, weight, pts);
    free(weight);
    return PK_OK;
}

/* Computes this rank's part and merges up the tree; rank 0 ends with [1, nmax). */
static int compute(const struct pk_comm *c, const uint64_t *marks, size_t nmarks, uint64_t nmax,
                   int nthreads, unsigned flags, struct pk_factsum_part *part)
{
    uint64_t *pts = malloc(sizeof *pts * ((size_t)c->nranks + 1));
    if (!pts || rank_cuts(c, nmax, pts) != PK_OK) {
        free(pts);
        return PK_ENOMEM;
    }
    unsigned my_flags = c->rank == 0 ? flags : 0;
    int rc = pk_factsum_part_compute(part, pts[c->rank], pts[c->rank + 1], marks, nmarks,
                                     node_needs_P(c->rank, 0, c->nranks), nthreads, my_flags);
    free(pts);
    for (int level = 0; (1 << level) < c->nranks; level++) {
        int span = 1 << level;
        if (c->rank % (2 * span) == span) {
            void *buf = NULL;
            size_t nb = 0;
            int rc2 = rc == PK_OK ? pk_factsum_part_pack(part, &buf, &nb) : rc;
            /* a failed rank still sends (an empty part) so its partner never waits */
            if (rc2 != PK_OK) {
                struct pk_factsum_part empty;
                pk_factsum_part_compute(&empty, 1, 1, NULL, 0, true, 1, 0);
                pk_factsum_part_pack(&empty, &buf, &nb);
                pk_factsum_part_free(&empty);
                rc = rc2;
            }
            int rc3 = pk_dist_send_bytes(c, c->rank - span, buf, nb);
            free(buf);
            pk_factsum_part_free(part);
            return rc != PK_OK ? rc : rc3;
        }
        if (c->rank % (2 * span) == 0 && c->rank + span < c->nranks) {
            void *buf = NULL;
            size_t nb = 0;
            struct pk_factsum_part right;
            int rc2 = pk_dist_recv_bytes(c, c->rank + span, &buf, &nb);
            if (rc2 == PK_OK)
                rc2 = pk_factsum_part_unpack(&right, buf, nb);
            free(buf);
            if (rc2 == PK_OK && rc == PK_OK)
                rc2 = pk_factsum_part_merge(part, &right, is_mark(marks, nmarks, right.lo),
                                            node_needs_P(c->rank, level + 1, c->nranks), nthreads);
            else if (rc2 == PK_OK)
                pk_factsum_part_free(&right);
            if (rc == PK_OK)
                rc = rc2;
        }
    }
    return rc;
}

/* !n from rank 0's final part. */
static void left_factorial(mpz_t out, const struct pk_factsum_part *part, uint64_t n)
{
    if (n == 0) {
        mpz_set_ui(out, 0);
        return;
    }
    if (n == 1 || part->hi <= 1) {
        mpz_set_ui(out, 1);
        return;
    }
    if (n == part->hi) {
        mpz_add_ui(out, part->T, 1);
        return;
    }
    for (size_t i = 0; i < part->nmarks; i++) {
        if (part->mark[i] == n) {
            mpz_add_ui(out, part->mark_T[i], 1);
            return;
        }
    }
    mpz_set_ui(out, 0); /* unreachable: every requested n is a mark or the end */
}

/* ---- GMP out of memory ---------------------------------------------------------------------- */

/* GMP calls this from any thread when an allocation fails or passes the cap; it must not return
 * (GMP's rule), so it ends the job: every rank exits 1. File-static because GMP's allocation
 * hooks take no context pointer. */
static const struct pk_comm *oom_comm;
static uint64_t oom_limit;

static void gmp_out_of_memory(size_t requested)
{
    char msg[256], who[32] = "";
    if (oom_comm && oom_comm->nranks > 1)
        snprintf(who, sizeof who, "[rank %d] ", oom_comm->rank);
    int len = snprintf(msg, sizeof msg,
                       "%sparkit factsum: error: out of memory in GMP (%zu more bytes "
                       "requested%s%.0f)\n",
                       who, requested, oom_limit ? ", --max-memory " : "",
                       oom_limit ? (double)oom_limit : 0.0);
    if (len > 0)
        (void)!write(2, msg, (size_t)len < sizeof msg ? (size_t)len : sizeof msg - 1);
    pk_dist_abort(oom_comm, PK_EXIT_RUNTIME);
    _exit(PK_EXIT_RUNTIME);
}

/* ---- run ----------------------------------------------------------------------------------- */

static const uint64_t oeis[] = {0, 1, 2, 4, 10, 34, 154, 874, 5914, 46234, 409114};

int pk_cmd_factsum(int argc, char **argv, const struct pk_comm *c)
{
    struct pk_factsum_opts o = {0};
    int status = parse(argc, argv, c, &o);
    if (status == PK_EXIT_OK) {
        json_t *sysinfo = pk_sysinfo_for_command(c, "factsum", o.common.nthreads);
        status = pk_factsum_execute(c, &o, sysinfo, NULL);
        json_decref(sysinfo);
    }
    free(o.n);
    return status < 0 ? PK_EXIT_OK : status;
}

int pk_factsum_execute(const struct pk_comm *c, const struct pk_factsum_opts *opts,
                       const json_t *sysinfo, json_t **record)
{
    const struct pk_factsum_opts o = *opts;
    int status = PK_EXIT_OK;
    size_t count = o.count;
    uint64_t *sorted = malloc(sizeof *sorted * count);
    double *rep_s = calloc((size_t)o.common.reps, sizeof *rep_s);
    mpz_t *value = malloc(sizeof(mpz_t) * count);
    if (!sorted || !rep_s || !value) {
        pk_error(c, true, "factsum", "out of memory");
        free(sorted);
        free(rep_s);
        free(value);
        /* the same collectives as the other ranks: the agree after set-up, then the last one */
        pk_dist_agree(c, PK_EXIT_RUNTIME);
        return pk_dist_agree(c, PK_EXIT_RUNTIME);
    }
    memcpy(sorted, o.n, sizeof *sorted * count);
    qsort(sorted, count, sizeof *sorted, cmp_u64);
    uint64_t nmax = sorted[count - 1];
    /* marks: distinct N >= 2 (N = 0, 1 need no work) */
    size_t nmarks = 0;
    for (size_t i = 0; i < count; i++)
        if (sorted[i] >= 2 && (nmarks == 0 || sorted[nmarks - 1] != sorted[i]))
            sorted[nmarks++] = sorted[i];

    uint64_t estimate = pk_factsum_memory_estimate(nmax);
    if (c->rank == 0) {
        uint64_t limit = o.max_memory;
        if (!limit)
            limit = (uint64_t)json_integer_value(json_object_get(sysinfo, "mem_available_bytes"));
        if (limit && estimate > limit && !o.force) {
            pk_error(c, false, "factsum",
                     "!%llu needs about %.3g GB (estimate), more than the %.3g GB %s; "
                     "give a smaller N, more memory, or --force",
                     (unsigned long long)nmax, estimate * 1e-9, limit * 1e-9,
                     o.max_memory ? "allowed by --max-memory" : "available");
            status = PK_EXIT_USAGE;
        }
    }
    if (o.canary && status == PK_EXIT_OK) {
        /* The canary corrupts rank 0's merges; without one it would prove nothing. */
        uint64_t *pts = malloc(sizeof *pts * ((size_t)c->nranks + 1));
        if (pts && rank_cuts(c, nmax, pts) == PK_OK) {
            bool marks_inside = nmarks > 0 && sorted[0] < pts[1];
            if (pts[1] - 1 <= PK_FACTSUM_LEAF && !marks_inside) {
                pk_error(c, false, "factsum",
                         "--canary needs a merge on rank 0: give a larger N or more N");
                status = PK_EXIT_USAGE;
            }
        }
        free(pts);
    }
    status = pk_dist_agree(c, status);
    oom_comm = c;
    oom_limit = o.max_memory;
    pk_gmp_guard_install(o.max_memory, gmp_out_of_memory);

    struct pk_factsum_part part = {0};
    unsigned flags = o.canary ? PK_FACTSUM_CANARY : 0;
    for (int i = -o.common.warmup; i < o.common.reps && status == PK_EXIT_OK; i++) {
        pk_factsum_part_free(&part);
        pk_dist_barrier(c);
        double t0 = pk_now_s();
        int rc = compute(c, sorted, nmarks, nmax, o.common.nthreads, flags, &part);
        double dt = pk_dist_max_double(c, pk_now_s() - t0);
        if (i >= 0)
            rep_s[i] = dt;
        if (rc != PK_OK)
            pk_error(c, true, "factsum", "computation failed: %s", pk_strerror(rc));
        status = pk_dist_agree(c, rc == PK_OK ? PK_EXIT_OK : PK_EXIT_RUNTIME);
    }
    for (size_t i = 0; i < count; i++) {
        mpz_init(value[i]);
        if (status == PK_EXIT_OK && c->rank == 0)
            left_factorial(value[i], &part, o.n[i]);
    }
    pk_factsum_part_free(&part);

    /* Verification: residues computed by all ranks (primes spread over them), checked on 0. */
    bool verified = false;
    json_t *vjson = json_object();
    uint64_t primes[NPRIMES];
    uint64_t *res = calloc(count * NPRIMES, sizeof *res);
    if (status == PK_EXIT_OK && !o.common.no_verify) {
        pk_oracle_primes(primes, NPRIMES);
        /* This rank's primes in one call: one prime per thread, the others' slots stay 0 for
         * the sum over ranks. */
        uint64_t mine[NPRIMES];
        size_t nmine = 0;
        for (int j = c->rank; j < NPRIMES; j += c->nranks)
            mine[nmine++] = primes[j];
        uint64_t *got = calloc(count * NPRIMES, sizeof *got);
        int rc = res && got ? PK_OK : PK_ENOMEM;
        if (rc == PK_OK && nmine > 0)
            rc = pk_factsum_mod(o.n, count, mine, nmine, o.common.nthreads, got);
        for (size_t k = 0; rc == PK_OK && k < nmine; k++)
            memcpy(res + (size_t)(c->rank + (int)k * c->nranks) * count, got + k * count,
                   sizeof *got * count);
        free(got);
        if (rc == PK_OK)
            rc = pk_dist_sum_u64(c, res, count * NPRIMES);
        if (rc == PK_OK && c->rank == 0) {
            verified = true;
            size_t nbad = 0;
            for (size_t i = 0; i < count; i++) {
                for (int j = 0; j < NPRIMES; j++)
                    if (mpz_fdiv_ui(value[i], primes[j]) != res[(size_t)j * count + i])
                        nbad++;
                if (o.n[i] <= 10 && mpz_cmp_ui(value[i], oeis[o.n[i]]) != 0)
                    nbad++;
            }
            verified = nbad == 0;
            json_t *pj = json_array();
            for (int j = 0; j < NPRIMES; j++) {
                char buf[24];
                snprintf(buf, sizeof buf, "%llu", (unsigned long long)primes[j]);
                json_array_append_new(pj, json_string(buf));
            }
            json_object_set_new(vjson, "method",
                                json_string("OEIS A003422 for N <= 10; !N mod 4 primes near 2^62 "
                                            "by the O(N) recurrence"));
            json_object_set_new(vjson, "primes", pj);
            json_object_set_new(vjson, "mismatches", json_integer((json_int_t)nbad));
        }
        if (rc != PK_OK)
            pk_error(c, true, "factsum", "verification could not run: %s", pk_strerror(rc));
        status = pk_dist_agree(c, rc != PK_OK                ? PK_EXIT_RUNTIME
                                  : c->rank != 0 || verified ? PK_EXIT_OK
                                                             : PK_EXIT_VERIFY);
    }

    if (c->rank == 0 && (status == PK_EXIT_OK || status == PK_EXIT_VERIFY)) {
        struct pk_big_run run = {
            .command = "factsum",
            .n = o.n,
            .count = count,
            .value = value,
            .common = &o.common,
            .digits_path = o.digits,
            .nranks = c->nranks,
            .verified = verified,
            .canary = o.canary,
            .method = "one pass: segments between the N, binary splitting, rank tree",
            .verification = vjson,
            .extra = json_pack("{s:{s:I, s:I}}", "memory", "estimate_bytes", (json_int_t)estimate,
                               "gmp_peak_bytes", (json_int_t)pk_gmp_guard_peak()),
            .rep_s = rep_s,
            .sysinfo = sysinfo,
            .record_out = record,
        };
        vjson = NULL;
        int rc = pk_big_report(c, &run);
        if (rc != PK_EXIT_OK)
            status = rc;
        if (status == PK_EXIT_VERIFY && !record)
            pk_error(c, false, "factsum", "verification failed");
    }
    json_decref(vjson);
    for (size_t i = 0; i < count; i++)
        mpz_clear(value[i]);
    free(value);
    free(res);
    free(rep_s);
    free(sorted);
    return pk_dist_agree(c, status);
}
