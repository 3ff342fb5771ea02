/* SPDX-License-Identifier: Apache-2.0 */
/* The group committer: one thread, one spool handle, batches of concurrent submissions. */
#include "committer.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "xalloc.h"

/* The largest batch: bounds how long the first submission of a batch waits for the rest. */
#define COMMITTER_MAX_BATCH 256

/* One submission waiting for its batch; lives on the submitting thread's stack. */
struct commit_item {
	const struct spool_submit *sub;
	int rc;
	char *err;
	int done;
	struct commit_item *next;
};

struct committer {
	struct spool *sp;
	size_t max_queued;
	committer_after_fn after;
	void *arg;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t more;  /* items queued, or stopping */
	pthread_cond_t done;  /* a batch finished: waiters look at their item */
	struct commit_item *head, **tail;
	int stopping;
};

/* Runs one batch of n items (a private list, not shared while running). */
static void committer_run_batch(struct committer *c, struct commit_item *batch)
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
	if (queued && c->after != NULL)
		c->after(c->arg);
	free(err);
}

static void *committer_main(void *arg)
{
	struct committer *c = arg;
	struct commit_item *batch, *it, **cut;
	int n;

	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (c->head == NULL && !c->stopping)
			pthread_cond_wait(&c->more, &c->mu);
		if (c->head == NULL)
			break; /* stopping, and nothing left */
		/* take up to COMMITTER_MAX_BATCH items; the rest wait for the next round */
		batch = c->head;
		cut = &c->head;
		for (n = 0; *cut != NULL && n < COMMITTER_MAX_BATCH; n++)
			cut = &(*cut)->next;
		c->head = *cut;
		*cut = NULL;
		if (c->head == NULL)
			c->tail = &c->head;
		pthread_mutex_unlock(&c->mu);

		committer_run_batch(c, batch);

		pthread_mutex_lock(&c->mu);
		for (it = batch; it != NULL; it = it->next)
			it->done = 1;
		pthread_cond_broadcast(&c->done);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

int committer_start(struct committer **cp, struct spool *sp, size_t max_queued,
		    committer_after_fn after, void *arg, char **errp)
{
	struct committer *c = xcalloc(1, sizeof(*c));
	int e;

	*cp = NULL;
	c->sp = sp;
	c->max_queued = max_queued;
	c->after = after;
	c->arg = arg;
	c->tail = &c->head;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->more, NULL);
	pthread_cond_init(&c->done, NULL);
	if ((e = pthread_create(&c->thread, NULL, committer_main, c)) != 0) {
		pthread_cond_destroy(&c->done);
		pthread_cond_destroy(&c->more);
		pthread_mutex_destroy(&c->mu);
		free(c);
		return err_set(errp, FS_EIO, "committer: cannot start its thread: %s", strerror(e));
	}
	*cp = c;
	return 0;
}

int committer_submit(struct committer *c, const struct spool_submit *sub, char **errp)
{
	struct commit_item it;

	memset(&it, 0, sizeof(it));
	it.sub = sub;
	pthread_mutex_lock(&c->mu);
	*c->tail = &it;
	c->tail = &it.next;
	pthread_cond_signal(&c->more);
	while (!it.done)
		pthread_cond_wait(&c->done, &c->mu);
	pthread_mutex_unlock(&c->mu);
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
	pthread_mutex_lock(&c->mu);
	c->stopping = 1;
	pthread_cond_signal(&c->more);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	spool_close(c->sp);
	pthread_cond_destroy(&c->done);
	pthread_cond_destroy(&c->more);
	pthread_mutex_destroy(&c->mu);
	free(c);
}
