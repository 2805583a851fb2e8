/* SPDX-License-Identifier: MIT */
/* Image decoding and encoding for batch thumbnails: JPEG (libjpeg-turbo), PNG (libpng) and
 * PNM (P2/P3/P5/P6). The format is detected from the magic bytes, never from the extension.
 *
 * Every function is thread-safe (no shared state; libjpeg and libpng objects are per call) and
 * reentrant. Nothing prints: libjpeg's and libpng's error handlers longjmp back to us and their
 * warnings are dropped, and nothing calls exit(). Failures return a negative enum pk_status and
 * fill the caller-owned struct pk_err (NULL ok) with a message naming the file and the reason:
 *   PK_EIO     cannot open or read the file, or it is truncated (ends before the pixels do)
 *   PK_EINVAL  empty file, unknown format, corrupt data, zero width or height, unsupported kind
 *              (e.g. PNM P1/P4 bitmaps, alpha written as JPEG), bad arguments
 *   PK_ERANGE  the header claims more pixels than opts->max_pixels (refused before allocating)
 *   PK_ENOMEM  an allocation failed
 *
 * Truncation policy: a file that ends before its last pixel is an error (PK_EIO, "truncated"),
 * where libjpeg alone would warn and pad with grey. Precisely: JPEG, the end of the file
 * followed by libjpeg's "premature end of data segment" (the decoder still needed bits), or
 * any early end of a progressive file; PNG, an end before the last row of IDAT. Data missing
 * only after the pixels (a baseline JPEG's EOI marker, the PNG chunks after IDAT) is tolerated.
 * CMYK and YCCK JPEGs are converted to RGB without colour management (R = C * K / 255, with
 * Adobe's inverted storage), the usual approximation when no ICC profile is applied; ICC
 * profiles are ignored for every format.
 * Corrupt data: libjpeg's warnings that the entropy-coded data or the scans are damaged ("corrupt
 * JPEG data: bad Huffman code", "... premature end of data segment", "... N extraneous bytes
 * before marker", a resync) are errors (PK_EINVAL, "is corrupt"): libjpeg would go on and fill
 * what it could not decode with grey, and a random bit flip in the scan data usually shows only
 * there. pk_load_opts.lenient accepts them, as libvips and Pillow do by default (some cameras
 * write extraneous bytes), and counts them in pk_image_info.corrupt_warnings. Other warnings
 * (unknown JFIF revision, bad ICC chunk) leave every pixel decoded and are ignored. */
#ifndef PARKIT_IMAGE_H
#define PARKIT_IMAGE_H

#include "parkit/resample.h"
#include "parkit/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum pk_image_format { PK_IMAGE_UNKNOWN = 0, PK_IMAGE_JPEG, PK_IMAGE_PNG, PK_IMAGE_PNM };

/* 8-bit interleaved pixels, rows top to bottom. channels: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA.
 * Alpha is straight (not premultiplied). pixels is malloc'd and owned by the struct. */
/* struct pk_image (width, height, channels 1..4, stride, pixels) is the resampler's, so that a
 * decoded image goes to pk_resample as it is. */

/* What the header says, without decoding the pixels. */
struct pk_image_info {
    enum pk_image_format format;
    int width, height; /* as stored, before any orientation is applied */
    int channels;      /* what pk_image_load returns (CMYK JPEG: 3; palette with tRNS: 4) */
    int bit_depth;     /* per sample in the file: 1..16 */
    int orientation;   /* EXIF orientation 1..8 (1 when absent or invalid) */
    /* After a load: the DCT reduction d the pixels were decoded at (1, 2, 4 or 8; always 1 for
     * PNG, PNM and a probe). The decoded size is ceil(width / d) x ceil(height / d), so the
     * stored image spans width / d x height / d decoded pixels (see struct pk_box). */
    int scale_denom;
    /* After a lenient load (pk_load_opts.lenient): how many corrupt-data warnings libjpeg gave,
     * and the first one's text ("" when none). */
    int corrupt_warnings;
    char warning[200]; /* libjpeg's JMSG_LENGTH_MAX */
};

/* Pillow's limit: it raises DecompressionBombError above 2 * Image.MAX_IMAGE_PIXELS, where
 * MAX_IMAGE_PIXELS = 1024 * 1024 * 1024 // 4 // 3 (about 179 megapixels in all). */
#define PK_IMAGE_MAX_PIXELS_DEFAULT UINT64_C(178956970)
/* libvips's thumbnail leaves at least a factor of 2 for the final resample after JPEG
 * shrink-on-load (vips_thumbnail_find_jpegshrink); so do we by default. */
#define PK_IMAGE_SHRINK_SAFETY_DEFAULT 2.0

/* Options of pk_image_load; a NULL pointer or a zeroed struct gives the defaults. */
struct pk_load_opts {
    /* Refuse (PK_ERANGE) a file whose header claims more than this many pixels, before any
     * pixel memory is allocated. 0: PK_IMAGE_MAX_PIXELS_DEFAULT; UINT64_MAX: no limit. */
    uint64_t max_pixels;
    /* Target box of the caller's resize (0 x 0: none). When set, a JPEG is decoded at 1/2,
     * 1/4 or 1/8 in the DCT domain (libjpeg scale_denom): the largest reduction d such that
     * the remaining shrink is still >= shrink_safety, i.e. d * shrink_safety <= shrink, where
     * shrink = max(w / target_w, h / target_h) (fit inside the box) or the min of the two with
     * fill (cover the box). Dimensions are those after orientation when apply_orientation is
     * set. Other formats are decoded at full size. */
    int target_w, target_h;
    bool fill;
    double shrink_safety; /* <= 0: PK_IMAGE_SHRINK_SAFETY_DEFAULT; values below 1 count as 1 */
    /* Rotate/flip the pixels per EXIF orientation 2..8 (JPEG APP1 Exif, PNG eXIf) so that the
     * result is upright; the returned image then has orientation 1. */
    bool apply_orientation;
    /* Accept JPEG data that libjpeg warns is corrupt (counted in pk_image_info) instead of
     * failing with PK_EINVAL; see "Corrupt data" above. */
    bool lenient;
};

/* Reads only the header of the file at path (for JPEG up to the first SOS, for PNG up to the
 * first IDAT) and fills *info. info is caller-owned. A PNG eXIf chunk placed after the image
 * data (allowed, but rare) is seen by pk_image_load only. */
int pk_image_probe(const char *path, struct pk_image_info *info, struct pk_err *err);
/* The same for an in-memory file (data: n bytes, caller-owned, only read); name is used in
 * messages. */
int pk_image_probe_mem(const void *data, size_t n, const char *name, struct pk_image_info *info,
                       struct pk_err *err);

/* Decodes the file at path into *out. On success *out owns new pixels (pk_image_free frees
 * them); on failure *out is zeroed. opts (NULL ok) is only read. */
int pk_image_load(const char *path, const struct pk_load_opts *opts, struct pk_image *out,
                  struct pk_err *err);
/* pk_image_load that also fills *info (caller-owned) with the header's facts and the
 * scale_denom the pixels were decoded at. */
int pk_image_load_info(const char *path, const struct pk_load_opts *opts, struct pk_image *out,
                       struct pk_image_info *info, struct pk_err *err);
/* The same for an in-memory file (data: n bytes, caller-owned, only read). */
int pk_image_load_mem(const void *data, size_t n, const char *name, const struct pk_load_opts *opts,
                      struct pk_image *out, struct pk_err *err);

/* The region of a decoded image (pk_image_load_info's *info and pixels, oriented or not as
 * loaded) that covers exactly the stored picture: all of it, except that after a DCT reduction
 * by d the last column and row may cover fewer than d stored pixels, and an orientation may have
 * moved that partial edge to the left or top. Resample this box (pk_resample_box) to map the
 * output onto the picture itself, as a full-size decode would. */
struct pk_box pk_image_source_box(const struct pk_image_info *info, bool oriented);

/* Encodes img (caller-owned, only read) as format PK_IMAGE_JPEG (quality 1..100, 4:2:0 chroma
 * subsampling, channels 1 or 3 only: flatten alpha first) or PK_IMAGE_PNG (quality ignored; zlib
 * level 6, adaptive filters, 8 bits, any channel count) and writes it to path atomically
 * through io/atomicfile (mode 0644): an unnamed file in the same directory (O_TMPFILE) linked in
 * as path only once complete, so path never holds a partial image and not even a process killed
 * mid-write leaves a file behind; where O_TMPFILE or /proc is missing, an exclusive hidden
 * temporary renamed instead (removed on failure; a kill -9 mid-write leaves it). Without force
 * an existing path is not replaced (PK_EIO, "exists"). The file is not fsync'ed: after a power
 * loss path may be missing or empty, but never partly written by us while the system runs. */
int pk_image_save(const char *path, const struct pk_image *img, enum pk_image_format format,
                  int quality, bool force, struct pk_err *err);

/* Frees img->pixels and zeroes *img. NULL ok. */
void pk_image_free(struct pk_image *img);

/* "jpeg", "png", "pnm" or "unknown"; never NULL. */
const char *pk_image_format_name(enum pk_image_format format);

#endif
