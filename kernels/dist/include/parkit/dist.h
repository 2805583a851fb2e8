/* SPDX-License-Identifier: MIT */
/* The MPI half of the kernels: a communicator wrapper that also builds and runs without MPI
 * (one process), block decomposition, and the reductions of each kernel's partial results.
 * This is the only code in parkit that includes mpi.h.
 *
 * Every collective here must be called by all ranks in the same order. Error paths stay
 * collective too: a rank that failed still calls pk_dist_agree, so no rank is left waiting
 * in a collective. Call these from the thread that initialised the comm (MPI_THREAD_FUNNELED). */
#ifndef PARKIT_DIST_H
#define PARKIT_DIST_H

#include "parkit/features.h"
#include "parkit/status.h"
#include "parkit/sumsq.h"
#include "parkit/xacc.h"
#if PK_FEATURE_SLEEF
#    include "parkit/transform.h"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pk_comm {
    int rank, nranks;
    bool mpi;         /* MPI was initialised (started by a launcher or PK_MPI=1) */
    int thread_level; /* provided MPI thread level, -1 without MPI */
};

/* Initialises MPI with MPI_THREAD_FUNNELED when the process was started by an MPI launcher
 * (mpirun, mpiexec, srun) or when `force` is true; otherwise c describes one process and no
 * MPI call is made, which keeps a plain `parkit ...` free of MPI start-up cost. */
int pk_dist_init(int *argc, char ***argv, bool force, struct pk_comm *c, struct pk_err *err);
void pk_dist_finalize(struct pk_comm *c);
/* True when the library was built with MPI. */
bool pk_dist_have_mpi(void);
/* The MPI library's version line ("none" without MPI); callable before init. */
void pk_dist_library_version(char *buf, size_t n);

/* Every rank passes its exit status (0 ok, 1 runtime, 2 usage, 3 verification); every rank
 * gets back the largest one. Collective. */
int pk_dist_agree(const struct pk_comm *c, int status);
void pk_dist_barrier(const struct pk_comm *c);
/* Maximum of v over ranks, on every rank. */
double pk_dist_max_double(const struct pk_comm *c, double v);
/* Exact sums over ranks, result on every rank. */
int pk_dist_sum_xacc(const struct pk_comm *c, struct pk_xacc *acc);
int pk_dist_sum_u128(const struct pk_comm *c, pk_u128 *v);
int pk_dist_sum_u64(const struct pk_comm *c, uint64_t *v, size_t n); /* element-wise, n values */
#if PK_FEATURE_SLEEF
/* Merges every rank's transform statistics with a custom commutative MPI operation
 * (pk_tstats_merge: exact sums, min and max with ties to the lower index); the result on every
 * rank, with the same bits for any reduction tree. s is normalised in place. */
int pk_dist_reduce_tstats(const struct pk_comm *c, struct pk_tstats *s);
#endif
/* Point to point: sends n bytes to rank dest (any size: split into messages below MPI's int
 * count limit). The receiver gets a malloc'd buffer it owns. Not collective. */
int pk_dist_send_bytes(const struct pk_comm *c, int dest, const void *buf, size_t n);
int pk_dist_recv_bytes(const struct pk_comm *c, int src, void **buf, size_t *n);
/* Ends every rank of the job with `code` (MPI_Abort), or returns without MPI so the caller can
 * exit. For failures that cannot be agreed on, such as GMP running out of memory mid-product. */
void pk_dist_abort(const struct pk_comm *c, int code);
/* Rank 0 gets *all, a malloc'd array of nranks malloc'd strings (rank order), each rank's
 * `mine`; other ranks get NULL. Free with pk_dist_free_strings. */
int pk_dist_gather_strings(const struct pk_comm *c, const char *mine, char ***all);
void pk_dist_free_strings(char **all, int n);

/* Contiguous share [*lo, *hi) of n items for `rank` of `nranks`: the first n % nranks ranks get
 * one more item. Decomposition work items are grid blocks, so the grid itself never changes. */
void pk_dist_range(uint64_t n, int rank, int nranks, uint64_t *lo, uint64_t *hi);

#endif
