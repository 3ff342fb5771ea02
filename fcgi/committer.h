/* SPDX-License-Identifier: Apache-2.0 */
/* Group commit for /submit (DESIGN.md): request threads hand their enqueue to one committer
 * thread, which runs every enqueue waiting at that moment in one spool transaction
 * (spool_begin, spool_enqueue x n, spool_commit) and answers each only after that commit. One
 * fsync then serves a whole batch; a refused enqueue (FS_EEXIST, FS_EFULL, FS_ESTATE) affects
 * only itself, because spool_enqueue runs each call of a batch as a savepoint. */
#ifndef FS_COMMITTER_H
#define FS_COMMITTER_H

#include <stddef.h>

#include "spool.h"

struct committer;

/* Called by the committer thread after a batch that queued at least one job committed. */
typedef void (*committer_after_fn)(void *arg);

/* Starts the committer thread. It takes over sp (its own spool handle, so that readers on other
 * handles never wait behind its fsync) and closes it in committer_stop. max_queued is the
 * --max-jobs bound passed to spool_enqueue. after may be NULL. Returns 0, or FS_EIO with *errp
 * (the caller frees) when the thread cannot start; sp is then still the caller's. */
int committer_start(struct committer **cp, struct spool *sp, size_t max_queued,
		    committer_after_fn after, void *arg, char **errp);

/* Queues sub (its strings must stay valid until the call returns) through the next batch and
 * waits until that batch is durable or failed. Returns spool_enqueue's result for it (0,
 * FS_EEXIST, FS_EFULL, FS_ESTATE, ...) or the batch's begin/commit failure; on failure *errp
 * is set (the caller frees). Safe from any number of threads. */
int committer_submit(struct committer *c, const struct spool_submit *sub, char **errp);

/* Finishes what is queued, stops the thread, closes the spool handle and frees c. No
 * committer_submit may run concurrently or later. NULL is allowed. */
void committer_stop(struct committer *c);

#endif
