/* SPDX-License-Identifier: Apache-2.0 */
/* The worker's retention rounds (prune.h). */
#include "prune.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "consul.h"
#include "err.h"
#include "jobentry.h"
#include "log.h"
#include "rundir.h"
#include "spoolprune.h"
#include "statesync.h"
#include "xalloc.h"

/* A look costs one short write transaction: often enough that a job is not kept much past its
 * time, rarely enough to cost nothing when there is nothing to do. */
#define PRUNE_EVERY_MIN_MS 1000
#define PRUNE_EVERY_MAX_MS 10000

void prune_init(struct pruner *p, const struct config *cfg, struct spool *sp, const char *runs_dir,
		const char *logs_dir)
{
	memset(p, 0, sizeof(*p));
	p->sp = sp;
	p->runs_dir = runs_dir;
	p->logs_dir = logs_dir;
	p->retain_ms = (int64_t)cfg->retain_done * 1000;
	p->keep_done = cfg->retain_max_done;
	p->every_ms = p->retain_ms / 2;
	if (p->every_ms < PRUNE_EVERY_MIN_MS)
		p->every_ms = PRUNE_EVERY_MIN_MS;
	if (p->every_ms > PRUNE_EVERY_MAX_MS)
		p->every_ms = PRUNE_EVERY_MAX_MS;
	p->next_ms = clock_mono_ms();
	if (cfg->no_consul)
		return;
	p->consul = consul_new(cfg, PRUNE_CONSUL_TIMEOUT_MS);
	p->node = cfg->consul_name;
	p->ns = cfg->consul_namespace;
	p->retain_consul_ms =
		(int64_t)(cfg->retain_consul >= 0 ? cfg->retain_consul : cfg->retain_done) * 1000;
	p->consul_at = p->next_ms;
}

void prune_free(struct pruner *p)
{
	consul_free(p->consul);
	p->consul = NULL;
}

int prune_poll_ms(const struct pruner *p, int timeout_ms)
{
	int64_t left = p->next_ms - clock_mono_ms();

	if (left < 0)
		left = 0;
	return timeout_ms < 0 || left < timeout_ms ? (int)left : timeout_ms;
}

/* The files of removed job id: its log and its run directory. */
static void prune_files(const struct pruner *p, const char *id)
{
	char *path = xasprintf("%s/%s.log", p->logs_dir, id);

	if (unlink(path) != 0 && errno != ENOENT)
		log_warn("prune: %s: %s", path, strerror(errno));
	free(path);
	path = xasprintf("%s/%s", p->runs_dir, id);
	if (rundir_remove(path) != 0)
		log_warn("prune: %s: could not be removed", path);
	free(path);
}

/* Removes up to PRUNE_CONSUL_BATCH of the node's due DONE entries from Consul; 1 when that many
 * were handled (more may be due). */
static int prune_consul(struct pruner *p, int64_t now)
{
	char **ids = NULL, *err = NULL, *key;
	int64_t *idx = NULL;
	size_t n = 0, i = 0, removed = 0;
	int rc;

	if (p->consul == NULL || now < p->consul_at || statesync_denied())
		return 0;
	if (spoolprune_consul_due(p->sp, p->node, clock_real_ms() - p->retain_consul_ms,
				  PRUNE_CONSUL_BATCH, &ids, &idx, &n, &err) != 0) {
		log_warn("%s", err);
		goto out;
	}
	for (i = 0; i < n; i++) {
		struct consul_op op = { CONSUL_DELETE_CAS, NULL, NULL, NULL, idx[i] };

		key = jobentry_key(p->ns, ids[i]);
		op.key = key;
		rc = consul_txn(p->consul, &op, 1, NULL, &err);
		free(key);
		/* FS_EEXIST: the entry moved on since (someone else's now): not ours to remove */
		if (rc != 0 && rc != FS_EEXIST) {
			log_warn("prune: consul: %s", err);
			p->consul_at = now + PRUNE_CONSUL_BACKOFF_MS;
			break;
		}
		removed += rc == 0;
		free(err);
		err = NULL;
		if (spoolprune_consul_forgotten(p->sp, ids[i], idx[i], &err) != 0) {
			log_warn("%s", err);
			break;
		}
	}
	if (removed > 0)
		log_info("prune: %zu Consul entr%s removed", removed, removed == 1 ? "y" : "ies");
out:
	free(err);
	spoolprune_ids_free(ids, n);
	free(idx);
	return n == PRUNE_CONSUL_BATCH && i == n;
}

void prune_round(struct pruner *p)
{
	char **ids = NULL, *err = NULL;
	int64_t now = clock_mono_ms();
	size_t n = 0, i;
	int more;

	if (now < p->next_ms)
		return;
	more = prune_consul(p, now);
	if (spoolprune_batch(p->sp, clock_real_ms() - p->retain_ms, p->keep_done, p->consul != NULL,
			     PRUNE_BATCH, &ids, &n, &err) != 0) {
		log_warn("%s", err);
		free(err);
		p->next_ms = now + p->every_ms;
		return;
	}
	for (i = 0; i < n; i++)
		prune_files(p, ids[i]);
	if (n > 0)
		log_info("prune: %zu finished job(s) removed", n);
	p->next_ms = more || n == PRUNE_BATCH ? now : now + p->every_ms;
	spoolprune_ids_free(ids, n);
}
