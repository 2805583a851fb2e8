/* SPDX-License-Identifier: MIT */
/* `parkit scale run`: any program as a scaling experiment. cmd_scale.c declares the options
 * and hands them over in struct pk_run_opts; the files here do the rest:
 *   plan.c    the points (threads x ranks x size, or the splits of a core budget), the
 *             placeholders, the launcher's command line, the seeded order of repetitions
 *   metric.c  the program's own figure of merit from its output (a regex or a JSON field)
 *   child.c   one run as a whole process: timed, its output captured, its tree sampled
 *   ranktime.c the per-rank timer a launcher starts as each rank, and its markers read back
 *   sweep.c   the experiment: resume, repetitions, adaptive repetitions, noise, records
 *   view.c    the table and the CSV */
#ifndef PARKIT_SCALERUN_RUN_H
#define PARKIT_SCALERUN_RUN_H

#include "cli.h"
#include "opt.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

enum pk_run_launcher { PK_LAUNCH_AUTO = -1, PK_LAUNCH_MPIRUN, PK_LAUNCH_SRUN, PK_LAUNCH_NONE };
enum pk_run_mode { PK_RUN_STRONG, PK_RUN_WEAK, PK_RUN_THROUGHPUT };

struct pk_run_opts {
    struct pk_count_list threads, ranks, sizes; /* as given (n == 0: not given) */
    int launcher;                               /* enum pk_run_launcher */
    int mode;                                   /* enum pk_run_mode */
    uint64_t budget;                            /* --budget CORES; 0: none */
    uint64_t seed;
    bool seed_given;
    const char *metric_re, *metric_json;
    const char *resume;               /* the record file to resume (also --record) */
    double target_ci_pct, max_time_s; /* --target-ci (0: off) and its budget */
    const char *experiment;           /* --experiment, or NULL */
    bool no_rank_timer;               /* --no-rank-timer: ranks start the program directly */
    const char *self;                 /* this program's path, for the per-rank timer */
    char **cmd;                       /* the program and its arguments (after --) */
    size_t ncmd;
    struct pk_common_opts common;
};

/* One point of the experiment. */
struct pk_run_point {
    int threads, ranks;
    uint64_t size, base_size; /* size: what {size} becomes (weak: base x workers) */
    bool has_size;
};

/* plan.c */
/* Checks the options and builds the points. Usage errors are printed (naming the option and the
 * value) and give PK_EXIT_USAGE; out of memory PK_EXIT_RUNTIME. *pts is malloc'd. */
int pk__run_plan(const struct pk_run_opts *o, struct pk_run_point **pts, size_t *npts);
/* Whether the points run under a launcher. */
bool pk__run_launched(const struct pk_run_opts *o);
/* Whether each rank runs under the per-rank timer (ranktime.c). */
bool pk__run_rank_timed(const struct pk_run_opts *o);
/* The command line of point p: the launcher and its binding options, then the program with its
 * placeholders replaced. A NULL-terminated malloc'd array of malloc'd strings (free with
 * pk__run_argv_free); NULL when out of memory. */
char **pk__run_argv(const struct pk_run_opts *o, const struct pk_run_point *p);
void pk__run_argv_free(char **argv);
/* The order of the repetitions: each point's index reps times, shuffled by a GSL RNG seeded
 * with seed. *order is malloc'd (n * reps entries). Returns a pk_status. */
int pk__run_order(size_t n, int reps, uint64_t seed, size_t **order);
void pk__run_shuffle(size_t *v, size_t n, uint64_t seed);

/* metric.c */
/* The figure of merit in out[0..len): the first capture group of the last match of regex re
 * (POSIX extended), or the numeric field (a.b for nested objects) of the last JSON object
 * printed (one starting a line). Returns true with *v set, false when not found; *why says why. */
bool pk__run_metric(const struct pk_run_opts *o, const char *out, size_t len, double *v, char *why,
                    size_t whylen);
/* Checks --metric's regex (compiles, has a group): PK_OK or PK_EINVAL with err filled. */
int pk__run_metric_check(const char *re, struct pk_err *err);

/* ranktime.c: `parkit __rank-timer PROGRAM ARGS` (argv from PROGRAM on), what a launcher
 * starts as each rank when scale run measures the ranks one by one: runs the program, prints
 * the rank's times as a marker line on stdout, and ends as the program did. */
#define PK_RANK_TIMER_ARG "__rank-timer"
int pk_rank_timer_main(int argc, char **argv);

/* sweep.c: the whole experiment; returns the exit status (1 when a point failed). */
int pk_scale_run(const struct pk_comm *c, struct pk_run_opts *o);

#endif
