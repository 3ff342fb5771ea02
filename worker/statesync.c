/* SPDX-License-Identifier: Apache-2.0 */
/* The worker's side of Consul (see statesync.h and doc/consul.md). A round does, in this order:
 * keep the session (renew when due; create one when Consul no longer knows it), re-acquire the
 * node's entries under a new session, deliver the outbox oldest first, retry undos. Each step
 * stops the round when Consul cannot be reached; the next round waits for a backoff. */
#define _GNU_SOURCE
#include "statesync.h"

#include <json-c/json.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "config.h"
#include "consul.h"
#include "err.h"
#include "jobentry.h"
#include "settings.h"
#include "spool.h"
#include "log.h"
#include "nodeinfo.h"
#include "xalloc.h"

#define SYNC_BACKOFF_MIN_MS  250
#define SYNC_BACKOFF_MAX_MS  4000
#define SYNC_LATER_MS        1000 /* a lock-delay or a busy spool: try again soon */
#define SYNC_OUTBOX_BATCH    64
/* A session is replaced only when Consul has said it does not know it twice, this far apart: a
 * server that has just restarted answers "not found" until its state is restored (seen on 1.8.7:
 * a renewal right after a restart), and a replaced session costs a lock-delay. */
#define SYNC_GONE_CONFIRM_MS 1000
/* An ACL refusal is not fixed by asking again soon: the operator has to change the token or its
 * policy, so the refused step is tried again at this pace, not on the outage backoff. */
#define SYNC_DENIED_RETRY_MS 30000

/* What a step says about the round. */
enum sync_rc {
	SYNC_OK,      /* done: go on */
	SYNC_DOWN,    /* Consul could not be asked: back off */
	SYNC_LATER,   /* Consul answered but not yet (lock-delay, busy spool): retry soon */
	SYNC_SESSION, /* the session is gone: create a new one, re-acquire */
	SYNC_DENIED,  /* an ACL refused a call (sync_denied recorded it): retry in 30 s */
};

struct sync_state {
	int enabled;
	const struct config *cfg; /* borrowed */
	struct spool *sp;         /* borrowed; the worker's handle */
	struct consul *c;
	char *session;      /* the node's session as last known, NULL if none */
	char *old_session;  /* the one it replaced, until the entries are re-acquired */
	int64_t gone_since; /* monotonic ms of the first "not found" (0: none) */
	char *name;         /* "factotum-server:<consul-name>" */
	int64_t renew_at;   /* monotonic ms: next renewal */
	int64_t retry_at;   /* monotonic ms: no Consul call before this (0: none pending) */
	int backoff_ms;
	int down;         /* the last attempt could not reach Consul */
	int need_session; /* a txn said the session is invalid: renew (and confirm) now */
	int need_reacquire;
	/* ACL refusals: logged and stored (SETTINGS_CONSUL_DENIED) once per change */
	int denied;              /* the last refused round has not been followed by a good one */
	int denied_stored;       /* the spool holds a refusal (perhaps an earlier worker's) */
	int denied_session;      /* the refused call was the session's own (create, renew) */
	int64_t denied_until;    /* monotonic ms: the refused steps wait until then */
	char *denied_msg;        /* the refusal of the current round, "Consul ACL denied: ..." */
	const char *denied_what; /* which step was refused, for the log */
	int64_t publish_at;      /* monotonic ms: the node's counts are written to Consul next */
};

/* The module state (statesync.h says why it is not a handle). */
static struct sync_state g;

int statesync_init(const struct config *cfg, struct spool *sp)
{
	char *err = NULL;

	memset(&g, 0, sizeof(g));
	if (cfg->no_consul)
		return 0;
	if (consul_global_init(&err) != 0) {
		fprintf(stderr, "factotum-server-worker: %s\n", err);
		free(err);
		return -1;
	}
	g.enabled = 1;
	g.cfg = cfg;
	g.sp = sp;
	g.c = consul_new(cfg, STATESYNC_TIMEOUT_MS);
	g.name = xasprintf("factotum-server:%s", cfg->consul_name);
	g.backoff_ms = SYNC_BACKOFF_MIN_MS;
	if (spool_setting_get(sp, SETTINGS_CONSUL_DENIED, &err, NULL) == 0)
		g.denied_stored = 1;
	free(err);
	err = NULL;
	if (spool_setting_get(sp, SETTINGS_CONSUL_SESSION, &g.session, NULL) != 0)
		g.session = NULL;
	else if (*g.session == '\0') {
		free(g.session);
		g.session = NULL;
	}
	return 0;
}

void statesync_free(void)
{
	if (!g.enabled)
		return;
	consul_free(g.c);
	free(g.session);
	free(g.old_session);
	free(g.name);
	free(g.denied_msg);
	memset(&g, 0, sizeof(g));
}

/* ---- ACL refusals ---- */

/* Keeps err (consul.h's FS_EDENIED text) as the round's refusal of step what (static text);
 * session: the refused call kept the session. Returns SYNC_DENIED. */
static enum sync_rc sync_denied(const char *err, const char *what, int session)
{
	free(g.denied_msg);
	g.denied_msg = xstrdup(err != NULL ? err : "Consul ACL denied");
	g.denied_what = what;
	g.denied_session = session;
	return SYNC_DENIED;
}

/* After a refused round: said once per change (log and spool), then quiet until it changes. */
static void sync_denied_note(void)
{
	int64_t now = clock_mono_ms();

	if (!g.denied) {
		log_warn("consul: %s (%s); retried every %d s until the token or its policy "
			 "allows it",
			 g.denied_msg, g.denied_what, SYNC_DENIED_RETRY_MS / 1000);
		if (spool_setting_set(g.sp, SETTINGS_CONSUL_DENIED, g.denied_msg, NULL) == 0)
			g.denied_stored = 1;
	} else {
		log_debug("consul: still refused by the ACL (%s); next try in %d s", g.denied_what,
			  SYNC_DENIED_RETRY_MS / 1000);
	}
	g.denied = 1;
	g.down = 0;
	g.backoff_ms = SYNC_BACKOFF_MIN_MS;
	g.denied_until = now + SYNC_DENIED_RETRY_MS;
	g.retry_at = g.denied_until;
	/* a session that is still ours is renewed on time meanwhile (sync_run) */
	if (!g.denied_session && g.session != NULL && g.renew_at < g.retry_at)
		g.retry_at = g.renew_at;
}

/* After a round that went through: the refusal, if any, is over. */
static void sync_denied_over(void)
{
	if (g.denied)
		log_info("consul: the ACL token is accepted again");
	if ((g.denied || g.denied_stored) &&
	    spool_setting_set(g.sp, SETTINGS_CONSUL_DENIED, NULL, NULL) == 0)
		g.denied_stored = 0;
	g.denied = 0;
	g.denied_until = 0;
}

/* ---- the session ---- */

static enum sync_rc sync_session_new(void)
{
	char *id = NULL, *err = NULL;
	enum sync_rc rc = SYNC_OK;
	int crc;

	crc = consul_session_create(g.c, g.name, STATESYNC_TTL_S, STATESYNC_LOCK_DELAY_S, &id,
				    &err);
	if (crc == FS_EDENIED) {
		rc = sync_denied(err, "creating the node's session", 1);
		goto done;
	}
	if (crc != 0) {
		log_warn("consul: cannot create the node's session: %s", err);
		rc = SYNC_DOWN;
		goto done;
	}
	/* stored first, so that no claim of /submit can use a session this node forgot */
	if (spool_setting_set(g.sp, SETTINGS_CONSUL_SESSION, id, &err) != 0) {
		log_warn("consul: cannot store the session: %s", err);
		(void)consul_session_destroy(g.c, id, NULL);
		rc = SYNC_LATER;
		goto done;
	}
	log_info("consul: new session %s%s%s", id, g.session != NULL ? " replacing " : "",
		 g.session != NULL ? g.session : "");
	if (g.session != NULL) {
		/* make sure it is gone (its locks released): were Consul wrong about it, it would
		 * keep our entries from the new one. Lock-delay follows; re-acquisition waits. */
		(void)consul_session_destroy(g.c, g.session, NULL);
		free(g.old_session);
		g.old_session = g.session;
	}
	g.session = id;
	id = NULL;
	g.need_session = 0;
	g.gone_since = 0;
	/* every entry the old session held has lost its lock */
	g.need_reacquire = 1;
	g.renew_at = clock_mono_ms() + STATESYNC_RENEW_MS;
done:
	free(id);
	free(err);
	return rc;
}

static enum sync_rc sync_session_keep(int force)
{
	char *err = NULL;
	int rc;

	if (g.session == NULL)
		return sync_session_new();
	if (!force && !g.need_session && g.gone_since == 0 && clock_mono_ms() < g.renew_at)
		return SYNC_OK;
	rc = consul_session_renew(g.c, g.session, &err);
	if (rc == FS_ENOENT) {
		free(err);
		if (g.gone_since == 0)
			g.gone_since = clock_mono_ms();
		if (clock_mono_ms() - g.gone_since < SYNC_GONE_CONFIRM_MS)
			return SYNC_LATER; /* asked again in a moment (SYNC_GONE_CONFIRM_MS) */
		log_warn("consul: session %s is gone", g.session);
		return sync_session_new();
	}
	g.gone_since = 0;
	g.need_session = 0;
	if (rc == FS_EDENIED) {
		enum sync_rc d = sync_denied(err, "renewing the node's session", 1);

		free(err);
		return d;
	}
	if (rc != 0) {
		log_warn("consul: cannot renew the session: %s", err);
		free(err);
		return SYNC_DOWN;
	}
	g.renew_at = clock_mono_ms() + STATESYNC_RENEW_MS;
	return SYNC_OK;
}

/* ---- losing a job ---- */

/* Drops the outbox entries of a DONE job (spool_abandon drops those of the others). */
static void sync_drop_outbox(const char *id)
{
	struct spool_outbox *es = NULL;
	size_t n = 0, i;

	if (spool_outbox_list(g.sp, 0, &es, &n, NULL) != 0)
		return;
	for (i = 0; i < n; i++)
		if (strcmp(es[i].tr.job_id, id) == 0)
			(void)spool_outbox_delete(g.sp, es[i].oid, 0, NULL);
	spool_outbox_list_free(es, n);
}

/* The node no longer owns job's entry: recorded, never written again. */
static void sync_lost(const struct spool_job *job, const char *why)
{
	char *key = settings_key(SETTINGS_LOST_PREFIX, job->id);
	char *val = xasprintf("{\"at\":%lld,\"state\":\"%s\",\"index\":%lld,\"why\":\"%s\"}",
			      (long long)clock_real_ms(), spool_state_name(job->state),
			      (long long)job->consul_index, why);
	char *err = NULL;

	log_warn("consul: job %s: lost its Consul entry (%s); another node owns it, "
		 "nothing is written there",
		 job->id, why);
	(void)spool_setting_set(g.sp, key, val, NULL);
	if (job->state == SPOOL_DONE)
		sync_drop_outbox(job->id);
	else if (spool_abandon(g.sp, job->id, STATESYNC_LOST_REASON, &err) != 0)
		log_warn("consul: job %s: %s", job->id, err);
	if (job->state == SPOOL_WORKING && job->pid > 0) {
		/* its run duplicates the new owner's: the worker stops it as it stops any
		 * cancelled run (its outcome then finds the job DONE already) */
		char *ckey = settings_key(SETTINGS_CANCEL_PREFIX, job->id);
		char *when = xasprintf("%lld", (long long)clock_real_ms());

		(void)spool_setting_set(g.sp, ckey, when, NULL);
		free(ckey);
		free(when);
	}
	free(err);
	free(key);
	free(val);
}

/* ---- re-acquisition ---- */

static int sync_lock_delay(const struct consul_txn_result *res)
{
	size_t i;

	for (i = 0; i < res->n_errors; i++)
		if (res->errors[i].what != NULL &&
		    strstr(res->errors[i].what, "lock delay") != NULL)
			return 1;
	return 0;
}

/* Locks job's entry with the current session again, as it is (the outbox then replays what is
 * still to be written), fenced by the index last seen. */
static enum sync_rc sync_reacquire_one(const struct spool_job *job)
{
	struct consul_kv kv;
	struct consul_txn_result res;
	struct consul_op ops[2];
	char *key = jobentry_key(g.cfg->consul_namespace, job->id), *err = NULL;
	enum sync_rc rc = SYNC_OK;
	int crc;

	memset(&kv, 0, sizeof(kv));
	memset(&res, 0, sizeof(res));
	memset(ops, 0, sizeof(ops));
	crc = consul_kv_get(g.c, key, &kv, &err);
	if (crc == 0 && kv.session != NULL && strcmp(kv.session, g.session) == 0) {
		/* ours already (only this session can have written it since it was locked): a
		 * re-acquisition whose index did not reach the spool, at worst */
		if (kv.modify_index != job->consul_index &&
		    spool_consul_index_set(g.sp, job->id, kv.modify_index, NULL) != 0)
			rc = SYNC_LATER;
		goto done;
	}
	if (crc == FS_ENOENT || (crc == 0 && kv.modify_index != job->consul_index)) {
		sync_lost(job, crc == FS_ENOENT ? "the key is gone" : "its index moved");
		goto done;
	}
	if (crc == FS_EDENIED) {
		rc = sync_denied(err, "re-acquiring the node's entries", 0);
		goto done;
	}
	if (crc != 0) {
		rc = SYNC_DOWN;
		goto done;
	}
	if (kv.session != NULL && g.old_session != NULL && strcmp(kv.session, g.old_session) == 0) {
		/* the replaced session still holds it: released once the destroy gets through */
		(void)consul_session_destroy(g.c, g.old_session, NULL);
		rc = SYNC_LATER;
		goto done;
	}
	ops[0] = (struct consul_op){ .verb = CONSUL_CHECK_INDEX,
				     .key = key,
				     .index = job->consul_index };
	ops[1] = (struct consul_op){ .verb = CONSUL_LOCK,
				     .key = key,
				     .value = kv.value != NULL ? kv.value : "",
				     .session = g.session };
	crc = consul_txn(g.c, ops, 2, &res, &err);
	if (crc == 0) {
		free(err);
		err = NULL;
		if (spool_consul_index_set(g.sp, job->id, res.last_index, &err) != 0) {
			log_warn("consul: job %s: %s", job->id, err);
			rc = SYNC_LATER;
		}
	} else if (crc == FS_EEXIST && consul_txn_invalid_session(&res)) {
		rc = SYNC_SESSION;
	} else if (crc == FS_EEXIST && sync_lock_delay(&res)) {
		rc = SYNC_LATER; /* our own old session's lock-delay: ours again in a moment */
	} else if (crc == FS_EEXIST) {
		sync_lost(job, "its index moved");
	} else if (crc == FS_EDENIED) {
		rc = sync_denied(err, "re-acquiring the node's entries", 0);
	} else {
		rc = SYNC_DOWN;
	}
done:
	if (rc == SYNC_DOWN || rc == SYNC_LATER)
		log_info("consul: job %s: not re-acquired yet%s%s", job->id,
			 err != NULL ? ": " : "", err != NULL ? err : "");
	consul_kv_clear(&kv);
	consul_txn_result_clear(&res);
	free(key);
	free(err);
	return rc;
}

/* Every entry the node should hold: its QUEUED and WORKING jobs, and the DONE ones whose
 * finish is still in the outbox (their entries still carry the lock). */
static enum sync_rc sync_reacquire(void)
{
	struct spool_job *q = NULL, *wk = NULL, *job = NULL;
	struct spool_outbox *es = NULL;
	size_t nq = 0, nw = 0, ne = 0, n = 0, i, k;
	const char **ids = NULL;
	char *err = NULL;
	enum sync_rc rc = SYNC_OK, one;

	if (spool_list(g.sp, SPOOL_QUEUED, 0, 0, &q, &nq, &err) != 0 ||
	    spool_list(g.sp, SPOOL_WORKING, 0, 0, &wk, &nw, &err) != 0 ||
	    spool_outbox_list(g.sp, 0, &es, &ne, &err) != 0) {
		log_warn("consul: re-acquisition: %s", err);
		rc = SYNC_LATER;
		goto done;
	}
	/* the ids, each once (borrowed from the lists) */
	ids = xgrow_by_one(NULL, nq + nw + ne + 1, sizeof(*ids));
	for (i = 0; i < nq; i++)
		ids[n++] = q[i].id;
	for (i = 0; i < nw; i++)
		ids[n++] = wk[i].id;
	for (i = 0; i < ne; i++) {
		for (k = 0; k < n && strcmp(ids[k], es[i].tr.job_id) != 0; k++)
			;
		if (k == n)
			ids[n++] = es[i].tr.job_id;
	}
	for (i = 0; i < n && rc != SYNC_DOWN && rc != SYNC_SESSION && rc != SYNC_DENIED; i++) {
		/* read now: an earlier step of this loop may have changed it */
		if (spool_get(g.sp, ids[i], &job, NULL) != 0)
			continue;
		/* never claimed in Consul (queued with --no-consul) */
		one = job->consul_index > 0 ? sync_reacquire_one(job) : SYNC_OK;
		if (one != SYNC_OK)
			rc = one;
		spool_job_free(job);
		job = NULL;
	}
	if (rc == SYNC_OK) {
		g.need_reacquire = 0;
		free(g.old_session);
		g.old_session = NULL;
		log_info("consul: the node's entries are held by session %s", g.session);
	}
done:
	free(ids);
	spool_job_list_free(q, nq);
	spool_job_list_free(wk, nw);
	spool_outbox_list_free(es, ne);
	free(err);
	return rc;
}

/* ---- the outbox ---- */

/* The value of transition tr of job: the row's submission and run, the transition's state. */
static char *sync_value(const struct spool_job *job, const struct spool_transition *tr)
{
	struct jobentry e;
	char *v;

	jobentry_from_job(&e, job);
	e.state = tr->state;
	e.outcome = tr->outcome;
	e.updated_ms = tr->at_ms;
	free(e.last_run_from);
	free(e.node);
	e.last_run_from = xstrdup(tr->node != NULL ? tr->node : g.cfg->consul_name);
	e.node = xstrdup(e.last_run_from);
	free(e.reason);
	e.reason = NULL;
	if (tr->state == SPOOL_DONE) {
		e.exit_code = tr->exit_code;
		e.exit_signal = tr->exit_signal;
		e.reason = tr->reason != NULL ? xstrdup(tr->reason) : NULL;
		if (e.finished_ms == 0)
			e.finished_ms = tr->at_ms;
	} else {
		/* a later finish of the row is not this transition's */
		e.exit_code = -1;
		e.exit_signal = 0;
		e.finished_ms = 0;
		if (tr->state == SPOOL_QUEUED)
			e.started_ms = 0;
	}
	v = jobentry_build(&e);
	jobentry_free(&e);
	return v;
}

/* Delivers one outbox entry. *lostp is set when the job turned out to be lost. */
static enum sync_rc sync_deliver_one(const struct spool_outbox *ob, int *lostp)
{
	const struct spool_transition *tr = &ob->tr;
	struct spool_job *job = NULL;
	struct consul_txn_result res;
	struct consul_kv kv;
	struct consul_op ops[3];
	char *key = NULL, *value = NULL, *err = NULL, *txn_err = NULL;
	enum sync_rc rc = SYNC_OK;
	int64_t delivered = -1; /* >= 0: remove the entry, with this index (0: none) */
	int crc, done = tr->state == SPOOL_DONE;

	memset(&res, 0, sizeof(res));
	memset(&kv, 0, sizeof(kv));
	memset(ops, 0, sizeof(ops));
	crc = spool_get(g.sp, tr->job_id, &job, &err);
	if (crc == FS_ENOENT || (crc == 0 && tr->at_ms < job->created_ms)) {
		/* no such job any more, or a transition of an earlier submission of the id: the
		 * entry now belongs to a newer claim, which this must never overwrite */
		delivered = 0;
		goto done;
	}
	if (crc != 0) {
		log_warn("consul: outbox: %s", err);
		rc = SYNC_LATER;
		goto done;
	}
	if (job->consul_index <= 0) {
		delivered = 0; /* queued with --no-consul: never claimed, nothing to mirror */
		goto done;
	}
	key = jobentry_key(g.cfg->consul_namespace, job->id);
	value = sync_value(job, tr);
	ops[0] = (struct consul_op){ .verb = CONSUL_CHECK_INDEX,
				     .key = key,
				     .index = job->consul_index };
	if (done) {
		ops[1] = (struct consul_op){
			.verb = CONSUL_UNLOCK, .key = key, .value = value, .session = g.session
		};
	} else {
		ops[1] = (struct consul_op){ .verb = CONSUL_CHECK_SESSION,
					     .key = key,
					     .session = g.session };
		ops[2] = (struct consul_op){
			.verb = CONSUL_LOCK, .key = key, .value = value, .session = g.session
		};
	}
	crc = consul_txn(g.c, ops, done ? 2 : 3, &res, &err);
	if (crc == 0) {
		delivered = res.last_index;
		log_info("consul: job %s: %s/%s written (index %lld)", job->id,
			 spool_state_name(tr->state), spool_outcome_name(tr->outcome),
			 (long long)res.last_index);
		goto done;
	}
	if (crc == FS_EDENIED) {
		rc = sync_denied(err, "writing the node's job entries", 0);
		goto done;
	}
	if (crc != FS_EEXIST) {
		log_warn("consul: job %s: %s not written yet: %s", job->id,
			 spool_state_name(tr->state), err);
		rc = SYNC_DOWN;
		goto done;
	}
	if (consul_txn_invalid_session(&res)) {
		rc = SYNC_SESSION;
		goto done;
	}
	/* refused: find out why from the entry itself */
	txn_err = err;
	err = NULL;
	crc = consul_kv_get(g.c, key, &kv, &err);
	if (crc == FS_EDENIED) {
		rc = sync_denied(err, "reading the node's job entries", 0);
		goto done;
	}
	if (crc != 0 && crc != FS_ENOENT) {
		rc = SYNC_DOWN;
		goto done;
	}
	if (crc == 0 && kv.value != NULL && strcmp(kv.value, value) == 0 &&
	    (done ? kv.session == NULL
		  : kv.session != NULL && strcmp(kv.session, g.session) == 0)) {
		/* written by an earlier attempt whose answer was lost (a timeout, or a worker
		 * that died before removing the entry): delivered */
		delivered = kv.modify_index;
		log_info("consul: job %s: %s/%s written (index %lld) by an earlier "
			 "attempt",
			 job->id, spool_state_name(tr->state), spool_outcome_name(tr->outcome),
			 (long long)kv.modify_index);
		goto done;
	}
	if (crc == FS_ENOENT || kv.modify_index != job->consul_index) {
		log_info("consul: job %s: %s refused (%s); the entry is at index %lld, "
			 "ours %lld",
			 job->id, spool_state_name(tr->state), txn_err, (long long)kv.modify_index,
			 (long long)job->consul_index);
		sync_lost(job, crc == FS_ENOENT ? "the key is gone" : "its index moved");
		*lostp = 1;
		delivered = 0;
		goto done;
	}
	/* the index is ours but the lock is not (the session was replaced): lock it again */
	g.need_reacquire = 1;
	rc = SYNC_LATER;
done:
	if (delivered >= 0) {
		free(err);
		err = NULL;
		crc = spool_outbox_delete(g.sp, ob->oid, delivered, &err);
		/* FS_ENOENT after a loss is expected: spool_abandon dropped the job's entries */
		if (crc != 0 && crc != FS_ENOENT) {
			log_warn("consul: outbox entry %lld not removed: %s", (long long)ob->oid,
				 err);
			rc = SYNC_LATER;
		}
	}
	consul_kv_clear(&kv);
	consul_txn_result_clear(&res);
	spool_job_free(job);
	free(key);
	free(value);
	free(err);
	free(txn_err);
	return rc;
}

/* Delivers the outbox, oldest first, until it is empty or a step stops. *lost_idp (if lost_id)
 * is set when that job was found lost. */
static enum sync_rc sync_deliver(const char *lost_id, int *lost_idp)
{
	struct spool_outbox *es = NULL;
	size_t n = 0, i;
	char *err = NULL;
	enum sync_rc rc = SYNC_OK;
	int lost, again = 1;

	while (again && rc == SYNC_OK) {
		again = 0;
		if (spool_outbox_list(g.sp, SYNC_OUTBOX_BATCH, &es, &n, &err) != 0) {
			log_warn("consul: outbox: %s", err);
			rc = SYNC_LATER;
			break;
		}
		for (i = 0; i < n && rc == SYNC_OK; i++) {
			lost = 0;
			rc = sync_deliver_one(&es[i], &lost);
			if (lost && lost_id != NULL && strcmp(es[i].tr.job_id, lost_id) == 0)
				*lost_idp = 1;
			if (lost) {
				/* the job's later entries are gone from the spool: list again */
				again = 1;
				break;
			}
		}
		if (n == SYNC_OUTBOX_BATCH)
			again = 1;
		spool_outbox_list_free(es, n);
		es = NULL;
		n = 0;
	}
	free(err);
	return rc;
}

/* ---- undos the responder could not write ---- */

static enum sync_rc sync_undo_one(const struct spool_setting *s)
{
	struct json_object *o = json_tokener_parse(s->value), *v;
	struct consul_op ops[2];
	const char *key = NULL, *session = NULL, *prev = NULL;
	int64_t index = 0;
	enum sync_rc rc = SYNC_OK;
	char *err = NULL;
	int crc;

	memset(ops, 0, sizeof(ops));
	if (o != NULL && json_object_object_get_ex(o, "key", &v) &&
	    json_object_is_type(v, json_type_string))
		key = json_object_get_string(v);
	if (o != NULL && json_object_object_get_ex(o, "session", &v) &&
	    json_object_is_type(v, json_type_string))
		session = json_object_get_string(v);
	if (o != NULL && json_object_object_get_ex(o, "index", &v) &&
	    json_object_is_type(v, json_type_int))
		index = json_object_get_int64(v);
	if (o != NULL && json_object_object_get_ex(o, "value", &v) &&
	    json_object_is_type(v, json_type_string))
		prev = json_object_get_string(v);
	if (key == NULL || session == NULL || index <= 0) {
		log_warn("consul: dropping the malformed undo record %s", s->key);
		(void)spool_setting_set(g.sp, s->key, NULL, NULL);
		goto done;
	}
	/* as the responder's own undo (fcgi/claim.c): fenced by the claim's index */
	ops[0] = (struct consul_op){ .verb = prev == NULL ? CONSUL_DELETE_CAS : CONSUL_CHECK_INDEX,
				     .key = key,
				     .index = index };
	ops[1] = (struct consul_op){
		.verb = CONSUL_UNLOCK, .key = key, .value = prev, .session = session
	};
	crc = consul_txn(g.c, ops, prev == NULL ? 1 : 2, NULL, &err);
	if (crc == FS_EDENIED) {
		rc = sync_denied(err, "undoing a claim", 0);
	} else if (crc == 0 || crc == FS_EEXIST) {
		/* undone, or the entry moved on and there is nothing of ours to undo */
		log_info("consul: undo of %s %s", key,
			 crc == 0 ? "written" : "not needed any more");
		(void)spool_setting_set(g.sp, s->key, NULL, NULL);
	} else {
		rc = SYNC_DOWN;
	}
done:
	json_object_put(o);
	free(err);
	return rc;
}

static enum sync_rc sync_undo(void)
{
	struct spool_setting *list = NULL;
	size_t n = 0, i;
	enum sync_rc rc = SYNC_OK;

	if (spool_setting_list(g.sp, SETTINGS_UNDO_PREFIX, &list, &n, NULL) != 0)
		return SYNC_LATER;
	for (i = 0; i < n && rc == SYNC_OK; i++)
		rc = sync_undo_one(&list[i]);
	spool_setting_list_free(list, n);
	return rc;
}

/* ---- the node's counts for /nodes ---- */

/* Writes the node's queued and running counts at <ns>/nodes/<name>, locked by the session so
 * that the key reads as live only while the session is (nodeinfo.h), when NODEINFO_PUBLISH_MS
 * have passed since the last write. A refusal other than a gone session (another session still
 * holds the key: a previous session's, until Consul lets it go) waits for the next period. */
static enum sync_rc sync_publish(void)
{
	struct spool_counts cnt;
	struct nodeinfo n = { 0 };
	struct consul_txn_result res;
	struct consul_op op = { .verb = CONSUL_LOCK };
	char *err = NULL;
	enum sync_rc rc = SYNC_OK;
	int trc;

	if (g.session == NULL || clock_mono_ms() < g.publish_at ||
	    spool_count(g.sp, &cnt, NULL) != 0)
		return SYNC_OK;
	n.name = g.cfg->consul_name;
	n.address = nodeinfo_address(g.cfg->ip, g.cfg->port);
	n.queued = cnt.queued;
	n.running = cnt.working;
	n.updated_ms = clock_real_ms();
	op.key = nodeinfo_key(g.cfg->consul_namespace, g.cfg->consul_name);
	op.value = nodeinfo_build(&n);
	op.session = g.session;
	trc = consul_txn(g.c, &op, 1, &res, &err);
	if (trc == FS_EIO) {
		log_warn("consul: cannot publish the node's counts: %s", err);
		rc = SYNC_DOWN;
	} else if (trc == FS_EEXIST && consul_txn_invalid_session(&res)) {
		rc = SYNC_SESSION;
	} else {
		if (trc != 0)
			log_warn("consul: the node's counts not published: %s", err);
		/* an ACL that refuses the node's key holds up this write only, not the job
		 * entries' */
		g.publish_at = clock_mono_ms() +
			       (trc == FS_EDENIED ? SYNC_DENIED_RETRY_MS : NODEINFO_PUBLISH_MS);
	}
	consul_txn_result_clear(&res);
	free((char *)op.key);
	free((char *)op.value);
	free(n.address);
	free(err);
	return rc;
}

/* ---- rounds ---- */

/* Remembers how the round ended: the backoff grows while Consul is down. */
static void sync_after(enum sync_rc rc)
{
	int64_t now = clock_mono_ms();

	switch (rc) {
	case SYNC_OK:
		if (g.down)
			log_info("consul: reachable again");
		sync_denied_over();
		g.down = 0;
		g.retry_at = 0;
		g.backoff_ms = SYNC_BACKOFF_MIN_MS;
		break;
	case SYNC_DOWN:
		g.down = 1;
		g.retry_at = now + g.backoff_ms;
		g.backoff_ms = g.backoff_ms * 2 > SYNC_BACKOFF_MAX_MS ? SYNC_BACKOFF_MAX_MS
								      : g.backoff_ms * 2;
		break;
	case SYNC_LATER:
		g.down = 0;
		g.retry_at = now + SYNC_LATER_MS;
		break;
	case SYNC_SESSION:
		g.need_session = 1;
		g.retry_at = 0;
		break;
	case SYNC_DENIED:
		sync_denied_note();
		break;
	}
}

/* One round: every step, in order, until one stops. force renews the session now. */
static void sync_run(int force)
{
	enum sync_rc rc;
	int tries = 0;

	if (!g.enabled || (g.retry_at != 0 && clock_mono_ms() < g.retry_at))
		return;
	do {
		rc = sync_session_keep(force);
		if (rc == SYNC_OK && g.denied && !g.denied_session &&
		    clock_mono_ms() < g.denied_until) {
			/* the session is kept; the steps an ACL refused wait for their retry */
			g.retry_at = g.renew_at < g.denied_until ? g.renew_at : g.denied_until;
			return;
		}
		if (rc == SYNC_OK && g.need_reacquire)
			rc = sync_reacquire();
		if (rc == SYNC_OK)
			rc = sync_deliver(NULL, NULL);
		if (rc == SYNC_OK)
			rc = sync_undo();
		if (rc == SYNC_OK)
			rc = sync_publish();
		sync_after(rc);
		/* a session found gone mid-round: a new one, then the round again (once) */
	} while (rc == SYNC_SESSION && ++tries < 2);
}

void statesync_start(void)
{
	struct timespec ts = { 0, 100 * 1000000L };
	int64_t until = clock_mono_ms() + 3 * SYNC_GONE_CONFIRM_MS;

	sync_run(1);
	/* a stored session Consul says it does not know is asked about again before anything is
	 * recovered or claimed: if it is gone, the jobs it held must be re-acquired first */
	while (g.enabled && g.gone_since != 0 && !g.down && clock_mono_ms() < until) {
		nanosleep(&ts, NULL);
		sync_run(0);
	}
}

void statesync_round(void)
{
	sync_run(0);
}

int statesync_poll_ms(int max_ms)
{
	int64_t now, due;

	if (!g.enabled)
		return max_ms;
	now = clock_mono_ms();
	due = g.renew_at;
	if (g.retry_at != 0 && g.retry_at < due)
		due = g.retry_at;
	/* (while backing off, sync_run waits for retry_at whatever is due) */
	if (g.retry_at == 0 && g.publish_at < due)
		due = g.publish_at;
	if (g.session == NULL || g.need_session)
		due = g.retry_at;
	if (due - now > max_ms)
		return max_ms;
	return due > now ? (int)(due - now) : 0;
}

int statesync_may_dispatch(void)
{
	/* cut off from Consul, or refused by its ACL: the node keeps running its queue */
	if (!g.enabled || g.down || g.denied)
		return 1;
	return !(g.need_reacquire || g.need_session || g.gone_since != 0 || g.session == NULL);
}

int statesync_denied(void)
{
	return g.enabled && g.denied;
}

int statesync_claimed(const char *id)
{
	enum sync_rc rc;
	int lost = 0;

	if (!g.enabled || g.down || g.session == NULL || g.denied)
		return 0; /* unreachable or refused: run it; the entry waits in the outbox
			   * (statesync.h) */
	rc = sync_deliver(id, &lost);
	if (rc != SYNC_OK)
		sync_after(rc);
	if (lost) {
		log_warn("job %s: not started: the node lost its Consul entry", id);
		return -1;
	}
	return 0;
}

void statesync_stop(size_t nruns)
{
	struct spool_counts cnt;
	struct spool_outbox *es = NULL;
	size_t ne = 0;
	char *err = NULL;

	if (!g.enabled || g.session == NULL)
		return;
	if (nruns != 0 || spool_count(g.sp, &cnt, NULL) != 0 || cnt.queued != 0 ||
	    cnt.working != 0 || spool_outbox_list(g.sp, 1, &es, &ne, NULL) != 0 || ne != 0) {
		log_info("consul: session %s kept: the node still holds work", g.session);
		goto done;
	}
	if (consul_session_destroy(g.c, g.session, &err) != 0) {
		log_warn("consul: cannot destroy session %s: %s", g.session, err);
		goto done;
	}
	(void)spool_setting_set(g.sp, SETTINGS_CONSUL_SESSION, NULL, NULL);
	log_info("consul: session %s destroyed", g.session);
done:
	spool_outbox_list_free(es, ne);
	free(err);
}

/* ---- the supervisor's renewer ---- */

struct statesync_renewer {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop;
};

static void *renewer_main(void *arg)
{
	struct statesync_renewer *r = arg;
	struct consul *c = consul_new(g.cfg, STATESYNC_TIMEOUT_MS);
	struct spool *sp = NULL;
	struct timespec until;
	char *id = NULL;

	/* its own spool handle and client: those of the worker belong to another process */
	if (spool_open(&sp, g.cfg->spool, 0, NULL) != 0)
		sp = NULL;
	pthread_mutex_lock(&r->mu);
	while (!r->stop) {
		pthread_mutex_unlock(&r->mu);
		if (sp != NULL && spool_setting_get(sp, SETTINGS_CONSUL_SESSION, &id, NULL) == 0) {
			if (*id != '\0')
				(void)consul_session_renew(c, id, NULL);
			free(id);
			id = NULL;
		}
		clock_deadline(CLOCK_MONOTONIC, STATESYNC_RENEW_MS, &until);
		pthread_mutex_lock(&r->mu);
		while (!r->stop && pthread_cond_timedwait(&r->cv, &r->mu, &until) == 0)
			;
	}
	pthread_mutex_unlock(&r->mu);
	/* the process exits right after: its client and spool go with it */
	return NULL;
}

struct statesync_renewer *statesync_renewer_start(void)
{
	struct statesync_renewer *r;
	pthread_condattr_t ca;
	pthread_attr_t ta;
	pthread_t th;

	if (!g.enabled)
		return NULL;
	r = xcalloc(1, sizeof(*r));
	pthread_mutex_init(&r->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_attr_init(&ta);
	pthread_attr_setdetachstate(&ta, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &ta, renewer_main, r) != 0) {
		log_warn("consul: the supervisor cannot renew the session");
		pthread_attr_destroy(&ta);
		free(r);
		return NULL;
	}
	pthread_attr_destroy(&ta);
	return r;
}

void statesync_renewer_stop(struct statesync_renewer *r)
{
	if (r == NULL)
		return;
	pthread_mutex_lock(&r->mu);
	r->stop = 1;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	/* not joined, not freed: the thread may be in a renewal, and the process exits next */
}
