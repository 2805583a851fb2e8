/* SPDX-License-Identifier: MIT */
/* Internal to scalerun/: one point's repetitions as they come in, and what view.c needs. */
#ifndef PARKIT_SCALERUN_SWEEP_H
#define PARKIT_SCALERUN_SWEEP_H

#include "child.h"
#include "emit.h"
#include "run.h"

/* Every repetition of one point so far. */
struct pk_run_acc {
    double *wall, *metric, *user, *sys, *delay, *other;
    long *rss;
    double *mhz; /* the CPU clock's change during each repetition, % (NaN: unknown) */
    double *pos; /* where in the sweep's sequence of runs each repetition ran (0-based) */
    /* under a launcher, from the per-rank timer: the slowest rank's wall time against the
     * median rank's (%), which rank it was, and how many ranks reported (NaN: not measured) */
    double *rank_spread, *rank_slowest, *rank_seen;
    size_t n, cap;
    int warm_left;       /* warm-up runs still to do before the first timed one */
    bool failed, final;  /* final: recorded (or resumed), no more runs */
    int fail_status;     /* the wait status, or -1 when it could not start / no metric */
    char failure[256];   /* why it failed */
    const char *ci_stop; /* --target-ci: "target reached" or "time budget spent" */
    double ci_pct;       /* the interval's half-width, % of the median (NaN: none) */
};

/* The noise block of a point (a new reference): run delay, other processes' CPU, spread,
 * outliers (flagged, never dropped) and the reasons in words. */
json_t *pk__run_noise(const struct pk_run_acc *a);

/* ranktime.c */
/* One rank's times, as its marker line gave them. */
struct pk_rank_time {
    long rank; /* -1: the launcher gave none */
    double start, wall, user, sys;
};
/* Takes the per-rank timer's markers out of out[0..*len) (shortening it, NUL-terminated) and
 * stores up to cap of them in v; returns how many were found. */
size_t pk__run_rank_times(char *out, size_t *len, struct pk_rank_time *v, size_t cap);
/* How much longer the slowest rank took than the median rank, %, and which rank it was (NaN
 * and -1 for none). */
double pk__run_rank_spread(const struct pk_rank_time *v, size_t n, long *slowest);

/* view.c: the table and CSV of the points (an array of records). ctx: the options. */
void pk__run_table(const json_t *points, const void *ctx);
void pk__run_csv(const json_t *points, struct pk_csvw *w, const void *ctx);

#endif
