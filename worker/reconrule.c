/* SPDX-License-Identifier: Apache-2.0 */
/* The reconciliation's decisions (see reconrule.h). */
#include "reconrule.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "consul.h"
#include "factargs.h"
#include "jobentry.h"
#include "jobreq.h"
#include "schedjob.h"
#include "spool.h"
#include "statesync.h"
#include "xalloc.h"

static enum reconrule_act reconrule_leave(const char **whyp, const char *why)
{
	*whyp = why;
	return RECONRULE_LEAVE;
}

enum reconrule_act reconrule_claim(const struct reconrule_claim *c, const char **whyp)
{
	const struct jobentry *e = c->e;

	/* between its txn and its spool commit a claim has no job behind it: only the claimer's
	 * death makes that final */
	if (c->alive)
		return reconrule_leave(whyp, "its responder still runs");
	if (c->kv == NULL)
		return reconrule_leave(whyp, "the key is gone");
	if (e == NULL)
		return reconrule_leave(whyp, "the key holds no job entry");
	if (e->claimed_by.node == NULL || strcmp(e->claimed_by.node, c->node) != 0 ||
	    e->claimed_by.pid != (long long)c->pid || e->claimed_by.start != c->start ||
	    e->claimed_by.claim != c->number || e->state != SPOOL_QUEUED)
		return reconrule_leave(whyp, "the entry moved on");
	if (c->kv->session != NULL &&
	    (c->session == NULL || strcmp(c->kv->session, c->session) != 0))
		return reconrule_leave(whyp, "another session holds the key");
	/* a DONE job of the id with another index is an earlier submission's */
	if (c->job != NULL &&
	    (c->job->state != SPOOL_DONE || c->job->consul_index == c->kv->modify_index))
		return reconrule_leave(whyp, "the spool holds the job");
	*whyp = "the spool does not hold the claimed job";
	return RECONRULE_UNDO;
}

/* A slot tag's value back to UTC seconds: only the exact text schedjob_slot_text writes. */
static int reconrule_slot_time(const char *text, int64_t *slotp)
{
	char back[SCHEDJOB_SLOT_LEN + 1];
	int y, mo, d, h, mi, sec, n = 0;

	if (sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 ||
	    n != SCHEDJOB_SLOT_LEN || text[n] != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31)
		return 0;
	*slotp = civil_days(y, mo, d) * 86400 + (int64_t)h * 3600 + mi * 60 + sec;
	schedjob_slot_text(*slotp, back);
	return strcmp(back, text) == 0;
}

int reconrule_slot(const struct jobentry *e, char **namep, int64_t *slotp)
{
	struct job_request req;
	struct factargs fa;
	const char *name, *slot;
	char *body;
	int found = 0;

	*namep = NULL;
	if (e->factfile_args == NULL)
		return 0;
	/* the arguments as /submit reads them, then Factotum's grammar: the tags the job id hashes */
	body = xasprintf("{\"jobName\":\"\",\"factfilePath\":\"\",\"factfileArgs\":%s}",
			 e->factfile_args);
	if (jobreq_parse(body, strlen(body), &req, NULL) == 0 &&
	    factargs_parse((int)req.n_args, req.args, &fa, NULL) == 0) {
		name = kvlist_get(&fa.tags, JOBREQ_TAG_SCHEDULE);
		slot = kvlist_get(&fa.tags, JOBREQ_TAG_SLOT);
		if (name != NULL && *name != '\0' && slot != NULL &&
		    reconrule_slot_time(slot, slotp)) {
			*namep = xstrdup(name);
			found = 1;
		}
		factargs_free(&fa);
	}
	jobreq_free(&req);
	free(body);
	return found;
}

enum reconrule_act reconrule_entry(const struct spool_job *job, int key_exists, int in_outbox,
				   const char *session, const char **whyp)
{
	if (job->consul_index <= 0)
		return reconrule_leave(whyp, "never claimed in Consul");
	if (in_outbox)
		return reconrule_leave(whyp, "the outbox writes it");
	if (key_exists)
		return reconrule_leave(whyp, "the key exists");
	if (job->state == SPOOL_DONE && job->reason != NULL &&
	    strcmp(job->reason, STATESYNC_LOST_REASON) == 0)
		return reconrule_leave(whyp, "another node owns the id");
	if (job->state != SPOOL_DONE && session == NULL)
		return reconrule_leave(whyp, "no session to lock it with");
	*whyp = "Consul lost the entry";
	return RECONRULE_REWRITE;
}

enum reconrule_orphan reconrule_orphan(const struct consul_kv *kv, const struct jobentry *e)
{
	if (kv == NULL || e == NULL || e->state != SPOOL_QUEUED || e->claimed_by.node == NULL)
		return RECONRULE_NOT_CLAIM;
	return kv->session == NULL ? RECONRULE_ORPHAN : RECONRULE_HELD;
}
