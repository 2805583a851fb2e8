/* SPDX-License-Identifier: MIT */
/* Bounded line reading: getc_unlocked under one lock per line, the buffer doubled up to the
 * cap (so a long line costs at most twice its size). */
#include "parkit/lines.h"

#include <stdbool.h>
#include <stdlib.h>

/* Makes room for at least need bytes in *line; false when out of memory. */
static bool grow(char **line, size_t *cap, size_t need)
{
    if (need <= *cap)
        return true;
    size_t ncap = *cap ? *cap : 256;
    while (ncap < need)
        ncap *= 2;
    char *p = realloc(*line, ncap);
    if (!p)
        return false;
    *line = p;
    *cap = ncap;
    return true;
}

ssize_t pk_line_read(FILE *f, char **line, size_t *cap, size_t max)
{
    size_t n = 0;
    ssize_t rc = PK_LINE_EOF;
    flockfile(f);
    for (;;) {
        int ch = getc_unlocked(f);
        if (ch == EOF) {
            rc = n > 0 ? (ssize_t)n : PK_LINE_EOF;
            break;
        }
        if (ch == '\n') {
            rc = (ssize_t)n;
            break;
        }
        if (n == max) {
            rc = PK_LINE_TOO_LONG;
            break;
        }
        if (!grow(line, cap, n + 2)) {
            rc = PK_LINE_NOMEM;
            break;
        }
        (*line)[n++] = (char)ch;
    }
    funlockfile(f);
    if (rc == PK_LINE_EOF && ferror(f))
        return PK_LINE_ERROR;
    if (rc < 0 && rc != PK_LINE_EOF)
        return rc;
    if (!grow(line, cap, n + 1))
        return PK_LINE_NOMEM;
    (*line)[n] = 0;
    return rc;
}
