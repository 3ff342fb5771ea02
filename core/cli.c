/* SPDX-License-Identifier: Apache-2.0 */
/* The shared --help / --version / option-error answers of the server programs (contract in
 * cli.h). */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "xalloc.h"

/* The GNU coding standards' --version, with the Apache License in place of the GPL. */
static void cli_version(const char *name)
{
	printf("%s (%s) %s\n"
	       "Copyright (C) 2025-2026 factotum-server contributors.\n"
	       "License Apache-2.0: Apache License, Version 2.0 "
	       "<https://www.apache.org/licenses/LICENSE-2.0>\n"
	       "This is free software: you are free to change and redistribute it.\n"
	       "There is NO WARRANTY, to the extent permitted by law.\n",
	       name, PACKAGE_NAME, PACKAGE_VERSION);
}

int cli_usage_error(const char *name, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	log_plain(CONFIG_LOG_ERROR, "%s: %s\nTry '%s --help' for more information.", name, msg,
		  name);
	free(msg);
	return 2;
}

int cli_parse(struct config *cfg, int argc, char *const argv[], const struct cli_program *prog,
	      int *status)
{
	char *err = NULL, *usage;
	int rc = config_parse(cfg, argc, argv, &err);

	if (rc == 0) {
		free(err);
		return 0;
	}
	*status = 0;
	if (rc == CONFIG_HELP) {
		usage = config_usage(prog->id);
		printf("%s%s", prog->usage, usage);
		free(usage);
	} else if (rc == CONFIG_VERSION) {
		cli_version(prog->name);
	} else if (rc == CONFIG_BAD_USAGE) {
		*status = cli_usage_error(prog->name, "%s", err);
	} else {
		log_plain(CONFIG_LOG_ERROR, "%s: %s", prog->name, err);
		*status = 2;
	}
	free(err);
	return CLI_EXIT;
}
