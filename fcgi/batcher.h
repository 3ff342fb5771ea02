/* SPDX-License-Identifier: Apache-2.0 */
/* Leader/follower batching for the request threads of the responder: each call queues an item
 * and waits; the first caller to find no batch running leads: it takes what is queued, runs it
 * as one batch without the lock, wakes the threads of that batch only, and goes on until its
 * own item is settled, then hands the lead to the head of the queue. No thread of its own sits
 * between a request and its batch. The group committer (committer.h) and the batched Consul
 * claims (claimbatch.h) are the two users. */
#ifndef FS_BATCHER_H
#define FS_BATCHER_H

#include <pthread.h>
#include <stddef.h>

/* One queued call; lives on the calling thread's stack for the length of batcher_submit. Its
 * own condition variable, so that finishing a batch wakes that batch's threads only, and
 * handing over the lead wakes exactly one thread. */
struct batcher_item {
	void *data; /* the caller's, handed to run */
	int rc;     /* set by run: 0 or a negative FS_E* code */
	char *err;  /* set by run: NULL or a message (a new string) */
	/* the batcher's */
	int done;
	pthread_cond_t wake; /* done, or the lead is free and this item heads the queue */
	struct batcher_item *next;
};

struct batcher_ops {
	/* Settles every item of batch (a private list linked by next, in queue order): sets its
	 * rc and err. Runs without the batcher's lock. Its results are or'ed over the batches of
	 * one leader. */
	int (*run)(void *ctx, struct batcher_item *batch);
	/* Whether data may share a batch with first, the head of the queue; NULL: always. Items
	 * left out stay queued in their order for a later batch. */
	int (*same)(const void *first, const void *data);
	/* NULL, or called by a leader without the lock once it has handed the lead on, when the
	 * or'ed results of its batches are non-zero (the next leader need not wait for it). */
	void (*after)(void *ctx);
	size_t max; /* items per batch: bounds how long the first of a batch waits for the rest */
	/* A leader alone in the queue yields once before taking its batch, so that threads just
	 * made runnable (woken together, say, by another batch) join it rather than the next. */
	int yield_alone;
};

/* The queue, under mu. Set up by batcher_init or, for a static one, BATCHER_INITIALIZER. */
struct batcher {
	pthread_mutex_t mu;
	const struct batcher_ops *ops; /* not owned; outlives the batcher */
	void *ctx;                     /* handed to run and after */
	struct batcher_item *head, **tail;
	int leading; /* a thread is running a batch */
};

#define BATCHER_INITIALIZER(self, opsp, ctxp)                                    \
	{                                                                        \
		PTHREAD_MUTEX_INITIALIZER, (opsp), (ctxp), NULL, &(self).head, 0 \
	}

void batcher_init(struct batcher *b, const struct batcher_ops *ops, void *ctx);

/* Queues data and returns once ops->run has settled it, leading batches (in this thread) while
 * no other thread does. Returns the rc run set; when it is not 0 and errp is not NULL, *errp
 * (freed first) takes run's message, which the caller frees. Safe from any number of threads. */
int batcher_submit(struct batcher *b, void *data, char **errp);

/* No batcher_submit may run concurrently or later. */
void batcher_destroy(struct batcher *b);

#endif
