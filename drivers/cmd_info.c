/* SPDX-License-Identifier: MIT */
/* parkit info: the machine facts every record carries, printed for people. */
#include "commands.h"
#include "record.h"
#include "sysinfo.h"

#include <getopt.h>
#include <stdio.h>

static const char usage[] =
    "Usage: parkit info [-t T] [--format table|json] [--record FILE]\n"
    "Host, cores, memory, OpenMP settings (threads, proc_bind, places), each rank's host and CPU\n"
    "set, each OpenMP thread's CPU, the MPI library and thread level. Warns when ranks x threads\n"
    "exceed a host's cores, when threads share a core, and when mpirun bound a rank to one core\n"
    "so that its OpenMP threads cannot spread. Run it under mpirun to see every rank.\n\n";

int pk_cmd_info(int argc, char **argv, const struct pk_comm *c)
{
    static const struct option longopts[] = {PK_COMMON_LONGOPTS, {NULL, 0, NULL, 0}};
    struct pk_common_opts o;
    pk_common_defaults(&o);
    struct pk_err err = {0};
    opterr = 0;
    optind = 1;
    int code;
    while ((code = getopt_long(argc, argv, ":" PK_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
        int rc = pk_cli_option(c, "info", usage, code, argv, &o);
        if (rc == PK_OPT_HELP_SHOWN)
            return PK_EXIT_OK;
        if (rc == PK_OPT_MINE)
            rc = pk_cli_option(c, "info", usage, '?', argv, &o);
        if (rc != PK_OPT_DONE)
            return rc;
    }
    if (pk_cli_no_operands(c, "info", argc, argv) != PK_EXIT_OK)
        return PK_EXIT_USAGE;
    json_t *info = NULL;
    int rc = pk_sysinfo_gather(c, o.nthreads, &info);
    int status = pk_dist_agree(c, rc == PK_OK ? PK_EXIT_OK : PK_EXIT_RUNTIME);
    if (status != PK_EXIT_OK) {
        pk_error(c, false, "info", "cannot gather machine facts: %s", pk_strerror(rc));
        json_decref(info);
        return status;
    }
    if (c->rank == 0) {
        if (o.format == PK_FORMAT_JSON) {
            json_dumpf(info, stdout, JSON_INDENT(2));
            putchar('\n');
        } else {
            pk_sysinfo_print(stdout, info);
        }
        if (o.record) {
            json_t *rec = pk_record_new("info");
            pk_record_set_provenance(rec, info);
            if (pk_record_append(o.record, rec, &err) != PK_OK) {
                pk_error(c, false, "info", "%s", err.msg);
                status = PK_EXIT_RUNTIME;
            }
            json_decref(rec);
        }
    }
    json_decref(info);
    return pk_dist_agree(c, status);
}
