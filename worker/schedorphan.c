/* SPDX-License-Identifier: Apache-2.0 */
/* The firer's accounting of orphaned slot claims (schedorphan.h). */
#include "schedorphan.h"

#include <stdlib.h>
#include <string.h>

#include "consul.h"
#include "consulsched.h"
#include "err.h"
#include "jobentry.h"
#include "log.h"
#include "reconrule.h"
#include "spoolsched.h"
#include "xalloc.h"

void schedorphan_free(struct schedorphan *o)
{
	for (size_t i = 0; i < o->n; i++) {
		free(o->watch[i].name);
		free(o->watch[i].job_id);
	}
	free(o->watch);
	o->watch = NULL;
	o->n = 0;
}

/* Adds a copy of a claim to the list w (at most SCHEDORPHAN_WATCH_MAX, each job once). */
static void watch_add(struct schedorphan *w, const char *name, const char *job_id, int64_t slot)
{
	for (size_t i = 0; i < w->n; i++)
		if (strcmp(w->watch[i].job_id, job_id) == 0)
			return;
	if (w->n == SCHEDORPHAN_WATCH_MAX) {
		log_warn("schedules: more than %d slot claims held by sessions; %s is not watched",
			 SCHEDORPHAN_WATCH_MAX, job_id);
		return;
	}
	w->watch = xrealloc(w->watch, (w->n + 1) * sizeof(*w->watch));
	w->watch[w->n++] = (struct schedorphan_claim){ .name = xstrdup(name),
						       .job_id = xstrdup(job_id),
						       .slot = slot };
}

/* The claim of schedule name's slot, job job_id: deleted and its slot noted when it is an orphan
 * (the removal locks it with session first: consulsched_unclaim). RECONRULE_ORPHAN noted,
 * RECONRULE_HELD still held by a session or within its lock delay (to look at again),
 * RECONRULE_NOT_CLAIM nothing to do (or a failure of this claim's, logged); or FS_EIO /
 * FS_EDENIED (Consul) with *errp. */
static int orphan_one(struct consul *c, const char *ns, const char *session, const char *name,
		      const char *job_id, int64_t slot, struct spool *sp, char **errp)
{
	struct spoolsched_slot row = { .slot = slot,
				       .result = SPOOLSCHED_REFUSED,
				       .reason = (char *)RECONRULE_ORPHANED,
				       .job_id = (char *)job_id,
				       .count = 1 };
	struct consul_kv kv;
	struct jobentry e;
	char *key = jobentry_key(ns, job_id), *err = NULL;
	int rc = RECONRULE_NOT_CLAIM, parsed = 0, krc;

	jobentry_init(&e);
	memset(&kv, 0, sizeof(kv));
	krc = consul_kv_get(c, key, &kv, &err);
	if (krc == FS_EIO || krc == FS_EDENIED) {
		*errp = err;
		err = NULL;
		rc = krc;
		goto done;
	}
	if (krc == 0)
		parsed = jobentry_parse(kv.value, kv.value_len, &e, NULL) == 0;
	rc = (int)reconrule_orphan(krc == 0 ? &kv : NULL, parsed ? &e : NULL);
	if (rc != RECONRULE_ORPHAN)
		goto done;
	rc = RECONRULE_NOT_CLAIM;
	/* the delete and the note in one txn: a firer that dies or loses Consul in between
	 * leaves both to the next sweep */
	krc = consulsched_unclaim(c, ns, name, key, kv.modify_index, kv.value, session, &row, &err);
	if (krc == FS_EEXIST) { /* re-acquired, moved on, or within its lock delay: look again */
		rc = RECONRULE_HELD;
		goto done;
	}
	if (krc == FS_ENOENT) /* the schedule was deleted */
		goto done;
	if (krc == FS_EIO || krc == FS_EDENIED) {
		*errp = err;
		err = NULL;
		rc = krc;
		goto done;
	}
	if (krc != 0) {
		log_warn("schedules: %s: %s", name, err);
		goto done;
	}
	log_info("schedules: %s: slot %lld: job %s deleted and noted refused: the claim of node "
		 "%s, QUEUED, held by no session",
		 name, (long long)slot, job_id, e.claimed_by.node);
	free(err);
	err = NULL;
	/* /metrics counts it on the node that noted it; the fire counted nothing (its count comes
	 * with the spool commit that never came) */
	if (spoolsched_count_add(sp, SPOOLSCHED_REFUSED, 1, &err) != 0)
		log_warn("schedules: the slot counters: %s", err);
	rc = RECONRULE_ORPHAN;
done:
	consul_kv_clear(&kv);
	jobentry_free(&e);
	free(key);
	free(err);
	return rc;
}

/* 1 when job_id is the lastJob of one of list[0..n) (looked at with it). */
static int is_last_job(const struct consulsched *list, size_t n, const char *job_id)
{
	for (size_t i = 0; i < n; i++)
		if (list[i].def.last_job != NULL && strcmp(list[i].def.last_job, job_id) == 0)
			return 1;
	return 0;
}

int schedorphan_sweep(struct schedorphan *o, struct consul *c, const char *ns, const char *session,
		      size_t max, struct spool *sp, size_t *adoptedp, char **errp)
{
	struct consulsched *list = NULL;
	struct schedorphan next = { 0 };
	size_t n = 0, adopted = 0, i = 0, k = 0;
	int rc;

	if ((rc = consulsched_list(c, ns, max, &list, &n, errp)) != 0)
		goto done;
	for (; i < n; i++) {
		const struct spoolsched *d = &list[i].def;

		if (d->last_job == NULL)
			continue;
		rc = orphan_one(c, ns, session, d->name, d->last_job, d->last_fired, sp, errp);
		if (rc < 0)
			goto done;
		adopted += rc == RECONRULE_ORPHAN;
		if (rc == RECONRULE_HELD)
			watch_add(&next, d->name, d->last_job, d->last_fired);
	}
	for (; k < o->n; k++) {
		const struct schedorphan_claim *w = &o->watch[k];

		if (is_last_job(list, n, w->job_id))
			continue;
		if ((rc = orphan_one(c, ns, session, w->name, w->job_id, w->slot, sp, errp)) < 0)
			goto done;
		adopted += rc == RECONRULE_ORPHAN;
		if (rc == RECONRULE_HELD)
			watch_add(&next, w->name, w->job_id, w->slot);
	}
	rc = 0;
done:
	/* a sweep cut short forgets nothing it was watching */
	for (; k < o->n; k++)
		watch_add(&next, o->watch[k].name, o->watch[k].job_id, o->watch[k].slot);
	schedorphan_free(o);
	*o = next;
	if (adoptedp != NULL)
		*adoptedp = adopted;
	consulsched_list_free(list, n);
	return rc;
}
