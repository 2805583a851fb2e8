/* SPDX-License-Identifier: MIT */
/* Output directories: made on demand with their missing parents, the way `mkdir -p` does, and
 * checked writable before a command starts writing into them. Returns statuses with a message
 * naming the path; never prints. */
#ifndef PARKIT_OUTDIR_H
#define PARKIT_OUTDIR_H

#include "parkit/status.h"

#include <stdbool.h>

/* Makes path (the caller's) a directory the process can create files in. A missing path is
 * created with its missing parents, mode 0777 less the umask (as mkdir -p); an existing
 * directory is used as it is. *created (may be NULL) says whether path itself was made.
 * Returns PK_OK; PK_EINVAL when path is empty or exists and is not a directory; PK_EIO when it
 * cannot be created or written into (the message carries the system's reason); PK_ENOMEM.
 * Thread-safe (another process creating the same path meanwhile is fine). */
int pk_outdir_make(const char *path, bool *created, struct pk_err *err);

#endif
