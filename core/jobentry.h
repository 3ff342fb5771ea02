/* SPDX-License-Identifier: Apache-2.0 */
/* The job entry kept in Consul at <namespace>/<jobId> (doc/consul.md): building the value,
 * parsing it back defensively (ours and an old Rust server's), and deciding whether an entry may
 * be claimed. jobentry_to_json is the only place a job becomes this JSON: /check and /jobs answer
 * with the same shape.
 *
 * Value: the original's four fields first, only its state and outcome values —
 *   {"state":"QUEUED|WORKING|DONE",
 *    "jobRequest":{"jobId":..,"jobName":..,"factfilePath":..,"factfileArgs":[..strings..]},
 *    "lastRunFrom":"<node>","lastOutcome":"WAITING|RUNNING|SUCCEEDED|FAILED",
 * then ours (null when not known; an old Rust server writes none of them) —
 *    "node":"<node>","submitted","updated","runStarted","runFinished" (ISO 8601 UTC with
 *    milliseconds), "exitCode","exitSignal" (numbers), "reason" (string),
 *    then "submittedBy" (nginx's authenticated user, REMOTE_USER) only when there was one,
 *    then "claimedBy":{"node":..,"pid":..,"start":..,"claim":..} only in the entry /submit's
 *    claim writes: the responder process that made the claim (its pid and /proc start time in
 *    clock ticks) and the claim's number in its journal (claimlog.h), so that the worker can
 *    tell a claim whose process died before the spool commit from any later write, which
 *    carries no claimedBy}. */
#ifndef FS_JOBENTRY_H
#define FS_JOBENTRY_H

#include <stddef.h>
#include <stdint.h>

#include "spool.h"

/* Every string owned by the struct (jobentry_free); NULL only where said. */
struct jobentry {
	enum spool_state state;
	enum spool_outcome outcome; /* lastOutcome */
	char *job_id;
	char *job_name;
	char *factfile_path;
	char *factfile_args; /* a compact JSON array of strings */
	char *last_run_from;
	/* ours */
	char *node;           /* NULL when absent (an old Rust server's entry) */
	int64_t submitted_ms; /* 0 when absent; epoch ms */
	int64_t updated_ms;
	int64_t started_ms;
	int64_t finished_ms;
	int exit_code;      /* -1 when absent */
	int exit_signal;    /* 0 when absent */
	char *reason;       /* NULL when absent */
	char *submitted_by; /* NULL when absent (nobody authenticated): then not written */
	struct jobentry_claimer {
		char *node; /* NULL when absent: then not written */
		long long pid;
		unsigned long long start;
		long long claim; /* the claim's number in the process's journal */
	} claimed_by;
};

/* An empty entry (strings NULL, exit_code -1). */
void jobentry_init(struct jobentry *e);
void jobentry_free(struct jobentry *e); /* frees the strings; e may be init'ed again */

/* Fills e (init'ed here) with copies of a spool job's fields: its node is lastRunFrom and node;
 * created_ms is submitted. */
void jobentry_from_job(struct jobentry *e, const struct spool_job *job);

/* "<namespace>/<id>", a new string. */
char *jobentry_key(const char *ns, const char *id);

/* The entry as a JSON object in the order above, without claimedBy (a new object the caller
 * puts): /check and /jobs answer with it. Strings that are NULL in e are written as "" for the
 * original's fields and null for ours. */
struct json_object *jobentry_to_json(const struct jobentry *e);

/* Stored factfileArgs text as a JSON array of strings (a new object the caller puts): [] when it
 * is not an array, U+FFFD for what is not UTF-8. */
struct json_object *jobentry_args(const char *stored);

/* A string member of o as a new string; NULL when absent, not a string, or holding a NUL (our
 * strings are C strings). For the parsers of other values too. */
char *jobentry_get_str(struct json_object *o, const char *name);

/* The compact JSON value to write to Consul, with claimedBy when e has one; a new string the
 * caller frees. */
char *jobentry_build(const struct jobentry *e);

/* The QUEUED/WAITING entry a claim writes for sub (its node is lastRunFrom and node, submitted
 * and updated now, submittedBy sub->submitted_by when not NULL), with claimedBy = *by (by->node
 * not NULL): the value of /submit's claim and of a schedule slot's. A new string. */
char *jobentry_claim_build(const struct spool_submit *sub, const struct jobentry_claimer *by);

/* Parses a value (len bytes, any bytes) into e (init'ed here; free it whatever the result).
 * FS_EINVAL, with *errp naming the problem ("not JSON: ...", "field 'state' is ..."), when the
 * value is not a job entry: the four original fields must be there with their types and
 * values; ours are optional but must have their types when present; unknown fields are
 * ignored (a later version may add some). */
int jobentry_parse(const char *value, size_t len, struct jobentry *e, char **errp);

/* Whether an entry may be claimed: a DONE entry no other session holds, or a QUEUED/WORKING one
 * whose node (one of ours: it wrote "node") lost its session; anything else is held (409). */
enum jobentry_claim {
	JOBENTRY_FREE,     /* DONE and unlocked (or locked by our own session) */
	JOBENTRY_ORPHANED, /* QUEUED/WORKING, unlocked, our "node" field present: its node died */
	JOBENTRY_HELD,     /* anything else: 409 */
};
/* session: the key's lock holder (NULL when unlocked); ours: this node's session (NULL if
 * none). */
enum jobentry_claim jobentry_claimable(const struct jobentry *e, const char *session,
				       const char *ours);

/* The ops that undo a claim of key made at index (doc/consul.md): delete-cas at index when the
 * key was new (prev NULL); else check-index at index + unlock with prev by session, or, when
 * session is NULL (the lock was released meanwhile), check-index + set of prev. Fenced either
 * way: an entry that moved since is left alone. Fills ops[0..2) (strings borrowed); returns how
 * many (1 or 2). */
struct consul_op;
size_t jobentry_undo_ops(struct consul_op *ops, const char *key, int64_t index, const char *prev,
			 const char *session);

#endif
