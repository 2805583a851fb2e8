/* SPDX-License-Identifier: MIT */
/* The CSV reader of parkit/csv.h. The file is read in blocks into one buffer; a record is
 * scanned (field bounds, quotes, line breaks) and only when it is complete are its fields
 * unquoted and checked in place, so a record cut by the end of a block is simply scanned
 * again after the next read. The buffer grows only for a record longer than itself, up to
 * PK_CSV_MAX_RECORD, so memory stays at one record whatever the file size. */
#include "parkit/csv.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* First read size: large enough that read calls cost nothing next to parsing, small enough for
 * many concurrent readers. The fuzz build makes it tiny, so that records cross blocks. */
#ifndef PK_CSV_BLOCK
#    define PK_CSV_BLOCK (256u << 10)
#endif

struct field {
    size_t start, end; /* content bounds in the buffer, quotes excluded */
    size_t nl;         /* line breaks in the record before this field */
    bool quoted, high; /* high: holds bytes >= 0x80, so UTF-8 must be checked */
};

struct pk_csv_reader {
    int fd;
    unsigned char *buf; /* cap + 1 bytes: a field may be NUL-terminated at the record's end */
    size_t cap, len, pos;
    bool eof;
    struct field *f;         /* bounds of the record being read */
    struct pk_csv_field *out; /* the same fields, unquoted, as handed out */
    size_t nf, fcap;
    uint64_t line;     /* line on which the record at pos starts */
    uint64_t rec_line; /* line on which the last record handed out started */
    uint64_t records;
    char **names; /* ncols owned names; NULL before the header is read */
    size_t ncols;
    bool pending; /* no_header: the first record is read and not yet handed out */
    struct pk_csv_opts o;
};

enum { SCAN_DONE = 1, SCAN_MORE = 2, SCAN_END = 3 };

static int fail_at(struct pk_csv_error *err, int status, uint64_t line, size_t column,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int fail_at(struct pk_csv_error *err, int status, uint64_t line, size_t column,
                   const char *fmt, ...)
{
    if (!err)
        return status;
    err->line = line;
    err->column = column;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->reason, sizeof err->reason, fmt, ap);
    va_end(ap);
    return status;
}

/* The name of 1-based column j, or "?" before the header is read (or past its width). */
static const char *col_name(const struct pk_csv_reader *r, size_t j)
{
    return r->names && j >= 1 && j <= r->ncols ? r->names[j - 1] : "?";
}

static int grow_fields(struct pk_csv_reader *r)
{
    size_t cap = r->fcap ? 2 * r->fcap : 16;
    struct field *f = realloc(r->f, cap * sizeof *f);
    if (!f)
        return PK_ENOMEM;
    r->f = f;
    struct pk_csv_field *out = realloc(r->out, cap * sizeof *out);
    if (!out)
        return PK_ENOMEM;
    r->out = out;
    r->fcap = cap;
    return PK_OK;
}

/* A record with more fields than this is refused as soon as the extra field is seen, so that
 * a line of commas cannot make the field arrays large. */
static size_t field_limit(const struct pk_csv_reader *r)
{
    return r->names ? r->ncols : PK_CSV_MAX_COLUMNS;
}

static int too_many(const struct pk_csv_reader *r, uint64_t line, struct pk_csv_error *err)
{
    size_t lim = field_limit(r);
    if (!r->names)
        return fail_at(err, PK_EINVAL, line, lim + 1, "first row has more than %zu columns", lim);
    return fail_at(err, PK_EINVAL, line, lim + 1, "row has more than %zu field%s, the %s %zu",
                   lim, lim == 1 ? "" : "s", r->o.no_header ? "first row" : "header", lim);
}

/* Scans a quoted field from just after its opening quote. Returns 0 with *i past the closing
 * quote, SCAN_MORE, or a negative status. */
static int scan_quoted(struct pk_csv_reader *r, struct field *f, size_t nf, size_t *ip,
                       size_t *nlp, struct pk_csv_error *err)
{
    const unsigned char *b = r->buf;
    size_t n = r->len, i = *ip, nl = *nlp;
    for (;;) {
        if (i >= n) {
            if (!r->eof)
                return SCAN_MORE;
            return fail_at(err, PK_EINVAL, r->line + f->nl, nf,
                           "quoted field in column '%s' never closed", col_name(r, nf));
        }
        unsigned char c = b[i];
        if (c == '"') {
            if (i + 1 >= n && !r->eof)
                return SCAN_MORE; /* is it "" (a quote) or the end? */
            if (i + 1 < n && b[i + 1] == '"') {
                i += 2;
                continue;
            }
            break;
        }
        if (c == 0)
            return fail_at(err, PK_EINVAL, r->line + nl, nf, "NUL byte in column '%s'",
                           col_name(r, nf));
        nl += c == '\n';
        f->high |= c >= 0x80;
        i++;
    }
    f->end = i++;
    if (i < n && b[i] == '\r' && (i + 1 == n || b[i + 1] == '\n'))
        i++;
    if (i >= n && !r->eof)
        return SCAN_MORE;
    if (i < n && b[i] != ',' && b[i] != '\n')
        return fail_at(err, PK_EINVAL, r->line + nl, nf,
                       "text after the closing quote in column '%s'", col_name(r, nf));
    *ip = i;
    *nlp = nl;
    return 0;
}

/* Scans an unquoted field. Returns 0 with *i at its end (comma, LF or end of file),
 * SCAN_MORE, or a negative status. */
static int scan_plain(struct pk_csv_reader *r, struct field *f, size_t nf, size_t *ip,
                      size_t nl, struct pk_csv_error *err)
{
    const unsigned char *b = r->buf;
    size_t n = r->len, i = *ip;
    while (i < n) {
        unsigned char c = b[i];
        if (c == ',' || c == '\n')
            break;
        if (c == '"')
            return fail_at(err, PK_EINVAL, r->line + nl, nf,
                           "quote inside an unquoted field in column '%s'", col_name(r, nf));
        if (c == 0)
            return fail_at(err, PK_EINVAL, r->line + nl, nf, "NUL byte in column '%s'",
                           col_name(r, nf));
        f->high |= c >= 0x80;
        i++;
    }
    if (i >= n && !r->eof)
        return SCAN_MORE;
    f->end = i;
    /* the CR of a CRLF line end (or of a last line without LF); a CR before a comma is data */
    if ((i >= n || b[i] == '\n') && f->end > f->start && b[f->end - 1] == '\r')
        f->end--;
    *ip = i;
    return 0;
}

/* Finds the fields of the record at r->pos. SCAN_DONE with r->nf fields, *nl_out line breaks
 * inside the record and r->pos past it; SCAN_MORE when the buffer ends first; SCAN_END after
 * the last record; or a negative status with err filled. */
static int scan(struct pk_csv_reader *r, size_t *nl_out, struct pk_csv_error *err)
{
    size_t n = r->len, i = r->pos, nf = 0, nl = 0;
    if (i >= n && r->eof)
        return SCAN_END;
    for (;;) {
        if (nf >= field_limit(r))
            return too_many(r, r->line + nl, err);
        if (nf == r->fcap && grow_fields(r) != PK_OK)
            return fail_at(err, PK_ENOMEM, r->line, 0, "out of memory");
        struct field *f = &r->f[nf++];
        *f = (struct field){.nl = nl};
        int rc;
        if (i < n && r->buf[i] == '"') {
            f->quoted = true;
            f->start = ++i;
            rc = scan_quoted(r, f, nf, &i, &nl, err);
        } else {
            f->start = i;
            rc = scan_plain(r, f, nf, &i, nl, err);
        }
        if (rc != 0)
            return rc;
        if (i < n && r->buf[i] == ',') {
            i++;
            continue;
        }
        r->pos = i < n ? i + 1 : n; /* past the LF, or at the end of the file */
        r->nf = nf;
        *nl_out = nl;
        return SCAN_DONE;
    }
}

/* Moves the unread tail to the front and reads more; grows the buffer when one record fills it.
 */
static int fill(struct pk_csv_reader *r, struct pk_csv_error *err)
{
    if (r->pos > 0) {
        memmove(r->buf, r->buf + r->pos, r->len - r->pos);
        r->len -= r->pos;
        r->pos = 0;
    }
    if (r->len == r->cap) {
        if (r->cap >= PK_CSV_MAX_RECORD)
            return fail_at(err, PK_EINVAL, r->line, 0, "record longer than %u MiB",
                           PK_CSV_MAX_RECORD >> 20);
        size_t cap = 2 * r->cap < PK_CSV_MAX_RECORD ? 2 * r->cap : PK_CSV_MAX_RECORD;
        unsigned char *b = realloc(r->buf, cap + 1);
        if (!b)
            return fail_at(err, PK_ENOMEM, r->line, 0, "out of memory");
        r->buf = b;
        r->cap = cap;
    }
    ssize_t got;
    do
        got = read(r->fd, r->buf + r->len, r->cap - r->len);
    while (got < 0 && errno == EINTR);
    if (got < 0)
        return fail_at(err, PK_EIO, r->line, 0, "read error: %s", strerror(errno));
    r->eof = got == 0;
    r->len += (size_t)got;
    return PK_OK;
}

/* Turns the content of a quoted field into its text ("" becomes "); returns the new length. */
static size_t unquote(char *p, size_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        p[w++] = p[i];
        i += p[i] == '"';
    }
    return w;
}

/* Unquotes every field of the scanned record in place, checks its UTF-8, NUL-terminates it and
 * fills r->out. */
static int take_record(struct pk_csv_reader *r, struct pk_csv_error *err)
{
    for (size_t j = 0; j < r->nf; j++) {
        const struct field *f = &r->f[j];
        char *p = (char *)r->buf + f->start;
        size_t n = f->end - f->start;
        if (f->quoted)
            n = unquote(p, n);
        size_t bad;
        if (f->high && !pk_utf8_valid((const unsigned char *)p, n, &bad))
            return fail_at(err, PK_EINVAL, r->line + f->nl, j + 1,
                           "invalid UTF-8 (byte 0x%02X at offset %zu) in column '%s'",
                           (unsigned char)p[bad], bad, col_name(r, j + 1));
        p[n] = 0;
        r->out[j] = (struct pk_csv_field){.text = p, .len = n, .line = r->line + f->nl};
    }
    return PK_OK;
}

/* Reads the next record into r->out (r->nf fields): PK_OK, PK_ECLOSED at the end, or an error.
 * r->rec_line is its first line; r->line moves past it. */
static int read_record(struct pk_csv_reader *r, struct pk_csv_error *err)
{
    for (;;) {
        size_t nl = 0;
        int sc = scan(r, &nl, err);
        if (sc == SCAN_MORE) {
            int rc = fill(r, err);
            if (rc != PK_OK)
                return rc;
            continue;
        }
        if (sc == SCAN_END)
            return PK_ECLOSED;
        if (sc < 0)
            return sc;
        int rc = take_record(r, err);
        r->rec_line = r->line;
        r->line += nl + 1;
        return rc;
    }
}

/* True when every field of the record is a number: a header cannot look like that. */
static bool all_numbers(const struct pk_csv_reader *r)
{
    for (size_t j = 0; j < r->nf; j++) {
        double v;
        if (!pk_csv_number(r->out[j].text, r->out[j].len, &v))
            return false;
    }
    return true;
}

/* Takes the first record as the header (or, with no_header, as the first data record, and
 * names the columns by number). */
static int take_header(struct pk_csv_reader *r, struct pk_csv_error *err)
{
    if (!r->o.no_header && all_numbers(r)) {
        char shown[48];
        pk_csv_shown(r->out[0].text, r->out[0].len, shown, sizeof shown);
        int rc = fail_at(err, PK_EINVAL, r->rec_line, 1,
                         "the first row holds only numbers ('%s'%s): the file seems to have no "
                         "header; use --no-header",
                         shown, r->nf > 1 ? ", ..." : "");
        if (err)
            err->headerless = true;
        return rc;
    }
    r->names = calloc(r->nf, sizeof *r->names);
    if (!r->names)
        return fail_at(err, PK_ENOMEM, r->rec_line, 0, "out of memory");
    for (size_t j = 0; j < r->nf; j++) {
        char num[24];
        snprintf(num, sizeof num, "%zu", j + 1);
        r->names[j] = strdup(r->o.no_header ? num : r->out[j].text);
        if (!r->names[j])
            return fail_at(err, PK_ENOMEM, r->rec_line, 0, "out of memory");
        r->ncols = j + 1; /* names so far, so that pk_csv_close frees them */
    }
    r->pending = r->o.no_header;
    return PK_OK;
}

static int open_file(struct pk_csv_reader *r, const char *path, struct pk_csv_error *err)
{
    /* O_NONBLOCK: opening a FIFO waits for a writer, forever; it is refused below. On a
     * regular file the flag changes nothing. */
    r->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (r->fd < 0)
        return fail_at(err, PK_EIO, 0, 0, "cannot open: %s", strerror(errno));
    struct stat st;
    if (fstat(r->fd, &st) != 0)
        return fail_at(err, PK_EIO, 0, 0, "cannot stat: %s", strerror(errno));
    if (!S_ISREG(st.st_mode))
        return fail_at(err, PK_EIO, 0, 0, "not a regular file");
    (void)posix_fadvise(r->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    r->cap = PK_CSV_BLOCK;
    r->buf = malloc(r->cap + 1);
    if (!r->buf)
        return fail_at(err, PK_ENOMEM, 0, 0, "out of memory");
    int rc = fill(r, err);
    if (rc == PK_OK && r->len >= 3 && memcmp(r->buf, "\xEF\xBB\xBF", 3) == 0)
        r->pos = 3; /* UTF-8 byte order mark, as spreadsheets write it */
    return rc;
}

int pk_csv_open(const char *path, const struct pk_csv_opts *o, struct pk_csv_reader **out,
                struct pk_csv_error *err)
{
    *out = NULL;
    if (err)
        *err = (struct pk_csv_error){0};
    struct pk_csv_reader *r = calloc(1, sizeof *r);
    if (!r)
        return fail_at(err, PK_ENOMEM, 0, 0, "out of memory");
    r->fd = -1;
    r->line = 1;
    if (o)
        r->o = *o;
    int rc = open_file(r, path, err);
    if (rc == PK_OK)
        rc = read_record(r, err);
    if (rc == PK_ECLOSED) /* an empty file (or a byte order mark alone) */
        rc = r->o.no_header ? PK_OK
                            : fail_at(err, PK_EINVAL, 1, 0, "empty file: no header row");
    else if (rc == PK_OK)
        rc = take_header(r, err);
    if (rc != PK_OK) {
        pk_csv_close(r);
        return rc;
    }
    *out = r;
    return PK_OK;
}

size_t pk_csv_ncols(const struct pk_csv_reader *r)
{
    return r->ncols;
}

const char *pk_csv_name(const struct pk_csv_reader *r, size_t j)
{
    return r->names[j];
}

int pk_csv_next(struct pk_csv_reader *r, const struct pk_csv_field **fields,
                struct pk_csv_error *err)
{
    *fields = NULL;
    if (r->records % PK_CSV_POLL_ROWS == 0 && r->records > 0 && r->o.stop &&
        r->o.stop(r->o.stop_ctx))
        return fail_at(err, PK_ECANCELED, r->line, 0, "cancelled");
    if (r->pending) {
        r->pending = false;
    } else {
        int rc = read_record(r, err);
        if (rc != PK_OK)
            return rc;
        if (r->nf < r->ncols)
            return fail_at(err, PK_EINVAL, r->rec_line + r->f[r->nf - 1].nl, r->nf + 1,
                           "row has %zu field%s, the %s %zu: column '%s' missing", r->nf,
                           r->nf == 1 ? "" : "s", r->o.no_header ? "first row" : "header",
                           r->ncols, r->names[r->nf]);
    }
    r->records++;
    *fields = r->out;
    return PK_OK;
}

uint64_t pk_csv_records(const struct pk_csv_reader *r)
{
    return r->records;
}

uint64_t pk_csv_record_line(const struct pk_csv_reader *r)
{
    return r->rec_line;
}

void pk_csv_close(struct pk_csv_reader *r)
{
    if (!r)
        return;
    if (r->fd >= 0)
        close(r->fd);
    for (size_t j = 0; j < r->ncols; j++)
        free(r->names[j]);
    free(r->names);
    free(r->buf);
    free(r->f);
    free(r->out);
    free(r);
}

/* ---- distinct values -------------------------------------------------------------------- */

/* The last k (< 8) bytes of a text as one word, read by whole loads: a short memcpy into a
 * word stalled on store forwarding and made this hash the reader's hot spot. The loads cover
 * all k bytes, so different tails of one length give different words. */
static uint64_t tail_word(const unsigned char *p, size_t k)
{
    if (k >= 4) {
        uint32_t a, b;
        memcpy(&a, p, 4);
        memcpy(&b, p + k - 4, 4);
        return (uint64_t)a << 32 | b;
    }
    if (k == 0)
        return 0;
    return (uint64_t)p[0] << 16 | (uint64_t)p[k >> 1] << 8 | p[k - 1];
}

uint64_t pk_csv_hash(const char *s, size_t n)
{
    /* 8 bytes at a time, each word mixed by a multiply and xor-shift (as in wyhash and
     * murmur's finaliser): fast, and no structure of CSV text survives it. */
    uint64_t h = 0x9E3779B97F4A7C15u ^ (n * 0xC2B2AE3D27D4EB4Fu);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        h = (h ^ w) * 0xFF51AFD7ED558CCDu;
        h ^= h >> 32;
    }
    h = (h ^ tail_word((const unsigned char *)s + i, n - i)) * 0xC4CEB9FE1A85EC53u;
    h ^= h >> 29;
    h *= 0xFF51AFD7ED558CCDu;
    h ^= h >> 32;
    return h ? h : 1; /* 0 marks an empty slot */
}

static int distinct_grow(struct pk_csv_distinct *d)
{
    size_t cap = d->cap ? 2 * d->cap : 16;
    uint64_t *slot = calloc(cap, sizeof *slot);
    if (!slot)
        return PK_ENOMEM;
    for (size_t i = 0; i < d->cap; i++) {
        if (!d->slot[i])
            continue;
        size_t k = (size_t)(d->slot[i] & (cap - 1));
        while (slot[k])
            k = (k + 1) & (cap - 1);
        slot[k] = d->slot[i];
    }
    free(d->slot);
    d->slot = slot;
    d->cap = cap;
    return PK_OK;
}

int pk_csv_distinct_add(struct pk_csv_distinct *d, uint64_t h)
{
    if (d->more)
        return PK_OK;
    if (2 * (d->n + 1) > d->cap && distinct_grow(d) != PK_OK) /* load at most 1/2 */
        return PK_ENOMEM;
    size_t k = (size_t)(h & (d->cap - 1));
    while (d->slot[k]) {
        if (d->slot[k] == h)
            return PK_OK;
        k = (k + 1) & (d->cap - 1);
    }
    if (d->n == PK_CSV_DISTINCT_MAX) {
        d->more = true; /* a new value past the cap: the set stays as it is */
        return PK_OK;
    }
    d->slot[k] = h;
    d->n++;
    return PK_OK;
}

int pk_csv_distinct_merge(struct pk_csv_distinct *d, const struct pk_csv_distinct *from)
{
    for (size_t i = 0; i < from->cap && !d->more; i++)
        if (from->slot[i] && pk_csv_distinct_add(d, from->slot[i]) != PK_OK)
            return PK_ENOMEM;
    d->more |= from->more;
    return PK_OK;
}

void pk_csv_distinct_fini(struct pk_csv_distinct *d)
{
    if (!d)
        return;
    free(d->slot);
    *d = (struct pk_csv_distinct){0};
}

/* ---- statistics ------------------------------------------------------------------------- */

/* One non-empty value of column c: number statistics while every value so far was a number. */
static int add_value(struct pk_csv_column *c, const struct pk_csv_field *f)
{
    c->count++;
    if (c->type != PK_CSV_TEXT) {
        double v;
        if (pk_csv_number(f->text, f->len, &v)) {
            pk_xacc_add(&c->sum, v);
            if (c->type == PK_CSV_EMPTY || v < c->min)
                c->min = v;
            if (c->type == PK_CSV_EMPTY || v > c->max)
                c->max = v;
            c->type = PK_CSV_NUMBER;
        } else {
            c->type = PK_CSV_TEXT;
            c->text_line = f->line;
            pk_csv_shown(f->text, f->len, c->text_value, sizeof c->text_value);
        }
    }
    if (c->distinct.more) /* past the cap nothing is added: skip the hash */
        return PK_OK;
    return pk_csv_distinct_add(&c->distinct, pk_csv_hash(f->text, f->len));
}

static int stats_columns(const struct pk_csv_reader *r, struct pk_csv_stats *s,
                         struct pk_csv_error *err)
{
    size_t n = pk_csv_ncols(r);
    s->col = calloc(n ? n : 1, sizeof *s->col);
    if (!s->col)
        return fail_at(err, PK_ENOMEM, 0, 0, "out of memory");
    for (size_t j = 0; j < n; j++) {
        s->col[j].name = strdup(pk_csv_name(r, j));
        if (!s->col[j].name)
            return fail_at(err, PK_ENOMEM, 0, 0, "out of memory");
        pk_xacc_init(&s->col[j].sum);
        s->ncols = j + 1; /* so that pk_csv_stats_fini frees what is there */
    }
    return PK_OK;
}

int pk_csv_read_stats(const char *path, const struct pk_csv_opts *o, struct pk_csv_stats *out,
                      struct pk_csv_error *err)
{
    static const struct pk_csv_opts none = {0};
    if (!o)
        o = &none;
    *out = (struct pk_csv_stats){0};
    struct stat st;
    if (stat(path, &st) == 0)
        out->nbytes = (uint64_t)st.st_size;
    struct pk_csv_reader *r;
    int rc = pk_csv_open(path, o, &r, err);
    if (rc != PK_OK)
        return rc;
    rc = stats_columns(r, out, err);
    const struct pk_csv_field *f;
    while (rc == PK_OK && (rc = pk_csv_next(r, &f, err)) == PK_OK) {
        if (pk_csv_records(r) == o->canary_row)
            continue;
        out->rows++;
        for (size_t j = 0; j < out->ncols && rc == PK_OK; j++) {
            struct pk_csv_column *c = &out->col[j];
            if (f[j].len == 0)
                c->missing++;
            else if (add_value(c, &f[j]) != PK_OK)
                rc = fail_at(err, PK_ENOMEM, f[j].line, j + 1, "out of memory");
        }
    }
    pk_csv_close(r);
    return rc == PK_ECLOSED ? PK_OK : rc;
}

void pk_csv_stats_fini(struct pk_csv_stats *s)
{
    if (!s)
        return;
    for (size_t j = 0; j < s->ncols; j++) {
        free(s->col[j].name);
        pk_csv_distinct_fini(&s->col[j].distinct);
    }
    free(s->col);
    *s = (struct pk_csv_stats){0};
}

/* ---- text helpers ----------------------------------------------------------------------- */

void pk_csv_shown(const char *text, size_t n, char *out, size_t size)
{
    size_t room = size - 4; /* "..." and the NUL */
    size_t shown = n <= size - 1 ? n : room;
    while (shown < n && shown > 0 && ((unsigned char)text[shown] & 0xC0) == 0x80)
        shown--; /* never cut a UTF-8 sequence */
    memcpy(out, text, shown);
    strcpy(out + shown, shown < n ? "..." : "");
}

bool pk_utf8_valid(const unsigned char *s, size_t n, size_t *bad)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        /* Unicode Table 3-7: the second byte's range excludes overlong forms, surrogates
         * (ED A0..BF) and code points above U+10FFFF (F4 90..). */
        size_t need;
        unsigned lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            lo = c == 0xE0 ? 0xA0 : 0x80;
            hi = c == 0xED ? 0x9F : 0xBF;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            lo = c == 0xF0 ? 0x90 : 0x80;
            hi = c == 0xF4 ? 0x8F : 0xBF;
        } else {
            break;
        }
        if (n - i <= need || s[i + 1] < lo || s[i + 1] > hi)
            break;
        size_t k = 2;
        while (k <= need && (s[i + k] & 0xC0) == 0x80)
            k++;
        if (k <= need)
            break;
        i += need + 1;
    }
    if (i < n && bad)
        *bad = i;
    return i >= n;
}

/* Powers of ten that are exact doubles (5^22 < 2^53). */
static const double pow10_exact[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* Clinger's fast path: a decimal with at most 15 digits and a power of ten up to 22 is an exact
 * integer times or over an exact power, so one correctly rounded operation gives the same
 * double strtod does. Returns false when the text is not that simple (strtod decides then). */
static bool fast_decimal(const char *s, size_t n, double *out)
{
    size_t i = 0;
    bool neg = false;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    uint64_t m = 0;
    int digits = 0, frac = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        m = m * 10 + (uint64_t)(s[i++] - '0');
        digits++;
    }
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            m = m * 10 + (uint64_t)(s[i++] - '0');
            digits++;
            frac++;
        }
    }
    if (digits == 0 || digits > 15)
        return false;
    int e = 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        bool eneg = false;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            eneg = s[i++] == '-';
        int ed = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9' && ed < 4) {
            e = e * 10 + (s[i++] - '0');
            ed++;
        }
        if (ed == 0)
            return false;
        e = eneg ? -e : e;
    }
    if (i != n)
        return false;
    e -= frac;
    if (e < -22 || e > 22)
        return false;
    double v = (double)m; /* exact: m < 10^15 < 2^53 */
    v = e < 0 ? v / pow10_exact[-e] : v * pow10_exact[e];
    *out = neg ? -v : v;
    return true;
}

bool pk_csv_number(const char *s, size_t n, double *out)
{
    if (fast_decimal(s, n, out)) /* its grammar admits only what the checks below admit */
        return true;
    bool digit = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9')
            digit = true;
        else if (c != '+' && c != '-' && c != '.' && c != 'e' && c != 'E')
            return false; /* no spaces, inf, nan, hex or locale forms */
    }
    if (!digit)
        return false;
    char *end;
    double v = strtod(s, &end);
    if (end != s + n || !isfinite(v))
        return false;
    *out = v;
    return true;
}
