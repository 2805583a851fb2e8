/* SPDX-License-Identifier: MIT */
/* Ctrl-C (SIGINT) and SIGTERM (what timeout, Slurm and systemd send), handled the same way in
 * every command. main installs the handler once (pk_interrupt_setup). A command that polls
 * (api, pipeline, fetch, files, resize) brackets its work with pk_interrupt_install/restore:
 * there the first signal sets a flag it polls to stop gracefully (cancel pending work, report
 * what finished, exit 1). Any other signal, and the first one outside such a bracket, exits at
 * once with 128 + the signal (130 for SIGINT, 143 for SIGTERM), after removing what a write in
 * progress left: io/atomicfile's named temporaries and what the registered cleanups remove.
 * (Unnamed temporaries need nothing: not even SIGKILL leaves them behind.) Process-wide. */
#ifndef PARKIT_INTERRUPT_H
#define PARKIT_INTERRUPT_H

#include <stdbool.h>

/* Installs the SIGINT and SIGTERM handler for the whole run, from the thread that runs the
 * command (main, before any thread starts): an immediate exit happens on that thread. With
 * nranks > 1, SIGTERM always exits at once: the launcher sends it to end the job (a rank
 * failed), and a graceful stop would wait in a collective for a rank that is gone. */
void pk_interrupt_setup(int nranks);
/* The command polls from now on: clears the flag; the first signal only sets it. */
void pk_interrupt_install(void);
/* The command no longer polls: the next signal exits at once. */
void pk_interrupt_restore(void);
/* True once SIGINT or SIGTERM arrived while polled. Async-signal-safe to read from any thread. */
bool pk_interrupted(void);
/* Sleeps seconds in slices of at most 10 ms: PK_OK after the full time, PK_ECANCELED as soon as
 * Ctrl-C is pressed. */
int pk_sleep_interruptible(double seconds);

/* Registers fn(arg), run by the handler before an immediate exit: it must be async-signal-safe
 * and arg must live until pk_interrupt_cleanup_remove. At most 4 at a time; returns a handle,
 * or -1 when full (fn will not run). */
int pk_interrupt_cleanup_add(void (*fn)(void *arg), void *arg);
/* Unregisters a handle from pk_interrupt_cleanup_add (-1 ignored). */
void pk_interrupt_cleanup_remove(int handle);

#endif
