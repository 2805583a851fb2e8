/* SPDX-License-Identifier: MIT */
/* Count parsing: every accepted spelling, every rejected one with its message. */
#include "check.h"
#include "cli.h"

static int accepts(const char *text, uint64_t want)
{
    uint64_t got = 1;
    struct pk_err err = {0};
    if (pk_parse_count("-n", text, 0, UINT64_MAX, &got, &err) != PK_OK) {
        fprintf(stderr, "'%s' rejected: %s\n", text, err.msg);
        return 0;
    }
    if (got != want)
        fprintf(stderr, "'%s' gave %llu, want %llu\n", text, (unsigned long long)got,
                (unsigned long long)want);
    return got == want;
}

/* Rejected with a message that names the option and the value. */
static int rejects(const char *text)
{
    uint64_t got;
    struct pk_err err = {0};
    if (pk_parse_count("--gauss", text, 0, UINT64_MAX, &got, &err) != PK_EINVAL)
        return 0;
    return strstr(err.msg, "--gauss") && strstr(err.msg, text) && got == 0;
}

static int case_accepts_spellings(void)
{
    CHECK(accepts("0", 0));
    CHECK(accepts("1000000", 1000000));
    CHECK(accepts("1e6", 1000000));
    CHECK(accepts("1E6", 1000000));
    CHECK(accepts("1e+6", 1000000));
    CHECK(accepts("1.5e3", 1500));
    CHECK(accepts("2.50e1", 25));
    CHECK(accepts("2^20", 1048576));
    CHECK(accepts("10^0", 1));
    CHECK(accepts("2^63", UINT64_C(1) << 63));
    CHECK(accepts("18446744073709551615", UINT64_MAX));
    CHECK(accepts("1.8e19", UINT64_C(18000000000000000000)));
    CHECK(accepts("120e-1", 12));
    CHECK(accepts("0^5", 0));
    CHECK(accepts("0^0", 1));
    CHECK(accepts("1^99999", 1));
    CHECK(accepts("1.", 1));
    CHECK(accepts("5.e2", 500));
    return 0;
}

static int case_rejects_junk(void)
{
    static const char *bad[] = {"",
                                "abc",
                                "-5",
                                "+5",
                                "1.5",
                                "1e-3",
                                "1e40",
                                "2^64",
                                "1e",
                                "2^",
                                "12x",
                                " 12",
                                "0x10",
                                "1..2",
                                "18446744073709551616",
                                "99999999999999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (!rejects(bad[i])) {
            fprintf(stderr, "accepted or bad message for '%s'\n", bad[i]);
            return 1;
        }
    }
    return 0;
}

static int case_limits(void)
{
    uint64_t v;
    struct pk_err err = {0};
    CHECK_EQ_INT(pk_parse_count("--threads", "0", 1, 64, &v, &err), PK_EINVAL);
    CHECK(strstr(err.msg, "at least 1") != NULL);
    CHECK_EQ_INT(pk_parse_count("--threads", "65", 1, 64, &v, &err), PK_EINVAL);
    CHECK(strstr(err.msg, "at most 64") != NULL);
    CHECK_OK(pk_parse_count("--threads", "64", 1, 64, &v, &err));
    CHECK_EQ_INT(v, 64);
    return 0;
}

static const struct check_case cases[] = {
    {"accepts_spellings", case_accepts_spellings},
    {"rejects_junk", case_rejects_junk},
    {"limits", case_limits},
};

int main(int argc, char **argv)
{
    return CHECK_MAIN(cases);
}
