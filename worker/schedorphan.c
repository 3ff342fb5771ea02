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

/* s's lastJob entry: deleted and its slot noted when it is an orphan. 1 noted, 0 left alone (or
 * a failure of this schedule's, logged), or FS_EIO / FS_EDENIED (Consul) with *errp. */
static int orphan_one(struct consul *c, const char *ns, const struct consulsched *s,
		      struct spool *sp, char **errp)
{
	struct spoolsched_slot row = { .slot = s->def.last_fired,
				       .result = SPOOLSCHED_REFUSED,
				       .reason = (char *)RECONRULE_ORPHANED,
				       .job_id = s->def.last_job,
				       .count = 1 };
	struct consul_kv kv;
	struct jobentry e;
	char *key = jobentry_key(ns, s->def.last_job), *err = NULL;
	int rc = 0, parsed = 0, krc;

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
	if (!reconrule_orphan(krc == 0 ? &kv : NULL, parsed ? &e : NULL))
		goto done;
	/* the delete and the note in one txn: a firer that dies or loses Consul in between
	 * leaves both to the next sweep */
	krc = consulsched_unclaim(c, ns, s->def.name, key, kv.modify_index, &row, &err);
	if (krc == FS_EEXIST || krc == FS_ENOENT) /* re-acquired or moved on; or deleted */
		goto done;
	if (krc == FS_EIO || krc == FS_EDENIED) {
		*errp = err;
		err = NULL;
		rc = krc;
		goto done;
	}
	if (krc != 0) {
		log_warn("schedules: %s: %s", s->def.name, err);
		goto done;
	}
	log_info("schedules: %s: slot %lld: job %s deleted and noted refused: the claim of node "
		 "%s, QUEUED, held by no session",
		 s->def.name, (long long)row.slot, s->def.last_job, e.claimed_by.node);
	free(err);
	err = NULL;
	/* /metrics counts it on the node that noted it; the fire counted nothing (its count comes
	 * with the spool commit that never came) */
	if (spoolsched_count_add(sp, SPOOLSCHED_REFUSED, 1, &err) != 0)
		log_warn("schedules: the slot counters: %s", err);
	rc = 1;
done:
	consul_kv_clear(&kv);
	jobentry_free(&e);
	free(key);
	free(err);
	return rc;
}

int schedorphan_sweep(struct consul *c, const char *ns, size_t max, struct spool *sp,
		      size_t *adoptedp, char **errp)
{
	struct consulsched *list = NULL;
	size_t n = 0, adopted = 0;
	int rc;

	if ((rc = consulsched_list(c, ns, max, &list, &n, errp)) != 0)
		goto done;
	for (size_t i = 0; i < n; i++) {
		if (list[i].def.last_job == NULL)
			continue;
		if ((rc = orphan_one(c, ns, &list[i], sp, errp)) < 0)
			goto done;
		adopted += (size_t)rc;
	}
	rc = 0;
done:
	if (adoptedp != NULL)
		*adoptedp = adopted;
	consulsched_list_free(list, n);
	return rc;
}
