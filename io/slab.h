/* SPDX-License-Identifier: MIT */
/* Private to io/: objects of one size carved from 2 MiB slabs, each one transparent huge page
 * faulted in at once. On a virtual machine a page fault costs tens of microseconds (35 us
 * measured here) and even a TLB miss is dear: 100,000 futures or loop tasks malloc'd one by one
 * touched thousands of fresh small pages (137 ms for 100,000 x 152 bytes). A slab is unmapped
 * when its last object is freed and it is no longer the one objects come from. Not thread-safe:
 * the owner's lock guards it. */
#ifndef PARKIT_IO_SLAB_H
#define PARKIT_IO_SLAB_H

#include <stddef.h>

struct pk_slab;

struct pk_slabs {
    size_t size;          /* of an object, set by the owner before the first allocation */
    struct pk_slab *cur;  /* where objects come from */
};

/* An object of s->size bytes (contents undefined), or NULL when no slab can be mapped. */
void *pk_slabs_alloc(struct pk_slabs *s);
/* Gives obj back; its slab goes when it held the last object and is not the current one. */
void pk_slabs_free(struct pk_slabs *s, void *obj);
/* Unmaps the current slab; every other one went with its last object. */
void pk_slabs_destroy(struct pk_slabs *s);

#endif
