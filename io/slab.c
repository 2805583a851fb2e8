/* SPDX-License-Identifier: MIT */
/* Objects from pre-faulted slabs; see slab.h. Each object is preceded by a pointer to its slab,
 * so that freeing finds the slab's count without a search. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MAP_POPULATE */
#include "slab.h"

#include <stdalign.h>
#include <stdint.h>
#include <sys/mman.h>

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

void *pk_slabs_alloc(struct pk_slabs *s)
{
    struct pk_slab *sl = s->cur;
    if (!sl || sl->used == sl->cap) {
        size_t bytes = s->next_bytes ? s->next_bytes : 64 << 10;
        while (bytes - sizeof *sl < slot_size(s->size))
            bytes *= 2;
        struct pk_slab *n = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
        if (n == MAP_FAILED)
            return NULL;
        n->bytes = bytes;
        n->cap = (bytes - sizeof *n) / slot_size(s->size);
        n->used = n->live = 0;
        s->next_bytes = bytes < (4 << 20) ? 2 * bytes : bytes;
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
