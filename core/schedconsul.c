/* SPDX-License-Identifier: Apache-2.0 */
/* One schedule slot fired with Consul on (schedconsul.h): the decision, the claim journal, the
 * slot's one txn, and the spool commit, with the undo when the spool refuses after the txn. */
#include "schedconsul.h"

#include <stdlib.h>
#include <string.h>

#include "claimlog.h"
#include "claimundo.h"
#include "clock.h"
#include "consul.h"
#include "err.h"
#include "fault.h"
#include "jobentry.h"
#include "log.h"
#include "spool.h"
#include "xalloc.h"

#define SCHEDCONSUL_NO_SESSION                                                  \
	"Consul unavailable: this node holds no Consul session (is the worker " \
	"running?)"

/* A slot being fired: the request, its submission and what the txn writes. */
struct sc_slot {
	struct job_request jr;
	struct spool_submit sub;
	char *by;        /* "schedule:<name>" */
	char *invalid;   /* "invalid: <detail>" when the request did not validate */
	char *skip;      /* the overlap reason when skipped */
	char *job_key;   /* the slot job's Consul key, when it fires */
	char *value;     /* its QUEUED entry */
	long long claim; /* its number in the journal, 0 when none was recorded */
};

static void sc_slot_clear(struct sc_slot *x, struct claimlog *journal)
{
	if (x->claim != 0)
		claimlog_end(journal, x->claim);
	jobreq_free(&x->jr);
	free(x->by);
	free(x->invalid);
	free(x->skip);
	free(x->job_key);
	free(x->value);
}

/* The slot's request, validated as /submit validates it; x->invalid says why when it is not. */
static void sc_request(const struct schedconsul_env *env, const struct consulsched *s, int64_t slot,
		       struct sc_slot *x)
{
	struct jobreq_policy policy = *env->job->policy;
	char *detail = NULL;

	policy.slot_tags = 1;
	if (schedjob_request(&s->def, slot, &x->jr, &detail) != 0 ||
	    jobreq_validate(&x->jr, &policy, &detail) != 0) {
		x->invalid = xasprintf("invalid: %s", detail);
		free(detail);
		return;
	}
	x->by = xasprintf("schedule:%s", s->def.name);
	x->sub.id = x->jr.id;
	x->sub.job_name = x->jr.job_name;
	x->sub.factfile_path = x->jr.factfile_path;
	x->sub.factfile_args = x->jr.args_json;
	x->sub.node = env->job->node;
	x->sub.submitted_by = x->by;
	x->sub.factfile_sha = x->jr.factfile_sha;
	x->sub.factfile = x->jr.factfile;
	x->sub.factfile_len = x->jr.factfile_len;
	x->sub.max_queued_user = env->job->max_queued_user;
}

/* The overlap rule: with overlap "skip", x->skip when the last fired slot's job is QUEUED or
 * WORKING in Consul. A key that is gone or holds no job entry does not hold the slot back. */
static int sc_overlap(const struct schedconsul_env *env, const struct consulsched *s,
		      struct sc_slot *x, char **errp)
{
	struct consul_kv kv;
	struct jobentry e;
	char *key;
	int rc;

	if (!s->def.overlap_skip || s->def.last_job == NULL)
		return 0;
	key = jobentry_key(env->ns, s->def.last_job);
	rc = consul_kv_get(env->consul, key, &kv, errp);
	free(key);
	if (rc == FS_ENOENT)
		return 0;
	if (rc != 0)
		return rc;
	jobentry_init(&e);
	/* only while a node's session holds it: an orphaned entry (its node gone) never runs, and
	 * skipping behind it would skip every later slot */
	if (kv.session != NULL && jobentry_parse(kv.value, kv.value_len, &e, NULL) == 0 &&
	    (e.state == SPOOL_QUEUED || e.state == SPOOL_WORKING))
		x->skip =
			xasprintf("overlap: the last slot's job is %s", spool_state_name(e.state));
	jobentry_free(&e);
	consul_kv_clear(&kv);
	return 0;
}

/* The claim's journal record and entry, made before the txn: if this process dies before the
 * spool commit, the record outlives it and the worker undoes the claim. */
static int sc_claim(const struct schedconsul_env *env, struct sc_slot *x, char **errp)
{
	struct jobentry_claimer by = { .node = (char *)env->job->node,
				       .pid = env->pid,
				       .start = env->start };
	int rc;

	if (env->session == NULL)
		return err_set(errp, FS_EIO, SCHEDCONSUL_NO_SESSION);
	x->job_key = jobentry_key(env->ns, x->jr.id);
	if ((rc = claimlog_begin(env->journal, x->job_key, &x->claim, errp)) != 0) {
		x->claim = 0;
		return rc;
	}
	by.claim = x->claim;
	x->value = jobentry_claim_build(&x->sub, &by);
	return 0;
}

/* Reads s again (its new index after a note); a failed read leaves a fence that fails the next
 * txn, which then reads it again. */
static void sc_reread(const struct schedconsul_env *env, struct consulsched *s)
{
	struct consulsched fresh;

	if (consulsched_get(env->consul, env->ns, s->def.name, &fresh, NULL) != 0) {
		consulsched_clear(&fresh);
		s->index = 0;
		return;
	}
	consulsched_clear(s);
	*s = fresh;
}

/* The spool refused the slot's job after its claim (drain or capacity raced since the
 * question): the claim is undone (fenced at its index) and the slot noted refused. */
static void sc_refused_late(const struct schedconsul_env *env, struct consulsched *s, int64_t slot,
			    struct sc_slot *x, int64_t job_index, const char *reason)
{
	struct spoolsched_slot row = { .slot = slot,
				       .at_ms = clock_real_ms(),
				       .result = SPOOLSCHED_REFUSED,
				       .reason = (char *)reason,
				       .count = 1 };
	struct consul_op op;
	char *err = NULL;
	int rc;

	jobentry_undo_ops(&op, x->job_key, job_index, NULL, NULL);
	rc = consul_txn(env->consul, &op, 1, NULL, &err);
	/* FS_EEXIST: the entry moved on, nothing of ours to undo; a failure is kept for the
	 * worker to retry */
	if (rc != 0 && rc != FS_EEXIST) {
		log_warn("schedule '%s': undoing the claim of %s: %s", s->def.name, x->job_key,
			 err);
		claimundo_keep(env->sp, x->jr.id, x->job_key, job_index, env->session, NULL, NULL);
	}
	free(err);
	err = NULL;
	if (consulsched_note(env->consul, env->ns, s->def.name, &row, &err) != 0)
		log_warn("schedule '%s': noting slot %lld refused: %s", s->def.name,
			 (long long)slot, err);
	free(err);
	sc_reread(env, s);
}

/* s as the txn left it (its new index). */
static void sc_advance(struct consulsched *s, const struct sc_slot *x, int64_t slot, int advance,
		       int64_t index)
{
	s->index = index;
	s->history_seq++;
	if (advance)
		s->def.last_slot = slot;
	if (x->job_key != NULL) {
		free(s->def.last_job);
		s->def.last_job = xstrdup(x->jr.id);
		s->def.last_fired = slot;
	}
}

int schedconsul_fire(const struct schedconsul_env *env, struct consulsched *s, int64_t slot,
		     int advance, enum spoolsched_result *resultp, char **job_idp, char **errp)
{
	struct consulsched_fire f = { .s = s, .slot = slot, .advance = advance };
	struct sc_slot x;
	const char *reason = NULL;
	char *stored = NULL;
	int64_t index = 0, job_index = 0;
	int rc, invalid_session = 0;

	memset(&x, 0, sizeof x);
	if (job_idp != NULL)
		*job_idp = NULL;
	sc_request(env, s, slot, &x);
	f.result = SPOOLSCHED_REFUSED;
	if (x.invalid != NULL) {
		f.reason = x.invalid;
	} else {
		f.job_id = x.jr.id;
		if ((rc = sc_overlap(env, s, &x, errp)) != 0)
			goto done;
		if (x.skip != NULL) {
			f.result = SPOOLSCHED_SKIPPED;
			f.reason = x.skip;
		} else if ((rc = spoolsched_admit(env->sp, &x.sub, env->job->max_queued, &reason,
						  errp)) != 0) {
			goto done;
		} else if (reason != NULL) {
			f.reason = reason;
		} else {
			if ((rc = sc_claim(env, &x, errp)) != 0)
				goto done;
			f.job_key = x.job_key;
			f.job_value = x.value;
			f.session = env->session;
		}
	}
	rc = consulsched_fire(env->consul, env->ns, &f, &index, &job_index, &invalid_session, errp);
	if (rc == FS_EEXIST && f.job_key != NULL) {
		/* the check-not-exists: the slot's job exists (fired before, or a claim holds
		 * it), so the slot is a duplicate; nothing was written, the fence still holds */
		if (errp != NULL) {
			free(*errp);
			*errp = NULL;
		}
		claimlog_end(env->journal, x.claim);
		x.claim = 0;
		free(x.job_key);
		x.job_key = NULL;
		f.job_key = f.job_value = f.session = NULL;
		f.reason = "duplicate";
		rc = consulsched_fire(env->consul, env->ns, &f, &index, NULL, &invalid_session,
				      errp);
	}
	if (rc == FS_EIO && invalid_session) {
		if (errp != NULL)
			free(*errp);
		rc = err_set(errp, FS_EIO, SCHEDCONSUL_NO_SESSION);
	} else if ((rc == FS_EIO || rc == FS_EINVAL) && f.job_key != NULL) {
		/* no answer: the txn may still be applied, its claim with no job behind it */
		claimundo_abandon(env->sp, x.job_key, x.claim, env->pid, env->start, NULL, NULL);
	}
	if (rc != 0)
		goto done;
	sc_advance(s, &x, slot, advance, index);
	if (f.job_key == NULL) {
		if ((rc = spoolsched_count(env->sp, f.result, NULL, 0, NULL, errp)) != 0)
			goto done;
		goto answer;
	}
	/* the claim is made and the slot accounted for as fired: a process that dies here
	 * leaves the journal record for the worker's reconciliation */
	if (fault_at("sched.after-claim") != 0) {
		rc = err_set(errp, FS_EIO, "fault injected after the slot's claim");
		reason = NULL;
	} else {
		x.sub.consul_index = job_index;
		rc = spoolsched_count(env->sp, SPOOLSCHED_FIRED, &x.sub, env->job->max_queued,
				      &reason, errp);
	}
	if (rc == 0) {
		f.result = SPOOLSCHED_FIRED;
		goto answer;
	}
	/* refused or failed after the claim: the claim goes and the slot is noted refused */
	stored = xasprintf("the job could not be stored: %s",
			   errp != NULL && *errp != NULL ? *errp : "spool failure");
	sc_refused_late(env, s, slot, &x, job_index, reason != NULL ? reason : stored);
	f.result = SPOOLSCHED_REFUSED;
	if (errp != NULL) {
		free(*errp);
		*errp = NULL;
	}
	if ((rc = spoolsched_count(env->sp, SPOOLSCHED_REFUSED, NULL, 0, NULL, errp)) != 0)
		goto done;
answer:
	if (resultp != NULL)
		*resultp = f.result;
	if (job_idp != NULL && x.invalid == NULL)
		*job_idp = xstrdup(x.jr.id);
done:
	sc_slot_clear(&x, env->journal);
	free(stored);
	return rc;
}
