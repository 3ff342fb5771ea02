/* SPDX-License-Identifier: Apache-2.0 */
/* Group commit for /submit: request threads queue their enqueue (batcher.h); the first of them
 * to find no batch running leads: it runs every enqueue waiting at that moment in one spool
 * transaction (spool_begin, spool_enqueue x n, spool_commit), wakes each thread of the batch only
 * after that commit, and hands the lead to the next waiting thread. One fsync then serves a whole
 * batch, and no thread of its own sits between the request and its commit (two context switches
 * per batch fewer). A refused enqueue (FS_EEXIST, FS_EFULL, FS_ESTATE) affects only itself,
 * because spool_enqueue runs each call of a batch as a savepoint. */
#ifndef FS_COMMITTER_H
#define FS_COMMITTER_H

#include <stddef.h>

#include "spool.h"

struct committer;

/* Called by a leading request thread (without the committer's lock) after batches that queued
 * at least one job committed. */
typedef void (*committer_after_fn)(void *arg);

struct checkpointer;

/* Sets up the committer. It takes over sp (its own spool handle, so that readers on other
 * handles never wait behind its fsync) and closes it in committer_stop. When sp was opened with
 * SPOOL_CHECKPOINT_APART, ckpt (not owned, outliving c) is told the WAL's size after each
 * commit; otherwise ckpt is NULL and SQLite checkpoints inside commits. max_queued is the
 * --max-jobs bound passed to spool_enqueue. after may be NULL. Returns 0 (errp is kept for
 * callers written against a committer that could fail to start). */
int committer_start(struct committer **cp, struct spool *sp, struct checkpointer *ckpt,
		    size_t max_queued, committer_after_fn after, void *arg, char **errp);

/* Queues sub (its strings must stay valid until the call returns) through the next batch and
 * waits until that batch is durable or failed. Returns spool_enqueue's result for it (0,
 * FS_EEXIST, FS_EFULL, FS_ESTATE, ...) or the batch's begin/commit failure; on failure *errp
 * is set (the caller frees). Safe from any number of threads. */
int committer_submit(struct committer *c, const struct spool_submit *sub, char **errp);

/* Closes the spool handle and frees c. No committer_submit may run concurrently or later.
 * NULL is allowed. */
void committer_stop(struct committer *c);

#endif
