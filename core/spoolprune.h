/* SPDX-License-Identifier: Apache-2.0 */
/* Retention of finished jobs in the spool: which DONE jobs are due for removal, and their
 * removal (row, transitions, delivered outbox entries; the kept factfile bytes go by the
 * schema's trigger with the last job naming them). The files of a removed job are the caller's
 * (worker/prune.h). */
#ifndef FS_SPOOLPRUNE_H
#define FS_SPOOLPRUNE_H

#include <stddef.h>
#include <stdint.h>

struct spool;

/* The most jobs spoolprune_batch removes in one transaction: a longer write would keep claims
 * and submissions waiting on the database lock. */
#define SPOOLPRUNE_MAX_BATCH 500

/* The index the retention queries read, as idempotent SQL (CREATE INDEX IF NOT EXISTS) that
 * spool_open runs once the schema is in place. */
extern const char spoolprune_indexes_sql[];

/* What is due: a DONE job whose last finish (updated_ms) is before before_ms, or that is not
 * among the keep_done most recently finished (keep_done 0: no such bound). A job whose
 * transitions still wait in the outbox for Consul is never due; nor is a QUEUED or WORKING one
 * (a job submitted again after DONE counts from its new finish). With consul (1), nor is a job
 * whose Consul entry is still the node's (spoolprune_consul_due): it is removed once that is.
 * Removes at most max (1..SPOOLPRUNE_MAX_BATCH) due jobs, oldest finish first, in one BEGIN
 * IMMEDIATE transaction. *idsp receives an array of the *np removed ids (NULL when 0), freed by
 * the caller with spoolprune_ids_free. 0 or a negative FS_E* code with *errp set. */
int spoolprune_batch(struct spool *sp, int64_t before_ms, int64_t keep_done, int consul, size_t max,
		     char ***idsp, size_t *np, char **errp);
void spoolprune_ids_free(char **ids, size_t n);

/* Consul retention. The DONE jobs finished before before_ms whose Consul entry node wrote last
 * (the row names node and keeps the entry's ModifyIndex, consul_index > 0) and whose transitions
 * have all been delivered: at most max, oldest finish first. *idsp (spoolprune_ids_free) and
 * *indexesp (free) receive *np ids and their entries' indexes, the fences of their delete-cas. */
int spoolprune_consul_due(struct spool *sp, const char *node, int64_t before_ms, size_t max,
			  char ***idsp, int64_t **indexesp, size_t *np, char **errp);
/* Job id's entry at index is no longer the node's (removed, or someone else's now): its
 * consul_index becomes 0, unless the row has moved on meanwhile (a new claim's index). */
int spoolprune_consul_forgotten(struct spool *sp, const char *id, int64_t index, char **errp);

#endif
