/* SPDX-License-Identifier: MIT */
/* Exact accumulator for float64 sums (a "superaccumulator").
 *
 * Every finite double is m * 2^e with an integer m < 2^53 and e >= -1074, so any sum of
 * doubles is an integer multiple of 2^-1074 below 2^1088. The accumulator keeps that integer
 * exactly in signed 32-bit digits stored in int64 slots, which leaves 31 bits of headroom per
 * digit for deferred carries. Adding is therefore exact and order-free: the same set of
 * addends gives the same bits however it is split over threads and ranks, and pk_xacc_round
 * rounds once, to nearest with ties to even. An exact zero rounds to +0.0, even when every
 * addend was -0.0 (IEEE addition would give -0.0).
 *
 * The struct is plain data made only of int64 fields, so MPI can move it as an array of
 * int64 and reduce it with element-wise addition (kernels/dist). Not thread-safe: give each
 * thread its own accumulator and merge them. */
#ifndef PARKIT_XACC_H
#define PARKIT_XACC_H

#include <stdint.h>

/* 70 digits x 32 bits = 2240 bits: 2099 bits for the largest finite double's position plus
 * room for 2^63 addends of carry growth. */
#define PK_XACC_DIGITS 70

struct pk_xacc {
    int64_t digit[PK_XACC_DIGITS]; /* value = sum digit[k] * 2^(32k - 1074) */
    int64_t pending;               /* upper bound on unnormalised additions per digit; <= 2^30 */
    int64_t npos_inf, nneg_inf, nnan;
};
/* Number of int64 words in struct pk_xacc (for MPI and serialisation). */
#define PK_XACC_WORDS (PK_XACC_DIGITS + 4)

void pk_xacc_init(struct pk_xacc *acc);
/* Adds x exactly. Infinities and NaNs are counted and decide the rounded result. */
void pk_xacc_add(struct pk_xacc *acc, double x);
/* acc += other, exactly. other is normalised in place but keeps its value. */
void pk_xacc_merge(struct pk_xacc *acc, struct pk_xacc *other);
/* Propagates carries so every digit but the top one lies in [0, 2^32); keeps the value. */
void pk_xacc_normalize(struct pk_xacc *acc);
/* The exact sum rounded to the nearest double (ties to even); +-inf on overflow, NaN when a
 * NaN was added or both infinities were. Normalises acc. */
double pk_xacc_round(struct pk_xacc *acc);

#endif
