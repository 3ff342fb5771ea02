/* SPDX-License-Identifier: Apache-2.0 */
/* The reconciliation's decisions (see reconrule.h). */
#include "reconrule.h"

#include <string.h>

#include "consul.h"
#include "jobentry.h"
#include "spool.h"
#include "statesync.h"

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
