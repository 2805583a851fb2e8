/* SPDX-License-Identifier: MIT */
/* Benchmark tool (not a test) for pk_loop, the counterpart of Python's asyncio:
 *   bench_loop sleep N CONCURRENCY SECONDS [THREADS [REPS]]
 * N tasks each waiting SECONDS on a timer, at most CONCURRENCY at once, on THREADS loop threads
 * (default 1): the wall time from the first submission to the last completion against the ideal
 * ceil(N / CONCURRENCY) * SECONDS. The engine is started before the clock starts. Every task is
 * checked (each completes once, none early); a wrong one exits 3. Prints the median wall, its
 * distance from the ideal and the process's max RSS. */
#include "parkit/loop.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

struct waiter {
    double start, end;
    int steps;
};

static double wait_s;

static int wait_step(void *arg, struct pk_lctx *ctx, double *sleep_s, void **result,
                     struct pk_err *err)
{
    (void)ctx, (void)result, (void)err;
    struct waiter *w = arg;
    if (w->steps++ == 0) {
        w->start = now_s();
        *sleep_s = wait_s;
        return PK_STEP_SLEEP;
    }
    w->end = now_s();
    return PK_OK;
}

static const struct pk_ltask_ops wait_ops = {wait_step, NULL};

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One run: the wall time, or -1 when a task went wrong. */
static double run(size_t n, size_t conc, int threads, struct waiter *w, struct pk_ltask **t)
{
    struct pk_loop *l;
    struct pk_queue *done;
    if (pk_loop_create(threads, conc, NULL, &l) != PK_OK ||
        pk_queue_create(n, pk_ltask_release_item, &done) != PK_OK)
        return -1;
    memset(w, 0, n * sizeof *w);
    void **args = malloc(n * sizeof *args);
    for (size_t i = 0; args && i < n; i++)
        args[i] = &w[i];
    double t0 = now_s();
    if (!args || pk_loop_submit_many(l, &wait_ops, args, n, 0, done, t) != PK_OK)
        return -1;
    free(args);
    void *items[256];
    for (size_t got = 0; got < n;) {
        int st;
        size_t k = pk_queue_pop_many(done, items, 256, &st);
        for (size_t j = 0; j < k; j++)
            pk_ltask_release(items[j]);
        got += k;
    }
    double wall = now_s() - t0;
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        ok = ok && pk_ltask_wait(t[i], 0, NULL, NULL) == PK_OK && w[i].steps == 2 &&
             w[i].end - w[i].start >= wait_s;
        pk_ltask_release(t[i]);
    }
    pk_loop_destroy(l);
    pk_queue_destroy(done);
    return ok ? wall : -1;
}

int main(int argc, char **argv)
{
    if (argc < 5 || strcmp(argv[1], "sleep") != 0) {
        fprintf(stderr, "usage: bench_loop sleep N CONCURRENCY SECONDS [THREADS [REPS]]\n");
        return 2;
    }
    size_t n = strtoull(argv[2], NULL, 10), conc = strtoull(argv[3], NULL, 10);
    wait_s = strtod(argv[4], NULL);
    int threads = argc > 5 ? atoi(argv[5]) : 1, reps = argc > 6 ? atoi(argv[6]) : 5;
    if (n < 1 || conc < 1 || wait_s < 0 || threads < 1 || reps < 1 || reps > 101) {
        fprintf(stderr, "bench_loop: bad arguments\n");
        return 2;
    }
    struct waiter *w = calloc(n, sizeof *w);
    struct pk_ltask **t = calloc(n, sizeof *t);
    double wall[101];
    for (int r = 0; r < reps; r++)
        if (!w || !t || (wall[r] = run(n, conc, threads, w, t)) < 0) {
            fprintf(stderr, "bench_loop: a task went wrong\n");
            return 3;
        }
    qsort(wall, (size_t)reps, sizeof *wall, cmp_dbl);
    double ideal = ceil((double)n / (double)conc) * wait_s, med = wall[reps / 2];
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("loop sleep   %zu x %g s, %zu in flight, %d thread%s: median %.4f s, ideal %.4f s "
           "(+%.1f%%), max RSS %.1f MB\n",
           n, wait_s, conc, threads, threads > 1 ? "s" : "", med, ideal,
           100 * (med - ideal) / ideal, (double)ru.ru_maxrss / 1024);
    free(w);
    free(t);
    return 0;
}
