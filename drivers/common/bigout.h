/* SPDX-License-Identifier: MIT */
/* Output of exact big integers (factsum, fib): digit count, first and last digits, checksums,
 * and the full decimal value written to a file atomically. */
#ifndef PARKIT_BIGOUT_H
#define PARKIT_BIGOUT_H

#include "cli.h"
#include "emit.h"
#include "parkit/status.h"

#include <gmp.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PK_EDGE_DIGITS 20
#define PK_MOD_1E9_7   UINT64_C(1000000007)

struct pk_bigsummary {
    size_t digits;                  /* decimal digits (1 for zero) */
    char first[PK_EDGE_DIGITS + 1]; /* leading digits (all of them when fewer) */
    char last[PK_EDGE_DIGITS + 1];  /* trailing digits (all of them when fewer) */
    uint64_t mod_2_64, mod_1e9_7;   /* checksums of the exact value */
};

/* {"digits", "first", "last", "mod_2_64" (as a decimal string: JSON numbers lose bits above
 * 2^53), "mod_1e9_7"}; the caller owns the object. */
json_t *pk_big_summary_json(const struct pk_bigsummary *s);

/* One run of a command whose results are exact big integers (factsum, fib), as rank 0 reports
 * it. The json_t fields are stolen (the record owns or frees them). */
struct pk_big_run {
    const char *command; /* "factsum" */
    const char *method;  /* how the values were computed, for the record */
    const uint64_t *n;   /* the N as given */
    size_t count;
    mpz_t *value; /* value[i] for n[i] */
    const struct pk_common_opts *common;
    const char *digits_path; /* --digits FILE or NULL */
    int nranks;
    bool verified, canary;
    json_t *verification, *extra; /* extra: more top-level record fields, or NULL */
    const struct pk_reps *reps; /* the runs (timing.h) */
    const json_t *sysinfo;
};
/* Finds every value's digit count and first and last digits, and with digits_path its whole
 * decimal text (timed together: decimal_s), writes digits_path atomically (only for a
 * verified or unverified-by-request result: a wrong value is never written as the answer) and
 * builds the record into *rec (the caller owns it; NULL on failure). Rank 0 only; prints its
 * errors. Returns an exit status (0 or PK_EXIT_RUNTIME). */
int pk_big_record(const struct pk_comm *c, struct pk_big_run *run, json_t **rec);

/* The table and CSV (one row per N) views of such a record, for pk_emit; ctx is unused. */
extern const struct pk_view pk_big_view;

/* Routes GMP's allocation failures (or allocations past limit_bytes, 0 for none) to a message
 * naming the command and the request, then ends every rank with exit 1: GMP's allocation
 * functions must not return on failure, and an abort (GMP's default) is exit 134. Call before
 * the first GMP allocation that may be large; one command per process. */
void pk_gmp_guard_for(const struct pk_comm *c, const char *cmd, uint64_t limit_bytes);

#endif
