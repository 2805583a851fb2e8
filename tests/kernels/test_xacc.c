/* SPDX-License-Identifier: MIT */
/* Tests of the exact float64 accumulator (parkit/xacc.h).
 *
 * Two independent oracles: a __float128 running sum, exact whenever every addend lies in an
 * exponent window narrow enough that the whole sum fits in 113 bits (then one conversion to
 * double is the correctly rounded answer), and a GMP integer in units of 2^-1074 rounded to
 * nearest-even by hand, which is exact for any finite doubles. */
#include "check.h"
#include "parkit/xacc.h"

#include <float.h>
#include <gmp.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__extension__ typedef __float128 q128;
__extension__ typedef unsigned __int128 u128;

/* ---- helpers ------------------------------------------------------------------------------ */

static double from_bits(uint64_t bits)
{
    double x;
    memcpy(&x, &bits, sizeof x);
    return x;
}

static uint64_t to_bits(double x)
{
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    return bits;
}

/* Any finite double, every bit pattern equally likely (subnormals and zeros included). */
static double rand_finite(uint64_t *s)
{
    for (;;) {
        uint64_t bits = check_next_u64(s);
        if (((bits >> 52) & 0x7ff) != 0x7ff)
            return from_bits(bits);
    }
}

/* Random sign and 52-bit fraction, biased exponent uniform in [b0, b0 + w]. */
static double rand_window(uint64_t *s, unsigned b0, unsigned w)
{
    uint64_t r = check_next_u64(s);
    uint64_t biased = b0 + check_below(s, (uint64_t)w + 1);
    return from_bits((r & (UINT64_C(1) << 63)) | (biased << 52) | (r & ((UINT64_C(1) << 52) - 1)));
}

static void shuffle(double *v, size_t n, uint64_t *s)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)check_below(s, i);
        double t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
}

static double xacc_sum(const double *v, size_t n)
{
    struct pk_xacc acc;
    pk_xacc_init(&acc);
    for (size_t i = 0; i < n; i++)
        pk_xacc_add(&acc, v[i]);
    return pk_xacc_round(&acc);
}

static double quad_sum(const double *v, size_t n)
{
    q128 s = 0;
    for (size_t i = 0; i < n; i++)
        s += v[i];
    return (double)s;
}

/* s += x exactly, with s counted in units of 2^-1074. */
static void mpz_add_double(mpz_t s, double x, mpz_t tmp)
{
    if (x == 0)
        return;
    int e;
    double f = frexp(fabs(x), &e);       /* |x| = f 2^e, f in [0.5, 1) */
    uint64_t m = (uint64_t)ldexp(f, 53); /* exact: f has at most 53 significant bits */
    long shift = (long)e - 53 + 1074;    /* |x| = m 2^(shift - 1074) */
    if (shift < 0)
        m >>= -shift; /* subnormal: the bits shifted out are zero */
    mpz_set_d(tmp, (double)m);
    if (shift > 0)
        mpz_mul_2exp(tmp, tmp, (mp_bitcnt_t)shift);
    if (x < 0)
        mpz_sub(s, s, tmp);
    else
        mpz_add(s, s, tmp);
}

/* s 2^-1074 rounded to the nearest double, ties to even. */
static double mpz_round(const mpz_t s)
{
    int sign = mpz_sgn(s);
    if (sign == 0)
        return 0.0;
    mpz_t a, q, r, half;
    mpz_inits(a, q, r, half, NULL);
    mpz_abs(a, s);
    long nbits = (long)mpz_sizeinbase(a, 2);
    double mag;
    if (nbits <= 53) {
        mag = ldexp(mpz_get_d(a), -1074); /* exact, possibly subnormal */
    } else {
        mp_bitcnt_t shift = (mp_bitcnt_t)(nbits - 53);
        mpz_tdiv_q_2exp(q, a, shift);
        mpz_tdiv_r_2exp(r, a, shift);
        mpz_set_ui(half, 1);
        mpz_mul_2exp(half, half, shift - 1);
        int c = mpz_cmp(r, half);
        if (c > 0 || (c == 0 && mpz_odd_p(q)))
            mpz_add_ui(q, q, 1);
        mag = ldexp(mpz_get_d(q), (int)(nbits - 53 - 1074)); /* +inf when it overflows */
    }
    mpz_clears(a, q, r, half, NULL);
    return sign < 0 ? -mag : mag;
}

static double mpz_sum(const double *v, size_t n)
{
    mpz_t s, tmp;
    mpz_inits(s, tmp, NULL);
    for (size_t i = 0; i < n; i++)
        mpz_add_double(s, v[i], tmp);
    double r = mpz_round(s);
    mpz_clears(s, tmp, NULL);
    return r;
}

static int same_bits(double a, double b)
{
    return to_bits(a) == to_bits(b) || (isnan(a) && isnan(b));
}

/* The rounded sum of v must be `want` (NaN: any NaN) in forward and reverse order, and the sum
 * of the negated addends must be -want. */
static int expect_sum(const double *v, size_t n, double want, int line)
{
    struct pk_xacc fwd, rev, neg;
    pk_xacc_init(&fwd);
    pk_xacc_init(&rev);
    pk_xacc_init(&neg);
    for (size_t i = 0; i < n; i++) {
        pk_xacc_add(&fwd, v[i]);
        pk_xacc_add(&rev, v[n - 1 - i]);
        pk_xacc_add(&neg, -v[i]);
    }
    double got[3] = {pk_xacc_round(&fwd), pk_xacc_round(&rev), pk_xacc_round(&neg)};
    double want3[3] = {want, want, -want};
    const char *what[3] = {"forward", "reverse", "negated"};
    for (int k = 0; k < 3; k++) {
        /* the negation of a +0 total is still +0: the accumulator has no signed zero */
        if (want3[k] == 0)
            want3[k] = 0.0;
        if (!same_bits(got[k], want3[k])) {
            fprintf(stderr, "%s:%d: %s sum of %zu addends: got %a, want %a\n", __FILE__, line,
                    what[k], n, got[k], want3[k]);
            return 1;
        }
    }
    return 0;
}

#define EXPECT_SUM(want, ...)                                                                      \
    do {                                                                                           \
        const double v_[] = {__VA_ARGS__};                                                         \
        CHECK_OK(expect_sum(v_, sizeof v_ / sizeof v_[0], (want), __LINE__));                      \
    } while (0)

/* ---- cases -------------------------------------------------------------------------------- */

static int case_xacc_empty_and_single(void)
{
    struct pk_xacc acc;
    pk_xacc_init(&acc);
    CHECK_EQ_DBL(pk_xacc_round(&acc), 0.0);
    /* A single addend comes back unchanged, whatever its exponent. */
    uint64_t s = 0x5eed0001;
    for (int i = 0; i < 20000; i++) {
        double x = rand_finite(&s);
        pk_xacc_init(&acc);
        pk_xacc_add(&acc, x);
        double got = pk_xacc_round(&acc);
        CHECK_EQ_DBL(got, x == 0 ? 0.0 : x);
    }
    EXPECT_SUM(DBL_MAX, DBL_MAX);
    EXPECT_SUM(DBL_TRUE_MIN, DBL_TRUE_MIN);
    EXPECT_SUM(DBL_MIN, DBL_MIN);
    EXPECT_SUM(0.0, 0.0, -0.0, 0.0);
    return 0;
}

static int case_xacc_exact_vs_quad(void)
{
    /* Addends with biased exponents in [b0, b0 + w] are multiples of 2^(max(b0,1) - 1075) below
     * 2^(b0 + w - 1022); with w <= 40 and n <= 2048 every partial sum needs at most
     * 11 + 40 + 54 < 113 bits, so the __float128 running sum is exact. */
    enum { NMAX = 2048 };
    static double v[NMAX];
    uint64_t s = 0x5eed0002;
    for (int trial = 0; trial < 400; trial++) {
        size_t n = 1 + (size_t)check_below(&s, NMAX);
        unsigned w = (unsigned)check_below(&s, 41);
        unsigned b0;
        switch (trial % 4) {
        case 0: /* subnormals and the smallest normals */
            b0 = 0;
            break;
        case 1: /* near the top: the sum may overflow to infinity */
            b0 = 2046 - w;
            break;
        default:
            b0 = (unsigned)check_below(&s, 2047 - w);
            break;
        }
        /* Every third trial biases the signs so the total is clearly negative. */
        for (size_t i = 0; i < n; i++) {
            v[i] = rand_window(&s, b0, w);
            if (trial % 3 == 0 && check_below(&s, 4) != 0)
                v[i] = -fabs(v[i]);
        }
        double want = quad_sum(v, n);
        double got = xacc_sum(v, n);
        if (!same_bits(got, want))
            fprintf(stderr, "trial %d: n %zu, b0 %u, w %u\n", trial, n, b0, w);
        CHECK_EQ_DBL(got, want);
    }
    return 0;
}

static int case_xacc_exact_vs_mpz(void)
{
    /* Unrestricted finite doubles, plus cancelling pairs so that small addends decide the
     * result; the oracle is an exact GMP integer rounded by hand. */
    enum { NMAX = 600 };
    static double v[2 * NMAX];
    uint64_t s = 0x5eed0003;
    for (int trial = 0; trial < 300; trial++) {
        size_t n = 1 + (size_t)check_below(&s, NMAX);
        for (size_t i = 0; i < n; i++)
            v[i] =
                trial % 2 ? rand_finite(&s) : rand_window(&s, (unsigned)check_below(&s, 1800), 240);
        size_t m = n;
        /* cancel every addend above 2^-900 in magnitude */
        if (trial % 3 != 0)
            for (size_t i = 0; i < n; i++)
                if (fabs(v[i]) > 0x1p-900)
                    v[m++] = -v[i];
        shuffle(v, m, &s);
        double want = mpz_sum(v, m);
        CHECK_EQ_DBL(xacc_sum(v, m), want);
    }
    /* The oracle itself against known sums. */
    const double a[] = {1.0, 0x1p-53, 0x1p-1074};
    CHECK_EQ_DBL(mpz_sum(a, 3), 1.0 + 0x1p-52);
    CHECK_EQ_DBL(mpz_sum(a, 2), 1.0);
    return 0;
}

static int case_xacc_order_invariance(void)
{
    /* Huge addends that cancel exactly plus mid-range ones: a plain double sum depends on the
     * order, the accumulator must not. */
    enum { N = 30011 };
    static double v[N + 1];
    uint64_t s = 0x5eed0004;
    size_t n = 0;
    while (n + 2 <= N) {
        if (check_below(&s, 3) == 0) {
            double h = rand_window(&s, 1600, 400);
            v[n++] = h;
            v[n++] = -h;
        } else {
            v[n++] = rand_window(&s, 900, 250);
        }
    }
    v[n++] = DBL_TRUE_MIN;
    double want = mpz_sum(v, n);
    int naive_differs = 0;
    double naive0 = 0;
    for (int perm = 0; perm < 6; perm++) {
        if (perm > 0)
            shuffle(v, n, &s);
        CHECK_EQ_DBL(xacc_sum(v, n), want);
        double naive = 0;
        for (size_t i = 0; i < n; i++)
            naive += v[i];
        if (perm == 0)
            naive0 = naive;
        else if (!same_bits(naive, naive0))
            naive_differs = 1;

        /* Split over p accumulators at random and merge them in three orders. */
        for (int p = 2; p <= 7; p++) {
            struct pk_xacc part[7], all[3];
            for (int k = 0; k < p; k++)
                pk_xacc_init(&part[k]);
            for (size_t i = 0; i < n; i++)
                pk_xacc_add(&part[check_below(&s, (uint64_t)p)], v[i]);
            for (int k = 0; k < 3; k++)
                pk_xacc_init(&all[k]);
            for (int k = 0; k < p; k++) {
                struct pk_xacc c = part[k];
                pk_xacc_merge(&all[0], &c);
            }
            for (int k = p - 1; k >= 0; k--) {
                struct pk_xacc c = part[k];
                pk_xacc_merge(&all[1], &c);
            }
            /* pairwise tree: part[k] += part[k + width] */
            for (int width = 1; width < p; width *= 2)
                for (int k = 0; k + width < p; k += 2 * width)
                    pk_xacc_merge(&part[k], &part[k + width]);
            pk_xacc_merge(&all[2], &part[0]);
            for (int k = 0; k < 3; k++)
                CHECK_EQ_DBL(pk_xacc_round(&all[k]), want);
        }
    }
    /* The inputs are hard enough that a plain double sum depends on the order. */
    CHECK(naive_differs);
    return 0;
}

static int case_xacc_ties_to_even(void)
{
    const double up1 = nextafter(1.0, 2.0);
    EXPECT_SUM(1.0, 1.0, 0x1p-53);                     /* tie, 1.0 is even */
    EXPECT_SUM(up1, 1.0, 0x1p-53, 0x1p-200);           /* just above the tie */
    EXPECT_SUM(up1, 1.0, 0x1p-53, 0x1p-1074);          /* sticky bit in the lowest digit */
    EXPECT_SUM(1.0, 1.0, 0x1p-53, -0x1p-200);          /* just below the tie */
    EXPECT_SUM(1.0 + 0x1p-51, 1.0 + 0x1p-52, 0x1p-53); /* tie, rounds up to even */
    EXPECT_SUM(1.0 + 0x1p-52, 1.0 + 0x1p-52, 0x1p-53, -0x1p-1074);
    EXPECT_SUM(2.0, 2.0 - 0x1p-52, 0x1p-53); /* rounding carries into the exponent */
    EXPECT_SUM(0x1p53, 0x1p53, 1.0);
    EXPECT_SUM(0x1p53 + 4, 0x1p53, 3.0);
    EXPECT_SUM(0x1p53 + 4, 0x1p53 + 2, 1.0);
    EXPECT_SUM(0x1p1000, 0x1p1000, 0x1p947);
    EXPECT_SUM(0x1p1000 + 0x1p949, 0x1p1000 + 0x1p948, 0x1p947);
    EXPECT_SUM(-1.0, -1.0, 0x1p-1074);        /* 1 - 2^-1074 rounds back to 1 */
    EXPECT_SUM(1.0 - 0x1p-53, 1.0, -0x1p-53); /* exact below a power of two */
    EXPECT_SUM(1.0, 1.0, -0x1p-54);           /* tie below 1: 1.0 is even */
    EXPECT_SUM(1.0 - 0x1p-53, 1.0, -0x1p-54, -0x1p-60);

    /* Random ties at every bit alignment: a + ulp(a)/2 (+- a tiny amount). */
    uint64_t s = 0x5eed0005;
    for (int i = 0; i < 20000; i++) {
        double a = fabs(rand_window(&s, 100, 1900));
        double next = nextafter(a, INFINITY);
        double half = (next - a) / 2;
        double tiny = ldexp(half, -1 - (int)check_below(&s, 60));
        int even = (to_bits(a) & 1) == 0;
        double d[3] = {a, half, 0.0};
        CHECK_OK(expect_sum(d, 2, even ? a : next, __LINE__));
        d[2] = tiny;
        CHECK_OK(expect_sum(d, 3, next, __LINE__));
        d[2] = -tiny;
        CHECK_OK(expect_sum(d, 3, a, __LINE__));
    }
    return 0;
}

static int case_xacc_cancellation(void)
{
    enum { N = 20000 };
    static double v[2 * N];
    uint64_t s = 0x5eed0006;
    for (size_t i = 0; i < N; i++) {
        v[2 * i] = rand_finite(&s);
        v[2 * i + 1] = -v[2 * i];
    }
    shuffle(v, 2 * N, &s);
    CHECK_EQ_DBL(xacc_sum(v, 2 * N), 0.0); /* +0, not -0 */

    /* huge + small - huge is the small value exactly */
    for (int i = 0; i < 2000; i++) {
        double h = rand_window(&s, 1500, 546);
        double small = rand_window(&s, 0, 1000);
        EXPECT_SUM(small, h, small, -h);
        EXPECT_SUM(small, small, h, -h);
    }
    EXPECT_SUM(DBL_TRUE_MIN, DBL_MAX, DBL_TRUE_MIN, -DBL_MAX);
    EXPECT_SUM(3.14159e-300, 1e300, 3.14159e-300, -1e300);
    EXPECT_SUM(2.0, 0x1p1000, 1.5, -0x1p1000, 0.5);
    EXPECT_SUM(0x1p-60, 1.0, 0x1p-60, -1.0);
    EXPECT_SUM(-0x1p-1022 + 0x1p-1074, -0x1p-1022, 0x1p-1074); /* largest subnormal */

    /* The huge and the small terms in different accumulators. */
    struct pk_xacc a, b;
    pk_xacc_init(&a);
    pk_xacc_init(&b);
    pk_xacc_add(&a, 0x1.23456789abcdep900);
    pk_xacc_add(&b, -0x1.23456789abcdep900);
    pk_xacc_add(&b, -0x1.fedcba9876543p-1000);
    pk_xacc_merge(&a, &b);
    CHECK_EQ_DBL(pk_xacc_round(&a), -0x1.fedcba9876543p-1000);
    return 0;
}

static int case_xacc_subnormals(void)
{
    /* k copies of the smallest subnormal sum to k 2^-1074 exactly */
    const uint64_t ks[] = {1, 2, 3, 1000003};
    for (size_t j = 0; j < sizeof ks / sizeof ks[0]; j++) {
        struct pk_xacc acc;
        pk_xacc_init(&acc);
        for (uint64_t i = 0; i < ks[j]; i++)
            pk_xacc_add(&acc, DBL_TRUE_MIN);
        CHECK_EQ_DBL(pk_xacc_round(&acc), ldexp((double)ks[j], -1074));
    }
    EXPECT_SUM(0x1p-1022, 0x1p-1023, 0x1p-1023); /* into the normal range */
    EXPECT_SUM(0x1p-1022 - 0x1p-1074, 0x1p-1023, 0x1p-1023 - 0x1p-1074);

    /* Random subnormals: the sum of n < 2^12 of them is below 2^64 units of 2^-1074, exact in
     * a __float128, and crosses into the normal range where it must be rounded. */
    enum { N = 4093 };
    static double v[N];
    uint64_t s = 0x5eed0007;
    for (int trial = 0; trial < 40; trial++) {
        size_t n = 1 + (size_t)check_below(&s, N);
        u128 units = 0;
        for (size_t i = 0; i < n; i++) {
            uint64_t m = 1 + check_below(&s, (UINT64_C(1) << 52) - 1);
            v[i] = from_bits(m);
            units += m;
            if (trial % 2 && check_below(&s, 3) == 0)
                v[i] = -v[i];
        }
        double want = quad_sum(v, n);
        CHECK_EQ_DBL(xacc_sum(v, n), want);
        CHECK_EQ_DBL(mpz_sum(v, n), want);
        if (trial % 2 == 0) /* all positive: the quad oracle against plain integer counting */
            CHECK_EQ_DBL(want, (double)((q128)units * (q128)DBL_TRUE_MIN));
    }
    return 0;
}

static int case_xacc_overflow(void)
{
    EXPECT_SUM(INFINITY, DBL_MAX, DBL_MAX);
    EXPECT_SUM(DBL_MAX, DBL_MAX, DBL_MAX, -DBL_MAX);
    EXPECT_SUM(DBL_MAX, DBL_MAX, -DBL_MAX, DBL_MAX);
    EXPECT_SUM(INFINITY, DBL_MAX, 0x1p970);            /* tie at the overflow threshold */
    EXPECT_SUM(DBL_MAX, DBL_MAX, 0x1p970, -0x1p-1074); /* just below it */
    EXPECT_SUM(DBL_MAX, DBL_MAX, 0x1p969);
    EXPECT_SUM(0x1p1023, DBL_MAX, DBL_MAX, -DBL_MAX, 0x1p1023, -DBL_MAX);

    /* 1000 x DBL_MAX - 999 x DBL_MAX: the intermediate is far beyond the double range. */
    struct pk_xacc acc;
    pk_xacc_init(&acc);
    for (int i = 0; i < 1000; i++)
        pk_xacc_add(&acc, DBL_MAX);
    struct pk_xacc copy = acc;
    CHECK_EQ_DBL(pk_xacc_round(&copy), INFINITY);
    for (int i = 0; i < 999; i++)
        pk_xacc_add(&acc, -DBL_MAX);
    CHECK_EQ_DBL(pk_xacc_round(&acc), DBL_MAX);
    pk_xacc_add(&acc, -DBL_MAX);
    pk_xacc_add(&acc, -DBL_MAX);
    CHECK_EQ_DBL(pk_xacc_round(&acc), -DBL_MAX);
    return 0;
}

static int case_xacc_inf_nan(void)
{
    const double snan = from_bits(UINT64_C(0x7ff0000000000001)); /* smallest NaN payload */
    const double neg_nan = from_bits(UINT64_C(0xfff8000000000000));
    EXPECT_SUM(INFINITY, INFINITY);
    EXPECT_SUM(INFINITY, INFINITY, INFINITY, 1.0, -DBL_MAX);
    /* infinities decide the result even when the finite part overflows the other way */
    EXPECT_SUM(-INFINITY, -INFINITY, DBL_MAX, DBL_MAX);
    EXPECT_SUM(NAN, INFINITY, -INFINITY);
    EXPECT_SUM(NAN, -INFINITY, 3.0, INFINITY);
    EXPECT_SUM(NAN, NAN);
    EXPECT_SUM(NAN, 1.0, NAN, 2.0);
    EXPECT_SUM(NAN, snan);
    EXPECT_SUM(NAN, neg_nan, INFINITY);
    EXPECT_SUM(NAN, INFINITY, NAN);

    /* The counts travel through merge. */
    struct pk_xacc a, b, c;
    pk_xacc_init(&a);
    pk_xacc_init(&b);
    pk_xacc_init(&c);
    pk_xacc_add(&a, INFINITY);
    pk_xacc_add(&a, 5.0);
    pk_xacc_add(&b, -INFINITY);
    struct pk_xacc a2 = a;
    CHECK_EQ_DBL(pk_xacc_round(&a2), INFINITY);
    pk_xacc_merge(&a, &b);
    CHECK(isnan(pk_xacc_round(&a)));
    pk_xacc_add(&c, 1.0);
    pk_xacc_add(&b, 7.0);
    pk_xacc_merge(&c, &b);
    CHECK_EQ_DBL(pk_xacc_round(&c), -INFINITY);
    pk_xacc_init(&b);
    pk_xacc_add(&b, snan);
    pk_xacc_merge(&c, &b);
    CHECK(isnan(pk_xacc_round(&c)));
    return 0;
}

static int case_xacc_negative_totals(void)
{
    EXPECT_SUM(-1.25, -1.5, 0.25);
    EXPECT_SUM(-0x1p100, -0x1p100, 0x1p-100);
    EXPECT_SUM(-0x1p-1074, 0x1p-1074, -0x1p-1073);
    EXPECT_SUM(-(0x1p64 - 0x1p11), 0x1p64, -0x1p65, 0x1p11);
    /* borrows ripple through many zero digits */
    EXPECT_SUM(-0x1p1000 + 0x1p948, -0x1p1000, 0x1p-1074, 0x1p948);

    enum { N = 5003 };
    static double v[N];
    uint64_t s = 0x5eed0008;
    int negative = 0;
    for (int trial = 0; trial < 60; trial++) {
        size_t n = 1 + (size_t)check_below(&s, N);
        unsigned b0 = (unsigned)check_below(&s, 2000);
        for (size_t i = 0; i < n; i++) {
            v[i] = rand_window(&s, b0, 40);
            if (check_below(&s, 5) < 3) /* 60% negative */
                v[i] = -fabs(v[i]);
        }
        double want = quad_sum(v, n);
        double got = xacc_sum(v, n);
        CHECK_EQ_DBL(got, want);
        negative += got < 0;
    }
    /* the inputs are fixed: most totals are negative, so the negative path was exercised */
    CHECK(negative >= 40);
    return 0;
}

static int case_xacc_many_additions(void)
{
    /* 3 million integers in [2^52, 2^53) fill whole 32-bit digits on every add. Merging copies
     * of that accumulator 1000 times is 3e9 additions' worth of carry growth, beyond what int64
     * digits hold without normalisation; adding the values again directly while the merged
     * accumulator is near its pending limit exercises normalisation inside pk_xacc_add. */
    enum { N = 3000017, MERGES = 1000 };
    static double v[N];
    uint64_t s = 0x5eed0009;
    u128 sum = 0;
    struct pk_xacc one;
    pk_xacc_init(&one);
    for (size_t i = 0; i < N; i++) {
        uint64_t m = (UINT64_C(1) << 52) | (check_next_u64(&s) >> 12);
        v[i] = (double)m;
        sum += m;
        pk_xacc_add(&one, v[i]);
    }
    CHECK(one.pending <= (INT64_C(1) << 30));
    struct pk_xacc copy = one;
    CHECK_EQ_DBL(pk_xacc_round(&copy), (double)(q128)sum);

    struct pk_xacc big;
    pk_xacc_init(&big);
    int added_directly = 0;
    for (int r = 0; r < MERGES; r++) {
        if (!added_directly && big.pending + N >= (INT64_C(1) << 30)) {
            /* The next N direct additions cross the pending limit, so pk_xacc_add must
             * normalise part way; afterwards pending counts only the additions since then. */
            for (size_t i = 0; i < N; i++)
                pk_xacc_add(&big, v[i]);
            added_directly = 1;
            CHECK(big.pending < N);
        }
        copy = one;
        pk_xacc_merge(&big, &copy);
        CHECK(big.pending <= (INT64_C(1) << 30));
        /* the merged-in copy keeps its value even when merge normalised it */
        if (r % 97 == 0) {
            double c = pk_xacc_round(&copy);
            CHECK_EQ_DBL(c, (double)(q128)sum);
        }
    }
    CHECK(added_directly);
    /* (MERGES + 1) N 2^53 < 2^85: exact in a __float128 */
    u128 total = sum * (MERGES + 1);
    CHECK_EQ_DBL(pk_xacc_round(&big), (double)(q128)total);

    /* The same with every value negated, merged in the other direction. */
    struct pk_xacc neg;
    pk_xacc_init(&neg);
    for (size_t i = 0; i < N; i++)
        pk_xacc_add(&neg, -v[i]);
    struct pk_xacc nbig;
    pk_xacc_init(&nbig);
    for (int r = 0; r < MERGES; r++) {
        struct pk_xacc into = neg;
        pk_xacc_merge(&into, &nbig);
        nbig = into;
        CHECK(nbig.pending <= (INT64_C(1) << 30));
    }
    CHECK_EQ_DBL(pk_xacc_round(&nbig), -(double)(q128)(sum * MERGES));
    return 0;
}

static int case_xacc_normalize_keeps_value(void)
{
    enum { N = 10007 };
    static double v[N];
    uint64_t s = 0x5eed000a;
    for (size_t i = 0; i < N; i++)
        v[i] = rand_window(&s, 700, 600);
    double want = mpz_sum(v, N);

    /* normalise, round and merge at random points along the way */
    struct pk_xacc acc, other;
    pk_xacc_init(&acc);
    for (size_t i = 0; i < N; i++) {
        pk_xacc_add(&acc, v[i]);
        uint64_t r = check_below(&s, 500);
        if (r == 0)
            pk_xacc_normalize(&acc);
        else if (r == 1)
            (void)pk_xacc_round(&acc);
        else if (r == 2) {
            pk_xacc_init(&other);
            pk_xacc_merge(&acc, &other);
        }
    }
    CHECK_EQ_DBL(pk_xacc_round(&acc), want);
    CHECK_EQ_DBL(pk_xacc_round(&acc), want); /* rounding twice changes nothing */

    /* after normalisation every digit but the top one lies in [0, 2^32) */
    pk_xacc_normalize(&acc);
    for (int k = 0; k < PK_XACC_DIGITS - 1; k++)
        CHECK(acc.digit[k] >= 0 && acc.digit[k] < (INT64_C(1) << 32));
    CHECK(acc.pending >= 0 && acc.pending < (INT64_C(1) << 30));
    return 0;
}

static int case_xacc_int64_words(void)
{
    /* The struct is PK_XACC_WORDS int64 words, and adding the words element-wise (what an MPI
     * reduction does) equals pk_xacc_merge. */
    CHECK_EQ_INT(sizeof(struct pk_xacc), PK_XACC_WORDS * sizeof(int64_t));
    enum { RANKS = 3, N = 4001 };
    static double v[RANKS * N];
    uint64_t s = 0x5eed000b;
    struct pk_xacc part[RANKS], merged;
    int64_t words[PK_XACC_WORDS] = {0};
    pk_xacc_init(&merged);
    for (int r = 0; r < RANKS; r++) {
        pk_xacc_init(&part[r]);
        for (size_t i = 0; i < N; i++) {
            v[r * N + i] = rand_window(&s, 400, 1000);
            pk_xacc_add(&part[r], v[r * N + i]);
        }
        if (r == 1)
            pk_xacc_add(&part[r], INFINITY);
        pk_xacc_normalize(&part[r]);
        int64_t w[PK_XACC_WORDS];
        memcpy(w, &part[r], sizeof w);
        for (int k = 0; k < PK_XACC_WORDS; k++)
            words[k] += w[k];
        struct pk_xacc c = part[r];
        pk_xacc_merge(&merged, &c);
    }
    struct pk_xacc reduced;
    memcpy(&reduced, words, sizeof reduced);
    CHECK_EQ_DBL(pk_xacc_round(&reduced), INFINITY);
    CHECK_EQ_DBL(pk_xacc_round(&merged), INFINITY);
    reduced.npos_inf = merged.npos_inf = 0;
    double want = mpz_sum(v, RANKS * N);
    CHECK_EQ_DBL(pk_xacc_round(&reduced), want);
    CHECK_EQ_DBL(pk_xacc_round(&merged), want);
    return 0;
}

static const struct check_case cases[] = {
    {"xacc_empty_and_single", case_xacc_empty_and_single},
    {"xacc_exact_vs_quad", case_xacc_exact_vs_quad},
    {"xacc_exact_vs_mpz", case_xacc_exact_vs_mpz},
    {"xacc_order_invariance", case_xacc_order_invariance},
    {"xacc_ties_to_even", case_xacc_ties_to_even},
    {"xacc_cancellation", case_xacc_cancellation},
    {"xacc_subnormals", case_xacc_subnormals},
    {"xacc_overflow", case_xacc_overflow},
    {"xacc_inf_nan", case_xacc_inf_nan},
    {"xacc_negative_totals", case_xacc_negative_totals},
    {"xacc_many_additions", case_xacc_many_additions},
    {"xacc_normalize_keeps_value", case_xacc_normalize_keeps_value},
    {"xacc_int64_words", case_xacc_int64_words},
};

int main(int argc, char **argv)
{
    return CHECK_MAIN(cases);
}
