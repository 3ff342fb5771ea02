/* SPDX-License-Identifier: Apache-2.0 */
/* Pages of the spool's jobs for /jobs: newest submission first (created_ms, then id, both
 * descending), filtered, by offset or after a cursor (keyset: the cost of a page does not grow
 * with its depth). Every filter has an index that serves the order. */
#ifndef FS_SPOOLLIST_H
#define FS_SPOOLLIST_H

#include <stddef.h>
#include <stdint.h>

struct spool;
struct spool_job;

/* Room for a cursor: decimal milliseconds, '-', 64 hex digits, NUL. */
#define SPOOLLIST_CURSOR_LEN 96

struct spoollist_query {
	int state;             /* a spool_state, or SPOOL_STATE_ANY */
	int outcome;           /* a spool_outcome, or -1 for any */
	const char *name;      /* exact job name, or NULL */
	const char *id_prefix; /* 1 to 64 lowercase hex digits, or NULL */
	const char *after;     /* a cursor (spoollist_cursor) or NULL: only jobs after it */
	size_t offset;         /* jobs skipped (after `after`, if any) */
	size_t limit;          /* at most this many, >= 1 */
};

/* The indexes of the filters, as idempotent SQL (CREATE INDEX IF NOT EXISTS) that spool_open
 * runs once the schema is in place. */
extern const char spoollist_indexes_sql[];

/* One page: *jobsp an array of *np jobs (NULL when 0), freed by the caller with
 * spool_job_list_free. FS_EINVAL for a malformed after or id_prefix; 0 or a negative FS_E*
 * code with *errp set. */
int spoollist_page(struct spool *sp, const struct spoollist_query *q, struct spool_job **jobsp,
		   size_t *np, char **errp);

/* The cursor of job (the position just after it in the order) into out: "<created_ms>-<id>".
 * Clients are told it is opaque. */
void spoollist_cursor(const struct spool_job *job, char out[SPOOLLIST_CURSOR_LEN]);

#endif
