/* SPDX-License-Identifier: MIT */
/* Running a parkit command as a child process and reading the record it prints: for commands
 * that drive others (demo, scale of the I/O commands) where the child must own its process
 * (its pool, its Ctrl-C, its single-process rule). */
#ifndef PARKIT_SELFRUN_H
#define PARKIT_SELFRUN_H

#include <jansson.h>

/* Runs `parkit ARGS...` (this same program; args[0] is its name) with stdout to a pipe and
 * parses the first JSON value it prints into *record (the caller json_decrefs); stderr passes
 * through. Returns the child's exit status (*record may then be NULL when it failed), or -1
 * when it could not run, was killed, or exited 0 without printing JSON. */
int pk_run_self_json(char *const args[], json_t **record);

#endif
