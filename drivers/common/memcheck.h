/* SPDX-License-Identifier: MIT */
/* How much memory a command may use, and the check every allocation-heavy command makes before
 * it allocates: its estimate for the whole request against the smallest of the machine's
 * MemAvailable, the memory cgroup's limit less its usage (v2 memory.max, v1
 * memory.limit_in_bytes; the tightest along the path: containers, Slurm jobs) and the address
 * space left under RLIMIT_AS (ulimit -v) and RLIMIT_DATA. */
#ifndef PARKIT_MEMCHECK_H
#define PARKIT_MEMCHECK_H

#include "parkit/dist.h"

#include <stdbool.h>
#include <stdint.h>

struct pk_mem_budget {
    uint64_t bytes;     /* UINT64_MAX when nothing limits it (or nothing could be read) */
    const char *source; /* what sets it, in words: "available (MemAvailable)", ... */
};

/* The budget now, for this process. Reads /proc and /sys only; never fails. */
void pk_mem_budget(struct pk_mem_budget *b);

/* Rank 0 compares `estimate` bytes for `what` (e.g. "!1000000") with max_memory (the command's
 * --max-memory, 0 for none) or else the budget, and refuses with a usage error that names both
 * figures and where the limit comes from, then `hint` (what the user can do). Not collective:
 * rank 0's verdict (PK_EXIT_OK or PK_EXIT_USAGE) on rank 0, PK_EXIT_OK elsewhere; agree after.
 * A command with --force skips the call. */
int pk_mem_check(const struct pk_comm *c, const char *cmd, const char *what, uint64_t estimate,
                 uint64_t max_memory, const char *hint);

/* The same on every rank, for its own share (each rank's memory is its node's): a refusal is
 * printed by the rank that refuses, with its number. Not collective; agree after. */
int pk_mem_check_each(const struct pk_comm *c, const char *cmd, const char *what,
                      uint64_t estimate, const char *hint);

#endif
