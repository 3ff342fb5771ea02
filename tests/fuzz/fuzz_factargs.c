/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the input, split at NUL bytes, is a factfileArgs array for factargs_parse. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "factargs.h"
#include "xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = xmalloc(size + 1);
	char **argv = NULL;
	int argc = 0;
	struct factargs fa;
	char *err = NULL;

	memcpy(copy, data, size);
	copy[size] = '\0';
	for (size_t i = 0; i <= size;) {
		size_t n = strlen(copy + i);
		argv = xgrow_by_one(argv, (size_t)argc, sizeof *argv);
		argv[argc++] = copy + i;
		i += n + 1;
	}
	if (factargs_parse(argc, argv, &fa, &err) == 0)
		factargs_free(&fa);
	free(err);
	free(argv);
	free(copy);
	return 0;
}
