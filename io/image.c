/* SPDX-License-Identifier: MIT */
/* Image decoding and encoding (parkit/image.h). Every decoder reads from a FILE * (a file, or
 * fmemopen over caller memory), so probe and load share one path per format. libjpeg and libpng
 * report errors by longjmp to a setjmp in the decoding function; everything those functions
 * must free after a longjmp lives in a heap struct (never in a local modified after setjmp). */
#include "parkit/image.h"

#include "parkit/atomicfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* jpeglib.h needs FILE from stdio.h first: keep this order */
/* clang-format off */
#include <jpeglib.h>
#include <jerror.h>
#include <png.h>
/* clang-format on */

#ifndef RENAME_NOREPLACE
#    define RENAME_NOREPLACE (1 << 0)
#endif

const char *pk_image_format_name(enum pk_image_format format)
{
    switch (format) {
    case PK_IMAGE_JPEG:
        return "jpeg";
    case PK_IMAGE_PNG:
        return "png";
    case PK_IMAGE_PNM:
        return "pnm";
    default:
        return "unknown";
    }
}

void pk_image_free(struct pk_image *img)
{
    if (!img)
        return;
    free(img->pixels);
    memset(img, 0, sizeof *img);
}

/* ---- shared helpers ------------------------------------------------------------------------ */

struct req {
    const char *name;
    bool probe; /* header only */
    uint64_t max_pixels;
    int target_w, target_h;
    bool fill;
    double safety;
    bool orient;
    bool lenient;
};

static int check_dims(const struct req *r, uint64_t w, uint64_t h, struct pk_err *err)
{
    if (w == 0 || h == 0)
        return pk_fail(err, PK_EINVAL, "'%s' has zero size (%llux%llu)", r->name,
                       (unsigned long long)w, (unsigned long long)h);
    if (w > INT_MAX || h > INT_MAX || w * h > r->max_pixels)
        return pk_fail(err, PK_ERANGE,
                       "'%s' is too large: %llux%llu = %.1f megapixels > budget of %.1f", r->name,
                       (unsigned long long)w, (unsigned long long)h, (double)w * (double)h / 1e6,
                       (double)r->max_pixels / 1e6);
    return PK_OK;
}

/* EXIF orientation from a TIFF block (the Exif payload after "Exif\0\0", or a PNG eXIf chunk):
 * IFD0 tag 0x0112, type SHORT. 1 when absent or invalid; every read is bounds-checked. */
static int exif_orientation(const uint8_t *p, size_t n)
{
    if (n < 8)
        return 1;
    bool le;
    if (p[0] == 'I' && p[1] == 'I' && p[2] == 42 && p[3] == 0)
        le = true;
    else if (p[0] == 'M' && p[1] == 'M' && p[2] == 0 && p[3] == 42)
        le = false;
    else
        return 1;
#define RD16(q) (le ? (unsigned)((q)[0] | (q)[1] << 8) : (unsigned)((q)[0] << 8 | (q)[1]))
#define RD32(q)                                                                                    \
    (le ? ((uint32_t)(q)[0] | (uint32_t)(q)[1] << 8 | (uint32_t)(q)[2] << 16 |                     \
           (uint32_t)(q)[3] << 24)                                                                 \
        : ((uint32_t)(q)[0] << 24 | (uint32_t)(q)[1] << 16 | (uint32_t)(q)[2] << 8 |               \
           (uint32_t)(q)[3]))
    uint32_t ifd = RD32(p + 4);
    if (ifd > n - 2)
        return 1;
    unsigned count = RD16(p + ifd);
    for (unsigned i = 0; i < count; i++) {
        size_t e = (size_t)ifd + 2 + (size_t)i * 12;
        if (e + 12 > n)
            return 1;
        if (RD16(p + e) != 0x0112)
            continue;
        if (RD16(p + e + 2) != 3 || RD32(p + e + 4) != 1)
            return 1;
        unsigned v = RD16(p + e + 8);
        return v >= 1 && v <= 8 ? (int)v : 1;
    }
    return 1;
#undef RD16
#undef RD32
}

/* Largest DCT reduction 1, 2, 4 or 8 that keeps the remaining shrink >= safety. */
static int jpeg_denom(const struct req *r, int w, int h, int orientation)
{
    if (r->target_w <= 0 || r->target_h <= 0)
        return 1;
    if (r->orient && orientation >= 5) {
        int t = w;
        w = h;
        h = t;
    }
    double sx = (double)w / r->target_w, sy = (double)h / r->target_h;
    double shrink = r->fill ? (sx < sy ? sx : sy) : (sx > sy ? sx : sy);
    int d = 8;
    while (d > 1 && (double)d * r->safety > shrink)
        d /= 2;
    return d;
}

/* Source coordinates for each orientation: out(x, y) = in(sx, sy). */
static int apply_orientation(struct pk_image *img, int orientation, struct pk_err *err)
{
    if (orientation < 2 || orientation > 8)
        return PK_OK;
    int w = img->width, h = img->height, c = img->channels;
    bool swap = orientation >= 5;
    int ow = swap ? h : w, oh = swap ? w : h;
    size_t ostride = (size_t)ow * (size_t)c;
    uint8_t *dst = malloc(ostride * (size_t)oh);
    if (!dst)
        return pk_fail(err, PK_ENOMEM, "out of memory rotating a %dx%d image", w, h);
    for (int y = 0; y < oh; y++) {
        uint8_t *o = dst + (size_t)y * ostride;
        for (int x = 0; x < ow; x++) {
            int sx, sy;
            switch (orientation) {
            case 2:
                sx = w - 1 - x, sy = y;
                break;
            case 3:
                sx = w - 1 - x, sy = h - 1 - y;
                break;
            case 4:
                sx = x, sy = h - 1 - y;
                break;
            case 5:
                sx = y, sy = x;
                break;
            case 6:
                sx = y, sy = h - 1 - x;
                break;
            case 7:
                sx = w - 1 - y, sy = h - 1 - x;
                break;
            default: /* 8 */
                sx = w - 1 - y, sy = x;
                break;
            }
            memcpy(o + (size_t)x * c, img->pixels + (size_t)sy * img->stride + (size_t)sx * c,
                   (size_t)c);
        }
    }
    free(img->pixels);
    img->pixels = dst;
    img->width = ow;
    img->height = oh;
    img->stride = ostride;
    return PK_OK;
}

/* ---- JPEG ---------------------------------------------------------------------------------- */

struct jerr {
    struct jpeg_error_mgr pub;
    jmp_buf jb;
    bool truncated;
    bool eof;     /* the source ran out of bytes */
    bool lenient; /* corrupt-data warnings are counted, not errors */
    int corrupt;  /* corrupt-data warnings accepted (lenient) */
    char msg[JMSG_LENGTH_MAX];
    char first[JMSG_LENGTH_MAX]; /* the first one accepted */
};

static void j_error_exit(j_common_ptr c)
{
    struct jerr *e = (struct jerr *)c->err;
    c->err->format_message(c, e->msg);
    longjmp(e->jb, 1);
}

static void j_output_message(j_common_ptr c)
{
    (void)c; /* never print */
}

/* The warnings that mean the entropy-coded data or the scan layout is damaged: libjpeg goes
 * on and fills what it could not decode with grey or garbage, so the pixels are not the
 * picture's. The others (an unknown JFIF version, a bad ICC chunk, an odd Adobe transform)
 * leave every pixel decoded. */
static bool corrupt_data(int code)
{
    switch (code) {
    case JWRN_EXTRANEOUS_DATA:
    case JWRN_HIT_MARKER:
    case JWRN_HUFF_BAD_CODE:
    case JWRN_ARITH_BAD_CODE:
    case JWRN_MUST_RESYNC:
    case JWRN_NOT_SEQUENTIAL:
    case JWRN_BOGUS_PROGRESSION:
        return true;
    default:
        return false;
    }
}

static void j_emit_message(j_common_ptr c, int level)
{
    struct jerr *e = (struct jerr *)c->err;
    if (level >= 0)
        return; /* trace messages */
    /* At the end of the file the source inserts a fake EOI; when the entropy decoder then
     * still needed bits it warns JWRN_HIT_MARKER: pixels are missing, so it is an error. The
     * EOF alone is not: a file that lacks only its EOI marker has every pixel. */
    if (c->err->msg_code == JWRN_JPEG_EOF)
        e->eof = true;
    if (e->eof && c->err->msg_code == JWRN_HIT_MARKER) {
        e->truncated = true;
        c->err->format_message(c, e->msg);
        longjmp(e->jb, 1);
    }
    c->err->num_warnings++;
    if (!corrupt_data(c->err->msg_code))
        return;
    if (!e->lenient) {
        c->err->format_message(c, e->msg);
        longjmp(e->jb, 1);
    }
    if (e->corrupt++ == 0)
        c->err->format_message(c, e->first);
}

static void j_init_err(struct jerr *e)
{
    jpeg_std_error(&e->pub);
    e->pub.error_exit = j_error_exit;
    e->pub.output_message = j_output_message;
    e->pub.emit_message = j_emit_message;
}

struct jdec {
    struct jpeg_decompress_struct ci;
    struct jerr e;
    uint8_t *pix;
    uint8_t *row;     /* CMYK scanline */
    uint8_t *dc_only; /* the file without its droppable AC scans (see use_dc_only) */
};

static size_t be16(const uint8_t *p)
{
    return (size_t)p[0] << 8 | p[1];
}

/* The JPEG file p[0..n) without the scans that have Ss > 0 (AC coefficients) and only
 * components marked in dc_only[component id]; every other segment is kept as it is. NULL
 * when nothing would be dropped or the layout is not a plain SOI ... EOI sequence of segments
 * and scans (then the caller decodes the file itself, which reports what is wrong). */
static uint8_t *drop_ac_scans(const uint8_t *p, size_t n, const bool dc_only[256], size_t *out_n)
{
    if (n < 4 || p[0] != 0xff || p[1] != 0xd8)
        return NULL;
    uint8_t *q = malloc(n);
    if (!q)
        return NULL;
    size_t i = 2, m = 2, dropped = 0;
    memcpy(q, p, 2);
    while (i + 1 < n) {
        if (p[i] != 0xff)
            break;
        while (i + 1 < n && p[i + 1] == 0xff) /* fill bytes */
            i++;
        if (i + 1 >= n)
            break;
        uint8_t marker = p[i + 1];
        if (marker == 0xd9) { /* EOI */
            q[m++] = 0xff, q[m++] = 0xd9;
            if (dropped == 0)
                break;
            *out_n = m;
            return q;
        }
        if (i + 4 > n || be16(p + i + 2) < 2 || i + 2 + be16(p + i + 2) > n)
            break;
        size_t end = i + 2 + be16(p + i + 2); /* of the segment */
        bool keep = true;
        if (marker == 0xda) { /* SOS: header, then entropy-coded data up to the next marker */
            size_t ns = p[i + 4];
            if (ns < 1 || ns > 4 || i + 5 + 2 * ns + 3 > end)
                break;
            bool all_dc_only = true;
            for (size_t c = 0; c < ns; c++)
                all_dc_only = all_dc_only && dc_only[p[i + 5 + 2 * c]];
            keep = p[i + 5 + 2 * ns] == 0 || !all_dc_only; /* Ss */
            while (end + 1 < n &&
                   !(p[end] == 0xff && p[end + 1] != 0 && (p[end + 1] < 0xd0 || p[end + 1] > 0xd7)))
                end++;
            if (end + 1 >= n)
                break; /* no marker after the data: truncated */
        }
        if (keep) {
            memcpy(q + m, p + i, end - i);
            m += end - i;
        } else {
            dropped += end - i;
        }
        i = end;
    }
    free(q);
    return NULL;
}

/* At 1/8 scale a component decoded with a 1x1 IDCT (usually the luma: libjpeg scales the
 * subsampled chroma up with a larger IDCT instead) uses its DC coefficients only. In a
 * progressive file the AC scans of such components are then dropped before decoding: they are
 * most of its Huffman decoding, and the pixels are the same bits (test_image checks this against
 * libjpeg decoding the whole file). Block smoothing, which would guess the missing AC
 * coefficients, is switched off; with every coefficient present it does nothing. On any doubt
 * about the file (truncated, unexpected layout) d keeps decoding the file itself. */
static void use_dc_only(struct jdec *d, FILE *f)
{
    jpeg_calc_output_dimensions(&d->ci);
    bool dc_only[256] = {false}, any = false;
    for (int c = 0; c < d->ci.num_components; c++)
        if (d->ci.comp_info[c].DCT_scaled_size == 1)
            any = dc_only[d->ci.comp_info[c].component_id & 0xff] = true;
    long pos = ftell(f);
    if (!any || pos < 0 || fseek(f, 0, SEEK_END) != 0)
        return;
    long size = ftell(f);
    uint8_t *file = size > 0 ? malloc((size_t)size) : NULL;
    bool whole =
        file && fseek(f, 0, SEEK_SET) == 0 && fread(file, 1, (size_t)size, f) == (size_t)size;
    size_t n = 0;
    d->dc_only = whole ? drop_ac_scans(file, (size_t)size, dc_only, &n) : NULL;
    free(file);
    if (fseek(f, pos, SEEK_SET) != 0 || !d->dc_only)
        return;
    /* a new decompressor: libjpeg-turbo refuses to swap a stdio source for a memory one */
    J_COLOR_SPACE space = d->ci.out_color_space;
    unsigned denom = d->ci.scale_denom;
    jpeg_destroy_decompress(&d->ci);
    d->ci.err = &d->e.pub;
    jpeg_create_decompress(&d->ci);
    jpeg_mem_src(&d->ci, d->dc_only, (unsigned long)n);
    jpeg_read_header(&d->ci, TRUE);
    d->ci.out_color_space = space;
    d->ci.scale_num = 1;
    d->ci.scale_denom = denom;
    d->ci.do_block_smoothing = FALSE;
}

static int jpeg_orientation(j_decompress_ptr ci)
{
    for (jpeg_saved_marker_ptr m = ci->marker_list; m; m = m->next) {
        if (m->marker == JPEG_APP0 + 1 && m->data_length >= 6 && memcmp(m->data, "Exif\0", 6) == 0)
            return exif_orientation(m->data + 6, m->data_length - 6);
    }
    return 1;
}

/* Sets the output colour space for the file's: grey stays grey, CMYK and YCCK come out as
 * CMYK (converted to RGB row by row), anything else as RGB. Returns the channels stored. */
static int jpeg_output_channels(j_decompress_ptr ci)
{
    switch (ci->jpeg_color_space) {
    case JCS_GRAYSCALE:
        ci->out_color_space = JCS_GRAYSCALE;
        return 1;
    case JCS_CMYK:
    case JCS_YCCK:
        ci->out_color_space = JCS_CMYK;
        return 3;
    default:
        ci->out_color_space = JCS_RGB;
        return 3;
    }
}

/* One row of w CMYK pixels as RGB. Adobe writes inverted CMYK; without an ICC transform this
 * is the usual approximation. */
static void cmyk_to_rgb(const uint8_t *row, uint8_t *dst, size_t w, bool inverted)
{
    for (size_t x = 0; x < w; x++) {
        unsigned cc = row[4 * x], m = row[4 * x + 1], yy = row[4 * x + 2], k = row[4 * x + 3];
        if (!inverted)
            cc = 255 - cc, m = 255 - m, yy = 255 - yy, k = 255 - k;
        dst[3 * x] = (uint8_t)((cc * k + 127) / 255);
        dst[3 * x + 1] = (uint8_t)((m * k + 127) / 255);
        dst[3 * x + 2] = (uint8_t)((yy * k + 127) / 255);
    }
}

/* Every scanline of a started decompression into d->pix (allocated here, rows of stride bytes).
 * libjpeg's errors longjmp to the caller's setjmp, which is still active. */
static int jpeg_read_pixels(struct jdec *d, size_t stride, const struct req *r, struct pk_err *err)
{
    size_t w = d->ci.output_width, h = d->ci.output_height;
    bool cmyk = d->ci.out_color_space == JCS_CMYK;
    d->pix = malloc(stride * h);
    if (cmyk)
        d->row = malloc(w * 4);
    if (!d->pix || (cmyk && !d->row))
        return pk_fail(err, PK_ENOMEM, "out of memory decoding '%s' (%zux%zu)", r->name, w, h);
    while (d->ci.output_scanline < h) {
        uint8_t *dst = d->pix + (size_t)d->ci.output_scanline * stride;
        JSAMPROW rowp = cmyk ? d->row : dst;
        if (jpeg_read_scanlines(&d->ci, &rowp, 1) != 1)
            return pk_fail(err, PK_EIO, "'%s' is truncated (JPEG data ends early)", r->name);
        if (cmyk)
            cmyk_to_rgb(d->row, dst, w, d->ci.saw_Adobe_marker);
    }
    return PK_OK;
}

static int load_jpeg(FILE *f, const struct req *r, struct pk_image_info *info, struct pk_image *out,
                     struct pk_err *err)
{
    struct jdec *d = calloc(1, sizeof *d);
    if (!d)
        return pk_fail(err, PK_ENOMEM, "out of memory opening '%s'", r->name);
    int status = PK_OK;
    d->ci.err = &d->e.pub;
    j_init_err(&d->e);
    /* a probe reads the header only; the load that follows decides */
    d->e.lenient = r->lenient || r->probe;
    if (setjmp(d->e.jb)) {
        if (d->e.truncated)
            status = pk_fail(err, PK_EIO, "'%s' is truncated (JPEG data ends early)", r->name);
        else
            status = pk_fail(err, PK_EINVAL, "'%s' is corrupt (JPEG: %s)", r->name, d->e.msg);
        goto out;
    }
    jpeg_create_decompress(&d->ci);
    jpeg_stdio_src(&d->ci, f);
    jpeg_save_markers(&d->ci, JPEG_APP0 + 1, 0xffff);
    jpeg_read_header(&d->ci, TRUE);

    int channels = jpeg_output_channels(&d->ci);
    int orientation = jpeg_orientation(&d->ci);
    info->format = PK_IMAGE_JPEG;
    info->width = (int)d->ci.image_width;
    info->height = (int)d->ci.image_height;
    info->channels = channels;
    info->bit_depth = d->ci.data_precision;
    info->orientation = orientation;
    if (r->probe)
        goto out;
    status = check_dims(r, d->ci.image_width, d->ci.image_height, err);
    if (status != PK_OK)
        goto out;

    d->ci.scale_num = 1;
    d->ci.scale_denom = (unsigned)jpeg_denom(r, info->width, info->height, orientation);
    info->scale_denom = (int)d->ci.scale_denom;
    if (d->ci.scale_denom == 8 && d->ci.progressive_mode)
        use_dc_only(d, f);
    d->ci.dct_method = JDCT_ISLOW;
    jpeg_start_decompress(&d->ci);
    size_t w = d->ci.output_width, h = d->ci.output_height;
    size_t stride = w * (size_t)channels;
    status = jpeg_read_pixels(d, stride, r, err);
    if (status != PK_OK)
        goto out;
    jpeg_finish_decompress(&d->ci);
    info->corrupt_warnings = d->e.corrupt;
    snprintf(info->warning, sizeof info->warning, "%s", d->e.first);
    /* A progressive file cut between two scans decodes without a warning, only blurred: the
     * end of the file before EOI counts as truncation there. */
    if (d->e.eof && d->ci.progressive_mode) {
        status = pk_fail(err, PK_EIO, "'%s' is truncated (progressive JPEG ends early)", r->name);
        goto out;
    }
    out->width = (int)w;
    out->height = (int)h;
    out->channels = channels;
    out->stride = stride;
    out->pixels = d->pix;
    d->pix = NULL;
out:
    jpeg_destroy_decompress(&d->ci);
    free(d->pix);
    free(d->row);
    free(d->dc_only);
    free(d);
    return status;
}

/* ---- PNG ----------------------------------------------------------------------------------- */

struct pdec {
    png_structp png;
    png_infop info;
    FILE *f;
    bool truncated;
    bool rows_done;
    char msg[160];
    uint8_t *pix;
    png_bytep *rows;
    int w, h, channels; /* read after a longjmp, so not locals */
    size_t stride;
};

static void p_error(png_structp png, png_const_charp msg)
{
    struct pdec *d = png_get_error_ptr(png);
    snprintf(d->msg, sizeof d->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void p_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg; /* never print */
}

static void p_read(png_structp png, png_bytep data, size_t n)
{
    struct pdec *d = png_get_io_ptr(png);
    if (fread(data, 1, n, d->f) != n) {
        d->truncated = true;
        png_error(png, "unexpected end of file");
    }
}

static int png_orientation(struct pdec *d)
{
#ifdef PNG_eXIf_SUPPORTED
    png_bytep exif = NULL;
    png_uint_32 n = 0;
    if (png_get_eXIf_1(d->png, d->info, &n, &exif) & PNG_INFO_eXIf)
        return exif_orientation(exif, n);
#else
    (void)d;
#endif
    return 1;
}

/* The channels a PNG of this colour type decodes to once expanded (tRNS: with alpha). */
static int png_output_channels(int ctype, bool trns)
{
    switch (ctype) {
    case PNG_COLOR_TYPE_GRAY:
        return trns ? 2 : 1;
    case PNG_COLOR_TYPE_GRAY_ALPHA:
        return 2;
    case PNG_COLOR_TYPE_RGB_ALPHA:
        return 4;
    default: /* RGB, palette */
        return trns ? 4 : 3;
    }
}

/* The pixel buffer and its row pointers for the transformed layout, which must be 8-bit
 * channels packed in rows; the image's shape into d (read after a longjmp). */
static int png_rows(struct pdec *d, png_uint_32 w, png_uint_32 h, int channels, const struct req *r,
                    struct pk_err *err)
{
    size_t stride = png_get_rowbytes(d->png, d->info);
    if (png_get_channels(d->png, d->info) != channels || stride != (size_t)w * (size_t)channels)
        return pk_fail(err, PK_EINVAL, "'%s': unsupported PNG layout", r->name);
    d->pix = malloc(stride * h);
    d->rows = malloc(sizeof *d->rows * h);
    if (!d->pix || !d->rows)
        return pk_fail(err, PK_ENOMEM, "out of memory decoding '%s' (%ux%u)", r->name, (unsigned)w,
                       (unsigned)h);
    for (png_uint_32 y = 0; y < h; y++)
        d->rows[y] = d->pix + (size_t)y * stride;
    d->w = (int)w;
    d->h = (int)h;
    d->channels = channels;
    d->stride = stride;
    return PK_OK;
}

static int load_png(FILE *f, const struct req *r, struct pk_image_info *info, struct pk_image *out,
                    struct pk_err *err)
{
    struct pdec *d = calloc(1, sizeof *d);
    if (!d)
        return pk_fail(err, PK_ENOMEM, "out of memory opening '%s'", r->name);
    int status = PK_OK;
    d->f = f;
    d->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, d, p_error, p_warning);
    if (d->png)
        d->info = png_create_info_struct(d->png);
    if (!d->png || !d->info) {
        status = pk_fail(err, PK_ENOMEM, "out of memory opening '%s'", r->name);
        goto out;
    }
    if (setjmp(png_jmpbuf(d->png))) {
        if (d->rows_done) { /* only the chunks after the image data are damaged */
            status = PK_OK;
            goto done;
        }
        if (d->truncated)
            status = pk_fail(err, PK_EIO, "'%s' is truncated (PNG data ends early)", r->name);
        else
            status = pk_fail(err, PK_EINVAL, "'%s' is corrupt (PNG: %s)", r->name, d->msg);
        goto out;
    }
    png_set_read_fn(d->png, d, p_read);
    /* Our own pixel budget decides; libpng's default caps (1e6 per side) would be a second,
     * differently worded limit. Ancillary chunks stay capped at libpng's 8 MB default. */
    png_set_user_limits(d->png, 0x7fffffff, 0x7fffffff);
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
    png_set_crc_action(d->png, PNG_CRC_QUIET_USE, PNG_CRC_QUIET_USE);
#endif
    png_read_info(d->png, d->info);
    png_uint_32 w = 0, h = 0;
    int depth = 0, ctype = 0, interlace = 0;
    png_get_IHDR(d->png, d->info, &w, &h, &depth, &ctype, &interlace, NULL, NULL);
    int channels = png_output_channels(ctype, png_get_valid(d->png, d->info, PNG_INFO_tRNS) != 0);
    info->format = PK_IMAGE_PNG;
    info->width = (int)w;
    info->height = (int)h;
    info->channels = channels;
    info->bit_depth = depth;
    info->orientation = png_orientation(d);
    if (r->probe)
        goto out;
    status = check_dims(r, w, h, err);
    if (status != PK_OK)
        goto out;

    png_set_expand(d->png); /* palette -> RGB, grey < 8 bits -> 8, tRNS -> alpha */
    if (depth == 16)
        png_set_scale_16(d->png); /* rounds: v * 255 / 65535 */
    png_set_interlace_handling(d->png);
    png_read_update_info(d->png, d->info);
    status = png_rows(d, w, h, channels, r, err);
    if (status != PK_OK)
        goto out;
    png_read_image(d->png, d->rows);
    d->rows_done = true;
    png_read_end(d->png, d->info); /* an eXIf chunk may follow the image data */
done:
    if (info->orientation == 1)
        info->orientation = png_orientation(d);
    out->width = d->w;
    out->height = d->h;
    out->channels = d->channels;
    out->stride = d->stride;
    out->pixels = d->pix;
    d->pix = NULL;
out:
    png_destroy_read_struct(d->png ? &d->png : NULL, d->info ? &d->info : NULL, NULL);
    free(d->pix);
    free(d->rows);
    free(d);
    return status;
}

/* ---- PNM ----------------------------------------------------------------------------------- */

/* Next decimal token, skipping whitespace and # comments. -1: no number; -2: end of file. */
static long pnm_token(FILE *f)
{
    int ch = fgetc(f);
    for (;;) {
        if (ch == '#') {
            while (ch != EOF && ch != '\n' && ch != '\r')
                ch = fgetc(f);
        } else if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' ||
                   ch == '\f') {
            ch = fgetc(f);
        } else {
            break;
        }
    }
    if (ch == EOF)
        return -2;
    if (ch < '0' || ch > '9')
        return -1;
    long v = 0;
    while (ch >= '0' && ch <= '9') {
        if (v > 100000000L)
            return -1;
        v = v * 10 + (ch - '0');
        ch = fgetc(f);
    }
    /* the single whitespace after the last header field is consumed here */
    if (ch != EOF && ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r' && ch != '\v' &&
        ch != '\f')
        return -1;
    return v;
}

/* The header after the magic number's P: the kind (2, 3, 5 or 6) and width, height and maxval
 * into v. */
static int pnm_header(FILE *f, const struct req *r, int *kind, long v[3], struct pk_err *err)
{
    char magic[2];
    if (fread(magic, 1, 2, f) != 2)
        return pk_fail(err, PK_EIO, "'%s' is truncated (PNM header)", r->name);
    *kind = magic[1] - '0';
    if (*kind == 1 || *kind == 4 || *kind == 7)
        return pk_fail(err, PK_EINVAL, "'%s': unsupported PNM kind P%d (only P2, P3, P5, P6)",
                       r->name, *kind);
    for (int i = 0; i < 3; i++) {
        v[i] = pnm_token(f);
        if (v[i] == -2)
            return pk_fail(err, PK_EIO, "'%s' is truncated (PNM header)", r->name);
        if (v[i] < 0)
            return pk_fail(err, PK_EINVAL, "'%s' is corrupt (PNM header)", r->name);
    }
    if (v[2] < 1 || v[2] > 65535)
        return pk_fail(err, PK_EINVAL, "'%s' is corrupt (PNM maxval %ld not in 1..65535)", r->name,
                       v[2]);
    return PK_OK;
}

/* A PNM's samples as they are read: as text, or raw through row (bps bytes a sample). */
struct pnm {
    FILE *f;
    const struct req *r;
    bool ascii;
    size_t bps, stride, h;
    long maxval;
    uint8_t *row;
};

/* Row y's samples, scaled to 8 bits, into dst. */
static int pnm_row(const struct pnm *p, size_t y, uint8_t *dst, struct pk_err *err)
{
    if (!p->ascii && fread(p->row, 1, p->stride * p->bps, p->f) != p->stride * p->bps)
        return pk_fail(err, PK_EIO, "'%s' is truncated (PNM data ends at row %zu of %zu)",
                       p->r->name, y, p->h);
    for (size_t i = 0; i < p->stride; i++) {
        long s;
        if (p->ascii) {
            s = pnm_token(p->f);
            if (s == -2)
                return pk_fail(err, PK_EIO, "'%s' is truncated (PNM data ends at row %zu)",
                               p->r->name, y);
        } else {
            s = p->bps == 2 ? (long)(p->row[2 * i] << 8 | p->row[2 * i + 1]) : (long)p->row[i];
        }
        if (s < 0 || s > p->maxval)
            return pk_fail(err, PK_EINVAL,
                           "'%s' is corrupt (PNM sample not a number in 0..maxval %ld)", p->r->name,
                           p->maxval);
        dst[i] = p->maxval == 255 ? (uint8_t)s : (uint8_t)((s * 255 + p->maxval / 2) / p->maxval);
    }
    return PK_OK;
}

static int load_pnm(FILE *f, const struct req *r, struct pk_image_info *info, struct pk_image *out,
                    struct pk_err *err)
{
    int kind = 0;
    long v[3] = {0};
    int status = pnm_header(f, r, &kind, v, err);
    if (status != PK_OK)
        return status;
    int channels = kind == 3 || kind == 6 ? 3 : 1;
    info->format = PK_IMAGE_PNM;
    info->width = (int)v[0];
    info->height = (int)v[1];
    info->channels = channels;
    info->bit_depth = v[2] > 255 ? 16 : 8;
    info->orientation = 1;
    if (r->probe)
        return PK_OK;
    status = check_dims(r, (uint64_t)v[0], (uint64_t)v[1], err);
    if (status != PK_OK)
        return status;
    size_t w = (size_t)v[0], h = (size_t)v[1];
    struct pnm p = {.f = f,
                    .r = r,
                    .ascii = kind == 2 || kind == 3,
                    .bps = v[2] > 255 ? 2 : 1,
                    .stride = w * (size_t)channels,
                    .h = h,
                    .maxval = v[2]};
    uint8_t *pix = malloc(p.stride * h);
    p.row = p.ascii ? NULL : malloc(p.stride * p.bps);
    if (!pix || (!p.ascii && !p.row))
        status = pk_fail(err, PK_ENOMEM, "out of memory decoding '%s' (%zux%zu)", r->name, w, h);
    for (size_t y = 0; y < h && status == PK_OK; y++)
        status = pnm_row(&p, y, pix + y * p.stride, err);
    free(p.row);
    if (status != PK_OK) {
        free(pix);
        return status;
    }
    *out = (struct pk_image){.width = (uint32_t)w,
                             .height = (uint32_t)h,
                             .channels = channels,
                             .stride = p.stride,
                             .pixels = pix};
    return PK_OK;
}

/* ---- dispatch ------------------------------------------------------------------------------ */

static enum pk_image_format detect(const uint8_t *m, size_t n)
{
    static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (n >= 3 && m[0] == 0xff && m[1] == 0xd8 && m[2] == 0xff)
        return PK_IMAGE_JPEG;
    if (n >= 8 && memcmp(m, png_sig, 8) == 0)
        return PK_IMAGE_PNG;
    if (n >= 2 && m[0] == 'P' && m[1] >= '1' && m[1] <= '7')
        return PK_IMAGE_PNM;
    return PK_IMAGE_UNKNOWN;
}

static int decode(FILE *f, const struct req *r, struct pk_image_info *info, struct pk_image *out,
                  struct pk_err *err)
{
    uint8_t m[8] = {0};
    size_t n = fread(m, 1, sizeof m, f);
    if (n == 0)
        return pk_fail(err, PK_EINVAL, "'%s' is empty (zero bytes)", r->name);
    if (fseek(f, 0, SEEK_SET) != 0)
        return pk_fail(err, PK_EIO, "cannot seek in '%s': %s", r->name, strerror(errno));
    enum pk_image_format fmt = detect(m, n);
    int status;
    switch (fmt) {
    case PK_IMAGE_JPEG:
        status = load_jpeg(f, r, info, out, err);
        break;
    case PK_IMAGE_PNG:
        status = load_png(f, r, info, out, err);
        break;
    case PK_IMAGE_PNM:
        status = load_pnm(f, r, info, out, err);
        break;
    default:
        return pk_fail(err, PK_EINVAL,
                       "'%s': unknown format (not JPEG, PNG or PNM; first bytes %02x %02x %02x "
                       "%02x)",
                       r->name, m[0], m[1], m[2], m[3]);
    }
    if (status != PK_OK || r->probe)
        return status;
    if (r->orient && info->orientation > 1) {
        status = apply_orientation(out, info->orientation, err);
        if (status != PK_OK)
            pk_image_free(out);
    }
    return status;
}

static void make_req(struct req *r, const char *name, bool probe, const struct pk_load_opts *o)
{
    memset(r, 0, sizeof *r);
    r->name = name ? name : "(memory)";
    r->probe = probe;
    r->max_pixels = PK_IMAGE_MAX_PIXELS_DEFAULT;
    r->safety = PK_IMAGE_SHRINK_SAFETY_DEFAULT;
    if (!o)
        return;
    if (o->max_pixels)
        r->max_pixels = o->max_pixels;
    if (o->target_w > 0 && o->target_h > 0) {
        r->target_w = o->target_w;
        r->target_h = o->target_h;
    }
    r->fill = o->fill;
    if (o->shrink_safety > 0)
        r->safety = o->shrink_safety < 1 ? 1 : o->shrink_safety;
    r->orient = o->apply_orientation;
    r->lenient = o->lenient;
}

static FILE *open_file(const char *path, struct pk_err *err, int *status)
{
    /* O_NONBLOCK: opening a FIFO would wait for a writer forever; it is refused below */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        *status = pk_fail(err, PK_EIO, "cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        *status = pk_fail(err, PK_EIO, "cannot open '%s': not a regular file", path);
        return NULL;
    }
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        *status = pk_fail(err, PK_ENOMEM, "cannot open '%s': %s", path, strerror(errno));
        close(fd);
    }
    return f;
}

static int run(FILE *f, const void *data, size_t n, const char *name, bool probe,
               const struct pk_load_opts *o, struct pk_image_info *info, struct pk_image *out,
               struct pk_err *err)
{
    struct req r;
    make_req(&r, name, probe, o);
    struct pk_image_info tmp_info;
    struct pk_image tmp_out;
    if (!info)
        info = &tmp_info;
    if (!out)
        out = &tmp_out;
    memset(info, 0, sizeof *info);
    memset(out, 0, sizeof *out);
    bool own = false;
    if (!f) {
        if (n == 0)
            return pk_fail(err, PK_EINVAL, "'%s' is empty (zero bytes)", r.name);
        f = fmemopen((void *)data, n, "rb");
        if (!f)
            return pk_fail(err, PK_ENOMEM, "cannot open '%s' in memory: %s", r.name,
                           strerror(errno));
        own = true;
    }
    int status = decode(f, &r, info, out, err);
    if (own)
        fclose(f);
    if (info->scale_denom == 0)
        info->scale_denom = 1;
    if (status != PK_OK)
        memset(out, 0, sizeof *out);
    return status;
}

int pk_image_probe(const char *path, struct pk_image_info *info, struct pk_err *err)
{
    int status = PK_OK;
    memset(info, 0, sizeof *info);
    FILE *f = open_file(path, err, &status);
    if (!f)
        return status;
    status = run(f, NULL, 0, path, true, NULL, info, NULL, err);
    fclose(f);
    return status;
}

int pk_image_probe_mem(const void *data, size_t n, const char *name, struct pk_image_info *info,
                       struct pk_err *err)
{
    return run(NULL, data, n, name, true, NULL, info, NULL, err);
}

int pk_image_load_info(const char *path, const struct pk_load_opts *opts, struct pk_image *out,
                       struct pk_image_info *info, struct pk_err *err)
{
    int status = PK_OK;
    memset(out, 0, sizeof *out);
    if (info)
        memset(info, 0, sizeof *info);
    FILE *f = open_file(path, err, &status);
    if (!f)
        return status;
    status = run(f, NULL, 0, path, false, opts, info, out, err);
    fclose(f);
    return status;
}

int pk_image_load(const char *path, const struct pk_load_opts *opts, struct pk_image *out,
                  struct pk_err *err)
{
    return pk_image_load_info(path, opts, out, NULL, err);
}

int pk_image_load_mem(const void *data, size_t n, const char *name, const struct pk_load_opts *opts,
                      struct pk_image *out, struct pk_err *err)
{
    return run(NULL, data, n, name, false, opts, NULL, out, err);
}

struct pk_box pk_image_source_box(const struct pk_image_info *info, bool oriented)
{
    double d = info->scale_denom > 0 ? info->scale_denom : 1;
    double w = info->width / d, h = info->height / d;
    double slack_w = ceil(w) - w, slack_h = ceil(h) - h; /* of the last pixel, past the picture */
    int o = oriented ? info->orientation : 1;
    bool swap = o >= 5;
    /* which oriented axes run backwards through the stored ones (see apply_orientation) */
    bool rev_x = o == 2 || o == 3 || o == 6 || o == 7;
    bool rev_y = o == 3 || o == 4 || o == 7 || o == 8;
    double len_x = swap ? h : w, slack_x = swap ? slack_h : slack_w;
    double len_y = swap ? w : h, slack_y = swap ? slack_w : slack_h;
    double x0 = rev_x ? slack_x : 0, y0 = rev_y ? slack_y : 0;
    return (struct pk_box){x0, y0, x0 + len_x, y0 + len_y};
}

/* ---- encoding ------------------------------------------------------------------------------ */

struct jenc {
    struct jpeg_compress_struct ci;
    struct jerr e;
};

static int save_jpeg(FILE *f, const char *path, const struct pk_image *img, int quality,
                     struct pk_err *err)
{
    struct jenc *d = calloc(1, sizeof *d);
    if (!d)
        return pk_fail(err, PK_ENOMEM, "out of memory writing '%s'", path);
    int status = PK_OK;
    d->ci.err = &d->e.pub;
    j_init_err(&d->e);
    if (setjmp(d->e.jb)) {
        status = pk_fail(err, PK_EIO, "cannot write '%s' (JPEG: %s)", path, d->e.msg);
        goto out;
    }
    jpeg_create_compress(&d->ci);
    jpeg_stdio_dest(&d->ci, f);
    d->ci.image_width = (JDIMENSION)img->width;
    d->ci.image_height = (JDIMENSION)img->height;
    d->ci.input_components = img->channels;
    d->ci.in_color_space = img->channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&d->ci);
    jpeg_set_quality(&d->ci, quality, TRUE);
    jpeg_start_compress(&d->ci, TRUE);
    while (d->ci.next_scanline < d->ci.image_height) {
        JSAMPROW row = img->pixels + (size_t)d->ci.next_scanline * img->stride;
        jpeg_write_scanlines(&d->ci, &row, 1);
    }
    jpeg_finish_compress(&d->ci);
out:
    jpeg_destroy_compress(&d->ci);
    free(d);
    return status;
}

struct penc {
    png_structp png;
    png_infop info;
    char msg[160];
};

static int save_png(FILE *f, const char *path, const struct pk_image *img, struct pk_err *err)
{
    static const int types[] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
                                PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA};
    struct penc *d = calloc(1, sizeof *d);
    if (!d)
        return pk_fail(err, PK_ENOMEM, "out of memory writing '%s'", path);
    int status = PK_OK;
    d->png = png_create_write_struct(PNG_LIBPNG_VER_STRING, d, p_error, p_warning);
    if (d->png)
        d->info = png_create_info_struct(d->png);
    if (!d->png || !d->info) {
        status = pk_fail(err, PK_ENOMEM, "out of memory writing '%s'", path);
        goto out;
    }
    if (setjmp(png_jmpbuf(d->png))) {
        status = pk_fail(err, PK_EIO, "cannot write '%s' (PNG: %s)", path, d->msg);
        goto out;
    }
    png_init_io(d->png, f);
    png_set_compression_level(d->png, 6);
    png_set_IHDR(d->png, d->info, (png_uint_32)img->width, (png_uint_32)img->height, 8,
                 types[img->channels], PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_write_info(d->png, d->info);
    for (uint32_t y = 0; y < img->height; y++)
        png_write_row(d->png, img->pixels + (size_t)y * img->stride);
    png_write_end(d->png, NULL);
out:
    png_destroy_write_struct(d->png ? &d->png : NULL, d->info ? &d->info : NULL);
    free(d);
    return status;
}

int pk_image_save(const char *path, const struct pk_image *img, enum pk_image_format format,
                  int quality, bool force, struct pk_err *err)
{
    if (!path || !*path)
        return pk_fail(err, PK_EINVAL, "empty output path");
    if (!img || !img->pixels || img->width <= 0 || img->height <= 0 || img->channels < 1 ||
        img->channels > 4 || img->stride < (size_t)img->width * (size_t)img->channels)
        return pk_fail(err, PK_EINVAL, "'%s': invalid image to save", path);
    if (format == PK_IMAGE_JPEG) {
        if (quality < 1 || quality > 100)
            return pk_fail(err, PK_EINVAL, "'%s': JPEG quality %d not in 1..100", path, quality);
        if (img->channels != 1 && img->channels != 3)
            return pk_fail(err, PK_EINVAL,
                           "'%s': JPEG cannot store alpha (%d channels; flatten first)", path,
                           img->channels);
        if (img->width > 65500 || img->height > 65500)
            return pk_fail(err, PK_EINVAL, "'%s': %dx%d is too large for JPEG (65500 at most)",
                           path, img->width, img->height);
    } else if (format != PK_IMAGE_PNG) {
        return pk_fail(err, PK_EINVAL, "'%s': cannot write format %s (jpeg or png only)", path,
                       pk_image_format_name(format));
    }
    if (!force && access(path, F_OK) == 0)
        return pk_fail(err, PK_EIO, "'%s' exists (not replaced without force)", path);

    /* io/atomicfile: an unnamed temporary in path's directory where the file system has
     * O_TMPFILE, else an exclusive hidden one; linked or renamed in only when complete. Not
     * synced: a thumbnail is cheap to make again after a power loss. */
    struct pk_atomicfile_opts opts = {.mode = 0644, .no_replace = !force, .no_sync = true};
    struct pk_atomicfile a;
    int status = pk_atomicfile_open_with(&a, path, &opts, err);
    if (status != PK_OK)
        return status;
    status = format == PK_IMAGE_JPEG ? save_jpeg(a.f, path, img, quality, err)
                                     : save_png(a.f, path, img, err);
    if (status != PK_OK) {
        pk_atomicfile_abort(&a);
        return status;
    }
    return pk_atomicfile_commit(&a, err);
}
