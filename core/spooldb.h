/* SPDX-License-Identifier: Apache-2.0 */
/* The spool's connection, for the modules that keep their own queries next to spool.c (e.g.
 * spoolprune.c) rather than in its statement table. Not for the programs. */
#ifndef FS_SPOOLDB_H
#define FS_SPOOLDB_H

#include <sqlite3.h>

struct spool;
struct spool_job;
struct spool_transition;

/* The handle's connection, with its mutex held (other threads of the process wait) until
 * spool_db_release; the pointer is valid until then. Not inside a batch (spool_begin): the
 * caller runs its own BEGIN IMMEDIATE ... COMMIT. */
sqlite3 *spool_db_acquire(struct spool *sp);
void spool_db_release(struct spool *sp);

/* The jobs columns spool_db_job_read reads, in its order, for "SELECT <cols> FROM jobs ...";
 * static storage. */
const char *spool_db_job_cols(void);
/* created_ms's column in them (the id is column 0) */
#define SPOOL_DB_COL_CREATED 8
/* Fills *job (its strings then owned by it: spool_job_free / spool_job_list_free) from the
 * current row of st, whose first columns are spool_db_job_cols(). */
void spool_db_job_read(sqlite3_stmt *st, struct spool_job *job);

/* The transitions columns spool_db_tr_read reads, in its order, for "SELECT <cols> FROM
 * transitions t ..." */
#define SPOOL_DB_TR_COLS                                                             \
	"t.tid, t.job_id, t.at_ms, t.state, t.outcome, t.exit_code, t.exit_signal, " \
	"t.reason, t.node"
/* The job ?1's last stored transition is not its QUEUED one (stored by spool_requeue): a QUEUED
 * job's transition is then read from its row. */
#define SPOOL_DB_TR_NOT_REQUEUED \
	"(SELECT state FROM transitions WHERE job_id = ?1 ORDER BY tid DESC LIMIT 1) IS NOT 'QUEUED'"
/* Fills *tr (its strings then owned by it: spool_transition_list_free) from the current row of
 * st, whose first columns are SPOOL_DB_TR_COLS. */
void spool_db_tr_read(sqlite3_stmt *st, struct spool_transition *tr);

#endif
