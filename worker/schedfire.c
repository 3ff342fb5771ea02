/* SPDX-License-Identifier: Apache-2.0 */
/* The worker's schedule firing (schedfire.h). */
#include "schedfire.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "cron.h"
#include "err.h"
#include "log.h"
#include "schedjob.h"
#include "schedq.h"
#include "spoolsched.h"
#include "tzinfo.h"
#include "xalloc.h"

struct schedfire_entry {
	struct spoolsched def;
	struct cron *cron;       /* NULL: the stored expression no longer parses (never due) */
	const struct tzinfo *tz; /* one of the zones */
};

struct schedfire_zone {
	char *name;
	struct tzinfo *tz;
};

static void entry_clear(struct schedfire_entry *e)
{
	free(e->def.name);
	free(e->def.cron);
	free(e->def.timezone);
	free(e->def.job_name);
	free(e->def.factfile_path);
	free(e->def.factfile_args);
	free(e->def.last_job);
	cron_free(e->cron);
	memset(e, 0, sizeof *e);
}

static void entries_free(struct schedfire *f)
{
	for (size_t i = 0; i < f->n; i++)
		entry_clear(&f->entries[i]);
	free(f->entries);
	f->entries = NULL;
	f->n = 0;
	for (size_t i = 0; i < f->nzones; i++) {
		free(f->zones[i].name);
		tzinfo_free(f->zones[i].tz);
	}
	free(f->zones);
	f->zones = NULL;
	f->nzones = 0;
}

/* The zone named name, loaded once per reading of the definitions: many schedules share a few
 * zones. NULL with *errp when it does not load. */
static const struct tzinfo *zone_get(struct schedfire *f, const char *name, char **errp)
{
	struct tzinfo *tz = NULL;

	for (size_t i = 0; i < f->nzones; i++)
		if (strcmp(f->zones[i].name, name) == 0)
			return f->zones[i].tz;
	if (tzinfo_load(name, &tz, errp) != 0)
		return NULL;
	f->zones = xgrow_by_one(f->zones, f->nzones, sizeof *f->zones);
	f->zones[f->nzones].name = xstrdup(name);
	f->zones[f->nzones++].tz = tz;
	return tz;
}

int schedfire_init(struct schedfire *f, const struct config *cfg, struct spool *sp, char **errp)
{
	memset(f, 0, sizeof *f);
	f->sp = sp;
	f->cfg = cfg;
	/* /submit's validation, as the responder sets it up (fcgi/main.c) */
	f->policy.roots = cfg->factfile_roots;
	f->policy.n_roots = cfg->n_factfile_roots;
	f->policy.rules = strcmp(cfg->factotum_bin, CONFIG_DEFAULT_FACTOTUM_BIN) == 0
				  ? FACTFILE_RULES_OURS
				  : FACTFILE_RULES_FACTOTUM;
	f->policy.trust_template_values = cfg->template_values == CONFIG_TEMPLATE_FACTOTUM;
	f->policy.max_tasks = (size_t)cfg->max_tasks;
	argpolicy_init(&f->argpolicy, cfg);
	f->policy.args = &f->argpolicy;
	f->q = schedq_new(16);
	f->reload = 1;
	f->off = !cfg->no_consul;
	return f->off ? 0 : argpolicy_prepare(&f->argpolicy, errp);
}

void schedfire_free(struct schedfire *f)
{
	entries_free(f);
	schedq_free(f->q);
	f->q = NULL;
}

int schedfire_poll_ms(const struct schedfire *f, int timeout_ms)
{
	int64_t next, wait;

	if (f->off || f->reload || schedq_peek(f->q, NULL, &next) != 0)
		return timeout_ms;
	wait = next * 1000 - clock_real_ms();
	if (wait < 0)
		wait = 0;
	return wait < timeout_ms ? (int)wait : timeout_ms;
}

/* The entry named name, or NULL. */
static struct schedfire_entry *entry_find(struct schedfire *f, const char *name)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->entries[i].def.name, name) == 0)
			return &f->entries[i];
	return NULL;
}

/* Queues e's next slot after its last one (none while paused or unparsable). */
static void entry_queue(struct schedfire *f, struct schedfire_entry *e)
{
	int64_t next;

	schedq_remove(f->q, e->def.name);
	if (e->def.paused || e->cron == NULL)
		return;
	if ((next = cron_next(e->cron, e->tz, e->def.last_slot)) != INT64_MAX)
		schedq_set(f->q, e->def.name, next);
}

/* Reads every definition and rebuilds the queue, when they changed since the last reading (or
 * that reading failed or went stale: f->reload). */
static int schedfire_load(struct schedfire *f)
{
	struct spoolsched *list = NULL;
	char *err = NULL;
	int64_t changes = 0;
	size_t n = 0;

	if (spoolsched_changes(f->sp, &changes, &err) != 0) {
		log_warn("schedules: %s", err);
		free(err);
		return -1;
	}
	if (!f->reload && changes == f->changes)
		return 0;
	if (spoolsched_list(f->sp, &list, &n, &err) != 0) {
		log_warn("schedules: %s", err);
		free(err);
		return -1;
	}
	for (size_t i = 0; i < f->n; i++)
		schedq_remove(f->q, f->entries[i].def.name);
	entries_free(f);
	f->entries = xcalloc(n > 0 ? n : 1, sizeof *f->entries);
	f->n = n;
	for (size_t i = 0; i < n; i++) {
		struct schedfire_entry *e = &f->entries[i];

		e->def = list[i]; /* takes the strings over */
		if (cron_parse(e->def.cron, &e->cron, &err) != 0 ||
		    (e->tz = zone_get(f, e->def.timezone, &err)) == NULL) {
			log_warn("schedule '%s' does not fire: %s", e->def.name, err);
			free(err);
			err = NULL;
			cron_free(e->cron);
			e->cron = NULL;
		}
		entry_queue(f, e);
	}
	free(list); /* the records' strings are the entries' now */
	f->reload = 0;
	f->changes = changes;
	return 0;
}

/* Fires one slot of e; on success e's last slot is slot. FS_ESTATE: e changed in the spool. */
static int fire_one(struct schedfire *f, struct schedfire_entry *e, int64_t slot)
{
	struct schedjob_env env = { .policy = &f->policy,
				    .node = f->cfg->consul_name,
				    .max_queued = (size_t)f->cfg->max_jobs,
				    .max_queued_user = (size_t)f->cfg->max_queued_per_user };
	enum spoolsched_result result;
	char *err = NULL, *job = NULL, text[SCHEDJOB_SLOT_LEN + 1];
	int rc = schedjob_fire(f->sp, &e->def, slot, 1, &env, &result, &job, &err);

	schedjob_slot_text(slot, text);
	if (rc == 0) {
		e->def.last_slot = slot;
		if (result == SPOOLSCHED_FIRED) {
			free(e->def.last_job);
			e->def.last_job = job;
			job = NULL;
		}
		log_info("schedule '%s' slot %s %s", e->def.name, text,
			 spoolsched_result_name(result));
	} else if (rc != FS_ESTATE && rc != FS_ENOENT) {
		log_warn("schedule '%s' slot %s: %s", e->def.name, text, err);
	}
	free(job);
	free(err);
	return rc;
}

/* The slots of e due at now, after its last one: fires them, or applies catchUp when they are
 * late. 0, or nonzero when the definitions must be read again. */
static int fire_due(struct schedfire *f, struct schedfire_entry *e, int64_t first, int64_t now)
{
	int64_t ring[SCHEDFIRE_MISSED_ROWS + SPOOLSCHED_CATCHUP_MAX], total = 0, t, more_last = 0;
	const size_t cap = sizeof ring / sizeof ring[0];
	size_t keep, fire_n, miss_rows, start;
	char *err = NULL;
	int rc;

	/* every due slot is counted; the newest cap are kept */
	for (t = first; t <= now && t != INT64_MAX; t = cron_next(e->cron, e->tz, t))
		ring[total++ % cap] = t;
	if (total == 1 && now - first <= SCHEDFIRE_LATE_S)
		return fire_one(f, e, first);
	fire_n = e->def.catch_up == SPOOLSCHED_CATCHUP_LAST ? 1 : (size_t)e->def.catch_up;
	if ((int64_t)fire_n > total)
		fire_n = (size_t)total;
	keep = total < (int64_t)cap ? (size_t)total : cap;
	miss_rows = keep - fire_n;
	if (miss_rows > SCHEDFIRE_MISSED_ROWS)
		miss_rows = SCHEDFIRE_MISSED_ROWS;
	start = (size_t)((total - (int64_t)fire_n - (int64_t)miss_rows) % (int64_t)cap);
	if (total > (int64_t)(fire_n + miss_rows)) {
		/* the latest slot the summary row stands for: the one before the first kept row,
		 * which the ring may no longer hold */
		more_last = first;
		for (t = first; t < ring[start]; t = cron_next(e->cron, e->tz, t))
			more_last = t;
	}
	if (total > (int64_t)fire_n) {
		int64_t rows[SCHEDFIRE_MISSED_ROWS], new_last;

		for (size_t i = 0; i < miss_rows; i++)
			rows[i] = ring[(start + i) % cap];
		new_last = miss_rows > 0 ? rows[miss_rows - 1] : more_last;
		rc = spoolsched_missed(f->sp, e->def.name, e->def.last_slot, rows, miss_rows,
				       total - (int64_t)(fire_n + miss_rows), more_last, new_last,
				       &err);
		if (rc != 0) {
			if (rc != FS_ESTATE && rc != FS_ENOENT)
				log_warn("schedule '%s': %s", e->def.name, err);
			free(err);
			return rc;
		}
		log_info("schedule '%s': %lld slot(s) missed", e->def.name,
			 (long long)(total - (int64_t)fire_n));
		e->def.last_slot = new_last;
	}
	for (size_t i = 0; i < fire_n; i++)
		if ((rc = fire_one(f, e, ring[(start + miss_rows + i) % cap])) != 0)
			return rc;
	return 0;
}

/* History rows as old as the jobs retention removes go with them. */
static void schedfire_prune(struct schedfire *f)
{
	char *err = NULL;

	if (clock_mono_ms() < f->prune_at)
		return;
	f->prune_at = clock_mono_ms() + SCHEDFIRE_PRUNE_MS;
	if (spoolsched_prune(f->sp, clock_real_ms() - (int64_t)f->cfg->retain_done * 1000, NULL,
			     &err) != 0) {
		log_warn("schedules: %s", err);
		free(err);
	}
}

void schedfire_round(struct schedfire *f, int reread)
{
	struct schedfire_entry *e;
	const char *name;
	int64_t now, slot;

	if (f->off)
		return;
	schedfire_prune(f);

	if ((reread || f->reload) && schedfire_load(f) != 0)
		return;
	now = clock_real_ms() / 1000;
	while (schedq_pop_due(f->q, now, &name, &slot) == 0) {
		if ((e = entry_find(f, name)) == NULL)
			continue;
		if (fire_due(f, e, slot, now) != 0) {
			/* changed in the spool meanwhile, or the spool failed: read it again at the
			 * next round (the slot stays due: its last slot did not move) */
			f->reload = 1;
			return;
		}
		entry_queue(f, e);
	}
}
