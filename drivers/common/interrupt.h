/* SPDX-License-Identifier: MIT */
/* Ctrl-C for commands that wait (api, pipeline): the first SIGINT sets a flag the command polls
 * to stop gracefully (cancel pending work, report what finished, exit 1); the second exits at
 * once with 130. Process-wide, for the thread that runs the command. */
#ifndef PARKIT_INTERRUPT_H
#define PARKIT_INTERRUPT_H

#include <stdbool.h>

/* Installs the handler (saving the previous one) and clears the flag. */
void pk_interrupt_install(void);
/* Restores the handler saved by pk_interrupt_install. */
void pk_interrupt_restore(void);
/* True once Ctrl-C was pressed. Async-signal-safe to read from any thread. */
bool pk_interrupted(void);
/* Sleeps seconds in slices of at most 10 ms: PK_OK after the full time, PK_ECANCELED as soon as
 * Ctrl-C is pressed. */
int pk_sleep_interruptible(double seconds);

#endif
