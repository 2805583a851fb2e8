/* SPDX-License-Identifier: MIT */
/* Declared options: each command describes its options once, in a table, and one parser reads
 * every command's argv from it while one generator writes its --help (and later the man page and
 * the shell completions). The shared options (threads, reps, warm-up, record, format, verify) are
 * declared here once; a command opts into those it honours, and the others are usage errors.
 *
 * Parsing follows GNU conventions: `--name value`, `--name=value`, `-x value`, `-xvalue`,
 * unambiguous prefixes of long names, operands anywhere, and `--` ending the options. */
#ifndef PARKIT_OPT_H
#define PARKIT_OPT_H

#include "cli.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum pk_opt_kind {
    PK_OPT_FLAG,    /* bool, set to true */
    PK_OPT_COUNT,   /* uint64_t: 1e6, 2^20 ...; limits .min .. .max (max 0: no limit) */
    PK_OPT_INT,     /* int: a count in [.min, .max] (max at most INT_MAX; 0: INT_MAX) */
    PK_OPT_REAL,    /* double: finite, in [.rmin, .rmax] (both 0: any finite) */
    PK_OPT_SECONDS, /* double seconds: 0.5, 500ms, 2s, 1m; in [.rmin, .rmax] (rmax 0: none) */
    PK_OPT_SIZE,    /* uint64_t bytes: 4096, 64K, 8MiB, 2G (powers of 1024); .min .. .max */
    PK_OPT_ENUM,    /* int: index into .choices (NULL-terminated) */
    PK_OPT_LIST,    /* struct pk_count_list: comma-separated counts, each in [.min, .max] */
    PK_OPT_STRING,  /* const char *: any non-empty text (points into argv) */
    PK_OPT_PATH,    /* const char *: a file or directory name (non-empty) */
};

/* A list of counts (PK_OPT_LIST); v is owned, freed by pk_count_list_free. */
struct pk_count_list {
    uint64_t *v;
    size_t n;
};
void pk_count_list_free(struct pk_count_list *l);

struct pk_opt;
/* A custom check/convert step for STRING options (e.g. a latency spec): runs after the value is
 * stored; returns PK_OK or fills err naming the option and the value. */
typedef int (*pk_opt_check)(const struct pk_opt *opt, const char *text, struct pk_err *err);

/* The .check of an option naming a result file (PATH): refuses a directory, a block device or a
 * socket (io/atomicfile writes regular files atomically, character devices and FIFOs in place). */
int pk_opt_output_file(const struct pk_opt *opt, const char *text, struct pk_err *err);

struct pk_opt {
    const char *name;  /* long name without "--"; NULL ends a table */
    char short_name;   /* 0: none */
    enum pk_opt_kind kind;
    void *dest;        /* type per kind, above */
    const char *arg;   /* the value's name in --help ("N", "FILE"); NULL for flags */
    const char *help;  /* may hold '\n' for extra lines */
    uint64_t min, max; /* COUNT, INT, SIZE, LIST */
    double rmin, rmax; /* REAL, SECONDS */
    const char *const *choices; /* ENUM */
    pk_opt_check check;         /* optional */
    int *tag;                   /* optional: set to tag_value when the option is given */
    int tag_value;
    int group;   /* options of one non-zero group exclude each other */
    bool hidden; /* accepted but not listed in --help (old spellings) */
};

/* The shared options a command may honour. */
enum {
    PK_SHARED_THREADS = 1u << 0,
    PK_SHARED_REPS = 1u << 1,
    PK_SHARED_WARMUP = 1u << 2,
    PK_SHARED_RECORD = 1u << 3,
    PK_SHARED_FORMAT = 1u << 4,
    PK_SHARED_NO_VERIFY = 1u << 5,
    PK_SHARED_TIMED = PK_SHARED_REPS | PK_SHARED_WARMUP,
    PK_SHARED_ALL = (1u << 6) - 1,
};
/* The output formats a command honours (with PK_SHARED_FORMAT); table and json always. */
enum { PK_FORMATS_CSV = 1u << PK_FORMAT_CSV };

struct pk_cmd_spec {
    const char *name;        /* "sumsq"; "scale grain" for a subcommand */
    const char *synopsis;    /* after "Usage: parkit NAME " */
    const char *summary;     /* one line */
    const char *description; /* paragraphs printed after the options; may be NULL */
    const struct pk_opt *opts;
    unsigned shared;                /* PK_SHARED_* */
    unsigned formats;               /* PK_FORMATS_CSV when --format csv is honoured */
    int reps_default;               /* 0: 3 */
    bool reps_cut; /* the command runs its reps with pk_reps (timing.h): without --reps, a
                    * first run over the budget is the only one (said in --help) */
    int warmup_default;             /* -1: 0; 0: 1 */
    const char *operands;           /* their name in messages ("N"); NULL: none accepted */
    size_t min_operands;            /* with operands */
    size_t max_operands;            /* 0: no limit */
    const char *rest;               /* name of what follows "--" ("COMMAND"); NULL: operands */
    bool rest_at_operand; /* with rest: the first operand starts it too, as for env(1) */
    /* When not NULL, the operands are counts named "N" in errors, each in [0, counts_max],
     * converted into this list (free with pk_count_list_free). */
    struct pk_count_list *counts;
    uint64_t counts_max;
};

/* What is left after the options. Pointers into argv. */
struct pk_args {
    char **operand;
    size_t noperands;
    char **rest; /* after "--", when the spec names a rest; NULL otherwise */
    size_t nrest;
    bool dashdash; /* "--" was given */
};
void pk_args_free(struct pk_args *a);

/* pk_opts_parse results beside the exit codes. PK_OPTS_JSON is internal: --options-json (the
 * declared table as JSON, for tests, man pages and completions) returns PK_OPTS_HELP too. */
enum { PK_OPTS_HELP = -1, PK_OPTS_JSON = -2 };

/* Sets the shared defaults in *common (when the spec takes any), then parses argv[1..argc) (argv[0]
 * is the command name) into the table's destinations, *common and *args (may be NULL when the
 * spec takes no operands). Returns PK_EXIT_OK; PK_OPTS_HELP after printing --help on rank 0; or
 * PK_EXIT_USAGE after printing one error naming the option and the value. Destinations keep
 * the values they held before the call unless given, so set command defaults first. */
int pk_opts_parse(const struct pk_cmd_spec *spec, const struct pk_comm *c, int argc, char **argv,
                  struct pk_common_opts *common, struct pk_args *args);

/* Writes the --help text of spec to f. */
void pk_opts_help(const struct pk_cmd_spec *spec, FILE *f);

/* Writes the declared table of spec as JSON to f (what --options-json prints). */
void pk_opts_json(const struct pk_cmd_spec *spec, FILE *f);

/* The exit status for a pk_opts_parse result: help -> 0, others unchanged. */
static inline int pk_opts_exit(int parsed)
{
    return parsed == PK_OPTS_HELP ? PK_EXIT_OK : parsed;
}

/* The table of shared options (name, kind, help), for help, man pages and tests. */
extern const struct pk_opt pk_shared_opts[];
/* PK_SHARED_* bit of pk_shared_opts[i]. */
unsigned pk_shared_bit(size_t i);

#endif
