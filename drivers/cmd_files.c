/* SPDX-License-Identifier: MIT */
/* parkit files: every CSV file of a directory read and summarised (rows; per column the values
 * and missing (empty) values; per number column the exact sum, mean, min, max; per column the
 * distinct values), one file after another and then one file per task on the io/ pool: the
 * tutorials' "20 sales reports" with a ThreadPoolExecutor. `--make DIR` writes a seeded set of
 * such reports and a manifest of what it wrote.
 *
 * A malformed file (bad number, ragged row, invalid UTF-8, unreadable) is reported as
 * FILE:LINE:COLUMN and the others go on; the exit status says some failed.
 *
 * Verified: sums are exact (pk_xacc), so every file's statistics are the same bits whichever
 * thread read it; the pooled run must equal the sequential run bit for bit (failures included,
 * at the same line and column), and when the directory holds a manifest written by --make, every
 * file it lists must match the counts, sums, minima and maxima the generator computed from the
 * values it wrote, never from the text.
 *
 * Phases: parse -> plan (list, manifest, pool) -> run (sequential, pooled) -> verify -> emit. */
#include "bigout.h"
#include "commands.h"
#include "emit.h"
#include "interrupt.h"
#include "opt.h"
#include "parkit/atomicfile.h"
#include "parkit/csv.h"
#include "parkit/dirlist.h"
#include "parkit/outdir.h"
#include "parkit/pool.h"
#include "parkit/sumsq.h"
#include "record.h"
#include "sysinfo.h"
#include "timing.h"

#include <errno.h>
#include <fcntl.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MANIFEST "parkit-manifest.json"
/* --make builds each file in memory before writing it: 1e7 rows is about 0.6 GB. */
#define MAX_ROWS  UINT64_C(10000000)
#define MAX_FILES UINT64_C(100000)
/* Mismatches printed in full; the rest are counted. */
#define SHOW_MISMATCHES 10

struct opts {
    const char *dir;      /* the operand (read) or --make's value */
    const char *make_dir; /* --make DIR or NULL */
    const char *summary;  /* --summary or NULL */
    const char *pattern;
    uint64_t workers, count, rows, seed;
    bool no_sequential, force, canary, no_header;
    int make_only; /* 1: --count, --rows, --seed or --force was given */
    int read_only; /* 1: --summary, --pattern, --no-sequential, --canary or --no-header */
    struct pk_common_opts common;
};

static const char description[] =
    "One file after another, then one file per task on a pool of W threads (the pool is not\n"
    "OpenMP: there is no -t); prints both times, the speedup, files/s and MB/s. --reps R times\n"
    "R runs of each kind (default 1); --warmup 0 skips the untimed read that puts the files in\n"
    "the page cache first (any other value reads them once). --format csv prints the --summary\n"
    "rows: a header, then per file and column file,status,rows,bytes,column,type,count,missing,\n"
    "distinct,sum,mean,min,max,sum_hex,error (distinct empty past 1000 values; the number\n"
    "statistics empty for other columns; one row with the error for a file that failed), then\n"
    "the totals over every file read as file '*'.\n"
    "\n"
    "CSV: a header row (a first row of numbers only is refused, exit 2: use --no-header);\n"
    "the same number of fields in every row; comma separator; LF or CRLF; RFC 4180 quotes;\n"
    "UTF-8. An empty field is a missing value. A column is a number column when every\n"
    "non-empty field in it is a finite decimal number (no spaces, inf, nan or hex), otherwise\n"
    "text. Errors print to stderr as FILE:LINE:COLUMN: reason (FILE: reason when the file\n"
    "cannot be read); the other files are still read, and the exit status is 1.\n"
    "Verified: the pooled run equals the sequential run bit for bit, and files listed in DIR's\n"
    "manifest match it (exit 3 otherwise). Ctrl-C stops both runs, reports what finished, exits\n"
    "1; a second Ctrl-C exits at once.\n";

/* Shared helpers ------------------------------------------------------------------------------ */

static char *join_path(const char *dir, const char *name)
{
    size_t d = strlen(dir), n = strlen(name);
    bool slash = d > 0 && dir[d - 1] == '/';
    char *p = malloc(d + n + 2);
    if (p)
        snprintf(p, d + n + 2, "%s%s%s", dir, slash ? "" : "/", name);
    return p;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void hexf(char *buf, size_t len, double x)
{
    snprintf(buf, len, "%a", x);
}

/* Bitwise equality: tells -0.0 from +0.0, which == does not. */
static bool same_bits(double a, double b)
{
    uint64_t x, y;
    memcpy(&x, &a, sizeof x);
    memcpy(&y, &b, sizeof y);
    return x == y;
}

/* --make: the seeded sales reports --------------------------------------------------------------
 */

static const char *const header_names[] = {"date",       "store",   "product", "units",
                                           "unit_price", "revenue", "margin",  NULL};
enum { NCOLS = 7, FIRST_NUMBER = 3, NNUMBERS = 4 };
/* Products: the CSV writer quotes two of them (a comma, a quote); some are multi-byte UTF-8. */
static const char *const products[] = {"Widget",     "Gadget",       "Widget, large", "12\" pipe",
                                       "Café crème", "Ölfilter 5 l", "Schraube M6",   "茶 100 g"};

struct make_task {
    size_t k;
    uint64_t rows, seed;
    char name[64];
    char *text; /* the file without its final newline (pk_atomicfile_write_lines adds it) */
    size_t len;
    struct pk_xacc sum[NNUMBERS]; /* of the values written, as doubles */
    double min[NNUMBERS], max[NNUMBERS];
};

/* Day d (0..365) of 2024, a leap year, as YYYY-MM-DD. */
static void date_of(unsigned d, char *out, size_t len)
{
    static const unsigned days[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    unsigned m = 0;
    while (m < 11 && d >= days[m])
        d -= days[m++];
    snprintf(out, len, "2024-%02u-%02u", m + 1, d + 1);
}

/* Builds report k. Runs on a pool thread; polls its token every PK_CSV_POLL_ROWS rows. */
/* One data row of report t through the CSV writer; its values are added to t's statistics. */
static void make_row(struct make_task *t, struct pk_csvw *w, gsl_rng *r, uint64_t i)
{
    char date[32];
    date_of((unsigned)(i * 366 / t->rows), date, sizeof date); /* ascending through 2024 */
    const char *product = products[gsl_rng_uniform_int(r, sizeof products / sizeof *products)];
    unsigned long units = 1 + gsl_rng_uniform_int(r, 50);
    unsigned long cents = 199 + gsl_rng_uniform_int(r, 99801); /* 1.99 .. 999.99 */
    unsigned long rev = units * cents;
    double margin = 0.25 + gsl_ran_gaussian(r, 0.1);
    /* Prices are written from integer cents, never from a double, and the values summed below
     * are the doubles nearest to the decimals written (cents / 100 is correctly rounded), so
     * the manifest does not depend on the parser. %.17g round-trips. */
    double v[NNUMBERS] = {(double)units, (double)cents / 100, (double)rev / 100, margin};
    pk_csvw_field(w, date);
    pk_csvw_fieldf(w, "S%03zu", t->k + 1);
    pk_csvw_field(w, product);
    pk_csvw_fieldf(w, "%lu", units);
    pk_csvw_fieldf(w, "%lu.%02lu", cents / 100, cents % 100);
    pk_csvw_fieldf(w, "%lu.%02lu", rev / 100, rev % 100);
    pk_csvw_fieldf(w, "%.17g", margin);
    pk_csvw_end(w);
    for (int j = 0; j < NNUMBERS; j++) {
        pk_xacc_add(&t->sum[j], v[j]);
        if (i == 0 || v[j] < t->min[j])
            t->min[j] = v[j];
        if (i == 0 || v[j] > t->max[j])
            t->max[j] = v[j];
    }
}

/* Builds report k in memory. Runs on a pool thread; polls its token every PK_CSV_POLL_ROWS
 * rows. */
static int make_file(void *arg, struct pk_cancel *cancel, void **result, struct pk_err *err)
{
    struct make_task *t = arg;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_taus2);
    char *text = NULL;
    size_t len = 0;
    FILE *f = r ? open_memstream(&text, &len) : NULL;
    if (!f) {
        gsl_rng_free(r);
        return pk_fail(err, PK_ENOMEM, "out of memory for report %zu", t->k + 1);
    }
    gsl_rng_set(r, pk_gauss_chunk_seed(t->seed, t->k)); /* one stream per report: any order */
    struct pk_csvw w;
    pk_csvw_init(&w, f);
    pk_csvw_row(&w, header_names);
    for (int j = 0; j < NNUMBERS; j++)
        pk_xacc_init(&t->sum[j]);
    int rc = PK_OK;
    for (uint64_t i = 0; i < t->rows && rc == PK_OK; i++) {
        /* Ctrl-C reaches a report through its token: the sink stops the map, which cancels
         * the reports in flight */
        if (i % PK_CSV_POLL_ROWS == 0 && pk_cancel_requested(cancel))
            rc = pk_fail(err, PK_ECANCELED, "cancelled");
        else
            make_row(t, &w, r, i);
    }
    gsl_rng_free(r);
    if (fclose(f) != 0 && rc == PK_OK)
        rc = pk_fail(err, PK_ENOMEM, "out of memory for report %zu", t->k + 1);
    if (rc != PK_OK) {
        free(text);
        return rc;
    }
    text[--len] = '\0'; /* the final newline: pk_atomicfile_write_lines adds it */
    t->text = text;
    t->len = len;
    *result = t;
    return PK_OK;
}

/* What an immediate exit (a second Ctrl-C, SIGTERM) removes while a set has no manifest yet:
 * the reports written so far, which nobody would list and the next --make would refuse. */
struct unmake {
    int dirfd;
    const struct make_task *task;
    size_t n;
    atomic_size_t made; /* reports 0..made-1 may exist */
};

/* Async-signal-safe (the interrupt handler runs it). */
static void unmake_reports(void *arg)
{
    struct unmake *u = arg;
    if (u->dirfd < 0 || faccessat(u->dirfd, MANIFEST, F_OK, 0) == 0)
        return; /* the manifest lists what is there */
    size_t made = atomic_load(&u->made);
    for (size_t k = 0; k < made && k < u->n; k++)
        unlinkat(u->dirfd, u->task[k].name, 0);
}

struct make_sink {
    struct unmake *unmake;
    const char *dir;
    json_t *files; /* the manifest's list */
    size_t written;
    uint64_t nbytes;
    struct pk_err err;
};

/* Writes one built report atomically and adds it to the manifest. Called by pk_pool_map on the
 * command's thread, in report order. */
static int write_report(void *ctx, size_t index, void *result)
{
    struct make_sink *s = ctx;
    struct make_task *t = result;
    (void)index;
    atomic_store(&s->unmake->made, t->k + 1); /* before the file can exist */
    char *path = join_path(s->dir, t->name);
    int rc = path ? pk_atomicfile_write_lines(path, &t->text, 1, &s->err)
                  : pk_fail(&s->err, PK_ENOMEM, "out of memory");
    free(path);
    free(t->text);
    t->text = NULL;
    if (rc != PK_OK)
        return rc;
    json_t *cols = json_object();
    for (int j = 0; j < NCOLS; j++) {
        json_t *c;
        if (j < FIRST_NUMBER) {
            c = json_pack("{s:s, s:I}", "type", "text", "count", (json_int_t)t->rows);
        } else {
            int m = j - FIRST_NUMBER;
            char sum[40], lo[40], hi[40];
            hexf(sum, sizeof sum, pk_xacc_round(&t->sum[m]));
            hexf(lo, sizeof lo, t->min[m]);
            hexf(hi, sizeof hi, t->max[m]);
            c = json_pack("{s:s, s:I, s:s, s:s, s:s}", "type", "number", "count",
                          (json_int_t)t->rows, "sum", sum, "min", lo, "max", hi);
            if (t->rows == 0) { /* no values: no sum, min or max to compare */
                json_object_del(c, "min");
                json_object_del(c, "max");
            }
        }
        json_object_set_new(cols, header_names[j], c);
    }
    json_array_append_new(s->files, json_pack("{s:o, s:I, s:I, s:o}", "name", pk_json_text(t->name),
                                              "rows", (json_int_t)t->rows, "bytes",
                                              (json_int_t)t->len + 1, "columns", cols));
    s->written++;
    s->nbytes += t->len + 1;
    if (pk_interrupted())
        return PK_ECANCELED;
    return PK_OK;
}

/* The set's file names, from a manifest (borrowed from it); NULL when it has none. */
static const char *manifest_name(const json_t *file)
{
    const char *name = json_string_value(json_object_get(file, "name"));
    /* never a path: a manifest must not make --make delete files elsewhere */
    if (!name || !*name || name[0] == '.' || strchr(name, '/'))
        return NULL;
    return name;
}

/* The manifest in dir: *man owns it (NULL when there is none). Returns 0, or an errno
 * (EINVAL: not a manifest) with err filled. */
static int load_manifest(const char *dir, json_t **man, struct pk_err *err)
{
    *man = NULL;
    char *path = join_path(dir, MANIFEST);
    if (!path)
        return pk_fail(err, PK_ENOMEM, "out of memory");
    struct stat st;
    if (stat(path, &st) != 0 && errno == ENOENT) {
        free(path);
        return PK_OK;
    }
    json_error_t je;
    json_t *m = json_load_file(path, 0, &je);
    int rc = PK_OK;
    if (!m)
        rc =
            pk_fail(err, PK_EIO, "cannot read manifest '%s': %s (line %d)", path, je.text, je.line);
    else if (!json_is_array(json_object_get(m, "files")))
        rc = pk_fail(err, PK_EINVAL, "'%s' is not a parkit manifest (no \"files\" list)", path);
    free(path);
    if (rc != PK_OK) {
        json_decref(m);
        return rc;
    }
    *man = m;
    return PK_OK;
}

/* The names a manifest lists (borrowed from it), sorted for bsearch; *n of them. */
static const char **listed_names(const json_t *man, size_t *n)
{
    const json_t *files = json_object_get(man, "files");
    const char **v = calloc(json_array_size(files) + 1, sizeof *v);
    *n = 0;
    size_t i;
    const json_t *f;
    json_array_foreach(files, i, f)
    {
        if (v && manifest_name(f))
            v[(*n)++] = manifest_name(f);
    }
    if (v && *n > 1)
        qsort(v, *n, sizeof *v, cmp_str);
    return v;
}

/* Refuses a directory that holds anything but the set its manifest lists (unless --force).
 * Returns an exit status and prints the error. */
static int refuse_foreign(const struct pk_comm *c, const struct opts *o, const json_t *man)
{
    struct pk_dirlist list = {0};
    int e = pk_dirlist_read(o->dir, NULL, true, &list);
    if (e != 0) {
        pk_error(c, false, "files", "cannot list '%s': %s", o->dir, strerror(e));
        pk_dirlist_free(&list);
        return PK_EXIT_RUNTIME;
    }
    size_t nlisted;
    const char **set = listed_names(man, &nlisted);
    int status = PK_EXIT_OK;
    for (size_t i = 0; i < list.n && !o->force && status == PK_EXIT_OK; i++) {
        const char *name = list.name[i];
        if (strcmp(name, MANIFEST) == 0 ||
            (set && bsearch(&name, set, nlisted, sizeof *set, cmp_str)))
            continue;
        pk_error(c, false, "files",
                 "--make: '%s' holds '%s', which is not part of a parkit set (use --force to "
                 "write there anyway)",
                 o->dir, name);
        status = PK_EXIT_USAGE;
    }
    free(set);
    pk_dirlist_free(&list);
    return status;
}

/* Removes the set a manifest lists, manifest first, so that no manifest ever describes files
 * that are not there. Returns an exit status and prints the error. */
static int remove_set(const struct pk_comm *c, const struct opts *o, const json_t *man)
{
    int status = PK_EXIT_OK;
    char *mpath = join_path(o->dir, MANIFEST);
    if (mpath && unlink(mpath) != 0 && errno != ENOENT) {
        pk_error(c, false, "files", "cannot remove '%s': %s", mpath, strerror(errno));
        status = PK_EXIT_RUNTIME;
    }
    free(mpath);
    size_t i;
    const json_t *f;
    json_array_foreach(json_object_get(man, "files"), i, f)
    {
        const char *name = manifest_name(f);
        char *path = name && status == PK_EXIT_OK ? join_path(o->dir, name) : NULL;
        if (path && unlink(path) != 0 && errno != ENOENT) {
            pk_error(c, false, "files", "cannot remove '%s': %s", path, strerror(errno));
            status = PK_EXIT_RUNTIME;
        }
        free(path);
    }
    return status;
}

/* Makes dir ready for a new set: creates it with its missing parents, or checks that it holds
 * only a previous set (or --force) and removes that set. Returns an exit status and prints the
 * error. */
static int prepare_make_dir(const struct pk_comm *c, const struct opts *o)
{
    struct pk_err err = {0};
    bool created = false;
    int rc = pk_outdir_make(o->dir, &created, &err);
    if (rc != PK_OK) {
        pk_error(c, false, "files", "--make: %s", err.msg);
        return rc == PK_EINVAL ? PK_EXIT_USAGE : PK_EXIT_RUNTIME;
    }
    if (created)
        return PK_EXIT_OK;
    json_t *man = NULL;
    if (load_manifest(o->dir, &man, &err) != PK_OK && !o->force)
        return pk_usage_error(c, "files", "%s; use --force to write a new set to '%s' anyway",
                              err.msg, o->dir);
    int status = refuse_foreign(c, o, man);
    if (status == PK_EXIT_OK)
        status = remove_set(c, o, man);
    json_decref(man);
    return status;
}

/* sales_001.csv ...: numbered from 1, zero-padded to the width of n (at least 3 digits), so
 * that the names sort in report order. */
static void report_name(char *out, size_t len, size_t k, size_t n)
{
    char num[24], pad[24] = "00000000000000000000";
    int digits = snprintf(num, sizeof num, "%zu", k + 1);
    int width = snprintf(NULL, 0, "%zu", n);
    int zeros = (width < 3 ? 3 : width) - digits;
    pad[zeros > 0 ? zeros : 0] = 0;
    snprintf(out, len, "sales_%s%s.csv", pad, num);
}

/* The manifest of the reports written (after Ctrl-C, of those written so far, so that they can
 * be read and verified, and a later --make replaces them without --force). */
static int write_manifest(const struct opts *o, const struct make_sink *sink, bool complete,
                          struct pk_err *err)
{
    json_t *man = json_pack("{s:s, s:s, s:o, s:I, s:I, s:b, s:O}", "schema",
                            "parkit.files-manifest/1", "generator", "parkit files --make", "seed",
                            pk_json_u64(o->seed), "count", (json_int_t)sink->written, "rows",
                            (json_int_t)o->rows, "complete", complete, "files", sink->files);
    char *text = json_dumps(man, JSON_COMPACT);
    char *mpath = join_path(o->dir, MANIFEST);
    int rc = text && mpath ? pk_atomicfile_write_lines(mpath, &text, 1, err)
                           : pk_fail(err, PK_ENOMEM, "out of memory");
    free(text);
    free(mpath);
    json_decref(man);
    return rc;
}

/* Builds the reports on the pool and writes each, in order, as it comes. Returns a pk_status
 * (sink->err or err says why). */
static int make_reports(const struct opts *o, struct make_task *task, size_t n,
                        struct make_sink *sink, struct pk_err *err)
{
    void **in = calloc(n, sizeof *in);
    struct pk_pool *pool = NULL;
    if (!in || pk_pool_create((int)o->workers, &pool) != PK_OK) {
        free(in);
        return pk_fail(err, PK_ENOMEM, "cannot start %llu workers", (unsigned long long)o->workers);
    }
    for (size_t k = 0; k < n; k++) {
        task[k] = (struct make_task){.k = k, .rows = o->rows, .seed = o->seed};
        report_name(task[k].name, sizeof task[k].name, k, n);
        in[k] = &task[k];
    }
    /* window = workers: each report in flight is held in memory until written, in order */
    int rc = pk_pool_map(pool, make_file, in, n, (size_t)o->workers, write_report, sink, NULL, err);
    pk_pool_destroy(pool);
    free(in);
    return rc;
}

static int make_set(const struct pk_comm *c, const struct opts *o)
{
    int status = prepare_make_dir(c, o);
    if (status != PK_EXIT_OK)
        return status;
    size_t n = (size_t)o->count;
    struct make_task *task = calloc(n, sizeof *task);
    struct unmake unmake = {
        .dirfd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), .task = task, .n = task ? n : 0};
    struct make_sink sink = {.unmake = &unmake, .dir = o->dir, .files = json_array()};
    struct pk_err err = {0};
    int cleanup = pk_interrupt_cleanup_add(unmake_reports, &unmake);
    pk_interrupt_install();
    double t0 = pk_now_s();
    int rc =
        task ? make_reports(o, task, n, &sink, &err) : pk_fail(&err, PK_ENOMEM, "out of memory");
    double make_s = pk_now_s() - t0;
    bool interrupted = pk_interrupted();
    pk_interrupt_restore();
    if (rc == PK_OK || (interrupted && sink.written > 0)) {
        int mrc = write_manifest(o, &sink, !interrupted, &err);
        rc = rc == PK_OK ? mrc : rc;
    }
    pk_interrupt_cleanup_remove(cleanup);
    if (unmake.dirfd >= 0)
        close(unmake.dirfd);
    if (interrupted) {
        pk_error(c, false, "files",
                 "interrupted after %zu of %zu reports (the manifest lists them)", sink.written, n);
        status = PK_EXIT_RUNTIME;
    } else if (rc != PK_OK) {
        pk_error(c, false, "files", "%s", sink.err.msg[0] ? sink.err.msg : err.msg);
        status = PK_EXIT_RUNTIME;
    } else {
        printf("wrote %zu %s of %llu rows (%.1f MB) and %s to '%s' in %.3f s\n", n,
               pk_plural(n, "report", "reports"), (unsigned long long)o->rows,
               (double)sink.nbytes * 1e-6, MANIFEST, o->dir, make_s);
    }
    for (size_t k = 0; task && k < n; k++)
        free(task[k].text);
    json_decref(sink.files);
    free(task);
    return status;
}

/* Reading: one file, the two runs, comparisons ------------------------------------------------ */

struct file_result {
    int status; /* PK_OK, the reader's failure, or PK_ECANCELED (did not finish) */
    struct pk_csv_stats st;
    struct pk_csv_error err;
};

struct file_task {
    const char *path;
    uint64_t canary_row;
    bool no_header;
    struct file_result *res; /* written by the task, read after its future completed */
};

/* The reader's stop test, called on the reading thread: a pool task polls its token (the
 * command's thread cancels it on Ctrl-C, so workers never read the signal flag); the sequential
 * run, on the command's thread, polls the flag itself. */
static bool stop_reading(void *ctx)
{
    const struct pk_cancel *cancel = ctx;
    return cancel ? pk_cancel_requested(cancel) : pk_interrupted();
}

static void read_file(const struct file_task *t, struct pk_cancel *cancel)
{
    struct pk_csv_opts o = {.stop = stop_reading,
                            .stop_ctx = cancel,
                            .canary_row = t->canary_row,
                            .no_header = t->no_header};
    t->res->status = pk_csv_read_stats(t->path, &o, &t->res->st, &t->res->err);
}

/* A pool task: one file. A malformed file is a result, not a task failure; only a cancelled
 * read fails the task. */
static int file_task_fn(void *arg, struct pk_cancel *cancel, void **result, struct pk_err *err)
{
    const struct file_task *t = arg;
    (void)result;
    read_file(t, cancel);
    if (t->res->status == PK_ECANCELED)
        return pk_fail(err, PK_ECANCELED, "cancelled");
    return PK_OK;
}

static void free_results(struct file_result *r, size_t n)
{
    for (size_t i = 0; r && i < n; i++)
        pk_csv_stats_fini(&r[i].st);
    free(r);
}

static size_t run_sequential(struct file_task *t, size_t n)
{
    size_t finished = 0;
    for (size_t i = 0; i < n && !pk_interrupted(); i++) {
        read_file(&t[i], NULL);
        finished += t[i].res->status != PK_ECANCELED;
    }
    return finished;
}

/* Submits every file and collects them as they complete; Ctrl-C cancels what has not finished
 * (queued files never start, running ones stop at their next poll). Returns how many finished. */
static size_t run_pooled(struct pk_pool *pool, struct pk_queue *done, struct file_task *t, size_t n)
{
    size_t submitted = 0, collected = 0, finished = 0;
    for (size_t i = 0; i < n; i++) {
        struct pk_future *f;
        if (pk_pool_submit(pool, file_task_fn, &t[i], 0, done, &f) != PK_OK)
            break;            /* out of memory: what was not submitted counts as not finished */
        pk_future_release(f); /* the completion queue holds its own reference */
        submitted++;
    }
    bool stopped = false;
    while (collected < submitted) {
        if (pk_interrupted() && !stopped) {
            /* cancels queued files and the tokens of running ones, then waits for the threads:
             * every future is in the completion queue after it */
            pk_pool_shutdown(pool, true, NULL);
            stopped = true;
        }
        void *f;
        if (pk_queue_pop_timed(done, &f, stopped ? 0 : 0.05) != PK_OK) {
            if (stopped)
                break; /* leftovers are released by the queue */
            continue;
        }
        finished += pk_future_wait(f, -1, NULL, NULL) == PK_OK;
        pk_future_release(f);
        collected++;
    }
    return finished;
}

/* Exact sums compare by value: both normalised, every digit equal. */
static bool same_sum(struct pk_xacc *a, struct pk_xacc *b)
{
    pk_xacc_normalize(a);
    pk_xacc_normalize(b);
    return memcmp(a->digit, b->digit, sizeof a->digit) == 0 && a->npos_inf == b->npos_inf &&
           a->nneg_inf == b->nneg_inf && a->nnan == b->nnan;
}

static bool same_result(struct file_result *a, struct file_result *b)
{
    if (a->status != b->status)
        return false;
    if (a->status != PK_OK)
        return a->err.line == b->err.line && a->err.column == b->err.column &&
               strcmp(a->err.reason, b->err.reason) == 0;
    if (a->st.rows != b->st.rows || a->st.nbytes != b->st.nbytes || a->st.ncols != b->st.ncols)
        return false;
    for (size_t j = 0; j < a->st.ncols; j++) {
        struct pk_csv_column *x = &a->st.col[j], *y = &b->st.col[j];
        if (strcmp(x->name, y->name) != 0 || x->type != y->type || x->count != y->count ||
            x->missing != y->missing || x->distinct.n != y->distinct.n ||
            x->distinct.more != y->distinct.more || !same_sum(&x->sum, &y->sum))
            return false;
        if (x->type == PK_CSV_NUMBER && x->count > 0 &&
            (!same_bits(x->min, y->min) || !same_bits(x->max, y->max)))
            return false;
    }
    return true;
}

static bool hex_matches(const json_t *want, double got)
{
    const char *s = json_string_value(want);
    char *end;
    double w = s ? strtod(s, &end) : 0;
    return s && *s && !*end && same_bits(w, got);
}

/* Why one file differs from its manifest entry, or NULL when it matches. */
static const char *manifest_mismatch(const json_t *entry, struct file_result *r, char *why,
                                     size_t len)
{
    if (r->status != PK_OK) {
        snprintf(why, len, "could not be read (%s)", r->err.reason);
        return why;
    }
    json_int_t rows = json_integer_value(json_object_get(entry, "rows"));
    json_int_t bytes = json_integer_value(json_object_get(entry, "bytes"));
    if ((uint64_t)rows != r->st.rows || (uint64_t)bytes != r->st.nbytes) {
        snprintf(why, len, "%llu rows and %llu bytes, the manifest says %lld and %lld",
                 (unsigned long long)r->st.rows, (unsigned long long)r->st.nbytes, (long long)rows,
                 (long long)bytes);
        return why;
    }
    const json_t *cols = json_object_get(entry, "columns");
    if (json_object_size(cols) != r->st.ncols) {
        snprintf(why, len, "%zu columns, the manifest says %zu", r->st.ncols,
                 json_object_size(cols));
        return why;
    }
    for (size_t j = 0; j < r->st.ncols; j++) {
        struct pk_csv_column *c = &r->st.col[j];
        const json_t *w = json_object_get(cols, c->name);
        if (!w) {
            snprintf(why, len, "column '%s' is not in the manifest", c->name);
            return why;
        }
        const char *type = json_string_value(json_object_get(w, "type"));
        bool number = type && strcmp(type, "number") == 0;
        json_int_t count = json_integer_value(json_object_get(w, "count"));
        if ((uint64_t)count != c->count) {
            snprintf(why, len, "column '%s': count %llu, the manifest says %lld", c->name,
                     (unsigned long long)c->count, (long long)count);
            return why;
        }
        if (count == 0)
            continue;
        if (number != (c->type == PK_CSV_NUMBER)) {
            snprintf(why, len, "column '%s' read as %s", c->name,
                     c->type == PK_CSV_NUMBER ? "numbers" : "text");
            return why;
        }
        if (!number)
            continue;
        double sum = pk_xacc_round(&c->sum);
        const char *bad = !hex_matches(json_object_get(w, "sum"), sum)      ? "sum"
                          : !hex_matches(json_object_get(w, "min"), c->min) ? "min"
                          : !hex_matches(json_object_get(w, "max"), c->max) ? "max"
                                                                            : NULL;
        if (bad) {
            char got[40];
            hexf(got, sizeof got, bad[1] == 'u' ? sum : bad[1] == 'i' ? c->min : c->max);
            const char *want = json_string_value(json_object_get(w, bad));
            snprintf(why, len, "column '%s': %s %s, the manifest says %s", c->name, bad, got,
                     want ? want : "nothing");
            return why;
        }
    }
    return NULL;
}

/* Files listed in the manifest that are missing or differ; each printed (the first few). */
static size_t check_manifest(const struct pk_comm *c, const json_t *man, const struct opts *o,
                             char **names, size_t n, struct file_result *res, size_t *matched)
{
    size_t bad = 0, i;
    const json_t *f;
    *matched = 0;
    json_array_foreach(json_object_get(man, "files"), i, f)
    {
        const char *name = json_string_value(json_object_get(f, "name"));
        char why[512];
        const char *mismatch = "is listed in the manifest but missing";
        char **hit = name ? bsearch(&name, names, n, sizeof *names, cmp_str) : NULL;
        if (hit)
            mismatch = manifest_mismatch(f, &res[hit - names], why, sizeof why);
        if (!mismatch) {
            (*matched)++;
            continue;
        }
        if (bad++ < SHOW_MISMATCHES)
            pk_error(c, false, "files", "%s/%s %s", o->dir, name ? name : "?", mismatch);
    }
    if (bad > SHOW_MISMATCHES)
        pk_error(c, false, "files", "... and %zu more files differ from the manifest",
                 bad - SHOW_MISMATCHES);
    return bad;
}

/* Column totals over every file read: merged by name, in order of first appearance. */
struct total {
    const char *name; /* borrowed from the results */
    bool number, text;
    uint64_t count, missing;
    struct pk_xacc sum;
    double min, max;
    struct pk_csv_distinct distinct; /* owned: the union of the files' sets */
};

static void free_totals(struct total *t, size_t n)
{
    for (size_t k = 0; t && k < n; k++)
        pk_csv_distinct_fini(&t[k].distinct);
    free(t);
}

static size_t totals_of(struct file_result *res, size_t n, struct total **out)
{
    size_t cap = 0, nt = 0;
    struct total *t = NULL;
    for (size_t i = 0; i < n; i++) {
        if (res[i].status != PK_OK)
            continue;
        for (size_t j = 0; j < res[i].st.ncols; j++) {
            struct pk_csv_column *c = &res[i].st.col[j];
            size_t k = 0;
            while (k < nt && strcmp(t[k].name, c->name) != 0)
                k++;
            if (k == nt) {
                if (nt == cap) {
                    cap = cap ? 2 * cap : 16;
                    struct total *g = realloc(t, cap * sizeof *g);
                    if (!g)
                        break;
                    t = g;
                }
                t[nt] = (struct total){.name = c->name};
                pk_xacc_init(&t[nt++].sum);
            }
            struct total *x = &t[k];
            if (c->type == PK_CSV_NUMBER && c->count > 0) {
                pk_xacc_merge(&x->sum, &c->sum);
                if (!x->number || c->min < x->min)
                    x->min = c->min;
                if (!x->number || c->max > x->max)
                    x->max = c->max;
                x->number = true;
            } else if (c->type == PK_CSV_TEXT) {
                x->text = true;
            }
            x->count += c->count;
            x->missing += c->missing;
            if (pk_csv_distinct_merge(&x->distinct, &c->distinct) != PK_OK)
                x->distinct.more = true; /* out of memory: the count is only a lower bound */
        }
    }
    *out = t;
    return nt;
}

static const char *type_name(bool number, bool text)
{
    return number && text ? "mixed" : number ? "number" : text ? "text" : "empty";
}

/* The read of a set: what the plan found, what the runs produced, and how they compare. */
struct outcome {
    size_t n, finished, failed;
    uint64_t rows, bytes;
    double seq_s, pool_s; /* medians; 0 when not run */
    int seq_reps, pool_reps;
    size_t run_mismatches, manifest_files, manifest_matched, manifest_bad;
    size_t headerless; /* failed files whose first row holds only numbers: --no-header? */
    bool have_manifest, verified, interrupted, incomplete, no_memory;
};

struct reading {
    const struct opts *o;
    struct pk_dirlist list; /* the file names, sorted */
    char **paths;           /* DIR/name, list.n of them */
    json_t *man;            /* the manifest in DIR, or NULL */
    struct pk_pool *pool;
    struct pk_queue *done; /* the pooled run's completion queue */
    struct file_task *task;
    double *seq_rep_s, *pool_rep_s;
    struct file_result *ref;   /* the first complete run: later runs must equal it */
    struct file_result *shown; /* what is reported: ref, or the run that did not finish */
    struct total *totals;
    size_t nt;
    struct outcome oc;
};

/* Output ------------------------------------------------------------------------------------- */

static void csv_count(struct pk_csvw *w, uint64_t v)
{
    pk_csvw_fieldf(w, "%llu", (unsigned long long)v);
}

/* The number statistics of a summary row (five fields, empty when sum is NULL), then the
 * (empty) error field. */
static void csv_stats(struct pk_csvw *w, const struct pk_xacc *sum, uint64_t count, double min,
                      double max)
{
    if (!sum) {
        for (int k = 0; k < 6; k++)
            pk_csvw_field(w, NULL);
        return;
    }
    struct pk_xacc acc = *sum;
    double s = pk_xacc_round(&acc);
    /* %.17g round-trips every double; sum_hex shows the bits */
    pk_csvw_fieldf(w, "%.17g", s);
    pk_csvw_fieldf(w, "%.17g", s / (double)count);
    pk_csvw_fieldf(w, "%.17g", min);
    pk_csvw_fieldf(w, "%.17g", max);
    pk_csvw_fieldf(w, "%a", s);
    pk_csvw_field(w, NULL);
}

/* file,status,rows,bytes,column,type,count,missing,distinct of one summary row. */
static void csv_column(struct pk_csvw *w, const char *file, uint64_t rows, uint64_t bytes,
                       const char *column, const char *type, uint64_t count, uint64_t missing,
                       const struct pk_csv_distinct *distinct)
{
    pk_csvw_field(w, file);
    pk_csvw_field(w, "ok");
    csv_count(w, rows);
    csv_count(w, bytes);
    pk_csvw_field(w, column);
    pk_csvw_field(w, type);
    csv_count(w, count);
    csv_count(w, missing);
    if (distinct->more)
        pk_csvw_field(w, NULL); /* past PK_CSV_DISTINCT_MAX: not counted */
    else
        csv_count(w, distinct->n);
}

static void csv_failed(struct pk_csvw *w, const char *name, const struct file_result *r)
{
    char msg[320];
    snprintf(msg, sizeof msg, "%llu:%zu: %s", (unsigned long long)r->err.line, r->err.column,
             r->err.reason);
    pk_csvw_field(w, name);
    pk_csvw_field(w, r->status == PK_ECANCELED ? "not_finished" : "error");
    for (int k = 0; k < 12; k++)
        pk_csvw_field(w, NULL);
    pk_csvw_field(w, msg);
    pk_csvw_end(w);
}

/* The summary CSV: a header, one row per file and column (one with the error for a file that
 * failed), then the totals as file "*". Both --summary and --format csv write it. */
static void write_summary(struct pk_csvw *w, const struct reading *r)
{
    static const char *const header[] = {"file",  "status",  "rows",     "bytes", "column", "type",
                                         "count", "missing", "distinct", "sum",   "mean",   "min",
                                         "max",   "sum_hex", "error",    NULL};
    pk_csvw_row(w, header);
    const struct file_result *res = r->shown;
    for (size_t i = 0; i < r->list.n; i++) {
        if (res[i].status != PK_OK) {
            csv_failed(w, r->list.name[i], &res[i]);
            continue;
        }
        for (size_t j = 0; j < res[i].st.ncols; j++) {
            const struct pk_csv_column *c = &res[i].st.col[j];
            bool number = c->type == PK_CSV_NUMBER;
            csv_column(w, r->list.name[i], res[i].st.rows, res[i].st.nbytes, c->name,
                       type_name(number, c->type == PK_CSV_TEXT), c->count, c->missing,
                       &c->distinct);
            csv_stats(w, number && c->count > 0 ? &c->sum : NULL, c->count, c->min, c->max);
            pk_csvw_end(w);
        }
    }
    for (size_t k = 0; k < r->nt; k++) {
        const struct total *t = &r->totals[k];
        bool number = t->number && !t->text; /* a mixed column has no mean */
        csv_column(w, "*", r->oc.rows, r->oc.bytes, t->name, type_name(t->number, t->text),
                   t->count, t->missing, &t->distinct);
        csv_stats(w, number ? &t->sum : NULL, t->count, t->min, t->max);
        pk_csvw_end(w);
    }
}

/* --summary: written through a temporary name in the same directory, flushed to disk and
 * renamed over path only when complete; a failure leaves nothing behind. */
static int write_summary_file(const char *path, const struct reading *r, struct pk_err *err)
{
    struct pk_atomicfile a;
    int rc = pk_atomicfile_open(&a, path, err);
    if (rc != PK_OK)
        return rc;
    struct pk_csvw w;
    pk_csvw_init(&w, a.f);
    write_summary(&w, r);
    return pk_atomicfile_commit(&a, err);
}

/* Prints each failed file as FILE:LINE:COLUMN: reason (FILE: reason for the whole file). */
static void print_failures(const struct reading *r)
{
    const char *dir = r->o->dir;
    const char *sep = dir[strlen(dir) - 1] == '/' ? "" : "/";
    for (size_t i = 0; i < r->list.n; i++) {
        const struct file_result *f = &r->shown[i];
        const char *name = r->list.name[i];
        if (f->status == PK_OK || f->status == PK_ECANCELED)
            continue;
        if (f->err.line > 0 && f->err.column > 0)
            fprintf(stderr, "%s%s%s:%llu:%zu: %s\n", dir, sep, name,
                    (unsigned long long)f->err.line, f->err.column, f->err.reason);
        else if (f->err.line > 0)
            fprintf(stderr, "%s%s%s:%llu: %s\n", dir, sep, name, (unsigned long long)f->err.line,
                    f->err.reason);
        else
            fprintf(stderr, "%s%s%s: %s\n", dir, sep, name, f->err.reason);
    }
}

static void print_files(const struct reading *r)
{
    printf("%-32s %10s %12s  %s\n", "file", "rows", "bytes", "status");
    for (size_t i = 0; i < r->list.n; i++) {
        const struct file_result *f = &r->shown[i];
        const char *name = r->list.name[i];
        if (f->status == PK_OK)
            printf("%-32s %10llu %12llu  ok\n", name, (unsigned long long)f->st.rows,
                   (unsigned long long)f->st.nbytes);
        else if (f->status == PK_ECANCELED)
            printf("%-32s %10s %12s  not finished\n", name, "-", "-");
        else if (f->err.line > 0)
            printf("%-32s %10s %12s  FAILED at line %llu, column %zu\n", name, "-", "-",
                   (unsigned long long)f->err.line, f->err.column);
        else
            printf("%-32s %10s %12s  FAILED: %s\n", name, "-", "-", f->err.reason);
    }
}

static void print_columns(const struct reading *r)
{
    size_t nread = r->oc.finished - r->oc.failed;
    printf("# totals over %zu %s read: %llu rows, %.3f MB\n", nread,
           pk_plural(nread, "file", "files"), (unsigned long long)r->oc.rows,
           (double)r->oc.bytes * 1e-6);
    printf("%-16s %-6s %12s %10s %22s %16s %16s %16s\n", "column", "type", "count", "missing",
           "sum", "mean", "min", "max");
    for (size_t k = 0; k < r->nt; k++) {
        const struct total *t = &r->totals[k];
        printf("%-16s %-6s %12llu %10llu", t->name, type_name(t->number, t->text),
               (unsigned long long)t->count, (unsigned long long)t->missing);
        if (t->number && !t->text) {
            struct pk_xacc acc = t->sum;
            double s = pk_xacc_round(&acc);
            printf(" %22.15g %16.8g %16.10g %16.10g\n", s, s / (double)t->count, t->min, t->max);
        } else if (t->text) {
            printf("   %s%zu distinct\n", t->distinct.more ? "more than " : "", t->distinct.n);
        } else {
            putchar('\n');
        }
    }
}

static void print_verified(const struct reading *r)
{
    const struct outcome *oc = &r->oc;
    char manifest_note[96] = "; no manifest";
    if (oc->have_manifest)
        snprintf(manifest_note, sizeof manifest_note,
                 "%s%zu of %zu listed files match the manifest", oc->seq_reps ? "; " : "",
                 oc->manifest_matched, oc->manifest_files);
    else if (!oc->seq_reps)
        manifest_note[0] = 0;
    if (r->o->common.no_verify)
        printf("verified    skipped (--no-verify)\n");
    else if (oc->interrupted)
        printf("verified    no (interrupted)\n");
    else if (!oc->verified)
        printf("verified    NO (%zu %s between runs, %zu from the manifest)\n", oc->run_mismatches,
               pk_plural(oc->run_mismatches, "file differs", "files differ"), oc->manifest_bad);
    else if (oc->seq_reps == 0 && !oc->have_manifest)
        printf("verified    unchecked (no sequential run and no manifest to compare with)\n");
    else
        printf("verified    yes (%s%s)\n", oc->seq_reps ? "pooled = sequential bit for bit" : "",
               manifest_note);
}

static void print_table(const json_t *rec, const void *ctx)
{
    const struct reading *r = ctx;
    const struct opts *o = r->o;
    const struct outcome *oc = &r->oc;
    (void)rec;
    printf("# parkit files: %zu %s in '%s' (%s), %llu %s, %d %s\n", oc->n,
           pk_plural(oc->n, "file", "files"), o->dir, o->pattern, (unsigned long long)o->workers,
           pk_plural(o->workers, "worker", "workers"), o->common.reps,
           pk_plural((unsigned)o->common.reps, "rep", "reps"));
    print_files(r);
    print_columns(r);
    if (oc->seq_reps)
        printf("Sequential  %.4f s\n", oc->seq_s);
    if (oc->pool_reps) {
        printf("Concurrent  %.4f s", oc->pool_s);
        if (oc->seq_reps && oc->pool_s > 0)
            printf("   Speedup %.2fx", oc->seq_s / oc->pool_s);
        printf("   (%llu %s%s)\n", (unsigned long long)o->workers,
               pk_plural(o->workers, "worker", "workers"), o->common.reps > 1 ? ", medians" : "");
    }
    if (oc->pool_s > 0)
        printf("throughput  %.1f files/s, %.1f MB/s, %.3g rows/s (pooled)\n",
               (double)oc->n / oc->pool_s, (double)oc->bytes * 1e-6 / oc->pool_s,
               (double)oc->rows / oc->pool_s);
    printf("failed      %zu of %zu %s\n", oc->failed, oc->n, pk_plural(oc->n, "file", "files"));
    print_verified(r);
}

static void print_csv(const json_t *rec, struct pk_csvw *w, const void *ctx)
{
    (void)rec;
    write_summary(w, ctx);
}

static json_t *columns_json(const struct reading *r)
{
    json_t *cols = json_array();
    for (size_t k = 0; k < r->nt; k++) {
        const struct total *t = &r->totals[k];
        json_t *c = json_pack("{s:o, s:s, s:I, s:I, s:I, s:b}", "name", pk_json_text(t->name),
                              "type", type_name(t->number, t->text), "count", (json_int_t)t->count,
                              "missing", (json_int_t)t->missing, "distinct",
                              (json_int_t)t->distinct.n, "distinct_more", t->distinct.more);
        if (t->number && !t->text) {
            struct pk_xacc acc = t->sum;
            double s = pk_xacc_round(&acc);
            char hx[40];
            hexf(hx, sizeof hx, s);
            json_object_set_new(c, "sum", json_real(s));
            json_object_set_new(c, "sum_hex", json_string(hx));
            json_object_set_new(c, "mean", json_real(s / (double)t->count));
            json_object_set_new(c, "min", json_real(t->min));
            json_object_set_new(c, "max", json_real(t->max));
        }
        json_array_append_new(cols, c);
    }
    return cols;
}

static json_t *build_record(const struct reading *r)
{
    const struct opts *o = r->o;
    const struct outcome *oc = &r->oc;
    json_t *rec = pk_record_new("files");
    json_object_set_new(rec, "params",
                        json_pack("{s:o, s:o, s:I, s:i, s:b, s:b}", "dir", pk_json_text(o->dir),
                                  "pattern", pk_json_text(o->pattern), "workers",
                                  (json_int_t)o->workers, "reps", o->common.reps, "sequential",
                                  !o->no_sequential, "canary", o->canary));
    json_t *failures = json_array(), *seq = json_array();
    for (size_t i = 0; i < oc->n; i++) {
        const struct file_result *f = &r->shown[i];
        if (f->status != PK_OK && f->status != PK_ECANCELED)
            json_array_append_new(failures, json_pack("{s:o, s:I, s:I, s:o}", "file",
                                                      pk_json_text(r->list.name[i]), "line",
                                                      (json_int_t)f->err.line, "column",
                                                      (json_int_t)f->err.column, "reason",
                                                      pk_json_text(f->err.reason)));
    }
    for (int k = 0; k < oc->seq_reps; k++)
        json_array_append_new(seq, json_real(r->seq_rep_s[k]));
    json_object_set_new(
        rec, "result",
        json_pack("{s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:o, s:f, s:f, s:I, s:I, s:I, s:o, s:o}",
                  "files", (json_int_t)oc->n, "finished", (json_int_t)oc->finished, "failed",
                  (json_int_t)oc->failed, "rows", (json_int_t)oc->rows, "bytes",
                  (json_int_t)oc->bytes, "sequential_s", oc->seq_s, "pooled_s", oc->pool_s,
                  "sequential_reps_s", seq, "files_per_s",
                  oc->pool_s > 0 ? (double)oc->n / oc->pool_s : 0.0, "mb_per_s",
                  oc->pool_s > 0 ? (double)oc->bytes * 1e-6 / oc->pool_s : 0.0, "run_mismatches",
                  (json_int_t)oc->run_mismatches, "manifest_files", (json_int_t)oc->manifest_files,
                  "manifest_matched", (json_int_t)oc->manifest_matched, "failures", failures,
                  "columns", columns_json(r)));
    bool checked = oc->seq_reps > 0 || oc->have_manifest; /* else nothing to compare with */
    json_object_set_new(rec, "verified",
                        json_boolean(oc->verified && checked && !o->common.no_verify));
    pk_record_set_timing(rec, r->pool_rep_s, oc->pool_reps, o->common.warmup > 0);
    return rec;
}

/* Plan: the files, the manifest, the pool --------------------------------------------------- */

static void reading_free(struct reading *r)
{
    size_t n = r->list.n;
    free_totals(r->totals, r->nt);
    pk_pool_destroy(r->pool);
    pk_queue_destroy(r->done);
    free_results(r->ref, n);
    free_results(r->shown, n);
    json_decref(r->man);
    for (size_t i = 0; r->paths && i < n; i++)
        free(r->paths[i]);
    free(r->paths);
    pk_dirlist_free(&r->list);
    free(r->task);
    free(r->seq_rep_s);
    free(r->pool_rep_s);
}

/* --summary and --record must not write to a file they read (or the manifest that verifies
 * them), nor to each other. Returns an exit status and prints the error. */
static int refuse_input_as_summary(const struct pk_comm *c, const struct opts *o,
                                   const struct pk_dirlist *list)
{
    const char *record = o->common.record;
    int status = pk_cli_distinct(c, "files", "--record", record, "--summary", o->summary);
    for (size_t i = 0; (o->summary || record) && i <= list->n && status == PK_EXIT_OK; i++) {
        char *in = join_path(o->dir, i < list->n ? list->name[i] : MANIFEST);
        status = pk_cli_distinct(c, "files", "--summary", o->summary, "the input", in);
        if (status == PK_EXIT_OK)
            status = pk_cli_distinct(c, "files", "--record", record, "the input", in);
        free(in);
    }
    return status;
}

/* Lists the files and loads the manifest. Returns an exit status and prints the error. */
static int find_files(const struct pk_comm *c, struct reading *r)
{
    const struct opts *o = r->o;
    struct stat st;
    if (stat(o->dir, &st) != 0)
        return pk_usage_error(c, "files", "cannot open directory '%s': %s", o->dir,
                              strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return pk_usage_error(c, "files", "'%s' is not a directory", o->dir);
    /* hidden names only when the pattern matches their leading dot itself; regular files only:
     * a FIFO named *.csv blocked the run forever */
    struct pk_dirlist skipped = {0};
    int e = pk_dirlist_read_files(o->dir, o->pattern, true, &r->list, &skipped);
    if (e != 0) {
        pk_dirlist_free(&skipped);
        pk_error(c, false, "files", "cannot list '%s': %s", o->dir, strerror(e));
        return PK_EXIT_RUNTIME;
    }
    for (size_t i = 0; i < skipped.n && c->rank == 0; i++)
        fprintf(stderr, "parkit files: warning: skipped '%s/%s': not a regular file\n", o->dir,
                skipped.name[i]);
    pk_dirlist_free(&skipped);
    if (refuse_input_as_summary(c, o, &r->list) != PK_EXIT_OK)
        return PK_EXIT_USAGE;
    struct pk_err err = {0};
    if (load_manifest(o->dir, &r->man, &err) != PK_OK) {
        pk_error(c, false, "files", "%s", err.msg);
        return PK_EXIT_RUNTIME;
    }
    if (o->canary && !r->man && o->no_sequential)
        return pk_usage_error(
            c, "files", "--canary needs the sequential run or a manifest in '%s' to compare with",
            o->dir);
    return PK_EXIT_OK;
}

static int plan(const struct pk_comm *c, struct reading *r)
{
    int status = find_files(c, r);
    if (status != PK_EXIT_OK)
        return status;
    size_t n = r->list.n, reps = (size_t)r->o->common.reps;
    r->paths = calloc(n ? n : 1, sizeof *r->paths);
    r->task = calloc(n ? n : 1, sizeof *r->task);
    r->seq_rep_s = calloc(reps, sizeof *r->seq_rep_s);
    r->pool_rep_s = calloc(reps, sizeof *r->pool_rep_s);
    bool ok = r->paths && r->task && r->seq_rep_s && r->pool_rep_s;
    for (size_t i = 0; ok && i < n; i++) {
        r->paths[i] = join_path(r->o->dir, r->list.name[i]);
        ok = r->paths[i] != NULL;
    }
    if (!ok || pk_pool_create((int)r->o->workers, &r->pool) != PK_OK ||
        pk_queue_create(n ? n : 1, pk_future_release_item, &r->done) != PK_OK) {
        pk_error(c, false, "files", "cannot start %llu workers (out of memory?)",
                 (unsigned long long)r->o->workers);
        return PK_EXIT_RUNTIME;
    }
    r->oc = (struct outcome){.n = n, .have_manifest = r->man != NULL};
    return PK_EXIT_OK;
}

/* Run: sequential, then pooled ----------------------------------------------------------------- */

/* Reads every file once, unparsed and untimed, so that neither timed run pays for the disk. */
static void warm_cache(char **paths, size_t n)
{
    static char scratch[1 << 16];
    for (size_t i = 0; i < n && !pk_interrupted(); i++) {
        /* never blocks on a FIFO, and reads only what is a regular file now */
        int fd = open(paths[i], O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        struct stat st;
        if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
            close(fd);
            continue;
        }
        if (fd < 0)
            continue;
        while (read(fd, scratch, sizeof scratch) > 0)
            ;
        close(fd);
    }
}

static struct file_result *new_results(size_t n)
{
    struct file_result *r = calloc(n ? n : 1, sizeof *r);
    for (size_t i = 0; r && i < n; i++)
        r[i].status = PK_ECANCELED; /* until read */
    return r;
}

static size_t count_differing(struct file_result *a, struct file_result *b, size_t n)
{
    size_t d = 0;
    for (size_t i = 0; i < n; i++)
        d += !same_result(&a[i], &b[i]);
    return d;
}

/* One timed read of every file. The first complete run is the reference; every later one must
 * equal it bit for bit. Returns false when this run did not finish (Ctrl-C, out of memory):
 * its results are then the ones shown. */
static bool one_run(struct reading *r, bool pooled, int rep)
{
    const struct opts *o = r->o;
    size_t n = r->list.n;
    struct file_result *cur = new_results(n);
    if (!cur) {
        r->oc.no_memory = true;
        return false;
    }
    for (size_t i = 0; i < n; i++)
        r->task[i] =
            (struct file_task){.path = r->paths[i],
                               .res = &cur[i],
                               .no_header = o->no_header,
                               .canary_row = o->canary && pooled && rep == 0 && i == 0 ? 1 : 0};
    double t0 = pk_now_s();
    size_t finished =
        pooled ? run_pooled(r->pool, r->done, r->task, n) : run_sequential(r->task, n);
    double dt = pk_now_s() - t0;
    if (finished < n || pk_interrupted()) {
        r->shown = cur;
        r->oc.finished = finished;
        return false;
    }
    if (pooled)
        r->pool_rep_s[r->oc.pool_reps++] = dt;
    else
        r->seq_rep_s[r->oc.seq_reps++] = dt;
    if (!r->ref) {
        r->ref = cur;
        return true;
    }
    if (!o->common.no_verify)
        r->oc.run_mismatches += count_differing(r->ref, cur, n);
    free_results(cur, n);
    return true;
}

static void run(struct reading *r)
{
    const struct opts *o = r->o;
    pk_interrupt_install();
    if (o->common.warmup > 0)
        warm_cache(r->paths, r->list.n);
    bool go = true;
    for (int kind = o->no_sequential ? 1 : 0; kind < 2 && go; kind++)
        for (int rep = 0; rep < o->common.reps && go; rep++)
            go = one_run(r, kind == 1, rep);
    r->oc.interrupted = pk_interrupted();
    pk_interrupt_restore();
    if (!r->shown && r->ref) {
        r->shown = r->ref;
        r->ref = NULL;
        r->oc.finished = r->list.n;
    }
    if (!r->shown)
        r->shown = new_results(r->list.n); /* stopped before any run: nothing finished */
}

/* Verify: the runs against each other and against the manifest ------------------------------ */

static void tally(struct reading *r)
{
    struct outcome *oc = &r->oc;
    if (oc->seq_reps)
        oc->seq_s = pk_stats_of(r->seq_rep_s, oc->seq_reps).median;
    if (oc->pool_reps)
        oc->pool_s = pk_stats_of(r->pool_rep_s, oc->pool_reps).median;
    for (size_t i = 0; i < oc->n; i++) {
        const struct file_result *f = &r->shown[i];
        if (f->status == PK_ECANCELED)
            continue;
        if (f->status != PK_OK) {
            oc->failed++;
            oc->headerless += f->err.headerless;
            continue;
        }
        oc->rows += f->st.rows;
        oc->bytes += f->st.nbytes;
    }
}

/* Returns the exit status of the read: interrupted or incomplete 1, not verified 3, a file
 * without a header 2 (the options' fault: --no-header), another failed file 1. */
static int verify(const struct pk_comm *c, struct reading *r)
{
    const struct opts *o = r->o;
    struct outcome *oc = &r->oc;
    /* not interrupted, yet not every file was read: the pool refused work (out of memory) */
    oc->incomplete = !oc->interrupted && oc->finished < oc->n;
    tally(r);
    if (r->man && !oc->interrupted && !oc->incomplete && !o->common.no_verify) {
        oc->manifest_files = json_array_size(json_object_get(r->man, "files"));
        oc->manifest_bad =
            check_manifest(c, r->man, o, r->list.name, oc->n, r->shown, &oc->manifest_matched);
    }
    if (oc->run_mismatches)
        pk_error(c, false, "files", "%zu file %s between the runs (sequential, pooled%s)",
                 oc->run_mismatches,
                 pk_plural(oc->run_mismatches, "result differs", "results differ"),
                 o->common.reps > 1 ? ", every rep" : "");
    oc->verified =
        !oc->interrupted && !oc->incomplete && oc->run_mismatches == 0 && oc->manifest_bad == 0;
    r->nt = totals_of(r->shown, oc->n, &r->totals);
    print_failures(r);
    return oc->interrupted || oc->incomplete       ? PK_EXIT_RUNTIME
           : !oc->verified && !o->common.no_verify ? PK_EXIT_VERIFY
           : oc->headerless                        ? PK_EXIT_USAGE
           : oc->failed                            ? PK_EXIT_RUNTIME
                                                   : PK_EXIT_OK;
}

/* What went wrong, after the runs (the view says the rest). */
static void say_why(const struct pk_comm *c, const struct reading *r)
{
    const struct outcome *oc = &r->oc;
    if (oc->interrupted)
        pk_error(c, false, "files", "interrupted: %zu of %zu files finished in the %s run",
                 oc->finished, oc->n,
                 oc->pool_reps || r->o->no_sequential ? "pooled" : "sequential");
    if (oc->incomplete)
        pk_error(c, false, "files", "only %zu of %zu files were read (out of memory)", oc->finished,
                 oc->n);
    if (oc->failed && !oc->interrupted)
        pk_error(c, false, "files", "%zu of %zu files failed", oc->failed, oc->n);
}

static int read_set(const struct pk_comm *c, const struct opts *o)
{
    struct reading r = {.o = o};
    json_t *rec = NULL;
    int status = plan(c, &r);
    if (status == PK_EXIT_OK) {
        run(&r);
        if (!r.shown || r.oc.no_memory) {
            pk_error(c, false, "files", "out of memory");
            status = PK_EXIT_RUNTIME;
        }
    }
    if (status == PK_EXIT_OK) {
        status = verify(c, &r);
        struct pk_err err = {0};
        /* a summary of a run that was stopped or is wrong is not written */
        if (o->summary && !r.oc.interrupted && status != PK_EXIT_VERIFY &&
            write_summary_file(o->summary, &r, &err) != PK_OK) {
            pk_error(c, false, "files", "%s", err.msg);
            status = PK_EXIT_RUNTIME;
        }
        say_why(c, &r);
        json_t *sysinfo = pk_sysinfo_for_command(c, "files", 1);
        rec = build_record(&r);
        pk_record_set_provenance(rec, sysinfo);
        json_decref(sysinfo);
    }
    static const struct pk_view view = {print_table, print_csv};
    status = pk_emit(c, "files", &o->common, &view, &r, rec, status);
    reading_free(&r);
    return status;
}

/* Parse ---------------------------------------------------------------------------------------- */

/* The shared options that only reading a set honours, when given with --make. */
static const char *shared_for_reading(const struct pk_common_opts *c)
{
    return c->record                      ? "--record"
           : c->format != PK_FORMAT_TABLE ? "--format"
           : c->no_verify                 ? "--no-verify"
           : c->reps != 1                 ? "--reps"
           : c->warmup != 1               ? "--warmup"
                                          : NULL;
}

/* What the table cannot say: which options go with which mode, and the one directory. */
static int check_parsed(const struct pk_comm *c, struct opts *o, const struct pk_args *args)
{
    if (pk_cli_single_process(c, "files") != PK_EXIT_OK)
        return PK_EXIT_USAGE;
    if (o->make_dir) {
        const char *shared = shared_for_reading(&o->common);
        o->dir = o->make_dir;
        if (args->noperands > 0) /* --make DIR names the directory; another is ambiguous */
            pk_error(c, false, "files", "unexpected argument '%s'", args->operand[0]);
        else if (o->read_only)
            pk_error(c, false, "files",
                     "--summary, --pattern, --no-sequential, --canary and --no-header read a "
                     "set; --make writes one");
        else if (shared)
            pk_error(c, false, "files", "%s goes with reading a set; --make writes one", shared);
        return args->noperands > 0 || o->read_only || shared ? PK_EXIT_USAGE : PK_EXIT_OK;
    }
    if (o->make_only)
        return pk_usage_error(c, "files", "--count, --rows, --seed and --force go with --make DIR");
    if (args->noperands == 0)
        return pk_usage_error(c, "files",
                              "give a directory to read, or --make DIR (see parkit files --help)");
    o->dir = args->operand[0];
    if (!*o->dir)
        return pk_usage_error(c, "files", "the directory name is empty");
    return PK_EXIT_OK;
}

#define READING(o) .tag = &(o)->read_only, .tag_value = 1
#define MAKING(o)  .tag = &(o)->make_only, .tag_value = 1

static int parse(int argc, char **argv, const struct pk_comm *c, struct opts *o)
{
    *o = (struct opts){.pattern = "*.csv", .workers = 8, .count = 20, .rows = 10000, .seed = 42};
    const struct pk_opt table[] = {
        {"workers", 'w', PK_OPT_COUNT, &o->workers, "W", "pool threads, 1..4096 (default 8)",
         .min = 1, .max = 4096},
        {"pattern", 0, PK_OPT_STRING, &o->pattern, "GLOB",
         "file names to read, a shell glob (default *.csv; hidden files only\n"
         "when GLOB starts with a dot). A DIR without such files reports 0 files",
         READING(o)},
        {"summary", 0, PK_OPT_PATH, &o->summary, "FILE",
         "write per-file, per-column statistics and totals as CSV to FILE,\n"
         "atomically; not written when interrupted or not verified; never one\n"
         "of the files read; a device or FIFO is written in place",
         READING(o), .check = pk_opt_output_file},
        {"no-sequential", 0, PK_OPT_FLAG, &o->no_sequential, NULL, "skip the sequential run",
         READING(o)},
        {"no-header", 0, PK_OPT_FLAG, &o->no_header, NULL,
         "the files have no header row: columns are named 1, 2, ...", READING(o)},
        {"canary", 0, PK_OPT_FLAG, &o->canary, NULL,
         "leave the first data row of the first file out of the pooled run's\n"
         "statistics, to prove that verification fails (exit 3)",
         READING(o)},
        {"make", 0, PK_OPT_PATH, &o->make_dir, "DIR",
         "write a seeded set of sales reports to DIR (created with its missing\n"
         "parents) and " MANIFEST ", the generator's own statistics\n"
         "of every file. DIR may hold only a previous set (replaced) unless\n"
         "--force. After Ctrl-C the manifest lists the reports written so far"},
        {"count", 0, PK_OPT_COUNT, &o->count, "N", "reports to write, 1..100000 (default 20)",
         .min = 1, .max = MAX_FILES, MAKING(o)},
        {"rows", 0, PK_OPT_COUNT, &o->rows, "R", "data rows per report, 0..1e7 (default 10000)",
         .max = MAX_ROWS, MAKING(o)},
        {"seed", 0, PK_OPT_COUNT, &o->seed, "S",
         "seed of every draw (default 42); report k is drawn from its own GSL\n"
         "generator, so each can be regenerated alone",
         MAKING(o)},
        {"force", 0, PK_OPT_FLAG, &o->force, NULL, "write the set even when DIR holds other files",
         MAKING(o)},
        {NULL},
    };
    /* No -t: the pool's threads are --workers, and nothing runs OpenMP. */
    const struct pk_cmd_spec spec = {
        .name = "files",
        .synopsis = "DIR [--workers W] [--pattern GLOB] [--summary FILE] [options]\n"
                    "       parkit files --make DIR [--count N] [--rows R] [--seed S] [--force]",
        .summary = "Every CSV file of DIR read and summarised, one after another and on a pool.",
        .description = description,
        .opts = table,
        .shared = PK_SHARED_TIMED | PK_SHARED_RECORD | PK_SHARED_FORMAT | PK_SHARED_NO_VERIFY,
        .formats = PK_FORMATS_CSV,
        .reps_default = 1,
        .operands = "DIR",
        .max_operands = 1,
    };
    struct pk_args args;
    int status = pk_opts_parse(&spec, c, argc, argv, &o->common, &args);
    if (status == PK_EXIT_OK)
        status = check_parsed(c, o, &args);
    pk_args_free(&args);
    return status;
}

int pk_cmd_files(int argc, char **argv, const struct pk_comm *c)
{
    struct opts o;
    int status = parse(argc, argv, c, &o);
    if (status != PK_EXIT_OK)
        return pk_opts_exit(status);
    return o.make_dir ? make_set(c, &o) : read_set(c, &o);
}
