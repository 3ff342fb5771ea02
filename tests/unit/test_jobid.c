/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/jobid.c: SHA-256 answers known independently, the job-reference vectors
 * (doc/compatibility.md) from hand-built compact texts, and then the whole path — factargs,
 * factfile parse, template, hash — on every line of $FS_TESTDATA/jobref-vectors.tsv. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "factargs.h"
#include "factfile.h"
#include "jobid.h"
#include "kv.h"

static void check_id(const char *text, const struct kvlist *tags, const char *want)
{
	char id[JOBID_LEN + 1];

	jobid_compute(text, strlen(text), tags, id);
	assert_string_equal(id, want);
	assert_true(jobid_is_valid(id));
}

/* Expected values from coreutils: printf '<bytes>' | sha256sum. */
static void test_known_digests(void **state)
{
	struct kvlist tags;

	(void)state;
	kvlist_init(&tags);
	check_id("", NULL, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	check_id("", &tags, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	check_id("abc", NULL, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	/* printf 'abca1b2' | sha256sum: key then value, keys sorted, no separators. */
	kvlist_set(&tags, "b", "2");
	kvlist_set(&tags, "a", "1");
	check_id("abc", &tags, "f93233541fb6da70732525b8710e1ce70f86c3614265b034df9bc7c6cccb0024");
	/* Insertion order does not matter, and the list is left as it was. */
	assert_string_equal(tags.items[0].key, "b");
	kvlist_free(&tags);
	/* printf 'xB1a2z3\xc3\xa94' | sha256sum: byte-wise order puts "B" before "a" and "é" last. */
	kvlist_set(&tags, "z", "3");
	kvlist_set(&tags, "\xc3\xa9", "4");
	kvlist_set(&tags, "a", "2");
	kvlist_set(&tags, "B", "1");
	check_id("x", &tags, "53e329ba9056bb0bec64237afc535be28309336f2c62f0ab5d00df9fcdeb4eaa");
	kvlist_free(&tags);
	/* printf 'xk' | sha256sum: an empty value adds nothing but the key. */
	kvlist_set(&tags, "k", "");
	check_id("x", &tags, "839b49c4e3fd33b6200dd113579168fb168ffd5dbdca93abf08fd148ea98cd35");
	kvlist_free(&tags);
}

static void test_is_valid(void **state)
{
	(void)state;
	assert_true(
		jobid_is_valid("c8abd9c2bb317fdec983bea8707bf01ae72b46d8d2e39317f31a442d360c068a"));
	assert_false(
		jobid_is_valid("C8abd9c2bb317fdec983bea8707bf01ae72b46d8d2e39317f31a442d360c068a"));
	assert_false(
		jobid_is_valid("c8abd9c2bb317fdec983bea8707bf01ae72b46d8d2e39317f31a442d360c068"));
	assert_false(jobid_is_valid(
		"c8abd9c2bb317fdec983bea8707bf01ae72b46d8d2e39317f31a442d360c068aa"));
	assert_false(
		jobid_is_valid("g8abd9c2bb317fdec983bea8707bf01ae72b46d8d2e39317f31a442d360c068a"));
	assert_false(
		jobid_is_valid(" c8abd9c2bb317fdec983bea8707bf01ae72b46d8d2e39317f31a442d360c068"));
	assert_false(jobid_is_valid(""));
	assert_false(jobid_is_valid(NULL));
}

/* The rendered compact texts of two samples, written out by hand (fixed key order, no
 * whitespace; HTML escaping of {{x}}, missing variables empty). */
static const char echo_compact[] =
	"{\"schema\":\"iglu:com.snowplowanalytics.factotum/factfile/jsonschema/1-0-0\",\"data\":{"
	"\"name\":\"echo order demo\",\"tasks\":["
	"{\"name\":\"echo alpha\",\"executor\":\"shell\",\"command\":\"echo\",\"arguments\":[\"alpha\"],"
	"\"dependsOn\":[],\"onResult\":{\"terminateJobWithSuccess\":[3],\"continueJob\":[0]}},"
	"{\"name\":\"echo beta\",\"executor\":\"shell\",\"command\":\"echo\",\"arguments\":[\"beta\"],"
	"\"dependsOn\":[\"echo alpha\"],\"onResult\":{\"terminateJobWithSuccess\":[3],\"continueJob\":[0]}},"
	"{\"name\":\"echo omega\",\"executor\":\"shell\",\"command\":\"echo\",\"arguments\":[\"and omega!\"],"
	"\"dependsOn\":[\"echo beta\"],\"onResult\":{\"terminateJobWithSuccess\":[3],\"continueJob\":[0]}}]}}";

/* echo-with-variables.factfile with message = it's <b>&</b> "quoted", nested.message unreachable
 * (a dotted name is a path), blank missing. */
#define VARS_COMPACT(MESSAGE)                                                                                 \
	"{\"schema\":\"iglu:com.snowplowanalytics.factotum/factfile/jsonschema/1-0-0\",\"data\":{"            \
	"\"name\":\"echo order demo\",\"tasks\":["                                                            \
	"{\"name\":\"echo alpha\",\"executor\":\"shell\",\"command\":\"echo\",\"arguments\":[\"" MESSAGE      \
	"\"],\"dependsOn\":[],\"onResult\":{\"terminateJobWithSuccess\":[3],\"continueJob\":[0]}},"           \
	"{\"name\":\"echo beta\",\"executor\":\"shell\",\"command\":\"echo\",\"arguments\":[\"\"],"           \
	"\"dependsOn\":[\"echo alpha\"],\"onResult\":{\"terminateJobWithSuccess\":[3],\"continueJob\":[0]}}," \
	"{\"name\":\"echo omega\",\"executor\":\"shell\",\"command\":\"echo\",\"arguments\":"                 \
	"[\"empty items are left ''\"],\"dependsOn\":[\"echo beta\"],\"onResult\":"                           \
	"{\"terminateJobWithSuccess\":[3],\"continueJob\":[0]}}]}}"

/* Hashes text with the tags factargs_parse makes of argv. */
static void check_with_args(const char *text, int argc, char *const argv[], const char *want)
{
	struct factargs fa;
	char *err = NULL;

	if (factargs_parse(argc, argv, &fa, &err) != 0)
		fail_msg("factargs_parse: %s", err);
	check_id(text, &fa.tags, want);
	factargs_free(&fa);
}

#define ARGV(...) ((char *const[]){ __VA_ARGS__, NULL })

static void test_vectors_from_hand_built_text(void **state)
{
	(void)state;
	check_with_args(echo_compact, 0, ARGV(NULL),
			"c8abd9c2bb317fdec983bea8707bf01ae72b46d8d2e39317f31a442d360c068a");
	check_with_args(echo_compact, 2, ARGV("--tag", "env,prod"),
			"da17739cf0b19e6903886dbd3eb054fc2b18f1e252f427d36173d10bccf97c6e");
	check_with_args(echo_compact, 4, ARGV("--tag", "env,prod", "--tag", "team,data"),
			"68dc679d5010d1fd94e1a7f630da2eab04b5ffb99f2f7ae422e3021ec9eb7e23");
	check_with_args(echo_compact, 4, ARGV("--tag", "team,data", "--tag", "env,prod"),
			"68dc679d5010d1fd94e1a7f630da2eab04b5ffb99f2f7ae422e3021ec9eb7e23");
	check_with_args(echo_compact, 2, ARGV("--tag", "the rain,first,, wow,,"),
			"4400865de78589cb16352ffdf32c51ac3411100ef552bd349d9a8ec3be4aae84");
	check_with_args(VARS_COMPACT("it&#39;s &lt;b&gt;&amp;&lt;/b&gt; &quot;quoted&quot;"), 0,
			ARGV(NULL),
			"24ace24771e6b7db81446988fbf8b0d619f3a37f1498853933f2ab43d6ed1f51");
	check_with_args(VARS_COMPACT("hi"), 2, ARGV("--tag", "team,data"),
			"7a4ffc90e4873a5c0d23c5328310c416a7717f6358037ee4f89b74f07931033a");
}

static const char *testdata(void)
{
	const char *d = getenv("FS_TESTDATA");
	return d != NULL && *d != '\0' ? d : "tests/data";
}

/* One vector: parse the JSON array of arguments, load the sample with the variables, hash. */
static void check_vector(const char *file, const char *args_json, const char *want, int lineno)
{
	json_object *arr = json_tokener_parse(args_json);
	struct factargs fa;
	struct factfile ff;
	char *err = NULL, *path, **argv;
	char id[JOBID_LEN + 1];
	int argc;

	if (arr == NULL || !json_object_is_type(arr, json_type_array))
		fail_msg("line %d: bad arguments column", lineno);
	argc = (int)json_object_array_length(arr);
	argv = calloc((size_t)argc + 1, sizeof *argv);
	assert_non_null(argv);
	for (int i = 0; i < argc; i++)
		argv[i] = (char *)json_object_get_string(json_object_array_get_idx(arr, (size_t)i));
	if (factargs_parse(argc, argv, &fa, &err) != 0)
		fail_msg("line %d: factargs_parse: %s", lineno, err);
	assert_non_null(path = malloc(strlen(testdata()) + strlen(file) + 16));
	sprintf(path, "%s/samples/%s", testdata(), file);
	for (int r = 0; r < 2; r++) {
		enum factfile_rules rules = r ? FACTFILE_RULES_FACTOTUM : FACTFILE_RULES_OURS;
		if (factfile_load(path, &fa.vars, rules, &ff, &err) != 0)
			fail_msg("line %d: factfile_load(%s): %s", lineno, path, err);
		jobid_compute(ff.compact, ff.compact_len, &fa.tags, id);
		if (strcmp(id, want) != 0)
			fail_msg("line %d (%s %s): got %s, want %s; compact text: %s", lineno, file,
				 args_json, id, want, ff.compact);
		factfile_free(&ff);
	}
	free(path);
	free(argv);
	factargs_free(&fa);
	json_object_put(arr);
}

static void test_vectors_file(void **state)
{
	char *path, line[4096];
	FILE *f;
	int lineno = 0, checked = 0;

	(void)state;
	assert_non_null(path = malloc(strlen(testdata()) + 32));
	sprintf(path, "%s/jobref-vectors.tsv", testdata());
	f = fopen(path, "r");
	if (f == NULL)
		fail_msg("cannot open %s (set FS_TESTDATA)", path);
	while (fgets(line, sizeof line, f) != NULL) {
		char *t1, *t2, *nl;
		lineno++;
		if ((nl = strchr(line, '\n')) != NULL)
			*nl = '\0';
		if (lineno == 1 || line[0] == '\0')
			continue; /* the header */
		t1 = strchr(line, '\t');
		t2 = t1 != NULL ? strchr(t1 + 1, '\t') : NULL;
		if (t2 == NULL)
			fail_msg("line %d: expected three tab-separated columns", lineno);
		*t1 = *t2 = '\0';
		check_vector(line, t1 + 1, t2 + 1, lineno);
		checked++;
	}
	fclose(f);
	free(path);
	assert_int_equal(checked, 9);
}

/* Escaping in the compact text and HTML escaping of env and tag values, end to end. The factfile
 * has its keys out of order, JSON escapes of every kind, and {{x}}, {{{x}}}, {{& x}} uses; the
 * expected text is written by hand from the job-reference rules, and the id was computed from
 * it with Python's hashlib (sha256(text + "team" + "R&D <x>")), apart from this code. */
static const char esc_factfile[] =
	"{\n"
	"  \"data\": {\n"
	"    \"tasks\": [\n"
	"      {\n"
	"        \"onResult\": { \"continueJob\": [ 0, 3 ], \"terminateJobWithSuccess\": [] },\n"
	"        \"dependsOn\": [],\n"
	"        \"arguments\": [ \"{{{env}}}\", \"{{& env}}\", \"{{env}}\", \"{{tag:team}}\" ],\n"
	"        \"command\": \"echo {{env}}\",\n"
	"        \"executor\": \"shell\",\n"
	"        \"name\": \"t {{ env }}\"\n"
	"      }\n"
	"    ],\n"
	"    \"name\": \"q\\\"b\\\\s\\/\\u00e9\\u0001\\u007f\\t\\n{{tag:team}}\"\n"
	"  },\n"
	"  \"schema\": \"iglu:com.snowplowanalytics.factotum/factfile/jsonschema/1-0-0\"\n"
	"}\n";

static const char esc_compact[] =
	"{\"schema\":\"iglu:com.snowplowanalytics.factotum/factfile/jsonschema/1-0-0\",\"data\":{"
	"\"name\":\"q\\\"b\\\\s/\xc3\xa9\\u0001\\u007f\\t\\nR&amp;D &lt;x&gt;\",\"tasks\":[{"
	"\"name\":\"t &lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;\",\"executor\":\"shell\","
	"\"command\":\"echo &lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;\",\"arguments\":["
	"\"<a href='x'>&\"</a>\",\"<a href='x'>&\"</a>\","
	"\"&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;\",\"R&amp;D &lt;x&gt;\"],"
	"\"dependsOn\":[],\"onResult\":{\"terminateJobWithSuccess\":[],\"continueJob\":[0,3]}}]}}";

static void test_escaping_end_to_end(void **state)
{
	char path[] = "/tmp/test_jobid_XXXXXX";
	struct factargs fa;
	struct factfile ff;
	char *err = NULL;
	char id[JOBID_LEN + 1];
	int fd;

	(void)state;
	/* The hand-built text hashes to the independently computed id. */
	check_with_args(esc_compact, 2, ARGV("--tag", " team , R&D <x> "),
			"68f7b7a46c177a9032a87107bddd5ac27e4968c9d8ca1e5aa1e74cf421234d2c");
	/* And the parser + templating produce exactly that text. */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, esc_factfile, sizeof esc_factfile - 1),
			 (ssize_t)(sizeof esc_factfile - 1));
	close(fd);
	if (factargs_parse(4,
			   ARGV("--env", "{\"env\":\"<a href='x'>&\\\"</a>\"}", "--tag",
				" team , R&D <x> "),
			   &fa, &err) != 0)
		fail_msg("factargs_parse: %s", err);
	if (factfile_load(path, &fa.vars, FACTFILE_RULES_OURS, &ff, &err) != 0)
		fail_msg("factfile_load: %s", err);
	unlink(path);
	assert_string_equal(ff.compact, esc_compact);
	assert_int_equal(ff.compact_len, strlen(esc_compact));
	/* The command field itself is not templated; the name and arguments are. */
	assert_string_equal(ff.tasks[0].command, "echo {{env}}");
	assert_string_equal(ff.tasks[0].name, "t &lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;");
	assert_string_equal(ff.tasks[0].arguments[0], "<a href='x'>&\"</a>");
	jobid_compute(ff.compact, ff.compact_len, &fa.tags, id);
	assert_string_equal(id, "68f7b7a46c177a9032a87107bddd5ac27e4968c9d8ca1e5aa1e74cf421234d2c");
	factfile_free(&ff);
	factargs_free(&fa);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_digests),
		cmocka_unit_test(test_is_valid),
		cmocka_unit_test(test_vectors_from_hand_built_text),
		cmocka_unit_test(test_vectors_file),
		cmocka_unit_test(test_escaping_end_to_end),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
