/* SPDX-License-Identifier: Apache-2.0 */
/* A schedule's slot as a job: the schedule's request with the tags that name the slot, validated
 * as /submit validates, then accounted for in one spool transaction (core/spoolsched.h). Shared
 * by the responder (/schedules/run) and the worker's firing loop. */
#ifndef FS_SCHEDJOB_H
#define FS_SCHEDJOB_H

#include <stddef.h>
#include <stdint.h>

#include "jobreq.h"
#include "spoolsched.h"

struct spool;

/* "YYYY-MM-DDTHH:MM:SSZ" of slot (UTC seconds), the value of the slot tag. */
#define SCHEDJOB_SLOT_LEN 20
void schedjob_slot_text(int64_t slot, char buf[SCHEDJOB_SLOT_LEN + 1]);

/* Adds s's definition to o in the order GET /schedules answers it and the Consul value keeps it:
 * name, cron, timezone, jobName, factfilePath, factfileArgs, overlap ("allow", "skip"), catchUp
 * ("none", "last" or N), paused. */
struct json_object;
void schedjob_def_json(struct json_object *o, const struct spoolsched *s);

/* The job request of s's slot: its factfileArgs followed by `--tag schedule,<name>` and `--tag
 * slot,<slot text>`, parsed by jobreq_parse (*jr freed with jobreq_free in every case). 0, or
 * FS_EINVAL with *errp the parse's message (a stored definition that no longer parses). */
int schedjob_request(const struct spoolsched *s, int64_t slot, struct job_request *jr, char **errp);

/* How a slot is fired on this node. policy is /submit's (its slot_tags is set here on a copy). */
struct schedjob_env {
	const struct jobreq_policy *policy;
	const char *node;
	size_t max_queued;
	size_t max_queued_user;
};

/* Fires s's slot: builds and validates its request (one that does not validate is recorded
 * refused, "invalid: <message>") and calls spoolsched_fire with s->last_slot as the fence, with
 * advance (spoolsched_fire). *resultp the result, *job_idp (if job_idp; the caller frees) the
 * slot's job id when it validated, else NULL. spoolsched_fire's codes. */
int schedjob_fire(struct spool *sp, const struct spoolsched *s, int64_t slot, int advance,
		  const struct schedjob_env *env, enum spoolsched_result *resultp, char **job_idp,
		  char **errp);

#endif
