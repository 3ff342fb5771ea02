/* SPDX-License-Identifier: Apache-2.0 */
/* Leader/follower batching (batcher.h): the queue, the cut of one batch, and the hand-over of
 * the lead. */
#include "batcher.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>

void batcher_init(struct batcher *b, const struct batcher_ops *ops, void *ctx)
{
	pthread_mutex_init(&b->mu, NULL);
	b->ops = ops;
	b->ctx = ctx;
	b->head = NULL;
	b->tail = &b->head;
	b->leading = 0;
}

void batcher_destroy(struct batcher *b)
{
	pthread_mutex_destroy(&b->mu);
}

/* Moves up to ops->max queued items that may share a batch with the head out of the queue, in
 * queue order; returns them as a list. Called with mu held and the queue not empty. */
static struct batcher_item *batcher_cut(struct batcher *b)
{
	const struct batcher_ops *ops = b->ops;
	struct batcher_item *first = b->head, *batch = NULL, **bt = &batch, **pp, *it;
	size_t n = 0;

	for (pp = &b->head; *pp != NULL && n < ops->max;) {
		it = *pp;
		if (ops->same != NULL && !ops->same(first->data, it->data)) {
			pp = &it->next;
			continue;
		}
		*pp = it->next;
		if (*pp == NULL) /* it was the last: the link before it ends the queue now */
			b->tail = pp;
		it->next = NULL;
		*bt = it;
		bt = &it->next;
		n++;
	}
	return batch;
}

/* Leads batches until own is done (own is in the first batch unless more than ops->max, or
 * others of its kind, wait before it), then passes the lead to the head of the queue, if any.
 * Called and returns with mu held. */
static void batcher_lead(struct batcher *b, struct batcher_item *own)
{
	const struct batcher_ops *ops = b->ops;
	struct batcher_item *batch, *it, *next;
	int results = 0;

	b->leading = 1;
	while (!own->done) {
		if (ops->yield_alone && b->head == own && own->next == NULL) {
			pthread_mutex_unlock(&b->mu);
			sched_yield();
			pthread_mutex_lock(&b->mu);
		}
		batch = batcher_cut(b);
		pthread_mutex_unlock(&b->mu);

		results |= ops->run(b->ctx, batch);

		pthread_mutex_lock(&b->mu);
		for (it = batch; it != NULL; it = next) {
			next = it->next; /* it may be gone once woken and mu is released */
			it->done = 1;
			if (it != own)
				pthread_cond_signal(&it->wake);
		}
	}
	b->leading = 0;
	if (b->head != NULL)
		pthread_cond_signal(&b->head->wake);
	if (results != 0 && ops->after != NULL) {
		pthread_mutex_unlock(&b->mu);
		ops->after(b->ctx);
		pthread_mutex_lock(&b->mu);
	}
}

int batcher_submit(struct batcher *b, void *data, char **errp)
{
	struct batcher_item it;

	memset(&it, 0, sizeof(it));
	it.data = data;
	pthread_cond_init(&it.wake, NULL);
	pthread_mutex_lock(&b->mu);
	*b->tail = &it;
	b->tail = &it.next;
	/* Follow while another thread leads: it takes this item into one of its batches. Woken
	 * undone, this item heads the queue and the lead is free (or taken again meanwhile). */
	while (!it.done && b->leading)
		pthread_cond_wait(&it.wake, &b->mu);
	if (!it.done)
		batcher_lead(b, &it);
	pthread_mutex_unlock(&b->mu);
	pthread_cond_destroy(&it.wake);
	if (it.rc != 0 && errp != NULL) {
		free(*errp);
		*errp = it.err;
	} else {
		free(it.err);
	}
	return it.rc;
}
