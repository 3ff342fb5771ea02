/* SPDX-License-Identifier: Apache-2.0 */
/* A job's newest transitions (spoolruns.h). */
#include "spoolruns.h"

#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>

#include "err.h"
#include "spool.h"
#include "spooldb.h"
#include "xalloc.h"

/* Newest first, at most ?2, on the transitions_job index; the QUEUED entry read from the job's
 * row has no tid and is the newest. */
static const char runs_sql[] =
	"SELECT * FROM (SELECT " SPOOL_DB_TR_COLS " FROM transitions t WHERE t.job_id = ?1"
	" ORDER BY t.tid DESC LIMIT ?2)"
	" UNION ALL SELECT NULL, id, updated_ms, state, outcome, exit_code, exit_signal, reason,"
	" node FROM jobs WHERE id = ?1 AND state = 'QUEUED' AND " SPOOL_DB_TR_NOT_REQUEUED
	" ORDER BY 1 DESC NULLS FIRST LIMIT ?2";

int spoolruns_list(struct spool *sp, const char *id, size_t max, struct spool_transition **trsp,
		   size_t *np, char **errp)
{
	struct spool_transition *trs = NULL, tmp;
	sqlite3_stmt *st = NULL;
	sqlite3 *db;
	size_t n = 0, i;
	int src, rc = 0;

	*trsp = NULL;
	*np = 0;
	db = spool_db_acquire(sp);
	src = sqlite3_prepare_v2(db, runs_sql, -1, &st, NULL);
	if (src == SQLITE_OK)
		src = sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (src == SQLITE_OK)
		src = sqlite3_bind_int64(st, 2, (int64_t)max);
	while (src == SQLITE_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
		trs = xgrow_by_one(trs, n, sizeof(*trs));
		spool_db_tr_read(st, &trs[n++]);
		src = SQLITE_OK;
	}
	if (src != SQLITE_DONE) {
		rc = err_set(errp, (src & 0xff) == SQLITE_BUSY ? FS_EBUSY : FS_EIO,
			     "spool: runs: %s", sqlite3_errmsg(db));
		spool_transition_list_free(trs, n);
		trs = NULL;
		n = 0;
	}
	sqlite3_finalize(st);
	spool_db_release(sp);
	/* read newest first so that the bound keeps the newest; answered oldest first */
	for (i = 0; i < n / 2; i++) {
		tmp = trs[i];
		trs[i] = trs[n - 1 - i];
		trs[n - 1 - i] = tmp;
	}
	*trsp = trs;
	*np = n;
	return rc;
}
