/* SPDX-License-Identifier: Apache-2.0 */
/* Batched check-not-exists + lock claims (claimbatch.h) over the leader/follower batcher
 * (batcher.h). */
#include "claimbatch.h"

#include <stdlib.h>
#include <string.h>

#include "batcher.h"
#include "consul.h"
#include "err.h"
#include "xalloc.h"

/* One claim; lives on the claiming thread's stack. */
struct cb_item {
	struct consul *c;
	const char *key, *value, *session;
	int64_t index;
	int invalid;
};

static void cb_settle(struct batcher_item *it, int rc, const char *err)
{
	it->rc = rc;
	free(it->err);
	it->err = err != NULL ? xstrdup(err) : NULL;
}

/* Settles every claim of batch (one Consul client's), one txn per round: on 409 the claims
 * named by the Errors settle FS_EEXIST and the rest go again. */
static int cb_run(void *ctx, struct batcher_item *batch)
{
	struct consul_op ops[2 * CLAIMBATCH_MAX];
	struct batcher_item *items[CLAIMBATCH_MAX], *it;
	struct cb_item *cl[CLAIMBATCH_MAX];
	struct consul_txn_result res;
	char failed[CLAIMBATCH_MAX];
	char *detail;
	size_t n, i, k, left;
	int rc, any;

	(void)ctx;
	n = 0;
	for (it = batch; it != NULL; it = it->next)
		items[n++] = it;
	while (n > 0) {
		memset(ops, 0, sizeof(ops));
		memset(&res, 0, sizeof(res));
		detail = NULL;
		for (i = 0; i < n; i++) {
			cl[i] = items[i]->data;
			ops[2 * i].verb = CONSUL_CHECK_NOT_EXISTS;
			ops[2 * i].key = cl[i]->key;
			ops[2 * i + 1].verb = CONSUL_LOCK;
			ops[2 * i + 1].key = cl[i]->key;
			ops[2 * i + 1].value = cl[i]->value;
			ops[2 * i + 1].session = cl[i]->session;
		}
		rc = consul_txn(cl[0]->c, ops, 2 * n, &res, &detail);
		left = 0;
		if (rc == 0) {
			/* check-not-exists reports nothing, each lock the key as written: one result
			 * per claim, in op order */
			for (i = 0; i < n; i++) {
				if (res.n_kvs == n && res.kvs[i].key != NULL &&
				    strcmp(res.kvs[i].key, cl[i]->key) == 0) {
					cl[i]->index = res.kvs[i].modify_index;
					cb_settle(items[i], 0, NULL);
				} else {
					cb_settle(
						items[i], FS_EINVAL,
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
					cl[op / 2]->invalid = 1;
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
	return 0;
}

/* A txn goes to one Consul client: claims over another wait for a batch of their own. */
static int cb_same(const void *first, const void *data)
{
	return ((const struct cb_item *)first)->c == ((const struct cb_item *)data)->c;
}

static const struct batcher_ops cb_ops = {
	.run = cb_run,
	.same = cb_same,
	.max = CLAIMBATCH_MAX,
};
static struct batcher cb_batcher = BATCHER_INITIALIZER(cb_batcher, &cb_ops, NULL);

int claimbatch_new(struct consul *c, const char *key, const char *value, const char *session,
		   int64_t *indexp, int *invalidp, char **errp)
{
	struct cb_item it;
	int rc;

	memset(&it, 0, sizeof(it));
	it.c = c;
	it.key = key;
	it.value = value;
	it.session = session;
	rc = batcher_submit(&cb_batcher, &it, errp);
	*indexp = it.index;
	*invalidp = it.invalid;
	return rc;
}
