/* SPDX-License-Identifier: Apache-2.0 */
/* The worker's firing of schedules, over either store: the spool (no Consul; this module's own
 * store) or Consul (worker/schedcfire.h gives its store). Between rounds it keeps every schedule
 * of the store in a next-due queue (core/schedq.h) and accounts for each due slot in one
 * transaction of the store: a spool transaction through core/schedjob.h, a Consul txn through
 * core/schedconsul.h (doc/architecture.md has the at-most-once argument). The spool's
 * definitions are read again when a wake-up (the responder wakes it after every change) or the
 * slow poll finds they changed (spoolsched_changes): a /submit's wake-up costs one small read.
 *
 * Slots found due late -- several at once, or one more than SCHEDFIRE_LATE_S old: no node was
 * firing, or it stalled -- follow the schedule's catchUp: the last N (none: 0, last: 1) fire, the
 * others are recorded missed, the newest missed_rows of them one row each and the rest in one
 * summary row. Finding them takes at most SCHEDFIRE_WALK_MAX steps of the cron walk (a
 * per-second schedule after a year down would take 31 million): past that the newest slots are
 * looked for from near now, and the summary row says "at least <n> more slots missed". */
#ifndef FS_SCHEDFIRE_H
#define FS_SCHEDFIRE_H

#include <stddef.h>
#include <stdint.h>

#include "argpolicy.h"
#include "config.h"
#include "consulsched.h"
#include "jobreq.h"
#include "spoolsched.h"

#define SCHEDFIRE_LATE_S      5
#define SCHEDFIRE_MISSED_ROWS 100
/* slot history older than --retain-done goes, looked for this often */
#define SCHEDFIRE_PRUNE_MS    60000
/* cron steps one catch-up may walk */
#define SCHEDFIRE_WALK_MAX    1000000

struct spool;
struct schedq;
struct schedfire_entry;
struct schedfire_zone;

struct schedfire;

/* Where the schedules are. Each schedule is a struct consulsched (the spool's leaves index and
 * history_seq 0). Calls return 0 or a negative FS_E* code with *errp (logged; left NULL by a store
 * that reports that failure its own way); FS_ESTATE and FS_ENOENT (the schedule changed or went
 * meanwhile) make the firing read the definitions again. */
struct schedfire_store {
	/* Every schedule in name order into *listp (*np; consulsched_list_free), when they may
	 * have changed since the last reading (reread: a wake-up says so; f->reload: that reading
	 * failed or went stale). 1 when they did not change (nothing read). */
	int (*load)(struct schedfire *f, int reread, struct consulsched **listp, size_t *np,
		    char **errp);
	/* Accounts for slot of s (a due one: last_slot moves to it) as schedjob_fire does; on 0,
	 * *resultp, *job_idp (the caller frees, or NULL) and s's new state. */
	int (*fire)(struct schedfire *f, struct consulsched *s, int64_t slot,
		    enum spoolsched_result *resultp, char **job_idp, char **errp);
	/* Records missed slots as spoolsched_missed does (more < 0: at least -more); on 0, s's
	 * new state. */
	int (*missed)(struct schedfire *f, struct consulsched *s, const int64_t *slots, size_t n,
		      int64_t more, int64_t more_last, int64_t new_last, char **errp);
	/* History older than before_ms goes, or NULL when the store bounds it itself. */
	int (*prune)(struct schedfire *f, int64_t before_ms, char **errp);
	size_t missed_rows; /* at most SCHEDFIRE_MISSED_ROWS: missed rows one write may hold */
};

struct schedfire {
	struct spool *sp; /* not owned */
	const struct config *cfg;
	struct jobreq_policy policy;
	struct argpolicy argpolicy;
	struct schedq *q;
	struct schedfire_entry *entries; /* the schedules as last read, name order */
	size_t n;
	const struct schedfire_store *store;
	void *ctx;       /* the store's */
	int off;         /* with Consul: the spool has no schedules (schedcfire.h fires them) */
	int reload;      /* read the definitions before the next firing */
	int64_t changes; /* spoolsched_changes when they were read */
	struct schedfire_zone *zones; /* the time zones they name, each loaded once */
	size_t nzones;
	int64_t prune_at; /* monotonic: the next removal of old history rows */
};

/* Sets up f over the worker's spool (cfg and sp outlive it); the definitions are read at the
 * first round. With Consul it stays off: the schedules are Consul's (schedcfire.h). 0, or FS_EIO
 * with *errp (argpolicy_prepare's). Call before threads start. */
int schedfire_init(struct schedfire *f, const struct config *cfg, struct spool *sp, char **errp);
/* The same over another store (store and ctx outlive f), never off. */
int schedfire_init_store(struct schedfire *f, const struct config *cfg, struct spool *sp,
			 const struct schedfire_store *store, void *ctx, char **errp);
void schedfire_free(struct schedfire *f);

/* The poll timeout to use instead of timeout_ms so that the next slot is not late. */
int schedfire_poll_ms(const struct schedfire *f, int timeout_ms);

/* reread: the definitions may have changed (a wake-up or the slow poll). Fires every due slot;
 * failures are logged and the slot is tried again at the next round. 0, or the code that ended
 * the round early (FS_ESTATE: a definition changed meanwhile, worth a new round at once). */
int schedfire_round(struct schedfire *f, int reread);

#endif
