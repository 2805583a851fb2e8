/* SPDX-License-Identifier: MIT */
/* Minimal test harness: each test program holds named cases; `test_x CASE` runs one case and
 * CTest registers every case as its own test. A failing CHECK prints the expression, the values
 * and file:line and makes the case return 1; a case returns 77 to be reported as skipped. */
#ifndef PARKIT_TESTS_CHECK_H
#define PARKIT_TESTS_CHECK_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);               \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

#define CHECK_OK(expr)                                                                             \
    do {                                                                                           \
        int check_rc_ = (expr);                                                                    \
        if (check_rc_ != 0) {                                                                      \
            fprintf(stderr, "%s:%d: %s returned %d, expected 0\n", __FILE__, __LINE__, #expr,      \
                    check_rc_);                                                                    \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                         \
    do {                                                                                           \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);                            \
        if (check_a_ != check_b_) {                                                                \
            fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, #a, #b,  \
                    check_a_, check_b_);                                                           \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

/* Bitwise equality of doubles (NaN equals NaN of the same payload); prints both as hex floats. */
#define CHECK_EQ_DBL(a, b)                                                                         \
    do {                                                                                           \
        double check_a_ = (a), check_b_ = (b);                                                     \
        if (memcmp(&check_a_, &check_b_, sizeof check_a_) != 0) {                                  \
            fprintf(stderr, "%s:%d: %s == %s failed: %a != %a\n", __FILE__, __LINE__, #a, #b,      \
                    check_a_, check_b_);                                                           \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

/* Relative comparison as GSL's gsl_test_rel: NaN matches only NaN, infinities must be equal,
 * a zero expected value compares absolutely. */
#define CHECK_REL(got, want, tol)                                                                  \
    do {                                                                                           \
        double check_g_ = (got), check_w_ = (want), check_t_ = (tol);                              \
        int check_ok_;                                                                             \
        if (isnan(check_w_) || isnan(check_g_))                                                    \
            check_ok_ = isnan(check_w_) && isnan(check_g_);                                        \
        else if (isinf(check_w_) || isinf(check_g_))                                               \
            check_ok_ = check_w_ == check_g_;                                                      \
        else if (check_w_ == 0)                                                                    \
            check_ok_ = fabs(check_g_) <= check_t_;                                                \
        else                                                                                       \
            check_ok_ = fabs(check_g_ - check_w_) <= check_t_ * fabs(check_w_);                    \
        if (!check_ok_) {                                                                          \
            fprintf(stderr, "%s:%d: %s ~ %s failed: %.17g vs %.17g (tol %g)\n", __FILE__,          \
                    __LINE__, #got, #want, check_g_, check_w_, check_t_);                          \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

/* Deterministic test inputs: splitmix64 over a caller-held state (seed it with any constant). */
static inline uint64_t check_next_u64(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static inline uint64_t check_below(uint64_t *s, uint64_t n)
{
    return check_next_u64(s) % n;
}

struct check_case {
    const char *name;
    int (*fn)(void);
};

/* main() of every test program: `prog CASE` runs one case, `prog` runs them all. */
static inline int check_main(int argc, char **argv, const struct check_case *cases, size_t n)
{
    int failed = 0;
    for (size_t i = 0; i < n; i++) {
        if (argc > 1 && strcmp(argv[1], cases[i].name) != 0)
            continue;
        int rc = cases[i].fn();
        if (argc > 1)
            return rc;
        fprintf(stderr, "%-40s %s\n", cases[i].name, rc == 0 ? "ok" : rc == 77 ? "skip" : "FAIL");
        failed |= rc != 0 && rc != 77;
    }
    if (argc > 1) {
        fprintf(stderr, "unknown case '%s'\n", argv[1]);
        return 2;
    }
    return failed;
}
#define CHECK_MAIN(cases) check_main(argc, argv, cases, sizeof cases / sizeof cases[0])

#endif
