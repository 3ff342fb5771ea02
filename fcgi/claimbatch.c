/* SPDX-License-Identifier: Apache-2.0 */
/* Batched check-not-exists + lock claims (claimbatch.h). Leader/follower as in committer.c: each
 * waiting claim lives on its thread's stack with its own condition variable; the first thread to
 * find no batch running leads until its own claim is settled, then hands the lead on. */
#include "claimbatch.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "consul.h"
#include "err.h"
#include "xalloc.h"

struct cb_item {
	struct consul *c;
	const char *key, *value, *session;
	int rc;
	int64_t index;
	int invalid;
	char *err;
	int done;
	pthread_cond_t wake; /* done, or the lead is free and this item heads the queue */
	struct cb_item *next;
};

static pthread_mutex_t cb_mu = PTHREAD_MUTEX_INITIALIZER;
static struct cb_item *cb_head, **cb_tail = &cb_head; /* waiting, under cb_mu */
static int cb_leading;                                /* under cb_mu */

static void cb_settle(struct cb_item *it, int rc, const char *err)
{
	it->rc = rc;
	free(it->err);
	it->err = err != NULL ? xstrdup(err) : NULL;
}

/* Settles every claim of batch (a private list), one txn per round: on 409 the claims named by
 * the Errors settle FS_EEXIST and the rest go again. */
static void cb_run(struct cb_item *batch)
{
	struct consul_op ops[2 * CLAIMBATCH_MAX];
	struct cb_item *items[CLAIMBATCH_MAX], *it;
	struct consul_txn_result res;
	char failed[CLAIMBATCH_MAX];
	char *detail;
	size_t n, i, k, left;
	int rc, any;

	n = 0;
	for (it = batch; it != NULL; it = it->next)
		items[n++] = it;
	while (n > 0) {
		memset(ops, 0, sizeof(ops));
		memset(&res, 0, sizeof(res));
		detail = NULL;
		for (i = 0; i < n; i++) {
			ops[2 * i].verb = CONSUL_CHECK_NOT_EXISTS;
			ops[2 * i].key = items[i]->key;
			ops[2 * i + 1].verb = CONSUL_LOCK;
			ops[2 * i + 1].key = items[i]->key;
			ops[2 * i + 1].value = items[i]->value;
			ops[2 * i + 1].session = items[i]->session;
		}
		rc = consul_txn(items[0]->c, ops, 2 * n, &res, &detail);
		left = 0;
		if (rc == 0) {
			/* check-not-exists reports nothing, each lock the key as written: one result
			 * per claim, in op order */
			for (i = 0; i < n; i++) {
				if (res.n_kvs == n && res.kvs[i].key != NULL &&
				    strcmp(res.kvs[i].key, items[i]->key) == 0) {
					items[i]->index = res.kvs[i].modify_index;
					cb_settle(items[i], 0, NULL);
				} else {
					cb_settle(items[i], FS_EINVAL,
						  "Consul answered the txn without one result per lock");
				}
			}
		} else if (rc == FS_EEXIST) {
			memset(failed, 0, sizeof(failed));
			any = 0;
			for (k = 0; k < res.n_errors; k++) {
				int op = res.errors[k].op_index;

				if (op < 0 || (size_t)op >= 2 * n)
					continue;
				failed[op / 2] = 1;
				any = 1;
				if (res.errors[k].what != NULL &&
				    strncmp(res.errors[k].what, "invalid session", 15) == 0)
					items[op / 2]->invalid = 1;
			}
			if (!any) /* Errors name no op of ours: settle all rather than loop */
				memset(failed, 1, sizeof(failed));
			for (i = 0; i < n; i++) {
				if (failed[i])
					cb_settle(items[i], FS_EEXIST, detail);
				else
					items[left++] = items[i];
			}
		} else {
			for (i = 0; i < n; i++)
				cb_settle(items[i], rc, detail);
		}
		consul_txn_result_clear(&res);
		free(detail);
		n = left;
	}
}

/* Leads batches until own is done; called and returns with cb_mu held. */
static void cb_lead(struct cb_item *own)
{
	struct cb_item *batch, **bt, **pp, *it, *next;
	struct consul *c;
	int n;

	cb_leading = 1;
	while (!own->done) {
		/* up to CLAIMBATCH_MAX queued claims over the head's client, in queue order */
		c = cb_head->c;
		batch = NULL;
		bt = &batch;
		n = 0;
		for (pp = &cb_head; *pp != NULL && n < CLAIMBATCH_MAX;) {
			it = *pp;
			if (it->c != c) {
				pp = &it->next;
				continue;
			}
			*pp = it->next;
			it->next = NULL;
			*bt = it;
			bt = &it->next;
			n++;
		}
		cb_tail = &cb_head;
		while (*cb_tail != NULL)
			cb_tail = &(*cb_tail)->next;
		pthread_mutex_unlock(&cb_mu);

		cb_run(batch);

		pthread_mutex_lock(&cb_mu);
		for (it = batch; it != NULL; it = next) {
			next = it->next; /* it may be gone once woken and cb_mu is released */
			it->done = 1;
			if (it != own)
				pthread_cond_signal(&it->wake);
		}
	}
	cb_leading = 0;
	if (cb_head != NULL)
		pthread_cond_signal(&cb_head->wake);
}

int claimbatch_new(struct consul *c, const char *key, const char *value, const char *session,
		   int64_t *indexp, int *invalidp, char **errp)
{
	struct cb_item it;

	memset(&it, 0, sizeof(it));
	it.c = c;
	it.key = key;
	it.value = value;
	it.session = session;
	pthread_cond_init(&it.wake, NULL);
	pthread_mutex_lock(&cb_mu);
	*cb_tail = &it;
	cb_tail = &it.next;
	while (!it.done && cb_leading)
		pthread_cond_wait(&it.wake, &cb_mu);
	if (!it.done)
		cb_lead(&it);
	pthread_mutex_unlock(&cb_mu);
	pthread_cond_destroy(&it.wake);
	*indexp = it.index;
	*invalidp = it.invalid;
	if (it.rc != 0 && errp != NULL) {
		free(*errp);
		*errp = it.err;
	} else {
		free(it.err);
	}
	return it.rc;
}
