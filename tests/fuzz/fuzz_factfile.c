/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: any bytes as a factfile (parse, schema, templating, graph checks). The first
 * byte picks the rule set and whether template variables are present. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "factfile.h"
#include "kv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kvlist vars;
	struct factfile ff;
	char *err = NULL;
	unsigned mode = size ? data[0] : 0;

	if (size == 0)
		return 0;
	kvlist_init(&vars);
	if (mode & 2) {
		kvlist_set(&vars, "env", "<prod & \"x\">");
		kvlist_set(&vars, "tag:team", "data");
	}
	if (factfile_parse((const char *)data + 1, size - 1, "/fuzz.factfile", &vars,
			   (mode & 1) ? FACTFILE_RULES_FACTOTUM : FACTFILE_RULES_OURS, &ff,
			   &err) == 0)
		factfile_free(&ff);
	free(err);
	kvlist_free(&vars);
	return 0;
}
