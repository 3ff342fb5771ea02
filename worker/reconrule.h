/* SPDX-License-Identifier: Apache-2.0 */
/* The decisions of the worker's Consul reconciliation (doc/consul.md), as pure functions: which
 * claim of a responder's journal to undo, which schedule slot an undone claim stood for, which
 * spool job's entry to write again, and which schedule's last job is a claim orphaned by a lost
 * node. No I/O: reconcile.c and the firer (schedorphan.c) gather the facts and carry the decision
 * out. */
#ifndef FS_RECONRULE_H
#define FS_RECONRULE_H

#include <stdint.h>
#include <sys/types.h>

struct consul_kv;
struct jobentry;
struct spool_job;

enum reconrule_act {
	RECONRULE_LEAVE,   /* nothing to do (why says why) */
	RECONRULE_UNDO,    /* undo the claim, fenced by the entry's ModifyIndex */
	RECONRULE_REWRITE, /* write the entry from the spool, on the key's absence */
};

/* What is known of one claim of a responder's journal. Everything borrowed. */
struct reconrule_claim {
	int alive;        /* the responder that made it still runs */
	const char *node; /* this node's --consul-name */
	pid_t pid;        /* the responder, as its journal is named */
	unsigned long long start;
	long long number;            /* the claim's number in the journal */
	const struct consul_kv *kv;  /* the key now; NULL when it does not exist */
	const struct jobentry *e;    /* kv's value parsed; NULL when it is not a job entry */
	const char *session;         /* this node's session; NULL when it has none */
	const struct spool_job *job; /* the spool's job of that id; NULL when none */
};

/* RECONRULE_UNDO only when the claimer is gone and the key still holds exactly that claim's
 * entry (its claimedBy names the process and the number, still QUEUED, unlocked or locked by this
 * node's session) and the spool does not hold the job that claim made (no job, or a DONE one of
 * an earlier claim). Else RECONRULE_LEAVE. *whyp (static text) says why. */
enum reconrule_act reconrule_claim(const struct reconrule_claim *c, const char **whyp);

/* The history note of a schedule's slot whose claim was undone (its result is refused): the
 * process that fired it died between the claim and the spool commit (a journal's claim), or gave
 * up on a claim txn that got no answer and that Consul applied all the same (an abandoned one).
 * Either way the slot's row says fired but no job ran: the note says why. */
#define RECONRULE_INTERRUPTED "interrupted: the node stopped before queueing the job"
#define RECONRULE_ABANDONED   "interrupted: Consul did not answer the claim in time"
/* ... or the firing node lost its session (a power loss: its claim journal, not fsync'd, may be
 * gone) and the firer that took over deleted the orphaned claim (reconrule_orphan). */
#define RECONRULE_ORPHANED    "interrupted: the firing node was lost before queueing the job"

/* What a schedule slot's job entry (kv as read, NULL when the key does not exist; e its value
 * parsed, NULL when not a job entry) is to the firer. A claim is QUEUED and still carries
 * claimedBy (no spool ever wrote it, so no node took the job); it is created locked by a
 * session, so one that no session holds is a claim whose session ended: its node is gone. */
enum reconrule_orphan {
	RECONRULE_NOT_CLAIM, /* gone, not a job entry, or moved on: nothing to do */
	RECONRULE_ORPHAN,    /* delete it (delete-cas at kv's ModifyIndex), note the slot refused */
	RECONRULE_HELD,      /* a claim a session holds: an orphan once that session ends */
};
enum reconrule_orphan reconrule_orphan(const struct consul_kv *kv, const struct jobentry *e);

/* Whether e is a schedule slot's job: its factfileArgs, read with Factotum's grammar
 * (factargs.h), carry the tags schedule (a schedule name) and slot (a slot's UTC text,
 * "YYYY-MM-DDTHH:MM:SSZ", schedjob.h), which only a schedule's firing may set. 1 with *namep (a new
 * string the caller frees) and *slotp (UTC seconds); else 0 and nothing allocated. */
int reconrule_slot(const struct jobentry *e, char **namep, int64_t *slotp);

/* RECONRULE_REWRITE when job, claimed in Consul (consul_index > 0) and not waiting in the outbox
 * (in_outbox 0), has no key any more (key_exists 0): Consul lost it. Not a DONE job lost to
 * another node ("consul-lost": the key is someone else's to write), nor a QUEUED or WORKING one
 * without a session to lock it with. Else RECONRULE_LEAVE. *whyp (static text) says why. */
enum reconrule_act reconrule_entry(const struct spool_job *job, int key_exists, int in_outbox,
				   const char *session, const char **whyp);

#endif
