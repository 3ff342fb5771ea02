/* SPDX-License-Identifier: Apache-2.0 */
/* The spool's connection, for the modules that keep their own queries next to spool.c (e.g.
 * spoolprune.c) rather than in its statement table. Not for the programs. */
#ifndef FS_SPOOLDB_H
#define FS_SPOOLDB_H

#include <sqlite3.h>

struct spool;

/* The handle's connection, with its mutex held (other threads of the process wait) until
 * spool_db_release; the pointer is valid until then. Not inside a batch (spool_begin): the
 * caller runs its own BEGIN IMMEDIATE ... COMMIT. */
sqlite3 *spool_db_acquire(struct spool *sp);
void spool_db_release(struct spool *sp);

#endif
