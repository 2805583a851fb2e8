/* SPDX-License-Identifier: MIT */
/* Exact float64 accumulator; see parkit/xacc.h for the representation. */
#include "parkit/xacc.h"

#include <math.h>
#include <string.h>

__extension__ typedef unsigned __int128 u128;

#define DIGIT_BITS 32
#define DIGIT_MASK 0xffffffffULL
/* Normalise well before a digit could overflow: each addition adds less than 2^32. */
#define MAX_PENDING (INT64_C(1) << 30)

void pk_xacc_init(struct pk_xacc *acc)
{
    memset(acc, 0, sizeof *acc);
}

void pk_xacc_normalize(struct pk_xacc *acc)
{
    int64_t carry = 0;
    for (int k = 0; k < PK_XACC_DIGITS - 1; k++) {
        int64_t t = acc->digit[k] + carry;
        /* floor division by 2^32 for either sign; the low part is then in [0, 2^32) */
        carry = (t - (int64_t)((uint64_t)t & DIGIT_MASK)) / (INT64_C(1) << DIGIT_BITS);
        acc->digit[k] = (int64_t)((uint64_t)t & DIGIT_MASK);
    }
    acc->digit[PK_XACC_DIGITS - 1] += carry;
    acc->pending = 1;
}

void pk_xacc_add(struct pk_xacc *acc, double x)
{
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    unsigned biased = (unsigned)(bits >> 52) & 0x7ffu;
    uint64_t m = bits & ((UINT64_C(1) << 52) - 1);
    if (biased == 0x7ffu) {
        if (m != 0)
            acc->nnan++;
        else if (bits >> 63)
            acc->nneg_inf++;
        else
            acc->npos_inf++;
        return;
    }
    /* Position of m's lowest bit counted from 2^-1074: subnormals share the exponent of the
     * smallest normal numbers but lack the implicit bit. */
    unsigned pos = 0;
    if (biased != 0) {
        m |= UINT64_C(1) << 52;
        pos = biased - 1;
    }
    if (m == 0)
        return;
    if (acc->pending >= MAX_PENDING)
        pk_xacc_normalize(acc);
    u128 v = (u128)m << (pos % DIGIT_BITS);
    int k = (int)(pos / DIGIT_BITS);
    int64_t d0 = (int64_t)(uint64_t)(v & DIGIT_MASK);
    int64_t d1 = (int64_t)(uint64_t)((v >> 32) & DIGIT_MASK);
    int64_t d2 = (int64_t)(uint64_t)(v >> 64);
    if (bits >> 63) {
        d0 = -d0;
        d1 = -d1;
        d2 = -d2;
    }
    acc->digit[k] += d0;
    acc->digit[k + 1] += d1;
    acc->digit[k + 2] += d2;
    acc->pending++;
}

void pk_xacc_merge(struct pk_xacc *acc, struct pk_xacc *other)
{
    if (acc->pending + other->pending >= MAX_PENDING) {
        pk_xacc_normalize(acc);
        pk_xacc_normalize(other);
    }
    for (int k = 0; k < PK_XACC_DIGITS; k++)
        acc->digit[k] += other->digit[k];
    acc->pending += other->pending;
    acc->npos_inf += other->npos_inf;
    acc->nneg_inf += other->nneg_inf;
    acc->nnan += other->nnan;
}

static int bit_length(uint64_t v)
{
    return v ? 64 - __builtin_clzll(v) : 0;
}

/* Rounds the non-negative normalised magnitude in digit[] to a double. */
static double round_magnitude(const int64_t *digit)
{
    int h = PK_XACC_DIGITS - 1;
    while (h >= 0 && digit[h] == 0)
        h--;
    if (h < 0)
        return 0.0;
    int top_bits = bit_length((uint64_t)digit[h]);
    long nbits = (long)DIGIT_BITS * h + top_bits; /* bit length of the whole integer */
    if (nbits <= 53) {
        /* Exactly representable, possibly subnormal. */
        uint64_t v = (uint64_t)digit[0] | (h >= 1 ? (uint64_t)digit[1] << 32 : 0);
        return ldexp((double)v, -1074);
    }
    /* Take the three top digits (missing ones below digit 0 are zero), keep 64 bits and fold
     * everything below them into a sticky bit. */
    u128 t = (u128)(uint64_t)digit[h] << 64;
    if (h >= 1)
        t |= (u128)(uint64_t)digit[h - 1] << 32;
    if (h >= 2)
        t |= (u128)(uint64_t)digit[h - 2];
    int sticky = (t & (((u128)1 << top_bits) - 1)) != 0;
    uint64_t window = (uint64_t)(t >> top_bits);
    for (int k = h - 3; k >= 0 && !sticky; k--)
        sticky = digit[k] != 0;
    uint64_t q = window >> 11;
    uint64_t rem = window & 0x7ff;
    if (rem > 0x400 || (rem == 0x400 && (sticky || (q & 1))))
        q++;
    return ldexp((double)q, (int)(nbits - 53 - 1074));
}

double pk_xacc_round(struct pk_xacc *acc)
{
    if (acc->nnan || (acc->npos_inf && acc->nneg_inf))
        return NAN;
    if (acc->npos_inf)
        return INFINITY;
    if (acc->nneg_inf)
        return -INFINITY;
    pk_xacc_normalize(acc);
    if (acc->digit[PK_XACC_DIGITS - 1] >= 0)
        return round_magnitude(acc->digit);
    struct pk_xacc magnitude;
    pk_xacc_init(&magnitude);
    for (int k = 0; k < PK_XACC_DIGITS; k++)
        magnitude.digit[k] = -acc->digit[k];
    pk_xacc_normalize(&magnitude);
    return -round_magnitude(magnitude.digit);
}
