/* SPDX-License-Identifier: MIT */
/* Benchmark tool (not a test) for pk_pool, the counterpart of Python's ThreadPoolExecutor:
 *   bench_pool trivial N THREADS [REPS]   submit N trivial tasks, then wait for each: us/task
 *   bench_pool map N THREADS WINDOW [REPS] the same through pk_pool_map (results in order)
 *   bench_pool sleep N WORKERS SECONDS [REPS]  N tasks sleeping SECONDS: wall vs the ideal
 *     ceil(N / WORKERS) * SECONDS; the pool is started before the clock starts.
 * Every result is checked (value and count); a wrong one exits 3. Prints the median. */
#include "parkit/pool.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int add_one(void *arg, struct pk_cancel *c, void **result, struct pk_err *err)
{
    (void)c;
    (void)err;
    *result = (void *)((uintptr_t)arg + 1);
    return PK_OK;
}

static double sleep_s;

static int sleeper(void *arg, struct pk_cancel *c, void **result, struct pk_err *err)
{
    (void)err;
    *result = arg;
    return pk_cancel_sleep(c, sleep_s);
}

struct tally {
    uint64_t count, sum;
};

static int sink(void *ctx, size_t index, void *result)
{
    struct tally *t = ctx;
    if ((uintptr_t)result != index + 2) /* input index + 1, plus one */
        return PK_EINVAL;
    t->count++;
    t->sum += (uintptr_t)result;
    return PK_OK;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: bench_pool trivial|map|sleep N THREADS [WINDOW|SECONDS] [REPS]\n");
        return 2;
    }
    const char *mode = argv[1];
    size_t n = strtoull(argv[2], NULL, 10);
    int nt = atoi(argv[3]);
    bool with_arg = strcmp(mode, "trivial") != 0;
    double extra = with_arg && argc > 4 ? atof(argv[4]) : 0;
    int reps = argc > (with_arg ? 5 : 4) ? atoi(argv[with_arg ? 5 : 4]) : 5;
    if (n == 0 || n > 100000000 || reps < 1 || reps > 100)
        return 2;
    struct pk_future **f = calloc(n, sizeof *f);
    void **inputs = calloc(n, sizeof *inputs);
    double t[100];
    if (!f || !inputs)
        return 1;
    for (size_t i = 0; i < n; i++)
        inputs[i] = (void *)(uintptr_t)(i + 1);
    sleep_s = extra;
    for (int r = 0; r < reps; r++) {
        struct pk_pool *p;
        if (pk_pool_create(nt, &p) != PK_OK)
            return 1;
        uint64_t count = 0;
        double t0 = now_s();
        if (strcmp(mode, "map") == 0) {
            struct tally tl = {0};
            if (pk_pool_map(p, add_one, inputs, n, (size_t)extra, sink, &tl, NULL, NULL) != PK_OK)
                return 3;
            count = tl.count;
        } else {
            pk_task_fn fn = strcmp(mode, "sleep") == 0 ? sleeper : add_one;
            for (size_t i = 0; i < n; i++)
                if (pk_pool_submit(p, fn, inputs[i], 0, NULL, &f[i]) != PK_OK)
                    return 1;
            for (size_t i = 0; i < n; i++) {
                void *res;
                int rc = pk_future_wait(f[i], -1, &res, NULL);
                uintptr_t want = (uintptr_t)inputs[i] + (fn == add_one ? 1 : 0);
                count += rc == PK_OK && (uintptr_t)res == want;
                pk_future_release(f[i]);
            }
        }
        t[r] = now_s() - t0;
        pk_pool_destroy(p);
        if (count != n) {
            fprintf(stderr, "bench_pool: %llu of %zu results right\n", (unsigned long long)count,
                    n);
            return 3;
        }
    }
    qsort(t, (size_t)reps, sizeof t[0], cmp_dbl);
    double med = t[reps / 2];
    if (strcmp(mode, "sleep") == 0) {
        double ideal = ceil((double)n / nt) * sleep_s;
        printf("pk_pool sleep tasks=%zu workers=%d sleep_s=%g median_s=%.4f ideal_s=%.4f "
               "over_ideal=%+.1f%%\n",
               n, nt, sleep_s, med, ideal, 100 * (med / ideal - 1));
    } else {
        printf("pk_pool %s tasks=%zu threads=%d%s median_s=%.4f per_task_us=%.3f\n", mode, n, nt,
               strcmp(mode, "map") == 0 ? " (window)" : "", med, med / (double)n * 1e6);
    }
    free(f);
    free(inputs);
    return 0;
}
