/* SPDX-License-Identifier: Apache-2.0 */
/* The group committer: one spool handle, batches of concurrent submissions, committed by the
 * first submitting thread of each batch (the leader) rather than by a thread of its own. */
#include "committer.h"

#include <stdlib.h>

#include "batcher.h"
#include "checkpointer.h"
#include "xalloc.h"

/* The largest batch: bounds how long the first submission of a batch waits for the rest. */
#define COMMITTER_MAX_BATCH 256

struct committer {
	struct spool *sp;
	struct checkpointer *ckpt; /* not owned; may be NULL */
	size_t max_queued;
	committer_after_fn after;
	void *arg;
	struct batcher batcher;
};

/* Runs one batch in one transaction; returns 1 if a job was queued. */
static int committer_run_batch(void *ctx, struct batcher_item *batch)
{
	struct committer *c = ctx;
	struct batcher_item *it;
	char *err = NULL;
	int rc, queued = 0;

	rc = spool_begin(c->sp, &err);
	for (it = batch; it != NULL; it = it->next) {
		if (rc != 0) {
			it->rc = rc;
			it->err = xstrdup(err);
			continue;
		}
		it->rc = spool_enqueue(c->sp, it->data, c->max_queued, &it->err);
	}
	if (rc == 0 && (rc = spool_commit(c->sp, &err)) != 0) {
		spool_rollback(c->sp);
		/* nothing of the batch is stored: each accepted item now fails with the commit */
		for (it = batch; it != NULL; it = it->next) {
			if (it->rc == 0) {
				it->rc = rc;
				it->err = xstrdup(err);
			}
		}
	}
	for (it = batch; it != NULL; it = it->next)
		queued |= it->rc == 0;
	if (rc == 0 && c->ckpt != NULL) {
		int frames = spool_wal_frames(c->sp);

		checkpointer_note(c->ckpt, frames);
		/* failing, it is tried again after the next commit */
		if (frames >= CHECKPOINTER_MAX_FRAMES)
			spool_checkpoint(c->sp, NULL);
	}
	free(err);
	return queued;
}

static void committer_after(void *ctx)
{
	struct committer *c = ctx;

	if (c->after != NULL)
		c->after(c->arg);
}

/* Any submissions share a batch; a lone leader yields so that threads woken together (say, by
 * a claim batch) join its batch rather than wait for the next. */
static const struct batcher_ops committer_ops = {
	.run = committer_run_batch,
	.after = committer_after,
	.max = COMMITTER_MAX_BATCH,
	.yield_alone = 1,
};

int committer_start(struct committer **cp, struct spool *sp, struct checkpointer *ckpt,
		    size_t max_queued, committer_after_fn after, void *arg, char **errp)
{
	struct committer *c = xcalloc(1, sizeof(*c));

	(void)errp; /* nothing can fail since there is no thread to start */
	c->sp = sp;
	c->ckpt = ckpt;
	c->max_queued = max_queued;
	c->after = after;
	c->arg = arg;
	batcher_init(&c->batcher, &committer_ops, c);
	*cp = c;
	return 0;
}

int committer_submit(struct committer *c, const struct spool_submit *sub, char **errp)
{
	/* run only reads it */
	return batcher_submit(&c->batcher, (void *)sub, errp);
}

void committer_stop(struct committer *c)
{
	if (c == NULL)
		return;
	spool_close(c->sp);
	batcher_destroy(&c->batcher);
	free(c);
}
