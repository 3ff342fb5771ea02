/* SPDX-License-Identifier: Apache-2.0 */
/* The firing lock of schedules with Consul (doc/consul.md, "Schedules"): one node fires at a
 * time, the one whose session holds <ns>/schedule-firer (value {"node":"<consul-name>",
 * "since":"<ISO 8601 ms>"}).
 *
 * The session is the firing worker's own, "factotum-server-firer:<consul-name>", TTL
 * SCHEDLOCK_TTL_S, LockDelay 0, renewed by the firing loop alone -- not the node's session, which
 * the supervisors keep alive for the runs: the lock must die with the firing loop, and drain or a
 * clean stop must be able to give it up (destroying the session releases it at once) without
 * touching the node's jobs. No lock delay: the slot txn, not the lock, keeps a slot from firing
 * twice, so a successor need not wait.
 *
 * Correctness never depends on the lock. Every slot is accounted for in one Consul txn fenced by
 * the schedule's ModifyIndex (core/consulsched.h): two nodes that both believe they fire (a
 * renewal late by a few seconds, a partition) race on that txn and exactly one wins each slot.
 * The lock only keeps the work (and the Consul traffic) on one node.
 *
 * Timing: held, the session is renewed every SCHEDLOCK_RENEW_MS; not held, the lock is tried
 * every SCHEDLOCK_RETRY_MS (the waiting session renewed too, so that the try that finds the key
 * free succeeds). Consul invalidates a session that is not renewed between TTL and
 * twice the TTL, so another node takes over within 2 * TTL + RETRY + one Consul call: under 25 s
 * of the firer's death.
 *
 * Not thread-safe: one owner (the firing thread). */
#ifndef FS_SCHEDLOCK_H
#define FS_SCHEDLOCK_H

#include <stdint.h>

struct consul;

#define SCHEDLOCK_TTL_S    10
#define SCHEDLOCK_RENEW_MS 3000
#define SCHEDLOCK_RETRY_MS 2000
/* "<ns>/" SCHEDLOCK_KEY */
#define SCHEDLOCK_KEY      "schedule-firer"

struct schedlock {
	struct consul *c; /* borrowed */
	char *key;        /* <ns>/schedule-firer */
	char *node;       /* the consul name */
	char *session;    /* the firer's session, NULL when there is none */
	int held;
	int denied; /* the last call was refused by Consul's ACL (not logged: the worker says it) */
	int64_t due_ms;     /* monotonic: the next renewal (held) or attempt (not held) */
	int64_t renewed_ms; /* monotonic: when Consul last confirmed the session */
};

/* Sets up l (nothing is asked of Consul yet); c outlives l; ns and node are copied. */
void schedlock_init(struct schedlock *l, struct consul *c, const char *ns, const char *node);
/* Destroys the session (schedlock_release) and frees l's strings. */
void schedlock_free(struct schedlock *l);

/* When due: renews the session (held) or tries to take the lock (not held, creating a session
 * first if there is none). 1 while this process is the firer, 0 otherwise. A renewal answered
 * "not found" or a lock refused means another node may fire now: 0 at once. A renewal that
 * cannot reach Consul keeps 1 until SCHEDLOCK_TTL_S after the last confirmed one (before that
 * Consul cannot have released the lock). Failures are logged once per change. */
int schedlock_round(struct schedlock *l);

/* How long the owner may sleep (at most max_ms) before schedlock_round is due. */
int schedlock_wait_ms(const struct schedlock *l, int max_ms);

/* Gives the lock up at once: destroys the session (Consul releases the key; another node may
 * take it at its next attempt). The next schedlock_round competes again. */
void schedlock_release(struct schedlock *l);

#endif
