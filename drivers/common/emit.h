/* SPDX-License-Identifier: MIT */
/* One way out. A command builds one record (record.h); pk_emit turns it into the view the user
 * asked for (the command's table, CSV rows through the one CSV writer below, or the JSON record
 * itself), appends it to --record, names a failed verification, and makes every rank agree on
 * the exit status. */
#ifndef PARKIT_EMIT_H
#define PARKIT_EMIT_H

#include "cli.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>

/* The CSV writer: RFC 4180 fields (quoted when they hold a comma, a quote, CR or LF; quotes
 * doubled), rows ended by LF. Not thread-safe; one writer per stream. */
struct pk_csvw {
    FILE *f;
    size_t col; /* fields written in the current row */
};
void pk_csvw_init(struct pk_csvw *w, FILE *f);
void pk_csvw_field(struct pk_csvw *w, const char *text); /* NULL: an empty field */
void pk_csvw_fieldf(struct pk_csvw *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pk_csvw_end(struct pk_csvw *w);
/* A whole row from a NULL-terminated list of fields (a header, say). */
void pk_csvw_row(struct pk_csvw *w, const char *const *fields);

/* A command's views of its record. csv may be NULL when the command refuses --format csv (its
 * spec has no PK_FORMATS_CSV). ctx is the command's own state, passed through. */
struct pk_view {
    void (*table)(const json_t *rec, const void *ctx);
    void (*csv)(const json_t *rec, struct pk_csvw *w, const void *ctx);
};

/* The tail of a command. On rank 0 (rec not NULL): prints rec as o->format asks, appends it to
 * o->record, says "verification failed" when status is PK_EXIT_VERIFY, and turns a failed write
 * of stdout or of the record into PK_EXIT_RUNTIME. Then every rank agrees on the status, which
 * is returned. Takes ownership of rec. */
int pk_emit(const struct pk_comm *c, const char *cmd, const struct pk_common_opts *o,
            const struct pk_view *v, const void *ctx, json_t *rec, int status);

/* "1 file" / "3 files": the noun for n (plural adds "s"). */
const char *pk_plural(unsigned long long n, const char *one, const char *many);

#endif
