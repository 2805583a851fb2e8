/* SPDX-License-Identifier: MIT */
/* Separable antialiased resampling (see parkit/resample.h).
 *
 * DESIGN. Weights are computed once per output column and once per output row, as Pillow's
 * precompute_coeffs does: scale = in/out, the filter is stretched by max(scale, 1), output centre
 * c = (x + 0.5) * scale, taps j in [floor(c - support + 0.5), floor(c + support + 0.5)) clipped to
 * the image, weight f((j + 0.5 - c) / max(scale, 1)), normalised to sum 1 (in double, then stored
 * as float). The vertical pass runs first: for one output row it sums whole input rows into a
 * float row (a loop over contiguous x, which vectorises at full width, and the expensive pass
 * when shrinking since the input is read row by row), then the horizontal pass shrinks that row.
 * Each output pixel is computed by the same sequence of float operations whatever thread owns
 * its row, so the bits do not depend on the thread count (the build passes -ffp-contract=off, so
 * no clone or compiler fuses a multiply and an add differently).
 *
 * ERROR BOUND. Values are in 0..255 levels. Each pass is a sum of n products with weights of
 * total magnitude sum |w| < 1.3 (lanczos3), so its float32 error is below n * 2^-24 * 1.3 * 255
 * levels: under 0.5 level for n_x + n_y up to 25000 taps (a shrink by about 4000 with lanczos3),
 * and ~0.001 level for the thumbnail sizes. A pixel therefore rounds to the float64 reference's
 * value or a neighbour: at most 1 level apart. Dividing out a small alpha amplifies the error by
 * 255 / alpha; the tests (alpha of 1..12 levels) still see at most 1 level, but that part is
 * measured, not proven.
 *
 * Images with alpha or in linear light take the other order: each input row is converted once
 * (premultiplied, linearised through a table) and shrunk horizontally into an in_h x out_w float
 * image, which the vertical pass then reads; converting inside a vertical-first pass would
 * repeat the conversion for every output row that reads the input row. */
#include "parkit/resample.h"

#include "isa_clones.h"
#include "parkit/status.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* ---- filters ---------------------------------------------------------------------------- */

static double sinc(double x)
{
    if (x == 0.0)
        return 1.0;
    x *= 3.14159265358979323846;
    return sin(x) / x;
}

static double filter_eval(enum pk_filter f, double x)
{
    x = fabs(x);
    switch (f) {
    case PK_FILTER_BILINEAR:
        return x < 1.0 ? 1.0 - x : 0.0;
    case PK_FILTER_BICUBIC: {
        const double a = -0.5;
        if (x < 1.0)
            return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
        if (x < 2.0)
            return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
        return 0.0;
    }
    case PK_FILTER_MITCHELL: {
        const double B = 1.0 / 3.0, C = 1.0 / 3.0;
        if (x < 1.0)
            return ((12 - 9 * B - 6 * C) * x * x * x + (-18 + 12 * B + 6 * C) * x * x +
                    (6 - 2 * B)) /
                   6.0;
        if (x < 2.0)
            return ((-B - 6 * C) * x * x * x + (6 * B + 30 * C) * x * x + (-12 * B - 48 * C) * x +
                    (8 * B + 24 * C)) /
                   6.0;
        return 0.0;
    }
    case PK_FILTER_LANCZOS3:
        return x < 3.0 ? sinc(x) * sinc(x / 3.0) : 0.0;
    case PK_FILTER_NEAREST:
        break;
    }
    return 0.0;
}

static double filter_support(enum pk_filter f)
{
    switch (f) {
    case PK_FILTER_BILINEAR:
        return 1.0;
    case PK_FILTER_BICUBIC:
    case PK_FILTER_MITCHELL:
        return 2.0;
    case PK_FILTER_LANCZOS3:
        return 3.0;
    case PK_FILTER_NEAREST:
        break;
    }
    return 0.5;
}

/* Taps [*lo, *hi) of an output whose centre lies at input position centre (pixel j spans
 * [j, j + 1)), clipped to the n_in inputs. */
static void window(double support, double centre, uint32_t n_in, int64_t *lo, int64_t *hi)
{
    int64_t a = (int64_t)floor(centre - support + 0.5);
    int64_t b = (int64_t)floor(centre + support + 0.5);
    *lo = a < 0 ? 0 : a;
    *hi = b > (int64_t)n_in ? (int64_t)n_in : b;
    if (*hi <= *lo) { /* only for a centre outside the image (the tests' shifted phase) */
        int64_t c = (int64_t)floor(centre);
        c = c < 0 ? 0 : c >= (int64_t)n_in ? (int64_t)n_in - 1 : c;
        *lo = c;
        *hi = c + 1;
    }
}

/* Per-output weights on one axis: output o uses inputs start[o] .. start[o] + taps - 1 with
 * weights w[o * taps ..]. Every output has the same number of taps (the widest window; a narrower
 * one is padded with zero weights and its start moved so the window stays inside the image),
 * which lets the horizontal pass run four outputs side by side. A zero weight adds an exact 0. */
struct axis {
    uint32_t *start;
    float *w;
    uint32_t taps;
};

static void axis_free(struct axis *ax)
{
    free(ax->start);
    free(ax->w);
}

/* Output o's centre lies at a + (o + 0.5) * (b - a) / n_out: the input span [a, b) maps onto the
 * n_out outputs. */
static int axis_init(struct axis *ax, enum pk_filter f, uint32_t n_in, uint32_t n_out, double a,
                     double b)
{
    double scale = (b - a) / n_out;
    double fscale = scale > 1.0 ? scale : 1.0;
    double support = filter_support(f) * fscale;
    int64_t lo, hi, taps = 1;
    for (uint32_t o = 0; o < n_out; o++) {
        window(support, a + (o + 0.5) * scale, n_in, &lo, &hi);
        taps = hi - lo > taps ? hi - lo : taps;
    }
    ax->taps = (uint32_t)taps; /* <= n_in, since every window lies inside the image */
    ax->start = malloc(n_out * sizeof *ax->start);
    ax->w = calloc((size_t)n_out * ax->taps, sizeof *ax->w);
    double *wd = malloc(ax->taps * sizeof *wd);
    if (!ax->start || !ax->w || !wd) {
        free(wd);
        return PK_ENOMEM; /* the caller's axis_free frees what was allocated */
    }
    for (uint32_t o = 0; o < n_out; o++) {
        double centre = a + (o + 0.5) * scale;
        window(support, centre, n_in, &lo, &hi);
        double sum = 0.0;
        for (int64_t j = lo; j < hi; j++) {
            wd[j - lo] = filter_eval(f, (j + 0.5 - centre) / fscale);
            sum += wd[j - lo];
        }
        int64_t start = lo < (int64_t)n_in - taps ? lo : (int64_t)n_in - taps;
        ax->start[o] = (uint32_t)start;
        float *w = ax->w + (size_t)o * ax->taps + (size_t)(lo - start);
        for (int64_t j = lo; j < hi; j++)
            w[j - lo] = sum != 0.0 ? (float)(wd[j - lo] / sum) : 0.0f;
    }
    free(wd);
    return PK_OK;
}

/* ---- colour ----------------------------------------------------------------------------- */

static double srgb_to_linear(double v) /* v, result in 0..1 */
{
    return v <= 0.04045 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4);
}

static double linear_to_srgb(double v)
{
    return v <= 0.0031308 ? v * 12.92 : 1.055 * pow(v, 1.0 / 2.4) - 0.055;
}

/* Tables: dec[b] = 255 * linear(b / 255) in linear light, else b; unit[b] = b / 255 (alpha as a
 * factor); thr[k] (k = 1..255) = the linear value (in 0..255) from which the encoded byte rounds
 * to k, so encoding is a search and exact. */
struct lut {
    float dec[256];
    float unit[256];
    float thr[256];
    bool linear; /* dec is the identity when false */
};

static void lut_init(struct lut *t, bool linear)
{
    t->linear = linear;
    for (int b = 0; b < 256; b++) {
        t->dec[b] = linear ? (float)(255.0 * srgb_to_linear(b / 255.0)) : (float)b;
        t->unit[b] = (float)(b / 255.0);
    }
    t->thr[0] = -INFINITY;
    for (int k = 1; k < 256; k++)
        t->thr[k] = (float)(255.0 * srgb_to_linear((k - 0.5) / 255.0));
}

static uint8_t lut_encode(const struct lut *t, float v)
{
    int k = 0;
    for (int step = 128; step > 0; step /= 2)
        if (k + step < 256 && v >= t->thr[k + step])
            k += step;
    return (uint8_t)k;
}

static uint8_t round_level(float v)
{
    if (!(v > 0.0f))
        return 0;
    if (v >= 254.5f)
        return 255;
    return (uint8_t)(v + 0.5f);
}

/* Floats of padding after each scratch row that hpass_v4 reads (zeroed once by calloc). */
#define PAD 4

/* ---- passes ----------------------------------------------------------------------------- */

/* acc[i] = sum_k w[k] * row_k[i] over the vertical window, k ascending, from byte rows (u8) or
 * float rows (f32). The row is done in strips of STRIP floats so the accumulators stay in L1
 * while the taps stream past, and four taps are applied per pass over a strip (t is added to in
 * the same order as one tap at a time, so the bits are those of the plain loop). */
#define STRIP 1024

#define VPASS_BODY(T)                                                                              \
    for (size_t i0 = 0; i0 < n; i0 += STRIP) {                                                     \
        size_t len = n - i0 < STRIP ? n - i0 : STRIP;                                              \
        float *restrict a = acc + i0;                                                              \
        const T *b = base + i0;                                                                    \
        for (size_t i = 0; i < len; i++)                                                           \
            a[i] = 0.0f;                                                                           \
        uint32_t k = 0;                                                                            \
        for (; k + 4 <= taps; k += 4) {                                                            \
            const T *restrict r0 = b + k * stride, *restrict r1 = r0 + stride;                     \
            const T *restrict r2 = r1 + stride, *restrict r3 = r2 + stride;                        \
            float w0 = w[k], w1 = w[k + 1], w2 = w[k + 2], w3 = w[k + 3];                          \
            _Pragma("omp simd") for (size_t i = 0; i < len; i++)                                   \
            {                                                                                      \
                float t = a[i];                                                                    \
                t += w0 * (float)r0[i];                                                            \
                t += w1 * (float)r1[i];                                                            \
                t += w2 * (float)r2[i];                                                            \
                t += w3 * (float)r3[i];                                                            \
                a[i] = t;                                                                          \
            }                                                                                      \
        }                                                                                          \
        for (; k < taps; k++) {                                                                    \
            const T *restrict r0 = b + k * stride;                                                 \
            float w0 = w[k];                                                                       \
            _Pragma("omp simd") for (size_t i = 0; i < len; i++) a[i] += w0 * (float)r0[i];        \
        }                                                                                          \
    }

PK_ISA_CLONES static void vpass_u8(float *restrict acc, const uint8_t *base, size_t stride,
                                   size_t n, const float *w, uint32_t taps){VPASS_BODY(uint8_t)}

PK_ISA_CLONES static void vpass_f32(float *restrict acc, const float *base, size_t stride, size_t n,
                                    const float *w, uint32_t taps)
{
    VPASS_BODY(float)
}

/* dst[x * C + c] = sum_k wx[k] * src[(start[x] + k) * C + c], k ascending; C is a constant in
 * each caller. Four outputs at a time: independent sums hide the add latency. */
static inline void hpass_c(float *restrict dst, const float *restrict src, const struct axis *ax,
                           uint32_t n_out, int C)
{
    const uint32_t K = ax->taps;
    uint32_t x = 0;
    for (; x + 4 <= n_out; x += 4) {
        float a[4][2] = {{0.0f}};
        for (uint32_t k = 0; k < K; k++)
            for (int p = 0; p < 4; p++)
                for (int c = 0; c < C; c++)
                    a[p][c] += ax->w[(size_t)(x + p) * K + k] *
                               src[((size_t)ax->start[x + p] + k) * C + (size_t)c];
        for (int p = 0; p < 4; p++)
            for (int c = 0; c < C; c++)
                dst[(size_t)(x + p) * C + c] = a[p][c];
    }
    for (; x < n_out; x++) {
        const float *w = ax->w + (size_t)x * K;
        const float *s = src + (size_t)ax->start[x] * C;
        float a[2] = {0.0f, 0.0f};
        for (uint32_t k = 0; k < K; k++)
            for (int c = 0; c < C; c++)
                a[c] += w[k] * s[(size_t)k * C + c];
        for (int c = 0; c < C; c++)
            dst[(size_t)x * C + c] = a[c];
    }
}

/* The same for C = 2..4 with one 4-lane vector per tap (GCC and clang vector extension; each
 * lane does the scalar loop's operations in the same order, so the bits are the same). For
 * C < 4 the upper lanes read the next pixel and are discarded: src needs PAD floats of padding
 * after its last pixel. */
typedef float v4f __attribute__((vector_size(16)));

static inline v4f load4(const float *p)
{
    v4f v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline v4f splat4(float w)
{
    return (v4f){w, w, w, w};
}

static inline void store_c(float *dst, v4f a, int C)
{
    float t[4];
    memcpy(t, &a, sizeof t);
    for (int c = 0; c < C; c++)
        dst[c] = t[c];
}

static inline void hpass_v4(float *restrict dst, const float *restrict src, const struct axis *ax,
                            uint32_t n_out, int C)
{
    const uint32_t K = ax->taps;
    uint32_t x = 0;
    for (; x + 4 <= n_out; x += 4) {
        const float *w0 = ax->w + (size_t)x * K, *w1 = w0 + K, *w2 = w1 + K, *w3 = w2 + K;
        const float *s0 = src + (size_t)ax->start[x] * C, *s1 = src + (size_t)ax->start[x + 1] * C;
        const float *s2 = src + (size_t)ax->start[x + 2] * C;
        const float *s3 = src + (size_t)ax->start[x + 3] * C;
        v4f a0 = splat4(0.0f), a1 = a0, a2 = a0, a3 = a0;
        for (uint32_t k = 0; k < K; k++) {
            size_t o = (size_t)k * C;
            a0 += splat4(w0[k]) * load4(s0 + o);
            a1 += splat4(w1[k]) * load4(s1 + o);
            a2 += splat4(w2[k]) * load4(s2 + o);
            a3 += splat4(w3[k]) * load4(s3 + o);
        }
        store_c(dst + (size_t)x * C, a0, C);
        store_c(dst + (size_t)(x + 1) * C, a1, C);
        store_c(dst + (size_t)(x + 2) * C, a2, C);
        store_c(dst + (size_t)(x + 3) * C, a3, C);
    }
    for (; x < n_out; x++) {
        const float *w = ax->w + (size_t)x * K;
        const float *s = src + (size_t)ax->start[x] * C;
        v4f a = splat4(0.0f);
        for (uint32_t k = 0; k < K; k++)
            a += splat4(w[k]) * load4(s + (size_t)k * C);
        store_c(dst + (size_t)x * C, a, C);
    }
}

PK_ISA_CLONES static void hpass(float *restrict dst, const float *restrict src,
                                const struct axis *ax, uint32_t n_out, int C)
{
    switch (C) {
    case 1:
        hpass_c(dst, src, ax, n_out, 1);
        break;
    case 2:
        hpass_v4(dst, src, ax, n_out, 2);
        break;
    case 3:
        hpass_v4(dst, src, ax, n_out, 3);
        break;
    default:
        hpass_v4(dst, src, ax, n_out, 4);
        break;
    }
}

/* Converts one input row to floats in 0..255: colour through t->dec (linearised or not) and
 * multiplied by alpha / 255 (when there is alpha); alpha kept as is. C is a constant in each
 * caller, so the channel loops unroll. */
static inline void to_float_c(float *restrict dst, const uint8_t *restrict src, uint32_t w, int C,
                              const struct lut *t)
{
    const bool alpha = C == 2 || C == 4;
    const int nc = alpha ? C - 1 : C;
    if (!t->linear) { /* no table lookups: this loop vectorises */
        for (uint32_t x = 0; x < w; x++) {
            const uint8_t *p = src + (size_t)x * C;
            float *q = dst + (size_t)x * C;
            float a = alpha ? (float)p[nc] * (1.0f / 255.0f) : 1.0f;
            for (int c = 0; c < nc; c++)
                q[c] = (float)p[c] * a;
            if (alpha)
                q[nc] = (float)p[nc];
        }
        return;
    }
    for (uint32_t x = 0; x < w; x++) {
        const uint8_t *p = src + (size_t)x * C;
        float *q = dst + (size_t)x * C;
        float a = alpha ? t->unit[p[nc]] : 1.0f;
        for (int c = 0; c < nc; c++)
            q[c] = t->dec[p[c]] * a;
        if (alpha)
            q[nc] = (float)p[nc];
    }
}

static void to_float_row(float *restrict dst, const uint8_t *restrict src, uint32_t w, int C,
                         const struct lut *t)
{
    switch (C) {
    case 1:
        to_float_c(dst, src, w, 1, t);
        break;
    case 2:
        to_float_c(dst, src, w, 2, t);
        break;
    case 3:
        to_float_c(dst, src, w, 3, t);
        break;
    default:
        to_float_c(dst, src, w, 4, t);
        break;
    }
}

/* Rounds one output row of filtered floats to bytes, dividing out alpha and re-encoding. */
static void finish_row(uint8_t *restrict dst, const float *restrict src, uint32_t w, int C,
                       const struct lut *lin)
{
    bool alpha = C == 2 || C == 4;
    int nc = alpha ? C - 1 : C;
    for (uint32_t x = 0; x < w; x++) {
        const float *p = src + (size_t)x * C;
        uint8_t *q = dst + (size_t)x * C;
        float mul = 1.0f;
        if (alpha) {
            uint8_t ab = round_level(p[nc]);
            q[nc] = ab;
            /* A pixel that rounds to fully transparent keeps no colour. */
            mul = ab == 0 ? 0.0f : 255.0f / p[nc];
        }
        for (int c = 0; c < nc; c++) {
            float v = p[c] * mul;
            q[c] = lin ? lut_encode(lin, v) : round_level(v);
        }
    }
}

static bool image_ok(const struct pk_image *im)
{
    return im && im->pixels && im->width > 0 && im->height > 0 && im->channels >= 1 &&
           im->channels <= 4 && im->stride >= (size_t)im->width * (size_t)im->channels;
}

static int check_args(const struct pk_image *in, const struct pk_image *out, enum pk_filter f)
{
    if (!image_ok(in) || !image_ok(out) || in->channels != out->channels)
        return PK_EINVAL;
    if ((int)f < PK_FILTER_NEAREST || (int)f > PK_FILTER_LANCZOS3)
        return PK_EINVAL;
    return PK_OK;
}

static uint32_t nearest_index(uint32_t o, uint32_t n_in, uint32_t n_out, double a, double b)
{
    double c = a + (o + 0.5) * ((b - a) / n_out);
    int64_t i = (int64_t)floor(c);
    return i < 0 ? 0 : i >= (int64_t)n_in ? n_in - 1 : (uint32_t)i;
}

static void resample_nearest(const struct pk_image *in, struct pk_image *out, int nthreads,
                             struct pk_box box)
{
    int C = in->channels;
    uint32_t ow = out->width, oh = out->height;
#pragma omp parallel for num_threads(nthreads) schedule(static) default(none)                      \
    shared(in, out, C, ow, oh, box)
    for (uint32_t y = 0; y < oh; y++) {
        const uint8_t *src =
            in->pixels + nearest_index(y, in->height, oh, box.y0, box.y1) * in->stride;
        uint8_t *dst = out->pixels + (size_t)y * out->stride;
        for (uint32_t x = 0; x < ow; x++)
            memcpy(dst + (size_t)x * C,
                   src + (size_t)nearest_index(x, in->width, ow, box.x0, box.x1) * C, (size_t)C);
    }
}

static bool box_ok(struct pk_box b)
{
    return isfinite(b.x0) && isfinite(b.x1) && isfinite(b.y0) && isfinite(b.y1) && b.x1 > b.x0 &&
           b.y1 > b.y0;
}

/* With alpha or in linear light, the horizontal pass first: each input row is converted
 * (premultiplied, linearised) once, shrunk to the output width into conv, and the vertical pass
 * then works on conv. */
static int resample_converted(const struct pk_image *in, struct pk_image *out,
                              const struct axis *ax, const struct axis *ay, int nthreads,
                              bool linear)
{
    const int C = in->channels;
    const uint32_t iw = in->width, ih = in->height, ow = out->width, oh = out->height;
    const size_t n_row = (size_t)iw * C, n_out = (size_t)ow * C;
    size_t per_thread = (n_row > n_out ? n_row : n_out) + PAD;
    struct lut *tab = malloc(sizeof *tab), *lin = linear ? tab : NULL; /* lin: back to sRGB */
    float *scratch = calloc((size_t)nthreads * per_thread, sizeof *scratch);
    float *conv = malloc((size_t)ih * n_out * sizeof *conv);
    int rc = tab && scratch && conv ? PK_OK : PK_ENOMEM;
    if (rc == PK_OK) {
        lut_init(tab, linear);
#pragma omp parallel num_threads(nthreads) default(none)                                           \
    shared(in, out, ax, ay, tab, lin, conv, scratch, per_thread, n_out, C, iw, ih, ow, oh)
        {
            float *row = scratch + (size_t)omp_get_thread_num() * per_thread;
#pragma omp for schedule(static)
            for (uint32_t y = 0; y < ih; y++) {
                to_float_row(row, in->pixels + (size_t)y * in->stride, iw, C, tab);
                hpass(conv + (size_t)y * n_out, row, ax, ow, C);
            }
#pragma omp for schedule(static)
            for (uint32_t y = 0; y < oh; y++) {
                vpass_f32(row, conv + (size_t)ay->start[y] * n_out, n_out, n_out,
                          ay->w + (size_t)y * ay->taps, ay->taps);
                finish_row(out->pixels + (size_t)y * out->stride, row, ow, C, lin);
            }
        }
    }
    free(conv);
    free(scratch);
    free(tab);
    return rc;
}

/* Bytes in gamma space: the vertical pass first, straight from the input rows (contiguous, so it
 * vectorises at full width), then the horizontal pass on one row. Per thread: one input-width
 * row and one output-width row. */
static int resample_bytes(const struct pk_image *in, struct pk_image *out, const struct axis *ax,
                          const struct axis *ay, int nthreads)
{
    const int C = in->channels;
    const uint32_t ow = out->width, oh = out->height;
    const size_t n_row = (size_t)in->width * C;
    size_t per_thread = n_row + PAD + (size_t)ow * C;
    float *scratch = calloc((size_t)nthreads * per_thread, sizeof *scratch);
    if (!scratch)
        return PK_ENOMEM;
#pragma omp parallel num_threads(nthreads) default(none)                                           \
    shared(in, out, ax, ay, scratch, per_thread, n_row, C, ow, oh)
    {
        float *vrow = scratch + (size_t)omp_get_thread_num() * per_thread;
        float *hrow = vrow + n_row + PAD;
#pragma omp for schedule(static)
        for (uint32_t y = 0; y < oh; y++) {
            vpass_u8(vrow, in->pixels + (size_t)ay->start[y] * in->stride, in->stride, n_row,
                     ay->w + (size_t)y * ay->taps, ay->taps);
            hpass(hrow, vrow, ax, ow, C);
            finish_row(out->pixels + (size_t)y * out->stride, hrow, ow, C, NULL);
        }
    }
    free(scratch);
    return PK_OK;
}

int pk_resample_box(const struct pk_image *in, struct pk_box box, struct pk_image *out,
                    enum pk_filter filter, int nthreads, bool linear)
{
    int rc = check_args(in, out, filter);
    if (rc != PK_OK || nthreads < 1 || !box_ok(box))
        return PK_EINVAL;
    if (filter == PK_FILTER_NEAREST) {
        resample_nearest(in, out, nthreads, box);
        return PK_OK;
    }
    struct axis ax = {0}, ay = {0};
    rc = axis_init(&ax, filter, in->width, out->width, box.x0, box.x1);
    if (rc == PK_OK)
        rc = axis_init(&ay, filter, in->height, out->height, box.y0, box.y1);
    bool alpha = in->channels == 2 || in->channels == 4;
    if (rc == PK_OK)
        rc = alpha || linear ? resample_converted(in, out, &ax, &ay, nthreads, linear)
                             : resample_bytes(in, out, &ax, &ay, nthreads);
    axis_free(&ay);
    axis_free(&ax);
    return rc;
}

static struct pk_box whole(const struct pk_image *in, double shift)
{
    return (struct pk_box){shift, shift, in ? in->width + shift : 0, in ? in->height + shift : 0};
}

int pk_resample(const struct pk_image *in, struct pk_image *out, enum pk_filter filter,
                int nthreads, bool linear)
{
    return pk_resample_box(in, whole(in, 0.0), out, filter, nthreads, linear);
}

int pk__resample_phase(const struct pk_image *in, struct pk_image *out, enum pk_filter filter,
                       int nthreads, bool linear, double phase_px)
{
    return pk_resample_box(in, whole(in, phase_px), out, filter, nthreads, linear);
}

/* ---- float64 reference ------------------------------------------------------------------ */

/* Weights of output o on one axis, in double, normalised; returns the first tap. */
static int64_t ref_weights(enum pk_filter f, uint32_t n_in, uint32_t n_out, double a, double b,
                           uint32_t o, double *w, int64_t *n)
{
    double scale = (b - a) / n_out;
    double fscale = scale > 1.0 ? scale : 1.0;
    double support = filter_support(f) * fscale;
    double centre = a + (o + 0.5) * scale;
    int64_t lo, hi;
    window(support, centre, n_in, &lo, &hi);
    double sum = 0.0;
    for (int64_t j = lo; j < hi; j++)
        sum += w[j - lo] = filter_eval(f, (j + 0.5 - centre) / fscale);
    for (int64_t j = lo; j < hi; j++)
        w[j - lo] = sum != 0.0 ? w[j - lo] / sum : 0.0;
    *n = hi - lo;
    return lo;
}

int pk_resample_ref(const struct pk_image *in, struct pk_image *out, enum pk_filter filter,
                    bool linear)
{
    return pk_resample_ref_box(in, whole(in, 0.0), out, filter, linear);
}

int pk_resample_ref_box(const struct pk_image *in, struct pk_box box, struct pk_image *out,
                        enum pk_filter filter, bool linear)
{
    if (check_args(in, out, filter) != PK_OK || !box_ok(box))
        return PK_EINVAL;
    const int C = in->channels;
    const bool alpha = C == 2 || C == 4;
    const int nc = alpha ? C - 1 : C;
    if (filter == PK_FILTER_NEAREST) {
        for (uint32_t y = 0; y < out->height; y++)
            for (uint32_t x = 0; x < out->width; x++)
                memcpy(out->pixels + (size_t)y * out->stride + (size_t)x * C,
                       in->pixels +
                           (size_t)nearest_index(y, in->height, out->height, box.y0, box.y1) *
                               in->stride +
                           (size_t)nearest_index(x, in->width, out->width, box.x0, box.x1) * C,
                       (size_t)C);
        return PK_OK;
    }
    /* A window spans at most 2 * support * max(scale, 1) + 1 taps. */
    double sx = (box.x1 - box.x0) / out->width, sy = (box.y1 - box.y0) / out->height;
    size_t kx = (size_t)ceil(2.0 * filter_support(filter) * (sx > 1.0 ? sx : 1.0)) + 2;
    size_t ky = (size_t)ceil(2.0 * filter_support(filter) * (sy > 1.0 ? sy : 1.0)) + 2;
    double *wx = malloc(kx * sizeof *wx), *wy = malloc(ky * sizeof *wy);
    if (!wx || !wy) {
        free(wx);
        free(wy);
        return PK_ENOMEM;
    }
    double dec[256]; /* evaluated in double, once per byte value */
    for (int b = 0; b < 256; b++)
        dec[b] = linear ? 255.0 * srgb_to_linear(b / 255.0) : b;
    for (uint32_t y = 0; y < out->height; y++) {
        int64_t ny, nx;
        int64_t y0 = ref_weights(filter, in->height, out->height, box.y0, box.y1, y, wy, &ny);
        for (uint32_t x = 0; x < out->width; x++) {
            int64_t x0 = ref_weights(filter, in->width, out->width, box.x0, box.x1, x, wx, &nx);
            double acc[4] = {0, 0, 0, 0};
            for (int64_t j = 0; j < ny; j++) {
                const uint8_t *row = in->pixels + (size_t)(y0 + j) * in->stride;
                for (int64_t i = 0; i < nx; i++) {
                    const uint8_t *p = row + (size_t)(x0 + i) * C;
                    double w = wy[j] * wx[i];
                    double a = alpha ? p[nc] / 255.0 : 1.0;
                    for (int c = 0; c < nc; c++) {
                        acc[c] += w * dec[p[c]] * a;
                    }
                    if (alpha)
                        acc[nc] += w * p[nc];
                }
            }
            uint8_t *q = out->pixels + (size_t)y * out->stride + (size_t)x * C;
            double mul = 1.0;
            if (alpha) {
                double av = acc[nc] < 0.0 ? 0.0 : acc[nc] > 255.0 ? 255.0 : acc[nc];
                q[nc] = (uint8_t)floor(av + 0.5);
                mul = q[nc] == 0 ? 0.0 : 255.0 / acc[nc];
            }
            for (int c = 0; c < nc; c++) {
                double v = acc[c] * mul;
                if (linear)
                    v = 255.0 * linear_to_srgb(v < 0.0 ? 0.0 : v > 255.0 ? 1.0 : v / 255.0);
                v = v < 0.0 ? 0.0 : v > 255.0 ? 255.0 : v;
                q[c] = (uint8_t)floor(v + 0.5);
            }
        }
    }
    free(wx);
    free(wy);
    return PK_OK;
}

/* ---- sizes ------------------------------------------------------------------------------ */

/* round(a * b / c) for 32-bit a, b and c > 0, at least 1. */
static uint32_t muldiv_round(uint32_t a, uint32_t b, uint32_t c)
{
    uint64_t v = ((uint64_t)a * b * 2 + c) / (2 * (uint64_t)c);
    return v < 1 ? 1 : (uint32_t)v;
}

int pk_resample_fit(uint32_t in_w, uint32_t in_h, uint32_t box_w, uint32_t box_h, uint32_t *out_w,
                    uint32_t *out_h)
{
    if (!out_w || !out_h)
        return PK_EINVAL;
    *out_w = *out_h = 0;
    if (in_w == 0 || in_h == 0 || box_w == 0 || box_h == 0)
        return PK_EINVAL;
    /* The width limits when in_w / in_h >= box_w / box_h. */
    if ((uint64_t)in_w * box_h >= (uint64_t)in_h * box_w) {
        *out_w = box_w;
        *out_h = muldiv_round(in_h, box_w, in_w);
    } else {
        *out_h = box_h;
        *out_w = muldiv_round(in_w, box_h, in_h);
    }
    return PK_OK;
}

int pk_resample_fill(uint32_t in_w, uint32_t in_h, uint32_t box_w, uint32_t box_h,
                     struct pk_rect *crop)
{
    if (!crop)
        return PK_EINVAL;
    *crop = (struct pk_rect){0};
    if (in_w == 0 || in_h == 0 || box_w == 0 || box_h == 0)
        return PK_EINVAL;
    uint32_t cw = in_w, ch = in_h;
    if ((uint64_t)in_w * box_h > (uint64_t)in_h * box_w) /* wider than the box: crop width */
        cw = muldiv_round(in_h, box_w, box_h);
    else
        ch = muldiv_round(in_w, box_h, box_w);
    cw = cw > in_w ? in_w : cw;
    ch = ch > in_h ? in_h : ch;
    *crop = (struct pk_rect){(in_w - cw) / 2, (in_h - ch) / 2, cw, ch};
    return PK_OK;
}

int pk_resample_exact(uint32_t in_w, uint32_t in_h, struct pk_rect *crop)
{
    if (!crop)
        return PK_EINVAL;
    *crop = (struct pk_rect){0};
    if (in_w == 0 || in_h == 0)
        return PK_EINVAL;
    *crop = (struct pk_rect){0, 0, in_w, in_h};
    return PK_OK;
}

int pk_image_crop(const struct pk_image *img, struct pk_rect r, struct pk_image *view)
{
    if (!view)
        return PK_EINVAL;
    *view = (struct pk_image){0};
    if (!image_ok(img) || r.width == 0 || r.height == 0 || r.x > img->width ||
        r.width > img->width - r.x || r.y > img->height || r.height > img->height - r.y)
        return PK_EINVAL;
    *view = *img;
    view->width = r.width;
    view->height = r.height;
    view->pixels = img->pixels + (size_t)r.y * img->stride + (size_t)r.x * img->channels;
    return PK_OK;
}
