/* SPDX-License-Identifier: Apache-2.0 */
/* The worker's firing of schedules (no Consul): between rounds of its loop it keeps every
 * schedule of the spool in a next-due queue (core/schedq.h) and turns each due slot into a job
 * through core/schedjob.h, one spool transaction per slot (doc/architecture.md has the
 * at-most-once argument). The definitions are read again when a wake-up (the
 * responder wakes it after every change) or the slow poll finds they changed
 * (spoolsched_changes): a /submit's wake-up costs one small read.
 *
 * Slots found due late -- several at once, or one more than SCHEDFIRE_LATE_S old: the worker was
 * down or stalled -- follow the schedule's catchUp: the last N (none: 0, last: 1) fire, the
 * others are recorded missed, the newest SCHEDFIRE_MISSED_ROWS of them one row each and the
 * rest in one summary row. */
#ifndef FS_SCHEDFIRE_H
#define FS_SCHEDFIRE_H

#include <stddef.h>
#include <stdint.h>

#include "argpolicy.h"
#include "config.h"
#include "jobreq.h"

#define SCHEDFIRE_LATE_S      5
#define SCHEDFIRE_MISSED_ROWS 100
/* slot history older than --retain-done goes, looked for this often */
#define SCHEDFIRE_PRUNE_MS    60000

struct spool;
struct schedq;
struct schedfire_entry;
struct schedfire_zone;

struct schedfire {
	struct spool *sp; /* not owned */
	const struct config *cfg;
	struct jobreq_policy policy;
	struct argpolicy argpolicy;
	struct schedq *q;
	struct schedfire_entry *entries; /* the schedules as last read, name order */
	size_t n;
	int off;         /* with Consul: nothing fires (schedules are not in Consul yet) */
	int reload;      /* read the definitions before the next firing */
	int64_t changes; /* spoolsched_changes when they were read */
	struct schedfire_zone *zones; /* the time zones they name, each loaded once */
	size_t nzones;
	int64_t prune_at; /* monotonic: the next removal of old history rows */
};

/* Sets up f over the worker's spool (cfg and sp outlive it); the definitions are read at the
 * first round. With Consul it stays off: a slot's job would be one the cluster never claimed. 0, or FS_EIO with *errp (argpolicy_prepare's). Call before threads start. */
int schedfire_init(struct schedfire *f, const struct config *cfg, struct spool *sp, char **errp);
void schedfire_free(struct schedfire *f);

/* The poll timeout to use instead of timeout_ms so that the next slot is not late. */
int schedfire_poll_ms(const struct schedfire *f, int timeout_ms);

/* reread: the definitions may have changed (a wake-up or the slow poll). Fires every due slot;
 * failures are logged and the slot is tried again at the next round. */
void schedfire_round(struct schedfire *f, int reread);

#endif
