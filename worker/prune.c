/* SPDX-License-Identifier: Apache-2.0 */
/* The worker's retention rounds (prune.h). */
#include "prune.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "rundir.h"
#include "spoolprune.h"
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

void prune_round(struct pruner *p)
{
	char **ids = NULL, *err = NULL;
	int64_t now = clock_mono_ms();
	size_t n = 0, i;

	if (now < p->next_ms)
		return;
	if (spoolprune_batch(p->sp, clock_real_ms() - p->retain_ms, p->keep_done, PRUNE_BATCH, &ids,
			     &n, &err) != 0) {
		log_warn("%s", err);
		free(err);
		p->next_ms = now + p->every_ms;
		return;
	}
	for (i = 0; i < n; i++)
		prune_files(p, ids[i]);
	if (n > 0)
		log_info("prune: %zu finished job(s) removed", n);
	p->next_ms = n == PRUNE_BATCH ? now : now + p->every_ms;
	spoolprune_ids_free(ids, n);
}
