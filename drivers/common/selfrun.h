/* SPDX-License-Identifier: MIT */
/* Running a parkit command as a child process and reading the record it prints: for commands
 * that drive others (demo, scale of the I/O commands) where the child must own its process
 * (its pool, its Ctrl-C, its single-process rule), or must be started by a launcher (the
 * demo's ranks). */
#ifndef PARKIT_SELFRUN_H
#define PARKIT_SELFRUN_H

#include <jansson.h>

/* Runs `parkit ARGS...` (this same program; args[0] is its name) with stdout to a pipe and
 * parses the first JSON value it prints into *record (the caller json_decrefs); stderr passes
 * through. Returns the child's exit status (*record may then be NULL when it failed), or -1
 * when it could not run, was killed, or exited 0 without printing JSON. */
int pk_run_self_json(char *const args[], json_t **record);

/* As pk_run_self_json, for the program at path (a launcher such as mpirun running parkit), with
 * the environment envp (NULL: this process's). */
int pk_run_json(const char *path, char *const args[], char *const envp[], json_t **record);

#endif
