/* SPDX-License-Identifier: MIT */
/* pk_http_file_names: fetch's file names for URLs, against a naive quadratic oracle, and at
 * 100,000 equal names (the old search was cubic: 4,000 took 35 s; under the test's timeout
 * only a linear one finishes). */
#include "check.h"
#include "parkit/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void free_names(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

/* The rule written the slow, obvious way: base, then base.1, base.2, ... until unused. */
static char *oracle_name(char **given, size_t i, const char *base)
{
    char name[300];
    snprintf(name, sizeof name, "%s", base);
    for (unsigned k = 1;; k++) {
        size_t j = 0;
        while (j < i && strcmp(given[j], name) != 0)
            j++;
        if (j == i)
            return strdup(name);
        snprintf(name, sizeof name, "%s.%u", base, k);
    }
}

static int case_equal_segments_100k(void)
{
    enum { N = 100000 };
    char **urls = calloc(N, sizeof *urls);
    CHECK(urls != NULL);
    for (size_t i = 0; i < N; i++) {
        char u[64];
        snprintf(u, sizeof u, "http://h%zu.example/d/%zu/same.csv?q=%zu", i % 7, i, i);
        urls[i] = strdup(u);
        CHECK(urls[i] != NULL);
    }
    char **names = NULL;
    size_t cut = 99;
    CHECK_OK(pk_http_file_names(urls, N, &names, &cut, NULL));
    CHECK_EQ_INT(cut, 0);
    CHECK(strcmp(names[0], "same.csv") == 0);
    for (size_t i = 1; i < N; i++) {
        char want[64];
        snprintf(want, sizeof want, "same.csv.%zu", i);
        CHECK(strcmp(names[i], want) == 0);
    }
    free_names(names, N);
    free_names(urls, N);
    return 0;
}

static int case_matches_oracle(void)
{
    /* few distinct segments, some of them already of the form base.K: every kind of clash */
    static const char *const segs[] = {"a", "a.1", "a.2", "a.1.1", "b", "", "a.10", "b.1"};
    enum { N = 1201 };
    char **urls = calloc(N, sizeof *urls), **want = calloc(N, sizeof *want);
    CHECK(urls && want);
    unsigned x = 12345;
    for (size_t i = 0; i < N; i++) {
        x = x * 1103515245u + 12345u;
        const char *seg = segs[(x >> 16) % (sizeof segs / sizeof segs[0])];
        char u[64];
        snprintf(u, sizeof u, "https://example.org/p/%s", seg);
        urls[i] = strdup(u);
        want[i] = oracle_name(want, i, *seg ? seg : "index.html");
        CHECK(urls[i] && want[i]);
    }
    char **names = NULL;
    CHECK_OK(pk_http_file_names(urls, N, &names, NULL, NULL));
    for (size_t i = 0; i < N; i++)
        if (strcmp(names[i], want[i]) != 0) {
            fprintf(stderr, "url %zu (%s): got '%s', want '%s'\n", i, urls[i], names[i], want[i]);
            return 1;
        }
    free_names(names, N);
    free_names(want, N);
    free_names(urls, N);
    return 0;
}

static int case_long_and_odd(void)
{
    char long_ascii[400] = "http://h/x/", long_utf8[400] = "http://h/y/z";
    memset(long_ascii + strlen(long_ascii), 'k', 300);
    for (int i = 0; i < 150; i++)
        strcat(long_utf8, "\xc3\xa9"); /* 2 bytes each, after one 'z': 200 would split one */
    char *urls[] = {long_ascii,
                    long_utf8,
                    "http://h/",
                    "http://h",
                    "http://h/.hidden",
                    "http://h/a\x01"
                    "b#frag",
                    long_ascii};
    size_t n = sizeof urls / sizeof urls[0], cut = 0;
    char **names = NULL;
    CHECK_OK(pk_http_file_names(urls, n, &names, &cut, NULL));
    CHECK_EQ_INT(cut, 3);
    CHECK_EQ_INT(strlen(names[0]), PK_HTTP_NAME_MAX);
    CHECK(strspn(names[0], "k") == PK_HTTP_NAME_MAX);
    CHECK_EQ_INT(strlen(names[1]), PK_HTTP_NAME_MAX - 1); /* never half a character */
    CHECK(strcmp(names[2], "index.html") == 0);
    CHECK(strcmp(names[3], "index.html.1") == 0);
    CHECK(strcmp(names[4], "_hidden") == 0);
    CHECK(strcmp(names[5], "a_b") == 0);
    CHECK(strncmp(names[6], names[0], PK_HTTP_NAME_MAX) == 0 && strcmp(names[6] + 200, ".1") == 0);
    free_names(names, n);
    CHECK_OK(pk_http_file_names(urls, 0, &names, &cut, NULL));
    CHECK_EQ_INT(cut, 0);
    free(names);
    return 0;
}

static const struct check_case cases[] = {
    {"equal_segments_100k", case_equal_segments_100k},
    {"matches_oracle", case_matches_oracle},
    {"long_and_odd", case_long_and_odd},
};

int main(int argc, char **argv)
{
    return CHECK_MAIN(cases);
}
