/* SPDX-License-Identifier: MIT */
/* scale run's plan: points, placeholders, the launcher's command line, the order. */
#include "run.h"
#include "scaling.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const placeholders[] = {"threads", "ranks", "size", NULL};

/* The placeholder at p ("{name}"): its index in placeholders, -1 for literal text, -2 for an
 * unknown name; *len is how much of the text it spans. "{{" and "}}" are literal braces. */
static int placeholder_at(const char *p, size_t *len)
{
    *len = 1;
    if (p[0] != '{' && p[0] != '}')
        return -1;
    if (p[1] == p[0]) {
        *len = 2;
        return -1;
    }
    if (p[0] == '}')
        return -1;
    size_t n = 1;
    while ((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= 'A' && p[n] <= 'Z') || p[n] == '_' ||
           (n > 1 && p[n] >= '0' && p[n] <= '9'))
        n++;
    if (n == 1 || p[n] != '}')
        return -1; /* "{" alone, or "{1,2}": text, not a name */
    *len = n + 1;
    for (int i = 0; placeholders[i]; i++)
        if (strlen(placeholders[i]) == n - 1 && strncmp(p + 1, placeholders[i], n - 1) == 0)
            return i;
    return -2;
}

/* Every placeholder of the command known; *uses bit i set when placeholders[i] appears. */
static int check_placeholders(const struct pk_run_opts *o, unsigned *uses)
{
    *uses = 0;
    for (size_t a = 0; a < o->ncmd; a++)
        for (const char *p = o->cmd[a]; *p;) {
            size_t len;
            int k = placeholder_at(p, &len);
            if (k == -2)
                return pk_usage_error(
                    NULL, "scale run",
                    "unknown placeholder '%.*s' in '%s' (known: {threads}, {ranks}, "
                    "{size}; '{{' for a literal brace)",
                    (int)len, p, o->cmd[a]);
            if (k >= 0)
                *uses |= 1u << k;
            p += len;
        }
    return PK_EXIT_OK;
}

/* text with its placeholders replaced (malloc'd; NULL when out of memory). */
static char *expand(const char *text, const char *const values[3])
{
    size_t n = 1;
    for (const char *p = text; *p;) {
        size_t len;
        int k = placeholder_at(p, &len);
        n += k >= 0 ? strlen(values[k]) : 1;
        p += len;
    }
    char *out = malloc(n), *q = out;
    if (!out)
        return NULL;
    for (const char *p = text; *p;) {
        size_t len;
        int k = placeholder_at(p, &len);
        if (k >= 0) {
            size_t vl = strlen(values[k]);
            memcpy(q, values[k], vl);
            q += vl;
        } else {
            *q++ = *p;
        }
        p += len;
    }
    *q = 0;
    return out;
}

bool pk__run_launched(const struct pk_run_opts *o)
{
    if (o->launcher == PK_LAUNCH_MPIRUN || o->launcher == PK_LAUNCH_SRUN)
        return true;
    return o->launcher == PK_LAUNCH_AUTO && (o->ranks.n > 0 || o->budget > 0);
}

bool pk__run_rank_timed(const struct pk_run_opts *o)
{
    return pk__run_launched(o) && o->self && !o->no_rank_timer;
}

void pk__run_argv_free(char **argv)
{
    for (size_t i = 0; argv && argv[i]; i++)
        free(argv[i]);
    free(argv);
}

/* The launcher's words for point p into v (strdup'd); returns how many. As
 * jobs/ranks-sweep.sh: no binding (mpirun binds a rank to one core when np <= cores, and its
 * OpenMP threads would share it), and the thread count passed to every rank. */
static size_t launcher_words(const struct pk_run_opts *o, const struct pk_run_point *p, char **v)
{
    char np[24], omp[48];
    snprintf(np, sizeof np, "%d", p->ranks);
    snprintf(omp, sizeof omp, "OMP_NUM_THREADS=%d", p->threads);
    size_t n = 0;
    if (o->launcher == PK_LAUNCH_SRUN) {
        char cpus[40];
        snprintf(cpus, sizeof cpus, "--cpus-per-task=%d", p->threads);
        const char *w[] = {"srun", "--ntasks", np, cpus, "--cpu-bind=none", "--export=ALL"};
        for (size_t i = 0; i < sizeof w / sizeof *w; i++)
            v[n++] = strdup(w[i]);
        return n;
    }
    const char *mpirun = getenv("PARKIT_MPIRUN");
    const char *w[] = {
        mpirun && *mpirun ? mpirun : "mpirun", "-np", np, "--bind-to", "none", "-x", omp};
    for (size_t i = 0; i < sizeof w / sizeof *w; i++)
        v[n++] = strdup(w[i]);
    return n;
}

char **pk__run_argv(const struct pk_run_opts *o, const struct pk_run_point *p)
{
    char t[24], r[24], s[24];
    snprintf(t, sizeof t, "%d", p->threads);
    snprintf(r, sizeof r, "%d", p->ranks);
    snprintf(s, sizeof s, "%" PRIu64, p->size);
    const char *const values[3] = {t, r, s};
    char **v = calloc(o->ncmd + 16, sizeof *v);
    if (!v)
        return NULL;
    size_t n = pk__run_launched(o) ? launcher_words(o, p, v) : 0;
    if (pk__run_rank_timed(o)) {
        v[n++] = strdup(o->self);
        v[n++] = strdup(PK_RANK_TIMER_ARG);
    }
    bool ok = true;
    for (size_t i = 0; i < n; i++)
        ok = ok && v[i];
    for (size_t i = 0; i < o->ncmd; i++)
        ok = (v[n++] = expand(o->cmd[i], values)) && ok;
    if (!ok) {
        pk__run_argv_free(v);
        return NULL;
    }
    return v;
}

static int check_axes(const struct pk_run_opts *o, unsigned uses)
{
    if ((uses & 4u) && o->sizes.n == 0)
        return pk_usage_error(NULL, "scale run",
                              "the command has {size}: give the sizes with --size LIST");
    if (!(uses & 4u) && o->sizes.n > 0)
        return pk_usage_error(NULL, "scale run",
                              "--size is given but the command has no {size} to put it in");
    if (o->mode == PK_RUN_WEAK && o->sizes.n == 0)
        return pk_usage_error(NULL, "scale run",
                              "--mode weak grows {size} with the workers: give --size LIST");
    if (o->budget && (o->threads.n || o->ranks.n))
        return pk_usage_error(NULL, "scale run",
                              "--budget %" PRIu64
                              " makes the ranks x threads splits itself; leave out "
                              "--threads and --ranks",
                              o->budget);
    bool many_ranks = o->budget > 1;
    for (size_t i = 0; i < o->ranks.n; i++)
        many_ranks = many_ranks || o->ranks.v[i] > 1;
    if (o->launcher == PK_LAUNCH_NONE && many_ranks)
        return pk_usage_error(
            NULL, "scale run",
            "--launcher none cannot start more than one rank (--ranks or --budget)");
    if (o->target_ci_pct > 0 && o->common.reps < 2)
        return pk_usage_error(NULL, "scale run", "--target-ci needs --reps of at least 2, got '%d'",
                              o->common.reps);
    return PK_EXIT_OK;
}

/* Appends (r, t) at every size to pts. */
static int add_split(const struct pk_run_opts *o, int r, int t, struct pk_run_point *pts, size_t *n,
                     size_t cap)
{
    size_t nsizes = o->sizes.n ? o->sizes.n : 1;
    for (size_t s = 0; s < nsizes; s++) {
        if (*n == cap)
            return pk_usage_error(NULL, "scale run", "more than %zu points: make the lists shorter",
                                  cap);
        uint64_t base = o->sizes.n ? o->sizes.v[s] : 0, w = (uint64_t)r * (uint64_t)t;
        if (o->mode == PK_RUN_WEAK && base > UINT64_MAX / w)
            return pk_usage_error(NULL, "scale run",
                                  "--mode weak: size %" PRIu64 " x %" PRIu64 " workers overflows",
                                  base, w);
        pts[(*n)++] = (struct pk_run_point){.threads = t,
                                            .ranks = r,
                                            .base_size = base,
                                            .size = o->mode == PK_RUN_WEAK ? base * w : base,
                                            .has_size = o->sizes.n > 0};
    }
    return PK_EXIT_OK;
}

int pk__run_plan(const struct pk_run_opts *o, struct pk_run_point **pts, size_t *npts)
{
    *pts = NULL;
    *npts = 0;
    if (o->ncmd == 0)
        return pk_usage_error(NULL, "scale run",
                              "give the program to run after '--', e.g. parkit scale run -t 1,2 -- "
                              "./prog -t {threads}");
    unsigned uses;
    int st = check_placeholders(o, &uses);
    if (st != PK_EXIT_OK || (st = check_axes(o, uses)) != PK_EXIT_OK)
        return st;
    struct pk_count_list threads = {0}, one = {(uint64_t[]){1}, 1};
    if (!o->budget && !o->threads.n && !o->ranks.n &&
        pk_scaling_default_threads(&threads) != PK_EXIT_OK)
        return PK_EXIT_RUNTIME;
    const struct pk_count_list *tl = o->threads.n ? &o->threads : threads.n ? &threads : &one;
    const struct pk_count_list *rl = o->ranks.n ? &o->ranks : &one;
    const size_t cap = 4096;
    *pts = calloc(cap, sizeof **pts);
    if (!*pts) {
        pk_count_list_free(&threads);
        return PK_EXIT_RUNTIME;
    }
    for (uint64_t r = 1; o->budget && r <= o->budget && st == PK_EXIT_OK; r++)
        if (o->budget % r == 0)
            st = add_split(o, (int)r, (int)(o->budget / r), *pts, npts, cap);
    for (size_t i = 0; !o->budget && i < rl->n && st == PK_EXIT_OK; i++)
        for (size_t k = 0; k < tl->n && st == PK_EXIT_OK; k++)
            st = add_split(o, (int)rl->v[i], (int)tl->v[k], *pts, npts, cap);
    pk_count_list_free(&threads);
    if (st != PK_EXIT_OK) {
        free(*pts);
        *pts = NULL;
        *npts = 0;
    }
    return st;
}

void pk__run_shuffle(size_t *v, size_t n, uint64_t seed)
{
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (!rng)
        return; /* out of memory: the order stays as it was, still complete */
    gsl_rng_set(rng, (unsigned long)seed);
    gsl_ran_shuffle(rng, v, n, sizeof *v);
    gsl_rng_free(rng);
}

int pk__run_order(size_t n, int reps, uint64_t seed, size_t **order)
{
    size_t total = n * (size_t)reps;
    *order = malloc((total ? total : 1) * sizeof **order);
    if (!*order)
        return PK_ENOMEM;
    for (size_t i = 0; i < total; i++)
        (*order)[i] = i % n;
    pk__run_shuffle(*order, total, seed);
    return PK_OK;
}
