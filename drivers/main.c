/* SPDX-License-Identifier: MIT */
/* parkit: one program, one subcommand per driver file. main initialises MPI when started by a
 * launcher, dispatches, and returns the exit status every rank agreed on. */
#include "commands.h"
#include "record.h"

#include <gsl/gsl_errno.h>
#include <stdio.h>
#include <string.h>

struct command {
    const char *name;
    int (*run)(int argc, char **argv, const struct pk_comm *c);
    const char *summary;
};

static const struct command commands[] = {
    {"sumsq", pk_cmd_sumsq,
     "sum of squares: exact integer range, seeded Gaussian chunks, float64 array or file"},
    {"info", pk_cmd_info,
     "host, cores, memory, OpenMP and MPI settings, affinity of every rank and thread"},
    {"demo", pk_cmd_demo,
     "the main job: every kernel at laptop size, sequential vs parallel, verified"},
};

static void usage(FILE *f)
{
    fprintf(f, "Usage: parkit COMMAND [options]     (parkit COMMAND --help for its options)\n"
               "       mpirun -np N parkit COMMAND [options]\n\nCommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(f,
            "\nOptions:\n  -h, --help     this help\n  -V, --version  version, commit, "
            "compiler and library versions\n\n%s",
            pk_exit_help);
}

int main(int argc, char **argv)
{
    /* GSL's default handler aborts; parkit checks every status itself. */
    gsl_set_error_handler_off();
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? PK_EXIT_USAGE : PK_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
        pk_version_print(stdout);
        return PK_EXIT_OK;
    }
    const struct command *cmd = NULL;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            cmd = &commands[i];
    if (!cmd) {
        fprintf(stderr, "parkit: error: unknown command '%s' (see parkit --help)\n", argv[1]);
        return PK_EXIT_USAGE;
    }
    struct pk_comm comm;
    struct pk_err err = {0};
    if (pk_dist_init(&argc, &argv, false, &comm, &err) != PK_OK) {
        fprintf(stderr, "parkit: error: %s\n", err.msg);
        return PK_EXIT_RUNTIME;
    }
    int status = cmd->run(argc - 1, argv + 1, &comm);
    pk_dist_finalize(&comm);
    return status;
}
