/* SPDX-License-Identifier: MIT */
/* parkit transform: the tutorials' chunked transforms (process_data_chunk, heavy_computation)
 * over a generated index range or the user's own data, with per-chunk and overall statistics.
 *
 * Decomposition: chunks of the global grid go to ranks in contiguous ranges (pk_dist_range),
 * blocks of those chunks to OpenMP threads (kernels/transform.c), and the exact statistics are
 * merged across ranks with a custom MPI operation, so every printed number has the same bits
 * for any thread count, rank count and assignment.
 *
 * Data paths: a generated range without --output runs the kernel over the rank's whole range,
 * and so does a raw file without --output under --read copy (the default): the kernel's threads
 * pread each group of blocks into their own cache-sized buffers just before computing it.
 * Otherwise the rank's range streams through io/pipeline in buffers of BUF_VALUES values cut on
 * the block grid: a read stage fills them (a CSV column, parsed; under --read map a raw file's
 * blocks, mapped by io/rawfile; under --read copy nothing, the kernel reads), a
 * transform stage runs the kernel on them (OpenMP inside), and with --output a write stage
 * stores the results at their offsets in an exclusive temporary (io/atomicfile), published as
 * OUTPUT once every rank succeeded and removed otherwise. One worker per stage keeps the buffers in
 * order; NBUF buffers circulate from a free list, so memory stays bounded whatever the file size.
 *
 * Verification (skipped by --no-verify, recorded as such):
 *  - elements: up to 1000 indices spread over [0, n) (first and last included); each element
 *    within 4 ulp of the long-double twin and each SLEEF function within its documented bound;
 *    in the pipeline, the value actually produced must equal the kernel's element bit for bit.
 *  - windows: chunk prefixes re-run through the kernel and compared with the long-double twin
 *    (sum, mean, variance within the bounds of parkit/transform.h; min, max within 4 ulp;
 *    argmin and argmax equal). Every chunk in full when n <= FULL_CHECK, else up to 16 chunks
 *    (first, last and evenly spaced), WINDOW_VALUES values each.
 *  - overall: with full coverage, the timed result against the twin of every element (chunk
 *    twins merged with Chan's formula in long double); otherwise, for the generated `chunk` op,
 *    the sum against its closed form (sum v^2 exactly, sum sin v by Lagrange's identity), and
 *    for every generated op, min and max recomputed at their indices; for files, the windows
 *    only (the file is not read twice).
 *  - --canary makes the element in the middle of the first window wrong: exit 3. */
#include "commands.h"
#include "emit.h"
#include "opt.h"
#include "parkit/atomicfile.h"
#include "parkit/csv.h"
#include "parkit/pipeline.h"
#include "parkit/queue.h"
#include "parkit/rawfile.h"
#include "parkit/transform.h"
#include "record.h"
#include "sysinfo.h"
#include "timing.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CMD "transform"
/* Values per pipeline buffer (8 MiB): large enough that queue traffic and thread start-up are
 * noise, small enough that NBUF of them fit any machine. */
#define BUF_VALUES (UINT64_C(1) << 20)
/* Buffers in flight: one being read, one computed, one written, one spare. */
#define NBUF 4
/* Full verification (every chunk, every element through the twin) up to this many values:
 * the twin costs ~30-60 ns per element per pass, about 0.5 s on one core at the limit. */
#define FULL_CHECK (UINT64_C(1) << 22)
/* ... and up to this many chunks (the twin's per-chunk bookkeeping). */
#define FULL_CHECK_CHUNKS 4096
/* Otherwise: this many sampled chunks, each checked on a prefix of WINDOW_VALUES values (a
 * multiple of the block, so the prefix ends on the grid). */
#define SAMPLE_CHUNKS 16
#define WINDOW_VALUES (UINT64_C(1) << 18)
/* Sampled elements checked one by one against the twin. */
#define ELEM_SAMPLES 1000

/* The prose of --help after the options. */
static const char description[] =
    "Elements use SLEEF (sin/cos/log within 1 ulp; sin and cos within 3.5 ulp where |v| >= 32,\n"
    "where v*v or sqrt(v + 1) dwarfs them). Statistics are exact sums of\n"
    "per-block parts, so they have the same bits for any thread count, rank count and split;\n"
    "variance is the population variance (ddof = 0). Files are streamed in 8 MiB buffers\n"
    "(4 in flight per rank), so files larger than memory work. Bad input (a non-empty CSV\n"
    "field that is not a number, malformed CSV, an unknown column, a raw file whose size is\n"
    "not a multiple of 8) exits 2 with FILE:LINE:COLUMN and the value named. For a CSV column\n"
    "the count, missing values and exact sum of the values read are reported: the same bits\n"
    "as `parkit files` prints for that column.\n"
    "\n"
    "--format csv: a header, then one row per chunk with --per-chunk (part = the chunk's\n"
    "index) and the overall result (part = total); time_s is the median repetition.\n";

enum source { SRC_RANGE, SRC_RAW, SRC_CSV };

struct opts {
    enum pk_transform_op op;
    uint64_t n, chunk, start;
    bool per_chunk, canary;
    int n_set, chunk_set; /* tags: the option was given */
    enum pk_transform_isa isa;
    enum pk_transform_math math; /* --math: the SLEEF family asked for */
    const char *input, *column, *output;
    enum source src;
    int read;             /* --read: index into read_choices */
    int read_set;         /* tag: --read was given */
    bool no_header;       /* CSV: no header row; --column is then a 1-based number */
    uint64_t column_no;   /* --column with --no-header */
    size_t csv_col;       /* CSV: the column read (0-based), its header name (owned), its */
    char *csv_name;       /* missing values and the exact sum of its values, from the */
    uint64_t csv_missing; /* whole-file pass */
    double csv_sum;
    struct pk_common_opts common;
};

/* ---- options ------------------------------------------------------------------------------ */

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* --isa's choices in the order the help lists them (best first), and what each one means. */
static const char *const isa_choices[] = {"auto", "avx512", "avx2", "sse2", "scalar", NULL};
static const enum pk_transform_isa isa_values[] = {PK_TRANSFORM_ISA_AUTO, PK_TRANSFORM_ISA_AVX512,
                                                   PK_TRANSFORM_ISA_AVX2, PK_TRANSFORM_ISA_SSE2,
                                                   PK_TRANSFORM_ISA_SCALAR};
static const char *const op_choices[] = {"chunk", "heavy", NULL}; /* enum pk_transform_op */
/* enum pk_transform_math */
static const char *const math_choices[] = {"deterministic", "portable", "fast", NULL};
/* --read: how a raw file's values reach the kernel */
enum { READ_COPY, READ_MAP };
static const char *const read_choices[] = {"copy", "map", NULL};

/* What the table cannot say: options that need or exclude each other, the defaults that depend
 * on --op, and the range limit. Then the source the options describe. */
static int check_combination(const struct pk_comm *c, struct opts *o)
{
    struct pk_err err = {0};
    if (o->input && (o->n_set || o->start))
        return pk_usage_error(c, CMD,
                              "-n and --start describe a generated range; --input reads them");
    if (o->column && !o->input)
        return pk_usage_error(c, CMD, "--column needs --input");
    if (o->no_header && !o->input)
        return pk_usage_error(c, CMD, "--no-header needs --input (a CSV file)");
    /* without a header, columns have numbers only */
    if (o->no_header && o->column &&
        pk_parse_count("--column", o->column, 1, PK_CSV_MAX_COLUMNS, &o->column_no, &err) !=
            PK_OK) {
        return pk_usage_error(c, CMD, "%s (with --no-header, a column number)", err.msg);
    }
    if (pk_cli_distinct(c, CMD, "--output", o->output, "--input", o->input) != PK_EXIT_OK ||
        pk_cli_distinct(c, CMD, "--record", o->common.record, "--input", o->input) != PK_EXIT_OK ||
        pk_cli_distinct(c, CMD, "--record", o->common.record, "--output", o->output) != PK_EXIT_OK)
        return PK_EXIT_USAGE;
    if (!o->n_set)
        o->n = o->op == PK_TRANSFORM_CHUNK ? 500000 : 2000000;
    if (!o->chunk_set)
        o->chunk = o->op == PK_TRANSFORM_CHUNK ? 100000 : 500000;
    if (o->start + o->n > (UINT64_C(1) << 53))
        return pk_usage_error(
            c, CMD, "--start %" PRIu64 " + -n %" PRIu64 " exceeds 2^53: values would not be exact",
            o->start, o->n);
    o->src = !o->input                                                    ? SRC_RANGE
             : (o->column || o->no_header || ends_with(o->input, ".csv")) ? SRC_CSV
                                                                          : SRC_RAW;
    if (o->read_set && o->src != SRC_RAW)
        return pk_usage_error(c, CMD, "--read applies to a raw float64 --input file");
    return PK_EXIT_OK;
}

static int parse(int argc, char **argv, const struct pk_comm *c, struct opts *o)
{
    *o = (struct opts){.op = PK_TRANSFORM_CHUNK, .isa = PK_TRANSFORM_ISA_AUTO};
    int op = PK_TRANSFORM_CHUNK, isa = 0, math = 0;
    const struct pk_opt table[] = {
        {"op", 0, PK_OPT_ENUM, &op, "OP",
         "chunk: v*v + sin(v)*100 (the tutorial's process_data_chunk, default)\n"
         "heavy: (sin(v)*cos(v) + sqrt(v+1)) * log(v+1) (heavy_computation;\n"
         "computed with log1p(v), which is log(v+1) without rounding v+1)",
         .choices = op_choices},
        /* generated values must stay exact integers in double: S + N <= 2^53 */
        {"n", 'n', PK_OPT_COUNT, &o->n, "N",
         "values v = S, S+1, ..., S+N-1 (default: 5e5 for chunk, 2e6 for heavy)",
         .max = UINT64_C(1) << 53, .tag = &o->n_set, .tag_value = 1},
        {"chunk", 0, PK_OPT_COUNT, &o->chunk, "C",
         "chunk length (default: 1e5 for chunk, 5e5 for heavy; the tutorials)", .min = 1,
         .tag = &o->chunk_set, .tag_value = 1},
        {"start", 0, PK_OPT_COUNT, &o->start, "S", "first value (default 0)",
         .max = UINT64_C(1) << 53},
        {"per-chunk", 0, PK_OPT_FLAG, &o->per_chunk, NULL,
         "print (and record) every chunk's statistics"},
        {"input", 0, PK_OPT_PATH, &o->input, "F",
         "transform the values of F instead: raw little-endian float64, or a\n"
         "CSV file (F ends in .csv, or --column or --no-header is given), read\n"
         "as `parkit files` reads it: RFC 4180, a header row, empty fields are\n"
         "missing values (skipped, counted and reported)"},
        {"column", 0, PK_OPT_STRING, &o->column, "C",
         "CSV column to read: its header name; with --no-header its number,\n"
         "1-based. Default: the first number column (every non-empty field a\n"
         "decimal number), reported by its name"},
        {"no-header", 0, PK_OPT_FLAG, &o->no_header, NULL,
         "the CSV file has no header row (a first row of numbers only is\n"
         "refused without it, exit 2); columns are numbered 1, 2, ..."},
        {"output", 0, PK_OPT_PATH, &o->output, "F",
         "write the transformed values to F (raw float64), via a temporary\n"
         "file published at the end; nothing is left behind on failure; a\n"
         "device (/dev/null) is written in place; F must not be --input",
         .check = pk_opt_output_file},
        {"isa", 0, PK_OPT_ENUM, &isa, "ISA",
         "element code: auto (default), avx512, avx2, sse2, scalar; with --math\n"
         "fast under MPI, every rank uses the lowest level any rank supports",
         .choices = isa_choices},
        {"math", 0, PK_OPT_ENUM, &math, "M",
         "deterministic (default): SLEEF's deterministic functions with FMA,\n"
         "the same bits at every ISA, so on every CPU with FMA (each rank uses\n"
         "its best; where a rank has no FMA, every rank uses portable, said on\n"
         "stderr); portable: those without FMA, the same bits on every x86-64\n"
         "machine, slower; fast: its regular ones, bits that depend on the ISA",
         .choices = math_choices},
        {"read", 0, PK_OPT_ENUM, &o->read, "HOW",
         "raw --input: copy (default): the computing threads read into cached\n"
         "buffers; map: mapped blocks (no copy; where mapped pages are cheap)",
         .choices = read_choices, .tag = &o->read_set, .tag_value = 1},
        {"canary", 0, PK_OPT_FLAG, &o->canary, NULL,
         "make one element wrong: verification must fail (exit 3)"},
        {NULL},
    };
    const struct pk_cmd_spec spec = {
        .name = CMD,
        .synopsis =
            "[--op chunk|heavy] [-n N] [--chunk C] [--start S] [options]\n"
            "       parkit transform --input FILE [--column NAME] [--output FILE] [options]",
        .summary =
            "Chunked transforms with per-chunk and overall count, sum, mean, min, max (with\n"
            "their indices) and variance; OpenMP inside each rank, chunk ranges across MPI\n"
            "ranks.",
        .description = description,
        .opts = table,
        .shared = PK_SHARED_ALL,
        .formats = PK_FORMATS_CSV,
        .reps_default = 5,
        .reps_cut = true,
    };
    int status = pk_opts_parse(&spec, c, argc, argv, &o->common, NULL);
    o->op = (enum pk_transform_op)op;
    o->isa = isa_values[isa];
    o->math = (enum pk_transform_math)math;
    return status != PK_EXIT_OK ? status : check_combination(c, o);
}

/* ---- CSV column (parkit/csv.h, the reader `parkit files` uses) ------------------------------ */

/* A reader error as FILE:LINE:COLUMN: reason (FILE:LINE: or FILE: where those are 0). A file
 * that cannot be read is PK_EIO, anything wrong in it PK_EINVAL: both are the user's to fix. */
static int csv_fail(struct pk_err *err, int rc, const char *path, const struct pk_csv_error *e)
{
    if (e->line > 0 && e->column > 0)
        return pk_fail(err, rc, "%s:%" PRIu64 ":%zu: %s", path, e->line, e->column, e->reason);
    if (e->line > 0)
        return pk_fail(err, rc, "%s:%" PRIu64 ": %s", path, e->line, e->reason);
    return pk_fail(err, rc, "%s: %s", path, e->reason);
}

/* The header names as "a, b, c" for a message, cut with "..." when long. */
static void column_list(const struct pk_csv_stats *st, char *out, size_t size)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t j = 0; j < st->ncols && n < size; j++)
        n += (size_t)snprintf(out + n, size - n, "%s'%s'", j ? ", " : "", st->col[j].name);
    if (n >= size && size > 4)
        strcpy(out + size - 4, "...");
}

/* Chooses the column of st: --column by header name (or by 1-based number with --no-header),
 * or else the first number column. */
static int pick_column(const struct opts *o, const struct pk_csv_stats *st, size_t *col,
                       struct pk_err *err)
{
    char names[160];
    column_list(st, names, sizeof names);
    if (o->column && o->no_header) {
        if (o->column_no > st->ncols)
            return pk_fail(err, PK_EINVAL, "--column %s: '%s' has %zu column%s", o->column,
                           o->input, st->ncols, st->ncols == 1 ? "" : "s");
        *col = (size_t)o->column_no - 1;
        return PK_OK;
    }
    for (size_t j = 0; j < st->ncols; j++) {
        bool hit =
            o->column ? strcmp(st->col[j].name, o->column) == 0 : st->col[j].type == PK_CSV_NUMBER;
        if (hit) {
            *col = j;
            return PK_OK;
        }
    }
    if (o->column)
        return pk_fail(err, PK_EINVAL, "'%s' has no column '%s'; its columns: %s", o->input,
                       o->column, names);
    return pk_fail(err, PK_EINVAL,
                   "'%s' has no number column (columns: %s); choose one with --column", o->input,
                   names);
}

/* The whole-file pass, on every rank before the run: checks every record, types every column
 * over the whole column, chooses the column, and counts its values (o->n), its missing values
 * and their exact sum, which `parkit files` computes the same way. */
static int csv_scan_input(struct opts *o, struct pk_err *err)
{
    struct pk_csv_opts co = {.no_header = o->no_header};
    struct pk_csv_stats st;
    struct pk_csv_error e;
    int rc = pk_csv_read_stats(o->input, &co, &st, &e);
    if (rc != PK_OK) {
        pk_csv_stats_fini(&st);
        return csv_fail(err, rc == PK_EIO ? PK_EIO : PK_EINVAL, o->input, &e);
    }
    size_t j = 0;
    rc = pick_column(o, &st, &j, err);
    const struct pk_csv_column *c = rc == PK_OK ? &st.col[j] : NULL;
    if (c && c->type == PK_CSV_TEXT)
        rc = pk_fail(err, PK_EINVAL, "%s:%" PRIu64 ":%zu: '%s' in column '%s' is not a number",
                     o->input, c->text_line, j + 1, c->text_value, c->name);
    if (rc == PK_OK) {
        o->csv_col = j;
        o->n = c->count;
        o->csv_missing = c->missing;
        o->csv_sum = pk_xacc_round(&st.col[j].sum);
        o->csv_name = strdup(c->name);
        if (!o->csv_name)
            rc = pk_fail(err, PK_ENOMEM, "out of memory");
    }
    pk_csv_stats_fini(&st);
    return rc;
}

/* Streams the values of one column: missing (empty) fields are skipped. */
struct csv_column {
    struct pk_csv_reader *r;
    const struct opts *o;
    uint64_t line; /* of the last value read */
};

static int csv_column_open(struct csv_column *c, const struct opts *o, struct pk_err *err)
{
    struct pk_csv_opts co = {.no_header = o->no_header};
    struct pk_csv_error e;
    *c = (struct csv_column){.o = o};
    int rc = pk_csv_open(o->input, &co, &c->r, &e);
    if (rc != PK_OK)
        return csv_fail(err, rc == PK_EIO ? PK_EIO : PK_EINVAL, o->input, &e);
    if (o->csv_col >= pk_csv_ncols(c->r) || strcmp(pk_csv_name(c->r, o->csv_col), o->csv_name))
        return pk_fail(err, PK_EIO, "'%s' changed while it was read", o->input);
    return PK_OK;
}

/* The next value: PK_OK, PK_ECLOSED at the end, PK_EINVAL (bad field) or PK_EIO. */
static int csv_column_next(struct csv_column *c, double *v, struct pk_err *err)
{
    for (;;) {
        const struct pk_csv_field *f;
        struct pk_csv_error e;
        int rc = pk_csv_next(c->r, &f, &e);
        if (rc == PK_ECLOSED)
            return rc;
        if (rc != PK_OK)
            return csv_fail(err, rc == PK_EIO ? PK_EIO : PK_EINVAL, c->o->input, &e);
        const struct pk_csv_field *x = &f[c->o->csv_col];
        if (x->len == 0)
            continue; /* a missing value */
        c->line = x->line;
        if (pk_csv_number(x->text, x->len, v))
            return PK_OK;
        char shown[64];
        pk_csv_shown(x->text, x->len, shown, sizeof shown);
        return pk_fail(err, PK_EINVAL, "%s:%" PRIu64 ":%zu: '%s' in column '%s' is not a number",
                       c->o->input, x->line, c->o->csv_col + 1, shown, c->o->csv_name);
    }
}

/* ---- buffers -------------------------------------------------------------------------------- */

/* A pipeline buffer. Each belongs to one stage at a time: it travels read -> transform ->
 * write through the pipeline's queues and back to its free list (home), which holds NBUF of
 * them, so memory stays at NBUF buffers whatever the file size. */
struct buf {
    uint64_t i0, i1;             /* global indices */
    double *v;                   /* BUF_VALUES values: values read, and results for the writer */
    const double *in;            /* the arguments: v (or a raw file's block mapped in place) */
    struct pk_rawfile_block blk; /* raw files: the block of i0..i1 (io/rawfile) */
    struct pk_queue *home;       /* the free list */
};

/* The arguments are no longer needed: a mapped block goes back, whoever takes b next. */
static void buf_unmap(struct buf *b)
{
    pk_rawfile_block_release(&b->blk);
    b->in = b->v;
}

static void buf_free(void *p)
{
    struct buf *b = p;
    if (b) {
        buf_unmap(b);
        free(b->v);
    }
    free(b);
}

/* Every stage's free_item: a buffer done with, or dropped when the pipeline stops, goes back to
 * its free list, which wakes a reader waiting there, so a failure anywhere never leaves the
 * reader blocked. The list has room for every buffer: the push does not block. Called by any
 * stage's thread, or by the one that shuts the pipeline's queues down; no lock held. */
static void buf_recycle(void *p)
{
    struct buf *b = p;
    buf_unmap(b);
    if (pk_queue_push(b->home, b) != PK_OK)
        buf_free(b);
}

/* The free list with NBUF buffers in it (pk_queue_destroy frees them). */
static int buffers_create(struct pk_queue **free_q)
{
    int rc = pk_queue_create(NBUF, buf_free, free_q);
    for (int k = 0; rc == PK_OK && k < NBUF; k++) {
        struct buf *b = calloc(1, sizeof *b);
        if (b)
            b->v = malloc(BUF_VALUES * sizeof *b->v);
        if (!b || !b->v) {
            buf_free(b);
            rc = PK_ENOMEM;
            break;
        }
        b->in = b->v;
        b->home = *free_q;
        if (pk_queue_push(*free_q, b) != PK_OK) {
            buf_free(b);
            rc = PK_ENOMEM;
        }
    }
    return rc;
}

/* End of the buffer that starts at pos: BUF_VALUES values, cut back to the block grid. */
static uint64_t buf_end(const struct opts *o, uint64_t pos, uint64_t hi)
{
    if (hi - pos <= BUF_VALUES)
        return hi;
    uint64_t e = pk_transform_block_floor(o->n, o->chunk, pos + BUF_VALUES);
    return e > pos ? e : hi;
}

/* ---- one run -------------------------------------------------------------------------------- */

struct sample {
    uint64_t i;
    double v, x; /* argument and the value the run produced (pipeline), x NaN if not seen */
    bool seen;
};

struct window {
    uint64_t lo, hi; /* global indices; on the block grid */
    double *v;       /* pipeline: captured arguments (hi - lo), NULL for a generated range */
};

struct run {
    const struct pk_comm *c;
    const struct opts *o;
    struct pk_transform_job job;
    struct pk_transform_ws *ws;
    uint64_t k0, k1, lo, hi; /* this rank's chunks and indices */
    struct pk_tsummary total;
    struct pk_tsummary *chunks; /* --per-chunk: this rank's chunks (rank 0: all, after gather) */
    struct sample *samples;     /* this rank's sampled indices */
    size_t nsamples;
    struct window *windows; /* this rank's verification windows */
    size_t nwindows;
    bool full_coverage;
    bool capture; /* pipeline: copy samples and windows while streaming */
};

static void on_chunk(void *arg, uint64_t k, const struct pk_tsummary *s)
{
    struct run *r = arg;
    r->chunks[k - r->k0] = *s;
}

/* Chunks to verify and the canary's index; the same on every rank. */
static void plan_windows(struct run *r, struct pk_err *err, int *status)
{
    const struct opts *o = r->o;
    uint64_t nchunks = pk_transform_nchunks(o->n, o->chunk);
    r->full_coverage = o->n <= FULL_CHECK && nchunks <= FULL_CHECK_CHUNKS;
    uint64_t want =
        r->full_coverage ? nchunks : (nchunks < SAMPLE_CHUNKS ? nchunks : SAMPLE_CHUNKS);
    r->windows = calloc(want + 1, sizeof *r->windows);
    if (!r->windows) {
        pk_fail(err, PK_ENOMEM, "out of memory");
        *status = PK_EXIT_RUNTIME;
        return;
    }
    uint64_t prev = UINT64_MAX;
    for (uint64_t j = 0; j < want; j++) {
        uint64_t k = r->full_coverage || want < 2 ? j : j * (nchunks - 1) / (want - 1);
        if (k == prev)
            continue;
        prev = k;
        uint64_t lo = k * o->chunk, hi = lo + o->chunk < o->n ? lo + o->chunk : o->n;
        if (!r->full_coverage && hi - lo > WINDOW_VALUES)
            hi = lo + WINDOW_VALUES;
        if (j == 0 && o->canary)
            r->job.canary = lo + (hi - lo) / 2;
        if (k >= r->k0 && k < r->k1)
            r->windows[r->nwindows++] = (struct window){.lo = lo, .hi = hi};
    }
}

static void plan_samples(struct run *r, struct pk_err *err, int *status)
{
    uint64_t n = r->o->n;
    uint64_t k = n < ELEM_SAMPLES ? n : ELEM_SAMPLES;
    r->samples = calloc(k + 1, sizeof *r->samples);
    if (!r->samples) {
        pk_fail(err, PK_ENOMEM, "out of memory");
        *status = PK_EXIT_RUNTIME;
        return;
    }
    uint64_t prev = UINT64_MAX;
    for (uint64_t j = 0; j < k; j++) {
        uint64_t i = k < 2 ? 0 : (uint64_t)((pk_u128)j * (n - 1) / (k - 1));
        if (i == prev)
            continue;
        prev = i;
        /* the canary's index is always among the samples */
        if (i >= r->lo && i < r->hi)
            r->samples[r->nsamples++] =
                (struct sample){.i = i, .v = (double)r->o->start + (double)i, .x = NAN};
    }
}

static int setup(struct run *r, struct pk_err *err)
{
    const struct opts *o = r->o;
    int status = PK_EXIT_OK;
    uint64_t nchunks = pk_transform_nchunks(o->n, o->chunk);
    pk_dist_range(nchunks, r->c->rank, r->c->nranks, &r->k0, &r->k1);
    r->lo = r->k0 * o->chunk < o->n ? r->k0 * o->chunk : o->n;
    r->hi = r->k1 * o->chunk < o->n ? r->k1 * o->chunk : o->n;
    r->job.canary = PK_TRANSFORM_NONE;
    if (pk_transform_ws_alloc(&r->ws) != PK_OK) {
        pk_fail(err, PK_ENOMEM, "out of memory");
        return PK_EXIT_RUNTIME;
    }
    if (o->per_chunk) {
        r->chunks = calloc(r->k1 - r->k0 + 1, sizeof *r->chunks);
        if (!r->chunks) {
            pk_fail(err, PK_ENOMEM, "no memory for %" PRIu64 " chunk summaries", r->k1 - r->k0);
            return PK_EXIT_RUNTIME;
        }
    }
    plan_windows(r, err, &status);
    if (status == PK_EXIT_OK)
        plan_samples(r, err, &status);
    if (status == PK_EXIT_OK && r->job.canary != PK_TRANSFORM_NONE && r->job.canary >= r->lo &&
        r->job.canary < r->hi) {
        /* make sure the canary's element is also sampled */
        r->samples[r->nsamples++] = (struct sample){
            .i = r->job.canary, .v = (double)o->start + (double)r->job.canary, .x = NAN};
    }
    r->capture = o->src != SRC_RANGE || o->output;
    if (status == PK_EXIT_OK && o->src != SRC_RANGE && !o->common.no_verify) {
        for (size_t w = 0; w < r->nwindows; w++) {
            r->windows[w].v = malloc((size_t)(r->windows[w].hi - r->windows[w].lo) * 8 + 8);
            if (!r->windows[w].v) {
                pk_fail(err, PK_ENOMEM, "no memory for the verification windows");
                return PK_EXIT_RUNTIME;
            }
        }
    }
    return status;
}

/* Before the transform (which may overwrite b in place): copies the arguments verification
 * needs, the sampled ones and the windows'. */
static void capture_in(struct run *r, uint64_t i0, uint64_t i1, const double *in)
{
    for (size_t s = 0; s < r->nsamples; s++) {
        struct sample *sm = &r->samples[s];
        if (sm->i >= i0 && sm->i < i1)
            sm->v = in[sm->i - i0];
    }
    for (size_t w = 0; w < r->nwindows; w++) {
        struct window *wd = &r->windows[w];
        if (!wd->v)
            continue;
        uint64_t a = wd->lo > i0 ? wd->lo : i0, e = wd->hi < i1 ? wd->hi : i1;
        if (a < e)
            memcpy(wd->v + (a - wd->lo), in + (a - i0), (size_t)(e - a) * 8);
    }
}

/* After the transform: the values produced at the sampled indices (out: b's results). */
static void capture_out(struct run *r, const struct buf *b, const double *out)
{
    for (size_t s = 0; s < r->nsamples && out; s++) {
        struct sample *sm = &r->samples[s];
        if (sm->i >= b->i0 && sm->i < b->i1) {
            sm->x = out[sm->i - b->i0];
            sm->seen = true;
        }
    }
}

/* Values beyond the op's domain are the input's fault (exit 2), named where they are; they gave
 * NaN statistics and a failed verification (exit 3). */
static const char *domain_what(const struct opts *o)
{
    return o->op == PK_TRANSFORM_HEAVY ? "--op heavy (log(v + 1): v > -1)" : "--op chunk";
}

/* ---- a raw file read by the kernel's threads ------------------------------------------------ */

/* With --read copy, each compute thread preads the arguments it is about to compute into its
 * own cache-sized buffer (the kernel's read mode); the arguments are captured for verification
 * there, from the same buffer. The first failed read's message is kept for the report. */
struct copier {
    struct run *r;
    struct pk_rawfile_stream *raw;
    pthread_mutex_t lock;
    struct pk_err err; /* the first failure */
};

static int copy_values(void *arg, uint64_t lo, uint64_t hi, double *dst)
{
    struct copier *cp = arg;
    struct pk_err e = {0};
    int rc = pk_rawfile_stream_copy(cp->raw, lo, (size_t)(hi - lo), dst, &e);
    if (rc != PK_OK) {
        pthread_mutex_lock(&cp->lock);
        if (!cp->err.msg[0])
            cp->err = e;
        pthread_mutex_unlock(&cp->lock);
        return rc;
    }
    if (cp->r->capture)
        capture_in(cp->r, lo, hi, dst);
    return PK_OK;
}

/* job reads through cp from now on */
static void read_by_copy(struct pk_transform_job *job, struct copier *cp)
{
    job->in = NULL;
    job->read = copy_values;
    job->read_arg = cp;
    job->check_in = true;
}

/* A failed kernel run's message: the bad argument, the failed read, or the status. */
static int transform_failed(const struct run *r, int rc, const struct pk_transform_acc *acc,
                            const struct copier *cp, struct pk_err *err)
{
    if (acc->bad != PK_TRANSFORM_NONE) {
        double lo, hi;
        pk_transform_domain(r->o->op, r->o->n, &lo, &hi);
        return pk_check_values(r->o->input, &acc->bad_value, 1, acc->bad, lo, hi, domain_what(r->o),
                               err);
    }
    if (cp && cp->err.msg[0])
        return pk_fail(err, rc, "%s", cp->err.msg);
    return pk_fail(err, rc, "transform failed: %s", pk_strerror(rc));
}

/* This rank's [lo, hi) of a raw file, without --output: one kernel run reading as it goes. */
static int copy_run(struct run *r, struct pk_transform_acc *acc, struct pk_err *err)
{
    struct copier cp = {.r = r, .lock = PTHREAD_MUTEX_INITIALIZER};
    int rc = pk_rawfile_stream_open(r->o->input, false, &cp.raw, err);
    if (rc != PK_OK)
        return rc;
    struct pk_transform_job job = r->job;
    read_by_copy(&job, &cp);
    rc = pk_transform_run(&job, r->lo, r->hi, r->ws, acc);
    if (rc != PK_OK)
        rc = transform_failed(r, rc, acc, &cp, err);
    pk_rawfile_stream_close(cp.raw);
    return rc;
}

/* ---- the pipeline (io/pipeline: read -> transform -> write) -------------------------------- */

/* The read stage's state: this rank's values in buffer order. Opened and closed by the calling
 * thread around the run; during it, only the read stage's one worker touches it. */
struct feed {
    const struct opts *o;
    struct pk_queue *free_q;
    uint64_t pos, hi;              /* the next buffer starts at pos; the rank's values end at hi */
    struct pk_rawfile_stream *raw; /* SRC_RAW */
    struct csv_column csv;         /* SRC_CSV: positioned at pos */
};

static int feed_open(struct feed *f, struct pk_err *err)
{
    const struct opts *o = f->o;
    /* --read map: blocks are views of one mapping of the file (each block's pages populated
     * by this stage), their values checked by the kernel while it computes on them (check_in):
     * nothing copied, everything read once. Measured on an earlier host, 5e7 values in the page
     * cache, chunk 2 threads: 0.045-0.054 s against 0.070-0.083 s with a mapping per buffer and
     * 0.153-0.163 s with pread into the 8 MiB buffers (in memory 0.030-0.037 s). On a 2-core
     * PVM guest, where a first touch of mapped page-cache pages ran at 4 GB/s, --read copy
     * (256 KiB preads by the computing threads, 12-13 GB/s) took 0.061-0.073 s against
     * 0.173-0.181 s. */
    if (o->src == SRC_RAW)
        return pk_rawfile_stream_open(o->input, o->read == READ_MAP, &f->raw, err);
    if (o->src != SRC_CSV)
        return PK_OK;
    int rc = csv_column_open(&f->csv, o, err);
    double skip;
    for (uint64_t i = 0; rc == PK_OK && i < f->pos; i++)
        rc = csv_column_next(&f->csv, &skip, err);
    return rc;
}

static void feed_close(struct feed *f)
{
    pk_rawfile_stream_close(f->raw);
    pk_csv_close(f->csv.r);
}

/* The values of b: under --read map a raw file's block (mapped in place, or read into b->v where
 * the file cannot be mapped; the kernel checks them while computing: check_in), a CSV column's
 * values parsed into b->v and checked, or nothing: a generated range (the kernel makes them) or
 * a raw file under --read copy (the kernel's threads read them). */
static int fill(struct feed *f, struct buf *b, struct pk_err *err)
{
    size_t m = (size_t)(b->i1 - b->i0);
    int rc = PK_OK;
    double lo, hi;
    pk_transform_domain(f->o->op, f->o->n, &lo, &hi);
    const char *what = domain_what(f->o);
    if (f->o->src == SRC_RAW && f->o->read == READ_COPY) {
        b->in = NULL; /* the kernel's threads read them */
    } else if (f->o->src == SRC_RAW) {
        rc = pk_rawfile_stream_get(f->raw, b->i0, m, b->v, &b->blk, err);
        b->in = rc == PK_OK ? b->blk.values : b->v;
    } else if (f->o->src == SRC_CSV) {
        for (size_t j = 0; rc == PK_OK && j < m; j++) {
            rc = csv_column_next(&f->csv, &b->v[j], err);
            if (rc == PK_ECLOSED)
                rc = pk_fail(err, PK_EIO, "'%s' ended after %" PRIu64 " values", f->o->input,
                             b->i0 + j);
            char where[512];
            if (rc == PK_OK && !(isfinite(b->v[j]) && b->v[j] >= lo && b->v[j] <= hi)) {
                snprintf(where, sizeof where, "%s:%" PRIu64 ":%zu: the value in column '%s'",
                         f->o->input, f->csv.line, f->o->csv_col + 1, f->o->csv_name);
                rc = pk_check_value(where, b->v[j], lo, hi, what, err);
            }
        }
    }
    return rc;
}

/* Source stage (its own thread): the next buffer of [pos, hi), filled. Waits for a free
 * buffer, so at most NBUF are ever in flight. */
static int read_stage(void *ctx, void *in, void **out, struct pk_err *err)
{
    struct feed *f = ctx;
    (void)in;
    if (f->pos >= f->hi)
        return PK_ECLOSED;
    void *item;
    int rc = pk_queue_pop(f->free_q, &item);
    if (rc != PK_OK)
        return pk_fail(err, rc, "no free buffer");
    struct buf *b = item;
    b->i0 = f->pos;
    b->i1 = buf_end(f->o, f->pos, f->hi);
    rc = fill(f, b, err);
    if (rc != PK_OK) {
        buf_recycle(b);
        return rc;
    }
    f->pos = b->i1;
    *out = b;
    return PK_OK;
}

/* The transform stage's state. Its one worker runs the kernel with -t OpenMP threads, as the
 * main thread did before: the only stage that computes, so nothing is oversubscribed. r's
 * chunks, samples and windows are written by that worker only and read after the run. */
struct crunch {
    struct run *r;
    struct pk_transform_acc *acc;
    bool reading, writing; /* arguments come from the buffers; results go to the writer */
    struct copier *copy;   /* --read copy: the kernel reads the arguments through it */
    uint64_t pos;          /* the end of the buffers transformed so far */
};

static int transform_stage(void *ctx, void *in, void **out, struct pk_err *err)
{
    struct crunch *k = ctx;
    struct run *r = k->r;
    struct buf *b = in;
    struct pk_transform_job job = r->job;
    if (k->reading && r->capture && !k->copy)
        capture_in(r, b->i0, b->i1, b->in);
    job.in = k->reading ? b->in : NULL;
    job.out = k->writing ? b->v : NULL;
    job.check_in = r->o->src == SRC_RAW; /* CSV values are checked as they are parsed */
    if (k->copy)
        read_by_copy(&job, k->copy);
    int rc = pk_transform_run(&job, b->i0, b->i1, r->ws, k->acc);
    if (rc == PK_OK && r->capture)
        capture_out(r, b, job.out);
    if (rc != PK_OK) {
        rc = transform_failed(r, rc, k->acc, k->copy, err);
        buf_recycle(b);
        return rc;
    }
    buf_unmap(b);
    k->pos = b->i1;
    *out = b; /* to the writer, or back to the free list */
    return PK_OK;
}

/* The write stage: results at their offsets in the output's temporary. */
struct sink {
    int fd;
    const char *output;
};

static int write_stage(void *ctx, void *in, void **out, struct pk_err *err)
{
    const struct sink *w = ctx;
    struct buf *b = in;
    size_t len = (size_t)(b->i1 - b->i0) * 8, done = 0;
    while (done < len) {
        ssize_t put = pwrite(w->fd, (char *)b->v + done, len - done, (off_t)(b->i0 * 8 + done));
        if (put < 0 && errno == EINTR)
            continue;
        if (put <= 0) {
            int rc = pk_fail(err, PK_EIO, "cannot write '%s': %s", w->output,
                             put < 0 ? strerror(errno) : "no space");
            buf_recycle(b);
            return rc;
        }
        done += (size_t)put;
    }
    *out = b;
    return PK_OK;
}

/* This rank's [lo, hi) through read -> transform (-> write with --output), one worker each, so
 * buffers keep their order; the first error stops every stage and is returned with its
 * message. */
static int pipeline_run(struct run *r, struct pk_transform_acc *acc, int out_fd, struct pk_err *err)
{
    struct feed f = {.o = r->o, .pos = r->lo, .hi = r->hi};
    struct crunch k = {.r = r,
                       .acc = acc,
                       .reading = r->o->src != SRC_RANGE,
                       .writing = out_fd >= 0,
                       .pos = r->lo};
    struct sink w = {.fd = out_fd, .output = r->o->output};
    int rc = buffers_create(&f.free_q);
    if (rc != PK_OK)
        pk_fail(err, rc, "no memory for %d buffers of %d MiB", NBUF, (int)(BUF_VALUES >> 17));
    if (rc == PK_OK)
        rc = feed_open(&f, err);
    struct copier cp = {.r = r, .raw = f.raw, .lock = PTHREAD_MUTEX_INITIALIZER};
    if (f.raw && r->o->read == READ_COPY)
        k.copy = &cp;
    if (rc == PK_OK) {
        const struct pk_stage stages[] = {
            {"read", 1, 0, read_stage, &f, buf_recycle},
            {"transform", 1, NBUF, transform_stage, &k, buf_recycle},
            {"write", 1, NBUF, write_stage, &w, buf_recycle},
        };
        struct pk_pipeline_report rep;
        rc = pk_pipeline_run(stages, k.writing ? 3 : 2, NULL, &rep, NULL);
        if (rc != PK_OK)
            pk_fail(err, rc, "%s", rep.message);
    }
    /* a raw file that shrank under its mapped blocks read as zeros there: no result */
    if (rc == PK_OK && f.raw && pk_rawfile_stream_changed(f.raw))
        rc = pk_fail(err, PK_EIO, "'%s' changed while it was read (it shrank)", r->o->input);
    feed_close(&f);
    pk_queue_destroy(f.free_q);
    if (rc == PK_OK && k.pos < r->hi)
        rc = pk_fail(err, PK_EIO, "the pipeline stopped at value %" PRIu64, k.pos);
    return rc;
}

/* One timed computation with the cross-rank reduction. Returns a pk_status. */
static int compute(struct run *r, int out_fd, struct pk_err *err)
{
    struct pk_transform_acc acc;
    pk_transform_acc_init(&acc);
    r->job.on_chunk = r->o->per_chunk ? on_chunk : NULL;
    r->job.arg = r;
    int rc;
    if (r->o->src == SRC_RANGE && out_fd < 0)
        rc = pk_transform_run(&r->job, r->lo, r->hi, r->ws, &acc);
    else if (r->o->src == SRC_RAW && r->o->read == READ_COPY && out_fd < 0)
        rc = copy_run(r, &acc, err);
    else
        rc = pipeline_run(r, &acc, out_fd, err);
    r->job.on_chunk = NULL;
    if (rc != PK_OK && !err->msg[0])
        pk_fail(err, rc, "transform failed: %s", pk_strerror(rc));
    int rc2 = pk_dist_reduce_tstats(r->c, &acc.total);
    pk_tstats_finish(&acc.total, &r->total);
    return rc != PK_OK ? rc : rc2;
}

/* JSON has no NaN or infinity: those become null (the hex strings carry every value). */
static json_t *num(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

/* ---- verification --------------------------------------------------------------------------- */

struct vstate {
    uint64_t elems_bad, fn_bad, produced_bad, windows_bad, windows, skipped;
    double elem_worst_ulp, fn_worst_ulp;
    double sum_worst, m2_worst; /* err / tol of the windows, worst */
    bool overall_ok;
    const char *overall_method;
    double overall_sum_rel, overall_sum_tol;
};

static void check_samples(struct run *r, struct vstate *vs)
{
    const struct pk_transform_job *job = &r->job;
    for (size_t s = 0; s < r->nsamples; s++) {
        const struct sample *sm = &r->samples[s];
        /* SLEEF's bounds hold for |v| <= 1e14; beyond, sin and cos are arbitrary in [-1, 1] */
        if (!(fabs(sm->v) <= 1e14)) {
            vs->skipped++;
            continue;
        }
        double x = pk_transform_elem(job, sm->i, sm->v);
        double u = pk_transform_ulp_diff(x, pk_transform_elem_ref(job->op, sm->v));
        if (!(u <= pk_transform_elem_tol_ulp(job->op, sm->v)))
            vs->elems_bad++;
        if (u > vs->elem_worst_ulp || isnan(u))
            vs->elem_worst_ulp = isnan(u) ? INFINITY : u;
        if (sm->seen && memcmp(&x, &sm->x, sizeof x) != 0)
            vs->produced_bad++;
        double f[3];
        long double lv = sm->v;
        pk_transform_fn_values(job->isa, job->math, sm->v, f);
        long double want[3] = {sinl(lv), sinl(2 * lv), log1pl(lv)};
        for (int k = 0; k < 3; k++) {
            if (k == 2 && !(lv + 1.0L > 0))
                continue; /* log of a non-positive argument: NaN or -inf, not an ulp question */
            double fu = pk_transform_ulp_diff(f[k], want[k]);
            if (!(fu <= pk_transform_fn_ulp(k, sm->v)))
                vs->fn_bad++;
            if (fu > vs->fn_worst_ulp)
                vs->fn_worst_ulp = fu;
        }
    }
}

/* Chan's merge of twin results, in long double. */
static void tref_merge(struct pk_tref *a, const struct pk_tref *b)
{
    if (b->n == 0)
        return;
    if (a->n == 0) {
        *a = *b;
        return;
    }
    long double na = a->n, nb = b->n, n = na + nb;
    long double delta = b->mean - a->mean;
    a->m2 = a->m2 + b->m2 + delta * delta * na * nb / n;
    a->sum += b->sum;
    a->sum_abs += b->sum_abs;
    a->sum_sq += b->sum_sq;
    a->mean = a->sum / n;
    a->n += b->n;
    if (b->argmin != PK_TRANSFORM_NONE && (a->argmin == PK_TRANSFORM_NONE || b->min < a->min ||
                                           (b->min == a->min && b->argmin < a->argmin))) {
        a->min = b->min;
        a->argmin = b->argmin;
    }
    if (b->argmax != PK_TRANSFORM_NONE && (a->argmax == PK_TRANSFORM_NONE || b->max > a->max ||
                                           (b->max == a->max && b->argmax < a->argmax))) {
        a->max = b->max;
        a->argmax = b->argmax;
    }
}

static void tref_format(const struct pk_tref *t, char *buf, size_t n)
{
    snprintf(buf, n, "%" PRIu64 " %La %La %La %La %La %La %" PRIu64 " %La %" PRIu64, t->n, t->sum,
             t->sum_abs, t->sum_sq, t->mean, t->m2, t->min, t->argmin, t->max, t->argmax);
}

static bool tref_parse(const char *s, struct pk_tref *t)
{
    return sscanf(s, "%" SCNu64 " %La %La %La %La %La %La %" SCNu64 " %La %" SCNu64, &t->n, &t->sum,
                  &t->sum_abs, &t->sum_sq, &t->mean, &t->m2, &t->min, &t->argmin, &t->max,
                  &t->argmax) == 10;
}

/* Windows: kernel re-run against the twin. Fills *local with the merge of the twins. */
static int check_windows(struct run *r, struct vstate *vs, struct pk_tref *local)
{
    struct pk_tref *refs = calloc(r->nwindows + 1, sizeof *refs);
    if (!refs)
        return PK_ENOMEM;
    /* the twin is serial per window; windows run side by side */
    size_t nw = r->nwindows;
    const struct window *win = r->windows;
    uint64_t *lo = calloc(nw + 1, sizeof *lo), *hi = calloc(nw + 1, sizeof *hi);
    const double **in = calloc(nw + 1, sizeof *in);
    if (!lo || !hi || !in) {
        free(lo);
        free(hi);
        free(in);
        free(refs);
        return PK_ENOMEM;
    }
    for (size_t w = 0; w < nw; w++) {
        lo[w] = win[w].lo;
        hi[w] = win[w].hi;
        in[w] = win[w].v;
    }
    pk_transform_ref_windows(&r->job, nw, lo, hi, in, r->o->common.nthreads, refs);
    free(lo);
    free(hi);
    free(in);
    int rc = PK_OK;
    *local = (struct pk_tref){.argmin = PK_TRANSFORM_NONE, .argmax = PK_TRANSFORM_NONE};
    for (size_t w = 0; w < nw && rc == PK_OK; w++) {
        struct pk_transform_job job = r->job;
        job.in = win[w].v;
        job.out = NULL;
        job.on_chunk = NULL;
        struct pk_transform_acc acc;
        pk_transform_acc_init(&acc);
        rc = pk_transform_run(&job, win[w].lo, win[w].hi, r->ws, &acc);
        struct pk_tsummary s;
        pk_tstats_finish(&acc.total, &s);
        struct pk_tcompare cmp;
        pk_transform_compare(&s, &refs[w], &cmp);
        vs->windows++;
        if (!cmp.ok)
            vs->windows_bad++;
        double sr = cmp.sum_err / cmp.sum_tol, mr = cmp.m2_err / cmp.m2_tol;
        if (sr > vs->sum_worst || isnan(sr))
            vs->sum_worst = isnan(sr) ? INFINITY : sr;
        if (mr > vs->m2_worst || isnan(mr))
            vs->m2_worst = isnan(mr) ? INFINITY : mr;
        /* with --per-chunk and whole chunks, the timed run's chunk must have the same bits */
        if (r->full_coverage && r->o->per_chunk) {
            const struct pk_tsummary *t = &r->chunks[win[w].lo / r->o->chunk - r->k0];
            if (memcmp(t, &s, sizeof s) != 0)
                vs->windows_bad++;
        }
        tref_merge(local, &refs[w]);
    }
    free(refs);
    return rc;
}

/* Sum over [start, start + n) of v*v + 100 sin v, in long double: sum v^2 from the exact
 * integer formula, sum sin v = sin(n/2) sin(start + (n-1)/2) / sin(1/2) (Lagrange). */
static long double chunk_closed_form(uint64_t start, uint64_t n, long double *sum_abs)
{
    long double a = start, m = n;
    long double s2 = m * a * a + a * m * (m - 1) + (m - 1) * m * (2 * m - 1) / 6;
    long double ss = sinl(m / 2) * sinl(a + (m - 1) / 2) / sinl(0.5L);
    *sum_abs = s2 + 100 * m;
    return s2 + 100 * ss;
}

/* With full coverage: the timed result against the twin of every element, the ranks' twins
 * merged on rank 0. Collective. */
static int check_overall_twin(struct run *r, struct vstate *vs, const struct pk_tref *local)
{
    const struct pk_comm *c = r->c;
    char mine[512];
    tref_format(local, mine, sizeof mine);
    char **all = NULL;
    int rc = pk_dist_gather_strings(c, mine, &all);
    if (c->rank == 0 && all) {
        struct pk_tref total = {.argmin = PK_TRANSFORM_NONE, .argmax = PK_TRANSFORM_NONE};
        for (int k = 0; k < c->nranks; k++) {
            struct pk_tref t;
            if (!tref_parse(all[k], &t)) {
                vs->overall_ok = false;
                continue;
            }
            tref_merge(&total, &t);
        }
        struct pk_tcompare cmp = {0};
        pk_transform_compare(&r->total, &total, &cmp);
        vs->overall_ok = vs->overall_ok && cmp.ok;
        vs->overall_method = "every element through the long-double twin";
        vs->overall_sum_rel = cmp.sum_err / (double)fabsl(total.sum_abs);
        vs->overall_sum_tol = cmp.sum_tol / (double)fabsl(total.sum_abs);
    }
    pk_dist_free_strings(all, c->nranks);
    return rc;
}

/* Without full coverage: a generated range's min and max must be the elements at their
 * indices, and the chunk op's sum must match its closed form; files have the windows only. */
static void check_overall_sampled(const struct run *r, struct vstate *vs)
{
    const struct opts *o = r->o;
    const struct pk_tsummary *t = &r->total;
    if (o->src == SRC_RANGE) {
        double xmin = pk_transform_elem(&r->job, t->argmin, (double)o->start + (double)t->argmin);
        double xmax = pk_transform_elem(&r->job, t->argmax, (double)o->start + (double)t->argmax);
        vs->overall_ok = memcmp(&xmin, &t->min, 8) == 0 && memcmp(&xmax, &t->max, 8) == 0;
    }
    if (o->src == SRC_RANGE && o->op == PK_TRANSFORM_CHUNK) {
        long double sabs, want = chunk_closed_form(o->start, o->n, &sabs);
        double g = (PK_TRANSFORM_BLOCK / PK_TRANSFORM_LANES + 16) * 0x1p-53;
        vs->overall_sum_rel = (double)(fabsl((long double)t->sum - want) / sabs);
        vs->overall_sum_tol = g;
        vs->overall_ok = vs->overall_ok && vs->overall_sum_rel <= g;
        vs->overall_method = "sum against the closed form; min and max at their indices";
    } else {
        vs->overall_method = o->src == SRC_RANGE ? "min and max at their indices"
                                                 : "windows only (the file is not re-read)";
    }
}

/* counts: elements, functions, produced values and windows bad; windows checked; elements
 * skipped (beyond 1e14), summed over the ranks. */
static void verification_json(json_t *v, const struct run *r, const struct vstate *vs,
                              const uint64_t counts[6])
{
    uint64_t n = r->o->n;
    json_object_set_new(v, "elements_checked",
                        json_integer((json_int_t)(n < ELEM_SAMPLES ? n : ELEM_SAMPLES)));
    json_object_set_new(v, "elements_bad", json_integer((json_int_t)counts[0]));
    json_object_set_new(v, "elements_beyond_1e14", json_integer((json_int_t)counts[5]));
    json_object_set_new(v, "element_worst_ulp", num(vs->elem_worst_ulp));
    json_object_set_new(v, "element_tolerance_ulp", json_real(PK_TRANSFORM_ELEM_ULP));
    json_object_set_new(v, "functions_bad", json_integer((json_int_t)counts[1]));
    json_object_set_new(v, "function_worst_ulp", num(vs->fn_worst_ulp));
    json_object_set_new(v, "produced_mismatch", json_integer((json_int_t)counts[2]));
    json_object_set_new(v, "windows_checked", json_integer((json_int_t)counts[4]));
    json_object_set_new(v, "windows_bad", json_integer((json_int_t)counts[3]));
    json_object_set_new(v, "window_sum_err_over_tol", num(vs->sum_worst));
    json_object_set_new(v, "window_m2_err_over_tol", num(vs->m2_worst));
    json_object_set_new(v, "full_coverage", json_boolean(r->full_coverage));
    json_object_set_new(v, "overall_method",
                        json_string(vs->overall_method ? vs->overall_method : ""));
    json_object_set_new(v, "overall_ok", json_boolean(vs->overall_ok));
    json_object_set_new(v, "overall_sum_rel_err", num(vs->overall_sum_rel));
    json_object_set_new(v, "overall_sum_rel_tol", num(vs->overall_sum_tol));
}

/* Every check of the file comment, merged over the ranks into v. Collective. */
static int verify(struct run *r, bool *ok, json_t *v)
{
    const struct pk_comm *c = r->c;
    struct vstate vs = {0};
    check_samples(r, &vs);
    struct pk_tref local;
    int rc = check_windows(r, &vs, &local);
    uint64_t counts[6] = {vs.elems_bad,   vs.fn_bad,  vs.produced_bad,
                          vs.windows_bad, vs.windows, vs.skipped};
    int rc2 = pk_dist_sum_u64(c, counts, 6);
    vs.elem_worst_ulp = pk_dist_max_double(c, vs.elem_worst_ulp);
    vs.fn_worst_ulp = pk_dist_max_double(c, vs.fn_worst_ulp);
    vs.sum_worst = pk_dist_max_double(c, vs.sum_worst);
    vs.m2_worst = pk_dist_max_double(c, vs.m2_worst);
    if (rc == PK_OK)
        rc = rc2;
    vs.overall_ok = true;
    if (r->full_coverage) {
        rc2 = check_overall_twin(r, &vs, &local);
        if (rc == PK_OK)
            rc = rc2;
    } else {
        check_overall_sampled(r, &vs);
    }
    *ok = rc == PK_OK && counts[0] == 0 && counts[1] == 0 && counts[2] == 0 && counts[3] == 0 &&
          vs.overall_ok;
    verification_json(v, r, &vs, counts);
    return rc;
}

/* ---- output ---------------------------------------------------------------------------------- */

static json_t *summary_json(const struct pk_tsummary *s)
{
    char h[5][40];
    snprintf(h[0], sizeof h[0], "%a", s->sum);
    snprintf(h[1], sizeof h[1], "%a", s->mean);
    snprintf(h[2], sizeof h[2], "%a", s->variance);
    snprintf(h[3], sizeof h[3], "%a", s->min);
    snprintf(h[4], sizeof h[4], "%a", s->max);
    json_t *j = json_object();
    json_object_set_new(j, "count", json_integer((json_int_t)s->n));
    json_object_set_new(j, "sum", num(s->sum));
    json_object_set_new(j, "mean", num(s->mean));
    json_object_set_new(j, "variance", num(s->variance));
    json_object_set_new(j, "min", num(s->min));
    json_object_set_new(j, "max", num(s->max));
    json_object_set_new(j, "argmin",
                        s->argmin == PK_TRANSFORM_NONE ? json_null()
                                                       : json_integer((json_int_t)s->argmin));
    json_object_set_new(j, "argmax",
                        s->argmax == PK_TRANSFORM_NONE ? json_null()
                                                       : json_integer((json_int_t)s->argmax));
    json_object_set_new(j, "hex",
                        json_pack("{s:s, s:s, s:s, s:s, s:s}", "sum", h[0], "mean", h[1],
                                  "variance", h[2], "min", h[3], "max", h[4]));
    return j;
}

/* The CSV column as read (before the transform): what `parkit files` reports for it. */
static json_t *input_json(const struct opts *o)
{
    char hex[40];
    snprintf(hex, sizeof hex, "%a", o->csv_sum);
    return json_pack("{s:o, s:I, s:I, s:f, s:s}", "column", pk_json_text(o->csv_name), "count",
                     (json_int_t)o->n, "missing", (json_int_t)o->csv_missing, "sum", o->csv_sum,
                     "sum_hex", hex);
}

static json_t *params_json(const struct run *r)
{
    const struct opts *o = r->o;
    json_t *p = json_pack("{s:s, s:I, s:I, s:I, s:s, s:i, s:i, s:i, s:i, s:b, s:b, s:b, s:i, s:i}",
                          "op", pk_transform_op_name(o->op), "n", (json_int_t)o->n, "chunk",
                          (json_int_t)o->chunk, "start", (json_int_t)o->start, "isa",
                          pk_transform_isa_name(r->job.isa), "threads", o->common.nthreads, "ranks",
                          r->c->nranks, "reps", o->common.reps, "warmup", o->common.warmup,
                          "verify", !o->common.no_verify, "canary", o->canary, "per_chunk",
                          o->per_chunk, "block", PK_TRANSFORM_BLOCK, "lanes", PK_TRANSFORM_LANES);
    const char *src = o->src == SRC_RANGE ? "range" : o->src == SRC_RAW ? "raw" : "csv";
    json_object_set_new(p, "source", json_string(src));
    json_object_set_new(p, "math", json_string(pk_transform_math_name(r->job.math)));
    if (o->input)
        json_object_set_new(p, "input", pk_json_text(o->input));
    if (o->src == SRC_RAW)
        json_object_set_new(p, "read", json_string(read_choices[o->read]));
    if (o->src == SRC_CSV && o->csv_name)
        json_object_set_new(p, "column", pk_json_text(o->csv_name));
    if (o->src == SRC_CSV)
        json_object_set_new(p, "no_header", json_boolean(o->no_header));
    if (o->output)
        json_object_set_new(p, "output", pk_json_text(o->output));
    return p;
}

static int64_t index_or_minus1(uint64_t i)
{
    return i == PK_TRANSFORM_NONE ? (int64_t)-1 : (int64_t)i;
}

static void print_summary_row(const char *label, const struct pk_tsummary *s)
{
    printf("%-8s %12" PRIu64 " %24.17g %24.17g %22.17g %12" PRId64 " %22.17g %12" PRId64
           " %24.17g\n",
           label, s->n, s->sum, s->mean, s->min, index_or_minus1(s->argmin), s->max,
           index_or_minus1(s->argmax), s->variance);
}

static void print_verified(const json_t *rec)
{
    const json_t *ver = json_object_get(rec, "verified");
    const json_t *vj = json_object_get(rec, "verification");
    if (json_is_null(ver))
        printf("verified  skipped (--no-verify)\n");
    else
        printf("verified  %s (%lld elements: worst %.2f ulp of the long-double twin, functions "
               "%.2f ulp; %lld windows vs the twin; overall: %s)\n",
               json_is_true(ver) ? "yes" : "NO",
               (long long)json_integer_value(json_object_get(vj, "elements_checked")),
               json_real_value(json_object_get(vj, "element_worst_ulp")),
               json_real_value(json_object_get(vj, "function_worst_ulp")),
               (long long)json_integer_value(json_object_get(vj, "windows_checked")),
               json_string_value(json_object_get(vj, "overall_method")));
}

static void print_table(const json_t *rec, const void *ctx)
{
    const struct run *r = ctx;
    const struct opts *o = r->o;
    const json_t *tim = json_object_get(rec, "timing");
    double med = json_real_value(json_object_get(tim, "median_s"));
    int reps = (int)json_array_size(json_object_get(tim, "reps_s")); /* those that ran */
    printf("# parkit transform --op %s n=%" PRIu64 " chunk=%" PRIu64 " start=%" PRIu64
           " threads=%d ranks=%d isa=%s math=%s reps=%d warmup=%d%s%s\n",
           pk_transform_op_name(o->op), o->n, o->chunk, o->start, o->common.nthreads, r->c->nranks,
           pk_transform_isa_name(r->job.isa), pk_transform_math_name(r->job.math), reps,
           (int)json_integer_value(json_object_get(tim, "warmup")), o->input ? " input=" : "",
           o->input ? o->input : "");
    printf("%-8s %12s %24s %24s %22s %12s %22s %12s %24s\n", "# chunk", "count", "sum", "mean",
           "min", "argmin", "max", "argmax", "variance");
    if (o->per_chunk && r->chunks) {
        uint64_t nchunks = pk_transform_nchunks(o->n, o->chunk);
        for (uint64_t k = 0; k < nchunks; k++) {
            char label[24];
            snprintf(label, sizeof label, "%" PRIu64, k);
            print_summary_row(label, &r->chunks[k]);
        }
    }
    print_summary_row("total", &r->total);
    printf("hex       sum %a  mean %a  variance %a  min %a  max %a\n", r->total.sum, r->total.mean,
           r->total.variance, r->total.min, r->total.max);
    if (o->src == SRC_CSV)
        printf("input     column '%s': %" PRIu64 " %s, %" PRIu64 " missing (skipped); sum of the "
               "values read %.17g (%a)\n",
               o->csv_name, o->n, pk_plural(o->n, "value", "values"), o->csv_missing, o->csv_sum,
               o->csv_sum);
    print_verified(rec);
    printf("time_s    median %.6f  min %.6f  max %.6f  (%d reps, max over ranks)\n", med,
           json_real_value(json_object_get(tim, "min_s")),
           json_real_value(json_object_get(tim, "max_s")), reps);
    double rate = med > 0 ? (double)o->n / med : 0;
    int workers = o->common.nthreads * r->c->nranks;
    printf("rate      %.4g Melem/s, %.4g Melem/s per core, %.3g ns/elem per core\n", rate * 1e-6,
           rate * 1e-6 / workers, rate > 0 ? 1e9 * workers / rate : 0.0);
}

/* One CSV row: the run's columns, then part (a chunk's index or "total") and its statistics.
 * %.17g gives every double back bit for bit. */
static void csv_row(struct pk_csvw *w, const json_t *rec, const struct run *r, const char *part,
                    const struct pk_tsummary *s)
{
    const struct opts *o = r->o;
    const json_t *prov = json_object_get(rec, "provenance");
    const json_t *mach = json_object_get(prov, "machine");
    const json_t *ver = json_object_get(rec, "verified");
    double med = json_real_value(json_object_get(json_object_get(rec, "timing"), "median_s"));
    pk_csvw_field(w, CMD);
    pk_csvw_field(w, json_string_value(json_object_get(prov, "version")));
    pk_csvw_field(w, json_string_value(json_object_get(prov, "git_commit")));
    pk_csvw_field(w, mach ? json_string_value(json_object_get(mach, "host")) : NULL);
    pk_csvw_fieldf(w, "%d", r->c->nranks);
    pk_csvw_fieldf(w, "%d", o->common.nthreads);
    pk_csvw_field(w, pk_transform_op_name(o->op));
    pk_csvw_field(w, pk_transform_isa_name(r->job.isa));
    pk_csvw_fieldf(w, "%" PRIu64, o->n);
    pk_csvw_fieldf(w, "%" PRIu64, o->chunk);
    pk_csvw_fieldf(w, "%" PRIu64, o->start);
    pk_csvw_field(w, part);
    pk_csvw_fieldf(w, "%.9f", med);
    pk_csvw_fieldf(w, "%.6g", med > 0 ? (double)o->n / med : 0);
    pk_csvw_fieldf(w, "%" PRIu64, s->n);
    pk_csvw_fieldf(w, "%.17g", s->sum);
    pk_csvw_fieldf(w, "%.17g", s->mean);
    pk_csvw_fieldf(w, "%.17g", s->variance);
    pk_csvw_fieldf(w, "%.17g", s->min);
    pk_csvw_fieldf(w, "%" PRId64, index_or_minus1(s->argmin));
    pk_csvw_fieldf(w, "%.17g", s->max);
    pk_csvw_fieldf(w, "%" PRId64, index_or_minus1(s->argmax));
    pk_csvw_field(w, json_is_null(ver) ? "skipped" : json_is_true(ver) ? "yes" : "no");
    pk_csvw_end(w);
}

/* --format csv: a header, every chunk with --per-chunk, then the overall result. The columns
 * count..verified keep the places (15-23) that scripts cut them from. */
static void print_csv(const json_t *rec, struct pk_csvw *w, const void *ctx)
{
    const struct run *r = ctx;
    static const char *const header[] = {
        "driver", "version",  "git_sha", "host",   "nranks", "nthreads",        "op",       "isa",
        "n",      "chunk",    "start",   "part",   "time_s", "rate_elem_per_s", "count",    "sum",
        "mean",   "variance", "min",     "argmin", "max",    "argmax",          "verified", NULL};
    pk_csvw_row(w, header);
    if (r->o->per_chunk && r->chunks) {
        uint64_t nchunks = pk_transform_nchunks(r->o->n, r->o->chunk);
        for (uint64_t k = 0; k < nchunks; k++) {
            char part[24];
            snprintf(part, sizeof part, "%" PRIu64, k);
            csv_row(w, rec, r, part, &r->chunks[k]);
        }
    }
    csv_row(w, rec, r, "total", &r->total);
}

/* --per-chunk: rank 0 collects every rank's chunk summaries (rank order = chunk order). */
static int gather_chunks(struct run *r)
{
    const struct pk_comm *c = r->c;
    if (c->nranks == 1)
        return PK_OK;
    size_t mine = (size_t)(r->k1 - r->k0) * sizeof *r->chunks;
    if (c->rank != 0)
        return pk_dist_send_bytes(c, 0, r->chunks, mine);
    uint64_t nchunks = pk_transform_nchunks(r->o->n, r->o->chunk);
    struct pk_tsummary *all = calloc(nchunks + 1, sizeof *all);
    int rc = all ? PK_OK : PK_ENOMEM;
    if (all)
        memcpy(all, r->chunks, mine);
    size_t off = (size_t)(r->k1 - r->k0);
    for (int k = 1; k < c->nranks; k++) {
        void *buf;
        size_t n;
        int rk = pk_dist_recv_bytes(c, k, &buf, &n);
        if (rk == PK_OK && all && off * sizeof *all + n <= (nchunks + 1) * sizeof *all) {
            memcpy(all + off, buf, n);
            off += n / sizeof *all;
        } else if (rc == PK_OK) {
            rc = rk != PK_OK ? rk : PK_EINVAL;
        }
        free(buf);
    }
    if (all) {
        free(r->chunks);
        r->chunks = all;
    }
    return rc;
}

/* The output while it is written: rank 0's writer (io/atomicfile: an exclusive temporary,
 * named when other ranks must open it, or a device written in place) and every rank's fd. */
struct output {
    struct pk_atomicfile file; /* rank 0 */
    int fd;
};

/* Rank 0: opens the writer. The values go at their offsets, so a target that cannot seek (a
 * FIFO, a terminal) is refused (exit 2). Returns an exit status, the error printed. */
static int create_output(const struct run *r, struct output *out, struct pk_err *err)
{
    struct pk_atomicfile_opts opts = {.mode = 0644, .named = r->c->nranks > 1, .seekable = true};
    int rc = pk_atomicfile_open_with(&out->file, r->o->output, &opts, err);
    if (rc != PK_OK) {
        pk_error(r->c, false, CMD, "--output: %s", err->msg);
        err->msg[0] = '\0';
        return rc == PK_EINVAL ? PK_EXIT_USAGE : PK_EXIT_RUNTIME;
    }
    out->fd = out->file.fd;
    return PK_EXIT_OK;
}

/* Rank 0 creates the output, then tells the other ranks the name to open (the temporary, or
 * the device itself). Collective. */
static int open_output(const struct run *r, struct output *out, struct pk_err *err)
{
    *out = (struct output){.fd = -1};
    if (!r->o->output)
        return PK_EXIT_OK;
    const struct pk_comm *c = r->c;
    int status = c->rank == 0 ? create_output(r, out, err) : PK_EXIT_OK;
    status = pk_dist_agree(c, status);
    if (status != PK_EXIT_OK || c->nranks == 1)
        return status;
    void *name = NULL;
    size_t n = 0;
    const char *mine = out->file.tmp ? out->file.tmp : r->o->output;
    for (int k = 1; c->rank == 0 && k < c->nranks && status == PK_EXIT_OK; k++)
        if (pk_dist_send_bytes(c, k, mine, strlen(mine) + 1) != PK_OK)
            status = PK_EXIT_RUNTIME;
    if (c->rank != 0 && pk_dist_recv_bytes(c, 0, &name, &n) == PK_OK && n > 0) {
        ((char *)name)[n - 1] = '\0';
        out->fd = open(name, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        if (out->fd < 0)
            pk_fail(err, PK_EIO, "cannot open '%s': %s", (char *)name, strerror(errno));
    }
    if (c->rank != 0 && out->fd < 0)
        status = PK_EXIT_RUNTIME;
    free(name);
    return pk_dist_agree(c, status);
}

/* Every rank closes its fd; rank 0 publishes the output after success and removes the
 * temporary otherwise. Collective. */
static int close_output(const struct run *r, struct output *out, int status, struct pk_err *err)
{
    if (!r->o->output)
        return status;
    int mine = PK_EXIT_OK;
    if (r->c->rank != 0 && out->fd >= 0 && close(out->fd) != 0) {
        pk_fail(err, PK_EIO, "cannot write '%s': %s", r->o->output, strerror(errno));
        mine = PK_EXIT_RUNTIME;
    }
    out->fd = -1;
    if (mine != PK_EXIT_OK)
        pk_error(r->c, true, CMD, "%s", err->msg);
    status = pk_dist_agree(r->c, status > mine ? status : mine);
    if (r->c->rank == 0 && status != PK_EXIT_OK)
        pk_atomicfile_abort(&out->file);
    if (r->c->rank == 0 && status == PK_EXIT_OK && pk_atomicfile_commit(&out->file, err) != PK_OK) {
        pk_error(r->c, false, CMD, "%s", err->msg);
        status = PK_EXIT_RUNTIME;
    }
    return pk_dist_agree(r->c, status);
}

/* Warm-up and timed repetitions (the slowest rank's time of each, into plan). Collective. */
static int timed_runs(struct run *r, int out_fd, struct pk_reps *plan)
{
    const struct pk_comm *c = r->c;
    int status = PK_EXIT_OK;
    while (pk_reps_more(plan) && status == PK_EXIT_OK) {
        struct pk_err err = {0};
        pk_dist_barrier(c);
        double t0 = pk_now_s();
        int rc = compute(r, out_fd, &err);
        pk_reps_took(plan, pk_dist_max_double(c, pk_now_s() - t0));
        if (rc != PK_OK)
            pk_error(c, true, CMD, "%s", err.msg);
        /* bad input data is the user's to fix (exit 2); anything else is a runtime failure */
        status = pk_dist_agree(c, rc == PK_OK       ? PK_EXIT_OK
                                  : rc == PK_EINVAL ? PK_EXIT_USAGE
                                                    : PK_EXIT_RUNTIME);
    }
    return status;
}

/* Rank 0's record of the run; takes vjson. */
static json_t *make_record(const struct run *r, const struct pk_reps *plan, const json_t *sysinfo,
                           bool verified, json_t *vjson)
{
    const struct opts *o = r->o;
    json_t *rec = pk_record_new(CMD);
    json_object_set_new(rec, "params", params_json(r));
    json_t *res = json_pack("{s:o}", "total", summary_json(&r->total));
    if (o->src == SRC_CSV)
        json_object_set_new(res, "input", input_json(o));
    if (o->per_chunk && r->chunks) {
        json_t *arr = json_array();
        uint64_t nchunks = pk_transform_nchunks(o->n, o->chunk);
        for (uint64_t k = 0; k < nchunks; k++)
            json_array_append_new(arr, summary_json(&r->chunks[k]));
        json_object_set_new(res, "chunks", arr);
    }
    json_object_set_new(rec, "result", res);
    json_object_set_new(rec, "verified",
                        o->common.no_verify ? json_null() : json_boolean(verified));
    json_object_set_new(rec, "verification", vjson);
    pk_record_set_reps(rec, plan);
    pk_record_set_provenance(rec, sysinfo);
    return rec;
}

/* setup -> open the output -> timed runs -> verify -> rename the output -> gather -> record.
 * Collective; *record is set on rank 0 when there is a result to show (exit 0 or 3). */
static int execute(const struct pk_comm *c, struct opts *o, const json_t *sysinfo, json_t **record,
                   struct run *r)
{
    *record = NULL;
    struct pk_err err = {0};
    double *rep_s = calloc((size_t)o->common.reps + 1, sizeof *rep_s);
    struct pk_reps plan;
    pk_reps_start(&plan, c, CMD, &o->common, rep_s);
    int status = rep_s ? setup(r, &err) : PK_EXIT_RUNTIME;
    if (!rep_s)
        pk_fail(&err, PK_ENOMEM, "out of memory");
    if (status != PK_EXIT_OK)
        pk_error(c, true, CMD, "%s", err.msg);
    status = pk_dist_agree(c, status);
    struct output out = {.fd = -1};
    if (status == PK_EXIT_OK) {
        err.msg[0] = '\0';
        status = open_output(r, &out, &err);
        if (status != PK_EXIT_OK && err.msg[0])
            pk_error(c, true, CMD, "%s", err.msg);
    }
    if (status == PK_EXIT_OK)
        status = timed_runs(r, out.fd, &plan);
    bool verified = false;
    json_t *vjson = json_object();
    if (status == PK_EXIT_OK && !o->common.no_verify) {
        int rc = verify(r, &verified, vjson);
        if (rc != PK_OK)
            pk_error(c, true, CMD, "verification could not run: %s", pk_strerror(rc));
        status = pk_dist_agree(c, rc != PK_OK ? PK_EXIT_RUNTIME
                                  : verified  ? PK_EXIT_OK
                                              : PK_EXIT_VERIFY);
    }
    status = close_output(r, &out, status, &err);
    if (status == PK_EXIT_OK || status == PK_EXIT_VERIFY) {
        if (o->per_chunk && gather_chunks(r) != PK_OK) {
            pk_error(c, true, CMD, "cannot collect the chunk statistics");
            status = PK_EXIT_RUNTIME;
        }
        status = pk_dist_agree(c, status);
    }
    if ((status == PK_EXIT_OK || status == PK_EXIT_VERIFY) && c->rank == 0) {
        *record = make_record(r, &plan, sysinfo, verified, vjson);
        vjson = NULL;
    }
    json_decref(vjson);
    free(rep_s);
    return status;
}

static void run_free(struct run *r)
{
    pk_transform_ws_free(r->ws);
    free(r->chunks);
    free(r->samples);
    for (size_t w = 0; r->windows && w < r->nwindows; w++)
        free(r->windows[w].v);
    free(r->windows);
}

/* Size of the input (every rank checks: the file may not be on a shared file system). */
static int input_size(const struct pk_comm *c, struct opts *o)
{
    if (!o->input)
        return PK_EXIT_OK;
    struct pk_err err = {0};
    int rc = o->src == SRC_CSV ? csv_scan_input(o, &err) : pk_rawfile_count(o->input, &o->n, &err);
    if (rc != PK_OK)
        pk_error(c, true, CMD, "%s", err.msg);
    return pk_dist_agree(c, rc == PK_OK ? PK_EXIT_OK : PK_EXIT_USAGE);
}

/* The element code: the requested one, or the best; with --math fast, the lowest best level
 * of any rank (the regular functions' bits differ between levels; the deterministic ones do
 * not, so each rank then keeps its own best). The family: the one asked for, but where a rank
 * has no FMA, deterministic becomes portable on every rank (their bits differ). */
static int choose_code(const struct pk_comm *c, struct opts *o, struct pk_transform_job *job)
{
    int status = PK_EXIT_OK;
    if (o->isa != PK_TRANSFORM_ISA_AUTO && !pk_transform_isa_supported(o->isa)) {
        pk_error(c, true, CMD, "--isa %s is not supported by this CPU",
                 pk_transform_isa_name(o->isa));
        status = PK_EXIT_USAGE;
    }
    status = pk_dist_agree(c, status);
    enum pk_transform_isa mine = o->isa != PK_TRANSFORM_ISA_AUTO ? o->isa : pk_transform_isa_best();
    bool fast = o->math == PK_TRANSFORM_MATH_FAST;
    job->isa = fast ? (enum pk_transform_isa)(int)-pk_dist_max_double(c, -(double)mine) : mine;
    job->math = o->math;
    bool fma = pk_dist_max_double(c, pk_transform_math_supported(o->math) ? 0 : 1) == 0;
    if (!fma) {
        job->math = PK_TRANSFORM_MATH_PORTABLE;
        if (c->rank == 0)
            fprintf(stderr,
                    "parkit %s: note: --math %s needs FMA, which %s lacks: using --math "
                    "portable (the same bits on every x86-64)\n",
                    CMD, pk_transform_math_name(o->math),
                    pk_transform_math_supported(o->math) ? "another rank's CPU" : "this CPU");
    }
    return status;
}

int pk_cmd_transform(int argc, char **argv, const struct pk_comm *c)
{
    struct opts o;
    int status = parse(argc, argv, c, &o);
    if (status != PK_EXIT_OK)
        return pk_opts_exit(status);
    status = input_size(c, &o);
    struct run r = {.c = c, .o = &o};
    if (status == PK_EXIT_OK)
        status = choose_code(c, &o, &r.job);
    if (status != PK_EXIT_OK) {
        free(o.csv_name);
        return status;
    }
    r.job.op = o.op;
    r.job.n = o.n;
    r.job.chunk = o.chunk;
    r.job.start = (double)o.start;
    r.job.nthreads = o.common.nthreads;
    r.job.canary = PK_TRANSFORM_NONE;
    json_t *sysinfo = pk_sysinfo_for_command(c, CMD, o.common.nthreads);
    json_t *rec = NULL;
    status = execute(c, &o, sysinfo, &rec, &r);
    json_decref(sysinfo);
    static const struct pk_view view = {print_table, print_csv};
    status = pk_emit(c, CMD, &o.common, &view, &r, rec, status);
    run_free(&r);
    free(o.csv_name);
    return status;
}
