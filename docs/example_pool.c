/* Squares 1..8 on a pool of 4 threads; prints their sum (204). */
#include <parkit/pool.h>
#include <stdint.h>
#include <stdio.h>

static int square(void *arg, struct pk_cancel *cancel, void **result, struct pk_err *err) {
    (void)cancel, (void)err;
    uintptr_t x = (uintptr_t)arg;
    *result = (void *)(x * x);
    return PK_OK;
}

int main(void) {
    struct pk_pool *pool;
    struct pk_future *f[8];
    uintptr_t sum = 0;
    if (pk_pool_create(4, &pool) != PK_OK) return 1;
    for (uintptr_t i = 0; i < 8; i++)
        if (pk_pool_submit(pool, square, (void *)(i + 1), 0, NULL, &f[i]) != PK_OK) return 1;
    for (int i = 0; i < 8; i++) {
        void *r;
        if (pk_future_wait(f[i], -1, &r, NULL) == PK_OK) sum += (uintptr_t)r;
        pk_future_release(f[i]);
    }
    pk_pool_destroy(pool);
    printf("sum of squares: %ju\n", (uintmax_t)sum);
    return sum == 204 ? 0 : 1;
}
