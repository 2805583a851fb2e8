/* SPDX-License-Identifier: MIT */
/* Tests of the left factorial kernels (parkit/factsum.h).
 *
 * The oracle for !n = sum_{i<n} i! is the plain serial recurrence in GMP (s += f; f *= i), which
 * shares nothing with binary splitting; the OEIS values (A003422) anchor it. For a range [lo, hi)
 * that does not start at 1, T(lo, m) = (!m - !lo) / (lo-1)!, checked as a product. The decimal
 * conversion is checked against mpz_get_str, the modular oracle against the naive values and
 * against a 128-bit modmul loop written here. */
#include "check.h"
#include "parkit/factsum.h"
#include "parkit/features.h"
#include "parkit/status.h"

#include <gmp.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__extension__ typedef unsigned __int128 u128;

/* ---- helpers ------------------------------------------------------------------------------ */

static const uint64_t oeis[] = {0, 1, 2, 4, 10, 34, 154, 874, 5914, 46234, 409114};

static void mpz_set_u64(mpz_t z, uint64_t v)
{
    mpz_import(z, 1, -1, sizeof v, 0, 0, &v);
}

static uint64_t mpz_get_u64(const mpz_t z) /* z in [0, 2^64) */
{
    uint64_t v = 0;
    mpz_export(&v, NULL, -1, sizeof v, 0, 0, z);
    return v;
}

/* Room for n! and !(n+1) (< 2 n!): n log2(n) bits plus slack. Reserving it up front spares GMP
 * one realloc every few steps, which ASan makes costly (each one copies and faults in pages). */
static mp_bitcnt_t fact_room(uint64_t n)
{
    return (mp_bitcnt_t)((double)n * (log2((double)n + 1) + 1)) + 256;
}

/* out[i] = !ns[i] for ascending ns, by one serial pass: s = sum_{t<i} t!, f = i!. */
static void naive_left_factorials(const uint64_t *ns, size_t count, mpz_t *out)
{
    mpz_t s, f;
    mpz_init2(s, count ? fact_room(ns[count - 1]) : 64);
    mpz_init2(f, count ? fact_room(ns[count - 1]) : 64);
    mpz_set_ui(f, 1);
    size_t next = 0;
    for (uint64_t i = 0; next < count; i++) {
        while (next < count && ns[next] == i)
            mpz_set(out[next++], s);
        mpz_add(s, s, f);
        mpz_mul_ui(f, f, (unsigned long)(i + 1));
    }
    mpz_clears(s, f, NULL);
}

static void naive_left_factorial(mpz_t out, uint64_t n)
{
    mpz_t f;
    mpz_init2(f, fact_room(n));
    mpz_set_ui(f, 1);
    mpz_realloc2(out, fact_room(n));
    mpz_set_ui(out, 0);
    for (uint64_t i = 1; i <= n; i++) {
        mpz_add(out, out, f);
        mpz_mul_ui(f, f, (unsigned long)i);
    }
    mpz_clear(f);
}

/* A zeroed part, so that pk_factsum_part_free is safe whether or not a call initialised it. */
static struct pk_factsum_part empty_part(void)
{
    struct pk_factsum_part p;
    memset(&p, 0, sizeof p);
    return p;
}

/* 0 when a and b agree in range, marks, T, mark_T and (when cmp_P) has_P and P. */
static int same_part(const struct pk_factsum_part *a, const struct pk_factsum_part *b, bool cmp_P)
{
    CHECK(a->live && b->live);
    CHECK_EQ_INT(a->lo, b->lo);
    CHECK_EQ_INT(a->hi, b->hi);
    CHECK_EQ_INT(a->nmarks, b->nmarks);
    for (size_t i = 0; i < a->nmarks; i++) {
        CHECK_EQ_INT(a->mark[i], b->mark[i]);
        CHECK(mpz_cmp(a->mark_T[i], b->mark_T[i]) == 0);
    }
    CHECK(mpz_cmp(a->T, b->T) == 0);
    if (cmp_P) {
        CHECK_EQ_INT(a->has_P, b->has_P);
        if (a->has_P)
            CHECK(mpz_cmp(a->P, b->P) == 0);
    }
    return 0;
}

static bool in_list(const uint64_t *v, size_t n, uint64_t x)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == x)
            return true;
    return false;
}

/* Merges parts[r] := parts[r] followed by parts[q] with the driver's rules: the boundary is
 * marked when it is one of `marks`, lies strictly inside the whole range (1, hi), is not the
 * left part's own lo (a part's marks lie inside it) and was not marked already through an empty
 * part. */
static int merge_at(struct pk_factsum_part *parts, int r, int q, const uint64_t *marks,
                    size_t nmarks, uint64_t hi, bool need_P, uint64_t *s)
{
    struct pk_factsum_part *left = &parts[r];
    uint64_t b = parts[q].lo;
    bool marked = in_list(marks, nmarks, b) && b > left->lo && b < hi &&
                  !(left->nmarks > 0 && left->mark[left->nmarks - 1] == b);
    int t = 1 + (int)check_below(s, 4);
    CHECK_OK(pk_factsum_part_merge(left, &parts[q], marked, need_P, t));
    CHECK_EQ_INT(left->has_P, need_P);
    CHECK(!parts[q].live); /* consumed */
    return 0;
}

/* Folds parts[0..k) into parts[0], left to right or up a binary tree as the driver does (its
 * rank r absorbs rank r + span at each level); every merge but the last keeps P. */
static int fold_parts(struct pk_factsum_part *parts, int k, bool tree, const uint64_t *marks,
                      size_t nmarks, bool final_P, uint64_t *s)
{
    uint64_t hi = parts[k - 1].hi;
    if (!tree) {
        for (int i = 1; i < k; i++)
            CHECK_OK(merge_at(parts, 0, i, marks, nmarks, hi, i + 1 < k || final_P, s));
        return 0;
    }
    for (int span = 1; span < k; span *= 2)
        for (int r = 0; r + span < k; r += 2 * span)
            CHECK_OK(merge_at(parts, r, r + span, marks, nmarks, hi, 2 * span < k || final_P, s));
    return 0;
}

/* ---- binary splitting against the serial oracle ------------------------------------------- */

static int case_part_single_matches_naive(void)
{
    /* 33 and 34 straddle the leaf size; 5003 and 40009 are prime and make tasks. */
    static const uint64_t ns[] = {1, 2, 3, 10, 33, 34, 100, 1000, 5003, 40009};
    enum { NN = sizeof ns / sizeof ns[0] };
    mpz_t want[NN], got;
    for (size_t i = 0; i < NN; i++)
        mpz_init(want[i]);
    mpz_init(got);
    naive_left_factorials(ns, NN, want);
    for (size_t i = 0; i < NN; i++) {
        for (int t = 1; t <= 4; t++) {
            struct pk_factsum_part part = empty_part();
            CHECK_OK(pk_factsum_part_compute(&part, 1, ns[i], NULL, 0, false, t, 0));
            CHECK(part.live);
            CHECK_EQ_INT(part.lo, 1);
            CHECK_EQ_INT(part.hi, ns[i]);
            CHECK_EQ_INT(part.nmarks, 0);
            CHECK(!part.has_P || ns[i] == 1); /* an empty part keeps its P = 1 */
            mpz_add_ui(got, part.T, 1);
            CHECK(mpz_cmp(got, want[i]) == 0);
            pk_factsum_part_free(&part);
            CHECK(!part.live);
        }
    }
    /* OEIS A003422 for n = 0..10: the oracle, and binary splitting for n >= 1 */
    for (uint64_t n = 0; n < sizeof oeis / sizeof oeis[0]; n++) {
        naive_left_factorial(got, n);
        CHECK(mpz_cmp_ui(got, (unsigned long)oeis[n]) == 0);
        if (n == 0)
            continue;
        struct pk_factsum_part part = empty_part();
        CHECK_OK(pk_factsum_part_compute(&part, 1, n, NULL, 0, false, 1 + (int)(n % 4), 0));
        mpz_add_ui(got, part.T, 1);
        CHECK(mpz_cmp_ui(got, (unsigned long)oeis[n]) == 0);
        pk_factsum_part_free(&part);
    }
    pk_factsum_part_free(NULL);
    for (size_t i = 0; i < NN; i++)
        mpz_clear(want[i]);
    mpz_clear(got);
    return 0;
}

static int case_part_marks_prefix(void)
{
    /* marks 1 and 5000 lie outside (1, 4001) and 4001 is the end itself: all ignored */
    static const uint64_t marks[] = {1, 7, 100, 1000, 2500, 4001, 5000};
    static const uint64_t inside[] = {7, 100, 1000, 2500};
    static const uint64_t ns[] = {7, 100, 1000, 2500, 4001};
    enum { NM = sizeof marks / sizeof marks[0], NI = 4, NN = 5 };
    mpz_t want[NN], fact, got;
    for (size_t i = 0; i < NN; i++)
        mpz_init(want[i]);
    mpz_inits(fact, got, NULL);
    naive_left_factorials(ns, NN, want);
    mpz_fac_ui(fact, 4000);
    for (int t = 1; t <= 4; t++) {
        for (int need_P = 0; need_P <= 1; need_P++) {
            struct pk_factsum_part part = empty_part();
            CHECK_OK(pk_factsum_part_compute(&part, 1, 4001, marks, NM, need_P, t, 0));
            CHECK_EQ_INT(part.lo, 1);
            CHECK_EQ_INT(part.hi, 4001);
            CHECK_EQ_INT(part.nmarks, NI);
            for (size_t i = 0; i < NI; i++) {
                CHECK_EQ_INT(part.mark[i], inside[i]);
                mpz_add_ui(got, part.mark_T[i], 1);
                CHECK(mpz_cmp(got, want[i]) == 0);
            }
            mpz_add_ui(got, part.T, 1);
            CHECK(mpz_cmp(got, want[NN - 1]) == 0);
            CHECK_EQ_INT(part.has_P, need_P);
            if (need_P)
                CHECK(mpz_cmp(part.P, fact) == 0);
            pk_factsum_part_free(&part);
        }
    }
    /* A range not starting at 1: T(lo, m) * (lo-1)! = !m - !lo, and P = (hi-1)! / (lo-1)!.
     * Marks at lo and hi themselves are not inside. */
    static const uint64_t lo = 50, hi = 3001;
    static const uint64_t marks2[] = {49, 50, 51, 83, 2999, 3000, 3001};
    static const uint64_t ns2[] = {50, 51, 83, 2999, 3000, 3001};
    enum { NM2 = sizeof marks2 / sizeof marks2[0], NN2 = sizeof ns2 / sizeof ns2[0] };
    mpz_t want2[NN2], lofact;
    for (size_t i = 0; i < NN2; i++)
        mpz_init(want2[i]);
    mpz_init(lofact);
    naive_left_factorials(ns2, NN2, want2);
    mpz_fac_ui(lofact, lo - 1);
    mpz_fac_ui(fact, hi - 1);
    for (int t = 1; t <= 4; t += 3) {
        struct pk_factsum_part part = empty_part();
        CHECK_OK(pk_factsum_part_compute(&part, lo, hi, marks2, NM2, true, t, 0));
        CHECK_EQ_INT(part.nmarks, NN2 - 2);
        for (size_t i = 0; i < part.nmarks; i++) {
            CHECK_EQ_INT(part.mark[i], ns2[i + 1]);
            mpz_mul(got, part.mark_T[i], lofact);
            mpz_add(got, got, want2[0]);
            CHECK(mpz_cmp(got, want2[i + 1]) == 0);
        }
        mpz_mul(got, part.T, lofact);
        mpz_add(got, got, want2[0]);
        CHECK(mpz_cmp(got, want2[NN2 - 1]) == 0);
        mpz_mul(got, part.P, lofact);
        CHECK(mpz_cmp(got, fact) == 0);
        pk_factsum_part_free(&part);
    }
    for (size_t i = 0; i < NN; i++)
        mpz_clear(want[i]);
    for (size_t i = 0; i < NN2; i++)
        mpz_clear(want2[i]);
    mpz_clears(fact, got, lofact, NULL);
    return 0;
}

/* Large factors up to the largest n and powers of two among them (2^29, 2^10: P keeps no
 * factor of two inside the splitting, so every one must come back): P and T against the plain
 * products, with a mark inside, on 1 and 2 threads. */
static int case_part_high_factors(void)
{
    static const uint64_t ranges[][2] = {
        {(UINT64_C(1) << 29) - 300, (UINT64_C(1) << 29) + 301},
        {PK_FACTSUM_MAX_N - 700, PK_FACTSUM_MAX_N},
        {1024, 1024 + 129},
    };
    mpz_t P, T, mark_T;
    mpz_inits(P, T, mark_T, NULL);
    for (size_t r = 0; r < sizeof ranges / sizeof ranges[0]; r++) {
        uint64_t lo = ranges[r][0], hi = ranges[r][1], mark = lo + (hi - lo) / 3;
        mpz_set_ui(P, 1);
        mpz_set_ui(T, 0);
        for (uint64_t k = lo; k < hi; k++) {
            if (k == mark)
                mpz_set(mark_T, T);
            mpz_mul_ui(P, P, (unsigned long)k);
            mpz_add(T, T, P);
        }
        for (int t = 1; t <= 2; t++) {
            struct pk_factsum_part part = empty_part();
            CHECK_OK(pk_factsum_part_compute(&part, lo, hi, &mark, 1, true, t, 0));
            CHECK_EQ_INT(part.nmarks, 1);
            CHECK(mpz_cmp(part.mark_T[0], mark_T) == 0);
            CHECK(mpz_cmp(part.T, T) == 0);
            CHECK(mpz_cmp(part.P, P) == 0);
            pk_factsum_part_free(&part);
        }
    }
    mpz_clears(P, T, mark_T, NULL);
    return 0;
}

/* Products of over 20,000 limbs (FLINT's when built with it, loaded on first use, threaded for a
 * lone root; GMP's in its place): P against GMP's factorial, T and a mark's T against the modular
 * oracle, on 1 and 2 threads, with and without marks (one segment: the lone root). */
static int large_products_with(uint64_t hi, uint64_t mark, const uint64_t *primes,
                               const uint64_t *want, const mpz_t fact, bool flint)
{
    mpz_t v;
    mpz_init(v);
    pk_factsum_flint(flint);
    for (int t = 1; t <= 2; t++) {
        for (size_t nm = 0; nm <= 1; nm++) {
            struct pk_factsum_part part = empty_part();
            CHECK_OK(pk_factsum_part_compute(&part, 1, hi, &mark, nm, nm == 1, t, 0));
            CHECK_EQ_INT(part.nmarks, nm);
            for (int j = 0; j < 4; j++) {
                mpz_add_ui(v, part.T, 1);
                CHECK_EQ_INT(mpz_fdiv_ui(v, primes[j]), want[j * 2 + 1]);
                if (nm) {
                    mpz_add_ui(v, part.mark_T[0], 1);
                    CHECK_EQ_INT(mpz_fdiv_ui(v, primes[j]), want[j * 2]);
                }
            }
            if (nm)
                CHECK(mpz_cmp(part.P, fact) == 0);
            pk_factsum_part_free(&part);
        }
    }
    pk_factsum_flint(true);
    mpz_clear(v);
    return 0;
}

static int case_part_large_products(void)
{
    static const uint64_t hi = 400001, mark = 150001;
    uint64_t primes[4], ns[2] = {mark, hi}, want[8];
    pk_oracle_primes(primes, 4);
    CHECK_OK(pk_factsum_mod(ns, 2, primes, 4, 1, want));
    mpz_t fact;
    mpz_init(fact);
    mpz_fac_ui(fact, (unsigned long)hi - 1);
    /* a build with FLINT must find it at run time (its soname is right) */
    CHECK_EQ_INT(pk_factsum_flint(true), PK_FEATURE_FLINT);
    for (int use = 0; use <= 1; use++)
        CHECK_OK(large_products_with(hi, mark, primes, want, fact, use));
    mpz_clear(fact);
    return 0;
}

static int case_merge_equals_whole(void)
{
    static const uint64_t marks[] = {2, 5, 33, 34, 50, 499, 1000, 2047, 4096, 10007};
    enum { NM = sizeof marks / sizeof marks[0], KMAX = 9 };
    /* 1, 2, 3 and 4 are smaller than most k: several parts come out empty */
    static const uint64_t Ns[] = {1, 2, 3, 4, 37, 1000, 4096, 20011};
    uint64_t s = 0xfac75e11;
    mpz_t fact;
    mpz_init(fact);
    for (size_t j = 0; j < sizeof Ns / sizeof Ns[0]; j++) {
        const uint64_t N = Ns[j];
        struct pk_factsum_part whole = empty_part();
        CHECK_OK(pk_factsum_part_compute(&whole, 1, N, marks, NM, false, 2, 0));
        mpz_fac_ui(fact, (unsigned long)(N - 1));
        /* cut sets: cost-balanced for k = 2..5, then manual ones (empty parts, cuts at marks,
         * random cuts) */
        for (int variant = 0; variant < 8; variant++) {
            uint64_t pts[KMAX + 1];
            int k;
            if (variant < 4) {
                k = 2 + variant;
                pk_factsum_split(1, N, k, NULL, pts);
            } else if (variant == 4) { /* empty first and last parts, a cut at a mark */
                k = 4;
                uint64_t m = N > 33 ? 33 : N;
                const uint64_t v[] = {1, 1, m, N, N};
                memcpy(pts, v, sizeof v);
            } else if (variant == 5) { /* a marked boundary twice (via an empty part) */
                k = 5;
                uint64_t a = N > 5 ? 5 : N, b = N > 1000 ? 1000 : N;
                const uint64_t v[] = {1, a, a, b, b, N};
                memcpy(pts, v, sizeof v);
            } else { /* random ascending cuts, duplicates allowed */
                k = KMAX;
                pts[0] = 1;
                pts[k] = N;
                for (int i = 1; i < k; i++)
                    pts[i] = 1 + check_below(&s, N);
                for (int i = 2; i < k; i++)
                    for (int m = i; m > 1 && pts[m - 1] > pts[m]; m--) {
                        uint64_t tmp = pts[m];
                        pts[m] = pts[m - 1];
                        pts[m - 1] = tmp;
                    }
            }
            for (int i = 0; i < k; i++)
                CHECK(pts[i] <= pts[i + 1]);
            CHECK_EQ_INT(pts[0], 1);
            CHECK_EQ_INT(pts[k], N);
            for (int mode = 0; mode < 4; mode++) {
                bool tree = mode & 1, final_P = mode & 2;
                struct pk_factsum_part parts[KMAX];
                for (int i = 0; i < k; i++) {
                    parts[i] = empty_part();
                    int t = 1 + (int)check_below(&s, 4);
                    /* left to right, the last part needs no P unless the union keeps it */
                    bool need_P = tree || i + 1 < k || final_P;
                    CHECK_OK(pk_factsum_part_compute(&parts[i], pts[i], pts[i + 1], marks, NM,
                                                     need_P, t, 0));
                }
                CHECK_OK(fold_parts(parts, k, tree, marks, NM, final_P, &s));
                CHECK_OK(same_part(&parts[0], &whole, false));
                CHECK_EQ_INT(parts[0].has_P, final_P);
                if (final_P)
                    CHECK(mpz_cmp(parts[0].P, fact) == 0);
                for (int i = 1; i < k; i++)
                    CHECK(!parts[i].live); /* consumed */
                pk_factsum_part_free(&parts[0]);
            }
        }
        pk_factsum_part_free(&whole);
    }
    mpz_clear(fact);
    return 0;
}

/* ---- serialisation ------------------------------------------------------------------------ */

/* Unpacks an exact-size heap copy of the first len bytes, so ASan sees any read past them. */
static int unpack_copy(struct pk_factsum_part *part, const void *bytes, size_t len)
{
    void *copy = malloc(len ? len : 1);
    if (!copy)
        return PK_ENOMEM;
    memcpy(copy, bytes, len);
    int rc = pk_factsum_part_unpack(part, len ? copy : NULL, len);
    free(copy);
    return rc;
}

static int case_pack_roundtrip(void)
{
    static const uint64_t marks[] = {150, 700, 2999, 5000};
    struct pk_factsum_part parts[4];
    parts[0] = empty_part();
    parts[1] = empty_part();
    parts[2] = empty_part();
    parts[3] = empty_part();
    CHECK_OK(pk_factsum_part_compute(&parts[0], 100, 3000, marks, 4, true, 3, 0));
    CHECK_OK(pk_factsum_part_compute(&parts[1], 100, 3000, marks, 4, false, 2, 0));
    CHECK_OK(pk_factsum_part_compute(&parts[2], 5, 5, NULL, 0, true, 1, 0)); /* T = 0 */
    CHECK_OK(pk_factsum_part_compute(&parts[3], 1, 2, NULL, 0, true, 1, 0)); /* T = P = 1 */
    CHECK_EQ_INT(parts[0].nmarks, 3);
    for (int j = 0; j < 4; j++) {
        void *buf = NULL;
        size_t nb = 0;
        CHECK_OK(pk_factsum_part_pack(&parts[j], &buf, &nb));
        CHECK(buf != NULL && nb >= 48);
        struct pk_factsum_part back = empty_part();
        CHECK_OK(unpack_copy(&back, buf, nb));
        CHECK_OK(same_part(&back, &parts[j], true));
        pk_factsum_part_free(&back);

        /* every truncation is rejected */
        for (size_t len = 0; len < nb; len++) {
            back = empty_part();
            CHECK_EQ_INT(unpack_copy(&back, buf, len), PK_EINVAL);
            pk_factsum_part_free(&back);
        }
        /* nmarks beyond what the buffer could hold */
        uint64_t *h = buf, save = h[3];
        const uint64_t bad_nmarks[] = {save + nb / 16, UINT64_C(1) << 32, UINT64_MAX};
        for (size_t i = 0; i < sizeof bad_nmarks / sizeof bad_nmarks[0]; i++) {
            h[3] = bad_nmarks[i];
            back = empty_part();
            CHECK_EQ_INT(unpack_copy(&back, buf, nb), PK_EINVAL);
            pk_factsum_part_free(&back);
        }
        h[3] = save;
        /* any value's byte count grown: the values no longer fit */
        for (size_t v = 0; v < 2 + parts[j].nmarks; v++) {
            uint64_t *size = &h[4 + parts[j].nmarks + v];
            const uint64_t grow[] = {1, 8, nb, UINT64_C(1) << 40, UINT64_C(1) << 63};
            save = *size;
            for (size_t i = 0; i < sizeof grow / sizeof grow[0]; i++) {
                *size = save + grow[i];
                back = empty_part();
                CHECK_EQ_INT(unpack_copy(&back, buf, nb), PK_EINVAL);
                pk_factsum_part_free(&back);
            }
            *size = save;
        }
        back = empty_part();
        CHECK_OK(unpack_copy(&back, buf, nb)); /* restored */
        CHECK_OK(same_part(&back, &parts[j], true));
        pk_factsum_part_free(&back);
        free(buf);
    }

    /* The driver's path: the right part travels packed, then merges. */
    struct pk_factsum_part whole = empty_part(), left = empty_part(), sent = empty_part(),
                           right = empty_part();
    static const uint64_t marks2[] = {10, 1234, 2345};
    CHECK_OK(pk_factsum_part_compute(&whole, 1, 4000, marks2, 3, false, 2, 0));
    CHECK_OK(pk_factsum_part_compute(&left, 1, 1234, marks2, 3, true, 2, 0));
    CHECK_OK(pk_factsum_part_compute(&sent, 1234, 4000, marks2, 3, false, 3, 0));
    void *buf = NULL;
    size_t nb = 0;
    CHECK_OK(pk_factsum_part_pack(&sent, &buf, &nb));
    pk_factsum_part_free(&sent);
    CHECK_OK(unpack_copy(&right, buf, nb));
    free(buf);
    CHECK_OK(pk_factsum_part_merge(&left, &right, true, false, 4));
    CHECK_OK(same_part(&left, &whole, false));
    pk_factsum_part_free(&left);
    pk_factsum_part_free(&whole);
    for (int j = 0; j < 4; j++)
        pk_factsum_part_free(&parts[j]);
    return 0;
}

static int case_unpack_rejects_wrapping_size(void)
{
    /* A byte count near 2^64 makes `off + nb` wrap below nbytes: it must still be rejected
     * (a corrupted or hostile buffer), not handed to mpz_import. */
    static const uint64_t marks[] = {20, 40};
    struct pk_factsum_part part = empty_part(), back = empty_part();
    CHECK_OK(pk_factsum_part_compute(&part, 1, 64, marks, 2, true, 1, 0));
    void *buf = NULL;
    size_t nb = 0;
    CHECK_OK(pk_factsum_part_pack(&part, &buf, &nb));
    uint64_t *h = buf;
    h[4 + part.nmarks] = UINT64_MAX; /* P's byte count */
    CHECK_EQ_INT(unpack_copy(&back, buf, nb), PK_EINVAL);
    pk_factsum_part_free(&back);
    free(buf);
    pk_factsum_part_free(&part);
    return 0;
}

/* ---- splits ------------------------------------------------------------------------------- */

static int case_split_balanced(void)
{
    const uint64_t lo = 1, hi = 1000000;
    const double total = pk_factsum_bits(hi) - pk_factsum_bits(lo);
    CHECK(total > 1.8e7 && total < 1.9e7); /* log2(999999!) = 18488865.2 */
    for (int k = 1; k <= 8; k++) {
        uint64_t pts[9];
        pk_factsum_split(lo, hi, k, NULL, pts);
        CHECK_EQ_INT(pts[0], lo);
        CHECK_EQ_INT(pts[k], hi);
        for (int i = 0; i < k; i++) {
            CHECK(pts[i] < pts[i + 1]);
            double bits = pk_factsum_bits(pts[i + 1]) - pk_factsum_bits(pts[i]);
            CHECK_REL(bits, total / k, 0.01);
        }
    }
    /* a range not starting at 1 balances too */
    uint64_t pts[9];
    pk_factsum_split(123457, 7654321, 7, NULL, pts);
    const double tot2 = pk_factsum_bits(7654321) - pk_factsum_bits(123457);
    for (int i = 0; i < 7; i++) {
        CHECK(pts[i] < pts[i + 1]);
        CHECK_REL(pk_factsum_bits(pts[i + 1]) - pk_factsum_bits(pts[i]), tot2 / 7, 0.01);
    }
    /* degenerate ranges: hi - lo < k, and empty ones */
    static const uint64_t ranges[][2] = {{1, 1}, {1, 2}, {1, 3},     {5, 5},
                                         {5, 7}, {1, 8}, {999, 1003}};
    for (size_t r = 0; r < sizeof ranges / sizeof ranges[0]; r++) {
        for (int k = 1; k <= 8; k++) {
            uint64_t p[9];
            pk_factsum_split(ranges[r][0], ranges[r][1], k, NULL, p);
            CHECK_EQ_INT(p[0], ranges[r][0]);
            CHECK_EQ_INT(p[k], ranges[r][1]);
            for (int i = 0; i < k; i++)
                CHECK(p[i] <= p[i + 1]);
        }
    }
    return 0;
}

static int case_bits_and_estimate(void)
{
    /* pk_factsum_bits(n) = log2((n-1)!), which lies in [size - 1, size) for size = the bit
     * length of (n-1)!; lgamma's rounding is far below the slack allowed here. */
    static const uint64_t ns[] = {2, 3, 10, 100, 1000, 65537, 100000};
    mpz_t f;
    mpz_init(f);
    CHECK_EQ_DBL(pk_factsum_bits(0), 0.0);
    CHECK_EQ_DBL(pk_factsum_bits(1), 0.0);
    CHECK(pk_factsum_bits(2) >= 0.0 && pk_factsum_bits(2) < 1e-9);
    uint64_t prev = 0;
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
        mpz_fac_ui(f, (unsigned long)(ns[i] - 1));
        double size = (double)mpz_sizeinbase(f, 2), bits = pk_factsum_bits(ns[i]);
        CHECK(bits >= size - 1 - 1e-6 && bits < size + 1e-6);
        /* the estimate covers at least a few copies of the result */
        uint64_t est = pk_factsum_memory_estimate(ns[i]);
        CHECK(est >= (uint64_t)(5 * size / 8));
        CHECK(est >= prev);
        prev = est;
    }
    mpz_clear(f);
    return 0;
}

/* ---- decimal conversion ------------------------------------------------------------------- */

/* 0 when pk_mpz_to_decimal(x) with t threads equals mpz_get_str. */
static int decimal_matches(const mpz_t x, int t)
{
    char *want = malloc(mpz_sizeinbase(x, 10) + 2);
    CHECK(want != NULL);
    mpz_get_str(want, 10, x);
    char *got = (char *)"x";
    size_t len = 7;
    CHECK_OK(pk_mpz_to_decimal(x, t, &got, &len));
    CHECK(got != NULL);
    CHECK_EQ_INT(len, strlen(want));
    CHECK_EQ_INT(strlen(got), len);
    CHECK(memcmp(got, want, len + 1) == 0);
    CHECK(pk_decimal_matches(got, len, x, t));
    free(got);
    free(want);
    return 0;
}

static int case_to_decimal_matches_get_str(void)
{
    gmp_randstate_t rs;
    gmp_randinit_default(rs);
    gmp_randseed_ui(rs, 0xdec1a1UL);
    mpz_t x, p;
    mpz_inits(x, p, NULL);
    /* small values */
    static const unsigned long small[] = {0, 1, 9, 10, 11, 99, 100, 4294967295UL, 4294967296UL};
    for (size_t i = 0; i < sizeof small / sizeof small[0]; i++) {
        mpz_set_ui(x, small[i]);
        for (int t = 1; t <= 4; t++)
            CHECK_OK(decimal_matches(x, t));
    }
    /* 10^k - 1 and 10^k: GMP's size estimate is one too many for 10^k - 1 (a leading zero to
     * drop) and exact for 10^k; k around the splitting threshold (200000 digits) */
    static const unsigned long ks[] = {1, 19, 20, 39, 199999, 200000, 400001};
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) {
        mpz_ui_pow_ui(p, 10, ks[i]);
        mpz_sub_ui(x, p, 1);
        for (int t = 1; t <= 4; t++) {
            if (ks[i] > 100000 && (t == 1 || t == 4))
                continue; /* big ones: 2 and 3 threads split to depths 2 and 3 */
            CHECK_OK(decimal_matches(p, t));
            CHECK_OK(decimal_matches(x, t));
        }
    }
    /* random numbers of d digits (leading digit nonzero) */
    static const unsigned long ds[] = {1, 2, 19, 1000, 199999, 200001, 399999, 1000000};
    for (size_t i = 0; i < sizeof ds / sizeof ds[0]; i++) {
        mpz_ui_pow_ui(p, 10, ds[i] - 1);
        mpz_mul_ui(x, p, 9);
        mpz_urandomm(x, rs, x);
        mpz_add(x, x, p);
        CHECK_EQ_INT(mpz_sizeinbase(x, 10) >= ds[i], 1);
        for (int t = 1; t <= 4; t++) {
            if (ds[i] > 100000 && (t == 1 || t == 4))
                continue;
            CHECK_OK(decimal_matches(x, t));
        }
    }
    /* long runs of internal zeros: the low halves need zero padding */
    mpz_ui_pow_ui(x, 10, 500000);
    mpz_add_ui(x, x, 7);
    for (int t = 2; t <= 4; t += 2)
        CHECK_OK(decimal_matches(x, t));
    mpz_ui_pow_ui(p, 10, 150001);
    mpz_mul(x, x, p); /* 1, zeros, 7, more zeros, 1 */
    mpz_add_ui(x, x, 1);
    CHECK_OK(decimal_matches(x, 3));
    mpz_clears(x, p, NULL);
    gmp_randclear(rs);
    return 0;
}

/* 0 when pk_decimal_edges(x, edge) gives mpz_get_str's count and edges, its check accepts them,
 * and the check refuses a changed first or last digit and a count one off. */
static int edges_right(const mpz_t x, size_t edge)
{
    char *want = malloc(mpz_sizeinbase(x, 10) + 2);
    CHECK(want != NULL);
    mpz_get_str(want, 10, x);
    size_t len = strlen(want), n = len < edge ? len : edge;
    struct pk_decimal_edges e;
    CHECK_OK(pk_decimal_edges(x, edge, &e));
    CHECK_EQ_INT(e.digits, len);
    CHECK_EQ_INT(strlen(e.first), n);
    CHECK(strncmp(e.first, want, n) == 0);
    CHECK(strcmp(e.last, want + len - n) == 0);
    CHECK(pk_decimal_edges_match(x, &e));
    char *digit[] = {&e.first[n - 1], &e.last[n - 1], &e.first[0]};
    for (int k = 0; k < 3; k++) {
        char was = *digit[k];
        *digit[k] = (char)(was == '9' ? '1' : was + 1);
        CHECK(!pk_decimal_edges_match(x, &e));
        *digit[k] = was;
    }
    for (int d = -1; d <= 1; d += 2) {
        e.digits += (size_t)d;
        CHECK(e.digits == 0 || !pk_decimal_edges_match(x, &e));
        e.digits -= (size_t)d;
    }
    CHECK(pk_decimal_edges_match(x, &e));
    pk_decimal_edges_clear(&e);
    free(want);
    return 0;
}

/* The digit count and edges without the whole decimal: right for random values of every size
 * around the switch to the power of five, at 10^k - 1, 10^k and 10^k + 1 (where the count
 * estimate is one too many or exact), for 0 and at every edge width; a wrong power is refused. */
static int case_decimal_edges(void)
{
    gmp_randstate_t rs;
    gmp_randinit_default(rs);
    gmp_randseed_ui(rs, 0xed9e5UL);
    mpz_t x;
    mpz_init(x);
    static const size_t edges[] = {1, 2, 19, 20, 27};
    for (size_t w = 0; w < sizeof edges / sizeof edges[0]; w++) {
        CHECK_OK(edges_right(x, edges[w]));
        for (unsigned long bits = 1; bits < 70000; bits = bits * 5 / 4 + 1) {
            mpz_urandomb(x, rs, bits);
            CHECK_OK(edges_right(x, edges[w]));
        }
        for (unsigned long k = 1; k < 30000; k = k < 60 ? k + 1 : k * 3 / 2) {
            mpz_ui_pow_ui(x, 10, k);
            CHECK_OK(edges_right(x, edges[w]));
            mpz_sub_ui(x, x, 1);
            CHECK_OK(edges_right(x, edges[w]));
            mpz_add_ui(x, x, 2);
            CHECK_OK(edges_right(x, edges[w]));
        }
    }
    struct pk_decimal_edges e;
    mpz_urandomb(x, rs, 40000);
    CHECK_OK(pk_decimal_edges(x, 20, &e));
    mpz_add_ui(e.pow, e.pow, 1); /* the power is confirmed, not trusted */
    CHECK(!pk_decimal_edges_match(x, &e));
    pk_decimal_edges_clear(&e);
    CHECK_EQ_INT(pk_decimal_edges(x, 0, &e), PK_EINVAL);
    CHECK_EQ_INT(pk_decimal_edges(x, PK_EDGES_MAX + 1, &e), PK_EINVAL);
    mpz_neg(x, x);
    CHECK_EQ_INT(pk_decimal_edges(x, 20, &e), PK_EINVAL);
    mpz_clear(x);
    gmp_randclear(rs);
    return 0;
}

/* 0 when text (a copy of x's decimal, changed by the caller) is refused for x. */
static int refused(const char *text, size_t len, const mpz_t x)
{
    for (int t = 1; t <= 3; t++)
        CHECK(!pk_decimal_matches(text, len, x, t));
    return 0;
}

/* The check of a decimal text: accepts mpz_get_str's at every length around its 18-digit words
 * and thread pieces, and refuses a changed digit anywhere, two digits swapped, a digit dropped
 * or added, a leading zero, a sign or other character, and the empty text. */
static int case_decimal_check(void)
{
    gmp_randstate_t rs;
    gmp_randinit_default(rs);
    gmp_randseed_ui(rs, 0xc4ec1UL);
    mpz_t x;
    mpz_init(x);
    CHECK(pk_decimal_matches("0", 1, x, 1));
    CHECK(!pk_decimal_matches("00", 2, x, 1));
    CHECK(!pk_decimal_matches("", 0, x, 1));
    CHECK(!pk_decimal_matches("1", 1, x, 1));
    static const size_t ds[] = {1,  2,  17, 18, 19,  35,  36,   37,    54,
                                55, 71, 72, 73, 144, 145, 1000, 100003};
    for (size_t i = 0; i < sizeof ds / sizeof ds[0]; i++) {
        for (int kind = 0; kind < 3; kind++) { /* random, 10^(d-1), 10^d - 1 */
            mpz_ui_pow_ui(x, 10, ds[i] - (kind != 2));
            if (kind == 0) {
                mpz_t span;
                mpz_init(span);
                mpz_mul_ui(span, x, 9);
                mpz_urandomm(span, rs, span);
                mpz_add(x, x, span);
                mpz_clear(span);
            } else if (kind == 2) {
                mpz_sub_ui(x, x, 1);
            }
            size_t len = mpz_sizeinbase(x, 10) + 2;
            char *text = malloc(len + 2);
            CHECK(text != NULL);
            mpz_get_str(text, 10, x);
            len = strlen(text);
            CHECK_EQ_INT(len, ds[i]);
            for (int t = 1; t <= 5; t++)
                CHECK(pk_decimal_matches(text, len, x, t));
            size_t at[] = {0, len / 2, len - 1};
            for (int k = 0; k < 3; k++) {
                char was = text[at[k]];
                text[at[k]] = (char)(was == '9' ? '1' : was + 1);
                CHECK_OK(refused(text, len, x));
                text[at[k]] = was;
            }
            for (size_t k = 0; k + 1 < len; k += len / 3 + 1) {
                if (text[k] == text[k + 1] || (k == 0 && text[1] == '0'))
                    continue;
                char a = text[k];
                text[k] = text[k + 1];
                text[k + 1] = a;
                CHECK_OK(refused(text, len, x));
                text[k + 1] = text[k];
                text[k] = a;
            }
            if (len > 1)
                CHECK_OK(refused(text, len - 1, x)); /* the last digit dropped */
            text[len] = '0';
            CHECK_OK(refused(text, len + 1, x)); /* a digit added */
            text[len] = '\0';
            memmove(text + 1, text, len + 1);
            text[0] = '0';
            CHECK_OK(refused(text, len + 1, x));
            text[0] = '+';
            CHECK_OK(refused(text, len + 1, x));
            memmove(text, text + 1, len + 1);
            text[len / 2] = ':'; /* '9' + 1: a parser that trusts its input reads 10 */
            CHECK_OK(refused(text, len, x));
            free(text);
        }
    }
    mpz_set_si(x, -5);
    CHECK(!pk_decimal_matches("5", 1, x, 1));
    mpz_set_ui(x, 5);
    CHECK(!pk_decimal_matches("5", 1, x, 0));
    mpz_clear(x);
    gmp_randclear(rs);
    return 0;
}

/* ---- modular oracle ----------------------------------------------------------------------- */

static uint64_t left_factorial_mod(uint64_t n, uint64_t p)
{
    uint64_t s = 0, f = 1 % p;
    for (uint64_t i = 0; i < n; i++) {
        s = (uint64_t)(((u128)s + f) % p);
        f = (uint64_t)((u128)f * ((i + 1) % p) % p);
    }
    return s;
}

static int case_mod_oracle(void)
{
    enum { NP = 4 };
    uint64_t primes[NP];
    pk_oracle_primes(primes, NP);
    mpz_t z, r, want;
    mpz_inits(z, r, want, NULL);
    for (int j = 0; j < NP; j++) {
        CHECK(primes[j] < (UINT64_C(1) << 62) - (UINT64_C(1) << 40));
        CHECK(primes[j] > (UINT64_C(1) << 61));
        mpz_set_u64(z, primes[j]);
        CHECK(mpz_probab_prime_p(z, 30) > 0);
        for (int i = 0; i < j; i++)
            CHECK(primes[i] != primes[j]);
    }
    /* deterministic: a second call gives the same primes, and a longer list (past the ones
     * kept after the first search) starts with them and continues downwards */
    uint64_t again[NP], longer[12];
    pk_oracle_primes(again, NP);
    CHECK(memcmp(again, primes, sizeof primes) == 0);
    pk_oracle_primes(longer, 12);
    CHECK(memcmp(longer, primes, sizeof primes) == 0);
    for (int j = 1; j < 12; j++) {
        CHECK(longer[j] < longer[j - 1]);
        mpz_set_u64(z, longer[j]);
        CHECK(mpz_probab_prime_p(z, 30) > 0);
    }

    static const uint64_t ns[] = {12345, 0, 1000, 999999, 2, 10, 1000, 1};
    enum { NN = sizeof ns / sizeof ns[0] };
    uint64_t want_mod[NP * NN];
    for (int j = 0; j < NP; j++) {
        for (size_t i = 0; i < NN; i++) {
            if (ns[i] <= 12345) { /* exact oracle, reduced */
                naive_left_factorial(want, ns[i]);
                mpz_set_u64(z, primes[j]);
                mpz_mod(r, want, z);
                want_mod[j * NN + i] = mpz_get_u64(r);
                CHECK_EQ_INT(want_mod[j * NN + i], left_factorial_mod(ns[i], primes[j]));
            } else {
                want_mod[j * NN + i] = left_factorial_mod(ns[i], primes[j]);
            }
        }
    }
    for (int t = 1; t <= 6; t += 5) {
        uint64_t out[NP * NN];
        memset(out, 0xa5, sizeof out);
        CHECK_OK(pk_factsum_mod(ns, NN, primes, NP, t, out));
        for (size_t q = 0; q < NP * NN; q++)
            CHECK_EQ_INT(out[q], want_mod[q]);
    }
    /* a small prime (p < n wraps the factors): Wilson-style values still match */
    static const uint64_t small_p[] = {1000003, 65537};
    uint64_t out2[2 * NN];
    CHECK_OK(pk_factsum_mod(ns, NN, small_p, 2, 3, out2));
    for (int j = 0; j < 2; j++)
        for (size_t i = 0; i < NN; i++)
            CHECK_EQ_INT(out2[j * NN + i], left_factorial_mod(ns[i], small_p[j]));
    /* nothing to do */
    CHECK_OK(pk_factsum_mod(ns, 0, primes, NP, 2, NULL));
    CHECK_OK(pk_factsum_mod(ns, NN, primes, 0, 2, NULL));
    mpz_clears(z, r, want, NULL);
    return 0;
}

/* ---- canary and errors -------------------------------------------------------------------- */

static int case_canary_changes_result(void)
{
    mpz_t want, got;
    mpz_inits(want, got, NULL);
    naive_left_factorial(want, 1000);
    for (int t = 1; t <= 4; t++) {
        struct pk_factsum_part part = empty_part();
        CHECK_OK(pk_factsum_part_compute(&part, 1, 1000, NULL, 0, false, t, PK_FACTSUM_CANARY));
        mpz_add_ui(got, part.T, 1);
        CHECK(mpz_cmp(got, want) != 0);
        pk_factsum_part_free(&part);
        /* control: the same call without the flag is right */
        CHECK_OK(pk_factsum_part_compute(&part, 1, 1000, NULL, 0, false, t, 0));
        mpz_add_ui(got, part.T, 1);
        CHECK(mpz_cmp(got, want) == 0);
        pk_factsum_part_free(&part);
    }
    mpz_clears(want, got, NULL);
    return 0;
}

static int case_canary_small_first_mark(void)
{
    /* The driver computes several N in one pass, marks at each. With a small N requested
     * beside a large one, the first segment [1, 10) is one leaf with no merge of its own to
     * corrupt; the canary must still change the large result (its promise: verification
     * fails). */
    static const uint64_t marks[] = {10, 5000};
    mpz_t want, got;
    mpz_inits(want, got, NULL);
    naive_left_factorial(want, 5000);
    for (int t = 1; t <= 4; t += 3) {
        struct pk_factsum_part part = empty_part();
        CHECK_OK(pk_factsum_part_compute(&part, 1, 5000, marks, 2, false, t, PK_FACTSUM_CANARY));
        mpz_add_ui(got, part.T, 1);
        CHECK(mpz_cmp(got, want) != 0);
        pk_factsum_part_free(&part);
    }
    mpz_clears(want, got, NULL);
    return 0;
}

static int case_canary_deterministic(void)
{
    /* The corrupted value is a fixed function of the inputs (a rerun of a failed verification
     * fails the same way), whatever the thread count: with marks and P kept, every fold step
     * takes the canary path. A different value between runs means a data race. */
    static const uint64_t marks[] = {3000, 6000, 9000, 12000, 15000};
    mpz_t first;
    mpz_init(first);
    for (int rep = 0; rep < 6; rep++) {
        for (int t = 1; t <= 4; t++) {
            struct pk_factsum_part part = empty_part();
            CHECK_OK(
                pk_factsum_part_compute(&part, 1, 20000, marks, 5, true, t, PK_FACTSUM_CANARY));
            if (rep == 0 && t == 1)
                mpz_set(first, part.T);
            CHECK(mpz_cmp(part.T, first) == 0);
            for (size_t i = 0; i < part.nmarks; i++)
                CHECK(mpz_sgn(part.mark_T[i]) > 0);
            pk_factsum_part_free(&part);
        }
    }
    mpz_clear(first);
    return 0;
}

static int case_invalid_args(void)
{
    struct pk_factsum_part part = empty_part();
    CHECK_EQ_INT(pk_factsum_part_compute(&part, 0, 10, NULL, 0, false, 1, 0), PK_EINVAL);
    CHECK_EQ_INT(pk_factsum_part_compute(&part, 11, 10, NULL, 0, false, 1, 0), PK_EINVAL);
    CHECK_EQ_INT(pk_factsum_part_compute(&part, 1, 10, NULL, 0, false, 0, 0), PK_EINVAL);
    CHECK_EQ_INT(pk_factsum_part_compute(&part, 1, 10, NULL, 0, false, -3, 0), PK_EINVAL);
    CHECK_EQ_INT(pk_factsum_part_compute(&part, 1, PK_FACTSUM_MAX_N + 1, NULL, 0, false, 2, 0),
                 PK_EINVAL);
    CHECK_EQ_INT(pk_factsum_part_compute(&part, PK_FACTSUM_MAX_N + 1, PK_FACTSUM_MAX_N + 1, NULL, 0,
                                         false, 2, 0),
                 PK_EINVAL);
    CHECK(!part.live); /* failures leave part alone */
    /* the largest n is accepted (an empty range costs nothing) */
    CHECK_OK(
        pk_factsum_part_compute(&part, PK_FACTSUM_MAX_N, PK_FACTSUM_MAX_N, NULL, 0, false, 2, 0));
    CHECK(mpz_sgn(part.T) == 0);
    pk_factsum_part_free(&part);

    /* merges: non-adjacent, overlapping, reversed, left without P, P asked of a right without */
    struct pk_factsum_part a = empty_part(), b = empty_part(), c = empty_part(), d = empty_part(),
                           e = empty_part();
    CHECK_OK(pk_factsum_part_compute(&a, 1, 100, NULL, 0, true, 2, 0));
    CHECK_OK(pk_factsum_part_compute(&b, 101, 200, NULL, 0, true, 2, 0));
    CHECK_OK(pk_factsum_part_compute(&c, 50, 200, NULL, 0, true, 2, 0));
    CHECK_OK(pk_factsum_part_compute(&d, 100, 200, NULL, 0, false, 2, 0));
    CHECK_OK(pk_factsum_part_compute(&e, 200, 300, NULL, 0, true, 2, 0));
    CHECK_EQ_INT(pk_factsum_part_merge(&a, &b, false, false, 2), PK_EINVAL);
    CHECK_EQ_INT(pk_factsum_part_merge(&a, &c, false, false, 2), PK_EINVAL);
    CHECK_EQ_INT(pk_factsum_part_merge(&d, &a, false, false, 2), PK_EINVAL);
    CHECK_EQ_INT(pk_factsum_part_merge(&a, &d, false, true, 2), PK_EINVAL);
    CHECK_EQ_INT(pk_factsum_part_merge(&a, &d, false, false, 0), PK_EINVAL);
    CHECK(a.live && b.live && c.live && d.live); /* nothing consumed */
    CHECK_EQ_INT(a.hi, 100);
    CHECK_OK(pk_factsum_part_merge(&a, &d, false, false, 2)); /* the valid one works */
    CHECK_EQ_INT(a.hi, 200);
    CHECK(!d.live);
    CHECK_EQ_INT(pk_factsum_part_merge(&a, &e, false, false, 2), PK_EINVAL); /* a lost its P */
    CHECK(e.live);
    pk_factsum_part_free(&a);
    pk_factsum_part_free(&e);
    pk_factsum_part_free(&b);
    pk_factsum_part_free(&c);

    /* decimal: negative numbers and no threads */
    mpz_t x;
    mpz_init_set_si(x, -12345);
    char *s = (char *)"x";
    size_t len = 9;
    CHECK_EQ_INT(pk_mpz_to_decimal(x, 2, &s, &len), PK_EINVAL);
    CHECK(s == NULL);
    CHECK_EQ_INT(len, 0);
    mpz_set_ui(x, 12345);
    CHECK_EQ_INT(pk_mpz_to_decimal(x, 0, &s, &len), PK_EINVAL);
    mpz_clear(x);

    /* modular oracle: no threads */
    uint64_t p = 1000003, n = 5, out = 0;
    CHECK_EQ_INT(pk_factsum_mod(&n, 1, &p, 1, 0, &out), PK_EINVAL);

    /* unpack: too short for even a header */
    uint64_t junk[6] = {1, 2, 1, 0, 0, 0};
    CHECK_EQ_INT(pk_factsum_part_unpack(&part, junk, 47), PK_EINVAL);
    CHECK_EQ_INT(pk_factsum_part_unpack(&part, junk, 0), PK_EINVAL);
    CHECK(!part.live);
    return 0;
}

static const struct check_case cases[] = {
    {"part_single_matches_naive", case_part_single_matches_naive},
    {"part_marks_prefix", case_part_marks_prefix},
    {"part_high_factors", case_part_high_factors},
    {"part_large_products", case_part_large_products},
    {"merge_equals_whole", case_merge_equals_whole},
    {"pack_roundtrip", case_pack_roundtrip},
    {"split_balanced", case_split_balanced},
    {"bits_and_estimate", case_bits_and_estimate},
    {"to_decimal_matches_get_str", case_to_decimal_matches_get_str},
    {"decimal_check", case_decimal_check},
    {"decimal_edges", case_decimal_edges},
    {"mod_oracle", case_mod_oracle},
    {"canary_changes_result", case_canary_changes_result},
    {"canary_small_first_mark", case_canary_small_first_mark},
    {"canary_deterministic", case_canary_deterministic},
    {"invalid_args", case_invalid_args},
    /* last: it aborts the process while the bug it exposes is there */
    {"unpack_rejects_wrapping_size", case_unpack_rejects_wrapping_size},
};

int main(int argc, char **argv)
{
    return CHECK_MAIN(cases);
}
