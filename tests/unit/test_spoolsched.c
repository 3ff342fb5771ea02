/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/spoolsched: schedules and their slots in a real spool in a temporary
 * directory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "schedjob.h"
#include "spool.h"
#include "spooldb.h"
#include "spoolsched.h"
#include "xalloc.h"

struct fixture {
	char dir[256];
	struct spool *sp;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof *f);
	const char *tmp = getenv("TMPDIR");
	char *err = NULL;

	snprintf(f->dir, sizeof f->dir, "%s/test_spoolsched.XXXXXX",
		 tmp != NULL && *tmp ? tmp : "/tmp");
	if (mkdtemp(f->dir) == NULL || spool_open(&f->sp, f->dir, SPOOL_SYNC_NORMAL, &err) != 0) {
		free(err);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[300];

	spool_close(f->sp);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* One integer from sql, run on the spool's own connection. */
static long long sql_int(struct spool *sp, const char *sql)
{
	sqlite3 *db = spool_db_acquire(sp);
	sqlite3_stmt *st = NULL;
	long long v = -12345;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	spool_db_release(sp);
	return v;
}

static void put(struct spool *sp, const char *name, int overlap_skip, int64_t now_s)
{
	struct spoolsched s = { .name = (char *)name,
				.cron = "*/2 * * * * *",
				.timezone = "UTC",
				.job_name = "j",
				.factfile_path = "/f",
				.factfile_args = "[\"--tag\",\"a,b\"]",
				.overlap_skip = overlap_skip,
				.catch_up = SPOOLSCHED_CATCHUP_LAST };
	char *err = NULL;

	assert_int_equal(spoolsched_set(sp, &s, now_s, &err), 0);
	assert_null(err);
}

static void mkid(unsigned n, char buf[65])
{
	for (int i = 0; i < 64; i++)
		buf[i] = "0123456789abcdef"[(n >> (4 * (i % 8))) & 0xf];
	buf[64] = '\0';
}

/* A version 6 spool (made here by undoing version 7) gets the tables and zero counters at open. */
static void test_migrates_v6(void **state)
{
	static const char *const undo[] = {
		"DROP TRIGGER slots_recorded",
		"DROP TABLE slots",
		"DROP TABLE schedules",
		"DELETE FROM counters WHERE name LIKE 'slots.%' OR name = 'schedules.changes'",
		"PRAGMA user_version = 6",
	};
	struct fixture *f = *state;
	char *err = NULL;

	assert_int_equal(sql_int(f->sp, "PRAGMA user_version"), 7);
	for (size_t i = 0; i < sizeof undo / sizeof undo[0]; i++)
		sql_int(f->sp, undo[i]);
	assert_int_equal(sql_int(f->sp, "PRAGMA user_version"), 6);
	spool_close(f->sp);
	assert_int_equal(spool_open(&f->sp, f->dir, 0, &err), 0);
	assert_int_equal(sql_int(f->sp, "PRAGMA user_version"), 7);
	assert_int_equal(sql_int(f->sp, "SELECT count(*) FROM counters WHERE name LIKE 'slots.%'"
					" AND n = 0"),
			 4);
	put(f->sp, "a", 0, 100);
	assert_int_equal(spool_integrity_check(f->sp, &err), 0);
}

/* set creates with last_slot = now, replaces keeping the state; pause, resume, delete. */
static void test_set_pause_delete(void **state)
{
	struct fixture *f = *state;
	struct spoolsched *s = NULL, *list = NULL;
	size_t n = 0;
	char *err = NULL;

	int64_t changes = -1, before = -1;

	assert_int_equal(spoolsched_changes(f->sp, &before, &err), 0);
	put(f->sp, "b", 0, 1000);
	put(f->sp, "a", 1, 1000);
	assert_int_equal(spoolsched_changes(f->sp, &changes, &err), 0);
	assert_int_equal(changes, before + 2);
	assert_int_equal(spoolsched_get(f->sp, "a", &s, &err), 0);
	assert_string_equal(s->cron, "*/2 * * * * *");
	assert_string_equal(s->factfile_args, "[\"--tag\",\"a,b\"]");
	assert_int_equal(s->overlap_skip, 1);
	assert_int_equal(s->catch_up, SPOOLSCHED_CATCHUP_LAST);
	assert_int_equal(s->last_slot, 1000);
	assert_null(s->last_job);
	assert_int_equal(s->paused, 0);
	spoolsched_free(s);
	/* a replacement keeps the last slot and the pause */
	assert_int_equal(spoolsched_pause(f->sp, "a", 1, 1500, &err), 0);
	put(f->sp, "a", 0, 2000);
	assert_int_equal(spoolsched_get(f->sp, "a", &s, &err), 0);
	assert_int_equal(s->last_slot, 1000);
	assert_int_equal(s->paused, 1);
	assert_int_equal(s->overlap_skip, 0);
	spoolsched_free(s);
	/* resuming: the pause's slots are not due */
	assert_int_equal(spoolsched_pause(f->sp, "a", 0, 3000, &err), 0);
	assert_int_equal(spoolsched_get(f->sp, "a", &s, &err), 0);
	assert_int_equal(s->last_slot, 3000);
	assert_int_equal(s->paused, 0);
	spoolsched_free(s);
	/* resuming a running schedule leaves its due slots due */
	assert_int_equal(spoolsched_pause(f->sp, "b", 0, 3000, &err), 0);
	assert_int_equal(spoolsched_get(f->sp, "b", &s, &err), 0);
	assert_int_equal(s->last_slot, 1000);
	spoolsched_free(s);
	assert_int_equal(spoolsched_list(f->sp, &list, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].name, "a");
	assert_string_equal(list[1].name, "b");
	spoolsched_list_free(list, n);

	/* set, pause, set, resume, resume (of b) */
	assert_int_equal(spoolsched_changes(f->sp, &changes, &err), 0);
	assert_int_equal(changes, before + 6);
	assert_int_equal(spoolsched_delete(f->sp, "a", &err), 0);
	assert_int_equal(spoolsched_changes(f->sp, &changes, &err), 0);
	assert_int_equal(changes, before + 7);
	assert_int_equal(spoolsched_get(f->sp, "a", &s, &err), FS_ENOENT);
	assert_null(s);
	assert_string_equal(err, "spool: schedule get: no schedule 'a'");
	free(err);
	err = NULL;
	assert_int_equal(spoolsched_delete(f->sp, "a", &err), FS_ENOENT);
	free(err);
	err = NULL;
	assert_int_equal(spoolsched_pause(f->sp, "a", 1, 1, &err), FS_ENOENT);
	free(err);
}

static void submit_for(struct spool_submit *sub, const char *id)
{
	memset(sub, 0, sizeof *sub);
	sub->id = id;
	sub->job_name = "j";
	sub->factfile_path = "/f";
	sub->factfile_args = "[]";
	sub->node = "n";
	sub->submitted_by = "schedule:a";
}

static void expect_fire(struct spool *sp, int64_t prev, int64_t slot,
			const struct spool_submit *sub, size_t max_queued,
			enum spoolsched_result want)
{
	struct spoolsched_fire fire = { .name = "a",
					.prev_slot = prev,
					.slot = slot,
					.advance = 1,
					.sub = sub,
					.refusal = "invalid: no factfile",
					.max_queued = max_queued };
	enum spoolsched_result r = SPOOLSCHED_NRESULTS;
	char *err = NULL;

	assert_int_equal(spoolsched_fire(sp, &fire, &r, &err), 0);
	assert_null(err);
	assert_int_equal(r, want);
}

/* One slot, one job: the compare-and-set, overlap skip, every refusal, the history and counters. */
static void test_fire(void **state)
{
	struct fixture *f = *state;
	struct spool_submit sub;
	struct spoolsched_fire stale = { .name = "a", .prev_slot = 100, .slot = 104, .advance = 1 };
	struct spoolsched *s = NULL;
	struct spoolsched_slot *h = NULL;
	struct spool_job *j = NULL;
	struct spool_result done = { .outcome = SPOOL_SUCCEEDED };
	int64_t counts[SPOOLSCHED_NRESULTS];
	char id1[65], id2[65], id3[65], *err = NULL;
	int64_t changes = -1;
	size_t n = 0;

	mkid(1, id1);
	mkid(2, id2);
	mkid(3, id3);
	put(f->sp, "a", 1, 100);
	submit_for(&sub, id1);
	expect_fire(f->sp, 100, 102, &sub, 10, SPOOLSCHED_FIRED);
	assert_int_equal(spool_get(f->sp, id1, &j, &err), 0);
	assert_int_equal(j->state, SPOOL_QUEUED);
	assert_string_equal(j->submitted_by, "schedule:a");
	spool_job_free(j);
	assert_int_equal(spoolsched_get(f->sp, "a", &s, &err), 0);
	assert_int_equal(s->last_slot, 102);
	assert_string_equal(s->last_job, id1);
	assert_int_equal(s->last_fired, 102);
	spoolsched_free(s);
	/* a slot's own writes are not a change of the definition */
	assert_int_equal(spoolsched_changes(f->sp, &changes, &err), 0);
	assert_int_equal(changes, 1);

	/* a firer that read the old last slot writes nothing */
	stale.sub = &sub;
	assert_int_equal(spoolsched_fire(f->sp, &stale, NULL, &err), FS_ESTATE);
	assert_string_equal(err, "spool: schedule fire: schedule 'a' has moved on from slot 100");
	free(err);
	err = NULL;
	stale.name = "gone";
	assert_int_equal(spoolsched_fire(f->sp, &stale, NULL, &err), FS_ENOENT);
	free(err);
	err = NULL;

	/* overlap skip while the job is QUEUED, then WORKING */
	submit_for(&sub, id2);
	expect_fire(f->sp, 102, 104, &sub, 10, SPOOLSCHED_SKIPPED);
	assert_int_equal(spool_claim_next(f->sp, "n", &j, &err), 0);
	spool_job_free(j);
	expect_fire(f->sp, 104, 106, &sub, 10, SPOOLSCHED_SKIPPED);
	assert_int_equal(spool_get(f->sp, id2, &j, &err), FS_ENOENT);
	free(err);
	err = NULL;
	assert_int_equal(spool_finish(f->sp, id1, &done, &err), 0);

	/* a slot's job id that exists in any state (here DONE) is never queued again */
	submit_for(&sub, id1);
	expect_fire(f->sp, 106, 108, &sub, 10, SPOOLSCHED_REFUSED);
	/* capacity and drain, as /submit */
	submit_for(&sub, id2);
	expect_fire(f->sp, 108, 110, &sub, 0, SPOOLSCHED_REFUSED);
	assert_int_equal(spool_drain_set(f->sp, 1, &err), 0);
	expect_fire(f->sp, 110, 112, &sub, 10, SPOOLSCHED_REFUSED);
	assert_int_equal(spool_drain_set(f->sp, 0, &err), 0);
	/* a request that could not be built */
	expect_fire(f->sp, 112, 114, NULL, 10, SPOOLSCHED_REFUSED);
	submit_for(&sub, id3);
	expect_fire(f->sp, 114, 116, &sub, 10, SPOOLSCHED_FIRED);

	assert_int_equal(spoolsched_history(f->sp, "a", 0, &h, &n, &err), 0);
	assert_int_equal(n, 8);
	assert_int_equal(h[0].slot, 116);
	assert_int_equal(h[0].result, SPOOLSCHED_FIRED);
	assert_string_equal(h[0].job_id, id3);
	assert_null(h[0].reason);
	assert_string_equal(h[1].reason, "invalid: no factfile");
	assert_null(h[1].job_id);
	assert_string_equal(h[2].reason, "drain");
	assert_string_equal(h[3].reason, "queue full");
	assert_string_equal(h[4].reason, "duplicate");
	assert_int_equal(h[5].result, SPOOLSCHED_SKIPPED);
	assert_string_equal(h[5].reason, "overlap: the last slot's job is WORKING");
	assert_string_equal(h[6].reason, "overlap: the last slot's job is QUEUED");
	assert_int_equal(h[7].slot, 102);
	assert_string_equal(h[7].job_id, id1);
	assert_int_equal(h[7].count, 1);
	spoolsched_slots_free(h, n);
	assert_int_equal(spoolsched_history(f->sp, "a", 3, &h, &n, &err), 0);
	assert_int_equal(n, 3);
	spoolsched_slots_free(h, n);

	assert_int_equal(spoolsched_counts(f->sp, counts, &err), 0);
	assert_int_equal(counts[SPOOLSCHED_FIRED], 2);
	assert_int_equal(counts[SPOOLSCHED_SKIPPED], 2);
	assert_int_equal(counts[SPOOLSCHED_REFUSED], 4);
	assert_int_equal(counts[SPOOLSCHED_MISSED], 0);

	/* run-now does not move the timetable */
	{
		struct spoolsched_fire now = {
			.name = "a", .prev_slot = 116, .slot = 117, .sub = NULL, .refusal = "x"
		};
		assert_int_equal(spoolsched_fire(f->sp, &now, NULL, &err), 0);
		assert_int_equal(spoolsched_get(f->sp, "a", &s, &err), 0);
		assert_int_equal(s->last_slot, 116);
		spoolsched_free(s);
	}
	/* deleting the schedule takes its history, not its jobs */
	assert_int_equal(spoolsched_delete(f->sp, "a", &err), 0);
	assert_int_equal(sql_int(f->sp, "SELECT count(*) FROM slots"), 0);
	assert_int_equal(spool_get(f->sp, id3, &j, &err), 0);
	spool_job_free(j);
	assert_null(err);
}

/* Missed slots: one row each as asked plus one summary row counting the rest. */
static void test_missed(void **state)
{
	struct fixture *f = *state;
	const int64_t slots[] = { 120, 122 };
	struct spoolsched_slot *h = NULL;
	struct spoolsched *s = NULL;
	int64_t counts[SPOOLSCHED_NRESULTS];
	char *err = NULL;
	size_t n = 0;

	put(f->sp, "a", 0, 100);
	assert_int_equal(spoolsched_missed(f->sp, "a", 100, slots, 2, 9, 118, 122, &err), 0);
	assert_int_equal(spoolsched_missed(f->sp, "a", 100, slots, 2, 0, 0, 122, &err), FS_ESTATE);
	free(err);
	err = NULL;
	assert_int_equal(spoolsched_get(f->sp, "a", &s, &err), 0);
	assert_int_equal(s->last_slot, 122);
	spoolsched_free(s);
	assert_int_equal(spoolsched_history(f->sp, "a", 0, &h, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_int_equal(h[0].slot, 122);
	assert_int_equal(h[1].slot, 120);
	assert_int_equal(h[2].slot, 118);
	assert_int_equal(h[2].count, 9);
	assert_string_equal(h[2].reason, "9 more slots missed");
	assert_int_equal(h[2].result, SPOOLSCHED_MISSED);
	spoolsched_slots_free(h, n);
	assert_int_equal(spoolsched_counts(f->sp, counts, &err), 0);
	assert_int_equal(counts[SPOOLSCHED_MISSED], 11);
	assert_null(err);
}

/* The history keeps SPOOLSCHED_HISTORY_MAX rows per schedule, the counters everything; pruning
 * by age. */
static void test_history_bound_prune(void **state)
{
	struct fixture *f = *state;
	int64_t *slots = xcalloc(1100, sizeof *slots), counts[SPOOLSCHED_NRESULTS], removed = -1;
	struct spoolsched_slot *h = NULL;
	char *err = NULL;
	size_t n = 0;

	for (int i = 0; i < 1100; i++)
		slots[i] = 200 + i;
	put(f->sp, "a", 0, 100);
	put(f->sp, "b", 0, 100);
	assert_int_equal(spoolsched_missed(f->sp, "a", 100, slots, 1100, 0, 0, 1299, &err), 0);
	assert_int_equal(spoolsched_missed(f->sp, "b", 100, slots, 5, 0, 0, 204, &err), 0);
	assert_int_equal(spoolsched_history(f->sp, "a", 0, &h, &n, &err), 0);
	assert_int_equal(n, SPOOLSCHED_HISTORY_MAX);
	assert_int_equal(h[0].slot, 1299);
	assert_int_equal(h[n - 1].slot, 300);
	spoolsched_slots_free(h, n);
	assert_int_equal(sql_int(f->sp, "SELECT count(*) FROM slots WHERE schedule = 'b'"), 5);
	assert_int_equal(spoolsched_counts(f->sp, counts, &err), 0);
	assert_int_equal(counts[SPOOLSCHED_MISSED], 1105);
	sql_int(f->sp, "UPDATE slots SET at_ms = 5 WHERE schedule = 'b'");
	assert_int_equal(spoolsched_prune(f->sp, 6, &removed, &err), 0);
	assert_int_equal(removed, 5);
	assert_int_equal(sql_int(f->sp, "SELECT count(*) FROM slots"), 1000);
	assert_int_equal(spoolsched_counts(f->sp, counts, &err), 0);
	assert_int_equal(counts[SPOOLSCHED_MISSED], 1105);
	assert_null(err);
	free(slots);
}

/* A slot's request: the schedule's arguments, then the two tags; its firing through /submit's
 * validation (a factfile gone is the slot refused, with the validation's message). */
static void test_schedjob(void **state)
{
	struct fixture *f = *state;
	const char *data = getenv("FS_TESTDATA");
	char text[SCHEDJOB_SLOT_LEN + 1], *path, *err = NULL, *job = NULL;
	struct jobreq_policy policy = { .rules = FACTFILE_RULES_OURS };
	struct schedjob_env env = { .policy = &policy, .node = "n", .max_queued = 10 };
	struct spoolsched *s = NULL;
	struct spoolsched_slot *h = NULL;
	struct spool_job *j = NULL;
	enum spoolsched_result r;
	struct job_request jr;
	size_t n = 0;

	schedjob_slot_text(0, text);
	assert_string_equal(text, "1970-01-01T00:00:00Z");
	schedjob_slot_text(1796449211, text);
	assert_string_equal(text, "2026-12-05T05:40:11Z");

	assert_non_null(data);
	path = xasprintf("%s/samples/echo.factfile", data);
	put(f->sp, "a", 0, 100);
	assert_int_equal(spoolsched_get(f->sp, "a", &s, &err), 0);
	free(s->factfile_path);
	s->factfile_path = path;
	assert_int_equal(schedjob_request(s, 1796449211, &jr, &err), 0);
	assert_string_equal(jr.args_json, "[\"--tag\",\"a,b\",\"--tag\",\"schedule,a\",\"--tag\","
					  "\"slot,2026-12-05T05:40:11Z\"]");
	jobreq_free(&jr);

	assert_int_equal(schedjob_fire(f->sp, s, 102, 1, &env, &r, &job, &err), 0);
	assert_int_equal(r, SPOOLSCHED_FIRED);
	assert_int_equal(spool_get(f->sp, job, &j, &err), 0);
	assert_string_equal(j->submitted_by, "schedule:a");
	assert_non_null(j->factfile_sha);
	spool_job_free(j);
	free(job);
	job = NULL;

	/* the same slot again (a fence that is right, as a run-now has): the same job id */
	s->last_slot = 102;
	assert_int_equal(schedjob_fire(f->sp, s, 102, 0, &env, &r, NULL, &err), 0);
	assert_int_equal(r, SPOOLSCHED_REFUSED);

	s->factfile_path = xasprintf("%s/gone.factfile", data);
	free(path);
	assert_int_equal(schedjob_fire(f->sp, s, 104, 1, &env, &r, &job, &err), 0);
	assert_int_equal(r, SPOOLSCHED_REFUSED);
	assert_null(job);
	assert_int_equal(spoolsched_history(f->sp, "a", 0, &h, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(h[1].reason, "duplicate");
	path = xasprintf("invalid: Validation Error: Value does not exist on host for "
			 "'factfilePath':'%s/gone.factfile'",
			 data);
	assert_string_equal(h[0].reason, path);
	free(path);
	spoolsched_slots_free(h, n);
	spoolsched_free(s);
	assert_null(err);
}

/* The bound of --max-schedules, and what a slot accounted for in Consul asks of the spool: the
 * refusal a queueing would meet (nothing written), and its count with its job in one
 * transaction. */
static void test_max_admit_count(void **state)
{
	struct fixture *f = *state;
	struct spoolsched s = { .name = "c",
				.cron = "@daily",
				.timezone = "UTC",
				.job_name = "j",
				.factfile_path = "/f",
				.catch_up = SPOOLSCHED_CATCHUP_LAST };
	struct spool_submit sub;
	int64_t counts[SPOOLSCHED_NRESULTS];
	const char *refusal = "x";
	char id1[65], id2[65], *err = NULL;

	put(f->sp, "a", 0, 100);
	put(f->sp, "b", 0, 100);
	assert_int_equal(spoolsched_set_max(f->sp, &s, 100, 2, &err), FS_EFULL);
	assert_string_equal(err, "Error: at most 2 schedules");
	free(err);
	err = NULL;
	assert_int_equal(sql_int(f->sp, "SELECT count(*) FROM schedules"), 2);
	/* replacing one is always allowed; the bound above what there is lets a new one in */
	s.name = "b";
	assert_int_equal(spoolsched_set_max(f->sp, &s, 100, 2, &err), 0);
	assert_int_equal(sql_int(f->sp, "SELECT count(*) FROM schedules WHERE cron = '@daily'"), 1);
	s.name = "c";
	assert_int_equal(spoolsched_set_max(f->sp, &s, 100, 3, &err), 0);
	assert_int_equal(sql_int(f->sp, "SELECT count(*) FROM schedules"), 3);

	mkid(1, id1);
	mkid(2, id2);
	submit_for(&sub, id1);
	assert_int_equal(spoolsched_admit(f->sp, &sub, 10, &refusal, &err), 0);
	assert_null(refusal);
	assert_int_equal(sql_int(f->sp, "SELECT count(*) FROM jobs"), 0);
	assert_int_equal(spoolsched_admit(f->sp, &sub, 0, &refusal, &err), 0);
	assert_string_equal(refusal, "queue full");
	assert_int_equal(spool_drain_set(f->sp, 1, &err), 0);
	assert_int_equal(spoolsched_admit(f->sp, &sub, 10, &refusal, &err), 0);
	assert_string_equal(refusal, "drain");
	/* queued with its count, or refused with nothing counted */
	assert_int_equal(spoolsched_count(f->sp, SPOOLSCHED_FIRED, &sub, 10, &refusal, &err),
			 FS_ESTATE);
	assert_string_equal(refusal, "drain");
	free(err);
	err = NULL;
	assert_int_equal(spool_drain_set(f->sp, 0, &err), 0);
	assert_int_equal(spoolsched_count(f->sp, SPOOLSCHED_FIRED, &sub, 10, &refusal, &err), 0);
	assert_null(refusal);
	assert_int_equal(sql_int(f->sp, "SELECT count(*) FROM jobs WHERE submitted_by ="
					" 'schedule:a'"),
			 1);
	assert_int_equal(spoolsched_admit(f->sp, &sub, 10, &refusal, &err), 0);
	assert_string_equal(refusal, "duplicate");
	submit_for(&sub, id2);
	assert_int_equal(spoolsched_count(f->sp, SPOOLSCHED_FIRED, &sub, 1, &refusal, &err),
			 FS_EFULL);
	assert_string_equal(refusal, "queue full");
	free(err);
	err = NULL;
	assert_int_equal(spoolsched_count(f->sp, SPOOLSCHED_SKIPPED, NULL, 0, NULL, &err), 0);
	assert_int_equal(spoolsched_count(f->sp, SPOOLSCHED_REFUSED, NULL, 0, NULL, &err), 0);
	assert_int_equal(spoolsched_counts(f->sp, counts, &err), 0);
	assert_int_equal(counts[SPOOLSCHED_FIRED], 1);
	assert_int_equal(counts[SPOOLSCHED_SKIPPED], 1);
	assert_int_equal(counts[SPOOLSCHED_REFUSED], 1);
	assert_int_equal(counts[SPOOLSCHED_MISSED], 0);
	/* none of it is a slot of a spool schedule's history */
	assert_int_equal(sql_int(f->sp, "SELECT count(*) FROM slots"), 0);
	assert_null(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_migrates_v6, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_pause_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fire, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history_bound_prune, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schedjob, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_admit_count, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
