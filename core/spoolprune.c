/* SPDX-License-Identifier: Apache-2.0 */
/* Retention of finished jobs: the due-job query and its batched removal (spoolprune.h). */
#include "spoolprune.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdlib.h>

#include "err.h"
#include "spooldb.h"
#include "xalloc.h"

/* Both bounds (age, the newest N) make the due jobs a prefix of the DONE jobs in (finish time,
 * id) order, so that a batch is one range on this index, however many are due; id makes the
 * order total, so that the newest N are exactly N (SQLite sorts the ties of one millisecond by
 * id as it goes: the 64-byte id is not in the key). The index holds DONE rows only, so a job's
 * submission and claim do not write it; SQLite's planner prefers jobs_state_seq for
 * state = 'DONE', so the queries name it. The full index of earlier builds is dropped. */
const char spoolprune_indexes_sql[] =
	"DROP INDEX IF EXISTS jobs_state_by_finished;"
	"CREATE INDEX IF NOT EXISTS jobs_done_by_finished ON jobs(updated_ms) WHERE state = 'DONE';"
	/* DONE jobs whose Consul entry is still the node's: few, next to those kept locally */
	"CREATE INDEX IF NOT EXISTS jobs_done_consul ON jobs(updated_ms)"
	" WHERE state = 'DONE' AND consul_index > 0;";

/* the keep_done-th most recently finished job (OFFSET ?1 - 1): the newest not due */
static const char newest_kept_sql[] =
	"SELECT updated_ms, id FROM jobs INDEXED BY jobs_done_by_finished WHERE state = 'DONE'"
	" ORDER BY updated_ms DESC, id DESC LIMIT 1 OFFSET ?1 - 1";

/* ?4: with Consul, a job whose entry is still the node's (consul_index > 0) waits for the
 * entry's removal (spoolprune_consul_due) */
static const char due_sql[] =
	"SELECT id FROM jobs INDEXED BY jobs_done_by_finished"
	" WHERE state = 'DONE' AND (updated_ms, id) < (?1, ?2)"
	" AND (?4 = 0 OR consul_index = 0)"
	" AND NOT EXISTS (SELECT 1 FROM transitions t JOIN outbox o ON o.tid = t.tid"
	" WHERE t.job_id = jobs.id)"
	" ORDER BY updated_ms, id LIMIT ?3";

/* the planner passes over the partial index unless told */
static const char consul_due_sql[] =
	"SELECT id, consul_index FROM jobs INDEXED BY jobs_done_consul"
	" WHERE state = 'DONE' AND consul_index > 0 AND updated_ms < ?1 AND node = ?2"
	" AND NOT EXISTS (SELECT 1 FROM transitions t JOIN outbox o ON o.tid = t.tid"
	" WHERE t.job_id = jobs.id)"
	" ORDER BY updated_ms LIMIT ?3";

/* only while the row is the one whose entry was removed: a job submitted again meanwhile has a
 * new claim's index */
static const char consul_forgotten_sql[] =
	"UPDATE jobs SET consul_index = 0"
	" WHERE id = ?1 AND state = 'DONE' AND consul_index = ?2";

/* transitions and outbox entries go by ON DELETE CASCADE */
static const char delete_sql[] = "DELETE FROM jobs WHERE id = ?1 AND state = 'DONE'";

static int prune_err(sqlite3 *db, const char *what, int src, char **errp)
{
	int prim = src & 0xff;

	return err_set(errp, (prim == SQLITE_BUSY || prim == SQLITE_LOCKED) ? FS_EBUSY : FS_EIO,
		       "spool: %s: %s", what, sqlite3_errmsg(db));
}

/* Prepares sql into *stp and binds one parameter per character of types: 't' a const char *
 * (borrowed until the statement is finalized), 'i' an int64_t. An SQLite code. */
static int prune_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **stp, const char *types, ...)
{
	va_list ap;
	int src, i;

	src = sqlite3_prepare_v2(db, sql, -1, stp, NULL);
	va_start(ap, types);
	for (i = 0; src == SQLITE_OK && types[i] != '\0'; i++)
		src = types[i] == 't' ? sqlite3_bind_text(*stp, i + 1, va_arg(ap, const char *), -1,
							  SQLITE_STATIC)
				      : sqlite3_bind_int64(*stp, i + 1, va_arg(ap, int64_t));
	va_end(ap);
	return src;
}

void spoolprune_ids_free(char **ids, size_t n)
{
	for (size_t i = 0; ids != NULL && i < n; i++)
		free(ids[i]);
	free(ids);
}

/* The bound of the due jobs, (*msp, idp): with keep_done, the newest kept job when that is
 * later than before_ms. idp is "" or a new string the caller frees. */
static int prune_bound(sqlite3 *db, int64_t before_ms, int64_t keep_done, int64_t *msp, char **idp,
		       char **errp)
{
	sqlite3_stmt *st = NULL;
	int rc = 0, src;

	*msp = before_ms;
	*idp = xstrdup(""); /* before any id: updated_ms < before_ms */
	if (keep_done <= 0)
		return 0;
	src = prune_prepare(db, newest_kept_sql, &st, "i", keep_done);
	if (src == SQLITE_OK)
		src = sqlite3_step(st);
	if (src == SQLITE_ROW) {
		if (sqlite3_column_int64(st, 0) >= before_ms) {
			*msp = sqlite3_column_int64(st, 0);
			free(*idp);
			*idp = xstrdup((const char *)sqlite3_column_text(st, 1));
		}
	} else if (src != SQLITE_DONE) {
		rc = prune_err(db, "prune", src, errp);
	}
	sqlite3_finalize(st);
	return rc;
}

/* The ids due now (due_sql), appended to *idsp. */
static int prune_due(sqlite3 *db, int64_t before_ms, int64_t keep_done, int consul, size_t max,
		     char ***idsp, size_t *np, char **errp)
{
	sqlite3_stmt *st = NULL;
	char *bound_id = NULL;
	int64_t bound_ms;
	int rc, src;

	if ((rc = prune_bound(db, before_ms, keep_done, &bound_ms, &bound_id, errp)) != 0)
		goto out;
	src = prune_prepare(db, due_sql, &st, "itii", bound_ms, bound_id, (int64_t)max,
			    (int64_t)consul);
	while (src == SQLITE_OK || src == SQLITE_ROW) {
		if ((src = sqlite3_step(st)) != SQLITE_ROW)
			break;
		*idsp = xgrow_by_one(*idsp, *np, sizeof(**idsp));
		(*idsp)[(*np)++] = xstrdup((const char *)sqlite3_column_text(st, 0));
	}
	if (src != SQLITE_DONE)
		rc = prune_err(db, "prune", src, errp);
out:
	sqlite3_finalize(st);
	free(bound_id);
	return rc;
}

/* Deletes the jobs ids[0..n). */
static int prune_delete(sqlite3 *db, char **ids, size_t n, char **errp)
{
	sqlite3_stmt *st = NULL;
	int src;
	size_t i;

	src = sqlite3_prepare_v2(db, delete_sql, -1, &st, NULL);
	for (i = 0; src == SQLITE_OK && i < n; i++) {
		src = sqlite3_bind_text(st, 1, ids[i], -1, SQLITE_STATIC);
		if (src == SQLITE_OK && (src = sqlite3_step(st)) == SQLITE_DONE)
			src = sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return src == SQLITE_OK ? 0 : prune_err(db, "prune", src, errp);
}

int spoolprune_batch(struct spool *sp, int64_t before_ms, int64_t keep_done, int consul, size_t max,
		     char ***idsp, size_t *np, char **errp)
{
	sqlite3 *db;
	char **ids = NULL;
	size_t n = 0;
	int rc, src;

	*idsp = NULL;
	*np = 0;
	if (max == 0 || max > SPOOLPRUNE_MAX_BATCH)
		return err_set(errp, FS_EINVAL, "spool: prune: batch of %zu jobs (1..%d)", max,
			       SPOOLPRUNE_MAX_BATCH);
	db = spool_db_acquire(sp);
	if ((src = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL)) != SQLITE_OK) {
		rc = prune_err(db, "prune", src, errp);
		goto out;
	}
	if ((rc = prune_due(db, before_ms, keep_done, consul, max, &ids, &n, errp)) != 0 ||
	    (n > 0 && (rc = prune_delete(db, ids, n, errp)) != 0))
		goto fail;
	if ((src = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL)) != SQLITE_OK) {
		rc = prune_err(db, "prune", src, errp);
		goto fail;
	}
	*idsp = ids;
	*np = n;
	ids = NULL;
	n = 0;
	goto out;
fail:
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
out:
	spool_db_release(sp);
	spoolprune_ids_free(ids, n);
	return rc;
}

int spoolprune_consul_due(struct spool *sp, const char *node, int64_t before_ms, size_t max,
			  char ***idsp, int64_t **indexesp, size_t *np, char **errp)
{
	sqlite3_stmt *st = NULL;
	sqlite3 *db;
	int rc = 0, src;

	*idsp = NULL;
	*indexesp = NULL;
	*np = 0;
	db = spool_db_acquire(sp);
	src = prune_prepare(db, consul_due_sql, &st, "iti", before_ms, node, (int64_t)max);
	while (src == SQLITE_OK || src == SQLITE_ROW) {
		if ((src = sqlite3_step(st)) != SQLITE_ROW)
			break;
		*idsp = xgrow_by_one(*idsp, *np, sizeof(**idsp));
		*indexesp = xgrow_by_one(*indexesp, *np, sizeof(**indexesp));
		(*idsp)[*np] = xstrdup((const char *)sqlite3_column_text(st, 0));
		(*indexesp)[(*np)++] = sqlite3_column_int64(st, 1);
	}
	if (src != SQLITE_DONE) {
		rc = prune_err(db, "prune", src, errp);
		spoolprune_ids_free(*idsp, *np);
		free(*indexesp);
		*idsp = NULL;
		*indexesp = NULL;
		*np = 0;
	}
	sqlite3_finalize(st);
	spool_db_release(sp);
	return rc;
}

int spoolprune_consul_forgotten(struct spool *sp, const char *id, int64_t index, char **errp)
{
	sqlite3_stmt *st = NULL;
	sqlite3 *db = spool_db_acquire(sp);
	int rc = 0, src;

	src = prune_prepare(db, consul_forgotten_sql, &st, "ti", id, index);
	if (src == SQLITE_OK)
		src = sqlite3_step(st);
	if (src != SQLITE_DONE)
		rc = prune_err(db, "prune", src, errp);
	sqlite3_finalize(st);
	spool_db_release(sp);
	return rc;
}
