/* SPDX-License-Identifier: Apache-2.0 */
/* The reconciliation's spool queries (spoolrecon.h). */
#include "spoolrecon.h"

#include <sqlite3.h>
#include <stdlib.h>

#include "err.h"
#include "spool.h"
#include "spooldb.h"
#include "xalloc.h"

/* ?1 done, ?2 after this id, ?3 at most; by id, the primary key, so a page is one range */
static const char page_sql[] =
	"SELECT %s FROM jobs WHERE id > ?2 AND consul_index > 0"
	" AND (state = 'DONE') = (?1 <> 0)"
	" AND NOT EXISTS (SELECT 1 FROM transitions t JOIN outbox o ON o.tid = t.tid"
	" WHERE t.job_id = jobs.id)"
	" ORDER BY id LIMIT ?3";

static const char move_sql[] =
	"UPDATE jobs SET consul_index = ?3 WHERE id = ?1 AND consul_index = ?2";

static int recon_err(sqlite3 *db, int src, char **errp)
{
	int prim = src & 0xff;

	return err_set(errp, (prim == SQLITE_BUSY || prim == SQLITE_LOCKED) ? FS_EBUSY : FS_EIO,
		       "spool: reconcile: %s", sqlite3_errmsg(db));
}

int spoolrecon_page(struct spool *sp, int done, const char *after_id, size_t max,
		    struct spool_job **jobsp, size_t *np, char **errp)
{
	char *sql = xasprintf(page_sql, spool_db_job_cols());
	sqlite3 *db = spool_db_acquire(sp);
	sqlite3_stmt *st = NULL;
	int rc = 0, src;

	*jobsp = NULL;
	*np = 0;
	src = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (src == SQLITE_OK)
		src = sqlite3_bind_int(st, 1, done != 0);
	if (src == SQLITE_OK)
		src = sqlite3_bind_text(st, 2, after_id, -1, SQLITE_STATIC);
	if (src == SQLITE_OK)
		src = sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
	while (src == SQLITE_OK || src == SQLITE_ROW) {
		if ((src = sqlite3_step(st)) != SQLITE_ROW)
			break;
		*jobsp = xgrow_by_one(*jobsp, *np, sizeof(**jobsp));
		spool_db_job_read(st, &(*jobsp)[(*np)++]);
	}
	if (src != SQLITE_DONE) {
		rc = recon_err(db, src, errp);
		spool_job_list_free(*jobsp, *np);
		*jobsp = NULL;
		*np = 0;
	}
	sqlite3_finalize(st);
	spool_db_release(sp);
	free(sql);
	return rc;
}

int spoolrecon_index_move(struct spool *sp, const char *id, int64_t from, int64_t index,
			  char **errp)
{
	sqlite3 *db = spool_db_acquire(sp);
	sqlite3_stmt *st = NULL;
	int rc = 0, src;

	src = sqlite3_prepare_v2(db, move_sql, -1, &st, NULL);
	if (src == SQLITE_OK)
		src = sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (src == SQLITE_OK)
		src = sqlite3_bind_int64(st, 2, from);
	if (src == SQLITE_OK)
		src = sqlite3_bind_int64(st, 3, index);
	if (src == SQLITE_OK)
		src = sqlite3_step(st);
	if (src != SQLITE_DONE)
		rc = recon_err(db, src, errp);
	sqlite3_finalize(st);
	spool_db_release(sp);
	return rc;
}
