/* SPDX-License-Identifier: Apache-2.0 */
/* The worker's firing of schedules with Consul (doc/consul.md, "Schedules"): the schedules are
 * Consul's, one node fires at a time (the firing lock, schedlock.h) and each slot is accounted
 * for in one Consul txn (core/schedconsul.h); the due-slot and catch-up logic is schedfire.h's,
 * over the Consul store given here.
 *
 * It runs in a process of its own, the firer, forked by the worker: every step of it may wait
 * for Consul (up to CONSUL_SUBMIT_TIMEOUT_MS a call, several calls a round: the lock, the
 * schedules, a txn per slot), and in the worker's event loop a slow Consul would delay the
 * dispatch of runs by that much. A process rather than a thread because the worker forks a
 * supervisor per run, and a fork taken while a thread holds a library's lock (a TLS library's)
 * leaves the child that lock forever. The firer has its own spool handle, Consul client and claim
 * journal (<spool>/claims/<pid>.<start>, as a responder's: a claim it leaves behind by dying is
 * undone by the worker's reconciliation). It is forked by a keeper process that the worker forks
 * before opening its spool (SQLite's state does not survive a fork: a process that has the spool
 * open cannot fork one that opens it), which starts it again when it dies. Both die with the
 * worker (PR_SET_PDEATHSIG): a worker killed with -9 takes its firer along, and the lock's session
 * expires as the worker's would. Neither keeps any of the worker's capabilities (those are for
 * starting runs as their users): they run as the service user with empty capability sets.
 *
 * The firer: while the node drains (the spool's run/drain setting) it gives the lock up and does
 * not compete for it; holding it, it reads the schedules at least every SCHEDCFIRE_READ_MS (an
 * edit made on any node applies within 2 s), fires every due slot and wakes the worker (its
 * socket, as the responder does) for each job it queued; at each takeover and then every
 * SCHEDORPHAN_PERIOD_MS it accounts for the slot claims a lost node left behind (schedorphan.h).
 * SIGTERM: it destroys its session (another node takes over at its next try) and exits 0. */
#ifndef FS_SCHEDCFIRE_H
#define FS_SCHEDCFIRE_H

#include <stdint.h>
#include <sys/types.h>

struct config;

#define SCHEDCFIRE_READ_MS    1000
/* a firer that died is started again this long after its last start */
#define SCHEDCFIRE_RESTART_MS 5000

struct schedcfire {
	pid_t pid; /* the keeper, 0 when none runs */
};

/* Starts the keeper and its firer for cfg (copied by the fork); with --no-consul x stays idle.
 * Call from the worker before it opens its spool, with no thread running (it forks). A failed
 * fork is logged: the node does not fire, other nodes do. */
void schedcfire_start(struct schedcfire *x, const struct config *cfg);

/* A clean stop: SIGTERM to the keeper, which passes it on, then waits (the firer gives the lock
 * up first). */
void schedcfire_stop(struct schedcfire *x);

#endif
