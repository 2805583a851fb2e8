/* SPDX-License-Identifier: MIT */
/* Large arrays: 2 MiB aligned and advised to use transparent huge pages. On this class of
 * machine a first touch costs about 11 us per 4 KiB page but 0.2 us per 4 KiB inside a huge
 * page, so every array of more than a few MiB comes from here, allocated once and reused. */
#ifndef PARKIT_BIGMEM_H
#define PARKIT_BIGMEM_H

#include <stddef.h>

/* On success *out owns nbytes (rounded up to 2 MiB) of uninitialised memory, freed with
 * pk_bigmem_free; on failure *out is NULL and PK_ENOMEM is returned. Pages are not touched
 * here, so the first thread to write a page owns it (first touch). */
int pk_bigmem_alloc(size_t nbytes, void **out);
void pk_bigmem_free(void *p); /* NULL ok */

#endif
