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

/* Symmetric 2x2 matrices [[a, b], [b, d]] mod p: every power of [[1, 1], [1, 0]] is one,
 * [[F(k+1), F(k)], [F(k), F(k-1)]], and powers commute, so their products stay symmetric. */
struct sym {
    uint64_t a, b, d;
};

static struct sym sym_mul(struct sym x, struct sym y, uint64_t p)
{
    return (struct sym){.a = (mulmod(x.a, y.a, p) + mulmod(x.b, y.b, p)) % p,
                        .b = (mulmod(x.a, y.b, p) + mulmod(x.b, y.d, p)) % p,
                        .d = (mulmod(x.b, y.b, p) + mulmod(x.d, y.d, p)) % p};
}

uint64_t pk_fib_mod(uint64_t n, uint64_t p)
{
    struct sym r = {.a = 1 % p, .b = 0, .d = 1 % p}; /* identity */
    struct sym m = {.a = 1 % p, .b = 1 % p, .d = 0};
    for (; n; n >>= 1) {
        if (n & 1)
            r = sym_mul(r, m, p);
        m = sym_mul(m, m, p);
    }
    return r.b;
}

int pk_fib_cassini_mod(const mpz_t fn, const mpz_t fn1, uint64_t n, uint64_t p)
{
    uint64_t f = mpz_fdiv_ui(fn, p), f1 = mpz_fdiv_ui(fn1, p);
    uint64_t fp1 = (f + f1) % p; /* F(n+1) = F(n) + F(n-1) */
    uint64_t lhs = (mulmod(f1, fp1, p) + p - mulmod(f, f, p)) % p;
    uint64_t rhs = n % 2 ? p - 1 : 1;
    return lhs == rhs;
}
