/* SPDX-License-Identifier: Apache-2.0 */
/* The worker's side of Consul (doc/consul.md): keeping the node's session alive, re-acquiring the
 * node's jobs under a new session, delivering the spool's outbox (every transition, in order,
 * fenced by the last ModifyIndex seen), retrying the claims /submit could not undo, and the
 * supervisors' share of the session keeping.
 *
 * One per worker process, so it is module state rather than a handle threaded through dispatch
 * and supervisor: their hooks call it by name, and a supervisor (a fork of the worker) finds the
 * configuration it needs in its copy of that state. Every function is a no-op with --no-consul
 * (or before statesync_init).
 *
 * Calls block for at most one Consul timeout (STATESYNC_TIMEOUT_MS); after a failure the next
 * attempt waits for a backoff, so a Consul that is down costs the event loop nothing but a timer.
 * A job whose Consul entry turns out to be someone else's is never written again: it becomes
 * DONE/FAILED with reason "consul-lost" if it was not DONE yet (a running one is also cancelled,
 * as another node owns the id now), and setting "consul.lost.<id>" records when and why. */
#ifndef FS_STATESYNC_H
#define FS_STATESYNC_H

#include <stddef.h>

struct config;
struct spool;

#define STATESYNC_TIMEOUT_MS   5000
#define STATESYNC_TTL_S        15
#define STATESYNC_LOCK_DELAY_S 15
#define STATESYNC_RENEW_MS     (STATESYNC_TTL_S * 1000 / 3)
#define STATESYNC_LOST_REASON  "consul-lost"

/* Sets up the client (consul_global_init once) for cfg and the worker's spool sp (opened with
 * SPOOL_OUTBOX); both are borrowed and must outlive the module. Does nothing with
 * cfg->no_consul. 0, or -1 with the reason on stderr. */
int statesync_init(const struct config *cfg, struct spool *sp);
void statesync_free(void);

/* At start, before any run is recovered or claimed: renews the stored session (or creates one),
 * re-acquires the node's jobs if the session is new, delivers the outbox, retries undos. With
 * Consul unreachable it returns at once and the event loop's rounds try again. */
void statesync_start(void);

/* One round of the event loop, after the dispatch work of a wake-up: the same steps, each when
 * due (renewal every STATESYNC_RENEW_MS, retries after their backoff, the outbox at once). */
void statesync_round(void);

/* How long the event loop may sleep (at most max_ms) before the next round is due. */
int statesync_poll_ms(int max_ms);

/* 0 while the node's jobs wait to be re-acquired under a new session and Consul answers (a
 * previous owner's lock-delay): starting one then could run a job that is not ours. 1 otherwise
 * — also while Consul is unreachable, see statesync_claimed. */
int statesync_may_dispatch(void);

/* 1 while Consul's ACL refuses the worker's calls (from the first refused round to the next one
 * that goes through), else 0: the other Consul work of the worker (reconciliation, pruning) waits
 * meanwhile rather than log the same refusal on its own. */
int statesync_denied(void);

/* After the spool claimed job id (QUEUED -> WORKING, its outbox entry added): delivers the
 * outbox up to and including that entry. 0: start the run — the transition is in Consul, or
 * Consul cannot be reached and the entry stays in the outbox (a node cut off from Consul keeps
 * running its queue; it cannot know yet, and is told when Consul is back). -1: the job was lost
 * (now DONE/FAILED "consul-lost" in the spool): do not start it. */
int statesync_claimed(const char *id);

/* A clean stop: destroys the session when nothing of the node needs it (nruns == 0, nothing
 * QUEUED or WORKING, the outbox empty); otherwise leaves it to the supervisors and to the next
 * start. */
void statesync_stop(size_t nruns);

/* The supervisor's share: a thread renewing the node's current session (read from the spool
 * each time, as a new worker may have replaced it) every STATESYNC_RENEW_MS while its runner
 * lives. Call in the supervisor process after its last fork; NULL when Consul is disabled or the
 * thread could not start. statesync_renewer_stop asks it to stop and returns at once (a renewal in
 * flight must not hold up the run's status); the process exits soon after. */
struct statesync_renewer;
struct statesync_renewer *statesync_renewer_start(void);
void statesync_renewer_stop(struct statesync_renewer *r);

#endif
