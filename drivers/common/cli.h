/* SPDX-License-Identifier: MIT */
/* Command-line helpers shared by every parkit command: number parsing that rejects junk, signs,
 * fractions and overflow while naming the option and the value; the options every command takes
 * (threads, repetitions, records, output format); exit codes; and rank-aware error printing. */
#ifndef PARKIT_CLI_H
#define PARKIT_CLI_H

#include "parkit/dist.h"
#include "parkit/status.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum pk_exit { PK_EXIT_OK = 0, PK_EXIT_RUNTIME = 1, PK_EXIT_USAGE = 2, PK_EXIT_VERIFY = 3 };

/* Parses a count: `1000000`, `1e6`, `1.5e3`, `2^20`. The value must be an integer in
 * [min, max]; anything else fills err with a message naming `option` and the text. */
int pk_parse_count(const char *option, const char *text, uint64_t min, uint64_t max, uint64_t *out,
                   struct pk_err *err);
/* Parses a finite real number in [min, max] (strtod syntax, nothing after it); anything else
 * fills err with a message naming `option`, the range and the text. */
int pk_parse_real(const char *option, const char *text, double min, double max, double *out,
                  struct pk_err *err);

enum pk_format { PK_FORMAT_TABLE, PK_FORMAT_CSV, PK_FORMAT_JSON };

/* Options shared by every command. */
struct pk_common_opts {
    int nthreads;       /* -t/--threads; default: omp_get_max_threads() */
    int reps;           /* --reps: timed repetitions */
    int warmup;         /* --warmup: untimed runs before them */
    const char *record; /* --record FILE: append one JSON line per run */
    enum pk_format format;
    bool no_verify;
};

/* getopt_long codes of the shared options; commands put PK_COMMON_LONGOPTS in their table. */
enum {
    PK_OPT_THREADS = 't',
    PK_OPT_REPS = 'r',
    PK_OPT_HELP = 'h',
    PK_OPT_WARMUP = 1000,
    PK_OPT_RECORD,
    PK_OPT_FORMAT,
    PK_OPT_NO_VERIFY,
};
#define PK_COMMON_SHORTOPTS "t:r:h"
#define PK_COMMON_LONGOPTS                                                                         \
    {"threads", required_argument, NULL, PK_OPT_THREADS},                                          \
        {"reps", required_argument, NULL, PK_OPT_REPS},                                            \
        {"warmup", required_argument, NULL, PK_OPT_WARMUP},                                        \
        {"record", required_argument, NULL, PK_OPT_RECORD},                                        \
        {"format", required_argument, NULL, PK_OPT_FORMAT},                                        \
        {"no-verify", no_argument, NULL, PK_OPT_NO_VERIFY},                                        \
    {                                                                                              \
        "help", no_argument, NULL, PK_OPT_HELP                                                     \
    }
/* Help text for the shared options, printed by every command's --help. */
extern const char pk_common_help[];
/* Exit code section of every --help. */
extern const char pk_exit_help[];

void pk_common_defaults(struct pk_common_opts *o);
/* Handles one shared option; PK_EINVAL with err filled on a bad value. */
int pk_common_option(struct pk_common_opts *o, int code, const char *arg, struct pk_err *err);

/* Prints "parkit CMD: error: MSG" to stderr: rank 0 always, other ranks only when `every_rank`
 * (the error is their own rather than shared by all), prefixed "[rank N] ". */
void pk_error(const struct pk_comm *c, bool every_rank, const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Handles what every command's getopt_long loop shares, for the code getopt_long returned:
 * --help (prints usage, the common options and the exit codes on rank 0), a missing value, an
 * unknown option, and the common options. Returns PK_OPT_DONE when the code was handled,
 * PK_OPT_MINE when the command must handle it, PK_OPT_HELP_SHOWN after --help, and
 * PK_EXIT_USAGE after printing a usage error. */
enum { PK_OPT_DONE = 0, PK_OPT_MINE = -1, PK_OPT_HELP_SHOWN = -2 };
int pk_cli_option(const struct pk_comm *c, const char *cmd, const char *usage, int code,
                  char *const argv[], struct pk_common_opts *o);
/* Parses the operands argv[optind..argc) as a list of counts in [0, max] (at least one) into
 * *n (malloc'd, the caller frees; NULL on failure) and *count. Returns an exit status and prints
 * the error (the bad value is named as "N"). */
int pk_cli_counts(const struct pk_comm *c, const char *cmd, int argc, char *const argv[],
                  uint64_t max, uint64_t **n, size_t *count);
/* For the commands that run on one process (their parallelism is threads): a usage error
 * printed once when started under mpirun with more than one rank; PK_EXIT_OK otherwise. */
int pk_cli_single_process(const struct pk_comm *c, const char *cmd);
/* Usage error for arguments left after the options; PK_EXIT_OK when there are none. */
int pk_cli_no_operands(const struct pk_comm *c, const char *cmd, int argc, char *const argv[]);

#endif
