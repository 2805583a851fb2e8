/* SPDX-License-Identifier: MIT */
/* Comm wrapper. Built with PK_HAVE_MPI it calls MPI; without, every collective is the identity
 * on one process, so drivers have a single code path. */
#include "parkit/dist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef PK_HAVE_MPI
#    include <mpi.h>
#endif

bool pk_dist_have_mpi(void)
{
#ifdef PK_HAVE_MPI
    return true;
#else
    return false;
#endif
}

void pk_dist_library_version(char *buf, size_t n)
{
#ifdef PK_HAVE_MPI
    char v[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    MPI_Get_library_version(v, &len);
    /* Open MPI appends a long description after the first line. */
    v[strcspn(v, "\n,")] = '\0';
    snprintf(buf, n, "%s (MPI %d.%d)", v, MPI_VERSION, MPI_SUBVERSION);
#else
    snprintf(buf, n, "none (built without MPI)");
#endif
}

#ifndef PK_HAVE_MPI
/* The world size a launcher announced (Open MPI, PMI, MVAPICH), 1 when none did. */
static long launcher_size(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "MV2_COMM_WORLD_SIZE"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v && atol(v) > 1)
            return atol(v);
    }
    return 1;
}
#endif

#ifdef PK_HAVE_MPI
/* Environment variables set by the launchers we know; any one means "started as a rank". */
static bool started_by_launcher(void)
{
    static const char *const vars[] = {
        "OMPI_COMM_WORLD_SIZE", "PMIX_RANK",      "PMI_RANK", "PMI_SIZE",
        "MV2_COMM_WORLD_SIZE",  "MPI_LOCALNRANKS"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (getenv(vars[i]))
            return true;
    return false;
}
#endif

int pk_dist_init(int *argc, char ***argv, bool force, struct pk_comm *c, struct pk_err *err)
{
    *c = (struct pk_comm){.rank = 0, .nranks = 1, .mpi = false, .thread_level = -1};
#ifdef PK_HAVE_MPI
    if (!force && !started_by_launcher())
        return PK_OK;
    int provided = 0;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return pk_fail(err, PK_EMPI, "MPI_Init_thread failed");
    /* Errors come back as codes so a failing rank can still agree on the exit status. */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &c->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &c->nranks);
    c->mpi = true;
    c->thread_level = provided;
    return PK_OK;
#else
    (void)argc;
    (void)argv;
    if (force)
        return pk_fail(err, PK_EMPI, "MPI requested but parkit was built without MPI");
    /* N copies that each believe they are the only rank would print N answers: refuse */
    long n = launcher_size();
    if (n > 1)
        return pk_fail(err, PK_EINVAL,
                       "started as one of %ld ranks, but parkit was built without MPI: run it "
                       "without the launcher, or rebuild with MPI (PK_WITH_MPI=ON)",
                       n);
    return PK_OK;
#endif
}

void pk_dist_finalize(struct pk_comm *c)
{
#ifdef PK_HAVE_MPI
    if (c && c->mpi) {
        MPI_Finalize();
        c->mpi = false;
    }
#else
    (void)c;
#endif
}

int pk_dist_agree(const struct pk_comm *c, int status)
{
#ifdef PK_HAVE_MPI
    if (c->mpi) {
        int worst = status;
        if (MPI_Allreduce(&status, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD) != MPI_SUCCESS)
            return status > 1 ? status : 1;
        return worst;
    }
#endif
    (void)c;
    return status;
}

void pk_dist_barrier(const struct pk_comm *c)
{
#ifdef PK_HAVE_MPI
    if (c->mpi)
        MPI_Barrier(MPI_COMM_WORLD);
#endif
    (void)c;
}

double pk_dist_max_double(const struct pk_comm *c, double v)
{
#ifdef PK_HAVE_MPI
    if (c->mpi) {
        double out = v;
        MPI_Allreduce(&v, &out, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
        return out;
    }
#endif
    (void)c;
    return v;
}

#ifdef PK_HAVE_MPI
/* Element-wise int64 addition: exact for normalised accumulators (digits < 2^32) as long as
 * fewer than 2^31 ranks contribute. */
static void add_int64(void *in, void *inout, int *len, MPI_Datatype *type)
{
    (void)type;
    const int64_t *a = in;
    int64_t *b = inout;
    for (int i = 0; i < *len; i++)
        b[i] += a[i];
}

/* 128-bit unsigned addition on pairs of uint64 (low word first). */
static void add_u128(void *in, void *inout, int *len, MPI_Datatype *type)
{
    (void)type;
    const uint64_t *a = in;
    uint64_t *b = inout;
    for (int i = 0; i < *len; i++) {
        pk_u128 x = (pk_u128)a[2 * i + 1] << 64 | a[2 * i];
        pk_u128 y = (pk_u128)b[2 * i + 1] << 64 | b[2 * i];
        y += x;
        b[2 * i] = (uint64_t)y;
        b[2 * i + 1] = (uint64_t)(y >> 64);
    }
}

static int allreduce_custom(void *buf, int count, MPI_Datatype type, MPI_User_function *fn)
{
    MPI_Op op;
    if (MPI_Op_create(fn, 1, &op) != MPI_SUCCESS)
        return PK_EMPI;
    int rc = MPI_Allreduce(MPI_IN_PLACE, buf, count, type, op, MPI_COMM_WORLD);
    MPI_Op_free(&op);
    return rc == MPI_SUCCESS ? PK_OK : PK_EMPI;
}
#endif

int pk_dist_sum_xacc(const struct pk_comm *c, struct pk_xacc *acc)
{
#ifdef PK_HAVE_MPI
    if (c->mpi) {
        _Static_assert(sizeof(struct pk_xacc) == PK_XACC_WORDS * sizeof(int64_t),
                       "pk_xacc must be a plain array of int64");
        pk_xacc_normalize(acc);
        int rc = allreduce_custom(acc, PK_XACC_WORDS, MPI_INT64_T, add_int64);
        /* each rank contributed digits < 2^32: the bound on pending additions is the count */
        acc->pending = c->nranks;
        return rc;
    }
#endif
    (void)c;
    (void)acc;
    return PK_OK;
}

int pk_dist_sum_u128(const struct pk_comm *c, pk_u128 *v)
{
#ifdef PK_HAVE_MPI
    if (c->mpi) {
        uint64_t w[2] = {(uint64_t)*v, (uint64_t)(*v >> 64)};
        MPI_Datatype pair;
        MPI_Type_contiguous(2, MPI_UINT64_T, &pair);
        MPI_Type_commit(&pair);
        int rc = allreduce_custom(w, 1, pair, add_u128);
        MPI_Type_free(&pair);
        *v = (pk_u128)w[1] << 64 | w[0];
        return rc;
    }
#endif
    (void)c;
    (void)v;
    return PK_OK;
}

int pk_dist_sum_u64(const struct pk_comm *c, uint64_t *v, size_t n)
{
#ifdef PK_HAVE_MPI
    if (c->mpi) {
        int rc = MPI_Allreduce(MPI_IN_PLACE, v, (int)n, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
        return rc == MPI_SUCCESS ? PK_OK : PK_EMPI;
    }
#endif
    (void)c;
    (void)v;
    (void)n;
    return PK_OK;
}

#if PK_FEATURE_SLEEF /* transform's statistics: in the build with transform only */
#    ifdef PK_HAVE_MPI
/* The statistics travel as raw bytes: every rank runs the same binary, so the layout matches.
 * Called by MPI on any rank; inout gets in merged into it (in is copied because merging
 * normalises its argument). */
static void merge_tstats(void *in, void *inout, int *len, MPI_Datatype *type)
{
    (void)type;
    struct pk_tstats *b = inout;
    for (int i = 0; i < *len; i++) {
        struct pk_tstats a;
        memcpy(&a, (const char *)in + i * sizeof a, sizeof a);
        pk_tstats_merge(&b[i], &a);
    }
}
#    endif

int pk_dist_reduce_tstats(const struct pk_comm *c, struct pk_tstats *s)
{
#ifdef PK_HAVE_MPI
    if (c->mpi) {
        pk_xacc_normalize(&s->p);
        pk_xacc_normalize(&s->t);
        pk_xacc_normalize(&s->q);
        MPI_Datatype bytes;
        if (MPI_Type_contiguous((int)sizeof *s, MPI_BYTE, &bytes) != MPI_SUCCESS)
            return PK_EMPI;
        MPI_Type_commit(&bytes);
        int rc = allreduce_custom(s, 1, bytes, merge_tstats);
        MPI_Type_free(&bytes);
        return rc;
    }
#endif
    (void)c;
    (void)s;
    return PK_OK;
}
#endif /* PK_FEATURE_SLEEF */

/* Messages stay below 1 GiB, far under MPI's INT_MAX element count. */
#define MAX_MESSAGE ((size_t)1 << 30)

int pk_dist_send_bytes(const struct pk_comm *c, int dest, const void *buf, size_t n)
{
#ifdef PK_HAVE_MPI
    if (c->mpi) {
        uint64_t size = n;
        if (MPI_Send(&size, 1, MPI_UINT64_T, dest, 0, MPI_COMM_WORLD) != MPI_SUCCESS)
            return PK_EMPI;
        for (size_t off = 0; off < n; off += MAX_MESSAGE) {
            size_t len = n - off < MAX_MESSAGE ? n - off : MAX_MESSAGE;
            if (MPI_Send((const char *)buf + off, (int)len, MPI_BYTE, dest, 1, MPI_COMM_WORLD) !=
                MPI_SUCCESS)
                return PK_EMPI;
        }
        return PK_OK;
    }
#endif
    (void)c;
    (void)dest;
    (void)buf;
    (void)n;
    return PK_EINVAL;
}

int pk_dist_recv_bytes(const struct pk_comm *c, int src, void **buf, size_t *n)
{
    *buf = NULL;
    *n = 0;
#ifdef PK_HAVE_MPI
    if (c->mpi) {
        uint64_t size = 0;
        if (MPI_Recv(&size, 1, MPI_UINT64_T, src, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE) !=
            MPI_SUCCESS)
            return PK_EMPI;
        char *data = malloc(size ? size : 1);
        if (!data)
            return PK_ENOMEM;
        for (size_t off = 0; off < size; off += MAX_MESSAGE) {
            size_t len = size - off < MAX_MESSAGE ? size - off : MAX_MESSAGE;
            if (MPI_Recv(data + off, (int)len, MPI_BYTE, src, 1, MPI_COMM_WORLD,
                         MPI_STATUS_IGNORE) != MPI_SUCCESS) {
                free(data);
                return PK_EMPI;
            }
        }
        *buf = data;
        *n = size;
        return PK_OK;
    }
#endif
    (void)c;
    (void)src;
    return PK_EINVAL;
}

void pk_dist_abort(const struct pk_comm *c, int code)
{
#ifdef PK_HAVE_MPI
    if (c && c->mpi)
        MPI_Abort(MPI_COMM_WORLD, code);
#endif
    (void)c;
    (void)code;
}

void pk_dist_free_strings(char **all, int n)
{
    if (!all)
        return;
    for (int i = 0; i < n; i++)
        free(all[i]);
    free(all);
}

int pk_dist_gather_strings(const struct pk_comm *c, const char *mine, char ***all)
{
    *all = NULL;
    int n = c->nranks;
    int status = PK_OK;
    char **out = NULL;
    if (c->rank == 0) {
        out = calloc((size_t)n, sizeof *out);
        if (!out)
            status = PK_ENOMEM;
    }
#ifdef PK_HAVE_MPI
    if (c->mpi) {
        int len = (int)strlen(mine) + 1;
        int *lens = NULL, *displs = NULL;
        char *flat = NULL;
        if (c->rank == 0 && status == PK_OK) {
            lens = calloc((size_t)n, sizeof *lens);
            displs = calloc((size_t)n, sizeof *displs);
            if (!lens || !displs)
                status = PK_ENOMEM;
        }
        MPI_Gather(&len, 1, MPI_INT, lens, 1, MPI_INT, 0, MPI_COMM_WORLD);
        size_t total = 0;
        if (c->rank == 0 && status == PK_OK) {
            for (int i = 0; i < n; i++) {
                displs[i] = (int)total;
                total += (size_t)lens[i];
            }
            flat = malloc(total);
            if (!flat)
                status = PK_ENOMEM;
        }
        /* Rank 0 receives into a NULL buffer only when it has already failed; the lengths
         * then still match the call on the other ranks. */
        MPI_Gatherv(mine, len, MPI_CHAR, flat, lens, displs, MPI_CHAR, 0, MPI_COMM_WORLD);
        if (c->rank == 0 && status == PK_OK) {
            for (int i = 0; i < n && status == PK_OK; i++) {
                out[i] = strdup(flat + displs[i]);
                if (!out[i])
                    status = PK_ENOMEM;
            }
        }
        free(flat);
        free(lens);
        free(displs);
        if (status != PK_OK) {
            pk_dist_free_strings(out, n);
            return status;
        }
        *all = out;
        return PK_OK;
    }
#endif
    if (status != PK_OK)
        return status;
    out[0] = strdup(mine);
    if (!out[0]) {
        free(out);
        return PK_ENOMEM;
    }
    *all = out;
    return PK_OK;
}

void pk_dist_range(uint64_t n, int rank, int nranks, uint64_t *lo, uint64_t *hi)
{
    uint64_t base = n / (uint64_t)nranks, extra = n % (uint64_t)nranks;
    uint64_t r = (uint64_t)rank;
    *lo = r * base + (r < extra ? r : extra);
    *hi = *lo + base + (r < extra ? 1 : 0);
}
