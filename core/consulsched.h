/* SPDX-License-Identifier: Apache-2.0 */
/* Schedules in Consul (doc/consul.md, "Schedules"): with Consul on, every node sees the same
 * schedules, kept under the job namespace:
 *
 *   <ns>/schedules/<name>           the definition and its state (value below); its ModifyIndex
 *                                   is the fence of every write (check-index);
 *   <ns>/schedule-slots/<name>/<k>  the slot history as a ring of CONSULSCHED_RING keys,
 *                                   k = seq % CONSULSCHED_RING, seq counting the schedule's
 *                                   history rows from 0: a row overwrites the one 1000 rows
 *                                   older, so the history is bounded without deletes or reads;
 *   <ns>/schedule-firer             the firing lock (worker/, not this module).
 *
 * A slot is accounted for in ONE /v1/txn: check-index of the schedule's key, set of the schedule
 * with its new state (lastSlot, lastJob, historySeq), set of the history row, and, when it
 * fires, check-not-exists + lock of the slot job's key with the node's session. So a slot never
 * becomes two jobs (the check-index fences every other firer, the check-not-exists every other
 * submission of the same id) and no slot is accounted for without its row.
 *
 * Schedule value, compact JSON, this order:
 *   {"name","cron","timezone","jobName","factfilePath","factfileArgs":[..strings..],
 *    "overlap":"allow|skip","catchUp":"none"|"last"|N,"paused":bool,
 *    "created","updated" (ISO 8601 UTC with ms),
 *    "lastSlot":<UTC seconds>,"lastJob":"<id>"|null,"lastFired":<UTC seconds>|0,
 *    "historySeq":<rows written so far>}
 * History row value: {"seq":n,"slot":<UTC s>,"at":"<ISO ms>","result":"fired|skipped|refused|
 *    missed","reason":..|null,"jobId":..|null,"count":n}
 *
 * Every function returns 0 or a negative FS_E* code with *errp (if errp) a new message the
 * caller frees; Consul's failures are consul.h's (FS_EIO "Consul unavailable: ...", FS_EDENIED
 * "Consul ACL denied: ..."). */
#ifndef FS_CONSULSCHED_H
#define FS_CONSULSCHED_H

#include <stddef.h>
#include <stdint.h>

#include "spoolsched.h"

struct consul;

/* History keys per schedule (the ring), = SPOOLSCHED_HISTORY_MAX. */
#define CONSULSCHED_RING        SPOOLSCHED_HISTORY_MAX
/* Missed rows one txn may write besides the schedule and the summary row (a txn has at most 64
 * ops). */
#define CONSULSCHED_MISSED_ROWS 48

/* Keys, new strings. */
char *consulsched_key(const char *ns, const char *name);
char *consulsched_prefix(const char *ns); /* "<ns>/schedules/" */
char *consulsched_slot_key(const char *ns, const char *name, int64_t seq);
char *consulsched_slots_prefix(const char *ns, const char *name); /* ".../<name>/" */

/* A schedule as read from Consul: the definition and state (strings owned by def), the number of
 * history rows written so far, and the key's ModifyIndex as read (the fence of the next write).
 */
struct consulsched {
	struct spoolsched def;
	int64_t history_seq;
	int64_t index;
};
void consulsched_clear(struct consulsched *s);
void consulsched_list_free(struct consulsched *list, size_t n);

/* The value codec. consulsched_build: a new string. consulsched_parse: value[0..len), any bytes;
 * *s filled (s->index left 0; consulsched_clear it) or, zeroed, FS_EINVAL "schedule value of
 * '<name>': <what>" (a hostile or damaged value is refused, never trusted: valid UTF-8, exactly
 * the fields above with their types and ranges, the name the key's). The row codec likewise,
 * "schedule history row: <what>": a parsed row's reason and job_id are the caller's to free, a
 * refused row holds nothing. */
char *consulsched_build(const struct spoolsched *def, int64_t history_seq);
int consulsched_parse(const char *value, size_t len, const char *name, struct consulsched *s,
		      char **errp);
char *consulsched_row_build(const struct spoolsched_slot *row, int64_t seq);
int consulsched_row_parse(const char *value, size_t len, struct spoolsched_slot *row, int64_t *seqp,
			  char **errp);

/* Every schedule of the namespace in name order, the first max of them (0: all; a recurse of
 * the prefix); values that do not parse, and keys that are not a name right below the prefix,
 * are skipped with a warning in the log. *listp: consulsched_list_free. */
int consulsched_list(struct consul *c, const char *ns, size_t max, struct consulsched **listp,
		     size_t *np, char **errp);
/* One schedule. FS_ENOENT when there is none. */
int consulsched_get(struct consul *c, const char *ns, const char *name, struct consulsched *out,
		    char **errp);
/* Creates (check-not-exists; refused FS_EFULL "Error: at most <max> schedules, cannot add
 * schedule '<name>'" when max (0: no bound) schedules exist already) or replaces (check-index of
 * the value read, so state written meanwhile is kept: read, merge, retry a few times, then
 * FS_ESTATE) def's definition; state as spoolsched_set (a new schedule's lastSlot is now_s). A
 * value that does not parse is replaced as if there were none, its history ring deleted. */
int consulsched_set(struct consul *c, const char *ns, const struct spoolsched *def, int64_t now_s,
		    size_t max, char **errp);
/* Pause/resume as spoolsched_pause (resume sets lastSlot to now_s). FS_ENOENT. */
int consulsched_pause(struct consul *c, const char *ns, const char *name, int paused, int64_t now_s,
		      char **errp);
/* Deletes the schedule and its history ring (one txn: delete-cas + delete-tree). FS_ENOENT. */
int consulsched_delete(struct consul *c, const char *ns, const char *name, char **errp);
/* The newest max rows (0: all) of name's history, newest first; rows recorded before before_ms
 * (0: none) are left out (the job retention's age: they stay in Consul until overwritten). Rows
 * that do not parse are skipped with a warning in the log. *slotsp: spoolsched_slots_free. */
int consulsched_history(struct consul *c, const char *ns, const char *name, size_t max,
			int64_t before_ms, struct spoolsched_slot **slotsp, size_t *np,
			char **errp);

/* One slot to account for, with s as read (s->index the fence). advance as spoolsched_fire.
 * Fired: job_key/job_value/session name the slot job's claim (value = its QUEUED entry, with
 * claimedBy naming the firing process's claim journal record, so an interrupted fire is undone
 * by the worker's reconciliation like any claim). Otherwise job_key is NULL and result/reason
 * say why (skipped, refused). */
struct consulsched_fire {
	const struct consulsched *s;
	int64_t slot;
	int advance;
	const char *job_id;
	const char *job_key, *job_value, *session; /* NULL job_key: not fired */
	enum spoolsched_result result;             /* when not fired */
	const char *reason;
};
/* The txn above. 0: *job_indexp (if job_indexp) the job key's ModifyIndex (fired), and s's new
 * index in *indexp. FS_ESTATE: the schedule changed meanwhile (another firer, an edit: read it
 * again; nothing written). FS_EEXIST: the job key exists (the caller records the slot refused
 * "duplicate" with a second call). FS_ENOENT: the schedule is gone. An invalid session is FS_EIO
 * with consul_txn_invalid_session's condition in *invalid_sessionp (if not NULL). */
int consulsched_fire(struct consul *c, const char *ns, const struct consulsched_fire *f,
		     int64_t *indexp, int64_t *job_indexp, int *invalid_sessionp, char **errp);
/* Records slots missed as spoolsched_missed does (n <= CONSULSCHED_MISSED_ROWS, the caller
 * folds the others into the summary), in one txn fenced by s->index; *indexp the new index.
 * FS_ESTATE, FS_ENOENT as above. */
int consulsched_missed(struct consul *c, const char *ns, const struct consulsched *s,
		       const int64_t *slots, size_t n, int64_t more, int64_t more_last,
		       int64_t new_last, int64_t *indexp, char **errp);
/* Appends one row to name's history (at_ms 0: now), fenced by a fresh read (retried on
 * FS_ESTATE a few times): for what is recorded after the fact (an interrupted fire undone by the
 * reconciliation). FS_ENOENT when the schedule is gone. */
int consulsched_note(struct consul *c, const char *ns, const char *name,
		     const struct spoolsched_slot *row, char **errp);
/* The same row, in the same txn as the removal of job_key: a slot's claim that no node took,
 * deleted and its slot noted together or not at all (worker/schedorphan.h). The key is removed
 * as a claim over an orphan is made (doc/consul.md): check-index job_index, lock it (its value
 * job_value, as read) with session, delete it. So Consul refuses it while the key is locked or
 * within the lock delay of the session that last held it, as it refuses any claim then: the
 * node that held it has that long to re-acquire it. FS_EEXIST "Consul: '<job_key>' changed
 * meanwhile, or is held back by its lock delay" (nothing written), FS_ENOENT, the others as
 * consulsched_note's. */
int consulsched_unclaim(struct consul *c, const char *ns, const char *name, const char *job_key,
			int64_t job_index, const char *job_value, const char *session,
			const struct spoolsched_slot *row, char **errp);

#endif
