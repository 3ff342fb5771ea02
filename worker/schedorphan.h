/* SPDX-License-Identifier: Apache-2.0 */
/* The firer's accounting of slot claims orphaned by a power loss (doc/consul.md, "Schedules").
 *
 * A slot fired with Consul is claimed in one txn (the schedule's lastJob, its "fired" row, the
 * job's QUEUED entry locked by the node's session and carrying claimedBy), then queued in the
 * firing node's spool. A node that loses power between the two may come back without the claim
 * journal's record (it is not fsync'd), so its reconciliation cannot undo the claim: the entry
 * would stay QUEUED forever and the slot read fired with no job behind it. Its session expires
 * meanwhile (nobody renews it), and Consul releases the entry.
 *
 * The firer sweeps at each takeover of the firing lock and at most every SCHEDORPHAN_PERIOD_MS
 * while it holds it. It reads each schedule's lastJob entry, and each claim it saw held by a
 * session at an earlier sweep (the watch list: such a claim becomes an orphan when that session
 * ends, by which time the schedule may have fired later slots). One that is QUEUED, locked by no
 * session and still carries claimedBy (reconrule_orphan) is removed as a claim over an orphan
 * is made -- check-index at the ModifyIndex read, lock with the node's session, then delete -- and
 * the slot noted refused, RECONRULE_ORPHANED, in the same txn
 * (consulsched_unclaim: both or neither, so a firer that dies in between leaves the whole of it
 * to the next sweep); then its counter "refused" is counted in the spool.
 *
 * Safe because a claim's entry is created locked by a session, so one without a session means the
 * claiming node's session ended (the node gone or cut off longer than the TTL); the lock op makes
 * Consul refuse the removal for the lock delay of that session (15 s for a node's), the time a
 * node whose session was only replaced has to re-acquire its entries, exactly as it refuses
 * another node's claim over the entry then. A node that comes back later with the job in its
 * spool re-acquires it with check-index, finds the key gone and records the job lost instead of
 * running it: no slot runs twice and none is lost silently. An entry re-acquired or moved on
 * meanwhile fails the check-index and is left alone; one refused for its lock delay stays
 * watched.
 *
 * Cost per sweep: one listing of the schedules, one read per schedule with a lastJob and one per
 * watched claim (at most SCHEDORPHAN_WATCH_MAX; a claim normally moves on within a second, when
 * its node's worker writes it from the spool). */
#ifndef FS_SCHEDORPHAN_H
#define FS_SCHEDORPHAN_H

#include <stddef.h>
#include <stdint.h>

struct consul;
struct spool;

#define SCHEDORPHAN_PERIOD_MS 60000
#define SCHEDORPHAN_WATCH_MAX 256

/* A claim seen held by a session: its schedule, job id and slot (strings owned). */
struct schedorphan_claim {
	char *name;
	char *job_id;
	int64_t slot;
};

/* The firer's watch list between sweeps (zeroed: empty). */
struct schedorphan {
	struct schedorphan_claim *watch;
	size_t n;
};
void schedorphan_free(struct schedorphan *o); /* empties it */

/* One sweep over the first max schedules (0: all) of namespace ns and o's watch list, which it
 * updates; session is the node's (each removal locks the key with it first). *adoptedp (if not NULL): the slots noted. 0, or the Consul failure that ended the sweep
 * early (FS_EIO, FS_EDENIED) with *errp a new message the caller frees (the claims not looked at
 * stay watched); the failures of single claims are logged and the sweep goes on. */
int schedorphan_sweep(struct schedorphan *o, struct consul *c, const char *ns, const char *session,
		      size_t max, struct spool *sp, size_t *adoptedp, char **errp);

#endif
