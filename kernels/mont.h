/* SPDX-License-Identifier: MIT */
/* Montgomery arithmetic modulo primes below 2^62, for the modular oracles and the decimal checks
 * (kernels/factsum.c, kernels/decimal.c). Internal to the kernels. */
#ifndef PARKIT_KERNELS_MONT_H
#define PARKIT_KERNELS_MONT_H

#include <stdint.h>

__extension__ typedef unsigned __int128 u128;

struct mont {
    uint64_t p, neg_inv, r2;
};

static inline struct mont mont_of(uint64_t p)
{
    uint64_t inv = p; /* Newton: each step doubles the correct low bits of p^-1 mod 2^64 */
    for (int i = 0; i < 6; i++)
        inv *= 2 - p * inv;
    uint64_t r = (uint64_t)(((u128)1 << 64) % p);
    return (struct mont){.p = p, .neg_inv = (uint64_t)0 - inv, .r2 = (uint64_t)((u128)r * r % p)};
}

static inline uint64_t redc(u128 t, const struct mont *m)
{
    uint64_t q = (uint64_t)t * m->neg_inv;
    uint64_t r = (uint64_t)((t + (u128)q * m->p) >> 64);
    return r >= m->p ? r - m->p : r;
}

static inline uint64_t addmod(uint64_t a, uint64_t b, uint64_t p)
{
    uint64_t s = a + b; /* a, b < p < 2^62: no overflow */
    return s >= p ? s - p : s;
}

/* base^e for base in Montgomery form; the result in Montgomery form. */
static inline uint64_t mont_pow(uint64_t base, uint64_t e, const struct mont *m)
{
    uint64_t r = redc(m->r2, m); /* 1 */
    for (; e; e >>= 1) {
        if (e & 1)
            r = redc((u128)r * base, m);
        base = redc((u128)base * base, m);
    }
    return r;
}

#endif
