/* SPDX-License-Identifier: MIT */
/* Image resampling for batch thumbnails: separable, antialiased convolution (the filter support
 * grows with the shrink factor, as Pillow's ImagingResample does) with OpenMP over output rows.
 *
 * Pixels are 8-bit, interleaved, 1..4 channels: grey, grey+alpha, RGB, RGBA; alpha is always the
 * last channel of 2 and 4. Alpha is premultiplied before filtering and divided out afterwards, so
 * transparent pixels never bleed their colour (no dark fringes). Output pixels are the same bits
 * for every thread count. */
#ifndef PARKIT_RESAMPLE_H
#define PARKIT_RESAMPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A view of caller-owned pixels: row y starts at pixels + y * stride (stride >= width * channels
 * bytes). The struct owns nothing. */
struct pk_image {
    uint32_t width, height;
    int channels; /* 1..4 */
    size_t stride;
    uint8_t *pixels;
};

struct pk_rect {
    uint32_t x, y, width, height;
};

enum pk_filter {
    PK_FILTER_NEAREST,  /* point sampling of the pixel whose centre is nearest; no antialiasing */
    PK_FILTER_BILINEAR, /* triangle, support 1 */
    PK_FILTER_BICUBIC,  /* Keys cubic with a = -0.5 (Pillow's BICUBIC), support 2 */
    PK_FILTER_MITCHELL, /* Mitchell-Netravali B = C = 1/3, support 2 */
    PK_FILTER_LANCZOS3, /* sinc(x) sinc(x/3), support 3 */
};

/* Resamples in into out, whose width, height, channels, stride and pixels the caller sets (out
 * has the target size; channels must equal in's). Output pixel centre x maps to input position
 * (x + 0.5) * in_w / out_w - 0.5; near the border the weights that would fall outside the image
 * are dropped and the rest renormalised. linear: filter in linear light (sRGB decoded through a
 * table, encoded back exactly), alpha stays linear as stored. nthreads >= 1 OpenMP threads; the
 * output is bit-identical for every nthreads.
 * Arithmetic: float32 with weights normalised in float64; the result is within 1 level of
 * pk_resample_ref (see resample.c for the bound). Allocates its scratch memory internally: one
 * float row per thread, plus in.height x out.width x channels floats when the image has alpha or
 * linear is set.
 * Returns 0, PK_EINVAL (a zero size, channels outside 1..4 or differing, NULL pixels, a stride
 * too small, nthreads < 1, an unknown filter) or PK_ENOMEM. Thread-safe: it touches nothing but
 * its arguments; in is only read, and in and out must not overlap. */
int pk_resample(const struct pk_image *in, struct pk_image *out, enum pk_filter filter,
                int nthreads, bool linear);

/* A region of the input in pixel units (pixel j spans [j, j + 1)) that the output maps onto. It
 * may be fractional and may reach past the last pixel: a JPEG decoded at 1/d whose size was not
 * a multiple of d has a last column covering fewer than d stored pixels, so the stored image
 * spans width / d decoded pixels, not ceil(width / d). */
struct pk_box {
    double x0, y0, x1, y1;
};

/* pk_resample of the region box of in: output pixel centre x maps to input position
 * box.x0 + (x + 0.5) * (box.x1 - box.x0) / out_w (so pk_resample is the box {0, 0, in_w, in_h});
 * the filter stretches with the box's scale and the weights stay inside the image. PK_EINVAL
 * also for a box that is empty or not finite. */
int pk_resample_box(const struct pk_image *in, struct pk_box box, struct pk_image *out,
                    enum pk_filter filter, int nthreads, bool linear);

/* Serial float64 twin, the test oracle: every output pixel is the 2-D sum of its input window
 * with weights from the same filter evaluated in double, then rounded once. Same contract. */
int pk_resample_ref(const struct pk_image *in, struct pk_image *out, enum pk_filter filter,
                    bool linear);
int pk_resample_ref_box(const struct pk_image *in, struct pk_box box, struct pk_image *out,
                        enum pk_filter filter, bool linear);

/* Target sizes. fit: the largest size inside box_w x box_h with in's aspect ratio (each side
 * rounded, at least 1; enlarges small inputs too). fill: out is the box, *crop the largest
 * centred rectangle of in with the box's aspect ratio (resample pk_image_crop(in, crop) into the
 * box). exact: out is the box, *crop all of in. Each returns 0 or PK_EINVAL for a zero size. */
int pk_resample_fit(uint32_t in_w, uint32_t in_h, uint32_t box_w, uint32_t box_h, uint32_t *out_w,
                    uint32_t *out_h);
int pk_resample_fill(uint32_t in_w, uint32_t in_h, uint32_t box_w, uint32_t box_h,
                     struct pk_rect *crop);
int pk_resample_exact(uint32_t in_w, uint32_t in_h, struct pk_rect *crop);

/* A view of the rectangle r of img (sharing its pixels); r must lie inside img. Returns 0 or
 * PK_EINVAL. */
int pk_image_crop(const struct pk_image *img, struct pk_rect r, struct pk_image *view);

/* Test only: pk_resample with the sampling phase moved by phase_px input pixels (0 is
 * pk_resample). The tests use a shifted phase as a canary that the accuracy check must catch. */
int pk__resample_phase(const struct pk_image *in, struct pk_image *out, enum pk_filter filter,
                       int nthreads, bool linear, double phase_px);

#endif
