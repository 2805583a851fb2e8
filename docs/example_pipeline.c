/* A three-stage pipeline: a source counts 1..100, two workers square, one sink sums (338350). */
#include <parkit/pipeline.h>
#include <stdint.h>
#include <stdio.h>

static int count(void *ctx, void *in, void **out, struct pk_err *err) {
    uintptr_t *next = ctx; /* one source worker: no lock needed */
    (void)in, (void)err;
    if (*next > 100) return PK_ECLOSED;
    *out = (void *)(*next)++;
    return PK_OK;
}

static int square(void *ctx, void *in, void **out, struct pk_err *err) {
    (void)ctx, (void)err;
    *out = (void *)((uintptr_t)in * (uintptr_t)in);
    return PK_OK;
}

static int sum(void *ctx, void *in, void **out, struct pk_err *err) {
    (void)err;
    *(uintptr_t *)ctx += (uintptr_t)in; /* one sink worker */
    *out = NULL;
    return PK_OK;
}

int main(void) {
    uintptr_t next = 1, total = 0;
    struct pk_stage stages[] = {{"count", 1, 0, count, &next, NULL},
                                {"square", 2, 8, square, NULL, NULL},
                                {"sum", 1, 8, sum, &total, NULL}};
    struct pk_pipeline_report report;
    if (pk_pipeline_run(stages, 3, NULL, &report, NULL) != PK_OK) {
        fprintf(stderr, "pipeline: %s\n", report.message);
        return 1;
    }
    printf("sum of squares: %ju\n", (uintmax_t)total);
    return total == 338350 ? 0 : 1;
}
