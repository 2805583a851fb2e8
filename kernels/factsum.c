/* SPDX-License-Identifier: MIT */
/* Left factorial by binary splitting; see parkit/factsum.h for the method and the invariants.
 *
 * Parallel structure: one OpenMP parallel region per call. Every range large enough
 * (TASK_MIN_BITS) runs its left half as a task and its right half inline, and the two products
 * of a merge run side by side; nothing waits: the half or product done last carries on. Tasks
 * only create more tasks inside that region, so the thread count is exactly the caller's. */
#include "parkit/factsum.h"

#include "bigmul.h"
#include "mont.h"
#include "parkit/features.h"
#include "parkit/status.h"

#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Ranges this short are done with word-sized factors (Horner from the top); 128 measured best
 * among 16..512 at !1e6 (0.405 s on 1 thread against 0.427 s for 32). */
#define LEAF PK_FACTSUM_LEAF
/* Ranges whose product has fewer bits run serially inside their task: below this a task's
 * overhead (~1 us) is no longer small against the GMP work. */
#define TASK_MIN_BITS 100000.0

/* ---- costs and splits ------------------------------------------------------------------- */

static double log2_fact_below(uint64_t n) /* log2((n-1)!) */
{
    return n < 2 ? 0.0 : lgamma((double)n) / log(2.0);
}

double pk_factsum_bits(uint64_t n)
{
    return log2_fact_below(n);
}

/* Smallest m in (lo, hi) such that the product of [lo, m) has at least `target` bits. */
static uint64_t cut_at_bits(uint64_t lo, uint64_t hi, double target)
{
    double base = log2_fact_below(lo);
    uint64_t a = lo + 1, b = hi - 1;
    while (a < b) {
        uint64_t m = a + (b - a) / 2;
        if (log2_fact_below(m) - base < target)
            a = m + 1;
        else
            b = m;
    }
    return a;
}

/* Split point of [a, b): by cost for long ranges, where factor sizes vary; by count for short
 * ones, where they barely do and lgamma's cost would show. Cost is bits, weighted: when the
 * node itself needs no P, its left child still computes P and T but its right child only T,
 * which measured 1.29x more work per bit on the left (0.258 s against 0.200 s for the halves of
 * !1e6), so the left gets 1/(1 + 1.29) of the bits and both halves finish together. */
#define LEFT_SHARE_NO_P (1 / (1 + PK_FACTSUM_P_WEIGHT))

static uint64_t split_point(uint64_t a, uint64_t b, bool need_P)
{
    if (b - a < 1024)
        return a + (b - a) / 2;
    double share = need_P ? 0.5 : LEFT_SHARE_NO_P;
    return cut_at_bits(a, b, (log2_fact_below(b) - log2_fact_below(a)) * share);
}

void pk_factsum_split(uint64_t lo, uint64_t hi, int k, const double *weight, uint64_t *points)
{
    points[0] = lo;
    points[k] = hi;
    double total = log2_fact_below(hi) - log2_fact_below(lo);
    double inv_sum = 0, inv_before = 0;
    for (int i = 0; i < k; i++)
        inv_sum += 1.0 / (weight ? weight[i] : 1.0);
    for (int i = 1; i < k; i++) {
        inv_before += 1.0 / (weight ? weight[i - 1] : 1.0);
        uint64_t prev = points[i - 1];
        if (hi - lo < 2 || prev >= hi) {
            points[i] = prev < hi ? prev : hi;
            continue;
        }
        uint64_t m = cut_at_bits(lo, hi, total * inv_before / inv_sum);
        points[i] = m < prev ? prev : m;
    }
}

uint64_t pk_factsum_memory_estimate(uint64_t nmax)
{
    /* Measured peak with gmp_guard at n = 1e5..1e7 is 5-6x the result's size in bytes (both
     * halves' P and T, the merge products and FFT scratch), plus the decimal string and its
     * conversion's powers of ten (about 1.5x the result); 10x leaves margin. */
    double bytes = log2_fact_below(nmax) / 8.0;
    return (uint64_t)(10.0 * bytes) + (UINT64_C(16) << 20);
}

uint64_t pk_factsum_memory_estimate_marks(const uint64_t *marks, size_t n)
{
    uint64_t nmax = 0;
    for (size_t i = 0; i < n; i++)
        nmax = marks[i] > nmax ? marks[i] : nmax;
    /* every other !N is kept to the end with its decimal string: 3x its size (measured
     * 209 MB peak for the 10,000 marks 1..10000, whose values total 83 MB) */
    double others = 0;
    for (size_t i = 0; i < n; i++)
        others += marks[i] == nmax ? 0 : 3.0 * log2_fact_below(marks[i]) / 8.0;
    return pk_factsum_memory_estimate(nmax) + (uint64_t)others;
}

/* ---- binary splitting --------------------------------------------------------------------- */

struct bs_ctx {
    int nthreads;
    bool canary; /* corrupt the root merge */
    /* bs work running now (task bodies) and created but not started: a product may take every
     * thread only when nothing else runs or waits to */
    _Atomic int *running, *queued;
};

static void work_queue(const struct bs_ctx *c)
{
    atomic_fetch_add(c->queued, 1);
}

static void work_start(const struct bs_ctx *c)
{
    atomic_fetch_add(c->running, 1); /* first, so that the work never looks alone in between */
    atomic_fetch_sub(c->queued, 1);
}

static void work_end(const struct bs_ctx *c)
{
    atomic_fetch_sub(c->running, 1);
}

static bool work_alone(const struct bs_ctx *c)
{
    return atomic_load(c->running) == 1 && atomic_load(c->queued) == 0;
}

bool pk_factsum_flint(bool use)
{
    return pk_bigmul_flint(use);
}

const char *pk_factsum_flint_use(void)
{
    return pk_bigmul_flint_use();
}

/* A range's P and T, P kept without its factors of two: the true P is P * 2^e. A range of k
 * factors carries about k twos, 1/log2(k) of P's bits (5% at !1e6): every product by P is that
 * much smaller, for one shift of T per merge. */
struct pt {
    mpz_t P, T;
    mp_bitcnt_t e;
};

/* P and T of a short range, as many factors per word-sized GMP call as fit in a word: T by
 * Horner from the top, t = k (1 + t), where steps compose as t = c + m t0 (one step more:
 * c = k (1 + c), m = k m); P from the odd parts. At !1e6 a word holds three factors, so the
 * leaves make a third of the calls on their growing numbers. */
static void leaf(struct pt *r, uint64_t a, uint64_t b, bool need_P)
{
    mpz_set_ui(r->T, b - 1);
    for (uint64_t k = b - 1; k > a;) {
        uint64_t c = 0, m = 1;
        for (; k > a; k--) {
            u128 c1 = (u128)(k - 1) * (1 + (u128)c), m1 = (u128)(k - 1) * m;
            if ((c1 | m1) >> 64 && m > 1)
                break;
            c = (uint64_t)c1;
            m = (uint64_t)m1;
        }
        mpz_mul_ui(r->T, r->T, m);
        mpz_add_ui(r->T, r->T, c);
    }
    r->e = 0;
    if (!need_P)
        return;
    mpz_set_ui(r->P, 1);
    uint64_t acc = 1;
    for (uint64_t k = a; k < b; k++) {
        int z = __builtin_ctzll(k);
        uint64_t odd = k >> z;
        r->e += (mp_bitcnt_t)z;
        if ((u128)acc * odd >> 64) {
            mpz_mul_ui(r->P, r->P, acc);
            acc = odd;
        } else {
            acc *= odd;
        }
    }
    mpz_mul_ui(r->P, r->P, acc);
}

/* The two products of a merge: T2 = P1*T2 and, when need_P, P = P1*P2 (the canary uses P2 for P1
 * in T). One product is never cut into pieces: GMP multiplies an unbalanced pair as several
 * balanced products, so two half-products cost about two whole ones (measured at the root of
 * !1e6: 0.044 s whole, 0.064 s as two parallel pieces). */
static void product_T(struct pt *h1, struct pt *h2, bool need_P, bool canary,
                      const struct bs_ctx *c)
{
    const struct pt *left = canary ? h2 : h1;
    if (need_P)
        pk_bigmul(h2->T, left->P, h2->T, 1);
    else /* the spine's chain: its last merges below the root often run alone (measured at !1e6:
          * the one below the root, 0.016 s on one thread, the other idle) */
        pk_bigmul(h2->T, left->P, h2->T, work_alone(c) ? c->nthreads : 1);
}

/* T = T1 + T2 * 2^e1 once the products are done */
static void merge_finish(struct pt *r, struct pt *h1, struct pt *h2, bool need_P, bool canary)
{
    mpz_mul_2exp(h2->T, h2->T, canary ? h2->e : h1->e);
    mpz_add(r->T, h1->T, h2->T);
    r->e = need_P ? h1->e + h2->e : 0;
}

static void bs_serial(struct pt *r, uint64_t a, uint64_t b, bool need_P, bool canary,
                      const struct bs_ctx *c)
{
    if (b - a <= LEAF) {
        leaf(r, a, b, need_P);
        return;
    }
    uint64_t m = split_point(a, b, need_P);
    struct pt h1, h2;
    mpz_inits(h1.P, h1.T, h2.P, h2.T, NULL);
    bs_serial(&h1, a, m, true, false, c);
    bs_serial(&h2, m, b, need_P, false, c);
    product_T(&h1, &h2, need_P, canary, c);
    if (need_P)
        pk_bigmul(r->P, h1.P, h2.P, 1);
    merge_finish(r, &h1, &h2, need_P, canary);
    mpz_clears(h1.P, h1.T, h2.P, h2.T, NULL);
}

/* A range of the parallel tree. Nothing waits for anything: the half or product that finishes
 * last carries the work on (merge, then the node above). With libgomp, a thread in a taskwait
 * runs only its own task's children: when the child it waited for ran on the other thread, it
 * slept while that child's subtree queued up tasks, and the run went serial meanwhile (!1e6 on 2
 * threads: idle time 0.024 thread-s a run with taskwaits, 0.016 without). */
struct node {
    struct pt r;
    struct node *up, *kids; /* up: NULL at a segment's root; kids: the two halves */
    uint64_t a, b;
    bool need_P, canary;
    _Atomic int pending;  /* halves, then products, not done yet */
    mpz_ptr out_P, out_T; /* at a segment's root: where its true P and T go */
    const struct bs_ctx *c;
};

static void node_run(struct node *n);
static void node_merge(struct node *n);

static void node_init(struct node *n, struct node *up, uint64_t a, uint64_t b, bool need_P,
                      const struct bs_ctx *c)
{
    *n = (struct node){.up = up, .a = a, .b = b, .need_P = need_P, .c = c};
    mpz_inits(n->r.P, n->r.T, NULL);
}

static void node_done(struct node *n)
{
    if (n->up) {
        if (atomic_fetch_sub(&n->up->pending, 1) == 1)
            node_merge(n->up);
        return;
    }
    if (n->need_P)
        mpz_mul_2exp(n->out_P, n->r.P, n->r.e);
    mpz_swap(n->out_T, n->r.T);
    mpz_clears(n->r.P, n->r.T, NULL);
}

static void node_merged(struct node *n)
{
    struct pt *h1 = &n->kids[0].r, *h2 = &n->kids[1].r;
    merge_finish(&n->r, h1, h2, n->need_P, n->canary);
    mpz_clears(h1->P, h1->T, h2->P, h2->T, NULL);
    free(n->kids);
    n->kids = NULL;
    node_done(n);
}

static void product_done(struct node *n)
{
    if (atomic_fetch_sub(&n->pending, 1) == 1)
        node_merged(n);
}

/* the two products as tasks of their own when P is needed: the last one done finishes */
static void node_merge(struct node *n)
{
    struct pt *h1 = &n->kids[0].r, *h2 = &n->kids[1].r;
    if (!n->need_P) {
        product_T(h1, h2, false, n->canary, n->c);
        node_merged(n);
        return;
    }
    const struct bs_ctx *c = n->c; /* n may be freed once its merge is done */
    atomic_store(&n->pending, 2);
    work_queue(c);
#pragma omp task default(none) firstprivate(n, h1, h2, c)
    {
        work_start(c);
        product_T(h1, h2, true, n->canary, c);
        product_done(n);
        work_end(c);
    }
    pk_bigmul(n->r.P, h1->P, h2->P, 1);
    product_done(n);
}

/* the left half as a task, the right one inline; small ranges (or no memory for the halves'
 * nodes) serially */
static void node_run(struct node *n)
{
    const struct bs_ctx *c = n->c;
    bool parallel = c->nthreads > 1 &&
                    log2_fact_below(n->b) - log2_fact_below(n->a) > TASK_MIN_BITS &&
                    n->b - n->a > LEAF;
    n->kids = parallel ? malloc(2 * sizeof *n->kids) : NULL;
    if (!n->kids) {
        bs_serial(&n->r, n->a, n->b, n->need_P, n->canary, c);
        node_done(n);
        return;
    }
    uint64_t m = split_point(n->a, n->b, n->need_P);
    node_init(&n->kids[0], n, n->a, m, true, c);
    node_init(&n->kids[1], n, m, n->b, n->need_P, c);
    atomic_store(&n->pending, 2);
    struct node *left = &n->kids[0], *right = &n->kids[1];
    work_queue(c);
#pragma omp task default(none) firstprivate(left, c)
    {
        work_start(c);
        node_run(left);
        work_end(c);
    }
    node_run(right);
}

/* ---- parts -------------------------------------------------------------------------------- */

static int part_init(struct pk_factsum_part *part, uint64_t lo, uint64_t hi, size_t nmarks)
{
    memset(part, 0, sizeof *part);
    part->lo = lo;
    part->hi = hi;
    mpz_init_set_ui(part->P, 1);
    mpz_init(part->T);
    part->live = true;
    part->has_P = true;
    if (nmarks == 0)
        return PK_OK;
    part->mark = calloc(nmarks, sizeof *part->mark);
    part->mark_T = calloc(nmarks, sizeof *part->mark_T);
    if (!part->mark || !part->mark_T) {
        pk_factsum_part_free(part);
        return PK_ENOMEM;
    }
    part->nmarks = nmarks;
    for (size_t i = 0; i < nmarks; i++)
        mpz_init(part->mark_T[i]);
    return PK_OK;
}

void pk_factsum_part_free(struct pk_factsum_part *part)
{
    if (!part)
        return;
    for (size_t i = 0; i < part->nmarks; i++)
        mpz_clear(part->mark_T[i]);
    free(part->mark_T);
    free(part->mark);
    if (part->live) {
        mpz_clear(part->P);
        mpz_clear(part->T);
    }
    memset(part, 0, sizeof *part);
}

/* Fold the segments left to right: the running T at each cut is T(lo, mark). Inside a parallel
 * region, on one thread (its two products as tasks). */
static void fold(struct pk_factsum_part *part, mpz_t *sP, mpz_t *sT, size_t nseg, bool keep_P,
                 bool canary)
{
    mpz_swap(part->P, sP[0]);
    mpz_swap(part->T, sT[0]);
    for (size_t s = 1; s < nseg; s++) {
        bool more_P = s + 1 < nseg || keep_P;
        mpz_swap(part->mark_T[s - 1], part->T);
        if (canary) {
            /* corrupted: P of the segment instead of the running P, read before the new P
             * overwrites it (serially: the two products would race on sP[s]) */
            pk_bigmul(sT[s], sP[s], sT[s], 1);
            if (more_P) {
                pk_bigmul(sP[s], part->P, sP[s], 1);
                mpz_swap(part->P, sP[s]);
            }
        } else if (more_P) {
#pragma omp task default(none) firstprivate(s) shared(part, sT)
            pk_bigmul(sT[s], part->P, sT[s], 1);
            pk_bigmul(sP[s], part->P, sP[s], 1);
#pragma omp taskwait
            mpz_swap(part->P, sP[s]);
        } else {
            pk_bigmul(sT[s], part->P, sT[s], 1);
        }
        mpz_add(part->T, part->mark_T[s - 1], sT[s]);
    }
}

/* The segments [cut[s], cut[s+1]) between the marks inside (lo, hi), their P and T, and the
 * roots of their trees. */
struct segments {
    size_t n;
    uint64_t *cut;
    mpz_t *P, *T;
    struct node *roots;
};

static void segments_free(struct segments *g)
{
    for (size_t s = 0; g->P && g->T && s < g->n; s++)
        mpz_clears(g->P[s], g->T[s], NULL);
    free(g->cut);
    free(g->P);
    free(g->T);
    free(g->roots);
}

static int segments_init(struct segments *g, uint64_t lo, uint64_t hi, const uint64_t *marks,
                         size_t nmarks, size_t inside)
{
    size_t n = inside + 1;
    *g = (struct segments){.cut = malloc(sizeof *g->cut * (n + 1)),
                           .P = malloc(sizeof(mpz_t) * n),
                           .T = malloc(sizeof(mpz_t) * n),
                           .roots = malloc(sizeof *g->roots * n)};
    if (!g->cut || !g->P || !g->T || !g->roots) {
        segments_free(g);
        return PK_ENOMEM;
    }
    g->n = n;
    g->cut[0] = lo;
    for (size_t i = 0, j = 1; i < nmarks; i++)
        if (marks[i] > lo && marks[i] < hi)
            g->cut[j++] = marks[i];
    g->cut[n] = hi;
    for (size_t s = 0; s < n; s++)
        mpz_inits(g->P[s], g->T[s], NULL);
    return PK_OK;
}

/* Every segment's tree at once, then the fold, in one parallel region of c->nthreads. */
static void segments_run(struct pk_factsum_part *part, struct segments *g, bool keep_P,
                         const struct bs_ctx *c)
{
#pragma omp parallel num_threads(c->nthreads) default(none) shared(part, g, c, keep_P)
    {
#pragma omp single
        {
            for (size_t s = 0; s < g->n; s++) {
                /* the canary corrupts each segment's root merge (and each fold step below) */
                struct node *root = &g->roots[s];
                node_init(root, NULL, g->cut[s], g->cut[s + 1], s + 1 < g->n || keep_P, c);
                root->canary = c->canary;
                root->out_P = g->P[s];
                root->out_T = g->T[s];
                work_queue(c);
#pragma omp task default(none) firstprivate(root, c)
                {
                    work_start(c);
                    node_run(root);
                    work_end(c);
                }
            }
            work_end(c);
        } /* its barrier: every segment's tree done */
#pragma omp single
        fold(part, g->P, g->T, g->n, keep_P, c->canary);
    }
}

int pk_factsum_part_compute(struct pk_factsum_part *part, uint64_t lo, uint64_t hi,
                            const uint64_t *marks, size_t nmarks, bool need_P, int nthreads,
                            unsigned flags)
{
    if (lo < 1 || lo > hi || nthreads < 1 || hi > PK_FACTSUM_MAX_N)
        return PK_EINVAL;
    size_t inside = 0;
    for (size_t i = 0; i < nmarks; i++)
        inside += marks[i] > lo && marks[i] < hi;
    int rc = part_init(part, lo, hi, inside);
    if (rc != PK_OK)
        return rc;
    if (lo == hi)
        return PK_OK;
    struct segments g;
    if (segments_init(&g, lo, hi, marks, nmarks, inside) != PK_OK) {
        pk_factsum_part_free(part);
        return PK_ENOMEM;
    }
    for (size_t s = 0; s + 1 < g.n; s++)
        part->mark[s] = g.cut[s + 1];
    _Atomic int running = 1, queued = 0; /* the single thread in segments_run */
    struct bs_ctx ctx = {.nthreads = nthreads,
                         .canary = (flags & PK_FACTSUM_CANARY) != 0,
                         .running = &running,
                         .queued = &queued};
    segments_run(part, &g, need_P, &ctx);
    part->has_P = need_P;
    segments_free(&g);
    return PK_OK;
}

int pk_factsum_part_merge(struct pk_factsum_part *left, struct pk_factsum_part *right,
                          bool boundary_marked, bool need_P, int nthreads)
{
    if (left->hi != right->lo || !left->has_P || (need_P && !right->has_P) || nthreads < 1)
        return PK_EINVAL;
    size_t n = left->nmarks + (boundary_marked ? 1 : 0) + right->nmarks;
    uint64_t *mark = realloc(left->mark, sizeof *mark * (n ? n : 1));
    if (!mark)
        return PK_ENOMEM;
    left->mark = mark;
    mpz_t *mark_T = realloc(left->mark_T, sizeof(mpz_t) * (n ? n : 1));
    if (!mark_T)
        return PK_ENOMEM;
    left->mark_T = mark_T;
    size_t at = left->nmarks;
    mpz_t old_T;
    mpz_init(old_T);
    mpz_swap(old_T, left->T);
    if (boundary_marked) {
        mark[at] = right->lo;
        mpz_init_set(mark_T[at], old_T);
        at++;
    }
    for (size_t i = 0; i < right->nmarks; i++) {
        mark[at + i] = right->mark[i];
        mpz_init(mark_T[at + i]);
    }
    size_t first = at;
    left->nmarks = n;
    /* Every product is independent: P*T for each of right's marks and for its total, P*P. */
#pragma omp parallel num_threads(nthreads) default(none)                                           \
    shared(left, right, mark_T, first, old_T, need_P)
#pragma omp single
    {
        for (size_t i = 0; i < right->nmarks; i++) {
#pragma omp task default(none) firstprivate(i) shared(left, right, mark_T, first, old_T)
            {
                pk_bigmul(mark_T[first + i], left->P, right->mark_T[i], 1);
                mpz_add(mark_T[first + i], mark_T[first + i], old_T);
            }
        }
        if (need_P) {
#pragma omp task default(none) shared(left, right)
            pk_bigmul(right->P, left->P, right->P, 1);
        }
        pk_bigmul(left->T, left->P, right->T, 1);
        mpz_add(left->T, left->T, old_T);
#pragma omp taskwait
    }
    if (need_P)
        mpz_swap(left->P, right->P);
    left->has_P = need_P;
    left->hi = right->hi;
    mpz_clear(old_T);
    pk_factsum_part_free(right);
    return PK_OK;
}

/* ---- serialisation ------------------------------------------------------------------------
 */

static size_t mpz_nbytes(const mpz_t x)
{
    return mpz_sgn(x) == 0 ? 0 : (mpz_sizeinbase(x, 2) + 7) / 8;
}

int pk_factsum_part_pack(const struct pk_factsum_part *part, void **bytes, size_t *nbytes)
{
    *bytes = NULL;
    *nbytes = 0;
    size_t nvals = 2 + part->nmarks;
    size_t header = 8 * (4 + part->nmarks + nvals);
    size_t total = header;
    for (size_t i = 0; i < nvals; i++) {
        const __mpz_struct *v = i == 0 ? part->P : i == 1 ? part->T : part->mark_T[i - 2];
        total += mpz_nbytes(v);
    }
    uint8_t *buf = malloc(total ? total : 1);
    if (!buf)
        return PK_ENOMEM;
    uint64_t *h = (uint64_t *)(void *)buf;
    h[0] = part->lo;
    h[1] = part->hi;
    h[2] = part->has_P;
    h[3] = part->nmarks;
    for (size_t i = 0; i < part->nmarks; i++)
        h[4 + i] = part->mark[i];
    size_t off = header;
    for (size_t i = 0; i < nvals; i++) {
        const __mpz_struct *v = i == 0 ? part->P : i == 1 ? part->T : part->mark_T[i - 2];
        size_t nb = mpz_nbytes(v);
        h[4 + part->nmarks + i] = nb;
        if (nb)
            mpz_export(buf + off, NULL, -1, 1, 0, 0, v);
        off += nb;
    }
    *bytes = buf;
    *nbytes = total;
    return PK_OK;
}

int pk_factsum_part_unpack(struct pk_factsum_part *part, const void *bytes, size_t nbytes)
{
    const uint8_t *buf = bytes;
    const uint64_t *h = bytes;
    if (nbytes < 48 || h[3] > (nbytes - 48) / 16)
        return PK_EINVAL;
    size_t nmarks = (size_t)h[3], nvals = 2 + nmarks;
    if (8 * (4 + nmarks + nvals) > nbytes || h[0] < 1 || h[0] > h[1])
        return PK_EINVAL;
    for (size_t i = 0; i < nmarks; i++) /* ascending, strictly inside (lo, hi) */
        if (h[4 + i] <= (i ? h[3 + i] : h[0]) || h[4 + i] >= h[1])
            return PK_EINVAL;
    int rc = part_init(part, h[0], h[1], nmarks);
    if (rc != PK_OK)
        return rc;
    part->has_P = h[2] != 0;
    size_t off = 8 * (4 + nmarks + nvals);
    for (size_t i = 0; i < nmarks; i++)
        part->mark[i] = h[4 + i];
    for (size_t i = 0; i < nvals; i++) {
        size_t nb = (size_t)h[4 + nmarks + i];
        if (nb > nbytes - off) { /* not off + nb: a hostile count could wrap around */
            pk_factsum_part_free(part);
            return PK_EINVAL;
        }
        __mpz_struct *v = i == 0 ? part->P : i == 1 ? part->T : part->mark_T[i - 2];
        mpz_import(v, nb, -1, 1, 0, 0, buf + off);
        off += nb;
    }
    return PK_OK;
}

/* ---- modular oracle -----------------------------------------------------------------------
 */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

int pk_factsum_mod(const uint64_t *ns, size_t count, const uint64_t *primes, size_t nprimes,
                   int nthreads, uint64_t *out)
{
    if (nthreads < 1)
        return PK_EINVAL;
    if (count == 0)
        return PK_OK;
    uint64_t *sorted = malloc(sizeof *sorted * count);
    if (!sorted)
        return PK_ENOMEM;
    memcpy(sorted, ns, sizeof *sorted * count);
    qsort(sorted, count, sizeof *sorted, cmp_u64);
#pragma omp parallel for num_threads(nthreads) schedule(dynamic, 1) default(none)                  \
    shared(ns, count, primes, nprimes, out, sorted)
    for (size_t j = 0; j < nprimes; j++) {
        struct mont m = mont_of(primes[j]);
        uint64_t one = redc(m.r2, &m); /* 1 in Montgomery form: R mod p */
        uint64_t fact = one, k = one, sum = 0;
        size_t next = 0;
        for (uint64_t i = 0;; i++) {
            /* sum = sum_{t < i} t! here */
            while (next < count && sorted[next] == i) {
                uint64_t v = redc(sum, &m);
                for (size_t q = 0; q < count; q++)
                    if (ns[q] == i)
                        out[j * count + q] = v;
                next++;
            }
            if (next == count)
                break;
            sum = addmod(sum, fact, m.p);
            fact = redc((u128)fact * k, &m); /* (i+1)! = i! * (i+1) */
            k = addmod(k, one, m.p);
        }
    }
    free(sorted);
    return PK_OK;
}

static bool is_prime_u64(uint64_t n)
{
    mpz_t z;
    mpz_init_set_ui(z, n);
    bool prime = mpz_probab_prime_p(z, 40) > 0;
    mpz_clear(z);
    return prime;
}

static void find_primes(uint64_t *primes, size_t k)
{
    uint64_t c = (UINT64_C(1) << 62) - (UINT64_C(1) << 40) - 1; /* odd */
    for (size_t i = 0; i < k; c -= 2)
        if (is_prime_u64(c))
            primes[i++] = c;
}

/* The first few, found once: the search costs about 80 us, and every value's decimal check asks
 * for them (3,000 values: 0.23 s). */
#define ORACLE_PRIMES_KEPT 8
static uint64_t kept_primes[ORACLE_PRIMES_KEPT];
static pthread_once_t kept_once = PTHREAD_ONCE_INIT;

static void find_kept_primes(void)
{
    find_primes(kept_primes, ORACLE_PRIMES_KEPT);
}

void pk_oracle_primes(uint64_t *primes, size_t k)
{
    if (k > ORACLE_PRIMES_KEPT) {
        find_primes(primes, k);
        return;
    }
    pthread_once(&kept_once, find_kept_primes);
    memcpy(primes, kept_primes, k * sizeof *primes);
}

/* ---- GMP memory guard ---------------------------------------------------------------------- */

/* GMP allocates and frees temporaries inside every large product, from every thread. A shared
 * counter touched on each call measurably slowed 2-thread runs (0.30 s -> 0.50 s at !1e6), so
 * each thread keeps its own running delta and publishes it once it exceeds GUARD_SLACK: the cap
 * and the peak are exact to within GUARD_SLACK per thread, and any single allocation of at least
 * that size is checked at once. */
#define GUARD_SLACK ((int64_t)1 << 20)
static _Atomic int64_t guard_in_use, guard_peak;
static uint64_t guard_limit;
static void (*guard_fail)(size_t);
static _Thread_local int64_t guard_local;

static void guard_account(int64_t delta, size_t requested)
{
    guard_local += delta;
    if (guard_local < GUARD_SLACK && guard_local > -GUARD_SLACK)
        return;
    int64_t now = atomic_fetch_add(&guard_in_use, guard_local) + guard_local;
    guard_local = 0;
    if (guard_limit && now > (int64_t)guard_limit && delta > 0)
        guard_fail(requested);
    int64_t peak = atomic_load(&guard_peak);
    while (now > peak && !atomic_compare_exchange_weak(&guard_peak, &peak, now))
        ;
}

static void guard_reserve(size_t n)
{
    guard_account((int64_t)n, n);
}

static void *guard_alloc(size_t n)
{
    guard_reserve(n);
    void *p = malloc(n);
    if (!p)
        guard_fail(n);
    return p;
}

static void *guard_realloc(void *old, size_t old_n, size_t new_n)
{
    guard_account((int64_t)new_n - (int64_t)old_n, new_n);
    void *p = realloc(old, new_n);
    if (!p)
        guard_fail(new_n);
    return p;
}

static void guard_free(void *p, size_t n)
{
    guard_account(-(int64_t)n, 0);
    free(p);
}

void pk_gmp_guard_install(uint64_t limit_bytes, void (*on_fail)(size_t requested))
{
    guard_limit = limit_bytes;
    guard_fail = on_fail;
    atomic_store(&guard_in_use, 0);
    atomic_store(&guard_peak, 0);
    mp_set_memory_functions(guard_alloc, guard_realloc, guard_free);
}

uint64_t pk_gmp_guard_peak(void)
{
    int64_t peak = atomic_load(&guard_peak);
    return peak > 0 ? (uint64_t)peak : 0;
}
