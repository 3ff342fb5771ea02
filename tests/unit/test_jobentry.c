/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/jobentry.c: the Consul value built in the original's field order, parsed
 * back, an old Rust server's entry, malformed values (clear errors, no crash), the "free to
 * claim" rule (DONE and not held by another session, or orphaned by a node of ours), a claim's
 * claimedBy and the ops of a claim's undo. */
#define _GNU_SOURCE
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "consul.h"
#include "err.h"
#include "jobentry.h"

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void fill(struct jobentry *e)
{
	jobentry_init(e);
	e->state = SPOOL_DONE;
	e->outcome = SPOOL_FAILED;
	e->job_id = strdup(ID);
	e->job_name = strdup("echo");
	e->factfile_path = strdup("/ff/echo.factfile");
	e->factfile_args = strdup("[\"--tag\",\"k,v\"]");
	e->last_run_from = strdup("node-a");
	e->node = strdup("node-a");
	e->submitted_ms = 1795860000123;
	e->updated_ms = 1795860005000;
	e->started_ms = 1795860001000;
	e->finished_ms = 1795860004999;
	e->exit_code = 3;
	e->reason = strdup("timeout");
	e->submitted_by = strdup("alice");
}

static void test_build_order(void **state)
{
	struct jobentry e;
	char *v;

	(void)state;
	fill(&e);
	v = jobentry_build(&e);
	assert_string_equal(
		v,
		"{\"state\":\"DONE\",\"jobRequest\":{\"jobId\":\"" ID "\",\"jobName\":\"echo\","
		"\"factfilePath\":\"/ff/echo.factfile\",\"factfileArgs\":[\"--tag\",\"k,v\"]},"
		"\"lastRunFrom\":\"node-a\",\"lastOutcome\":\"FAILED\",\"node\":\"node-a\","
		"\"submitted\":\"2026-11-28T10:00:00.123Z\",\"updated\":\"2026-11-28T10:00:05.000Z\","
		"\"runStarted\":\"2026-11-28T10:00:01.000Z\","
		"\"runFinished\":\"2026-11-28T10:00:04.999Z\",\"exitCode\":3,\"exitSignal\":null,"
		"\"reason\":\"timeout\",\"submittedBy\":\"alice\"}");
	free(v);
	jobentry_free(&e);
}

static void test_roundtrip(void **state)
{
	struct jobentry e, back;
	char *v, *err = NULL;

	(void)state;
	fill(&e);
	e.exit_signal = 9;
	v = jobentry_build(&e);
	assert_int_equal(jobentry_parse(v, strlen(v), &back, &err), 0);
	assert_null(err);
	assert_int_equal(back.state, SPOOL_DONE);
	assert_int_equal(back.outcome, SPOOL_FAILED);
	assert_string_equal(back.job_id, ID);
	assert_string_equal(back.job_name, "echo");
	assert_string_equal(back.factfile_path, "/ff/echo.factfile");
	assert_string_equal(back.factfile_args, "[\"--tag\",\"k,v\"]");
	assert_string_equal(back.last_run_from, "node-a");
	assert_string_equal(back.node, "node-a");
	assert_true(back.submitted_ms == e.submitted_ms);
	assert_true(back.updated_ms == e.updated_ms);
	assert_true(back.started_ms == e.started_ms);
	assert_true(back.finished_ms == e.finished_ms);
	assert_int_equal(back.exit_code, 3);
	assert_int_equal(back.exit_signal, 9);
	assert_string_equal(back.reason, "timeout");
	assert_string_equal(back.submitted_by, "alice");
	free(v);
	jobentry_free(&back);
	jobentry_free(&e);
}

/* A new claim: our fields unknown are null; parsing gives them back as absent. */
static void test_queued_nulls(void **state)
{
	struct jobentry e, back;
	char *v;

	(void)state;
	jobentry_init(&e);
	e.state = SPOOL_QUEUED;
	e.outcome = SPOOL_WAITING;
	e.job_id = strdup(ID);
	e.job_name = strdup("n\"q/");
	e.factfile_path = strdup("/p");
	e.factfile_args = strdup("[]");
	e.last_run_from = strdup("n1");
	e.node = strdup("n1");
	v = jobentry_build(&e);
	assert_non_null(strstr(v, "\"jobName\":\"n\\\"q/\""));
	assert_non_null(strstr(v, "\"runStarted\":null"));
	assert_non_null(strstr(v, "\"exitCode\":null"));
	assert_non_null(strstr(v, "\"reason\":null}")); /* no user: no submittedBy */
	assert_int_equal(jobentry_parse(v, strlen(v), &back, NULL), 0);
	assert_string_equal(back.job_name, "n\"q/");
	assert_int_equal(back.exit_code, -1);
	assert_int_equal(back.exit_signal, 0);
	assert_null(back.reason);
	assert_null(back.submitted_by);
	assert_true(back.started_ms == 0);
	free(v);
	jobentry_free(&back);
	jobentry_free(&e);
}

/* What the Rust factotum-server 0.3 wrote: the four fields only, no node, no session. */
static void test_old_rust_entry(void **state)
{
	const char *v = "{\"state\":\"WORKING\",\"jobRequest\":{\"jobId\":\"abc\",\"jobName\":"
			"\"com.acme\",\"factfilePath\":\"/ff/x.factfile\",\"factfileArgs\":"
			"[\"--start\",\"step-2\"]},\"lastRunFrom\":\"rust-node\",\"lastOutcome\":"
			"\"RUNNING\"}";
	struct jobentry e;

	(void)state;
	assert_int_equal(jobentry_parse(v, strlen(v), &e, NULL), 0);
	assert_int_equal(e.state, SPOOL_WORKING);
	assert_int_equal(e.outcome, SPOOL_RUNNING);
	assert_string_equal(e.factfile_args, "[\"--start\",\"step-2\"]");
	assert_string_equal(e.last_run_from, "rust-node");
	assert_null(e.node);
	assert_int_equal(e.exit_code, -1);
	/* unlocked QUEUED/WORKING without our node field: treated as live */
	assert_int_equal(jobentry_claimable(&e, NULL, "s1"), JOBENTRY_HELD);
	jobentry_free(&e);
}

static void test_unknown_fields_ignored(void **state)
{
	const char *v = "{\"future\":{\"x\":[1,2]},\"state\":\"DONE\",\"jobRequest\":{\"jobId\":"
			"\"a\",\"jobName\":\"b\",\"factfilePath\":\"/c\",\"factfileArgs\":[],"
			"\"more\":1},\"lastRunFrom\":\"\",\"lastOutcome\":\"SUCCEEDED\"}";
	struct jobentry e;

	(void)state;
	assert_int_equal(jobentry_parse(v, strlen(v), &e, NULL), 0);
	assert_int_equal(e.outcome, SPOOL_SUCCEEDED);
	jobentry_free(&e);
}

/* expect_bad VALUE FRAGMENT: FS_EINVAL with a message containing FRAGMENT. */
static void expect_bad(const char *v, size_t len, const char *fragment)
{
	struct jobentry e;
	char *err = NULL;

	assert_int_equal(jobentry_parse(v, len, &e, &err), FS_EINVAL);
	assert_non_null(err);
	if (strstr(err, fragment) == NULL)
		fail_msg("'%s': message '%s' lacks '%s'", v, err, fragment);
	free(err);
	jobentry_free(&e);
}

#define J4(state, outcome, args, extra)                                             \
	"{\"state\":" state ",\"jobRequest\":{\"jobId\":\"a\",\"jobName\":\"b\","   \
	"\"factfilePath\":\"/c\",\"factfileArgs\":" args "},\"lastRunFrom\":\"n\"," \
	"\"lastOutcome\":" outcome extra "}"

static void test_malformed(void **state)
{
	(void)state;
	expect_bad("", 0, "not JSON");
	expect_bad("hello", 5, "not JSON");
	expect_bad("{\"state\":", 9, "not JSON");
	expect_bad("[1]", 3, "not a JSON object");
	expect_bad("{\"state\":\"DONE\"}\0x", 18, "not JSON");
	expect_bad("\xff\xfe", 2, "not JSON");
	expect_bad("{}", 2, "'state'");
	expect_bad(J4("\"FINISHED\"", "\"FAILED\"", "[]", ""),
		   strlen(J4("\"FINISHED\"", "\"FAILED\"", "[]", "")), "'state'");
	expect_bad(J4("\"done\"", "\"FAILED\"", "[]", ""),
		   strlen(J4("\"done\"", "\"FAILED\"", "[]", "")), "'state'");
	expect_bad(J4("1", "\"FAILED\"", "[]", ""), strlen(J4("1", "\"FAILED\"", "[]", "")),
		   "'state'");
	expect_bad(J4("\"DONE\"", "\"CANCELLED\"", "[]", ""),
		   strlen(J4("\"DONE\"", "\"CANCELLED\"", "[]", "")), "'lastOutcome'");
	expect_bad(J4("\"DONE\"", "\"FAILED\"", "\"--tag\"", ""),
		   strlen(J4("\"DONE\"", "\"FAILED\"", "\"--tag\"", "")), "factfileArgs");
	expect_bad(J4("\"DONE\"", "\"FAILED\"", "[1]", ""),
		   strlen(J4("\"DONE\"", "\"FAILED\"", "[1]", "")), "factfileArgs");
	expect_bad(J4("\"DONE\"", "\"FAILED\"", "[]", ",\"node\":5"),
		   strlen(J4("\"DONE\"", "\"FAILED\"", "[]", ",\"node\":5")), "'node'");
	expect_bad(J4("\"DONE\"", "\"FAILED\"", "[]", ",\"submittedBy\":[]"),
		   strlen(J4("\"DONE\"", "\"FAILED\"", "[]", ",\"submittedBy\":[]")),
		   "'submittedBy'");
	expect_bad(J4("\"DONE\"", "\"FAILED\"", "[]", ",\"exitCode\":\"1\""),
		   strlen(J4("\"DONE\"", "\"FAILED\"", "[]", ",\"exitCode\":\"1\"")), "'exitCode'");
	expect_bad(J4("\"DONE\"", "\"FAILED\"", "[]", ",\"exitCode\":-4"),
		   strlen(J4("\"DONE\"", "\"FAILED\"", "[]", ",\"exitCode\":-4")), "'exitCode'");
	expect_bad(J4("\"DONE\"", "\"FAILED\"", "[]", ",\"runStarted\":\"yesterday\""),
		   strlen(J4("\"DONE\"", "\"FAILED\"", "[]", ",\"runStarted\":\"yesterday\"")),
		   "'runStarted'");
	expect_bad(J4("\"DONE\"", "\"FAILED\"", "[]", ",\"reason\":[]"),
		   strlen(J4("\"DONE\"", "\"FAILED\"", "[]", ",\"reason\":[]")), "'reason'");
	expect_bad("{\"state\":\"DONE\",\"jobRequest\":{\"jobId\":\"a\",\"jobName\":\"b\","
		   "\"factfileArgs\":[]},\"lastRunFrom\":\"n\",\"lastOutcome\":\"FAILED\"}",
		   strlen("{\"state\":\"DONE\",\"jobRequest\":{\"jobId\":\"a\",\"jobName\":\"b\","
			  "\"factfileArgs\":[]},\"lastRunFrom\":\"n\",\"lastOutcome\":\"FAILED\"}"),
		   "factfilePath");
	expect_bad("{\"state\":\"DONE\",\"jobRequest\":[],\"lastRunFrom\":\"n\","
		   "\"lastOutcome\":\"FAILED\"}",
		   strlen("{\"state\":\"DONE\",\"jobRequest\":[],"
			  "\"lastRunFrom\":\"n\",\"lastOutcome\":\"FAILED\"}"),
		   "'jobRequest'");
	expect_bad(
		"{\"state\":\"DONE\",\"jobRequest\":{\"jobId\":\"a\",\"jobName\":\"b\","
		"\"factfilePath\":\"/c\",\"factfileArgs\":[]},\"lastOutcome\":\"FAILED\"}",
		strlen("{\"state\":\"DONE\",\"jobRequest\":{\"jobId\":\"a\",\"jobName\":\"b\","
		       "\"factfilePath\":\"/c\",\"factfileArgs\":[]},\"lastOutcome\":\"FAILED\"}"),
		"'lastRunFrom'");
	/* a NUL inside a string cannot become a C string */
	expect_bad(J4("\"DONE\"", "\"FAILED\"", "[]", ",\"node\":\"a\\u0000b\""),
		   strlen(J4("\"DONE\"", "\"FAILED\"", "[]", ",\"node\":\"a\\u0000b\"")), "'node'");
}

static void test_claimable(void **state)
{
	struct jobentry e;

	(void)state;
	jobentry_init(&e);
	e.state = SPOOL_DONE;
	assert_int_equal(jobentry_claimable(&e, NULL, "me"), JOBENTRY_FREE);
	assert_int_equal(jobentry_claimable(&e, "other", "me"), JOBENTRY_HELD);
	assert_int_equal(jobentry_claimable(&e, "me", "me"), JOBENTRY_FREE);
	e.state = SPOOL_QUEUED;
	assert_int_equal(jobentry_claimable(&e, "other", "me"), JOBENTRY_HELD);
	assert_int_equal(jobentry_claimable(&e, "me", "me"), JOBENTRY_HELD);
	assert_int_equal(jobentry_claimable(&e, NULL, "me"), JOBENTRY_HELD); /* no node */
	e.node = strdup("dead-node");
	assert_int_equal(jobentry_claimable(&e, NULL, "me"), JOBENTRY_ORPHANED);
	e.state = SPOOL_WORKING;
	assert_int_equal(jobentry_claimable(&e, NULL, "me"), JOBENTRY_ORPHANED);
	assert_int_equal(jobentry_claimable(&e, "other", "me"), JOBENTRY_HELD);
	jobentry_free(&e);
}

static void test_from_job_and_key(void **state)
{
	struct spool_job job;
	struct jobentry e;
	char *k, *v;

	(void)state;
	memset(&job, 0, sizeof(job));
	job.id = ID;
	job.job_name = "j";
	job.factfile_path = "/f";
	job.factfile_args = "[\"-x\"]";
	job.state = SPOOL_WORKING;
	job.outcome = SPOOL_RUNNING;
	job.node = "n2";
	job.created_ms = 1000;
	job.started_ms = 2000;
	job.exit_code = -1;
	jobentry_from_job(&e, &job);
	v = jobentry_build(&e);
	assert_non_null(strstr(v, "\"state\":\"WORKING\""));
	assert_non_null(strstr(v, "\"lastRunFrom\":\"n2\",\"lastOutcome\":\"RUNNING\",\"node\":"
				  "\"n2\",\"submitted\":\"1970-01-01T00:00:01.000Z\""));
	assert_non_null(strstr(v, "\"exitCode\":null"));
	free(v);
	jobentry_free(&e);
	k = jobentry_key("com.snowplowanalytics/factotum", ID);
	assert_string_equal(k, "com.snowplowanalytics/factotum/" ID);
	free(k);
}

/* Strings an older server stored unchecked: the Consul value (and so every answer built from
 * the entry) carries U+FFFD, one per maximal ill-formed subpart, never the raw bytes. */
static void test_not_utf8_stored(void **state)
{
	struct jobentry e;
	const char *value;
	char *v;

	(void)state;
	fill(&e);
	free(e.job_name);
	free(e.factfile_path);
	free(e.factfile_args);
	free(e.reason);
	e.job_name = strdup("j\xffk");
	e.factfile_path = strdup("/\xc0\xafx");
	e.factfile_args = strdup("[\"--tag\",\"t,\xed\xa0\x80\",\"ok\xc3\xa9\"]");
	e.reason = strdup("r\xe2\x82");
	free(e.submitted_by);
	e.submitted_by = strdup("a\xff");
	v = jobentry_build(&e);
	assert_non_null(
		strstr(v, "\"jobName\":\"j\xef\xbf\xbdk\","
			  "\"factfilePath\":\"/\xef\xbf\xbd\xef\xbf\xbdx\","
			  "\"factfileArgs\":[\"--tag\",\"t,\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\","
			  "\"ok\xc3\xa9\"]"));
	assert_non_null(
		strstr(v, "\"reason\":\"r\xef\xbf\xbd\",\"submittedBy\":\"a\xef\xbf\xbd\"}"));
	free(v);
	jobentry_free(&e);
	/* an entry in Consul with bytes json-c lets through (an overlong '/') is read, and
	 * written again without them */
	value = J4("\"DONE\"", "\"FAILED\"", "[\"\xc0\xaf\"]", "");
	assert_int_equal(jobentry_parse(value, strlen(value), &e, NULL), 0);
	v = jobentry_build(&e);
	assert_non_null(strstr(v, "\"factfileArgs\":[\"\xef\xbf\xbd\xef\xbf\xbd\"]"));
	free(v);
	jobentry_free(&e);
}

/* A claim's entry names its responder after every other field; answers and later writes (built
 * without it) do not. */
static void test_claimed_by(void **state)
{
	struct jobentry e, back;
	struct json_object *o;
	char *v, *err = NULL;
	const char *tail = ",\"claimedBy\":{\"node\":\"node-a\",\"pid\":4242,"
			   "\"start\":18446744073709551615,\"claim\":7}}";

	(void)state;
	fill(&e);
	e.claimed_by.node = strdup("node-a");
	e.claimed_by.pid = 4242;
	e.claimed_by.start = 18446744073709551615ULL;
	e.claimed_by.claim = 7;
	v = jobentry_build(&e);
	assert_true(strlen(v) > strlen(tail));
	assert_string_equal(v + strlen(v) - strlen(tail), tail);
	assert_int_equal(jobentry_parse(v, strlen(v), &back, &err), 0);
	assert_string_equal(back.claimed_by.node, "node-a");
	assert_int_equal(back.claimed_by.pid, 4242);
	assert_true(back.claimed_by.start == 18446744073709551615ULL);
	assert_int_equal(back.claimed_by.claim, 7);
	o = jobentry_to_json(&e);
	assert_false(json_object_object_get_ex(o, "claimedBy", NULL));
	json_object_put(o);
	jobentry_free(&back);
	free(v);
	jobentry_free(&e);
	/* absent: nothing written, nothing parsed */
	fill(&e);
	v = jobentry_build(&e);
	assert_null(strstr(v, "claimedBy"));
	assert_int_equal(jobentry_parse(v, strlen(v), &back, &err), 0);
	assert_null(back.claimed_by.node);
	jobentry_free(&back);
	free(v);
	jobentry_free(&e);
}

static void test_claimed_by_malformed(void **state)
{
	static const char *const bad[] = {
		"\"claimedBy\":\"node-a\"",
		"\"claimedBy\":{\"pid\":1,\"start\":2,\"claim\":3}",
		"\"claimedBy\":{\"node\":\"n\",\"pid\":0,\"start\":2,\"claim\":3}",
		"\"claimedBy\":{\"node\":\"n\",\"pid\":1,\"start\":-2,\"claim\":3}",
		"\"claimedBy\":{\"node\":\"n\",\"pid\":1,\"start\":2}",
		"\"claimedBy\":{\"node\":\"n\",\"pid\":\"1\",\"start\":2,\"claim\":3}",
	};
	struct jobentry e;
	char *v, *err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		v = NULL;
		assert_true(asprintf(&v,
				     "{\"state\":\"QUEUED\",\"jobRequest\":{\"jobId\":\"x\","
				     "\"jobName\":\"j\",\"factfilePath\":\"/f\","
				     "\"factfileArgs\":[]},\"lastRunFrom\":\"n\","
				     "\"lastOutcome\":\"WAITING\",%s}",
				     bad[i]) > 0);
		assert_int_equal(jobentry_parse(v, strlen(v), &e, &err), FS_EINVAL);
		assert_string_equal(err, "field 'claimedBy' is not an object with a string node "
					 "and numbers pid, start and claim");
		assert_null(e.claimed_by.node);
		jobentry_free(&e);
		free(err);
		free(v);
	}
}

/* The undo of a claim, as doc/consul.md's operations table gives it. */
/* The entry a claim writes (a /submit's or a schedule slot's): QUEUED/WAITING, the node as
 * lastRunFrom and node, submittedBy when given, claimedBy last. */
static void test_claim_build(void **state)
{
	struct spool_submit sub = { .id = "0123456789abcdef0123456789abcdef"
					  "0123456789abcdef0123456789abcdef",
				    .job_name = "j",
				    .factfile_path = "/f",
				    .factfile_args = "[\"--tag\",\"slot,2026-01-01T00:00:00Z\"]",
				    .node = "node-b",
				    .submitted_by = "schedule:s" };
	struct jobentry_claimer by = { .node = "node-b", .pid = 12, .start = 34, .claim = 5 };
	struct jobentry back;
	char *v = jobentry_claim_build(&sub, &by), *err = NULL;
	const char *head = "{\"state\":\"QUEUED\",\"jobRequest\":{\"jobId\":\"0123456789abcdef"
			   "0123456789abcdef0123456789abcdef0123456789abcdef\",\"jobName\":\"j\","
			   "\"factfilePath\":\"/f\",\"factfileArgs\":[\"--tag\",\"slot,"
			   "2026-01-01T00:00:00Z\"]},\"lastRunFrom\":\"node-b\","
			   "\"lastOutcome\":\"WAITING\",\"node\":\"node-b\",\"submitted\":\"";
	const char *tail = ",\"submittedBy\":\"schedule:s\",\"claimedBy\":{\"node\":\"node-b\","
			   "\"pid\":12,\"start\":34,\"claim\":5}}";

	(void)state;
	assert_memory_equal(v, head, strlen(head));
	assert_string_equal(v + strlen(v) - strlen(tail), tail);
	assert_int_equal(jobentry_parse(v, strlen(v), &back, &err), 0);
	assert_int_equal(back.state, SPOOL_QUEUED);
	assert_int_equal(back.outcome, SPOOL_WAITING);
	assert_true(back.submitted_ms > 0);
	assert_true(back.submitted_ms == back.updated_ms);
	jobentry_free(&back);
	free(v);
	/* no user: no submittedBy */
	sub.submitted_by = NULL;
	v = jobentry_claim_build(&sub, &by);
	assert_null(strstr(v, "submittedBy"));
	free(v);
}

static void test_undo_ops(void **state)
{
	struct consul_op ops[2];

	(void)state;
	assert_int_equal(jobentry_undo_ops(ops, "ns/k", 17, NULL, "s1"), 1);
	assert_int_equal(ops[0].verb, CONSUL_DELETE_CAS);
	assert_string_equal(ops[0].key, "ns/k");
	assert_int_equal(ops[0].index, 17);
	assert_int_equal(jobentry_undo_ops(ops, "ns/k", 18, "{prev}", "s1"), 2);
	assert_int_equal(ops[0].verb, CONSUL_CHECK_INDEX);
	assert_int_equal(ops[0].index, 18);
	assert_int_equal(ops[1].verb, CONSUL_UNLOCK);
	assert_string_equal(ops[1].key, "ns/k");
	assert_string_equal(ops[1].value, "{prev}");
	assert_string_equal(ops[1].session, "s1");
	/* released meanwhile: put back without taking a lock */
	assert_int_equal(jobentry_undo_ops(ops, "ns/k", 19, "{prev}", NULL), 2);
	assert_int_equal(ops[0].verb, CONSUL_CHECK_INDEX);
	assert_int_equal(ops[1].verb, CONSUL_SET);
	assert_null(ops[1].session);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_order),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_queued_nulls),
		cmocka_unit_test(test_old_rust_entry),
		cmocka_unit_test(test_unknown_fields_ignored),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_claimable),
		cmocka_unit_test(test_from_job_and_key),
		cmocka_unit_test(test_not_utf8_stored),
		cmocka_unit_test(test_claimed_by),
		cmocka_unit_test(test_claimed_by_malformed),
		cmocka_unit_test(test_undo_ops),
		cmocka_unit_test(test_claim_build),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
