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
	struct consulsched s;
	struct cron *cron;       /* NULL: the stored expression no longer parses (never due) */
	const struct tzinfo *tz; /* one of the zones */
};

struct schedfire_zone {
	char *name;
	struct tzinfo *tz;
};

static void entry_clear(struct schedfire_entry *e)
{
	consulsched_clear(&e->s);
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

static const struct schedfire_store spool_store;

static int init(struct schedfire *f, const struct config *cfg, struct spool *sp,
		const struct schedfire_store *store, void *ctx)
{
	memset(f, 0, sizeof *f);
	f->store = store;
	f->ctx = ctx;
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
	return 0;
}

int schedfire_init(struct schedfire *f, const struct config *cfg, struct spool *sp, char **errp)
{
	init(f, cfg, sp, &spool_store, NULL);
	f->off = !cfg->no_consul;
	return f->off ? 0 : argpolicy_prepare(&f->argpolicy, errp);
}

int schedfire_init_store(struct schedfire *f, const struct config *cfg, struct spool *sp,
			 const struct schedfire_store *store, void *ctx, char **errp)
{
	init(f, cfg, sp, store, ctx);
	return argpolicy_prepare(&f->argpolicy, errp);
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
		if (strcmp(f->entries[i].s.def.name, name) == 0)
			return &f->entries[i];
	return NULL;
}

/* Queues e's next slot after its last one (none while paused or unparsable). */
static void entry_queue(struct schedfire *f, struct schedfire_entry *e)
{
	int64_t next;

	schedq_remove(f->q, e->s.def.name);
	if (e->s.def.paused || e->cron == NULL)
		return;
	if ((next = cron_next(e->cron, e->tz, e->s.def.last_slot)) != INT64_MAX)
		schedq_set(f->q, e->s.def.name, next);
}

/* The spool's schedules (no Consul), as a struct consulsched each. */
static int spool_load(struct schedfire *f, int reread, struct consulsched **listp, size_t *np,
		      char **errp)
{
	struct spoolsched *list = NULL;
	int64_t changes = 0;
	size_t n = 0;
	int rc;

	if (!reread && !f->reload)
		return 1;
	if ((rc = spoolsched_changes(f->sp, &changes, errp)) != 0)
		return rc;
	if (!f->reload && changes == f->changes)
		return 1;
	if ((rc = spoolsched_list(f->sp, &list, &n, errp)) != 0)
		return rc;
	*listp = xcalloc(n > 0 ? n : 1, sizeof **listp);
	for (size_t i = 0; i < n; i++)
		(*listp)[i].def = list[i]; /* takes the strings over */
	free(list);
	*np = n;
	f->changes = changes;
	return 0;
}

static int spool_fire(struct schedfire *f, struct consulsched *s, int64_t slot,
		      enum spoolsched_result *resultp, char **job_idp, char **errp)
{
	struct schedjob_env env = { .policy = &f->policy,
				    .node = f->cfg->consul_name,
				    .max_queued = (size_t)f->cfg->max_jobs,
				    .max_queued_user = (size_t)f->cfg->max_queued_per_user };
	int rc = schedjob_fire(f->sp, &s->def, slot, 1, &env, resultp, job_idp, errp);

	if (rc == 0) {
		s->def.last_slot = slot;
		if (*resultp == SPOOLSCHED_FIRED) {
			free(s->def.last_job);
			s->def.last_job = *job_idp != NULL ? xstrdup(*job_idp) : NULL;
			s->def.last_fired = slot;
		}
	}
	return rc;
}

static int spool_missed(struct schedfire *f, struct consulsched *s, const int64_t *slots, size_t n,
			int64_t more, int64_t more_last, int64_t new_last, char **errp)
{
	int rc = spoolsched_missed(f->sp, s->def.name, s->def.last_slot, slots, n, more, more_last,
				   new_last, errp);

	if (rc == 0)
		s->def.last_slot = new_last;
	return rc;
}

static int spool_prune(struct schedfire *f, int64_t before_ms, char **errp)
{
	return spoolsched_prune(f->sp, before_ms, NULL, errp);
}

static const struct schedfire_store spool_store = {
	.load = spool_load,
	.fire = spool_fire,
	.missed = spool_missed,
	.prune = spool_prune,
	.missed_rows = SCHEDFIRE_MISSED_ROWS,
};

/* Reads every definition and rebuilds the queue, when the store says they may have changed. */
static int schedfire_load(struct schedfire *f, int reread)
{
	struct consulsched *list = NULL;
	char *err = NULL;
	size_t n = 0;
	int rc = f->store->load(f, reread, &list, &n, &err);

	if (rc == 1)
		return 0;
	if (rc != 0) {
		if (err != NULL)
			log_warn("schedules: %s", err);
		free(err);
		return rc;
	}
	for (size_t i = 0; i < f->n; i++)
		schedq_remove(f->q, f->entries[i].s.def.name);
	entries_free(f);
	f->entries = xcalloc(n > 0 ? n : 1, sizeof *f->entries);
	f->n = n;
	for (size_t i = 0; i < n; i++) {
		struct schedfire_entry *e = &f->entries[i];

		e->s = list[i]; /* takes the strings over */
		if (cron_parse(e->s.def.cron, &e->cron, &err) != 0 ||
		    (e->tz = zone_get(f, e->s.def.timezone, &err)) == NULL) {
			log_warn("schedule '%s' does not fire: %s", e->s.def.name, err);
			free(err);
			err = NULL;
			cron_free(e->cron);
			e->cron = NULL;
		}
		entry_queue(f, e);
	}
	free(list); /* the records' strings are the entries' now */
	f->reload = 0;
	return 0;
}

/* Fires one slot of e; on success e's last slot is slot. FS_ESTATE: e changed in the store. */
static int fire_one(struct schedfire *f, struct schedfire_entry *e, int64_t slot)
{
	enum spoolsched_result result = SPOOLSCHED_REFUSED;
	char *err = NULL, *job = NULL, text[SCHEDJOB_SLOT_LEN + 1];
	int rc = f->store->fire(f, &e->s, slot, &result, &job, &err);

	schedjob_slot_text(slot, text);
	if (rc == 0)
		log_info("schedule '%s' slot %s %s", e->s.def.name, text,
			 spoolsched_result_name(result));
	else if (rc != FS_ESTATE && rc != FS_ENOENT && err != NULL)
		log_warn("schedule '%s' slot %s: %s", e->s.def.name, text, err);
	free(job);
	free(err);
	return rc;
}

/* The slots due after the ring's cap + 1 newest are kept: the one before the kept rows is the
 * summary row's slot. */
#define RING_CAP (SCHEDFIRE_MISSED_ROWS + SPOOLSCHED_CATCHUP_MAX + 1)

/* Walks e's slots from t on, at most SCHEDFIRE_WALK_MAX of them up to now, into ring (the newest
 * RING_CAP kept, *totalp counting). The first slot not walked: after now when all were. */
static int64_t walk(const struct schedfire_entry *e, int64_t t, int64_t now, int64_t *ring,
		    int64_t *totalp)
{
	for (int64_t steps = 0; t <= now && steps < SCHEDFIRE_WALK_MAX; steps++) {
		ring[(*totalp)++ % RING_CAP] = t;
		t = cron_next(e->cron, e->tz, t);
	}
	return t;
}

/* A walk cut short at t: the newest slots up to now are walked again from a point near now,
 * the window growing until it holds RING_CAP slots or reaches back to t. *totalp counts the
 * slots found from *startp, the window's first. */
static void walk_tail(const struct schedfire_entry *e, int64_t t, int64_t now, int64_t *ring,
		      int64_t *totalp, int64_t *startp)
{
	for (int64_t w = 64;; w *= 16) {
		int64_t from = now - w < t - 1 ? t - 1 : now - w;

		*totalp = 0;
		*startp = cron_next(e->cron, e->tz, from);
		if (walk(e, *startp, now, ring, totalp) <= now || *totalp >= RING_CAP ||
		    from == t - 1)
			return;
	}
}

/* The slots of e due at now, after its last one: fires them, or applies catchUp when they are
 * late. 0, or nonzero when the definitions must be read again. */
static int fire_due(struct schedfire *f, struct schedfire_entry *e, int64_t first, int64_t now)
{
	int64_t ring[RING_CAP], total = 0, head = 0, head_last = 0, more, more_last = 0, t;
	size_t fire_n, miss_rows, kept, start, rows_max = f->store->missed_rows;
	char *err = NULL;
	int rc;

	/* every due slot is counted; the newest RING_CAP are kept */
	if ((t = walk(e, first, now, ring, &total)) <= now) {
		/* a long outage of a dense schedule: the rest is counted as at least this */
		head = total;
		head_last = ring[(total - 1) % RING_CAP];
		walk_tail(e, t, now, ring, &total, &t);
	}
	if (head == 0 && total == 1 && now - first <= SCHEDFIRE_LATE_S)
		return fire_one(f, e, first);
	fire_n = e->s.def.catch_up == SPOOLSCHED_CATCHUP_LAST ? 1 : (size_t)e->s.def.catch_up;
	if ((int64_t)fire_n > total)
		fire_n = (size_t)total;
	miss_rows = (size_t)total - fire_n;
	if (miss_rows > rows_max)
		miss_rows = rows_max;
	kept = fire_n + miss_rows;
	start = (size_t)((total - (int64_t)kept) % RING_CAP);
	more = head + total - (int64_t)kept;
	if (more > 0) /* the latest slot the summary row stands for: the one before the kept rows */
		more_last =
			total > (int64_t)kept ? ring[(start + RING_CAP - 1) % RING_CAP] : head_last;
	if (more > 0 || miss_rows > 0) {
		int64_t rows[SCHEDFIRE_MISSED_ROWS], new_last;

		for (size_t i = 0; i < miss_rows; i++)
			rows[i] = ring[(start + i) % RING_CAP];
		new_last = miss_rows > 0 ? rows[miss_rows - 1] : more_last;
		rc = f->store->missed(f, &e->s, rows, miss_rows, head > 0 ? -more : more, more_last,
				      new_last, &err);
		if (rc != 0) {
			if (rc != FS_ESTATE && rc != FS_ENOENT && err != NULL)
				log_warn("schedule '%s': %s", e->s.def.name, err);
			free(err);
			return rc;
		}
		log_info("schedule '%s': %s%lld slot(s) missed", e->s.def.name,
			 head > 0 ? "at least " : "", (long long)(more + (int64_t)miss_rows));
	}
	for (size_t i = 0; i < fire_n; i++)
		if ((rc = fire_one(f, e, ring[(start + miss_rows + i) % RING_CAP])) != 0)
			return rc;
	return 0;
}

/* History rows as old as the jobs retention removes go with them. */
static void schedfire_prune(struct schedfire *f)
{
	char *err = NULL;

	if (f->store->prune == NULL || clock_mono_ms() < f->prune_at)
		return;
	f->prune_at = clock_mono_ms() + SCHEDFIRE_PRUNE_MS;
	if (f->store->prune(f, clock_real_ms() - (int64_t)f->cfg->retain_done * 1000, &err) != 0) {
		log_warn("schedules: %s", err);
		free(err);
	}
}

int schedfire_round(struct schedfire *f, int reread)
{
	struct schedfire_entry *e;
	const char *name;
	int64_t now, slot;
	int rc;

	if (f->off)
		return 0;
	schedfire_prune(f);

	if ((rc = schedfire_load(f, reread)) != 0)
		return rc;
	now = clock_real_ms() / 1000;
	while (schedq_pop_due(f->q, now, &name, &slot) == 0) {
		if ((e = entry_find(f, name)) == NULL)
			continue;
		if ((rc = fire_due(f, e, slot, now)) != 0) {
			/* changed in the store meanwhile, or the store failed: read it again at the
			 * next round (the slot stays due: its last slot did not move) */
			f->reload = 1;
			return rc;
		}
		entry_queue(f, e);
	}
	return 0;
}
