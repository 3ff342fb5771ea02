/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of core/factfile (with core/schema): every factfile message of Factotum 0.7.0 byte for
 * byte (including the cases from its own parser tests and tests/resources), valico's
 * error pointers and order, the compact re-encoding, templating, our graph rules and Factotum's
 * define-before-use rule, and that every sample factfile parses. Data: $FS_TESTDATA. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "err.h"
#include "factfile.h"
#include "kv.h"
#include "schema.h"
#include "template.h"
#include "xalloc.h"

#define SCHEMA_URI "iglu:com.snowplowanalytics.factotum/factfile/jsonschema/1-0-0"
#define FF(name, tasks) \
	"{\"schema\":\"" SCHEMA_URI "\",\"data\":{\"name\":\"" name "\",\"tasks\":[" tasks "]}}"
#define TASK(name, args, deps, term, cont)                                                        \
	"{\"name\":\"" name "\",\"executor\":\"shell\",\"command\":\"echo\",\"arguments\":[" args \
	"],\"dependsOn\":[" deps "],\"onResult\":{\"terminateJobWithSuccess\":[" term             \
	"],\"continueJob\":[" cont "]}}"

static char tmpdir[64];
static char path[128];
static struct kvlist novars;

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_factfile.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/f.factfile", tmpdir);
	kvlist_init(&novars);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	rmdir(tmpdir);
	return 0;
}

static void write_file(const char *p, const char *data, size_t len)
{
	FILE *f = fopen(p, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* Loads text from the temp file; returns rc, *err set on failure. */
static int load_text(const char *text, size_t len, const struct kvlist *vars,
		     enum factfile_rules rules, struct factfile *ff, char **err)
{
	write_file(path, text, len);
	return factfile_load(path, vars, rules, ff, err);
}

/* Expects failure with "'<path>' is not a valid factotum factfile: " + tail. */
static void expect_invalid_rules(const char *text, const char *tail, enum factfile_rules rules)
{
	struct factfile ff;
	char *err = NULL,
	     *want = xasprintf("'%s' is not a valid factotum factfile: %s", path, tail);

	assert_int_equal(load_text(text, strlen(text), &novars, rules, &ff, &err), FS_EINVAL);
	assert_non_null(err);
	assert_string_equal(err, want);
	assert_null(ff.tasks);
	assert_null(ff.compact);
	free(err);
	free(want);
}

static void expect_invalid(const char *text, const char *tail)
{
	expect_invalid_rules(text, tail, FACTFILE_RULES_OURS);
	expect_invalid_rules(text, tail, FACTFILE_RULES_FACTOTUM);
}

static void expect_valid(const char *text, enum factfile_rules rules, struct factfile *ff)
{
	char *err = NULL;
	int rc = load_text(text, strlen(text), &novars, rules, ff, &err);

	if (rc != 0)
		fail_msg("unexpected error: %s", err);
	assert_null(err);
}

static char *resource(const char *name)
{
	const char *base = getenv("FS_TESTDATA");

	return xasprintf("%s/%s", base ? base : "tests/data", name);
}

static void test_read_errors(void **state)
{
	struct factfile ff;
	char *err = NULL, *want;
	char missing[160];

	(void)state;
	snprintf(missing, sizeof(missing), "%s/asdhf;asdjhfasdf", tmpdir);
	assert_int_not_equal(factfile_load(missing, &novars, FACTFILE_RULES_OURS, &ff, &err), 0);
	want = xasprintf("Couldn't open '%s' for reading: No such file or directory (os error 2)",
			 missing);
	assert_string_equal(err, want);
	free(want);

	assert_int_not_equal(factfile_load(tmpdir, &novars, FACTFILE_RULES_OURS, &ff, &err), 0);
	want = xasprintf("Couldn't read '%s': Is a directory (os error 21)", tmpdir);
	assert_string_equal(err, want);
	free(want);

	assert_int_equal(load_text("{\"a\":\"\xff\"}", 9, &novars, FACTFILE_RULES_OURS, &ff, &err),
			 FS_EINVAL);
	want = xasprintf("Couldn't read '%s': stream did not contain valid UTF-8", path);
	assert_string_equal(err, want);
	free(want);
	free(err);
}

static void test_invalid_json(void **state)
{
	(void)state;
	/* Factotum's tests/resources/invalid_json.factfile */
	expect_invalid("fasdfasdfasfdalskdfasdmasdfa\nthis is not valid json\n",
		       "invalid JSON - invalid syntax at line 1, column 3");
	expect_invalid("{\n    \"schema\": \"x\",\n    \"data\": {\n}\n",
		       "invalid JSON - EOF While parsing object at line 5, column 2");
	expect_invalid("{\n  \"schema\": \"x\"\n  \"data\": 1}",
		       "invalid JSON - invalid syntax at line 3, column 4");
	expect_invalid("{\"schema\": [1, 2,]}",
		       "invalid JSON - invalid syntax at line 1, column 18");
	expect_invalid("{\"schema\": 1,}", "invalid JSON - trailing comma at line 1, column 14");
	expect_invalid("{} x", "invalid JSON - trailing characters at line 1, column 4");
	expect_invalid("{\"a\": \"\\q\"}", "invalid JSON - invalid escape at line 1, column 9");
	expect_invalid("{\"a\": \"\t\"}",
		       "invalid JSON - unescaped control character in string at line 1, column 8");
	expect_invalid("{\"a\": 012}", "invalid JSON - invalid number at line 1, column 8");
}

static void test_factotum_resources(void **state)
{
	/* Factotum 0.7.0 src/factotum/parser/tests.rs against its tests/resources files. */
	static const struct {
		const char *file;
		const char *tail;
	} cases[] = {
		{ "example_invalid_no_name.factfile", "'/data/name' - This property is required" },
		{ "example_wrong_type.factfile",
		  "'/data/tasks/0/onResult/terminateJobWithSuccess/0' - Type of the value is wrong "
		  "(The value must be integer)" },
		{ "example_invalid_terminate_continue_same.factfile",
		  "the task 'ambi' has conflicting actions." },
		{ "example_invalid_no_continue.factfile",
		  "the task 'continue' has no way to continue successfully." },
	};
	static const char no_name[] =
		"{\n  \"schema\": \"" SCHEMA_URI "\",\n  \"data\": {\n    \"tasks\": [\n      {\n"
		"      \"name\": \"EmrEtlRunner\", \"executor\": \"shell\",\n"
		"      \"command\": \"./acme-emr-etl-runner.sh\", \"arguments\": [ \"???\", \"???\" ],\n"
		"      \"dependsOn\": [],\n      \"onResult\": { \"terminateJobWithSuccess\": [ 3 ],"
		" \"continueJob\": [ 0 ] }\n      }\n    ]\n  }\n}\n";
	static const char wrong_type[] = FF(
		"My First DAG",
		"{\"name\":\"EmrEtlRunner\",\"executor\":\"shell\",\"command\":\"x\",\"arguments\":[],"
		"\"dependsOn\":[],\"onResult\":{\"terminateJobWithSuccess\":[\"this isn't a number!\"],"
		"\"continueJob\":[0]}}," TASK("StorageLoader", "", "\"EmrEtlRunner\"", "3", "0"));
	static const char ambi[] = FF("This job cannot execute as onResult is ambiguous",
				      TASK("ambi", "\"???\"", "", "0", "0"));
	static const char no_cont[] = FF("no way", TASK("continue", "", "", "0", ""));
	const char *texts[] = { no_name, wrong_type, ambi, no_cont };

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_invalid(texts[i], cases[i].tail);
}

static void test_schema_root(void **state)
{
	(void)state;
	expect_invalid("[]", "'' - Type of the value is wrong (The value must be object)");
	expect_invalid("\"x\"", "'' - Type of the value is wrong (The value must be object)");
	expect_invalid("{}", "'/schema' - This property is required\n"
			     "'/data' - This property is required");
	expect_invalid(
		"{\"schema\":\"" SCHEMA_URI "\",\"extra\":1,\"another\":2}",
		"'' - Property conditions are not met (Additional properties are not allowed)\n"
		"'' - Property conditions are not met (Additional properties are not allowed)\n"
		"'/data' - This property is required");
	expect_invalid("{\"schema\":\"" SCHEMA_URI "\",\"data\":[]}",
		       "'/data' - Type of the value is wrong (The value must be object)");
	expect_invalid("{\"schema\":\"" SCHEMA_URI "\",\"data\":{}}",
		       "'/data/name' - This property is required\n"
		       "'/data/tasks' - This property is required");
	expect_invalid("{\"schema\":1,\"data\":{\"name\":\"n\",\"tasks\":{}}}",
		       "'/data/tasks' - Type of the value is wrong (The value must be array)\n"
		       "'/schema' - Type of the value is wrong (The value must be string)");
}

static void test_schema_pattern(void **state)
{
	static const char *bad[] = {
		"iglu:com.acme/factfile/jsonschema/1-0",
		"iglu:com.acme/fact.file/jsonschema/1-0-0",
		"iglu:/factfile/jsonschema/1-0-0",
		"iglu:com.acme/factfile/jsonschema/1-0-0\\n",
		"Iglu:com.acme/factfile/jsonschema/1-0-0",
		"iglu:com.acme/factfile/jsonschema/1-0-x",
		"iglu:com.acme/factfile/json schema/1-0-0",
		"iglu:c\\u00e9/f/j/1-0-0",
	};
	static const char *good[] = {
		SCHEMA_URI,
		"iglu:a/b/c/1-2-3",
		"iglu:A-_.z/B-_/C_-/10-200-3000",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *t = xasprintf("{\"schema\":\"%s\",\"data\":{\"name\":\"n\",\"tasks\":[]}}",
				    bad[i]);
		expect_invalid(t, "'/schema' - Pattern condition is not met");
		free(t);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct factfile ff;
		char *t = xasprintf("{\"schema\":\"%s\",\"data\":{\"name\":\"n\",\"tasks\":[]}}",
				    good[i]);
		expect_valid(t, FACTFILE_RULES_OURS, &ff);
		factfile_free(&ff);
		free(t);
	}
}

static void test_schema_many_errors_in_order(void **state)
{
	(void)state;
	/* Members in byte-wise key order; per object: type, properties (unknown keys reported at
	 * the object's pointer, in key order), then required in the schema's list order. */
	expect_invalid(
		"{\"schema\":\"iglu:bad\",\"data\":{\"zzz\":1,\"name\":5,\"tasks\":[{\"name\":\"a\","
		"\"executor\":\"shell\",\"arguments\":[\"x\",1],\"dependsOn\":\"b\",\"onResult\":"
		"{\"terminateJobWithSuccess\":[-1,32768,1.0,1e2,-1.5],\"continueJob\":[0]},\"Extra\":"
		"true},7,{\"onResult\":{\"other\":[]}}]}}",
		"'/data/name' - Type of the value is wrong (The value must be string)\n"
		"'/data/tasks/0' - Property conditions are not met (Additional properties are not "
		"allowed)\n"
		"'/data/tasks/0/arguments/1' - Type of the value is wrong (The value must be string)\n"
		"'/data/tasks/0/dependsOn' - Type of the value is wrong (The value must be array)\n"
		"'/data/tasks/0/onResult/terminateJobWithSuccess/0' - Minimum condition is not met\n"
		"'/data/tasks/0/onResult/terminateJobWithSuccess/1' - Maximum condition is not met\n"
		"'/data/tasks/0/onResult/terminateJobWithSuccess/2' - Type of the value is wrong (The "
		"value must be integer)\n"
		"'/data/tasks/0/onResult/terminateJobWithSuccess/3' - Type of the value is wrong (The "
		"value must be integer)\n"
		"'/data/tasks/0/onResult/terminateJobWithSuccess/4' - Type of the value is wrong (The "
		"value must be integer)\n"
		"'/data/tasks/0/onResult/terminateJobWithSuccess/4' - Minimum condition is not met\n"
		"'/data/tasks/0/command' - This property is required\n"
		"'/data/tasks/1' - Type of the value is wrong (The value must be object)\n"
		"'/data/tasks/2/onResult' - Property conditions are not met (Additional properties "
		"are not allowed)\n"
		"'/data/tasks/2/onResult/terminateJobWithSuccess' - This property is required\n"
		"'/data/tasks/2/onResult/continueJob' - This property is required\n"
		"'/data/tasks/2/executor' - This property is required\n"
		"'/data/tasks/2/dependsOn' - This property is required\n"
		"'/data/tasks/2/command' - This property is required\n"
		"'/data/tasks/2/arguments' - This property is required\n"
		"'/data/tasks/2/name' - This property is required\n"
		"'/data' - Property conditions are not met (Additional properties are not allowed)\n"
		"'/schema' - Pattern condition is not met");
}

/* A factfile of many wrong items: the first SCHEMA_MAX_PROBLEMS lines, then their count. */
static void test_schema_problems_bounded(void **state)
{
	struct buf text, want;

	(void)state;
	buf_init(&text);
	buf_init(&want);
	buf_puts(&text,
		 "{\"schema\":\"iglu:com.snowplowanalytics.factotum/factfile/jsonschema/1-0-0\","
		 "\"data\":{\"name\":\"n\",\"tasks\":[");
	for (int i = 0; i < 1000; i++) {
		buf_puts(&text, i > 0 ? ",7" : "7");
		if (i < SCHEMA_MAX_PROBLEMS)
			buf_printf(
				&want,
				"%s'/data/tasks/%d' - Type of the value is wrong (The value must "
				"be object)",
				i > 0 ? "\n" : "", i);
	}
	buf_puts(&text, "]}}");
	buf_printf(&want, "\n... and %d more problems", 1000 - SCHEMA_MAX_PROBLEMS);
	expect_invalid(text.data, want.data);
	buf_free(&text);
	buf_free(&want);
}

static void test_schema_wrong_types(void **state)
{
	static const struct {
		const char *task;
		const char *tail;
	} cases[] = {
		{ "{\"name\":1,\"executor\":\"s\",\"command\":\"c\",\"arguments\":[],\"dependsOn\":[],"
		  "\"onResult\":{\"terminateJobWithSuccess\":[],\"continueJob\":[0]}}",
		  "'/data/tasks/0/name' - Type of the value is wrong (The value must be string)" },
		{ "{\"name\":\"a\",\"executor\":null,\"command\":\"c\",\"arguments\":[],\"dependsOn\":[],"
		  "\"onResult\":{\"terminateJobWithSuccess\":[],\"continueJob\":[0]}}",
		  "'/data/tasks/0/executor' - Type of the value is wrong (The value must be string)" },
		{ "{\"name\":\"a\",\"executor\":\"s\",\"command\":[],\"arguments\":[],\"dependsOn\":[],"
		  "\"onResult\":{\"terminateJobWithSuccess\":[],\"continueJob\":[0]}}",
		  "'/data/tasks/0/command' - Type of the value is wrong (The value must be string)" },
		{ "{\"name\":\"a\",\"executor\":\"s\",\"command\":\"c\",\"arguments\":\"x\",\"dependsOn\":"
		  "[true],\"onResult\":{\"terminateJobWithSuccess\":[],\"continueJob\":[0]}}",
		  "'/data/tasks/0/arguments' - Type of the value is wrong (The value must be array)\n"
		  "'/data/tasks/0/dependsOn/0' - Type of the value is wrong (The value must be "
		  "string)" },
		{ "{\"name\":\"a\",\"executor\":\"s\",\"command\":\"c\",\"arguments\":[],\"dependsOn\":[],"
		  "\"onResult\":[]}",
		  "'/data/tasks/0/onResult' - Type of the value is wrong (The value must be object)" },
		{ "{\"name\":\"a\",\"executor\":\"s\",\"command\":\"c\",\"arguments\":[],\"dependsOn\":[],"
		  "\"onResult\":{\"terminateJobWithSuccess\":{},\"continueJob\":[\"0\",32767,-0]}}",
		  "'/data/tasks/0/onResult/continueJob/0' - Type of the value is wrong (The value must "
		  "be integer)\n"
		  "'/data/tasks/0/onResult/terminateJobWithSuccess' - Type of the value is wrong (The "
		  "value must be array)" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *t = xasprintf("{\"schema\":\"%s\",\"data\":{\"name\":\"n\",\"tasks\":[%s]}}",
				    SCHEMA_URI, cases[i].task);
		expect_invalid(t, cases[i].tail);
		free(t);
	}
}

static void test_duplicate_keys_last_wins(void **state)
{
	struct factfile ff;

	(void)state;
	expect_valid("{\"schema\":1,\"data\":{\"name\":\"x\",\"tasks\":[],\"name\":\"y\"},"
		     "\"schema\":\"" SCHEMA_URI "\"}",
		     FACTFILE_RULES_OURS, &ff);
	assert_string_equal(ff.name, "y");
	assert_string_equal(ff.compact, "{\"schema\":\"" SCHEMA_URI "\",\"data\":{\"name\":\"y\","
					"\"tasks\":[]}}");
	factfile_free(&ff);
}

static void test_semantic_rules(void **state)
{
	(void)state;
	expect_invalid(FF("j", TASK("a", "", "", "0", "")),
		       "the task 'a' has no way to continue successfully.");
	expect_invalid(FF("j", TASK("a", "", "", "1, 2", "0, 2")),
		       "the task 'a' has conflicting actions.");
	/* Checked task by task: the first task's problem wins. */
	expect_invalid(FF("j", TASK("a", "", "", "3", "3") "," TASK("b", "", "", "", "")),
		       "the task 'a' has conflicting actions.");
}

static void test_graph_rules(void **state)
{
	struct factfile ff;

	(void)state;
	expect_invalid(FF("j", TASK("a", "", "", "", "0") "," TASK("a", "", "", "", "0")),
		       "the task name 'a' is used more than once.");
	expect_invalid(FF("j", TASK("a", "", "\"b\", \"a\"", "", "0")),
		       "the task 'a' depends on itself.");
	expect_invalid_rules(FF("j", TASK("a", "", "\"nope\"", "", "0")),
			     "the task 'a' depends on 'nope', which is not defined.",
			     FACTFILE_RULES_OURS);
	expect_invalid_rules(FF("j", TASK("a", "", "\"nope\"", "", "0")),
			     "the task 'a' depends on 'nope', which is not defined before it "
			     "(Factotum requires dependencies to come first).",
			     FACTFILE_RULES_FACTOTUM);
	expect_invalid_rules(FF("j",
				TASK("a", "", "\"b\"", "", "0") "," TASK("b", "", "", "", "0")),
			     "the task 'a' depends on 'b', which is not defined before it "
			     "(Factotum requires dependencies to come first).",
			     FACTFILE_RULES_FACTOTUM);
	expect_invalid_rules(FF("j",
				TASK("r", "", "", "",
				     "0") "," TASK("a", "", "\"r\", \"c\"", "",
						   "0") "," TASK("b", "", "\"a\"", "",
								 "0") "," TASK("c", "", "\"b\"", "",
									       "0")),
			     "the tasks form a dependency cycle (each depends on the next): "
			     "'a' -> 'c' -> 'b' -> 'a'.",
			     FACTFILE_RULES_OURS);

	/* Ours: tasks in any order, a dependency may come after its dependant. */
	expect_valid(FF("j", TASK("c", "", "\"b\", \"a\"", "",
				  "0") "," TASK("b", "", "\"a\"", "",
						"0") "," TASK("a", "", "", "",
							      "0") "," TASK("d", "", "", "", "0")),
		     FACTFILE_RULES_OURS, &ff);
	assert_int_equal(factfile_find_task(&ff, "d"), 3);
	assert_int_equal(factfile_find_task(&ff, "zz"), -1);
	factfile_free(&ff);
}

/* n tasks t1..tn; task i depends on t(dep(i)) when dep(i) is in 1..n. */
static char *big_factfile(size_t n, size_t (*dep)(size_t i, size_t n))
{
	struct buf b;

	buf_init(&b);
	buf_puts(&b, "{\"schema\":\"" SCHEMA_URI "\",\"data\":{\"name\":\"big\",\"tasks\":[");
	for (size_t i = 1; i <= n; i++) {
		size_t d = dep(i, n);

		buf_printf(&b,
			   "%s{\"name\":\"t%zu\",\"executor\":\"shell\",\"command\":\"echo\","
			   "\"arguments\":[],\"dependsOn\":[",
			   i > 1 ? "," : "", i);
		if (d >= 1 && d <= n)
			buf_printf(&b, "\"t%zu\"", d);
		buf_puts(&b,
			 "],\"onResult\":{\"terminateJobWithSuccess\":[],\"continueJob\":[0]}}");
	}
	buf_puts(&b, "]}}");
	return buf_steal(&b);
}

static size_t dep_previous(size_t i, size_t n)
{
	(void)n;
	return i - 1; /* t1 has none */
}

static size_t dep_next(size_t i, size_t n)
{
	return i < n ? i + 1 : 0; /* every dependency defined after its dependant */
}

static size_t dep_next_ring(size_t i, size_t n)
{
	return i < n ? i + 1 : 1;
}

static size_t dep_same_name(size_t i, size_t n)
{
	(void)i;
	(void)n;
	return 0;
}

/* 10,000-task chains, in file order and in reverse, are accepted (the time these take is
 * bench/validate.sh's to judge); a 10,000-task cycle is named in full from the first task. */
static void test_large_graphs(void **state)
{
	struct factfile ff;
	struct buf want;
	char *text;

	(void)state;
	text = big_factfile(10000, dep_previous);
	expect_valid(text, FACTFILE_RULES_OURS, &ff);
	assert_int_equal(ff.n_tasks, 10000);
	assert_int_equal(factfile_find_task(&ff, "t1"), 0);
	assert_int_equal(factfile_find_task(&ff, "t10000"), 9999);
	assert_int_equal(factfile_find_task(&ff, "t10001"), -1);
	factfile_free(&ff);
	expect_valid(text, FACTFILE_RULES_FACTOTUM, &ff);
	factfile_free(&ff);
	free(text);

	text = big_factfile(10000, dep_next);
	expect_valid(text, FACTFILE_RULES_OURS, &ff);
	assert_int_equal(factfile_find_task(&ff, "t5000"), 4999);
	factfile_free(&ff);
	expect_invalid_rules(text,
			     "the task 't1' depends on 't2', which is not defined before it "
			     "(Factotum requires dependencies to come first).",
			     FACTFILE_RULES_FACTOTUM);
	free(text);

	text = big_factfile(10000, dep_next_ring);
	buf_init(&want);
	buf_puts(&want, "the tasks form a dependency cycle (each depends on the next): ");
	for (size_t i = 1; i <= 10000; i++)
		buf_printf(&want, "'t%zu' -> ", i);
	buf_puts(&want, "'t1'.");
	expect_invalid_rules(text, want.data, FACTFILE_RULES_OURS);
	buf_free(&want);
	free(text);

	/* a repeated name found among 10,000 */
	text = big_factfile(10000, dep_same_name);
	memcpy(strstr(text, "\"t9999\""), "\"t1234\"", 7);
	expect_invalid(text, "the task name 't1234' is used more than once.");
	free(text);
}

/* The cycle is named from where the walk from the first task outside the order meets itself:
 * a task leading into a cycle is not part of the message. */
static void test_cycle_behind_a_task(void **state)
{
	(void)state;
	expect_invalid_rules(FF("j", TASK("x", "", "\"a\"", "",
					  "0") "," TASK("a", "", "\"b\"", "",
							"0") "," TASK("b", "", "\"a\"", "", "0")),
			     "the tasks form a dependency cycle (each depends on the next): "
			     "'a' -> 'b' -> 'a'.",
			     FACTFILE_RULES_OURS);
}

static void test_nul_in_names(void **state)
{
	(void)state;
	expect_invalid(FF("j\\u0000", ""), "the job name has a NUL character (\\u0000).");
	expect_invalid(FF("j", TASK("a\\u0000", "", "", "", "0")),
		       "the name of the task at index 0 has a NUL character (\\u0000).");
	expect_invalid(FF("j", TASK("a", "\"x\\u0000\"", "", "", "0")),
		       "the task 'a' has a NUL character (\\u0000) in its arguments.");
}

static void test_compact_encoding(void **state)
{
	struct factfile ff;
	/* Keys in any order and whitespace in the file; the compact form has the fixed order. */
	static const char text[] =
		"{ \"data\" : { \"tasks\" : [ { \"onResult\": {\"continueJob\": [0, 3],"
		" \"terminateJobWithSuccess\": [32767]}, \"dependsOn\": [], \"arguments\":"
		" [\"q\\\"b\\\\s\\/ \\u00e9\xe2\x82\xac \\u0001\\u001f\\u007f\x7f\\b\\t\\n\\f\\r\"],"
		" \"command\": \"echo\", \"executor\": \"shell\", \"name\": \"t\" } ],"
		" \"name\": \"J\" }, \"schema\": \"" SCHEMA_URI "\" }\n";
	static const char want[] =
		"{\"schema\":\"" SCHEMA_URI
		"\",\"data\":{\"name\":\"J\",\"tasks\":[{\"name\":\"t\","
		"\"executor\":\"shell\",\"command\":\"echo\",\"arguments\":[\"q\\\"b\\\\s/ \xc3\xa9"
		"\xe2\x82\xac \\u0001\\u001f\\u007f\\u007f\\b\\t\\n\\f\\r\"],\"dependsOn\":[],"
		"\"onResult\":{\"terminateJobWithSuccess\":[32767],\"continueJob\":[0,3]}}]}}";

	(void)state;
	expect_valid(text, FACTFILE_RULES_OURS, &ff);
	assert_string_equal(ff.compact, want);
	assert_int_equal(ff.compact_len, strlen(want));
	assert_string_equal(ff.name, "J");
	assert_int_equal(ff.n_tasks, 1);
	assert_string_equal(ff.tasks[0].arguments[0],
			    "q\"b\\s/ \xc3\xa9\xe2\x82\xac \x01\x1f\x7f\x7f\b\t\n\f\r");
	assert_int_equal(ff.tasks[0].n_terminate, 1);
	assert_int_equal(ff.tasks[0].terminate_codes[0], 32767);
	assert_int_equal(ff.tasks[0].n_continue, 2);
	assert_int_equal(ff.tasks[0].continue_codes[1], 3);
	factfile_free(&ff);
}

static void test_templating(void **state)
{
	struct factfile ff;
	struct kvlist vars;
	char *err = NULL;
	static const char text[] =
		FF("job {{env}}", TASK("a{{x}}", "\"--{{x}}\", \"{{tag:t}}\"", "", "",
				       "0") "," TASK("b", "", "\"a{{x}}\"", "", "0"));

	(void)state;
	kvlist_init(&vars);
	kvlist_set(&vars, "env", "prod");
	kvlist_set(&vars, "x", "<1>");
	kvlist_set(&vars, "tag:t", "v");
	assert_int_equal(load_text(text, strlen(text), &vars, FACTFILE_RULES_FACTOTUM, &ff, &err),
			 0);
	assert_string_equal(ff.name, "job prod");
	assert_string_equal(ff.tasks[0].name, "a&lt;1&gt;");
	assert_string_equal(ff.tasks[0].arguments[0], "--&lt;1&gt;");
	assert_string_equal(ff.tasks[0].arguments[1], "v");
	assert_string_equal(ff.tasks[1].depends_on[0], "a&lt;1&gt;");
	assert_string_equal(ff.tasks[0].command, "echo");
	assert_non_null(strstr(ff.compact, "\"name\":\"job prod\""));
	factfile_free(&ff);

	/* Duplicates are found after templating. */
	{
		static const char dup[] =
			FF("j", TASK("a{{x}}", "", "", "", "0") "," TASK("a1", "", "", "", "0"));
		kvlist_set(&vars, "x", "1");
		assert_int_equal(load_text(dup, strlen(dup), &vars, FACTFILE_RULES_OURS, &ff, &err),
				 FS_EINVAL);
		char *want =
			xasprintf("'%s' is not a valid factotum factfile: the task name 'a1' is "
				  "used more than once.",
				  path);
		assert_string_equal(err, want);
		free(want);
	}
	/* Without variables, unknown names render empty (rendering always happens). */
	expect_valid(FF("j{{nope}}", ""), FACTFILE_RULES_OURS, &ff);
	assert_string_equal(ff.name, "j");
	assert_string_equal(ff.compact, "{\"schema\":\"" SCHEMA_URI "\",\"data\":{\"name\":\"j\","
					"\"tasks\":[]}}");
	factfile_free(&ff);
	free(err);
	kvlist_free(&vars);
}

static void test_render_errors(void **state)
{
	/* "{{" alone passes in the compact text (it closes at the text's final "}}") and fails
	 * in the job name; the others already fail in the compact text. */
	static const char *bad[] = { "{{", "{{> p}}", "{{#s}}", "{{/s}}" };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *out = NULL, *detail = NULL, *tail, *text, *compact;
		size_t n;

		text = xasprintf(FF("%s", ""), bad[i]);
		compact = xasprintf("{\"schema\":\"" SCHEMA_URI "\",\"data\":{\"name\":\"%s\","
				    "\"tasks\":[]}}",
				    bad[i]);
		if (template_render(compact, strlen(compact), &novars, &out, &n, &detail) == 0) {
			assert_int_equal(i, 0);
			free(out);
			out = NULL;
			assert_int_equal(template_render(bad[i], strlen(bad[i]), &novars, &out, &n,
							 &detail),
					 FS_EINVAL);
		}
		assert_null(out);
		tail = xasprintf("Error rendering template: %s", detail);
		expect_invalid(text, tail);
		free(tail);
		free(text);
		free(compact);
		free(detail);
	}
}

static void test_command_is_rendered_but_kept_literal(void **state)
{
	struct factfile ff;
	struct kvlist vars;
	char *err = NULL;
	static const char text[] =
		FF("j",
		   "{\"name\":\"a\",\"executor\":\"shell\",\"command\":\"echo {{x}}\","
		   "\"arguments\":[],\"dependsOn\":[],\"onResult\":{\"terminateJobWithSuccess\":[],"
		   "\"continueJob\":[0]}}");

	(void)state;
	kvlist_init(&vars);
	kvlist_set(&vars, "x", "1");
	assert_int_equal(load_text(text, strlen(text), &vars, FACTFILE_RULES_OURS, &ff, &err), 0);
	assert_string_equal(ff.tasks[0].command, "echo {{x}}");
	assert_non_null(strstr(ff.compact, "\"command\":\"echo 1\""));
	factfile_free(&ff);
	kvlist_free(&vars);
}

static void test_samples_parse(void **state)
{
	char *dir = resource("samples");
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	(void)state;
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		char *p, *err = NULL;
		struct factfile ff;

		if (l < 9 || strcmp(e->d_name + l - 9, ".factfile") != 0)
			continue;
		p = xasprintf("%s/%s", dir, e->d_name);
		for (int r = 0; r < 2; r++) {
			int rc = factfile_load(p, &novars,
					       r ? FACTFILE_RULES_FACTOTUM : FACTFILE_RULES_OURS,
					       &ff, &err);
			if (rc != 0)
				fail_msg("%s: %s", p, err);
			assert_true(ff.n_tasks > 0);
			assert_int_equal(strlen(ff.compact), ff.compact_len);
			factfile_free(&ff);
		}
		free(p);
		n++;
	}
	closedir(d);
	free(dir);
	assert_true(n >= 10);
}

/* vars NULL: Factotum's `dot` parse (env None) templates nothing, so even text that would not
 * render passes through as written. */
static void test_no_templating(void **state)
{
	struct factfile ff;
	char *err = NULL;
	static const char text[] =
		FF("job {{env}}", TASK("a{{x}}", "\"{{\"", "", "",
				       "0") "," TASK("b{{#s}}", "", "\"a{{x}}\"", "", "0"));

	(void)state;
	assert_int_equal(load_text(text, strlen(text), NULL, FACTFILE_RULES_OURS, &ff, &err), 0);
	assert_null(err);
	assert_string_equal(ff.name, "job {{env}}");
	assert_string_equal(ff.tasks[0].name, "a{{x}}");
	assert_string_equal(ff.tasks[0].arguments[0], "{{");
	assert_string_equal(ff.tasks[1].name, "b{{#s}}");
	assert_string_equal(ff.tasks[1].depends_on[0], "a{{x}}");
	assert_non_null(strstr(ff.compact, "\"name\":\"job {{env}}\""));
	assert_int_equal(strlen(ff.compact), ff.compact_len);
	factfile_free(&ff);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_errors),
		cmocka_unit_test(test_no_templating),
		cmocka_unit_test(test_invalid_json),
		cmocka_unit_test(test_factotum_resources),
		cmocka_unit_test(test_schema_root),
		cmocka_unit_test(test_schema_pattern),
		cmocka_unit_test(test_schema_many_errors_in_order),
		cmocka_unit_test(test_schema_problems_bounded),
		cmocka_unit_test(test_schema_wrong_types),
		cmocka_unit_test(test_duplicate_keys_last_wins),
		cmocka_unit_test(test_semantic_rules),
		cmocka_unit_test(test_graph_rules),
		cmocka_unit_test(test_nul_in_names),
		cmocka_unit_test(test_compact_encoding),
		cmocka_unit_test(test_templating),
		cmocka_unit_test(test_render_errors),
		cmocka_unit_test(test_command_is_rendered_but_kept_literal),
		cmocka_unit_test(test_samples_parse),
		cmocka_unit_test(test_large_graphs),
		cmocka_unit_test(test_cycle_behind_a_task),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
