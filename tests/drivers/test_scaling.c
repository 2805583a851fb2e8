/* SPDX-License-Identifier: MIT */
/* The statistics behind `parkit report`, against values worked out by hand (or, for the rank
 * test, by enumerating every arrangement and by R's wilcox.test). */
#include "check.h"
#include "parkit/status.h"
#include "scaling.h"

#include <stdlib.h>

static int case_median_ci_order_statistics(void)
{
    double x[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, lo, hi, cov;
    /* n = 10: P(B <= 1) = 11/1024, so k = 2 covers 1 - 22/1024 = 97.85%; k = 3 would cover
     * only 1 - 112/1024 = 89%. */
    CHECK_OK(pk_scaling_median_ci(x, 10, 0.95, &lo, &hi, &cov));
    CHECK_EQ_DBL(lo, 2.0);
    CHECK_EQ_DBL(hi, 9.0);
    CHECK_REL(cov, 1 - 22.0 / 1024, 1e-12);
    /* n = 6 is the smallest n with a 95% interval: [min, max] covers 1 - 2/64. */
    CHECK_OK(pk_scaling_median_ci(x, 6, 0.95, &lo, &hi, &cov));
    CHECK_EQ_DBL(lo, 1.0);
    CHECK_EQ_DBL(hi, 6.0);
    CHECK_REL(cov, 1 - 2.0 / 64, 1e-12);
    /* n = 5 cannot reach 95%: [min, max] with its true coverage 1 - 2/32. */
    CHECK_OK(pk_scaling_median_ci(x, 5, 0.95, &lo, &hi, &cov));
    CHECK_EQ_DBL(lo, 1.0);
    CHECK_EQ_DBL(hi, 5.0);
    CHECK_REL(cov, 0.9375, 1e-12);
    CHECK_OK(pk_scaling_median_ci(x, 1, 0.95, &lo, &hi, &cov));
    CHECK_EQ_DBL(lo, 1.0);
    CHECK_EQ_DBL(hi, 1.0);
    CHECK_EQ_DBL(cov, 0.0);
    CHECK(pk_scaling_median_ci(x, 0, 0.95, &lo, &hi, &cov) == PK_EINVAL);
    CHECK(pk_scaling_median_ci(x, 5, 1.0, &lo, &hi, &cov) == PK_EINVAL);
    return 0;
}

static int case_karp_flatt_known(void)
{
    /* S = 3.2 on 4 workers: (1/3.2 - 1/4) / (1 - 1/4) = 0.0625 / 0.75 = 1/12 */
    CHECK_REL(pk_scaling_karp_flatt(3.2, 4), 1.0 / 12, 1e-12);
    CHECK_REL(pk_scaling_karp_flatt(8, 8), 0.0, 1e-15);  /* ideal: no serial part */
    CHECK_REL(pk_scaling_karp_flatt(1, 16), 1.0, 1e-15); /* no speedup: all serial */
    /* Amdahl with f = 0.3 gives e = f exactly at every p */
    for (int p = 2; p <= 64; p *= 2)
        CHECK_REL(pk_scaling_karp_flatt(pk_scaling_amdahl_speedup(0.3, p), p), 0.3, 1e-12);
    CHECK(isnan(pk_scaling_karp_flatt(1.0, 1)));
    CHECK(isnan(pk_scaling_karp_flatt(0.0, 4)));
    return 0;
}

static int case_amdahl_serial(void)
{
    /* A deliberately serial kernel: the same 2.5 s at every count. b = 0, so f = 1, and the
     * speedup 1 gives efficiency 1/p. */
    double p[] = {1, 1, 2, 2, 4, 4, 8, 8}, t[] = {2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5};
    struct pk_scaling_fit fit;
    CHECK_OK(pk_scaling_amdahl_fit(p, t, 8, &fit));
    CHECK_REL(fit.f, 1.0, 1e-12);
    CHECK(fit.f_err < 1e-9);
    CHECK_REL(fit.a, 2.5, 1e-12);
    CHECK_EQ_INT(fit.counts, 4);
    CHECK_REL(pk_scaling_amdahl_speedup(fit.f, 8), 1.0, 1e-12);
    CHECK_REL(pk_scaling_amdahl_speedup(fit.f, 8) / 8, 0.125, 1e-12);
    return 0;
}

static int case_amdahl_parallel(void)
{
    /* A perfectly parallel kernel: T = 8 s / p, so a = 0 and f = 0. */
    double p[] = {1, 2, 4, 8, 16}, t[5];
    for (int i = 0; i < 5; i++)
        t[i] = 8.0 / p[i];
    struct pk_scaling_fit fit;
    CHECK_OK(pk_scaling_amdahl_fit(p, t, 5, &fit));
    CHECK_REL(fit.f, 0.0, 1e-12);
    CHECK_REL(fit.b, 8.0, 1e-12);
    CHECK_REL(pk_scaling_amdahl_speedup(fit.f, 32), 32.0, 1e-9);
    return 0;
}

static int case_amdahl_known_fraction(void)
{
    /* T(p) = 1.3 + 11.7 / p: T(1) = 13 s with f = 0.1 exactly. With noise of +-1% the fit
     * stays within a few standard errors of 0.1, and the error is positive. */
    double p[12], t[12];
    for (int i = 0; i < 12; i++) {
        p[i] = (double)(1 << (i / 3));
        double noise = (i % 3 == 0) ? 0.01 : (i % 3 == 1) ? -0.01 : 0.0;
        t[i] = (1.3 + 11.7 / p[i]) * (1 + noise);
    }
    struct pk_scaling_fit fit;
    CHECK_OK(pk_scaling_amdahl_fit(p, t, 12, &fit));
    CHECK(fit.f_err > 0 && fit.f_err < 0.01);
    CHECK(fabs(fit.f - 0.1) < 3 * fit.f_err);
    /* noiseless: exact */
    for (int i = 0; i < 12; i++)
        t[i] = 1.3 + 11.7 / p[i];
    CHECK_OK(pk_scaling_amdahl_fit(p, t, 12, &fit));
    CHECK_REL(fit.f, 0.1, 1e-12);
    /* one worker count only: nothing to fit */
    double one[] = {4, 4, 4};
    CHECK(pk_scaling_amdahl_fit(one, t, 3, &fit) == PK_EINVAL);
    CHECK(isnan(fit.f));
    return 0;
}

static int case_gustafson_fit(void)
{
    /* Scaled speedup exactly 0.2 + 0.8 p: f = 0.2. */
    double p[] = {1, 2, 4, 8, 16}, s[5];
    for (int i = 0; i < 5; i++)
        s[i] = pk_scaling_gustafson_speedup(0.2, p[i]);
    CHECK_REL(s[4], 13.0, 1e-12);
    struct pk_scaling_fit fit;
    CHECK_OK(pk_scaling_gustafson_fit(p, s, 5, &fit));
    CHECK_REL(fit.f, 0.2, 1e-12);
    CHECK(fit.f_err < 1e-9);
    /* ideal weak scaling: S = p, f = 0; serial: S = 1, f = 1 */
    CHECK_OK(pk_scaling_gustafson_fit(p, p, 5, &fit));
    CHECK_REL(fit.f, 0.0, 1e-12);
    double ones[] = {1, 1, 1, 1, 1};
    CHECK_OK(pk_scaling_gustafson_fit(p, ones, 5, &fit));
    CHECK_REL(fit.f, 1.0, 1e-12);
    CHECK(pk_scaling_gustafson_fit(ones, ones, 5, &fit) == PK_EINVAL);
    return 0;
}

static int case_mann_whitney_exact(void)
{
    /* R's ?wilcox.test example (Hollander & Wolfe): W = 35, one-sided p = 0.1272, so the
     * two-sided exact p is 2 * 0.1272061 = 0.2544123 (checked by enumerating all 3003
     * arrangements). */
    double x[] = {0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46};
    double y[] = {1.15, 0.88, 0.90, 0.74, 1.21};
    double u, pv;
    bool exact;
    CHECK_OK(pk_scaling_mann_whitney(x, 10, y, 5, &u, &pv, &exact));
    CHECK(exact);
    CHECK_EQ_DBL(u, 35.0);
    CHECK_REL(pv, 0.2544122544122544, 1e-12);
    /* complete separation of 5 and 5: U = 0, p = 2 / C(10, 5) = 2/252 */
    double a[] = {1, 2, 3, 4, 5}, b[] = {6, 7, 8, 9, 10};
    CHECK_OK(pk_scaling_mann_whitney(a, 5, b, 5, &u, &pv, &exact));
    CHECK_EQ_DBL(u, 0.0);
    CHECK_REL(pv, 2.0 / 252, 1e-12);
    CHECK_OK(pk_scaling_mann_whitney(b, 5, a, 5, &u, &pv, &exact));
    CHECK_EQ_DBL(u, 25.0);
    CHECK_REL(pv, 2.0 / 252, 1e-12);
    /* 3 against 3 can never reach 5%: the smallest p is 2/20 */
    CHECK_OK(pk_scaling_mann_whitney(a, 3, b, 3, &u, &pv, &exact));
    CHECK_REL(pv, 0.1, 1e-12);
    CHECK(pk_scaling_mann_whitney(a, 0, b, 3, &u, &pv, &exact) == PK_EINVAL);
    return 0;
}

static int case_mann_whitney_ties_normal(void)
{
    /* Ties force the normal approximation: U = 7.5; tie groups 2,3,4,5,6 of sizes 2,4,3,3,2
     * give sum(t^3 - t) = 6+60+24+24+6 = 120, var = 72/12 (18 - 120/272) = 105.3529;
     * z = (|7.5 - 36| - 0.5) / sqrt(var) = 2.72794, p = 2 Q(z) = 0.0063731. */
    double x[] = {1, 2, 2, 3, 3, 3, 4, 5}, y[] = {3, 4, 4, 5, 5, 6, 6, 7, 8};
    double u, pv;
    bool exact;
    CHECK_OK(pk_scaling_mann_whitney(x, 8, y, 9, &u, &pv, &exact));
    CHECK(!exact);
    CHECK_EQ_DBL(u, 7.5);
    CHECK_REL(pv, 0.006373133838085877, 1e-9);
    /* identical samples: no evidence at all */
    double same[] = {2, 2, 2, 2};
    CHECK_OK(pk_scaling_mann_whitney(same, 4, same, 4, &u, &pv, &exact));
    CHECK_EQ_DBL(pv, 1.0);
    return 0;
}

static const struct check_case cases[] = {
    {"median_ci_order_statistics", case_median_ci_order_statistics},
    {"karp_flatt_known", case_karp_flatt_known},
    {"amdahl_serial", case_amdahl_serial},
    {"amdahl_parallel", case_amdahl_parallel},
    {"amdahl_known_fraction", case_amdahl_known_fraction},
    {"gustafson_fit", case_gustafson_fit},
    {"mann_whitney_exact", case_mann_whitney_exact},
    {"mann_whitney_ties_normal", case_mann_whitney_ties_normal},
};

int main(int argc, char **argv)
{
    return CHECK_MAIN(cases);
}
