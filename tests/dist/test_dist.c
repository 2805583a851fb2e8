/* SPDX-License-Identifier: MIT */
/* Comm layer under mpiexec at several rank counts (1, 2, 3, 4: the odd count exposes uneven
 * splits). Every case is collective; a failing rank reports, and every rank agrees on the
 * outcome so the job never hangs. */
#include "check.h"
#include "parkit/dist.h"
#include "parkit/sumsq.h"

#include <stdlib.h>

static struct pk_comm comm;

static int case_agree_takes_worst(void)
{
    /* rank r proposes r % 4: everybody must get the largest proposal */
    int want = comm.nranks >= 4 ? 3 : comm.nranks - 1;
    CHECK_EQ_INT(pk_dist_agree(&comm, comm.rank % 4), want);
    CHECK_EQ_INT(pk_dist_agree(&comm, 0), 0);
    return 0;
}

static int case_range_covers_exactly(void)
{
    /* shares are contiguous, ordered, cover [0, n) and differ by at most one */
    static const uint64_t sizes[] = {0, 1, 2, 7, 100003};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint64_t next = 0;
        for (int r = 0; r < comm.nranks; r++) {
            uint64_t lo, hi;
            pk_dist_range(sizes[i], r, comm.nranks, &lo, &hi);
            CHECK_EQ_INT(lo, next);
            CHECK(hi - lo <= sizes[i] / (uint64_t)comm.nranks + 1);
            next = hi;
        }
        CHECK_EQ_INT(next, sizes[i]);
    }
    return 0;
}

static int case_xacc_sum_is_exact(void)
{
    /* Each rank adds its slice of a fixed set of values with cancelling magnitudes; the reduced
     * total must equal the serial exact sum bit for bit. */
    enum { N = 10007 };
    struct pk_xacc mine, all;
    pk_xacc_init(&mine);
    pk_xacc_init(&all);
    uint64_t lo, hi;
    pk_dist_range(N, comm.rank, comm.nranks, &lo, &hi);
    for (uint64_t i = 0; i < N; i++) {
        double v = ldexp((double)((i * 2654435761u) % 1000003) - 500001.0, (int)(i % 97) - 48);
        pk_xacc_add(&all, v);
        if (i >= lo && i < hi)
            pk_xacc_add(&mine, v);
    }
    CHECK_OK(pk_dist_sum_xacc(&comm, &mine));
    CHECK_EQ_DBL(pk_xacc_round(&mine), pk_xacc_round(&all));
    return 0;
}

static int case_u128_sum_carries(void)
{
    /* every rank contributes 2^64 - 1: the sum needs the carry into the high word */
    pk_u128 v = UINT64_MAX;
    CHECK_OK(pk_dist_sum_u128(&comm, &v));
    CHECK(v == (pk_u128)UINT64_MAX * (pk_u128)comm.nranks);
    uint64_t u = (uint64_t)comm.rank + 1;
    CHECK_OK(pk_dist_sum_u64(&comm, &u, 1));
    CHECK_EQ_INT(u, (uint64_t)comm.nranks * (uint64_t)(comm.nranks + 1) / 2);
    return 0;
}

static int case_max_and_gather(void)
{
    CHECK_EQ_DBL(pk_dist_max_double(&comm, (double)comm.rank * 0.5),
                 (double)(comm.nranks - 1) * 0.5);
    char mine[32];
    snprintf(mine, sizeof mine, "rank-%d%s", comm.rank, comm.rank % 2 ? "-odd" : "");
    char **all = NULL;
    CHECK_OK(pk_dist_gather_strings(&comm, mine, &all));
    if (comm.rank == 0) {
        CHECK(all != NULL);
        for (int r = 0; r < comm.nranks; r++) {
            char want[32];
            snprintf(want, sizeof want, "rank-%d%s", r, r % 2 ? "-odd" : "");
            CHECK(strcmp(all[r], want) == 0);
        }
    } else {
        CHECK(all == NULL);
    }
    pk_dist_free_strings(all, comm.nranks);
    return 0;
}

static int case_sumsq_ranks_match_serial(void)
{
    /* The float64 kernel on each rank's block-aligned share, reduced exactly, equals one
     * process doing everything, for a size that splits unevenly. */
    enum { N = 3 * PK_SUMSQ_BLOCK + 4099 };
    static double x[N];
    pk_sumsq_fill(x, N, 0, 7, 1);
    struct pk_xacc whole, part;
    pk_xacc_init(&whole);
    pk_xacc_init(&part);
    CHECK_OK(pk_sumsq_f64(x, N, 1, &whole));
    uint64_t nb = (N + PK_SUMSQ_BLOCK - 1) / PK_SUMSQ_BLOCK, b0, b1;
    pk_dist_range(nb, comm.rank, comm.nranks, &b0, &b1);
    uint64_t lo = b0 * PK_SUMSQ_BLOCK, hi = b1 * PK_SUMSQ_BLOCK < N ? b1 * PK_SUMSQ_BLOCK : N;
    if (lo < hi)
        CHECK_OK(pk_sumsq_f64(x + lo, hi - lo, 2, &part));
    CHECK_OK(pk_dist_sum_xacc(&comm, &part));
    CHECK_EQ_DBL(pk_xacc_round(&part), pk_xacc_round(&whole));
    return 0;
}

static const struct check_case cases[] = {
    {"agree_takes_worst", case_agree_takes_worst},
    {"range_covers_exactly", case_range_covers_exactly},
    {"xacc_sum_is_exact", case_xacc_sum_is_exact},
    {"u128_sum_carries", case_u128_sum_carries},
    {"max_and_gather", case_max_and_gather},
    {"sumsq_ranks_match_serial", case_sumsq_ranks_match_serial},
};

int main(int argc, char **argv)
{
    if (pk_dist_init(&argc, &argv, true, &comm, NULL) != PK_OK)
        return 1;
    int rc = CHECK_MAIN(cases);
    /* a case that failed on one rank fails on all, so mpiexec reports it once and exits */
    rc = pk_dist_agree(&comm, rc);
    pk_dist_finalize(&comm);
    return rc;
}
