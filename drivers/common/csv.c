/* SPDX-License-Identifier: MIT */
/* The strict CSV reader of csv.h. The file is read in blocks into one buffer; a record is
 * scanned (field bounds, quotes, line breaks) and only when it is complete are its fields
 * unquoted and converted in place, so a record cut by the end of a block is simply scanned
 * again after the next read. The buffer grows only for a record longer than itself, up to
 * PK_CSV_MAX_RECORD. */
#include "csv.h"

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
 * many concurrent readers. */
#define BLOCK (256u << 10)

struct field {
    size_t start, end; /* content bounds in the buffer, quotes excluded */
    size_t nl;         /* line breaks in the record before this field */
    bool quoted, high; /* high: holds bytes >= 0x80, so UTF-8 must be checked */
};

struct reader {
    int fd;
    unsigned char *buf; /* cap + 1 bytes: a field may be NUL-terminated at the record's end */
    size_t cap, len, pos;
    bool eof;
    struct field *f; /* fields of the record being read */
    size_t nf, fcap;
    uint64_t line; /* line on which the record at pos starts */
    const struct pk_csv_stats *s;
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

/* The header name of 1-based column j, or "?" before the header is read. */
static const char *col_name(const struct reader *r, size_t j)
{
    return r->s->col && j >= 1 && j <= r->s->ncols ? r->s->col[j - 1].name : "?";
}

static int grow_fields(struct reader *r)
{
    size_t cap = r->fcap ? 2 * r->fcap : 16;
    struct field *f = realloc(r->f, cap * sizeof *f);
    if (!f)
        return PK_ENOMEM;
    r->f = f;
    r->fcap = cap;
    return PK_OK;
}

/* Finds the fields of the record at r->pos. SCAN_DONE with r->nf fields, *nl line breaks inside
 * the record and r->pos past it; SCAN_MORE when the buffer ends first; SCAN_END after the last
 * record; or a negative status with err filled. */
static int scan(struct reader *r, size_t *nl_out, struct pk_csv_error *err)
{
    const unsigned char *b = r->buf;
    size_t n = r->len, i = r->pos, nf = 0, nl = 0;
    if (i >= n && r->eof)
        return SCAN_END;
    for (;;) {
        if (nf == r->fcap && grow_fields(r) != PK_OK)
            return fail_at(err, PK_ENOMEM, r->line, 0, "out of memory");
        struct field *f = &r->f[nf++];
        *f = (struct field){.nl = nl};
        if (i < n && b[i] == '"') {
            f->quoted = true;
            f->start = ++i;
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
        } else {
            f->start = i;
            while (i < n) {
                unsigned char c = b[i];
                if (c == ',' || c == '\n')
                    break;
                if (c == '"')
                    return fail_at(err, PK_EINVAL, r->line + nl, nf,
                                   "quote inside an unquoted field in column '%s'",
                                   col_name(r, nf));
                if (c == 0)
                    return fail_at(err, PK_EINVAL, r->line + nl, nf, "NUL byte in column '%s'",
                                   col_name(r, nf));
                f->high |= c >= 0x80;
                i++;
            }
            if (i >= n && !r->eof)
                return SCAN_MORE;
            f->end = i;
            if (f->end > f->start && b[f->end - 1] == '\r')
                f->end--; /* CRLF */
        }
        if (i < n && b[i] == ',') {
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
static int fill(struct reader *r, struct pk_csv_error *err)
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
        size_t cap = 2 * r->cap;
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

/* Unquotes field j in place, checks its UTF-8 and NUL-terminates it. */
static int take_field(struct reader *r, size_t j, char **text, size_t *len,
                      struct pk_csv_error *err)
{
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
    *text = p;
    *len = n;
    return PK_OK;
}

static int take_header(struct reader *r, struct pk_csv_stats *s, struct pk_csv_error *err)
{
    if (r->nf > PK_CSV_MAX_COLUMNS)
        return fail_at(err, PK_EINVAL, r->line, PK_CSV_MAX_COLUMNS + 1,
                       "header has %zu columns, more than %d", r->nf, PK_CSV_MAX_COLUMNS);
    struct pk_csv_column *col = calloc(r->nf ? r->nf : 1, sizeof *col);
    if (!col)
        return fail_at(err, PK_ENOMEM, r->line, 0, "out of memory");
    s->col = col;
    for (size_t j = 0; j < r->nf; j++) {
        char *text = NULL;
        size_t len = 0;
        int rc = take_field(r, j, &text, &len, err);
        if (rc != PK_OK)
            return rc;
        col[j].name = strdup(text);
        if (!col[j].name)
            return fail_at(err, PK_ENOMEM, r->line, 0, "out of memory");
        pk_xacc_init(&col[j].sum);
        s->ncols = j + 1; /* names so far, so that pk_csv_stats_fini frees them */
    }
    return PK_OK;
}

/* At most this many bytes of a bad value go into a message. */
#define SHOWN 40

static int take_row(struct reader *r, struct pk_csv_stats *s, bool counted,
                    struct pk_csv_error *err)
{
    if (r->nf < s->ncols)
        return fail_at(err, PK_EINVAL, r->line, r->nf + 1,
                       "row has %zu field%s, the header %zu: column '%s' missing", r->nf,
                       r->nf == 1 ? "" : "s", s->ncols, s->col[r->nf].name);
    if (r->nf > s->ncols)
        return fail_at(err, PK_EINVAL, r->line, s->ncols + 1, "row has %zu fields, the header %zu",
                       r->nf, s->ncols);
    for (size_t j = 0; j < r->nf; j++) {
        char *text = NULL;
        size_t len = 0;
        int rc = take_field(r, j, &text, &len, err);
        if (rc != PK_OK)
            return rc;
        struct pk_csv_column *c = &s->col[j];
        double v = 0;
        bool number = false;
        if (c->type == PK_CSV_EMPTY) { /* the first data row decides the type */
            number = pk_csv_number(text, len, &v);
            c->type = number ? PK_CSV_NUMBER : PK_CSV_TEXT;
        } else if (c->type == PK_CSV_NUMBER) {
            number = pk_csv_number(text, len, &v);
        }
        if (c->type == PK_CSV_NUMBER && !number) {
            size_t shown = len < SHOWN ? len : SHOWN;
            while (shown < len && shown > 0 && ((unsigned char)text[shown] & 0xC0) == 0x80)
                shown--; /* never cut a UTF-8 sequence */
            if (len == 0)
                return fail_at(err, PK_EINVAL, r->line + r->f[j].nl, j + 1,
                               "empty field in number column '%s'", c->name);
            return fail_at(err, PK_EINVAL, r->line + r->f[j].nl, j + 1,
                           "bad number '%.*s%s' in column '%s'", (int)shown, text,
                           shown < len ? "..." : "", c->name);
        }
        if (!counted)
            continue;
        if (c->type == PK_CSV_NUMBER) {
            pk_xacc_add(&c->sum, v);
            if (c->count == 0 || v < c->min)
                c->min = v;
            if (c->count == 0 || v > c->max)
                c->max = v;
        }
        c->count++;
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
    if (err)
        *err = (struct pk_csv_error){0};
    struct reader r = {.fd = open(path, O_RDONLY | O_CLOEXEC), .line = 1, .s = out};
    if (r.fd < 0)
        return fail_at(err, PK_EIO, 0, 0, "cannot open: %s", strerror(errno));
    int rc = PK_OK;
    struct stat st;
    if (fstat(r.fd, &st) != 0) {
        rc = fail_at(err, PK_EIO, 0, 0, "cannot stat: %s", strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = fail_at(err, PK_EIO, 0, 0, "not a regular file");
        goto out;
    }
    (void)posix_fadvise(r.fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    r.cap = BLOCK;
    r.buf = malloc(r.cap + 1);
    if (!r.buf) {
        rc = fail_at(err, PK_ENOMEM, 0, 0, "out of memory");
        goto out;
    }
    rc = fill(&r, err);
    if (rc == PK_OK && r.len >= 3 && memcmp(r.buf, "\xEF\xBB\xBF", 3) == 0)
        r.pos = 3; /* UTF-8 byte order mark, as spreadsheets write it */
    bool header = false;
    uint64_t seen = 0;
    while (rc == PK_OK) {
        size_t nl = 0;
        int sc = scan(&r, &nl, err);
        if (sc == SCAN_MORE) {
            rc = fill(&r, err);
            continue;
        }
        if (sc == SCAN_END)
            break;
        if (sc < 0) {
            rc = sc;
            break;
        }
        if (!header) {
            rc = take_header(&r, out, err);
            header = true;
        } else {
            seen++;
            rc = take_row(&r, out, seen != o->canary_row, err);
            out->rows += seen != o->canary_row;
        }
        r.line += nl + 1;
        if (rc == PK_OK && seen % PK_CSV_POLL_ROWS == 0 && o->stop && o->stop(o->stop_ctx))
            rc = fail_at(err, PK_ECANCELED, r.line, 0, "cancelled");
    }
    if (rc == PK_OK && !header)
        rc = fail_at(err, PK_EINVAL, 1, 0, "empty file: no header row");
out:
    out->nbytes = (uint64_t)st.st_size;
    close(r.fd);
    free(r.buf);
    free(r.f);
    return rc;
}

void pk_csv_stats_fini(struct pk_csv_stats *s)
{
    if (!s)
        return;
    for (size_t j = 0; j < s->ncols; j++)
        free(s->col[j].name);
    free(s->col);
    *s = (struct pk_csv_stats){0};
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

int pk_csv_append_field(char **buf, size_t *len, size_t *cap, const char *text)
{
    bool quote = strpbrk(text, ",\"\r\n") != NULL;
    size_t need = *len + 2 * strlen(text) + 3; /* worst case: every byte a quote, plus quotes */
    if (need > *cap) {
        size_t c = *cap ? *cap : 256;
        while (c < need)
            c *= 2;
        char *b = realloc(*buf, c);
        if (!b)
            return PK_ENOMEM;
        *buf = b;
        *cap = c;
    }
    char *p = *buf + *len;
    if (quote)
        *p++ = '"';
    for (const char *t = text; *t; t++) {
        if (*t == '"')
            *p++ = '"';
        *p++ = *t;
    }
    if (quote)
        *p++ = '"';
    *p = 0;
    *len = (size_t)(p - *buf);
    return PK_OK;
}
