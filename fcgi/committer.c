/* SPDX-License-Identifier: Apache-2.0 */
/* The group committer: one spool handle, batches of concurrent submissions, committed by the
 * first submitting thread of each batch (the leader) rather than by a thread of its own. */
#include "committer.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "checkpointer.h"
#include "xalloc.h"

/* The largest batch: bounds how long the first submission of a batch waits for the rest. */
#define COMMITTER_MAX_BATCH 256

/* One submission waiting for its batch; lives on the submitting thread's stack. Its own
 * condition variable, so that finishing a batch wakes that batch's threads only, and handing
 * over the lead wakes exactly one thread (a shared broadcast woke every waiter). */
struct commit_item {
	const struct spool_submit *sub;
	int rc;
	char *err;
	int done;
	pthread_cond_t wake; /* done, or the lead is free and this item heads the queue */
	struct commit_item *next;
};

struct committer {
	struct spool *sp;
	struct checkpointer *ckpt; /* not owned; may be NULL */
	size_t max_queued;
	committer_after_fn after;
	void *arg;
	pthread_mutex_t mu;
	struct commit_item *head, **tail; /* waiting for a batch, under mu */
	int leading;                      /* a thread is running a batch, under mu */
};

/* Runs one batch (a private list, not shared while running); returns 1 if a job was queued. */
static int committer_run_batch(struct committer *c, struct commit_item *batch)
{
	struct commit_item *it;
	char *err = NULL;
	int rc, queued = 0;

	rc = spool_begin(c->sp, &err);
	for (it = batch; it != NULL; it = it->next) {
		if (rc != 0) {
			it->rc = rc;
			it->err = xstrdup(err);
			continue;
		}
		it->rc = spool_enqueue(c->sp, it->sub, c->max_queued, &it->err);
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

/* Leads batches until own is done: takes what is queued (own is in the first batch unless more
 * than COMMITTER_MAX_BATCH wait before it), commits it without mu, wakes its threads. Then
 * passes the lead to the head of the queue, if any. Called and returns with mu held. */
static void committer_lead(struct committer *c, struct commit_item *own)
{
	struct commit_item *batch, *it, *next, **cut;
	int n, queued = 0;

	c->leading = 1;
	while (!own->done) {
		if (c->head == own && own->next == NULL) {
			/* alone: let threads that are runnable (woken together, say, by a claim
			 * batch) join this batch rather than wait for the next */
			pthread_mutex_unlock(&c->mu);
			sched_yield();
			pthread_mutex_lock(&c->mu);
		}
		batch = c->head;
		cut = &c->head;
		for (n = 0; *cut != NULL && n < COMMITTER_MAX_BATCH; n++)
			cut = &(*cut)->next;
		c->head = *cut;
		*cut = NULL;
		if (c->head == NULL)
			c->tail = &c->head;
		pthread_mutex_unlock(&c->mu);

		queued |= committer_run_batch(c, batch);

		pthread_mutex_lock(&c->mu);
		for (it = batch; it != NULL; it = next) {
			next = it->next; /* it may be gone once woken and mu is released */
			it->done = 1;
			if (it != own)
				pthread_cond_signal(&it->wake);
		}
	}
	c->leading = 0;
	if (c->head != NULL)
		pthread_cond_signal(&c->head->wake);
	if (queued && c->after != NULL) {
		/* after mu: the next leader need not wait for the wake-up datagram */
		pthread_mutex_unlock(&c->mu);
		c->after(c->arg);
		pthread_mutex_lock(&c->mu);
	}
}

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
	c->tail = &c->head;
	pthread_mutex_init(&c->mu, NULL);
	*cp = c;
	return 0;
}

int committer_submit(struct committer *c, const struct spool_submit *sub, char **errp)
{
	struct commit_item it;

	memset(&it, 0, sizeof(it));
	it.sub = sub;
	pthread_cond_init(&it.wake, NULL);
	pthread_mutex_lock(&c->mu);
	*c->tail = &it;
	c->tail = &it.next;
	/* Follow while another thread leads: it takes this item into its next batch. Woken
	 * undone, this item heads the queue and the lead is free (or taken again meanwhile). */
	while (!it.done && c->leading)
		pthread_cond_wait(&it.wake, &c->mu);
	if (!it.done)
		committer_lead(c, &it);
	pthread_mutex_unlock(&c->mu);
	pthread_cond_destroy(&it.wake);
	if (it.rc != 0 && errp != NULL) {
		free(*errp);
		*errp = it.err;
	} else {
		free(it.err);
	}
	return it.rc;
}

void committer_stop(struct committer *c)
{
	if (c == NULL)
		return;
	spool_close(c->sp);
	pthread_mutex_destroy(&c->mu);
	free(c);
}
