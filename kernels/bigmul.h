/* SPDX-License-Identifier: MIT */
/* Large-integer products for factsum: FLINT's FFT multiplication where it measured faster than
 * GMP's, threaded when nothing else runs. Without FLINT (not built in, not loadable, or turned
 * off) every product is GMP's. Internal to the kernels. */
#ifndef PARKIT_KERNELS_BIGMUL_H
#define PARKIT_KERNELS_BIGMUL_H

#include <gmp.h>
#include <stdbool.h>

/* Turns FLINT on or off for every product after it; true when on and loadable. */
bool pk_bigmul_flint(bool use);

/* r = x * y (r may alias either) on `threads` threads: more than 1 only when nothing else runs. */
void pk_bigmul(mpz_t r, const mpz_t x, const mpz_t y, int threads);

#endif
