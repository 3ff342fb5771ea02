/* SPDX-License-Identifier: Apache-2.0 */
/* Pages of the spool's jobs, by offset or keyset cursor (spoollist.h). */
#include "spoollist.h"

#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "spool.h"
#include "spooldb.h"
#include "xalloc.h"

/* One per filter, each ending in the submission time: the filter's rows come in page order but
 * for ties of the same millisecond, which SQLite sorts by id as it goes, and a cursor is a range
 * on the same index. Not the id in the key: it is 64 bytes, and every /submit writes each of these
 * indexes (with the id they were twice the size of the table). */
const char spoollist_indexes_sql[] =
	"CREATE INDEX IF NOT EXISTS jobs_by_submitted ON jobs(created_ms);"
	"CREATE INDEX IF NOT EXISTS jobs_state_by_submitted ON jobs(state, created_ms);"
	"CREATE INDEX IF NOT EXISTS jobs_outcome_by_submitted ON jobs(outcome, created_ms);"
	"CREATE INDEX IF NOT EXISTS jobs_name_by_submitted ON jobs(job_name, created_ms);";

void spoollist_cursor(const struct spool_job *job, char out[SPOOLLIST_CURSOR_LEN])
{
	snprintf(out, SPOOLLIST_CURSOR_LEN, "%" PRId64 "-%s", job->created_ms, job->id);
}

static int is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* A cursor's parts: *msp and the id (65 bytes with its NUL). 0 or -1. */
static int cursor_parse(const char *c, int64_t *msp, char id[65])
{
	const char *dash = strchr(c, '-');
	int64_t ms = 0;
	const char *p;

	if (dash == NULL || dash == c || dash - c > 18 || strlen(dash + 1) != 64 ||
	    !is_hex(dash + 1, 64))
		return -1;
	for (p = c; p < dash; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		ms = ms * 10 + (*p - '0');
	}
	*msp = ms;
	memcpy(id, dash + 1, 65);
	return 0;
}

/* SELECT ... for q (named parameters for whichever filters it has). A new string. */
static char *page_sql(const struct spoollist_query *q)
{
	return xasprintf("SELECT %s FROM jobs WHERE 1%s%s%s%s%s"
			 " ORDER BY created_ms DESC, id DESC LIMIT :limit OFFSET :offset",
			 spool_db_job_cols(), q->state >= 0 ? " AND state = :state" : "",
			 q->outcome >= 0 ? " AND outcome = :outcome" : "",
			 q->name != NULL ? " AND job_name = :name" : "",
			 q->id_prefix != NULL ? " AND id BETWEEN :id_lo AND :id_hi" : "",
			 q->after != NULL ? " AND (created_ms, id) < (:after_ms, :after_id)" : "");
}

static int bind_text(sqlite3_stmt *st, const char *name, const char *v)
{
	int i = sqlite3_bind_parameter_index(st, name);
	return i > 0 ? sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT) : SQLITE_OK;
}

static int bind_i64(sqlite3_stmt *st, const char *name, int64_t v)
{
	int i = sqlite3_bind_parameter_index(st, name);
	return i > 0 ? sqlite3_bind_int64(st, i, v) : SQLITE_OK;
}

int spoollist_page(struct spool *sp, const struct spoollist_query *q, struct spool_job **jobsp,
		   size_t *np, char **errp)
{
	char lo[65], hi[65], after_id[65], *sql = NULL;
	sqlite3_stmt *st = NULL;
	sqlite3 *db;
	int64_t after_ms = 0;
	size_t plen = q->id_prefix != NULL ? strlen(q->id_prefix) : 0;
	int rc = 0, src;

	*jobsp = NULL;
	*np = 0;
	if (q->after != NULL && cursor_parse(q->after, &after_ms, after_id) != 0)
		return err_set(errp, FS_EINVAL, "spool: list: malformed cursor");
	if (q->id_prefix != NULL) {
		if (plen == 0 || plen > 64 || !is_hex(q->id_prefix, plen))
			return err_set(errp, FS_EINVAL, "spool: list: malformed id prefix");
		memset(lo, '0', 64);
		memset(hi, 'f', 64);
		memcpy(lo, q->id_prefix, plen);
		memcpy(hi, q->id_prefix, plen);
		lo[64] = hi[64] = '\0';
	}
	sql = page_sql(q);
	db = spool_db_acquire(sp);
	src = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (src == SQLITE_OK)
		src = bind_text(st, ":state", q->state >= 0 ? spool_state_name(q->state) : NULL);
	if (src == SQLITE_OK)
		src = bind_text(st, ":outcome",
				q->outcome >= 0 ? spool_outcome_name(q->outcome) : NULL);
	if (src == SQLITE_OK)
		src = bind_text(st, ":name", q->name);
	if (src == SQLITE_OK && q->id_prefix != NULL &&
	    (src = bind_text(st, ":id_lo", lo)) == SQLITE_OK)
		src = bind_text(st, ":id_hi", hi);
	if (src == SQLITE_OK && q->after != NULL &&
	    (src = bind_i64(st, ":after_ms", after_ms)) == SQLITE_OK)
		src = bind_text(st, ":after_id", after_id);
	if (src == SQLITE_OK && (src = bind_i64(st, ":limit", (int64_t)q->limit)) == SQLITE_OK)
		src = bind_i64(st, ":offset", (int64_t)q->offset);
	while (src == SQLITE_OK || src == SQLITE_ROW) {
		if ((src = sqlite3_step(st)) != SQLITE_ROW)
			break;
		*jobsp = xgrow_by_one(*jobsp, *np, sizeof(**jobsp));
		spool_db_job_read(st, &(*jobsp)[(*np)++]);
	}
	if (src != SQLITE_DONE) {
		rc = err_set(errp, (src & 0xff) == SQLITE_BUSY ? FS_EBUSY : FS_EIO,
			     "spool: list: %s", sqlite3_errmsg(db));
		spool_job_list_free(*jobsp, *np);
		*jobsp = NULL;
		*np = 0;
	}
	sqlite3_finalize(st);
	spool_db_release(sp);
	free(sql);
	return rc;
}
