/* SPDX-License-Identifier: MIT */
/* Test helper: `mkraw FILE N SEED [EXTRA_BYTES]` writes the N values `sumsq --array N --seed S`
 * makes, as raw little-endian float64, so the file and array variants can be compared bit for
 * bit; EXTRA_BYTES appends junk to make a file whose size is not a multiple of 8. */
#include "parkit/sumsq.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: mkraw FILE N SEED [EXTRA_BYTES]\n");
        return 2;
    }
    size_t n = strtoull(argv[2], NULL, 10);
    uint64_t seed = strtoull(argv[3], NULL, 10);
    size_t extra = argc > 4 ? strtoull(argv[4], NULL, 10) : 0;
    double *x = malloc((n ? n : 1) * sizeof *x);
    FILE *f = fopen(argv[1], "wb");
    if (!x || !f) {
        perror(argv[1]);
        return 1;
    }
    pk_sumsq_fill(x, n, 0, seed, 1);
    int bad = fwrite(x, sizeof *x, n, f) != n;
    for (size_t i = 0; i < extra; i++)
        bad |= fputc('x', f) == EOF;
    bad |= fclose(f) != 0;
    free(x);
    return bad;
}
