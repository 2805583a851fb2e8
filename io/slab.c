/* SPDX-License-Identifier: MIT */
/* Objects from pre-faulted slabs; see slab.h. Each object is preceded by a pointer to its slab,
 * so that freeing finds the slab's count without a search. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MADV_HUGEPAGE */
#include "slab.h"

#include <stdalign.h>
#include <stdint.h>
#include <sys/mman.h>

#ifndef MADV_POPULATE_WRITE
#    define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif
#define SLAB_BYTES ((size_t)2 << 20) /* one huge page on x86-64 */

#if defined(__SANITIZE_ADDRESS__)
#    define PK_SLABS_MALLOC 1
#elif defined(__has_feature)
#    if __has_feature(address_sanitizer)
#        define PK_SLABS_MALLOC 1
#    endif
#endif

#ifdef PK_SLABS_MALLOC
/* Under AddressSanitizer every object is its own allocation, so that a use after free of a
 * future or a task is still caught. */
#    include <stdlib.h>

void *pk_slabs_alloc(struct pk_slabs *s)
{
    return malloc(s->size);
}

void pk_slabs_free(struct pk_slabs *s, void *obj)
{
    (void)s;
    free(obj);
}

void pk_slabs_destroy(struct pk_slabs *s)
{
    (void)s;
}
#else
struct pk_slab {
    size_t bytes, cap, used, live;
    alignas(max_align_t) unsigned char mem[];
};

/* An object's slot: the slab pointer, then the object, aligned for anything. */
static size_t slot_size(size_t size)
{
    size_t a = alignof(max_align_t);
    return ((sizeof(struct pk_slab *) + a - 1) / a * a) + (size + a - 1) / a * a;
}

static size_t header(void)
{
    return slot_size(0);
}

/* SLAB_BYTES of memory aligned to SLAB_BYTES, asked to be one transparent huge page and faulted
 * in at once: on this VM writing 4 MiB of freshly populated small pages took 5 ms (a TLB miss per
 * page is dear under paravirtualisation), of one huge page 0.1 ms. Without huge pages the
 * kernel populates small ones, still without a fault per page. */
static void *map_slab(void)
{
    unsigned char *raw = mmap(NULL, 2 * SLAB_BYTES, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED)
        return NULL;
    uintptr_t a = ((uintptr_t)raw + SLAB_BYTES - 1) & ~(uintptr_t)(SLAB_BYTES - 1);
    size_t head = a - (uintptr_t)raw;
    if (head)
        munmap(raw, head);
    munmap((void *)(a + SLAB_BYTES), SLAB_BYTES - head);
    madvise((void *)a, SLAB_BYTES, MADV_HUGEPAGE); /* a hint: "never" leaves small pages */
    if (madvise((void *)a, SLAB_BYTES, MADV_POPULATE_WRITE) != 0)
        for (size_t off = 0; off < SLAB_BYTES; off += 4096) /* kernels before 5.14 */
            ((volatile unsigned char *)a)[off] = 0;
    return (void *)a;
}

void *pk_slabs_alloc(struct pk_slabs *s)
{
    struct pk_slab *sl = s->cur;
    if (!sl || sl->used == sl->cap) {
        if (slot_size(s->size) > SLAB_BYTES - sizeof *sl)
            return NULL;
        struct pk_slab *n = map_slab();
        if (!n)
            return NULL;
        n->bytes = SLAB_BYTES;
        n->cap = (SLAB_BYTES - sizeof *n) / slot_size(s->size);
        n->used = n->live = 0;
        if (sl && sl->live == 0)
            munmap(sl, sl->bytes);
        s->cur = sl = n;
    }
    unsigned char *slot = sl->mem + sl->used++ * slot_size(s->size);
    sl->live++;
    *(struct pk_slab **)slot = sl;
    return slot + header();
}

void pk_slabs_free(struct pk_slabs *s, void *obj)
{
    if (!obj)
        return;
    struct pk_slab *sl = *(struct pk_slab **)((unsigned char *)obj - header());
    if (--sl->live == 0 && sl != s->cur)
        munmap(sl, sl->bytes);
}

void pk_slabs_destroy(struct pk_slabs *s)
{
    if (s->cur)
        munmap(s->cur, s->cur->bytes);
    s->cur = NULL;
}
#endif
