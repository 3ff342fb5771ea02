/* SPDX-License-Identifier: Apache-2.0 */
/* The worker's reconciliation with Consul (see reconcile.h): gathers the facts for reconrule.h's
 * decisions and carries them out, fenced as the responder's own undo and the outbox's writes
 * are. */
#include "reconcile.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "claimlog.h"
#include "clock.h"
#include "config.h"
#include "consul.h"
#include "consulsched.h"
#include "err.h"
#include "jobentry.h"
#include "log.h"
#include "proc.h"
#include "reconrule.h"
#include "settings.h"
#include "spool.h"
#include "spoolrecon.h"
#include "spoolsched.h"
#include "statesync.h"
#include "xalloc.h"

struct recon_state {
	int enabled;
	const struct config *cfg; /* borrowed */
	struct spool *sp;         /* borrowed */
	struct consul *c;
	char *session;         /* this pass's: the node's session as the spool names it, or NULL */
	int64_t due_ms;        /* monotonic: the next pass */
	char active_after[65]; /* the QUEUED/WORKING cursor: the last id checked ("": start) */
	char done_after[65];   /* the DONE page's cursor, likewise */
};

static struct recon_state r;

void reconcile_init(const struct config *cfg, struct spool *sp)
{
	memset(&r, 0, sizeof(r));
	if (cfg->no_consul)
		return;
	r.enabled = 1;
	r.cfg = cfg;
	r.sp = sp;
	r.c = consul_new(cfg, STATESYNC_TIMEOUT_MS);
}

void reconcile_free(void)
{
	if (r.enabled)
		consul_free(r.c);
	memset(&r, 0, sizeof(r));
}

/* ---- the history notes of undone slot claims ---- */

/* An undone claim that was a schedule slot's job (reconrule_slot) leaves its slot's history
 * saying fired with no job behind it: the note (refused, the undone id) is first kept in the
 * spool, so that a Consul failure now delays it instead of losing it, then written by
 * recon_note_one. */
static void recon_note_keep(const struct jobentry *e, const char *id, int abandoned)
{
	struct json_object *o;
	char *name = NULL, *key, *err = NULL;
	int64_t slot;

	if (!reconrule_slot(e, &name, &slot))
		return;
	o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "slot", json_object_new_int64(slot));
	json_object_object_add(o, "reason",
			       json_object_new_string(abandoned ? RECONRULE_ABANDONED
								: RECONRULE_INTERRUPTED));
	json_object_object_add(o, "at", json_object_new_int64(clock_real_ms()));
	key = settings_key(SETTINGS_SCHEDNOTE_PREFIX, id);
	if (spool_setting_set(r.sp, key, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
			      &err) != 0)
		log_warn("consul: schedule %s: slot %lld: its note is lost: %s", name,
			 (long long)slot, err);
	free(err);
	free(key);
	free(name);
	json_object_put(o);
}

/* Writes one kept note and removes it: 0 (written, or nothing left to note: the schedule is gone
 * or the record is not a note), -1 when Consul failed (kept for the next pass). */
static int recon_note_one(const struct spool_setting *st)
{
	struct json_object *o = json_tokener_parse(st->value), *name, *slot, *reason, *at;
	struct spoolsched_slot row;
	const char *id = settings_key_id(st->key, SETTINGS_SCHEDNOTE_PREFIX), *sched;
	char *err = NULL;
	int rc = 0, krc;

	if (o == NULL || id == NULL || !json_object_object_get_ex(o, "name", &name) ||
	    !json_object_object_get_ex(o, "slot", &slot) ||
	    !json_object_object_get_ex(o, "reason", &reason) ||
	    !json_object_object_get_ex(o, "at", &at) ||
	    !json_object_is_type(name, json_type_string) ||
	    !json_object_is_type(slot, json_type_int) ||
	    !json_object_is_type(reason, json_type_string) ||
	    !json_object_is_type(at, json_type_int)) {
		log_warn("consul: reconcile: %s: not a schedule note, dropped", st->key);
		goto drop;
	}
	sched = json_object_get_string(name);
	memset(&row, 0, sizeof(row));
	row.slot = json_object_get_int64(slot);
	row.at_ms = json_object_get_int64(at);
	row.result = SPOOLSCHED_REFUSED;
	row.reason = (char *)json_object_get_string(reason);
	row.job_id = (char *)id;
	row.count = 1;
	krc = consulsched_note(r.c, r.cfg->consul_namespace, sched, &row, &err);
	if (krc == FS_EIO || krc == FS_EDENIED || krc == FS_ESTATE) {
		log_warn("consul: reconcile: schedule %s: %s", sched, err);
		rc = -1;
		goto done;
	}
	if (krc == 0) {
		log_info("consul: schedule %s: slot %lld noted refused, job %s: %s", sched,
			 (long long)row.slot, id, row.reason);
		/* the fire counted nothing: its count comes with the spool commit it never made */
		if (spoolsched_count(r.sp, SPOOLSCHED_REFUSED, NULL, 0, NULL, &err) != 0)
			log_warn("consul: schedule %s: the slot counters: %s", sched, err);
	} else if (krc != FS_ENOENT) { /* FS_ENOENT: deleted meanwhile, with its history */
		log_warn("consul: reconcile: schedule %s: %s", sched, err);
	}
drop:
	(void)spool_setting_set(r.sp, st->key, NULL, NULL);
done:
	json_object_put(o);
	free(err);
	return rc;
}

/* ---- (1) claims of dead processes (responders, the firer) ---- */

/* One claim of f's journal, or one its responder gave up on (abandoned): 0 settled (undone, or
 * nothing to undo), -1 to try again next pass. */
static int recon_claim(const struct claimlog_file *f, const struct claimlog_rec *rec, int abandoned)
{
	struct reconrule_claim c;
	struct consul_kv kv;
	struct jobentry e;
	struct spool_job *job = NULL;
	struct consul_op ops[2];
	const char *id = strrchr(rec->key, '/'), *why;
	char *err = NULL;
	size_t n;
	int rc = 0, krc, src, parsed = 0;

	memset(&c, 0, sizeof(c));
	jobentry_init(&e);
	krc = consul_kv_get(r.c, rec->key, &kv, &err);
	if (krc != 0 && krc != FS_ENOENT) {
		log_warn("consul: reconcile: %s", err);
		rc = -1;
		goto done;
	}
	free(err);
	err = NULL;
	if (krc == 0)
		parsed = jobentry_parse(kv.value, kv.value_len, &e, NULL) == 0;
	/* only a job known to be absent counts as absent: a busy spool is asked again next pass */
	if (id != NULL && (src = spool_get(r.sp, id + 1, &job, &err)) != 0) {
		job = NULL;
		if (src != FS_ENOENT) {
			log_warn("consul: reconcile: %s", err);
			rc = -1;
			goto done;
		}
	}
	c.alive = 0;
	c.node = r.cfg->consul_name;
	c.pid = f->pid;
	c.start = f->start;
	c.number = rec->claim;
	c.kv = krc == 0 ? &kv : NULL;
	c.e = parsed ? &e : NULL;
	c.session = r.session;
	c.job = job;
	if (reconrule_claim(&c, &why) != RECONRULE_UNDO)
		goto done;
	free(err);
	err = NULL;
	n = jobentry_undo_ops(ops, rec->key, kv.modify_index, rec->prev, kv.session);
	krc = consul_txn(r.c, ops, n, NULL, &err);
	if (krc == 0 && abandoned)
		log_info("consul: %s: the claim responder %ld gave up on undone (%s)", rec->key,
			 (long)f->pid, why);
	else if (krc == 0)
		log_info("consul: %s: the claim of dead process %ld undone (%s)", rec->key,
			 (long)f->pid, why);
	else if (krc != FS_EEXIST) /* FS_EEXIST: it moved on meanwhile, not ours to undo */
		log_warn("consul: reconcile: %s", err);
	if (krc == 0 && id != NULL)
		recon_note_keep(&e, id + 1, abandoned);
	if (krc != 0 && krc != FS_EEXIST)
		rc = -1;
done:
	consul_kv_clear(&kv);
	jobentry_free(&e);
	spool_job_free(job);
	free(err);
	return rc;
}

/* The journals of responders that are gone: each settled claim by claim, then removed. -1 when
 * Consul failed (the rest waits for the next pass). */
static int recon_journals(void)
{
	struct claimlog_file *fs = NULL;
	struct claimlog_rec *recs = NULL;
	size_t nf = 0, nr = 0, i, k;
	char *err = NULL;
	int fd, rc = 0, left;

	if (claimlog_list(r.cfg->spool, &fs, &nf, &err) != 0) {
		log_warn("consul: reconcile: %s", err);
		free(err);
		return 0;
	}
	for (i = 0; i < nf && rc == 0; i++) {
		/* a live responder's journal is never read: its claims may be between their txn
		 * and their commit; the lock is the second witness (pid namespaces, /proc) */
		if (proc_is(fs[i].pid, fs[i].start) || (fd = claimlog_take(fs[i].path)) < 0)
			continue;
		left = 0;
		if (claimlog_read(fd, &recs, &nr, &err) != 0) {
			log_warn("consul: reconcile: %s: %s", fs[i].path, err);
			free(err);
			err = NULL;
			left = 1;
		}
		for (k = 0; k < nr && rc == 0; k++)
			if (recon_claim(&fs[i], &recs[k], 0) != 0)
				left = rc = -1;
		if (!left) {
			char *tmp = xasprintf("%s.tmp", fs[i].path); /* a compaction cut short */

			(void)unlink(fs[i].path);
			(void)unlink(tmp);
			free(tmp);
		}
		claimlog_recs_free(recs, nr);
		recs = NULL;
		nr = 0;
		close(fd);
	}
	claimlog_files_free(fs, nf);
	return rc;
}

/* ---- (1b) claims their responders gave up on ---- */

/* One SETTINGS_ABANDONED_PREFIX record: 0 (settled or still watched), -1 when Consul failed. A
 * claim whose txn got no answer is the claim of a dead process as far as the rule goes: its
 * responder answered 503 and never commits it. The record is kept RECONCILE_ABANDONED_MS, for a
 * txn that Consul applies late. */
static int recon_abandoned_one(const struct spool_setting *st)
{
	struct json_object *o = json_tokener_parse(st->value), *v;
	struct claimlog_file f;
	struct claimlog_rec rec;
	int64_t at = 0;
	int rc = 0;

	memset(&f, 0, sizeof(f));
	memset(&rec, 0, sizeof(rec));
	if (o == NULL || !json_object_object_get_ex(o, "key", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		log_warn("consul: reconcile: %s: not a claim record, dropped", st->key);
		(void)spool_setting_set(r.sp, st->key, NULL, NULL);
		goto done;
	}
	rec.key = (char *)json_object_get_string(v);
	if (json_object_object_get_ex(o, "claim", &v))
		rec.claim = json_object_get_int64(v);
	if (json_object_object_get_ex(o, "pid", &v))
		f.pid = (pid_t)json_object_get_int64(v);
	if (json_object_object_get_ex(o, "start", &v))
		f.start = json_object_get_uint64(v);
	if (json_object_object_get_ex(o, "value", &v) && json_object_is_type(v, json_type_string))
		rec.prev = (char *)json_object_get_string(v);
	if (json_object_object_get_ex(o, "at", &v))
		at = json_object_get_int64(v);
	if ((rc = recon_claim(&f, &rec, 1)) == 0 && clock_real_ms() - at > RECONCILE_ABANDONED_MS)
		(void)spool_setting_set(r.sp, st->key, NULL, NULL);
done:
	json_object_put(o);
	return rc;
}

/* Each spool setting under prefix through one (0 or -1), stopping at the first -1: the records
 * the reconciliation keeps in the spool (a busy spool: none this pass). */
static int recon_settings(const char *prefix, int (*one)(const struct spool_setting *))
{
	struct spool_setting *list = NULL;
	size_t n = 0, i;
	int rc = 0;

	if (spool_setting_list(r.sp, prefix, &list, &n, NULL) != 0)
		return 0;
	for (i = 0; i < n && rc == 0; i++)
		rc = one(&list[i]);
	spool_setting_list_free(list, n);
	return rc;
}

/* ---- (2) entries Consul lost ---- */

/* Writes job's entry again as the outbox would have left it, on the key's absence; then its
 * fence, unless the row moved on meanwhile. */
static int recon_rewrite(const struct spool_job *job, const char *why)
{
	struct consul_txn_result res;
	struct consul_op ops[2];
	struct jobentry e;
	char *key = jobentry_key(r.cfg->consul_namespace, job->id), *value, *err = NULL;
	int rc = 0, krc;

	jobentry_from_job(&e, job);
	value = jobentry_build(&e);
	memset(&res, 0, sizeof(res));
	memset(ops, 0, sizeof(ops));
	ops[0] = (struct consul_op){ .verb = CONSUL_CHECK_NOT_EXISTS, .key = key };
	/* as the outbox writes it: QUEUED/WORKING locked by the node, DONE released */
	ops[1] = (struct consul_op){ .verb = job->state == SPOOL_DONE ? CONSUL_SET : CONSUL_LOCK,
				     .key = key,
				     .value = value,
				     .session = job->state == SPOOL_DONE ? NULL : r.session };
	krc = consul_txn(r.c, ops, 2, &res, &err);
	if (krc == 0) {
		log_warn("consul: job %s: %s; %s/%s written again from the spool (index %lld)",
			 job->id, why, spool_state_name(job->state),
			 spool_outcome_name(job->outcome), (long long)res.last_index);
		free(err);
		err = NULL;
		if (spoolrecon_index_move(r.sp, job->id, job->consul_index, res.last_index, &err) !=
		    0)
			log_warn("consul: job %s: %s", job->id, err);
	} else if (krc != FS_EEXIST) { /* FS_EEXIST: written meanwhile (a claim, the outbox) */
		log_warn("consul: reconcile: %s", err);
		rc = -1;
	}
	consul_txn_result_clear(&res);
	jobentry_free(&e);
	free(value);
	free(key);
	free(err);
	return rc;
}

/* Checks jobs[0..n) (n <= RECONCILE_PAGE) in one txn of gets: Consul names each missing key in
 * the 409's Errors. -1 when Consul failed. */
static int recon_check(const struct spool_job *jobs, size_t n)
{
	struct consul_op ops[RECONCILE_PAGE];
	struct consul_txn_result res;
	char *keys[RECONCILE_PAGE];
	const char *why;
	size_t i;
	int rc = 0, krc, op;

	memset(ops, 0, sizeof(ops));
	memset(&res, 0, sizeof(res));
	for (i = 0; i < n; i++) {
		keys[i] = jobentry_key(r.cfg->consul_namespace, jobs[i].id);
		ops[i] = (struct consul_op){ .verb = CONSUL_GET, .key = keys[i] };
	}
	krc = n > 0 ? consul_txn(r.c, ops, n, &res, NULL) : 0;
	if (krc != 0 && krc != FS_EEXIST)
		rc = -1;
	for (i = 0; krc == FS_EEXIST && i < res.n_errors && rc == 0; i++) {
		op = res.errors[i].op_index;
		if (op < 0 || (size_t)op >= n || res.errors[i].what == NULL ||
		    strstr(res.errors[i].what, "doesn't exist") == NULL)
			continue;
		if (reconrule_entry(&jobs[op], 0, 0, r.session, &why) == RECONRULE_REWRITE)
			rc = recon_rewrite(&jobs[op], why);
	}
	consul_txn_result_clear(&res);
	for (i = 0; i < n; i++)
		free(keys[i]);
	return rc;
}

/* Checks a page of the jobs after *after (done: the DONE ones), moving *after on. *np: how many
 * were read. -1 when Consul or the spool failed. */
static int recon_page(int done, char *after, size_t *np)
{
	struct spool_job *jobs = NULL;
	char *err = NULL;
	int rc;

	*np = 0;
	if (spoolrecon_page(r.sp, done, after, RECONCILE_PAGE, &jobs, np, &err) != 0) {
		log_warn("consul: reconcile: %s", err);
		free(err);
		return -1;
	}
	rc = recon_check(jobs, *np);
	if (rc == 0 && *np > 0)
		snprintf(after, 65, "%s", jobs[*np - 1].id);
	spool_job_list_free(jobs, *np);
	return rc;
}

static int recon_entries(void)
{
	size_t n, seen = 0;

	/* the QUEUED and WORKING jobs from where the last pass stopped, RECONCILE_ACTIVE_MAX at
	 * most: all of them each pass under the queue limits, round the spool past them */
	do {
		if (recon_page(0, r.active_after, &n) != 0)
			return -1;
		seen += n;
		if (n < RECONCILE_PAGE)
			r.active_after[0] = '\0';
	} while (n == RECONCILE_PAGE && seen < RECONCILE_ACTIVE_MAX);
	if (recon_page(1, r.done_after, &n) != 0)
		return -1;
	if (n < RECONCILE_PAGE)
		r.done_after[0] = '\0'; /* round the spool: from the start next pass */
	return 0;
}

void reconcile_round(int force)
{
	if (!r.enabled || (!force && clock_mono_ms() < r.due_ms))
		return;
	r.due_ms = clock_mono_ms() + RECONCILE_PERIOD_MS;
	if (statesync_denied())
		return;
	if (spool_setting_get(r.sp, SETTINGS_CONSUL_SESSION, &r.session, NULL) != 0) {
		r.session = NULL;
	} else if (*r.session == '\0') {
		free(r.session);
		r.session = NULL;
	}
	/* the notes after the undos: a slot's note follows its undo within the pass */
	if (recon_journals() == 0 &&
	    recon_settings(SETTINGS_ABANDONED_PREFIX, recon_abandoned_one) == 0 &&
	    recon_settings(SETTINGS_SCHEDNOTE_PREFIX, recon_note_one) == 0)
		(void)recon_entries();
	free(r.session);
	r.session = NULL;
}

int reconcile_poll_ms(int max_ms)
{
	int64_t left;

	if (!r.enabled)
		return max_ms;
	left = r.due_ms - clock_mono_ms();
	if (left > max_ms)
		return max_ms;
	return left > 0 ? (int)left : 0;
}
