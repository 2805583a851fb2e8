/* SPDX-License-Identifier: MIT */
#include "parkit/range.h"

#include "isa_clones.h"

#include <stdint.h>

/* Groups of G tested branch-free in W integer lanes (one compare pair and an OR per value, few
 * enough registers for SSE2), then one by one from the first group that fails. A NaN fails both
 * compares. The three-accumulator form (NaN sum, min, max) spilled and ran as long as the pread
 * copy it followed. */
PK_ISA_CLONES size_t pk_range_first_outside(const double *x, size_t n, double lo, double hi)
{
    enum { G = 256, W = 16 };
    size_t start = 0;
    for (; start + G <= n; start += G) {
        int64_t bad[W] = {0};
        for (size_t j = start; j < start + G; j += W)
            for (int w = 0; w < W; w++) {
                double y = x[j + (size_t)w];
                bad[w] |= (int64_t)(!(y >= lo) | !(y <= hi));
            }
        int64_t any = 0;
        for (int w = 0; w < W; w++)
            any |= bad[w];
        if (any)
            break;
    }
    for (size_t i = start; i < n; i++)
        if (!(x[i] >= lo) || !(x[i] <= hi))
            return i;
    return n;
}
