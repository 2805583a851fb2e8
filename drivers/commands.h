/* SPDX-License-Identifier: MIT */
/* The parkit commands. Each takes its own argv (argv[0] is the command name) and the comm
 * initialised by main, and returns the exit status every rank agreed on. */
#ifndef PARKIT_COMMANDS_H
#define PARKIT_COMMANDS_H

#include "cli.h"
#include "parkit/dist.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

int pk_cmd_sumsq(int argc, char **argv, const struct pk_comm *c);
int pk_cmd_info(int argc, char **argv, const struct pk_comm *c);
int pk_cmd_demo(int argc, char **argv, const struct pk_comm *c);
int pk_cmd_factsum(int argc, char **argv, const struct pk_comm *c);
int pk_cmd_fib(int argc, char **argv, const struct pk_comm *c);
int pk_cmd_pipeline(int argc, char **argv, const struct pk_comm *c);
int pk_cmd_race(int argc, char **argv, const struct pk_comm *c);
int pk_cmd_api(int argc, char **argv, const struct pk_comm *c);
int pk_cmd_transform(int argc, char **argv, const struct pk_comm *c);
int pk_cmd_files(int argc, char **argv, const struct pk_comm *c);
int pk_cmd_fetch(int argc, char **argv, const struct pk_comm *c);
int pk_cmd_scale(int argc, char **argv, const struct pk_comm *c);
/* `parkit scale grain`: chunk-size sweep of OpenMP, the pool and MPI (argv[0] "scale"). */
int pk_scale_grain(int argc, char **argv, const struct pk_comm *c);
int pk_cmd_advise(int argc, char **argv, const struct pk_comm *c);
int pk_cmd_resize(int argc, char **argv, const struct pk_comm *c);
int pk_cmd_report(int argc, char **argv, const struct pk_comm *c);
/* False for a command of an optional part this build left out (fetch, transform, resize). */
bool pk_command_built(const char *name);

/* sumsq as a library for the demo: the variants and their options. */
enum pk_sumsq_variant { PK_SUMSQ_RANGE, PK_SUMSQ_GAUSS, PK_SUMSQ_ARRAY, PK_SUMSQ_FILE };
struct pk_sumsq_opts {
    enum pk_sumsq_variant variant;
    uint64_t n;       /* values (range, gauss, array); from the file size for file */
    uint64_t chunk;   /* gauss chunk size */
    uint64_t seed;    /* gauss and array seed */
    const char *file; /* file variant */
    bool canary;      /* drop one block from the reduction to prove verification can fail */
    struct pk_common_opts common;
};
extern const char *const pk_sumsq_variant_names[];
/* Runs sumsq as configured: set-up, warm-up, timed repetitions, verification. Collective.
 * Rank 0 gets *record (the caller owns it) with params, result, verified, timing and
 * provenance (copied from sysinfo); other ranks get NULL. Returns the agreed exit status;
 * errors are printed here. */
int pk_sumsq_execute(const struct pk_comm *c, const struct pk_sumsq_opts *o, const json_t *sysinfo,
                     json_t **record);

/* factsum and fib as libraries for the demo. Like pk_sumsq_execute: collective; rank 0 gets
 * *record when record is not NULL (then nothing is printed, appended or written), otherwise the
 * results are printed and recorded as the command does. */
struct pk_factsum_opts {
    uint64_t *n; /* as given, count values (the caller owns them) */
    size_t count;
    const char *digits;
    uint64_t max_memory;
    bool force, canary;
    struct pk_common_opts common;
};
int pk_factsum_execute(const struct pk_comm *c, const struct pk_factsum_opts *o,
                       const json_t *sysinfo, json_t **record);
struct pk_fib_opts {
    uint64_t *n;
    size_t count;
    const char *digits;
    bool canary;
    struct pk_common_opts common;
};
int pk_fib_execute(const struct pk_comm *c, const struct pk_fib_opts *o, const json_t *sysinfo,
                   json_t **record);

#endif
