/* SPDX-License-Identifier: MIT */
/* A program for `parkit scale run`'s tests: sums 1/k^2 for k = 1..n on t OpenMP threads and
 * prints its own figure of merit twice, as text ("rate: R") and as a JSON object
 * ({"rate": R, "sum": S}), R being n per second. Options: -t THREADS, -n N, -s SECONDS (sleep
 * that long instead of computing: a run that needs no core), -L SECONDS (the last rank, as its
 * launcher numbers it, sleeps that much longer), -f (fail: exit 3), -F T (fail when the thread
 * count is T), -k (kill itself with SIGKILL). */
#include <math.h>
#include <omp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Whether Open MPI or Slurm started this process as the last of its ranks. */
static int is_last_rank(void)
{
    const char *r = getenv("OMPI_COMM_WORLD_RANK"), *n = getenv("OMPI_COMM_WORLD_SIZE");
    if (!r || !n) {
        r = getenv("SLURM_PROCID");
        n = getenv("SLURM_NTASKS");
    }
    return r && n && atoi(r) == atoi(n) - 1;
}

int main(int argc, char **argv)
{
    int t = 1, fail_at = -1;
    long long n = 1000000;
    double sleep_s = 0, last_extra_s = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
        if (strcmp(a, "-t") == 0 && i + 1 < argc)
            t = atoi(v), i++;
        else if (strcmp(a, "-n") == 0 && i + 1 < argc)
            n = (long long)strtod(v, NULL), i++;
        else if (strcmp(a, "-s") == 0 && i + 1 < argc)
            sleep_s = atof(v), i++;
        else if (strcmp(a, "-L") == 0 && i + 1 < argc)
            last_extra_s = atof(v), i++;
        else if (strcmp(a, "-F") == 0 && i + 1 < argc)
            fail_at = atoi(v), i++;
        else if (strcmp(a, "-f") == 0)
            return 3;
        else if (strcmp(a, "-k") == 0)
            raise(SIGKILL);
        else {
            fprintf(stderr, "figure: bad argument '%s'\n", a);
            return 2;
        }
    }
    if (last_extra_s > 0 && is_last_rank())
        sleep_s += last_extra_s;
    if (t == fail_at) {
        fprintf(stderr, "figure: told to fail at %d threads\n", t);
        return 3;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    double sum = 0;
    if (sleep_s > 0) {
        struct timespec ts = {(time_t)sleep_s, (long)((sleep_s - (double)(time_t)sleep_s) * 1e9)};
        nanosleep(&ts, NULL);
    } else {
#pragma omp parallel for num_threads(t) reduction(+ : sum) schedule(static)
        for (long long k = 1; k <= n; k++)
            sum += 1.0 / ((double)k * (double)k);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double dt = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    double rate = dt > 0 ? (double)n / dt : 0;
    printf("progress: done\nrate: %.6g\n{\"rate\": %.6g, \"sum\": %.15g, \"threads\": %d}\n", rate,
           rate, sum, t);
    /* checked against pi^2/6 less the tail's Euler-Maclaurin terms (error ~ 1/(30 n^5)): a
     * wrong loop is a failed run */
    double x = 1.0 / (double)n, tail = x - x * x / 2 + x * x * x / 6;
    return sleep_s > 0 || fabs(sum - (1.6449340668482264 - tail)) < 1e-9 + x * x * x * x ? 0 : 4;
}
