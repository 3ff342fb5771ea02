/* SPDX-License-Identifier: Apache-2.0 */
/* Retention, as the worker applies it (--retain-done, --retain-max-done): between rounds of its
 * loop it removes one batch of due jobs from the spool (core/spoolprune.h) and then their files,
 * the log <spool>/logs/<id>.log and the run directory <spool>/runs/<id> (worker/rundir.h). One
 * batch per round, and none while a round's claims wait: a spool holding many expired jobs is
 * worked off a few hundred jobs at a time without delaying the queue.
 *
 * With Consul (--retain-consul, by default the --retain-done value), each round first removes a
 * few of the node's DONE entries that are due, each with a delete-cas at the ModifyIndex the
 * node last saw (an entry that moved on is someone else's now and stays); a job's row goes only
 * once its entry has, so that the fence is never lost. A Consul that does not answer is asked
 * again after PRUNE_CONSUL_BACKOFF_MS, each try costing at most PRUNE_CONSUL_TIMEOUT_MS.
 *
 * The files go after the commit, so a job is never left in the spool without them. A job
 * submitted again after its removal cannot meet its old files' removal: only the worker makes a
 * run's files, and it is busy here. */
#ifndef FS_PRUNE_H
#define FS_PRUNE_H

#include <stdint.h>

#include "config.h"

struct spool;

/* Jobs removed per round (one transaction, at most SPOOLPRUNE_MAX_BATCH). */
#define PRUNE_BATCH             100
/* Consul entries removed per round, one txn each */
#define PRUNE_CONSUL_BATCH      20
#define PRUNE_CONSUL_TIMEOUT_MS 1000
#define PRUNE_CONSUL_BACKOFF_MS 30000

struct consul;

struct pruner {
	struct spool *sp;     /* not owned */
	const char *runs_dir; /* not owned; outlive the pruner */
	const char *logs_dir;
	int64_t retain_ms; /* --retain-done */
	int64_t keep_done; /* --retain-max-done, 0: no bound */
	int64_t every_ms;  /* between looks when nothing more is due */
	int64_t next_ms;   /* monotonic: the next look */
	/* with Consul: its own client (NULL without), the node and the namespace (borrowed) */
	struct consul *consul;
	const char *node;
	const char *ns;
	int64_t retain_consul_ms;
	int64_t consul_at; /* monotonic: no Consul call before this */
};

/* Sets up p for the worker's spool and directories (cfg and the strings outlive p); the first
 * look is due at once. With Consul, call after statesync_init (which set up libcurl). Released
 * with prune_free. */
void prune_init(struct pruner *p, const struct config *cfg, struct spool *sp, const char *runs_dir,
		const char *logs_dir);
void prune_free(struct pruner *p);

/* The poll timeout to use instead of timeout_ms so that the next look is not late. */
int prune_poll_ms(const struct pruner *p, int timeout_ms);

/* When a look is due: removes one batch of due jobs, then their files; failures are logged
 * and tried again at the next look. Sooner when the batch was full (more are due). */
void prune_round(struct pruner *p);

#endif
