/* SPDX-License-Identifier: Apache-2.0 */
/* The command-line front of every server program (responder, worker, launcher): --help,
 * --version and the option errors are answered the same way by all three. */
#ifndef FS_CLI_H
#define FS_CLI_H

#include "config.h"

/* What cli_parse tells main to do besides 0 (run with the parsed config). */
#define CLI_EXIT 1

/* Parses argv into *cfg (set up with config_init) with config_parse. Returns 0 when cfg is
 * complete and the program runs (*status untouched); CLI_EXIT when main must return *status at
 * once, the answer already written:
 *   --help / -h   usage (static text: "Usage: ..." and a line or two on the program) then
 *                 config_usage() on stdout, *status 0;
 *   --version     "<prog> <version>" on stdout, *status 0;
 *   a bad option  "<prog>: <message>" on stderr, *status 2.
 * prog and usage are only read. cfg must be freed with config_free whatever the result. */
int cli_parse(struct config *cfg, int argc, char *const argv[], const char *prog, const char *usage,
	      int *status);

#endif
