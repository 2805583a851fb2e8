/* SPDX-License-Identifier: MIT */
/* parkit sumsq: sum of squares over an integer range (exact, 128-bit), seeded Gaussian chunks,
 * an in-memory float64 array or a raw float64 file; OpenMP inside each rank, contiguous block
 * ranges across ranks, exact reductions so every variant gives the same bits for any split.
 *
 * Every phase ends with pk_dist_agree, so a failure on one rank (a short read, no memory)
 * becomes the same exit status on all ranks and nobody waits in a collective. */
#include "commands.h"
#include "emit.h"
#include "memcheck.h"
#include "opt.h"
#include "parkit/bigmem.h"
#include "parkit/rawfile.h"
#include "parkit/sumsq.h"
#include "record.h"
#include "sysinfo.h"
#include "timing.h"

#include <gmp.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const pk_sumsq_variant_names[] = {"range", "gauss", "array", "file"};

static int check_range(const struct pk_opt *opt, const char *text, struct pk_err *err)
{
    if (*(const uint64_t *)opt->dest <= PK_SUMSQ_RANGE_MAX)
        return PK_OK;
    return pk_fail(err, PK_EINVAL,
                   "--range %s: the sum of squares would overflow 128 bits (N at most %llu)", text,
                   (unsigned long long)PK_SUMSQ_RANGE_MAX);
}

#define VARIANT(o, v) .tag = (int *)&(o)->variant, .tag_value = (v), .group = 1

static const char description[] =
    "Float64 totals are bitwise identical for any thread count, rank count and hybrid split:\n"
    "blocks of a fixed global grid (8192 values; gauss: one chunk) are each reduced in a fixed\n"
    "order and their partials added exactly, then rounded once. The result is printed as a hex\n"
    "float too. Memory: --array and --file hold 8 bytes per value, split over the ranks.\n";

static int parse(int argc, char **argv, const struct pk_comm *c, struct pk_sumsq_opts *o)
{
    *o = (struct pk_sumsq_opts){
        .variant = PK_SUMSQ_RANGE, .n = 1000000000, .chunk = 1000000, .seed = 42};
    const struct pk_opt table[] = {
        {"range", 'n', PK_OPT_COUNT, &o->n, "N",
         "exact sum of i*i for 0 <= i < N in 128-bit integers (default, N=1e9);\n"
         "verified against N(N-1)(2N-1)/6 computed with GMP. N at most\n"
         "10069012961345: larger sums overflow 128 bits and are refused",
         .check = check_range, VARIANT(o, PK_SUMSQ_RANGE)},
        {"n", 0, PK_OPT_COUNT, &o->n, "N", "the same as --range", .check = check_range,
         .hidden = true, VARIANT(o, PK_SUMSQ_RANGE)},
        {"gauss", 0, PK_OPT_COUNT, &o->n, "N",
         "N standard-normal values in chunks of --chunk C; chunk k is drawn by\n"
         "its own GSL taus2 generator seeded from (--seed S, k), so values never\n"
         "depend on the split; sums x*x. Verified: every chunk partial against a\n"
         "serial long-double twin, the total against their sum and against the\n"
         "chi-square expectation N +- 6 sqrt(2N)",
         VARIANT(o, PK_SUMSQ_GAUSS)},
        {"array", 0, PK_OPT_COUNT, &o->n, "N",
         "N uniform values in [-1, 1) made in memory (first touch by the thread\n"
         "that reads them; seeded by --seed), sum of x*x: the memory-bound case",
         VARIANT(o, PK_SUMSQ_ARRAY)},
        {"file", 0, PK_OPT_PATH, &o->file, "F",
         "raw little-endian float64 file; each rank reads only its slice\n"
         "(--array and --file are verified against a serial long-double sum)",
         VARIANT(o, PK_SUMSQ_FILE)},
        {"chunk", 0, PK_OPT_COUNT, &o->chunk, "C", "gauss chunk size (default 1e6)", .min = 1},
        {"seed", 0, PK_OPT_COUNT, &o->seed, "S", "seed (default 42)"},
        {"canary", 0, PK_OPT_FLAG, &o->canary, NULL,
         "drop one block from the reduction: verification must fail (exit 3);\n"
         "proves the checker can fail"},
        {NULL},
    };
    const struct pk_cmd_spec spec = {
        .name = "sumsq",
        .synopsis = "[--range N | --gauss N | --array N | --file F] [options]",
        .summary = "Sum of squares, verified, with OpenMP inside each rank and MPI across ranks.",
        .description = description,
        .opts = table,
        .shared = PK_SHARED_ALL,
        .formats = PK_FORMATS_CSV,
        .reps_default = 5,
        .reps_cut = true,
    };
    int status = pk_opts_parse(&spec, c, argc, argv, &o->common, NULL);
    if (status == PK_EXIT_OK)
        status = pk_cli_distinct(c, "sumsq", "--record", o->common.record, "--file", o->file);
    return status;
}

/* ---- one run ---------------------------------------------------------------------------- */

struct run {
    const struct pk_comm *c;
    const struct pk_sumsq_opts *o;
    uint64_t lo, hi; /* this rank's share: indices (range, array, file) or chunks (gauss) */
    double *x;       /* array and file: this rank's values */
    double *partial; /* gauss: this rank's chunk partials */
    struct pk_gauss_grid grid;
    pk_u128 exact; /* range result */
    double total;  /* float variants' result */
};

/* This rank's share of a float64 array of n values: whole blocks of the global grid. */
static void f64_share(const struct pk_comm *c, uint64_t n, uint64_t *lo, uint64_t *hi)
{
    uint64_t nblocks = (n + PK_SUMSQ_BLOCK - 1) / PK_SUMSQ_BLOCK, b0, b1;
    pk_dist_range(nblocks, c->rank, c->nranks, &b0, &b1);
    *lo = b0 * PK_SUMSQ_BLOCK < n ? b0 * PK_SUMSQ_BLOCK : n;
    *hi = b1 * PK_SUMSQ_BLOCK < n ? b1 * PK_SUMSQ_BLOCK : n;
}

/* Allocates and fills this rank's data. Returns an exit status (not yet agreed). */
static int setup(struct run *r, struct pk_err *err)
{
    const struct pk_sumsq_opts *o = r->o;
    int nt = o->common.nthreads;
    switch (o->variant) {
    case PK_SUMSQ_RANGE: {
        uint64_t nb = (o->n + PK_SUMSQ_RANGE_BLOCK - 1) / PK_SUMSQ_RANGE_BLOCK, b0, b1;
        pk_dist_range(nb, r->c->rank, r->c->nranks, &b0, &b1);
        r->lo = b0 * PK_SUMSQ_RANGE_BLOCK < o->n ? b0 * PK_SUMSQ_RANGE_BLOCK : o->n;
        r->hi = b1 * PK_SUMSQ_RANGE_BLOCK < o->n ? b1 * PK_SUMSQ_RANGE_BLOCK : o->n;
        return PK_EXIT_OK;
    }
    case PK_SUMSQ_GAUSS:
        r->grid = (struct pk_gauss_grid){.seed = o->seed, .n = o->n, .chunk = o->chunk};
        pk_dist_range(pk_gauss_nchunks(&r->grid), r->c->rank, r->c->nranks, &r->lo, &r->hi);
        r->partial = calloc(r->hi - r->lo + 1, sizeof *r->partial);
        if (!r->partial) {
            pk_fail(err, PK_ENOMEM, "no memory for %llu chunk partials",
                    (unsigned long long)(r->hi - r->lo));
            return PK_EXIT_RUNTIME;
        }
        return PK_EXIT_OK;
    case PK_SUMSQ_ARRAY:
    case PK_SUMSQ_FILE:
        break;
    }
    uint64_t n = o->n;
    f64_share(r->c, n, &r->lo, &r->hi);
    size_t nlocal = (size_t)(r->hi - r->lo);
    char what[64];
    snprintf(what, sizeof what, "%s of %llu values",
             o->variant == PK_SUMSQ_ARRAY ? "an array" : "reading", (unsigned long long)nlocal);
    if (pk_mem_check_each(r->c, "sumsq", what, (uint64_t)nlocal * 8 + (UINT64_C(16) << 20),
                          "give a smaller N, more ranks, or more memory") != PK_EXIT_OK)
        return PK_EXIT_USAGE;
    if (nlocal > SIZE_MAX / 8 || pk_bigmem_alloc(nlocal * 8, (void **)&r->x) != PK_OK) {
        pk_fail(err, PK_ENOMEM, "cannot allocate %.3g GB for %llu values", nlocal * 8e-9,
                (unsigned long long)nlocal);
        return PK_EXIT_RUNTIME;
    }
    if (o->variant == PK_SUMSQ_ARRAY) {
        pk_sumsq_fill(r->x, nlocal, r->lo, o->seed, nt);
        return PK_EXIT_OK;
    }
    if (pk_rawfile_read(o->file, r->lo, nlocal, r->x, err) != PK_OK)
        return PK_EXIT_RUNTIME;
    double m = pk_sumsq_f64_max_abs(o->n);
    if (pk_check_values(o->file, r->x, nlocal, r->lo, -m, m, "sumsq", err) != PK_OK)
        return PK_EXIT_USAGE;
    return PK_EXIT_OK;
}

/* One timed computation, cross-rank reduction included. With the canary, rank 0 leaves out
 * the first block (or chunk) of its share. Returns a pk_status. */
static int compute(struct run *r)
{
    const struct pk_sumsq_opts *o = r->o;
    int nt = o->common.nthreads;
    bool drop = o->canary && r->c->rank == 0 && r->hi > r->lo;
    int rc;
    struct pk_xacc acc;
    pk_xacc_init(&acc);
    switch (o->variant) {
    case PK_SUMSQ_RANGE: {
        uint64_t skip =
            drop ? (r->hi - r->lo < PK_SUMSQ_RANGE_BLOCK ? r->hi - r->lo : PK_SUMSQ_RANGE_BLOCK)
                 : 0;
        rc = pk_sumsq_range(r->lo + skip, r->hi, nt, &r->exact);
        if (rc == PK_OK)
            rc = pk_dist_sum_u128(r->c, &r->exact);
        return rc;
    }
    case PK_SUMSQ_GAUSS: {
        uint64_t skip = drop ? 1 : 0;
        rc = pk_sumsq_gauss(&r->grid, r->lo + skip, r->hi, nt, r->partial + skip, &acc);
        break;
    }
    case PK_SUMSQ_ARRAY:
    case PK_SUMSQ_FILE: {
        size_t nlocal = (size_t)(r->hi - r->lo);
        size_t skip = drop ? (nlocal < PK_SUMSQ_BLOCK ? nlocal : PK_SUMSQ_BLOCK) : 0;
        rc = pk_sumsq_f64(r->x + skip, nlocal - skip, nt, &acc);
        break;
    }
    default:
        rc = PK_EINVAL;
    }
    /* The reduction is collective: every rank takes part even after a local failure. */
    int rc2 = pk_dist_sum_xacc(r->c, &acc);
    r->total = pk_xacc_round(&acc);
    return rc != PK_OK ? rc : rc2;
}

static void u128_to_mpz(mpz_t out, pk_u128 v)
{
    uint64_t w[2] = {(uint64_t)v, (uint64_t)(v >> 64)};
    mpz_import(out, 2, -1, sizeof w[0], 0, 0, w);
}

/* Same-class comparison for non-finite totals, relative comparison otherwise. */
static bool close_enough(double got, double want, double tol, double *rel)
{
    *rel = 0;
    if (!isfinite(want) || !isfinite(got))
        return (isnan(want) && isnan(got)) || got == want;
    if (want == 0)
        return got == 0;
    *rel = fabs(got - want) / fabs(want);
    return *rel <= tol;
}

/* Verifies against the independent oracle of each variant. Collective. Sets *ok and fills
 * v (rank 0 only) with how it was checked. Returns a pk_status. */
/* --range: the exact sum against the closed form N(N-1)(2N-1)/6, in GMP. */
static bool verify_range(const struct run *r, json_t *v)
{
    mpz_t want, got;
    mpz_inits(want, got, NULL);
    uint64_t n = r->o->n;
    if (n > 0) {
        mpz_set_ui(want, n);
        mpz_mul_ui(want, want, n - 1);
        mpz_mul_ui(want, want, 2 * n - 1);
        mpz_divexact_ui(want, want, 6);
    }
    u128_to_mpz(got, r->exact);
    bool ok = mpz_cmp(want, got) == 0;
    char *text = mpz_get_str(NULL, 10, want);
    json_object_set_new(v, "method", json_string("closed form N(N-1)(2N-1)/6 with GMP"));
    json_object_set_new(v, "expected", json_string(text ? text : "?"));
    free(text);
    mpz_clears(want, got, NULL);
    return ok;
}

/* --gauss: the total within 6 sigma of its chi-square mean N, and what the chunk check found. */
static bool verify_gauss_total(const struct run *r, uint64_t nbad, double worst, json_t *v)
{
    double n = (double)r->o->n, dev = fabs(r->total - n), lim = 6 * sqrt(2 * n);
    json_object_set_new(v, "method",
                        json_string("every chunk partial against a serial long-double twin; "
                                    "total against the sum of the twins; chi-square"));
    json_object_set_new(v, "chunks_checked", json_integer((json_int_t)pk_gauss_nchunks(&r->grid)));
    json_object_set_new(v, "chunks_bad", json_integer((json_int_t)nbad));
    json_object_set_new(v, "chunk_worst_rel", json_real(worst));
    json_object_set_new(v, "chi2_deviation", json_real(dev));
    json_object_set_new(v, "chi2_limit", json_real(lim));
    return dev <= lim;
}

static int verify(struct run *r, bool *ok, json_t *v)
{
    const struct pk_sumsq_opts *o = r->o;
    int status = PK_OK;
    *ok = false;
    if (o->variant == PK_SUMSQ_RANGE) {
        *ok = verify_range(r, v);
        return PK_OK;
    }
    struct pk_xacc ref;
    pk_xacc_init(&ref);
    uint64_t nbad = 0;
    double worst = 0, tol;
    if (o->variant == PK_SUMSQ_GAUSS) {
        status = pk_sumsq_gauss_check(&r->grid, r->lo, r->hi, r->partial, o->common.nthreads, &nbad,
                                      &worst, &ref);
        tol = pk_sumsq_gauss_error_bound(&r->grid);
    } else {
        long double local = pk_sumsq_f64_ref(r->x, (size_t)(r->hi - r->lo));
        double hi = (double)local;
        pk_xacc_add(&ref, hi);
        pk_xacc_add(&ref, (double)(local - hi));
        double n = (double)o->n;
        tol = pk_sumsq_f64_error_bound() + (1024 + n / 1024 + 2) * 0x1p-64;
    }
    int s1 = pk_dist_sum_xacc(r->c, &ref);
    int s2 = pk_dist_sum_u64(r->c, &nbad, 1);
    worst = pk_dist_max_double(r->c, worst);
    if (status == PK_OK)
        status = s1 != PK_OK ? s1 : s2;
    double want = pk_xacc_round(&ref), rel;
    *ok = close_enough(r->total, want, tol, &rel) && nbad == 0;
    json_object_set_new(v, "reference", json_real(want));
    json_object_set_new(v, "rel_diff", json_real(rel));
    json_object_set_new(v, "tolerance", json_real(tol));
    if (o->variant == PK_SUMSQ_GAUSS)
        *ok = verify_gauss_total(r, nbad, worst, v) && *ok;
    else
        json_object_set_new(v, "method",
                            json_string("serial long-double sum of squares (blocks of 1024)"));
    return status;
}

static json_t *params_json(const struct pk_comm *c, const struct pk_sumsq_opts *o)
{
    json_t *p = json_pack("{s:s, s:I, s:i, s:i, s:i, s:i, s:b, s:b}", "variant",
                          pk_sumsq_variant_names[o->variant], "n", (json_int_t)o->n, "threads",
                          o->common.nthreads, "ranks", c->nranks, "reps", o->common.reps, "warmup",
                          o->common.warmup, "verify", !o->common.no_verify, "canary", o->canary);
    if (o->variant == PK_SUMSQ_GAUSS) {
        json_object_set_new(p, "chunk", json_integer((json_int_t)o->chunk));
        json_object_set_new(p, "rng", json_string(pk_gauss_rng_name()));
    }
    if (o->variant == PK_SUMSQ_GAUSS || o->variant == PK_SUMSQ_ARRAY)
        json_object_set_new(p, "seed", pk_json_u64(o->seed));
    if (o->variant == PK_SUMSQ_FILE)
        json_object_set_new(p, "file", pk_json_text(o->file));
    if (o->variant != PK_SUMSQ_RANGE)
        json_object_set_new(
            p, "block",
            json_integer(o->variant == PK_SUMSQ_GAUSS ? (json_int_t)o->chunk : PK_SUMSQ_BLOCK));
    return p;
}

static json_t *result_json(const struct run *r)
{
    if (r->o->variant == PK_SUMSQ_RANGE) {
        mpz_t v;
        mpz_init(v);
        u128_to_mpz(v, r->exact);
        char *text = mpz_get_str(NULL, 10, v);
        json_t *j = json_pack("{s:s}", "value", text ? text : "?");
        free(text);
        mpz_clear(v);
        return j;
    }
    char hex[64];
    snprintf(hex, sizeof hex, "%a", r->total);
    return json_pack("{s:f, s:s}", "value", r->total, "hex", hex);
}

int pk_sumsq_execute(const struct pk_comm *c, const struct pk_sumsq_opts *o, const json_t *sysinfo,
                     json_t **record)
{
    *record = NULL;
    struct pk_err err = {0};
    struct run r = {.c = c, .o = o};
    int reps = o->common.reps;
    double *rep_s = calloc((size_t)reps, sizeof *rep_s);
    int status = rep_s ? setup(&r, &err) : PK_EXIT_RUNTIME;
    if (!rep_s)
        pk_fail(&err, PK_ENOMEM, "out of memory");
    if (status != PK_EXIT_OK && err.msg[0]) /* the memory check has said why already */
        pk_error(c, true, "sumsq", "%s", err.msg);
    status = pk_dist_agree(c, status);
    struct pk_reps plan;
    pk_reps_start(&plan, c, "sumsq", &o->common, rep_s);
    while (pk_reps_more(&plan) && status == PK_EXIT_OK) {
        pk_dist_barrier(c);
        double t0 = pk_now_s();
        int rc = compute(&r);
        pk_reps_took(&plan, pk_dist_max_double(c, pk_now_s() - t0));
        if (rc != PK_OK)
            pk_error(c, true, "sumsq", "computation failed: %s", pk_strerror(rc));
        status = pk_dist_agree(c, rc == PK_OK ? PK_EXIT_OK : PK_EXIT_RUNTIME);
    }
    bool verified = false;
    json_t *vjson = json_object();
    if (status == PK_EXIT_OK && !o->common.no_verify) {
        int rc = verify(&r, &verified, vjson);
        if (rc != PK_OK)
            pk_error(c, true, "sumsq", "verification could not run: %s", pk_strerror(rc));
        status = pk_dist_agree(c, rc != PK_OK ? PK_EXIT_RUNTIME
                                  : verified  ? PK_EXIT_OK
                                              : PK_EXIT_VERIFY);
    }
    if (status != PK_EXIT_RUNTIME && status != PK_EXIT_USAGE && c->rank == 0) {
        json_t *rec = pk_record_new("sumsq");
        json_object_set_new(rec, "params", params_json(c, o));
        json_object_set_new(rec, "result", result_json(&r));
        json_object_set_new(rec, "verified",
                            o->common.no_verify ? json_null() : json_boolean(verified));
        json_object_set_new(rec, "verification", vjson);
        vjson = NULL;
        pk_record_set_reps(rec, &plan);
        pk_record_set_provenance(rec, sysinfo);
        *record = rec;
    }
    json_decref(vjson);
    pk_bigmem_free(r.x);
    free(r.partial);
    free(rep_s);
    return status;
}

/* ---- output ------------------------------------------------------------------------------ */

static double rate_per_s(const struct pk_sumsq_opts *o, double t)
{
    return t > 0 ? (double)o->n / t : 0;
}

static void print_table(const json_t *rec, const void *ctx)
{
    const struct pk_sumsq_opts *o = ctx;
    const json_t *res = json_object_get(rec, "result");
    const json_t *tim = json_object_get(rec, "timing");
    const json_t *ver = json_object_get(rec, "verified");
    const json_t *vj = json_object_get(rec, "verification");
    double med = json_real_value(json_object_get(tim, "median_s"));
    int nranks = (int)json_integer_value(json_object_get(json_object_get(rec, "params"), "ranks"));
    int reps = (int)json_array_size(json_object_get(tim, "reps_s")); /* those that ran */
    printf("# parkit sumsq --%s n=%llu threads=%d ranks=%d reps=%d warmup=%d\n",
           pk_sumsq_variant_names[o->variant], (unsigned long long)o->n, o->common.nthreads, nranks,
           reps, (int)json_integer_value(json_object_get(tim, "warmup")));
    if (o->variant == PK_SUMSQ_RANGE)
        printf("result    %s\n", json_string_value(json_object_get(res, "value")));
    else
        printf("result    %.17g (%s)\n", json_real_value(json_object_get(res, "value")),
               json_string_value(json_object_get(res, "hex")));
    if (json_is_null(ver))
        printf("verified  skipped (--no-verify)\n");
    else if (o->variant == PK_SUMSQ_RANGE)
        printf("verified  %s (%s)\n", json_is_true(ver) ? "yes" : "NO",
               json_string_value(json_object_get(vj, "method")));
    else
        printf("verified  %s (rel. diff %.2g, tolerance %.2g, vs %s)\n",
               json_is_true(ver) ? "yes" : "NO", json_real_value(json_object_get(vj, "rel_diff")),
               json_real_value(json_object_get(vj, "tolerance")),
               json_string_value(json_object_get(vj, "method")));
    if (o->variant == PK_SUMSQ_GAUSS && !json_is_null(ver))
        printf("          %lld of %lld chunks off; chi-square |S - N| = %.1f <= %.1f\n",
               (long long)json_integer_value(json_object_get(vj, "chunks_bad")),
               (long long)json_integer_value(json_object_get(vj, "chunks_checked")),
               json_real_value(json_object_get(vj, "chi2_deviation")),
               json_real_value(json_object_get(vj, "chi2_limit")));
    printf("time_s    median %.6f  min %.6f  max %.6f  (%d reps, max over ranks)\n", med,
           json_real_value(json_object_get(tim, "min_s")),
           json_real_value(json_object_get(tim, "max_s")), reps);
    double rate = rate_per_s(o, med);
    int workers = o->common.nthreads * nranks;
    printf("rate      %.4g Melem/s, %.4g ns/elem per core", rate * 1e-6,
           rate > 0 ? 1e9 * workers / rate : 0.0);
    if (o->variant == PK_SUMSQ_ARRAY || o->variant == PK_SUMSQ_FILE)
        printf(", %.2f GB/s", rate * 8e-9);
    printf("\n");
}

static const char *verified_word(const json_t *ver)
{
    return json_is_null(ver) ? "skipped" : json_is_true(ver) ? "yes" : "no";
}

static void print_csv(const json_t *rec, struct pk_csvw *w, const void *ctx)
{
    const struct pk_sumsq_opts *o = ctx;
    static const char *const header[] = {"driver",          "version", "git_sha",  "host", "nranks",
                                         "nthreads",        "variant", "n",        "rep",  "time_s",
                                         "rate_elem_per_s", "result",  "verified", NULL};
    const json_t *prov = json_object_get(rec, "provenance");
    const json_t *mach = json_object_get(prov, "machine");
    const json_t *res = json_object_get(rec, "result");
    const char *value =
        json_string_value(json_object_get(res, o->variant == PK_SUMSQ_RANGE ? "value" : "hex"));
    pk_csvw_row(w, header);
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(json_object_get(rec, "timing"), "reps_s"), i, t)
    {
        double ts = json_real_value(t);
        pk_csvw_field(w, "sumsq");
        pk_csvw_field(w, json_string_value(json_object_get(prov, "version")));
        pk_csvw_field(w, json_string_value(json_object_get(prov, "git_commit")));
        pk_csvw_field(w, mach ? json_string_value(json_object_get(mach, "host")) : NULL);
        pk_csvw_fieldf(w, "%lld",
                       (long long)json_integer_value(
                           json_object_get(json_object_get(rec, "params"), "ranks")));
        pk_csvw_fieldf(w, "%d", o->common.nthreads);
        pk_csvw_field(w, pk_sumsq_variant_names[o->variant]);
        pk_csvw_fieldf(w, "%llu", (unsigned long long)o->n);
        pk_csvw_fieldf(w, "%zu", i);
        pk_csvw_fieldf(w, "%.9f", ts);
        pk_csvw_fieldf(w, "%.6g", rate_per_s(o, ts));
        pk_csvw_field(w, value);
        pk_csvw_field(w, verified_word(json_object_get(rec, "verified")));
        pk_csvw_end(w);
    }
}

/* The file's size, checked on every rank (it may not be on a shared file system everywhere). */
static int file_size(const struct pk_comm *c, struct pk_sumsq_opts *o)
{
    struct pk_err err = {0};
    int rc = pk_rawfile_count(o->file, &o->n, &err);
    if (rc != PK_OK)
        pk_error(c, true, "sumsq", "%s", err.msg);
    return pk_dist_agree(c, rc == PK_OK       ? PK_EXIT_OK
                            : rc == PK_EINVAL ? PK_EXIT_USAGE
                                              : PK_EXIT_RUNTIME);
}

int pk_cmd_sumsq(int argc, char **argv, const struct pk_comm *c)
{
    struct pk_sumsq_opts o;
    int status = parse(argc, argv, c, &o);
    if (status != PK_EXIT_OK)
        return pk_opts_exit(status);
    if (o.variant == PK_SUMSQ_FILE && (status = file_size(c, &o)) != PK_EXIT_OK)
        return status;
    json_t *sysinfo = pk_sysinfo_for_command(c, "sumsq", o.common.nthreads);
    json_t *rec = NULL;
    status = pk_sumsq_execute(c, &o, sysinfo, &rec);
    json_decref(sysinfo);
    static const struct pk_view view = {print_table, print_csv};
    return pk_emit(c, "sumsq", &o.common, &view, &o, rec, status);
}
