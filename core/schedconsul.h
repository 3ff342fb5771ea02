/* SPDX-License-Identifier: Apache-2.0 */
/* One slot of a schedule fired with Consul on: what /schedules/run (responder) and the firing
 * worker do for a slot, end to end -- build and validate the slot's request (schedjob.h), decide
 * skipped (overlap "skip" and the last job's Consul entry QUEUED or WORKING) or refused (drain,
 * queue full, user queue full: read from this node's spool; invalid factfile), record the claim
 * in the calling process's claim journal (claimlog.h), run consulsched_fire's txn, then queue
 * the job in the spool (spool_enqueue with the claim's ModifyIndex). A spool that refuses after
 * the txn (drain or capacity raced) undoes the claim (delete-cas of the job key at its index)
 * and notes the slot refused with the reason (consulsched_note). A process that dies between the
 * txn and the spool commit leaves a claim whose journal record outlives it: the worker's
 * reconciliation undoes it as any claim and notes the slot refused, reason "interrupted: the
 * node stopped before queueing the job". Every slot is counted in this node's slots.* counters
 * (spoolsched_count), as /metrics reads them. Fault points (fault.h): "sched.after-claim" (after
 * the txn, before the spool commit). */
#ifndef FS_SCHEDCONSUL_H
#define FS_SCHEDCONSUL_H

#include <stdint.h>

#include "consulsched.h"
#include "schedjob.h"

struct consul;
struct claimlog;
struct spool;

/* The interrupted fire's history reason, written by the worker's reconciliation. */
#define SCHEDCONSUL_INTERRUPTED "interrupted: the node stopped before queueing the job"

/* How this process fires. Every pointer borrowed for the call. */
struct schedconsul_env {
	const struct schedjob_env *job; /* validation, node name, bounds (schedjob.h) */
	struct consul *consul;
	const char *ns;      /* --consul-namespace */
	const char *session; /* the node's session (spool setting consul.session); NULL: none */
	struct claimlog *journal; /* the calling process's claim journal */
	long long pid;            /* the calling process, named in the entry's claimedBy */
	unsigned long long start; /* its /proc start time */
	struct spool *sp;
};

/* Fires slot of *s (as read: s->index is the fence). On 0: *resultp, *job_idp (if job_idp; the
 * caller frees; NULL unless the request validated), and s updated to its new state and index.
 * FS_ESTATE (s changed in Consul: read it again), FS_ENOENT (deleted), FS_EIO/FS_EDENIED
 * (Consul's messages; FS_EIO "Consul unavailable: this node holds no Consul session ..." when
 * there is no live session), or the spool's codes. */
int schedconsul_fire(const struct schedconsul_env *env, struct consulsched *s, int64_t slot,
		     int advance, enum spoolsched_result *resultp, char **job_idp, char **errp);

#endif
