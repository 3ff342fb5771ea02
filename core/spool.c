/* SPDX-License-Identifier: Apache-2.0 */
/* The node's durable SQLite spool: its schema, cached prepared statements, and one
 * BEGIN IMMEDIATE transaction (or a savepoint inside a caller's batch) per write operation. */
#include "spool.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "err.h"
#include "fault.h"
#include "settings.h"
#include "spooldb.h"
#include "spoollist.h"
#include "spoolmark.h"
#include "spoolprune.h"
#include "spoolreserve.h"
#include "spoolsched.h"
#include "statring.h"
#include "xalloc.h"

/* The schema (PRAGMA user_version SCHEMA_VERSION): jobs, their history, settings, the Consul
 * outbox, the validated factfiles, the counters. A new spool is made as version 3 and migrated,
 * so that a new spool and a migrated one are the same; a spool of any other version is refused: a
 * schema change is a new version, with its migration. Versions 1 and 2 were development layouts (no
 * queued_count table; the QUEUED transition stored at enqueue): 3 is the first number this
 * schema owns, so that neither is mistaken for it. */
#define SCHEMA_VERSION   7
#define SCHEMA_STR(v)    #v
#define SCHEMA_PRAGMA(v) "PRAGMA user_version = " SCHEMA_STR(v) ";"
static const char schema_v3_sql[] =
	"CREATE TABLE jobs ("
	" id TEXT PRIMARY KEY NOT NULL,"
	" seq INTEGER NOT NULL UNIQUE,"
	" job_name TEXT NOT NULL,"
	" factfile_path TEXT NOT NULL,"
	" factfile_args TEXT NOT NULL,"
	" state TEXT NOT NULL CHECK (state IN ('QUEUED', 'WORKING', 'DONE')),"
	" outcome TEXT NOT NULL CHECK (outcome IN ('WAITING', 'RUNNING', 'SUCCEEDED', 'FAILED')),"
	" node TEXT NOT NULL,"
	" created_ms INTEGER NOT NULL,"
	" updated_ms INTEGER NOT NULL,"
	" started_ms INTEGER,"
	" finished_ms INTEGER,"
	" exit_code INTEGER,"
	" exit_signal INTEGER,"
	" reason TEXT,"
	" command TEXT,"
	" pid INTEGER,"
	" consul_index INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX jobs_state_seq ON jobs(state, seq);"
	"CREATE TABLE transitions ("
	" tid INTEGER PRIMARY KEY,"
	" job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
	" at_ms INTEGER NOT NULL,"
	" state TEXT NOT NULL,"
	" outcome TEXT NOT NULL,"
	" exit_code INTEGER,"
	" exit_signal INTEGER,"
	" reason TEXT,"
	" node TEXT NOT NULL);"
	"CREATE INDEX transitions_job ON transitions(job_id, tid);"
	"CREATE TABLE outbox ("
	" oid INTEGER PRIMARY KEY,"
	" tid INTEGER NOT NULL UNIQUE REFERENCES transitions(tid) ON DELETE CASCADE);"
	"CREATE TABLE settings ("
	" key TEXT PRIMARY KEY NOT NULL,"
	" value TEXT NOT NULL) WITHOUT ROWID;"
	/* the number of QUEUED jobs, kept by triggers, so the capacity check of every enqueue is
	 * O(1) instead of a count over a growing index (that count was most of /submit's CPU) */
	"CREATE TABLE queued_count (one INTEGER PRIMARY KEY CHECK (one = 1), n INTEGER NOT NULL);"
	"INSERT INTO queued_count VALUES (1, 0);"
	"CREATE TRIGGER jobs_queued_ins AFTER INSERT ON jobs WHEN NEW.state = 'QUEUED'"
	" BEGIN UPDATE queued_count SET n = n + 1; END;"
	"CREATE TRIGGER jobs_queued_upd AFTER UPDATE OF state ON jobs"
	" WHEN (OLD.state = 'QUEUED') <> (NEW.state = 'QUEUED')"
	" BEGIN UPDATE queued_count SET n = n + (CASE WHEN NEW.state = 'QUEUED' THEN 1 ELSE -1 END); END;"
	"CREATE TRIGGER jobs_queued_del AFTER DELETE ON jobs WHEN OLD.state = 'QUEUED'"
	" BEGIN UPDATE queued_count SET n = n - 1; END;" SCHEMA_PRAGMA(3);

/* Version 4: who submitted each job (NULL: nobody authenticated) and the factfile bytes that were
 * validated, kept once per SHA-256 (hex) for every job that names them and dropped by the
 * triggers with the last such job. A job migrated from version 3 has no factfile_sha: its run
 * reads its factfilePath. The partial index serves --max-queued-per-user's count. */
static const char schema_v4_sql[] =
	"ALTER TABLE jobs ADD COLUMN submitted_by TEXT;"
	"ALTER TABLE jobs ADD COLUMN factfile_sha TEXT;"
	"CREATE TABLE factfiles (sha TEXT PRIMARY KEY NOT NULL, body BLOB NOT NULL);"
	"CREATE INDEX jobs_factfile ON jobs(factfile_sha) WHERE factfile_sha IS NOT NULL;"
	"CREATE INDEX jobs_queued_user ON jobs(submitted_by) WHERE state = 'QUEUED';"
	"CREATE TRIGGER jobs_factfile_upd AFTER UPDATE OF factfile_sha ON jobs"
	" WHEN OLD.factfile_sha IS NOT NULL AND OLD.factfile_sha IS NOT NEW.factfile_sha"
	" BEGIN DELETE FROM factfiles WHERE sha = OLD.factfile_sha AND NOT EXISTS"
	" (SELECT 1 FROM jobs WHERE factfile_sha = OLD.factfile_sha); END;"
	"CREATE TRIGGER jobs_factfile_del AFTER DELETE ON jobs WHEN OLD.factfile_sha IS NOT NULL"
	" BEGIN DELETE FROM factfiles WHERE sha = OLD.factfile_sha AND NOT EXISTS"
	" (SELECT 1 FROM jobs WHERE factfile_sha = OLD.factfile_sha); END;" SCHEMA_PRAGMA(4);

/* Version 5: counters kept by triggers, so that /status and /metrics cost the same whatever the
 * history: the WORKING and DONE jobs (QUEUED is queued_count), and totals over every job that
 * reached DONE on this node: its outcome and, when it ran, its run's duration (the histogram's
 * buckets, cumulative, with their upper bounds in le_ms). The totals are only ever added to in the
 * transaction that finishes a job, so deleting job rows (retention) leaves them as they are. A
 * migrated spool starts them from its rows. */
#define RUN_DONE_MS "NEW.finished_ms - NEW.started_ms"
#define RAN_NEW     "NEW.started_ms > 0 AND NEW.finished_ms >= NEW.started_ms"
#define RAN_DONE    "state = 'DONE' AND started_ms > 0 AND finished_ms >= started_ms"
static const char schema_v5_sql[] =
	"CREATE TABLE counters (name TEXT PRIMARY KEY NOT NULL, le_ms INTEGER,"
	" n INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
	"INSERT INTO counters(name, le_ms) VALUES ('jobs.WORKING', NULL), ('jobs.DONE', NULL),"
	" ('outcome.SUCCEEDED', NULL), ('outcome.FAILED', NULL), ('runs', NULL), ('run_ms', NULL),"
	" ('run_le.1', 1000), ('run_le.5', 5000), ('run_le.15', 15000), ('run_le.60', 60000),"
	" ('run_le.300', 300000), ('run_le.900', 900000), ('run_le.3600', 3600000),"
	" ('run_le.14400', 14400000), ('run_le.86400', 86400000);"
	"UPDATE counters SET n = (SELECT count(*) FROM jobs WHERE state = substr(counters.name, 6))"
	" WHERE name IN ('jobs.WORKING', 'jobs.DONE');"
	"UPDATE counters SET n = (SELECT count(*) FROM jobs WHERE state = 'DONE'"
	" AND (outcome = 'SUCCEEDED') = (counters.name = 'outcome.SUCCEEDED'))"
	" WHERE name IN ('outcome.SUCCEEDED', 'outcome.FAILED');"
	"UPDATE counters SET n = (SELECT count(*) FROM jobs WHERE " RAN_DONE
	") WHERE name = 'runs';"
	"UPDATE counters SET n = (SELECT coalesce(sum(finished_ms - started_ms), 0) FROM jobs"
	" WHERE " RAN_DONE ") WHERE name = 'run_ms';"
	"UPDATE counters SET n = (SELECT count(*) FROM jobs WHERE " RAN_DONE
	" AND finished_ms - started_ms <= counters.le_ms) WHERE le_ms IS NOT NULL;"
	"CREATE TRIGGER jobs_count_ins AFTER INSERT ON jobs WHEN NEW.state <> 'QUEUED'"
	" BEGIN UPDATE counters SET n = n + 1 WHERE name = 'jobs.' || NEW.state; END;"
	"CREATE TRIGGER jobs_count_upd AFTER UPDATE OF state ON jobs WHEN OLD.state <> NEW.state"
	" BEGIN UPDATE counters SET n = n + (CASE WHEN name = 'jobs.' || NEW.state THEN 1 ELSE -1 END)"
	" WHERE name IN ('jobs.' || OLD.state, 'jobs.' || NEW.state); END;"
	"CREATE TRIGGER jobs_count_del AFTER DELETE ON jobs WHEN OLD.state <> 'QUEUED'"
	" BEGIN UPDATE counters SET n = n - 1 WHERE name = 'jobs.' || OLD.state; END;"
	"CREATE TRIGGER jobs_done_totals AFTER UPDATE OF state ON jobs"
	" WHEN NEW.state = 'DONE' AND OLD.state <> 'DONE' BEGIN"
	" UPDATE counters SET n = n + 1 WHERE name = 'outcome.' ||"
	" (CASE WHEN NEW.outcome = 'SUCCEEDED' THEN 'SUCCEEDED' ELSE 'FAILED' END);"
	" UPDATE counters SET n = n + (CASE WHEN name = 'run_ms' THEN " RUN_DONE_MS " ELSE 1 END)"
	" WHERE " RAN_NEW " AND (name IN ('runs', 'run_ms') OR le_ms >= " RUN_DONE_MS ");"
	" END;" SCHEMA_PRAGMA(5);

/* Version 6: the outcome ring (statring.h), succeeded and failed counts per minute and per hour
 * in a fixed number of rows: a slot of span ms is slot = start / span % slots, and holds the
 * counts of the bucket that starts at start_ms (-1: none yet). The transaction that finishes a job
 * adds it to the bucket of its finish time, first emptying a slot that still holds an older
 * bucket: two rows, each found by its key, whatever the history. A finish older than what its
 * slot holds (the clock stepped back) is not counted there. A migrated spool's ring starts
 * empty. */
/* the SQL below names the ring's spans and slots as numbers */
_Static_assert(STATRING_MINUTE_MS == 60000 && STATRING_MINUTE_SLOTS == 60 &&
		       STATRING_HOUR_MS == 3600000 && STATRING_HOUR_SLOTS == 48,
	       "statring.h and schema_v6_sql disagree");
static const char schema_v6_sql[] =
	"CREATE TABLE outcome_ring (span INTEGER NOT NULL, slots INTEGER NOT NULL,"
	" slot INTEGER NOT NULL, start_ms INTEGER NOT NULL DEFAULT -1,"
	" succeeded INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (span, slot)) WITHOUT ROWID;"
	"WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < 60)"
	" INSERT INTO outcome_ring(span, slots, slot) SELECT 60000, 60, i FROM n;"
	"WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < 48)"
	" INSERT INTO outcome_ring(span, slots, slot) SELECT 3600000, 48, i FROM n;"
	/* one row a span, each found by its key */
	"CREATE TRIGGER jobs_done_ring AFTER UPDATE OF state ON jobs"
	" WHEN NEW.state = 'DONE' AND OLD.state <> 'DONE' AND NEW.updated_ms >= 0 BEGIN"
	" UPDATE outcome_ring SET"
	" succeeded = (CASE WHEN start_ms = (NEW.updated_ms - NEW.updated_ms % 60000)"
	" THEN succeeded ELSE 0 END) + (NEW.outcome = 'SUCCEEDED'),"
	" failed = (CASE WHEN start_ms = (NEW.updated_ms - NEW.updated_ms % 60000)"
	" THEN failed ELSE 0 END) + (NEW.outcome <> 'SUCCEEDED'),"
	" start_ms = (NEW.updated_ms - NEW.updated_ms % 60000)"
	" WHERE span = 60000 AND slot = NEW.updated_ms / 60000 % 60"
	" AND start_ms <= (NEW.updated_ms - NEW.updated_ms % 60000);"
	" UPDATE outcome_ring SET"
	" succeeded = (CASE WHEN start_ms = (NEW.updated_ms - NEW.updated_ms % 3600000)"
	" THEN succeeded ELSE 0 END) + (NEW.outcome = 'SUCCEEDED'),"
	" failed = (CASE WHEN start_ms = (NEW.updated_ms - NEW.updated_ms % 3600000)"
	" THEN failed ELSE 0 END) + (NEW.outcome <> 'SUCCEEDED'),"
	" start_ms = (NEW.updated_ms - NEW.updated_ms % 3600000)"
	" WHERE span = 3600000 AND slot = NEW.updated_ms / 3600000 % 48"
	" AND start_ms <= (NEW.updated_ms - NEW.updated_ms % 3600000);"
	" END;" SCHEMA_PRAGMA(6);

#define JOB_COLS                                                                              \
	"id, job_name, factfile_path, factfile_args, state, outcome, node, seq, created_ms, " \
	"updated_ms, started_ms, finished_ms, exit_code, exit_signal, reason, command, pid, " \
	"consul_index, submitted_by, factfile_sha"
#define TR_COLS         SPOOL_DB_TR_COLS
#define TR_NOT_REQUEUED SPOOL_DB_TR_NOT_REQUEUED

enum sq {
	SQ_BEGIN,
	SQ_COMMIT,
	SQ_ROLLBACK,
	SQ_SAVEPOINT,
	SQ_RELEASE,
	SQ_ROLLBACK_TO,
	SQ_SETTING_GET,
	SQ_SETTING_SET,
	SQ_SETTING_DEL,
	SQ_SETTING_RANGE,
	SQ_JOB_STATE,
	SQ_COUNT_QUEUED,
	SQ_COUNT_QUEUED_USER,
	SQ_FACTFILE_PUT,
	SQ_FACTFILE_GET,
	SQ_FACTFILE_RUNNING,
	SQ_UPSERT,
	SQ_TRANSITION,
	SQ_TRANSITION_QUEUED,
	SQ_OUTBOX_ADD,
	SQ_OLDEST_QUEUED,
	SQ_CLAIM,
	SQ_RECLAIM,
	SQ_RECORD_RUN,
	SQ_FINISH,
	SQ_CANCEL,
	SQ_ABANDON,
	SQ_OUTBOX_DROP_JOB,
	SQ_GET,
	SQ_LIST_ALL,
	SQ_LIST_STATE,
	SQ_COUNT,
	SQ_TRANSITIONS,
	SQ_OUTBOX_LIST,
	SQ_OUTBOX_JOB,
	SQ_OUTBOX_DEL,
	SQ_CONSUL_INDEX,
	SQ_SYNC_DEFER,
	SQ_SYNC_RESUME,
	SQ_REQUEUE,
	SQ_N
};

/* a claim: the job is WORKING/RUNNING from ?3 (its run's token) */
#define CLAIM_SQL                                                                  \
	"UPDATE jobs SET state = 'WORKING', outcome = 'RUNNING', node = ?2,"       \
	" updated_ms = ?3, started_ms = ?3, finished_ms = NULL, exit_code = NULL," \
	" exit_signal = NULL, reason = NULL, command = NULL, pid = NULL"           \
	" WHERE id = ?1 AND state = 'QUEUED'"

static const char *const sq_text[SQ_N] = {
	[SQ_BEGIN] = "BEGIN IMMEDIATE",
	[SQ_COMMIT] = "COMMIT",
	[SQ_ROLLBACK] = "ROLLBACK",
	[SQ_SAVEPOINT] = "SAVEPOINT spool_op",
	[SQ_RELEASE] = "RELEASE spool_op",
	[SQ_ROLLBACK_TO] = "ROLLBACK TO spool_op",
	[SQ_SETTING_GET] = "SELECT value FROM settings WHERE key = ?1",
	[SQ_SETTING_SET] = "INSERT INTO settings(key, value) VALUES (?1, ?2)"
			   " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
	[SQ_SETTING_DEL] = "DELETE FROM settings WHERE key = ?1",
	/* a range on the primary key, not LIKE: an index search, and exact (LIKE ignores case) */
	[SQ_SETTING_RANGE] = "SELECT key, value FROM settings WHERE key >= ?1 AND key < ?2"
			     " ORDER BY key",
	[SQ_JOB_STATE] = "SELECT state FROM jobs WHERE id = ?1",
	[SQ_COUNT_QUEUED] = "SELECT n FROM queued_count",
	[SQ_COUNT_QUEUED_USER] = "SELECT count(*) FROM jobs WHERE state = 'QUEUED'"
				 " AND submitted_by IS ?1",
	[SQ_FACTFILE_PUT] = "INSERT INTO factfiles(sha, body) VALUES (?1, ?2)"
			    " ON CONFLICT(sha) DO NOTHING",
	[SQ_FACTFILE_GET] = "SELECT body FROM factfiles WHERE sha = ?1",
	[SQ_FACTFILE_RUNNING] = "SELECT count(*) FROM jobs WHERE factfile_sha = ?1"
				" AND state = 'WORKING'",
	[SQ_UPSERT] = "INSERT INTO jobs(id, seq, job_name, factfile_path, factfile_args, state,"
		      " outcome, node, created_ms, updated_ms, consul_index, submitted_by,"
		      " factfile_sha)"
		      " VALUES (?1, (SELECT coalesce(max(seq), 0) + 1 FROM jobs), ?2, ?3, ?4,"
		      " 'QUEUED', 'WAITING', ?5, ?6, ?6, ?7, ?8, ?9)"
		      " ON CONFLICT(id) DO UPDATE SET seq = excluded.seq,"
		      " job_name = excluded.job_name, factfile_path = excluded.factfile_path,"
		      " factfile_args = excluded.factfile_args, state = 'QUEUED',"
		      " outcome = 'WAITING', node = excluded.node,"
		      " created_ms = excluded.created_ms, updated_ms = excluded.updated_ms,"
		      " started_ms = NULL, finished_ms = NULL, exit_code = NULL,"
		      " exit_signal = NULL, reason = NULL, command = NULL, pid = NULL,"
		      " consul_index = excluded.consul_index,"
		      " submitted_by = excluded.submitted_by, factfile_sha = excluded.factfile_sha",
	[SQ_TRANSITION] = "INSERT INTO transitions(job_id, at_ms, state, outcome, exit_code,"
			  " exit_signal, reason, node)"
			  " SELECT id, ?2, state, outcome, exit_code, exit_signal, reason, node"
			  " FROM jobs WHERE id = ?1",
	/* a queued job's QUEUED transition, stored when it leaves QUEUED -- unless it is stored
	 * already: a job put back in the queue (spool_requeue) has it as its last transition */
	[SQ_TRANSITION_QUEUED] = "INSERT INTO transitions(job_id, at_ms, state, outcome, exit_code,"
				 " exit_signal, reason, node)"
				 " SELECT id, updated_ms, state, outcome, exit_code, exit_signal,"
				 " reason, node FROM jobs WHERE id = ?1 AND state = 'QUEUED'"
				 " AND " TR_NOT_REQUEUED,
	[SQ_OUTBOX_ADD] = "INSERT INTO outbox(tid) VALUES (?1)",
	[SQ_OLDEST_QUEUED] = "SELECT id FROM jobs WHERE state = 'QUEUED' ORDER BY seq LIMIT 1",
	[SQ_CLAIM] = CLAIM_SQL,
	/* only the submission the lost claim took (spool_reclaim) */
	[SQ_RECLAIM] = CLAIM_SQL " AND seq = ?4 AND created_ms = ?5",
	[SQ_RECORD_RUN] = "UPDATE jobs SET command = ?2, pid = ?3 WHERE id = ?1",
	[SQ_FINISH] = "UPDATE jobs SET state = 'DONE', outcome = ?2, exit_code = ?3,"
		      " exit_signal = ?4, reason = ?5, updated_ms = ?6, finished_ms = ?6"
		      " WHERE id = ?1",
	[SQ_CANCEL] = "UPDATE jobs SET state = 'DONE', outcome = 'FAILED', reason = 'cancelled',"
		      " updated_ms = ?2 WHERE id = ?1",
	[SQ_ABANDON] = "UPDATE jobs SET state = 'DONE', outcome = 'FAILED', reason = ?3,"
		       " updated_ms = ?2, finished_ms = ?2 WHERE id = ?1"
		       " AND state IN ('QUEUED', 'WORKING')",
	[SQ_OUTBOX_DROP_JOB] = "DELETE FROM outbox WHERE tid IN"
			       " (SELECT tid FROM transitions WHERE job_id = ?1)",
	[SQ_GET] = "SELECT " JOB_COLS " FROM jobs WHERE id = ?1",
	[SQ_LIST_ALL] = "SELECT " JOB_COLS " FROM jobs ORDER BY seq DESC LIMIT ?1 OFFSET ?2",
	[SQ_LIST_STATE] = "SELECT " JOB_COLS " FROM jobs WHERE state = ?3"
			  " ORDER BY seq DESC LIMIT ?1 OFFSET ?2",
	[SQ_COUNT] = "SELECT 'jobs.QUEUED', NULL, n FROM queued_count"
		     " UNION ALL SELECT name, le_ms, n FROM counters ORDER BY 2",
	[SQ_TRANSITIONS] =
		"SELECT " TR_COLS " FROM transitions t WHERE t.job_id = ?1"
		" UNION ALL SELECT NULL, id, updated_ms, state, outcome, exit_code,"
		" exit_signal, reason, node FROM jobs"
		" WHERE id = ?1 AND state = 'QUEUED' AND " TR_NOT_REQUEUED " ORDER BY 1 NULLS LAST",
	[SQ_OUTBOX_LIST] = "SELECT o.oid, " TR_COLS " FROM outbox o"
			   " JOIN transitions t ON t.tid = o.tid ORDER BY o.oid LIMIT ?1",
	[SQ_OUTBOX_JOB] = "SELECT t.job_id FROM outbox o JOIN transitions t ON t.tid = o.tid"
			  " WHERE o.oid = ?1",
	[SQ_OUTBOX_DEL] = "DELETE FROM outbox WHERE oid = ?1",
	[SQ_CONSUL_INDEX] = "UPDATE jobs SET consul_index = ?2 WHERE id = ?1",
	[SQ_SYNC_DEFER] = "PRAGMA synchronous = NORMAL",
	[SQ_SYNC_RESUME] = "PRAGMA synchronous = FULL",
	/* seq stays: the claim order (SQ_OLDEST_QUEUED) finds the job where it was */
	[SQ_REQUEUE] = "UPDATE jobs SET state = 'QUEUED', outcome = 'WAITING', updated_ms = ?3,"
		       " started_ms = NULL, finished_ms = NULL, exit_code = NULL,"
		       " exit_signal = NULL, reason = NULL, command = NULL, pid = NULL"
		       " WHERE id = ?1 AND state = 'WORKING' AND started_ms = ?2",
};

struct spool {
	sqlite3 *db;
	char *path;
	int flags;
	int batch; /* inside spool_begin: write calls use savepoints */
	/* Within a batch the write lock is held throughout, so the drain state and the number of
	 * queued jobs read by its first enqueue stay true for the rest (kept up to date here). */
	int batch_known, batch_draining;
	int64_t batch_queued;
	pthread_mutex_t mu; /* recursive; held by spool_begin until commit/rollback */
	sqlite3_stmt *st[SQ_N];
	spool_hook_fn hook;
	void *hook_arg;
	int wal_frames; /* SPOOL_CHECKPOINT_APART: WAL size after the last commit (atomic) */
	/* <dir>/draining exists whenever the setting says drain (written in that order, inside the
	 * setting's transaction), so its absence answers spool_drain_get without a read
	 * transaction; NULL when it could not be made true at open (then every call reads). */
	char *drain_hint;
	int deferred; /* between spool_defer_sync and spool_resume_sync */
	/* <dir>/reserve (core/spoolreserve.h), and whether a statement failed with SQLITE_FULL
	 * since reserve_give_back last looked */
	char *reserve;
	int full;
	/* <dir>/spool.db-mark (core/spoolmark.h), the statements that bump and read the commit
	 * sequence it follows, and the sequence of a commit made with deferred sync (0: none),
	 * written once spool_resume_sync has flushed it */
	int mark_fd;
	sqlite3_stmt *mark_bump, *mark_read;
	int64_t mark_deferred;
};

static const char *const state_names[] = { "QUEUED", "WORKING", "DONE" };
static const char *const outcome_names[] = { "WAITING", "RUNNING", "SUCCEEDED", "FAILED" };

const char *spool_state_name(enum spool_state s)
{
	return (unsigned)s < 3 ? state_names[s] : "?";
}

const char *spool_outcome_name(enum spool_outcome o)
{
	return (unsigned)o < 4 ? outcome_names[o] : "?";
}

int spool_state_parse(const char *s)
{
	for (int i = 0; s != NULL && i < 3; i++)
		if (strcasecmp(s, state_names[i]) == 0)
			return i;
	return -1;
}

static int outcome_parse(const char *s)
{
	for (int i = 0; s != NULL && i < 4; i++)
		if (strcmp(s, outcome_names[i]) == 0)
			return i;
	return -1;
}

static void lock(struct spool *sp)
{
	pthread_mutex_lock(&sp->mu);
}

static void unlock(struct spool *sp)
{
	pthread_mutex_unlock(&sp->mu);
}

/* Names the failed operation with SQLite's own message for src. */
static int db_err(struct spool *sp, const char *op, int src, char **errp)
{
	int prim = src & 0xff;
	int code = (prim == SQLITE_BUSY || prim == SQLITE_LOCKED) ? FS_EBUSY : FS_EIO;

	if (prim == SQLITE_FULL)
		sp->full = 1;
	return err_set(errp, code, "spool: %s: %s", op, sqlite3_errmsg(sp->db));
}

/* The cached statement q, ready for binding; the caller resets it with st_done. */
static int st_get(struct spool *sp, enum sq q, const char *op, sqlite3_stmt **stp, char **errp)
{
	int src;

	if (sp->st[q] == NULL) {
		src = sqlite3_prepare_v3(sp->db, sq_text[q], -1, SQLITE_PREPARE_PERSISTENT,
					 &sp->st[q], NULL);
		if (src != SQLITE_OK) {
			sp->st[q] = NULL;
			return db_err(sp, op, src, errp);
		}
	}
	*stp = sp->st[q];
	return 0;
}

static void st_done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* Runs a statement that returns no rows (or ignores them). */
static int st_exec(struct spool *sp, enum sq q, const char *op, char **errp)
{
	sqlite3_stmt *st = NULL;
	int rc, src;

	if ((rc = st_get(sp, q, op, &st, errp)) != 0)
		return rc;
	src = sqlite3_step(st);
	if (src != SQLITE_DONE && src != SQLITE_ROW)
		rc = db_err(sp, op, src, errp);
	st_done(st);
	return rc;
}

/* st_get, then binds one parameter per character of types from ap: 't' a const char * (NULL
 * binds NULL), 'b' a const void * and its size_t length (a blob), 'i' an int64_t, 'n' an int64_t
 * bound as NULL when negative. On a bind failure the statement is already reset. */
static int st_vbind(struct spool *sp, enum sq q, const char *op, sqlite3_stmt **stp, char **errp,
		    const char *types, va_list ap)
{
	int rc, src = SQLITE_OK, i;
	int64_t v;

	if ((rc = st_get(sp, q, op, stp, errp)) != 0)
		return rc;
	for (i = 0; types[i] != '\0' && src == SQLITE_OK; i++) {
		if (types[i] == 't') {
			src = sqlite3_bind_text(*stp, i + 1, va_arg(ap, const char *), -1,
						SQLITE_STATIC);
			continue;
		}
		if (types[i] == 'b') {
			const void *p = va_arg(ap, const void *);

			src = sqlite3_bind_blob64(*stp, i + 1, p,
						  (sqlite3_uint64)va_arg(ap, size_t),
						  SQLITE_STATIC);
			continue;
		}
		v = va_arg(ap, int64_t);
		src = types[i] == 'n' && v < 0 ? sqlite3_bind_null(*stp, i + 1)
					       : sqlite3_bind_int64(*stp, i + 1, v);
	}
	if (src == SQLITE_OK)
		return 0;
	rc = db_err(sp, op, src, errp);
	st_done(*stp);
	return rc;
}

/* The cached statement q with its parameters bound (st_vbind's types); the caller steps it and
 * resets it with st_done. */
static int st_bind(struct spool *sp, enum sq q, const char *op, sqlite3_stmt **stp, char **errp,
		   const char *types, ...)
{
	va_list ap;
	int rc;

	va_start(ap, types);
	rc = st_vbind(sp, q, op, stp, errp, types, ap);
	va_end(ap);
	return rc;
}

/* Runs the write statement q with its parameters (st_vbind's types); *changesp (if not NULL)
 * gets the number of rows changed. */
static int st_run(struct spool *sp, enum sq q, const char *op, int *changesp, char **errp,
		  const char *types, ...)
{
	sqlite3_stmt *st = NULL;
	va_list ap;
	int rc, src;

	va_start(ap, types);
	rc = st_vbind(sp, q, op, &st, errp, types, ap);
	va_end(ap);
	if (rc != 0)
		return rc;
	src = sqlite3_step(st);
	if (src != SQLITE_DONE)
		rc = db_err(sp, op, src, errp);
	else if (changesp != NULL)
		*changesp = sqlite3_changes(sp->db);
	st_done(st);
	return rc;
}

/* Steps st (bound) once: 1 with a row for the caller to read before st_done, 0 when there is
 * none, or the error (both of these reset st). */
static int st_row(struct spool *sp, sqlite3_stmt *st, const char *op, char **errp)
{
	int src = sqlite3_step(st);

	if (src == SQLITE_ROW)
		return 1;
	st_done(st);
	return src == SQLITE_DONE ? 0 : db_err(sp, op, src, errp);
}

/* Steps st (bound) through its rows, appending each to the array *itemsp of *np items of size
 * bytes with read(st, item); resets st. On failure the items read so far stay for the caller to
 * free. */
static int st_rows(struct spool *sp, sqlite3_stmt *st, const char *op, void **itemsp, size_t *np,
		   size_t size, void (*read)(sqlite3_stmt *st, void *item), char **errp)
{
	int rc = 0, src;

	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		*itemsp = xgrow_by_one(*itemsp, *np, size);
		read(st, (char *)*itemsp + *np * size);
		(*np)++;
	}
	if (src != SQLITE_DONE)
		rc = db_err(sp, op, src, errp);
	st_done(st);
	return rc;
}

static char *col_str(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);
	return s != NULL ? xstrdup((const char *)s) : NULL;
}

static int64_t col_i64(sqlite3_stmt *st, int i, int64_t dflt)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? dflt : sqlite3_column_int64(st, i);
}

/* The first column of the one row of query q (parameters as st_vbind's types) as a new string
 * in *valuep, or NULL when there is no row. */
static int st_text(struct spool *sp, enum sq q, const char *op, char **valuep, char **errp,
		   const char *types, ...)
{
	sqlite3_stmt *st = NULL;
	va_list ap;
	int rc;

	*valuep = NULL;
	va_start(ap, types);
	rc = st_vbind(sp, q, op, &st, errp, types, ap);
	va_end(ap);
	if (rc != 0 || (rc = st_row(sp, st, op, errp)) <= 0)
		return rc;
	*valuep = col_str(st, 0);
	st_done(st);
	return 0;
}

static void job_from_row(sqlite3_stmt *st, struct spool_job *j)
{
	int s;

	j->id = col_str(st, 0);
	j->job_name = col_str(st, 1);
	j->factfile_path = col_str(st, 2);
	j->factfile_args = col_str(st, 3);
	s = spool_state_parse((const char *)sqlite3_column_text(st, 4));
	j->state = s < 0 ? SPOOL_DONE : (enum spool_state)s;
	s = outcome_parse((const char *)sqlite3_column_text(st, 5));
	j->outcome = s < 0 ? SPOOL_FAILED : (enum spool_outcome)s;
	j->node = col_str(st, 6);
	j->seq = col_i64(st, 7, 0);
	j->created_ms = col_i64(st, 8, 0);
	j->updated_ms = col_i64(st, 9, 0);
	j->started_ms = col_i64(st, 10, 0);
	j->finished_ms = col_i64(st, 11, 0);
	j->exit_code = (int)col_i64(st, 12, -1);
	j->exit_signal = (int)col_i64(st, 13, 0);
	j->reason = col_str(st, 14);
	j->command = col_str(st, 15);
	j->pid = col_i64(st, 16, 0);
	j->consul_index = col_i64(st, 17, 0);
	j->submitted_by = col_str(st, 18);
	j->factfile_sha = col_str(st, 19);
}

static void job_clear(struct spool_job *j)
{
	free(j->id);
	free(j->job_name);
	free(j->factfile_path);
	free(j->factfile_args);
	free(j->node);
	free(j->reason);
	free(j->command);
	free(j->submitted_by);
	free(j->factfile_sha);
}

void spool_job_free(struct spool_job *job)
{
	if (job == NULL)
		return;
	job_clear(job);
	free(job);
}

void spool_job_list_free(struct spool_job *jobs, size_t n)
{
	for (size_t i = 0; jobs != NULL && i < n; i++)
		job_clear(&jobs[i]);
	free(jobs);
}

/* Reads columns from `first` in TR_COLS order. */
static void tr_from_row(sqlite3_stmt *st, int first, struct spool_transition *t)
{
	int s;

	t->tid = col_i64(st, first, 0);
	t->job_id = col_str(st, first + 1);
	t->at_ms = col_i64(st, first + 2, 0);
	s = spool_state_parse((const char *)sqlite3_column_text(st, first + 3));
	t->state = s < 0 ? SPOOL_DONE : (enum spool_state)s;
	s = outcome_parse((const char *)sqlite3_column_text(st, first + 4));
	t->outcome = s < 0 ? SPOOL_FAILED : (enum spool_outcome)s;
	t->exit_code = (int)col_i64(st, first + 5, -1);
	t->exit_signal = (int)col_i64(st, first + 6, 0);
	t->reason = col_str(st, first + 7);
	t->node = col_str(st, first + 8);
}

static void tr_clear(struct spool_transition *t)
{
	free(t->job_id);
	free(t->reason);
	free(t->node);
}

void spool_transition_list_free(struct spool_transition *trs, size_t n)
{
	for (size_t i = 0; trs != NULL && i < n; i++)
		tr_clear(&trs[i]);
	free(trs);
}

void spool_outbox_list_free(struct spool_outbox *entries, size_t n)
{
	for (size_t i = 0; entries != NULL && i < n; i++)
		tr_clear(&entries[i].tr);
	free(entries);
}

static int mark_bump(struct spool *sp, const char *op, int64_t *seqp, char **errp);
static void mark_write(struct spool *sp, int64_t seq);

/* Transactions. Outside a batch each write is BEGIN IMMEDIATE ... COMMIT; inside one it is a
 * savepoint, so a refused call undoes only itself. The caller holds the mutex. */
static int tx_begin(struct spool *sp, const char *op, char **errp)
{
	if (sp->batch) {
		/* An I/O error can make SQLite roll the whole batch back; never let later calls
		 * run (and commit) on their own. */
		if (sqlite3_get_autocommit(sp->db))
			return err_set(errp, FS_EIO,
				       "spool: %s: the batch was rolled back by an "
				       "earlier error",
				       op);
		return st_exec(sp, SQ_SAVEPOINT, op, errp);
	}
	return st_exec(sp, SQ_BEGIN, op, errp);
}

/* Commits the operation when rc is 0, else undoes it; returns the final code. */
static int tx_end(struct spool *sp, int rc, const char *op, char **errp)
{
	int64_t seq = -1;

	if (rc == 0) {
		if (sp->hook != NULL)
			sp->hook(op, sp->hook_arg);
		if (!sp->batch)
			rc = mark_bump(sp, op, &seq, errp);
		if (rc == 0)
			rc = st_exec(sp, sp->batch ? SQ_RELEASE : SQ_COMMIT, op, errp);
		if (rc == 0) {
			mark_write(sp, seq);
			return 0;
		}
	}
	if (sqlite3_get_autocommit(sp->db))
		return rc; /* SQLite already rolled back */
	if (sp->batch) {
		st_exec(sp, SQ_ROLLBACK_TO, op, NULL);
		st_exec(sp, SQ_RELEASE, op, NULL);
	} else {
		st_exec(sp, SQ_ROLLBACK, op, NULL);
	}
	return rc;
}

/* Takes the mutex and begins the operation's transaction (tx_begin); on failure holds nothing. */
static int tx_open(struct spool *sp, const char *op, char **errp)
{
	int rc;

	lock(sp);
	if ((rc = tx_begin(sp, op, errp)) != 0)
		unlock(sp);
	return rc;
}

/* Ends what tx_open began (tx_end) and releases the mutex; returns the final code. */
static int tx_close(struct spool *sp, int rc, const char *op, char **errp)
{
	rc = tx_end(sp, rc, op, errp);
	unlock(sp);
	return rc;
}

/* *statep: the job's state, or -1 if there is no such job. */
static int job_state(struct spool *sp, const char *op, const char *id, int *statep, char **errp)
{
	char *state;
	int rc = st_text(sp, SQ_JOB_STATE, op, &state, errp, "t", id);

	*statep = state != NULL ? spool_state_parse(state) : -1;
	free(state);
	return rc;
}

/* Like job_state, but the job must exist and be in `want`. */
static int job_require(struct spool *sp, const char *op, const char *id, enum spool_state want,
		       char **errp)
{
	int rc, state;

	if ((rc = job_state(sp, op, id, &state, errp)) != 0)
		return rc;
	if (state < 0)
		return err_set(errp, FS_ENOENT, "spool: %s: no job with id '%s'", op, id);
	if (state != (int)want)
		return err_set(errp, FS_ESTATE, "spool: %s: job '%s' is %s, not %s", op, id,
			       spool_state_name(state), spool_state_name(want));
	return 0;
}

/* Records the job's current row as a transition and, with `outbox` and SPOOL_OUTBOX, queues it
 * for Consul. */
static int add_transition(struct spool *sp, const char *op, const char *id, int64_t at, int outbox,
			  char **errp)
{
	int rc;

	if ((rc = st_run(sp, SQ_TRANSITION, op, NULL, errp, "ti", id, at)) != 0)
		return rc;
	if (!outbox || !(sp->flags & SPOOL_OUTBOX))
		return 0;
	return st_run(sp, SQ_OUTBOX_ADD, op, NULL, errp, "i",
		      (int64_t)sqlite3_last_insert_rowid(sp->db));
}

/* Stores the QUEUED transition of job id if it is queued: called before it leaves QUEUED.
 * Enqueue does not store it (one insert and one random index page fewer per /submit);
 * spool_transitions shows it from the job's row meanwhile. */
static int add_queued_transition(struct spool *sp, const char *op, const char *id, char **errp)
{
	return st_run(sp, SQ_TRANSITION_QUEUED, op, NULL, errp, "t", id);
}

/* *valuep: the setting's value (caller frees), or NULL when it is not set. */
static int setting_lookup(struct spool *sp, const char *op, const char *key, char **valuep,
			  char **errp)
{
	return st_text(sp, SQ_SETTING_GET, op, valuep, errp, "t", key);
}

static int drain_read(struct spool *sp, const char *op, int *drainingp, char **errp)
{
	char *v;
	int rc = setting_lookup(sp, op, SETTINGS_STATE, &v, errp);

	*drainingp = rc == 0 && v != NULL && strcmp(v, "drain") == 0; /* never set: run */
	free(v);
	return rc;
}

/* A statement from sqlite3_exec (static SQL only). */
static int exec_static(sqlite3 *db, const char *path, const char *sql, char **errp)
{
	char *msg = NULL;
	int src = sqlite3_exec(db, sql, NULL, NULL, &msg);
	int prim = src & 0xff;
	int rc = 0;

	if (src != SQLITE_OK)
		rc = err_set(errp,
			     (prim == SQLITE_BUSY || prim == SQLITE_LOCKED) ? FS_EBUSY : FS_EIO,
			     "spool: open %s: %s", path, msg != NULL ? msg : sqlite3_errstr(src));
	sqlite3_free(msg);
	return rc;
}

/* The first column of the first row of sql (static) into *vp, at open. */
static int read_int(sqlite3 *db, const char *path, const char *sql, int64_t *vp, char **errp)
{
	sqlite3_stmt *st = NULL;
	int rc = 0, src;

	src = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (src == SQLITE_OK)
		src = sqlite3_step(st);
	if (src == SQLITE_ROW)
		*vp = sqlite3_column_int64(st, 0);
	else
		rc = err_set(errp, (src & 0xff) == SQLITE_BUSY ? FS_EBUSY : FS_EIO,
			     "spool: open %s: %s", path, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc;
}

/* Reads PRAGMA user_version. */
static int user_version(sqlite3 *db, const char *path, int *vp, char **errp)
{
	int64_t v = 0;
	int rc = read_int(db, path, "PRAGMA user_version", &v, errp);

	*vp = (int)v;
	return rc;
}

/* Version 7: the schedules, their slot history and the slots' counters (core/spoolsched.h). */

/* Creates the schema in a new (empty) spool, or migrates a version 3, 4, 5 or 6 spool, in one write
 * transaction re-reading the version inside it, since another process may be doing it too;
 * refuses any other version. */
static int schema_init(sqlite3 *db, const char *path, char **errp)
{
	int rc, v;

	if ((rc = user_version(db, path, &v, errp)) != 0)
		return rc;
	if (v == SCHEMA_VERSION)
		return 0;
	if (v == 0 || v == 3 || v == 4 || v == 5 || v == 6) {
		if ((rc = exec_static(db, path, "BEGIN IMMEDIATE", errp)) != 0)
			return rc;
		if ((rc = user_version(db, path, &v, errp)) != 0)
			goto fail;
		if (v == 0 && (rc = exec_static(db, path, schema_v3_sql, errp)) != 0)
			goto fail;
		if ((v == 0 || v == 3) && (rc = exec_static(db, path, schema_v4_sql, errp)) != 0)
			goto fail;
		if ((v == 0 || v == 3 || v == 4) &&
		    (rc = exec_static(db, path, schema_v5_sql, errp)) != 0)
			goto fail;
		if ((v == 0 || v == 3 || v == 4 || v == 5) &&
		    (rc = exec_static(db, path, schema_v6_sql, errp)) != 0)
			goto fail;
		if ((v == 0 || v == 3 || v == 4 || v == 5 || v == 6) &&
		    (rc = exec_static(db, path, spoolsched_schema_v7_sql, errp)) != 0)
			goto fail;
		if ((rc = exec_static(db, path, "COMMIT", errp)) != 0)
			goto fail;
		if (v == 0 || v == 3 || v == 4 || v == 5 || v == 6 || v == SCHEMA_VERSION)
			return 0;
	}
	return err_set(errp, FS_EIO, "spool: open %s: schema version %d, this build uses %d", path,
		       v, SCHEMA_VERSION);
fail:
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/* SQLite's WAL hook of a SPOOL_CHECKPOINT_APART handle: replaces the automatic checkpoint. */
static int spool_wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	(void)db;
	(void)name;
	__atomic_store_n(&((struct spool *)arg)->wal_frames, frames, __ATOMIC_RELAXED);
	return SQLITE_OK;
}

/* Creates the drain hint file; 0 or -1. */
static int drain_hint_make(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

/* Sets sp->drain_hint, creating the file if the setting says drain and it is missing (a crash
 * between the two); leaves it NULL if that cannot be done. */
static void drain_hint_open(struct spool *sp, const char *dir)
{
	char *hint = xasprintf("%s/draining", dir);
	int draining = 1;

	if (drain_read(sp, "open", &draining, NULL) == 0 &&
	    (!draining || access(hint, F_OK) == 0 || drain_hint_make(hint) == 0)) {
		sp->drain_hint = hint;
		return;
	}
	free(hint);
}

static void reserve_open(struct spool *sp, const char *dir);
static int mark_open(sqlite3 *db, const char *path, int *fdp, int64_t *markp, char **errp);
static int mark_check(sqlite3 *db, const char *path, int fd, int64_t mark, char **errp);

/* A spool_open that failed because spool.db is damaged (not a database, pages missing or
 * garbled) says what to do about it. */
static void open_damaged(sqlite3 *db, int rc, char **errp)
{
	int prim = sqlite3_errcode(db) & 0xff;
	char *msg;

	if (rc == 0 || errp == NULL || *errp == NULL ||
	    (prim != SQLITE_NOTADB && prim != SQLITE_CORRUPT))
		return;
	msg = xasprintf("%s (the file is damaged: restore the spool from a backup)", *errp);
	free(*errp);
	*errp = msg;
}

/* When a write finds the spool locked. SQLite's own handler (sqlite3_busy_timeout) sleeps 1, 2,
 * 5, ... up to 100 ms between attempts: a waiter that looks so rarely almost never finds the write
 * lock free between two of the responder's group commits, which follow each other within
 * microseconds under load (the worker's retention starved behind them). This one
 * tries again every SPOOL_BUSY_POLL_US, for SPOOL_BUSY_TIMEOUT_MS in all; each try is one
 * non-blocking lock attempt. A busy wait runs in one thread, from its first call (count 0). */
static _Thread_local int64_t busy_since_ms;

static int spool_busy(void *arg, int count)
{
	struct timespec pause = { 0, SPOOL_BUSY_POLL_US * 1000L };
	int64_t now = clock_mono_ms();

	(void)arg;
	if (count == 0)
		busy_since_ms = now;
	else if (now - busy_since_ms >= SPOOL_BUSY_TIMEOUT_MS)
		return 0;
	nanosleep(&pause, NULL);
	return 1;
}

static int spool_open_once(struct spool **spp, const char *dir, int flags, char **errp)
{
	struct spool *sp = NULL;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	pthread_mutexattr_t ma;
	struct stat sb;
	char *path = NULL;
	int64_t mark = -1;
	int rc = 0, src, mark_fd = -1;

	*spp = NULL;
	if (dir == NULL || *dir == '\0')
		return err_set(errp, FS_EINVAL, "spool: no spool directory given");
	if (stat(dir, &sb) != 0)
		return err_set(errp, FS_EIO, "spool: directory '%s': %s", dir, strerror(errno));
	if (!S_ISDIR(sb.st_mode))
		return err_set(errp, FS_EIO, "spool: '%s' is not a directory", dir);
	path = xasprintf("%s/spool.db", dir);
	src = sqlite3_open_v2(path, &db,
			      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			      NULL);
	if (src != SQLITE_OK) {
		rc = err_set(errp, FS_EIO, "spool: open %s: %s", path,
			     db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(src));
		goto fail;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_handler(db, spool_busy, NULL);
	/* The mark is read before the database (mark_open says why); whichever statement reads the
	 * file first fails for a non-database. */
	if ((rc = mark_open(db, path, &mark_fd, &mark, errp)) != 0)
		goto fail;
	src = sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
	if (src == SQLITE_OK)
		src = sqlite3_step(st);
	if (src != SQLITE_ROW) {
		rc = err_set(errp, (src & 0xff) == SQLITE_BUSY ? FS_EBUSY : FS_EIO,
			     "spool: open %s: %s", path, sqlite3_errmsg(db));
		goto fail;
	}
	if (strcasecmp((const char *)sqlite3_column_text(st, 0), "wal") != 0) {
		rc = err_set(errp, FS_EIO, "spool: open %s: cannot use WAL mode (journal mode %s)",
			     path, (const char *)sqlite3_column_text(st, 0));
		goto fail;
	}
	sqlite3_finalize(st);
	st = NULL;
	if ((rc = exec_static(db, path,
			      (flags & SPOOL_SYNC_NORMAL) ? "PRAGMA synchronous = NORMAL"
							  : "PRAGMA synchronous = FULL",
			      errp)) != 0 ||
	    (rc = exec_static(db, path, "PRAGMA foreign_keys = ON", errp)) != 0 ||
	    (rc = schema_init(db, path, errp)) != 0 ||
	    (rc = exec_static(db, path, spoolprune_indexes_sql, errp)) != 0 ||
	    (rc = exec_static(db, path, spoollist_indexes_sql, errp)) != 0 ||
	    (rc = mark_check(db, path, mark_fd, mark, errp)) != 0)
		goto fail;

	sp = xcalloc(1, sizeof *sp);
	sp->db = db;
	sp->path = path;
	sp->flags = flags;
	sp->mark_fd = mark_fd;
	mark_fd = -1;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&sp->mu, &ma);
	pthread_mutexattr_destroy(&ma);
	if (flags & SPOOL_CHECKPOINT_APART)
		sqlite3_wal_hook(db, spool_wal_hook, sp);
	db = NULL;
	path = NULL;
	drain_hint_open(sp, dir);
	reserve_open(sp, dir);
	*spp = sp;
fail:
	sqlite3_finalize(st);
	if (db != NULL) {
		open_damaged(db, rc, errp);
		sqlite3_close_v2(db);
	}
	if (mark_fd >= 0)
		close(mark_fd);
	free(path);
	return rc;
}

/* Processes starting together on one spool meet SQLite's busy answers that its busy handler
 * does not wait out: switching a new file to WAL, and opening a WAL while another connection
 * recovers it, answer SQLITE_BUSY at once. A busy open is therefore retried with a fresh
 * connection until SPOOL_START_WAIT_MS have passed; any other failure is final. */
int spool_open(struct spool **spp, const char *dir, int flags, char **errp)
{
	int64_t until = clock_mono_ms() + SPOOL_START_WAIT_MS;
	struct timespec pause = { 0, 0 };
	char *msg = NULL;
	int rc;

	while ((rc = spool_open_once(spp, dir, flags, &msg)) == FS_EBUSY &&
	       clock_mono_ms() < until) {
		free(msg);
		msg = NULL;
		/* 1 ms, doubling up to 64 ms: the other opener needs a few milliseconds */
		pause.tv_nsec = pause.tv_nsec == 0 ? 1000000 : pause.tv_nsec * 2;
		if (pause.tv_nsec > 64000000)
			pause.tv_nsec = 64000000;
		nanosleep(&pause, NULL);
	}
	if (rc != 0 && errp != NULL) {
		free(*errp);
		*errp = msg;
	} else {
		free(msg);
	}
	return rc;
}

void spool_close(struct spool *sp)
{
	if (sp == NULL)
		return;
	if (sp->batch)
		spool_rollback(sp);
	for (int i = 0; i < SQ_N; i++)
		sqlite3_finalize(sp->st[i]);
	sqlite3_finalize(sp->mark_bump);
	sqlite3_finalize(sp->mark_read);
	sqlite3_close_v2(sp->db);
	if (sp->mark_fd >= 0)
		close(sp->mark_fd);
	pthread_mutex_destroy(&sp->mu);
	free(sp->path);
	free(sp->drain_hint);
	free(sp->reserve);
	free(sp);
}

static int64_t mark_committed(struct spool *sp);
static void mark_catch_up(struct spool *sp, int64_t seq);

int spool_wal_frames(struct spool *sp)
{
	return __atomic_load_n(&sp->wal_frames, __ATOMIC_RELAXED);
}

int spool_checkpoint(struct spool *sp, char **errp)
{
	int64_t seq;
	int src, rc = 0, e, nlog = -1, ncopied = -2;

	lock(sp);
	if ((e = fault_at("spool.checkpoint")) != 0) {
		rc = err_set(errp, FS_EIO, "spool: checkpoint %s: %s", sp->path, strerror(-e));
		goto out;
	}
	seq = mark_committed(sp);
	src = sqlite3_wal_checkpoint_v2(sp->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &nlog, &ncopied);
	if (src != SQLITE_OK && (src & 0xff) != SQLITE_BUSY)
		rc = db_err(sp, "checkpoint", src, errp);
	else if (src == SQLITE_OK && ncopied == nlog)
		mark_catch_up(sp, seq);
out:
	unlock(sp);
	return rc;
}

int spool_defer_sync(struct spool *sp, char **errp)
{
	int rc = 0;

	lock(sp);
	if (sp->batch)
		rc = err_set(errp, FS_ESTATE, "spool: defer sync: inside a batch");
	else if (!(sp->flags & SPOOL_SYNC_NORMAL) && !sp->deferred &&
		 (rc = st_exec(sp, SQ_SYNC_DEFER, "defer sync", errp)) == 0)
		sp->deferred = 1;
	unlock(sp);
	return rc;
}

/* Flushes the WAL file to the disk as a commit with synchronous=FULL would (the VFS's own sync:
 * fdatasync, and the directory the first time). */
static int wal_flush(struct spool *sp, char **errp)
{
	sqlite3_file *f = NULL;
	int src;

	src = sqlite3_file_control(sp->db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &f);
	if (src != SQLITE_OK)
		return err_set(errp, FS_EIO, "spool: sync: %s", sqlite3_errstr(src));
	if (f == NULL || f->pMethods == NULL)
		return 0; /* no WAL open: this handle has written nothing since it opened */
	if ((src = f->pMethods->xSync(f, SQLITE_SYNC_NORMAL)) != SQLITE_OK)
		return err_set(errp, FS_EIO, "spool: sync: %s", sqlite3_errstr(src));
	return 0;
}

int spool_resume_sync(struct spool *sp, int flush, char **errp)
{
	int rc = 0, rc2;

	lock(sp);
	if (sp->deferred) {
		if (flush)
			rc = wal_flush(sp, errp);
		/* waiting commits come back even when the flush failed */
		rc2 = st_exec(sp, SQ_SYNC_RESUME, "resume sync", rc == 0 ? errp : NULL);
		if (rc2 == 0)
			sp->deferred = 0;
		else if (rc == 0)
			rc = rc2;
		/* unflushed, the next waiting commit marks its own sequence */
		if (flush && rc == 0)
			mark_write(sp, sp->mark_deferred);
		sp->mark_deferred = 0;
	}
	unlock(sp);
	return rc;
}

void spool_set_hook(struct spool *sp, spool_hook_fn fn, void *arg)
{
	lock(sp);
	sp->hook = fn;
	sp->hook_arg = arg;
	unlock(sp);
}

int spool_begin(struct spool *sp, char **errp)
{
	int rc;

	lock(sp);
	if (sp->batch) {
		unlock(sp);
		return err_set(errp, FS_ESTATE, "spool: begin: a batch is already open");
	}
	if ((rc = st_exec(sp, SQ_BEGIN, "begin", errp)) != 0) {
		unlock(sp);
		return rc;
	}
	sp->batch = 1;
	sp->batch_known = 0;
	/* spool_reserve_give_back asks about this batch */
	sp->full = 0;
	return 0; /* the mutex stays held until spool_commit/spool_rollback */
}

int spool_commit(struct spool *sp, char **errp)
{
	int64_t seq = -1;
	int rc;

	lock(sp);
	if (!sp->batch) {
		unlock(sp);
		return err_set(errp, FS_ESTATE, "spool: commit: no batch is open");
	}
	if (sqlite3_get_autocommit(sp->db))
		rc = err_set(errp, FS_EIO, "spool: commit: the batch was rolled back by an error");
	else if (((rc = mark_bump(sp, "commit", &seq, errp)) != 0 ||
		  (rc = st_exec(sp, SQ_COMMIT, "commit", errp)) != 0) &&
		 !sqlite3_get_autocommit(sp->db))
		st_exec(sp, SQ_ROLLBACK, "commit", NULL);
	if (rc == 0)
		mark_write(sp, seq);
	sp->batch = 0;
	unlock(sp);
	unlock(sp); /* spool_begin's */
	return rc;
}

void spool_rollback(struct spool *sp)
{
	lock(sp);
	if (sp->batch) {
		if (!sqlite3_get_autocommit(sp->db))
			st_exec(sp, SQ_ROLLBACK, "rollback", NULL);
		sp->batch = 0;
		unlock(sp); /* spool_begin's */
	}
	unlock(sp);
}

/* The drain state and the number of queued jobs, for an enqueue (the caller holds the mutex,
 * inside a transaction); read once per batch. */
static int enqueue_limits(struct spool *sp, const char *op, int *drainingp, int64_t *queuedp,
			  char **errp)
{
	sqlite3_stmt *st = NULL;
	int rc, src;

	if (sp->batch && sp->batch_known) {
		*drainingp = sp->batch_draining;
		*queuedp = sp->batch_queued;
		return 0;
	}
	if ((rc = drain_read(sp, op, drainingp, errp)) != 0 ||
	    (rc = st_get(sp, SQ_COUNT_QUEUED, op, &st, errp)) != 0)
		return rc;
	if ((src = sqlite3_step(st)) != SQLITE_ROW) {
		rc = db_err(sp, op, src, errp);
		st_done(st);
		return rc;
	}
	*queuedp = sqlite3_column_int64(st, 0);
	st_done(st);
	if (sp->batch) {
		sp->batch_known = 1;
		sp->batch_draining = *drainingp;
		sp->batch_queued = *queuedp;
	}
	return 0;
}

/* FS_EQUOTA when sub's user already has sub->max_queued_user jobs QUEUED (the caller holds the
 * mutex, inside a transaction: the count includes the batch's own enqueues). */
static int enqueue_user_limit(struct spool *sp, const char *op, const struct spool_submit *sub,
			      char **errp)
{
	sqlite3_stmt *st = NULL;
	int64_t n;
	int rc;

	if ((rc = st_bind(sp, SQ_COUNT_QUEUED_USER, op, &st, errp, "t", sub->submitted_by)) != 0 ||
	    (rc = st_row(sp, st, op, errp)) < 0)
		return rc;
	n = rc > 0 ? sqlite3_column_int64(st, 0) : 0;
	st_done(st);
	if ((uint64_t)n >= (uint64_t)sub->max_queued_user)
		return err_set(errp, FS_EQUOTA,
			       "spool: enqueue: user '%s' has %lld jobs queued already",
			       sub->submitted_by != NULL ? sub->submitted_by : "", (long long)n);
	return 0;
}

int spool_enqueue(struct spool *sp, const struct spool_submit *sub, size_t max_queued, char **errp)
{
	const char *op = "enqueue";
	int64_t now = clock_real_ms(), queued = 0;
	int rc, state, draining;

	if (sub == NULL || sub->id == NULL || *sub->id == '\0' || sub->job_name == NULL ||
	    sub->factfile_path == NULL || sub->node == NULL)
		return err_set(errp, FS_EINVAL,
			       "spool: enqueue: id, job name, factfile path and "
			       "node are required");
	lock(sp);
	if ((rc = tx_begin(sp, op, errp)) != 0)
		goto out;
	if ((rc = enqueue_limits(sp, op, &draining, &queued, errp)) != 0)
		goto end;
	if (draining) {
		rc = err_set(errp, FS_ESTATE, "spool: enqueue: the node is in drain state");
		goto end;
	}
	if ((rc = job_state(sp, op, sub->id, &state, errp)) != 0)
		goto end;
	if (state == SPOOL_QUEUED || state == SPOOL_WORKING) {
		rc = err_set(errp, FS_EEXIST, "spool: enqueue: job '%s' is already %s", sub->id,
			     spool_state_name(state));
		goto end;
	}
	if (queued < 0 || (uint64_t)queued >= (uint64_t)max_queued) {
		rc = err_set(errp, FS_EFULL, "spool: enqueue: the queue is full (%lld jobs queued)",
			     (long long)queued);
		goto end;
	}
	if (sub->max_queued_user > 0 && (rc = enqueue_user_limit(sp, op, sub, errp)) != 0)
		goto end;
	if (sub->factfile_sha != NULL &&
	    (rc = st_run(sp, SQ_FACTFILE_PUT, op, NULL, errp, "tb", sub->factfile_sha,
			 sub->factfile != NULL ? sub->factfile : "", sub->factfile_len)) != 0)
		goto end;
	rc = st_run(sp, SQ_UPSERT, op, NULL, errp, "tttttiitt", sub->id, sub->job_name,
		    sub->factfile_path, sub->factfile_args != NULL ? sub->factfile_args : "[]",
		    sub->node, now, sub->consul_index, sub->submitted_by, sub->factfile_sha);
end:
	rc = tx_end(sp, rc, op, errp);
	if (rc == 0 && sp->batch)
		sp->batch_queued++;
out:
	unlock(sp);
	return rc;
}

/* Reads job id into a new record; FS_ENOENT if absent. The caller holds the mutex. */
static int job_read(struct spool *sp, const char *op, const char *id, struct spool_job **jobp,
		    char **errp)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*jobp = NULL;
	if ((rc = st_bind(sp, SQ_GET, op, &st, errp, "t", id)) != 0 ||
	    (rc = st_row(sp, st, op, errp)) < 0)
		return rc;
	if (rc == 0)
		return err_set(errp, FS_ENOENT, "spool: %s: no job with id '%s'", op, id);
	*jobp = xcalloc(1, sizeof **jobp);
	job_from_row(st, *jobp);
	st_done(st);
	return 0;
}

static int claim_next_once(struct spool *sp, const char *node, struct spool_job **jobp, char **errp)
{
	const char *op = "claim";
	struct spool_job *job = NULL;
	char *id = NULL;
	int64_t now = clock_real_ms();
	int rc;

	*jobp = NULL;
	if (node == NULL)
		return err_set(errp, FS_EINVAL, "spool: claim: no node name");
	lock(sp);
	if ((rc = tx_begin(sp, op, errp)) != 0)
		goto out;
	if ((rc = st_text(sp, SQ_OLDEST_QUEUED, op, &id, errp, "")) != 0)
		goto end;
	if (id == NULL) {
		rc = err_set(errp, FS_ENOENT, "spool: claim: no job is queued");
		goto end;
	}
	if ((rc = add_queued_transition(sp, op, id, errp)) != 0 ||
	    (rc = st_run(sp, SQ_CLAIM, op, NULL, errp, "tti", id, node, now)) != 0 ||
	    (rc = add_transition(sp, op, id, now, 1, errp)) != 0 ||
	    (rc = job_read(sp, op, id, &job, errp)) != 0)
		goto end;
end:
	rc = tx_end(sp, rc, op, errp);
	if (rc == 0) {
		*jobp = job;
		job = NULL;
	}
out:
	spool_job_free(job);
	free(id);
	unlock(sp);
	return rc;
}

static int record_run_once(struct spool *sp, const char *id, const char *command, int64_t pid,
			   char **errp)
{
	const char *op = "record_run";
	int rc;

	if (id == NULL)
		return err_set(errp, FS_EINVAL, "spool: record_run: no id");
	if ((rc = tx_open(sp, op, errp)) != 0)
		return rc;
	if ((rc = job_require(sp, op, id, SPOOL_WORKING, errp)) == 0)
		rc = st_run(sp, SQ_RECORD_RUN, op, NULL, errp, "ttn", id, command,
			    (int64_t)(pid > 0 ? pid : -1));
	return tx_close(sp, rc, op, errp);
}

static int finish_once(struct spool *sp, const char *id, const struct spool_result *res,
		       char **errp)
{
	const char *op = "finish";
	int64_t now = clock_real_ms();
	int rc;

	if (id == NULL || res == NULL)
		return err_set(errp, FS_EINVAL, "spool: finish: no id or result");
	if (res->outcome != SPOOL_SUCCEEDED && res->outcome != SPOOL_FAILED)
		return err_set(errp, FS_EINVAL,
			       "spool: finish: outcome must be SUCCEEDED or "
			       "FAILED, not %s",
			       spool_outcome_name(res->outcome));
	if ((rc = tx_open(sp, op, errp)) != 0)
		return rc;
	if ((rc = job_require(sp, op, id, SPOOL_WORKING, errp)) != 0 ||
	    (rc = st_run(sp, SQ_FINISH, op, NULL, errp, "ttnnti", id, outcome_names[res->outcome],
			 (int64_t)res->exit_code,
			 (int64_t)(res->exit_signal > 0 ? res->exit_signal : -1), res->reason,
			 now)) != 0)
		goto end;
	rc = add_transition(sp, op, id, now, 1, errp);
end:
	return tx_close(sp, rc, op, errp);
}

int spool_cancel(struct spool *sp, const char *id, char **errp)
{
	const char *op = "cancel";
	int64_t now = clock_real_ms();
	int rc;

	if (id == NULL)
		return err_set(errp, FS_EINVAL, "spool: cancel: no id");
	if ((rc = tx_open(sp, op, errp)) != 0)
		return rc;
	if ((rc = job_require(sp, op, id, SPOOL_QUEUED, errp)) != 0 ||
	    (rc = add_queued_transition(sp, op, id, errp)) != 0 ||
	    (rc = st_run(sp, SQ_CANCEL, op, NULL, errp, "ti", id, now)) != 0)
		goto end;
	rc = add_transition(sp, op, id, now, 1, errp);
end:
	return tx_close(sp, rc, op, errp);
}

static int abandon_once(struct spool *sp, const char *id, const char *reason, char **errp)
{
	const char *op = "abandon";
	int64_t now = clock_real_ms();
	int rc, state;

	if (id == NULL || reason == NULL)
		return err_set(errp, FS_EINVAL, "spool: abandon: no id or reason");
	if ((rc = tx_open(sp, op, errp)) != 0)
		return rc;
	if ((rc = job_state(sp, op, id, &state, errp)) != 0)
		goto end;
	if (state < 0) {
		rc = err_set(errp, FS_ENOENT, "spool: abandon: no job with id '%s'", id);
		goto end;
	}
	if (state == SPOOL_DONE) {
		rc = err_set(errp, FS_ESTATE, "spool: abandon: job '%s' is DONE", id);
		goto end;
	}
	if ((rc = add_queued_transition(sp, op, id, errp)) != 0 ||
	    (rc = st_run(sp, SQ_ABANDON, op, NULL, errp, "tit", id, now, reason)) != 0)
		goto end;
	/* the Consul entry is no longer this node's: nothing of this job may be written there */
	if ((rc = st_run(sp, SQ_OUTBOX_DROP_JOB, op, NULL, errp, "t", id)) != 0)
		goto end;
	rc = add_transition(sp, op, id, now, 0, errp);
end:
	return tx_close(sp, rc, op, errp);
}

int spool_get(struct spool *sp, const char *id, struct spool_job **jobp, char **errp)
{
	int rc;

	*jobp = NULL;
	if (id == NULL)
		return err_set(errp, FS_EINVAL, "spool: get: no id");
	lock(sp);
	rc = job_read(sp, "get", id, jobp, errp);
	unlock(sp);
	return rc;
}

int spool_factfile_get(struct spool *sp, const char *sha, char **bodyp, size_t *lenp, char **errp)
{
	const char *op = "factfile";
	sqlite3_stmt *st = NULL;
	const void *p;
	int rc;

	*bodyp = NULL;
	*lenp = 0;
	lock(sp);
	if ((rc = st_bind(sp, SQ_FACTFILE_GET, op, &st, errp, "t", sha)) != 0 ||
	    (rc = st_row(sp, st, op, errp)) < 0)
		goto out;
	if (rc == 0) {
		rc = err_set(errp, FS_ENOENT, "spool: factfile: no factfile with SHA-256 %s", sha);
		goto out;
	}
	p = sqlite3_column_blob(st, 0);
	*lenp = (size_t)sqlite3_column_bytes(st, 0);
	*bodyp = xmalloc(*lenp + 1);
	if (*lenp > 0)
		memcpy(*bodyp, p, *lenp);
	(*bodyp)[*lenp] = '\0';
	st_done(st);
	rc = 0;
out:
	unlock(sp);
	return rc;
}

int spool_factfile_running(struct spool *sp, const char *sha, int64_t *np, char **errp)
{
	const char *op = "factfile";
	sqlite3_stmt *st = NULL;
	int rc;

	*np = 0;
	lock(sp);
	if ((rc = st_bind(sp, SQ_FACTFILE_RUNNING, op, &st, errp, "t", sha)) == 0 &&
	    (rc = st_row(sp, st, op, errp)) > 0) {
		*np = sqlite3_column_int64(st, 0);
		st_done(st);
		rc = 0;
	}
	unlock(sp);
	return rc;
}

static void row_job(sqlite3_stmt *st, void *item)
{
	job_from_row(st, item);
}

int spool_list(struct spool *sp, int state, size_t limit, size_t offset, struct spool_job **jobsp,
	       size_t *np, char **errp)
{
	const char *op = "list";
	sqlite3_stmt *st = NULL;
	void *jobs = NULL;
	size_t n = 0;
	int64_t lim = limit == 0 ? -1 : (int64_t)limit;
	int rc;

	*jobsp = NULL;
	*np = 0;
	if (state != SPOOL_STATE_ANY && (state < SPOOL_QUEUED || state > SPOOL_DONE))
		return err_set(errp, FS_EINVAL, "spool: list: bad state filter %d", state);
	if (limit > INT64_MAX || offset > INT64_MAX)
		return err_set(errp, FS_EINVAL, "spool: list: limit or offset too large");
	lock(sp);
	if (state == SPOOL_STATE_ANY)
		rc = st_bind(sp, SQ_LIST_ALL, op, &st, errp, "ii", lim, (int64_t)offset);
	else
		rc = st_bind(sp, SQ_LIST_STATE, op, &st, errp, "iit", lim, (int64_t)offset,
			     state_names[state]);
	if (rc == 0)
		rc = st_rows(sp, st, op, &jobs, &n, sizeof **jobsp, row_job, errp);
	unlock(sp);
	if (rc != 0) {
		spool_job_list_free(jobs, n);
		return rc;
	}
	*jobsp = jobs;
	*np = n;
	return 0;
}

/* Files one row of SQ_COUNT (name, le_ms, n) into c. */
static void count_row(struct spool_counts *c, const char *name, sqlite3_stmt *st)
{
	static const char *const names[] = { "jobs.QUEUED",    "jobs.WORKING",
					     "jobs.DONE",      "outcome.SUCCEEDED",
					     "outcome.FAILED", "runs",
					     "run_ms" };
	int64_t *const fields[] = { &c->queued, &c->working, &c->done,  &c->succeeded,
				    &c->failed, &c->runs,    &c->run_ms };
	int64_t n = sqlite3_column_int64(st, 2);
	size_t i;

	if (sqlite3_column_type(st, 1) != SQLITE_NULL) {
		if (c->nbuckets < SPOOL_RUN_BUCKETS_MAX) {
			c->bucket[c->nbuckets].le_ms = sqlite3_column_int64(st, 1);
			c->bucket[c->nbuckets++].n = n;
		}
		return;
	}
	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(name, names[i]) == 0)
			*fields[i] = n;
}

int spool_count(struct spool *sp, struct spool_counts *c, char **errp)
{
	sqlite3_stmt *st = NULL;
	int rc, src;

	memset(c, 0, sizeof *c);
	lock(sp);
	if ((rc = st_get(sp, SQ_COUNT, "count", &st, errp)) != 0)
		goto out;
	while ((src = sqlite3_step(st)) == SQLITE_ROW)
		count_row(c, (const char *)sqlite3_column_text(st, 0), st);
	if (src != SQLITE_DONE)
		rc = db_err(sp, "count", src, errp);
	st_done(st);
out:
	unlock(sp);
	return rc;
}

static void row_transition(sqlite3_stmt *st, void *item)
{
	tr_from_row(st, 0, item);
}

int spool_transitions(struct spool *sp, const char *id, struct spool_transition **trsp, size_t *np,
		      char **errp)
{
	const char *op = "transitions";
	sqlite3_stmt *st = NULL;
	void *trs = NULL;
	size_t n = 0;
	int rc;

	*trsp = NULL;
	*np = 0;
	if (id == NULL)
		return err_set(errp, FS_EINVAL, "spool: transitions: no id");
	lock(sp);
	if ((rc = st_bind(sp, SQ_TRANSITIONS, op, &st, errp, "t", id)) == 0)
		rc = st_rows(sp, st, op, &trs, &n, sizeof **trsp, row_transition, errp);
	unlock(sp);
	if (rc != 0) {
		spool_transition_list_free(trs, n);
		return rc;
	}
	*trsp = trs;
	*np = n;
	return 0;
}

int spool_drain_get(struct spool *sp, int *drainingp, char **errp)
{
	int rc;

	if (sp->drain_hint != NULL && access(sp->drain_hint, F_OK) != 0 && errno == ENOENT) {
		*drainingp = 0;
		return 0;
	}
	lock(sp);
	rc = drain_read(sp, "drain_get", drainingp, errp);
	unlock(sp);
	return rc;
}

/* Sets (value non-NULL) or deletes a setting; the caller holds the mutex, in a transaction. */
static int setting_put(struct spool *sp, const char *op, const char *key, const char *value,
		       char **errp)
{
	if (value == NULL)
		return st_run(sp, SQ_SETTING_DEL, op, NULL, errp, "t", key);
	return st_run(sp, SQ_SETTING_SET, op, NULL, errp, "tt", key, value);
}

/* setting_put in its own transaction. */
static int setting_write(struct spool *sp, const char *op, const char *key, const char *value,
			 char **errp)
{
	int rc;

	if ((rc = tx_open(sp, op, errp)) != 0)
		return rc;
	return tx_close(sp, setting_put(sp, op, key, value, errp), op, errp);
}

int spool_drain_set(struct spool *sp, int draining, char **errp)
{
	const char *op = "drain";
	int rc;

	/* The hint file changes inside the setting's write transaction, so setters in other
	 * processes cannot interleave: made before the setting says drain, removed before it says
	 * run is committed (and made again if that commit fails). */
	lock(sp);
	if ((rc = tx_begin(sp, op, errp)) != 0)
		goto out;
	if (draining && sp->drain_hint != NULL && drain_hint_make(sp->drain_hint) != 0) {
		rc = err_set(errp, FS_EIO, "spool: drain: cannot create %s: %s", sp->drain_hint,
			     strerror(errno));
		goto end;
	}
	if ((rc = setting_put(sp, op, SETTINGS_STATE, draining ? "drain" : "run", errp)) == 0 &&
	    !draining && sp->drain_hint != NULL)
		unlink(sp->drain_hint);
end:
	rc = tx_end(sp, rc, op, errp);
	if (rc != 0 && !draining && sp->drain_hint != NULL)
		drain_hint_make(sp->drain_hint);
out:
	unlock(sp);
	return rc;
}

int spool_setting_get(struct spool *sp, const char *key, char **valuep, char **errp)
{
	int rc;

	*valuep = NULL;
	if (key == NULL)
		return err_set(errp, FS_EINVAL, "spool: setting_get: no key");
	lock(sp);
	rc = setting_lookup(sp, "setting_get", key, valuep, errp);
	unlock(sp);
	if (rc == 0 && *valuep == NULL)
		rc = err_set(errp, FS_ENOENT, "spool: setting_get: no setting '%s'", key);
	return rc;
}

static int setting_set_once(struct spool *sp, const char *key, const char *value, char **errp)
{
	if (key == NULL)
		return err_set(errp, FS_EINVAL, "spool: setting: no key");
	return setting_write(sp, "setting", key, value, errp);
}

static void row_setting(sqlite3_stmt *st, void *item)
{
	struct spool_setting *e = item;

	e->key = col_str(st, 0);
	e->value = col_str(st, 1);
}

int spool_setting_list(struct spool *sp, const char *prefix, struct spool_setting **listp,
		       size_t *np, char **errp)
{
	const char *op = "setting_list";
	sqlite3_stmt *st = NULL;
	void *list = NULL;
	size_t n = 0, len = prefix != NULL ? strlen(prefix) : 0;
	char *upper;
	int rc;

	*listp = NULL;
	*np = 0;
	if (len == 0 || (unsigned char)prefix[len - 1] == 0xff)
		return err_set(errp, FS_EINVAL, "spool: setting_list: bad prefix");
	/* every key with the prefix sorts (BINARY) from prefix to prefix's last byte + 1 */
	upper = xstrdup(prefix);
	upper[len - 1] = (char)((unsigned char)upper[len - 1] + 1);
	lock(sp);
	if ((rc = st_bind(sp, SQ_SETTING_RANGE, op, &st, errp, "tt", prefix, upper)) == 0)
		rc = st_rows(sp, st, op, &list, &n, sizeof **listp, row_setting, errp);
	unlock(sp);
	free(upper);
	if (rc != 0) {
		spool_setting_list_free(list, n);
		return rc;
	}
	*listp = list;
	*np = n;
	return 0;
}

void spool_setting_list_free(struct spool_setting *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(list[i].key);
		free(list[i].value);
	}
	free(list);
}

int spool_consul_index_set(struct spool *sp, const char *id, int64_t index, char **errp)
{
	const char *op = "consul_index";
	int rc, changes = 0;

	if (id == NULL)
		return err_set(errp, FS_EINVAL, "spool: consul_index: no id");
	if ((rc = tx_open(sp, op, errp)) != 0)
		return rc;
	if ((rc = st_run(sp, SQ_CONSUL_INDEX, op, &changes, errp, "ti", id, index)) == 0 &&
	    changes == 0)
		rc = err_set(errp, FS_ENOENT, "spool: consul_index: no job with id '%s'", id);
	return tx_close(sp, rc, op, errp);
}

static void row_outbox(sqlite3_stmt *st, void *item)
{
	struct spool_outbox *e = item;

	e->oid = sqlite3_column_int64(st, 0);
	tr_from_row(st, 1, &e->tr);
}

int spool_outbox_list(struct spool *sp, size_t max, struct spool_outbox **entriesp, size_t *np,
		      char **errp)
{
	const char *op = "outbox_list";
	sqlite3_stmt *st = NULL;
	void *es = NULL;
	size_t n = 0;
	int rc;

	*entriesp = NULL;
	*np = 0;
	if (max > INT64_MAX)
		max = 0;
	lock(sp);
	if ((rc = st_bind(sp, SQ_OUTBOX_LIST, op, &st, errp, "i",
			  max == 0 ? (int64_t)-1 : (int64_t)max)) == 0)
		rc = st_rows(sp, st, op, &es, &n, sizeof **entriesp, row_outbox, errp);
	unlock(sp);
	if (rc != 0) {
		spool_outbox_list_free(es, n);
		return rc;
	}
	*entriesp = es;
	*np = n;
	return 0;
}

int spool_outbox_delete(struct spool *sp, int64_t oid, int64_t consul_index, char **errp)
{
	const char *op = "outbox_delete";
	char *id = NULL;
	int rc;

	if ((rc = tx_open(sp, op, errp)) != 0)
		return rc;
	if ((rc = st_text(sp, SQ_OUTBOX_JOB, op, &id, errp, "i", oid)) != 0)
		goto end;
	if (id == NULL) {
		rc = err_set(errp, FS_ENOENT, "spool: outbox_delete: no outbox entry %lld",
			     (long long)oid);
		goto end;
	}
	if (consul_index > 0 &&
	    (rc = st_run(sp, SQ_CONSUL_INDEX, op, NULL, errp, "ti", id, consul_index)) != 0)
		goto end;
	rc = st_run(sp, SQ_OUTBOX_DEL, op, NULL, errp, "i", oid);
end:
	free(id);
	return tx_close(sp, rc, op, errp);
}

int spool_integrity_check(struct spool *sp, char **errp)
{
	sqlite3_stmt *st = NULL;
	const char *r;
	int rc = 0, src;

	lock(sp);
	src = sqlite3_prepare_v2(sp->db, "PRAGMA integrity_check", -1, &st, NULL);
	if (src == SQLITE_OK)
		src = sqlite3_step(st);
	if (src != SQLITE_ROW) {
		rc = db_err(sp, "integrity_check", src, errp);
		goto out;
	}
	r = (const char *)sqlite3_column_text(st, 0);
	if (r == NULL || strcmp(r, "ok") != 0)
		rc = err_set(errp, FS_EIO, "spool: integrity_check %s: %s", sp->path,
			     r != NULL ? r : "no answer");
out:
	sqlite3_finalize(st);
	unlock(sp);
	return rc;
}

/* ---- the reserve (core/spoolreserve.h): the writes of accepted work get one more try ---- */

/* Made at open when there is room to spare (never out of a nearly full disk's last bytes); a
 * spool without one still works, and spool_reserve_restore makes it later. */
static void reserve_open(struct spool *sp, const char *dir)
{
	sp->reserve = xasprintf("%s/reserve", dir);
	spoolreserve_restore(sp->reserve, 0);
}

/* Called with the mutex held after a write returned rc: 1 when it failed for lack of space and
 * giving the reserve back made room for the one retry. Inside a batch SQLite has already undone
 * the other calls, so only the batch's owner can start again. */
static int reserve_give_back(struct spool *sp, int rc)
{
	int full = sp->full;

	sp->full = 0;
	return rc != 0 && full && !sp->batch && (sp->flags & SPOOL_RESERVE) &&
	       spoolreserve_release(sp->reserve);
}

int spool_reserve_give_back(struct spool *sp)
{
	int rc;

	lock(sp);
	rc = reserve_give_back(sp, FS_EIO);
	unlock(sp);
	return rc;
}

int spool_reserve_restore(struct spool *sp, long long min_free)
{
	return spoolreserve_restore(sp->reserve, min_free);
}

/* rc = call with the mutex held, and once more when it failed for lack of space and the reserve
 * was given back */
#define RESERVE_RETRY(sp, rc, call)                         \
	do {                                                \
		lock(sp);                                   \
		(sp)->full = 0;                             \
		if (reserve_give_back((sp), (rc) = (call))) \
			(rc) = (call);                      \
		unlock(sp);                                 \
	} while (0)

int spool_claim_next(struct spool *sp, const char *node, struct spool_job **jobp, char **errp)
{
	int rc;

	RESERVE_RETRY(sp, rc, claim_next_once(sp, node, jobp, errp));
	return rc;
}

int spool_record_run(struct spool *sp, const char *id, const char *command, int64_t pid,
		     char **errp)
{
	int rc;

	RESERVE_RETRY(sp, rc, record_run_once(sp, id, command, pid, errp));
	return rc;
}

int spool_finish(struct spool *sp, const char *id, const struct spool_result *res, char **errp)
{
	int rc;

	RESERVE_RETRY(sp, rc, finish_once(sp, id, res, errp));
	return rc;
}

int spool_abandon(struct spool *sp, const char *id, const char *reason, char **errp)
{
	int rc;

	RESERVE_RETRY(sp, rc, abandon_once(sp, id, reason, errp));
	return rc;
}

int spool_setting_set(struct spool *sp, const char *key, const char *value, char **errp)
{
	int rc;

	RESERVE_RETRY(sp, rc, setting_set_once(sp, key, value, errp));
	return rc;
}

/* ---- the commit sequence and its mark (core/spoolmark.h): lost commits are noticed at open ----
 *
 * Every write transaction of this module bumps the sequence just before its COMMIT (a batch once,
 * at spool_commit) and, once committed -- with deferred sync, once flushed -- writes it to
 * <dir>/spool.db-mark; a checkpoint that copied the whole WAL writes the sequence committed when
 * it began. The mark is thus never ahead of a database that kept its commits, and a database
 * below its mark has lost some: its WAL was deleted or damaged, or an older copy of the database
 * was put in place. Writes made outside this module (retention's deletions, a schema
 * migration) do not bump it: losing those loses no accepted work. The sequence lives in a table of
 * its own, made by the first build that keeps one whatever the schema version. */
static const char mark_table_sql[] =
	"CREATE TABLE IF NOT EXISTS commit_seq (one INTEGER PRIMARY KEY CHECK (one = 1),"
	" n INTEGER NOT NULL);"
	"INSERT INTO commit_seq(one, n) SELECT 1, 0 WHERE NOT EXISTS (SELECT 1 FROM commit_seq);";

/* The refusal: committed work is missing from path (the database). */
static int mark_lost(const char *path, int64_t seq, int64_t mark, char **errp)
{
	return err_set(errp, FS_EIO,
		       "spool: open %s: committed work is missing (commit sequence %lld, "
		       "%s-mark says %lld): %s-wal or %s was deleted, damaged or replaced; restore "
		       "the spool from a backup, or remove %s-mark to accept the loss",
		       path, (long long)seq, path, (long long)mark, path, path, path);
}

/* Opens the mark beside path before anything reads the database (so the mark read is never newer
 * than the sequence read after it) and refuses a database with no spool in it (empty: truncated,
 * or replaced by an empty file) that the mark says had commits, before anything is created in it.
 * *fdp is the caller's to close. */
static int mark_open(sqlite3 *db, const char *path, int *fdp, int64_t *markp, char **errp)
{
	char *mpath = xasprintf("%s-mark", path);
	int rc, v = 0;

	rc = spoolmark_open(mpath, fdp, markp, errp);
	free(mpath);
	if (rc == 0 && *markp > 0 && (rc = user_version(db, path, &v, errp)) == 0 && v == 0)
		rc = mark_lost(path, 0, *markp, errp);
	if (rc != 0 && *fdp >= 0) {
		close(*fdp);
		*fdp = -1;
	}
	return rc;
}

/* Makes the sequence's table if needed and compares the sequence with the mark read by mark_open
 * (-1: a new mark, which gets the sequence). */
static int mark_check(sqlite3 *db, const char *path, int fd, int64_t mark, char **errp)
{
	int64_t seq = 0;
	int rc;

	if ((rc = exec_static(db, path, mark_table_sql, errp)) != 0 ||
	    (rc = read_int(db, path, "SELECT n FROM commit_seq", &seq, errp)) != 0)
		return rc;
	if (seq < mark)
		return mark_lost(path, seq, mark, errp);
	if (mark < 0)
		spoolmark_write(fd, seq);
	return 0;
}

/* Bumps the sequence inside the caller's transaction (the mutex held); *seqp its new value. */
static int mark_bump(struct spool *sp, const char *op, int64_t *seqp, char **errp)
{
	static const char sql[] = "UPDATE commit_seq SET n = n + 1 RETURNING n";
	int src;

	if (sp->mark_bump == NULL) {
		src = sqlite3_prepare_v3(sp->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &sp->mark_bump,
					 NULL);
		if (src != SQLITE_OK)
			return db_err(sp, op, src, errp);
	}
	src = sqlite3_step(sp->mark_bump);
	if (src == SQLITE_ROW)
		*seqp = sqlite3_column_int64(sp->mark_bump, 0);
	sqlite3_reset(sp->mark_bump);
	return src == SQLITE_ROW ? 0 : db_err(sp, op, src, errp);
}

/* After the commit of seq: a failed write leaves the mark behind, which is safe. A commit that
 * did not wait for the disk is marked only once it is flushed: a power loss may undo it, and the
 * mark must not say more than the disk holds. */
static void mark_write(struct spool *sp, int64_t seq)
{
	if (sp->deferred && seq > 0)
		sp->mark_deferred = seq;
	else if (seq > 0 && sp->mark_fd >= 0)
		spoolmark_write(sp->mark_fd, seq);
}

/* The sequence committed now, read before a checkpoint (0 when it cannot be read). The mutex is
 * held. */
static int64_t mark_committed(struct spool *sp)
{
	int64_t seq = 0;

	if (sp->mark_read == NULL &&
	    sqlite3_prepare_v3(sp->db, "SELECT n FROM commit_seq", -1, SQLITE_PREPARE_PERSISTENT,
			       &sp->mark_read, NULL) != SQLITE_OK)
		return 0;
	if (sqlite3_step(sp->mark_read) == SQLITE_ROW)
		seq = sqlite3_column_int64(sp->mark_read, 0);
	sqlite3_reset(sp->mark_read);
	return seq;
}

/* After a checkpoint that began once seq was committed and copied the whole WAL: that commit is
 * in spool.db, flushed, so the mark catches up with it -- it lags when two processes wrote it out
 * of order, or was deleted. The mutex is held. */
static void mark_catch_up(struct spool *sp, int64_t seq)
{
	char *mpath = xasprintf("%s-mark", sp->path);
	int fd;

	/* opened again by name: a mark deleted meanwhile is made again */
	if ((fd = open(mpath, O_RDWR | O_CREAT | O_CLOEXEC, 0640)) >= 0) {
		if (sp->mark_fd >= 0)
			close(sp->mark_fd);
		sp->mark_fd = fd;
	}
	free(mpath);
	mark_write(sp, seq);
}

/* ---- putting back a run that never started ---- */

static int requeue_once(struct spool *sp, const char *id, int64_t run, char **errp)
{
	const char *op = "requeue";
	int64_t now = clock_real_ms();
	int rc, changes = 0;

	if (id == NULL)
		return err_set(errp, FS_EINVAL, "spool: requeue: no id");
	if ((rc = tx_open(sp, op, errp)) != 0)
		return rc;
	if ((rc = job_require(sp, op, id, SPOOL_WORKING, errp)) != 0 ||
	    (rc = st_run(sp, SQ_REQUEUE, op, &changes, errp, "tii", id, run, now)) != 0)
		goto end;
	if (changes == 0) {
		rc = err_set(errp, FS_ESTATE, "spool: requeue: job '%s' is another run's", id);
		goto end;
	}
	/* stored now rather than at the next claim: it is the transition Consul is told */
	rc = add_transition(sp, op, id, now, 1, errp);
end:
	return tx_close(sp, rc, op, errp);
}

int spool_requeue(struct spool *sp, const char *id, int64_t run, char **errp)
{
	int rc;

	RESERVE_RETRY(sp, rc, requeue_once(sp, id, run, errp));
	return rc;
}

static int reclaim_once(struct spool *sp, const char *id, const char *node, int64_t run,
			int64_t seq, int64_t created_ms, char **errp)
{
	const char *op = "reclaim";
	int rc, changes = 0;

	if (id == NULL || node == NULL)
		return err_set(errp, FS_EINVAL, "spool: reclaim: no id or node name");
	if ((rc = tx_open(sp, op, errp)) != 0)
		return rc;
	if ((rc = job_require(sp, op, id, SPOOL_QUEUED, errp)) != 0 ||
	    (rc = add_queued_transition(sp, op, id, errp)) != 0 ||
	    (rc = st_run(sp, SQ_RECLAIM, op, &changes, errp, "ttiii", id, node, run, seq,
			 created_ms)) != 0)
		goto end;
	if (changes == 0) {
		rc = err_set(errp, FS_ESTATE, "spool: reclaim: job '%s' is another submission", id);
		goto end;
	}
	rc = add_transition(sp, op, id, run, 1, errp);
end:
	return tx_close(sp, rc, op, errp);
}

int spool_reclaim(struct spool *sp, const char *id, const char *node, int64_t run, int64_t seq,
		  int64_t created_ms, char **errp)
{
	int rc;

	RESERVE_RETRY(sp, rc, reclaim_once(sp, id, node, run, seq, created_ms, errp));
	return rc;
}

/* ---- for the spool's sibling modules (spooldb.h) ---- */

sqlite3 *spool_db_acquire(struct spool *sp)
{
	lock(sp);
	return sp->db;
}

void spool_db_release(struct spool *sp)
{
	unlock(sp);
}

const char *spool_db_job_cols(void)
{
	return JOB_COLS;
}

void spool_db_job_read(sqlite3_stmt *st, struct spool_job *job)
{
	job_from_row(st, job);
}

void spool_db_tr_read(sqlite3_stmt *st, struct spool_transition *tr)
{
	tr_from_row(st, 0, tr);
}
