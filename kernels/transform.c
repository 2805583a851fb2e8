/* SPDX-License-Identifier: MIT */
/* Chunked transforms with exact, order-free statistics. See parkit/transform.h for the grid,
 * the variance formula and the error bounds.
 *
 * Element code: one function per instruction set evaluates a whole array of arguments with
 * SLEEF's vector functions. The last partial vector is padded (a masked load on AVX-512, a
 * zero-filled copy elsewhere), so every element goes through the same vector code whatever its
 * position, chunk or alignment, and SIMD lanes never interact: an element's bits depend only on
 * its argument and the instruction set.
 *
 * Element error (results in ulp of the result; SLEEF bounds hold for |v| <= 1e14):
 *   chunk: fma(s, 100, v*v). For |v| < 32, s = sin v within 1 ulp (u10) and v*v is exact:
 *          <= 100 ulp(sin v)/ulp(x) + 0.5 ulp; for integer v the worst case is v = 6 (x = 8.06,
 *          sin v = -0.279): 3.1 + 0.5 = 3.6 ulp. For |v| >= 32, s within 3.5 ulp (u35, half
 *          the cost): 3.5 * 100 * 2^-53 <= 0.35 ulp(x >= 924), plus 0.5 for the fma and up to
 *          0.56 for v*v (exact below 2^26.5 when v is an integer): <= 1.5 ulp.
 *   heavy: fma(s, 1/2, sqrt(v+1)) * L with s = sin(2v) (2v is exact, and s/2 = sin v cos v
 *          for one sine instead of a sincos) and L = log(v+1) where v+1 is exact (integers)
 *          and log1p(v) where it rounds (near v = 0 the rounding would cost several ulp of the
 *          logarithm), decided per lane on the lane's own v: s/2 errs by <= 2^-54 (u10),
 *          sqrt (of the rounded v+1) and the fma round about once each, log1p <= 1 ulp, the
 *          product rounds once: <= 3.5 ulp. For 32 <= |v| <= 5e13, s comes from u35 (half the
 *          cost; 2v stays in its documented range): s/2 errs by <= 3.5 2^-54 < 0.31
 *          ulp(sqrt(v+1) >= 5.7), the same total within 4 ulp.
 * The driver checks every sampled element against the long-double twin within
 * PK_TRANSFORM_ELEM_ULP = 4 ulp and every SLEEF function within its documented 1 or 3.5 ulp.
 *
 * Statistics code: each block is reduced by portable C in PK_TRANSFORM_LANES independent
 * chains joined by a fixed tree (compiled once per x86-64 level; the order of every chain is
 * the same on each, as -ffp-contract=off forbids fusing), then its parts go to exact
 * accumulators. */
#include "parkit/transform.h"

#include "isa_clones.h"
#include "parkit/range.h"
#include "parkit/status.h"

#include <float.h>
#include <math.h>
#include <omp.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#    define PK_X86 1
#    include <immintrin.h>
/* sleef.h declares its AVX2 and AVX-512 functions only when the compiler targets them; the
 * code that calls them is compiled for those targets function by function, so the header is
 * read under the widest target. */
#    if defined(__clang__)
/* clang defines no target macros under a function target, so sleef.h would leave its AVX and
 * AVX-512 declarations out: define the macros it tests while it is read, and give its
 * declarations the target (clang refuses vector arguments to functions without it). */
#        ifndef __AVX__
#            define __AVX__ 1
#            define PK_DEFINED_AVX
#        endif
#        ifndef __AVX512F__
#            define __AVX512F__ 1
#            define PK_DEFINED_AVX512F
#        endif
/* and __AVX2__, under which it declares its FMA family's scalar functions (FP_FAST_FMA) */
#        ifndef __AVX2__
#            define __AVX2__ 1
#            define PK_DEFINED_AVX2
#        endif
#        pragma clang attribute push(__attribute__((target("avx512f,avx2,fma"))),                  \
                                     apply_to = function)
#        include <sleef.h>
#        pragma clang attribute pop
#        ifdef PK_DEFINED_AVX
#            undef __AVX__
#        endif
#        ifdef PK_DEFINED_AVX512F
#            undef __AVX512F__
#        endif
#        ifdef PK_DEFINED_AVX2
#            undef __AVX2__
#        endif
#    else
#        pragma GCC push_options
#        pragma GCC target("avx512f,avx2,fma")
#        include <sleef.h>
#        pragma GCC pop_options
#    endif
#else
#    define PK_X86 0
#    include <sleef.h>
#endif

/* Below this |v| the chunk op's sin comes from SLEEF's 1-ulp function, above it from the 3.5-ulp
 * one (twice as fast): for |v| >= 32, |v*v| >= 1024 dwarfs 100 |sin v| <= 100, so 3.5 ulp of
 * sin move the element by at most 0.35 ulp (see the element error above). The choice is made
 * per lane, so it depends on the element's own argument only. */
#define SMALL 32.0
/* heavy's sin(2v) takes u35 at |v| <= this too: SLEEF documents u35's bound for |2v| <= 1e14
 * (u10's holds to 1e299). */
#define HEAVY_U35_MAX 5e13
/* Software prefetch distance of the array path. */
#define PREFETCH_BYTES 2048
#define B              PK_TRANSFORM_BLOCK
#define L              PK_TRANSFORM_LANES
#define NONE           PK_TRANSFORM_NONE
/* Blocks per parallel window: 64 M elements, 1.3 MB of block records. */
#define WINDOW 16384
/* Blocks a thread takes at a time: 32 K values, ~50 us of compute, so the dispatch cost stays
 * invisible; in read mode also the arguments of one read, 256 KiB (pread copied page-cache
 * pages into such a buffer at 12-13 GB/s on a 2-core VM, into 32 KiB ones at 7.5 GB/s). */
#define GROUP 8

/* ---- instruction sets --------------------------------------------------------------------- */

bool pk_transform_isa_supported(enum pk_transform_isa isa)
{
    switch (isa) {
    case PK_TRANSFORM_ISA_AUTO:
    case PK_TRANSFORM_ISA_SCALAR:
        return true;
#if PK_X86
    case PK_TRANSFORM_ISA_SSE2:
        return true;
    case PK_TRANSFORM_ISA_AVX2:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case PK_TRANSFORM_ISA_AVX512:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f");
#endif
    default:
        return false;
    }
}

enum pk_transform_isa pk_transform_isa_best(void)
{
    for (int isa = PK_TRANSFORM_ISA_AVX512; isa > PK_TRANSFORM_ISA_SCALAR; isa--)
        if (pk_transform_isa_supported((enum pk_transform_isa)isa))
            return (enum pk_transform_isa)isa;
    return PK_TRANSFORM_ISA_SCALAR;
}

const char *pk_transform_isa_name(enum pk_transform_isa isa)
{
    static const char *const names[] = {"auto", "scalar", "sse2", "avx2", "avx512"};
    return (unsigned)isa < sizeof names / sizeof names[0] ? names[isa] : "unknown";
}

bool pk_transform_math_supported(enum pk_transform_math m)
{
    if ((unsigned)m > PK_TRANSFORM_MATH_FAST)
        return false;
#if PK_X86
    if (m == PK_TRANSFORM_MATH_DETERMINISTIC) {
        __builtin_cpu_init();
        return __builtin_cpu_supports("fma");
    }
#endif
    return true;
}

const char *pk_transform_math_name(enum pk_transform_math m)
{
    static const char *const names[] = {"deterministic", "portable", "fast"};
    return (unsigned)m < sizeof names / sizeof names[0] ? names[m] : "unknown";
}

const char *pk_transform_op_name(enum pk_transform_op op)
{
    return op == PK_TRANSFORM_CHUNK ? "chunk" : op == PK_TRANSFORM_HEAVY ? "heavy" : "unknown";
}

void pk_transform_domain(enum pk_transform_op op, uint64_t n, double *lo, double *hi)
{
    double m = DBL_MAX / (double)(n ? n : 1);
    if (op == PK_TRANSFORM_HEAVY) {
        *lo = nextafter(-1.0, 0.0);
        /* log(v)^2 < 2^20 for every finite v, and a deviation from the mean is at most twice
         * a result: 2^22 */
        *hi = ldexp(m, -22);
        return;
    }
    *hi = sqrt(sqrt(m)) / 2;
    *lo = -*hi;
}

/* ---- element code, one per instruction set ------------------------------------------------ */

/* x[i] = op(v[i]) for i < n (x may equal v); when v is NULL, the arguments are base + i
 * (exact: the caller keeps them below 2^53). With v and dom, returns the offset of the first
 * argument outside [dom[0], dom[1]] (NaN too), checked before x overwrites it; n when none. */
typedef size_t (*eval_fn)(enum pk_transform_op op, const double *v, double base, double *x,
                          size_t n, enum pk_transform_math m, const double *dom);

/* The check for the element sets without a fused one: read before x can overwrite v. */
static size_t first_bad(const double *v, size_t n, const double *dom)
{
    return v && dom ? pk_range_first_outside(v, n, dom[0], dom[1]) : n;
}

/* Each width calls one of SLEEF's three families (see enum pk_transform_math): its regular
 * functions, its deterministic ones without FMA (cinz) or with FMA (finz). The choice is a
 * branch per call on a loop-invariant value. */
#define PICK(m, fast, portable, deterministic, a)                                                  \
    ((m) == PK_TRANSFORM_MATH_FAST       ? fast(a)                                                 \
     : (m) == PK_TRANSFORM_MATH_PORTABLE ? portable(a)                                             \
                                         : deterministic(a))

/* Where a lane takes the 3.5-ulp functions (twice as fast as the 1-ulp ones): chunk's sin(v)
 * at |v| >= SMALL; heavy's sin(2v) there too, up to where 2v leaves u35's documented range. */
static bool heavy_u35(double a)
{
    return fabs(a) >= SMALL && fabs(a) <= HEAVY_U35_MAX;
}

static double sin35_1(double a, enum pk_transform_math m)
{
    return PICK(m, Sleef_sin_u35, Sleef_cinz_sind1_u35purec, Sleef_finz_sind1_u35purecfma, a);
}
static double sin10_1(double a, enum pk_transform_math m)
{
    return PICK(m, Sleef_sin_u10, Sleef_cinz_sind1_u10purec, Sleef_finz_sind1_u10purecfma, a);
}
static double log10_1(double a, enum pk_transform_math m)
{
    return PICK(m, Sleef_log_u10, Sleef_cinz_logd1_u10purec, Sleef_finz_logd1_u10purecfma, a);
}
static double log1p10_1(double a, enum pk_transform_math m)
{
    return PICK(m, Sleef_log1p_u10, Sleef_cinz_log1pd1_u10purec, Sleef_finz_log1pd1_u10purecfma, a);
}

/* log(v+1): log of the sum where v + 1 is exact (integers: the cheaper function), log1p(v)
 * where it rounds. Decided per element, on its own argument only. */
static double log_scalar(double a, double a1, enum pk_transform_math m)
{
    return a1 - 1.0 == a ? log10_1(a1, m) : log1p10_1(a, m);
}

static double sin_chunk_scalar(double a, enum pk_transform_math m)
{
    return fabs(a) < SMALL ? sin10_1(a, m) : sin35_1(a, m);
}

/* sin(2v): 2v is exact, and sin(2v)/2 = sin(v) cos(v) at the cost of one sine. */
static double sin2_heavy_scalar(double a, enum pk_transform_math m)
{
    return heavy_u35(a) ? sin35_1(2 * a, m) : sin10_1(2 * a, m);
}

static size_t eval_scalar(enum pk_transform_op op, const double *v, double base, double *x,
                          size_t n, enum pk_transform_math m, const double *dom)
{
    size_t bad = first_bad(v, n, dom);
    for (size_t i = 0; i < n; i++) {
        double a = v ? v[i] : base + (double)i, a1 = a + 1.0;
        if (op == PK_TRANSFORM_CHUNK)
            x[i] = fma(sin_chunk_scalar(a, m), 100.0, a * a);
        else
            x[i] = fma(sin2_heavy_scalar(a, m), 0.5, sqrt(a1)) * log_scalar(a, a1, m);
    }
    return bad;
}

static void fn_scalar(double v, double f[3], enum pk_transform_math m)
{
    f[0] = sin_chunk_scalar(v, m);
    f[1] = sin2_heavy_scalar(v, m);
    f[2] = log_scalar(v, v + 1.0, m);
}

#if PK_X86
/* SSE2 has no fused multiply-add: the combining step uses fma() from libm, which is correctly
 * rounded (the same bits as the instruction) whether or not the CPU has one. SLEEF has no SSE2
 * build of its FMA family: its scalar one (purecfma) runs lane by lane, with the same bits. */
#    define LANES2(name, f)                                                                        \
        static __m128d name(__m128d a)                                                             \
        {                                                                                          \
            double t[2];                                                                           \
            _mm_storeu_pd(t, a);                                                                   \
            return _mm_set_pd(f(t[1]), f(t[0]));                                                   \
        }
LANES2(finz_sin35_2, Sleef_finz_sind1_u35purecfma)
LANES2(finz_sin10_2, Sleef_finz_sind1_u10purecfma)
LANES2(finz_log_2, Sleef_finz_logd1_u10purecfma)
LANES2(finz_log1p_2, Sleef_finz_log1pd1_u10purecfma)

static __m128d abs2(__m128d a)
{
    return _mm_andnot_pd(_mm_set1_pd(-0.0), a);
}

/* s where mask is set, t elsewhere. */
static __m128d select2(__m128d mask, __m128d s, __m128d t)
{
    return _mm_or_pd(_mm_and_pd(mask, s), _mm_andnot_pd(mask, t));
}

/* sin(a) at 3.5 ulp where u35 is set, at 1 ulp elsewhere (each only where some lane needs it). */
static __m128d sin_sse2(__m128d a, __m128d u35, enum pk_transform_math m)
{
    int k = _mm_movemask_pd(u35);
    __m128d s = _mm_setzero_pd();
    if (k)
        s = PICK(m, Sleef_sind2_u35sse2, Sleef_cinz_sind2_u35sse2, finz_sin35_2, a);
    if (k != 3)
        s = select2(u35, s,
                    PICK(m, Sleef_sind2_u10sse2, Sleef_cinz_sind2_u10sse2, finz_sin10_2, a));
    return s;
}

static __m128d sin_chunk_sse2(__m128d a, enum pk_transform_math m)
{
    return sin_sse2(a, _mm_cmpge_pd(abs2(a), _mm_set1_pd(SMALL)), m);
}

static __m128d sin2_heavy_sse2(__m128d a, enum pk_transform_math m)
{
    __m128d u35 = _mm_and_pd(_mm_cmpge_pd(abs2(a), _mm_set1_pd(SMALL)),
                             _mm_cmple_pd(abs2(a), _mm_set1_pd(HEAVY_U35_MAX)));
    return sin_sse2(_mm_add_pd(a, a), u35, m);
}

static __m128d log_sse2(__m128d a, __m128d a1, enum pk_transform_math m)
{
    __m128d exact = _mm_cmpeq_pd(_mm_sub_pd(a1, _mm_set1_pd(1.0)), a);
    int k = _mm_movemask_pd(exact);
    if (k == 3)
        return PICK(m, Sleef_logd2_u10sse2, Sleef_cinz_logd2_u10sse2, finz_log_2, a1);
    __m128d r = PICK(m, Sleef_log1pd2_u10sse2, Sleef_cinz_log1pd2_u10sse2, finz_log1p_2, a);
    if (k)
        r = select2(exact, PICK(m, Sleef_logd2_u10sse2, Sleef_cinz_logd2_u10sse2, finz_log_2, a1),
                    r);
    return r;
}

static size_t eval_sse2(enum pk_transform_op op, const double *v, double base, double *x, size_t n,
                        enum pk_transform_math m, const double *dom)
{
    size_t bad = first_bad(v, n, dom);
    for (size_t i = 0; i < n; i += 2) {
        double in[2] = {0, 0}, s[2], g[2], r[2];
        size_t k = n - i < 2 ? n - i : 2;
        for (size_t j = 0; j < k; j++)
            in[j] = v ? v[i + j] : base + (double)(i + j);
        __m128d a = _mm_loadu_pd(in);
        if (op == PK_TRANSFORM_CHUNK) {
            _mm_storeu_pd(s, sin_chunk_sse2(a, m));
            for (size_t j = 0; j < k; j++)
                x[i + j] = fma(s[j], 100.0, in[j] * in[j]);
        } else {
            __m128d a1 = _mm_add_pd(a, _mm_set1_pd(1.0));
            _mm_storeu_pd(s, sin2_heavy_sse2(a, m));
            _mm_storeu_pd(g, log_sse2(a, a1, m));
            _mm_storeu_pd(r, _mm_sqrt_pd(a1));
            for (size_t j = 0; j < k; j++)
                x[i + j] = fma(s[j], 0.5, r[j]) * g[j];
        }
    }
    return bad;
}

static void fn_sse2(double v, double f[3], enum pk_transform_math m)
{
    __m128d a = _mm_set1_pd(v);
    f[0] = _mm_cvtsd_f64(sin_chunk_sse2(a, m));
    f[1] = _mm_cvtsd_f64(sin2_heavy_sse2(a, m));
    f[2] = _mm_cvtsd_f64(log_sse2(a, _mm_add_pd(a, _mm_set1_pd(1.0)), m));
}

#    define AVX2 __attribute__((target("avx2,fma")))

/* sin(a) at 3.5 ulp where u35 is set, at 1 ulp elsewhere (each only where some lane needs it). */
AVX2 static __m256d sin_avx2(__m256d a, __m256d u35, enum pk_transform_math m)
{
    int k = _mm256_movemask_pd(u35);
    __m256d s = _mm256_setzero_pd();
    if (k)
        s = PICK(m, Sleef_sind4_u35avx2, Sleef_cinz_sind4_u35avx, Sleef_finz_sind4_u35avx2, a);
    if (k != 15)
        s = _mm256_blendv_pd(
            PICK(m, Sleef_sind4_u10avx2, Sleef_cinz_sind4_u10avx, Sleef_finz_sind4_u10avx2, a), s,
            u35);
    return s;
}

AVX2 static __m256d abs4(__m256d a)
{
    return _mm256_andnot_pd(_mm256_set1_pd(-0.0), a);
}

AVX2 static __m256d sin_chunk_avx2(__m256d a, enum pk_transform_math m)
{
    return sin_avx2(a, _mm256_cmp_pd(abs4(a), _mm256_set1_pd(SMALL), _CMP_GE_OQ), m);
}

AVX2 static __m256d sin2_heavy_avx2(__m256d a, enum pk_transform_math m)
{
    __m256d u35 = _mm256_and_pd(_mm256_cmp_pd(abs4(a), _mm256_set1_pd(SMALL), _CMP_GE_OQ),
                                _mm256_cmp_pd(abs4(a), _mm256_set1_pd(HEAVY_U35_MAX), _CMP_LE_OQ));
    return sin_avx2(_mm256_add_pd(a, a), u35, m);
}

AVX2 static __m256d log_avx2(__m256d a, __m256d a1, enum pk_transform_math m)
{
    __m256d exact = _mm256_cmp_pd(_mm256_sub_pd(a1, _mm256_set1_pd(1.0)), a, _CMP_EQ_OQ);
    int k = _mm256_movemask_pd(exact);
    if (k == 15)
        return PICK(m, Sleef_logd4_u10avx2, Sleef_cinz_logd4_u10avx, Sleef_finz_logd4_u10avx2, a1);
    __m256d r =
        PICK(m, Sleef_log1pd4_u10avx2, Sleef_cinz_log1pd4_u10avx, Sleef_finz_log1pd4_u10avx2, a);
    if (k)
        r = _mm256_blendv_pd(
            r, PICK(m, Sleef_logd4_u10avx2, Sleef_cinz_logd4_u10avx, Sleef_finz_logd4_u10avx2, a1),
            exact);
    return r;
}

AVX2 static __m256d op4(enum pk_transform_op op, __m256d a, enum pk_transform_math m)
{
    if (op == PK_TRANSFORM_CHUNK)
        return _mm256_fmadd_pd(sin_chunk_avx2(a, m), _mm256_set1_pd(100.0), _mm256_mul_pd(a, a));
    __m256d a1 = _mm256_add_pd(a, _mm256_set1_pd(1.0));
    return _mm256_mul_pd(
        _mm256_fmadd_pd(sin2_heavy_avx2(a, m), _mm256_set1_pd(0.5), _mm256_sqrt_pd(a1)),
        log_avx2(a, a1, m));
}

AVX2 static size_t eval_avx2(enum pk_transform_op op, const double *v, double base, double *x,
                             size_t n, enum pk_transform_math m, const double *dom)
{
    size_t bad = first_bad(v, n, dom), i = 0;
    const __m256d iota = _mm256_set_pd(3, 2, 1, 0);
    if (v) {
        for (; i + 4 <= n; i += 4) {
            _mm_prefetch((const char *)(v + i) + PREFETCH_BYTES, _MM_HINT_T0);
            _mm256_storeu_pd(x + i, op4(op, _mm256_loadu_pd(v + i), m));
        }
    }
    for (; i + 4 <= n; i += 4)
        _mm256_storeu_pd(x + i, op4(op, _mm256_add_pd(_mm256_set1_pd(base + (double)i), iota), m));
    if (i < n) {
        double t[4] = {0, 0, 0, 0};
        for (size_t j = i; j < n; j++)
            t[j - i] = v ? v[j] : base + (double)j;
        _mm256_storeu_pd(t, op4(op, _mm256_loadu_pd(t), m));
        memcpy(x + i, t, (n - i) * sizeof *t);
    }
    return bad;
}

AVX2 static void fn_avx2(double v, double f[3], enum pk_transform_math m)
{
    __m256d a = _mm256_set1_pd(v);
    f[0] = _mm256_cvtsd_f64(sin_chunk_avx2(a, m));
    f[1] = _mm256_cvtsd_f64(sin2_heavy_avx2(a, m));
    f[2] = _mm256_cvtsd_f64(log_avx2(a, _mm256_add_pd(a, _mm256_set1_pd(1.0)), m));
}

#    define AVX512 __attribute__((target("avx512f")))

/* sin(a) at 3.5 ulp in the lanes of u35, at 1 ulp in the others (each only where needed). */
AVX512 static __m512d sin_avx512(__m512d a, __mmask8 u35, enum pk_transform_math m)
{
    __m512d s = _mm512_setzero_pd();
    if (u35)
        s = PICK(m, Sleef_sind8_u35avx512f, Sleef_cinz_sind8_u35avx512fnofma,
                 Sleef_finz_sind8_u35avx512f, a);
    if (u35 != 0xff)
        s = _mm512_mask_mov_pd(PICK(m, Sleef_sind8_u10avx512f, Sleef_cinz_sind8_u10avx512fnofma,
                                    Sleef_finz_sind8_u10avx512f, a),
                               u35, s);
    return s;
}

AVX512 static __m512d sin_chunk_avx512(__m512d a, enum pk_transform_math m)
{
    return sin_avx512(a, _mm512_cmp_pd_mask(_mm512_abs_pd(a), _mm512_set1_pd(SMALL), _CMP_GE_OQ),
                      m);
}

AVX512 static __m512d sin2_heavy_avx512(__m512d a, enum pk_transform_math m)
{
    __m512d abs = _mm512_abs_pd(a);
    __mmask8 u35 = _mm512_cmp_pd_mask(abs, _mm512_set1_pd(SMALL), _CMP_GE_OQ) &
                   _mm512_cmp_pd_mask(abs, _mm512_set1_pd(HEAVY_U35_MAX), _CMP_LE_OQ);
    return sin_avx512(_mm512_add_pd(a, a), u35, m);
}

AVX512 static __m512d log_avx512(__m512d a, __m512d a1, enum pk_transform_math m)
{
    __mmask8 exact = _mm512_cmp_pd_mask(_mm512_sub_pd(a1, _mm512_set1_pd(1.0)), a, _CMP_EQ_OQ);
    if (exact == 0xff)
        return PICK(m, Sleef_logd8_u10avx512f, Sleef_cinz_logd8_u10avx512fnofma,
                    Sleef_finz_logd8_u10avx512f, a1);
    __m512d r = PICK(m, Sleef_log1pd8_u10avx512f, Sleef_cinz_log1pd8_u10avx512fnofma,
                     Sleef_finz_log1pd8_u10avx512f, a);
    if (exact)
        r = _mm512_mask_mov_pd(r, exact,
                               PICK(m, Sleef_logd8_u10avx512f, Sleef_cinz_logd8_u10avx512fnofma,
                                    Sleef_finz_logd8_u10avx512f, a1));
    return r;
}

AVX512 static __m512d op8(enum pk_transform_op op, __m512d a, enum pk_transform_math m)
{
    if (op == PK_TRANSFORM_CHUNK)
        return _mm512_fmadd_pd(sin_chunk_avx512(a, m), _mm512_set1_pd(100.0), _mm512_mul_pd(a, a));
    __m512d a1 = _mm512_add_pd(a, _mm512_set1_pd(1.0));
    return _mm512_mul_pd(
        _mm512_fmadd_pd(sin2_heavy_avx512(a, m), _mm512_set1_pd(0.5), _mm512_sqrt_pd(a1)),
        log_avx512(a, a1, m));
}

/* The lanes of a outside [lo, hi] (NaN included). */
AVX512 static __mmask8 outside8(__m512d a, __m512d lo, __m512d hi)
{
    return _mm512_cmp_pd_mask(a, lo, _CMP_NGE_UQ) | _mm512_cmp_pd_mask(a, hi, _CMP_NLE_UQ);
}

/* The argument check is fused into the loop (two compares per vector while the arguments are in
 * registers): a separate pass read them from memory a second time. */
AVX512 static size_t eval_avx512(enum pk_transform_op op, const double *v, double base, double *x,
                                 size_t n, enum pk_transform_math m, const double *dom)
{
    size_t i = 0, bad = n;
    const __m512d iota = _mm512_set_pd(7, 6, 5, 4, 3, 2, 1, 0);
    const __m512d lo = _mm512_set1_pd(dom ? dom[0] : -INFINITY);
    const __m512d hi = _mm512_set1_pd(dom ? dom[1] : INFINITY);
    if (v) {
        for (; i + 8 <= n; i += 8) {
            /* One load per SLEEF call is too sparse a stream for the hardware prefetcher to
             * run far enough ahead: ask for the data PREFETCH_BYTES early (only a hint). */
            _mm_prefetch((const char *)(v + i) + PREFETCH_BYTES, _MM_HINT_T0);
            __m512d a = _mm512_loadu_pd(v + i);
            __mmask8 out = dom ? outside8(a, lo, hi) : 0;
            if (__builtin_expect(out != 0, 0) && bad == n)
                bad = i + (size_t)__builtin_ctz(out);
            _mm512_storeu_pd(x + i, op8(op, a, m));
        }
    }
    for (; i + 8 <= n; i += 8)
        _mm512_storeu_pd(x + i, op8(op, _mm512_add_pd(_mm512_set1_pd(base + (double)i), iota), m));
    if (i < n) {
        /* masked lanes get 0 and are never stored */
        __mmask8 k = (__mmask8)((1u << (n - i)) - 1);
        __m512d a = v ? _mm512_maskz_loadu_pd(k, v + i)
                      : _mm512_maskz_add_pd(k, _mm512_set1_pd(base + (double)i), iota);
        __mmask8 out = v && dom ? outside8(a, lo, hi) & k : 0;
        if (out && bad == n)
            bad = i + (size_t)__builtin_ctz(out);
        _mm512_mask_storeu_pd(x + i, k, op8(op, a, m));
    }
    return bad;
}

AVX512 static void fn_avx512(double v, double f[3], enum pk_transform_math m)
{
    __m512d a = _mm512_set1_pd(v);
    f[0] = _mm512_cvtsd_f64(sin_chunk_avx512(a, m));
    f[1] = _mm512_cvtsd_f64(sin2_heavy_avx512(a, m));
    f[2] = _mm512_cvtsd_f64(log_avx512(a, _mm512_add_pd(a, _mm512_set1_pd(1.0)), m));
}
#endif

static enum pk_transform_isa resolve(enum pk_transform_isa isa)
{
    return isa == PK_TRANSFORM_ISA_AUTO ? pk_transform_isa_best() : isa;
}

static eval_fn eval_for(enum pk_transform_isa isa)
{
    switch (isa) {
#if PK_X86
    case PK_TRANSFORM_ISA_SSE2:
        return eval_sse2;
    case PK_TRANSFORM_ISA_AVX2:
        return eval_avx2;
    case PK_TRANSFORM_ISA_AVX512:
        return eval_avx512;
#endif
    default:
        return eval_scalar;
    }
}

void pk_transform_fn_values(enum pk_transform_isa isa, enum pk_transform_math m, double v,
                            double f[3])
{
    switch (resolve(isa)) {
#if PK_X86
    case PK_TRANSFORM_ISA_SSE2:
        fn_sse2(v, f, m);
        return;
    case PK_TRANSFORM_ISA_AVX2:
        fn_avx2(v, f, m);
        return;
    case PK_TRANSFORM_ISA_AVX512:
        fn_avx512(v, f, m);
        return;
#endif
    default:
        fn_scalar(v, f, m);
    }
}

double pk_transform_fn_ulp(int k, double v)
{
    bool u35 = k == 0 ? fabs(v) >= SMALL : k == 1 && heavy_u35(v);
    return u35 ? 3.5 : 1.0;
}

static double canary_value(double x)
{
    return x + fabs(x) / 256 + 1;
}

double pk_transform_elem(const struct pk_transform_job *job, uint64_t i, double v)
{
    double x;
    eval_for(resolve(job->isa))(job->op, &v, 0, &x, 1, job->math, NULL);
    return i == job->canary ? canary_value(x) : x;
}

/* ---- grid ------------------------------------------------------------------------------- */

uint64_t pk_transform_nchunks(uint64_t n, uint64_t chunk)
{
    return chunk ? n / chunk + (n % chunk != 0) : 0;
}

uint64_t pk_transform_block_floor(uint64_t n, uint64_t chunk, uint64_t i)
{
    if (i >= n || chunk == 0)
        return n;
    uint64_t c0 = i - i % chunk;
    return c0 + (i - c0) / B * B;
}

/* End of the block that starts at i (on the grid, i < n). */
static uint64_t block_end(uint64_t n, uint64_t chunk, uint64_t i)
{
    uint64_t c_end = (i / chunk + 1) * chunk;
    if (c_end > n || c_end < i) /* overflow guard */
        c_end = n;
    uint64_t e = i + B;
    return e < c_end ? e : c_end;
}

/* ---- block statistics --------------------------------------------------------------------- */

struct blk {
    uint64_t lo, hi; /* global indices */
    double c, d, m2; /* rounded mean, sum of deviations, sum of squared deviations */
    double min, max;
    uint64_t argmin, argmax;
    uint64_t bad;     /* check_in: the block's first argument outside the domain, or NONE */
    double bad_value; /* and its value */
};

static double lanes_total(double lane[L])
{
    for (int width = L / 2; width > 0; width /= 2)
        for (int j = 0; j < width; j++)
            lane[j] += lane[j + width];
    return lane[0];
}

/* The first offset in x[0..n) whose value compares equal to v; -1 when none. Tested L values at
 * a time (a branch-free test that vectorises), then one by one inside the group that matched. */
PK_ISA_CLONES static int64_t first_equal(const double *restrict x, size_t n, double v)
{
    size_t i = 0;
    for (; i + L <= n; i += L) {
        int hit = 0;
        for (int j = 0; j < L; j++)
            hit |= x[i + j] == v;
        if (hit)
            break;
    }
    for (; i < n; i++)
        if (x[i] == v)
            return (int64_t)i;
    return -1;
}

/* Pass 1: lane sums and the smallest and largest values, branch-free so that it vectorises
 * (NaNs never compare, so they are skipped); then the first offset of each, found by a scan of
 * the block, which is still in cache. Tracking the offsets inside the pass kept 5 x L values
 * live, which spilled: the pass took 0.6 x the time of the sines. The minimum reported is the
 * value at that offset (of -0.0 and +0.0, the first), as when offsets were tracked. */
PK_ISA_CLONES static double pass1(const double *restrict x, size_t n, double *min, int64_t *imin,
                                  double *max, int64_t *imax)
{
    double s[L], mn[L], mx[L];
    for (int j = 0; j < L; j++) {
        s[j] = 0;
        mn[j] = INFINITY;
        mx[j] = -INFINITY;
    }
    size_t full = n - n % L;
    for (size_t i = 0; i < full; i += L) {
        for (int j = 0; j < L; j++) {
            double y = x[i + j];
            s[j] += y;
            mn[j] = y < mn[j] ? y : mn[j];
            mx[j] = y > mx[j] ? y : mx[j];
        }
    }
    for (size_t i = full; i < n; i++) {
        size_t j = i - full;
        double y = x[i];
        s[j] += y;
        mn[j] = y < mn[j] ? y : mn[j];
        mx[j] = y > mx[j] ? y : mx[j];
    }
    double bmn = INFINITY, bmx = -INFINITY;
    for (int j = 0; j < L; j++) {
        bmn = mn[j] < bmn ? mn[j] : bmn;
        bmx = mx[j] > bmx ? mx[j] : bmx;
    }
    /* +inf (for min) or -inf (for max) when that is all there is but NaNs: the first such */
    *imin = first_equal(x, n, bmn);
    *imax = first_equal(x, n, bmx);
    *min = *imin >= 0 ? x[*imin] : bmn;
    *max = *imax >= 0 ? x[*imax] : bmx;
    return lanes_total(s);
}

/* Pass 2: d = sum (x - c), m2 = sum (x - c)^2, in lanes. */
PK_ISA_CLONES static void pass2(const double *restrict x, size_t n, double c, double *d, double *m2)
{
    double sd[L] = {0}, sq[L] = {0};
    size_t full = n - n % L;
    for (size_t i = 0; i < full; i += L)
        for (int j = 0; j < L; j++) {
            double e = x[i + j] - c;
            sd[j] += e;
            sq[j] += e * e;
        }
    for (size_t i = full; i < n; i++) {
        double e = x[i] - c;
        sd[i - full] += e;
        sq[i - full] += e * e;
    }
    *d = lanes_total(sd);
    *m2 = lanes_total(sq);
}

/* Where a block's arguments are: in[i - base] for global index i, or generated (in NULL). */
struct source {
    const double *in;
    uint64_t base;
};

/* Computes block r->lo..r->hi of a call that started at i0; xbuf holds B doubles; dom is the
 * domain the arguments are checked against (check_in). A block with a bad argument gives no
 * statistics (r->bad set). */
static void block_compute(const struct pk_transform_job *job, eval_fn ev, uint64_t i0,
                          struct source src, const double dom[2], struct blk *r, double *xbuf)
{
    size_t n = (size_t)(r->hi - r->lo);
    const double *v = src.in ? src.in + (r->lo - src.base) : NULL;
    double *x = job->out ? job->out + (r->lo - i0) : xbuf;
    /* in place, the arguments are checked before the results overwrite them */
    bool check = v && job->check_in;
    size_t bad = check && x == v ? pk_range_first_outside(v, n, dom[0], dom[1]) : n;
    if (bad == n)
        bad = ev(job->op, v, job->start + (double)r->lo, x, n, job->math,
                 check && x != v ? dom : NULL);
    r->bad = bad < n ? r->lo + bad : NONE;
    if (bad < n) {
        r->bad_value = v[bad];
        return;
    }
    if (job->canary >= r->lo && job->canary < r->hi)
        x[job->canary - r->lo] = canary_value(x[job->canary - r->lo]);
    int64_t imin, imax;
    double sum = pass1(x, n, &r->min, &imin, &r->max, &imax);
    r->argmin = imin < 0 ? NONE : r->lo + (uint64_t)imin;
    r->argmax = imax < 0 ? NONE : r->lo + (uint64_t)imax;
    if (imin < 0)
        r->min = NAN;
    if (imax < 0)
        r->max = NAN;
    r->c = sum / (double)n;
    pass2(x, n, r->c, &r->d, &r->m2);
}

/* ---- exact accumulation ------------------------------------------------------------------- */

/* a * b = *hi + *lo exactly (barring underflow) */
static void two_prod(double a, double b, double *hi, double *lo)
{
    *hi = a * b;
    *lo = fma(a, b, -*hi);
}

static void minmax_merge(struct pk_tstats *a, double min, uint64_t argmin, double max,
                         uint64_t argmax)
{
    if (argmin != NONE &&
        (a->argmin == NONE || min < a->min || (min == a->min && argmin < a->argmin))) {
        a->min = min;
        a->argmin = argmin;
    }
    if (argmax != NONE &&
        (a->argmax == NONE || max > a->max || (max == a->max && argmax < a->argmax))) {
        a->max = max;
        a->argmax = argmax;
    }
}

static void fold(struct pk_tstats *s, const struct blk *b)
{
    double nb = (double)(b->hi - b->lo), h, l, h2, l2;
    s->n += b->hi - b->lo;
    two_prod(nb, b->c, &h, &l); /* P += n_b c_b + d_b */
    pk_xacc_add(&s->p, h);
    pk_xacc_add(&s->p, l);
    pk_xacc_add(&s->p, b->d);
    two_prod(b->c, b->c, &h, &l); /* T += n_b c_b^2 + 2 c_b d_b */
    two_prod(nb, h, &h2, &l2);
    pk_xacc_add(&s->t, h2);
    pk_xacc_add(&s->t, l2);
    two_prod(nb, l, &h2, &l2);
    pk_xacc_add(&s->t, h2);
    pk_xacc_add(&s->t, l2);
    two_prod(2 * b->c, b->d, &h, &l);
    pk_xacc_add(&s->t, h);
    pk_xacc_add(&s->t, l);
    pk_xacc_add(&s->q, b->m2);
    minmax_merge(s, b->min, b->argmin, b->max, b->argmax);
}

void pk_tstats_init(struct pk_tstats *s)
{
    memset(s, 0, sizeof *s);
    pk_xacc_init(&s->p);
    pk_xacc_init(&s->t);
    pk_xacc_init(&s->q);
    s->argmin = s->argmax = NONE;
    s->min = s->max = NAN;
}

void pk_tstats_merge(struct pk_tstats *a, struct pk_tstats *b)
{
    pk_xacc_merge(&a->p, &b->p);
    pk_xacc_merge(&a->t, &b->t);
    pk_xacc_merge(&a->q, &b->q);
    a->n += b->n;
    minmax_merge(a, b->min, b->argmin, b->max, b->argmax);
}

/* ---- double-double finish ----------------------------------------------------------------- */

struct dd {
    double hi, lo;
};

static struct dd two_sum(double a, double b)
{
    double s = a + b, bb = s - a;
    return (struct dd){s, (a - (s - bb)) + (b - bb)};
}

static struct dd fast_two_sum(double a, double b)
{
    double s = a + b;
    return (struct dd){s, b - (s - a)};
}

static struct dd dd_mul(struct dd a, struct dd b)
{
    struct dd p;
    two_prod(a.hi, b.hi, &p.hi, &p.lo);
    p.lo += a.hi * b.lo + a.lo * b.hi;
    return fast_two_sum(p.hi, p.lo);
}

static struct dd dd_div_d(struct dd a, double n)
{
    double q1 = a.hi / n, ph, pl;
    two_prod(q1, n, &ph, &pl);
    double r = ((a.hi - ph) - pl) + a.lo;
    return fast_two_sum(q1, r / n);
}

static struct dd dd_sub(struct dd a, struct dd b)
{
    struct dd s = two_sum(a.hi, -b.hi);
    s.lo += a.lo - b.lo;
    return fast_two_sum(s.hi, s.lo);
}

/* The exact sum as hi + lo: hi correctly rounded, lo the rounded remainder. */
static struct dd xacc_dd(struct pk_xacc *a)
{
    struct dd r = {pk_xacc_round(a), 0};
    if (isfinite(r.hi)) {
        struct pk_xacc t = *a;
        pk_xacc_add(&t, -r.hi);
        r.lo = pk_xacc_round(&t);
    }
    return r;
}

void pk_tstats_finish(struct pk_tstats *s, struct pk_tsummary *out)
{
    *out = (struct pk_tsummary){.n = s->n,
                                .min = s->min,
                                .max = s->max,
                                .argmin = s->argmin,
                                .argmax = s->argmax,
                                .mean = NAN,
                                .variance = NAN};
    struct dd p = xacc_dd(&s->p);
    out->sum = p.hi;
    if (s->n == 0)
        return;
    double n = (double)s->n;
    struct dd t = xacc_dd(&s->t), q = xacc_dd(&s->q);
    if (!isfinite(p.hi) || !isfinite(t.hi) || !isfinite(q.hi)) {
        out->mean = p.hi / n;
        out->variance = NAN;
        return;
    }
    struct dd mean = dd_div_d(p, n);
    out->mean = mean.hi + mean.lo;
    struct dd between = dd_sub(t, dd_div_d(dd_mul(p, p), n));
    struct dd m2 = two_sum(between.hi, q.hi);
    double v = m2.hi + (m2.lo + (between.lo + q.lo));
    out->variance = (v > 0 ? v : 0) / n;
}

/* ---- the kernel -------------------------------------------------------------------------- */

struct pk_transform_ws {
    struct blk blk[WINDOW];
    double **rbuf; /* read mode: a buffer of GROUP blocks for each of nrbuf threads */
    int nrbuf;
};

int pk_transform_ws_alloc(struct pk_transform_ws **out)
{
    *out = malloc(sizeof **out);
    if (!*out)
        return PK_ENOMEM;
    (*out)->rbuf = NULL;
    (*out)->nrbuf = 0;
    return PK_OK;
}

/* One read buffer per thread, kept for the next calls. */
static int read_buffers(struct pk_transform_ws *ws, int nthreads)
{
    if (ws->nrbuf >= nthreads)
        return PK_OK;
    double **more = realloc(ws->rbuf, (size_t)nthreads * sizeof *more);
    if (!more)
        return PK_ENOMEM;
    ws->rbuf = more;
    for (; ws->nrbuf < nthreads; ws->nrbuf++)
        if (!(ws->rbuf[ws->nrbuf] = aligned_alloc(64, GROUP * B * sizeof(double))))
            return PK_ENOMEM;
    return PK_OK;
}

void pk_transform_ws_free(struct pk_transform_ws *ws)
{
    for (int t = 0; ws && t < ws->nrbuf; t++)
        free(ws->rbuf[t]);
    if (ws)
        free(ws->rbuf);
    free(ws);
}

void pk_transform_acc_init(struct pk_transform_acc *acc)
{
    pk_tstats_init(&acc->total);
    pk_tstats_init(&acc->chunk);
    acc->chunk_id = NONE;
    acc->resume = NONE;
    acc->bad = NONE;
}

/* The first bad argument of a window's blocks into acc; false when there is none. */
static bool window_bad(const struct blk *blk, size_t nb, struct pk_transform_acc *acc)
{
    acc->bad = NONE;
    for (size_t k = 0; k < nb; k++)
        if (blk[k].bad < acc->bad) {
            acc->bad = blk[k].bad;
            acc->bad_value = blk[k].bad_value;
        }
    return acc->bad != NONE;
}

/* Read mode: the kernel asks job->read for the arguments (see parkit/transform.h). */
static bool reads_arguments(const struct pk_transform_job *job)
{
    return !job->in && job->read;
}

/* A grab of blocks blk[0, nb): in read mode their arguments first, into rb (after a failed read
 * anywhere, none: the run stops). Each block's statistics go into mine unless it is NULL. */
static void group_compute(const struct pk_transform_job *job, eval_fn ev, uint64_t i0,
                          const double dom[2], struct blk *blk, size_t nb, double *rb, double *xbuf,
                          struct pk_tstats *mine, _Atomic int *failed)
{
    struct source src = {job->in, i0};
    if (rb) {
        int rc = atomic_load(failed);
        if (rc == PK_OK)
            rc = job->read(job->read_arg, blk[0].lo, blk[nb - 1].hi, rb);
        if (rc != PK_OK) {
            int none = PK_OK;
            atomic_compare_exchange_strong(failed, &none, rc);
            return;
        }
        src = (struct source){rb, blk[0].lo};
    }
    for (size_t k = 0; k < nb; k++) {
        block_compute(job, ev, i0, src, dom, &blk[k], xbuf);
        if (mine && blk[k].bad == NONE)
            fold(mine, &blk[k]);
    }
}

static bool on_grid(uint64_t n, uint64_t chunk, uint64_t i)
{
    return i == n || (i < n && pk_transform_block_floor(n, chunk, i) == i);
}

/* Serial fold in block order, for per-chunk statistics. */
static void fold_chunks(const struct pk_transform_job *job, const struct blk *blk, size_t nb,
                        struct pk_transform_acc *acc)
{
    for (size_t k = 0; k < nb; k++) {
        uint64_t id = blk[k].lo / job->chunk;
        if (acc->chunk_id != id) {
            pk_tstats_init(&acc->chunk);
            acc->chunk_id = id;
        }
        fold(&acc->chunk, &blk[k]);
        uint64_t c_end = (id + 1) * job->chunk;
        if (blk[k].hi == job->n || blk[k].hi == c_end) {
            struct pk_tsummary s;
            pk_tstats_finish(&acc->chunk, &s);
            job->on_chunk(job->arg, id, &s);
            pk_tstats_merge(&acc->total, &acc->chunk);
            acc->chunk_id = NONE;
            acc->resume = NONE;
        } else {
            acc->resume = blk[k].hi;
        }
    }
}

int pk_transform_run(const struct pk_transform_job *job, uint64_t i0, uint64_t i1,
                     struct pk_transform_ws *ws, struct pk_transform_acc *acc)
{
    if (!job || !ws || !acc || job->chunk == 0 || job->nthreads < 1 || i0 > i1 || i1 > job->n)
        return PK_EINVAL;
    if ((job->op != PK_TRANSFORM_CHUNK && job->op != PK_TRANSFORM_HEAVY) ||
        !pk_transform_isa_supported(job->isa))
        return PK_EINVAL;
    if (!on_grid(job->n, job->chunk, i0) || !on_grid(job->n, job->chunk, i1))
        return PK_EINVAL;
    if (i1 > i0 && !job->in && !reads_arguments(job) && job->start + (double)(i1 - 1) > 0x1p53)
        return PK_ERANGE; /* generated values would no longer be exact integers */
    if (job->on_chunk && acc->chunk_id != NONE && acc->resume != i0)
        return PK_EINVAL; /* a chunk in progress must be continued where it stopped */
    if (reads_arguments(job) && read_buffers(ws, job->nthreads) != PK_OK)
        return PK_ENOMEM;
    eval_fn ev = eval_for(resolve(job->isa));
    double dom[2];
    pk_transform_domain(job->op, job->n, &dom[0], &dom[1]);
    struct blk *blk = ws->blk;
    uint64_t pos = i0;
    while (pos < i1) {
        size_t nb = 0;
        while (pos < i1 && nb < WINDOW) {
            blk[nb].lo = pos;
            blk[nb].hi = block_end(job->n, job->chunk, pos);
            pos = blk[nb].hi;
            nb++;
        }
        bool chunks = job->on_chunk != NULL;
        struct pk_tstats *total = &acc->total;
        _Atomic int failed = PK_OK; /* read mode: the first status a read returned */
#pragma omp parallel num_threads(job->nthreads) default(none)                                      \
    shared(job, ev, i0, dom, blk, nb, chunks, total, ws, failed)
        {
            /* 32 KiB of scratch per thread: well inside every OpenMP stack size */
            double xbuf[B];
            double *rb = reads_arguments(job) ? ws->rbuf[omp_get_thread_num()] : NULL;
            struct pk_tstats mine;
            pk_tstats_init(&mine);
            /* Dynamic: on a loaded machine a thread that loses its core for a time slice would
             * otherwise hold up the whole window; the bits do not depend on who computes a
             * block. */
#pragma omp for schedule(dynamic, 1)
            for (size_t g = 0; g < nb; g += GROUP)
                group_compute(job, ev, i0, dom, blk + g, g + GROUP < nb ? GROUP : nb - g, rb, xbuf,
                              chunks ? NULL : &mine, &failed);
            if (!chunks) {
#pragma omp critical(pk_transform_run)
                pk_tstats_merge(total, &mine);
            }
        }
        if (failed != PK_OK)
            return failed;
        if (window_bad(blk, nb, acc))
            return PK_EINVAL;
        if (chunks)
            fold_chunks(job, blk, nb, acc);
    }
    return PK_OK;
}

/* ---- the long-double twin ------------------------------------------------------------------ */

long double pk_transform_elem_ref(enum pk_transform_op op, long double v)
{
    if (op == PK_TRANSFORM_CHUNK)
        return v * v + sinl(v) * 100.0L;
    return (sinl(v) * cosl(v) + sqrtl(v + 1.0L)) * log1pl(v);
}

static double ulp_of(double w)
{
    int e;
    frexp(w, &e);
    double u = w == 0 ? DBL_TRUE_MIN : ldexp(1.0, e - 53);
    return u < DBL_TRUE_MIN ? DBL_TRUE_MIN : u;
}

double pk_transform_elem_tol_ulp(enum pk_transform_op op, double v)
{
    long double ref = pk_transform_elem_ref(op, v);
    double x = (double)ref, bound;
    if (!isfinite(x) || fabs(v) > 1e14)
        return PK_TRANSFORM_ELEM_ULP;
    if (op == PK_TRANSFORM_CHUNK) {
        /* fma(s, 100, v*v): v*v rounds unless exact, s within 1 or 3.5 ulp, the fma rounds */
        double vv = v * v, vv_err = fma(v, v, -vv) == 0 ? 0 : 0.5 * ulp_of(vv);
        double s_ulp = fabs(v) < SMALL ? 1.0 : 3.5;
        bound = vv_err + 100 * s_ulp * ulp_of(sin(v)) + 0.5 * ulp_of(x);
    } else {
        /* (sc + r) * lg: sc = sin(2v)/2 within 1 or 3.5 ulp(sin 2v) / 2 <= 2^-54 or 3.5 2^-54
         * (u10 or u35), r = sqrt of the rounded v+1 within 1 ulp, the fma rounds, L within 1
         * ulp, the product rounds */
        double r = sqrt(v + 1), lg = (double)log1pl(v), sc = sin(v) * cos(v) + r;
        double sc_err = heavy_u35(v) ? 3.5 * 0x1p-54 : 0x1p-54;
        bound = fabs(lg) * (sc_err + ulp_of(r) + 0.5 * ulp_of(sc)) + fabs(sc) * ulp_of(lg) +
                0.5 * ulp_of(x);
    }
    double u = bound / ulp_of(x);
    return u > PK_TRANSFORM_ELEM_ULP ? u : PK_TRANSFORM_ELEM_ULP;
}

double pk_transform_ulp_diff(double got, long double want)
{
    if (isnan(got) || isnan(want))
        return isnan(got) && isnan(want) ? 0 : INFINITY;
    if ((long double)got == want)
        return 0;
    double w = (double)want;
    if (isinf(w) || isinf(got))
        return INFINITY;
    return (double)(fabsl((long double)got - want) / ulp_of(w));
}

struct kahan {
    long double s, c;
};

static void kahan_add(struct kahan *k, long double x)
{
    long double y = x - k->c, t = k->s + y;
    k->c = (t - k->s) - y;
    k->s = t;
}

static long double ref_value(const struct pk_transform_job *job, uint64_t i0, uint64_t i)
{
    long double v = job->in ? (long double)job->in[i - i0] : (long double)job->start + i;
    return pk_transform_elem_ref(job->op, v);
}

void pk_transform_ref(const struct pk_transform_job *job, uint64_t i0, uint64_t i1,
                      struct pk_tref *out)
{
    struct kahan sum = {0, 0}, sabs = {0, 0}, ssq = {0, 0}, dev = {0, 0};
    *out = (struct pk_tref){.n = i1 - i0, .argmin = NONE, .argmax = NONE};
    out->min = out->max = NAN;
    for (uint64_t i = i0; i < i1; i++) {
        long double x = ref_value(job, i0, i);
        kahan_add(&sum, x);
        kahan_add(&sabs, fabsl(x));
        kahan_add(&ssq, x * x);
        if (!isnan(x) && (out->argmin == NONE || x < out->min)) {
            out->min = x;
            out->argmin = i;
        }
        if (!isnan(x) && (out->argmax == NONE || x > out->max)) {
            out->max = x;
            out->argmax = i;
        }
    }
    out->sum = sum.s;
    out->sum_abs = sabs.s;
    out->sum_sq = ssq.s;
    out->mean = out->n ? sum.s / out->n : NAN;
    for (uint64_t i = i0; i < i1; i++) {
        long double e = ref_value(job, i0, i) - out->mean;
        kahan_add(&dev, e * e);
    }
    out->m2 = out->n ? dev.s : NAN;
}

void pk_transform_ref_windows(const struct pk_transform_job *job, size_t nw, const uint64_t *lo,
                              const uint64_t *hi, const double *const *in, int nthreads,
                              struct pk_tref *out)
{
#pragma omp parallel for num_threads(nthreads) schedule(dynamic, 1) default(none)                  \
    shared(job, nw, lo, hi, in, out)
    for (size_t w = 0; w < nw; w++) {
        struct pk_transform_job one = *job;
        one.in = in ? in[w] : NULL;
        pk_transform_ref(&one, lo[w], hi[w], &out[w]);
    }
}

void pk_transform_compare(const struct pk_tsummary *got, const struct pk_tref *want,
                          struct pk_tcompare *out)
{
    const double eps = 0x1p-53, g = (B / L + 6) * eps;
    *out = (struct pk_tcompare){0};
    double sabs = (double)want->sum_abs, ssq = (double)want->sum_sq, m2 = (double)want->m2;
    double nn = (double)want->n;
    out->sum_err = (double)fabsl((long double)got->sum - want->sum);
    out->sum_tol = (g + 10 * eps) * sabs + DBL_TRUE_MIN;
    double bigsq = fmax(fabs((double)want->min), fabs((double)want->max));
    bigsq *= bigsq;
    if (want->n == 0) {
        out->ok = got->n == 0 && got->sum == 0;
        out->args_equal = true;
        return;
    }
    out->mean_err = (double)fabsl((long double)got->mean - want->mean);
    out->mean_tol = out->sum_tol / nn + 2 * eps * fabs((double)want->mean);
    out->m2_err = (double)fabsl((long double)got->variance * nn - want->m2);
    out->m2_tol = 2 * g * m2 + 0x1p-100 * nn * bigsq + 17 * eps * sqrt(m2 * ssq) +
                  16 * eps * eps * ssq + 2 * eps * m2 + DBL_TRUE_MIN;
    out->min_ulp = pk_transform_ulp_diff(got->min, want->min);
    out->max_ulp = pk_transform_ulp_diff(got->max, want->max);
    out->args_equal = got->argmin == want->argmin && got->argmax == want->argmax;
    out->ok = got->n == want->n && out->sum_err <= out->sum_tol && out->mean_err <= out->mean_tol &&
              out->m2_err <= out->m2_tol && out->min_ulp <= PK_TRANSFORM_ELEM_ULP &&
              out->max_ulp <= PK_TRANSFORM_ELEM_ULP && out->args_equal;
}
