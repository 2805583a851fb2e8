/* SPDX-License-Identifier: MIT */
/* A small strict CSV reader for `parkit files`: one pass over a file, per-column statistics, and
 * the exact place of the first error.
 *
 * Format: a header row, then data rows with exactly as many fields; comma separator; LF or CRLF
 * line ends; RFC 4180 double-quoted fields (commas, quotes written "" and line breaks inside);
 * an optional UTF-8 byte order mark; every byte valid UTF-8 and no NUL. A column is a number
 * column when its field in the first data row is a number, and then every row must hold a
 * number there: decimal text only (digits, sign, point, exponent; no spaces, inf, nan or hex),
 * converted by strtod, which must consume the whole field and stay finite. Other columns are
 * text and only counted.
 *
 * Number columns keep count, min, max and an exact sum (pk_xacc), so the statistics of a file
 * are the same bits whatever thread reads it, and merging files in any order gives the same
 * total. The reader never prints and keeps no global state: thread-safe. */
#ifndef PARKIT_CSV_H
#define PARKIT_CSV_H

#include "parkit/status.h"
#include "parkit/xacc.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A record (one row, quoted line breaks included) may not exceed this, so a file without line
 * breaks cannot make the reader hold it whole. */
#define PK_CSV_MAX_RECORD (16u << 20)
/* Each column costs a 600-byte exact accumulator; real reports have tens. */
#define PK_CSV_MAX_COLUMNS 4096

enum pk_csv_type { PK_CSV_EMPTY, PK_CSV_NUMBER, PK_CSV_TEXT }; /* EMPTY: no data rows */

struct pk_csv_column {
    char *name; /* owned; the header field, unquoted */
    enum pk_csv_type type;
    uint64_t count;     /* values seen (every data row) */
    struct pk_xacc sum; /* number columns: exact sum */
    double min, max;    /* number columns with count > 0 */
};

struct pk_csv_stats {
    uint64_t rows;   /* data rows, header excluded */
    uint64_t nbytes; /* bytes read */
    size_t ncols;
    struct pk_csv_column *col; /* owned, ncols entries */
};

/* Where and why a file was rejected. line and column are 1-based; 0 means the whole file (it
 * cannot be opened or read) or the whole row. */
struct pk_csv_error {
    uint64_t line;
    size_t column; /* field number */
    char reason[256];
};

struct pk_csv_opts {
    /* Polled between rows (every PK_CSV_POLL_ROWS); returning true stops the read with
     * PK_ECANCELED. May be NULL. Called on the reading thread. */
    bool (*stop)(void *ctx);
    void *stop_ctx;
    /* Data row (1-based) parsed and checked but left out of the statistics; 0: none. Only for
     * --canary, which proves that verification can fail. */
    uint64_t canary_row;
};
#define PK_CSV_POLL_ROWS 256

/* Reads the CSV file at path and fills *out (the caller releases it with pk_csv_stats_fini,
 * also on failure, when it holds what was read so far). Returns PK_OK; PK_EIO when the file
 * cannot be opened, is not a regular file, or a read fails; PK_EINVAL when it is malformed;
 * PK_ENOMEM; PK_ECANCELED when o->stop said so. On any failure err says where and why. o may be
 * NULL. */
int pk_csv_read_stats(const char *path, const struct pk_csv_opts *o, struct pk_csv_stats *out,
                      struct pk_csv_error *err);
/* Frees what s owns and zeroes it. NULL ok. */
void pk_csv_stats_fini(struct pk_csv_stats *s);

/* True when the n bytes at s are valid UTF-8 (no overlong forms, surrogates or code points
 * above U+10FFFF); otherwise *bad (may be NULL) is the offset of the first invalid byte. */
bool pk_utf8_valid(const unsigned char *s, size_t n, size_t *bad);
/* Parses a whole field as a finite decimal number, as the reader does for number columns.
 * s must be NUL-terminated at s[n]. */
bool pk_csv_number(const char *s, size_t n, double *out);
/* Appends text to buf (at *len, capacity *cap, grown with realloc) as one CSV field, quoted when
 * it holds a comma, quote, CR or LF. Returns PK_OK or PK_ENOMEM. */
int pk_csv_append_field(char **buf, size_t *len, size_t *cap, const char *text);

#endif
