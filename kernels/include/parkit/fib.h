/* SPDX-License-Identifier: MIT */
/* Exact Fibonacci numbers with GMP, many n spread over threads (the tutorials' executor.map),
 * and independent modular checks. mpz outputs come first, as in GMP. No printing, no exit. */
#ifndef PARKIT_FIB_H
#define PARKIT_FIB_H

#include <gmp.h>
#include <stddef.h>
#include <stdint.h>

/* Largest n accepted: F(n) has about 0.694 n bits. */
#define PK_FIB_MAX_N UINT64_C(1000000000)

/* fn[i] = F(n[i]) and fn1[i] = F(n[i] - 1) (F(-1) = 1) for i < count, by mpz_fib2_ui, largest n
 * first over nthreads threads (dynamic schedule). fn and fn1 are initialised by the caller. */
int pk_fib_many(mpz_t *fn, mpz_t *fn1, const uint64_t *n, size_t count, int nthreads);
/* F(n) mod p by the 2x2 matrix power [[1,1],[1,0]]^n, for p < 2^62: an O(log n) oracle that
 * shares nothing with GMP's Lucas-sequence doubling. */
uint64_t pk_fib_mod(uint64_t n, uint64_t p);
/* Cassini's identity F(n-1) F(n+1) - F(n)^2 = (-1)^n checked mod p on the big values. */
int pk_fib_cassini_mod(const mpz_t fn, const mpz_t fn1, uint64_t n, uint64_t p);

#endif
