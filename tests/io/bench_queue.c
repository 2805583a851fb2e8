/* SPDX-License-Identifier: MIT */
/* Benchmark tool (not a test): items per second through pk_queue with 1 producer and C
 * consumers, moving B items per call (B = 1: single push/pop). Every item is counted and summed
 * on the way out, so a lost or duplicated item fails the run (exit 3).
 * usage: bench_queue ITEMS CONSUMERS CAPACITY BATCH [REPS]   prints the median over REPS */
#include "parkit/queue.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct consumer {
    struct pk_queue *q;
    size_t batch;
    uint64_t count, sum;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void *consume(void *arg)
{
    struct consumer *c = arg;
    void *buf[1024];
    int status = PK_OK;
    while (status == PK_OK) {
        size_t k = c->batch == 1 ? (pk_queue_pop(c->q, buf) == PK_OK) : 0;
        if (c->batch == 1 && k == 0)
            break;
        if (c->batch > 1)
            k = pk_queue_pop_many(c->q, buf, c->batch, &status);
        for (size_t i = 0; i < k; i++) {
            c->count++;
            c->sum += (uint64_t)(uintptr_t)buf[i];
        }
    }
    return NULL;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: bench_queue ITEMS CONSUMERS CAPACITY BATCH [REPS]\n");
        return 2;
    }
    uint64_t n = strtoull(argv[1], NULL, 10);
    int nc = atoi(argv[2]);
    size_t cap = strtoull(argv[3], NULL, 10), batch = strtoull(argv[4], NULL, 10);
    int reps = argc > 5 ? atoi(argv[5]) : 5;
    if (nc < 1 || nc > 64 || batch < 1 || batch > 1024 || reps < 1 || reps > 100) {
        fprintf(stderr, "bench_queue: consumers 1..64, batch 1..1024, reps 1..100\n");
        return 2;
    }
    double t[100];
    for (int r = 0; r < reps; r++) {
        struct pk_queue *q;
        if (pk_queue_create(cap, NULL, &q) != PK_OK)
            return 1;
        struct consumer c[64];
        pthread_t th[64];
        for (int i = 0; i < nc; i++) {
            c[i] = (struct consumer){.q = q, .batch = batch};
            pthread_create(&th[i], NULL, consume, &c[i]);
        }
        void *buf[1024];
        double t0 = now_s();
        for (uint64_t i = 1; i <= n; i += batch) {
            size_t k = n - i + 1 < batch ? (size_t)(n - i + 1) : batch;
            for (size_t j = 0; j < k; j++)
                buf[j] = (void *)(uintptr_t)(i + j);
            if (batch == 1)
                pk_queue_push(q, buf[0]);
            else
                pk_queue_push_many(q, buf, k, NULL);
        }
        pk_queue_close(q);
        uint64_t count = 0, sum = 0;
        for (int i = 0; i < nc; i++) {
            pthread_join(th[i], NULL);
            count += c[i].count;
            sum += c[i].sum;
        }
        t[r] = now_s() - t0;
        pk_queue_destroy(q);
        if (count != n || sum != n * (n + 1) / 2) {
            fprintf(stderr, "bench_queue: lost or duplicated items (%llu of %llu)\n",
                    (unsigned long long)count, (unsigned long long)n);
            return 3;
        }
    }
    qsort(t, (size_t)reps, sizeof t[0], cmp_dbl);
    double med = t[reps / 2];
    printf("pk_queue items=%llu producers=1 consumers=%d cap=%zu batch=%zu median_s=%.4f "
           "per_item_us=%.4f items_per_s=%.0f\n",
           (unsigned long long)n, nc, cap, batch, med, med / (double)n * 1e6, (double)n / med);
    return 0;
}
