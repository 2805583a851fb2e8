/* SPDX-License-Identifier: MIT */
#define _DEFAULT_SOURCE /* MADV_HUGEPAGE */
#include "parkit/bigmem.h"

#include "parkit/status.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#define HUGE_PAGE ((size_t)2 << 20)

int pk_bigmem_alloc(size_t nbytes, void **out)
{
    *out = NULL;
    if (nbytes == 0)
        nbytes = 1;
    if (nbytes > SIZE_MAX - HUGE_PAGE)
        return PK_ENOMEM;
    size_t size = (nbytes + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
    void *p = aligned_alloc(HUGE_PAGE, size);
    if (!p)
        return PK_ENOMEM;
    /* Advice only: without THP support the memory still works with small pages. */
    (void)madvise(p, size, MADV_HUGEPAGE);
    *out = p;
    return PK_OK;
}

void pk_bigmem_free(void *p)
{
    free(p);
}
