/* SPDX-License-Identifier: Apache-2.0 */
/* /submit's Consul claim (doc/consul.md): one /v1/txn that locks the job's key with this node's
 * session — check-not-exists + lock for a new key, check-index + lock over a DONE or orphaned
 * entry — and its undo when the spool then refuses the job. A new id (the common case) costs one
 * round trip: check-not-exists + lock is tried first, and only its 409 leads to a read of the
 * entry, which picks the ops of a second txn (check-index + lock over a DONE or orphaned entry).
 * The read only picks the ops; the txn alone decides, so of N concurrent claims across the
 * cluster exactly one wins (a stale read can only make a claim fail with 409). */
#include "app.h"
#include "claimbatch.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "claimlog.h"
#include "claimundo.h"
#include "clock.h"
#include "consul.h"
#include "err.h"
#include "fault.h"
#include "jobentry.h"
#include "log.h"
#include "settings.h"
#include "spool.h"

#define NO_SESSION                                                              \
	"Consul unavailable: this node holds no Consul session (is the worker " \
	"running?)"

void claim_clear(struct claim *cl)
{
	/* stored, undone or refused: the journal's record of it is not needed any more */
	if (cl->journal != NULL)
		claimlog_end(cl->journal, cl->number);
	free(cl->key);
	free(cl->session);
	free(cl->prev_value);
	memset(cl, 0, sizeof(*cl));
}

/* A spool setting the worker writes for the responder (a new string), or NULL when it is unset
 * or empty. */
static char *claim_setting(struct app *app, const char *key)
{
	char *v = NULL;

	if (spool_setting_get(app->sp, key, &v, NULL) != 0)
		return NULL;
	if (*v == '\0') {
		free(v);
		return NULL;
	}
	return v;
}

/* The worker's ACL refusal as it stored it ("Consul ACL denied: ..."; a new string), or NULL;
 * NULL too when no worker runs: a stopped worker's refusal is not why there is no session now. */
static char *claim_denied(struct app *app)
{
	if (!workersock_alive(app))
		return NULL;
	return claim_setting(app, SETTINGS_CONSUL_DENIED);
}

/* No session to claim with: the worker's ACL refusal when that is why (FS_EDENIED), else
 * NO_SESSION (FS_EIO). */
static int claim_no_session(struct app *app, char **errp)
{
	char *denied = claim_denied(app);
	int rc = denied != NULL ? err_set(errp, FS_EDENIED, "%s", denied)
				: err_set(errp, FS_EIO, NO_SESSION);

	free(denied);
	return rc;
}

/* A failed Consul call's message for /submit: FS_EIO and FS_EDENIED texts are whole ("Consul
 * unavailable: ...", "Consul ACL denied: ..."); anything else is Consul not answering sensibly. */
static int claim_failed(int rc, const char *detail, char **errp)
{
	if (rc == FS_EIO || rc == FS_EDENIED)
		return err_set(errp, rc, "%s", detail);
	return err_set(errp, FS_EIO, "Consul unavailable: %s", detail);
}

/* This node's session id as the worker stored it in the spool (a new string), or NULL when there
 * is none. */
char *claim_session(struct app *app)
{
	return claim_setting(app, SETTINGS_CONSUL_SESSION);
}

/* The QUEUED/WAITING entry this node writes when it claims req for user (NULL: none) as claim
 * number of this process. A new string. */
static char *claim_value(struct app *app, const struct job_request *req, const char *user,
			 long long number)
{
	struct spool_submit sub = { .id = req->id,
				    .job_name = req->job_name,
				    .factfile_path = req->factfile_path,
				    .factfile_args = req->args_json,
				    .node = app->cfg->consul_name,
				    .submitted_by = user };
	struct jobentry_claimer by = { .node = app->cfg->consul_name,
				       .pid = (long long)getpid(),
				       .start = app->pid_start,
				       .claim = number };

	return jobentry_claim_build(&sub, &by);
}

/* A claim txn that got no answer may still be applied: recorded for the worker (claimundo.h). */
static void claim_abandon(struct app *app, const struct claim *cl)
{
	if (claimundo_abandon(app->sp, cl->key, cl->number, (long long)getpid(), app->pid_start,
			      cl->prev_value, NULL) != 0)
		atomic_fetch_add(&app->consul_errors, 1);
}

static int claim_take(void *ctx, const struct job_request *req, struct claim *cl, char **errp)
{
	struct app *app = ctx;
	struct consul_kv kv;
	struct consul_txn_result res;
	struct consul_op ops[2];
	struct jobentry e;
	char *value = NULL, *detail = NULL;
	const char *user = cl->submitted_by;
	int rc, invalid = 0;

	memset(cl, 0, sizeof(*cl));
	cl->submitted_by = user;
	memset(&res, 0, sizeof(res));
	memset(ops, 0, sizeof(ops));
	jobentry_init(&e);
	if ((cl->session = claim_session(app)) == NULL) {
		rc = claim_no_session(app, errp);
		goto done;
	}
	cl->key = jobentry_key(app->cfg->consul_namespace, req->id);
	/* recorded before any txn: if this process dies before the spool commit, the worker finds
	 * the claim there and undoes it (doc/consul.md) */
	if ((rc = claimlog_begin(app->claims, cl->key, &cl->number, errp)) != 0)
		goto done;
	cl->journal = app->claims;
	value = claim_value(app, req, cl->submitted_by, cl->number);
	/* first, as for a new id: check-not-exists + lock, no read, batched with concurrent
	 * claims into one txn (claimbatch.h) */
	rc = claimbatch_new(app->consul, cl->key, value, cl->session, &cl->index, &invalid,
			    &detail);
	if (rc == 0 && fault_at("fcgi.claim-unanswered") != 0) {
		/* as if the txn's answer were lost: applied in Consul, unknown here */
		free(detail);
		detail = xstrdup(
			"Consul unavailable: the claim's answer was lost (fault injection)");
		rc = FS_EIO;
	}
	if (rc == 0)
		goto done;
	if (rc != FS_EEXIST) {
		/* a refusal is an answer: nothing was applied, nothing to undo later */
		if (rc != FS_EDENIED)
			claim_abandon(app, cl);
		rc = claim_failed(rc, detail, errp);
		goto done;
	}
	if (invalid) {
		rc = err_set(errp, FS_EIO, NO_SESSION);
		goto done;
	}
	/* rolled back: the key exists (or a lock-delay holds it): read it to pick the ops */
	consul_txn_result_clear(&res);
	free(detail);
	detail = NULL;
	memset(ops, 0, sizeof(ops));
	rc = consul_kv_get(app->consul, cl->key, &kv, &detail);
	if (rc == FS_ENOENT) {
		ops[0].verb = CONSUL_CHECK_NOT_EXISTS;
	} else if (rc != 0) {
		/* a malformed answer too is Consul not answering sensibly */
		rc = claim_failed(rc, detail, errp);
		goto done;
	} else {
		rc = jobentry_parse(kv.value, kv.value_len, &e, &detail);
		if (rc != 0) {
			/* neither ours nor an old server's: never overwrite what we cannot read */
			err_set(errp, FS_EINVAL,
				"Error: Consul key '%s' holds a value that is not a "
				"job entry (%s); it was left untouched",
				cl->key, detail);
			consul_kv_clear(&kv);
			goto done;
		}
		if (jobentry_claimable(&e, kv.session, cl->session) == JOBENTRY_HELD) {
			rc = FS_EEXIST;
			consul_kv_clear(&kv);
			goto done;
		}
		/* DONE or orphaned: fenced by the index we saw; undo puts this value back */
		ops[0].verb = CONSUL_CHECK_INDEX;
		ops[0].index = kv.modify_index;
		cl->prev_value = kv.value != NULL ? xstrdup(kv.value) : xstrdup("");
		consul_kv_clear(&kv);
		if ((rc = claimlog_over(app->claims, cl->key, cl->number, cl->prev_value, errp)) !=
		    0)
			goto done;
	}
	ops[0].key = cl->key;
	ops[1].verb = CONSUL_LOCK;
	ops[1].key = cl->key;
	ops[1].value = value;
	ops[1].session = cl->session;
	rc = consul_txn(app->consul, ops, 2, &res, &detail);
	if (rc == FS_EEXIST) {
		/* our session is gone (the worker stopped renewing it): not a duplicate */
		if (consul_txn_invalid_session(&res))
			rc = err_set(errp, FS_EIO, NO_SESSION);
		/* otherwise someone moved first, or the orphan's lock-delay has not passed */
		goto done;
	}
	if (rc != 0) {
		if (rc != FS_EDENIED)
			claim_abandon(app, cl);
		rc = claim_failed(rc, detail, errp);
		goto done;
	}
	cl->index = res.last_index;
done:
	consul_txn_result_clear(&res);
	jobentry_free(&e);
	free(value);
	free(detail);
	return rc;
}

/* The undo of a claim: a new key is deleted at the claim's index; over an earlier entry the
 * previous value is put back with unlock (a plain set would keep our lock). Either is fenced:
 * if anything moved since the claim, it is not ours to touch any more. */
static void claim_undo(void *ctx, const struct job_request *req, const struct claim *cl)
{
	struct app *app = ctx;
	struct consul_op ops[2];
	size_t n = jobentry_undo_ops(ops, cl->key, cl->index, cl->prev_value, cl->session);
	int rc;

	rc = consul_txn(app->consul, ops, n, NULL, NULL);
	/* FS_EEXIST: the entry moved on (nothing of ours to undo); anything else: try later */
	if (rc != 0 && rc != FS_EEXIST) {
		atomic_fetch_add(&app->consul_errors, 1);
		claimundo_keep(app->sp, req->id, cl->key, cl->index, cl->session, cl->prev_value,
			       NULL);
	}
}

int claim_probe(struct app *app, int *sessionp, char **deniedp, char **errp)
{
	struct consul_session info;
	char *id = NULL, *derr = NULL;
	int rc;

	*sessionp = 0;
	if (deniedp != NULL)
		*deniedp = NULL;
	if ((rc = consul_ping(app->consul, errp)) != 0) {
		if (rc != FS_EIO && errp != NULL && *errp != NULL) {
			char *m = xasprintf("Consul unavailable: %s", *errp);

			free(*errp);
			*errp = m;
		}
		return rc;
	}
	if ((id = claim_session(app)) == NULL) {
		if (deniedp != NULL)
			*deniedp = claim_denied(app);
	} else if ((rc = consul_session_info(app->consul, id, &info, &derr)) == 0) {
		*sessionp = 1;
		consul_session_clear(&info);
	} else if (rc == FS_EDENIED && deniedp != NULL) {
		/* this responder's own token is refused */
		*deniedp = derr;
		derr = NULL;
	}
	free(derr);
	free(id);
	return 0;
}

void claim_init(struct claim_ops *ops, struct app *app)
{
	ops->claim = claim_take;
	ops->undo = claim_undo;
	ops->ctx = app;
}
