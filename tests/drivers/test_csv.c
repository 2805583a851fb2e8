/* SPDX-License-Identifier: MIT */
/* The strict CSV reader of `parkit files`: number parsing (the fast path must give strtod's
 * bits), UTF-8 validation, records across and beyond the read block, limits and stopping. */
#include "check.h"
#include "csv.h"

#include <stdlib.h>
#include <string.h>

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
    n += (size_t)sprintf(d + n, "x,y,oops\n"); /* first error: line lines + 1, column 1 */
    CHECK_OK(write_file("test_csv_blocks.csv", d, n));
    free(d);
    struct pk_csv_stats st;
    struct pk_csv_error err;
    CHECK_EQ_INT(pk_csv_read_stats("test_csv_blocks.csv", NULL, &st, &err), PK_EINVAL);
    CHECK_EQ_INT(err.line, lines + 1);
    CHECK_EQ_INT(err.column, 1);
    CHECK(strstr(err.reason, "bad number 'x' in column 'k'") != NULL);
    CHECK_EQ_INT(st.rows, rows + 1);
    CHECK_EQ_INT(st.ncols, 3);
    CHECK(strcmp(st.col[1].name, "text") == 0);
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

static const struct check_case cases[] = {
    {"number_matches_strtod", case_number_matches_strtod},
    {"number_rejects", case_number_rejects},
    {"utf8", case_utf8},
    {"records_across_blocks", case_records_across_blocks},
    {"record_too_long", case_record_too_long},
    {"stop_and_canary", case_stop_and_canary},
    {"empty_and_header_only", case_empty_and_header_only},
};

int main(int argc, char **argv)
{
    return CHECK_MAIN(cases);
}
