/* SPDX-License-Identifier: Apache-2.0 */
/* The spool's side of the worker's Consul reconciliation (doc/consul.md): pages of the jobs whose
 * Consul entries the node should hold, and moving a job's fence after an entry was written
 * again. */
#ifndef FS_SPOOLRECON_H
#define FS_SPOOLRECON_H

#include <stddef.h>
#include <stdint.h>

struct spool;
struct spool_job;

/* Up to max jobs, by id after after_id ("" for the start), that were claimed in Consul
 * (consul_index > 0) and have no transition waiting in the outbox: the QUEUED and WORKING ones
 * when done is 0, else the DONE ones. *jobsp (spool_job_list_free) receives *np records. 0 or a
 * negative FS_E* code with *errp. */
int spoolrecon_page(struct spool *sp, int done, const char *after_id, size_t max,
		    struct spool_job **jobsp, size_t *np, char **errp);

/* Sets job id's fence to index when it is still from (the row has not moved on meanwhile). 0
 * also when it had moved on (nothing changed); a negative FS_E* code with *errp. */
int spoolrecon_index_move(struct spool *sp, const char *id, int64_t from, int64_t index,
			  char **errp);

#endif
