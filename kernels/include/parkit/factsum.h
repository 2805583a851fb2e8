/* SPDX-License-Identifier: MIT */
/* Exact left factorial !n = sum_{i<n} i! (OEIS A003422) by binary splitting, and the GMP helpers
 * around it (parallel products and decimal conversion, modular oracles, a memory guard).
 *
 * Binary splitting over the Horner form: for a range [a, b) let P = prod_{a<=k<b} k and
 * T = sum_{a<=i<b} prod_{k=a..i} k. Halves merge as P = P1*P2, T = T1 + P1*T2, and
 * !n = 1 + T(1, n) for n >= 1. Splits balance the bit size of the two products (their cost),
 * not their length; OpenMP tasks run both halves and the two merge products in parallel.
 * Inside the splitting P is kept without its factors of two (one shift of T per merge).
 *
 * Many n at once are one pass: [1, nmax) is cut at every requested n (a "mark"), the segments
 * are computed concurrently, and a left-to-right fold of their (P, T) yields T(1, n) at each mark.
 * Across ranks, each rank owns a contiguous range (a "part") and parts merge up a tree.
 *
 * GMP terminates the process when an allocation fails ("Custom Allocation" in its manual), and
 * its allocation functions may not return on failure; pk_gmp_guard_install routes that through a
 * caller-supplied handler so the program can report it cleanly. mpz outputs come first, as in
 * GMP. Kernels never print or exit. */
#ifndef PARKIT_FACTSUM_H
#define PARKIT_FACTSUM_H

#include <gmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest n accepted: beyond it even the result (about n log2 n bits) outgrows any node here. */
#define PK_FACTSUM_MAX_N UINT64_C(1000000000)

/* Ranges of at most this many factors are leaves (no merge inside them). */
#define PK_FACTSUM_LEAF 128

/* Flags for the computation. */
enum {
    PK_FACTSUM_CANARY = 1u, /* corrupt one merge (T = T1 + P2*T2): verification must fail */
};

/* A rank's share of [1, nmax): P and T of [lo, hi), and T(lo, m) at each requested m with
 * lo < m < hi (the requested m == hi is the part's own T). */
struct pk_factsum_part {
    uint64_t lo, hi;
    mpz_t P, T;
    bool has_P;     /* P is valid (skipped where no later merge needs it) */
    size_t nmarks;  /* ascending */
    uint64_t *mark; /* owned */
    mpz_t *mark_T;  /* owned, nmarks values */
    bool live;      /* P and T are initialised (pk_factsum_part_free clears them) */
};

/* Computes part for [lo, hi) (lo >= 1). marks: the requested n, ascending, unique (any range;
 * those in (lo, hi) are kept). need_P: whether P will be needed by a later merge.
 * Returns 0 or PK_ENOMEM / PK_EINVAL. The caller frees part with pk_factsum_part_free. */
int pk_factsum_part_compute(struct pk_factsum_part *part, uint64_t lo, uint64_t hi,
                            const uint64_t *marks, size_t nmarks, bool need_P, int nthreads,
                            unsigned flags);
/* left := left followed by right (left->hi == right->lo); right is consumed (freed).
 * boundary_marked: right->lo is a requested n. need_P: keep P of the union. */
int pk_factsum_part_merge(struct pk_factsum_part *left, struct pk_factsum_part *right,
                          bool boundary_marked, bool need_P, int nthreads);
void pk_factsum_part_free(struct pk_factsum_part *part); /* NULL ok */
/* Serialises a part into one malloc'd buffer (*bytes, caller frees) and back. */
int pk_factsum_part_pack(const struct pk_factsum_part *part, void **bytes, size_t *nbytes);
int pk_factsum_part_unpack(struct pk_factsum_part *part, const void *bytes, size_t nbytes);

/* Cost-balanced cut of [lo, hi) into k ranges: points[0] = lo, points[k] = hi, and range i's
 * product has bits proportional to 1 / weight[i] (weight NULL: all equal), so that ranges whose
 * owners do more work per bit (they must also supply P: PK_FACTSUM_P_WEIGHT) get fewer bits. */
void pk_factsum_split(uint64_t lo, uint64_t hi, int k, const double *weight, uint64_t *points);
/* Work per bit of a part that must supply P, relative to one that needs only T (measured). */
#define PK_FACTSUM_P_WEIGHT 1.29
/* Bits of (n-1)!, the size of !n, from lgamma. */
double pk_factsum_bits(uint64_t n);
/* Peak memory estimate in bytes for computing !nmax and its decimal string. */
uint64_t pk_factsum_memory_estimate(uint64_t nmax);
/* The same for the whole request: !N for each of the n marks (any order, repeats counted once
 * by the caller), every value kept to the end. */
uint64_t pk_factsum_memory_estimate_marks(const uint64_t *marks, size_t n);

/* ---- decimal output of big integers (kernels/decimal.c; fib's too) ---- */

/* *out = decimal string of x >= 0 (malloc'd, NUL-terminated, caller frees), *len its length;
 * divide and conquer by powers of ten with the halves converted in parallel. */
int pk_mpz_to_decimal(const mpz_t x, int nthreads, char **out, size_t *len);
/* Whether text[0, len) is the canonical decimal of x >= 0 (digits only, no leading zero) and has
 * its value mod the four primes of pk_oracle_primes (Horner over 18-digit words, in pieces on
 * nthreads threads): an independent check of a conversion. */
bool pk_decimal_matches(const char *text, size_t len, const mpz_t x, int nthreads);

/* The digit count and the first and last `edge` digits of x >= 0 (edge 1..PK_EDGES_MAX), without
 * writing all of x in decimal: one power of five, 5^k for k = digits - edge, and a division
 * whose quotient has edge digits (all of x's digits in both when it has at most edge). */
#define PK_EDGES_MAX 27 /* 5^27 < 2^64: the last digits' check works in words */
struct pk_decimal_edges {
    size_t digits;
    char first[PK_EDGES_MAX + 1], last[PK_EDGES_MAX + 1]; /* NUL-terminated */
    mpz_t pow;                                            /* 5^k, kept for the check */
};
int pk_decimal_edges(const mpz_t x, size_t edge, struct pk_decimal_edges *e);
/* Whether e->digits, e->first and e->last are those of x, by exact checks independent of how
 * they were found: first * 10^k <= x < (first + 1) * 10^k with e->pow confirmed to be 5^k mod
 * the primes of pk_oracle_primes, and last against x mod 2^edge and x mod 5^edge joined by
 * the Chinese remainder theorem. */
bool pk_decimal_edges_match(const mpz_t x, const struct pk_decimal_edges *e);
void pk_decimal_edges_clear(struct pk_decimal_edges *e); /* after a successful pk_decimal_edges */

/* Independent oracle: !n mod p for each n in ns (any order) and each prime p < 2^62, by the
 * O(nmax) recurrence fact = fact*i, sum += fact in Montgomery arithmetic, one prime per task.
 * out[j * count + i] = !ns[i] mod primes[j]. */
int pk_factsum_mod(const uint64_t *ns, size_t count, const uint64_t *primes, size_t nprimes,
                   int nthreads, uint64_t *out);
/* Fills primes[0..k) with the first k primes below 2^62 - 2^40 (deterministic). */
void pk_oracle_primes(uint64_t *primes, size_t k);

/* Routes GMP's allocations through counting functions: more than limit_bytes in use (0: no limit)
 * or a failed allocation calls on_fail(requested_bytes), which must not return (GMP's rule).
 * Thread-safe. */
void pk_gmp_guard_install(uint64_t limit_bytes, void (*on_fail)(size_t requested));
/* Largest number of bytes GMP held at once since install. */
uint64_t pk_gmp_guard_peak(void);

/* Whether a lone root product may use FLINT's threaded multiplication (built with FLINT and
 * libflint loadable; loaded on first use). use = false makes GMP do it (tests compare both);
 * call it before computing, not during. Returns whether FLINT will be used. */
bool pk_factsum_flint(bool use);
/* What FLINT did for the products so far in this process, for the record: "used", "not needed"
 * (nothing large enough: not even loaded), "unavailable", "off" or "not built". */
const char *pk_factsum_flint_use(void);

#endif
