/* SPDX-License-Identifier: MIT */
/* mkimages DIR: writes small valid and broken images into DIR (which must exist), the seed
 * corpus of fuzz_image (jobs/fuzz-image.sh) and handy inputs for trying `parkit resize`.
 * Valid: PNG with 1..4 channels, JPEG grey and RGB (one with an EXIF orientation 6 segment),
 * PPM/PGM binary and ascii, 16-bit PGM, and a progressive JPEG wide enough (1040 px) that a
 * 64-px box decodes it at 1/8, where io/image.c drops the AC scans it does not need. Broken: each
 * valid JPEG/PNG cut in half and with bytes flipped, a PNG header claiming 100000x100000, an empty
 * file, an unknown magic. Deterministic: the same bytes on every run. Exit status 0, or 1 with a
 * message. */
#include "parkit/image.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* jpeglib.h needs FILE from stdio.h first: keep this order */
/* clang-format off */
#include <jpeglib.h>
/* clang-format on */

static const char *dir;

static char *path_of(const char *name)
{
    static char p[4096];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}

static int put(const char *name, const void *data, size_t n)
{
    FILE *f = fopen(path_of(name), "wb");
    if (!f || fwrite(data, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "mkimages: cannot write '%s'\n", path_of(name));
        return 1;
    }
    return 0;
}

static uint8_t *get(const char *name, size_t *n)
{
    FILE *f = fopen(path_of(name), "rb");
    if (!f)
        return NULL;
    uint8_t *p = malloc(1 << 20);
    *n = p ? fread(p, 1, 1 << 20, f) : 0;
    fclose(f);
    return p;
}

/* The valid file name plus a half copy and a copy with three bytes flipped. */
static int broken_copies(const char *name)
{
    size_t n;
    uint8_t *p = get(name, &n);
    if (!p)
        return 1;
    char out[256];
    snprintf(out, sizeof out, "cut_%s", name);
    int rc = put(out, p, n / 2);
    uint32_t s = 12345;
    for (int i = 0; i < 3; i++) {
        s = s * 1103515245u + 12345u;
        p[(s >> 8) % n] ^= 0x5a;
    }
    snprintf(out, sizeof out, "flip_%s", name);
    rc |= put(out, p, n);
    free(p);
    return rc;
}

static int put_progressive(const char *name)
{
    enum { W = 1040, H = 24 };
    static uint8_t px[H][W][3];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < 3; c++)
                px[y][x][c] = (uint8_t)(x * (c + 1) / 5 + y * 9 + ((x >> 3) & 1) * 40);
    FILE *f = fopen(path_of(name), "wb");
    if (!f)
        return 1;
    struct jpeg_compress_struct ci;
    struct jpeg_error_mgr jerr;
    ci.err = jpeg_std_error(&jerr); /* a test tool: libjpeg may exit on its errors here */
    jpeg_create_compress(&ci);
    jpeg_stdio_dest(&ci, f);
    ci.image_width = W;
    ci.image_height = H;
    ci.input_components = 3;
    ci.in_color_space = JCS_RGB;
    jpeg_set_defaults(&ci);
    jpeg_set_quality(&ci, 75, TRUE);
    jpeg_simple_progression(&ci);
    jpeg_start_compress(&ci, TRUE);
    while (ci.next_scanline < H) {
        JSAMPROW row = &px[ci.next_scanline][0][0];
        jpeg_write_scanlines(&ci, &row, 1);
    }
    jpeg_finish_compress(&ci);
    jpeg_destroy_compress(&ci);
    return fclose(f) != 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: mkimages DIR\n");
        return 2;
    }
    dir = argv[1];
    int rc = 0;
    struct pk_err err = {0};
    uint8_t pix[24 * 16 * 4];
    for (size_t i = 0; i < sizeof pix; i++)
        pix[i] = (uint8_t)(i * 7 + (i / 96) * 13);
    static const char *pngs[] = {"g.png", "ga.png", "rgb.png", "rgba.png"};
    for (int c = 1; c <= 4; c++) {
        struct pk_image img = {24, 16, c, (size_t)24 * c, pix};
        rc |= pk_image_save(path_of(pngs[c - 1]), &img, PK_IMAGE_PNG, 0, true, &err) != 0;
        rc |= broken_copies(pngs[c - 1]);
    }
    struct pk_image g = {24, 16, 1, 24, pix}, rgb = {24, 16, 3, 72, pix};
    rc |= pk_image_save(path_of("g.jpg"), &g, PK_IMAGE_JPEG, 75, true, &err) != 0;
    rc |= pk_image_save(path_of("rgb.jpg"), &rgb, PK_IMAGE_JPEG, 75, true, &err) != 0;
    rc |= broken_copies("g.jpg") | broken_copies("rgb.jpg");
    /* rgb.jpg with an APP1 Exif segment, orientation 6 (little-endian TIFF) */
    size_t n;
    uint8_t *j = get("rgb.jpg", &n);
    if (j) {
        static const uint8_t app1[] = {0xff, 0xe1, 0, 34, 'E', 'x', 'i', 'f', 0,    0,    'I', 'I',
                                       42,   0,    8, 0,  0,   0,   1,   0,   0x12, 0x01, 3,   0,
                                       1,    0,    0, 0,  6,   0,   0,   0,   0,    0,    0,   0};
        uint8_t *e = malloc(n + sizeof app1);
        if (e) {
            memcpy(e, j, 2);
            memcpy(e + 2, app1, sizeof app1);
            memcpy(e + 2 + sizeof app1, j + 2, n - 2);
            rc |= put("exif6.jpg", e, n + sizeof app1);
            free(e);
        }
        free(j);
    }
    static const char p6[] =
        "P6\n# rgb\n2 2\n255\n\x10\x20\x30\x40\x50\x60\x70\x80\x90\xa0\xb0\xc0";
    static const char p5[] = "P5 2 1 65535\n\x12\x34\xff\xff";
    static const char p3[] = "P3\n2 1\n15\n0 1 2 13 14 15\n";
    static const char p2[] = "P2 3 1 255 0 128 255\n";
    rc |= put("rgb.ppm", p6, sizeof p6 - 1) | put("g16.pgm", p5, sizeof p5 - 1) |
          put("ascii.ppm", p3, sizeof p3 - 1) | put("ascii.pgm", p2, sizeof p2 - 1);
    rc |= put("cut.ppm", p6, sizeof p6 - 5);
    /* bomb: the IHDR of g.png with 100000 x 100000 (CRC left stale: libpng checks the CRC of
     * critical chunks, so this also seeds the CRC error path) */
    uint8_t *b = get("g.png", &n);
    if (b) {
        static const uint8_t big[4] = {0x00, 0x01, 0x86, 0xa0};
        memcpy(b + 16, big, 4);
        memcpy(b + 20, big, 4);
        rc |= put("bomb.png", b, n);
        free(b);
    }
    rc |= put("empty.jpg", "", 0) | put("unknown.gif", "GIF89a\x01\x00\x01\x00", 10);
    rc |= put_progressive("prog_wide.jpg");
    if (rc)
        fprintf(stderr, "mkimages: failed (%s)\n", err.msg);
    return rc ? 1 : 0;
}
