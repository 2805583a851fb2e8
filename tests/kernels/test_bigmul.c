/* SPDX-License-Identifier: MIT */
/* Tests of the large-integer products (kernels/bigmul.h): every path (GMP's below 3000 limbs,
 * FLINT's on one thread above, FLINT's threaded from 20000) against mpz_mul, with the result
 * aliasing either operand or both, balanced and lopsided, with FLINT on and off. */
#include "bigmul.h"
#include "check.h"
#include "parkit/features.h"

#include <gmp.h>

/* limb counts on both sides of each threshold, and one lopsided pair */
static const size_t sizes[][2] = {
    {1, 1},         {2999, 2999},   {3000, 3000},   {3001, 5000},   {19999, 20001},
    {20000, 20000}, {40000, 33333}, {3000, 120000}, {120000, 3100},
};

static int product_matches(gmp_randstate_t st, size_t nx, size_t ny, int threads)
{
    mpz_t x, y, r, want;
    mpz_inits(x, y, r, want, NULL);
    mpz_rrandomb(x, st, (mp_bitcnt_t)nx * GMP_NUMB_BITS);
    mpz_urandomb(y, st, (mp_bitcnt_t)ny * GMP_NUMB_BITS);
    mpz_setbit(y, (mp_bitcnt_t)ny * GMP_NUMB_BITS - 1); /* exactly ny limbs */
    mpz_mul(want, x, y);
    pk_bigmul(r, x, y, threads);
    CHECK(mpz_cmp(r, want) == 0);
    mpz_set(r, y); /* r aliases y */
    pk_bigmul(r, x, r, threads);
    CHECK(mpz_cmp(r, want) == 0);
    mpz_set(r, x); /* r aliases x */
    pk_bigmul(r, r, y, threads);
    CHECK(mpz_cmp(r, want) == 0);
    mpz_mul(want, x, x);
    mpz_set(r, x); /* a square in place */
    pk_bigmul(r, r, r, threads);
    CHECK(mpz_cmp(r, want) == 0);
    mpz_clears(x, y, r, want, NULL);
    return 0;
}

static int case_matches_gmp(void)
{
    gmp_randstate_t st;
    gmp_randinit_default(st);
    for (int flint = 0; flint <= 1; flint++) {
        CHECK_EQ_INT(pk_bigmul_flint(flint), flint && PK_FEATURE_FLINT);
        for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
            for (int threads = 1; threads <= 2; threads++)
                CHECK_OK(product_matches(st, sizes[i][0], sizes[i][1], threads));
    }
    gmp_randclear(st);
    return 0;
}

static int case_zero_and_signs(void)
{
    mpz_t x, y, r;
    mpz_inits(x, y, r, NULL);
    mpz_ui_pow_ui(x, 3, 200000); /* about 5000 limbs */
    pk_bigmul(r, x, y, 2);       /* y = 0 */
    CHECK(mpz_sgn(r) == 0);
    mpz_neg(y, x);
    pk_bigmul(r, x, y, 1);
    mpz_mul(x, x, y);
    CHECK(mpz_cmp(r, x) == 0 && mpz_sgn(r) < 0);
    mpz_clears(x, y, r, NULL);
    return 0;
}

static const struct check_case cases[] = {
    {"matches_gmp", case_matches_gmp},
    {"zero_and_signs", case_zero_and_signs},
};

int main(int argc, char **argv)
{
    return CHECK_MAIN(cases);
}
