/* SPDX-License-Identifier: MIT */
/* parkit race: the lessons' threads on one shared counter, for real. Threads add 1 to one
 * counter without a lock (lost updates), with a mutex, with an atomic add, and into their own
 * counters merged at the end (io/race.c). Printed per way: the count, the expected count, the
 * updates lost and the time per increment.
 *
 * Verified: the mutex, atomic and thread-local counts are exactly threads x increments, and the
 * unlocked count is at most that (an update can be lost, never invented); exit 3 otherwise. */
#include "commands.h"
#include "emit.h"
#include "opt.h"
#include "parkit/race.h"
#include "record.h"
#include "sysinfo.h"

#include <stdio.h>

static const char description[] =
    "Threads add 1 to one shared counter, each INCREMENTS times, four ways:\n"
    "  no lock       read the counter, then write it plus one (each an atomic load and store,\n"
    "                so the C is defined): two threads that read the same value both write\n"
    "                it plus one, and an update is lost;\n"
    "  mutex         lock, add, unlock: exact, and the threads take turns;\n"
    "  atomic add    one indivisible read-modify-write: exact;\n"
    "  thread-local  each thread counts on its own and the counts are added once at the end:\n"
    "                exact, and nothing is shared while counting (the fast correct way).\n"
    "Printed per way: the count, the expected count (threads x increments), the updates lost\n"
    "and the time per increment (the wall time over all increments).\n"
    "\n"
    "Verified: the mutex, atomic and thread-local counts are exact and the unlocked one is not\n"
    "above the expected count (exit 3 otherwise; --canary drops one thread-local increment to\n"
    "show the check failing). How many updates are lost depends on the machine: on one core,\n"
    "or with few increments, the threads may not overlap and none are. Runs on one process.\n";

static const struct way {
    enum pk_race_way way;
    const char *name;
    bool exact; /* must be threads x increments */
} ways[] = {
    {PK_RACE_UNLOCKED, "no lock", false},
    {PK_RACE_MUTEX, "mutex", true},
    {PK_RACE_ATOMIC, "atomic add", true},
    {PK_RACE_LOCAL, "thread-local", true},
};
enum { NWAYS = sizeof ways / sizeof ways[0] };

struct race_opts {
    uint64_t increments;
    bool canary;
    struct pk_common_opts common; /* of the shared options: -t, --record, --format */
};

struct race_out {
    const struct race_opts *o;
    uint64_t expected;
    struct pk_race_result res[NWAYS];
    bool ok[NWAYS], verified;
};

static int parse(int argc, char **argv, const struct pk_comm *c, struct race_opts *o)
{
    *o = (struct race_opts){.increments = 10000000};
    const struct pk_opt table[] = {
        {"increments", 'n', PK_OPT_COUNT, &o->increments, "N",
         "increments per thread, 1..2^32 (default 1e7)", .min = 1, .max = UINT64_C(1) << 32},
        {"canary", 0, PK_OPT_FLAG, &o->canary, NULL,
         "drop one thread-local increment: verification must fail"},
        {NULL},
    };
    const struct pk_cmd_spec spec = {
        .name = "race",
        .synopsis = "[-t THREADS] [--increments N] [options]",
        .summary = "Threads on one shared counter: no lock (lost updates), mutex, atomic, "
                   "thread-local.",
        .description = description,
        .opts = table,
        .shared = PK_SHARED_THREADS | PK_SHARED_RECORD | PK_SHARED_FORMAT,
        .formats = PK_FORMATS_CSV,
    };
    int status = pk_opts_parse(&spec, c, argc, argv, &o->common, NULL);
    if (status == PK_EXIT_OK && o->common.nthreads < 2) {
        pk_error(c, false, "race", "a race needs at least 2 threads (-t), got %d",
                 o->common.nthreads);
        status = PK_EXIT_USAGE;
    }
    if (status == PK_EXIT_OK)
        status = pk_cli_single_process(c, "race");
    return status;
}

/* Runs every way; returns PK_OK or the first failure (err says why). */
static int run(struct race_out *out, struct pk_err *err)
{
    const struct race_opts *o = out->o;
    out->expected = (uint64_t)o->common.nthreads * o->increments;
    out->verified = true;
    for (size_t i = 0; i < NWAYS; i++) {
        int rc = pk_race_run(ways[i].way, o->common.nthreads, o->increments, &out->res[i], err);
        if (rc != PK_OK)
            return rc;
        if (o->canary && ways[i].way == PK_RACE_LOCAL)
            out->res[i].count--;
        out->ok[i] =
            ways[i].exact ? out->res[i].count == out->expected : out->res[i].count <= out->expected;
        out->verified = out->verified && out->ok[i];
    }
    return PK_OK;
}

static double ns_per(const struct race_out *out, size_t i)
{
    return 1e9 * out->res[i].time_s / (double)out->expected;
}

static json_t *make_record(const struct pk_comm *c, const struct race_out *out)
{
    json_t *rec = pk_record_new("race"), *a = json_array();
    json_object_set_new(rec, "params",
                        json_pack("{s:i, s:I, s:b}", "threads", out->o->common.nthreads,
                                  "increments", (json_int_t)out->o->increments, "canary",
                                  out->o->canary));
    for (size_t i = 0; i < NWAYS; i++)
        json_array_append_new(
            a, json_pack("{s:s, s:I, s:I, s:I, s:f, s:f, s:b}", "way", ways[i].name, "count",
                         (json_int_t)out->res[i].count, "expected", (json_int_t)out->expected,
                         "lost", (json_int_t)(out->expected - out->res[i].count), "time_s",
                         out->res[i].time_s, "ns_per_increment", ns_per(out, i), "ok", out->ok[i]));
    json_object_set_new(rec, "result", json_pack("{s:o}", "ways", a));
    json_object_set_new(rec, "verified", json_boolean(out->verified));
    double t = 0;
    for (size_t i = 0; i < NWAYS; i++)
        t += out->res[i].time_s;
    pk_record_set_timing(rec, &t, 1, 0);
    json_t *sysinfo = pk_sysinfo_for_command(c, "race", out->o->common.nthreads);
    pk_record_set_provenance(rec, sysinfo);
    json_decref(sysinfo);
    return rec;
}

static void print_table(const json_t *rec, const void *ctx)
{
    const struct race_out *out = ctx;
    (void)rec;
    printf("# parkit race: %d threads x %llu %s on one shared counter\n", out->o->common.nthreads,
           (unsigned long long)out->o->increments,
           pk_plural(out->o->increments, "increment", "increments"));
    printf("%-13s %14s %14s %14s %13s  %s\n", "way", "count", "expected", "lost", "ns/increment",
           "exact");
    for (size_t i = 0; i < NWAYS; i++) {
        const char *exact = out->res[i].count == out->expected ? "yes"
                            : !ways[i].exact && out->ok[i]     ? "no (lost updates: the race)"
                                                               : "NO";
        printf("%-13s %14llu %14llu %14llu %13.2f  %s\n", ways[i].name,
               (unsigned long long)out->res[i].count, (unsigned long long)out->expected,
               (unsigned long long)(out->expected - out->res[i].count), ns_per(out, i), exact);
    }
    printf("verified    %s\n",
           out->verified ? "yes (mutex, atomic and thread-local counts exact)" : "NO");
}

static void print_csv(const json_t *rec, struct pk_csvw *w, const void *ctx)
{
    const struct race_out *out = ctx;
    static const char *const head[] = {"way",  "threads", "increments",       "count", "expected",
                                       "lost", "time_s",  "ns_per_increment", "ok",    NULL};
    (void)rec;
    pk_csvw_row(w, head);
    for (size_t i = 0; i < NWAYS; i++) {
        pk_csvw_field(w, ways[i].name);
        pk_csvw_fieldf(w, "%d", out->o->common.nthreads);
        pk_csvw_fieldf(w, "%llu", (unsigned long long)out->o->increments);
        pk_csvw_fieldf(w, "%llu", (unsigned long long)out->res[i].count);
        pk_csvw_fieldf(w, "%llu", (unsigned long long)out->expected);
        pk_csvw_fieldf(w, "%llu", (unsigned long long)(out->expected - out->res[i].count));
        pk_csvw_fieldf(w, "%.9f", out->res[i].time_s);
        pk_csvw_fieldf(w, "%.4f", ns_per(out, i));
        pk_csvw_field(w, out->ok[i] ? "yes" : "no");
        pk_csvw_end(w);
    }
}

int pk_cmd_race(int argc, char **argv, const struct pk_comm *c)
{
    struct race_opts o;
    int status = parse(argc, argv, c, &o);
    if (status != PK_EXIT_OK)
        return pk_opts_exit(status);
    struct race_out out = {.o = &o};
    struct pk_err err = {0};
    if (run(&out, &err) != PK_OK) {
        pk_error(c, false, "race", "%s", err.msg);
        return PK_EXIT_RUNTIME;
    }
    static const struct pk_view view = {print_table, print_csv};
    return pk_emit(c, "race", &o.common, &view, &out, make_record(c, &out),
                   out.verified ? PK_EXIT_OK : PK_EXIT_VERIFY);
}
