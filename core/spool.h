/* SPDX-License-Identifier: Apache-2.0 */
/* The node's durable spool: one SQLite file, <spool dir>/spool.db, in WAL mode, holding the jobs,
 * their transition history, the run/drain setting, small key/value settings and the Consul
 * outbox. Every write is one BEGIN IMMEDIATE transaction, so checks and writes are atomic across
 * all processes of the node.
 *
 * Threads and processes: one handle (one SQLite connection) per process. A handle may be shared
 * by the threads of that process: every call holds the handle's recursive mutex, and a batch
 * (spool_begin) holds it until spool_commit/spool_rollback, so other threads wait rather than
 * interleave. A handle must not be used after fork(): the child opens its own.
 *
 * Times are Unix epoch milliseconds (int64_t); 0 means "not set". Every function returns 0 or a
 * negative FS_E* code (err.h) and, on failure, sets *errp (if errp is not NULL) to a message the
 * caller frees; SQLite failures read "spool: <op>: <sqlite message>" and give FS_EIO, or FS_EBUSY
 * when the database stayed locked past the busy timeout. */
#ifndef FS_SPOOL_H
#define FS_SPOOL_H

#include <stddef.h>
#include <stdint.h>

struct spool;

/* Job state and outcome: only the original's values (doc/api.md). Stored as their names. */
enum spool_state { SPOOL_QUEUED, SPOOL_WORKING, SPOOL_DONE };
enum spool_outcome { SPOOL_WAITING, SPOOL_RUNNING, SPOOL_SUCCEEDED, SPOOL_FAILED };
#define SPOOL_STATE_ANY (-1) /* spool_list: no state filter */

/* "QUEUED", ...; static storage. */
const char *spool_state_name(enum spool_state s);
const char *spool_outcome_name(enum spool_outcome o);
/* The state named s (any case), or -1. */
int spool_state_parse(const char *s);

/* spool_open flags */
#define SPOOL_SYNC_NORMAL 0x1 /* synchronous=NORMAL instead of FULL (--spool-sync normal) */
#define SPOOL_OUTBOX \
	0x2 /* Consul enabled: every transition after enqueue is also appended
			       * to the outbox, in the same transaction */
#define SPOOL_CHECKPOINT_APART \
	0x4 /* commits on this handle never checkpoint the WAL: its size
				    * after each commit is kept for spool_wal_frames, and the
				    * owner runs spool_checkpoint (from another handle) instead */
/* this handle may give the spool's reserve back (the worker's: spool_reserve_give_back) */
#define SPOOL_RESERVE 0x8

#define SPOOL_BUSY_TIMEOUT_MS 10000 /* a write waits this long for another's lock */
#define SPOOL_BUSY_POLL_US    200   /* ... trying again this often */
#define SPOOL_START_WAIT_MS   60000 /* spool_open: how long a locked spool is waited for */
/* A process that commits runs spool_checkpoint at least this often while it does, so that what is
 * committed reaches spool.db within a minute */
#define SPOOL_CHECKPOINT_MS   30000

/* Opens (creating if absent, with this build's schema) <dir>/spool.db. dir must exist. On
 * success *spp is a handle the caller releases with spool_close. A file that is not an SQLite
 * database is FS_EIO with a message naming the file; so is a spool of another schema version:
 * "spool: open <dir>/spool.db: schema version N, this build uses M". Any number of processes
 * may open one spool at once, new or not: a spool locked by another opener (creating the
 * schema, migrating it, recovering the WAL) is waited for: attempts go on for
 * SPOOL_START_WAIT_MS (the last may wait SPOOL_BUSY_TIMEOUT_MS more), then FS_EBUSY.
 * Every write transaction bumps a commit sequence kept in the database and, once committed, writes
 * it to <dir>/spool.db-mark (core/spoolmark.h); a database whose sequence is below that mark has
 * lost commits (its WAL deleted or damaged, an older or emptied spool.db put in place) and is
 * refused, FS_EIO: "spool: open <dir>/spool.db: committed work is missing (commit sequence N,
 * <dir>/spool.db-mark says M): <dir>/spool.db-wal or <dir>/spool.db was deleted, damaged or
 * replaced; restore the spool from a backup, or remove <dir>/spool.db-mark to accept the loss".
 * A spool.db that SQLite finds damaged is FS_EIO with SQLite's message, then "(the file is
 * damaged: restore the spool from a backup)". */
int spool_open(struct spool **spp, const char *dir, int flags, char **errp);
/* Finalizes everything and closes; NULL is allowed. An open batch is rolled back. */
void spool_close(struct spool *sp);
/* The number of frames in the WAL after this handle's last commit (0 before any), for a handle
 * opened with SPOOL_CHECKPOINT_APART. Safe from any thread. */
int spool_wal_frames(struct spool *sp);
/* Copies what it can of the WAL into the database without waiting for readers or writers
 * (SQLite's PASSIVE checkpoint); when it copied all of it, brings the commit mark up to the
 * sequence committed when it began; another checkpoint running is not an error. Fault point spool.checkpoint: the checkpoint
 * fails (FS_EIO) or the process dies before it starts. */
int spool_checkpoint(struct spool *sp, char **errp);

/* A job as read from the spool. Every string is owned by the record; NULL where noted. */
struct spool_job {
	char *id; /* 64 hex characters */
	char *job_name;
	char *factfile_path;
	char *factfile_args; /* JSON array text, as the client sent it */
	enum spool_state state;
	enum spool_outcome outcome;
	char *node;          /* node name of the last submission/run */
	int64_t seq;         /* queue position: larger = submitted later */
	int64_t created_ms;  /* this submission */
	int64_t updated_ms;  /* last transition */
	int64_t started_ms;  /* run start, 0 if not started */
	int64_t finished_ms; /* run end, 0 if not finished */
	int exit_code;       /* -1 if none */
	int exit_signal;     /* 0 if none */
	char *reason;        /* NULL if none: "cancelled", "timeout", ... */
	char *command; /* the run's full command line as recorded (spool_record_run), or NULL */
	int64_t pid;   /* the run's process (group) id as recorded, 0 if none */
	int64_t consul_index; /* last Consul ModifyIndex seen, 0 if none */
	char *submitted_by;   /* the authenticated user who submitted it, NULL if none */
	char *factfile_sha;   /* SHA-256 (hex) of the validated factfile bytes kept in the spool
			     * (spool_factfile_get), NULL for a job queued before they were kept */
};
/* Frees a record from spool_get/spool_claim_next; NULL is allowed. */
void spool_job_free(struct spool_job *job);
/* Frees an array of n records from spool_list; NULL is allowed. */
void spool_job_list_free(struct spool_job *jobs, size_t n);

/* What a submission stores. Strings are copied; none may be NULL except factfile_args ("[]")
 * and the ones said. */
struct spool_submit {
	const char *id;
	const char *job_name;
	const char *factfile_path;
	const char *factfile_args;
	const char *node;
	int64_t consul_index;     /* the claim's ModifyIndex, 0 without Consul */
	const char *submitted_by; /* the authenticated user, NULL if none */
	/* the validated factfile bytes and their SHA-256 in hex (NULL: none kept); stored once per
	 * hash, shared by the jobs that name it, dropped with the last of them */
	const char *factfile_sha;
	const void *factfile;
	size_t factfile_len;
	size_t max_queued_user; /* 0: no per-user bound; jobs without a user share one */
};

/* Queues a job, in one transaction, checking in this order: the spool is in drain state
 * (FS_ESTATE); the id is QUEUED or WORKING (FS_EEXIST); max_queued jobs are already QUEUED
 * (FS_EFULL); max_queued_user jobs of the same submitted_by are QUEUED (FS_EQUOTA). A DONE row of the same id is reused for the new submission (its history stays in
 * the transitions). Its QUEUED/WAITING transition is stored when the job leaves QUEUED (claim,
 * cancel, abandon), not here: spool_transitions shows it meanwhile. Adds nothing to the outbox
 * (the caller has claimed the Consul key itself). Usable inside a batch. */
int spool_enqueue(struct spool *sp, const struct spool_submit *sub, size_t max_queued, char **errp);

/* Batch (group commit): spool_begin opens one BEGIN IMMEDIATE transaction that the following
 * write calls of this handle join (each as a savepoint, so a refused or failed call undoes only
 * its own writes); spool_commit makes them durable at once, spool_rollback discards them. The
 * handle's mutex is held from spool_begin to spool_commit/spool_rollback. Nested spool_begin is
 * FS_ESTATE. */
int spool_begin(struct spool *sp, char **errp);
int spool_commit(struct spool *sp, char **errp);
void spool_rollback(struct spool *sp);

/* Claims the oldest QUEUED job (FIFO) for node: WORKING/RUNNING, started now, run details
 * cleared. *jobp receives the claimed job (caller frees with spool_job_free). FS_ENOENT when
 * nothing is QUEUED. Two claimers, in any processes, never get the same job. */
int spool_claim_next(struct spool *sp, const char *node, struct spool_job **jobp, char **errp);

/* Deferred durability, for a caller whose commits need not wait for the disk (the worker's
 * claims: a run's go record is its commit point, worker/outcome.h), or that can overlap the
 * disk's wait with other work (a flush at the resume). After spool_defer_sync, commits on sp no
 * longer wait for the disk; spool_resume_sync with flush makes everything committed so far
 * durable (one flush of the WAL, as a waiting commit does) and restores waiting commits;
 * without flush it only restores them, and what was committed becomes durable with the next
 * waiting commit (the WAL is written and flushed in order). Each defer is followed by one
 * resume; both are no-ops with SPOOL_SYNC_NORMAL, whose commits never wait. Not inside a batch
 * (FS_ESTATE). A failed flush is FS_EIO: then nothing committed since the defer is known to be
 * durable. The commit mark (spool_open) names a deferred commit only once a flush made it
 * durable. */
int spool_defer_sync(struct spool *sp, char **errp);
int spool_resume_sync(struct spool *sp, int flush, char **errp);

/* Records the run's command line (free text; e.g. the argv as a JSON array) and process id of a
 * WORKING job. FS_ENOENT unknown id, FS_ESTATE not WORKING. No transition. */
int spool_record_run(struct spool *sp, const char *id, const char *command, int64_t pid,
		     char **errp);

/* How a run ended. */
struct spool_result {
	enum spool_outcome outcome; /* SPOOL_SUCCEEDED or SPOOL_FAILED */
	int exit_code;              /* -1 if none (killed by a signal, never started) */
	int exit_signal;            /* 0 if none */
	const char *reason;         /* NULL or e.g. "timeout", "runner-missing", "lost" */
};
/* WORKING -> DONE with the result, finished now. FS_ENOENT unknown id, FS_ESTATE not WORKING,
 * FS_EINVAL outcome not SUCCEEDED/FAILED. */
int spool_finish(struct spool *sp, const char *id, const struct spool_result *res, char **errp);

/* QUEUED -> DONE/FAILED, reason "cancelled". FS_ENOENT unknown id, FS_ESTATE not QUEUED (a
 * WORKING job is cancelled by signalling its run, then spool_finish). */
int spool_cancel(struct spool *sp, const char *id, char **errp);

/* QUEUED or WORKING -> DONE/FAILED with reason (e.g. "consul-lost": the node no longer owns the
 * job's Consul entry), finished now; the job's pending outbox entries are dropped and the
 * transition is not queued for Consul (the entry is someone else's now). A WORKING job's run,
 * if any, is the caller's to stop. FS_ENOENT unknown id, FS_ESTATE already DONE. */
int spool_abandon(struct spool *sp, const char *id, const char *reason, char **errp);

/* WORKING -> QUEUED/WAITING for a run that never started (its runner never ran): the job gets
 * its place in the queue back (its seq is kept, so the next claim takes it before every job
 * queued after it), its run fields are cleared, and the QUEUED transition is stored now (queued
 * for Consul with SPOOL_OUTBOX) rather than when it next leaves QUEUED. run is the run's token
 * (its started_ms): a job claimed again since is left alone. FS_ENOENT unknown id, FS_ESTATE not
 * WORKING or another run. */
int spool_requeue(struct spool *sp, const char *id, int64_t run, char **errp);

/* QUEUED -> WORKING/RUNNING as spool_claim_next would have claimed it at run (its started_ms, the
 * run's token), for a claim a power loss took back after its run's go record reached the disk
 * (the worker's start, worker/outcome.h): only the submission that claim took -- the job's seq
 * and created_ms as given -- is claimed again. Its QUEUED and WORKING transitions are stored as
 * the claim stored them. FS_ENOENT unknown id, FS_ESTATE not QUEUED or another submission. */
int spool_reclaim(struct spool *sp, const char *id, const char *node, int64_t run, int64_t seq,
		  int64_t created_ms, char **errp);

/* One job by id; *jobp is the caller's (spool_job_free). FS_ENOENT unknown id. */
int spool_get(struct spool *sp, const char *id, struct spool_job **jobp, char **errp);

/* Jobs newest first (by submission), state a spool_state or SPOOL_STATE_ANY, skipping offset,
 * at most limit (0 = no limit). *jobsp receives an array of *np records (NULL when 0) that the
 * caller frees with spool_job_list_free. */
int spool_list(struct spool *sp, int state, size_t limit, size_t offset, struct spool_job **jobsp,
	       size_t *np, char **errp);

/* The factfile bytes kept under sha (a job's factfile_sha): *bodyp (NUL-terminated, *lenp bytes
 * before the NUL) is the caller's to free. FS_ENOENT when none is kept. */
int spool_factfile_get(struct spool *sp, const char *sha, char **bodyp, size_t *lenp, char **errp);
/* The number of WORKING jobs whose factfile_sha is sha, into *np. */
int spool_factfile_running(struct spool *sp, const char *sha, int64_t *np, char **errp);

/* The counters kept in the spool (for /status and /metrics), read in one small query whatever the
 * number of jobs. queued, working and done are the jobs in the spool now (done goes down when
 * rows are deleted or a DONE job is resubmitted); the rest are totals since the spool was made,
 * over every transition into DONE, that never go down. */
#define SPOOL_RUN_BUCKETS_MAX 16
struct spool_counts {
	int64_t queued;
	int64_t working;
	int64_t done;
	int64_t succeeded; /* jobs that reached DONE with outcome SUCCEEDED */
	int64_t failed;    /* ... with outcome FAILED (cancelled and abandoned jobs included) */
	int64_t runs;      /* of those, the ones that had started: their runs' durations ... */
	int64_t run_ms;    /* ... summed, in milliseconds, and ... */
	size_t nbuckets;   /* ... counted in buckets, cumulative, le_ms ascending */
	struct {
		int64_t le_ms; /* upper bound, inclusive */
		int64_t n;     /* runs that took at most le_ms */
	} bucket[SPOOL_RUN_BUCKETS_MAX];
};
int spool_count(struct spool *sp, struct spool_counts *c, char **errp);

/* One entry of a job's history. */
struct spool_transition {
	int64_t tid;  /* increasing over the whole spool; 0 for the QUEUED entry of a job that is
			* still queued (stored when it leaves QUEUED, or by spool_requeue) */
	char *job_id; /* owned */
	int64_t at_ms;
	enum spool_state state;
	enum spool_outcome outcome;
	int exit_code;   /* -1 if none */
	int exit_signal; /* 0 if none */
	char *reason;    /* owned; NULL if none */
	char *node;      /* owned */
};
/* Test seam (the programs read transitions only through the outbox): the job's transitions,
 * oldest first, over all its submissions; *trsp is an array of *np (NULL when 0) the caller frees
 * with spool_transition_list_free. Unknown id: 0 entries. */
int spool_transitions(struct spool *sp, const char *id, struct spool_transition **trsp, size_t *np,
		      char **errp);
void spool_transition_list_free(struct spool_transition *trs, size_t n);

/* The run/drain setting, shared by every process of the node and kept across restarts. */
int spool_drain_get(struct spool *sp, int *drainingp, char **errp);
int spool_drain_set(struct spool *sp, int draining, char **errp);

/* Small key/value settings (e.g. "consul.session"). get: *valuep is the caller's (free()),
 * FS_ENOENT when absent. set: value NULL deletes. The key "state" is the run/drain setting:
 * use spool_drain_*. */
int spool_setting_get(struct spool *sp, const char *key, char **valuep, char **errp);
int spool_setting_set(struct spool *sp, const char *key, const char *value, char **errp);

/* One setting, as listed by spool_setting_list; both strings owned by the record. */
struct spool_setting {
	char *key;
	char *value;
};
/* Every setting whose key starts with prefix (non-empty; e.g. "cancel."), in key order, read in
 * one query. *listp is an array of *np records (NULL when 0) the caller frees with
 * spool_setting_list_free. */
int spool_setting_list(struct spool *sp, const char *prefix, struct spool_setting **listp,
		       size_t *np, char **errp);
void spool_setting_list_free(struct spool_setting *list, size_t n);

/* Sets the job's "last Consul ModifyIndex seen". FS_ENOENT unknown id. */
int spool_consul_index_set(struct spool *sp, const char *id, int64_t index, char **errp);

/* Outbox (SPOOL_OUTBOX): transitions still to be written to Consul. One entry. */
struct spool_outbox {
	int64_t oid;                /* increasing: deliver in this order */
	struct spool_transition tr; /* the transition to mirror */
};
/* The oldest max (0 = all) entries, oldest first; *entriesp is an array of *np (NULL when 0)
 * freed with spool_outbox_list_free. The value to write is built from the entry and the job's
 * row (spool_get); the fence is the job's consul_index. */
int spool_outbox_list(struct spool *sp, size_t max, struct spool_outbox **entriesp, size_t *np,
		      char **errp);
void spool_outbox_list_free(struct spool_outbox *entries, size_t n);
/* Removes a delivered (or abandoned) entry and, if consul_index > 0, sets its job's last index
 * seen, in one transaction. FS_ENOENT unknown oid. */
int spool_outbox_delete(struct spool *sp, int64_t oid, int64_t consul_index, char **errp);

/* The reserve (core/spoolreserve.h): spool_open makes <dir>/reserve when there is room to spare
 * (spool_reserve_restore's rule with min_free 0). On a handle opened with SPOOL_RESERVE,
 * spool_claim_next, spool_record_run, spool_finish, spool_abandon, spool_requeue,
 * spool_reclaim and spool_setting_set, outside a batch, give it back when they fail for lack of
 * space and are tried once more. A batch cannot be: after a failed spool_commit,
 * spool_reserve_give_back returns 1 when that failure was for lack of space and the reserve was
 * there to give back (it is gone now: the batch's owner starts it again), else 0.
 * spool_reserve_restore remakes a missing one once the filesystem has min_free bytes free besides
 * it: 1 when it was remade, else 0. */
int spool_reserve_give_back(struct spool *sp);
int spool_reserve_restore(struct spool *sp, long long min_free);

/* Test seam (a crash-recovery test checks the file after a kill): PRAGMA integrity_check, 0 or
 * FS_EIO with the first problem. */
int spool_integrity_check(struct spool *sp, char **errp);

/* Test seam: fn is called inside each write transaction after its writes and before its commit,
 * with point "enqueue", "claim", "record_run", "finish", "cancel", "drain", "setting",
 * "consul_index" or "outbox_delete" (a test raises SIGKILL there). NULL removes it. */
typedef void (*spool_hook_fn)(const char *point, void *arg);
void spool_set_hook(struct spool *sp, spool_hook_fn fn, void *arg);

#endif
