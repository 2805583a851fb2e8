/* SPDX-License-Identifier: MIT */
/* Tests of the chunked transform kernel (parkit/transform.h).
 *
 * Elements are checked against the long-double twin within PK_TRANSFORM_ELEM_ULP on samples
 * that cover small arguments (where the chunk op cancels), the whole 1e8 range and random
 * doubles, on every instruction set the CPU has. Statistics are checked against the twin with
 * pk_transform_compare, and the promises of the grid bit for bit: any thread count, any split
 * into calls (ranks) merged in any order, any alignment of an array, array input equal to the
 * generated range. Sizes are prime so nothing splits evenly. */
#include "check.h"
#include "parkit/status.h"
#include "parkit/transform.h"

#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------------------------ */

static struct pk_transform_job job_of(enum pk_transform_op op, uint64_t n, uint64_t chunk,
                                      double start, int nthreads)
{
    return (struct pk_transform_job){.op = op,
                                     .isa = PK_TRANSFORM_ISA_AUTO,
                                     .n = n,
                                     .chunk = chunk,
                                     .start = start,
                                     .nthreads = nthreads,
                                     .canary = PK_TRANSFORM_NONE};
}

/* Runs [i0, i1) in one call and finishes the statistics. */
static int run_range(const struct pk_transform_job *job, uint64_t i0, uint64_t i1,
                     struct pk_tsummary *out)
{
    struct pk_transform_ws *ws;
    int rc = pk_transform_ws_alloc(&ws);
    if (rc != PK_OK)
        return rc;
    struct pk_transform_acc acc;
    pk_transform_acc_init(&acc);
    rc = pk_transform_run(job, i0, i1, ws, &acc);
    pk_tstats_finish(&acc.total, out);
    pk_transform_ws_free(ws);
    return rc;
}

static bool same(const struct pk_tsummary *a, const struct pk_tsummary *b)
{
    return memcmp(a, b, sizeof *a) == 0;
}

static void print_summary(const char *what, const struct pk_tsummary *s)
{
    fprintf(stderr, "%s: n %llu sum %a mean %a var %a min %a@%lld max %a@%lld\n", what,
            (unsigned long long)s->n, s->sum, s->mean, s->variance, s->min, (long long)s->argmin,
            s->max, (long long)s->argmax);
}

#define CHECK_SAME(a, b)                                                                           \
    do {                                                                                           \
        if (!same(&(a), &(b))) {                                                                   \
            print_summary(#a, &(a));                                                               \
            print_summary(#b, &(b));                                                               \
        }                                                                                          \
        CHECK(same(&(a), &(b)));                                                                   \
    } while (0)

static int check_vs_ref(const struct pk_transform_job *job, uint64_t i0, uint64_t i1,
                        const struct pk_tsummary *got)
{
    struct pk_tref ref;
    pk_transform_ref(job, i0, i1, &ref);
    struct pk_tcompare c;
    pk_transform_compare(got, &ref, &c);
    if (!c.ok)
        fprintf(stderr,
                "vs twin: sum %g/%g mean %g/%g m2 %g/%g min %g ulp max %g ulp args %d "
                "(argmin %lld/%lld argmax %lld/%lld)\n",
                c.sum_err, c.sum_tol, c.mean_err, c.mean_tol, c.m2_err, c.m2_tol, c.min_ulp,
                c.max_ulp, c.args_equal, (long long)got->argmin, (long long)ref.argmin,
                (long long)got->argmax, (long long)ref.argmax);
    CHECK(c.ok);
    return 0;
}

/* ---- elements --------------------------------------------------------------------------- */

/* One family and instruction set under test. */
struct code {
    enum pk_transform_isa isa;
    enum pk_transform_math math;
};

static int elements_at(struct code k, enum pk_transform_op op, double v, double *worst)
{
    struct pk_transform_job job = job_of(op, 1, 1, 0, 1);
    job.isa = k.isa;
    job.math = k.math;
    double x = pk_transform_elem(&job, 0, v);
    double u = pk_transform_ulp_diff(x, pk_transform_elem_ref(op, v));
    /* integers: the flat 4 ulp; other arguments: the propagated bound near roots */
    double tol = v == floor(v) && fabs(v) < 0x1p26 ? PK_TRANSFORM_ELEM_ULP
                                                   : pk_transform_elem_tol_ulp(op, v);
    if (!(u <= tol))
        fprintf(stderr, "%s %s %s v=%.17g: %a is %g ulp off (tolerance %g)\n",
                pk_transform_isa_name(k.isa), pk_transform_math_name(k.math),
                pk_transform_op_name(op), v, x, u, tol);
    CHECK(u <= tol);
    if (u > *worst)
        *worst = u;
    double f[3];
    pk_transform_fn_values(k.isa, k.math, v, f);
    long double lv = v;
    long double want[3] = {sinl(lv), sinl(2 * lv), log1pl(lv)};
    for (int j = 0; j < 3; j++) {
        if (j == 2 && !(v + 1 > 0))
            continue;
        double fu = pk_transform_ulp_diff(f[j], want[j]);
        if (!(fu <= pk_transform_fn_ulp(j, v)))
            fprintf(stderr, "%s %s f[%d](%.17g) = %a is %g ulp off\n", pk_transform_isa_name(k.isa),
                    pk_transform_math_name(k.math), j, v, f[j], fu);
        CHECK(fu <= pk_transform_fn_ulp(j, v));
    }
    return 0;
}

/* Arguments where the elements are checked: every small integer (cancellation in v*v +
 * 100 sin v near v = 4..6), integers over the 1e8 range, non-integers, both sides of the
 * switches from u10 to u35 (chunk at |v| = 32; heavy at 32 and at 5e13, its domain being
 * v > -1). */
static int elements_over(struct code k, enum pk_transform_op op, double *worst)
{
    uint64_t seed = 7;
    for (double v = 0; v < 3000; v++)
        if (elements_at(k, op, v, worst))
            return 1;
    for (int j = 0; j < 3000; j++) {
        double v = (double)check_below(&seed, 100000000);
        double t =
            ldexp((double)(check_next_u64(&seed) >> 11) * 0x1p-53, (int)check_below(&seed, 30));
        if (elements_at(k, op, v, worst) || elements_at(k, op, t, worst))
            return 1;
        double e = t / 1e9;
        if (op == PK_TRANSFORM_CHUNK && elements_at(k, op, -32 + e, worst))
            return 1;
        if (op == PK_TRANSFORM_HEAVY &&
            (elements_at(k, op, 32 + e, worst) || elements_at(k, op, 32 - e, worst) ||
             elements_at(k, op, 5e13 + floor(t) - 500, worst)))
            return 1;
    }
    return 0;
}

static int case_elements_vs_ref(void)
{
    for (int m = PK_TRANSFORM_MATH_DETERMINISTIC; m <= PK_TRANSFORM_MATH_FAST; m++) {
        if (!pk_transform_math_supported((enum pk_transform_math)m))
            continue;
        for (int isa = PK_TRANSFORM_ISA_SCALAR; isa <= PK_TRANSFORM_ISA_AVX512; isa++) {
            struct code k = {(enum pk_transform_isa)isa, (enum pk_transform_math)m};
            if (!pk_transform_isa_supported(k.isa))
                continue;
            double worst[2] = {0, 0};
            for (int op = 0; op < 2; op++)
                if (elements_over(k, (enum pk_transform_op)op, &worst[op]))
                    return 1;
            fprintf(stderr, "%s %s: worst element %.3f ulp (chunk), %.3f ulp (heavy)\n",
                    pk_transform_isa_name(k.isa), pk_transform_math_name(k.math), worst[0],
                    worst[1]);
        }
    }
    return 0;
}

/* The deterministic families give the same bits at every instruction set this CPU runs:
 * elements around each switch, over the 1e8 range and beyond 5e13, against the scalar code. */
static int case_family_bits(void)
{
    uint64_t seed = 11;
    double v[4096];
    for (int j = 0; j < 4096; j++) {
        double t =
            ldexp((double)(check_next_u64(&seed) >> 11) * 0x1p-53, (int)check_below(&seed, 50));
        v[j] = j % 4 == 0   ? (double)check_below(&seed, 100000000)
               : j % 4 == 1 ? t
               : j % 4 == 2 ? 32 + (t - 0.5) / 1e6
                            : 5e13 + floor(t) - 1000;
    }
    int families = 0;
    for (int m = PK_TRANSFORM_MATH_DETERMINISTIC; m <= PK_TRANSFORM_MATH_PORTABLE; m++) {
        if (!pk_transform_math_supported((enum pk_transform_math)m))
            continue;
        families++;
        for (int op = 0; op < 2; op++) {
            struct pk_transform_job job = job_of((enum pk_transform_op)op, 1, 1, 0, 1);
            job.math = (enum pk_transform_math)m;
            for (int isa = PK_TRANSFORM_ISA_SSE2; isa <= PK_TRANSFORM_ISA_AVX512; isa++) {
                if (!pk_transform_isa_supported((enum pk_transform_isa)isa))
                    continue;
                for (int j = 0; j < 4096; j++) {
                    job.isa = PK_TRANSFORM_ISA_SCALAR;
                    double want = pk_transform_elem(&job, 0, v[j]);
                    job.isa = (enum pk_transform_isa)isa;
                    double got = pk_transform_elem(&job, 0, v[j]);
                    if (memcmp(&got, &want, sizeof got) != 0)
                        fprintf(stderr, "%s %s %s v=%.17g: %a, scalar %a\n",
                                pk_transform_isa_name(job.isa), pk_transform_math_name(job.math),
                                pk_transform_op_name(job.op), v[j], got, want);
                    CHECK(memcmp(&got, &want, sizeof got) == 0);
                }
            }
        }
    }
    CHECK(families >= 1);
    return 0;
}

/* The kernel's stored values are pk_transform_elem's, on every instruction set. */
static int case_kernel_equals_elem(void)
{
    enum { N = 10007 };
    static double out[N];
    for (int isa = PK_TRANSFORM_ISA_SCALAR; isa <= PK_TRANSFORM_ISA_AVX512; isa++) {
        if (!pk_transform_isa_supported((enum pk_transform_isa)isa))
            continue;
        for (int op = 0; op < 2; op++) {
            struct pk_transform_job job = job_of((enum pk_transform_op)op, N, 997, 99990001.0, 2);
            job.isa = (enum pk_transform_isa)isa;
            job.out = out;
            struct pk_tsummary s;
            CHECK_OK(run_range(&job, 0, N, &s));
            for (uint64_t i = 0; i < N; i++)
                CHECK_EQ_DBL(out[i], pk_transform_elem(&job, i, 99990001.0 + (double)i));
        }
    }
    return 0;
}

/* ---- statistics ------------------------------------------------------------------------- */

static int case_stats_vs_ref(void)
{
    for (int op = 0; op < 2; op++) {
        /* prime n, chunk neither a multiple nor a divisor of the block */
        struct pk_transform_job job = job_of((enum pk_transform_op)op, 200003, 9973, 12345, 2);
        struct pk_tsummary s;
        CHECK_OK(run_range(&job, 0, job.n, &s));
        CHECK_EQ_INT(s.n, 200003);
        if (check_vs_ref(&job, 0, job.n, &s))
            return 1;
        /* the tutorials: chunk op 5 x 1e5 from 0, heavy 2e6 in 4 chunks */
        job = op == 0 ? job_of(PK_TRANSFORM_CHUNK, 500000, 100000, 0, 2)
                      : job_of(PK_TRANSFORM_HEAVY, 2000000, 500000, 0, 2);
        CHECK_OK(run_range(&job, 0, job.n, &s));
        if (check_vs_ref(&job, 0, job.n, &s))
            return 1;
        CHECK_EQ_INT(s.argmin, op == 0 ? 5 : 0);
    }
    return 0;
}

static int case_threads_bitwise(void)
{
    for (int op = 0; op < 2; op++) {
        struct pk_transform_job job = job_of((enum pk_transform_op)op, 300007, 10007, 3, 1);
        struct pk_tsummary want, got;
        CHECK_OK(run_range(&job, 0, job.n, &want));
        for (int t = 2; t <= 5; t++) {
            job.nthreads = t;
            CHECK_OK(run_range(&job, 0, job.n, &got));
            CHECK_SAME(got, want);
        }
    }
    return 0;
}

struct chunks {
    struct pk_tsummary s[64];
    int count;
};

static void collect(void *arg, uint64_t k, const struct pk_tsummary *s)
{
    struct chunks *c = arg;
    if (k < 64)
        c->s[k] = *s;
    c->count++;
}

/* Ranks: the rank's calls cover contiguous chunk ranges, each maybe in several calls cut on the
 * block grid (as the file pipeline does); the parts are merged in any order. Per-chunk results
 * must equal a single call's, and the totals must have the same bits. */
static int case_split_bitwise(void)
{
    enum { N = 123457, C = 9001 };
    struct pk_transform_job job = job_of(PK_TRANSFORM_HEAVY, N, C, 1000, 2);
    struct chunks one = {0}, split = {0};
    job.on_chunk = collect;
    job.arg = &one;
    struct pk_tsummary want;
    CHECK_OK(run_range(&job, 0, N, &want));
    CHECK_EQ_INT(one.count, (N + C - 1) / C);
    struct pk_transform_ws *ws;
    CHECK_OK(pk_transform_ws_alloc(&ws));
    uint64_t seed = 11;
    for (int trial = 0; trial < 6; trial++) {
        /* 1..4 "ranks" over chunk ranges */
        int nr = 1 + trial % 4;
        uint64_t nchunks = pk_transform_nchunks(N, C);
        struct pk_tstats part[4];
        split.count = 0;
        job.arg = &split;
        for (int r = 0; r < nr; r++) {
            uint64_t k0 = nchunks * (uint64_t)r / (uint64_t)nr,
                     k1 = nchunks * (uint64_t)(r + 1) / (uint64_t)nr;
            uint64_t lo = k0 * C, hi = k1 * C < N ? k1 * C : N;
            struct pk_transform_acc acc;
            pk_transform_acc_init(&acc);
            for (uint64_t pos = lo; pos < hi;) {
                uint64_t e = pk_transform_block_floor(N, C, pos + 1 + check_below(&seed, 30000));
                if (e <= pos || e > hi)
                    e = hi;
                job.nthreads = 1 + (int)check_below(&seed, 3);
                CHECK_OK(pk_transform_run(&job, pos, e, ws, &acc));
                pos = e;
            }
            part[r] = acc.total;
        }
        struct pk_tstats total;
        pk_tstats_init(&total);
        for (int r = nr - 1; r >= 0; r--) /* reverse order */
            pk_tstats_merge(&total, &part[r]);
        struct pk_tsummary got;
        pk_tstats_finish(&total, &got);
        CHECK_SAME(got, want);
        CHECK_EQ_INT(split.count, one.count);
        for (int k = 0; k < one.count; k++)
            CHECK_SAME(split.s[k], one.s[k]);
    }
    pk_transform_ws_free(ws);
    return 0;
}

/* An array holding v = start + i gives the generated range's bits, at any alignment of the
 * buffer and for any sub-range starting on the grid. */
static int case_alignment_invariance(void)
{
    enum { N = 50021, C = 7919, PAD = 8 };
    static double raw[N + PAD], out[N + PAD];
    for (int op = 0; op < 2; op++) {
        struct pk_transform_job gen = job_of((enum pk_transform_op)op, N, C, 77, 2);
        static double want_out[N];
        gen.out = want_out;
        struct pk_tsummary want;
        CHECK_OK(run_range(&gen, 0, N, &want));
        for (int off = 0; off < PAD; off++) {
            double *v = raw + off;
            for (size_t i = 0; i < N; i++)
                v[i] = 77.0 + (double)i;
            struct pk_transform_job arr = gen;
            arr.in = v;
            arr.out = out + (PAD - 1 - off);
            struct pk_tsummary got;
            CHECK_OK(run_range(&arr, 0, N, &got));
            CHECK_SAME(got, want);
            CHECK(memcmp(arr.out, want_out, sizeof want_out) == 0);
            /* from the second chunk's second block to the end of the third chunk, in place */
            uint64_t i0 = C + PK_TRANSFORM_BLOCK, i1 = 3 * C;
            struct pk_transform_job sub = arr;
            sub.in = v + i0;
            sub.out = v + i0;
            CHECK_OK(run_range(&sub, i0, i1, &got));
            struct pk_tsummary gsub;
            struct pk_transform_job gen_sub = gen;
            gen_sub.out = NULL; /* out[i - i0]: would overwrite want_out's start */
            CHECK_OK(run_range(&gen_sub, i0, i1, &gsub));
            CHECK_SAME(got, gsub);
            CHECK(memcmp(v + i0, want_out + i0, (i1 - i0) * 8) == 0);
        }
    }
    return 0;
}

static int case_small_n(void)
{
    static const uint64_t ns[] = {0, 1, 2, 7, 8, 9, 31, 33, 4095, 4097};
    for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++) {
        for (uint64_t chunk = 1; chunk <= 5; chunk += 4) {
            struct pk_transform_job job = job_of(PK_TRANSFORM_CHUNK, ns[k], chunk, 0, 3);
            struct chunks ch = {0};
            job.on_chunk = collect;
            job.arg = &ch;
            struct pk_tsummary s;
            CHECK_OK(run_range(&job, 0, ns[k], &s));
            CHECK_EQ_INT(s.n, ns[k]);
            CHECK_EQ_INT(ch.count, (int)pk_transform_nchunks(ns[k], chunk));
            if (ns[k] == 0) {
                CHECK_EQ_DBL(s.sum, 0.0);
                CHECK(isnan(s.mean) && isnan(s.variance));
                CHECK_EQ_INT(s.argmin, PK_TRANSFORM_NONE);
                continue;
            }
            if (ns[k] == 1)
                CHECK_EQ_DBL(s.variance, 0.0);
            if (check_vs_ref(&job, 0, ns[k], &s))
                return 1;
        }
    }
    return 0;
}

/* Data whose mean dwarfs its spread: the double-double finish keeps the variance. */
static int case_variance_shifted(void)
{
    enum { N = 100003 };
    static double v[N];
    uint64_t seed = 3;
    for (size_t i = 0; i < N; i++)
        v[i] = 1e6 + (double)(check_next_u64(&seed) >> 11) * 0x1p-53;
    for (int op = 0; op < 2; op++) {
        struct pk_transform_job job = job_of((enum pk_transform_op)op, N, 30011, 0, 2);
        job.in = v;
        struct pk_tsummary s;
        CHECK_OK(run_range(&job, 0, N, &s));
        if (check_vs_ref(&job, 0, N, &s))
            return 1;
    }
    return 0;
}

/* NaN elements make the sum, mean and variance NaN; min and max skip them. Ties go to the lower
 * index. */
static int case_nan_and_ties(void)
{
    enum { N = 9000 };
    static double v[N];
    for (size_t i = 0; i < N; i++)
        v[i] = 1000.0 + (double)(i % 100); /* chunk op: v*v + 100 sin v repeats every 100 */
    struct pk_transform_job job = job_of(PK_TRANSFORM_CHUNK, N, 4500, 0, 2);
    job.in = v;
    struct pk_tsummary s;
    CHECK_OK(run_range(&job, 0, N, &s));
    CHECK_EQ_INT(s.argmin, 0);
    CHECK_EQ_INT(s.argmax, 99);
    v[5000] = NAN;
    v[0] = NAN;
    CHECK_OK(run_range(&job, 0, N, &s));
    CHECK(isnan(s.sum) && isnan(s.variance));
    CHECK_EQ_INT(s.argmin, 100);
    CHECK_EQ_INT(s.argmax, 99);
    return 0;
}

/* Blocks with only +inf and NaN elements (v*v overflows, NaN inputs): min and max are +inf at
 * the first element that is not NaN; a chunk of NaNs only has none. */
static int case_inf_and_nan_only(void)
{
    enum { N = 3 * PK_TRANSFORM_BLOCK };
    static double v[N];
    for (size_t i = 0; i < N; i++)
        v[i] = i % 2 ? NAN : 1e200;
    struct pk_transform_job job = job_of(PK_TRANSFORM_CHUNK, N, PK_TRANSFORM_BLOCK, 0, 2);
    job.in = v;
    struct pk_tsummary s;
    CHECK_OK(run_range(&job, 0, N, &s));
    CHECK(isinf(s.min) && s.min > 0 && isinf(s.max));
    CHECK_EQ_INT(s.argmin, 0);
    CHECK_EQ_INT(s.argmax, 0);
    for (size_t i = 0; i < PK_TRANSFORM_BLOCK; i++) /* the first block: NaNs only */
        v[i] = NAN;
    v[PK_TRANSFORM_BLOCK + 6] = 1.0; /* finite, in the second block, after its first +inf */
    CHECK_OK(run_range(&job, 0, N, &s));
    CHECK_EQ_INT(s.argmin, PK_TRANSFORM_BLOCK + 6);
    CHECK_EQ_INT(s.argmax, PK_TRANSFORM_BLOCK);
    return 0;
}

/* The canary changes the statistics and the comparison with the twin fails. */
static int case_canary(void)
{
    struct pk_transform_job job = job_of(PK_TRANSFORM_CHUNK, 100003, 10007, 0, 2);
    struct pk_tsummary good, bad;
    CHECK_OK(run_range(&job, 0, job.n, &good));
    job.canary = 50001;
    CHECK_OK(run_range(&job, 0, job.n, &bad));
    CHECK(good.sum != bad.sum);
    struct pk_tref ref;
    pk_transform_ref(&job, 0, job.n, &ref);
    struct pk_tcompare c;
    pk_transform_compare(&bad, &ref, &c);
    CHECK(!c.ok);
    double v = 50001;
    CHECK(pk_transform_elem(&job, 50001, v) != pk_transform_elem(&job, 50000, v));
    return 0;
}

static int case_invalid(void)
{
    struct pk_transform_ws *ws;
    CHECK_OK(pk_transform_ws_alloc(&ws));
    struct pk_transform_acc acc;
    pk_transform_acc_init(&acc);
    struct pk_transform_job job = job_of(PK_TRANSFORM_CHUNK, 100000, 10000, 0, 1);
    CHECK_EQ_INT(pk_transform_run(&job, 1, 100, ws, &acc), PK_EINVAL);    /* not on the grid */
    CHECK_EQ_INT(pk_transform_run(&job, 0, 100001, ws, &acc), PK_EINVAL); /* beyond n */
    CHECK_EQ_INT(pk_transform_run(&job, 4096, 0, ws, &acc), PK_EINVAL);   /* reversed */
    job.nthreads = 0;
    CHECK_EQ_INT(pk_transform_run(&job, 0, 4096, ws, &acc), PK_EINVAL);
    job.nthreads = 1;
    job.chunk = 0;
    CHECK_EQ_INT(pk_transform_run(&job, 0, 4096, ws, &acc), PK_EINVAL);
    job = job_of(PK_TRANSFORM_CHUNK, 10, 10, 0x1p53, 1);
    CHECK_EQ_INT(pk_transform_run(&job, 0, 10, ws, &acc), PK_ERANGE);
    /* a chunk in progress must be continued where it stopped */
    struct chunks ch = {0};
    job = job_of(PK_TRANSFORM_CHUNK, 100000, 50000, 0, 1);
    job.on_chunk = collect;
    job.arg = &ch;
    pk_transform_acc_init(&acc);
    CHECK_OK(pk_transform_run(&job, 0, 8192, ws, &acc));
    CHECK_EQ_INT(pk_transform_run(&job, 12288, 16384, ws, &acc), PK_EINVAL);
    CHECK_OK(pk_transform_run(&job, 8192, 100000, ws, &acc));
    CHECK_EQ_INT(ch.count, 2);
    pk_transform_ws_free(ws);
    return 0;
}

/* check_in: the first argument outside the domain is named (index and value) at every ISA and
 * thread count, in place or not, when two bad ones fall in blocks computed side by side, in the
 * last partial vector, and a clean array gives the same bits as without the check. */
static int check_in_one(enum pk_transform_isa isa, int nthreads, bool in_place, size_t n, size_t at,
                        size_t at2, double bad)
{
    double *v = malloc(n * sizeof *v), *x = malloc(n * sizeof *x);
    CHECK(v && x);
    for (size_t i = 0; i < n; i++)
        v[i] = (double)i;
    if (at < n)
        v[at] = bad;
    if (at2 < n)
        v[at2] = NAN;
    struct pk_transform_job job = job_of(PK_TRANSFORM_HEAVY, n, 10000, 0, nthreads);
    job.isa = isa;
    job.in = v;
    job.out = in_place ? v : x;
    job.check_in = true;
    struct pk_transform_ws *ws;
    CHECK_OK(pk_transform_ws_alloc(&ws));
    struct pk_transform_acc acc;
    pk_transform_acc_init(&acc);
    int rc = pk_transform_run(&job, 0, n, ws, &acc);
    size_t first = at < at2 ? at : at2;
    if (first < n) {
        CHECK_EQ_INT(rc, PK_EINVAL);
        CHECK(acc.bad == first);
        CHECK(first == at2 ? isnan(acc.bad_value) : acc.bad_value == bad);
    } else {
        CHECK_OK(rc);
        CHECK(acc.bad == PK_TRANSFORM_NONE);
    }
    pk_transform_ws_free(ws);
    free(v);
    free(x);
    return 0;
}

static int case_check_in(void)
{
    for (int isa = PK_TRANSFORM_ISA_SCALAR; isa <= PK_TRANSFORM_ISA_AVX512; isa++) {
        enum pk_transform_isa i = (enum pk_transform_isa)isa;
        if (!pk_transform_isa_supported(i))
            continue;
        for (int t = 1; t <= 3; t++)
            for (int place = 0; place < 2; place++) {
                size_t none = SIZE_MAX;
                CHECK(check_in_one(i, t, place, 70001, 70000, none, -1.0) == 0); /* last, tail */
                CHECK(check_in_one(i, t, place, 70001, 30001, 4097, INFINITY) == 0);
                CHECK(check_in_one(i, t, place, 70001, 9, 65000, -2.0) == 0);
                CHECK(check_in_one(i, t, place, 70001, none, none, 0) == 0);
            }
    }
    /* a clean array: the same bits with and without the check */
    size_t n = 20011;
    double *v = malloc(n * sizeof *v);
    CHECK(v);
    for (size_t i = 0; i < n; i++)
        v[i] = (double)i * 0.75;
    struct pk_transform_job job = job_of(PK_TRANSFORM_CHUNK, n, 3001, 0, 2);
    job.in = v;
    struct pk_tsummary a, b;
    CHECK_OK(run_range(&job, 0, n, &a));
    job.check_in = true;
    CHECK_OK(run_range(&job, 0, n, &b));
    CHECK(same(&a, &b));
    free(v);
    return 0;
}

/* Read mode's source: v = start + i, from a "file" that fails at index fail_at (if any); every
 * range is asked for once (counted by reads and values). */
struct feeder {
    double start;
    uint64_t fail_at;
    _Atomic uint64_t reads, values;
};

static int feed(void *arg, uint64_t lo, uint64_t hi, double *dst)
{
    struct feeder *f = arg;
    if (f->fail_at >= lo && f->fail_at < hi)
        return PK_EIO;
    for (uint64_t i = lo; i < hi; i++)
        dst[i - lo] = f->start + (double)i;
    atomic_fetch_add(&f->reads, 1);
    atomic_fetch_add(&f->values, hi - lo);
    return PK_OK;
}

/* Read mode gives the generated range's bits (totals, per-chunk results and the elements
 * written), for any thread count and split into calls, reads each value once in groups of at
 * most 8 blocks, checks its arguments, and stops at a failed read with its status. */
static int case_read_mode(void)
{
    enum { N = 200003, C = 7001 };
    double *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y);
    CHECK(x && y);
    struct pk_transform_job job = job_of(PK_TRANSFORM_CHUNK, N, C, 5, 1);
    struct chunks want_c = {0}, got_c = {0};
    job.on_chunk = collect;
    job.arg = &want_c;
    job.out = x;
    struct pk_tsummary want, got;
    CHECK_OK(run_range(&job, 0, N, &want));
    for (int t = 1; t <= 3; t++) {
        struct feeder f = {.start = 5, .fail_at = PK_TRANSFORM_NONE};
        job = job_of(PK_TRANSFORM_CHUNK, N, C, 0, t);
        job.read = feed;
        job.read_arg = &f;
        job.check_in = true;
        job.on_chunk = collect;
        job.arg = &got_c;
        job.out = y;
        got_c.count = 0;
        struct pk_transform_ws *ws;
        CHECK_OK(pk_transform_ws_alloc(&ws));
        struct pk_transform_acc acc;
        pk_transform_acc_init(&acc);
        uint64_t mid = pk_transform_block_floor(N, C, N / 3);
        CHECK_OK(pk_transform_run(&job, 0, mid, ws, &acc));
        job.out = y + mid; /* out is indexed from the call's start */
        CHECK_OK(pk_transform_run(&job, mid, N, ws, &acc));
        pk_tstats_finish(&acc.total, &got);
        CHECK_SAME(got, want);
        CHECK_EQ_INT(got_c.count, want_c.count);
        for (int k = 0; k < want_c.count && k < 64; k++)
            CHECK_SAME(got_c.s[k], want_c.s[k]);
        CHECK(memcmp(x, y, N * sizeof *x) == 0);
        CHECK(f.values == N);
        CHECK(f.reads >= N / (8 * PK_TRANSFORM_BLOCK)); /* no read over 8 blocks */
        /* a bad argument is named; a failed read stops the run with its status */
        f.start = -150000.0; /* heavy's domain is v > -1: the first bad one is index 0 */
        job.op = PK_TRANSFORM_HEAVY;
        job.out = NULL;
        pk_transform_acc_init(&acc);
        CHECK_EQ_INT(pk_transform_run(&job, 0, N, ws, &acc), PK_EINVAL);
        CHECK(acc.bad == 0 && acc.bad_value == -150000.0);
        f.start = 0;
        f.fail_at = N - 5;
        pk_transform_acc_init(&acc);
        CHECK_EQ_INT(pk_transform_run(&job, 0, N, ws, &acc), PK_EIO);
        pk_transform_ws_free(ws);
    }
    free(x);
    free(y);
    return 0;
}

static const struct check_case cases[] = {
    {"elements_vs_ref", case_elements_vs_ref},
    {"family_bits", case_family_bits},
    {"kernel_equals_elem", case_kernel_equals_elem},
    {"stats_vs_ref", case_stats_vs_ref},
    {"threads_bitwise", case_threads_bitwise},
    {"split_bitwise", case_split_bitwise},
    {"alignment_invariance", case_alignment_invariance},
    {"small_n", case_small_n},
    {"variance_shifted", case_variance_shifted},
    {"nan_and_ties", case_nan_and_ties},
    {"inf_and_nan_only", case_inf_and_nan_only},
    {"canary", case_canary},
    {"invalid", case_invalid},
    {"check_in", case_check_in},
    {"read_mode", case_read_mode},
};

/* Test data for the CLI tests: `test_transform --write-iota F N` writes v = 0..N-1 as raw
 * float64, `--write-csv F N` the same as column `v` of a CSV file (plus an `id` column). */
static int write_data(const char *mode, const char *path, const char *count)
{
    unsigned long long n = strtoull(count, NULL, 10);
    FILE *f = fopen(path, "wb");
    if (!f)
        return 1;
    bool csv = strcmp(mode, "--write-csv") == 0;
    if (csv)
        fprintf(f, "id, v\n");
    for (unsigned long long i = 0; i < n; i++) {
        double v = (double)i;
        if (csv)
            fprintf(f, "%llu, %.17g\n", i, v);
        else
            fwrite(&v, sizeof v, 1, f);
    }
    return fclose(f) != 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strncmp(argv[1], "--write-", 8) == 0)
        return write_data(argv[1], argv[2], argv[3]);
    return CHECK_MAIN(cases);
}
