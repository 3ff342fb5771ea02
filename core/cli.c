/* SPDX-License-Identifier: Apache-2.0 */
/* The shared --help / --version / option-error answers of the server programs (contract in
 * cli.h). */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>

int cli_parse(struct config *cfg, int argc, char *const argv[], const char *prog, const char *usage,
	      int *status)
{
	char *err = NULL;
	int rc = config_parse(cfg, argc, argv, &err);

	if (rc == 0) {
		free(err);
		return 0;
	}
	*status = 0;
	if (rc == CONFIG_HELP) {
		printf("%s%s", usage, config_usage());
	} else if (rc == CONFIG_VERSION) {
		printf("%s %s\n", prog, PACKAGE_VERSION);
	} else {
		fprintf(stderr, "%s: %s\n", prog, err);
		*status = 2;
	}
	free(err);
	return CLI_EXIT;
}
