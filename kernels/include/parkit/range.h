/* SPDX-License-Identifier: MIT */
/* Range checks of input values, fast enough to run on every value read. */
#ifndef PARKIT_RANGE_H
#define PARKIT_RANGE_H

#include <stddef.h>

/* The offset of the first value of x[0..n) that is not a finite number in [lo, hi] (NaN and
 * infinities fail, lo and hi finite), or n when every value passes. */
size_t pk_range_first_outside(const double *x, size_t n, double lo, double hi);

#endif
