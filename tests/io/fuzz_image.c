/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the decoding path (parkit/image.h): probe, then load with a pixel budget
 * of 4 megapixels (so that a header may not make a run slow or large), orientation applied,
 * and, for inputs of odd length, a 64x64 target box (JPEG DCT scaling). A successful load must
 * return a consistent image. Build and run: jobs/fuzz-image.sh. */
#include "parkit/image.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pk_err err;
    struct pk_image_info info;
    int prc = pk_image_probe_mem(data, size, "fuzz", &info, &err);
    struct pk_load_opts o = {.max_pixels = UINT64_C(1) << 22, .apply_orientation = true};
    if (size & 1)
        o.target_w = o.target_h = 64;
    struct pk_image img;
    int rc = pk_image_load_mem(data, size, "fuzz", &o, &img, &err);
    if (rc == PK_OK) {
        if (prc != PK_OK || img.width <= 0 || img.height <= 0 || img.channels != info.channels ||
            img.stride < (size_t)img.width * (size_t)img.channels ||
            (uint64_t)img.width * (uint64_t)img.height > o.max_pixels)
            abort();
        /* touch every byte: ASan catches a short buffer, MSan-free builds still read it */
        unsigned sum = 0;
        for (int y = 0; y < img.height; y++)
            for (size_t x = 0; x < (size_t)img.width * (size_t)img.channels; x++)
                sum += img.pixels[(size_t)y * img.stride + x];
        volatile unsigned sink = sum;
        (void)sink;
        pk_image_free(&img);
    } else if (img.pixels != NULL || strlen(err.msg) == 0) {
        abort();
    }
    return 0;
}
