/* SPDX-License-Identifier: Apache-2.0 */
/* The spool's connection, for the modules that keep their own queries next to spool.c (e.g.
 * spoolprune.c) rather than in its statement table. Not for the programs. */
#ifndef FS_SPOOLDB_H
#define FS_SPOOLDB_H

#include <sqlite3.h>

struct spool;
struct spool_job;

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

#endif
