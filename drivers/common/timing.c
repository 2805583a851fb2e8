/* SPDX-License-Identifier: MIT */
#include "timing.h"

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double pk_clock_tick_s(void)
{
    /* The smallest non-zero difference over a few hundred back-to-back reads. */
    double best = 1.0;
    for (int i = 0; i < 200; i++) {
        double t0 = pk_now_s(), t1;
        do {
            t1 = pk_now_s();
        } while (t1 == t0);
        if (t1 - t0 < best)
            best = t1 - t0;
    }
    return best;
}

struct pk_stats pk_stats_of(const double *t, int n)
{
    struct pk_stats s = {0};
    if (n <= 0)
        return s;
    double *sorted = malloc(sizeof *sorted * (size_t)n);
    if (!sorted) {
        s.median = s.min = s.max = s.mean = t[0];
        return s;
    }
    memcpy(sorted, t, sizeof *sorted * (size_t)n);
    gsl_sort(sorted, 1, (size_t)n);
    s.median = gsl_stats_median_from_sorted_data(sorted, 1, (size_t)n);
    s.min = sorted[0];
    s.max = sorted[n - 1];
    s.mean = gsl_stats_mean(sorted, 1, (size_t)n);
    s.stddev = n > 1 ? gsl_stats_sd(sorted, 1, (size_t)n) : 0.0;
    free(sorted);
    return s;
}

/* ---- the repetition plan ------------------------------------------------------------------ */

static double reps_budget_s(void)
{
    const char *env = getenv(PK_REPS_BUDGET_ENV);
    char *end;
    double b = env ? strtod(env, &end) : 0.0;
    return env && end != env && *end == '\0' && b > 0.0 ? b : PK_REPS_BUDGET_S;
}

void pk_reps_start(struct pk_reps *p, const struct pk_comm *c, const char *cmd,
                   const struct pk_common_opts *o, double *rep_s)
{
    *p = (struct pk_reps){.c = c, .cmd = cmd, .rep_s = rep_s, .warmup = o->warmup,
                          .reps = o->reps, .may_cut = !o->reps_given, .budget_s = reps_budget_s(),
                          .next = -o->warmup};
}

bool pk_reps_more(const struct pk_reps *p)
{
    return !p->cut && p->next < p->reps;
}

/* The first run was long: it stands as the only run, timed and cold (nothing ran before it). */
static void cut_short(struct pk_reps *p, double dt)
{
    p->rep_s[0] = dt;
    p->reps_run = 1;
    p->cut = true;
    if (!p->c || p->c->rank == 0)
        fprintf(stderr,
                "parkit %s: note: the first run took %.3g s (over the %g s budget), so it ran "
                "once, not warmed up; give --reps R for the warm-up and R timed runs\n",
                p->cmd, dt, p->budget_s);
}

void pk_reps_took(struct pk_reps *p, double dt)
{
    bool first = p->warmup_run + p->reps_run == 0;
    /* agreed over ranks, should one of them read another budget from its environment */
    double over = dt > p->budget_s ? 1.0 : 0.0;
    if (p->may_cut && first && p->c)
        over = pk_dist_max_double(p->c, over);
    if (p->may_cut && first && over > 0) {
        cut_short(p, dt);
        return;
    }
    if (p->next < 0)
        p->warmup_run++;
    else
        p->rep_s[p->reps_run++] = dt;
    p->next++;
}
