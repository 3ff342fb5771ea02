/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for worker/reconrule.c, the reconciliation's decisions (doc/consul.md): a claim of a
 * journal is undone only when its responder is gone, the key still holds exactly that claim's
 * QUEUED entry under this node's session (or none), and the spool lacks the job it made; an undone
 * claim is a schedule slot's when its arguments carry the slot's two tags; an entry is written
 * again only when Consul lost the key of a job the node holds; a slot's job entry is an orphan to
 * delete only while QUEUED, unlocked and still the claim. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "consul.h"
#include "jobentry.h"
#include "reconrule.h"
#include "spool.h"

/* A dead responder's claim 3 whose QUEUED entry is still at index 40 under session "s1", and no
 * job in the spool: the one case to undo, each test changes one fact of it. */
struct fixture {
	struct consul_kv kv;
	struct jobentry e;
	struct spool_job job;
	struct reconrule_claim c;
};

static void fixture_init(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	jobentry_init(&f->e);
	f->e.state = SPOOL_QUEUED;
	f->e.outcome = SPOOL_WAITING;
	f->e.claimed_by.node = (char *)"node-a";
	f->e.claimed_by.pid = 1234;
	f->e.claimed_by.start = 99887766;
	f->e.claimed_by.claim = 3;
	f->kv.session = (char *)"s1";
	f->kv.modify_index = 40;
	f->c.alive = 0;
	f->c.node = "node-a";
	f->c.pid = 1234;
	f->c.start = 99887766;
	f->c.number = 3;
	f->c.kv = &f->kv;
	f->c.e = &f->e;
	f->c.session = "s1";
	f->c.job = NULL;
	f->job.state = SPOOL_DONE;
	f->job.consul_index = 12;
}

static enum reconrule_act decide(struct fixture *f, const char *want_why)
{
	const char *why = NULL;
	enum reconrule_act a = reconrule_claim(&f->c, &why);

	assert_non_null(why);
	assert_string_equal(why, want_why);
	return a;
}

static void test_claim_undone(void **state)
{
	struct fixture f;

	(void)state;
	fixture_init(&f);
	assert_int_equal(decide(&f, "the spool does not hold the claimed job"), RECONRULE_UNDO);
	/* the lock already released (the session ended): still the claim's entry */
	f.kv.session = NULL;
	assert_int_equal(decide(&f, "the spool does not hold the claimed job"), RECONRULE_UNDO);
	/* the spool's DONE job is an earlier submission's (another index) */
	fixture_init(&f);
	f.c.job = &f.job;
	assert_int_equal(decide(&f, "the spool does not hold the claimed job"), RECONRULE_UNDO);
}

/* Between its txn and its commit a live responder's claim has no job behind it yet. */
static void test_claim_live_never_undone(void **state)
{
	struct fixture f;

	(void)state;
	fixture_init(&f);
	f.c.alive = 1;
	assert_int_equal(decide(&f, "its responder still runs"), RECONRULE_LEAVE);
}

static void test_claim_key_gone_or_foreign(void **state)
{
	struct fixture f;

	(void)state;
	fixture_init(&f);
	f.c.kv = NULL;
	f.c.e = NULL;
	assert_int_equal(decide(&f, "the key is gone"), RECONRULE_LEAVE);
	fixture_init(&f);
	f.c.e = NULL;
	assert_int_equal(decide(&f, "the key holds no job entry"), RECONRULE_LEAVE);
	fixture_init(&f);
	f.kv.session = (char *)"s2";
	assert_int_equal(decide(&f, "another session holds the key"), RECONRULE_LEAVE);
	fixture_init(&f);
	f.c.session = NULL;
	assert_int_equal(decide(&f, "another session holds the key"), RECONRULE_LEAVE);
}

/* Any other writer, or another claim, leaves its own mark: not this claim to undo. */
static void test_claim_moved_on(void **state)
{
	struct fixture f;

	(void)state;
	fixture_init(&f);
	f.e.claimed_by.node = NULL; /* a transition written from the spool */
	assert_int_equal(decide(&f, "the entry moved on"), RECONRULE_LEAVE);
	fixture_init(&f);
	f.e.claimed_by.node = (char *)"node-b";
	assert_int_equal(decide(&f, "the entry moved on"), RECONRULE_LEAVE);
	fixture_init(&f);
	f.e.claimed_by.pid = 1235;
	assert_int_equal(decide(&f, "the entry moved on"), RECONRULE_LEAVE);
	fixture_init(&f);
	f.e.claimed_by.start = 99887767; /* the same pid, another process */
	assert_int_equal(decide(&f, "the entry moved on"), RECONRULE_LEAVE);
	fixture_init(&f);
	f.e.claimed_by.claim = 4; /* a later claim of the same responder */
	assert_int_equal(decide(&f, "the entry moved on"), RECONRULE_LEAVE);
	fixture_init(&f);
	f.e.state = SPOOL_DONE;
	assert_int_equal(decide(&f, "the entry moved on"), RECONRULE_LEAVE);
}

static void test_claim_committed(void **state)
{
	struct fixture f;

	(void)state;
	fixture_init(&f);
	f.c.job = &f.job;
	f.job.state = SPOOL_QUEUED;
	f.job.consul_index = 40;
	assert_int_equal(decide(&f, "the spool holds the job"), RECONRULE_LEAVE);
	/* re-acquired under a new session whose index has not reached the spool yet */
	f.job.consul_index = 38;
	assert_int_equal(decide(&f, "the spool holds the job"), RECONRULE_LEAVE);
	f.job.state = SPOOL_WORKING;
	assert_int_equal(decide(&f, "the spool holds the job"), RECONRULE_LEAVE);
	/* run to its end while Consul was away: the claim's own index */
	f.job.state = SPOOL_DONE;
	f.job.consul_index = 40;
	assert_int_equal(decide(&f, "the spool holds the job"), RECONRULE_LEAVE);
}

static enum reconrule_act entry(const struct spool_job *job, int exists, int outbox,
				const char *session, const char *want_why)
{
	const char *why = NULL;
	enum reconrule_act a = reconrule_entry(job, exists, outbox, session, &why);

	assert_non_null(why);
	assert_string_equal(why, want_why);
	return a;
}

static void test_entry_rewrite(void **state)
{
	struct spool_job job;

	(void)state;
	memset(&job, 0, sizeof(job));
	job.consul_index = 40;
	job.state = SPOOL_QUEUED;
	assert_int_equal(entry(&job, 0, 0, "s1", "Consul lost the entry"), RECONRULE_REWRITE);
	job.state = SPOOL_WORKING;
	assert_int_equal(entry(&job, 0, 0, "s1", "Consul lost the entry"), RECONRULE_REWRITE);
	job.state = SPOOL_DONE;
	job.reason = (char *)"timeout";
	assert_int_equal(entry(&job, 0, 0, NULL, "Consul lost the entry"), RECONRULE_REWRITE);
}

static void test_entry_leave(void **state)
{
	struct spool_job job;

	(void)state;
	memset(&job, 0, sizeof(job));
	job.consul_index = 40;
	job.state = SPOOL_QUEUED;
	assert_int_equal(entry(&job, 1, 0, "s1", "the key exists"), RECONRULE_LEAVE);
	assert_int_equal(entry(&job, 0, 1, "s1", "the outbox writes it"), RECONRULE_LEAVE);
	assert_int_equal(entry(&job, 0, 0, NULL, "no session to lock it with"), RECONRULE_LEAVE);
	job.consul_index = 0; /* queued with --no-consul, or its entry removed by retention */
	assert_int_equal(entry(&job, 0, 0, "s1", "never claimed in Consul"), RECONRULE_LEAVE);
	job.consul_index = 40;
	job.state = SPOOL_DONE;
	job.reason = (char *)"consul-lost";
	assert_int_equal(entry(&job, 0, 0, "s1", "another node owns the id"), RECONRULE_LEAVE);
}

/* The slot of an entry whose factfileArgs are args (JSON text), or "-" when it is none. */
static void slot_of(const char *args, const char *want_name, int64_t want_slot)
{
	struct jobentry e;
	char *name = (char *)"unset";
	int64_t slot = -1;
	int found;

	jobentry_init(&e);
	e.factfile_args = (char *)args;
	found = reconrule_slot(&e, &name, &slot);
	if (strcmp(want_name, "-") == 0) {
		assert_int_equal(found, 0);
		assert_null(name);
		return;
	}
	assert_int_equal(found, 1);
	assert_string_equal(name, want_name);
	assert_int_equal(slot, want_slot);
	free(name);
}

static void test_slot_tags(void **state)
{
	(void)state;
	/* what schedjob_request appends, after the schedule's own arguments */
	slot_of("[\"--env\",\"{\\\"a\\\":\\\"b\\\"}\",\"--tag\",\"schedule,nightly\","
		"\"--tag\",\"slot,2026-03-29T01:00:00Z\"]",
		"nightly", 1774746000);
	/* Factotum's grammar: "--tag=k,v", the key and value trimmed, the last of a repeated tag */
	slot_of("[\"--tag=schedule, n.1 \",\"--tag\",\"slot,1999-01-01T00:00:00Z\",\"--tag\","
		"\"slot,2024-02-29T23:59:59Z\"]",
		"n.1", 1709251199);
}

static void test_slot_none(void **state)
{
	(void)state;
	slot_of(NULL, "-", 0);
	slot_of("[]", "-", 0);
	slot_of("[\"--tag\",\"schedule,nightly\"]", "-", 0);
	slot_of("[\"--tag\",\"slot,2026-03-29T01:00:00Z\"]", "-", 0);
	slot_of("[\"--tag\",\"schedule,\",\"--tag\",\"slot,2026-03-29T01:00:00Z\"]", "-", 0);
	/* constraints are not tags; an option's value is not an option */
	slot_of("[\"--constraint\",\"schedule,n\",\"--constraint\",\"slot,2026-03-29T01:00:00Z\"]",
		"-", 0);
	slot_of("[\"--start\",\"--tag\",\"--env\",\"{}\",\"--tag\",\"schedule,n\"]", "-", 0);
	/* arguments Factotum refuses, or no array of strings */
	slot_of("[\"--bogus\",\"--tag\",\"schedule,n\",\"--tag\",\"slot,2026-03-29T01:00:00Z\"]",
		"-", 0);
	slot_of("{\"--tag\":1}", "-", 0);
	slot_of("[1]", "-", 0);
	slot_of("[\"--tag\",\"schedule,n\"],\"x\":[", "-", 0);
}

static void test_slot_text(void **state)
{
	static const char *const bad[] = {
		"2026-3-29T01:00:00Z",      "2026-03-29T01:00:00",  "2026-03-29T01:00:00Zx",
		"2026-03-29 01:00:00Z",     "2026-02-30T00:00:00Z", "2026-03-29T24:00:00Z",
		"2026-13-01T00:00:00Z",     "2026-03-29T01:00:60Z", "+026-03-29T01:00:00Z",
		"2026-03-29T01:00:00.000Z",
	};
	char args[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(args, sizeof(args), "[\"--tag\",\"schedule,n\",\"--tag\",\"slot,%s\"]",
			 bad[i]);
		slot_of(args, "-", 0);
	}
	slot_of("[\"--tag\",\"schedule,n\",\"--tag\",\"slot,1970-01-01T00:00:00Z\"]", "n", 0);
}

/* A slot's entry is an orphan only while QUEUED, unlocked and still the claim; held while a
 * session holds that claim. */
static void test_orphan(void **state)
{
	struct fixture f;

	(void)state;
	fixture_init(&f);
	f.kv.session = NULL;
	assert_int_equal(reconrule_orphan(&f.kv, &f.e), RECONRULE_ORPHAN);
	assert_int_equal(reconrule_orphan(NULL, &f.e), RECONRULE_NOT_CLAIM);
	assert_int_equal(reconrule_orphan(&f.kv, NULL), RECONRULE_NOT_CLAIM);
	f.kv.session = (char *)"s1";
	assert_int_equal(reconrule_orphan(&f.kv, &f.e), RECONRULE_HELD);
	f.e.state = SPOOL_WORKING;
	assert_int_equal(reconrule_orphan(&f.kv, &f.e), RECONRULE_NOT_CLAIM);
	f.kv.session = NULL;
	assert_int_equal(reconrule_orphan(&f.kv, &f.e), RECONRULE_NOT_CLAIM);
	f.e.state = SPOOL_DONE;
	assert_int_equal(reconrule_orphan(&f.kv, &f.e), RECONRULE_NOT_CLAIM);
	f.e.state = SPOOL_QUEUED;
	f.e.claimed_by.node = NULL;
	assert_int_equal(reconrule_orphan(&f.kv, &f.e), RECONRULE_NOT_CLAIM);
	f.kv.session = (char *)"s1";
	assert_int_equal(reconrule_orphan(&f.kv, &f.e), RECONRULE_NOT_CLAIM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_claim_undone),
		cmocka_unit_test(test_claim_live_never_undone),
		cmocka_unit_test(test_claim_key_gone_or_foreign),
		cmocka_unit_test(test_claim_moved_on),
		cmocka_unit_test(test_claim_committed),
		cmocka_unit_test(test_entry_rewrite),
		cmocka_unit_test(test_entry_leave),
		cmocka_unit_test(test_slot_tags),
		cmocka_unit_test(test_slot_none),
		cmocka_unit_test(test_slot_text),
		cmocka_unit_test(test_orphan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
