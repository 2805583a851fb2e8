/* SPDX-License-Identifier: MIT */
/* Large-integer products for factsum: FLINT's FFT multiplication where it measured faster than
 * GMP's, threaded when nothing else runs. Without FLINT (not built in, not loadable, or turned
 * off) every product is GMP's. Internal to the kernels. */
#ifndef PARKIT_KERNELS_BIGMUL_H
#define PARKIT_KERNELS_BIGMUL_H

#include <gmp.h>
#include <stdbool.h>

/* Turns FLINT on or off for every product after it; true when on and loadable (it loads). */
bool pk_bigmul_flint(bool use);
/* What FLINT did in this process so far: "used" (it multiplied), "not needed" (no product was
 * large enough, so it was not loaded), "unavailable" (needed but not loadable), "off"
 * (pk_bigmul_flint(false)) or "not built". */
const char *pk_bigmul_flint_use(void);

/* r = x * y (r may alias either) on `threads` threads: more than 1 only when nothing else runs. */
void pk_bigmul(mpz_t r, const mpz_t x, const mpz_t y, int threads);

#endif
