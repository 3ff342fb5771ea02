/* SPDX-License-Identifier: Apache-2.0 */
/* core/consulsched.c without Consul: the keys, and the codec of the schedule and history values
 * byte for byte, with hostile and damaged values refused with their message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "consulsched.h"
#include "err.h"

#define FULL                                                                                     \
	"{\"name\":\"nightly-etl\",\"cron\":\"0 3 * * *\",\"timezone\":\"Europe/London\","       \
	"\"jobName\":\"etl\",\"factfilePath\":\"/srv/etl.factfile\","                            \
	"\"factfileArgs\":[\"--env\",\"prod \\\"eu\\\"\",\"caf\xc3\xa9\"],\"overlap\":\"skip\"," \
	"\"catchUp\":5,\"paused\":true,\"created\":\"2025-12-05T02:00:00.123Z\","                \
	"\"updated\":\"2025-12-05T02:01:00.000Z\",\"lastSlot\":1764900000,"                      \
	"\"lastJob\":\"abc123\",\"lastFired\":1764900000,\"historySeq\":42}"

static struct spoolsched full_def(void)
{
	return (struct spoolsched){
		.name = (char *)"nightly-etl",
		.cron = (char *)"0 3 * * *",
		.timezone = (char *)"Europe/London",
		.job_name = (char *)"etl",
		.factfile_path = (char *)"/srv/etl.factfile",
		.factfile_args = (char *)"[\"--env\",\"prod \\\"eu\\\"\",\"caf\xc3\xa9\"]",
		.overlap_skip = 1,
		.catch_up = 5,
		.paused = 1,
		.created_ms = INT64_C(1764900000123),
		.updated_ms = INT64_C(1764900060000),
		.last_slot = INT64_C(1764900000),
		.last_job = (char *)"abc123",
		.last_fired = INT64_C(1764900000)
	};
}

static void test_keys(void **state)
{
	/* the ring: seq % 1000 */
	static const struct {
		int64_t seq;
		const char *key;
	} ring[] = { { 0, "ns/schedule-slots/a/0" },
		     { 999, "ns/schedule-slots/a/999" },
		     { 1000, "ns/schedule-slots/a/0" },
		     { 1001, "ns/schedule-slots/a/1" },
		     { 123456, "ns/schedule-slots/a/456" } };
	char *k[3] = { consulsched_key("factotum/jobs", "nightly"),
		       consulsched_prefix("factotum/jobs"), consulsched_slots_prefix("ns", "a.b") };

	(void)state;
	assert_string_equal(k[0], "factotum/jobs/schedules/nightly");
	assert_string_equal(k[1], "factotum/jobs/schedules/");
	assert_string_equal(k[2], "ns/schedule-slots/a.b/");
	for (size_t i = 0; i < 3; i++)
		free(k[i]);
	for (size_t i = 0; i < sizeof(ring) / sizeof(ring[0]); i++) {
		k[0] = consulsched_slot_key("ns", "a", ring[i].seq);
		assert_string_equal(k[0], ring[i].key);
		free(k[0]);
	}
	assert_int_equal(CONSULSCHED_RING, 1000);
}

static void test_value_round_trip(void **state)
{
	struct spoolsched d = full_def();
	struct consulsched s;
	char *v = consulsched_build(&d, 42), *w, *err = NULL;

	(void)state;
	assert_string_equal(v, FULL);
	assert_int_equal(consulsched_parse(v, strlen(v), "nightly-etl", &s, &err), 0);
	assert_null(err);
	assert_string_equal(s.def.name, "nightly-etl");
	assert_string_equal(s.def.cron, "0 3 * * *");
	assert_string_equal(s.def.timezone, "Europe/London");
	assert_string_equal(s.def.job_name, "etl");
	assert_string_equal(s.def.factfile_path, "/srv/etl.factfile");
	assert_string_equal(s.def.factfile_args, d.factfile_args);
	assert_int_equal(s.def.overlap_skip, 1);
	assert_int_equal(s.def.catch_up, 5);
	assert_int_equal(s.def.paused, 1);
	assert_int_equal(s.def.created_ms, d.created_ms);
	assert_int_equal(s.def.updated_ms, d.updated_ms);
	assert_int_equal(s.def.last_slot, d.last_slot);
	assert_string_equal(s.def.last_job, "abc123");
	assert_int_equal(s.def.last_fired, d.last_fired);
	assert_int_equal(s.history_seq, 42);
	assert_int_equal(s.index, 0);
	w = consulsched_build(&s.def, s.history_seq);
	assert_string_equal(w, v);
	consulsched_clear(&s);
	free(v);
	free(w);
}

/* The other policies and an empty state: "none", "last", "allow", null, 0. */
static void test_value_policies(void **state)
{
	struct spoolsched d = full_def();
	struct consulsched s;
	char *v, *w, *err = NULL;

	(void)state;
	d.overlap_skip = 0;
	d.catch_up = SPOOLSCHED_CATCHUP_NONE;
	d.paused = 0;
	d.last_job = NULL;
	d.last_fired = 0;
	d.factfile_args = (char *)"[]";
	v = consulsched_build(&d, 0);
	assert_non_null(strstr(v, "\"factfileArgs\":[],\"overlap\":\"allow\",\"catchUp\":\"none\","
				  "\"paused\":false,"));
	assert_non_null(strstr(v, "\"lastJob\":null,\"lastFired\":0,\"historySeq\":0}"));
	assert_int_equal(consulsched_parse(v, strlen(v), "nightly-etl", &s, &err), 0);
	assert_int_equal(s.def.overlap_skip, 0);
	assert_int_equal(s.def.catch_up, SPOOLSCHED_CATCHUP_NONE);
	assert_null(s.def.last_job);
	w = consulsched_build(&s.def, s.history_seq);
	assert_string_equal(w, v);
	consulsched_clear(&s);
	free(v);
	free(w);

	d.catch_up = SPOOLSCHED_CATCHUP_LAST;
	v = consulsched_build(&d, 7);
	assert_non_null(strstr(v, "\"catchUp\":\"last\""));
	assert_int_equal(consulsched_parse(v, strlen(v), "nightly-etl", &s, &err), 0);
	assert_int_equal(s.def.catch_up, SPOOLSCHED_CATCHUP_LAST);
	consulsched_clear(&s);
	free(v);
}

#define ROW                                                                              \
	"{\"seq\":1234,\"slot\":1764900000,\"at\":\"2025-12-05T02:00:01.500Z\","         \
	"\"result\":\"refused\",\"reason\":\"invalid: Validation Error: no such file\"," \
	"\"jobId\":null,\"count\":1}"

static void test_row_round_trip(void **state)
{
	struct spoolsched_slot row = { .slot = INT64_C(1764900000),
				       .at_ms = INT64_C(1764900001500),
				       .result = SPOOLSCHED_REFUSED,
				       .reason = (char *)"invalid: Validation Error: no such file",
				       .count = 1 },
			       back;
	char *v = consulsched_row_build(&row, 1234), *w, *err = NULL;
	int64_t seq = 0;

	(void)state;
	assert_string_equal(v, ROW);
	assert_int_equal(consulsched_row_parse(v, strlen(v), &back, &seq, &err), 0);
	assert_int_equal(seq, 1234);
	assert_int_equal(back.slot, row.slot);
	assert_int_equal(back.at_ms, row.at_ms);
	assert_int_equal(back.result, SPOOLSCHED_REFUSED);
	assert_string_equal(back.reason, row.reason);
	assert_null(back.job_id);
	assert_int_equal(back.count, 1);
	w = consulsched_row_build(&back, seq);
	assert_string_equal(w, v);
	free(back.reason);
	free(v);
	free(w);

	/* a fired row and a summary row */
	row = (struct spoolsched_slot){ .slot = 60,
					.at_ms = 61000,
					.result = SPOOLSCHED_FIRED,
					.job_id = (char *)"j1",
					.count = 1 };
	v = consulsched_row_build(&row, 0);
	assert_string_equal(v,
			    "{\"seq\":0,\"slot\":60,\"at\":\"1970-01-01T00:01:01.000Z\","
			    "\"result\":\"fired\",\"reason\":null,\"jobId\":\"j1\",\"count\":1}");
	free(v);
	row = (struct spoolsched_slot){ .slot = 60,
					.at_ms = 61000,
					.result = SPOOLSCHED_MISSED,
					.reason = (char *)"7 more slots missed",
					.count = 7 };
	v = consulsched_row_build(&row, 9);
	assert_int_equal(consulsched_row_parse(v, strlen(v), &back, &seq, &err), 0);
	assert_int_equal(back.result, SPOOLSCHED_MISSED);
	assert_int_equal(back.count, 7);
	assert_int_equal(seq, 9);
	free(back.reason);
	free(v);
}

/* FULL with the first occurrence of from replaced by to. */
static char *edit(const char *from, const char *to)
{
	const char *at = strstr(FULL, from);
	size_t n = strlen(FULL) - strlen(from) + strlen(to) + 1;
	char *s = malloc(n);

	assert_non_null(at);
	memcpy(s, FULL, (size_t)(at - FULL));
	strcpy(s + (at - FULL), to);
	strcat(s, at + strlen(from));
	return s;
}

static void refused(const char *value, size_t len, const char *name, const char *msg)
{
	struct consulsched s;
	char *err = NULL;

	if (consulsched_parse(value, len, name, &s, &err) != FS_EINVAL)
		fail_msg("accepted: %.*s", (int)len, value);
	if (strcmp(err, msg) != 0)
		fail_msg("for %.*s:\n  got  %s\n  want %s", (int)len, value, err, msg);
	assert_null(s.def.name);
	assert_null(s.def.cron);
	assert_null(s.def.last_job);
	consulsched_clear(&s); /* whatever the result */
	free(err);
}

static void refused_edit(const char *from, const char *to, const char *msg)
{
	char *v = edit(from, to);

	refused(v, strlen(v), "nightly-etl", msg);
	free(v);
}

#define W "schedule value of 'nightly-etl': "

static void test_value_refused(void **state)
{
	static const char full[] = FULL;

	(void)state;
	/* damaged: truncated, empty, not an object, trailing bytes */
	refused(full, sizeof(full) - 2, "nightly-etl",
		W "not JSON: unexpected end of data at line 1 column 363");
	refused("", 0, "nightly-etl", W "not JSON: unexpected end of data at line 1 column 1");
	refused(NULL, 0, "nightly-etl", W "not JSON: unexpected end of data at line 1 column 1");
	refused("[1]", 3, "nightly-etl", W "not a JSON object");
	refused("null", 4, "nightly-etl", W "not a JSON object");
	/* not UTF-8: a stray byte, an overlong form, an escaped lone surrogate */
	refused_edit("\"etl\"", "\"e\xfftl\"", W "not valid UTF-8");
	refused_edit("\"etl\"", "\"e\xc0\xaftl\"", W "not valid UTF-8");
	refused_edit("\"etl\"", "\"e\\ud800tl\"", W "not valid UTF-8");
	/* not its key's, or not a name at all */
	refused(full, sizeof(full) - 1, "other",
		"schedule value of 'other': it names another "
		"schedule");
	refused_edit("\"name\":\"nightly-etl\"", "\"name\":7",
		     W "field 'name' is missing or not a string");
	refused_edit("\"name\":\"nightly-etl\"", "\"name\":\"nightly-etl\\u0000x\"",
		     W "field 'name' is missing or not a string");
	/* unknown or missing fields: all are required, nothing else is allowed */
	refused_edit("\"historySeq\":42}", "\"historySeq\":42,\"extra\":1}",
		     W "unknown field 'extra'");
	refused_edit(",\"historySeq\":42}", "}", W "field 'historySeq' is missing or not a count");
	refused_edit("\"cron\":\"0 3 * * *\",", "", W "field 'cron' is missing or not a string");
	/* wrong types */
	refused_edit("\"cron\":\"0 3 * * *\"", "\"cron\":[\"0\"]",
		     W "field 'cron' is missing or not a string");
	refused_edit("\"timezone\":\"Europe/London\"", "\"timezone\":null",
		     W "field 'timezone' is missing or not a string");
	refused_edit("\"paused\":true", "\"paused\":1",
		     W "field 'paused' is missing or not true "
		       "or false");
	refused_edit("\"lastSlot\":1764900000", "\"lastSlot\":\"1764900000\"",
		     W "field 'lastSlot' is missing or not a time in UTC seconds");
	refused_edit("\"lastSlot\":1764900000", "\"lastSlot\":1764900000.5",
		     W "field 'lastSlot' is missing or not a time in UTC seconds");
	refused_edit("\"lastJob\":\"abc123\"", "\"lastJob\":false",
		     W "field 'lastJob' is missing or not a string or null");
	refused_edit("\"created\":\"2025-12-05T02:00:00.123Z\"", "\"created\":\"yesterday\"",
		     W "field 'created' is missing or not an ISO 8601 UTC time");
	refused_edit("\"updated\":\"2025-12-05T02:01:00.000Z\"", "\"updated\":1764900060000",
		     W "field 'updated' is missing or not an ISO 8601 UTC time");
	/* factfileArgs: an array of strings */
	refused_edit("[\"--env\",", "[1,",
		     W "field 'factfileArgs' is missing or not an array of "
		       "strings");
	refused_edit("\"factfileArgs\":[\"--env\",\"prod \\\"eu\\\"\",\"caf\xc3\xa9\"]",
		     "\"factfileArgs\":{\"a\":\"b\"}",
		     W "field 'factfileArgs' is missing or not an array of strings");
	refused_edit("\"factfileArgs\":[\"--env\",\"prod \\\"eu\\\"\",\"caf\xc3\xa9\"]",
		     "\"factfileArgs\":\"--env prod\"",
		     W "field 'factfileArgs' is missing or not an array of strings");
	refused_edit("[\"--env\",", "[\"--env\",null,",
		     W "field 'factfileArgs' is missing or not an array of strings");
	/* the policies */
	refused_edit("\"overlap\":\"skip\"", "\"overlap\":\"queue\"",
		     W "field 'overlap' is missing or not \"allow\" or \"skip\"");
	refused_edit("\"catchUp\":5", "\"catchUp\":0",
		     W "field 'catchUp' is missing or not \"none\", \"last\" or a number from 1 "
		       "to 100");
	refused_edit("\"catchUp\":5", "\"catchUp\":101",
		     W "field 'catchUp' is missing or not \"none\", \"last\" or a number from 1 "
		       "to 100");
	refused_edit("\"catchUp\":5", "\"catchUp\":\"x\"",
		     W "field 'catchUp' is missing or not \"none\", \"last\" or a number from 1 "
		       "to 100");
	refused_edit("\"catchUp\":5", "\"catchUp\":\"5\"",
		     W "field 'catchUp' is missing or not \"none\", \"last\" or a number from 1 "
		       "to 100");
	/* huge and negative numbers (json-c saturates what overflows 64 bits) */
	refused_edit("\"lastSlot\":1764900000", "\"lastSlot\":99999999999999999999",
		     W "field 'lastSlot' is missing or not a time in UTC seconds");
	refused_edit("\"lastSlot\":1764900000", "\"lastSlot\":-1",
		     W "field 'lastSlot' is missing or not a time in UTC seconds");
	refused_edit("\"lastFired\":1764900000", "\"lastFired\":1e400",
		     W "field 'lastFired' is missing or not a time in UTC seconds");
	refused_edit("\"historySeq\":42", "\"historySeq\":-42",
		     W "field 'historySeq' is missing or not a count");
	refused_edit("\"historySeq\":42", "\"historySeq\":18446744073709551615",
		     W "field 'historySeq' is missing or not a count");
	refused_edit("\"catchUp\":5", "\"catchUp\":4294967301",
		     W "field 'catchUp' is missing or not \"none\", \"last\" or a number from 1 "
		       "to 100");
}

static void row_refused(const char *value, const char *msg)
{
	struct spoolsched_slot row;
	int64_t seq;
	char *err = NULL;

	if (consulsched_row_parse(value, strlen(value), &row, &seq, &err) != FS_EINVAL)
		fail_msg("accepted: %s", value);
	if (strcmp(err, msg) != 0)
		fail_msg("for %s:\n  got  %s\n  want %s", value, err, msg);
	assert_null(row.reason);
	assert_null(row.job_id);
	free(err);
}

#define R "schedule history row: "

static void test_row_refused(void **state)
{
	(void)state;
	row_refused("{\"seq\":1", R "not JSON: unexpected end of data at line 1 column 9");
	row_refused(
		"{\"seq\":-1,\"slot\":1,\"at\":\"2025-12-05T02:00:01.500Z\",\"result\":\"fired\","
		"\"reason\":null,\"jobId\":\"j\",\"count\":1}",
		R "field 'seq' is missing or not a count");
	row_refused("{\"seq\":1,\"slot\":1,\"at\":\"2025-12-05T02:00:01.500Z\",\"result\":\"lost\","
		    "\"reason\":null,\"jobId\":null,\"count\":1}",
		    R "field 'result' is missing or not \"fired\", \"skipped\", \"refused\" or "
		      "\"missed\"");
	row_refused(
		"{\"seq\":1,\"slot\":1,\"at\":\"2025-12-05T02:00:01.500Z\",\"result\":\"fired\","
		"\"reason\":null,\"jobId\":null,\"count\":0}",
		R "field 'count' is missing or not a count from 1");
	row_refused(
		"{\"seq\":1,\"slot\":1,\"at\":\"2025-12-05T02:00:01.500Z\",\"result\":\"fired\","
		"\"reason\":3,\"jobId\":null,\"count\":1}",
		R "field 'reason' is missing or not a string or null");
	row_refused(
		"{\"seq\":1,\"slot\":1,\"at\":\"2025-12-05T02:00:01.500Z\",\"result\":\"fired\","
		"\"reason\":\"x\",\"jobId\":\"j\",\"count\":1,\"more\":true}",
		R "unknown field 'more'");
	row_refused(
		"{\"seq\":1,\"slot\":1,\"at\":\"2025-12-05T02:00:01.500Z\",\"result\":\"fired\","
		"\"reason\":\"\xed\xa0\x80\",\"jobId\":null,\"count\":1}",
		R "not valid UTF-8");
	row_refused("{\"seq\":1,\"slot\":1,\"result\":\"fired\",\"reason\":null,\"jobId\":null,"
		    "\"count\":1}",
		    R "field 'at' is missing or not an ISO 8601 UTC time");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),           cmocka_unit_test(test_value_round_trip),
		cmocka_unit_test(test_value_policies), cmocka_unit_test(test_row_round_trip),
		cmocka_unit_test(test_value_refused),  cmocka_unit_test(test_row_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
