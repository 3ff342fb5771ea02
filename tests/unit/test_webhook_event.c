/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for runner/event.c: job_update and task_update payloads byte for byte as Factotum
 * 0.7.0 builds them (key order, optional fields per state, base64 factfile, tags), chrono's
 * duration text, the startTime format, and output tails counted in UTF-8 characters. The
 * expected base64 and job reference were computed with coreutils (base64 -w0, sha256sum). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <nettle/base64.h>

#include "factargs.h"
#include "factfile.h"
#include "jobid.h"
#include "webhook.h"
#include "xalloc.h"

#define ARGV(...) ((char *const[]){ __VA_ARGS__, NULL })

#define FF_TEXT                                                                                   \
	"{\"schema\":\"iglu:com.snowplowanalytics.factotum/factfile/jsonschema/1-0-0\",\n"        \
	" \"data\":{\"name\":\"demo {{tag:env}}\",\"tasks\":[\n"                                  \
	"  {\"name\":\"a\",\"executor\":\"shell\",\"command\":\"echo\",\"arguments\":[\"x\"],"    \
	"\"dependsOn\":[],\"onResult\":{\"terminateJobWithSuccess\":[3],\"continueJob\":[0]}},\n" \
	"  {\"name\":\"b\",\"executor\":\"shell\",\"command\":\"echo\",\"arguments\":[\"y\"],"    \
	"\"dependsOn\":[\"a\"],\"onResult\":{\"terminateJobWithSuccess\":[],\"continueJob\":[0]}}]}}"

/* ff.compact after rendering {{tag:env}}. */
#define COMPACT                                                                                   \
	"{\"schema\":\"iglu:com.snowplowanalytics.factotum/factfile/jsonschema/1-0-0\",\"data\":" \
	"{\"name\":\"demo prod\",\"tasks\":[{\"name\":\"a\",\"executor\":\"shell\",\"command\":"  \
	"\"echo\",\"arguments\":[\"x\"],\"dependsOn\":[],\"onResult\":{\"terminateJobWithSucces"  \
	"s\":[3],\"continueJob\":[0]}},{\"name\":\"b\",\"executor\":\"shell\",\"command\":\"echo" \
	"\",\"arguments\":[\"y\"],\"dependsOn\":[\"a\"],\"onResult\":{\"terminateJobWithSuccess"  \
	"\":[],\"continueJob\":[0]}}]}}"

/* base64 -w0 of COMPACT. */
#define B64                                                                                        \
	"eyJzY2hlbWEiOiJpZ2x1OmNvbS5zbm93cGxvd2FuYWx5dGljcy5mYWN0b3R1bS9mYWN0ZmlsZS9qc29uc2NoZW1"  \
	"hLzEtMC0wIiwiZGF0YSI6eyJuYW1lIjoiZGVtbyBwcm9kIiwidGFza3MiOlt7Im5hbWUiOiJhIiwiZXhlY3V0b3"  \
	"IiOiJzaGVsbCIsImNvbW1hbmQiOiJlY2hvIiwiYXJndW1lbnRzIjpbIngiXSwiZGVwZW5kc09uIjpbXSwib25SZX" \
	"N1bHQiOnsidGVybWluYXRlSm9iV2l0aFN1Y2Nlc3MiOlszXSwiY29udGludWVKb2IiOlswXX19LHsibmFtZSI6Im" \
	"IiLCJleGVjdXRvciI6InNoZWxsIiwiY29tbWFuZCI6ImVjaG8iLCJhcmd1bWVudHMiOlsieSJdLCJkZXBlbmRzT2" \
	"4iOlsiYSJdLCJvblJlc3VsdCI6eyJ0ZXJtaW5hdGVKb2JXaXRoU3VjY2VzcyI6W10sImNvbnRpbnVlSm9iIjpbMF" \
	"19fV19fQ=="

/* sha256sum of COMPACT then Zed "x" env prod team data (tags in byte order). */
#define JOBREF "f30158e14f5bcd4d6fed4fcd683946cac4b491f20504d6462c1c26d82f923420"
#define RUNREF "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

#define HEAD(kind)                                                                        \
	"{\"schema\":\"iglu:com.snowplowanalytics.factotum/" kind "/jsonschema/1-0-0\","  \
	"\"data\":{\"applicationContext\":{\"name\":\"factotum\",\"version\":\"0.7.0\"}," \
	"\"factfile\":\"" B64 "\",\"jobName\":\"demo prod\",\"jobReference\":\"" JOBREF "\","
#define MIDDLE(duration, state)                                                                  \
	"\"runDuration\":\"" duration "\",\"runReference\":\"" RUNREF "\",\"runState\":\"" state \
	"\",\"startTime\":\"2023-11-14T22:13:20.123Z\",\"tags\":{\"Zed\":\"\\\"x\\\"\","         \
	"\"env\":\"prod\",\"team\":\"data\"},"

struct event_fixture {
	struct factfile ff;
	struct factargs fa;
	struct run run;
	struct run_task tasks[2];
	size_t order[2];
	struct timespec now;
};

static int setup(void **state)
{
	struct event_fixture *f = xcalloc(1, sizeof(*f));
	char *err = NULL;
	size_t i;

	/* Tags out of order, and one whose value needs escaping. */
	if (factargs_parse(6, ARGV("--tag", "team,data", "--tag", "env,prod", "--tag", "Zed,\"x\""),
			   &f->fa, &err) != 0)
		fail_msg("factargs_parse: %s", err);
	if (factfile_parse(FF_TEXT, strlen(FF_TEXT), "t.factfile", &f->fa.vars, FACTFILE_RULES_OURS,
			   &f->ff, &err) != 0)
		fail_msg("factfile_parse: %s", err);
	f->run.ff = &f->ff;
	f->run.fa = &f->fa;
	jobid_compute(f->ff.compact, f->ff.compact_len, &f->fa.tags, f->run.job_ref);
	memcpy(f->run.run_ref, RUNREF, 65);
	f->run.start_real = (struct timespec){ 1700000000, 123999999 }; /* 2023-11-14T22:13:20 */
	f->run.start_mono = (struct timespec){ 1000, 500000000 };
	f->now = (struct timespec){ 1000, 512000000 }; /* 12 ms later */
	f->run.state = JOB_WAITING;
	f->run.tasks = f->tasks;
	f->run.n_tasks = 2;
	f->order[0] = 0;
	f->order[1] = 1;
	f->run.order = f->order;
	f->run.n_order = 2;
	for (i = 0; i < 2; i++) {
		f->tasks[i].def = &f->ff.tasks[i];
		buf_init(&f->tasks[i].out);
		buf_init(&f->tasks[i].err);
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct event_fixture *f = *state;
	size_t i;

	for (i = 0; i < 2; i++) {
		buf_free(&f->tasks[i].out);
		buf_free(&f->tasks[i].err);
		free(f->tasks[i].error_message);
	}
	factfile_free(&f->ff);
	factargs_free(&f->fa);
	free(f);
	return 0;
}

static void check_event(struct event_fixture *f, const char *kind, int prev,
			const struct task_transition *tr, size_t n, long max, const char *want)
{
	char *got = webhook_event_json_at(&f->run, kind, prev, tr, n, max, &f->now);

	assert_string_equal(got, want);
	free(got);
}

/* Task a started at start_real + 1 s (monotonic start + 1 s). */
static void start_a(struct event_fixture *f)
{
	struct run_task *a = &f->tasks[0];

	a->state = TASK_RUNNING;
	a->started = 1;
	a->start_real = (struct timespec){ 1700000001, 5000000 };
	a->start_mono = (struct timespec){ 1001, 500000000 };
}

static void finish_a(struct event_fixture *f, enum task_state st, int code)
{
	struct run_task *a = &f->tasks[0];

	a->state = st;
	a->finished = 1;
	a->has_return_code = 1;
	a->return_code = code;
	a->end_mono = (struct timespec){ 1004, 0 }; /* 2.5 s */
}

static void test_setup_sanity(void **state)
{
	struct event_fixture *f = *state;
	uint8_t dec[1024];
	size_t declen = sizeof(dec);
	struct base64_decode_ctx ctx;

	assert_string_equal(f->ff.compact, COMPACT);
	assert_string_equal(f->run.job_ref, JOBREF);
	/* The factfile field decodes back to the hashed text. */
	base64_decode_init(&ctx);
	assert_true(base64_decode_update(&ctx, &declen, dec, strlen(B64), B64));
	assert_true(base64_decode_final(&ctx));
	assert_int_equal(declen, f->ff.compact_len);
	assert_memory_equal(dec, f->ff.compact, declen);
}

static void test_job_waiting(void **state)
{
	struct event_fixture *f = *state;

	check_event(
		f, "job_update", -1, NULL, 0, 10000,
		HEAD("job_update") "\"jobTransition\":{\"currentState\":\"WAITING\",\"previousState\":null}," MIDDLE(
			"PT0.012S",
			"WAITING") "\"taskStates\":[{\"state\":\"WAITING\",\"taskName\":\"a\"},"
				   "{\"state\":\"WAITING\",\"taskName\":\"b\"}]}}");
}

static void test_job_running_and_task_start(void **state)
{
	struct event_fixture *f = *state;
	struct task_transition tr = { 0, TASK_WAITING, TASK_RUNNING };

	f->run.state = JOB_RUNNING;
	start_a(f);
	check_event(
		f, "job_update", JOB_WAITING, NULL, 0, 10000,
		HEAD("job_update") "\"jobTransition\":{\"currentState\":\"RUNNING\",\"previousState\":\"WAITING\"}," MIDDLE(
			"PT0.012S",
			"RUNNING") "\"taskStates\":[{\"started\":\"2023-11-14T22:13:21.005Z\",\"state\":\"RUNNING\","
				   "\"taskName\":\"a\"},{\"state\":\"WAITING\",\"taskName\":\"b\"}]}}");
	/* Output of a running task is not sent without --heartbeat-interval. */
	buf_puts(&f->tasks[0].out, "partial\n");
	check_event(
		f, "task_update", -1, &tr, 1, 10000,
		HEAD("task_update") MIDDLE(
			"PT0.012S",
			"RUNNING") "\"taskStates\":[{\"started\":\"2023-11-14T22:13:21.005Z\",\"state\":\"RUNNING\","
				   "\"taskName\":\"a\"},{\"state\":\"WAITING\",\"taskName\":\"b\"}],"
				   "\"taskTransitions\":[{\"currentState\":\"RUNNING\",\"previousState\":\"WAITING\","
				   "\"taskName\":\"a\"}]}}");
}

static void test_task_failed_with_skip(void **state)
{
	struct event_fixture *f = *state;
	struct task_transition tr[2] = { { 0, TASK_RUNNING, TASK_FAILED },
					 { 1, TASK_WAITING, TASK_SKIPPED } };

	f->run.state = JOB_RUNNING;
	start_a(f);
	finish_a(f, TASK_FAILED, 1);
	f->tasks[0].error_message = xstrdup("the task exited with a value not specified in "
					    "continue_job - 1 (task expects one of the following "
					    "return codes to continue [0])");
	/* Lines joined without the final newline; the tail keeps the last 3 characters, whole. */
	buf_puts(&f->tasks[0].out, "one\r\ntwo \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\n");
	buf_puts(&f->tasks[0].err, "bad \"thing\"\t\n");
	f->tasks[1].state = TASK_SKIPPED;
	f->tasks[1].error_message = xstrdup("the task 'a' failed");
	check_event(
		f, "task_update", -1, tr, 2, 3,
		HEAD("task_update") MIDDLE(
			"PT0.012S",
			"RUNNING") "\"taskStates\":[{\"duration\":\"PT2.500S\",\"errorMessage\":\"the task exited "
				   "with a value not specified in continue_job - 1 (task expects one of the "
				   "following return codes to continue [0])\",\"returnCode\":1,"
				   "\"started\":\"2023-11-14T22:13:21.005Z\",\"state\":\"FAILED\","
				   "\"stderr\":\"g\\\"\\t\",\"stdout\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\","
				   "\"taskName\":\"a\"},"
				   "{\"errorMessage\":\"the task 'a' failed\",\"state\":\"SKIPPED\",\"taskName\":\"b\"}],"
				   "\"taskTransitions\":[{\"currentState\":\"FAILED\",\"previousState\":\"RUNNING\","
				   "\"taskName\":\"a\"},{\"currentState\":\"SKIPPED\",\"previousState\":\"WAITING\","
				   "\"taskName\":\"b\"}]}}");
	/* The final job event: FAILED, no task transitions, the same task states. */
	f->run.state = JOB_FAILED;
	f->now = (struct timespec){ 4725, 623456789 }; /* 3725.123456789 s after the start */
	check_event(
		f, "job_update", JOB_RUNNING, NULL, 0, 10000,
		HEAD("job_update") "\"jobTransition\":{\"currentState\":\"FAILED\",\"previousState\":\"RUNNING\"}," MIDDLE(
			"PT3725.123456789S",
			"FAILED") "\"taskStates\":[{\"duration\":\"PT2.500S\",\"errorMessage\":\"the task exited "
				  "with a value not specified in continue_job - 1 (task expects one of the "
				  "following return codes to continue [0])\",\"returnCode\":1,"
				  "\"started\":\"2023-11-14T22:13:21.005Z\",\"state\":\"FAILED\","
				  "\"stderr\":\"bad \\\"thing\\\"\\t\",\"stdout\":\"one\\ntwo \xc3\xa9\xe2\x82\xac"
				  "\xf0\x9f\x98\x80\",\"taskName\":\"a\"},"
				  "{\"errorMessage\":\"the task 'a' failed\",\"state\":\"SKIPPED\","
				  "\"taskName\":\"b\"}]}}");
}

static void test_succeeded_runs(void **state)
{
	struct event_fixture *f = *state;
	struct task_transition tr = { 0, TASK_RUNNING, TASK_SUCCEEDED_NO_OP };

	/* Early termination: a SUCCEEDED_NO_OP with no output (so no stdout/stderr fields). */
	f->run.state = JOB_RUNNING;
	start_a(f);
	finish_a(f, TASK_SUCCEEDED_NO_OP, 3);
	f->tasks[0].end_mono = (struct timespec){ 1001, 500000000 }; /* 0 s */
	f->tasks[1].state = TASK_SKIPPED;
	f->tasks[1].error_message = xstrdup("the task 'a' requested early termination");
	check_event(
		f, "task_update", -1, &tr, 1, 10000,
		HEAD("task_update") MIDDLE(
			"PT0.012S",
			"RUNNING") "\"taskStates\":[{\"duration\":\"PT0S\",\"returnCode\":3,"
				   "\"started\":\"2023-11-14T22:13:21.005Z\",\"state\":\"SUCCEEDED_NO_OP\","
				   "\"taskName\":\"a\"},{\"errorMessage\":\"the task 'a' requested early "
				   "termination\",\"state\":\"SKIPPED\",\"taskName\":\"b\"}],"
				   "\"taskTransitions\":[{\"currentState\":\"SUCCEEDED_NO_OP\","
				   "\"previousState\":\"RUNNING\",\"taskName\":\"a\"}]}}");

	/* A plain success, one day and five seconds into the run; a stray error message on a
	 * succeeded task is not sent (Factotum sends one only for FAILED and SKIPPED). */
	f->tasks[0].state = TASK_SUCCEEDED;
	f->tasks[0].return_code = 0;
	f->tasks[0].error_message = xstrdup("ignored");
	buf_puts(&f->tasks[0].out, "x\n");
	free(f->tasks[1].error_message);
	f->tasks[1] = (struct run_task){ .def = &f->ff.tasks[1],
					 .state = TASK_SUCCEEDED,
					 .started = 1,
					 .start_real = { 1700000002, 0 },
					 .start_mono = { 1002, 0 },
					 .end_mono = { 1002, 12000 },
					 .finished = 1,
					 .has_return_code = 1 };
	f->run.state = JOB_SUCCEEDED;
	f->now = (struct timespec){ 87405, 500000000 };
	check_event(
		f, "job_update", JOB_RUNNING, NULL, 0, 10000,
		HEAD("job_update") "\"jobTransition\":{\"currentState\":\"SUCCEEDED\",\"previousState\":\"RUNNING\"}," MIDDLE(
			"P1DT5S",
			"SUCCEEDED") "\"taskStates\":[{\"duration\":\"PT0S\",\"returnCode\":0,"
				     "\"started\":\"2023-11-14T22:13:21.005Z\",\"state\":\"SUCCEEDED\","
				     "\"stdout\":\"x\",\"taskName\":\"a\"},"
				     "{\"duration\":\"PT0.000012S\",\"returnCode\":0,"
				     "\"started\":\"2023-11-14T22:13:22.000Z\",\"state\":\"SUCCEEDED\","
				     "\"taskName\":\"b\"}]}}");
}

/* Task states follow Factotum's plan order, not the file's. */
static void test_task_states_in_plan_order(void **state)
{
	struct event_fixture *f = *state;
	char *got;
	const char *a, *b;

	f->order[0] = 1;
	f->order[1] = 0;
	got = webhook_event_json_at(&f->run, "job_update", -1, NULL, 0, 10000, &f->now);
	a = strstr(got, "\"taskName\":\"a\"");
	b = strstr(got, "\"taskName\":\"b\"");
	assert_non_null(a);
	assert_non_null(b);
	assert_true(b < a);
	free(got);
}

static void test_heartbeat_and_excluded(void **state)
{
	struct event_fixture *f = *state;
	struct task_transition tr = { 1, TASK_RUNNING, TASK_RUNNING };

	/* --start b: a is not part of the run and is never reported. With --heartbeat-interval,
	 * a running task's live output goes into task events but not job events. */
	f->fa.heartbeat_interval = 5;
	f->tasks[0].excluded = 1;
	f->order[0] = 1; /* the plan is b alone */
	f->run.n_order = 1;
	f->tasks[1].state = TASK_RUNNING;
	f->tasks[1].started = 1;
	f->tasks[1].start_real = (struct timespec){ 1700000002, 999999999 };
	buf_puts(&f->tasks[1].out, "tick 1\ntick 2\n");
	f->run.state = JOB_RUNNING;
	check_event(
		f, "task_update", -1, &tr, 1, 10000,
		HEAD("task_update") MIDDLE(
			"PT0.012S",
			"RUNNING") "\"taskStates\":[{\"started\":\"2023-11-14T22:13:22.999Z\",\"state\":\"RUNNING\","
				   "\"stdout\":\"tick 1\\ntick 2\",\"taskName\":\"b\"}],"
				   "\"taskTransitions\":[{\"currentState\":\"RUNNING\",\"previousState\":\"RUNNING\","
				   "\"taskName\":\"b\"}]}}");
	check_event(
		f, "job_update", JOB_WAITING, NULL, 0, 10000,
		HEAD("job_update") "\"jobTransition\":{\"currentState\":\"RUNNING\",\"previousState\":\"WAITING\"}," MIDDLE(
			"PT0.012S",
			"RUNNING") "\"taskStates\":[{\"started\":\"2023-11-14T22:13:22.999Z\",\"state\":\"RUNNING\","
				   "\"taskName\":\"b\"}]}}");
}

static void check_duration(int64_t s, long ns, const char *want)
{
	struct buf b;

	buf_init(&b);
	webhook_put_duration(&b, s, ns);
	assert_string_equal(b.data, want);
	buf_free(&b);
}

/* Expected texts follow time 0.1's Duration Display (what chrono 0.2 re-exports). */
static void test_durations(void **state)
{
	(void)state;
	check_duration(0, 0, "PT0S");
	check_duration(0, 12000000, "PT0.012S");
	check_duration(3725, 123456789, "PT3725.123456789S");
	check_duration(86405, 0, "P1DT5S");
	check_duration(86400, 0, "P1D");
	check_duration(2 * 86400 + 3600, 1000000, "P2DT3600.001S");
	check_duration(0, 1000, "PT0.000001S");
	check_duration(0, 500, "PT0.000000500S");
	check_duration(0, 1500, "PT0.000001500S");
	check_duration(5, 120000, "PT5.000120S");
	check_duration(59, 100000000, "PT59.100S");
	check_duration(-1, 500000000, "-PT0.500S");
	check_duration(-5, 0, "-PT5S");
	check_duration(-86400, 0, "-P1D");
}

static void check_time(time_t s, long ns, const char *want)
{
	struct buf b;
	struct timespec t = { s, ns };

	buf_init(&b);
	webhook_put_time(&b, &t);
	assert_string_equal(b.data, want);
	buf_free(&b);
}

static void test_times(void **state)
{
	(void)state;
	check_time(0, 0, "1970-01-01T00:00:00.000Z");
	check_time(0, 999999999, "1970-01-01T00:00:00.999Z"); /* truncated, not rounded */
	check_time(951782400, 1000000, "2000-02-29T00:00:00.001Z");
	check_time(1700000000, 123456789, "2023-11-14T22:13:20.123Z");
}

/* want NULL: the field is left out. */
static void check_output(const char *in, size_t len, long max, const char *want)
{
	struct buf b;
	int r;

	buf_init(&b);
	r = webhook_put_output(&b, in, len, max);
	if (want == NULL) {
		assert_int_equal(r, 0);
		assert_int_equal(b.len, 0);
	} else {
		assert_int_equal(r, 1);
		assert_int_equal(b.len, strlen(want));
		assert_memory_equal(b.data ? b.data : "", want, b.len);
	}
	buf_free(&b);
}

#define OUT(s, max, want) check_output(s, sizeof(s) - 1, max, want)
#define FFFD              "\xef\xbf\xbd"

static void test_output(void **state)
{
	(void)state;
	/* BufRead::lines + join("\n"). */
	OUT("", 10, NULL);
	OUT("\n", 10, NULL);
	OUT("hello\n", 10, "hello");
	OUT("hello", 10, "hello");
	OUT("a\r\nb\n\n", 10, "a\nb\n");
	OUT("\n\n", 10, "\n");
	OUT("abc\r", 10, "abc\r");
	OUT("a\rb\n", 10, "a\rb");
	/* Tails in characters, never splitting one. */
	OUT("x\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\n", 3, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	OUT("x\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\n", 2, "\xe2\x82\xac\xf0\x9f\x98\x80");
	OUT("x\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\n", 1, "\xf0\x9f\x98\x80");
	OUT("x\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\n", 4, "x\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	OUT("x\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\n", 99, "x\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	OUT("abc\n", 0, ""); /* tail_n_chars(s, 0) is "", but the field is still sent */
	OUT("a\nb\nc\n", 3, "b\nc");
	/* from_utf8_lossy: one U+FFFD per maximal invalid subpart. */
	OUT("a\xff"
	    "b",
	    10, "a" FFFD "b");
	OUT("\xe2\x82", 10, FFFD);
	OUT("\xe2\x82x", 10, FFFD "x");
	OUT("\xed\xa0\x80", 10, FFFD FFFD FFFD);
	OUT("\xf0\x9f\x98", 10, FFFD);
	OUT("\xc0\xaf", 10, FFFD FFFD);
	OUT("\xf4\x90\x80\x80", 10, FFFD FFFD FFFD FFFD);
	OUT("\xff\xff"
	    "ab",
	    3, FFFD "ab");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_setup_sanity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_job_waiting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_job_running_and_task_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_task_failed_with_skip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_succeeded_runs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_heartbeat_and_excluded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_task_states_in_plan_order, setup, teardown),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_output),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
