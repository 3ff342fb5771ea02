/* SPDX-License-Identifier: Apache-2.0 */
/* Claims left for the worker to undo (claimundo.h). */
#include "claimundo.h"

#include <json-c/json.h>
#include <stdlib.h>

#include "clock.h"
#include "log.h"
#include "settings.h"
#include "spool.h"
#include "xalloc.h"

static struct json_object *claimundo_text(const char *s)
{
	return s != NULL ? json_object_new_string(s) : NULL;
}

/* Writes o (put here) as the setting prefix<name>. */
static int claimundo_set(struct spool *sp, const char *prefix, const char *name,
			 struct json_object *o, char **errp)
{
	char *key = settings_key(prefix, name);
	int rc = spool_setting_set(sp, key,
				   json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), errp);

	json_object_put(o);
	free(key);
	return rc;
}

int claimundo_keep(struct spool *sp, const char *id, const char *key, int64_t index,
		   const char *session, const char *prev, char **errp)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "key", json_object_new_string(key));
	json_object_object_add(o, "index", json_object_new_int64(index));
	json_object_object_add(o, "session", claimundo_text(session));
	json_object_object_add(o, "value", claimundo_text(prev));
	return claimundo_set(sp, SETTINGS_UNDO_PREFIX, id, o, errp);
}

int claimundo_abandon(struct spool *sp, const char *key, long long claim, long long pid,
		      unsigned long long start, const char *prev, char **errp)
{
	struct json_object *o;
	struct spool_setting *list = NULL;
	char *name;
	size_t n = 0;
	int rc;

	if (spool_setting_list(sp, SETTINGS_ABANDONED_PREFIX, &list, &n, NULL) == 0)
		spool_setting_list_free(list, n);
	if (n >= CLAIMUNDO_ABANDONED_MAX) {
		log_warn("consul: %s: the claim got no answer and %zu others wait already: not "
			 "recorded for undoing",
			 key, n);
		return 0;
	}
	o = json_object_new_object();
	json_object_object_add(o, "key", json_object_new_string(key));
	json_object_object_add(o, "claim", json_object_new_int64(claim));
	json_object_object_add(o, "pid", json_object_new_int64(pid));
	json_object_object_add(o, "start", json_object_new_uint64(start));
	json_object_object_add(o, "value", claimundo_text(prev));
	json_object_object_add(o, "at", json_object_new_int64(clock_real_ms()));
	name = xasprintf("%lld.%llu.%lld", pid, start, claim);
	rc = claimundo_set(sp, SETTINGS_ABANDONED_PREFIX, name, o, errp);
	free(name);
	return rc;
}
