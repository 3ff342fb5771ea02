/* SPDX-License-Identifier: Apache-2.0 */
/* Driver of tests/integration/consul_schedstore.sh: core/consulsched.c against the real consul
 * agent that script starts (its HTTP port in FS_CONSUL_PORT). Each test works in a namespace of
 * its own and looks at what the store wrote with plain KV reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "config.h"
#include "consul.h"
#include "consulsched.h"
#include "err.h"

static struct consul *consul;
static int consul_port;

/* A client of its own: a forked process must not use its parent's connections. */
static struct consul *client(void)
{
	struct config cfg;
	struct consul *c;

	config_init(&cfg);
	cfg.consul_port = consul_port;
	c = consul_new(&cfg, 5000);
	config_free(&cfg);
	return c;
}

static struct spoolsched def(const char *name, const char *cron)
{
	return (struct spoolsched){ .name = (char *)name,
				    .cron = (char *)cron,
				    .timezone = (char *)"Europe/London",
				    .job_name = (char *)"nightly",
				    .factfile_path = (char *)"/srv/ff/nightly.factfile",
				    .factfile_args = (char *)"[\"--env\",\"prod\"]",
				    .overlap_skip = 1,
				    .catch_up = 3 };
}

static void get(const char *ns, const char *name, struct consulsched *s)
{
	char *err = NULL;

	if (consulsched_get(consul, ns, name, s, &err) != 0)
		fail_msg("get %s/%s: %s", ns, name, err);
}

/* The keys under prefix. */
static size_t nkeys(const char *prefix)
{
	char **keys = NULL, *err = NULL;
	size_t n = 0;

	if (consul_kv_keys(consul, prefix, NULL, &keys, &n, &err) != 0)
		fail_msg("keys %s: %s", prefix, err);
	for (size_t i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
	return n;
}

static void put(const char *key, const char *value)
{
	struct consul_op op = { .verb = CONSUL_SET, .key = key, .value = value };
	char *err = NULL;

	if (consul_txn(consul, &op, 1, NULL, &err) != 0)
		fail_msg("set %s: %s", key, err);
}

static char *session(void)
{
	char *id = NULL, *err = NULL;

	if (consul_session_create(consul, "factotum-server:test", 30, 0, &id, &err) != 0)
		fail_msg("session: %s", err);
	return id;
}

static void history(const char *ns, const char *name, size_t max, int64_t before_ms,
		    struct spoolsched_slot **rows, size_t *n)
{
	char *err = NULL;

	if (consulsched_history(consul, ns, name, max, before_ms, rows, n, &err) != 0)
		fail_msg("history: %s", err);
}

/* One history row as expected (reason, job_id NULL: none). */
static void expect_row(const struct spoolsched_slot *r, int64_t slot, enum spoolsched_result result,
		       const char *reason, const char *job_id, int64_t count)
{
	assert_int_equal(r->slot, slot);
	assert_int_equal(r->result, result);
	if (reason == NULL)
		assert_null(r->reason);
	else
		assert_string_equal(r->reason, reason);
	if (job_id == NULL)
		assert_null(r->job_id);
	else
		assert_string_equal(r->job_id, job_id);
	assert_int_equal(r->count, count);
}

static void test_set_get_replace(void **state)
{
	struct spoolsched d = def("alpha", "0 3 * * *");
	struct consulsched s, r;
	char *err = NULL;

	(void)state;
	assert_int_equal(consulsched_set(consul, "t-set", &d, 1000, 10, &err), 0);
	get("t-set", "alpha", &s);
	assert_string_equal(s.def.name, "alpha");
	assert_string_equal(s.def.cron, "0 3 * * *");
	assert_string_equal(s.def.timezone, "Europe/London");
	assert_string_equal(s.def.job_name, "nightly");
	assert_string_equal(s.def.factfile_path, "/srv/ff/nightly.factfile");
	assert_string_equal(s.def.factfile_args, "[\"--env\",\"prod\"]");
	assert_int_equal(s.def.overlap_skip, 1);
	assert_int_equal(s.def.catch_up, 3);
	assert_int_equal(s.def.paused, 0);
	assert_int_equal(s.def.last_slot, 1000);
	assert_null(s.def.last_job);
	assert_int_equal(s.def.last_fired, 0);
	assert_int_equal(s.history_seq, 0);
	assert_true(s.index > 0);
	assert_int_equal(s.def.created_ms, s.def.updated_ms);

	/* a replaced definition keeps the state: lastSlot, created, the pause */
	assert_int_equal(consulsched_pause(consul, "t-set", "alpha", 1, 1500, &err), 0);
	d.cron = "*/5 * * * *";
	d.catch_up = SPOOLSCHED_CATCHUP_NONE;
	d.overlap_skip = 0;
	assert_int_equal(consulsched_set(consul, "t-set", &d, 2000, 10, &err), 0);
	get("t-set", "alpha", &r);
	assert_string_equal(r.def.cron, "*/5 * * * *");
	assert_int_equal(r.def.catch_up, SPOOLSCHED_CATCHUP_NONE);
	assert_int_equal(r.def.overlap_skip, 0);
	assert_int_equal(r.def.last_slot, 1000);
	assert_int_equal(r.def.paused, 1);
	assert_int_equal(r.def.created_ms, s.def.created_ms);
	assert_true(r.def.updated_ms >= s.def.updated_ms);
	assert_true(r.index > s.index);
	consulsched_clear(&s);
	consulsched_clear(&r);

	assert_int_equal(consulsched_get(consul, "t-set", "nosuch", &s, &err), FS_ENOENT);
	assert_string_equal(err, "Consul: no schedule 'nosuch'");
	free(err);
}

static void test_pause_resume(void **state)
{
	struct spoolsched d = def("p", "* * * * *");
	struct consulsched s;
	char *err = NULL;

	(void)state;
	assert_int_equal(consulsched_set(consul, "t-pause", &d, 100, 10, &err), 0);
	assert_int_equal(consulsched_pause(consul, "t-pause", "p", 1, 200, &err), 0);
	get("t-pause", "p", &s);
	assert_int_equal(s.def.paused, 1);
	assert_int_equal(s.def.last_slot, 100);
	consulsched_clear(&s);
	/* resuming: the slots of the pause are not due */
	assert_int_equal(consulsched_pause(consul, "t-pause", "p", 0, 300, &err), 0);
	get("t-pause", "p", &s);
	assert_int_equal(s.def.paused, 0);
	assert_int_equal(s.def.last_slot, 300);
	consulsched_clear(&s);
	/* resuming what runs changes nothing */
	assert_int_equal(consulsched_pause(consul, "t-pause", "p", 0, 400, &err), 0);
	get("t-pause", "p", &s);
	assert_int_equal(s.def.last_slot, 300);
	consulsched_clear(&s);
	assert_int_equal(consulsched_pause(consul, "t-pause", "nosuch", 1, 400, &err), FS_ENOENT);
	free(err);
}

static void test_list(void **state)
{
	struct spoolsched a = def("a.one", "* * * * *"), b = def("b_two", "* * * * *");
	struct consulsched *list = NULL;
	size_t n = 0;
	char *err = NULL;

	(void)state;
	assert_int_equal(consulsched_set(consul, "t-list", &b, 100, 10, &err), 0);
	assert_int_equal(consulsched_set(consul, "t-list", &a, 100, 10, &err), 0);
	/* what is not a schedule is skipped: a damaged value, a name that is not its key's, a key
	 * further down, a key that is not a name */
	put("t-list/schedules/c-bad", "{\"name\":\"c-bad\"");
	put("t-list/schedules/d", "{\"name\":\"a.one\"}");
	put("t-list/schedules/e/f", "{}");
	put("t-list/schedules/ sp", "{}");
	assert_int_equal(consulsched_list(consul, "t-list", 100, &list, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].def.name, "a.one");
	assert_string_equal(list[1].def.name, "b_two");
	assert_true(list[0].index > 0 && list[1].index > 0);
	consulsched_list_free(list, n);
	assert_int_equal(consulsched_list(consul, "t-list", 1, &list, &n, &err), 0);
	assert_int_equal(n, 1);
	consulsched_list_free(list, n);
	assert_int_equal(consulsched_list(consul, "t-empty", 10, &list, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_null(list);
	/* the damaged value is refused by get, and replaced by a set */
	assert_int_equal(consulsched_get(consul, "t-list", "c-bad", &(struct consulsched){ 0 },
					 &err),
			 FS_EINVAL);
	assert_non_null(strstr(err, "schedule value of 'c-bad': not JSON"));
	put("t-list/schedule-slots/c-bad/7", "{}");
	a.name = "c-bad";
	assert_int_equal(consulsched_set(consul, "t-list", &a, 100, 10, &err), 0);
	assert_int_equal(nkeys("t-list/schedule-slots/c-bad/"), 0);
	assert_int_equal(consulsched_list(consul, "t-list", 100, &list, &n, &err), 0);
	assert_int_equal(n, 3);
	consulsched_list_free(list, n);
	free(err);
}

static void test_delete(void **state)
{
	struct spoolsched d = def("gone", "* * * * *"), k = def("gone2", "* * * * *");
	struct spoolsched_slot row = { .slot = 5, .result = SPOOLSCHED_REFUSED, .count = 1 };
	struct consulsched s;
	char *err = NULL;

	(void)state;
	assert_int_equal(consulsched_set(consul, "t-del", &d, 100, 10, &err), 0);
	assert_int_equal(consulsched_set(consul, "t-del", &k, 100, 10, &err), 0);
	row.reason = "drain";
	assert_int_equal(consulsched_note(consul, "t-del", "gone", &row, &err), 0);
	assert_int_equal(consulsched_note(consul, "t-del", "gone", &row, &err), 0);
	assert_int_equal(consulsched_note(consul, "t-del", "gone2", &row, &err), 0);
	assert_int_equal(nkeys("t-del/schedule-slots/gone/"), 2);
	assert_int_equal(consulsched_delete(consul, "t-del", "gone", &err), 0);
	assert_int_equal(consulsched_get(consul, "t-del", "gone", &s, &err), FS_ENOENT);
	assert_int_equal(nkeys("t-del/schedule-slots/gone/"), 0);
	/* gone2's keys start with gone's name but are not under its ring's prefix */
	assert_int_equal(nkeys("t-del/schedule-slots/gone2/"), 1);
	get("t-del", "gone2", &s);
	consulsched_clear(&s);
	assert_int_equal(consulsched_delete(consul, "t-del", "gone", &err), FS_ENOENT);
	assert_int_equal(consulsched_note(consul, "t-del", "gone", &row, &err), FS_ENOENT);
	/* rows left by a schedule deleted by hand go when one of that name is made */
	put("t-del/schedule-slots/hand/5", "{}");
	d.name = "hand";
	assert_int_equal(consulsched_set(consul, "t-del", &d, 100, 10, &err), 0);
	assert_int_equal(nkeys("t-del/schedule-slots/hand/"), 0);
	/* a damaged value can be deleted */
	put("t-del/schedules/junk", "[1,2]");
	assert_int_equal(consulsched_delete(consul, "t-del", "junk", &err), 0);
	assert_int_equal(nkeys("t-del/schedules/junk"), 0);
	free(err);
}

static void test_fire(void **state)
{
	struct spoolsched d = def("f", "* * * * *");
	struct consulsched s, t;
	struct consulsched_fire f = { .slot = 160,
				      .advance = 1,
				      .job_id = "job-160",
				      .job_key = "t-fire/job-160",
				      .job_value = "{\"q\":1}" };
	struct spoolsched_slot *rows = NULL;
	struct consul_kv kv;
	char *sess = session(), *err = NULL;
	int64_t index = 0, job_index = 0;
	int invalid = -1;
	size_t n = 0;

	(void)state;
	f.session = sess;
	assert_int_equal(consulsched_set(consul, "t-fire", &d, 100, 10, &err), 0);
	get("t-fire", "f", &s);
	f.s = &s;
	assert_int_equal(consulsched_fire(consul, "t-fire", &f, &index, &job_index, &invalid, &err),
			 0);
	assert_int_equal(invalid, 0);
	get("t-fire", "f", &t);
	assert_int_equal(t.index, index);
	assert_int_equal(t.def.last_slot, 160);
	assert_string_equal(t.def.last_job, "job-160");
	assert_int_equal(t.def.last_fired, 160);
	assert_int_equal(t.history_seq, 1);
	assert_int_equal(consul_kv_get(consul, "t-fire/job-160", &kv, &err), 0);
	assert_int_equal(kv.modify_index, job_index);
	assert_string_equal(kv.session, sess);
	assert_string_equal(kv.value, "{\"q\":1}");
	consul_kv_clear(&kv);
	history("t-fire", "f", 0, 0, &rows, &n);
	assert_int_equal(n, 1);
	expect_row(&rows[0], 160, SPOOLSCHED_FIRED, NULL, "job-160", 1);
	spoolsched_slots_free(rows, n);

	/* the same fence again (another firer that read before): nothing written */
	f.slot = 170;
	f.job_id = "job-170";
	f.job_key = "t-fire/job-170";
	assert_int_equal(consulsched_fire(consul, "t-fire", &f, &index, &job_index, &invalid, &err),
			 FS_ESTATE);
	assert_int_equal(consul_kv_get(consul, "t-fire/job-170", &kv, &err), FS_ENOENT);
	consulsched_clear(&s);
	get("t-fire", "f", &s);
	assert_int_equal(s.index, t.index);
	assert_int_equal(s.history_seq, 1);
	assert_int_equal(nkeys("t-fire/schedule-slots/f/"), 1);

	/* the slot's job exists already (a /submit of that id, a first fire): nothing written */
	f.s = &s;
	f.job_id = "job-160";
	f.job_key = "t-fire/job-160";
	assert_int_equal(consulsched_fire(consul, "t-fire", &f, &index, &job_index, &invalid, &err),
			 FS_EEXIST);
	consulsched_clear(&t);
	get("t-fire", "f", &t);
	assert_int_equal(t.index, s.index);
	assert_int_equal(t.history_seq, 1);
	assert_int_equal(t.def.last_slot, 160);
	assert_int_equal(nkeys("t-fire/schedule-slots/f/"), 1);

	/* not fired: a row with the reason; a run-now slot (advance 0) leaves lastSlot */
	f = (struct consulsched_fire){ .s = &s,
				       .slot = 175,
				       .advance = 0,
				       .result = SPOOLSCHED_SKIPPED,
				       .reason = "overlap: the last slot's job is WORKING" };
	assert_int_equal(consulsched_fire(consul, "t-fire", &f, &index, NULL, NULL, &err), 0);
	consulsched_clear(&t);
	get("t-fire", "f", &t);
	assert_int_equal(t.index, index);
	assert_int_equal(t.def.last_slot, 160);
	assert_string_equal(t.def.last_job, "job-160");
	assert_int_equal(t.history_seq, 2);
	history("t-fire", "f", 0, 0, &rows, &n);
	assert_int_equal(n, 2);
	expect_row(&rows[0], 175, SPOOLSCHED_SKIPPED, "overlap: the last slot's job is WORKING",
		   NULL, 1);
	expect_row(&rows[1], 160, SPOOLSCHED_FIRED, NULL, "job-160", 1);
	spoolsched_slots_free(rows, n);

	/* a session Consul does not know */
	f = (struct consulsched_fire){ .s = &t,
				       .slot = 180,
				       .advance = 1,
				       .job_id = "job-180",
				       .job_key = "t-fire/job-180",
				       .job_value = "{}",
				       .session = "00000000-0000-0000-0000-000000000000" };
	assert_int_equal(consulsched_fire(consul, "t-fire", &f, &index, &job_index, &invalid, &err),
			 FS_EIO);
	assert_int_equal(invalid, 1);
	consulsched_clear(&s);
	get("t-fire", "f", &s);
	assert_int_equal(s.index, t.index);

	/* the schedule deleted meanwhile */
	assert_int_equal(consulsched_delete(consul, "t-fire", "f", &err), 0);
	f.session = sess;
	assert_int_equal(consulsched_fire(consul, "t-fire", &f, &index, &job_index, &invalid, &err),
			 FS_ENOENT);
	assert_int_equal(consul_kv_get(consul, "t-fire/job-180", &kv, &err), FS_ENOENT);
	consulsched_clear(&s);
	consulsched_clear(&t);
	consul_session_destroy(consul, sess, NULL);
	free(sess);
	free(err);
}

/* An orphaned claim: locked with the node's session and deleted, and noted, in one txn; or
 * nothing when the key moved, or while the lock delay of the session that held it lasts. */
static void test_unclaim(void **state)
{
	struct spoolsched d = def("u", "* * * * *");
	struct spoolsched_slot row = { .slot = 160,
				       .result = SPOOLSCHED_REFUSED,
				       .reason = (char *)"interrupted: lost",
				       .job_id = (char *)"job-u",
				       .count = 1 },
			       *rows = NULL;
	struct consul_op lock = { .verb = CONSUL_LOCK, .key = "t-unc/job-u", .value = "{\"q\":3}" };
	struct consulsched s;
	struct consul_kv kv;
	char *err = NULL, *mine = session(), *held = NULL;
	int64_t stale;
	size_t n = 0;

	(void)state;
	assert_int_equal(consulsched_set(consul, "t-unc", &d, 100, 10, &err), 0);
	put("t-unc/job-u", "{\"q\":1}");
	assert_int_equal(consul_kv_get(consul, "t-unc/job-u", &kv, &err), 0);
	stale = kv.modify_index;
	consul_kv_clear(&kv);
	put("t-unc/job-u", "{\"q\":2}"); /* re-acquired or moved on meanwhile */
	assert_int_equal(consulsched_unclaim(consul, "t-unc", "u", "t-unc/job-u", stale,
					     "{\"q\":1}", mine, &row, &err),
			 FS_EEXIST);
	assert_string_equal(
		err, "Consul: 't-unc/job-u' changed meanwhile, or is held back by its lock delay");
	free(err);
	err = NULL;
	/* held by a session that then ended with a lock delay of 15 s: refused meanwhile */
	if (consul_session_create(consul, "factotum-server:gone", 30, 15, &held, &err) != 0)
		fail_msg("session: %s", err);
	lock.session = held;
	assert_int_equal(consul_txn(consul, &lock, 1, NULL, &err), 0);
	assert_int_equal(consul_session_destroy(consul, held, &err), 0);
	assert_int_equal(consul_kv_get(consul, "t-unc/job-u", &kv, &err), 0);
	assert_null(kv.session);
	assert_int_equal(consulsched_unclaim(consul, "t-unc", "u", "t-unc/job-u", kv.modify_index,
					     kv.value, mine, &row, &err),
			 FS_EEXIST);
	free(err);
	err = NULL;
	consul_kv_clear(&kv);
	get("t-unc", "u", &s);
	assert_int_equal(s.history_seq, 0);
	assert_int_equal(nkeys("t-unc/schedule-slots/u/"), 0);
	consulsched_clear(&s);
	/* a key no session held (job-u is within its lock delay still, so another key): removed
	 * and noted */
	put("t-unc/job-v", "{\"q\":4}");
	assert_int_equal(consul_kv_get(consul, "t-unc/job-v", &kv, &err), 0);
	assert_int_equal(consulsched_unclaim(consul, "t-unc", "u", "t-unc/job-v", kv.modify_index,
					     kv.value, mine, &row, &err),
			 0);
	consul_kv_clear(&kv);
	assert_int_equal(consul_kv_get(consul, "t-unc/job-v", &kv, &err), FS_ENOENT);
	get("t-unc", "u", &s);
	assert_int_equal(s.history_seq, 1);
	consulsched_clear(&s);
	history("t-unc", "u", 0, 0, &rows, &n);
	assert_int_equal(n, 1);
	expect_row(&rows[0], 160, SPOOLSCHED_REFUSED, "interrupted: lost", "job-u", 1);
	spoolsched_slots_free(rows, n);
	assert_int_equal(consulsched_unclaim(consul, "t-unc", "gone", "t-unc/job-u", 1, "{}", mine,
					     &row, &err),
			 FS_ENOENT);
	consul_session_destroy(consul, mine, NULL);
	free(mine);
	free(held);
	free(err);
}

static void test_missed(void **state)
{
	struct spoolsched d = def("m", "* * * * *");
	const int64_t slots[] = { 10, 20, 30 };
	struct spoolsched_slot *rows = NULL;
	struct consulsched s, t;
	char *err = NULL;
	int64_t index = 0;
	size_t n = 0;

	(void)state;
	assert_int_equal(consulsched_set(consul, "t-missed", &d, 1, 10, &err), 0);
	get("t-missed", "m", &s);
	assert_int_equal(consulsched_missed(consul, "t-missed", &s, slots, 3, 5, 9, 30, &index,
					    &err),
			 0);
	get("t-missed", "m", &t);
	assert_int_equal(t.index, index);
	assert_int_equal(t.def.last_slot, 30);
	assert_int_equal(t.history_seq, 4);
	history("t-missed", "m", 0, 0, &rows, &n);
	assert_int_equal(n, 4);
	expect_row(&rows[0], 30, SPOOLSCHED_MISSED, NULL, NULL, 1);
	expect_row(&rows[1], 20, SPOOLSCHED_MISSED, NULL, NULL, 1);
	expect_row(&rows[2], 10, SPOOLSCHED_MISSED, NULL, NULL, 1);
	expect_row(&rows[3], 9, SPOOLSCHED_MISSED, "5 more slots missed", NULL, 5);
	spoolsched_slots_free(rows, n);
	/* the old fence: nothing written */
	assert_int_equal(consulsched_missed(consul, "t-missed", &s, slots, 3, 0, 0, 40, &index,
					    &err),
			 FS_ESTATE);
	consulsched_clear(&s);
	get("t-missed", "m", &s);
	assert_int_equal(s.index, t.index);
	assert_int_equal(nkeys("t-missed/schedule-slots/m/"), 4);
	consulsched_clear(&s);
	consulsched_clear(&t);
	free(err);
}

/* 1010 rows: the ring keeps the 1000 newest in its 1000 keys. */
static void test_ring_wraps(void **state)
{
	struct spoolsched d = def("w", "* * * * *");
	struct spoolsched_slot *rows = NULL;
	int64_t slots[CONSULSCHED_MISSED_ROWS], next = 0, index;
	struct consulsched s;
	char *err = NULL;
	size_t n = 0, k;

	(void)state;
	assert_int_equal(consulsched_set(consul, "t-ring", &d, 0, 10, &err), 0);
	get("t-ring", "w", &s);
	while (next < 1010) {
		for (k = 0; k < CONSULSCHED_MISSED_ROWS && next < 1010; k++, next++)
			slots[k] = next; /* slot = seq: the order is plain to see */
		if (consulsched_missed(consul, "t-ring", &s, slots, k, 0, 0, next - 1, &index,
				       &err) != 0)
			fail_msg("missed: %s", err);
		s.index = index;
		s.history_seq += (int64_t)k;
	}
	consulsched_clear(&s);
	get("t-ring", "w", &s);
	assert_int_equal(s.history_seq, 1010);
	assert_int_equal(nkeys("t-ring/schedule-slots/w/"), CONSULSCHED_RING);
	history("t-ring", "w", 0, 0, &rows, &n);
	assert_int_equal(n, CONSULSCHED_RING);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(rows[i].slot, 1009 - (int64_t)i);
	spoolsched_slots_free(rows, n);
	history("t-ring", "w", 5, 0, &rows, &n);
	assert_int_equal(n, 5);
	assert_int_equal(rows[0].slot, 1009);
	assert_int_equal(rows[4].slot, 1005);
	spoolsched_slots_free(rows, n);
	/* rows recorded before before_ms are left out */
	history("t-ring", "w", 0, clock_real_ms() + 60000, &rows, &n);
	assert_int_equal(n, 0);
	assert_null(rows);
	consulsched_clear(&s);
	free(err);
}

static void test_max_schedules(void **state)
{
	struct spoolsched a = def("one", "* * * * *"), b = def("two", "* * * * *"),
			  c = def("three", "* * * * *");
	char *err = NULL;

	(void)state;
	assert_int_equal(consulsched_set(consul, "t-max", &a, 1, 2, &err), 0);
	assert_int_equal(consulsched_set(consul, "t-max", &b, 1, 2, &err), 0);
	/* ring keys do not count; a key further down is no schedule */
	put("t-max/schedules/x/y", "{}");
	assert_int_equal(consulsched_set(consul, "t-max", &c, 1, 2, &err), FS_EFULL);
	assert_string_equal(err, "Error: at most 2 schedules, cannot add schedule 'three'");
	assert_int_equal(nkeys("t-max/schedules/three"), 0);
	/* replacing one is always allowed */
	a.cron = "0 * * * *";
	assert_int_equal(consulsched_set(consul, "t-max", &a, 1, 2, &err), 0);
	assert_int_equal(consulsched_delete(consul, "t-max", "two", &err), 0);
	assert_int_equal(consulsched_set(consul, "t-max", &c, 1, 2, &err), 0);
	free(err);
}

/* Writers racing on one schedule: every write that reports success is there exactly once (its
 * row at its own seq), and none that reports failure left anything. */
static void test_racing_writers(void **state)
{
	struct spoolsched d = def("race", "* * * * *");
	struct spoolsched_slot *rows = NULL;
	struct consulsched s;
	char *err = NULL;
	int ok = 0, status;
	size_t n = 0;

	(void)state;
	assert_int_equal(consulsched_set(consul, "t-race", &d, 100, 10, &err), 0);
	for (int w = 0; w < 4; w++) {
		pid_t pid = fork();

		assert_true(pid >= 0);
		if (pid == 0) {
			struct spoolsched_slot row = { .result = SPOOLSCHED_REFUSED, .count = 1 };
			struct consul *c = client();
			int mine = 0;

			for (int i = 0; i < 20; i++) {
				row.slot = 1000 * (w + 1) + i;
				mine += consulsched_note(c, "t-race", "race", &row, NULL) == 0;
			}
			_exit(mine);
		}
	}
	while (wait(&status) > 0)
		ok += WIFEXITED(status) ? WEXITSTATUS(status) : 1000;
	get("t-race", "race", &s);
	assert_true(ok > 0);
	assert_int_equal(s.history_seq, ok);
	history("t-race", "race", 0, 0, &rows, &n);
	assert_int_equal(n, (size_t)ok);
	for (size_t i = 0; i < n; i++) /* each write's own row */
		for (size_t j = i + 1; j < n; j++)
			assert_true(rows[i].slot != rows[j].slot);
	spoolsched_slots_free(rows, n);
	consulsched_clear(&s);
	free(err);
}

int main(void)
{
	const char *port = getenv("FS_CONSUL_PORT");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_get_replace),
		cmocka_unit_test(test_pause_resume),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_delete),
		cmocka_unit_test(test_fire),
		cmocka_unit_test(test_unclaim),
		cmocka_unit_test(test_missed),
		cmocka_unit_test(test_ring_wraps),
		cmocka_unit_test(test_max_schedules),
		cmocka_unit_test(test_racing_writers),
	};
	char *err = NULL;
	int failed;

	if (port == NULL || (consul_port = atoi(port)) <= 0) {
		fprintf(stderr,
			"FS_CONSUL_PORT: the agent's HTTP port (run consul_schedstore.sh)\n");
		return 99;
	}
	if (consul_global_init(&err) != 0) {
		fprintf(stderr, "%s\n", err);
		return 99;
	}
	consul = client();
	failed = cmocka_run_group_tests(tests, NULL, NULL);
	consul_free(consul);
	return failed != 0;
}
