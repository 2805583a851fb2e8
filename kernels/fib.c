/* SPDX-License-Identifier: MIT */
#include "parkit/fib.h"

#include "parkit/status.h"

#include <stdlib.h>

__extension__ typedef unsigned __int128 u128;

struct order {
    const uint64_t *n;
    size_t i;
};

static int cmp_order(const void *a, const void *b)
{
    const struct order *x = a, *y = b;
    uint64_t nx = x->n[x->i], ny = y->n[y->i];
    return (nx < ny) - (nx > ny); /* descending: the largest (slowest) first */
}

int pk_fib_many(mpz_t *fn, mpz_t *fn1, const uint64_t *n, size_t count, int nthreads)
{
    if (nthreads < 1)
        return PK_EINVAL;
    for (size_t i = 0; i < count; i++)
        if (n[i] > PK_FIB_MAX_N)
            return PK_EINVAL;
    struct order *ord = malloc(sizeof *ord * (count ? count : 1));
    if (!ord)
        return PK_ENOMEM;
    for (size_t i = 0; i < count; i++)
        ord[i] = (struct order){.n = n, .i = i};
    qsort(ord, count, sizeof *ord, cmp_order);
#pragma omp parallel for num_threads(nthreads) schedule(dynamic, 1) default(none)                  \
    shared(fn, fn1, n, count, ord)
    for (size_t k = 0; k < count; k++) {
        size_t i = ord[k].i;
        if (n[i] == 0) {
            mpz_set_ui(fn[i], 0);
            mpz_set_ui(fn1[i], 1);
        } else {
            mpz_fib2_ui(fn[i], fn1[i], (unsigned long)n[i]);
        }
    }
    free(ord);
    return PK_OK;
}

static uint64_t mulmod(uint64_t a, uint64_t b, uint64_t p)
{
    return (uint64_t)((u128)a * b % p);
}

uint64_t pk_fib_mod(uint64_t n, uint64_t p)
{
    /* m = [[a, b], [b, d]] stays symmetric: powers of [[1,1],[1,0]] are
     * [[F(k+1),F(k)],[F(k),F(k-1)]] */
    uint64_t ra = 1, rb = 0, rd = 1; /* identity */
    uint64_t a = 1 % p, b = 1 % p, d = 0;
    while (n) {
        if (n & 1) {
            uint64_t na = (mulmod(ra, a, p) + mulmod(rb, b, p)) % p;
            uint64_t nb = (mulmod(ra, b, p) + mulmod(rb, d, p)) % p;
            uint64_t nd = (mulmod(rb, b, p) + mulmod(rd, d, p)) % p;
            ra = na;
            rb = nb;
            rd = nd;
        }
        uint64_t na = (mulmod(a, a, p) + mulmod(b, b, p)) % p;
        uint64_t nb = (mulmod(a, b, p) + mulmod(b, d, p)) % p;
        uint64_t nd = (mulmod(b, b, p) + mulmod(d, d, p)) % p;
        a = na;
        b = nb;
        d = nd;
        n >>= 1;
    }
    return rb;
}

int pk_fib_cassini_mod(const mpz_t fn, const mpz_t fn1, uint64_t n, uint64_t p)
{
    uint64_t f = mpz_fdiv_ui(fn, p), f1 = mpz_fdiv_ui(fn1, p);
    uint64_t fp1 = (f + f1) % p; /* F(n+1) = F(n) + F(n-1) */
    uint64_t lhs = (mulmod(f1, fp1, p) + p - mulmod(f, f, p)) % p;
    uint64_t rhs = n % 2 ? p - 1 : 1;
    return lhs == rhs;
}
