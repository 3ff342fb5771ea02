/* SPDX-License-Identifier: Apache-2.0 */
/* The Consul job entry (see jobentry.h): build, parse, and the "free to claim" rule. */
#include "jobentry.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "consul.h"
#include "err.h"
#include "jobreq.h"
#include "utf8.h"
#include "xalloc.h"

void jobentry_init(struct jobentry *e)
{
	memset(e, 0, sizeof(*e));
	e->exit_code = -1;
}

void jobentry_free(struct jobentry *e)
{
	free(e->job_id);
	free(e->job_name);
	free(e->factfile_path);
	free(e->factfile_args);
	free(e->last_run_from);
	free(e->node);
	free(e->reason);
	free(e->submitted_by);
	free(e->claimed_by.node);
	jobentry_init(e);
}

static char *jobentry_dup(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

void jobentry_from_job(struct jobentry *e, const struct spool_job *job)
{
	jobentry_init(e);
	e->state = job->state;
	e->outcome = job->outcome;
	e->job_id = jobentry_dup(job->id);
	e->job_name = jobentry_dup(job->job_name);
	e->factfile_path = jobentry_dup(job->factfile_path);
	e->factfile_args = jobentry_dup(job->factfile_args);
	e->last_run_from = jobentry_dup(job->node);
	e->node = jobentry_dup(job->node);
	e->submitted_ms = job->created_ms;
	e->updated_ms = job->updated_ms;
	e->started_ms = job->started_ms;
	e->finished_ms = job->finished_ms;
	e->exit_code = job->exit_code;
	e->exit_signal = job->exit_signal;
	e->reason = jobentry_dup(job->reason);
	e->submitted_by = jobentry_dup(job->submitted_by);
}

char *jobentry_key(const char *ns, const char *id)
{
	return xasprintf("%s/%s", ns, id);
}

/* ISO 8601 UTC with milliseconds, or null for 0. */
static struct json_object *jobentry_time(int64_t ms)
{
	char out[CLOCK_UTC_LEN];

	if (ms <= 0 || clock_format_utc(ms, CLOCK_UTC_ISO_MS, out) != 0)
		return NULL;
	return json_object_new_string(out);
}

/* A JSON string of s[0..n) with U+FFFD for what is not UTF-8: a value an older server stored
 * unchecked must not make the Consul value, or an answer built from the entry, invalid. */
static struct json_object *jobentry_text(const char *s, size_t n)
{
	struct json_object *o;
	struct buf b;

	if (utf8_valid(s, n))
		return json_object_new_string_len(s, (int)n);
	buf_init(&b);
	utf8_sanitize(&b, s, n);
	o = json_object_new_string_len(b.data, (int)b.len);
	buf_free(&b);
	return o;
}

static struct json_object *jobentry_str(const char *s, int null_if_absent)
{
	if (s == NULL)
		return null_if_absent ? NULL : json_object_new_string("");
	return jobentry_text(s, strlen(s));
}

/* The stored factfileArgs as a JSON array of strings, [] when it is not one. */
struct json_object *jobentry_args(const char *stored)
{
	struct json_object *args = stored != NULL ? json_tokener_parse(stored) : NULL, *a;
	size_t i, n, len;
	const char *s;

	if (args == NULL || !json_object_is_type(args, json_type_array)) {
		json_object_put(args);
		return json_object_new_array();
	}
	n = json_object_array_length(args);
	for (i = 0; i < n; i++) {
		a = json_object_array_get_idx(args, i);
		if (!json_object_is_type(a, json_type_string))
			continue;
		s = json_object_get_string(a);
		len = (size_t)json_object_get_string_len(a);
		if (!utf8_valid(s, len))
			json_object_array_put_idx(args, i, jobentry_text(s, len)); /* puts a */
	}
	return args;
}

struct json_object *jobentry_to_json(const struct jobentry *e)
{
	struct json_object *o = json_object_new_object(), *jr = json_object_new_object();

	json_object_object_add(o, "state", json_object_new_string(spool_state_name(e->state)));
	json_object_object_add(jr, "jobId", jobentry_str(e->job_id, 0));
	json_object_object_add(jr, "jobName", jobentry_str(e->job_name, 0));
	json_object_object_add(jr, "factfilePath", jobentry_str(e->factfile_path, 0));
	json_object_object_add(jr, "factfileArgs", jobentry_args(e->factfile_args));
	json_object_object_add(o, "jobRequest", jr);
	json_object_object_add(o, "lastRunFrom", jobentry_str(e->last_run_from, 0));
	json_object_object_add(o, "lastOutcome",
			       json_object_new_string(spool_outcome_name(e->outcome)));
	json_object_object_add(o, "node", jobentry_str(e->node, 1));
	json_object_object_add(o, "submitted", jobentry_time(e->submitted_ms));
	json_object_object_add(o, "updated", jobentry_time(e->updated_ms));
	json_object_object_add(o, "runStarted", jobentry_time(e->started_ms));
	json_object_object_add(o, "runFinished", jobentry_time(e->finished_ms));
	json_object_object_add(o, "exitCode",
			       e->exit_code >= 0 ? json_object_new_int(e->exit_code) : NULL);
	json_object_object_add(o, "exitSignal",
			       e->exit_signal > 0 ? json_object_new_int(e->exit_signal) : NULL);
	json_object_object_add(o, "reason", jobentry_str(e->reason, 1));
	/* only when someone authenticated: an entry of a node without authentication stays as
	 * before, byte for byte */
	if (e->submitted_by != NULL)
		json_object_object_add(o, "submittedBy", jobentry_str(e->submitted_by, 1));
	return o;
}

char *jobentry_build(const struct jobentry *e)
{
	struct json_object *o = jobentry_to_json(e);
	char *s;

	/* only in a claim's entry, never in an answer: every later write, built from the spool,
	 * drops it */
	if (e->claimed_by.node != NULL) {
		struct json_object *c = json_object_new_object();

		json_object_object_add(c, "node", jobentry_str(e->claimed_by.node, 1));
		json_object_object_add(c, "pid", json_object_new_int64(e->claimed_by.pid));
		json_object_object_add(c, "start", json_object_new_uint64(e->claimed_by.start));
		json_object_object_add(c, "claim", json_object_new_int64(e->claimed_by.claim));
		json_object_object_add(o, "claimedBy", c);
	}
	s = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							      JSON_C_TO_STRING_NOSLASHESCAPE));

	json_object_put(o);
	return s;
}

char *jobentry_claim_build(const struct spool_submit *sub, const struct jobentry_claimer *by)
{
	struct jobentry e;
	char *v;

	jobentry_init(&e);
	e.state = SPOOL_QUEUED;
	e.outcome = SPOOL_WAITING;
	e.job_id = xstrdup(sub->id);
	e.job_name = xstrdup(sub->job_name);
	e.factfile_path = xstrdup(sub->factfile_path);
	e.factfile_args = xstrdup(sub->factfile_args != NULL ? sub->factfile_args : "[]");
	e.last_run_from = xstrdup(sub->node);
	e.node = xstrdup(sub->node);
	e.submitted_ms = e.updated_ms = clock_real_ms();
	e.submitted_by = sub->submitted_by != NULL ? xstrdup(sub->submitted_by) : NULL;
	e.claimed_by = *by;
	e.claimed_by.node = xstrdup(by->node);
	v = jobentry_build(&e);
	jobentry_free(&e);
	return v;
}

/* A required string member into a new string; NULL when absent or not a string (or holds a
 * NUL: our strings are C strings). */
char *jobentry_get_str(struct json_object *o, const char *name)
{
	struct json_object *v;
	const char *s;
	size_t len;

	if (!json_object_object_get_ex(o, name, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (memchr(s, '\0', len) != NULL)
		return NULL;
	return xstrdup(s);
}

/* An optional member: 1 when absent or null, 0 when present with the type, -1 otherwise. */
static int jobentry_opt(struct json_object *o, const char *name, enum json_type type,
			struct json_object **vp)
{
	if (!json_object_object_get_ex(o, name, vp) || *vp == NULL)
		return 1;
	return json_object_is_type(*vp, type) ? 0 : -1;
}

/* claimedBy, when present: {"node":string,"pid":number > 0,"start":number >= 0,
 * "claim":number > 0}. */
static int jobentry_parse_claimer(struct json_object *o, struct jobentry *e, char **errp)
{
	struct json_object *c, *v;
	int r;

	if ((r = jobentry_opt(o, "claimedBy", json_type_object, &c)) > 0)
		return 0;
	if (r < 0 || (e->claimed_by.node = jobentry_get_str(c, "node")) == NULL ||
	    !json_object_object_get_ex(c, "pid", &v) || !json_object_is_type(v, json_type_int) ||
	    (e->claimed_by.pid = json_object_get_int64(v)) <= 0 ||
	    !json_object_object_get_ex(c, "claim", &v) || !json_object_is_type(v, json_type_int) ||
	    (e->claimed_by.claim = json_object_get_int64(v)) <= 0 ||
	    !json_object_object_get_ex(c, "start", &v) || !json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) < 0) {
		free(e->claimed_by.node);
		e->claimed_by.node = NULL;
		return err_set(errp, FS_EINVAL,
			       "field 'claimedBy' is not an object with a string node and numbers "
			       "pid, start and claim");
	}
	e->claimed_by.start = json_object_get_uint64(v);
	return 0;
}

/* Our optional fields. */
static int jobentry_parse_ours(struct json_object *o, struct jobentry *e, char **errp)
{
	static const char *const times[] = { "submitted", "updated", "runStarted", "runFinished" };
	int64_t *dst[] = { &e->submitted_ms, &e->updated_ms, &e->started_ms, &e->finished_ms };
	struct json_object *v;
	size_t i;
	int r;
	int64_t n;

	if ((r = jobentry_opt(o, "node", json_type_string, &v)) < 0 ||
	    (r == 0 && (e->node = jobentry_get_str(o, "node")) == NULL))
		return err_set(errp, FS_EINVAL, "field 'node' is not a string");
	if ((r = jobentry_opt(o, "reason", json_type_string, &v)) < 0 ||
	    (r == 0 && (e->reason = jobentry_get_str(o, "reason")) == NULL))
		return err_set(errp, FS_EINVAL, "field 'reason' is not a string");
	if ((r = jobentry_opt(o, "submittedBy", json_type_string, &v)) < 0 ||
	    (r == 0 && (e->submitted_by = jobentry_get_str(o, "submittedBy")) == NULL))
		return err_set(errp, FS_EINVAL, "field 'submittedBy' is not a string");
	for (i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		if ((r = jobentry_opt(o, times[i], json_type_string, &v)) < 0 ||
		    (r == 0 && (*dst[i] = clock_parse_utc(json_object_get_string(v))) < 0))
			return err_set(errp, FS_EINVAL, "field '%s' is not an ISO 8601 UTC time",
				       times[i]);
	}
	if ((r = jobentry_opt(o, "exitCode", json_type_int, &v)) < 0 ||
	    (r == 0 && ((n = json_object_get_int64(v)) < 0 || n > 255)))
		return err_set(errp, FS_EINVAL, "field 'exitCode' is not a number from 0 to 255");
	if (r == 0)
		e->exit_code = (int)n;
	if ((r = jobentry_opt(o, "exitSignal", json_type_int, &v)) < 0 ||
	    (r == 0 && ((n = json_object_get_int64(v)) < 1 || n > 128)))
		return err_set(errp, FS_EINVAL, "field 'exitSignal' is not a signal number");
	if (r == 0)
		e->exit_signal = (int)n;
	return jobentry_parse_claimer(o, e, errp);
}

int jobentry_parse(const char *value, size_t len, struct jobentry *e, char **errp)
{
	struct json_object *o = NULL, *jr, *args, *a;
	char *detail = NULL, *s = NULL;
	size_t i, n;
	int rc = FS_EINVAL, st, oc;

	jobentry_init(e);
	if (jobreq_json_parse(value != NULL ? value : "", len, &o, &detail) != 0) {
		err_set(errp, FS_EINVAL, "not JSON: %s", detail);
		goto done;
	}
	if (!json_object_is_type(o, json_type_object)) {
		err_set(errp, FS_EINVAL, "not a JSON object");
		goto done;
	}
	/* only the original's state and outcome names, exactly: an old server must be able to
	 * read every entry, so no value of ours appears here */
	s = jobentry_get_str(o, "state");
	st = s == NULL                   ? -1
	     : strcmp(s, "QUEUED") == 0  ? SPOOL_QUEUED
	     : strcmp(s, "WORKING") == 0 ? SPOOL_WORKING
	     : strcmp(s, "DONE") == 0    ? SPOOL_DONE
					 : -1;
	free(s);
	s = jobentry_get_str(o, "lastOutcome");
	oc = s == NULL                     ? -1
	     : strcmp(s, "WAITING") == 0   ? SPOOL_WAITING
	     : strcmp(s, "RUNNING") == 0   ? SPOOL_RUNNING
	     : strcmp(s, "SUCCEEDED") == 0 ? SPOOL_SUCCEEDED
	     : strcmp(s, "FAILED") == 0    ? SPOOL_FAILED
					   : -1;
	free(s);
	s = NULL;
	if (st < 0) {
		err_set(errp, FS_EINVAL, "field 'state' is missing or not QUEUED, WORKING or DONE");
		goto done;
	}
	if (oc < 0) {
		err_set(errp, FS_EINVAL,
			"field 'lastOutcome' is missing or not WAITING, RUNNING, "
			"SUCCEEDED or FAILED");
		goto done;
	}
	e->state = (enum spool_state)st;
	e->outcome = (enum spool_outcome)oc;
	if ((e->last_run_from = jobentry_get_str(o, "lastRunFrom")) == NULL) {
		err_set(errp, FS_EINVAL, "field 'lastRunFrom' is missing or not a string");
		goto done;
	}
	if (!json_object_object_get_ex(o, "jobRequest", &jr) ||
	    !json_object_is_type(jr, json_type_object)) {
		err_set(errp, FS_EINVAL, "field 'jobRequest' is missing or not an object");
		goto done;
	}
	if ((e->job_id = jobentry_get_str(jr, "jobId")) == NULL ||
	    (e->job_name = jobentry_get_str(jr, "jobName")) == NULL ||
	    (e->factfile_path = jobentry_get_str(jr, "factfilePath")) == NULL) {
		err_set(errp, FS_EINVAL,
			"field 'jobRequest' lacks a string jobId, jobName or "
			"factfilePath");
		goto done;
	}
	if (!json_object_object_get_ex(jr, "factfileArgs", &args) ||
	    !json_object_is_type(args, json_type_array)) {
		err_set(errp, FS_EINVAL,
			"field 'jobRequest.factfileArgs' is missing or not an array");
		goto done;
	}
	n = json_object_array_length(args);
	for (i = 0; i < n; i++) {
		a = json_object_array_get_idx(args, i);
		if (!json_object_is_type(a, json_type_string)) {
			err_set(errp, FS_EINVAL,
				"field 'jobRequest.factfileArgs' holds a value that "
				"is not a string (index %zu)",
				i);
			goto done;
		}
	}
	e->factfile_args = xstrdup(
		json_object_to_json_string_ext(args, JSON_C_TO_STRING_PLAIN |
							     JSON_C_TO_STRING_NOSLASHESCAPE));
	if (jobentry_parse_ours(o, e, errp) != 0)
		goto done;
	rc = 0;
done:
	json_object_put(o);
	free(detail);
	return rc;
}

enum jobentry_claim jobentry_claimable(const struct jobentry *e, const char *session,
				       const char *ours)
{
	int locked_by_us = session != NULL && ours != NULL && strcmp(session, ours) == 0;

	if (e->state == SPOOL_DONE)
		return session == NULL || locked_by_us ? JOBENTRY_FREE : JOBENTRY_HELD;
	if (session != NULL)
		return JOBENTRY_HELD; /* a live node holds it (ours too: this node has it) */
	/* unlocked: its session died. Ours to take over only if our kind wrote it: an old Rust
	 * server never locks, so its QUEUED/WORKING entries have no session and no node field */
	return e->node != NULL ? JOBENTRY_ORPHANED : JOBENTRY_HELD;
}

size_t jobentry_undo_ops(struct consul_op *ops, const char *key, int64_t index, const char *prev,
			 const char *session)
{
	memset(ops, 0, 2 * sizeof(*ops));
	ops[0].key = ops[1].key = key;
	ops[0].index = index;
	if (prev == NULL) {
		ops[0].verb = CONSUL_DELETE_CAS;
		return 1;
	}
	ops[0].verb = CONSUL_CHECK_INDEX;
	/* unlock, not set: a set would keep our lock and leave a locked DONE entry */
	ops[1].verb = session != NULL ? CONSUL_UNLOCK : CONSUL_SET;
	ops[1].value = prev;
	ops[1].session = session;
	return 2;
}
