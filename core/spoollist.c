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

/* The finished jobs (nearly all of a spool's rows) come from partial indexes on DONE rows, one per
 * filter, each ending in the submission time: a filter's rows come in page order but for ties of
 * one millisecond, which SQLite sorts by id as it goes, and a cursor is a range on the same index.
 * A job enters them when it finishes, so /submit, which inserts a QUEUED row, writes none of
 * them, nor does the claim. The unfinished jobs (at most --max-jobs queued and --max-workers
 * working) come from one more, in the same order, which /submit appends to; their filters are
 * checked row by row. The id is not in the keys: it is 64 bytes. The full indexes of earlier
 * builds of this schema are dropped. */
const char spoollist_indexes_sql[] =
	"DROP INDEX IF EXISTS jobs_by_submitted;"
	"DROP INDEX IF EXISTS jobs_state_by_submitted;"
	"DROP INDEX IF EXISTS jobs_outcome_by_submitted;"
	"DROP INDEX IF EXISTS jobs_name_by_submitted;"
	"CREATE INDEX IF NOT EXISTS jobs_done_by_submitted ON jobs(created_ms) WHERE state = 'DONE';"
	"CREATE INDEX IF NOT EXISTS jobs_done_outcome ON jobs(outcome, created_ms)"
	" WHERE state = 'DONE';"
	"CREATE INDEX IF NOT EXISTS jobs_done_name ON jobs(job_name, created_ms)"
	" WHERE state = 'DONE';"
	"CREATE INDEX IF NOT EXISTS jobs_active_by_submitted ON jobs(created_ms)"
	" WHERE state <> 'DONE';";

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

/* A page's bound keys: the id prefix's range and the cursor's parts. */
struct page_keys {
	char lo[65], hi[65], after_id[65];
	int64_t after_ms;
};

/* The filters of q as " AND ..." terms (named parameters), for either part of page_sql. */
static char *page_filters(const struct spoollist_query *q)
{
	return xasprintf("%s%s%s%s", q->outcome >= 0 ? " AND outcome = :outcome" : "",
			 q->name != NULL ? " AND job_name = :name" : "",
			 q->id_prefix != NULL ? " AND id BETWEEN :id_lo AND :id_hi" : "",
			 q->after != NULL ? " AND (created_ms, id) < (:after_ms, :after_id)" : "");
}

/* The finished jobs' part: SQLite's planner prefers jobs_state_seq (state = 'DONE' matches
 * nearly every row), so the partial index of the filter is named. An id prefix alone is a range
 * of the primary key: "+state" keeps the state term off every index. */
static const char *page_done_where(const struct spoollist_query *q)
{
	if (q->name != NULL)
		return "INDEXED BY jobs_done_name WHERE state = 'DONE'";
	if (q->outcome >= 0)
		return "INDEXED BY jobs_done_outcome WHERE state = 'DONE'";
	if (q->id_prefix != NULL)
		return "WHERE +state = 'DONE'";
	return "INDEXED BY jobs_done_by_submitted WHERE state = 'DONE'";
}

/* The unfinished jobs' part, on their one index ("state <> 'DONE'" makes it usable). */
static const char *page_active_where(const struct spoollist_query *q)
{
	return q->state >= 0 ? "INDEXED BY jobs_active_by_submitted"
			       " WHERE state <> 'DONE' AND state = :state"
			     : "INDEXED BY jobs_active_by_submitted WHERE state <> 'DONE'";
}

/* The SELECT of one part of q's page (named parameters for whichever filters it has): the
 * finished jobs (done) or the others, newest first, at most :lim (limit + offset). A new string. */
static char *page_sql(const struct spoollist_query *q, int done)
{
	char *filters = page_filters(q), *sql;

	sql = xasprintf("SELECT %s FROM jobs %s%s ORDER BY created_ms DESC, id DESC LIMIT :lim",
			spool_db_job_cols(), done ? page_done_where(q) : page_active_where(q),
			filters);
	free(filters);
	return sql;
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

/* Prepares one part of q's page into *stp and binds what it uses. An SQLite code. */
static int page_prepare(sqlite3 *db, const struct spoollist_query *q, int done,
			const struct page_keys *k, sqlite3_stmt **stp)
{
	char *sql = page_sql(q, done);
	sqlite3_stmt *st = NULL;
	int src;

	src = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (src == SQLITE_OK)
		src = bind_text(st, ":state", q->state >= 0 ? spool_state_name(q->state) : NULL);
	if (src == SQLITE_OK)
		src = bind_text(st, ":outcome",
				q->outcome >= 0 ? spool_outcome_name(q->outcome) : NULL);
	if (src == SQLITE_OK)
		src = bind_text(st, ":name", q->name);
	if (src == SQLITE_OK && q->id_prefix != NULL &&
	    (src = bind_text(st, ":id_lo", k->lo)) == SQLITE_OK)
		src = bind_text(st, ":id_hi", k->hi);
	if (src == SQLITE_OK && q->after != NULL &&
	    (src = bind_i64(st, ":after_ms", k->after_ms)) == SQLITE_OK)
		src = bind_text(st, ":after_id", k->after_id);
	if (src == SQLITE_OK)
		src = bind_i64(st, ":lim", (int64_t)(q->limit + q->offset));
	free(sql);
	*stp = st;
	return src;
}

#define PAGE_OK(src) ((src) == SQLITE_OK || (src) == SQLITE_ROW || (src) == SQLITE_DONE)

/* Steps a part: SQLITE_ROW or SQLITE_DONE (then *stp is finalized and NULL), else an error. */
static int page_step(sqlite3_stmt **stp)
{
	int src = sqlite3_step(*stp);

	if (src == SQLITE_DONE) {
		sqlite3_finalize(*stp);
		*stp = NULL;
	}
	return src;
}

/* Of two parts' current rows, the one that comes first in the page (newest created_ms, then the
 * greater id); either may be NULL (no more rows). */
static sqlite3_stmt *page_first(sqlite3_stmt *a, sqlite3_stmt *b)
{
	int64_t ma, mb;

	if (a == NULL || b == NULL)
		return a != NULL ? a : b;
	ma = sqlite3_column_int64(a, SPOOL_DB_COL_CREATED);
	mb = sqlite3_column_int64(b, SPOOL_DB_COL_CREATED);
	if (ma != mb)
		return ma > mb ? a : b;
	return strcmp((const char *)sqlite3_column_text(a, 0),
		      (const char *)sqlite3_column_text(b, 0)) > 0
		       ? a
		       : b;
}

int spoollist_page(struct spool *sp, const struct spoollist_query *q, struct spool_job **jobsp,
		   size_t *np, char **errp)
{
	struct page_keys k;
	sqlite3_stmt *part[2] = { NULL, NULL }, *st;
	sqlite3 *db;
	size_t plen = q->id_prefix != NULL ? strlen(q->id_prefix) : 0, skipped = 0, i;
	int rc = 0, src = SQLITE_OK;

	*jobsp = NULL;
	*np = 0;
	if (q->after != NULL && cursor_parse(q->after, &k.after_ms, k.after_id) != 0)
		return err_set(errp, FS_EINVAL, "spool: list: malformed cursor");
	if (q->id_prefix != NULL) {
		if (plen == 0 || plen > 64 || !is_hex(q->id_prefix, plen))
			return err_set(errp, FS_EINVAL, "spool: list: malformed id prefix");
		memset(k.lo, '0', 64);
		memset(k.hi, 'f', 64);
		memcpy(k.lo, q->id_prefix, plen);
		memcpy(k.hi, q->id_prefix, plen);
		k.lo[64] = k.hi[64] = '\0';
	}
	db = spool_db_acquire(sp);
	/* the parts the state filter allows, each already in page order: merged as they come */
	for (i = 0; i < 2 && PAGE_OK(src); i++)
		if ((i == 0 ? q->state < 0 || q->state == SPOOL_DONE : q->state != SPOOL_DONE) &&
		    (src = page_prepare(db, q, i == 0, &k, &part[i])) == SQLITE_OK)
			src = page_step(&part[i]);
	while (PAGE_OK(src) && *np < q->limit && (st = page_first(part[0], part[1])) != NULL) {
		if (skipped < q->offset) {
			skipped++;
		} else {
			*jobsp = xgrow_by_one(*jobsp, *np, sizeof(**jobsp));
			spool_db_job_read(st, &(*jobsp)[(*np)++]);
		}
		src = page_step(st == part[0] ? &part[0] : &part[1]);
	}
	if (!PAGE_OK(src)) {
		rc = err_set(errp, (src & 0xff) == SQLITE_BUSY ? FS_EBUSY : FS_EIO,
			     "spool: list: %s", sqlite3_errmsg(db));
		spool_job_list_free(*jobsp, *np);
		*jobsp = NULL;
		*np = 0;
	}
	sqlite3_finalize(part[0]);
	sqlite3_finalize(part[1]);
	spool_db_release(sp);
	return rc;
}
