/* SPDX-License-Identifier: Apache-2.0 */
/* A slot's job request and its firing (schedjob.h). */
#include "schedjob.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "jobentry.h"
#include "spool.h"
#include "xalloc.h"

void schedjob_slot_text(int64_t slot, char buf[SCHEDJOB_SLOT_LEN + 1])
{
	time_t t = (time_t)slot;
	struct tm tm;

	/* gmtime_r reads no time zone: safe in the responder's threads */
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, SCHEDJOB_SLOT_LEN + 1, "%Y-%m-%dT%H:%M:%SZ", &tm) != SCHEDJOB_SLOT_LEN)
		strcpy(buf, "0000-00-00T00:00:00Z");
}

static struct json_object *schedjob_str(const char *s)
{
	return json_object_new_string(s != NULL ? s : "");
}

void schedjob_def_json(struct json_object *o, const struct spoolsched *s)
{
	struct json_object *cu;

	if (s->catch_up == SPOOLSCHED_CATCHUP_NONE)
		cu = json_object_new_string("none");
	else if (s->catch_up == SPOOLSCHED_CATCHUP_LAST)
		cu = json_object_new_string("last");
	else
		cu = json_object_new_int64(s->catch_up);
	json_object_object_add(o, "name", schedjob_str(s->name));
	json_object_object_add(o, "cron", schedjob_str(s->cron));
	json_object_object_add(o, "timezone", schedjob_str(s->timezone));
	json_object_object_add(o, "jobName", schedjob_str(s->job_name));
	json_object_object_add(o, "factfilePath", schedjob_str(s->factfile_path));
	json_object_object_add(o, "factfileArgs", jobentry_args(s->factfile_args));
	json_object_object_add(o, "overlap",
			       json_object_new_string(s->overlap_skip ? "skip" : "allow"));
	json_object_object_add(o, "catchUp", cu);
	json_object_object_add(o, "paused", json_object_new_boolean(s->paused != 0));
}

static void schedjob_tag(struct json_object *args, const char *key, const char *value)
{
	char *tag = xasprintf("%s,%s", key, value);

	json_object_array_add(args, json_object_new_string("--tag"));
	json_object_array_add(args, json_object_new_string(tag));
	free(tag);
}

int schedjob_request(const struct spoolsched *s, int64_t slot, struct job_request *jr, char **errp)
{
	struct json_object *body = json_object_new_object(), *args;
	char text[SCHEDJOB_SLOT_LEN + 1];
	const char *json;
	size_t len;
	int rc;

	memset(jr, 0, sizeof *jr);
	args = json_tokener_parse(s->factfile_args != NULL ? s->factfile_args : "[]");
	if (args == NULL || !json_object_is_type(args, json_type_array)) {
		json_object_put(args);
		json_object_put(body);
		return err_set(errp, FS_EINVAL, "schedule '%s': factfileArgs is not an array",
			       s->name);
	}
	schedjob_slot_text(slot, text);
	schedjob_tag(args, JOBREQ_TAG_SCHEDULE, s->name);
	schedjob_tag(args, JOBREQ_TAG_SLOT, text);
	json_object_object_add(body, "jobName", json_object_new_string(s->job_name));
	json_object_object_add(body, "factfilePath", json_object_new_string(s->factfile_path));
	json_object_object_add(body, "factfileArgs", args);
	json = json_object_to_json_string_length(body, JSON_C_TO_STRING_PLAIN, &len);
	rc = jobreq_parse(json, len, jr, errp);
	json_object_put(body);
	return rc;
}

int schedjob_fire(struct spool *sp, const struct spoolsched *s, int64_t slot, int advance,
		  const struct schedjob_env *env, enum spoolsched_result *resultp, char **job_idp,
		  char **errp)
{
	struct spoolsched_fire fire = { .name = s->name,
					.prev_slot = s->last_slot,
					.slot = slot,
					.advance = advance,
					.max_queued = env->max_queued };
	struct jobreq_policy policy = *env->policy;
	struct spool_submit sub;
	struct job_request jr;
	char *detail = NULL, *by = NULL, *refusal = NULL;
	int rc;

	if (job_idp != NULL)
		*job_idp = NULL;
	policy.slot_tags = 1;
	if (schedjob_request(s, slot, &jr, &detail) != 0 ||
	    jobreq_validate(&jr, &policy, &detail) != 0) {
		fire.refusal = refusal = xasprintf("invalid: %s", detail);
	} else {
		by = xasprintf("schedule:%s", s->name);
		memset(&sub, 0, sizeof sub);
		sub.id = jr.id;
		sub.job_name = jr.job_name;
		sub.factfile_path = jr.factfile_path;
		sub.factfile_args = jr.args_json;
		sub.node = env->node;
		sub.submitted_by = by;
		sub.factfile_sha = jr.factfile_sha;
		sub.factfile = jr.factfile;
		sub.factfile_len = jr.factfile_len;
		sub.max_queued_user = env->max_queued_user;
		fire.sub = &sub;
		if (job_idp != NULL)
			*job_idp = xstrdup(jr.id);
	}
	rc = spoolsched_fire(sp, &fire, resultp, errp);
	if (rc != 0 && job_idp != NULL) {
		free(*job_idp);
		*job_idp = NULL;
	}
	jobreq_free(&jr);
	free(detail);
	free(by);
	free(refusal);
	return rc;
}
