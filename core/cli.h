/* SPDX-License-Identifier: Apache-2.0 */
/* The command-line front of every server program (responder, worker, launcher): --help,
 * --version and the option errors are answered the same way by all three, as the GNU coding
 * standards have them. */
#ifndef FS_CLI_H
#define FS_CLI_H

#include "config.h"

/* What cli_parse tells main to do besides 0 (run with the parsed config). */
#define CLI_EXIT 1

/* One server program as its command line presents it (static storage). */
struct cli_program {
	const char *name;  /* "factotum-server-fcgi": prefix of its messages */
	const char *usage; /* "Usage: ..." and a few lines on the program, before the options */
	enum config_program id; /* which options its --help lists (config_usage) */
};

/* Parses argv into *cfg (set up with config_init) with config_parse. Returns 0 when cfg is
 * complete and the program runs (*status untouched); CLI_EXIT when main must return *status at
 * once, the answer already written:
 *   --help / -h   prog->usage then config_usage(prog->id) on stdout, *status 0;
 *   --version     "<name> (factotum-server) <version>", the copyright, the license and the
 *                 warranty lines on stdout, *status 0;
 *   a bad value   "<name>: <message>" on stderr, *status 2;
 *   a malformed command line (CONFIG_BAD_USAGE: an unknown option or argument, a missing value)
 *                 the same line then "Try '<name> --help' for more information." on stderr,
 *                 *status 2.
 * Lines on stderr go through log_plain (error priority on the journal). cfg must be freed with
 * config_free whatever the result. */
int cli_parse(struct config *cfg, int argc, char *const argv[], const struct cli_program *prog,
	      int *status);

/* A malformed command line found by main itself (an option of its own): writes
 * "<name>: <text>" and the "Try" line as cli_parse does. Returns 2, the exit status. */
int cli_usage_error(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
