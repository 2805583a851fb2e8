/* SPDX-License-Identifier: MIT */
/* parkit fib N [N ...]: exact Fibonacci numbers (GMP's mpz_fib2_ui), many N spread over ranks
 * (largest first, round robin) and, inside a rank, over threads: the tutorials' executor.map.
 * Verification on each rank: Cassini's identity on the big values mod four 62-bit primes, and
 * F(N) mod each prime by a 2x2 matrix power, which shares nothing with GMP's algorithm. */
#include "bigout.h"
#include "commands.h"
#include "emit.h"
#include "memcheck.h"
#include "opt.h"
#include "parkit/factsum.h"
#include "parkit/fib.h"
#include "record.h"
#include "sysinfo.h"
#include "timing.h"

#include <stdlib.h>
#include <string.h>

#define NPRIMES 4

static const char description[] =
    "Prints per N: decimal digits, first and last 20 digits, the value mod 2^64 and mod\n"
    "10^9+7 (the tutorial prints the last 10 digits of F(100000) .. F(400000): parkit fib 1e5\n"
    "2e5 3e5 4e5). N is an integer in 0..1e9.\n"
    "Many N are spread over ranks (largest first, round robin) and over each rank's threads\n"
    "(dynamic schedule, largest first); every value is computed by one thread.\n"
    "Memory: F(N) has about 0.694 N bits; a run needs about N/2 bytes per value plus 16 MiB,\n"
    "and is refused (exit 2) when that exceeds the available memory.\n"
    "\n"
    "Verification: Cassini's identity F(N-1)F(N+1) - F(N)^2 = (-1)^N on the exact values mod\n"
    "four primes near 2^62, and F(N) mod each prime by a 2x2 matrix power; the digits printed\n"
    "against the value (first * 10^k <= F(N) < (first + 1) * 10^k, 5^k checked mod the same\n"
    "primes; the last digits from F(N) mod 2^20 and mod 5^20); the --digits text against its\n"
    "value mod the same primes.\n";

static int parse(int argc, char **argv, const struct pk_comm *c, struct pk_fib_opts *o)
{
    *o = (struct pk_fib_opts){0};
    struct pk_count_list n = {0};
    const struct pk_opt table[] = {
        {"digits", 0, PK_OPT_PATH, &o->digits, "FILE",
         "write the full decimal values, one line per N in the order given\n"
         "(temporary name, renamed when complete; a device or FIFO in place)",
         .check = pk_opt_output_file},
        {"canary", 0, PK_OPT_FLAG, &o->canary, NULL,
         "corrupt the first value (F(N) + 1): verification must fail"},
        {NULL},
    };
    const struct pk_cmd_spec spec = {
        .name = "fib",
        .synopsis = "N [N ...] [--digits FILE] [options]",
        .summary = "Exact Fibonacci numbers F(N) with GMP (F(0) = 0, F(1) = 1).",
        .description = description,
        .opts = table,
        .shared = PK_SHARED_ALL,
        .formats = PK_FORMATS_CSV,
        .reps_default = 3,
        .reps_cut = true,
        .operands = "at least one N",
        .min_operands = 1,
        .counts = &n,
        .counts_max = PK_FIB_MAX_N,
    };
    int status = pk_opts_parse(&spec, c, argc, argv, &o->common, NULL);
    o->n = n.v;
    o->count = n.n;
    if (status == PK_EXIT_OK)
        status = pk_cli_distinct(c, "fib", "--digits", o->digits, "--record", o->common.record);
    return status;
}

/* Rank owning value i: by descending N, dealt round robin, so ranks get similar work. */
static int *owners(const uint64_t *n, size_t count, int nranks)
{
    int *owner = malloc(sizeof *owner * count);
    size_t *idx = malloc(sizeof *idx * count);
    if (!owner || !idx) {
        free(owner);
        free(idx);
        return NULL;
    }
    for (size_t i = 0; i < count; i++)
        idx[i] = i;
    for (size_t i = 1; i < count; i++) /* insertion sort: counts are small */
        for (size_t j = i; j > 0 && n[idx[j - 1]] < n[idx[j]]; j--) {
            size_t t = idx[j];
            idx[j] = idx[j - 1];
            idx[j - 1] = t;
        }
    for (size_t k = 0; k < count; k++)
        owner[idx[k]] = (int)(k % (size_t)nranks);
    free(idx);
    return owner;
}

/* Rank 0 collects every value it does not own, in index order (no deadlock: each send has its
 * receive at the same position of the same loop). */
static int gather_values(const struct pk_comm *c, mpz_t *value, const int *owner, size_t count)
{
    int status = PK_OK;
    for (size_t i = 0; i < count; i++) {
        if (owner[i] == 0)
            continue;
        if (c->rank == owner[i]) {
            size_t nb = (mpz_sizeinbase(value[i], 2) + 7) / 8;
            void *buf = malloc(nb ? nb : 1);
            int rc = buf ? PK_OK : PK_ENOMEM;
            if (buf && mpz_sgn(value[i]))
                mpz_export(buf, &nb, -1, 1, 0, 0, value[i]);
            else
                nb = 0;
            rc = pk_dist_send_bytes(c, 0, buf, nb);
            free(buf);
            if (status == PK_OK)
                status = rc;
        } else if (c->rank == 0) {
            void *buf = NULL;
            size_t nb = 0;
            int rc = pk_dist_recv_bytes(c, owner[i], &buf, &nb);
            if (rc == PK_OK)
                mpz_import(value[i], nb, -1, 1, 0, 0, buf);
            free(buf);
            if (status == PK_OK)
                status = rc;
        }
    }
    return status;
}

/* ---- one run: plan, time, verify, collect, record ---------------------------------------- */

struct run {
    const struct pk_comm *c;
    const struct pk_fib_opts *o;
    int *owner;     /* the rank computing value i */
    uint64_t *mine; /* this rank's N ... */
    size_t *where;  /* ... their indices ... */
    size_t nmine;   /* ... and how many */
    mpz_t *mv, *mp; /* this rank's F(N) and F(N-1), nmine each (all initialised) */
    mpz_t *value;   /* F(n[i]), count of them (all initialised); complete on rank 0 at the end */
    double *rep_s;
    struct pk_reps reps;
    bool verified;
    json_t *vjson; /* how it was verified */
};

/* The memory estimate for every N against the memory budget (rank 0): F(N) has 0.694 N bits;
 * the doubling steps, the decimal string and the digits file's buffer take about 6 times that
 * per N, all kept to the end. Returns a local exit status. */
static int plan(const struct run *r)
{
    uint64_t estimate = UINT64_C(16) << 20;
    for (size_t i = 0; i < r->o->count; i++)
        estimate += r->o->n[i] / 2;
    char what[64];
    if (r->o->count > 1)
        snprintf(what, sizeof what, "F(N) for %zu N", r->o->count);
    else
        snprintf(what, sizeof what, "F(%llu)", (unsigned long long)r->o->n[0]);
    return pk_mem_check(r->c, "fib", what, estimate, 0, "give smaller or fewer N, or more memory");
}

static mpz_t *mpz_array(size_t n)
{
    mpz_t *a = malloc(sizeof(mpz_t) * (n ? n : 1));
    for (size_t i = 0; a && i < n; i++)
        mpz_init(a[i]);
    return a;
}

/* a may be NULL; otherwise all n are initialised (mpz_array). */
static void mpz_array_free(mpz_t *a, size_t n)
{
    for (size_t i = 0; a && i < n; i++)
        mpz_clear(a[i]);
    free(a);
}

/* Deals the N over the ranks and allocates this rank's share. Returns a local exit status. */
static int alloc_run(struct run *r)
{
    size_t count = r->o->count;
    r->owner = owners(r->o->n, count, r->c->nranks);
    r->mine = malloc(sizeof *r->mine * count);
    r->where = malloc(sizeof *r->where * count);
    r->rep_s = calloc((size_t)r->o->common.reps, sizeof *r->rep_s);
    r->vjson = json_object();
    if (!r->owner || !r->mine || !r->where || !r->rep_s || !r->vjson) {
        pk_error(r->c, true, "fib", "out of memory");
        return PK_EXIT_RUNTIME;
    }
    for (size_t i = 0; i < count; i++) {
        if (r->owner[i] == r->c->rank) {
            r->where[r->nmine] = i;
            r->mine[r->nmine++] = r->o->n[i];
        }
    }
    r->value = mpz_array(count);
    r->mv = r->value ? mpz_array(r->nmine) : NULL;
    r->mp = r->mv ? mpz_array(r->nmine) : NULL;
    if (!r->mp) {
        pk_error(r->c, true, "fib", "out of memory");
        return PK_EXIT_RUNTIME;
    }
    return PK_EXIT_OK;
}

static void free_run(struct run *r)
{
    mpz_array_free(r->mp, r->nmine);
    mpz_array_free(r->mv, r->nmine);
    mpz_array_free(r->value, r->o->count);
    free(r->owner);
    free(r->mine);
    free(r->where);
    free(r->rep_s);
    json_decref(r->vjson);
}

/* Warm-up and timed repetitions; then the canary's corruption. Collective; agreed status. */
static int time_runs(struct run *r)
{
    const struct pk_common_opts *co = &r->o->common;
    int status = PK_EXIT_OK;
    pk_reps_start(&r->reps, r->c, "fib", co, r->rep_s);
    while (pk_reps_more(&r->reps) && status == PK_EXIT_OK) {
        pk_dist_barrier(r->c);
        double t0 = pk_now_s();
        int rc = pk_fib_many(r->mv, r->mp, r->mine, r->nmine, co->nthreads);
        pk_reps_took(&r->reps, pk_dist_max_double(r->c, pk_now_s() - t0));
        if (rc != PK_OK)
            pk_error(r->c, true, "fib", "computation failed: %s", pk_strerror(rc));
        status = pk_dist_agree(r->c, rc == PK_OK ? PK_EXIT_OK : PK_EXIT_RUNTIME);
    }
    for (size_t k = 0; status == PK_EXIT_OK && r->o->canary && k < r->nmine; k++)
        if (r->where[k] == 0)
            mpz_add_ui(r->mv[k], r->mv[k], 1);
    return status;
}

/* Each rank checks the values it computed. Collective; returns the agreed status. */
static int verify(struct run *r)
{
    uint64_t primes[NPRIMES], bad = 0;
    pk_oracle_primes(primes, NPRIMES);
    for (size_t k = 0; k < r->nmine; k++)
        for (int j = 0; j < NPRIMES; j++)
            bad += !pk_fib_cassini_mod(r->mv[k], r->mp[k], r->mine[k], primes[j]) ||
                   mpz_fdiv_ui(r->mv[k], primes[j]) != pk_fib_mod(r->mine[k], primes[j]);
    int rc = pk_dist_sum_u64(r->c, &bad, 1);
    r->verified = rc == PK_OK && bad == 0;
    json_object_set_new(r->vjson, "method",
                        json_string("Cassini's identity mod 4 primes near 2^62; F(N) mod "
                                    "each prime by a 2x2 matrix power"));
    json_object_set_new(r->vjson, "mismatches", json_integer((json_int_t)bad));
    return pk_dist_agree(r->c, rc != PK_OK   ? PK_EXIT_RUNTIME
                               : r->verified ? PK_EXIT_OK
                                             : PK_EXIT_VERIFY);
}

/* Moves this rank's values into place and brings them all to rank 0. Collective. */
static int collect(struct run *r)
{
    for (size_t k = 0; k < r->nmine; k++)
        mpz_swap(r->value[r->where[k]], r->mv[k]);
    int rc = gather_values(r->c, r->value, r->owner, r->o->count);
    if (rc != PK_OK)
        pk_error(r->c, true, "fib", "cannot collect results: %s", pk_strerror(rc));
    return pk_dist_agree(r->c, rc == PK_OK ? PK_EXIT_OK : PK_EXIT_RUNTIME);
}

/* Rank 0: decimal conversion, --digits and the record. */
static int build_record(struct run *r, const json_t *sysinfo, json_t **rec)
{
    const struct pk_fib_opts *o = r->o;
    struct pk_big_run big = {
        .command = "fib",
        .method = "mpz_fib2_ui per N; N dealt over ranks and threads",
        .n = o->n,
        .count = o->count,
        .value = r->value,
        .common = &o->common,
        .digits_path = o->digits,
        .nranks = r->c->nranks,
        .verified = r->verified,
        .canary = o->canary,
        .verification = r->vjson,
        .reps = &r->reps,
        .sysinfo = sysinfo,
    };
    r->vjson = NULL; /* the record took it */
    return pk_big_record(r->c, &big, rec);
}

/* The whole run: rank 0 gets *rec for a finished run (verified or not); writes --digits when
 * o->digits is set. Collective; returns the agreed status. */
static int fib_run(const struct pk_comm *c, const struct pk_fib_opts *o, const json_t *sysinfo,
                   json_t **rec)
{
    *rec = NULL;
    struct run r = {.c = c, .o = o};
    int status = pk_dist_agree(c, plan(&r));
    pk_gmp_guard_for(c, "fib", 0);
    if (status == PK_EXIT_OK)
        status = pk_dist_agree(c, alloc_run(&r));
    if (status == PK_EXIT_OK)
        status = time_runs(&r);
    if (status == PK_EXIT_OK && !o->common.no_verify)
        status = verify(&r);
    if ((status == PK_EXIT_OK || status == PK_EXIT_VERIFY) && collect(&r) != PK_EXIT_OK)
        status = PK_EXIT_RUNTIME;
    if (c->rank == 0 && (status == PK_EXIT_OK || status == PK_EXIT_VERIFY)) {
        int rc = build_record(&r, sysinfo, rec);
        if (rc != PK_EXIT_OK)
            status = rc;
    }
    free_run(&r);
    return pk_dist_agree(c, status);
}

int pk_fib_execute(const struct pk_comm *c, const struct pk_fib_opts *opts, const json_t *sysinfo,
                   json_t **record)
{
    if (record) {
        /* handed over: nothing printed, appended or written */
        struct pk_fib_opts quiet = *opts;
        quiet.digits = NULL;
        return fib_run(c, &quiet, sysinfo, record);
    }
    json_t *rec;
    int status = fib_run(c, opts, sysinfo, &rec);
    return pk_emit(c, "fib", &opts->common, &pk_big_view, NULL, rec, status);
}

int pk_cmd_fib(int argc, char **argv, const struct pk_comm *c)
{
    struct pk_fib_opts o;
    int status = parse(argc, argv, c, &o);
    if (status != PK_EXIT_OK) {
        free(o.n);
        return pk_opts_exit(status);
    }
    json_t *sysinfo = pk_sysinfo_for_command(c, "fib", o.common.nthreads);
    status = pk_fib_execute(c, &o, sysinfo, NULL);
    json_decref(sysinfo);
    free(o.n);
    return status;
}
