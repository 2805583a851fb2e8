/* SPDX-License-Identifier: MIT */
/* Tests of image decoding and encoding (parkit/image.h).
 *
 * Every input is generated here: by pk_image_save itself (round trips), by libpng and libjpeg
 * directly (16-bit, palette with tRNS, interlaced, eXIf; CMYK, YCCK, progressive: what
 * pk_image_save never writes), or by hand (PNM, EXIF APP1 segments, headers that lie about
 * their size). Each case works in its own directory img_<case>.XXXXXX under the current
 * directory and removes it when it passes. */
#ifndef _POSIX_C_SOURCE
#    define _POSIX_C_SOURCE 200809L
#endif

#include "check.h"
#include "parkit/image.h"
#include "parkit/status.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <png.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

/* jpeglib.h needs FILE from stdio.h first: keep this order */
/* clang-format off */
#include <jpeglib.h>
/* clang-format on */

/* ---- helpers ------------------------------------------------------------------------------ */

static char dir[256];

static int mkdir_case(const char *name)
{
    snprintf(dir, sizeof dir, "img_%s.XXXXXX", name);
    return mkdtemp(dir) ? 0 : -1;
}

static const char *in_dir(const char *file)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    return path;
}

static size_t count_files(void)
{
    size_t n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return (size_t)-1;
    for (struct dirent *e = readdir(d); e; e = readdir(d))
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static void rm_case(void)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    for (struct dirent *e = readdir(d); e; e = readdir(d)) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char p[600];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static int write_bytes(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t w = fwrite(p, 1, n, f);
    return (fclose(f) == 0 && w == n) ? 0 : -1;
}

static uint8_t *read_bytes(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc(len > 0 ? (size_t)len : 1);
    if (p && fread(p, 1, (size_t)len, f) != (size_t)len) {
        free(p);
        p = NULL;
    }
    fclose(f);
    *n = (size_t)len;
    return p;
}

/* A w x h image with c channels of deterministic content: smooth gradients when smooth, else
 * noise from seed. */
static int make_img(struct pk_image *img, int w, int h, int c, bool smooth, uint64_t seed)
{
    img->width = w;
    img->height = h;
    img->channels = c;
    img->stride = (size_t)w * (size_t)c + 3; /* padded rows: the stride must be honoured */
    img->pixels = calloc(img->stride, (size_t)h);
    if (!img->pixels)
        return -1;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < c; k++) {
                uint8_t v;
                if (smooth)
                    v = (uint8_t)((x * 255 / (w > 1 ? w - 1 : 1) * (k + 1) +
                                   y * 255 / (h > 1 ? h - 1 : 1) * (3 - k % 3)) /
                                  4);
                else
                    v = (uint8_t)check_next_u64(&seed);
                img->pixels[(size_t)y * img->stride + (size_t)x * c + k] = v;
            }
    return 0;
}

static const uint8_t *px(const struct pk_image *img, int x, int y)
{
    return img->pixels + (size_t)y * img->stride + (size_t)x * img->channels;
}

static int same_pixels(const struct pk_image *a, const struct pk_image *b)
{
    if (a->width != b->width || a->height != b->height || a->channels != b->channels)
        return 0;
    for (uint32_t y = 0; y < a->height; y++)
        if (memcmp(px(a, 0, y), px(b, 0, y), (size_t)a->width * a->channels) != 0)
            return 0;
    return 1;
}

/* Mean and maximum absolute difference of two images of the same shape. */
static void diff(const struct pk_image *a, const struct pk_image *b, double *mean, int *maxd)
{
    double sum = 0;
    int mx = 0;
    for (uint32_t y = 0; y < a->height; y++)
        for (size_t i = 0; i < (size_t)a->width * (size_t)a->channels; i++) {
            int d = abs((int)px(a, 0, y)[i] - (int)px(b, 0, y)[i]);
            sum += d;
            mx = d > mx ? d : mx;
        }
    *mean = sum / ((double)a->width * a->height * a->channels);
    *maxd = mx;
}

/* Writes a PNG with libpng directly: any depth/colour type, optional tRNS, palette, interlace
 * and eXIf. rows: packed big-endian samples as libpng expects. */
struct png_spec {
    int w, h, depth, ctype, interlace;
    const png_color *palette;
    int npalette;
    const png_byte *trns;
    int ntrns;
    const png_color_16 *trns_color;
    const uint8_t *exif;
    int nexif;
};

static int write_png_raw(const char *path, const struct png_spec *s, uint8_t *const *rows)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        fclose(f);
        return -1;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)s->w, (png_uint_32)s->h, s->depth, s->ctype, s->interlace,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (s->palette)
        png_set_PLTE(png, info, s->palette, s->npalette);
    if (s->trns || s->trns_color)
        png_set_tRNS(png, info, s->trns, s->ntrns, s->trns_color);
    if (s->exif)
        png_set_eXIf_1(png, info, (png_uint_32)s->nexif, (png_bytep)s->exif);
    png_write_info(png, info);
    png_write_image(png, (png_bytepp)rows);
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    return fclose(f);
}

/* Writes a JPEG with libjpeg directly: CMYK or YCCK (Adobe marker) input of 4 components, or
 * RGB; optionally progressive. Returns 0 on success (libjpeg's default error handler exits on
 * failure, which is acceptable in a test writer). */
static int write_jpeg_raw(const char *path, int w, int h, int comps, J_COLOR_SPACE file_space,
                          bool progressive, const uint8_t *pix)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    struct jpeg_compress_struct ci;
    struct jpeg_error_mgr jerr;
    ci.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&ci);
    jpeg_stdio_dest(&ci, f);
    ci.image_width = (JDIMENSION)w;
    ci.image_height = (JDIMENSION)h;
    ci.input_components = comps;
    ci.in_color_space = comps == 4 ? JCS_CMYK : JCS_RGB;
    jpeg_set_defaults(&ci);
    jpeg_set_colorspace(&ci, file_space);
    jpeg_set_quality(&ci, 95, TRUE);
    if (progressive)
        jpeg_simple_progression(&ci);
    jpeg_start_compress(&ci, TRUE);
    while (ci.next_scanline < ci.image_height) {
        JSAMPROW row = (JSAMPROW)(pix + (size_t)ci.next_scanline * (size_t)w * (size_t)comps);
        jpeg_write_scanlines(&ci, &row, 1);
    }
    jpeg_finish_compress(&ci);
    jpeg_destroy_compress(&ci);
    return fclose(f);
}

/* A minimal big-endian TIFF block with one IFD0 entry: orientation. */
static size_t tiff_orientation(uint8_t *p, int orientation)
{
    static const uint8_t t[] = {'M',  'M',  0, 42, 0, 0, 0, 8,             /* IFD0 at 8 */
                                0,    1,                                   /* 1 entry */
                                0x01, 0x12, 0, 3,  0, 0, 0, 1, 0, 0, 0, 0, /* SHORT, count 1 */
                                0,    0,    0, 0};                         /* next IFD: none */
    memcpy(p, t, sizeof t);
    p[18] = 0;
    p[19] = (uint8_t)orientation;
    return sizeof t;
}

/* Expected source of display pixel (x, y) for an orientation, image w x h as stored. */
static void oriented_src(int o, int w, int h, int x, int y, int *sx, int *sy)
{
    switch (o) {
    case 1:
        *sx = x, *sy = y;
        break;
    case 2:
        *sx = w - 1 - x, *sy = y;
        break;
    case 3:
        *sx = w - 1 - x, *sy = h - 1 - y;
        break;
    case 4:
        *sx = x, *sy = h - 1 - y;
        break;
    case 5:
        *sx = y, *sy = x;
        break;
    case 6:
        *sx = y, *sy = h - 1 - x;
        break;
    case 7:
        *sx = w - 1 - y, *sy = h - 1 - x;
        break;
    default:
        *sx = w - 1 - y, *sy = x;
        break;
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- cases -------------------------------------------------------------------------------- */

/* PNG is lossless: every channel count and odd sizes come back bit for bit. */
static int case_png_roundtrip(void)
{
    CHECK_OK(mkdir_case("png_roundtrip"));
    for (int c = 1; c <= 4; c++) {
        struct pk_image a, b;
        CHECK_OK(make_img(&a, 37, 23, c, false, (uint64_t)c));
        struct pk_err err = {0};
        CHECK_OK(pk_image_save(in_dir("a.png"), &a, PK_IMAGE_PNG, 0, true, &err));
        struct pk_image_info info;
        CHECK_OK(pk_image_probe(in_dir("a.png"), &info, &err));
        CHECK_EQ_INT(info.format, PK_IMAGE_PNG);
        CHECK_EQ_INT(info.width, 37);
        CHECK_EQ_INT(info.height, 23);
        CHECK_EQ_INT(info.channels, c);
        CHECK_EQ_INT(info.orientation, 1);
        CHECK_OK(pk_image_load(in_dir("a.png"), NULL, &b, &err));
        CHECK(b.stride == (size_t)b.width * (size_t)b.channels);
        CHECK(same_pixels(&a, &b));
        pk_image_free(&a);
        pk_image_free(&b);
        CHECK(b.pixels == NULL);
    }
    CHECK_EQ_INT(count_files(), 1);
    rm_case();
    return 0;
}

/* What libpng can hold beyond our writer: 16-bit (reduced to 8 by rounding), 1/2/4-bit grey,
 * palette with tRNS (-> RGBA), grey with tRNS (-> grey + alpha), Adam7 interlace. */
static int case_png_kinds(void)
{
    CHECK_OK(mkdir_case("png_kinds"));
    enum { W = 19, H = 11 };
    uint8_t buf[H][W * 8];
    uint8_t *rows[H];
    for (int y = 0; y < H; y++)
        rows[y] = buf[y];
    struct pk_err err = {0};
    struct pk_image img;
    uint64_t seed = 7;

    /* 16-bit RGBA and grey, values v * 257 (exactly representable in 8 bits) and one 16-bit
     * value that rounds: 0x8080 -> 128, 0x7f80 -> 127 (0x7f80 * 255 / 65535 = 126.998) */
    for (int interlace = 0; interlace <= 1; interlace++) {
        for (int y = 0; y < H; y++)
            for (int i = 0; i < W * 4; i++) {
                uint8_t v = (uint8_t)check_next_u64(&seed);
                buf[y][2 * i] = v;
                buf[y][2 * i + 1] = v;
            }
        buf[0][0] = 0x7f, buf[0][1] = 0x80;
        struct png_spec s = {
            .w = W, .h = H, .depth = 16, .ctype = PNG_COLOR_TYPE_RGB_ALPHA, .interlace = interlace};
        CHECK_OK(write_png_raw(in_dir("rgba16.png"), &s, rows));
        CHECK_OK(pk_image_load(in_dir("rgba16.png"), NULL, &img, &err));
        CHECK_EQ_INT(img.channels, 4);
        CHECK_EQ_INT(img.width, W);
        CHECK_EQ_INT(px(&img, 0, 0)[0], 127);
        for (int y = 0; y < H; y++)
            for (int i = 0; i < W * 4; i++)
                if (y || i)
                    CHECK_EQ_INT(px(&img, 0, y)[i], buf[y][2 * i]);
        pk_image_free(&img);

        struct png_spec g = {
            .w = W, .h = H, .depth = 16, .ctype = PNG_COLOR_TYPE_GRAY, .interlace = interlace};
        CHECK_OK(write_png_raw(in_dir("grey16.png"), &g, rows));
        CHECK_OK(pk_image_load(in_dir("grey16.png"), NULL, &img, &err));
        CHECK_EQ_INT(img.channels, 1);
        for (int y = 0; y < H; y++)
            for (int x = 1; x < W; x++)
                CHECK_EQ_INT(px(&img, x, y)[0], buf[y][2 * x]);
        pk_image_free(&img);
    }

    /* 2-bit grey: 0..3 -> 0, 85, 170, 255; with tRNS grey 2 -> alpha */
    memset(buf, 0, sizeof buf);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            buf[y][x / 4] |= (uint8_t)(((x + y) % 4) << (6 - 2 * (x % 4)));
    png_color_16 tc = {0};
    tc.gray = 2;
    struct png_spec g2 = {
        .w = W, .h = H, .depth = 2, .ctype = PNG_COLOR_TYPE_GRAY, .trns_color = &tc};
    CHECK_OK(write_png_raw(in_dir("grey2.png"), &g2, rows));
    struct pk_image_info info;
    CHECK_OK(pk_image_probe(in_dir("grey2.png"), &info, &err));
    CHECK_EQ_INT(info.channels, 2);
    CHECK_EQ_INT(info.bit_depth, 2);
    CHECK_OK(pk_image_load(in_dir("grey2.png"), NULL, &img, &err));
    CHECK_EQ_INT(img.channels, 2);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int v = (x + y) % 4;
            CHECK_EQ_INT(px(&img, x, y)[0], v * 85);
            CHECK_EQ_INT(px(&img, x, y)[1], v == 2 ? 0 : 255);
        }
    pk_image_free(&img);

    /* 8-bit palette of 5 colours, the first two partly transparent */
    png_color pal[5] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {9, 99, 199}, {250, 251, 252}};
    png_byte trns[2] = {0, 128};
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            buf[y][x] = (uint8_t)((x * 3 + y) % 5);
    struct png_spec p = {W, H, 8, PNG_COLOR_TYPE_PALETTE, 1, pal, 5, trns, 2, NULL, NULL, 0};
    CHECK_OK(write_png_raw(in_dir("pal.png"), &p, rows));
    CHECK_OK(pk_image_load(in_dir("pal.png"), NULL, &img, &err));
    CHECK_EQ_INT(img.channels, 4);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int k = (x * 3 + y) % 5;
            CHECK_EQ_INT(px(&img, x, y)[0], pal[k].red);
            CHECK_EQ_INT(px(&img, x, y)[1], pal[k].green);
            CHECK_EQ_INT(px(&img, x, y)[2], pal[k].blue);
            CHECK_EQ_INT(px(&img, x, y)[3], k < 2 ? trns[k] : 255);
        }
    pk_image_free(&img);
    rm_case();
    return 0;
}

/* JPEG is lossy: smooth content comes back within a small mean error; alpha is refused. */
static int case_jpeg_roundtrip(void)
{
    CHECK_OK(mkdir_case("jpeg_roundtrip"));
    struct pk_err err = {0};
    for (int c = 1; c <= 3; c += 2) {
        struct pk_image a, b;
        CHECK_OK(make_img(&a, 64, 48, c, true, 0));
        CHECK_OK(pk_image_save(in_dir("a.jpg"), &a, PK_IMAGE_JPEG, 95, true, &err));
        CHECK_OK(pk_image_load(in_dir("a.jpg"), NULL, &b, &err));
        CHECK_EQ_INT(b.channels, c);
        double mean;
        int maxd;
        diff(&a, &b, &mean, &maxd);
        fprintf(stderr, "jpeg q95 %d channel(s): mean abs error %.3f, max %d\n", c, mean, maxd);
        CHECK(mean < 1.5);
        CHECK(maxd <= 16);
        pk_image_free(&a);
        pk_image_free(&b);
    }
    struct pk_image a;
    CHECK_OK(make_img(&a, 8, 8, 4, true, 0));
    CHECK_EQ_INT(pk_image_save(in_dir("rgba.jpg"), &a, PK_IMAGE_JPEG, 90, true, &err), PK_EINVAL);
    CHECK(strstr(err.msg, "alpha") != NULL);
    a.channels = 3;
    CHECK_EQ_INT(pk_image_save(in_dir("q0.jpg"), &a, PK_IMAGE_JPEG, 0, true, &err), PK_EINVAL);
    CHECK(strstr(err.msg, "quality 0") != NULL);
    CHECK_EQ_INT(pk_image_save(in_dir("q.jpg"), &a, PK_IMAGE_JPEG, 101, true, &err), PK_EINVAL);
    CHECK_EQ_INT(pk_image_save(in_dir("x.pnm"), &a, PK_IMAGE_PNM, 90, true, &err), PK_EINVAL);
    pk_image_free(&a);
    CHECK_EQ_INT(count_files(), 1);
    rm_case();
    return 0;
}

/* PNM: P5/P6 at maxval 255 and 65535, P2/P3 ascii with comments, maxval 15 scaled. */
static int case_pnm(void)
{
    CHECK_OK(mkdir_case("pnm"));
    struct pk_err err = {0};
    struct pk_image img;
    const char p6[] = "P6\n# comment\n2 1\n255\n\x01\x02\x03\xfd\xfe\xff";
    CHECK_OK(write_bytes(in_dir("a.ppm"), p6, sizeof p6 - 1));
    CHECK_OK(pk_image_load(in_dir("a.ppm"), NULL, &img, &err));
    CHECK_EQ_INT(img.channels, 3);
    CHECK_EQ_INT(img.width, 2);
    CHECK_EQ_INT(px(&img, 1, 0)[2], 0xff);
    CHECK_EQ_INT(px(&img, 0, 0)[1], 2);
    pk_image_free(&img);
    const char p5[] = "P5 2 2 65535\n\x00\x00\xff\xff\x80\x80\x7f\x80";
    CHECK_OK(write_bytes(in_dir("a.pgm"), p5, sizeof p5 - 1));
    CHECK_OK(pk_image_load(in_dir("a.pgm"), NULL, &img, &err));
    CHECK_EQ_INT(img.channels, 1);
    CHECK_EQ_INT(px(&img, 0, 0)[0], 0);
    CHECK_EQ_INT(px(&img, 1, 0)[0], 255);
    CHECK_EQ_INT(px(&img, 0, 1)[0], 128);
    CHECK_EQ_INT(px(&img, 1, 1)[0], 127);
    pk_image_free(&img);
    const char p2[] = "P2\n3 1 # w h\n15\n0 15\n7\n";
    CHECK_OK(write_bytes(in_dir("b.pgm"), p2, sizeof p2 - 1));
    CHECK_OK(pk_image_load(in_dir("b.pgm"), NULL, &img, &err));
    CHECK_EQ_INT(px(&img, 0, 0)[0], 0);
    CHECK_EQ_INT(px(&img, 1, 0)[0], 255);
    CHECK_EQ_INT(px(&img, 2, 0)[0], 119);
    pk_image_free(&img);
    const char p3[] = "P3 1 1 255 10 20 30";
    CHECK_OK(write_bytes(in_dir("b.ppm"), p3, sizeof p3 - 1));
    CHECK_OK(pk_image_load(in_dir("b.ppm"), NULL, &img, &err));
    CHECK_EQ_INT(px(&img, 0, 0)[2], 30);
    pk_image_free(&img);
    const char p3bad[] = "P3 1 1 255 10 20 300";
    CHECK_OK(write_bytes(in_dir("c.ppm"), p3bad, sizeof p3bad - 1));
    CHECK_EQ_INT(pk_image_load(in_dir("c.ppm"), NULL, &img, &err), PK_EINVAL);
    CHECK(strstr(err.msg, "maxval") != NULL);
    const char p4[] = "P4 8 1\n\xff";
    CHECK_OK(write_bytes(in_dir("d.pbm"), p4, sizeof p4 - 1));
    CHECK_EQ_INT(pk_image_load(in_dir("d.pbm"), NULL, &img, &err), PK_EINVAL);
    CHECK(strstr(err.msg, "unsupported PNM kind P4") != NULL);
    rm_case();
    return 0;
}

/* CMYK and YCCK JPEGs (Adobe, inverted as Photoshop writes them) come back as RGB with
 * R = C * K / 255 etc.; a progressive JPEG decodes, and any cut of it fails, even one between
 * two scans (which libjpeg alone would decode, blurred, without a word). */
static int case_jpeg_cmyk_progressive(void)
{
    CHECK_OK(mkdir_case("jpeg_cmyk"));
    enum { W = 32, H = 16 };
    static uint8_t cmyk[H][W][4];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int b = x / 16;
            cmyk[y][x][0] = (uint8_t)(b ? 200 : 40);
            cmyk[y][x][1] = (uint8_t)(b ? 100 : 220);
            cmyk[y][x][2] = (uint8_t)(b ? 30 : 128);
            cmyk[y][x][3] = (uint8_t)(b ? 250 : 180);
        }
    struct pk_err err = {0};
    struct pk_image b;
    J_COLOR_SPACE spaces[2] = {JCS_CMYK, JCS_YCCK};
    for (int s = 0; s < 2; s++) {
        CHECK_OK(write_jpeg_raw(in_dir("c.jpg"), W, H, 4, spaces[s], false, &cmyk[0][0][0]));
        struct pk_image_info info;
        CHECK_OK(pk_image_probe(in_dir("c.jpg"), &info, &err));
        CHECK_EQ_INT(info.channels, 3);
        CHECK_OK(pk_image_load(in_dir("c.jpg"), NULL, &b, &err));
        CHECK_EQ_INT(b.channels, 3);
        for (int y = 2; y < H - 2; y++)
            for (int x = 2; x < W - 2; x++) {
                if (x % 16 < 2 || x % 16 > 13)
                    continue;
                for (int k = 0; k < 3; k++) {
                    int want = (cmyk[y][x][k] * cmyk[y][x][3] + 127) / 255;
                    CHECK(abs((int)px(&b, x, y)[k] - want) <= 6);
                }
            }
        pk_image_free(&b);
    }

    struct pk_image a;
    CHECK_OK(make_img(&a, 48, 40, 3, false, 21));
    uint8_t *packed = malloc(48 * 40 * 3);
    CHECK(packed != NULL);
    for (int y = 0; y < 40; y++)
        memcpy(packed + y * 48 * 3, px(&a, 0, y), 48 * 3);
    CHECK_OK(write_jpeg_raw(in_dir("p.jpg"), 48, 40, 3, JCS_YCbCr, true, packed));
    free(packed);
    CHECK_OK(pk_image_save(in_dir("base.jpg"), &a, PK_IMAGE_JPEG, 95, true, &err));
    struct pk_image base;
    CHECK_OK(pk_image_load(in_dir("base.jpg"), NULL, &base, &err));
    CHECK_OK(pk_image_load(in_dir("p.jpg"), NULL, &b, &err));
    double mean;
    int maxd;
    diff(&b, &base, &mean, &maxd);
    CHECK(mean < 2.0); /* both are q95 encodings of the same noise */
    pk_image_free(&b);
    pk_image_free(&base);
    pk_image_free(&a);
    size_t n;
    uint8_t *p = read_bytes(in_dir("p.jpg"), &n);
    CHECK(p != NULL);
    int scans = 0;
    for (size_t cut = 1; cut < n; cut++) {
        bool at_scan = p[cut] == 0xff && cut + 1 < n && p[cut + 1] == 0xda;
        if (cut % 5 != 0 && !at_scan)
            continue;
        scans += at_scan;
        int rc = pk_image_load_mem(p, cut, "p.jpg", NULL, &b, &err);
        if (rc == PK_OK)
            fprintf(stderr, "progressive cut at %zu of %zu decoded\n", cut, n);
        CHECK(rc != PK_OK);
    }
    fprintf(stderr, "progressive: %d scan boundaries cut\n", scans);
    CHECK(scans >= 5);
    free(p);
    rm_case();
    return 0;
}

/* Writes the JPEG jpg (n bytes) to path with an APP1 Exif segment holding orientation o
 * spliced in after SOI. */
static int write_oriented_jpeg(const char *path, const uint8_t *jpg, size_t n, int o)
{
    uint8_t *f = malloc(n + 64);
    if (!f)
        return -1;
    uint8_t tiff[32];
    size_t tn = tiff_orientation(tiff, o);
    size_t seg = 2 + 6 + tn; /* length field counts itself */
    memcpy(f, jpg, 2);       /* SOI */
    f[2] = 0xff, f[3] = 0xe1, f[4] = (uint8_t)(seg >> 8), f[5] = (uint8_t)seg;
    memcpy(f + 6, "Exif\0\0", 6);
    memcpy(f + 12, tiff, tn);
    memcpy(f + 12 + tn, jpg + 2, n - 2);
    int rc = write_bytes(path, f, n + 10 + tn);
    free(f);
    return rc;
}

/* EXIF orientation 1..8 in a JPEG APP1 segment, spliced in by hand after SOI. The image has
 * 8x8 blocks of distinct flat colours, so JPEG loss does not blur which block is where. */
static int case_exif_jpeg(void)
{
    CHECK_OK(mkdir_case("exif_jpeg"));
    enum { BW = 4, BH = 2, W = BW * 8, H = BH * 8 };
    struct pk_image a;
    CHECK_OK(make_img(&a, W, H, 3, true, 0));
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            uint8_t *p = a.pixels + (size_t)y * a.stride + (size_t)x * 3;
            int b = (y / 8) * BW + x / 8;
            p[0] = (uint8_t)(b * 30);
            p[1] = (uint8_t)(255 - b * 30);
            p[2] = (uint8_t)((b % 2) * 200);
        }
    struct pk_err err = {0};
    CHECK_OK(pk_image_save(in_dir("plain.jpg"), &a, PK_IMAGE_JPEG, 95, true, &err));
    size_t n;
    uint8_t *jpg = read_bytes(in_dir("plain.jpg"), &n);
    CHECK(jpg != NULL);
    for (int o = 1; o <= 8; o++) {
        CHECK_OK(write_oriented_jpeg(in_dir("o.jpg"), jpg, n, o));
        struct pk_image_info info;
        CHECK_OK(pk_image_probe(in_dir("o.jpg"), &info, &err));
        CHECK_EQ_INT(info.orientation, o);
        CHECK_EQ_INT(info.width, W);
        struct pk_load_opts opts = {.apply_orientation = true};
        struct pk_image b;
        CHECK_OK(pk_image_load(in_dir("o.jpg"), &opts, &b, &err));
        CHECK_EQ_INT(b.width, o >= 5 ? H : W);
        CHECK_EQ_INT(b.height, o >= 5 ? W : H);
        for (uint32_t y = 0; y < b.height; y++)
            for (uint32_t x = 0; x < b.width; x++) {
                int sx, sy;
                oriented_src(o, W, H, x, y, &sx, &sy);
                if (sx % 8 == 0 || sx % 8 == 7 || sy % 8 == 0 || sy % 8 == 7)
                    continue; /* block edges ring a little */
                for (int k = 0; k < 3; k++)
                    CHECK(abs((int)px(&b, x, y)[k] - (int)px(&a, sx, sy)[k]) <= 12);
            }
        pk_image_free(&b);
        /* without apply_orientation the stored layout comes back */
        CHECK_OK(pk_image_load(in_dir("o.jpg"), NULL, &b, &err));
        CHECK_EQ_INT(b.width, W);
        pk_image_free(&b);
    }
    free(jpg);
    pk_image_free(&a);
    rm_case();
    return 0;
}

/* EXIF orientation in a PNG eXIf chunk (before and after IDAT): exact pixels. */
static int case_exif_png(void)
{
    CHECK_OK(mkdir_case("exif_png"));
    enum { W = 5, H = 3 };
    uint8_t buf[H][W * 2];
    uint8_t *rows[H];
    for (int y = 0; y < H; y++) {
        rows[y] = buf[y];
        for (int x = 0; x < W; x++)
            buf[y][2 * x] = (uint8_t)(y * W + x), buf[y][2 * x + 1] = (uint8_t)(200 + x);
    }
    struct pk_err err = {0};
    for (int o = 1; o <= 8; o++) {
        uint8_t tiff[32];
        size_t tn = tiff_orientation(tiff, o);
        struct png_spec s = {.w = W,
                             .h = H,
                             .depth = 8,
                             .ctype = PNG_COLOR_TYPE_GRAY_ALPHA,
                             .exif = tiff,
                             .nexif = (int)tn};
        CHECK_OK(write_png_raw(in_dir("o.png"), &s, rows));
        struct pk_image_info info;
        CHECK_OK(pk_image_probe(in_dir("o.png"), &info, &err));
        CHECK_EQ_INT(info.orientation, o);
        struct pk_load_opts opts = {.apply_orientation = true};
        struct pk_image b;
        CHECK_OK(pk_image_load(in_dir("o.png"), &opts, &b, &err));
        CHECK_EQ_INT(b.width, o >= 5 ? H : W);
        for (uint32_t y = 0; y < b.height; y++)
            for (uint32_t x = 0; x < b.width; x++) {
                int sx, sy;
                oriented_src(o, W, H, x, y, &sx, &sy);
                CHECK_EQ_INT(px(&b, x, y)[0], buf[sy][2 * sx]);
                CHECK_EQ_INT(px(&b, x, y)[1], buf[sy][2 * sx + 1]);
            }
        pk_image_free(&b);
    }
    rm_case();
    return 0;
}

/* A 1600x1200 JPEG for a 100x100 box decodes at 1/8 (200x150: shrink 16 leaves 2 for the
 * resampler) and matches the full decode averaged over 8x8 blocks; 1/4 and 1/2 likewise. */
static int case_dct_scale(void)
{
    CHECK_OK(mkdir_case("dct_scale"));
    struct pk_image a, full, small;
    CHECK_OK(make_img(&a, 1600, 1200, 3, true, 0));
    struct pk_err err = {0};
    CHECK_OK(pk_image_save(in_dir("big.jpg"), &a, PK_IMAGE_JPEG, 90, true, &err));
    pk_image_free(&a);
    CHECK_OK(pk_image_load(in_dir("big.jpg"), NULL, &full, &err));
    CHECK_EQ_INT(full.width, 1600);
    static const struct {
        int tw, th, d;
        bool fill;
    } t[] = {{100, 100, 8, false}, {200, 200, 4, false}, {400, 400, 2, false},
             {800, 800, 1, false}, {100, 50, 8, false},  {100, 100, 4, true}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct pk_load_opts o = {.target_w = t[i].tw, .target_h = t[i].th, .fill = t[i].fill};
        CHECK_OK(pk_image_load(in_dir("big.jpg"), &o, &small, &err));
        int d = t[i].d;
        CHECK_EQ_INT(small.width, 1600 / d);
        CHECK_EQ_INT(small.height, 1200 / d);
        double sum = 0;
        int mx = 0;
        for (uint32_t y = 0; y < small.height; y++)
            for (uint32_t x = 0; x < small.width; x++)
                for (int k = 0; k < 3; k++) {
                    int s = 0;
                    for (int yy = 0; yy < d; yy++)
                        for (int xx = 0; xx < d; xx++)
                            s += px(&full, x * d + xx, y * d + yy)[k];
                    int e = abs(px(&small, x, y)[k] - (s + d * d / 2) / (d * d));
                    sum += e;
                    mx = e > mx ? e : mx;
                }
        double mean = sum / (small.width * small.height * 3.0);
        fprintf(stderr,
                "box %dx%d%s: 1/%d -> %dx%d, vs box-averaged full decode: mean %.3f max %d\n",
                t[i].tw, t[i].th, t[i].fill ? " fill" : "", d, small.width, small.height, mean, mx);
        CHECK(mean < 1.0);
        CHECK(mx <= 8);
        pk_image_free(&small);
    }
    /* the safety factor: 1 allows 1/8 for a 200x200 box (shrink 8) */
    struct pk_load_opts o = {.target_w = 200, .target_h = 200, .shrink_safety = 1};
    CHECK_OK(pk_image_load(in_dir("big.jpg"), &o, &small, &err));
    CHECK_EQ_INT(small.width, 200);
    pk_image_free(&small);
    pk_image_free(&full);
    rm_case();
    return 0;
}

/* A JPEG whose size is no multiple of the DCT reduction: the last decoded column and row cover
 * part of a block, and pk_image_source_box must say where that partial edge went for every
 * orientation (derived here from oriented_src, the test's own table). Resampling that box from
 * the 1/8 decode must then track a resample of the full decode more closely than mapping the
 * output onto the whole decoded image does. */
static int case_source_box(void)
{
    CHECK_OK(mkdir_case("source_box"));
    enum { W = 1001, H = 603, D = 8, OW = 62, OH = 38 };
    struct pk_image a;
    CHECK_OK(make_img(&a, W, H, 3, true, 0));
    struct pk_err err = {0};
    CHECK_OK(pk_image_save(in_dir("plain.jpg"), &a, PK_IMAGE_JPEG, 95, true, &err));
    pk_image_free(&a);
    size_t n;
    uint8_t *jpg = read_bytes(in_dir("plain.jpg"), &n);
    CHECK(jpg != NULL);
    for (int o = 1; o <= 8; o++) {
        CHECK_OK(write_oriented_jpeg(in_dir("o.jpg"), jpg, n, o));
        bool swap = o >= 5;
        int ow = swap ? OH : OW, oh = swap ? OW : OH;
        struct pk_load_opts lo = {.target_w = ow, .target_h = oh, .apply_orientation = true};
        struct pk_load_opts full_lo = {.apply_orientation = true};
        struct pk_image_info info, full_info;
        struct pk_image small, full;
        CHECK_OK(pk_image_load_info(in_dir("o.jpg"), &lo, &small, &info, &err));
        CHECK_OK(pk_image_load_info(in_dir("o.jpg"), &full_lo, &full, &full_info, &err));
        CHECK_EQ_INT(info.scale_denom, D);
        CHECK_EQ_INT(full_info.scale_denom, 1);
        CHECK_EQ_INT(info.width, W);
        CHECK_EQ_INT(small.width, swap ? (H + D - 1) / D : (W + D - 1) / D);
        /* display x runs backwards through the stored image when its source index falls as x
         * grows; the partial pixel (a fraction f of it inside the picture) is then first */
        int sx0, sy0, sx1, sy1, sx2, sy2;
        oriented_src(o, W, H, 0, 0, &sx0, &sy0);
        oriented_src(o, W, H, 1, 0, &sx1, &sy1);
        oriented_src(o, W, H, 0, 1, &sx2, &sy2);
        bool rev_x = sx1 - sx0 + sy1 - sy0 < 0, rev_y = sx2 - sx0 + sy2 - sy0 < 0;
        double len_x = (swap ? H : W) / (double)D, len_y = (swap ? W : H) / (double)D;
        double x0 = rev_x ? small.width - len_x : 0, y0 = rev_y ? small.height - len_y : 0;
        struct pk_box b = pk_image_source_box(&info, true);
        CHECK(fabs(b.x0 - x0) < 1e-12 && fabs(b.x1 - (x0 + len_x)) < 1e-12);
        CHECK(fabs(b.y0 - y0) < 1e-12 && fabs(b.y1 - (y0 + len_y)) < 1e-12);
        struct pk_box whole = pk_image_source_box(&full_info, true);
        CHECK(whole.x0 == 0 && whole.y0 == 0 && whole.x1 == full.width && whole.y1 == full.height);
        /* the box keeps the thumbnail in place; the whole decoded image shifts it */
        struct pk_image ref, boxed, shifted;
        CHECK_OK(make_img(&ref, ow, oh, 3, true, 0));
        CHECK_OK(make_img(&boxed, ow, oh, 3, true, 0));
        CHECK_OK(make_img(&shifted, ow, oh, 3, true, 0));
        CHECK_OK(pk_resample(&full, &ref, PK_FILTER_LANCZOS3, 1, false));
        CHECK_OK(pk_resample_box(&small, b, &boxed, PK_FILTER_LANCZOS3, 1, false));
        CHECK_OK(pk_resample(&small, &shifted, PK_FILTER_LANCZOS3, 1, false));
        double e_box, e_shift;
        int m_box, m_shift;
        diff(&boxed, &ref, &e_box, &m_box);
        diff(&shifted, &ref, &e_shift, &m_shift);
        fprintf(stderr,
                "orientation %d: box [%.3f %.3f %.3f %.3f], vs the full decode: "
                "mean error %.3f with the box, %.3f without\n",
                o, b.x0, b.y0, b.x1, b.y1, e_box, e_shift);
        CHECK(e_box < 0.5 && e_box < e_shift / 2);
        pk_image_free(&ref);
        pk_image_free(&boxed);
        pk_image_free(&shifted);
        pk_image_free(&small);
        pk_image_free(&full);
    }
    free(jpg);
    rm_case();
    return 0;
}

/* libjpeg's own decode of the whole file at 1/denom, the oracle for the DC-only shortcut. */
static int libjpeg_scaled(const char *path, unsigned denom, J_COLOR_SPACE space,
                          struct pk_image *img)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    struct jpeg_decompress_struct ci;
    struct jpeg_error_mgr jerr;
    ci.err = jpeg_std_error(&jerr);
    jpeg_create_decompress(&ci);
    jpeg_stdio_src(&ci, f);
    jpeg_read_header(&ci, TRUE);
    ci.out_color_space = space;
    ci.scale_num = 1;
    ci.scale_denom = denom;
    ci.dct_method = JDCT_ISLOW;
    jpeg_start_decompress(&ci);
    *img = (struct pk_image){ci.output_width, ci.output_height, ci.output_components,
                             (size_t)ci.output_width * ci.output_components, NULL};
    img->pixels = malloc(img->stride * img->height);
    while (img->pixels && ci.output_scanline < ci.output_height) {
        JSAMPROW row = img->pixels + (size_t)ci.output_scanline * img->stride;
        jpeg_read_scanlines(&ci, &row, 1);
    }
    jpeg_finish_decompress(&ci);
    jpeg_destroy_decompress(&ci);
    fclose(f);
    return img->pixels ? 0 : -1;
}

/* A progressive JPEG decoded at 1/8 skips the AC scans that only the 1x1 IDCT's components
 * carry; the pixels must be libjpeg's for the whole file, bit for bit: YCbCr 4:2:0 (the luma's
 * AC scans dropped, the chroma's kept), RGB without subsampling and grey (every AC scan
 * dropped). A progressive file cut short is still reported as truncated. */
static int case_progressive_dc_only(void)
{
    CHECK_OK(mkdir_case("dc_only"));
    enum { W = 803, H = 411 };
    struct pk_image a;
    CHECK_OK(make_img(&a, W, H, 3, false, 5));
    for (int y = 0; y < H; y++) /* noise over a gradient: plenty of AC coefficients */
        for (int x = 0; x < W * 3; x++)
            a.pixels[(size_t)y * a.stride + x] =
                (uint8_t)(a.pixels[(size_t)y * a.stride + x] / 4 + x / 12 + y / 3);
    uint8_t *packed = malloc((size_t)W * H * 3);
    CHECK(packed != NULL);
    for (int y = 0; y < H; y++)
        memcpy(packed + (size_t)y * W * 3, a.pixels + (size_t)y * a.stride, (size_t)W * 3);
    static const struct {
        J_COLOR_SPACE file, out;
    } kinds[] = {{JCS_YCbCr, JCS_RGB}, {JCS_RGB, JCS_RGB}, {JCS_GRAYSCALE, JCS_GRAYSCALE}};
    struct pk_err err = {0};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        CHECK_OK(write_jpeg_raw(in_dir("p.jpg"), W, H, 3, kinds[k].file, true, packed));
        struct pk_load_opts lo = {.target_w = 50, .target_h = 50};
        struct pk_image_info info;
        struct pk_image got, want;
        CHECK_OK(pk_image_load_info(in_dir("p.jpg"), &lo, &got, &info, &err));
        CHECK_EQ_INT(info.scale_denom, 8);
        CHECK_OK(libjpeg_scaled(in_dir("p.jpg"), 8, kinds[k].out, &want));
        CHECK_EQ_INT(got.width, want.width);
        CHECK_EQ_INT(got.height, want.height);
        CHECK_EQ_INT(got.channels, want.channels);
        CHECK(same_pixels(&got, &want));
        pk_image_free(&got);
        free(want.pixels);
    }
    size_t n;
    uint8_t *jpg = read_bytes(in_dir("p.jpg"), &n);
    CHECK(jpg != NULL);
    CHECK_OK(write_bytes(in_dir("cut.jpg"), jpg, n * 2 / 3));
    struct pk_load_opts lo = {.target_w = 50, .target_h = 50};
    struct pk_image got;
    CHECK_EQ_INT(pk_image_load(in_dir("cut.jpg"), &lo, &got, &err), PK_EIO);
    CHECK(strstr(err.msg, "truncated") != NULL);
    free(jpg);
    free(packed);
    pk_image_free(&a);
    rm_case();
    return 0;
}

/* Headers that claim 100000 x 100000 (10 gigapixels) are refused from the header, fast, with
 * the numbers in the message; a low budget refuses an ordinary image. */
static int case_pixel_budget(void)
{
    CHECK_OK(mkdir_case("pixel_budget"));
    struct pk_err err = {0};
    struct pk_image a, b;
    CHECK_OK(make_img(&a, 16, 16, 3, true, 0));
    CHECK_OK(pk_image_save(in_dir("s.png"), &a, PK_IMAGE_PNG, 0, true, &err));
    CHECK_OK(pk_image_save(in_dir("s.jpg"), &a, PK_IMAGE_JPEG, 90, true, &err));
    pk_image_free(&a);

    /* PNG: patch IHDR width/height and its CRC */
    size_t n;
    uint8_t *p = read_bytes(in_dir("s.png"), &n);
    CHECK(p != NULL);
    const uint8_t big[4] = {0x00, 0x01, 0x86, 0xa0}; /* 100000 */
    memcpy(p + 16, big, 4);
    memcpy(p + 20, big, 4);
    uint32_t crc = (uint32_t)crc32(0, p + 12, 17);
    p[29] = (uint8_t)(crc >> 24), p[30] = (uint8_t)(crc >> 16), p[31] = (uint8_t)(crc >> 8);
    p[32] = (uint8_t)crc;
    CHECK_OK(write_bytes(in_dir("bomb.png"), p, n));
    free(p);
    struct pk_image_info info;
    CHECK_OK(pk_image_probe(in_dir("bomb.png"), &info, &err));
    CHECK_EQ_INT(info.width, 100000);
    double t0 = now_s();
    CHECK_EQ_INT(pk_image_load(in_dir("bomb.png"), NULL, &b, &err), PK_ERANGE);
    double dt = now_s() - t0;
    fprintf(stderr, "%s (%.6f s)\n", err.msg, dt);
    CHECK(dt < 0.5);
    CHECK(b.pixels == NULL);
    CHECK(strstr(err.msg, "bomb.png' is too large: 100000x100000 = 10000.0 megapixels > budget "
                          "of 179.0") != NULL);

    /* JPEG: patch SOF0 height/width to 60000 x 60000 */
    p = read_bytes(in_dir("s.jpg"), &n);
    CHECK(p != NULL);
    size_t sof = 0;
    for (size_t i = 2; i + 9 < n; i++)
        if (p[i] == 0xff && p[i + 1] == 0xc0) {
            sof = i;
            break;
        }
    CHECK(sof != 0);
    p[sof + 5] = 0xea, p[sof + 6] = 0x60, p[sof + 7] = 0xea, p[sof + 8] = 0x60;
    CHECK_OK(write_bytes(in_dir("bomb.jpg"), p, n));
    free(p);
    t0 = now_s();
    CHECK_EQ_INT(pk_image_load(in_dir("bomb.jpg"), NULL, &b, &err), PK_ERANGE);
    dt = now_s() - t0;
    fprintf(stderr, "%s (%.6f s)\n", err.msg, dt);
    CHECK(dt < 0.5);
    CHECK(strstr(err.msg, "60000x60000 = 3600.0 megapixels") != NULL);

    /* PNM header */
    const char pnm[] = "P6 50000 50000 255\n";
    CHECK_OK(write_bytes(in_dir("bomb.ppm"), pnm, sizeof pnm - 1));
    CHECK_EQ_INT(pk_image_load(in_dir("bomb.ppm"), NULL, &b, &err), PK_ERANGE);

    /* a low budget: 255 pixels refuses 16x16, 256 allows it */
    struct pk_load_opts o = {.max_pixels = 255};
    CHECK_EQ_INT(pk_image_load(in_dir("s.png"), &o, &b, &err), PK_ERANGE);
    CHECK(strstr(err.msg, "16x16") != NULL);
    o.max_pixels = 256;
    CHECK_OK(pk_image_load(in_dir("s.jpg"), &o, &b, &err));
    pk_image_free(&b);
    rm_case();
    return 0;
}

/* Every prefix of a JPEG, PNG and PPM fails cleanly (status, message, no pixels); a cut inside
 * the pixel data says "truncated". Byte flips never crash and never leak (ASan build). */
static int case_truncated_corrupt(void)
{
    CHECK_OK(mkdir_case("truncated"));
    struct pk_err err = {0};
    struct pk_image a, b;
    CHECK_OK(make_img(&a, 40, 30, 3, false, 3));
    CHECK_OK(pk_image_save(in_dir("a.jpg"), &a, PK_IMAGE_JPEG, 90, true, &err));
    CHECK_OK(pk_image_save(in_dir("a.png"), &a, PK_IMAGE_PNG, 0, true, &err));
    const char *names[] = {"a.jpg", "a.png"};
    for (int k = 0; k < 2; k++) {
        size_t n;
        uint8_t *p = read_bytes(in_dir(names[k]), &n);
        CHECK(p != NULL);
        /* Every cut that removes image data must fail: for JPEG anything shorter than the file
         * minus the 2-byte EOI, for PNG anything that loses IDAT (IEND is the last 12 bytes). */
        size_t tail = k == 0 ? 2 : 12;
        for (size_t cut = 1; cut < n - tail; cut += (cut < 64 ? 1 : 7)) {
            int rc = pk_image_load_mem(p, cut, names[k], NULL, &b, &err);
            if (rc == PK_OK)
                fprintf(stderr, "%s cut at %zu of %zu decoded\n", names[k], cut, n);
            CHECK(rc != PK_OK);
            CHECK(b.pixels == NULL);
            CHECK(strstr(err.msg, names[k]) != NULL);
        }
        /* a cut in the middle of the data says truncated (PK_EIO) */
        CHECK_EQ_INT(pk_image_load_mem(p, n / 2, names[k], NULL, &b, &err), PK_EIO);
        CHECK(strstr(err.msg, "truncated") != NULL);
        /* missing only the trailer is tolerated */
        CHECK_OK(pk_image_load_mem(p, n - tail, names[k], NULL, &b, &err));
        pk_image_free(&b);
        /* byte flips: any outcome but a crash; count the refusals */
        uint64_t seed = 99;
        int refused = 0;
        for (int t = 0; t < 300; t++) {
            uint8_t *q = malloc(n);
            CHECK(q != NULL);
            memcpy(q, p, n);
            for (int f = 0; f < 1 + t % 4; f++)
                q[check_below(&seed, n)] ^= (uint8_t)(1 + check_below(&seed, 255));
            int rc = pk_image_load_mem(q, n, names[k], NULL, &b, &err);
            refused += rc != PK_OK;
            if (rc == PK_OK)
                CHECK(b.pixels != NULL);
            else
                CHECK(b.pixels == NULL && err.msg[0] != 0);
            pk_image_free(&b);
            free(q);
        }
        fprintf(stderr, "%s: %d of 300 corrupted copies refused\n", names[k], refused);
        CHECK(refused > 0);
        free(p);
    }
    /* a truncated file on disk names the file */
    const char ppm[] = "P6 4 4 255\n\x01\x02\x03";
    CHECK_OK(write_bytes(in_dir("t.ppm"), ppm, sizeof ppm - 1));
    CHECK_EQ_INT(pk_image_load(in_dir("t.ppm"), NULL, &b, &err), PK_EIO);
    CHECK(strstr(err.msg, "t.ppm' is truncated") != NULL);
    pk_image_free(&a);
    rm_case();
    return 0;
}

/* Empty files, zero dimensions, unknown magic, missing files and directories. */
static int case_bad_files(void)
{
    CHECK_OK(mkdir_case("bad_files"));
    struct pk_err err = {0};
    struct pk_image b;
    struct pk_image_info info;
    CHECK_OK(write_bytes(in_dir("empty.jpg"), "", 0));
    CHECK_EQ_INT(pk_image_load(in_dir("empty.jpg"), NULL, &b, &err), PK_EINVAL);
    CHECK(strstr(err.msg, "empty.jpg' is empty") != NULL);
    CHECK_EQ_INT(pk_image_load_mem("", 0, "mem", NULL, &b, &err), PK_EINVAL);
    CHECK_EQ_INT(pk_image_probe(in_dir("empty.jpg"), &info, &err), PK_EINVAL);

    const char gif[] = "GIF89a\x01\x00\x01\x00";
    CHECK_OK(write_bytes(in_dir("a.gif"), gif, sizeof gif - 1));
    CHECK_EQ_INT(pk_image_load(in_dir("a.gif"), NULL, &b, &err), PK_EINVAL);
    CHECK(strstr(err.msg, "unknown format") != NULL && strstr(err.msg, "47 49 46 38") != NULL);

    const char zero[] = "P5 0 7 255\n";
    CHECK_OK(write_bytes(in_dir("zero.pgm"), zero, sizeof zero - 1));
    CHECK_EQ_INT(pk_image_load(in_dir("zero.pgm"), NULL, &b, &err), PK_EINVAL);
    CHECK(strstr(err.msg, "zero size (0x7)") != NULL);

    /* a PNG with width 0 (libpng refuses the IHDR itself) */
    struct pk_image a;
    CHECK_OK(make_img(&a, 4, 4, 1, true, 0));
    CHECK_OK(pk_image_save(in_dir("z.png"), &a, PK_IMAGE_PNG, 0, true, &err));
    pk_image_free(&a);
    size_t n;
    uint8_t *p = read_bytes(in_dir("z.png"), &n);
    CHECK(p != NULL);
    memset(p + 16, 0, 4);
    uint32_t crc = (uint32_t)crc32(0, p + 12, 17);
    p[29] = (uint8_t)(crc >> 24), p[30] = (uint8_t)(crc >> 16), p[31] = (uint8_t)(crc >> 8);
    p[32] = (uint8_t)crc;
    CHECK_EQ_INT(pk_image_load_mem(p, n, "z.png", NULL, &b, &err), PK_EINVAL);
    fprintf(stderr, "%s\n", err.msg);
    free(p);

    CHECK_EQ_INT(pk_image_load(in_dir("missing.png"), NULL, &b, &err), PK_EIO);
    CHECK(strstr(err.msg, "cannot open") != NULL && strstr(err.msg, "No such file") != NULL);
    CHECK_EQ_INT(pk_image_probe(dir, &info, &err), PK_EIO);
    CHECK(strstr(err.msg, "not a regular file") != NULL);
    rm_case();
    return 0;
}

/* A PNG named .jpg and a JPEG named .png decode by their contents. */
static int case_mislabelled(void)
{
    CHECK_OK(mkdir_case("mislabelled"));
    struct pk_err err = {0};
    struct pk_image a, b;
    CHECK_OK(make_img(&a, 9, 7, 3, false, 5));
    CHECK_OK(pk_image_save(in_dir("really_png.jpg"), &a, PK_IMAGE_PNG, 0, true, &err));
    CHECK_OK(pk_image_save(in_dir("really_jpeg.png"), &a, PK_IMAGE_JPEG, 90, true, &err));
    CHECK_OK(pk_image_load(in_dir("really_png.jpg"), NULL, &b, &err));
    CHECK(same_pixels(&a, &b));
    pk_image_free(&b);
    struct pk_image_info info;
    CHECK_OK(pk_image_probe(in_dir("really_jpeg.png"), &info, &err));
    CHECK_EQ_INT(info.format, PK_IMAGE_JPEG);
    CHECK_OK(pk_image_load(in_dir("really_jpeg.png"), NULL, &b, &err));
    CHECK_EQ_INT(b.width, 9);
    pk_image_free(&b);
    pk_image_free(&a);
    rm_case();
    return 0;
}

/* Saving is atomic: no temporary is left after a failure, an existing file is kept without
 * force and replaced with it, and a missing directory fails with the path in the message. */
static int case_save_atomic(void)
{
    CHECK_OK(mkdir_case("save_atomic"));
    struct pk_err err = {0};
    struct pk_image a, b;
    CHECK_OK(make_img(&a, 8, 8, 3, false, 1));
    CHECK_OK(write_bytes(in_dir("keep.png"), "old", 3));
    CHECK_EQ_INT(pk_image_save(in_dir("keep.png"), &a, PK_IMAGE_PNG, 0, false, &err), PK_EIO);
    CHECK(strstr(err.msg, "exists") != NULL);
    size_t n;
    uint8_t *p = read_bytes(in_dir("keep.png"), &n);
    CHECK(p != NULL && n == 3 && memcmp(p, "old", 3) == 0);
    free(p);
    CHECK_OK(pk_image_save(in_dir("keep.png"), &a, PK_IMAGE_PNG, 0, true, &err));
    CHECK_OK(pk_image_load(in_dir("keep.png"), NULL, &b, &err));
    CHECK(same_pixels(&a, &b));
    pk_image_free(&b);
    CHECK_OK(pk_image_save(in_dir("new.jpg"), &a, PK_IMAGE_JPEG, 80, false, &err));
    CHECK_EQ_INT(pk_image_save(in_dir("no/such/dir/x.png"), &a, PK_IMAGE_PNG, 0, true, &err),
                 PK_EIO);
    CHECK(strstr(err.msg, "no/such/dir/x.png") != NULL);
    CHECK_EQ_INT(pk_image_save("", &a, PK_IMAGE_PNG, 0, true, &err), PK_EINVAL);
    struct pk_image bad = a;
    bad.stride = 1;
    CHECK_EQ_INT(pk_image_save(in_dir("bad.png"), &bad, PK_IMAGE_PNG, 0, true, &err), PK_EINVAL);
    /* a failed encode (alpha as JPEG is refused before any file exists) */
    bad = a;
    bad.channels = 2;
    CHECK_EQ_INT(pk_image_save(in_dir("ga.jpg"), &bad, PK_IMAGE_JPEG, 80, true, &err), PK_EINVAL);
    /* only the two complete files: no temporaries, nothing half written */
    CHECK_EQ_INT(count_files(), 2);
    /* a write error while encoding (/dev/full is not a directory we can use; a directory we
     * cannot write to is skipped when running as root) */
    if (geteuid() != 0) {
        char ro[600];
        snprintf(ro, sizeof ro, "%s/ro", dir);
        CHECK_OK(mkdir(ro, 0555));
        snprintf(ro, sizeof ro, "%s/ro/x.png", dir);
        CHECK_EQ_INT(pk_image_save(ro, &a, PK_IMAGE_PNG, 0, true, &err), PK_EIO);
        snprintf(ro, sizeof ro, "%s/ro", dir);
        rmdir(ro);
    }
    pk_image_free(&a);
    rm_case();
    return 0;
}

/* A process killed (SIGKILL, as a killed rank) in the middle of encoding a large PNG leaves
 * nothing in the directory: the bytes go to an unnamed file until they are complete. */
static int case_save_killed(void)
{
    CHECK_OK(mkdir_case("save_killed"));
    int ready[2];
    CHECK_OK(pipe(ready));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct pk_image big;
        struct pk_err err = {0};
        if (make_img(&big, 3000, 3000, 3, false, 9) != 0) /* noise: a slow encode */
            _exit(2);
        if (write(ready[1], "x", 1) != 1)
            _exit(2);
        pk_image_save(in_dir("big.png"), &big, PK_IMAGE_PNG, 0, false, &err);
        _exit(0);
    }
    char c;
    close(ready[1]);
    CHECK_EQ_INT((int)read(ready[0], &c, 1), 1);
    close(ready[0]);
    struct timespec t = {0, 200 * 1000 * 1000};
    nanosleep(&t, NULL);
    kill(pid, SIGKILL);
    int st;
    CHECK_EQ_INT((int)waitpid(pid, &st, 0), (int)pid);
    if (!WIFSIGNALED(st))
        fprintf(stderr, "the encode finished before the kill: nothing tested\n");
    CHECK_EQ_INT(count_files(), 0);
    rm_case();
    return 0;
}

/* Four threads decode and encode concurrently; each gets the pixels a lone call gets. */
struct worker {
    const char *path;
    const struct pk_image *want;
    int idx;
    int ok;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    w->ok = 1;
    for (int i = 0; i < 20 && w->ok; i++) {
        struct pk_image b;
        struct pk_err err;
        struct pk_load_opts o = {.apply_orientation = true};
        if (pk_image_load(w->path, &o, &b, &err) != PK_OK || !same_pixels(&b, w->want))
            w->ok = 0;
        char out[600];
        snprintf(out, sizeof out, "%s/t%d.png", dir, w->idx);
        if (w->ok && pk_image_save(out, &b, PK_IMAGE_PNG, 0, true, &err) != PK_OK)
            w->ok = 0;
        pk_image_free(&b);
        /* an error path too: its message lands in this thread's own buffer */
        if (pk_image_load(out, &(struct pk_load_opts){.max_pixels = 1}, &b, &err) != PK_ERANGE)
            w->ok = 0;
    }
    return NULL;
}

static int case_threads(void)
{
    CHECK_OK(mkdir_case("threads"));
    struct pk_err err = {0};
    struct pk_image a, want;
    CHECK_OK(make_img(&a, 300, 200, 3, true, 0));
    CHECK_OK(pk_image_save(in_dir("a.jpg"), &a, PK_IMAGE_JPEG, 85, true, &err));
    CHECK_OK(pk_image_load(in_dir("a.jpg"), NULL, &want, &err));
    char path[600];
    snprintf(path, sizeof path, "%s/a.jpg", dir);
    pthread_t th[4];
    struct worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){path, &want, i, 0};
        CHECK_OK(pthread_create(&th[i], NULL, work, &w[i]));
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 4; i++)
        CHECK(w[i].ok);
    pk_image_free(&a);
    pk_image_free(&want);
    rm_case();
    return 0;
}

/* Decode speed, reported only (never asserted): a 4000x3000 JPEG at full size and at 1/8, and
 * the same image as PNG. Not a CTest case (the name does not start with case_): run it as
 * `test_image bench`. */
static int bench_decode(void)
{
    CHECK_OK(mkdir_case("bench"));
    struct pk_err err = {0};
    struct pk_image a, b;
    CHECK_OK(make_img(&a, 4000, 3000, 3, false, 11));
    /* photo-like content: smooth gradients plus mild noise */
    for (int y = 0; y < 3000; y++)
        for (int x = 0; x < 12000; x++) {
            uint8_t *q = a.pixels + (size_t)y * a.stride + x;
            *q = (uint8_t)(((x / 3) * 255 / 3999 + y * 255 / 2999) / 2 + (*q & 15) - 8);
        }
    CHECK_OK(pk_image_save(in_dir("big.jpg"), &a, PK_IMAGE_JPEG, 90, true, &err));
    CHECK_OK(pk_image_save(in_dir("big.png"), &a, PK_IMAGE_PNG, 0, true, &err));
    pk_image_free(&a);
    struct stat st;
    CHECK_OK(stat(in_dir("big.jpg"), &st));
    fprintf(stderr, "big.jpg (q90): %.1f MB, ", (double)st.st_size / 1e6);
    CHECK_OK(stat(in_dir("big.png"), &st));
    fprintf(stderr, "big.png: %.1f MB\n", (double)st.st_size / 1e6);
    const struct {
        const char *file;
        int t;
    } runs[] = {
        {"big.jpg", 0}, {"big.jpg", 1000}, {"big.jpg", 500}, {"big.jpg", 250}, {"big.png", 0}};
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        struct pk_load_opts o = {.target_w = runs[i].t, .target_h = runs[i].t};
        double best = 1e9;
        for (int r = 0; r < 3; r++) {
            double t0 = now_s();
            CHECK_OK(pk_image_load(in_dir(runs[i].file), &o, &b, &err));
            double dt = now_s() - t0;
            best = dt < best ? dt : best;
            if (r < 2)
                pk_image_free(&b);
        }
        fprintf(stderr, "decode %s box %d -> %dx%d: %.4f s, %.1f MP/s (of the 12 MP input)\n",
                runs[i].file, runs[i].t, b.width, b.height, best, 12.0 / best);
        pk_image_free(&b);
    }
    rm_case();
    return 0;
}

static const struct check_case cases[] = {
    {"png_roundtrip", case_png_roundtrip},
    {"png_kinds", case_png_kinds},
    {"jpeg_roundtrip", case_jpeg_roundtrip},
    {"jpeg_cmyk_progressive", case_jpeg_cmyk_progressive},
    {"pnm", case_pnm},
    {"exif_jpeg", case_exif_jpeg},
    {"exif_png", case_exif_png},
    {"dct_scale", case_dct_scale},
    {"source_box", case_source_box},
    {"progressive_dc_only", case_progressive_dc_only},
    {"pixel_budget", case_pixel_budget},
    {"truncated_corrupt", case_truncated_corrupt},
    {"bad_files", case_bad_files},
    {"mislabelled", case_mislabelled},
    {"save_atomic", case_save_atomic},
    {"save_killed", case_save_killed},
    {"threads", case_threads},
    {"bench", bench_decode},
};

int main(int argc, char **argv)
{
    return CHECK_MAIN(cases);
}
