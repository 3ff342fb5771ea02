/* SPDX-License-Identifier: Apache-2.0 */
/* Building and parsing the spool's per-job settings keys (settings.h). */
#include <string.h>

#include "settings.h"
#include "xalloc.h"

char *settings_key(const char *prefix, const char *id)
{
	return xasprintf("%s%s", prefix, id);
}

const char *settings_key_id(const char *key, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(key, prefix, n) == 0 ? key + n : NULL;
}
