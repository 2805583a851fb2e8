/* SPDX-License-Identifier: MIT */
/* The one CSV reader of parkit (`parkit files` statistics, `parkit transform --input X.csv`):
 * RFC 4180, streaming, bounded in memory, and exact about where a file is wrong.
 *
 * Format: a header row (or none, with no_header: columns are then named 1..k), then records
 * with exactly as many fields; comma separator; LF or CRLF line ends; double-quoted fields
 * (commas, quotes written "" and line breaks inside); an optional UTF-8 byte order mark; every
 * byte valid UTF-8 and no NUL. Errors name FILE:LINE:COLUMN (struct pk_csv_error).
 *
 * Two layers. The record reader (pk_csv_open / pk_csv_next / pk_csv_close) hands out one record
 * at a time as unquoted, NUL-terminated fields; only one record (at most PK_CSV_MAX_RECORD
 * bytes) is held, whatever the file size. The statistics (pk_csv_read_stats) run the reader
 * over a whole file and type each column over the whole column: an empty field is a missing
 * value (counted, never an error); a column is a number column when every non-empty field is
 * a finite decimal number (pk_csv_number: no spaces, inf, nan or hex), an empty column when
 * every field is empty, and otherwise a text column. Since the type is known only at the end,
 * every column keeps number statistics until its first non-number (an exact pk_xacc sum, so
 * a file's statistics are the same bits whatever thread reads it). Text and number columns
 * also count distinct values, up to PK_CSV_DISTINCT_MAX.
 *
 * Nothing here prints or keeps global state: every function is thread-safe on its own
 * objects. */
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
/* Each column costs a 600-byte exact accumulator and up to 16 KiB of distinct-value hashes;
 * real reports have tens. */
#define PK_CSV_MAX_COLUMNS 4096
/* The stop callback is polled every this many records. */
#define PK_CSV_POLL_ROWS 256
/* Distinct values counted per column; past this a column reports "more than". */
#define PK_CSV_DISTINCT_MAX 1000

/* Where and why a file was rejected. line and column are 1-based; 0 means the whole file (it
 * cannot be opened or read) or the whole row. */
struct pk_csv_error {
    uint64_t line;
    size_t column; /* field number */
    char reason[256];
    /* Set with PK_EINVAL when the first row holds only numbers and no_header was not given: the
     * file seems to have no header, which is the caller's option to fix (a usage error). */
    bool headerless;
};

struct pk_csv_opts {
    /* The first row is data, not names: columns are named "1".."k" by the first row's width. */
    bool no_header;
    /* Polled between records (every PK_CSV_POLL_ROWS); returning true stops the read with
     * PK_ECANCELED. May be NULL. Called on the reading thread. */
    bool (*stop)(void *ctx);
    void *stop_ctx;
    /* pk_csv_read_stats only: data row (1-based) parsed and checked but left out of the
     * statistics; 0: none. Only for --canary, which proves that verification can fail. */
    uint64_t canary_row;
};

/* ---- records ---------------------------------------------------------------------------- */

/* One field of a record: its text, unquoted ("" made "), valid UTF-8 without NUL, and
 * NUL-terminated at text[len]; line is where the field starts (records may span lines). */
struct pk_csv_field {
    const char *text;
    size_t len;
    uint64_t line;
};

struct pk_csv_reader;

/* Opens the CSV file at path and reads its header (with o->no_header, its first record, kept
 * for the first pk_csv_next). On PK_OK *out owns a reader (pk_csv_close frees it); on failure
 * *out is NULL and err (may be NULL) says where and why: PK_EIO when the file cannot be opened,
 * is not a regular file or a read fails; PK_EINVAL when the header is malformed, the file is
 * empty (without no_header; with it an empty file has no columns and no records) or the first
 * row holds only numbers (err->headerless); PK_ENOMEM. o may be NULL. path is not kept. */
int pk_csv_open(const char *path, const struct pk_csv_opts *o, struct pk_csv_reader **out,
                struct pk_csv_error *err);
/* Columns of the file: the header's width (or the first record's). */
size_t pk_csv_ncols(const struct pk_csv_reader *r);
/* The name of column j (0-based, < pk_csv_ncols): the header field, unquoted, or "j+1" with
 * no_header. Owned by the reader. */
const char *pk_csv_name(const struct pk_csv_reader *r, size_t j);
/* Reads the next data record. PK_OK: *fields points at pk_csv_ncols(r) fields, owned by the
 * reader and valid until the next call on r; PK_ECLOSED after the last record; otherwise
 * PK_EINVAL (malformed: quotes, a row of another width, invalid UTF-8, NUL, a record longer
 * than PK_CSV_MAX_RECORD), PK_EIO, PK_ENOMEM or PK_ECANCELED, with err filled. */
int pk_csv_next(struct pk_csv_reader *r, const struct pk_csv_field **fields,
                struct pk_csv_error *err);
/* Data records returned so far; the line on which the last one started. */
uint64_t pk_csv_records(const struct pk_csv_reader *r);
uint64_t pk_csv_record_line(const struct pk_csv_reader *r);
/* Frees the reader and closes its file. NULL ok. */
void pk_csv_close(struct pk_csv_reader *r);

/* ---- distinct values -------------------------------------------------------------------- */

/* A set of 64-bit hashes of field texts, at most PK_CSV_DISTINCT_MAX; past that `more` is set
 * and nothing is added. Two different texts share a hash with probability about n^2 / 2^65
 * (1e-14 at the cap), so n is exact for any practical purpose. Zero-initialise it. */
struct pk_csv_distinct {
    uint64_t *slot; /* owned; open addressing, 0 = empty */
    size_t cap, n;
    bool more;
};
/* Hash of the n bytes at s (never 0). */
uint64_t pk_csv_hash(const char *s, size_t n);
/* Adds hash h. PK_OK or PK_ENOMEM. */
int pk_csv_distinct_add(struct pk_csv_distinct *d, uint64_t h);
/* Adds every hash of from to d (the union; `more` when either has it or the union is too
 * large). PK_OK or PK_ENOMEM. */
int pk_csv_distinct_merge(struct pk_csv_distinct *d, const struct pk_csv_distinct *from);
/* Frees what d owns and zeroes it. NULL ok. */
void pk_csv_distinct_fini(struct pk_csv_distinct *d);

/* ---- statistics ------------------------------------------------------------------------- */

enum pk_csv_type {
    PK_CSV_EMPTY,  /* no value: no data rows, or every field empty */
    PK_CSV_NUMBER, /* every non-empty field a finite decimal number */
    PK_CSV_TEXT,   /* at least one non-empty field that is not a number */
};

struct pk_csv_column {
    char *name; /* owned; the header field, unquoted (or "1".."k") */
    enum pk_csv_type type;
    uint64_t count;     /* non-empty values */
    uint64_t missing;   /* empty fields */
    struct pk_xacc sum; /* number columns: exact sum of every value */
    double min, max;    /* number columns with count > 0 */
    struct pk_csv_distinct distinct; /* of the non-empty texts */
    /* Text columns: the first value that is not a number, where it is, and its text (cut to
     * fit, with "..." when cut, never inside a UTF-8 sequence). */
    uint64_t text_line;
    char text_value[64];
};

struct pk_csv_stats {
    uint64_t rows;   /* data rows, header excluded (and the canary row) */
    uint64_t nbytes; /* size of the file */
    size_t ncols;
    struct pk_csv_column *col; /* owned, ncols entries */
};

/* Reads the CSV file at path and fills *out (the caller releases it with pk_csv_stats_fini,
 * also on failure, when it holds what was read so far). Returns PK_OK or an error of
 * pk_csv_open or pk_csv_next, with err saying where and why. o may be NULL. */
int pk_csv_read_stats(const char *path, const struct pk_csv_opts *o, struct pk_csv_stats *out,
                      struct pk_csv_error *err);
/* Frees what s owns and zeroes it. NULL ok. */
void pk_csv_stats_fini(struct pk_csv_stats *s);

/* ---- text helpers ----------------------------------------------------------------------- */

/* True when the n bytes at s are valid UTF-8 (no overlong forms, surrogates or code points
 * above U+10FFFF); otherwise *bad (may be NULL) is the offset of the first invalid byte. */
bool pk_utf8_valid(const unsigned char *s, size_t n, size_t *bad);
/* Parses a whole field as a finite decimal number, as the statistics do: decimal text only
 * (digits, sign, point, exponent; no spaces, inf, nan or hex), converted by strtod, which must
 * consume the whole field and stay finite. s must be NUL-terminated at s[n]. */
bool pk_csv_number(const char *s, size_t n, double *out);
/* Copies text (n bytes, NUL-terminated at text[n]) into out (size >= 8) for a message: cut to
 * fit with "..." appended, never inside a UTF-8 sequence. */
void pk_csv_shown(const char *text, size_t n, char *out, size_t size);

#endif
