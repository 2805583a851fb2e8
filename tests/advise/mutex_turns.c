/* SPDX-License-Identifier: MIT */
/* Threads serialised on one mutex, taking turns as a global interpreter lock makes them: each
 * waits (in its own condition, on the mutex) until it is its turn, computes about a millisecond,
 * and wakes the next. Work that could run in parallel runs on one core at a time.
 * Usage: mutex_turns THREADS TURNS */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
/* one condition per thread: the turn wakes the next thread only, not a herd of them */
static pthread_cond_t your_turn[64];
static int turn, nthreads, turns_left;
static volatile double sink;

static void compute(void)
{
    double x = 0;
    for (int i = 1; i < 800000; i++)
        x += 1.0 / i;
    sink = x;
}

static void *worker(void *arg)
{
    int me = (int)(long)arg;
    pthread_mutex_lock(&lock);
    for (;;) {
        while (turn != me && turns_left > 0)
            pthread_cond_wait(&your_turn[me], &lock);
        if (turns_left <= 0)
            break;
        compute(); /* holding the lock: nobody else computes meanwhile */
        turns_left--;
        turn = (turn + 1) % nthreads;
        if (turns_left > 0)
            pthread_cond_signal(&your_turn[turn]);
        else /* the end: every waiter leaves */
            for (int i = 0; i < nthreads; i++)
                pthread_cond_signal(&your_turn[i]);
    }
    pthread_mutex_unlock(&lock);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 3 || (nthreads = atoi(argv[1])) < 1 || (turns_left = atoi(argv[2])) < 1) {
        fprintf(stderr, "usage: mutex_turns THREADS TURNS\n");
        return 2;
    }
    pthread_t t[64];
    nthreads = nthreads > 64 ? 64 : nthreads;
    for (int i = 0; i < nthreads; i++)
        pthread_cond_init(&your_turn[i], NULL);
    for (int i = 0; i < nthreads; i++)
        if (pthread_create(&t[i], NULL, worker, (void *)(long)i) != 0)
            return 1;
    for (int i = 0; i < nthreads; i++)
        pthread_join(t[i], NULL);
    printf("%d threads took their turns\n", nthreads);
    return 0;
}
