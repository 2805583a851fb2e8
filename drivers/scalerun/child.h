/* SPDX-License-Identifier: MIT */
/* One run of a program as a whole process, for `parkit scale run`: fork/exec with extra
 * environment, its stdout captured through a pipe (for its figure of merit), its process tree
 * sampled from /proc while it runs (advise/sample.c: the time its threads waited for a core),
 * timed by the wall clock and wait4's rusage, and the CPU that other processes used meanwhile
 * (/proc/stat's busy time minus the child's own). */
#ifndef PARKIT_SCALERUN_CHILD_H
#define PARKIT_SCALERUN_CHILD_H

#include <stddef.h>

struct pk_child_result {
    int exec_errno; /* non-zero: the program could not be started */
    int status;     /* the wait status */
    double wall_s, user_s, sys_s;
    long max_rss_kb;
    double run_delay_s; /* summed over the tree's threads: ready to run, no core */
    double other_cpu_s; /* CPU time of every other process on the machine (NaN: unknown) */
    char *out;          /* stdout (malloc'd, NUL-terminated; the first PK_CHILD_OUT_MAX) */
    size_t out_len;
    int threads_seen;             /* most threads of the tree seen at once */
    double mhz_before, mhz_after; /* mean CPU clock around the run (NaN: not shown) */
};
#define PK_CHILD_OUT_MAX ((size_t)16 << 20)

/* Runs argv (argv[0] looked up in PATH) with the NAME=VALUE strings of env[0..nenv) added to
 * the environment. Returns 0 with *r filled (free r->out), or ENOMEM/errno of pipe or fork.
 * The child gets SIGTERM when parkit dies (PR_SET_PDEATHSIG): a killed sweep leaves no run
 * behind. */
int pk_child_run(char *const *argv, char *const *env, size_t nenv, struct pk_child_result *r);

/* "exited with status 3", "killed by signal 9 (Killed)" into buf. */
void pk_child_status_text(int status, char *buf, size_t len);

#endif
