/* SPDX-License-Identifier: MIT */
/* Sum of squares, three ways: an exact integer range, seeded Gaussian chunks, and a float64
 * array. The float64 variants cut their input into a fixed global grid of blocks (or chunks)
 * that does not depend on the number of workers, reduce each block in a fixed order, and add
 * the block partials to an exact accumulator (parkit/xacc.h): the rounded total has the same
 * bits for any thread count, rank count or split. Each kernel has a serial _ref twin that
 * uses a different method and serves as the test oracle.
 *
 * Kernels never print, read the environment or exit; the thread count is an argument. */
#ifndef PARKIT_SUMSQ_H
#define PARKIT_SUMSQ_H

#include "parkit/xacc.h"

#include <stddef.h>
#include <stdint.h>

__extension__ typedef unsigned __int128 pk_u128;

/* Elements per block of the float64 grid: 64 KiB, large enough that adding one partial to the
 * exact accumulator costs < 1% of streaming the block, small enough to balance threads. */
#define PK_SUMSQ_BLOCK 8192
/* Indices per block of the integer range grid. */
#define PK_SUMSQ_RANGE_BLOCK (UINT64_C(1) << 20)
/* Largest N for which sum_{i<N} i^2 = N(N-1)(2N-1)/6 fits in 128 bits. */
#define PK_SUMSQ_RANGE_MAX UINT64_C(10069012961345)

/* *out = sum of i*i for lo <= i < hi, exactly. PK_ERANGE when hi > PK_SUMSQ_RANGE_MAX
 * (the sum could overflow), PK_EINVAL when lo > hi. Uses nthreads OpenMP threads. */
int pk_sumsq_range(uint64_t lo, uint64_t hi, int nthreads, pk_u128 *out);
/* Serial twin: one 128-bit multiply-add per index, no blocks. */
int pk_sumsq_range_ref(uint64_t lo, uint64_t hi, pk_u128 *out);

/* acc += sum of x[i]^2 for i < n, each block of PK_SUMSQ_BLOCK elements reduced in a fixed
 * order, its partial added exactly. x must start on a block of the global grid (callers split
 * arrays only at multiples of PK_SUMSQ_BLOCK). The caller owns x and acc. */
int pk_sumsq_f64(const double *x, size_t n, int nthreads, struct pk_xacc *acc);
/* Serial twin: long-double sums of 1024 squares, added up in long double. Relative error at
 * most (1024 + n/1024 + 2) * 2^-64. */
long double pk_sumsq_f64_ref(const double *x, size_t n);
/* Relative error bound of pk_sumsq_f64's rounded total against the exact sum of squares:
 * 32 lanes per block add B/32 rounded squares each, a 5-level tree joins the lanes, and the
 * exact total is rounded once. */
double pk_sumsq_f64_error_bound(void);
/* The largest |x| that pk_sumsq_f64 takes among n values (n >= 1): sqrt(DBL_MAX / n), below
 * which no sum of n squares can overflow float64. Inputs must be finite and within it; a
 * driver refuses others before the run (a NaN gave a NaN "verified", an overflow a failed
 * verification). */
double pk_sumsq_f64_max_abs(uint64_t n);

/* Fills x[i] for i < n with uniform values in [-1, 1) drawn from a counter-based hash of
 * (seed, first + i): every value depends only on its global index. Touches pages with the same
 * static block schedule as pk_sumsq_f64 so each thread reads memory it first touched. */
void pk_sumsq_fill(double *x, size_t n, uint64_t first, uint64_t seed, int nthreads);

/* Seeded Gaussian grid: n standard-normal values in chunks of `chunk` (the last one may be
 * short); chunk k is drawn by its own GSL generator seeded from (seed, k). */
struct pk_gauss_grid {
    uint64_t seed;
    uint64_t n;
    uint64_t chunk;
};
/* Number of chunks of the grid. */
uint64_t pk_gauss_nchunks(const struct pk_gauss_grid *g);
/* For chunks k0 <= k < k1: partial[k - k0] (when partial is not NULL) = that chunk's sum of
 * squares, and acc += each partial exactly. PK_ENOMEM when a generator cannot be allocated. */
int pk_sumsq_gauss(const struct pk_gauss_grid *g, uint64_t k0, uint64_t k1, int nthreads,
                   double *partial, struct pk_xacc *acc);
/* Serial twin for one chunk: same values, summed one by one in long double. */
long double pk_sumsq_gauss_ref(const struct pk_gauss_grid *g, uint64_t k);
/* Verification of chunks k0 <= k < k1 against the serial twin, in parallel: *nbad counts the
 * partials farther than pk_sumsq_gauss_error_bound from pk_sumsq_gauss_ref, *worst_rel is the
 * largest relative difference, and ref_total += each reference sum (exactly, as the two doubles
 * nearest the long double). PK_ENOMEM when a generator cannot be allocated. */
int pk_sumsq_gauss_check(const struct pk_gauss_grid *g, uint64_t k0, uint64_t k1,
                         const double *partial, int nthreads, uint64_t *nbad, double *worst_rel,
                         struct pk_xacc *ref_total);
/* Relative error bound of a chunk partial against its exact value. */
double pk_sumsq_gauss_error_bound(const struct pk_gauss_grid *g);
/* The seed given to chunk k's generator (GSL generators take 32 bits of it). */
unsigned long pk_gauss_chunk_seed(uint64_t seed, uint64_t k);
/* Name of the GSL generator used for every chunk. */
const char *pk_gauss_rng_name(void);

#endif
