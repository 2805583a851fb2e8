/* SPDX-License-Identifier: MIT */
/* Honest timing: a monotonic clock, every repetition kept, statistics over all of them. */
#ifndef PARKIT_TIMING_H
#define PARKIT_TIMING_H

#include "cli.h"
#include "parkit/clock.h" /* pk_now_s */

#include <stdbool.h>

/* Smallest observable step of pk_now_s, measured once (as STREAM's checktick does). */
double pk_clock_tick_s(void);

struct pk_stats {
    double median, min, max, mean, stddev;
};
/* Statistics of t[0..n); t is left unchanged. */
struct pk_stats pk_stats_of(const double *t, int n);

/* The runs of a timed computation: --warmup untimed runs, then --reps timed ones. A single
 * computation runs once: when --reps was not given and the first run (the warm-up, or the first
 * timed run under --warmup 0) takes longer than the budget, that run is the only one. It is
 * recorded as the one timed run and as not warm (warm-up 0), and rank 0 says so on stderr.
 * An explicit --reps R always runs R timed runs. Every rank must pass the same times (the
 * slowest rank's), so every rank takes the same decision. */
#define PK_REPS_BUDGET_S 1.0
/* Overrides the budget (seconds, > 0) for the test suite, whose machines are small. */
#define PK_REPS_BUDGET_ENV "PARKIT_REPS_BUDGET_S"

struct pk_reps {
    const struct pk_comm *c;
    const char *cmd;
    double *rep_s;            /* the caller's, room for max(reps, 1) times */
    int warmup, reps;         /* as planned */
    bool may_cut;             /* --reps not given */
    double budget_s;
    int next;                 /* < 0: a warm-up; >= 0: the timed run's index */
    int warmup_run, reps_run; /* what ran */
    bool cut;                 /* stopped after the first run */
};
/* Starts the plan of o's runs into rep_s (room for max(o->reps, 1) entries). */
void pk_reps_start(struct pk_reps *p, const struct pk_comm *c, const char *cmd,
                   const struct pk_common_opts *o, double *rep_s);
/* Whether another run is due; its index is p->next (negative for a warm-up). */
bool pk_reps_more(const struct pk_reps *p);
/* The run p->next took dt seconds (the slowest rank's): kept when timed; may end the plan. */
void pk_reps_took(struct pk_reps *p, double dt);

#endif
