/* SPDX-License-Identifier: Apache-2.0 */
/* A job's run history for /runs: its transitions, the newest ones only, so that an answer stays
 * small however often the job was submitted again. */
#ifndef FS_SPOOLRUNS_H
#define FS_SPOOLRUNS_H

#include <stddef.h>

struct spool;
struct spool_transition;

#define SPOOLRUNS_MAX 1000 /* the most transitions /runs answers */

/* The last max (>= 1) transitions of job id, oldest first, over all its submissions; a QUEUED
 * job's entry comes from its row until it leaves QUEUED (as spool_transitions shows it). *trsp
 * is an array of *np (NULL when 0) the caller frees with spool_transition_list_free. An unknown
 * id has 0 entries. 0 or a negative FS_E* code with *errp set. */
int spoolruns_list(struct spool *sp, const char *id, size_t max, struct spool_transition **trsp,
		   size_t *np, char **errp);

#endif
