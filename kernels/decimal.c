/* SPDX-License-Identifier: MIT */
/* Decimal output of big integers (factsum, fib): the whole decimal string in parallel, its check
 * against the value mod the oracle's primes, and the digit count and edges without the whole
 * string; see parkit/factsum.h. */
#include "mont.h"
#include "parkit/factsum.h"
#include "parkit/status.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* Below this many digits GMP's own conversion runs without splitting. */
#define DECIMAL_MIN_DIGITS 200000

/* ---- decimal conversion ------------------------------------------------------------------- */

/* Writes exactly `width` digits of x (< 10^width) to buf, zero-padded on the left. */
static void decimal_fixed(const mpz_t x, size_t width, char *buf, int depth)
{
    if (depth <= 0 || width < DECIMAL_MIN_DIGITS) {
        size_t cap = mpz_sizeinbase(x, 10) + 2;
        char *tmp = malloc(cap);
        if (!tmp) { /* cannot happen before GMP itself fails; keep the output defined */
            memset(buf, '?', width);
            return;
        }
        mpz_get_str(tmp, 10, x);
        size_t len = strlen(tmp);
        if (mpz_sgn(x) == 0)
            len = 0;
        memset(buf, '0', width - len);
        memcpy(buf + width - len, tmp, len);
        free(tmp);
        return;
    }
    /* x = q 10^low + r. Since 10^low = 5^low 2^low, divide x >> low by the smaller 5^low:
     * x >> low = q 5^low + r5 gives r = r5 2^low + (x mod 2^low), smaller operands than
     * dividing by 10^low (measured: 0.366 -> 0.356 s for the 5.6 million digits of !1e6). */
    size_t low = width / 2;
    mpz_t pow, q, r, lowbits;
    mpz_inits(pow, q, r, lowbits, NULL);
    mpz_ui_pow_ui(pow, 5, low);
    mpz_tdiv_q_2exp(q, x, low);
    mpz_tdiv_qr(q, r, q, pow);
    mpz_tdiv_r_2exp(lowbits, x, low);
    mpz_mul_2exp(r, r, low);
    mpz_ior(r, r, lowbits);
    mpz_clears(pow, lowbits, NULL);
#pragma omp task default(none) shared(q, buf) firstprivate(width, low, depth)
    decimal_fixed(q, width - low, buf, depth - 1);
    decimal_fixed(r, low, buf + width - low, depth - 1);
#pragma omp taskwait
    mpz_clears(q, r, NULL);
}

int pk_mpz_to_decimal(const mpz_t x, int nthreads, char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    if (mpz_sgn(x) < 0 || nthreads < 1)
        return PK_EINVAL;
    size_t width = mpz_sizeinbase(x, 10); /* exact or one too many */
    char *buf = malloc(width + 1);
    if (!buf)
        return PK_ENOMEM;
    int depth = 0;
    while ((1 << depth) < nthreads && depth < 8)
        depth++;
    if (nthreads == 1)
        depth = 0;
#pragma omp parallel num_threads(nthreads) default(none) shared(x, width, buf, depth)
#pragma omp single
    decimal_fixed(x, width, buf, depth);
    size_t skip = width > 1 && buf[0] == '0' ? 1 : 0;
    memmove(buf, buf + skip, width - skip);
    buf[width - skip] = '\0';
    *out = buf;
    *len = width - skip;
    return PK_OK;
}

/* ---- decimal check ------------------------------------------------------------------------ */

#define CHECK_PRIMES 4
#define CHUNK        18 /* digits per word: 10^18 < every prime */

/* acc[j] = the digits text[0, len) mod each prime, by Horner over words of CHUNK digits (the
 * first of len % CHUNK when that is not 0); ten18[j] is 10^18 in Montgomery form. */
static void digits_mod(const char *text, size_t len, const struct mont *m, const uint64_t *ten18,
                       uint64_t *acc)
{
    size_t head = len % CHUNK ? len % CHUNK : CHUNK;
    for (int j = 0; j < CHECK_PRIMES; j++)
        acc[j] = 0;
    for (size_t at = 0, w = head; at < len; at += w, w = CHUNK) {
        uint64_t word = 0;
        for (size_t i = 0; i < w; i++)
            word = word * 10 + (uint64_t)(text[at + i] - '0');
        for (int j = 0; j < CHECK_PRIMES; j++) /* acc * 10^w + word; w < 18 only when acc = 0 */
            acc[j] = addmod(redc((u128)acc[j] * ten18[j], &m[j]), word, m[j].p);
    }
}

/* Whether text is a canonical decimal (digits only, no leading zero). */
static bool canonical(const char *text, size_t len)
{
    if (len == 0 || (len > 1 && text[0] == '0'))
        return false;
    size_t bad = 0; /* counted without a branch, so that the loop vectorises */
    for (size_t i = 0; i < len; i++)
        bad += (unsigned char)(text[i] - '0') > 9;
    return bad == 0;
}

bool pk_decimal_matches(const char *text, size_t len, const mpz_t x, int nthreads)
{
    if (mpz_sgn(x) < 0 || nthreads < 1 || !canonical(text, len))
        return false;
    uint64_t primes[CHECK_PRIMES], ten18[CHECK_PRIMES], res[CHECK_PRIMES] = {0};
    struct mont m[CHECK_PRIMES];
    pk_oracle_primes(primes, CHECK_PRIMES);
    for (int j = 0; j < CHECK_PRIMES; j++) {
        m[j] = mont_of(primes[j]);
        ten18[j] = redc((u128)(UINT64_C(1000000000000000000) % primes[j]) * m[j].r2, &m[j]);
    }
    /* one piece per thread: the last ones of `tail` whole words each, the first the rest; the
     * residues join as res * 10^(18 tail) + piece (res = 0 before the first piece) */
    size_t words = (len + CHUNK - 1) / CHUNK;
    size_t np = nthreads > 8 ? 8 : (size_t)nthreads;
    np = np < words ? np : 1;
    size_t tail = words / np, first = len - (np - 1) * tail * CHUNK;
    uint64_t part[8][CHECK_PRIMES];
#pragma omp parallel for num_threads((int)np) default(none)                                        \
    shared(text, len, m, ten18, part, np, tail, first)
    for (size_t i = 0; i < np; i++) {
        size_t start = i == 0 ? 0 : first + (i - 1) * tail * CHUNK;
        digits_mod(text + start, i == 0 ? first : tail * CHUNK, m, ten18, part[i]);
    }
    for (int j = 0; j < CHECK_PRIMES; j++) {
        uint64_t shift = mont_pow(ten18[j], tail, &m[j]);
        for (size_t i = 0; i < np; i++)
            res[j] = addmod(redc((u128)res[j] * shift, &m[j]), part[i][j], m[j].p);
    }
    for (int j = 0; j < CHECK_PRIMES; j++)
        if (res[j] != mpz_fdiv_ui(x, primes[j]))
            return false;
    return true;
}

/* ---- the first and last digits ------------------------------------------------------------ */

/* Below this many digits the edges come from the whole decimal string, which costs less. */
#define EDGES_MIN_DIGITS 4000

/* s = the decimal of v padded with zeros on the left to width digits (v < 10^width). */
static void padded_decimal(char *s, size_t width, const mpz_t v)
{
    char buf[PK_EDGES_MAX + 2];
    mpz_get_str(buf, 10, v);
    size_t len = mpz_sgn(v) ? strlen(buf) : 0;
    memset(s, '0', width - len);
    memcpy(s + width - len, buf, len);
    s[width] = '\0';
}

int pk_decimal_edges(const mpz_t x, size_t edge, struct pk_decimal_edges *e)
{
    memset(e, 0, sizeof *e);
    if (mpz_sgn(x) < 0 || edge < 1 || edge > PK_EDGES_MAX)
        return PK_EINVAL;
    mpz_init(e->pow);
    size_t est = mpz_sizeinbase(x, 10); /* exact or one too many */
    if (est < EDGES_MIN_DIGITS) {
        char *text = mpz_get_str(NULL, 10, x);
        size_t len = strlen(text), n = len < edge ? len : edge;
        e->digits = len;
        memcpy(e->first, text, n);
        memcpy(e->last, text + len - n, n);
        mpz_ui_pow_ui(e->pow, 5, len - n);
        void (*gmp_free)(void *, size_t);
        mp_get_memory_functions(NULL, NULL, &gmp_free);
        gmp_free(text, len + 1);
        return PK_OK;
    }
    /* x < 10^est, so q = floor(x / 10^k) < 10^edge for k = est - edge; floor(x / 10^k) is
     * floor(floor(x / 2^k) / 5^k). When q has edge - 1 digits, est was one too many. */
    size_t k = est - edge;
    mpz_t q, bound;
    mpz_inits(q, bound, NULL);
    mpz_ui_pow_ui(e->pow, 5, k);
    mpz_tdiv_q_2exp(q, x, k);
    mpz_tdiv_q(q, q, e->pow);
    mpz_ui_pow_ui(bound, 10, edge - 1);
    if (mpz_cmp(q, bound) < 0) {
        k--;
        mpz_divexact_ui(e->pow, e->pow, 5);
        mpz_tdiv_q_2exp(q, x, k);
        mpz_tdiv_q(q, q, e->pow);
    }
    e->digits = k + edge;
    padded_decimal(e->first, edge, q);
    mpz_mul_ui(bound, bound, 10);
    mpz_tdiv_r(q, x, bound);
    padded_decimal(e->last, edge, q);
    mpz_clears(q, bound, NULL);
    return PK_OK;
}

void pk_decimal_edges_clear(struct pk_decimal_edges *e)
{
    mpz_clear(e->pow);
}

/* Whether text is exactly `len` digits, and then its value in *v (len <= PK_EDGES_MAX). */
static bool parse_digits(const char *text, size_t len, u128 *v)
{
    *v = 0;
    if (strlen(text) != len)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9')
            return false;
        *v = *v * 10 + (unsigned)(text[i] - '0');
    }
    return true;
}

/* Whether pow is 5^k mod each of the oracle's primes (a wrong power cannot pass unnoticed). */
static bool pow5_confirmed(const mpz_t pow, size_t k)
{
    uint64_t primes[CHECK_PRIMES];
    pk_oracle_primes(primes, CHECK_PRIMES);
    for (int j = 0; j < CHECK_PRIMES; j++) {
        struct mont m = mont_of(primes[j]);
        uint64_t five = redc((u128)5 * m.r2, &m);
        if (redc(mont_pow(five, k, &m), &m) != mpz_fdiv_ui(pow, primes[j]))
            return false;
    }
    return true;
}

/* Whether last (edge digits) is x mod 10^edge, rebuilt from x mod 2^edge and x mod 5^edge. */
static bool last_digits_match(const mpz_t x, size_t edge, u128 last)
{
    uint64_t m5 = 1;
    for (size_t i = 0; i < edge; i++)
        m5 *= 5;
    uint64_t mask = (UINT64_C(1) << edge) - 1; /* edge <= 27 */
    uint64_t a = (mpz_size(x) ? (uint64_t)mpz_getlimbn(x, 0) : 0) & mask;
    uint64_t b = mpz_fdiv_ui(x, m5);
    uint64_t inv = m5; /* m5^-1 mod 2^64 by Newton, as in mont_of */
    for (int i = 0; i < 6; i++)
        inv *= 2 - m5 * inv;
    uint64_t t = ((a - b) * inv) & mask; /* L = b + m5 t with L = a mod 2^edge */
    return last == (u128)b + (u128)m5 * t;
}

bool pk_decimal_edges_match(const mpz_t x, const struct pk_decimal_edges *e)
{
    size_t edge = strlen(e->first);
    u128 first, last;
    if (mpz_sgn(x) < 0 || edge < 1 || edge > PK_EDGES_MAX || e->digits < edge ||
        (e->digits > edge && !parse_digits(e->first, edge, &first)) ||
        (e->digits > edge && e->first[0] == '0') || !parse_digits(e->last, edge, &last))
        return false;
    if (e->digits == edge) { /* every digit is there: compare it whole */
        if (strcmp(e->first, e->last) != 0 || (edge > 1 && e->first[0] == '0'))
            return false;
        mpz_t v;
        mpz_init_set_str(v, e->first, 10);
        bool same = mpz_cmp(v, x) == 0;
        mpz_clear(v);
        return same;
    }
    /* first 10^k <= x < (first + 1) 10^k, i.e. first 5^k <= floor(x / 2^k) < (first + 1) 5^k */
    size_t k = e->digits - edge;
    if (!pow5_confirmed(e->pow, k))
        return false;
    mpz_t t, lo, f;
    mpz_inits(t, lo, f, NULL);
    mpz_tdiv_q_2exp(t, x, k);
    mpz_import(f, 1, -1, sizeof first, 0, 0, &first);
    mpz_mul(lo, f, e->pow);
    bool above = mpz_cmp(t, lo) >= 0;
    mpz_add(lo, lo, e->pow);
    bool below = mpz_cmp(t, lo) < 0;
    mpz_clears(t, lo, f, NULL);
    return above && below && last_digits_match(x, edge, last);
}
