/* SPDX-License-Identifier: MIT */
/* Private to kernels/: PK_ISA_CLONES makes one clone of a function per x86-64 level, picked at
 * load time (ifunc), so a portable binary still gets AVX2 or AVX-512 where the CPU has it. The
 * kernels use no contraction (-ffp-contract=off) and a fixed operation order per element, so
 * every clone gives the same bits; the wider clones just do more lanes at once. */
#ifndef PARKIT_ISA_CLONES_H
#define PARKIT_ISA_CLONES_H

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11
#    define PK_ISA_CLONES                                                                          \
        __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#    define PK_ISA_CLONES
#endif

#endif
