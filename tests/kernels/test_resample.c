/* SPDX-License-Identifier: MIT */
/* Tests of the resampling kernel (parkit/resample.h).
 *
 * The fast path (float32, separable, OpenMP) is compared with its float64 twin on generated
 * images (smooth gradients, hard-edged checkerboards that make the filters ring, and noise from
 * a fixed seed) for every filter and channel count, shrinking, enlarging and mixed sizes, 1xN,
 * Nx1 and 1x1: at most 1 level apart, with the PSNR logged. A copy shifted by half a pixel must
 * fail the same check (the canary), the bits must not depend on the thread count, alpha must not
 * leave dark fringes, and bad arguments must return PK_EINVAL. */
#include "check.h"
#include "parkit/resample.h"
#include "parkit/status.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------------------------ */

enum pattern { GRADIENT, CHECKER, NOISE, FAINT };

static const char *const pattern_name[] = {"gradient", "checker", "noise", "faint"};
static const char *const filter_name[] = {"nearest", "bilinear", "bicubic", "mitchell", "lanczos3"};
enum { NFILTERS = 5 };

/* Allocates an image (rows padded by 3 bytes to test the stride); NULL pixels on failure. */
static struct pk_image image_new(uint32_t w, uint32_t h, int channels)
{
    size_t stride = (size_t)w * channels + 3;
    struct pk_image im = {w, h, channels, stride, calloc((size_t)h * stride, 1)};
    return im;
}

static void image_fill(struct pk_image *im, enum pattern p, uint64_t seed)
{
    uint64_t s = seed;
    for (uint32_t y = 0; y < im->height; y++)
        for (uint32_t x = 0; x < im->width; x++)
            for (int c = 0; c < im->channels; c++) {
                uint8_t *q = im->pixels + (size_t)y * im->stride + (size_t)x * im->channels + c;
                uint32_t v;
                if (p == GRADIENT)
                    v = (x * 255 / (im->width > 1 ? im->width - 1 : 1) * (uint32_t)(c + 1) +
                         y * 255 / (im->height > 1 ? im->height - 1 : 1) * (uint32_t)(3 - c)) /
                        4;
                else if (p == CHECKER)
                    v = ((x / 3 + y / 3 + (uint32_t)c) % 2) ? 250 : 5;
                else if (p == NOISE || c + 1 < im->channels || im->channels % 2)
                    v = (uint32_t)check_below(&s, 256);
                else /* FAINT alpha: mostly 0, some pixels 1..12, so sums come out tiny */
                    v = check_below(&s, 4) == 0 ? 1 + (uint32_t)check_below(&s, 12) : 0;
                *q = (uint8_t)(v > 255 ? 255 : v);
            }
}

struct diff {
    int max_err;
    double psnr; /* dB, INFINITY when equal */
    double se;   /* sum of squared errors over n compared values */
    size_t n;
};

/* Differences between two images of equal shape. Colour channels of pixels whose reference
 * alpha is below min_alpha are skipped (their colour is invisible or ill-conditioned: dividing
 * out alpha amplifies float32 rounding by 255 / alpha). */
static struct diff image_diff(const struct pk_image *a, const struct pk_image *ref, int min_alpha)
{
    int C = a->channels;
    bool alpha = C == 2 || C == 4;
    double se = 0.0;
    size_t n = 0;
    struct diff d = {0, INFINITY, 0.0, 0};
    for (uint32_t y = 0; y < a->height; y++)
        for (uint32_t x = 0; x < a->width; x++) {
            const uint8_t *p = a->pixels + (size_t)y * a->stride + (size_t)x * C;
            const uint8_t *q = ref->pixels + (size_t)y * ref->stride + (size_t)x * C;
            for (int c = 0; c < C; c++) {
                if (alpha && c < C - 1 && q[C - 1] < min_alpha)
                    continue;
                int e = abs((int)p[c] - (int)q[c]);
                d.max_err = e > d.max_err ? e : d.max_err;
                se += (double)e * e;
                n++;
            }
        }
    if (n > 0 && se > 0)
        d.psnr = 10.0 * log10(255.0 * 255.0 / (se / (double)n));
    d.se = se;
    d.n = n;
    return d;
}

static bool image_equal(const struct pk_image *a, const struct pk_image *b)
{
    for (uint32_t y = 0; y < a->height; y++)
        if (memcmp(a->pixels + (size_t)y * a->stride, b->pixels + (size_t)y * b->stride,
                   (size_t)a->width * a->channels) != 0)
            return false;
    return true;
}

struct size_pair {
    uint32_t iw, ih, ow, oh;
};

/* Shrinks (large factors and non-integer ones), enlargements, mixed, 1xN, Nx1, 1x1, identity. */
static const struct size_pair sizes[] = {
    {257, 173, 64, 41}, {13, 7, 40, 30}, {1, 50, 1, 7},     {50, 1, 7, 1},
    {1, 1, 1, 1},       {1, 1, 5, 3},    {100, 61, 33, 77}, {31, 17, 31, 17},
    {97, 89, 3, 2},     {1201, 9, 2, 1}, {2, 3, 1, 1},
};
enum { NSIZES = sizeof sizes / sizeof sizes[0] };

/* Colour is compared wherever the reference alpha is at least 1 level; only fully transparent
 * pixels are skipped (both sides give them colour 0 unless float32 rounds alpha to 1 level). The
 * FAINT pattern shows that alpha of 1..12 levels still stays within 1 level. */
#define MIN_ALPHA 1

/* Runs every filter, channel count and size on one pattern; shift is the canary's phase.
 * Returns the worst error over all runs, or -1 on a failed call; logs each run's PSNR. */
static int sweep(enum pattern p, bool linear, double shift, bool log)
{
    int worst = 0;
    double worst_psnr = INFINITY, se = 0.0;
    size_t n = 0;
    for (int f = 0; f < NFILTERS; f++)
        for (int C = 1; C <= 4; C++)
            for (int s = 0; s < NSIZES; s++) {
                const struct size_pair *z = &sizes[s];
                struct pk_image in = image_new(z->iw, z->ih, C);
                struct pk_image got = image_new(z->ow, z->oh, C);
                struct pk_image want = image_new(z->ow, z->oh, C);
                int rc = -1;
                if (in.pixels && got.pixels && want.pixels) {
                    image_fill(&in, p, 1234 + (uint64_t)s);
                    rc = pk__resample_phase(&in, &got, (enum pk_filter)f, 2, linear, shift);
                    if (rc == 0)
                        rc = pk_resample_ref(&in, &want, (enum pk_filter)f, linear);
                }
                struct diff d = {0, INFINITY, 0.0, 0};
                if (rc == 0)
                    d = image_diff(&got, &want, MIN_ALPHA);
                if (log && (d.max_err > 1 || rc != 0))
                    fprintf(stderr, "  %s %s c=%d %ux%u->%ux%u: rc=%d max_err=%d psnr=%.2f dB\n",
                            pattern_name[p], filter_name[f], C, z->iw, z->ih, z->ow, z->oh, rc,
                            d.max_err, d.psnr);
                free(in.pixels);
                free(got.pixels);
                free(want.pixels);
                if (rc != 0)
                    return -1;
                worst = d.max_err > worst ? d.max_err : worst;
                worst_psnr = d.psnr < worst_psnr ? d.psnr : worst_psnr;
                se += d.se;
                n += d.n;
            }
    if (log)
        fprintf(
            stderr,
            "%s%s: %d runs, max_err=%d level(s), psnr=%.2f dB (all runs), %.2f dB (worst run)\n",
            pattern_name[p], linear ? " linear" : "", NFILTERS * 4 * NSIZES, worst,
            se > 0 ? 10.0 * log10(255.0 * 255.0 / (se / (double)n)) : INFINITY, worst_psnr);
    return worst;
}

/* ---- accuracy against the float64 reference --------------------------------------------- */

static int check_sweep(enum pattern p, bool linear)
{
    int worst = sweep(p, linear, 0.0, true);
    CHECK(worst >= 0);
    CHECK(worst <= 1);
    return 0;
}

static int case_ref_gradient_all(void)
{
    return check_sweep(GRADIENT, false);
}

static int case_ref_checker(void)
{
    return check_sweep(CHECKER, false);
}

static int case_ref_noise(void)
{
    return check_sweep(NOISE, false);
}

/* Alpha mostly 0 with faint pixels: output alpha of a few levels, where dividing it out
 * amplifies the float32 error most. */
static int case_ref_faint_alpha(void)
{
    int rc = check_sweep(FAINT, false);
    if (rc == 0)
        rc = check_sweep(FAINT, true);
    return rc;
}

static int case_ref_linear(void)
{
    int rc = check_sweep(GRADIENT, true);
    if (rc == 0)
        rc = check_sweep(NOISE, true);
    return rc;
}

/* The canary: the same check on a resampler whose sampling phase is half a pixel off must fail
 * for every filter, so the check can see a systematic phase error and not only noise. */
static int case_canary_phase(void)
{
    for (int f = 0; f < NFILTERS; f++) {
        struct pk_image in = image_new(257, 173, 3);
        struct pk_image got = image_new(64, 41, 3);
        struct pk_image want = image_new(64, 41, 3);
        CHECK(in.pixels && got.pixels && want.pixels);
        image_fill(&in, NOISE, 7);
        CHECK_OK(pk__resample_phase(&in, &got, (enum pk_filter)f, 2, false, 0.5));
        CHECK_OK(pk_resample_ref(&in, &want, (enum pk_filter)f, false));
        struct diff shifted = image_diff(&got, &want, 0);
        CHECK_OK(pk__resample_phase(&in, &got, (enum pk_filter)f, 2, false, 0.0));
        struct diff ok = image_diff(&got, &want, 0);
        fprintf(stderr, "%s: phase +0.5 px max_err=%d psnr=%.2f dB; phase 0 max_err=%d\n",
                filter_name[f], shifted.max_err, shifted.psnr, ok.max_err);
        free(in.pixels);
        free(got.pixels);
        free(want.pixels);
        CHECK(shifted.max_err > 1);
        CHECK(ok.max_err <= 1);
    }
    CHECK(sweep(NOISE, false, 0.5, false) > 1);
    return 0;
}

/* ---- properties --------------------------------------------------------------------------- */

/* Same bits for 1..4 threads on every size: rows that do not split evenly (41, 7, 30) and fewer
 * rows than threads (1, 2). */
static int case_threads_bitwise(void)
{
    for (int f = 0; f < NFILTERS; f++)
        for (int C = 1; C <= 4; C++)
            for (int s = 0; s < NSIZES; s++) {
                for (int lin = 0; lin < 2; lin++) {
                    const struct size_pair *z = &sizes[s];
                    struct pk_image in = image_new(z->iw, z->ih, C);
                    struct pk_image one = image_new(z->ow, z->oh, C);
                    struct pk_image many = image_new(z->ow, z->oh, C);
                    CHECK(in.pixels && one.pixels && many.pixels);
                    image_fill(&in, NOISE, 99);
                    CHECK_OK(pk_resample(&in, &one, (enum pk_filter)f, 1, lin));
                    for (int t = 2; t <= 4; t++) {
                        memset(many.pixels, 0, (size_t)many.height * many.stride);
                        CHECK_OK(pk_resample(&in, &many, (enum pk_filter)f, t, lin));
                        CHECK(image_equal(&one, &many));
                    }
                    free(in.pixels);
                    free(one.pixels);
                    free(many.pixels);
                }
            }
    return 0;
}

/* At the same size the interpolating filters (bilinear, bicubic, lanczos3) and nearest return
 * the input; mitchell (B = 1/3) blurs by design and is left out. */
static int case_identity(void)
{
    const enum pk_filter fs[] = {PK_FILTER_NEAREST, PK_FILTER_BILINEAR, PK_FILTER_BICUBIC,
                                 PK_FILTER_LANCZOS3};
    for (size_t i = 0; i < sizeof fs / sizeof fs[0]; i++)
        for (int C = 1; C <= 4; C++) {
            struct pk_image in = image_new(37, 23, C), out = image_new(37, 23, C);
            CHECK(in.pixels && out.pixels);
            image_fill(&in, NOISE, 5);
            /* Opaque alpha: a transparent pixel loses its colour on purpose. */
            if (C == 2 || C == 4)
                for (uint32_t y = 0; y < in.height; y++)
                    for (uint32_t x = 0; x < in.width; x++)
                        in.pixels[y * in.stride + x * (size_t)C + (size_t)C - 1] = 255;
            CHECK_OK(pk_resample(&in, &out, fs[i], 2, false));
            CHECK(image_equal(&in, &out));
            free(in.pixels);
            free(out.pixels);
        }
    return 0;
}

/* A transparent black half next to an opaque white half: without premultiplication the black
 * would bleed into the edge as opaque grey. Every pixel with some alpha must stay white. */
static int case_alpha_no_fringe(void)
{
    for (int f = 0; f < NFILTERS; f++)
        for (int C = 2; C <= 4; C += 2) {
            struct pk_image in = image_new(60, 9, C), out = image_new(17, 5, C);
            CHECK(in.pixels && out.pixels);
            for (uint32_t y = 0; y < in.height; y++)
                for (uint32_t x = 0; x < in.width; x++)
                    memset(in.pixels + y * in.stride + x * (size_t)C, x < 31 ? 0 : 255, (size_t)C);
            for (int lin = 0; lin < 2; lin++) {
                CHECK_OK(pk_resample(&in, &out, (enum pk_filter)f, 2, lin));
                int partial = 0;
                for (uint32_t y = 0; y < out.height; y++)
                    for (uint32_t x = 0; x < out.width; x++) {
                        const uint8_t *p = out.pixels + y * out.stride + x * (size_t)C;
                        if (p[C - 1] == 0)
                            continue;
                        partial += p[C - 1] < 255;
                        for (int c = 0; c < C - 1; c++)
                            CHECK_EQ_INT(p[c], 255);
                    }
                CHECK(f == PK_FILTER_NEAREST || partial > 0); /* the edge was resampled */
            }
            free(in.pixels);
            free(out.pixels);
        }
    return 0;
}

/* A crop view (offset pixels, the parent's stride) resamples like a packed copy of the crop. */
static int case_crop_view(void)
{
    struct pk_image big = image_new(120, 90, 3);
    CHECK(big.pixels);
    image_fill(&big, NOISE, 11);
    struct pk_rect r;
    CHECK_OK(pk_resample_fill(120, 90, 40, 40, &r));
    CHECK_EQ_INT(r.x, 15);
    CHECK_EQ_INT(r.y, 0);
    CHECK_EQ_INT(r.width, 90);
    CHECK_EQ_INT(r.height, 90);
    struct pk_image view, copy = image_new(r.width, r.height, 3);
    CHECK(copy.pixels);
    CHECK_OK(pk_image_crop(&big, r, &view));
    for (uint32_t y = 0; y < r.height; y++)
        memcpy(copy.pixels + y * copy.stride, view.pixels + y * view.stride, (size_t)r.width * 3);
    struct pk_image a = image_new(40, 40, 3), b = image_new(40, 40, 3);
    CHECK(a.pixels && b.pixels);
    CHECK_OK(pk_resample(&view, &a, PK_FILTER_LANCZOS3, 2, false));
    CHECK_OK(pk_resample(&copy, &b, PK_FILTER_LANCZOS3, 3, false));
    CHECK(image_equal(&a, &b));
    r.x = 31; /* 31 + 90 > 120 */
    CHECK_EQ_INT(pk_image_crop(&big, r, &view), PK_EINVAL);
    free(big.pixels);
    free(copy.pixels);
    free(a.pixels);
    free(b.pixels);
    return 0;
}

/* ---- sizes -------------------------------------------------------------------------------- */

static int case_sizes(void)
{
    uint32_t w, h;
    CHECK_OK(pk_resample_fit(4000, 3000, 256, 256, &w, &h));
    CHECK_EQ_INT(w, 256);
    CHECK_EQ_INT(h, 192);
    CHECK_OK(pk_resample_fit(3000, 4000, 256, 256, &w, &h));
    CHECK_EQ_INT(w, 192);
    CHECK_EQ_INT(h, 256);
    CHECK_OK(pk_resample_fit(1000, 10, 256, 256, &w, &h)); /* 2.56 rounds to 3 */
    CHECK_EQ_INT(w, 256);
    CHECK_EQ_INT(h, 3);
    CHECK_OK(pk_resample_fit(100000, 1, 256, 256, &w, &h)); /* never 0 */
    CHECK_EQ_INT(w, 256);
    CHECK_EQ_INT(h, 1);
    CHECK_OK(pk_resample_fit(10, 5, 256, 256, &w, &h)); /* enlarges */
    CHECK_EQ_INT(w, 256);
    CHECK_EQ_INT(h, 128);
    CHECK_OK(pk_resample_fit(333, 333, 256, 100, &w, &h));
    CHECK_EQ_INT(w, 100);
    CHECK_EQ_INT(h, 100);

    struct pk_rect r;
    CHECK_OK(pk_resample_fill(4000, 3000, 256, 256, &r));
    CHECK_EQ_INT(r.x, 500);
    CHECK_EQ_INT(r.y, 0);
    CHECK_EQ_INT(r.width, 3000);
    CHECK_EQ_INT(r.height, 3000);
    CHECK_OK(pk_resample_fill(3000, 4000, 256, 128, &r)); /* crop 3000x1500 */
    CHECK_EQ_INT(r.x, 0);
    CHECK_EQ_INT(r.y, 1250);
    CHECK_EQ_INT(r.width, 3000);
    CHECK_EQ_INT(r.height, 1500);
    CHECK_OK(pk_resample_fill(7, 5, 7, 5, &r));
    CHECK_EQ_INT(r.x, 0);
    CHECK_EQ_INT(r.width, 7);
    CHECK_EQ_INT(r.height, 5);
    CHECK_OK(pk_resample_exact(4000, 3000, &r));
    CHECK_EQ_INT(r.x, 0);
    CHECK_EQ_INT(r.y, 0);
    CHECK_EQ_INT(r.width, 4000);
    CHECK_EQ_INT(r.height, 3000);

    CHECK_EQ_INT(pk_resample_fit(0, 5, 256, 256, &w, &h), PK_EINVAL);
    CHECK_EQ_INT(w, 0);
    CHECK_EQ_INT(pk_resample_fit(5, 5, 256, 0, &w, &h), PK_EINVAL);
    CHECK_EQ_INT(pk_resample_fit(5, 5, 256, 256, NULL, &h), PK_EINVAL);
    CHECK_EQ_INT(pk_resample_fill(5, 0, 256, 256, &r), PK_EINVAL);
    CHECK_EQ_INT(pk_resample_fill(5, 5, 0, 256, &r), PK_EINVAL);
    CHECK_EQ_INT(pk_resample_fill(5, 5, 256, 256, NULL), PK_EINVAL);
    CHECK_EQ_INT(pk_resample_exact(0, 5, &r), PK_EINVAL);
    CHECK_EQ_INT(pk_resample_exact(5, 5, NULL), PK_EINVAL);
    return 0;
}

/* ---- errors ------------------------------------------------------------------------------- */

/* Fractional boxes, partly past the last pixel (a JPEG decoded at 1/d) or inside the image (a
 * crop): within 1 level of the float64 reference on the same box, for every filter and channel
 * count and with 1 and 3 threads alike; the whole image as a box is pk_resample, bit for bit. */
static int case_box(void)
{
    static const struct pk_box boxes[] = {{0, 0, 125.125, 75.375},
                                          {0.875, 0.625, 126, 76},
                                          {10.25, 3.5, 100.75, 60.125},
                                          {-0.5, -0.25, 126.5, 76.25}};
    for (int f = 0; f < NFILTERS; f++)
        for (int C = 1; C <= 4; C++) {
            struct pk_image in = image_new(126, 76, C);
            struct pk_image got = image_new(31, 19, C), got3 = image_new(31, 19, C);
            struct pk_image want = image_new(31, 19, C);
            CHECK(in.pixels && got.pixels && got3.pixels && want.pixels);
            image_fill(&in, NOISE, (uint64_t)(11 * f + C));
            for (size_t b = 0; b < sizeof boxes / sizeof boxes[0]; b++) {
                CHECK_OK(pk_resample_box(&in, boxes[b], &got, (enum pk_filter)f, 1, false));
                CHECK_OK(pk_resample_box(&in, boxes[b], &got3, (enum pk_filter)f, 3, false));
                CHECK_OK(pk_resample_ref_box(&in, boxes[b], &want, (enum pk_filter)f, false));
                struct diff d = image_diff(&got, &want, MIN_ALPHA);
                CHECK(d.max_err <= 1);
                CHECK(image_equal(&got, &got3));
            }
            struct pk_box all = {0, 0, in.width, in.height};
            CHECK_OK(pk_resample_box(&in, all, &got, (enum pk_filter)f, 2, false));
            CHECK_OK(pk_resample(&in, &got3, (enum pk_filter)f, 2, false));
            CHECK(image_equal(&got, &got3));
            /* a box shifted by half a pixel is not the same resample: the check can fail */
            struct pk_box off = {0.5, 0.5, in.width + 0.5, in.height + 0.5};
            CHECK_OK(pk_resample_ref_box(&in, off, &want, (enum pk_filter)f, false));
            CHECK(image_diff(&got, &want, MIN_ALPHA).max_err > 1);
            free(in.pixels);
            free(got.pixels);
            free(got3.pixels);
            free(want.pixels);
        }
    uint8_t a[48] = {0}, b[12] = {0};
    struct pk_image in = {4, 4, 3, 12, a}, out = {2, 2, 3, 6, b};
    static const struct pk_box bad[] = {
        {0, 0, 0, 4}, {0, 0, 4, -1}, {2, 0, 1, 4}, {0, NAN, 4, 4}, {0, 0, INFINITY, 4}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ_INT(pk_resample_box(&in, bad[i], &out, PK_FILTER_BICUBIC, 1, false), PK_EINVAL);
        CHECK_EQ_INT(pk_resample_ref_box(&in, bad[i], &out, PK_FILTER_NEAREST, false), PK_EINVAL);
    }
    return 0;
}

static int case_invalid(void)
{
    uint8_t a[64] = {0}, b[64] = {0};
    const struct pk_image good_in = {4, 4, 3, 12, a}, good_out = {2, 2, 3, 6, b};
    struct pk_image in = good_in, out = good_out;
    CHECK_OK(pk_resample(&in, &out, PK_FILTER_LANCZOS3, 1, false));
    CHECK_OK(pk_resample_ref(&in, &out, PK_FILTER_LANCZOS3, false));
    CHECK_EQ_INT(pk_resample(NULL, &out, PK_FILTER_LANCZOS3, 1, false), PK_EINVAL);
    CHECK_EQ_INT(pk_resample(&in, NULL, PK_FILTER_LANCZOS3, 1, false), PK_EINVAL);
    CHECK_EQ_INT(pk_resample(&in, &out, PK_FILTER_LANCZOS3, 0, false), PK_EINVAL);
    CHECK_EQ_INT(pk_resample(&in, &out, (enum pk_filter)5, 1, false), PK_EINVAL);
    CHECK_EQ_INT(pk_resample(&in, &out, (enum pk_filter) - 1, 1, false), PK_EINVAL);
    CHECK_EQ_INT(pk_resample_ref(&in, &out, (enum pk_filter)9, false), PK_EINVAL);

    struct {
        struct pk_image in, out;
    } bad[] = {
        {{0, 4, 3, 12, a}, good_out},        {{4, 0, 3, 12, a}, good_out},
        {good_in, {0, 2, 3, 6, b}},          {good_in, {2, 0, 3, 6, b}},
        {{4, 4, 0, 12, a}, {2, 2, 0, 6, b}}, {{4, 4, 5, 20, a}, {2, 2, 5, 10, b}},
        {{4, 4, 3, 12, a}, {2, 2, 4, 8, b}}, {{4, 4, 3, 11, a}, good_out},
        {good_in, {2, 2, 3, 5, b}},          {{4, 4, 3, 12, NULL}, good_out},
        {good_in, {2, 2, 3, 6, NULL}},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        for (int f = 0; f < NFILTERS; f++) {
            CHECK_EQ_INT(pk_resample(&bad[i].in, &bad[i].out, (enum pk_filter)f, 2, false),
                         PK_EINVAL);
            CHECK_EQ_INT(pk_resample_ref(&bad[i].in, &bad[i].out, (enum pk_filter)f, true),
                         PK_EINVAL);
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const struct check_case cases[] = {
        {"ref_gradient", case_ref_gradient_all},
        {"ref_checker", case_ref_checker},
        {"ref_noise", case_ref_noise},
        {"ref_faint_alpha", case_ref_faint_alpha},
        {"ref_linear", case_ref_linear},
        {"canary_phase", case_canary_phase},
        {"threads_bitwise", case_threads_bitwise},
        {"identity", case_identity},
        {"alpha_no_fringe", case_alpha_no_fringe},
        {"crop_view", case_crop_view},
        {"sizes", case_sizes},
        {"box", case_box},
        {"invalid", case_invalid},
    };
    return CHECK_MAIN(cases);
}
