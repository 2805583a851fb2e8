/* SPDX-License-Identifier: MIT */
/* Chunked transforms with reductions: the tutorials' process_data_chunk (`chunk`: v*v +
 * sin(v)*100) and heavy_computation (`heavy`: (sin(v)*cos(v) + sqrt(v+1))*log(v+1)), applied to
 * the values v = start + i of an index range or to a float64 buffer, with per-chunk and overall
 * count, sum, mean, min, max (with the global index where each first occurs) and variance.
 *
 * Elements. sin and log come from SLEEF (full-range argument reduction, so arguments near 1e8
 * cost as little as small ones; documented bounds hold for |v| <= 1e14): log (log1p where
 * v + 1 is not exact) within 1.0 ulp (u10); chunk's sin(v) and heavy's sin(2v) within 1.0 ulp
 * for |v| < 32 and from the twice-as-fast 3.5-ulp functions (u35) above, where v*v or
 * sqrt(v+1) dwarfs them (heavy: up to |v| = 5e13, where 2v leaves u35's range). sqrt is the
 * correctly rounded instruction, and the combining step is one explicit fused multiply-add:
 * chunk = fma(sin(v), 100, v*v), heavy = fma(sin(2v), 1/2, sqrt(v+1)) * log(v+1) (sin v cos v
 * = sin(2v)/2, and 2v is exact). Every choice is made per lane on the lane's own v, tails are
 * padded to a full vector, and SIMD lanes never interact, so an element's value depends only
 * on v and on the functions' family (enum pk_transform_math): the deterministic families give
 * the same bits at every instruction set; SLEEF's regular functions differ between
 * instruction sets in the last bit (AVX2 from AVX-512 for 1 argument in 2300, SSE2 for 1 in
 * 260), so with them the instruction set is explicit and agreed across ranks by the driver.
 *
 * Statistics. The global grid cuts [0, n) into chunks of `chunk` indices and each chunk into
 * blocks of PK_TRANSFORM_BLOCK; the grid never depends on threads or ranks. Each block b of
 * n_b values is reduced in two in-cache passes in a fixed lane order: its rounded mean c_b, then
 * d_b = sum (x - c_b) and M2_b = sum (x - c_b)^2. Three exact accumulators (parkit/xacc.h) take
 *     P = sum_b (n_b c_b + d_b)           (the sum; n_b c_b as an exact two-product)
 *     T = sum_b (n_b c_b^2 + 2 c_b d_b)   (exact two-products)
 *     Q = sum_b M2_b
 * and, from the identity sum (x - m)^2 = sum_b [M2_b + 2 (c_b - m) d_b + n_b (c_b - m)^2] with
 * m = P/n, M2 = Q + T - P^2/n, evaluated once in double-double. Every part is an exact sum, so
 * the statistics have the same bits for any thread count, rank count or order of merging.
 *
 * Error bounds (eps = 2^-53, g = (PK_TRANSFORM_BLOCK/PK_TRANSFORM_LANES + 6) eps = 134 eps):
 *   sum:  |sum - S| <= eps |S| + g sum_b sum |x - c_b|  (only deviations from block means
 *         round; each block mean contributes exactly)
 *   M2:   |M2 - M2*| <= 2 g M2* + 2^-100 |T|            (M2* of the same double elements)
 * Non-finite elements make the sum, mean and variance NaN or infinite; min and max skip NaNs.
 *
 * Kernels never print, read the environment or exit; the thread count is an argument. */
#ifndef PARKIT_TRANSFORM_H
#define PARKIT_TRANSFORM_H

#include "parkit/xacc.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Values per block: 32 KiB of values stay in L1/L2 between the two passes over a block, and
 * adding a block's parts to the exact accumulators (~10 additions) costs < 1% of its compute. */
#define PK_TRANSFORM_BLOCK 4096
/* Independent summation chains per block (4 AVX-512 or 8 AVX2 registers). */
#define PK_TRANSFORM_LANES 32
/* "No index": argmin/argmax of an empty set. */
#define PK_TRANSFORM_NONE UINT64_MAX

enum pk_transform_op { PK_TRANSFORM_CHUNK = 0, PK_TRANSFORM_HEAVY = 1 };

/* Instruction sets of the element code, in increasing order; AUTO means the best available. */
enum pk_transform_isa {
    PK_TRANSFORM_ISA_AUTO = 0,
    PK_TRANSFORM_ISA_SCALAR = 1, /* SLEEF scalar u10 functions, one element at a time */
    PK_TRANSFORM_ISA_SSE2 = 2,   /* 2 lanes, x86-64 baseline */
    PK_TRANSFORM_ISA_AVX2 = 3,   /* 4 lanes, AVX2 + FMA */
    PK_TRANSFORM_ISA_AVX512 = 4, /* 8 lanes, AVX-512F */
};

/* The family of SLEEF functions the elements use. */
enum pk_transform_math {
    /* SLEEF's deterministic functions with FMA (finz): the same bits at every instruction set
     * and vector width, on every CPU with fused multiply-add (every x86-64 since 2013; the
     * scalar and SSE2 code call SLEEF's scalar FMA build, lane by lane). Needs FMA. */
    PK_TRANSFORM_MATH_DETERMINISTIC = 0,
    /* Its deterministic functions without FMA (cinz): the same bits on every x86-64 machine,
     * older ones included; slower (their log takes twice as long: heavy at 0.9x). */
    PK_TRANSFORM_MATH_PORTABLE = 1,
    /* Its regular functions: the fastest, but the bits depend on the instruction set. */
    PK_TRANSFORM_MATH_FAST = 2,
};
/* True when this CPU can run the family: DETERMINISTIC needs FMA. Thread-safe. */
bool pk_transform_math_supported(enum pk_transform_math m);
/* "deterministic", "portable", "fast"; never NULL. */
const char *pk_transform_math_name(enum pk_transform_math m);

/* The best instruction set this CPU supports (never AUTO). Thread-safe. */
enum pk_transform_isa pk_transform_isa_best(void);
/* True when this CPU can run isa (AUTO: always). */
bool pk_transform_isa_supported(enum pk_transform_isa isa);
/* "auto", "scalar", "sse2", "avx2", "avx512"; never NULL. */
const char *pk_transform_isa_name(enum pk_transform_isa isa);
const char *pk_transform_op_name(enum pk_transform_op op);
/* The arguments op takes for n elements (n >= 1): finite v with *lo <= v <= *hi. Beyond, a
 * result or a statistic of the n results could overflow float64 or leave op's domain: chunk
 * (about v^2) has a variance of about v^4 summed n times, so |v| <= (DBL_MAX / n)^(1/4) / 2;
 * heavy needs log(v + 1), so v > -1, and its results (about sqrt(v) log v) squared summed n
 * times stay finite for v <= DBL_MAX / (n 2^22). A driver refuses other arguments before the
 * run, naming the value (they gave NaN statistics and a failed verification). */
void pk_transform_domain(enum pk_transform_op op, uint64_t n, double *lo, double *hi);

/* Exact partial statistics: merge in any order, then finish. Plain data (int64 words and
 * doubles), so kernels/dist can move it between ranks. */
struct pk_tstats {
    struct pk_xacc p, t, q; /* see the file comment */
    uint64_t n;
    uint64_t argmin, argmax; /* global indices; PK_TRANSFORM_NONE when n == 0 or all NaN */
    double min, max;         /* NaN when argmin/argmax is NONE */
};
void pk_tstats_init(struct pk_tstats *s);
/* a += b. Ties of min and max go to the lower index. b is normalised in place. */
void pk_tstats_merge(struct pk_tstats *a, struct pk_tstats *b);

/* Finished statistics. variance is the population variance M2/n (numpy's var, ddof = 0). */
struct pk_tsummary {
    uint64_t n;
    double sum, mean, variance, min, max;
    uint64_t argmin, argmax;
};
/* Rounds s (normalised in place, value kept) into *out. n = 0 gives sum 0 and NaN elsewhere. */
void pk_tstats_finish(struct pk_tstats *s, struct pk_tsummary *out);

/* One transform over the global grid. The caller owns every pointer; the kernel keeps none.
 * Called back on the calling thread, outside any parallel region, with no lock held. */
struct pk_transform_job {
    enum pk_transform_op op;
    enum pk_transform_isa isa;   /* AUTO resolves to pk_transform_isa_best() */
    enum pk_transform_math math; /* resolve with pk_transform_math_resolve() */
    uint64_t n;                  /* grid: global indices [0, n) */
    uint64_t chunk;              /* chunk length, >= 1 */
    double start;                /* generated mode: v = start + i */
    /* Array mode when not NULL: v of global index i is in[i - i0] for the call's [i0, i1). */
    const double *in;
    /* Array mode: every argument is checked against pk_transform_domain(op, n) as its block is
     * computed (fused into the compute: read once); the first one outside (NaN and infinities
     * too) makes pk_transform_run return PK_EINVAL with acc->bad its global index and
     * acc->bad_value its value. */
    bool check_in;
    /* Read mode when in is NULL and read is not: the arguments of [lo, hi) are asked for on
     * the thread that will compute them, just before, a group of blocks (up to 256 KiB) at a
     * time, into that thread's buffer in the workspace; so they are computed while still in
     * cache, and nothing else holds them. read returns PK_OK or a status, which stops the run:
     * pk_transform_run returns it (the callback keeps its own message). Called from several
     * threads at once, each range once, in no set order. check_in applies as in array mode. */
    int (*read)(void *read_arg, uint64_t lo, uint64_t hi, double *dst);
    void *read_arg;
    /* When not NULL: out[i - i0] = transformed value (may equal in). */
    double *out;
    int nthreads;
    /* When not NULL: called once per chunk completed by this call (in chunk order) with its
     * statistics. A chunk cut by the end of a call is continued by the next call that starts
     * where this one ended, through the same pk_transform_acc. */
    void (*on_chunk)(void *arg, uint64_t k, const struct pk_tsummary *s);
    void *arg;
    /* Testing the verification: the element of this global index is made wrong (x + |x|/256
     * + 1) wherever it is computed. PK_TRANSFORM_NONE (the default to set) for none. */
    uint64_t canary;
};

/* Running state across calls: overall statistics plus the chunk in progress. */
struct pk_transform_acc {
    struct pk_tstats total;
    struct pk_tstats chunk; /* only with on_chunk */
    uint64_t chunk_id;      /* chunk being accumulated, PK_TRANSFORM_NONE for none */
    uint64_t resume;        /* with chunk_id: the index where the next call must start */
    uint64_t bad;           /* check_in: the first argument outside the domain, or NONE */
    double bad_value;       /* and its value */
};
void pk_transform_acc_init(struct pk_transform_acc *acc);

/* Workspace: per-block results of one window of blocks. */
struct pk_transform_ws;
/* On success *out owns a workspace (pk_transform_ws_free frees it); NULL and PK_ENOMEM on
 * failure. */
int pk_transform_ws_alloc(struct pk_transform_ws **out);
void pk_transform_ws_free(struct pk_transform_ws *ws); /* NULL ok */

/* Transforms global indices [i0, i1) and adds their statistics to acc. i0 and i1 must lie on
 * the block grid (the start of a block, or n); PK_EINVAL otherwise, or for a bad job. Uses
 * job->nthreads OpenMP threads. Not thread-safe on the same ws or acc. */
int pk_transform_run(const struct pk_transform_job *job, uint64_t i0, uint64_t i1,
                     struct pk_transform_ws *ws, struct pk_transform_acc *acc);

/* Grid helpers. */
uint64_t pk_transform_nchunks(uint64_t n, uint64_t chunk);
/* The block-grid index at or below i (the start of the block holding i). */
uint64_t pk_transform_block_floor(uint64_t n, uint64_t chunk, uint64_t i);

/* One element exactly as pk_transform_run computes it (same vector code, canary included). */
double pk_transform_elem(const struct pk_transform_job *job, uint64_t i, double v);
/* The SLEEF functions used at argument v: f[0] = sin(v) (chunk), f[1] = sin(2v) (heavy), f[2] =
 * log(v+1) (heavy: SLEEF's log where v + 1 is exact, its log1p where not). */
void pk_transform_fn_values(enum pk_transform_isa isa, enum pk_transform_math m, double v,
                            double f[3]);
/* Their documented SLEEF error bound at v, in ulp: 1.0 (u10), or 3.5 where they take u35. */
double pk_transform_fn_ulp(int k, double v);
/* Bound on an element's error against the exact math, in ulp of the result, where the
 * operation does not cancel: every element of an integer range (see transform.c). */
#define PK_TRANSFORM_ELEM_ULP 4.0
/* The tolerance, in ulp of the exact result, for the element of argument v: the larger of
 * PK_TRANSFORM_ELEM_ULP and the propagated bound of the rounding steps, which exceeds it only
 * near a root of the operation (the chunk op near v = 5.93 for non-integer v, the heavy op for
 * v in (-1, 0)), where the result is tiny and the absolute error stays that of its parts. */
double pk_transform_elem_tol_ulp(enum pk_transform_op op, double v);

/* ---- the long-double serial twin ---------------------------------------------------------- */

/* One element in long double (x87 extended: glibc sinl, cosl, logl, sqrtl). */
long double pk_transform_elem_ref(enum pk_transform_op op, long double v);
/* Distance |got - want| in units of the last place of want rounded to double (0 when equal). */
double pk_transform_ulp_diff(double got, long double want);

struct pk_tref {
    uint64_t n;
    long double sum, sum_abs, sum_sq, mean, m2; /* Kahan sums; m2 by a second pass */
    long double min, max;
    uint64_t argmin, argmax;
};
/* Serial twin over global indices [i0, i1): elements in long double from the same v as the
 * job (generated or job->in[i - i0]), sums with Kahan compensation, variance by two passes
 * about the long-double mean, min and max with the lowest index. Ignores job->canary and
 * chunks. */
void pk_transform_ref(const struct pk_transform_job *job, uint64_t i0, uint64_t i1,
                      struct pk_tref *out);
/* pk_transform_ref over nw windows side by side on nthreads OpenMP threads (each window serial):
 * window w is [lo[w], hi[w]) with arguments in[w] (NULL: generated from job->start); in may be
 * NULL for all generated. out holds nw results. */
void pk_transform_ref_windows(const struct pk_transform_job *job, size_t nw, const uint64_t *lo,
                              const uint64_t *hi, const double *const *in, int nthreads,
                              struct pk_tref *out);

/* How a summary compares with the twin over the same indices. */
struct pk_tcompare {
    double sum_err, sum_tol;   /* |sum - ref|, and the bound it must stay within */
    double mean_err, mean_tol; /* same for the mean */
    double m2_err, m2_tol;     /* same for n * variance */
    double min_ulp, max_ulp;   /* distance of min/max from the twin's, in ulp */
    bool args_equal;           /* argmin and argmax equal the twin's */
    bool ok;                   /* everything within bounds and the counts equal */
};
/* Compares got with want. Tolerances: the kernel's bounds above plus the element error (the
 * twin computes the exact math, the kernel rounded elements within PK_TRANSFORM_ELEM_ULP) plus
 * the twin's own long-double rounding:
 *   sum, mean: (g + 10 eps) sum|x|   (per element 4 ulp <= 8 eps relative)
 *   M2:        2 g M2 + 2^-100 n max|x|^2 + 17 eps sqrt(M2 sum x^2) + 16 eps^2 sum x^2
 *   min, max:  PK_TRANSFORM_ELEM_ULP ulp, and the same indices. */
void pk_transform_compare(const struct pk_tsummary *got, const struct pk_tref *want,
                          struct pk_tcompare *out);

#endif
