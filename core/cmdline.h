/* SPDX-License-Identifier: Apache-2.0 */
/* The shell command line of a task, as Factotum 0.7.0 builds it (format_args): the one builder
 * the runner spawns and the responder checks (core/tmplcheck.h), so both see the same bytes. */
#ifndef FS_CMDLINE_H
#define FS_CMDLINE_H

#include <stddef.h>

#include "factfile.h"

/* The command as written, a space, then each argument in double quotes joined by spaces, with no
 * escaping ("echo" with no arguments gives "echo "). Returns a new string the caller frees. When
 * arg_off is not NULL it receives, for each of the task's n_arguments arguments, the offset in the
 * result of that argument's first byte. */
char *cmdline_build(const struct factfile_task *t, size_t *arg_off);

#endif
