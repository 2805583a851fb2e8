/* SPDX-License-Identifier: MIT */
/* The option parser of drivers/common/opt.h on a table with every kind: GNU spellings, limits,
 * groups, tags, shared options opted into or refused, operands, the rest after "--", counts
 * operands, and --help generated from the table. Errors go to stderr (c is NULL: one process). */
#include "check.h"
#include "opt.h"

#include <stdlib.h>

enum { V_A, V_B };

struct opts {
    bool flag;
    uint64_t count, size;
    int n, choice, variant;
    double real, secs;
    struct pk_count_list list;
    const char *name;
    struct pk_common_opts common;
};

static const char *const choices[] = {"red", "green", "blue", NULL};

static int parse_with(struct opts *o, struct pk_args *args, unsigned shared, const char *rest,
                      char **argv, int argc)
{
    *o = (struct opts){.count = 7};
    const struct pk_opt table[] = {
        {"flag", 'f', PK_OPT_FLAG, &o->flag, NULL, "a flag"},
        {"count", 'c', PK_OPT_COUNT, &o->count, "N", "a count", .min = 1, .max = 1000},
        {"int", 0, PK_OPT_INT, &o->n, "I", "an int"},
        {"real", 0, PK_OPT_REAL, &o->real, "X", "a real", .rmin = -1, .rmax = 1},
        {"secs", 0, PK_OPT_SECONDS, &o->secs, "S", "seconds", .rmax = 3600},
        {"size", 0, PK_OPT_SIZE, &o->size, "B", "bytes"},
        {"color", 0, PK_OPT_ENUM, &o->choice, "C", "a color", .choices = choices},
        {"list", 'l', PK_OPT_LIST, &o->list, "L", "counts", .min = 1},
        {"name", 0, PK_OPT_STRING, &o->name, "S", "a name"},
        {"alpha", 0, PK_OPT_FLAG, &o->flag, NULL, "variant a", .tag = &o->variant,
         .tag_value = V_A, .group = 1},
        {"beta", 0, PK_OPT_FLAG, &o->flag, NULL, "variant b", .tag = &o->variant,
         .tag_value = V_B, .group = 1},
        {NULL},
    };
    const struct pk_cmd_spec spec = {.name = "t", .summary = "test", .opts = table,
                                     .shared = shared, .operands = "X", .rest = rest};
    return pk_opts_parse(&spec, NULL, argc, argv, &o->common, args);
}

#define PARSE(o, a, shared, rest, ...)                                                             \
    parse_with(o, a, shared, rest, (char *[]){"t", __VA_ARGS__, NULL},                              \
               (int)(sizeof((char *[]){"t", __VA_ARGS__}) / sizeof(char *)))

static int case_kinds(void)
{
    struct opts o;
    struct pk_args a;
    CHECK_EQ_INT(PARSE(&o, &a, 0, NULL, "-f", "--count=1e3", "--int", "2^4", "--real", "-0.5",
                       "--secs", "250ms", "--size", "8MiB", "--color", "blue", "-l1,2,3",
                       "--name", "x y", "op1", "--beta", "op2"),
                 PK_EXIT_OK);
    CHECK(o.flag && o.count == 1000 && o.n == 16 && o.real == -0.5 && o.secs == 0.25);
    CHECK(o.size == 8u << 20 && o.choice == 2 && o.variant == V_B && strcmp(o.name, "x y") == 0);
    CHECK(o.list.n == 3 && o.list.v[0] == 1 && o.list.v[2] == 3);
    CHECK(a.noperands == 2 && strcmp(a.operand[0], "op1") == 0 && strcmp(a.operand[1], "op2") == 0);
    pk_count_list_free(&o.list);
    pk_args_free(&a);
    return 0;
}

static int case_errors(void)
{
    struct opts o;
    CHECK_EQ_INT(PARSE(&o, NULL, 0, NULL, "--count", "0"), PK_EXIT_USAGE);   /* below min */
    CHECK_EQ_INT(PARSE(&o, NULL, 0, NULL, "--count", "1001"), PK_EXIT_USAGE); /* above max */
    CHECK_EQ_INT(PARSE(&o, NULL, 0, NULL, "--real", "inf"), PK_EXIT_USAGE);
    CHECK_EQ_INT(PARSE(&o, NULL, 0, NULL, "--real", "0x1p-1"), PK_EXIT_USAGE);
    CHECK_EQ_INT(PARSE(&o, NULL, 0, NULL, "--secs", "2 s"), PK_EXIT_USAGE);
    CHECK_EQ_INT(PARSE(&o, NULL, 0, NULL, "--size", "8XB"), PK_EXIT_USAGE);
    CHECK_EQ_INT(PARSE(&o, NULL, 0, NULL, "--color", "pink"), PK_EXIT_USAGE);
    CHECK_EQ_INT(PARSE(&o, NULL, 0, NULL, "--list", "1,,2"), PK_EXIT_USAGE);
    CHECK_EQ_INT(PARSE(&o, NULL, 0, NULL, "--name", ""), PK_EXIT_USAGE);
    CHECK_EQ_INT(PARSE(&o, NULL, 0, NULL, "--flag=yes"), PK_EXIT_USAGE);
    CHECK_EQ_INT(PARSE(&o, NULL, 0, NULL, "--count"), PK_EXIT_USAGE); /* needs a value */
    CHECK_EQ_INT(PARSE(&o, NULL, 0, NULL, "--bogus"), PK_EXIT_USAGE);
    CHECK_EQ_INT(PARSE(&o, NULL, 0, NULL, "-z"), PK_EXIT_USAGE);
    CHECK_EQ_INT(PARSE(&o, NULL, 0, NULL, "--alpha", "--beta"), PK_EXIT_USAGE); /* one group */
    CHECK_EQ_INT(PARSE(&o, NULL, 0, NULL, "--alpha", "--alpha"), PK_EXIT_OK);   /* same option */
    CHECK(o.count == 7); /* untouched destinations keep their defaults */
    return 0;
}

static int case_prefixes(void)
{
    struct opts o;
    CHECK_EQ_INT(PARSE(&o, NULL, 0, NULL, "--cou", "5", "--col=red"), PK_EXIT_OK);
    CHECK(o.count == 5 && o.choice == 0);
    CHECK_EQ_INT(PARSE(&o, NULL, 0, NULL, "--co", "5"), PK_EXIT_USAGE); /* count or color */
    /* --rec is unique among what the command takes: record, not the refused reps */
    CHECK_EQ_INT(PARSE(&o, NULL, PK_SHARED_RECORD, NULL, "--rec", "r.jsonl"), PK_EXIT_OK);
    CHECK(o.common.record && strcmp(o.common.record, "r.jsonl") == 0);
    return 0;
}

static int case_shared(void)
{
    struct opts o;
    CHECK_EQ_INT(PARSE(&o, NULL, PK_SHARED_THREADS | PK_SHARED_FORMAT, NULL, "-t3", "--format",
                       "json"),
                 PK_EXIT_OK);
    CHECK(o.common.nthreads == 3 && o.common.format == PK_FORMAT_JSON && o.common.reps == 3);
    CHECK_EQ_INT(PARSE(&o, NULL, PK_SHARED_THREADS, NULL, "--reps", "2"), PK_EXIT_USAGE);
    CHECK_EQ_INT(PARSE(&o, NULL, PK_SHARED_FORMAT, NULL, "--format", "csv"), PK_EXIT_USAGE);
    CHECK_EQ_INT(PARSE(&o, NULL, PK_SHARED_THREADS, NULL, "-t", "0"), PK_EXIT_USAGE);
    CHECK_EQ_INT(PARSE(&o, NULL, PK_SHARED_ALL, NULL, "--no-verify"), PK_EXIT_OK);
    CHECK(o.common.no_verify);
    return 0;
}

static int case_rest(void)
{
    struct opts o;
    struct pk_args a;
    CHECK_EQ_INT(PARSE(&o, &a, 0, "CMD", "x", "--", "sh", "-c", "--flag"), PK_EXIT_OK);
    CHECK(a.noperands == 1 && a.nrest == 3 && strcmp(a.rest[2], "--flag") == 0 && !o.flag);
    pk_args_free(&a);
    CHECK_EQ_INT(PARSE(&o, &a, 0, NULL, "--", "-f"), PK_EXIT_OK); /* "--" ends options */
    CHECK(a.noperands == 1 && strcmp(a.operand[0], "-f") == 0 && !o.flag);
    pk_args_free(&a);
    return 0;
}

static int case_counts_and_help(void)
{
    struct pk_count_list n = {0};
    struct pk_common_opts common;
    const struct pk_opt none[] = {{NULL}};
    const struct pk_cmd_spec spec = {.name = "c", .summary = "counts", .opts = none,
                                     .shared = PK_SHARED_REPS, .reps_default = 9,
                                     .operands = "N", .min_operands = 1, .counts = &n,
                                     .counts_max = 100};
    CHECK_EQ_INT(pk_opts_parse(&spec, NULL, 3, (char *[]){"c", "1e2", "2^3", NULL}, &common, NULL),
                 PK_EXIT_OK);
    CHECK(n.n == 2 && n.v[0] == 100 && n.v[1] == 8 && common.reps == 9);
    pk_count_list_free(&n);
    CHECK_EQ_INT(pk_opts_parse(&spec, NULL, 2, (char *[]){"c", "101", NULL}, &common, NULL),
                 PK_EXIT_USAGE);
    CHECK_EQ_INT(pk_opts_parse(&spec, NULL, 1, (char *[]){"c", NULL}, &common, NULL),
                 PK_EXIT_USAGE);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    pk_opts_help(&spec, f);
    fclose(f);
    bool ok = strstr(buf, "Usage: parkit c") && strstr(buf, "--reps R") &&
              strstr(buf, "(default 9)") && !strstr(buf, "--threads") && strstr(buf, "Exit status");
    free(buf);
    CHECK(ok);
    return 0;
}

static const struct check_case cases[] = {
    {"kinds", case_kinds},
    {"errors", case_errors},
    {"prefixes", case_prefixes},
    {"shared", case_shared},
    {"rest", case_rest},
    {"counts_and_help", case_counts_and_help},
};

int main(int argc, char **argv)
{
    return CHECK_MAIN(cases);
}
