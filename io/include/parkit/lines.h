/* SPDX-License-Identifier: MIT */
/* Bounded line reading for the line-oriented inputs (report's JSON Lines, fetch's --url-file).
 * getline() grows its buffer until the newline comes, so /dev/zero or a huge file without one
 * grows the process until the kernel kills it; these readers stop at a cap instead, the way
 * the CSV reader stops at PK_CSV_MAX_RECORD. */
#ifndef PARKIT_LINES_H
#define PARKIT_LINES_H

#include <stdio.h>
#include <sys/types.h>

/* The longest line accepted: 16 MiB, the CSV reader's record cap (PK_CSV_MAX_RECORD). */
#define PK_LINE_MAX (16u << 20)

/* What pk_line_read returns besides a length. */
enum { PK_LINE_EOF = -1, PK_LINE_TOO_LONG = -2, PK_LINE_ERROR = -3, PK_LINE_NOMEM = -4 };

/* Reads the next line of f into *line (a malloc'd buffer of *cap bytes that the caller owns and
 * frees, grown as needed; NULL and 0 at first, as getline's), NUL-terminated and without its
 * '\n'. Returns the line's length (bytes before the '\n'; the line may hold NUL bytes), or
 * PK_LINE_EOF at the end of the file, PK_LINE_TOO_LONG when more than max bytes come before a
 * newline (the rest of the line is not read), PK_LINE_ERROR on a read error (errno says which)
 * or PK_LINE_NOMEM. A last line without '\n' is a line. Not thread-safe on one f. */
ssize_t pk_line_read(FILE *f, char **line, size_t *cap, size_t max);

#endif
