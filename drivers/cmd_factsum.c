/* SPDX-License-Identifier: MIT */
/* parkit factsum N [N ...]: exact left factorials !N = sum_{i<N} i!, one pass for all N.
 *
 * Ranks own cost-balanced contiguous ranges of [1, max N) and merge their (P, T) parts up a
 * binomial tree to rank 0 (GMP integers sent as bytes). Inside a rank, OpenMP tasks run the
 * binary-splitting trees of the segments between requested N, then a fold gives T(1, N) at every
 * N. Verification: OEIS values for N <= 10, and !N mod four 62-bit primes by the O(N) recurrence
 * (a different algorithm), primes spread over the ranks' threads; bigout checks each decimal
 * text against its value. */
#include "bigout.h"
#include "commands.h"
#include "emit.h"
#include "memcheck.h"
#include "opt.h"
#include "parkit/factsum.h"
#include "record.h"
#include "sysinfo.h"
#include "timing.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NPRIMES 4

static const char description[] =
    "Prints per N: decimal digits, the first and last 20 digits, the value mod 2^64 and\n"
    "mod 10^9+7. N is an integer in 0..1e9.\n"
    "\n"
    "Method: binary splitting over the Horner form (P = prod k, T = sum of partial products;\n"
    "halves merge as P = P1*P2, T = T1 + P1*T2), split by cost (product bits), OpenMP tasks for\n"
    "the halves, the merge products and the pieces of one large product. Many N are ONE pass:\n"
    "[1, max N) is cut at every N, the segments run concurrently, and a fold yields every !N\n"
    "(cheaper than separate runs, which would repeat the shared prefix). Under mpirun each rank\n"
    "takes a cost-balanced range and parts merge up a tree of ranks. The decimal output is\n"
    "timed separately (decimal_s): the digit count and edges from one power of five and a\n"
    "short division; the whole value (divide and conquer, parallel) only for --digits.\n"
    "\n"
    "Memory: about 10 bytes per bit of !N's size, i.e. 1.25 x log2((N-1)!) bytes plus 16 MiB:\n"
    "!1e6 ~ 24 MiB, !1e7 ~ 290 MiB, !1e8 ~ 3.4 GiB, !1e9 ~ 37 GiB, and every other N's value\n"
    "kept to the end. A request whose estimate exceeds the memory it may use (the smallest of\n"
    "MemAvailable, the memory cgroup's limit and ulimit -v; or --max-memory) is refused\n"
    "before starting (exit 2); GMP running out of memory anyway ends every rank with exit 1.\n"
    "\n"
    "Verification: !N for N <= 10 against the OEIS values; every N mod four 62-bit primes by\n"
    "the O(N) recurrence fact = fact*i mod p, sum += fact (Montgomery arithmetic, in parallel);\n"
    "the digits printed against the value (first * 10^k <= !N < (first + 1) * 10^k, 5^k checked\n"
    "mod the same primes; the last digits from !N mod 2^20 and mod 5^20); the --digits text\n"
    "against its value mod the same primes.\n";

static int parse(int argc, char **argv, const struct pk_comm *c, struct pk_factsum_opts *o)
{
    *o = (struct pk_factsum_opts){0};
    struct pk_count_list n = {0};
    const struct pk_opt table[] = {
        {"digits", 0, PK_OPT_PATH, &o->digits, "FILE",
         "write the full decimal value(s), one line per N in the order given;\n"
         "written to a temporary name and renamed when complete (a device or\n"
         "FIFO such as /dev/stdout is written in place)",
         .check = pk_opt_output_file},
        {"max-memory", 0, PK_OPT_SIZE, &o->max_memory, "BYTES",
         "memory limit (default: the smallest of MemAvailable, the memory\n"
         "cgroup's limit and ulimit -v); also a hard cap on GMP",
         .min = 1},
        {"force", 0, PK_OPT_FLAG, &o->force, NULL,
         "skip the estimate check (the hard cap still applies)"},
        {"canary", 0, PK_OPT_FLAG, &o->canary, NULL,
         "corrupt the merges (T = T1 + P2*T2): verification must fail;\n"
         "needs a merge, i.e. any N > 129 or two N"},
        {NULL},
    };
    const struct pk_cmd_spec spec = {
        .name = "factsum",
        .synopsis = "N [N ...] [--digits FILE] [--max-memory BYTES] [options]",
        .summary = "Exact left factorial !N = sum of i! for 0 <= i < N (OEIS A003422) with GMP.",
        .description = description,
        .opts = table,
        .shared = PK_SHARED_ALL,
        .formats = PK_FORMATS_CSV,
        .reps_default = 3,
        .reps_cut = true,
        .operands = "at least one N",
        .min_operands = 1,
        .counts = &n,
        .counts_max = PK_FACTSUM_MAX_N,
    };
    int status = pk_opts_parse(&spec, c, argc, argv, &o->common, NULL);
    o->n = n.v;
    o->count = n.n;
    if (status == PK_EXIT_OK)
        status = pk_cli_distinct(c, "factsum", "--digits", o->digits, "--record", o->common.record);
    return status;
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

/* ---- one run: plan, time, verify, record ------------------------------------------------ */

static const uint64_t oeis[] = {0, 1, 2, 4, 10, 34, 154, 874, 5914, 46234, 409114};

struct run {
    const struct pk_comm *c;
    const struct pk_factsum_opts *o;
    uint64_t *marks; /* the distinct N >= 2, ascending (N = 0, 1 need no work) */
    size_t nmarks;
    uint64_t nmax, estimate; /* the largest N; the memory it needs */
    double *rep_s;
    struct pk_reps reps;
    mpz_t *value; /* !n[i] on rank 0, count of them (all initialised) */
    bool verified;
    json_t *vjson; /* how it was verified */
};

/* Allocates the run's arrays. Returns a local exit status. */
static int alloc_run(struct run *r)
{
    size_t count = r->o->count;
    r->marks = malloc(sizeof *r->marks * count);
    r->rep_s = calloc((size_t)r->o->common.reps, sizeof *r->rep_s);
    r->value = malloc(sizeof(mpz_t) * count);
    r->vjson = json_object();
    if (!r->marks || !r->rep_s || !r->value || !r->vjson) {
        free(r->value);
        r->value = NULL;
        pk_error(r->c, true, "factsum", "out of memory");
        return PK_EXIT_RUNTIME;
    }
    for (size_t i = 0; i < count; i++)
        mpz_init(r->value[i]);
    return PK_EXIT_OK;
}

static void free_run(struct run *r)
{
    for (size_t i = 0; r->value && i < r->o->count; i++)
        mpz_clear(r->value[i]);
    free(r->value);
    free(r->rep_s);
    free(r->marks);
    json_decref(r->vjson);
}

/* Whether --canary can show anything: the canary corrupts rank 0's merges, so rank 0 needs one. */
static bool canary_has_merge(const struct run *r)
{
    uint64_t *pts = malloc(sizeof *pts * ((size_t)r->c->nranks + 1));
    bool ok = true;
    if (pts && rank_cuts(r->c, r->nmax, pts) == PK_OK) {
        bool marks_inside = r->nmarks > 0 && r->marks[0] < pts[1];
        ok = pts[1] - 1 > PK_FACTSUM_LEAF || marks_inside;
    }
    free(pts);
    return ok;
}

/* The marks, the largest N and the checks made before any work: the memory estimate for every
 * N (rank 0, against the memory budget or --max-memory) and the canary. Returns a local status. */
static int plan(struct run *r)
{
    const struct pk_factsum_opts *o = r->o;
    memcpy(r->marks, o->n, sizeof *r->marks * o->count);
    qsort(r->marks, o->count, sizeof *r->marks, cmp_u64);
    r->nmax = r->marks[o->count - 1];
    for (size_t i = 0; i < o->count; i++)
        if (r->marks[i] >= 2 && (r->nmarks == 0 || r->marks[r->nmarks - 1] != r->marks[i]))
            r->marks[r->nmarks++] = r->marks[i];
    r->estimate = pk_factsum_memory_estimate_marks(r->marks, r->nmarks ? r->nmarks : 1);
    char what[64];
    if (r->nmarks > 1)
        snprintf(what, sizeof what, "!N for %zu N up to %llu", r->nmarks,
                 (unsigned long long)r->nmax);
    else
        snprintf(what, sizeof what, "!%llu", (unsigned long long)r->nmax);
    if (!o->force &&
        pk_mem_check(r->c, "factsum", what, r->estimate, o->max_memory,
                     "give a smaller N, fewer N, more memory, or --force") != PK_EXIT_OK)
        return PK_EXIT_USAGE;
    if (o->canary && !canary_has_merge(r)) {
        pk_error(r->c, false, "factsum",
                 "--canary needs a merge on rank 0: give a larger N or more N");
        return PK_EXIT_USAGE;
    }
    return PK_EXIT_OK;
}

/* Warm-up and timed repetitions of the whole computation; rank 0 then reads every !N off its
 * final part. Collective; returns the agreed status. */
static int time_runs(struct run *r)
{
    const struct pk_common_opts *co = &r->o->common;
    const struct pk_comm *c = r->c;
    struct pk_factsum_part part = {0};
    unsigned flags = r->o->canary ? PK_FACTSUM_CANARY : 0;
    int status = PK_EXIT_OK;
    pk_reps_start(&r->reps, c, "factsum", co, r->rep_s);
    while (pk_reps_more(&r->reps) && status == PK_EXIT_OK) {
        pk_factsum_part_free(&part);
        pk_dist_barrier(c);
        double t0 = pk_now_s();
        int rc = compute(c, r->marks, r->nmarks, r->nmax, co->nthreads, flags, &part);
        pk_reps_took(&r->reps, pk_dist_max_double(c, pk_now_s() - t0));
        if (rc != PK_OK)
            pk_error(c, true, "factsum", "computation failed: %s", pk_strerror(rc));
        status = pk_dist_agree(c, rc == PK_OK ? PK_EXIT_OK : PK_EXIT_RUNTIME);
    }
    for (size_t i = 0; status == PK_EXIT_OK && c->rank == 0 && i < r->o->count; i++)
        left_factorial(r->value[i], &part, r->o->n[i]);
    pk_factsum_part_free(&part);
    return status;
}

/* res[j * count + i] = !n[i] mod primes[j], each rank doing its share of the primes (one per
 * thread) into got, and the shares summed over ranks (the other slots stay 0). Collective. */
static int residues(const struct run *r, const uint64_t *primes, uint64_t *res, uint64_t *got)
{
    const struct pk_comm *c = r->c;
    size_t count = r->o->count;
    uint64_t mine[NPRIMES];
    size_t nmine = 0;
    for (int j = c->rank; j < NPRIMES; j += c->nranks)
        mine[nmine++] = primes[j];
    int rc = PK_OK;
    if (nmine > 0)
        rc = pk_factsum_mod(r->o->n, count, mine, nmine, r->o->common.nthreads, got);
    for (size_t k = 0; rc == PK_OK && k < nmine; k++)
        memcpy(res + (size_t)(c->rank + (int)k * c->nranks) * count, got + k * count,
               sizeof *got * count);
    /* The sum is collective: every rank takes part even after a local failure. */
    int rc2 = pk_dist_sum_u64(c, res, count * NPRIMES);
    return rc != PK_OK ? rc : rc2;
}

/* Rank 0: every value against its residues and, for N <= 10, against OEIS. */
static void check_values(struct run *r, const uint64_t *primes, const uint64_t *res)
{
    size_t count = r->o->count, nbad = 0;
    for (size_t i = 0; i < count; i++) {
        for (int j = 0; j < NPRIMES; j++)
            if (mpz_fdiv_ui(r->value[i], primes[j]) != res[(size_t)j * count + i])
                nbad++;
        if (r->o->n[i] <= 10 && mpz_cmp_ui(r->value[i], oeis[r->o->n[i]]) != 0)
            nbad++;
    }
    r->verified = nbad == 0;
    json_t *pj = json_array();
    for (int j = 0; j < NPRIMES; j++) {
        char buf[24];
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)primes[j]);
        json_array_append_new(pj, json_string(buf));
    }
    json_object_set_new(r->vjson, "method",
                        json_string("OEIS A003422 for N <= 10; !N mod 4 primes near 2^62 "
                                    "by the O(N) recurrence"));
    json_object_set_new(r->vjson, "primes", pj);
    json_object_set_new(r->vjson, "mismatches", json_integer((json_int_t)nbad));
}

/* Residues computed by all ranks, checked on rank 0. Collective; returns the agreed status. */
static int verify(struct run *r)
{
    size_t n = r->o->count * NPRIMES;
    uint64_t primes[NPRIMES];
    pk_oracle_primes(primes, NPRIMES);
    uint64_t *res = calloc(n, sizeof *res), *got = calloc(n, sizeof *got);
    int rc = res && got ? PK_OK : PK_ENOMEM;
    /* agreed before the collective sum, so no rank waits for one that has no buffers */
    if (pk_dist_agree(r->c, rc == PK_OK ? PK_EXIT_OK : PK_EXIT_RUNTIME) != PK_EXIT_OK)
        rc = PK_ENOMEM;
    else
        rc = residues(r, primes, res, got);
    if (rc == PK_OK && r->c->rank == 0)
        check_values(r, primes, res);
    free(res);
    free(got);
    if (rc != PK_OK)
        pk_error(r->c, true, "factsum", "verification could not run: %s", pk_strerror(rc));
    return pk_dist_agree(r->c, rc != PK_OK                      ? PK_EXIT_RUNTIME
                               : r->c->rank != 0 || r->verified ? PK_EXIT_OK
                                                                : PK_EXIT_VERIFY);
}

/* Rank 0: decimal conversion, --digits and the record. */
static int build_record(struct run *r, const json_t *sysinfo, json_t **rec)
{
    const struct pk_factsum_opts *o = r->o;
    struct pk_big_run big = {
        .command = "factsum",
        .method = "one pass: segments between the N, binary splitting, rank tree",
        .n = o->n,
        .count = o->count,
        .value = r->value,
        .common = &o->common,
        .digits_path = o->digits,
        .nranks = r->c->nranks,
        .verified = r->verified,
        .canary = o->canary,
        .verification = r->vjson,
        /* flint: what FLINT's FFT multiplication did for rank 0's large products (used, not
         * needed, unavailable: GMP's then). Asking does not load it: that alone cost a small
         * run 8 ms (factsum 10: 26 ms against fib 10's 18). */
        .extra = json_pack("{s:{s:I, s:I}, s:s}", "memory", "estimate_bytes",
                           (json_int_t)r->estimate, "gmp_peak_bytes",
                           (json_int_t)pk_gmp_guard_peak(), "flint", pk_factsum_flint_use()),
        .reps = &r->reps,
        .sysinfo = sysinfo,
    };
    r->vjson = NULL; /* the record took it */
    return pk_big_record(r->c, &big, rec);
}

/* The whole run: rank 0 gets *rec for a finished run (verified or not); writes --digits when
 * o->digits is set. Collective; returns the agreed status. */
static int factsum_run(const struct pk_comm *c, const struct pk_factsum_opts *o,
                       const json_t *sysinfo, json_t **rec)
{
    *rec = NULL;
    struct run r = {.c = c, .o = o};
    int status = alloc_run(&r);
    if (status == PK_EXIT_OK)
        status = plan(&r);
    status = pk_dist_agree(c, status);
    pk_gmp_guard_for(c, "factsum", o->max_memory);
    if (status == PK_EXIT_OK)
        status = time_runs(&r);
    if (status == PK_EXIT_OK && !o->common.no_verify)
        status = verify(&r);
    if (c->rank == 0 && (status == PK_EXIT_OK || status == PK_EXIT_VERIFY)) {
        int rc = build_record(&r, sysinfo, rec);
        if (rc != PK_EXIT_OK)
            status = rc;
    }
    free_run(&r);
    return pk_dist_agree(c, status);
}

int pk_factsum_execute(const struct pk_comm *c, const struct pk_factsum_opts *opts,
                       const json_t *sysinfo, json_t **record)
{
    if (record) {
        /* handed over: nothing printed, appended or written */
        struct pk_factsum_opts quiet = *opts;
        quiet.digits = NULL;
        return factsum_run(c, &quiet, sysinfo, record);
    }
    json_t *rec;
    int status = factsum_run(c, opts, sysinfo, &rec);
    return pk_emit(c, "factsum", &opts->common, &pk_big_view, NULL, rec, status);
}

int pk_cmd_factsum(int argc, char **argv, const struct pk_comm *c)
{
    struct pk_factsum_opts o;
    int status = parse(argc, argv, c, &o);
    if (status != PK_EXIT_OK) {
        free(o.n);
        return pk_opts_exit(status);
    }
    json_t *sysinfo = pk_sysinfo_for_command(c, "factsum", o.common.nthreads);
    status = pk_factsum_execute(c, &o, sysinfo, NULL);
    json_decref(sysinfo);
    free(o.n);
    return status;
}
