/* SPDX-License-Identifier: Apache-2.0 */
/* Schedules and their slot history in the spool (spoolsched.h). Writes run as a spool batch
 * (spool_begin .. spool_commit), so that they bump the commit mark like every other write and a
 * slot's job is queued by spool_enqueue itself, inside the same transaction as the slot's
 * record; the batch holds the handle's mutex and its connection's transaction, so the statements
 * run here on spool_db_acquire's connection join it. */
#include "spoolsched.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "err.h"
#include "spool.h"
#include "spooldb.h"
#include "xalloc.h"

/* The history's bound is kept by the insert trigger: one range on slots_schedule per row. The
 * counters rows are the spool's (schema version 5), added to in the transaction that records
 * the slot, so pruning the history leaves them as they are. */
const char spoolsched_schema_v7_sql[] =
	"CREATE TABLE schedules (name TEXT PRIMARY KEY NOT NULL, cron TEXT NOT NULL,"
	" timezone TEXT NOT NULL, job_name TEXT NOT NULL, factfile_path TEXT NOT NULL,"
	" factfile_args TEXT NOT NULL, overlap_skip INTEGER NOT NULL,"
	" catch_up INTEGER NOT NULL, paused INTEGER NOT NULL DEFAULT 0,"
	" created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL,"
	" last_slot INTEGER NOT NULL, last_job TEXT, last_fired INTEGER NOT NULL DEFAULT 0)"
	" WITHOUT ROWID;"
	"CREATE TABLE slots (sid INTEGER PRIMARY KEY,"
	" schedule TEXT NOT NULL REFERENCES schedules(name) ON DELETE CASCADE,"
	" slot INTEGER NOT NULL, at_ms INTEGER NOT NULL,"
	" result TEXT NOT NULL CHECK (result IN ('fired', 'skipped', 'refused', 'missed')),"
	" reason TEXT, job_id TEXT, count INTEGER NOT NULL DEFAULT 1);"
	"CREATE INDEX slots_schedule ON slots(schedule, sid);"
	"CREATE INDEX slots_at ON slots(at_ms);"
	"INSERT INTO counters(name, le_ms) VALUES ('slots.fired', NULL), ('slots.skipped', NULL),"
	" ('slots.refused', NULL), ('slots.missed', NULL);"
	/* the worker reads the definitions again only when this moved: not for a slot's own
	 * writes (last_slot, last_job, last_fired) */
	"INSERT INTO counters(name, le_ms) VALUES ('schedules.changes', NULL);"
	"CREATE TRIGGER schedules_changed_ins AFTER INSERT ON schedules BEGIN"
	" UPDATE counters SET n = n + 1 WHERE name = 'schedules.changes'; END;"
	"CREATE TRIGGER schedules_changed_upd AFTER UPDATE OF cron, timezone, job_name,"
	" factfile_path, factfile_args, overlap_skip, catch_up, paused ON schedules BEGIN"
	" UPDATE counters SET n = n + 1 WHERE name = 'schedules.changes'; END;"
	"CREATE TRIGGER schedules_changed_del AFTER DELETE ON schedules BEGIN"
	" UPDATE counters SET n = n + 1 WHERE name = 'schedules.changes'; END;"
	"CREATE TRIGGER slots_recorded AFTER INSERT ON slots BEGIN"
	" UPDATE counters SET n = n + NEW.count WHERE name = 'slots.' || NEW.result;"
	" DELETE FROM slots WHERE schedule = NEW.schedule AND sid <= (SELECT sid FROM slots"
	" WHERE schedule = NEW.schedule ORDER BY sid DESC LIMIT 1 OFFSET 1000);"
	" END;"
	"PRAGMA user_version = 7;";
_Static_assert(SPOOLSCHED_HISTORY_MAX == 1000, "spoolsched_schema_v7_sql names the bound");

#define SCHED_COLS                                                                     \
	"name, cron, timezone, job_name, factfile_path, factfile_args, overlap_skip, " \
	"catch_up, paused, created_ms, updated_ms, last_slot, last_job, last_fired"

static const char *const result_names[SPOOLSCHED_NRESULTS] = { "fired", "skipped", "refused",
							       "missed" };

const char *spoolsched_result_name(enum spoolsched_result r)
{
	return (unsigned)r < SPOOLSCHED_NRESULTS ? result_names[r] : "?";
}

static enum spoolsched_result result_parse(const char *s)
{
	for (int i = 0; i < SPOOLSCHED_NRESULTS; i++)
		if (s != NULL && strcmp(s, result_names[i]) == 0)
			return (enum spoolsched_result)i;
	return SPOOLSCHED_MISSED;
}

static int sched_err(sqlite3 *db, const char *op, int src, char **errp)
{
	int prim = src & 0xff;

	return err_set(errp, (prim == SQLITE_BUSY || prim == SQLITE_LOCKED) ? FS_EBUSY : FS_EIO,
		       "spool: %s: %s", op, sqlite3_errmsg(db));
}

/* Prepares sql and binds one parameter per character of types: 't' a const char * (NULL binds
 * NULL; borrowed until the statement is finalized), 'i' an int64_t. An SQLite code; *stp is
 * finalized by the caller in every case. */
static int sched_prepare(sqlite3 *db, sqlite3_stmt **stp, const char *sql, const char *types,
			 va_list ap)
{
	int src = sqlite3_prepare_v2(db, sql, -1, stp, NULL);

	for (int i = 0; src == SQLITE_OK && types[i] != '\0'; i++) {
		if (types[i] == 'i') {
			src = sqlite3_bind_int64(*stp, i + 1, va_arg(ap, int64_t));
		} else {
			const char *s = va_arg(ap, const char *);

			src = s != NULL ? sqlite3_bind_text(*stp, i + 1, s, -1, SQLITE_STATIC)
					: sqlite3_bind_null(*stp, i + 1);
		}
	}
	return src;
}

/* Runs a statement that returns no rows; *changesp (if changesp) its changed rows. */
static int sched_run(sqlite3 *db, const char *op, int *changesp, char **errp, const char *sql,
		     const char *types, ...)
{
	sqlite3_stmt *st = NULL;
	va_list ap;
	int src;

	va_start(ap, types);
	src = sched_prepare(db, &st, sql, types, ap);
	va_end(ap);
	if (src == SQLITE_OK)
		src = sqlite3_step(st);
	if (src != SQLITE_DONE) {
		int rc = sched_err(db, op, src, errp);

		sqlite3_finalize(st);
		return rc;
	}
	sqlite3_finalize(st);
	if (changesp != NULL)
		*changesp = sqlite3_changes(db);
	return 0;
}

/* Runs a query; calls row for each row (rows stop at the first nonzero return, which is
 * returned). */
typedef int (*sched_row_fn)(sqlite3_stmt *st, void *arg);
static int sched_vquery(sqlite3 *db, const char *op, char **errp, sched_row_fn row, void *arg,
			const char *sql, const char *types, va_list ap)
{
	sqlite3_stmt *st = NULL;
	int src = sched_prepare(db, &st, sql, types, ap), rc = 0;

	while (src == SQLITE_OK || src == SQLITE_ROW) {
		if ((src = sqlite3_step(st)) != SQLITE_ROW)
			break;
		if ((rc = row(st, arg)) != 0)
			break;
	}
	if (rc == 0 && src != SQLITE_DONE)
		rc = sched_err(db, op, src, errp);
	sqlite3_finalize(st);
	return rc;
}

static int sched_query(sqlite3 *db, const char *op, char **errp, sched_row_fn row, void *arg,
		       const char *sql, const char *types, ...)
{
	va_list ap;
	int rc;

	va_start(ap, types);
	rc = sched_vquery(db, op, errp, row, arg, sql, types, ap);
	va_end(ap);
	return rc;
}

static char *col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return s != NULL ? xstrdup((const char *)s) : NULL;
}

static void sched_clear(void *item)
{
	struct spoolsched *s = item;

	free(s->name);
	free(s->cron);
	free(s->timezone);
	free(s->job_name);
	free(s->factfile_path);
	free(s->factfile_args);
	free(s->last_job);
	memset(s, 0, sizeof *s);
}

void spoolsched_clear(struct spoolsched *s)
{
	sched_clear(s);
}

void spoolsched_free(struct spoolsched *s)
{
	if (s == NULL)
		return;
	sched_clear(s);
	free(s);
}

void spoolsched_list_free(struct spoolsched *list, size_t n)
{
	for (size_t i = 0; list != NULL && i < n; i++)
		sched_clear(&list[i]);
	free(list);
}

static void slot_clear(void *item)
{
	struct spoolsched_slot *s = item;

	free(s->reason);
	free(s->job_id);
}

void spoolsched_slots_free(struct spoolsched_slot *slots, size_t n)
{
	for (size_t i = 0; slots != NULL && i < n; i++)
		slot_clear(&slots[i]);
	free(slots);
}

/* A growing array of records of size bytes, filled by the row callbacks; clear frees one. */
struct sched_rows {
	void *items;
	size_t n, size;
	void (*clear)(void *item);
};

/* Runs a query on the spool's connection into r; on failure r is emptied. */
static int sched_read(struct spool *sp, const char *op, char **errp, sched_row_fn row,
		      struct sched_rows *r, const char *sql, const char *types, ...)
{
	sqlite3 *db = spool_db_acquire(sp);
	va_list ap;
	int rc;

	va_start(ap, types);
	rc = sched_vquery(db, op, errp, row, r, sql, types, ap);
	va_end(ap);
	spool_db_release(sp);
	if (rc != 0) {
		for (size_t i = 0; i < r->n; i++)
			r->clear((char *)r->items + i * r->size);
		free(r->items);
		r->items = NULL;
		r->n = 0;
	}
	return rc;
}

static int row_sched(sqlite3_stmt *st, void *arg)
{
	struct sched_rows *r = arg;
	struct spoolsched *s;

	r->items = xgrow_by_one(r->items, r->n, r->size);
	s = (struct spoolsched *)r->items + r->n++;
	memset(s, 0, sizeof *s);
	s->name = col_dup(st, 0);
	s->cron = col_dup(st, 1);
	s->timezone = col_dup(st, 2);
	s->job_name = col_dup(st, 3);
	s->factfile_path = col_dup(st, 4);
	s->factfile_args = col_dup(st, 5);
	s->overlap_skip = sqlite3_column_int(st, 6);
	s->catch_up = sqlite3_column_int(st, 7);
	s->paused = sqlite3_column_int(st, 8);
	s->created_ms = sqlite3_column_int64(st, 9);
	s->updated_ms = sqlite3_column_int64(st, 10);
	s->last_slot = sqlite3_column_int64(st, 11);
	s->last_job = col_dup(st, 12);
	s->last_fired = sqlite3_column_int64(st, 13);
	return 0;
}

static int row_slot(sqlite3_stmt *st, void *arg)
{
	struct sched_rows *r = arg;
	struct spoolsched_slot *s;

	r->items = xgrow_by_one(r->items, r->n, r->size);
	s = (struct spoolsched_slot *)r->items + r->n++;
	s->slot = sqlite3_column_int64(st, 0);
	s->at_ms = sqlite3_column_int64(st, 1);
	s->result = result_parse((const char *)sqlite3_column_text(st, 2));
	s->reason = col_dup(st, 3);
	s->job_id = col_dup(st, 4);
	s->count = sqlite3_column_int64(st, 5);
	return 0;
}

/* Opens a write (spool batch) and gives its connection. */
static int sched_begin(struct spool *sp, sqlite3 **dbp, char **errp)
{
	int rc = spool_begin(sp, errp);

	if (rc == 0)
		*dbp = spool_db_acquire(sp);
	return rc;
}

/* Ends what sched_begin opened: commits when rc is 0, else rolls back; the final code. */
static int sched_end(struct spool *sp, int rc, char **errp)
{
	spool_db_release(sp);
	if (rc == 0)
		return spool_commit(sp, errp);
	spool_rollback(sp);
	return rc;
}

static int sched_missing(const char *op, const char *name, char **errp)
{
	return err_set(errp, FS_ENOENT, "spool: %s: no schedule '%s'", op, name);
}

static int row_int(sqlite3_stmt *st, void *arg);

int spoolsched_set(struct spool *sp, const struct spoolsched *s, int64_t now_s, char **errp)
{
	return spoolsched_set_max(sp, s, now_s, 0, errp);
}

int spoolsched_set_max(struct spool *sp, const struct spoolsched *s, int64_t now_s, size_t max,
		       char **errp)
{
	int64_t now = clock_real_ms(), others = 0;
	sqlite3 *db;
	int rc;

	if ((rc = sched_begin(sp, &db, errp)) != 0)
		return rc;
	/* the schedules there are, 0 when this name is one of them: replacing one is always
	 * allowed */
	if (max > 0 &&
	    (rc = sched_query(db, "schedule set", errp, row_int, &others,
			      "SELECT count(*) FROM schedules WHERE NOT EXISTS"
			      " (SELECT 1 FROM schedules WHERE name = ?1)",
			      "t", s->name)) == 0 &&
	    others >= (int64_t)max)
		rc = err_set(errp, FS_EFULL, "Error: at most %zu schedules", max);
	if (rc != 0)
		return sched_end(sp, rc, errp);
	rc = sched_run(db, "schedule set", NULL, errp,
		       "INSERT INTO schedules(name, cron, timezone, job_name, factfile_path,"
		       " factfile_args, overlap_skip, catch_up, created_ms, updated_ms, last_slot)"
		       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10)"
		       " ON CONFLICT(name) DO UPDATE SET cron = excluded.cron,"
		       " timezone = excluded.timezone, job_name = excluded.job_name,"
		       " factfile_path = excluded.factfile_path,"
		       " factfile_args = excluded.factfile_args,"
		       " overlap_skip = excluded.overlap_skip, catch_up = excluded.catch_up,"
		       " updated_ms = excluded.updated_ms",
		       "ttttttiiii", s->name, s->cron, s->timezone, s->job_name, s->factfile_path,
		       s->factfile_args != NULL ? s->factfile_args : "[]",
		       (int64_t)(s->overlap_skip != 0), (int64_t)s->catch_up, now, now_s);
	return sched_end(sp, rc, errp);
}

int spoolsched_get(struct spool *sp, const char *name, struct spoolsched **out, char **errp)
{
	struct sched_rows r = { NULL, 0, sizeof(struct spoolsched), sched_clear };
	int rc = sched_read(sp, "schedule get", errp, row_sched, &r,
			    "SELECT " SCHED_COLS " FROM schedules WHERE name = ?1", "t", name);

	*out = r.items;
	if (rc == 0 && r.n == 0)
		return sched_missing("schedule get", name, errp);
	return rc;
}

int spoolsched_list(struct spool *sp, struct spoolsched **listp, size_t *np, char **errp)
{
	struct sched_rows r = { NULL, 0, sizeof(struct spoolsched), sched_clear };
	int rc = sched_read(sp, "schedule list", errp, row_sched, &r,
			    "SELECT " SCHED_COLS " FROM schedules ORDER BY name", "");

	*listp = r.items;
	*np = r.n;
	return rc;
}

int spoolsched_pause(struct spool *sp, const char *name, int paused, int64_t now_s, char **errp)
{
	sqlite3 *db;
	int rc, changes = 0;

	if ((rc = sched_begin(sp, &db, errp)) != 0)
		return rc;
	/* resuming an unpaused schedule changes nothing: its due slots stay due */
	rc = sched_run(db, "schedule pause", &changes, errp,
		       "UPDATE schedules SET paused = ?2, updated_ms = ?3,"
		       " last_slot = (CASE WHEN paused AND NOT ?2 THEN max(last_slot, ?4)"
		       " ELSE last_slot END) WHERE name = ?1",
		       "tiii", name, (int64_t)(paused != 0), clock_real_ms(), now_s);
	if (rc == 0 && changes == 0)
		rc = sched_missing("schedule pause", name, errp);
	return sched_end(sp, rc, errp);
}

int spoolsched_delete(struct spool *sp, const char *name, char **errp)
{
	sqlite3 *db;
	int rc, changes = 0;

	if ((rc = sched_begin(sp, &db, errp)) != 0)
		return rc;
	/* the history goes by ON DELETE CASCADE */
	rc = sched_run(db, "schedule delete", &changes, errp,
		       "DELETE FROM schedules WHERE name = ?1", "t", name);
	if (rc == 0 && changes == 0)
		rc = sched_missing("schedule delete", name, errp);
	return sched_end(sp, rc, errp);
}

int spoolsched_history(struct spool *sp, const char *name, size_t max,
		       struct spoolsched_slot **slotsp, size_t *np, char **errp)
{
	struct sched_rows r = { NULL, 0, sizeof(struct spoolsched_slot), slot_clear };
	int rc = sched_read(sp, "schedule history", errp, row_slot, &r,
			    "SELECT slot, at_ms, result, reason, job_id, count FROM slots"
			    " WHERE schedule = ?1 ORDER BY sid DESC LIMIT ?2",
			    "ti", name, max > 0 ? (int64_t)max : (int64_t)-1);

	*slotsp = r.items;
	*np = r.n;
	return rc;
}

static int sched_record(sqlite3 *db, const char *op, const char *name, int64_t slot,
			enum spoolsched_result result, const char *reason, const char *job_id,
			int64_t count, char **errp)
{
	return sched_run(db, op, NULL, errp,
			 "INSERT INTO slots(schedule, slot, at_ms, result, reason, job_id, count)"
			 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
			 "tiittti", name, slot, clock_real_ms(), result_names[result], reason,
			 job_id, count);
}

/* The compare-and-set of a slot: name's last_slot is still prev (else FS_ESTATE, or FS_ENOENT
 * when the schedule is gone); with advance it becomes slot. */
static int sched_cas(sqlite3 *db, const char *op, const char *name, int64_t prev, int advance,
		     int64_t slot, char **errp)
{
	struct sched_rows r = { NULL, 0, sizeof(struct spoolsched), sched_clear };
	int rc, changes = 0;

	rc = sched_run(db, op, &changes, errp,
		       "UPDATE schedules SET last_slot = (CASE WHEN ?3 THEN ?4 ELSE last_slot END)"
		       " WHERE name = ?1 AND last_slot = ?2",
		       "tiii", name, prev, (int64_t)(advance != 0), slot);
	if (rc != 0 || changes > 0)
		return rc;
	rc = sched_query(db, op, errp, row_sched, &r,
			 "SELECT " SCHED_COLS " FROM schedules WHERE name = ?1", "t", name);
	if (rc == 0)
		rc = r.n == 0 ? sched_missing(op, name, errp)
			      : err_set(errp, FS_ESTATE,
					"spool: %s: schedule '%s' has moved on from slot %lld", op,
					name, (long long)prev);
	spoolsched_list_free(r.items, r.n);
	return rc;
}

/* One text column of the first row into *valuep (NULL when no row or NULL). */
static int row_text(sqlite3_stmt *st, void *arg)
{
	char **valuep = arg;

	*valuep = col_dup(st, 0);
	return 0;
}

/* The overlap rule: with overlap skip, the state of the last fired slot's job when it is QUEUED
 * or WORKING (a new string), else NULL. */
static int sched_overlap(sqlite3 *db, const char *op, const char *name, char **statep, char **errp)
{
	*statep = NULL;
	return sched_query(
		db, op, errp, row_text, statep,
		"SELECT j.state FROM schedules s JOIN jobs j ON j.id = s.last_job"
		" WHERE s.name = ?1 AND s.overlap_skip AND j.state IN ('QUEUED', 'WORKING')",
		"t", name);
}

/* The refusal reason of a failed spool_enqueue, or NULL when the failure is not a refusal. */
static const char *sched_refusal(int rc)
{
	switch (rc) {
	case FS_EEXIST:
		return "duplicate";
	case FS_EFULL:
		return "queue full";
	case FS_EQUOTA:
		return "user queue full";
	case FS_ESTATE:
		return "drain";
	default:
		return NULL;
	}
}

int spoolsched_fire(struct spool *sp, const struct spoolsched_fire *f,
		    enum spoolsched_result *resultp, char **errp)
{
	const char *op = "schedule fire", *reason = f->refusal, *job = NULL;
	enum spoolsched_result result = SPOOLSCHED_REFUSED;
	char *state = NULL, *exists = NULL, *detail = NULL;
	sqlite3 *db;
	int rc;

	if ((rc = sched_begin(sp, &db, errp)) != 0)
		return rc;
	if ((rc = sched_cas(db, op, f->name, f->prev_slot, f->advance, f->slot, errp)) != 0)
		goto end;
	if (f->sub == NULL)
		goto record;
	if ((rc = sched_overlap(db, op, f->name, &state, errp)) != 0)
		goto end;
	if (state != NULL) {
		result = SPOOLSCHED_SKIPPED;
		reason = detail = xasprintf("overlap: the last slot's job is %s", state);
		goto record;
	}
	/* any state: a slot never becomes a second job, even once its first finished */
	if ((rc = sched_query(db, op, errp, row_text, &exists, "SELECT id FROM jobs WHERE id = ?1",
			      "t", f->sub->id)) != 0)
		goto end;
	if (exists != NULL) {
		reason = "duplicate";
		goto record;
	}
	rc = spool_enqueue(sp, f->sub, f->max_queued, &detail);
	if (rc != 0 && (reason = sched_refusal(rc)) == NULL) {
		if (errp != NULL) {
			*errp = detail;
			detail = NULL;
		}
		goto end;
	}
	if (rc == 0) {
		result = SPOOLSCHED_FIRED;
		reason = NULL;
		job = f->sub->id;
		if ((rc = sched_run(db, op, NULL, errp,
				    "UPDATE schedules SET last_job = ?2, last_fired = ?3"
				    " WHERE name = ?1",
				    "tti", f->name, job, f->slot)) != 0)
			goto end;
	}
	rc = 0;
record:
	rc = sched_record(db, op, f->name, f->slot, result, reason, job, 1, errp);
end:
	rc = sched_end(sp, rc, errp);
	if (rc == 0 && resultp != NULL)
		*resultp = result;
	free(state);
	free(exists);
	free(detail);
	return rc;
}

char *spoolsched_more_reason(int64_t more)
{
	if (more < 0)
		return xasprintf("at least %lld more slots missed", -(long long)more);
	return xasprintf("%lld more slots missed", (long long)more);
}

int spoolsched_missed(struct spool *sp, const char *name, int64_t prev_slot, const int64_t *slots,
		      size_t n, int64_t more, int64_t more_last, int64_t new_last, char **errp)
{
	const char *op = "schedule missed";
	char *reason = NULL;
	sqlite3 *db;
	int rc;

	if ((rc = sched_begin(sp, &db, errp)) != 0)
		return rc;
	if ((rc = sched_cas(db, op, name, prev_slot, 1, new_last, errp)) != 0)
		goto end;
	if (more != 0) {
		reason = spoolsched_more_reason(more);
		if ((rc = sched_record(db, op, name, more_last, SPOOLSCHED_MISSED, reason, NULL,
				       more < 0 ? -more : more, errp)) != 0)
			goto end;
	}
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = sched_record(db, op, name, slots[i], SPOOLSCHED_MISSED, NULL, NULL, 1, errp);
end:
	free(reason);
	return sched_end(sp, rc, errp);
}

int spoolsched_admit(struct spool *sp, const struct spool_submit *sub, size_t max_queued,
		     const char **refusalp, char **errp)
{
	sqlite3 *db;
	char *detail = NULL;
	int rc;

	*refusalp = NULL;
	if ((rc = sched_begin(sp, &db, errp)) != 0)
		return rc;
	rc = spool_enqueue(sp, sub, max_queued, &detail);
	spool_db_release(sp);
	/* a question only: what the enqueue wrote goes */
	spool_rollback(sp);
	if (rc != 0 && (*refusalp = sched_refusal(rc)) == NULL) {
		if (errp != NULL) {
			*errp = detail;
			detail = NULL;
		}
		free(detail);
		return rc;
	}
	free(detail);
	return 0;
}

/* The slots.<result> counter goes up by n, in the open transaction. */
static int counter_add(sqlite3 *db, enum spoolsched_result result, int64_t n, char **errp)
{
	char *name = xasprintf("slots.%s", spoolsched_result_name(result));
	int rc = sched_run(db, "schedule count", NULL, errp,
			   "UPDATE counters SET n = n + ?2 WHERE name = ?1", "ti", name, n);

	free(name);
	return rc;
}

int spoolsched_count(struct spool *sp, enum spoolsched_result result,
		     const struct spool_submit *sub, size_t max_queued, const char **refusalp,
		     char **errp)
{
	sqlite3 *db;
	int rc;

	if (refusalp != NULL)
		*refusalp = NULL;
	if ((rc = sched_begin(sp, &db, errp)) != 0)
		return rc;
	if (sub != NULL && (rc = spool_enqueue(sp, sub, max_queued, errp)) != 0 && refusalp != NULL)
		*refusalp = sched_refusal(rc);
	if (rc == 0)
		rc = counter_add(db, result, 1, errp);
	return sched_end(sp, rc, errp);
}

int spoolsched_count_add(struct spool *sp, enum spoolsched_result result, int64_t n, char **errp)
{
	sqlite3 *db;
	int rc;

	if ((rc = sched_begin(sp, &db, errp)) != 0)
		return rc;
	return sched_end(sp, counter_add(db, result, n, errp), errp);
}

static int row_count(sqlite3_stmt *st, void *arg)
{
	int64_t *counts = arg;
	const char *name = (const char *)sqlite3_column_text(st, 0);

	for (int i = 0; i < SPOOLSCHED_NRESULTS; i++)
		if (name != NULL && strcmp(name + strlen("slots."), result_names[i]) == 0)
			counts[i] = sqlite3_column_int64(st, 1);
	return 0;
}

int spoolsched_counts(struct spool *sp, int64_t counts[SPOOLSCHED_NRESULTS], char **errp)
{
	sqlite3 *db = spool_db_acquire(sp);
	int rc;

	memset(counts, 0, SPOOLSCHED_NRESULTS * sizeof counts[0]);
	/* a range on the primary key, as the names are */
	rc = sched_query(db, "schedule counts", errp, row_count, counts,
			 "SELECT name, n FROM counters WHERE name >= 'slots.' AND name < 'slots/'",
			 "");
	spool_db_release(sp);
	return rc;
}

static int row_int(sqlite3_stmt *st, void *arg)
{
	*(int64_t *)arg = sqlite3_column_int64(st, 0);
	return 0;
}

int spoolsched_changes(struct spool *sp, int64_t *np, char **errp)
{
	sqlite3 *db = spool_db_acquire(sp);
	int rc;

	*np = 0;
	rc = sched_query(db, "schedule changes", errp, row_int, np,
			 "SELECT n FROM counters WHERE name = 'schedules.changes'", "");
	spool_db_release(sp);
	return rc;
}

int spoolsched_prune(struct spool *sp, int64_t before_ms, int64_t *np, char **errp)
{
	sqlite3 *db;
	int rc, changes = 0;

	if ((rc = sched_begin(sp, &db, errp)) != 0)
		return rc;
	rc = sched_run(db, "schedule prune", &changes, errp, "DELETE FROM slots WHERE at_ms < ?1",
		       "i", before_ms);
	rc = sched_end(sp, rc, errp);
	if (np != NULL)
		*np = rc == 0 ? changes : 0;
	return rc;
}
