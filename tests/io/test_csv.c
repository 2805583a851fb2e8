/* SPDX-License-Identifier: MIT */
/* The CSV reader of io/csv.c (`parkit files` and `parkit transform --input X.csv`): number
 * parsing (the fast path must give strtod's bits), UTF-8 validation, RFC 4180 records (quotes,
 * doubled quotes, line breaks in quotes, BOM) through the record API, whole-column typing with
 * missing values, header-less files, records across and beyond the read block, limits,
 * stopping, and the exact place of every error. Each case writes its own files, in a directory
 * of its own process: ctest runs the cases of this program side by side. */
#include "check.h"
#include "parkit/csv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int case_number_matches_strtod(void)
{
    /* Random decimals of 1..19 digits, point anywhere, exponents -30..30: both the fast path
     * (<= 15 digits, |power| <= 22) and the strtod fallback are hit, and each must give the
     * bits strtod gives for the same text. */
    uint64_t s = 2024;
    char text[64];
    for (int k = 0; k < 300000; k++) {
        uint64_t r = check_next_u64(&s);
        int digits = 1 + (int)(r % 19), point = (int)((r >> 8) % (uint64_t)(digits + 1));
        size_t n = 0;
        if ((r >> 16) & 1)
            text[n++] = (r >> 17) & 1 ? '-' : '+';
        uint64_t d = check_next_u64(&s);
        for (int i = 0; i < digits; i++) {
            if (i == point)
                text[n++] = '.';
            text[n++] = (char)('0' + (d >> (3 * (i % 20))) % 10);
        }
        if ((r >> 20) % 3 == 0)
            n += (size_t)snprintf(text + n, sizeof text - n, "e%d", (int)((r >> 24) % 61) - 30);
        text[n] = 0;
        double got = -1, want = strtod(text, NULL);
        if (!pk_csv_number(text, n, &got)) {
            fprintf(stderr, "rejected '%s'\n", text);
            return 1;
        }
        CHECK_EQ_DBL(got, want);
    }
    return 0;
}

static int case_number_rejects(void)
{
    static const char *bad[] = {"",      " 1", "1 ",  "inf",   "nan", "NaN", "0x10",
                                "1e999", "1e", "--1", "1.2.3", "+",   ".",   "1,0",
                                "1_000", "e5", "-e1", "1e+",   "\t2"};
    double v;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (pk_csv_number(bad[i], strlen(bad[i]), &v)) {
            fprintf(stderr, "accepted '%s'\n", bad[i]);
            return 1;
        }
    }
    CHECK(pk_csv_number("-0", 2, &v) && signbit(v) && v == 0);
    CHECK(pk_csv_number("5.", 2, &v) && v == 5);
    CHECK(pk_csv_number(".5", 2, &v) && v == 0.5);
    CHECK(pk_csv_number("1e-400", 6, &v) && v == 0); /* underflow is finite: accepted */
    return 0;
}

static int case_utf8(void)
{
    static const struct {
        const char *s;
        size_t bad; /* offset of the first invalid byte; SIZE_MAX: valid */
    } t[] = {
        {"plain", SIZE_MAX},
        {"caf\xC3\xA9", SIZE_MAX},
        {"\xE8\x8C\xB6", SIZE_MAX},
        {"\xF0\x9F\x98\x80", SIZE_MAX},
        {"\xF4\x8F\xBF\xBF", SIZE_MAX}, /* U+10FFFF */
        {"a\xC0\x80", 1},               /* overlong NUL */
        {"\xE0\x80\x80", 0},            /* overlong */
        {"ab\xED\xA0\x80", 2},          /* surrogate */
        {"\xF4\x90\x80\x80", 0},        /* above U+10FFFF */
        {"x\xC3", 1},                   /* truncated */
        {"\x80", 0},                    /* lone continuation */
        {"\xE8\x8C(", 0},               /* bad continuation */
        {"\xFF", 0},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        size_t bad = SIZE_MAX;
        bool ok = pk_utf8_valid((const unsigned char *)t[i].s, strlen(t[i].s), &bad);
        if (ok != (t[i].bad == SIZE_MAX) || (!ok && bad != t[i].bad)) {
            fprintf(stderr, "case %zu: valid %d, bad offset %zu, want %zu\n", i, ok, bad, t[i].bad);
            return 1;
        }
    }
    return 0;
}

static int write_file(const char *path, const char *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return 1;
    size_t w = fwrite(data, 1, n, f);
    return fclose(f) != 0 || w != n;
}

static int case_records_across_blocks(void)
{
    /* Rows of varying length cross the 256 KiB read blocks at every offset; one quoted field
     * of 700 KB with line breaks forces the buffer to grow. Integer values keep sums exact. */
    size_t cap = 8u << 20, n = 0;
    char *d = malloc(cap);
    CHECK(d != NULL);
    n += (size_t)sprintf(d + n, "k,\"text\",v\r\n");
    uint64_t rows = 0, sum = 0, lines = 1;
    for (uint64_t i = 0; i < 60000; i++) {
        if (i == 30011) {
            n += (size_t)sprintf(d + n, "%llu,\"", (unsigned long long)i);
            for (int j = 0; j < 700000; j++)
                d[n++] = j % 1000 == 999 ? '\n' : (j % 7 == 0 ? ',' : 'a');
            lines += 700;
            n += (size_t)sprintf(d + n, "\"\"\",%llu\r\n", (unsigned long long)i);
        } else {
            n += (size_t)sprintf(d + n, "%llu,%.*s,%llu\n", (unsigned long long)i, (int)(i % 37),
                                 "abcdefghijklmnopqrstuvwxyz0123456789_", (unsigned long long)i);
        }
        rows++;
        lines++;
        sum += i;
    }
    n += (size_t)sprintf(d + n, "x,y\n"); /* first error: line lines + 1, column 3 missing */
    CHECK_OK(write_file("test_csv_blocks.csv", d, n));
    free(d);
    struct pk_csv_stats st;
    struct pk_csv_error err;
    CHECK_EQ_INT(pk_csv_read_stats("test_csv_blocks.csv", NULL, &st, &err), PK_EINVAL);
    CHECK_EQ_INT(err.line, lines + 1);
    CHECK_EQ_INT(err.column, 3);
    CHECK(strstr(err.reason, "row has 2 fields, the header 3: column 'v' missing") != NULL);
    CHECK_EQ_INT(st.rows, rows);
    CHECK_EQ_INT(st.ncols, 3);
    CHECK(strcmp(st.col[1].name, "text") == 0 && st.col[1].type == PK_CSV_TEXT);
    CHECK_EQ_INT(st.col[0].type, PK_CSV_NUMBER);
    CHECK_EQ_INT(st.col[2].count, rows);
    CHECK_EQ_DBL(pk_xacc_round(&st.col[2].sum), (double)sum);
    CHECK_EQ_DBL(st.col[2].max, 59999.0);
    pk_csv_stats_fini(&st);
    remove("test_csv_blocks.csv");
    return 0;
}

static int case_record_too_long(void)
{
    size_t n = PK_CSV_MAX_RECORD + 100;
    char *d = malloc(n);
    CHECK(d != NULL);
    memcpy(d, "a\n", 2);
    memset(d + 2, '7', n - 2);
    CHECK_OK(write_file("test_csv_long.csv", d, n));
    free(d);
    struct pk_csv_stats st;
    struct pk_csv_error err;
    CHECK_EQ_INT(pk_csv_read_stats("test_csv_long.csv", NULL, &st, &err), PK_EINVAL);
    CHECK_EQ_INT(err.line, 2);
    CHECK(strstr(err.reason, "record longer than 16 MiB") != NULL);
    pk_csv_stats_fini(&st);
    remove("test_csv_long.csv");
    return 0;
}

static bool stop_now(void *ctx)
{
    (*(int *)ctx)++;
    return true;
}

static int case_stop_and_canary(void)
{
    char d[4096];
    size_t n = (size_t)sprintf(d, "v\n");
    for (int i = 1; i <= 600; i++)
        n += (size_t)sprintf(d + n, "%d\n", i);
    CHECK_OK(write_file("test_csv_stop.csv", d, n));
    int polls = 0;
    struct pk_csv_opts o = {.stop = stop_now, .stop_ctx = &polls};
    struct pk_csv_stats st;
    struct pk_csv_error err;
    CHECK_EQ_INT(pk_csv_read_stats("test_csv_stop.csv", &o, &st, &err), PK_ECANCELED);
    CHECK_EQ_INT(polls, 1);
    CHECK(st.rows <= PK_CSV_POLL_ROWS);
    pk_csv_stats_fini(&st);
    o = (struct pk_csv_opts){.canary_row = 1};
    CHECK_OK(pk_csv_read_stats("test_csv_stop.csv", &o, &st, &err));
    CHECK_EQ_INT(st.rows, 599);
    CHECK_EQ_DBL(pk_xacc_round(&st.col[0].sum), 600.0 * 601 / 2 - 1);
    CHECK_EQ_DBL(st.col[0].min, 2.0);
    pk_csv_stats_fini(&st);
    remove("test_csv_stop.csv");
    return 0;
}

static int case_empty_and_header_only(void)
{
    struct pk_csv_stats st;
    struct pk_csv_error err;
    CHECK_OK(write_file("test_csv_empty.csv", "", 0));
    CHECK_EQ_INT(pk_csv_read_stats("test_csv_empty.csv", NULL, &st, &err), PK_EINVAL);
    CHECK(strstr(err.reason, "no header") != NULL);
    pk_csv_stats_fini(&st);
    CHECK_OK(write_file("test_csv_empty.csv", "a,\"b,c\"", 7));
    CHECK_OK(pk_csv_read_stats("test_csv_empty.csv", NULL, &st, &err));
    CHECK_EQ_INT(st.rows, 0);
    CHECK_EQ_INT(st.ncols, 2);
    CHECK(strcmp(st.col[1].name, "b,c") == 0 && st.col[1].type == PK_CSV_EMPTY);
    pk_csv_stats_fini(&st);
    remove("test_csv_empty.csv");
    CHECK_EQ_INT(pk_csv_read_stats("no/such.csv", NULL, &st, &err), PK_EIO);
    CHECK_EQ_INT(err.line, 0);
    CHECK(strstr(err.reason, "cannot open: No such file") != NULL);
    return 0;
}

/* Reads path whole with the record API: fields of every record joined as "a|b|c;" into out
 * (size cap), so a case can compare one string. Returns the status of the last call. */
static int read_all(const char *path, const struct pk_csv_opts *o, char *out, size_t cap,
                    struct pk_csv_error *err)
{
    struct pk_csv_reader *r;
    int rc = pk_csv_open(path, o, &r, err);
    if (rc != PK_OK)
        return rc;
    size_t n = 0;
    out[0] = 0;
    for (size_t j = 0; j < pk_csv_ncols(r); j++)
        n += (size_t)snprintf(out + n, cap - n, "%s%s", j ? "|" : "", pk_csv_name(r, j));
    n += (size_t)snprintf(out + n, cap - n, ";");
    const struct pk_csv_field *f;
    while ((rc = pk_csv_next(r, &f, err)) == PK_OK) {
        for (size_t j = 0; j < pk_csv_ncols(r); j++) {
            if (strlen(f[j].text) != f[j].len) /* NUL-terminated at len, no NUL inside */
                return -100;
            n += (size_t)snprintf(out + n, cap - n, "%s%s", j ? "|" : "", f[j].text);
        }
        n += (size_t)snprintf(out + n, cap - n, ";");
    }
    pk_csv_close(r);
    return rc == PK_ECLOSED ? PK_OK : rc;
}

static int case_rfc4180_fields(void)
{
    /* BOM, CRLF, a quoted comma, doubled quotes, LF and CRLF inside quotes, an empty quoted
     * field, a quoted header, no final line break */
    static const char d[] = "\xEF\xBB\xBF"
                            "name,\"qty\",price\r\n"
                            "\"Smith, J\",3,4.5\r\n"
                            "\"12\"\" pipe\",\"\",\"\"\"\"\n"
                            "\"two\nlines\",\"crlf\r\ninside\",7\r\n"
                            "last,1,2";
    CHECK_OK(write_file("test_csv_rfc.csv", d, sizeof d - 1));
    char got[512];
    struct pk_csv_error err;
    CHECK_OK(read_all("test_csv_rfc.csv", NULL, got, sizeof got, &err));
    const char *want = "name|qty|price;Smith, J|3|4.5;12\" pipe||\";two\nlines|crlf\r\ninside|7;"
                       "last|1|2;";
    if (strcmp(got, want) != 0) {
        fprintf(stderr, "got  '%s'\nwant '%s'\n", got, want);
        return 1;
    }
    /* field lines: a record spanning lines 4-6 starts on 4; the one after it on 7 */
    struct pk_csv_reader *r;
    CHECK_OK(pk_csv_open("test_csv_rfc.csv", NULL, &r, &err));
    const struct pk_csv_field *f;
    for (int i = 0; i < 3; i++)
        CHECK_OK(pk_csv_next(r, &f, &err));
    CHECK_EQ_INT(pk_csv_record_line(r), 4);
    CHECK_EQ_INT(f[0].line, 4);
    CHECK_EQ_INT(f[1].line, 5);
    CHECK_EQ_INT(f[2].line, 6);
    CHECK_OK(pk_csv_next(r, &f, &err));
    CHECK_EQ_INT(pk_csv_record_line(r), 7);
    CHECK_EQ_INT(pk_csv_next(r, &f, &err), PK_ECLOSED);
    CHECK_EQ_INT(pk_csv_records(r), 4);
    pk_csv_close(r);
    /* the statistics of the same file: qty has a missing value and text on line 5 (where its
     * field starts), price a text value (") on line 3 */
    struct pk_csv_stats st;
    CHECK_OK(pk_csv_read_stats("test_csv_rfc.csv", NULL, &st, &err));
    CHECK_EQ_INT(st.rows, 4);
    CHECK_EQ_INT(st.col[1].type, PK_CSV_TEXT);
    CHECK_EQ_INT(st.col[1].count, 3);
    CHECK_EQ_INT(st.col[1].missing, 1);
    CHECK_EQ_INT(st.col[1].text_line, 5);
    CHECK(strcmp(st.col[1].text_value, "crlf\r\ninside") == 0);
    CHECK_EQ_INT(st.col[2].type, PK_CSV_TEXT);
    CHECK_EQ_INT(st.col[2].text_line, 3);
    CHECK(strcmp(st.col[2].text_value, "\"") == 0);
    pk_csv_stats_fini(&st);
    remove("test_csv_rfc.csv");
    return 0;
}

/* Writes data and reads its statistics; returns the reader's status. */
static int stats_of(const char *data, const struct pk_csv_opts *o, struct pk_csv_stats *st,
                    struct pk_csv_error *err)
{
    if (write_file("test_csv_case.csv", data, strlen(data)) != 0)
        return -100;
    int rc = pk_csv_read_stats("test_csv_case.csv", o, st, err);
    remove("test_csv_case.csv");
    return rc;
}

static int case_missing_values(void)
{
    /* empty fields are missing values: counted per column, never an error, never a type */
    struct pk_csv_stats st;
    struct pk_csv_error err;
    CHECK_OK(stats_of("a,b,c,d\n1.5,,x,\n,2,,\n-3,4,y,\n", NULL, &st, &err));
    CHECK_EQ_INT(st.rows, 3);
    CHECK_EQ_INT(st.col[0].type, PK_CSV_NUMBER);
    CHECK_EQ_INT(st.col[0].count, 2);
    CHECK_EQ_INT(st.col[0].missing, 1);
    CHECK_EQ_DBL(pk_xacc_round(&st.col[0].sum), -1.5);
    CHECK_EQ_DBL(st.col[0].min, -3.0);
    CHECK_EQ_DBL(st.col[0].max, 1.5);
    CHECK_EQ_INT(st.col[1].type, PK_CSV_NUMBER);
    CHECK_EQ_INT(st.col[1].missing, 1);
    CHECK_EQ_DBL(st.col[1].min, 2.0);
    CHECK_EQ_INT(st.col[2].type, PK_CSV_TEXT);
    CHECK_EQ_INT(st.col[2].count, 2);
    CHECK_EQ_INT(st.col[2].missing, 1);
    CHECK_EQ_INT(st.col[2].distinct.n, 2);
    CHECK_EQ_INT(st.col[3].type, PK_CSV_EMPTY); /* every field empty */
    CHECK_EQ_INT(st.col[3].missing, 3);
    pk_csv_stats_fini(&st);
    /* a one-column file: an empty line is a missing value */
    CHECK_OK(stats_of("v\n1\n\n2\n", NULL, &st, &err));
    CHECK_EQ_INT(st.rows, 3);
    CHECK_EQ_INT(st.col[0].missing, 1);
    CHECK_EQ_INT(st.col[0].type, PK_CSV_NUMBER);
    pk_csv_stats_fini(&st);
    return 0;
}

static int case_mixed_types(void)
{
    /* 1000 numbers, then text: the column is text, decided over the whole column, and says
     * where its first non-number is; inf, nan and hex are text as well */
    size_t cap = 64 << 10, n = 0;
    char *d = malloc(cap);
    CHECK(d != NULL);
    n += (size_t)sprintf(d + n, "id,v,w,x,y\n");
    for (int i = 0; i < 1000; i++)
        n += (size_t)sprintf(d + n, "%d,%d.25,1,2,3\n", i, i);
    sprintf(d + n, "1000,n/a,inf,nan,0x10\n1001,7,1,2,3\n");
    struct pk_csv_stats st;
    struct pk_csv_error err;
    int rc = stats_of(d, NULL, &st, &err);
    free(d);
    CHECK_OK(rc);
    CHECK_EQ_INT(st.rows, 1002);
    CHECK_EQ_INT(st.col[0].type, PK_CSV_NUMBER);
    for (size_t j = 1; j < 5; j++) {
        CHECK_EQ_INT(st.col[j].type, PK_CSV_TEXT);
        CHECK_EQ_INT(st.col[j].count, 1002);
        CHECK_EQ_INT(st.col[j].text_line, 1002);
    }
    CHECK(strcmp(st.col[1].text_value, "n/a") == 0);
    CHECK(strcmp(st.col[2].text_value, "inf") == 0);
    CHECK(strcmp(st.col[3].text_value, "nan") == 0);
    CHECK(strcmp(st.col[4].text_value, "0x10") == 0);
    CHECK_EQ_INT(st.col[1].distinct.n, 1000); /* 1002 different texts: past the cap */
    CHECK(st.col[1].distinct.more);
    CHECK_EQ_INT(st.col[2].distinct.n, 2); /* "1" and "inf" */
    CHECK(!st.col[2].distinct.more);
    pk_csv_stats_fini(&st);
    return 0;
}

static int case_distinct_merge(void)
{
    struct pk_csv_distinct a = {0}, b = {0};
    for (int i = 0; i < 600; i++) {
        char t[16];
        int n = snprintf(t, sizeof t, "v%d", i);
        CHECK_OK(pk_csv_distinct_add(&a, pk_csv_hash(t, (size_t)n)));
        n = snprintf(t, sizeof t, "v%d", i + 300); /* overlaps a by 300 */
        CHECK_OK(pk_csv_distinct_add(&b, pk_csv_hash(t, (size_t)n)));
        CHECK_OK(pk_csv_distinct_add(&b, pk_csv_hash(t, (size_t)n)));
    }
    CHECK_EQ_INT(a.n, 600);
    CHECK_EQ_INT(b.n, 600);
    CHECK_OK(pk_csv_distinct_merge(&a, &b));
    CHECK_EQ_INT(a.n, 900);
    CHECK(!a.more);
    struct pk_csv_distinct c = {0};
    for (int i = 0; i < 200; i++) {
        char t[16];
        int n = snprintf(t, sizeof t, "w%d", i);
        CHECK_OK(pk_csv_distinct_add(&c, pk_csv_hash(t, (size_t)n)));
    }
    CHECK_OK(pk_csv_distinct_merge(&c, &a)); /* 1100 of them: past the cap */
    CHECK(c.more && c.n == PK_CSV_DISTINCT_MAX);
    CHECK_OK(pk_csv_distinct_merge(&b, &c)); /* more is inherited */
    CHECK(b.more);
    pk_csv_distinct_fini(&c);
    pk_csv_distinct_fini(&a);
    pk_csv_distinct_fini(&b);
    CHECK(pk_csv_hash("", 0) != 0 && pk_csv_hash("ab", 2) != pk_csv_hash("ba", 2));
    return 0;
}

static int case_ragged_rows(void)
{
    struct pk_csv_stats st;
    struct pk_csv_error err;
    CHECK_EQ_INT(stats_of("a,b,c\n1,2,3\n\"x\ny\",5\n", NULL, &st, &err), PK_EINVAL);
    CHECK_EQ_INT(err.line, 4); /* the record starts on line 3; its last field on line 4 */
    CHECK_EQ_INT(err.column, 3);
    CHECK(strstr(err.reason, "row has 2 fields, the header 3: column 'c' missing") != NULL);
    CHECK_EQ_INT(st.rows, 1);
    pk_csv_stats_fini(&st);
    CHECK_EQ_INT(stats_of("a,b\n1,2\n3,4,5,6\n", NULL, &st, &err), PK_EINVAL);
    CHECK_EQ_INT(err.line, 3);
    CHECK_EQ_INT(err.column, 3);
    CHECK(strstr(err.reason, "row has more than 2 fields, the header 2") != NULL);
    pk_csv_stats_fini(&st);
    /* a line of commas stops at the first extra field, whatever its length */
    CHECK_EQ_INT(stats_of("a\n,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,\n", NULL, &st, &err),
                 PK_EINVAL);
    CHECK_EQ_INT(err.column, 2);
    pk_csv_stats_fini(&st);
    return 0;
}

static int case_quote_errors(void)
{
    static const struct {
        const char *data;
        uint64_t line;
        size_t column;
        const char *reason;
    } t[] = {
        {"a,b\n1,\"open\n2,3\n", 2, 2, "quoted field in column 'b' never closed"},
        {"a,b\n1,\"x\"y\n", 2, 2, "text after the closing quote in column 'b'"},
        {"a,b\n1,x\"y\n", 2, 2, "quote inside an unquoted field in column 'b'"},
        {"a,b\n1,\"\xC3\"\n", 2, 2, "invalid UTF-8 (byte 0xC3 at offset 0) in column 'b'"},
        {"a,b\n\"l1\nl2\",\"ok\n\xFF\"\n", 3, 2, "invalid UTF-8 (byte 0xFF at offset 3)"},
        {"a,\xE9t\xE9\n1,2\n", 1, 2, "invalid UTF-8 (byte 0xE9 at offset 0) in column '?'"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct pk_csv_stats st;
        struct pk_csv_error err;
        int rc = stats_of(t[i].data, NULL, &st, &err);
        pk_csv_stats_fini(&st);
        if (rc != PK_EINVAL || err.line != t[i].line || err.column != t[i].column ||
            !strstr(err.reason, t[i].reason)) {
            fprintf(stderr, "case %zu: rc %d at %llu:%zu '%s', want '%s' at %llu:%zu\n", i, rc,
                    (unsigned long long)err.line, err.column, err.reason, t[i].reason,
                    (unsigned long long)t[i].line, t[i].column);
            return 1;
        }
    }
    return 0;
}

static int case_nul_byte(void)
{
    /* NUL in an unquoted and in a quoted field (strlen cannot be used to write these) */
    static const char plain[] = "a,b\n1,2\n3,x\0y\n";
    static const char quoted[] = "a,b\n1,\"x\n\0\"\n";
    struct pk_csv_stats st;
    struct pk_csv_error err;
    CHECK_OK(write_file("test_csv_nul.csv", plain, sizeof plain - 1));
    CHECK_EQ_INT(pk_csv_read_stats("test_csv_nul.csv", NULL, &st, &err), PK_EINVAL);
    CHECK_EQ_INT(err.line, 3);
    CHECK_EQ_INT(err.column, 2);
    CHECK(strstr(err.reason, "NUL byte in column 'b'") != NULL);
    pk_csv_stats_fini(&st);
    CHECK_OK(write_file("test_csv_nul.csv", quoted, sizeof quoted - 1));
    CHECK_EQ_INT(pk_csv_read_stats("test_csv_nul.csv", NULL, &st, &err), PK_EINVAL);
    CHECK_EQ_INT(err.line, 3);
    CHECK_EQ_INT(err.column, 2);
    pk_csv_stats_fini(&st);
    remove("test_csv_nul.csv");
    return 0;
}

static int case_big_field(void)
{
    /* a 10 MB quoted field (commas, quotes and line breaks inside) between two numbers: read
     * whole, unquoted, and the row after it still numbered right */
    size_t big = 10u << 20, cap = 2 * big + 64, n = 0;
    char *d = malloc(cap);
    CHECK(d != NULL);
    n += (size_t)sprintf(d + n, "a,text,b\n1,\"");
    size_t want_len = 0, lines = 0;
    for (size_t i = 0; i < big; i++) {
        char c = i % 4099 == 0 ? '\n' : i % 101 == 0 ? '"' : i % 7 == 0 ? ',' : 'z';
        d[n++] = c;
        if (c == '"')
            d[n++] = '"';
        lines += c == '\n';
        want_len++;
    }
    n += (size_t)sprintf(d + n, "\",2\n3,short,4\n");
    CHECK_OK(write_file("test_csv_big.csv", d, n));
    free(d);
    struct pk_csv_reader *r;
    struct pk_csv_error err;
    CHECK_OK(pk_csv_open("test_csv_big.csv", NULL, &r, &err));
    const struct pk_csv_field *f;
    CHECK_OK(pk_csv_next(r, &f, &err));
    CHECK_EQ_INT(f[1].len, want_len);
    CHECK(f[1].text[0] == '\n' && f[1].text[101] == '"' && f[1].text[7] == ',');
    CHECK(strcmp(f[2].text, "2") == 0);
    CHECK_OK(pk_csv_next(r, &f, &err));
    CHECK_EQ_INT(pk_csv_record_line(r), 3 + lines);
    CHECK(strcmp(f[1].text, "short") == 0);
    pk_csv_close(r);
    remove("test_csv_big.csv");
    return 0;
}

static int case_no_header(void)
{
    /* a first row of numbers only is refused as a header, and read as data with no_header */
    static const char data[] = "1,2.5\n3,\n5,6\n";
    struct pk_csv_stats st;
    struct pk_csv_error err;
    CHECK_EQ_INT(stats_of(data, NULL, &st, &err), PK_EINVAL);
    CHECK(err.headerless);
    CHECK_EQ_INT(err.line, 1);
    CHECK(strstr(err.reason, "seems to have no header; use --no-header") != NULL);
    pk_csv_stats_fini(&st);
    struct pk_csv_opts o = {.no_header = true};
    CHECK_OK(stats_of(data, &o, &st, &err));
    CHECK(!err.headerless);
    CHECK_EQ_INT(st.rows, 3);
    CHECK_EQ_INT(st.ncols, 2);
    CHECK(strcmp(st.col[0].name, "1") == 0 && strcmp(st.col[1].name, "2") == 0);
    CHECK_EQ_DBL(pk_xacc_round(&st.col[0].sum), 9.0);
    CHECK_EQ_DBL(pk_xacc_round(&st.col[1].sum), 8.5);
    CHECK_EQ_INT(st.col[1].missing, 1);
    pk_csv_stats_fini(&st);
    /* a header with one name among numbers, or an empty name, is a header */
    CHECK_OK(stats_of("1,x\n2,3\n", NULL, &st, &err));
    CHECK_EQ_INT(st.rows, 1);
    pk_csv_stats_fini(&st);
    CHECK_OK(stats_of("a,,c\n1,2,3\n", NULL, &st, &err));
    CHECK(strcmp(st.col[1].name, "") == 0 && strcmp(st.col[2].name, "c") == 0);
    CHECK_EQ_DBL(pk_xacc_round(&st.col[2].sum), 3.0);
    pk_csv_stats_fini(&st);
    /* with no_header, rows of another width than the first are ragged */
    CHECK_EQ_INT(stats_of("1,2\n3\n", &o, &st, &err), PK_EINVAL);
    CHECK_EQ_INT(err.line, 2);
    CHECK(strstr(err.reason, "row has 1 field, the first row 2: column '2' missing") != NULL);
    pk_csv_stats_fini(&st);
    CHECK_OK(stats_of("", &o, &st, &err)); /* nothing at all: no columns, no rows */
    CHECK_EQ_INT(st.ncols, 0);
    CHECK_EQ_INT(st.rows, 0);
    pk_csv_stats_fini(&st);
    return 0;
}

static const struct check_case cases[] = {
    {"number_matches_strtod", case_number_matches_strtod},
    {"number_rejects", case_number_rejects},
    {"utf8", case_utf8},
    {"records_across_blocks", case_records_across_blocks},
    {"record_too_long", case_record_too_long},
    {"stop_and_canary", case_stop_and_canary},
    {"empty_and_header_only", case_empty_and_header_only},
    {"rfc4180_fields", case_rfc4180_fields},
    {"missing_values", case_missing_values},
    {"mixed_types", case_mixed_types},
    {"distinct_merge", case_distinct_merge},
    {"ragged_rows", case_ragged_rows},
    {"quote_errors", case_quote_errors},
    {"nul_byte", case_nul_byte},
    {"big_field", case_big_field},
    {"no_header", case_no_header},
};

int main(int argc, char **argv)
{
    char dir[] = "test_csv.XXXXXX";
    if (!mkdtemp(dir) || chdir(dir) != 0) {
        perror("test_csv: scratch directory");
        return 1;
    }
    int rc = CHECK_MAIN(cases);
    if (chdir("..") != 0 || rmdir(dir) != 0)
        fprintf(stderr, "test_csv: %s left behind (a case failed before removing its file)\n", dir);
    return rc;
}
