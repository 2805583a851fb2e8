/* SPDX-License-Identifier: MIT */
/* parkit files: every CSV file of a directory read and summarised (rows; per column the values
 * and missing (empty) values; per number column the exact sum, mean, min, max; per text column
 * the distinct values), one file after another and then one
 * file per task on the io/ pool: the tutorials' "20 sales reports" with a ThreadPoolExecutor.
 * `--make DIR` writes a seeded set of such reports and a manifest of what it wrote.
 *
 * A malformed file (bad number, ragged row, invalid UTF-8, unreadable) is reported as
 * FILE:LINE:COLUMN and the others go on; the exit status says some failed.
 *
 * Verified: sums are exact (pk_xacc), so every file's statistics are the same bits whichever
 * thread read it; the pooled run must equal the sequential run bit for bit (failures included,
 * at the same line and column), and when the directory holds a manifest written by --make, every
 * file it lists must match the counts, sums, minima and maxima the generator computed from the
 * values it wrote, never from the text. */
#include "bigout.h"
#include "commands.h"
#include "interrupt.h"
#include "parkit/csv.h"
#include "parkit/pool.h"
#include "parkit/sumsq.h"
#include "record.h"
#include "sysinfo.h"
#include "timing.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <getopt.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdarg.h>
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

static const char usage[] =
    "Usage: parkit files DIR [--workers W] [--pattern GLOB] [--summary FILE] [options]\n"
    "       parkit files --make DIR [--count N] [--rows R] [--seed S] [--force]\n"
    "Reads every CSV file in DIR whose name matches GLOB: rows, and per column the values and\n"
    "missing (empty) values; per number column the exact sum, mean, min and max, per text\n"
    "column the distinct values. One file after another, then one file per task on a pool of\n"
    "W threads; prints both times, the speedup, files/s and MB/s.\n"
    "\n"
    "  -w, --workers W   pool threads, 1..4096 (default 8)\n"
    "      --pattern G   file names to read, a shell glob (default *.csv; hidden files only\n"
    "                    when G starts with a dot). A DIR without such files reports 0 files.\n"
    "      --summary F   write per-file, per-column statistics and totals as CSV to F,\n"
    "                    atomically; not written when interrupted or not verified\n"
    "      --no-sequential  skip the sequential run\n"
    "      --no-header   the files have no header row: columns are named 1, 2, ...\n"
    "      --canary      leave the first data row of the first file out of the pooled run's\n"
    "                    statistics, to prove that verification fails (exit 3)\n"
    "      --make DIR    write a seeded set of sales reports to DIR (created if missing) and\n"
    "                    " MANIFEST ", the generator's own statistics of every file.\n"
    "                    DIR may hold only a previous set (replaced) unless --force. After\n"
    "                    Ctrl-C the manifest lists the reports written so far\n"
    "      --count N     reports to write, 1..100000 (default 20)\n"
    "      --rows R      data rows per report, 0..1e7 (default 10000)\n"
    "      --seed S      seed of every draw (default 42); report k is drawn from its own GSL\n"
    "                    generator, so each can be regenerated alone\n"
    "      --force       write the set even when DIR holds other files\n"
    "      --reps R      timed runs of each kind (default 1); --warmup 0 skips the untimed\n"
    "                    read that puts the files in the page cache first\n"
    "      --format F    table (default), csv (the --summary lines) or json (the record)\n"
    "\n"
    "CSV: a header row (a first row of numbers only is refused, exit 2: use --no-header);\n"
    "the same number of fields in every row; comma separator; LF or CRLF; RFC 4180 quotes;\n"
    "UTF-8. An empty field is a missing value. A column is a number column when every\n"
    "non-empty field in it is a finite decimal number (no spaces, inf, nan or hex), otherwise\n"
    "text. Errors print to stderr as FILE:LINE:COLUMN: reason (FILE: reason when the file\n"
    "cannot be read); the other files are still read, and the exit status is 1.\n"
    "Verified: the pooled run equals the sequential run bit for bit, and files listed in DIR's\n"
    "manifest match it (exit 3 otherwise). Ctrl-C stops both runs, reports what finished, exits\n"
    "1; a second Ctrl-C exits at once.\n\n";

struct opts {
    const char *dir;     /* operand, or --make's value */
    const char *summary; /* --summary or NULL */
    const char *pattern;
    uint64_t workers, count, rows, seed;
    bool make, sequential, force, canary, no_header;
    bool make_only_given; /* --count, --rows, --seed or --force */
    bool read_only_given; /* --summary, --pattern, --no-sequential, --canary or --no-header */
    struct pk_common_opts common;
};

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

/* Names in dir matching pattern (NULL: every entry but . and ..), sorted; *names is malloc'd,
 * each name too (free_names). Returns 0 or an errno. */
static int list_dir(const char *dir, const char *pattern, char ***names, size_t *n)
{
    *names = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return errno;
    size_t cap = 0;
    int rc = 0;
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(d);
        if (!e) {
            rc = errno;
            break;
        }
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (pattern && fnmatch(pattern, e->d_name, FNM_PERIOD) != 0)
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 64;
            char **grown = realloc(*names, cap * sizeof *grown);
            if (!grown) {
                rc = ENOMEM;
                break;
            }
            *names = grown;
        }
        (*names)[*n] = strdup(e->d_name);
        if (!(*names)[*n]) {
            rc = ENOMEM;
            break;
        }
        (*n)++;
    }
    closedir(d);
    if (*n > 1)
        qsort(*names, *n, sizeof **names, cmp_str);
    return rc;
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
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
                                           "unit_price", "revenue", "margin"};
enum { NCOLS = 7, FIRST_NUMBER = 3, NNUMBERS = 4 };
/* Products as they appear in the file: some need RFC 4180 quotes, some are multi-byte UTF-8. */
static const char *const products[] = {"Widget",          "Gadget",     "\"Widget, large\"",
                                       "\"12\"\" pipe\"", "Café crème", "Ölfilter 5 l",
                                       "Schraube M6",     "茶 100 g"};

struct make_task {
    size_t k;
    uint64_t rows, seed;
    char name[64];
    char *text; /* the file without its final newline (pk_write_lines_atomic adds it) */
    size_t len;
    struct pk_xacc sum[NNUMBERS]; /* of the values written, as doubles */
    double min[NNUMBERS], max[NNUMBERS];
};

struct sbuf {
    char *p;
    size_t len, cap;
};

static int sbuf_reserve(struct sbuf *b, size_t more)
{
    if (b->len + more + 1 <= b->cap)
        return PK_OK;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + more + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p)
        return PK_ENOMEM;
    b->p = p;
    b->cap = cap;
    return PK_OK;
}

static int sbuf_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || sbuf_reserve(b, (size_t)n) != PK_OK)
        return PK_ENOMEM;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return PK_OK;
}

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
static int make_file(void *arg, struct pk_cancel *cancel, void **result, struct pk_err *err)
{
    struct make_task *t = arg;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_taus2);
    struct sbuf b = {0};
    /* about 70 bytes per row; the buffer grows if a row is longer */
    if (!r || sbuf_reserve(&b, (size_t)t->rows * 72 + 128) != PK_OK) {
        gsl_rng_free(r);
        free(b.p);
        return pk_fail(err, PK_ENOMEM, "out of memory for report %zu", t->k + 1);
    }
    gsl_rng_set(r, pk_gauss_chunk_seed(t->seed, t->k)); /* one stream per report: any order */
    for (int j = 0; j < NCOLS; j++)
        b.len +=
            (size_t)snprintf(b.p + b.len, b.cap - b.len, "%s%s", j ? "," : "", header_names[j]);
    for (int j = 0; j < NNUMBERS; j++)
        pk_xacc_init(&t->sum[j]);
    size_t nprod = sizeof products / sizeof products[0];
    for (uint64_t i = 0; i < t->rows; i++) {
        /* Ctrl-C reaches a report through its token: the sink stops the map, which cancels
         * the reports in flight */
        if (i % PK_CSV_POLL_ROWS == 0 && pk_cancel_requested(cancel)) {
            gsl_rng_free(r);
            free(b.p);
            return pk_fail(err, PK_ECANCELED, "cancelled");
        }
        char date[32];
        date_of((unsigned)(i * 366 / t->rows), date, sizeof date); /* ascending through 2024 */
        const char *product = products[gsl_rng_uniform_int(r, nprod)];
        unsigned long units = 1 + gsl_rng_uniform_int(r, 50);
        unsigned long cents = 199 + gsl_rng_uniform_int(r, 99801); /* 1.99 .. 999.99 */
        unsigned long rev = units * cents;
        double margin = 0.25 + gsl_ran_gaussian(r, 0.1);
        /* Prices are written from integer cents, never from a double, and the values summed
         * below are the doubles nearest to the decimals written (cents / 100 is correctly
         * rounded), so the manifest does not depend on the parser. %.17g round-trips. */
        double v[NNUMBERS] = {(double)units, (double)cents / 100, (double)rev / 100, margin};
        if (sbuf_reserve(&b, 256) != PK_OK) {
            gsl_rng_free(r);
            free(b.p);
            return pk_fail(err, PK_ENOMEM, "out of memory for report %zu", t->k + 1);
        }
        b.len += (size_t)snprintf(
            b.p + b.len, b.cap - b.len, "\n%s,S%03zu,%s,%lu,%lu.%02lu,%lu.%02lu,%.17g", date,
            t->k + 1, product, units, cents / 100, cents % 100, rev / 100, rev % 100, margin);
        for (int j = 0; j < NNUMBERS; j++) {
            pk_xacc_add(&t->sum[j], v[j]);
            if (i == 0 || v[j] < t->min[j])
                t->min[j] = v[j];
            if (i == 0 || v[j] > t->max[j])
                t->max[j] = v[j];
        }
    }
    gsl_rng_free(r);
    t->text = b.p;
    t->len = b.len;
    *result = t;
    return PK_OK;
}

struct make_sink {
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
    char *path = join_path(s->dir, t->name);
    int rc = path ? pk_write_lines_atomic(path, &t->text, 1, &s->err)
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
    json_array_append_new(s->files, json_pack("{s:s, s:I, s:I, s:o}", "name", t->name, "rows",
                                              (json_int_t)t->rows, "bytes", (json_int_t)t->len + 1,
                                              "columns", cols));
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

/* Makes dir ready for a new set: creates it, or checks that it holds only a previous set (or
 * --force) and removes that set, manifest first, so that no manifest ever describes files that
 * are not there. Returns an exit status and prints the error. */
static int prepare_make_dir(const struct pk_comm *c, const struct opts *o)
{
    struct stat st;
    if (stat(o->dir, &st) != 0) {
        if (errno != ENOENT || mkdir(o->dir, 0777) != 0) {
            pk_error(c, false, "files", "cannot create directory '%s': %s", o->dir,
                     strerror(errno));
            return PK_EXIT_RUNTIME;
        }
        return PK_EXIT_OK;
    }
    if (!S_ISDIR(st.st_mode)) {
        pk_error(c, false, "files", "--make: '%s' is not a directory", o->dir);
        return PK_EXIT_USAGE;
    }
    struct pk_err err = {0};
    json_t *man = NULL;
    if (load_manifest(o->dir, &man, &err) != PK_OK && !o->force) {
        pk_error(c, false, "files", "%s; use --force to write a new set to '%s' anyway", err.msg,
                 o->dir);
        return PK_EXIT_USAGE;
    }
    char **names;
    size_t n;
    int e = list_dir(o->dir, NULL, &names, &n);
    if (e != 0) {
        pk_error(c, false, "files", "cannot list '%s': %s", o->dir, strerror(e));
        json_decref(man);
        free_names(names, n);
        return PK_EXIT_RUNTIME;
    }
    size_t nlisted;
    const char **set = listed_names(man, &nlisted);
    for (size_t i = 0; i < n && !o->force; i++) {
        const char *name = names[i];
        if (strcmp(name, MANIFEST) != 0 &&
            !(set && bsearch(&name, set, nlisted, sizeof *set, cmp_str))) {
            pk_error(c, false, "files",
                     "--make: '%s' holds '%s', which is not part of a parkit set (use --force to "
                     "write there anyway)",
                     o->dir, names[i]);
            free(set);
            json_decref(man);
            free_names(names, n);
            return PK_EXIT_USAGE;
        }
    }
    free(set);
    free_names(names, n);
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

static int make_set(const struct pk_comm *c, const struct opts *o)
{
    int status = prepare_make_dir(c, o);
    if (status != PK_EXIT_OK)
        return status;
    size_t n = (size_t)o->count;
    struct make_task *task = calloc(n, sizeof *task);
    void **in = calloc(n, sizeof *in);
    struct pk_pool *pool = NULL;
    struct make_sink sink = {.dir = o->dir, .files = json_array()};
    if (!task || !in || pk_pool_create((int)o->workers, &pool) != PK_OK) {
        pk_error(c, false, "files", "cannot start %llu workers", (unsigned long long)o->workers);
        status = PK_EXIT_RUNTIME;
        goto out;
    }
    for (size_t k = 0; k < n; k++) {
        task[k] = (struct make_task){.k = k, .rows = o->rows, .seed = o->seed};
        report_name(task[k].name, sizeof task[k].name, k, n);
        in[k] = &task[k];
    }
    pk_interrupt_install();
    double t0 = pk_now_s();
    /* window = workers: each report in flight is held in memory until written, in order */
    struct pk_err err = {0};
    int rc =
        pk_pool_map(pool, make_file, in, n, (size_t)o->workers, write_report, &sink, NULL, &err);
    double make_s = pk_now_s() - t0;
    bool interrupted = pk_interrupted();
    pk_interrupt_restore();
    /* After Ctrl-C the manifest lists the reports written so far, so that they can be read
     * and verified, and a later --make replaces them without --force. */
    if (rc == PK_OK || (interrupted && sink.written > 0)) {
        json_t *man = json_pack(
            "{s:s, s:s, s:I, s:I, s:I, s:b, s:O}", "schema", "parkit.files-manifest/1", "generator",
            "parkit files --make", "seed", (json_int_t)o->seed, "count", (json_int_t)sink.written,
            "rows", (json_int_t)o->rows, "complete", !interrupted, "files", sink.files);
        char *text = json_dumps(man, JSON_COMPACT);
        char *mpath = join_path(o->dir, MANIFEST);
        int mrc = text && mpath ? pk_write_lines_atomic(mpath, &text, 1, &err)
                                : pk_fail(&err, PK_ENOMEM, "out of memory");
        rc = rc == PK_OK ? mrc : rc;
        free(text);
        free(mpath);
        json_decref(man);
    }
    if (interrupted) {
        pk_error(c, false, "files",
                 "interrupted after %zu of %zu reports (the manifest lists them)", sink.written, n);
        status = PK_EXIT_RUNTIME;
    } else if (rc != PK_OK) {
        pk_error(c, false, "files", "%s", sink.err.msg[0] ? sink.err.msg : err.msg);
        status = PK_EXIT_RUNTIME;
    } else {
        printf("wrote %zu report%s of %llu rows (%.1f MB) and %s to '%s' in %.3f s\n", n,
               n == 1 ? "" : "s", (unsigned long long)o->rows, (double)sink.nbytes * 1e-6, MANIFEST,
               o->dir, make_s);
    }
out:
    for (size_t k = 0; task && k < n; k++)
        free(task[k].text);
    pk_pool_destroy(pool);
    json_decref(sink.files);
    free(task);
    free(in);
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

/* Output ------------------------------------------------------------------------------------- */

static int csv_field(struct sbuf *b, const char *text)
{
    return pk_csv_append_field(&b->p, &b->len, &b->cap, text);
}

/* One summary line: a column of a file, or of the totals (file "*"). sum NULL: no statistics. */
static int column_line(struct sbuf *b, const char *file, uint64_t rows, uint64_t bytes,
                       const char *column, const char *type, uint64_t count, struct pk_xacc *sum,
                       double min, double max)
{
    int rc = csv_field(b, file);
    if (rc == PK_OK)
        rc = sbuf_printf(b, ",ok,%llu,%llu,", (unsigned long long)rows, (unsigned long long)bytes);
    if (rc == PK_OK)
        rc = csv_field(b, column);
    if (rc == PK_OK)
        rc = sbuf_printf(b, ",%s,%llu", type, (unsigned long long)count);
    if (rc != PK_OK || !sum)
        return rc == PK_OK ? sbuf_printf(b, ",,,,,,") : rc;
    double s = pk_xacc_round(sum);
    /* %.17g round-trips every double; sum_hex shows the bits */
    return sbuf_printf(b, ",%.17g,%.17g,%.17g,%.17g,%a,", s, s / (double)count, min, max, s);
}

/* The summary CSV: a header line, one line per file and column (one with the error for a file
 * that failed), then the totals as file "*". On PK_OK the caller frees the lines and *lines. */
static int summary_lines(char **names, size_t n, struct file_result *res, struct total *t,
                         size_t nt, char ***lines_out, size_t *count)
{
    *lines_out = NULL;
    *count = 0;
    size_t cap = 1 + nt;
    for (size_t i = 0; i < n; i++)
        cap += res[i].status == PK_OK ? res[i].st.ncols : 1;
    char **lines = calloc(cap, sizeof *lines);
    if (!lines)
        return PK_ENOMEM;
    size_t nl = 0;
    struct sbuf b = {0};
    int rc = sbuf_printf(&b, "file,status,rows,bytes,column,type,count,sum,mean,min,max,sum_hex,"
                             "error");
    lines[nl++] = b.p;
    uint64_t rows = 0, bytes = 0;
    for (size_t i = 0; i < n && rc == PK_OK; i++) {
        struct file_result *r = &res[i];
        if (r->status != PK_OK) {
            char msg[320];
            snprintf(msg, sizeof msg, "%llu:%zu: %s", (unsigned long long)r->err.line,
                     r->err.column, r->err.reason);
            b = (struct sbuf){0};
            rc = csv_field(&b, names[i]);
            if (rc == PK_OK)
                rc = sbuf_printf(&b, ",%s,,,,,,,,,,,",
                                 r->status == PK_ECANCELED ? "not_finished" : "error");
            if (rc == PK_OK)
                rc = csv_field(&b, msg);
            lines[nl++] = b.p;
            continue;
        }
        rows += r->st.rows;
        bytes += r->st.nbytes;
        for (size_t j = 0; j < r->st.ncols && rc == PK_OK; j++) {
            struct pk_csv_column *c = &r->st.col[j];
            bool stats = c->type == PK_CSV_NUMBER && c->count > 0;
            b = (struct sbuf){0};
            rc = column_line(&b, names[i], r->st.rows, r->st.nbytes, c->name,
                             type_name(c->type == PK_CSV_NUMBER, c->type == PK_CSV_TEXT), c->count,
                             stats ? &c->sum : NULL, c->min, c->max);
            lines[nl++] = b.p;
        }
    }
    for (size_t k = 0; k < nt && rc == PK_OK; k++) {
        b = (struct sbuf){0};
        rc = column_line(&b, "*", rows, bytes, t[k].name, type_name(t[k].number, t[k].text),
                         t[k].count, t[k].number ? &t[k].sum : NULL, t[k].min, t[k].max);
        lines[nl++] = b.p;
    }
    if (rc != PK_OK) {
        for (size_t i = 0; i < nl; i++)
            free(lines[i]);
        free(lines);
        return rc;
    }
    *lines_out = lines;
    *count = nl;
    return PK_OK;
}

/* Prints each failed file as FILE:LINE:COLUMN: reason (FILE: reason for the whole file). */
static void print_failures(const struct opts *o, char **names, size_t n,
                           const struct file_result *res)
{
    for (size_t i = 0; i < n; i++) {
        const struct file_result *r = &res[i];
        if (r->status == PK_OK || r->status == PK_ECANCELED)
            continue;
        const char *sep = o->dir[strlen(o->dir) - 1] == '/' ? "" : "/";
        if (r->err.line > 0 && r->err.column > 0)
            fprintf(stderr, "%s%s%s:%llu:%zu: %s\n", o->dir, sep, names[i],
                    (unsigned long long)r->err.line, r->err.column, r->err.reason);
        else if (r->err.line > 0)
            fprintf(stderr, "%s%s%s:%llu: %s\n", o->dir, sep, names[i],
                    (unsigned long long)r->err.line, r->err.reason);
        else
            fprintf(stderr, "%s%s%s: %s\n", o->dir, sep, names[i], r->err.reason);
    }
}

struct outcome {
    size_t n, finished, failed;
    uint64_t rows, bytes;
    double seq_s, pool_s; /* medians; 0 when not run */
    int seq_reps, pool_reps;
    size_t run_mismatches, manifest_files, manifest_matched, manifest_bad;
    size_t headerless; /* failed files whose first row holds only numbers: --no-header? */
    bool have_manifest, verified, interrupted;
};

static void print_table(const struct opts *o, char **names, const struct file_result *res,
                        const struct total *t, size_t nt, const struct outcome *oc)
{
    printf("# parkit files: %zu file%s in '%s' (%s), %llu workers, %d rep%s\n", oc->n,
           oc->n == 1 ? "" : "s", o->dir, o->pattern, (unsigned long long)o->workers,
           o->common.reps, o->common.reps == 1 ? "" : "s");
    printf("%-32s %10s %12s  %s\n", "file", "rows", "bytes", "status");
    for (size_t i = 0; i < oc->n; i++) {
        const struct file_result *r = &res[i];
        if (r->status == PK_OK)
            printf("%-32s %10llu %12llu  ok\n", names[i], (unsigned long long)r->st.rows,
                   (unsigned long long)r->st.nbytes);
        else if (r->status == PK_ECANCELED)
            printf("%-32s %10s %12s  not finished\n", names[i], "-", "-");
        else if (r->err.line > 0)
            printf("%-32s %10s %12s  FAILED at line %llu, column %zu\n", names[i], "-", "-",
                   (unsigned long long)r->err.line, r->err.column);
        else
            printf("%-32s %10s %12s  FAILED: %s\n", names[i], "-", "-", r->err.reason);
    }
    printf("# totals over %zu file%s read: %llu rows, %.3f MB\n", oc->finished - oc->failed,
           oc->finished - oc->failed == 1 ? "" : "s", (unsigned long long)oc->rows,
           (double)oc->bytes * 1e-6);
    printf("%-16s %-6s %12s %10s %22s %16s %16s %16s\n", "column", "type", "count", "missing",
           "sum", "mean", "min", "max");
    for (size_t k = 0; k < nt; k++) {
        printf("%-16s %-6s %12llu %10llu", t[k].name, type_name(t[k].number, t[k].text),
               (unsigned long long)t[k].count, (unsigned long long)t[k].missing);
        if (t[k].number && !t[k].text) {
            struct pk_xacc acc = t[k].sum;
            double s = pk_xacc_round(&acc);
            printf(" %22.15g %16.8g %16.10g %16.10g\n", s, s / (double)t[k].count, t[k].min,
                   t[k].max);
        } else if (t[k].text) {
            printf("   %s%zu distinct\n", t[k].distinct.more ? "more than " : "",
                   t[k].distinct.n);
        } else {
            putchar('\n');
        }
    }
    if (oc->seq_reps)
        printf("Sequential  %.4f s\n", oc->seq_s);
    if (oc->pool_reps) {
        printf("Concurrent  %.4f s", oc->pool_s);
        if (oc->seq_reps && oc->pool_s > 0)
            printf("   Speedup %.2fx", oc->seq_s / oc->pool_s);
        printf("   (%llu workers%s)\n", (unsigned long long)o->workers,
               o->common.reps > 1 ? ", medians" : "");
    }
    if (oc->pool_s > 0)
        printf("throughput  %.1f files/s, %.1f MB/s, %.3g rows/s (pooled)\n",
               (double)oc->n / oc->pool_s, (double)oc->bytes * 1e-6 / oc->pool_s,
               (double)oc->rows / oc->pool_s);
    printf("failed      %zu of %zu file%s\n", oc->failed, oc->n, oc->n == 1 ? "" : "s");
    char manifest_note[96] = "; no manifest";
    if (oc->have_manifest)
        snprintf(manifest_note, sizeof manifest_note,
                 "%s%zu of %zu listed files match the manifest", oc->seq_reps ? "; " : "",
                 oc->manifest_matched, oc->manifest_files);
    else if (!oc->seq_reps)
        manifest_note[0] = 0;
    if (o->common.no_verify)
        printf("verified    skipped (--no-verify)\n");
    else if (oc->interrupted)
        printf("verified    no (interrupted)\n");
    else if (!oc->verified)
        printf("verified    NO (%zu file%s between runs, %zu from the manifest)\n",
               oc->run_mismatches, oc->run_mismatches == 1 ? " differs" : "s differ",
               oc->manifest_bad);
    else if (oc->seq_reps == 0 && !oc->have_manifest)
        printf("verified    unchecked (no sequential run and no manifest to compare with)\n");
    else
        printf("verified    yes (%s%s)\n", oc->seq_reps ? "pooled = sequential bit for bit" : "",
               manifest_note);
}

static json_t *build_record(const struct opts *o, char **names, const struct file_result *res,
                            const struct total *t, size_t nt, const struct outcome *oc,
                            const double *pool_rep_s, const double *seq_rep_s)
{
    json_t *rec = pk_record_new("files");
    json_object_set_new(rec, "params",
                        json_pack("{s:s, s:s, s:I, s:i, s:b, s:b}", "dir", o->dir, "pattern",
                                  o->pattern, "workers", (json_int_t)o->workers, "reps",
                                  o->common.reps, "sequential", o->sequential, "canary",
                                  o->canary));
    json_t *failures = json_array(), *cols = json_array(), *seq = json_array();
    for (size_t i = 0; i < oc->n; i++)
        if (res[i].status != PK_OK && res[i].status != PK_ECANCELED)
            json_array_append_new(failures, json_pack("{s:s, s:I, s:I, s:s}", "file", names[i],
                                                      "line", (json_int_t)res[i].err.line, "column",
                                                      (json_int_t)res[i].err.column, "reason",
                                                      res[i].err.reason));
    for (size_t k = 0; k < nt; k++) {
        json_t *c = json_pack("{s:s, s:s, s:I, s:I, s:I, s:b}", "name", t[k].name, "type",
                              type_name(t[k].number, t[k].text), "count", (json_int_t)t[k].count,
                              "missing", (json_int_t)t[k].missing, "distinct",
                              (json_int_t)t[k].distinct.n, "distinct_more", t[k].distinct.more);
        if (t[k].number && !t[k].text) {
            struct pk_xacc acc = t[k].sum;
            double s = pk_xacc_round(&acc);
            char hx[40];
            hexf(hx, sizeof hx, s);
            json_object_set_new(c, "sum", json_real(s));
            json_object_set_new(c, "sum_hex", json_string(hx));
            json_object_set_new(c, "mean", json_real(s / (double)t[k].count));
            json_object_set_new(c, "min", json_real(t[k].min));
            json_object_set_new(c, "max", json_real(t[k].max));
        }
        json_array_append_new(cols, c);
    }
    for (int r = 0; r < oc->seq_reps; r++)
        json_array_append_new(seq, json_real(seq_rep_s[r]));
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
                  "columns", cols));
    bool checked = oc->seq_reps > 0 || oc->have_manifest; /* else nothing to compare with */
    json_object_set_new(rec, "verified",
                        json_boolean(oc->verified && checked && !o->common.no_verify));
    pk_record_set_timing(rec, pool_rep_s, oc->pool_reps, o->common.warmup > 0);
    return rec;
}

/* Reads every file once, unparsed and untimed, so that neither timed run pays for the disk. */
static void warm_cache(char **paths, size_t n)
{
    static char scratch[1 << 16];
    for (size_t i = 0; i < n && !pk_interrupted(); i++) {
        int fd = open(paths[i], O_RDONLY | O_CLOEXEC);
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

static int read_set(const struct pk_comm *c, struct opts *o)
{
    struct stat st;
    if (stat(o->dir, &st) != 0) {
        pk_error(c, false, "files", "cannot open directory '%s': %s", o->dir, strerror(errno));
        return PK_EXIT_USAGE;
    }
    if (!S_ISDIR(st.st_mode)) {
        pk_error(c, false, "files", "'%s' is not a directory", o->dir);
        return PK_EXIT_USAGE;
    }
    char **names = NULL, **paths = NULL;
    size_t n = 0;
    int e = list_dir(o->dir, o->pattern, &names, &n);
    if (e != 0) {
        pk_error(c, false, "files", "cannot list '%s': %s", o->dir, strerror(e));
        free_names(names, n);
        return PK_EXIT_RUNTIME;
    }
    struct pk_err err = {0};
    json_t *man = NULL;
    if (load_manifest(o->dir, &man, &err) != PK_OK) {
        pk_error(c, false, "files", "%s", err.msg);
        free_names(names, n);
        return PK_EXIT_RUNTIME;
    }
    if (o->canary && (!man && !o->sequential)) {
        pk_error(c, false, "files",
                 "--canary needs the sequential run or a manifest in '%s' to compare with", o->dir);
        json_decref(man);
        free_names(names, n);
        return PK_EXIT_USAGE;
    }
    int status = PK_EXIT_RUNTIME;
    int reps = o->common.reps;
    paths = calloc(n ? n : 1, sizeof *paths);
    struct file_task *task = calloc(n ? n : 1, sizeof *task);
    double *seq_rep_s = calloc((size_t)reps, sizeof *seq_rep_s);
    double *pool_rep_s = calloc((size_t)reps, sizeof *pool_rep_s);
    struct file_result *ref = NULL, *shown = NULL, *cur = NULL;
    struct pk_pool *pool = NULL;
    struct pk_queue *done = NULL;
    struct total *totals = NULL;
    size_t nt = 0;
    json_t *sysinfo = NULL;
    bool ok = paths && task && seq_rep_s && pool_rep_s;
    for (size_t i = 0; ok && i < n; i++) {
        paths[i] = join_path(o->dir, names[i]);
        ok = paths[i] != NULL;
    }
    if (!ok || pk_pool_create((int)o->workers, &pool) != PK_OK ||
        pk_queue_create(n ? n : 1, pk_future_release_item, &done) != PK_OK) {
        pk_error(c, false, "files", "cannot start %llu workers (out of memory?)",
                 (unsigned long long)o->workers);
        goto out;
    }
    sysinfo = pk_sysinfo_for_command(c, "files", 1);
    pk_interrupt_install();
    if (o->common.warmup > 0)
        warm_cache(paths, n);
    struct outcome oc = {.n = n, .have_manifest = man != NULL};
    /* The first complete run is the reference; every later one must equal it bit for bit. */
    bool stop = false, no_memory = false;
    for (int kind = 0; kind < 2 && !stop; kind++) {
        bool pooled = kind == 1;
        if (!pooled && !o->sequential)
            continue;
        for (int rep = 0; rep < reps && !stop; rep++) {
            cur = new_results(n);
            if (!cur) {
                no_memory = stop = true;
                break;
            }
            for (size_t i = 0; i < n; i++)
                task[i] = (struct file_task){.path = paths[i],
                                             .res = &cur[i],
                                             .no_header = o->no_header,
                                             .canary_row =
                                                 o->canary && pooled && rep == 0 && i == 0 ? 1 : 0};
            double t0 = pk_now_s();
            size_t finished = pooled ? run_pooled(pool, done, task, n) : run_sequential(task, n);
            double dt = pk_now_s() - t0;
            if (finished < n || pk_interrupted()) { /* show what this run finished */
                free_results(shown, n);
                shown = cur;
                cur = NULL;
                oc.finished = finished;
                stop = true;
                break;
            }
            if (pooled)
                pool_rep_s[oc.pool_reps++] = dt;
            else
                seq_rep_s[oc.seq_reps++] = dt;
            if (!ref) {
                ref = cur;
                cur = NULL;
                continue;
            }
            if (!o->common.no_verify)
                oc.run_mismatches += count_differing(ref, cur, n);
            free_results(cur, n);
            cur = NULL;
        }
    }
    oc.interrupted = pk_interrupted();
    pk_interrupt_restore();
    if (!shown && ref) {
        shown = ref;
        ref = NULL;
        oc.finished = n;
    }
    if (!shown)
        shown = new_results(n); /* stopped before any run: nothing finished */
    if (!shown || no_memory) {
        pk_error(c, false, "files", "out of memory");
        goto out;
    }
    /* not interrupted, yet not every file was read: the pool refused work (out of memory) */
    bool incomplete = !oc.interrupted && oc.finished < n;
    if (oc.seq_reps)
        oc.seq_s = pk_stats_of(seq_rep_s, oc.seq_reps).median;
    if (oc.pool_reps)
        oc.pool_s = pk_stats_of(pool_rep_s, oc.pool_reps).median;
    for (size_t i = 0; i < n; i++) {
        if (shown[i].status == PK_ECANCELED)
            continue;
        if (shown[i].status != PK_OK) {
            oc.failed++;
            oc.headerless += shown[i].err.headerless;
            continue;
        }
        oc.rows += shown[i].st.rows;
        oc.bytes += shown[i].st.nbytes;
    }
    if (man && !oc.interrupted && !incomplete && !o->common.no_verify) {
        oc.manifest_files = json_array_size(json_object_get(man, "files"));
        oc.manifest_bad = check_manifest(c, man, o, names, n, shown, &oc.manifest_matched);
    }
    if (oc.run_mismatches)
        pk_error(c, false, "files", "%zu file result%s between the runs (sequential, pooled%s)",
                 oc.run_mismatches, oc.run_mismatches == 1 ? " differs" : "s differ",
                 reps > 1 ? ", every rep" : "");
    oc.verified = !oc.interrupted && !incomplete && oc.run_mismatches == 0 && oc.manifest_bad == 0;
    nt = totals_of(shown, n, &totals);
    print_failures(o, names, n, shown);
    /* a file without a header is the options' fault (--no-header), not the file's: exit 2 */
    status = oc.interrupted || incomplete           ? PK_EXIT_RUNTIME
             : !oc.verified && !o->common.no_verify ? PK_EXIT_VERIFY
             : oc.headerless                        ? PK_EXIT_USAGE
             : oc.failed                            ? PK_EXIT_RUNTIME
                                                    : PK_EXIT_OK;
    char **lines = NULL;
    size_t nlines = 0;
    bool want_lines = o->common.format == PK_FORMAT_CSV ||
                      (o->summary && !oc.interrupted && status != PK_EXIT_VERIFY);
    if (want_lines && summary_lines(names, n, shown, totals, nt, &lines, &nlines) != PK_OK) {
        pk_error(c, false, "files", "out of memory");
        status = PK_EXIT_RUNTIME;
    }
    if (lines && o->summary && !oc.interrupted && status != PK_EXIT_VERIFY &&
        pk_write_lines_atomic(o->summary, lines, nlines, &err) != PK_OK) {
        pk_error(c, false, "files", "%s", err.msg);
        status = PK_EXIT_RUNTIME;
    }
    json_t *rec = build_record(o, names, shown, totals, nt, &oc, pool_rep_s, seq_rep_s);
    pk_record_set_provenance(rec, sysinfo);
    if (o->common.format == PK_FORMAT_JSON) {
        json_dumpf(rec, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
        putchar('\n');
    } else if (o->common.format == PK_FORMAT_CSV) {
        for (size_t i = 0; i < nlines; i++)
            puts(lines[i]);
    } else {
        print_table(o, names, shown, totals, nt, &oc);
    }
    if (o->common.record && pk_record_append(o->common.record, rec, &err) != PK_OK) {
        pk_error(c, false, "files", "%s", err.msg);
        status = PK_EXIT_RUNTIME;
    }
    json_decref(rec);
    for (size_t i = 0; i < nlines; i++)
        free(lines[i]);
    free(lines);
    if (oc.interrupted)
        pk_error(c, false, "files", "interrupted: %zu of %zu files finished in the %s run",
                 oc.finished, n, oc.pool_reps || !o->sequential ? "pooled" : "sequential");
    else if (status == PK_EXIT_VERIFY)
        pk_error(c, false, "files", "verification failed");
    if (incomplete)
        pk_error(c, false, "files", "only %zu of %zu files were read (out of memory)", oc.finished,
                 n);
    if (oc.failed && !oc.interrupted)
        pk_error(c, false, "files", "%zu of %zu files failed", oc.failed, n);
out:
    free_totals(totals, nt);
    pk_pool_destroy(pool);
    pk_queue_destroy(done);
    free_results(ref, n);
    free_results(shown, n);
    free_results(cur, n);
    json_decref(sysinfo);
    json_decref(man);
    free_names(paths, n);
    free_names(names, n);
    free(task);
    free(seq_rep_s);
    free(pool_rep_s);
    return status;
}

int pk_cmd_files(int argc, char **argv, const struct pk_comm *c)
{
    static const struct option longopts[] = {{"workers", required_argument, NULL, 'w'},
                                             {"pattern", required_argument, NULL, 'p'},
                                             {"summary", required_argument, NULL, 'S'},
                                             {"no-sequential", no_argument, NULL, 'Q'},
                                             {"no-header", no_argument, NULL, 'H'},
                                             {"canary", no_argument, NULL, 'C'},
                                             {"make", required_argument, NULL, 'm'},
                                             {"count", required_argument, NULL, 'c'},
                                             {"rows", required_argument, NULL, 'R'},
                                             {"seed", required_argument, NULL, 's'},
                                             {"force", no_argument, NULL, 'f'},
                                             PK_COMMON_LONGOPTS,
                                             {NULL, 0, NULL, 0}};
    struct opts o = {.pattern = "*.csv",
                     .workers = 8,
                     .count = 20,
                     .rows = 10000,
                     .seed = 42,
                     .sequential = true};
    pk_common_defaults(&o.common);
    o.common.reps = 1; /* one sequential and one pooled run unless --reps says more */
    struct pk_err err = {0};
    opterr = 0;
    optind = 1;
    int code;
    while ((code = getopt_long(argc, argv, ":w:" PK_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
        int rc = PK_OK;
        switch (code) {
        case 'w':
            rc = pk_parse_count("--workers", optarg, 1, 4096, &o.workers, &err);
            break;
        case 'p':
            o.read_only_given = true;
            o.pattern = optarg;
            if (!*optarg)
                rc = pk_fail(&err, PK_EINVAL, "--pattern expects a glob like *.csv, got ''");
            break;
        case 'S':
            o.read_only_given = true;
            o.summary = optarg;
            if (!*optarg)
                rc = pk_fail(&err, PK_EINVAL, "--summary expects a file name");
            break;
        case 'Q':
            o.read_only_given = true;
            o.sequential = false;
            break;
        case 'C':
            o.read_only_given = true;
            o.canary = true;
            break;
        case 'H':
            o.read_only_given = true;
            o.no_header = true;
            break;
        case 'm':
            o.make = true;
            o.dir = optarg;
            if (!*optarg)
                rc = pk_fail(&err, PK_EINVAL, "--make expects a directory");
            break;
        case 'c':
            o.make_only_given = true;
            rc = pk_parse_count("--count", optarg, 1, MAX_FILES, &o.count, &err);
            break;
        case 'R':
            o.make_only_given = true;
            rc = pk_parse_count("--rows", optarg, 0, MAX_ROWS, &o.rows, &err);
            break;
        case 's':
            o.make_only_given = true;
            rc = pk_parse_count("--seed", optarg, 0, UINT64_MAX, &o.seed, &err);
            break;
        case 'f':
            o.make_only_given = true;
            o.force = true;
            break;
        default: {
            int handled = pk_cli_option(c, "files", usage, code, argv, &o.common);
            if (handled == PK_OPT_HELP_SHOWN)
                return PK_EXIT_OK;
            if (handled != PK_OPT_DONE)
                return PK_EXIT_USAGE;
        }
        }
        if (rc != PK_OK) {
            pk_error(c, false, "files", "%s", err.msg);
            return PK_EXIT_USAGE;
        }
    }
    if (pk_cli_single_process(c, "files") != PK_EXIT_OK)
        return PK_EXIT_USAGE;
    if (o.make) {
        if (pk_cli_no_operands(c, "files", argc, argv) != PK_EXIT_OK)
            return PK_EXIT_USAGE; /* --make DIR names the directory; another would be ambiguous */
        if (o.read_only_given) {
            pk_error(c, false, "files",
                     "--summary, --pattern, --no-sequential, --canary and --no-header read a "
                     "set; --make writes one");
            return PK_EXIT_USAGE;
        }
        return make_set(c, &o);
    }
    if (o.make_only_given) {
        pk_error(c, false, "files", "--count, --rows, --seed and --force go with --make DIR");
        return PK_EXIT_USAGE;
    }
    if (optind >= argc) {
        pk_error(c, false, "files",
                 "give a directory to read, or --make DIR (see parkit files "
                 "--help)");
        return PK_EXIT_USAGE;
    }
    o.dir = argv[optind++];
    if (pk_cli_no_operands(c, "files", argc, argv) != PK_EXIT_OK)
        return PK_EXIT_USAGE;
    if (!*o.dir) {
        pk_error(c, false, "files", "the directory name is empty");
        return PK_EXIT_USAGE;
    }
    return read_set(c, &o);
}
