/* SPDX-License-Identifier: Apache-2.0 */
/* The worker's runs: claiming QUEUED jobs in FIFO order up to --max-workers, starting a
 * supervisor for each, acting on cancel requests, recording outcomes when supervisors end (or
 * queueing again a job whose runner never started), and,
 * at start-up, taking back the WORKING jobs a previous worker left (doc/architecture.md).
 *
 * A run is watched through a pidfd of its supervisor, which works the same for a supervisor this
 * worker forked and for one re-adopted after a restart (not our child). */
#ifndef FS_DISPATCH_H
#define FS_DISPATCH_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "outcome.h"
#include "runas.h"
#include "spares.h"

struct spool;

/* A run the worker watches: one per supervisor it started or re-adopted. */
struct watched_run {
	char *id;      /* owned */
	int64_t token; /* the claim's started_ms (outcome.h) */
	pid_t pid;     /* the supervisor, 0 if none was started */
	int pidfd;     /* -1 once the supervisor has ended */
	int child;     /* forked by this worker: reap it */
	int cancel_sent;
	char reason[32]; /* settled without a status: FAILED with this reason */
	uid_t uid;       /* its own uid from --run-uid-range, 0 if none */
	int slot;        /* the go slot it holds until settled (outcome.h), -1 if none */
	char *cmd;       /* its command line, still to be recorded in the spool (owned), or NULL */
	int64_t details_at; /* when to record it with its pid (monotonic ms, dispatch_details) */
	/* the hash of the job's kept factfile (factcopy.h), owned; NULL if none */
	char *factfile_sha;
};

struct worker {
	const struct config *cfg; /* not owned; outlives the worker */
	struct spool *sp;         /* not owned */
	char *runs_dir;           /* <spool>/runs: status and pid files, per-run directories */
	char *logs_dir;           /* <spool>/logs: one capped log per job */
	char *factfiles_dir;      /* <spool>/factfiles: the runs' factfile copies (factcopy.h) */
	struct spares spares;     /* <spool>/spare: settled runs' files, for reuse */
	/* the same pool for the factfile copies when it is on their filesystem, else NULL */
	struct spares *factcopy_pool;
	int grace_ms;             /* SIGTERM to SIGKILL, for the supervisors */
	int lockfd;               /* the worker's lock, lent to each supervisor until its go
				    * byte (supervisor.c); -1 none. Not owned */
	struct watched_run *runs; /* the runs this worker watches (owned) */
	size_t nruns;
	int runner_missing;        /* as last published in the spool's worker.runner; -1 unknown */
	int reclaim_pending;       /* a go record may name a lost claim not yet taken back */
	const struct runas *runas; /* who runs run as (runas.h); not owned, set by the caller */
	char boot[OUTCOME_BOOT_SIZE]; /* this boot's id, "" if unknown (outcome.h) */
};

/* Sets up w (creating <spool>/runs, its go slots and <spool>/logs); lockfd is the worker's lock
 * (the spool directory, flock'ed), open as long as w is used. 0, or -1 with a message on stderr. */
int dispatch_init(struct worker *w, const struct config *cfg, struct spool *sp, int lockfd);
/* Forgets the runs (their supervisors keep running) and frees w's memory. */
void dispatch_free(struct worker *w);

/* At start-up: a QUEUED job whose submission a go record names is claimed again for that run (a
 * power loss took its claim back: outcome.h); then every WORKING job gets its status recorded
 * (written while no worker ran), or is re-adopted (its supervisor still lives), or, its
 * supervisor provably gone without a status, becomes DONE/FAILED with reason "worker-lost" when
 * its go record says the runner may have started, else goes back to its place in the queue
 * (spool_requeue). */
void dispatch_recover(struct worker *w);

/* Claims and starts QUEUED jobs while fewer than --max-workers runs are watched. */
void dispatch_fill(struct worker *w);

/* Acts on the responder's cancel requests (spool settings "cancel.<id>") for watched runs, all
 * read in one query. The responder wakes the worker for each request, so the caller need only
 * look when a datagram came, and now and then for one that was lost. */
void dispatch_cancels(struct worker *w);

/* Records outcomes that could not be stored before (spool busy). */
void dispatch_retry(struct worker *w);

/* A run's details (its command line and pid) go into the spool this long after its go byte,
 * once its runner has started, or with its outcome if it ends first. */
#define DISPATCH_DETAILS_MS 20
/* Records the details of the runs whose time has come, all in one transaction that does not wait
 * for the disk; a failure is logged and they stay unrecorded (no recovery reads them). */
void dispatch_details(struct worker *w);
/* The poll timeout (ms) that brings the loop round when the next details are due: max_ms (-1:
 * none), or less. */
int dispatch_poll_ms(const struct worker *w, int max_ms);

/* The pollfds of the runs' supervisors, at most max into pfd; returns how many. */
size_t dispatch_pollfds(const struct worker *w, struct pollfd *pfd, size_t max);
/* Handles the supervisors among pfd[0..n) that ended (revents set). */
void dispatch_events(struct worker *w, const struct pollfd *pfd, size_t n);

#endif
