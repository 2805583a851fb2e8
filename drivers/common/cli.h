/* SPDX-License-Identifier: MIT */
/* Command-line helpers shared by every parkit command: number parsing that rejects junk, signs,
 * fractions and overflow while naming the option and the value; the shared options' values
 * (declared in opt.h); exit codes; and rank-aware error printing. */
#ifndef PARKIT_CLI_H
#define PARKIT_CLI_H

#include "parkit/dist.h"
#include "parkit/status.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* 4 is report's alone: --fail-on-regression found a point significantly slower. */
enum pk_exit {
    PK_EXIT_OK = 0,
    PK_EXIT_RUNTIME = 1,
    PK_EXIT_USAGE = 2,
    PK_EXIT_VERIFY = 3,
    PK_EXIT_REGRESSION = 4,
};

/* Parses a count: `1000000`, `1e6`, `1.5e3`, `2^20`. The value must be an integer in
 * [min, max]; anything else fills err with a message naming `option` and the text. */
int pk_parse_count(const char *option, const char *text, uint64_t min, uint64_t max, uint64_t *out,
                   struct pk_err *err);
/* Parses a finite real number in [min, max] (strtod syntax, nothing after it); anything else
 * fills err with a message naming `option`, the range and the text. */
int pk_parse_real(const char *option, const char *text, double min, double max, double *out,
                  struct pk_err *err);

/* The first of x[0..n) that is not finite or lies outside [lo, hi], as PK_EINVAL with a message
 * naming file (caller-owned), the value's index (first + i, counted from 0) and byte offset in a
 * raw float64 file, and what takes the values ("sumsq", "transform --op chunk"); PK_OK when
 * every value is fine. Input values beyond a kernel's domain are a usage error (exit 2), not a
 * failed verification. */
int pk_check_values(const char *file, const double *x, size_t n, uint64_t first, double lo,
                    double hi, const char *what, struct pk_err *err);
/* The text of the same complaint for one value v (from a CSV file: where names FILE:LINE:COL). */
int pk_check_value(const char *where, double v, double lo, double hi, const char *what,
                   struct pk_err *err);

enum pk_format { PK_FORMAT_TABLE, PK_FORMAT_CSV, PK_FORMAT_JSON };

/* Options shared by every command. */
struct pk_common_opts {
    int nthreads;       /* -t/--threads; default: omp_get_max_threads() */
    int reps;           /* --reps: timed repetitions */
    int warmup;         /* --warmup: untimed runs before them */
    bool reps_given;    /* --reps was on the command line: run exactly that many (timing.h) */
    const char *record; /* --record FILE: append one JSON line per run */
    enum pk_format format;
    bool no_verify;
};

/* Exit code section of every --help. */
extern const char pk_exit_help[];

/* The shared options' defaults (pk_opts_parse then applies the command's own). */
void pk_common_defaults(struct pk_common_opts *o);

/* Prints "parkit CMD: error: MSG" to stderr: rank 0 always, other ranks only when `every_rank`
 * (the error is their own rather than shared by all), prefixed "[rank N] ". */
void pk_error(const struct pk_comm *c, bool every_rank, const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* pk_error on rank 0 only, for a usage error: returns PK_EXIT_USAGE. */
int pk_usage_error(const struct pk_comm *c, const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A usage error (printed; PK_EXIT_USAGE) when writing out (option out_opt) would replace or
 * append to in (option in_opt): the same file, or the same path while out does not exist yet.
 * PK_EXIT_OK when they differ or either is NULL. */
int pk_cli_distinct(const struct pk_comm *c, const char *cmd, const char *out_opt, const char *out,
                    const char *in_opt, const char *in);

/* For the commands that run on one process (their parallelism is threads): a usage error
 * printed once when started under mpirun with more than one rank; PK_EXIT_OK otherwise. */
int pk_cli_single_process(const struct pk_comm *c, const char *cmd);

#endif
