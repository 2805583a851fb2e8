/* SPDX-License-Identifier: MIT */
/* Tests of the sum-of-squares kernels (parkit/sumsq.h).
 *
 * The integer range is checked exactly against its serial twin and against the closed form
 * n(n-1)(2n-1)/6 in GMP. The float64 kernels promise the same bits for any thread count and any
 * split at block (or chunk) boundaries, which the tests check bit for bit; their values are
 * checked against the long-double twins within the documented error bounds. */
#include "check.h"
#include "parkit/status.h"
#include "parkit/sumsq.h"
#include "parkit/xacc.h"

#include <gmp.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------------------------ */

static void mpz_set_u64(mpz_t z, uint64_t v)
{
    mpz_import(z, 1, -1, sizeof v, 0, 0, &v);
}

static void mpz_set_u128(mpz_t z, pk_u128 v)
{
    uint64_t w[2] = {(uint64_t)v, (uint64_t)(v >> 64)};
    mpz_import(z, 2, -1, sizeof w[0], 0, 0, w);
}

/* z = sum of i^2 for i < n = n(n-1)(2n-1)/6 */
static void mpz_sumsq_below(mpz_t z, uint64_t n)
{
    mpz_t t;
    mpz_init(t);
    mpz_set_u64(z, n);
    if (n > 0) {
        mpz_set_u64(t, n - 1);
        mpz_mul(z, z, t);
        mpz_mul_2exp(t, t, 1);
        mpz_add_ui(t, t, 1); /* 2n - 1 */
        mpz_mul(z, z, t);
        mpz_divexact_ui(z, z, 6);
    }
    mpz_clear(t);
}

static void print_range_failure(const char *what, uint64_t lo, uint64_t hi, int t, int rc,
                                pk_u128 got, const mpz_t want, int line)
{
    mpz_t g;
    mpz_init(g);
    mpz_set_u128(g, got);
    gmp_fprintf(stderr, "%s:%d: %s [%llu, %llu) threads %d: rc %d, got %Zd, want %Zd\n", __FILE__,
                line, what, (unsigned long long)lo, (unsigned long long)hi, t, rc, g, want);
    mpz_clear(g);
}

/* Checks the ranges [lohi[2i], lohi[2i+1]) for i < n: the closed form, pk_sumsq_range_ref and
 * pk_sumsq_range for 1..tmax threads must agree exactly. The thread count is the outer loop:
 * libgomp is slow to change it, and every region with more threads than free cores is slow. */
static int check_ranges(const uint64_t *lohi, size_t n, int tmax, int line)
{
    mpz_t *want = malloc(n * sizeof *want);
    if (!want)
        return 1;
    mpz_t a, got;
    mpz_inits(a, got, NULL);
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t lo = lohi[2 * i], hi = lohi[2 * i + 1];
        mpz_init(want[i]);
        mpz_sumsq_below(want[i], hi);
        mpz_sumsq_below(a, lo);
        mpz_sub(want[i], want[i], a);
        pk_u128 v = 12345;
        int rc = pk_sumsq_range_ref(lo, hi, &v);
        mpz_set_u128(got, v);
        if (!bad && (rc != PK_OK || mpz_cmp(got, want[i]) != 0)) {
            print_range_failure("range_ref", lo, hi, 1, rc, v, want[i], line);
            bad = 1;
        }
    }
    for (int t = 1; t <= tmax && !bad; t++) {
        for (size_t i = 0; i < n && !bad; i++) {
            uint64_t lo = lohi[2 * i], hi = lohi[2 * i + 1];
            pk_u128 v = 12345;
            int rc = pk_sumsq_range(lo, hi, t, &v);
            mpz_set_u128(got, v);
            if (rc != PK_OK || mpz_cmp(got, want[i]) != 0) {
                print_range_failure("range", lo, hi, t, rc, v, want[i], line);
                bad = 1;
            }
        }
    }
    for (size_t i = 0; i < n; i++)
        mpz_clear(want[i]);
    free(want);
    mpz_clears(a, got, NULL);
    return bad;
}

#define CHECK_RANGES_T(lohi, tmax)                                                                 \
    CHECK_OK(check_ranges((lohi), sizeof(lohi) / sizeof(lohi)[0] / 2, (tmax), __LINE__))
#define CHECK_RANGES(lohi) CHECK_RANGES_T(lohi, 5)

static double sumsq_f64(const double *x, size_t n, int nthreads)
{
    struct pk_xacc acc;
    pk_xacc_init(&acc);
    if (pk_sumsq_f64(x, n, nthreads, &acc) != PK_OK)
        return NAN;
    return pk_xacc_round(&acc);
}

/* Sizes for the float64 kernel: empty, one element, around a lane count, around a block, and a
 * prime that leaves a short last block. */
static const size_t f64_sizes[] = {0, 1, 31, 33, PK_SUMSQ_BLOCK - 1, PK_SUMSQ_BLOCK + 1, 300007};
#define F64_MAX  300007
#define F64_SEED UINT64_C(0x243f6a8885a308d3)

static double f64_buf[F64_MAX];

static const struct pk_gauss_grid gauss_grid = {UINT64_C(0x13198a2e03707344), 200003, 10007};
#define GAUSS_NCHUNKS 20 /* ceil(200003 / 10007) */

/* ---- integer range ------------------------------------------------------------------------ */

static int case_range_small_n(void)
{
    /* the GMP oracle against hand-computed values */
    const unsigned long known[] = {0, 0, 1, 5, 14, 30};
    mpz_t z;
    mpz_init(z);
    for (uint64_t n = 0; n < 6; n++) {
        mpz_sumsq_below(z, n);
        CHECK(mpz_cmp_ui(z, known[n]) == 0);
    }
    mpz_clear(z);
    const uint64_t r[] = {0, 0, 0, 1, 0, 2, 0, 3, 0, 4, 0, 5};
    CHECK_RANGES(r);
    return 0;
}

static int case_range_prime_n(void)
{
    /* a prime near 3e6: three blocks of 2^20, the last one short; 4 and 5 threads get more
     * threads than blocks */
    const uint64_t r[] = {0, 2999999};
    CHECK_RANGES(r);
    return 0;
}

static int case_range_subranges(void)
{
    const uint64_t B = PK_SUMSQ_RANGE_BLOCK, far = UINT64_C(1000000000039);
    const uint64_t fixed[] = {
        1,         2,         /* lo > 0 throughout */
        7,         7,         /* empty inside a block */
        B,         B,         /* empty on a block boundary */
        B - 1,     B + 1,     /* two blocks, one index each */
        B,         2 * B,     /* exactly one block */
        3 * B - 5, 3 * B + 5, /* straddling a boundary */
        12345,     B + 4099,  /* two partial blocks */
        far,       far + 2 * B + 4099,
    };
    CHECK_RANGES(fixed);
    /* every short length, around lane (32) and block boundaries: one block each, so more
     * threads would add nothing but time */
    const uint64_t starts[] = {0, 1, 977, B - 33, 5 * B + 7};
    static uint64_t shorts[2 * 5 * 71];
    size_t m = 0;
    for (size_t j = 0; j < 5; j++)
        for (uint64_t len = 0; len <= 70; len++) {
            shorts[m++] = starts[j];
            shorts[m++] = starts[j] + len;
        }
    CHECK_RANGES_T(shorts, 1);
    /* random ranges with large starting points, where the 128-bit terms matter */
    uint64_t s = 0x5eed0101, rnd[2 * 4];
    for (int i = 0; i < 4; i++) {
        rnd[2 * i] = check_below(&s, UINT64_C(5000000000000));
        rnd[2 * i + 1] = rnd[2 * i] + check_below(&s, B + 1000);
    }
    CHECK_RANGES(rnd);
    return 0;
}

static int case_range_top(void)
{
    const uint64_t top = PK_SUMSQ_RANGE_MAX;
    /* the constant: the sum below top fits 128 bits, the sum below top + 1 does not */
    mpz_t z;
    mpz_init(z);
    mpz_sumsq_below(z, top);
    CHECK(mpz_sizeinbase(z, 2) <= 128);
    mpz_sumsq_below(z, top + 1);
    CHECK(mpz_sizeinbase(z, 2) > 128);
    mpz_clear(z);

    /* the last 1000, empty at the top, several blocks below the top */
    const uint64_t r[] = {top - 1000, top, top, top, top - 2 * PK_SUMSQ_RANGE_BLOCK - 4097, top};
    CHECK_RANGES(r);

    pk_u128 v = 1;
    CHECK_EQ_INT(pk_sumsq_range(top - 1000, top + 1, 1, &v), PK_ERANGE);
    CHECK(v == 0);
    v = 1;
    CHECK_EQ_INT(pk_sumsq_range(top - 1000, top + 1, 4, &v), PK_ERANGE);
    CHECK(v == 0);
    v = 1;
    CHECK_EQ_INT(pk_sumsq_range_ref(top - 1000, top + 1, &v), PK_ERANGE);
    CHECK(v == 0);
    CHECK_EQ_INT(pk_sumsq_range(0, UINT64_MAX, 3, &v), PK_ERANGE);
    CHECK_EQ_INT(pk_sumsq_range_ref(top + 1, top + 1, &v), PK_ERANGE);
    return 0;
}

static int case_range_invalid(void)
{
    pk_u128 v = 1;
    CHECK_EQ_INT(pk_sumsq_range(10, 9, 1, &v), PK_EINVAL);
    CHECK(v == 0);
    v = 1;
    CHECK_EQ_INT(pk_sumsq_range(UINT64_C(5000000), 17, 4, &v), PK_EINVAL);
    CHECK(v == 0);
    v = 1;
    CHECK_EQ_INT(pk_sumsq_range_ref(10, 9, &v), PK_EINVAL);
    CHECK(v == 0);
    v = 1;
    CHECK_EQ_INT(pk_sumsq_range(0, 100, 0, &v), PK_EINVAL);
    CHECK(v == 0);
    CHECK_EQ_INT(pk_sumsq_range(0, 100, -3, &v), PK_EINVAL);
    return 0;
}

/* ---- float64 array ------------------------------------------------------------------------ */

static int case_f64_threads_bitwise(void)
{
    pk_sumsq_fill(f64_buf, F64_MAX, 0, F64_SEED, 4);
    for (size_t j = 0; j < sizeof f64_sizes / sizeof f64_sizes[0]; j++) {
        size_t n = f64_sizes[j];
        double want = sumsq_f64(f64_buf, n, 1);
        CHECK(n == 0 ? want == 0 : want > 0);
        for (int t = 2; t <= 8; t++)
            CHECK_EQ_DBL(sumsq_f64(f64_buf, n, t), want);
    }
    CHECK_EQ_DBL(sumsq_f64(f64_buf, 1, 1), f64_buf[0] * f64_buf[0]);
    return 0;
}

static int case_f64_split_ranks(void)
{
    /* Cut the array at random block multiples into p pieces, as ranks would. Even repetitions
     * add every piece to one accumulator; odd ones give each piece its own, merged in reverse
     * (an MPI reduction in another order). Either way: the bits of a single call. */
    pk_sumsq_fill(f64_buf, F64_MAX, 0, F64_SEED, 3);
    uint64_t s = 0x5eed0201;
    for (size_t j = 0; j < sizeof f64_sizes / sizeof f64_sizes[0]; j++) {
        size_t n = f64_sizes[j];
        size_t nblocks = (n + PK_SUMSQ_BLOCK - 1) / PK_SUMSQ_BLOCK;
        double want = sumsq_f64(f64_buf, n, 2);
        for (int p = 2; p <= 5; p++) {
            for (int rep = 0; rep < 2; rep++) {
                size_t cut[6];
                cut[0] = 0;
                cut[p] = n;
                for (int k = 1; k < p; k++) {
                    size_t b = (size_t)check_below(&s, nblocks + 1);
                    cut[k] = b * PK_SUMSQ_BLOCK < n ? b * PK_SUMSQ_BLOCK : n;
                }
                for (int k = 1; k < p; k++) /* insertion sort of cut[1..p-1] */
                    for (int m = k; m > 1 && cut[m - 1] > cut[m]; m--) {
                        size_t t = cut[m];
                        cut[m] = cut[m - 1];
                        cut[m - 1] = t;
                    }
                struct pk_xacc one, piece[5];
                pk_xacc_init(&one);
                /* one thread count per split: libgomp is slow to change it */
                int t = 1 + (p + rep + (int)j) % 4;
                for (int k = 0; k < p; k++) {
                    pk_xacc_init(&piece[k]);
                    struct pk_xacc *into = rep % 2 ? &piece[k] : &one;
                    CHECK_OK(pk_sumsq_f64(f64_buf + cut[k], cut[k + 1] - cut[k], t, into));
                }
                if (rep % 2)
                    for (int k = p - 1; k >= 0; k--)
                        pk_xacc_merge(&one, &piece[k]);
                CHECK_EQ_DBL(pk_xacc_round(&one), want);
            }
        }
    }
    return 0;
}

static int case_f64_vs_ref(void)
{
    /* pk_sumsq_f64_error_bound covers the kernel against the exact sum; the long-double twin
     * is within (1024 + n/1024 + 2) 2^-64 < 1e-15 of it, hence the slack. */
    const double tol = pk_sumsq_f64_error_bound() + 1e-15;
    CHECK(tol > 0 && tol < 1e-12);
    const uint64_t seeds[] = {F64_SEED, UINT64_C(0xa4093822299f31d0), 7};
    for (size_t k = 0; k < sizeof seeds / sizeof seeds[0]; k++) {
        pk_sumsq_fill(f64_buf, F64_MAX, 0, seeds[k], 5);
        for (size_t j = 0; j < sizeof f64_sizes / sizeof f64_sizes[0]; j++) {
            size_t n = f64_sizes[j];
            double want = (double)pk_sumsq_f64_ref(f64_buf, n);
            double got = sumsq_f64(f64_buf, n, 3);
            CHECK_REL(got, want, tol);
            /* E[x^2] = 1/3 for x uniform on [-1, 1) */
            if (n > 30000)
                CHECK_REL(got, (double)n / 3, 0.01);
        }
    }
    return 0;
}

static int case_f64_adversarial_rounding(void)
{
    /* x = 1 + 2^-48 squares to c = 1 + 2^-47 (the 2^-96 term is rounded away). Once a lane's
     * running sum passes 128 its ulp is 2^-45 and every further +c loses its 2^-47: the
     * rounding errors all have the same sign, about 32 ulps relative, which the documented
     * bound must still cover. The long-double twin holds these sums exactly. */
    enum { N = 3 * PK_SUMSQ_BLOCK + 4099 };
    static double y[N];
    for (size_t i = 0; i < N; i++)
        y[i] = i % 3 ? 1.0 + 0x1p-48 : -1.0 - 0x1p-48;
    const double tol = pk_sumsq_f64_error_bound() + 1e-15;
    double want = (double)pk_sumsq_f64_ref(y, N);
    CHECK_EQ_DBL(want, (double)((long double)N * (1.0L + 0x1p-47L)));
    for (int t = 1; t <= 3; t++)
        CHECK_REL(sumsq_f64(y, N, t), want, tol);
    return 0;
}

static int case_f64_power_of_two_scaling(void)
{
    /* Scaling every element by 2^k scales every square and every rounded partial by 2^2k
     * exactly (no overflow or underflow here), so the total must scale bit for bit. */
    enum { N = 3 * PK_SUMSQ_BLOCK + 4099 };
    static double y[N];
    pk_sumsq_fill(f64_buf, N, 0, F64_SEED ^ 0xff, 2);
    double base = sumsq_f64(f64_buf, N, 3);
    const int ks[] = {-400, -37, 1, 250, 500};
    for (size_t j = 0; j < sizeof ks / sizeof ks[0]; j++) {
        for (size_t i = 0; i < N; i++)
            y[i] = ldexp(f64_buf[i], ks[j]);
        CHECK_EQ_DBL(sumsq_f64(y, N, 1 + (int)j), ldexp(base, 2 * ks[j]));
    }
    return 0;
}

static int case_f64_fill_global_index(void)
{
    enum { N = 5 * PK_SUMSQ_BLOCK + 777 };
    static double full[N], part[N];
    pk_sumsq_fill(full, N, 0, F64_SEED, 3);

    /* values in [-1, 1), multiples of 2^-53, spread evenly */
    size_t negative = 0;
    double mean = 0;
    for (size_t i = 0; i < N; i++) {
        CHECK(full[i] >= -1.0 && full[i] < 1.0);
        CHECK(ldexp(full[i], 53) == nearbyint(ldexp(full[i], 53)));
        negative += full[i] < 0;
        mean += full[i];
    }
    mean /= N;
    CHECK(fabs(mean) < 0.02);
    CHECK(negative > N / 2 - N / 50 && negative < N / 2 + N / 50);

    /* any thread count gives the same values */
    for (int t = 1; t <= 7; t += 3) {
        pk_sumsq_fill(part, N, 0, F64_SEED, t);
        CHECK(memcmp(part, full, sizeof full) == 0);
    }
    /* a sub-array filled from global index `first` equals that slice of the full fill */
    const size_t firsts[] = {PK_SUMSQ_BLOCK, 2 * PK_SUMSQ_BLOCK, 4 * PK_SUMSQ_BLOCK, 12345};
    for (size_t j = 0; j < sizeof firsts / sizeof firsts[0]; j++) {
        size_t first = firsts[j], len = N - first;
        pk_sumsq_fill(part, len, first, F64_SEED, 1 + (int)j);
        CHECK(memcmp(part, full + first, len * sizeof(double)) == 0);
    }
    /* another seed gives other values */
    pk_sumsq_fill(part, N, 0, F64_SEED + 1, 3);
    size_t same = 0;
    for (size_t i = 0; i < N; i++)
        same += part[i] == full[i];
    CHECK(same < 4);
    /* n = 0 writes nothing */
    part[0] = 42.0;
    pk_sumsq_fill(part, 0, 0, F64_SEED, 2);
    CHECK_EQ_DBL(part[0], 42.0);
    return 0;
}

static int case_f64_canary_drop_block(void)
{
    /* The relative check has teeth: summing all blocks but one moves the total far outside
     * the tolerance, while putting that block back restores the exact bits. */
    const double tol = pk_sumsq_f64_error_bound() + 1e-15;
    const size_t n = F64_MAX, nblocks = (n + PK_SUMSQ_BLOCK - 1) / PK_SUMSQ_BLOCK;
    pk_sumsq_fill(f64_buf, n, 0, F64_SEED, 4);
    double want = (double)pk_sumsq_f64_ref(f64_buf, n);
    double all = sumsq_f64(f64_buf, n, 4);
    CHECK_REL(all, want, tol);
    const size_t drop[] = {0, nblocks / 2, nblocks - 1};
    for (size_t j = 0; j < sizeof drop / sizeof drop[0]; j++) {
        size_t a = drop[j] * PK_SUMSQ_BLOCK;
        size_t b = a + PK_SUMSQ_BLOCK < n ? a + PK_SUMSQ_BLOCK : n;
        struct pk_xacc acc, blk;
        pk_xacc_init(&acc);
        pk_xacc_init(&blk);
        CHECK_OK(pk_sumsq_f64(f64_buf, a, 3, &acc));
        CHECK_OK(pk_sumsq_f64(f64_buf + b, n - b, 3, &acc));
        struct pk_xacc copy = acc;
        double dropped = pk_xacc_round(&copy);
        CHECK(!(fabs(dropped - want) <= tol * fabs(want)));
        CHECK(dropped < all);
        CHECK_OK(pk_sumsq_f64(f64_buf + a, b - a, 2, &blk));
        pk_xacc_merge(&acc, &blk);
        CHECK_EQ_DBL(pk_xacc_round(&acc), all);
    }
    return 0;
}

static int case_f64_invalid(void)
{
    struct pk_xacc acc;
    pk_xacc_init(&acc);
    double x[3] = {0.25, -1.5, 3.0};
    CHECK_EQ_INT(pk_sumsq_f64(x, 3, 0, &acc), PK_EINVAL);
    CHECK_EQ_INT(pk_sumsq_f64(x, 3, -2, &acc), PK_EINVAL);
    CHECK_EQ_INT(pk_sumsq_f64(NULL, 5, 2, &acc), PK_EINVAL);
    CHECK_EQ_DBL(pk_xacc_round(&acc), 0.0); /* failures leave acc alone */
    CHECK_OK(pk_sumsq_f64(NULL, 0, 2, &acc));
    CHECK_OK(pk_sumsq_f64(x, 0, 3, &acc));
    CHECK_EQ_DBL(pk_xacc_round(&acc), 0.0);
    CHECK_OK(pk_sumsq_f64(x, 3, 5, &acc));
    CHECK_EQ_DBL(pk_xacc_round(&acc), 11.3125);
    return 0;
}

/* ---- seeded Gaussian chunks --------------------------------------------------------------- */

static int case_gauss_grid_basics(void)
{
    const struct pk_gauss_grid g0 = {1, 0, 7}, g1 = {1, 10, 5}, g2 = {1, 11, 5}, g3 = {1, 5, 10},
                               gz = {1, 5, 0};
    CHECK_EQ_INT(pk_gauss_nchunks(&g0), 0);
    CHECK_EQ_INT(pk_gauss_nchunks(&g1), 2);
    CHECK_EQ_INT(pk_gauss_nchunks(&g2), 3);
    CHECK_EQ_INT(pk_gauss_nchunks(&g3), 1);
    CHECK_EQ_INT(pk_gauss_nchunks(&gz), 0);
    CHECK_EQ_INT(pk_gauss_nchunks(&gauss_grid), GAUSS_NCHUNKS);
    const char *name = pk_gauss_rng_name();
    CHECK(name != NULL && name[0] != '\0');
    /* chunk seeds: deterministic, distinct over k and over the grid seed */
    CHECK(pk_gauss_chunk_seed(5, 3) == pk_gauss_chunk_seed(5, 3));
    for (uint64_t k = 0; k < 100; k++) {
        CHECK(pk_gauss_chunk_seed(5, k) != pk_gauss_chunk_seed(5, k + 1));
        CHECK(pk_gauss_chunk_seed(5, k) != pk_gauss_chunk_seed(6, k));
        /* GSL takes 32 bits of the seed: those must differ too */
        CHECK((pk_gauss_chunk_seed(5, k) & 0xffffffffu) !=
              (pk_gauss_chunk_seed(5, k + 1) & 0xffffffffu));
    }
    /* an empty grid sums to zero */
    struct pk_xacc acc;
    pk_xacc_init(&acc);
    CHECK_OK(pk_sumsq_gauss(&g0, 0, 0, 3, NULL, &acc));
    CHECK_EQ_DBL(pk_xacc_round(&acc), 0.0);
    return 0;
}

static int case_gauss_threads_bitwise(void)
{
    static double partial[7][GAUSS_NCHUNKS];
    double total[7];
    for (int t = 1; t <= 6; t++) {
        struct pk_xacc acc;
        pk_xacc_init(&acc);
        CHECK_OK(pk_sumsq_gauss(&gauss_grid, 0, GAUSS_NCHUNKS, t, partial[t], &acc));
        total[t] = pk_xacc_round(&acc);
        CHECK_EQ_DBL(total[t], total[1]);
        for (int k = 0; k < GAUSS_NCHUNKS; k++)
            CHECK_EQ_DBL(partial[t][k], partial[1][k]);
    }
    /* without partials: same total */
    struct pk_xacc acc;
    pk_xacc_init(&acc);
    CHECK_OK(pk_sumsq_gauss(&gauss_grid, 0, GAUSS_NCHUNKS, 4, NULL, &acc));
    CHECK_EQ_DBL(pk_xacc_round(&acc), total[1]);

    /* more threads than chunks: 3 chunks, the last one short */
    const struct pk_gauss_grid small = {UINT64_C(0xdeadbeefcafe), 25, 10};
    double p1[3], pt[3];
    pk_xacc_init(&acc);
    CHECK_OK(pk_sumsq_gauss(&small, 0, 3, 1, p1, &acc));
    double want = pk_xacc_round(&acc);
    for (int t = 2; t <= 6; t++) {
        pk_xacc_init(&acc);
        CHECK_OK(pk_sumsq_gauss(&small, 0, 3, t, pt, &acc));
        CHECK_EQ_DBL(pk_xacc_round(&acc), want);
        CHECK(memcmp(p1, pt, sizeof p1) == 0);
    }
    for (uint64_t k = 0; k < 3; k++)
        CHECK_REL(p1[k], (double)pk_sumsq_gauss_ref(&small, k), pk_sumsq_gauss_error_bound(&small));
    return 0;
}

static int case_gauss_split_chunks(void)
{
    double want_partial[GAUSS_NCHUNKS], partial[GAUSS_NCHUNKS];
    struct pk_xacc acc;
    pk_xacc_init(&acc);
    CHECK_OK(pk_sumsq_gauss(&gauss_grid, 0, GAUSS_NCHUNKS, 3, want_partial, &acc));
    double want = pk_xacc_round(&acc);
    uint64_t s = 0x5eed0301;
    for (int p = 2; p <= 5; p++) {
        uint64_t cut[6];
        cut[0] = 0;
        cut[p] = GAUSS_NCHUNKS;
        for (int k = 1; k < p; k++)
            cut[k] = check_below(&s, GAUSS_NCHUNKS + 1);
        for (int k = 1; k < p; k++)
            for (int m = k; m > 1 && cut[m - 1] > cut[m]; m--) {
                uint64_t t = cut[m];
                cut[m] = cut[m - 1];
                cut[m - 1] = t;
            }
        struct pk_xacc one, merged;
        pk_xacc_init(&one);
        pk_xacc_init(&merged);
        memset(partial, 0, sizeof partial);
        for (int k = p - 1; k >= 0; k--) { /* pieces out of order, as ranks finish */
            int t = 1 + (int)check_below(&s, 5);
            CHECK_OK(pk_sumsq_gauss(&gauss_grid, cut[k], cut[k + 1], t, partial + cut[k], &one));
            struct pk_xacc piece;
            pk_xacc_init(&piece);
            CHECK_OK(pk_sumsq_gauss(&gauss_grid, cut[k], cut[k + 1], t, NULL, &piece));
            pk_xacc_merge(&merged, &piece);
        }
        CHECK_EQ_DBL(pk_xacc_round(&one), want);
        CHECK_EQ_DBL(pk_xacc_round(&merged), want);
        CHECK(memcmp(partial, want_partial, sizeof partial) == 0);
    }
    /* the total is the exact sum of the partials, rounded once */
    pk_xacc_init(&acc);
    for (int k = GAUSS_NCHUNKS - 1; k >= 0; k--)
        pk_xacc_add(&acc, want_partial[k]);
    CHECK_EQ_DBL(pk_xacc_round(&acc), want);
    return 0;
}

static int case_gauss_partials_vs_ref(void)
{
    /* The kernel's lanes and the twin's one-by-one long-double sum draw the same values; the
     * documented bound covers the kernel's rounding and the twin's. */
    const double tol = pk_sumsq_gauss_error_bound(&gauss_grid);
    CHECK(tol > 0 && tol < 1e-12);
    double partial[GAUSS_NCHUNKS];
    struct pk_xacc acc;
    pk_xacc_init(&acc);
    CHECK_OK(pk_sumsq_gauss(&gauss_grid, 0, GAUSS_NCHUNKS, 2, partial, &acc));
    for (uint64_t k = 0; k < GAUSS_NCHUNKS; k++) {
        double want = (double)pk_sumsq_gauss_ref(&gauss_grid, k);
        CHECK_REL(partial[k], want, tol);
        /* a chunk of m squares of standard normals: mean m, variance 2m */
        double m = k + 1 < GAUSS_NCHUNKS ? 10007.0 : 200003.0 - 19 * 10007.0;
        CHECK(fabs(partial[k] - m) < 6 * sqrt(2 * m));
    }
    /* chunks are distinct draws */
    for (int k = 1; k < GAUSS_NCHUNKS; k++)
        CHECK(partial[k] != partial[k - 1]);
    return 0;
}

static int case_gauss_short_last_chunk(void)
{
    /* A short last chunk draws a prefix of the stream a full chunk k would: its sum of squares
     * grows strictly with its length, reaches the full chunk's at length `chunk`, and matches
     * the twin at every length. */
    enum { C = 45, K = 3 };
    double prev = 0;
    for (uint64_t r = 1; r <= C; r++) {
        const struct pk_gauss_grid g = {UINT64_C(0x452821e638d01377), K * C + r, C};
        CHECK_EQ_INT(pk_gauss_nchunks(&g), K + 1);
        double p;
        struct pk_xacc acc;
        pk_xacc_init(&acc);
        CHECK_OK(pk_sumsq_gauss(&g, K, K + 1, 1, &p, &acc));
        CHECK_EQ_DBL(pk_xacc_round(&acc), p);
        CHECK(p > prev);
        CHECK_REL(p, (double)pk_sumsq_gauss_ref(&g, K), pk_sumsq_gauss_error_bound(&g));
        prev = p;
    }
    const struct pk_gauss_grid full = {UINT64_C(0x452821e638d01377), (K + 2) * C, C};
    double p;
    struct pk_xacc acc;
    pk_xacc_init(&acc);
    CHECK_OK(pk_sumsq_gauss(&full, K, K + 1, 1, &p, &acc));
    CHECK_EQ_DBL(p, prev);
    return 0;
}

static int case_gauss_total_chi2(void)
{
    /* The total is chi-square with n degrees of freedom: mean n, variance 2n. */
    const double n = (double)gauss_grid.n;
    struct pk_xacc acc;
    pk_xacc_init(&acc);
    CHECK_OK(pk_sumsq_gauss(&gauss_grid, 0, GAUSS_NCHUNKS, 4, NULL, &acc));
    double total = pk_xacc_round(&acc);
    CHECK(fabs(total - n) < 6 * sqrt(2 * n));
    /* another seed draws another total, also plausible */
    struct pk_gauss_grid other = gauss_grid;
    other.seed++;
    pk_xacc_init(&acc);
    CHECK_OK(pk_sumsq_gauss(&other, 0, GAUSS_NCHUNKS, 4, NULL, &acc));
    double total2 = pk_xacc_round(&acc);
    CHECK(fabs(total2 - n) < 6 * sqrt(2 * n));
    CHECK(total2 != total);
    return 0;
}

static int case_gauss_invalid(void)
{
    const struct pk_gauss_grid zero_chunk = {1, 100, 0};
    double partial[GAUSS_NCHUNKS + 1];
    struct pk_xacc acc;
    pk_xacc_init(&acc);
    CHECK_EQ_INT(pk_sumsq_gauss(&gauss_grid, 0, 3, 0, partial, &acc), PK_EINVAL);
    CHECK_EQ_INT(pk_sumsq_gauss(&gauss_grid, 0, 3, -1, partial, &acc), PK_EINVAL);
    CHECK_EQ_INT(pk_sumsq_gauss(&zero_chunk, 0, 0, 2, partial, &acc), PK_EINVAL);
    CHECK_EQ_INT(pk_sumsq_gauss(&gauss_grid, 0, GAUSS_NCHUNKS + 1, 2, partial, &acc), PK_EINVAL);
    CHECK_EQ_INT(pk_sumsq_gauss(&gauss_grid, 5, 4, 2, partial, &acc), PK_EINVAL);
    CHECK_EQ_DBL(pk_xacc_round(&acc), 0.0); /* failures add nothing */
    /* k0 == k1 is an empty, valid range, including at the end */
    CHECK_OK(pk_sumsq_gauss(&gauss_grid, GAUSS_NCHUNKS, GAUSS_NCHUNKS, 2, partial, &acc));
    CHECK_OK(pk_sumsq_gauss(&gauss_grid, 7, 7, 2, NULL, &acc));
    CHECK_EQ_DBL(pk_xacc_round(&acc), 0.0);
    return 0;
}

static int case_gauss_check_flags_bad_partial(void)
{
    /* The verification helper accepts the kernel's partials and rejects a corrupted one; its
     * reference total equals the kernel's total within the chunk bound. */
    struct pk_gauss_grid g = {.seed = 99, .n = 50021, .chunk = 4999};
    uint64_t nk = pk_gauss_nchunks(&g);
    double partial[16];
    CHECK(nk <= 16);
    struct pk_xacc acc, ref;
    pk_xacc_init(&acc);
    pk_xacc_init(&ref);
    CHECK_OK(pk_sumsq_gauss(&g, 0, nk, 2, partial, &acc));
    uint64_t nbad = 99;
    double worst = -1;
    CHECK_OK(pk_sumsq_gauss_check(&g, 0, nk, partial, 3, &nbad, &worst, &ref));
    CHECK_EQ_INT(nbad, 0);
    CHECK(worst >= 0 && worst <= pk_sumsq_gauss_error_bound(&g));
    CHECK_REL(pk_xacc_round(&ref), pk_xacc_round(&acc), pk_sumsq_gauss_error_bound(&g));
    partial[nk / 2] = nextafter(partial[nk / 2] * (1 + 1e-9), 0);
    pk_xacc_init(&ref);
    CHECK_OK(pk_sumsq_gauss_check(&g, 0, nk, partial, 1, &nbad, &worst, &ref));
    CHECK_EQ_INT(nbad, 1);
    CHECK_EQ_INT(pk_sumsq_gauss_check(&g, 0, nk + 1, partial, 1, &nbad, &worst, &ref), PK_EINVAL);
    return 0;
}

static const struct check_case cases[] = {
    {"gauss_check_flags_bad_partial", case_gauss_check_flags_bad_partial},
    {"range_small_n", case_range_small_n},
    {"range_prime_n", case_range_prime_n},
    {"range_subranges", case_range_subranges},
    {"range_top", case_range_top},
    {"range_invalid", case_range_invalid},
    {"f64_threads_bitwise", case_f64_threads_bitwise},
    {"f64_split_ranks", case_f64_split_ranks},
    {"f64_vs_ref", case_f64_vs_ref},
    {"f64_adversarial_rounding", case_f64_adversarial_rounding},
    {"f64_power_of_two_scaling", case_f64_power_of_two_scaling},
    {"f64_fill_global_index", case_f64_fill_global_index},
    {"f64_canary_drop_block", case_f64_canary_drop_block},
    {"f64_invalid", case_f64_invalid},
    {"gauss_grid_basics", case_gauss_grid_basics},
    {"gauss_threads_bitwise", case_gauss_threads_bitwise},
    {"gauss_split_chunks", case_gauss_split_chunks},
    {"gauss_partials_vs_ref", case_gauss_partials_vs_ref},
    {"gauss_short_last_chunk", case_gauss_short_last_chunk},
    {"gauss_total_chi2", case_gauss_total_chi2},
    {"gauss_invalid", case_gauss_invalid},
};

int main(int argc, char **argv)
{
    return CHECK_MAIN(cases);
}
