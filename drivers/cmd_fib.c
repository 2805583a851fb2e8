/* SPDX-License-Identifier: MIT */
/* parkit fib N [N ...]: exact Fibonacci numbers (GMP's mpz_fib2_ui), many N spread over ranks
 * (largest first, round robin) and, inside a rank, over threads: the tutorials' executor.map.
 * Verification on each rank: Cassini's identity on the big values mod four 62-bit primes, and
 * F(N) mod each prime by a 2x2 matrix power, which shares nothing with GMP's algorithm. */
#include "bigout.h"
#include "commands.h"
#include "parkit/factsum.h"
#include "parkit/fib.h"
#include "record.h"
#include "sysinfo.h"
#include "timing.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define NPRIMES 4

static const char usage[] =
    "Usage: parkit fib N [N ...] [--digits FILE] [options]\n"
    "Exact Fibonacci numbers F(N) with GMP (F(0) = 0, F(1) = 1); N in 0..1e9. Prints per N:\n"
    "decimal digits, first and last 20 digits, the value mod 2^64 and mod 10^9+7 (the tutorial\n"
    "prints the last 10 digits of F(100000) .. F(400000): parkit fib 1e5 2e5 3e5 4e5).\n"
    "Many N are spread over ranks (largest first, round robin) and over each rank's threads\n"
    "(dynamic schedule, largest first); every value is computed by one thread.\n"
    "Memory: F(N) has about 0.694 N bits; a run needs about N/2 bytes per value plus 16 MiB,\n"
    "and is refused (exit 2) when that exceeds the available memory.\n"
    "\n"
    "  --digits FILE   write the full decimal values, one line per N in the order given\n"
    "                  (temporary name, renamed when complete)\n"
    "  --canary        corrupt the first value (F(N) + 1): verification must fail\n"
    "\n"
    "Verification: Cassini's identity F(N-1)F(N+1) - F(N)^2 = (-1)^N on the exact values mod\n"
    "four primes near 2^62, and F(N) mod each prime by a 2x2 matrix power.\n"
    "\n";

static int parse(int argc, char **argv, const struct pk_comm *c, struct pk_fib_opts *o)
{
    static const struct option longopts[] = {{"digits", required_argument, NULL, 'd'},
                                             {"canary", no_argument, NULL, 'C'},
                                             PK_COMMON_LONGOPTS,
                                             {NULL, 0, NULL, 0}};
    pk_common_defaults(&o->common);
    o->common.reps = 3;
    opterr = 0;
    optind = 1;
    int code;
    while ((code = getopt_long(argc, argv, ":" PK_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
        if (code == 'd') {
            o->digits = optarg;
            continue;
        }
        if (code == 'C') {
            o->canary = true;
            continue;
        }
        int handled = pk_cli_option(c, "fib", usage, code, argv, &o->common);
        if (handled == PK_OPT_HELP_SHOWN)
            return -1;
        if (handled != PK_OPT_DONE)
            return PK_EXIT_USAGE;
    }
    return pk_cli_counts(c, "fib", argc, argv, PK_FIB_MAX_N, &o->n, &o->count);
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

int pk_cmd_fib(int argc, char **argv, const struct pk_comm *c)
{
    struct pk_fib_opts o = {0};
    int status = parse(argc, argv, c, &o);
    if (status == PK_EXIT_OK) {
        json_t *sysinfo = pk_sysinfo_for_command(c, "fib", o.common.nthreads);
        status = pk_fib_execute(c, &o, sysinfo, NULL);
        json_decref(sysinfo);
    }
    free(o.n);
    return status < 0 ? PK_EXIT_OK : status;
}

int pk_fib_execute(const struct pk_comm *c, const struct pk_fib_opts *opts, const json_t *sysinfo,
                   json_t **record)
{
    const struct pk_fib_opts o = *opts;
    int status = PK_EXIT_OK;
    size_t count = o.count;
    uint64_t estimate = UINT64_C(16) << 20;
    for (size_t i = 0; i < count; i++)
        estimate += o.n[i] / 2;
    if (c->rank == 0) {
        uint64_t avail =
            (uint64_t)json_integer_value(json_object_get(sysinfo, "mem_available_bytes"));
        if (avail && estimate > avail) {
            pk_error(c, false, "fib", "these N need about %.3g GB, more than the %.3g GB available",
                     estimate * 1e-9, avail * 1e-9);
            status = PK_EXIT_USAGE;
        }
    }
    status = pk_dist_agree(c, status);
    mpz_t *value = malloc(sizeof(mpz_t) * count);
    mpz_t *prev = malloc(sizeof(mpz_t) * count);
    uint64_t *mine = malloc(sizeof *mine * count);
    size_t *where = malloc(sizeof *where * count);
    double *rep_s = calloc((size_t)o.common.reps, sizeof *rep_s);
    int *owner = owners(o.n, count, c->nranks);
    mpz_t *mv = NULL, *mp = NULL;
    size_t nmine = 0;
    json_t *vjson = NULL;
    if (!value || !prev || !mine || !where || !rep_s || !owner) {
        pk_error(c, true, "fib", "out of memory");
        free(value);
        free(prev);
        value = prev = NULL;
        count = 0;
        /* the same collectives as the other ranks: the agree after set-up, then the last one */
        status = pk_dist_agree(c, PK_EXIT_RUNTIME);
        goto out;
    }
    /* This rank's values are computed in mv/mp (where[k] is their index), then moved. */
    for (size_t i = 0; i < count; i++) {
        mpz_inits(value[i], prev[i], NULL);
        if (owner[i] == c->rank) {
            where[nmine] = i;
            mine[nmine++] = o.n[i];
        }
    }
    mv = malloc(sizeof(mpz_t) * (nmine ? nmine : 1));
    mp = malloc(sizeof(mpz_t) * (nmine ? nmine : 1));
    int rc = mv && mp ? PK_OK : PK_ENOMEM;
    for (size_t k = 0; k < nmine && rc == PK_OK; k++)
        mpz_inits(mv[k], mp[k], NULL);
    status = pk_dist_agree(c, rc == PK_OK && status == PK_EXIT_OK ? PK_EXIT_OK
                              : status != PK_EXIT_OK              ? status
                                                                  : PK_EXIT_RUNTIME);
    for (int r = -o.common.warmup; r < o.common.reps && status == PK_EXIT_OK; r++) {
        pk_dist_barrier(c);
        double t0 = pk_now_s();
        rc = pk_fib_many(mv, mp, mine, nmine, o.common.nthreads);
        double dt = pk_dist_max_double(c, pk_now_s() - t0);
        if (r >= 0)
            rep_s[r] = dt;
        if (rc != PK_OK)
            pk_error(c, true, "fib", "computation failed: %s", pk_strerror(rc));
        status = pk_dist_agree(c, rc == PK_OK ? PK_EXIT_OK : PK_EXIT_RUNTIME);
    }
    if (status == PK_EXIT_OK && o.canary && nmine > 0 && c->rank == owner[0])
        for (size_t k = 0; k < nmine; k++)
            if (where[k] == 0)
                mpz_add_ui(mv[k], mv[k], 1);
    /* Verify where computed, then bring every value to rank 0. */
    bool verified = false;
    vjson = json_object();
    if (status == PK_EXIT_OK && !o.common.no_verify) {
        uint64_t primes[NPRIMES], bad = 0;
        pk_oracle_primes(primes, NPRIMES);
        for (size_t k = 0; k < nmine; k++)
            for (int j = 0; j < NPRIMES; j++)
                bad += !pk_fib_cassini_mod(mv[k], mp[k], mine[k], primes[j]) ||
                       mpz_fdiv_ui(mv[k], primes[j]) != pk_fib_mod(mine[k], primes[j]);
        rc = pk_dist_sum_u64(c, &bad, 1);
        verified = rc == PK_OK && bad == 0;
        json_object_set_new(vjson, "method",
                            json_string("Cassini's identity mod 4 primes near 2^62; F(N) mod "
                                        "each prime by a 2x2 matrix power"));
        json_object_set_new(vjson, "mismatches", json_integer((json_int_t)bad));
        status = pk_dist_agree(c, rc != PK_OK ? PK_EXIT_RUNTIME
                                  : verified  ? PK_EXIT_OK
                                              : PK_EXIT_VERIFY);
    }
    for (size_t k = 0; k < nmine; k++)
        mpz_swap(value[where[k]], mv[k]);
    if (status == PK_EXIT_OK || status == PK_EXIT_VERIFY) {
        rc = gather_values(c, value, owner, count);
        if (rc != PK_OK)
            pk_error(c, true, "fib", "cannot collect results: %s", pk_strerror(rc));
        if (pk_dist_agree(c, rc == PK_OK ? PK_EXIT_OK : PK_EXIT_RUNTIME) != PK_EXIT_OK)
            status = PK_EXIT_RUNTIME;
    }
    if (c->rank == 0 && (status == PK_EXIT_OK || status == PK_EXIT_VERIFY)) {
        struct pk_big_run run = {
            .command = "fib",
            .n = o.n,
            .count = count,
            .value = value,
            .common = &o.common,
            .digits_path = o.digits,
            .nranks = c->nranks,
            .verified = verified,
            .canary = o.canary,
            .method = "mpz_fib2_ui per N; N dealt over ranks and threads",
            .verification = vjson,
            .extra = NULL,
            .rep_s = rep_s,
            .sysinfo = sysinfo,
            .record_out = record,
        };
        vjson = NULL;
        int rs = pk_big_report(c, &run);
        if (rs != PK_EXIT_OK)
            status = rs;
        if (status == PK_EXIT_VERIFY && !record)
            pk_error(c, false, "fib", "verification failed");
    }
out:
    json_decref(vjson);
    for (size_t k = 0; mv && mp && k < nmine; k++)
        mpz_clears(mv[k], mp[k], NULL);
    for (size_t i = 0; i < count; i++)
        mpz_clears(value[i], prev[i], NULL);
    free(mv);
    free(mp);
    free(value);
    free(prev);
    free(mine);
    free(where);
    free(rep_s);
    free(owner);
    return pk_dist_agree(c, status);
}
