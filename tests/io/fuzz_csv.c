/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the CSV reader (parkit/csv.h): the input is written to a file in memory
 * (the reader reads paths) and read twice, record by record and as statistics, with or without a
 * header (the last byte's low bit). Built with a tiny read block (PK_CSV_BLOCK), so records
 * cross blocks and the buffer grows. Every record must have the header's width, every field
 * must be valid UTF-8 without NUL and NUL-terminated at its length, lines must not go back, a
 * failure must say why, and both passes must agree on the record count and the failure.
 * Build and run: jobs/fuzz-csv.sh. */
#define _GNU_SOURCE /* memfd_create */
#include "parkit/csv.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

/* The input goes into an in-memory file (memfd), read back through its /proc/self/fd path: no
 * disk write per execution, which had held the fuzzer to a few hundred runs a second. */
static void write_input(const uint8_t *data, size_t size)
{
    static int fd = -1;
    if (fd < 0) {
        fd = memfd_create("fuzz_csv", MFD_CLOEXEC);
        if (fd < 0)
            abort();
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        abort(); /* the harness, not the reader, failed */
}

/* Reads every record; returns the status that ended the read, *records how many came. */
static int stream(const struct pk_csv_opts *o, uint64_t *records, struct pk_csv_error *err)
{
    struct pk_csv_reader *r;
    *records = 0;
    int rc = pk_csv_open(path, o, &r, err);
    if (rc != PK_OK)
        return rc;
    size_t ncols = pk_csv_ncols(r);
    for (size_t j = 0; j < ncols; j++)
        if (!pk_csv_name(r, j))
            abort();
    uint64_t last = 0;
    const struct pk_csv_field *f;
    while ((rc = pk_csv_next(r, &f, err)) == PK_OK) {
        uint64_t line = pk_csv_record_line(r);
        if (line <= last || ncols == 0)
            abort();
        last = line;
        for (size_t j = 0; j < ncols; j++) {
            if (f[j].text[f[j].len] != 0 || strlen(f[j].text) != f[j].len || f[j].line < line ||
                !pk_utf8_valid((const unsigned char *)f[j].text, f[j].len, NULL))
                abort();
            double v;
            (void)pk_csv_number(f[j].text, f[j].len, &v);
        }
        (*records)++;
    }
    if (pk_csv_records(r) != *records)
        abort();
    pk_csv_close(r);
    return rc == PK_ECLOSED ? PK_OK : rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    write_input(data, size);
    struct pk_csv_opts o = {.no_header = size > 0 && (data[size - 1] & 1)};
    struct pk_csv_error e1, e2;
    uint64_t records;
    int rc = stream(&o, &records, &e1);
    if (rc != PK_OK && (rc != PK_EINVAL || !e1.reason[0]))
        abort();
    struct pk_csv_stats st;
    int rs = pk_csv_read_stats(path, &o, &st, &e2);
    if (rs != rc || (rc == PK_OK && st.rows != records) ||
        (rc != PK_OK && (e1.line != e2.line || e1.column != e2.column ||
                         strcmp(e1.reason, e2.reason) != 0 || e1.headerless != e2.headerless)))
        abort();
    for (size_t j = 0; rc == PK_OK && j < st.ncols; j++) {
        const struct pk_csv_column *c = &st.col[j];
        if (c->count + c->missing != st.rows || c->distinct.n > c->count ||
            c->distinct.n > PK_CSV_DISTINCT_MAX || (c->type == PK_CSV_EMPTY) != (c->count == 0) ||
            (c->type == PK_CSV_NUMBER && !(c->min <= c->max)) ||
            (c->type == PK_CSV_TEXT && c->text_line == 0))
            abort();
    }
    pk_csv_stats_fini(&st);
    return 0;
}
