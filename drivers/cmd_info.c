/* SPDX-License-Identifier: MIT */
/* parkit info: the machine facts every record carries, printed for people. */
#include "commands.h"
#include "emit.h"
#include "opt.h"
#include "record.h"
#include "sysinfo.h"

#include <stdio.h>

static const char description[] =
    "Host, cores, memory, OpenMP settings (threads, proc_bind, places), each rank's host and CPU\n"
    "set, each OpenMP thread's CPU, the MPI library and thread level. Warns when ranks x threads\n"
    "exceed a host's cores, when threads share a core, and when mpirun bound a rank to one core\n"
    "so that its OpenMP threads cannot spread. Run it under mpirun to see every rank.\n"
    "--threads sets the OpenMP threads whose placement is shown. --format csv prints one row per\n"
    "OpenMP thread of every rank; json prints the facts with the record's fields.\n";

static void print_table(const json_t *rec, const void *ctx)
{
    (void)ctx;
    pk_sysinfo_print(stdout, rec);
}

static void print_csv(const json_t *rec, struct pk_csvw *w, const void *ctx)
{
    (void)ctx;
    static const char *const header[] = {"rank",   "host", "cores",         "rank_cpuset",
                                         "thread", "cpu",  "thread_cpuset", NULL};
    pk_csvw_row(w, header);
    size_t i, j;
    const json_t *rank, *thread;
    json_array_foreach(json_object_get(rec, "ranks"), i, rank)
    {
        json_array_foreach(json_object_get(rank, "threads"), j, thread)
        {
            pk_csvw_fieldf(w, "%lld", (long long)json_integer_value(json_object_get(rank, "rank")));
            pk_csvw_field(w, json_string_value(json_object_get(rank, "host")));
            pk_csvw_fieldf(w, "%lld",
                           (long long)json_integer_value(json_object_get(rank, "cores")));
            pk_csvw_field(w, json_string_value(json_object_get(rank, "cpuset")));
            pk_csvw_fieldf(w, "%lld",
                           (long long)json_integer_value(json_object_get(thread, "thread")));
            pk_csvw_fieldf(w, "%lld",
                           (long long)json_integer_value(json_object_get(thread, "cpu")));
            pk_csvw_field(w, json_string_value(json_object_get(thread, "cpuset")));
            pk_csvw_end(w);
        }
    }
}

int pk_cmd_info(int argc, char **argv, const struct pk_comm *c)
{
    struct pk_common_opts o;
    const struct pk_cmd_spec spec = {
        .name = "info",
        .synopsis = "[-t T] [--format table|csv|json] [--record FILE]",
        .summary = "The machine as parkit sees it: cores, memory, OpenMP, MPI and placement.",
        .description = description,
        .shared = PK_SHARED_THREADS | PK_SHARED_RECORD | PK_SHARED_FORMAT,
        .formats = PK_FORMATS_CSV,
    };
    int status = pk_opts_parse(&spec, c, argc, argv, &o, NULL);
    if (status != PK_EXIT_OK)
        return pk_opts_exit(status);
    json_t *info = NULL;
    int rc = pk_sysinfo_gather(c, o.nthreads, &info);
    status = pk_dist_agree(c, rc == PK_OK ? PK_EXIT_OK : PK_EXIT_RUNTIME);
    if (status != PK_EXIT_OK) {
        pk_error(c, false, "info", "cannot gather machine facts: %s", pk_strerror(rc));
        json_decref(info);
        return status;
    }
    json_t *rec = NULL;
    if (c->rank == 0) {
        /* The facts at the top, where `--format json | jq .ranks` has always found them; the
         * provenance holds the build facts only, so they are not stored twice. */
        rec = pk_record_new("info");
        json_object_update_missing(rec, info);
        pk_record_set_provenance(rec, NULL);
    }
    json_decref(info);
    static const struct pk_view view = {print_table, print_csv};
    return pk_emit(c, "info", &o, &view, NULL, rec, status);
}
