/* SPDX-License-Identifier: MIT */
/* Sum-of-squares kernels. See parkit/sumsq.h for the decomposition rules.
 *
 * Every float64 block is reduced by lanes_add: element i of a block goes to lane i % 32, each
 * lane is an independent scalar chain, and a fixed tree joins the lanes. Compilers vectorise
 * the lanes (4 zmm or 16 xmm registers) without changing the order of any chain, so the bits
 * depend only on the block's contents, never on the ISA, the alignment or the thread. */
#include "parkit/sumsq.h"

#include "isa_clones.h"
#include "parkit/status.h"

#include <float.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <omp.h>

#define LANES 32
/* Gaussian values are drawn into a stack buffer of this many (a multiple of LANES). */
#define GAUSS_BATCH 512

static uint64_t splitmix64(uint64_t z)
{
    z += UINT64_C(0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* lane[i % LANES] += x[i]^2 for i < n. Callers keep n a multiple of LANES except at the end
 * of a block, so lane positions follow the element's index in its block. */
static void lanes_add(double lane[restrict LANES], const double *restrict x, size_t n)
{
    size_t full = n - n % LANES;
    for (size_t i = 0; i < full; i += LANES)
        for (int j = 0; j < LANES; j++)
            lane[j] += x[i + j] * x[i + j];
    for (size_t i = full; i < n; i++)
        lane[i - full] += x[i] * x[i];
}

static double lanes_total(double lane[LANES])
{
    for (int width = LANES / 2; width > 0; width /= 2)
        for (int j = 0; j < width; j++)
            lane[j] += lane[j + width];
    return lane[0];
}

static double block_sumsq(const double *x, size_t n)
{
    double lane[LANES] = {0};
    lanes_add(lane, x, n);
    return lanes_total(lane);
}

/* ---- integer range ---------------------------------------------------------------------- */


/* sum of j^2 for j < len <= PK_SUMSQ_RANGE_BLOCK, every square computed exactly by its
 * difference from the one LANES before it (strength reduction: only 64-bit additions, which
 * vectorise on every level, unlike 64-bit multiplies): lane l visits j = l, l + LANES, ..., with
 * q = j^2 and (j + LANES)^2 = q + d, d = 2 LANES j + LANES^2 growing by 2 LANES^2 per step.
 * Bounds: q < 2^40, d < 2^26, each lane's sum < 2^55. */
PK_ISA_CLONES static uint64_t sum_squares_below(uint32_t len)
{
    uint64_t q[LANES], d[LANES], s[LANES];
    for (int l = 0; l < LANES; l++) {
        q[l] = (uint64_t)l * (uint64_t)l;
        d[l] = 2 * (uint64_t)LANES * (uint64_t)l + (uint64_t)LANES * LANES;
        s[l] = 0;
    }
    uint32_t full = len - len % LANES;
    for (uint32_t j = 0; j < full; j += LANES) {
        for (int l = 0; l < LANES; l++) {
            s[l] += q[l];
            q[l] += d[l];
            d[l] += 2 * (uint64_t)LANES * LANES;
        }
    }
    uint64_t total = 0;
    for (int l = 0; l < LANES; l++)
        total += s[l];
    for (uint32_t j = full; j < len; j++)
        total += (uint64_t)j * j;
    return total;
}

/* sum of i^2 over [a, a + len): with i = a + j, i^2 = a^2 + 2aj + j^2. The loop handles j^2;
 * the sum of j is the triangular number len(len-1)/2. */
static pk_u128 range_block(uint64_t a, uint32_t len)
{
    uint64_t sum_j = (uint64_t)len * (len - (len > 0)) / 2;
    return (pk_u128)len * a * a + 2 * (pk_u128)a * sum_j + sum_squares_below(len);
}

int pk_sumsq_range(uint64_t lo, uint64_t hi, int nthreads, pk_u128 *out)
{
    *out = 0;
    if (lo > hi || nthreads < 1)
        return PK_EINVAL;
    if (hi > PK_SUMSQ_RANGE_MAX)
        return PK_ERANGE;
    const uint64_t B = PK_SUMSQ_RANGE_BLOCK;
    uint64_t b0 = lo / B, b1 = (hi + B - 1) / B;
    pk_u128 total = 0;
#pragma omp parallel num_threads(nthreads) default(none) shared(lo, hi, b0, b1, B, total)
    {
        pk_u128 mine = 0;
#pragma omp for schedule(static)
        for (uint64_t b = b0; b < b1; b++) {
            uint64_t a = b * B > lo ? b * B : lo;
            uint64_t end = (b + 1) * B < hi ? (b + 1) * B : hi;
            mine += range_block(a, (uint32_t)(end - a));
        }
#pragma omp critical(pk_sumsq_range)
        total += mine;
    }
    *out = total;
    return PK_OK;
}

int pk_sumsq_range_ref(uint64_t lo, uint64_t hi, pk_u128 *out)
{
    *out = 0;
    if (lo > hi)
        return PK_EINVAL;
    if (hi > PK_SUMSQ_RANGE_MAX)
        return PK_ERANGE;
    pk_u128 s = 0;
    for (uint64_t i = lo; i < hi; i++)
        s += (pk_u128)i * i;
    *out = s;
    return PK_OK;
}

/* ---- float64 array -------------------------------------------------------------------- */

int pk_sumsq_f64(const double *x, size_t n, int nthreads, struct pk_xacc *acc)
{
    if (nthreads < 1 || (n > 0 && !x))
        return PK_EINVAL;
    size_t nblocks = (n + PK_SUMSQ_BLOCK - 1) / PK_SUMSQ_BLOCK;
#pragma omp parallel num_threads(nthreads) default(none) shared(x, n, nblocks, acc)
    {
        struct pk_xacc mine;
        pk_xacc_init(&mine);
#pragma omp for schedule(static)
        for (size_t b = 0; b < nblocks; b++) {
            size_t first = b * PK_SUMSQ_BLOCK;
            size_t len = n - first < PK_SUMSQ_BLOCK ? n - first : PK_SUMSQ_BLOCK;
            pk_xacc_add(&mine, block_sumsq(x + first, len));
        }
#pragma omp critical(pk_sumsq_f64)
        pk_xacc_merge(acc, &mine);
    }
    return PK_OK;
}

long double pk_sumsq_f64_ref(const double *x, size_t n)
{
    long double total = 0;
    for (size_t i = 0; i < n; i += 1024) {
        long double part = 0;
        size_t end = n - i < 1024 ? n : i + 1024;
        for (size_t j = i; j < end; j++)
            part += (long double)x[j] * x[j];
        total += part;
    }
    return total;
}

double pk_sumsq_f64_error_bound(void)
{
    return (PK_SUMSQ_BLOCK / LANES + 8) * 0x1p-53;
}

void pk_sumsq_fill(double *x, size_t n, uint64_t first, uint64_t seed, int nthreads)
{
    size_t nblocks = (n + PK_SUMSQ_BLOCK - 1) / PK_SUMSQ_BLOCK;
    uint64_t key = splitmix64(seed);
#pragma omp parallel for num_threads(nthreads) schedule(static) default(none)                      \
    shared(x, n, nblocks, first, key)
    for (size_t b = 0; b < nblocks; b++) {
        size_t end = (b + 1) * PK_SUMSQ_BLOCK < n ? (b + 1) * PK_SUMSQ_BLOCK : n;
        for (size_t i = b * PK_SUMSQ_BLOCK; i < end; i++) {
            uint64_t z = splitmix64(key ^ (first + i));
            /* 53 random bits: 2u - 1 is exact for u a multiple of 2^-53 in [0, 1) */
            x[i] = 2.0 * ((double)(z >> 11) * 0x1p-53) - 1.0;
        }
    }
}

/* ---- seeded Gaussian chunks ------------------------------------------------------------- */

/* taus2 is GSL's fastest generator of good quality (it passes the tests the GSL manual lists)
 * and is cheap to seed, which matters when chunks are small. */
#define GAUSS_RNG gsl_rng_taus2

const char *pk_gauss_rng_name(void)
{
    return GAUSS_RNG->name;
}

uint64_t pk_gauss_nchunks(const struct pk_gauss_grid *g)
{
    return g->chunk ? (g->n + g->chunk - 1) / g->chunk : 0;
}

unsigned long pk_gauss_chunk_seed(uint64_t seed, uint64_t k)
{
    return (unsigned long)splitmix64(seed ^ splitmix64(k));
}

static uint64_t chunk_len(const struct pk_gauss_grid *g, uint64_t k)
{
    uint64_t first = k * g->chunk;
    return g->n - first < g->chunk ? g->n - first : g->chunk;
}

static double gauss_chunk(gsl_rng *r, const struct pk_gauss_grid *g, uint64_t k)
{
    double lane[LANES] = {0};
    double buf[GAUSS_BATCH];
    gsl_rng_set(r, pk_gauss_chunk_seed(g->seed, k));
    uint64_t len = chunk_len(g, k);
    for (uint64_t done = 0; done < len; done += GAUSS_BATCH) {
        size_t m = len - done < GAUSS_BATCH ? (size_t)(len - done) : GAUSS_BATCH;
        for (size_t i = 0; i < m; i++)
            buf[i] = gsl_ran_gaussian_ziggurat(r, 1.0);
        lanes_add(lane, buf, m);
    }
    return lanes_total(lane);
}

int pk_sumsq_gauss(const struct pk_gauss_grid *g, uint64_t k0, uint64_t k1, int nthreads,
                   double *partial, struct pk_xacc *acc)
{
    if (nthreads < 1 || g->chunk == 0 || k0 > k1 || k1 > pk_gauss_nchunks(g))
        return PK_EINVAL;
    int status = PK_OK;
    const gsl_rng_type *type = GAUSS_RNG;
#pragma omp parallel num_threads(nthreads) default(none)                                           \
    shared(g, k0, k1, partial, acc, status, type)
    {
        struct pk_xacc mine;
        pk_xacc_init(&mine);
        gsl_rng *r = gsl_rng_alloc(type);
        if (!r) {
#pragma omp atomic write
            status = PK_ENOMEM;
        }
        /* Every thread joins the loop (a worksharing construct must be met by all); one
         * without a generator skips its chunks and the status reports the failure. */
#pragma omp for schedule(dynamic, 1)
        for (uint64_t k = k0; k < k1; k++) {
            if (!r)
                continue;
            double s = gauss_chunk(r, g, k);
            if (partial)
                partial[k - k0] = s;
            pk_xacc_add(&mine, s);
        }
        gsl_rng_free(r);
#pragma omp critical(pk_sumsq_gauss)
        pk_xacc_merge(acc, &mine);
    }
    return status;
}

long double pk_sumsq_gauss_ref(const struct pk_gauss_grid *g, uint64_t k)
{
    gsl_rng *r = gsl_rng_alloc(GAUSS_RNG);
    if (!r)
        return -1.0L;
    gsl_rng_set(r, pk_gauss_chunk_seed(g->seed, k));
    long double s = 0;
    uint64_t len = chunk_len(g, k);
    for (uint64_t i = 0; i < len; i++) {
        double v = gsl_ran_gaussian_ziggurat(r, 1.0);
        s += (long double)v * v;
    }
    gsl_rng_free(r);
    return s;
}

double pk_sumsq_gauss_error_bound(const struct pk_gauss_grid *g)
{
    double per_lane = (double)((g->chunk + LANES - 1) / LANES);
    return (per_lane + 8) * 0x1p-53 + (double)g->chunk * 0x1p-63;
}

int pk_sumsq_gauss_check(const struct pk_gauss_grid *g, uint64_t k0, uint64_t k1,
                         const double *partial, int nthreads, uint64_t *nbad, double *worst_rel,
                         struct pk_xacc *ref_total)
{
    *nbad = 0;
    *worst_rel = 0;
    if (nthreads < 1 || g->chunk == 0 || k0 > k1 || k1 > pk_gauss_nchunks(g))
        return PK_EINVAL;
    double tol = pk_sumsq_gauss_error_bound(g);
    uint64_t bad = 0;
    double worst = 0;
    int status = PK_OK;
#pragma omp parallel num_threads(nthreads) default(none)                                           \
    shared(g, k0, k1, partial, tol, ref_total, status) reduction(+ : bad) reduction(max : worst)
    {
        struct pk_xacc mine;
        pk_xacc_init(&mine);
#pragma omp for schedule(dynamic, 1)
        for (uint64_t k = k0; k < k1; k++) {
            long double want = pk_sumsq_gauss_ref(g, k);
            if (want < 0) {
#pragma omp atomic write
                status = PK_ENOMEM;
                continue;
            }
            long double diff = (long double)partial[k - k0] - want;
            double rel = want > 0 ? (double)(fabsl(diff) / want) : (double)fabsl(diff);
            if (!(rel <= tol))
                bad++;
            if (rel > worst)
                worst = rel;
            double hi = (double)want;
            pk_xacc_add(&mine, hi);
            pk_xacc_add(&mine, (double)(want - hi));
        }
#pragma omp critical(pk_sumsq_gauss_check)
        pk_xacc_merge(ref_total, &mine);
    }
    *nbad = bad;
    *worst_rel = worst;
    return status;
}

double pk_sumsq_f64_max_abs(uint64_t n)
{
    return sqrt(DBL_MAX / (double)(n ? n : 1));
}
