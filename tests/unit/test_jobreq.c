/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/jobreq: the /submit body's shape and the in-process validation and job
 * id, with the original's messages byte for byte. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "jobreq.h"
#include "xalloc.h"

static char tmpdir[PATH_MAX];
static const char *testdata;

/* Parses body; returns the error text (caller frees) or NULL on success (req filled). */
static char *parse_err(const char *body, struct job_request *req)
{
	char *err = NULL;
	int rc = jobreq_parse(body, strlen(body), req, &err);
	if (rc == 0) {
		assert_null(err);
		return NULL;
	}
	assert_int_equal(rc, FS_EINVAL);
	assert_non_null(err);
	return err;
}

static void expect_parse_error(const char *body, const char *message)
{
	struct job_request req;
	char *err = parse_err(body, &req);
	assert_non_null(err);
	assert_string_equal(err, message);
	free(err);
}

static void test_parse_no_body(void **state)
{
	struct job_request req;
	char *err = NULL;
	assert_int_equal(jobreq_parse("", 0, &req, &err), FS_EINVAL);
	assert_string_equal(err, "Error: No body found in POST request");
	free(err);
}

static void test_parse_invalid_json(void **state)
{
	expect_parse_error("{",
			   "Error decoding JSON string: unexpected end of data at line 1 column 2");
	expect_parse_error("{\"jobName\":\"a\",}",
			   "Error decoding JSON string: unexpected character at line 1 column 16");
	expect_parse_error("{\n\"a\" 1}", "Error decoding JSON string: object property name "
					  "separator ':' expected at line 2 column 5");
	expect_parse_error("{} x",
			   "Error decoding JSON string: unexpected character at line 1 column 4");
	expect_parse_error("'a'",
			   "Error decoding JSON string: unexpected character at line 1 column 1");
	/* the syntax comes first: invalid UTF-8 in a cut-off string is a syntax error */
	expect_parse_error(
		"{\"jobName\":\"\xff",
		"Error decoding JSON string: unexpected end of data at line 1 column 14");
	/* Bytes after a NUL are not silently ignored. */
	struct job_request req;
	char *err = NULL;
	assert_int_equal(jobreq_parse("{}\0{}", 5, &req, &err), FS_EINVAL);
	assert_string_equal(err,
			    "Error decoding JSON string: trailing characters at line 1 column 3");
	free(err);
}

static void test_parse_deep_nesting(void **state)
{
	struct buf b;
	buf_init(&b);
	for (int i = 0; i < 100000; i++)
		buf_putc(&b, '[');
	expect_parse_error(b.data,
			   "Error decoding JSON string: nesting too deep at line 1 column 33");
	buf_free(&b);
}

static void test_parse_wrong_shape(void **state)
{
	expect_parse_error(
		"[]",
		"Error decoding JSON string: invalid type: sequence, expected struct JobRequest");
	expect_parse_error(
		"null",
		"Error decoding JSON string: invalid type: null, expected struct JobRequest");
	expect_parse_error(
		"\"x\"",
		"Error decoding JSON string: invalid type: string, expected struct JobRequest");
	expect_parse_error("{}", "Error decoding JSON string: missing field `jobName`");
	expect_parse_error("{\"jobName\":\"a\"}",
			   "Error decoding JSON string: missing field `factfilePath`");
	expect_parse_error(
		"{\"jobName\":1,\"factfilePath\":\"/a\"}",
		"Error decoding JSON string: invalid type: integer, expected a string for field `jobName`");
	expect_parse_error(
		"{\"jobName\":\"a\",\"factfilePath\":null}",
		"Error decoding JSON string: invalid type: null, expected a string for field `factfilePath`");
	expect_parse_error(
		"{\"jobName\":\"a\",\"factfilePath\":\"/a\",\"factfileArgs\":\"--tag\"}",
		"Error decoding JSON string: invalid type: string, expected a sequence of strings for field `factfileArgs`");
	expect_parse_error(
		"{\"jobName\":\"a\",\"factfilePath\":\"/a\",\"factfileArgs\":[\"x\",2]}",
		"Error decoding JSON string: invalid type: integer, expected a string in `factfileArgs` at index 1");
	expect_parse_error(
		"{\"jobName\":\"a\",\"factfilePath\":\"/a\",\"factfileArgs\":[[\"x\"]]}",
		"Error decoding JSON string: invalid type: sequence, expected a string in `factfileArgs` at index 0");
	expect_parse_error("{\"jobName\":\"a\\u0000b\",\"factfilePath\":\"/a\"}",
			   "Error decoding JSON string: field `jobName` contains a NUL character");
	expect_parse_error(
		"{\"jobName\":\"a\",\"factfilePath\":\"/a\",\"factfileArgs\":[\"--tag\",\"a\\u0000\"]}",
		"Error decoding JSON string: `factfileArgs` at index 1 contains a NUL character");
}

static void test_parse_duplicate_keys(void **state)
{
	expect_parse_error("{\"jobName\":\"a\",\"jobName\":\"b\",\"factfilePath\":\"/a\"}",
			   "Error decoding JSON string: duplicate field `jobName`");
	/* An escaped spelling is the same key. */
	expect_parse_error(
		"{\"factfilePath\":\"/a\",\"jobName\":\"a\",\"factfile\\u0050ath\":\"/b\"}",
		"Error decoding JSON string: duplicate field `factfilePath`");
	/* The same name nested deeper is not a duplicate. */
	struct job_request req;
	char *err = parse_err("{\"x\":{\"jobName\":1},\"jobName\":\"a\",\"factfilePath\":\"/a\"}",
			      &req);
	assert_null(err);
	jobreq_free(&req);
}

static void test_parse_ok(void **state)
{
	struct job_request req;
	char *err = parse_err("{\"unknown\":[1,{}],\"jobName\":\"J\",\"factfilePath\":\"/x/y\","
			      "\"factfileArgs\":[\"--tag\",\"a/b,\\u00e9\",\"--no-colour\"]}",
			      &req);
	assert_null(err);
	assert_string_equal(req.job_name, "J");
	assert_string_equal(req.factfile_path, "/x/y");
	assert_int_equal(req.n_args, 3);
	assert_string_equal(req.args[1], "a/b,\xc3\xa9");
	assert_string_equal(req.args_json, "[\"--tag\",\"a/b,\xc3\xa9\",\"--no-colour\"]");
	jobreq_free(&req);
	/* factfileArgs may be left out: no arguments. */
	err = parse_err("{\"jobName\":\"J\",\"factfilePath\":\"/x\"}", &req);
	assert_null(err);
	assert_int_equal(req.n_args, 0);
	assert_string_equal(req.args_json, "[]");
	jobreq_free(&req);
}

/* ---- validation ---- */

static char *write_file(const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static char *sample(const char *name)
{
	return xasprintf("%s/samples/%s", testdata, name);
}

/* Validates a request built from its parts; returns the error or NULL (and the id in id_out). */
static char *validate(const char *name, const char *path, const char *const *args,
		      const struct jobreq_policy *policy, char id_out[JOBID_LEN + 1])
{
	struct job_request req;
	char *err = NULL;
	size_t n = 0;
	memset(&req, 0, sizeof req);
	req.job_name = xstrdup(name);
	req.factfile_path = xstrdup(path);
	while (args && args[n])
		n++;
	req.args = xcalloc(n + 1, sizeof *req.args);
	for (size_t i = 0; i < n; i++)
		req.args[i] = xstrdup(args[i]);
	req.n_args = n;
	req.args_json = xstrdup("[]");
	if (jobreq_validate(&req, policy, &err) == 0 && id_out)
		memcpy(id_out, req.id, JOBID_LEN + 1);
	jobreq_free(&req);
	return err;
}

static const struct jobreq_policy any_path = { .rules = FACTFILE_RULES_OURS };

static void expect_invalid(const char *name, const char *path, const char *const *args,
			   const struct jobreq_policy *policy, const char *message)
{
	char *err = validate(name, path, args, policy, NULL);
	assert_non_null(err);
	assert_string_equal(err, message);
	free(err);
}

static void test_validate_fields(void **state)
{
	char *echo = sample("echo.factfile");
	char *msg;
	expect_invalid("", echo, NULL, &any_path,
		       "Validation Error: No valid value found: field 'jobName' cannot be empty");
	expect_invalid(
		"j", "", NULL, &any_path,
		"Validation Error: No valid value found: field 'factfilePath' cannot be empty");
	expect_invalid(
		"j", "relative/echo.factfile", NULL, &any_path,
		"Validation Error: factfilePath 'relative/echo.factfile' must be an absolute path");
	msg = xasprintf(
		"Validation Error: Value does not exist on host for 'factfilePath':'%s/nope'",
		tmpdir);
	char *nope = xasprintf("%s/nope", tmpdir);
	expect_invalid("j", nope, NULL, &any_path, msg);
	free(msg);
	free(nope);
	free(echo);
}

static void test_validate_roots(void **state)
{
	char *inside_dir = xasprintf("%s/root", tmpdir);
	char *outside = write_file("outside.factfile", "{}");
	char *inside, *escape, *link, *msg;
	char real_root[PATH_MAX];
	char *echo = sample("echo.factfile");
	char id[JOBID_LEN + 1];

	assert_int_equal(mkdir(inside_dir, 0755), 0);
	assert_non_null(realpath(inside_dir, real_root));
	char *roots[] = { real_root };
	struct jobreq_policy policy = { .roots = roots,
					.n_roots = 1,
					.rules = FACTFILE_RULES_OURS };

	/* A copy of the sample inside the root is accepted. */
	inside = xasprintf("%s/echo.factfile", inside_dir);
	{
		FILE *in = fopen(echo, "r"), *out = fopen(inside, "w");
		int c;
		assert_non_null(in);
		assert_non_null(out);
		while ((c = fgetc(in)) != EOF)
			fputc(c, out);
		fclose(in);
		fclose(out);
	}
	char *err = validate("j", inside, NULL, &policy, id);
	assert_null(err);

	msg = xasprintf("Validation Error: factfilePath '%s' is outside the allowed roots",
			outside);
	expect_invalid("j", outside, NULL, &policy, msg);
	free(msg);
	/* `..` cannot climb out. */
	escape = xasprintf("%s/../outside.factfile", inside_dir);
	msg = xasprintf("Validation Error: factfilePath '%s' is outside the allowed roots", escape);
	expect_invalid("j", escape, NULL, &policy, msg);
	free(msg);
	/* Nor can a symlink inside the root that points outside. */
	link = xasprintf("%s/link.factfile", inside_dir);
	assert_int_equal(symlink(outside, link), 0);
	msg = xasprintf("Validation Error: factfilePath '%s' is outside the allowed roots", link);
	expect_invalid("j", link, NULL, &policy, msg);
	free(msg);
	/* A sibling directory sharing the root's name as a prefix is outside. */
	char *sibling_dir = xasprintf("%s/rootx", tmpdir);
	assert_int_equal(mkdir(sibling_dir, 0755), 0);
	char *sibling = xasprintf("%s/rootx/f", tmpdir);
	FILE *f = fopen(sibling, "w");
	fclose(f);
	msg = xasprintf("Validation Error: factfilePath '%s' is outside the allowed roots",
			sibling);
	expect_invalid("j", sibling, NULL, &policy, msg);
	free(msg);
	unlink(sibling);
	rmdir(sibling_dir);
	free(sibling);
	free(sibling_dir);
	unlink(link);
	unlink(inside);
	unlink(outside);
	rmdir(inside_dir);
	free(link);
	free(escape);
	free(inside);
	free(outside);
	free(inside_dir);
	free(echo);
}

static void test_validate_not_a_file(void **state)
{
	char *fifo = xasprintf("%s/fifo", tmpdir);
	char *msg;
	assert_int_equal(mkfifo(fifo, 0644), 0);
	msg = xasprintf("Validation Error: factfilePath '%s' is not a regular file", fifo);
	expect_invalid("j", fifo, NULL, &any_path, msg); /* and does not hang reading it */
	free(msg);
	unlink(fifo);
	free(fifo);
	expect_invalid("j", "/dev/zero", NULL, &any_path,
		       "Validation Error: factfilePath '/dev/zero' is not a regular file");
	/* A directory gets Factotum's own read error. */
	msg = xasprintf("Validation Error: Couldn't read '%s': Is a directory (os error 21)",
			tmpdir);
	expect_invalid("j", tmpdir, NULL, &any_path, msg);
	free(msg);
}

/* As root every file is readable, so the unreadable case runs in a child that drops to nobody. */
static void test_validate_unreadable(void **state)
{
	char *path = write_file("secret.factfile", "{}");
	char *msg = xasprintf("Validation Error: Couldn't open '%s' for reading: Permission denied "
			      "(os error 13)",
			      path);
	pid_t pid;
	int status;

	assert_int_equal(chmod(path, 0), 0);
	assert_int_equal(chmod(tmpdir, 0755), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
			_exit(3);
		char *err = validate("j", path, NULL, &any_path, NULL);
		_exit(err != NULL && strcmp(err, msg) == 0
			      ? 0
			      : (fprintf(stderr, "got: %s\n", err ? err : "(none)"), 1));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	unlink(path);
	free(path);
	free(msg);
}

static void test_validate_bad_factfile(void **state)
{
	char *path = write_file("bad.factfile", "{\"schema\":1}");
	char *msg =
		xasprintf("Validation Error: '%s' is not a valid factotum factfile: '/schema' - "
			  "Type of the value is wrong (The value must be string)\n'/data' - This "
			  "property is required",
			  path);
	expect_invalid("j", path, NULL, &any_path, msg);
	free(msg);
	unlink(path);
	free(path);
}

static void test_validate_bad_args(void **state)
{
	char *echo = sample("echo.factfile");
	const char *dry[] = { "--dry-run", NULL };
	const char *unknown_start[] = { "--start", "nope", NULL };
	const char *no_value[] = { "--start", NULL };
	const char *bad_env[] = { "--env", "{\"a\":1}", NULL };
	const char *unknown_opt[] = { "--bogus", NULL };
	const char *bad_hook[] = { "--webhook", "ftp://x", NULL };

	expect_invalid("j", echo, dry, &any_path,
		       "Validation Error: --dry-run cannot be used for a queued job");
	expect_invalid("j", echo, unknown_start, &any_path,
		       "Validation Error: The job cannot be started from 'nope' because the task "
		       "specified could not be found");
	expect_invalid(
		"j", echo, no_value, &any_path,
		"Validation Error: Expected argument for flag '--start' but reached end of arguments.");
	expect_invalid(
		"j", echo, bad_env, &any_path,
		"Validation Error: Supplied string '{\"a\":1}' is not valid JSON: decoder error");
	expect_invalid("j", echo, unknown_opt, &any_path,
		       "Validation Error: Unknown flag: '--bogus'");
	expect_invalid(
		"j", echo, bad_hook, &any_path,
		"Validation Error: Error: the specifed webhook URL \"ftp://x\" is invalid. Reason: "
		"URL must begin with 'http://' or 'https://' to be used with Factotum webhooks");
	free(echo);
}

#define TASK(n, deps)                                                                             \
	"{\"name\":\"" n "\",\"executor\":\"shell\",\"command\":\"true\","                        \
	"\"arguments\":[],\"dependsOn\":[" deps "],\"onResult\":{\"terminateJobWithSuccess\":[]," \
	"\"continueJob\":[0]}}"
#define FACTFILE(tasks)                                                                  \
	"{\"schema\":\"iglu:com.snowplowanalytics.factotum/factfile/jsonschema/1-0-0\"," \
	"\"data\":{\"name\":\"j\",\"tasks\":[" tasks "]}}"

/* The rules follow the runner: ours takes dependencies in any order, a foreign Factotum needs
 * them defined first, so a job it cannot start is refused up front. */
static void test_validate_rules_follow_runner(void **state)
{
	char *path = write_file("order.factfile", FACTFILE(TASK("b", "\"a\"") "," TASK("a", "")));
	struct jobreq_policy foreign = { .rules = FACTFILE_RULES_FACTOTUM };
	char id[JOBID_LEN + 1];
	char *err = validate("j", path, NULL, &any_path, id);
	assert_null(err);
	assert_true(jobid_is_valid(id));
	err = validate("j", path, NULL, &foreign, NULL);
	assert_non_null(err);
	char *msg =
		xasprintf("Validation Error: '%s' is not a valid factotum factfile: the task 'b' "
			  "depends on 'a', which is not defined before it (Factotum requires "
			  "dependencies to come first).",
			  path);
	assert_string_equal(err, msg);
	free(msg);
	free(err);
	unlink(path);
	free(path);
}

/* A host constraint for another machine does not skip validation (Factotum's would). */
static void test_validate_constraint_still_validates(void **state)
{
	char *path = write_file("broken.factfile", FACTFILE(TASK("a", "\"a\"")));
	const char *foreign_host[] = { "--constraint", "host,some-other-host.invalid", NULL };
	char *msg =
		xasprintf("Validation Error: '%s' is not a valid factotum factfile: the task 'a' "
			  "depends on itself.",
			  path);
	expect_invalid("j", path, foreign_host, &any_path, msg);
	free(msg);
	unlink(path);
	free(path);
}

/* The id of an accepted request is the job-id vector for the same factfile and arguments. */
static void test_validate_id_matches_vectors(void **state)
{
	char *echo = sample("echo.factfile");
	char *noop = sample("noop.factfile");
	const char *tag[] = { "--tag", "env,prod", NULL };
	const char *tags2[] = { "--tag", "env,prod", "--tag", "team,data", "--no-colour", NULL };
	char id[JOBID_LEN + 1];
	char *err;

	err = validate("j", echo, NULL, &any_path, id);
	assert_null(err);
	assert_string_equal(id, "c8abd9c2bb317fdec983bea8707bf01ae72b46d8d2e39317f31a442d360c068a");
	err = validate("j", echo, tag, &any_path, id);
	assert_null(err);
	assert_string_equal(id, "da17739cf0b19e6903886dbd3eb054fc2b18f1e252f427d36173d10bccf97c6e");
	/* --no-colour does not change the identity. */
	err = validate("other name", echo, tags2, &any_path, id);
	assert_null(err);
	assert_string_equal(id, "68dc679d5010d1fd94e1a7f630da2eab04b5ffb99f2f7ae422e3021ec9eb7e23");
	err = validate("j", noop, NULL, &any_path, id);
	assert_null(err);
	assert_string_equal(id, "ed4a04ae632fee2b0691891066d080551260c1ec7d70a97617843769ce83481a");
	free(noop);
	free(echo);
}

/* The tags that name a schedule's slot are refused from a client, trimmed as Factotum trims
 * keys, and accepted for the schedule's own firing (slot_tags). */
static void test_validate_slot_tags(void **state)
{
	char *echo = sample("echo.factfile");
	const char *slot[] = { "--tag", " slot ,2026-01-01T00:00:00Z", NULL };
	const char *sched[] = { "--tag", "env,prod", "--tag", "schedule,nightly", NULL };
	const char *both[] = { "--tag", "schedule,n", "--tag", "slot,2026-01-01T00:00:00Z", NULL };
	const char *other[] = { "--tag", "Slot,x", "--tag", "slots,y", NULL };
	struct jobreq_policy firing = { .rules = FACTFILE_RULES_OURS, .slot_tags = 1 };
	char id[JOBID_LEN + 1];
	char *err;

	(void)state;
	expect_invalid("j", echo, slot, &any_path,
		       "Validation Error: the tag 'slot' is reserved for schedules");
	expect_invalid("j", echo, sched, &any_path,
		       "Validation Error: the tag 'schedule' is reserved for schedules");
	err = validate("j", echo, other, &any_path, id);
	assert_null(err);
	err = validate("j", echo, both, &firing, id);
	assert_null(err);
	free(echo);
}

/* --template-values: strict refuses (every time: a refusal is never cached), factotum accepts;
 * a value that stays data is accepted either way, from the cache the second time. */
static void test_validate_template_values(void **state)
{
	char *ff = xasprintf("%s/template/write-arg.factfile", testdata);
	const char *attack[] = { "--tag", "x,$(id -u; touch pwned)", "--tag", "out,/tmp/o", NULL };
	const char *data[] = { "--tag", "x,a b;c", "--tag", "out,/tmp/o", NULL };
	struct jobreq_policy strict = { .rules = FACTFILE_RULES_OURS, .cache = jobreq_cache_new() };
	struct jobreq_policy trust = { .rules = FACTFILE_RULES_OURS,
				       .cache = jobreq_cache_new(),
				       .trust_template_values = 1 };
	char id1[JOBID_LEN + 1], id2[JOBID_LEN + 1];
	struct stat st;
	time_t age;

	(void)state;
	/* the cache takes only files settled for 2 s */
	assert_int_equal(stat(ff, &st), 0);
	age = time(NULL) - (st.st_ctime > st.st_mtime ? st.st_ctime : st.st_mtime);
	if (age < 3)
		sleep((unsigned)(3 - age));
	for (int i = 0; i < 2; i++)
		expect_invalid(
			"j", ff, attack, &strict,
			"Validation Error: task 'write': the value of 'tag:x' puts '$' inside "
			"double quotes in the command line; --template-values strict allows "
			"neither '\"', '$', '`' nor '\\' there");
	assert_null(validate("j", ff, data, &strict, id1));
	assert_null(validate("j", ff, data, &strict, id2));
	assert_string_equal(id1, id2);
	assert_null(validate("j", ff, attack, &trust, NULL));
	assert_null(validate("j", ff, attack, &trust, NULL));
	jobreq_cache_free(strict.cache);
	jobreq_cache_free(trust.cache);
	free(ff);
}

/* The job keeps the bytes it was validated with, and their SHA-256: read here (a file too new
 * for the cache), or served by the cache (the sample, long settled), the same both times. */
static void expect_kept(const char *path, struct jobreq_policy *policy, const char *text,
			const char *sha)
{
	struct job_request req;
	char *err = NULL;

	memset(&req, 0, sizeof req);
	req.job_name = xstrdup("k");
	req.factfile_path = xstrdup(path);
	req.args = xcalloc(1, sizeof *req.args);
	req.args_json = xstrdup("[]");
	assert_int_equal(jobreq_validate(&req, policy, &err), 0);
	assert_int_equal(req.factfile_len, strlen(text));
	assert_memory_equal(req.factfile, text, req.factfile_len);
	assert_string_equal(req.factfile_sha, sha);
	jobreq_free(&req);
}

static void test_validate_keeps_bytes(void **state)
{
	static const char text[] =
		"{ \"schema\": \"iglu:com.snowplowanalytics.factotum/factfile/jsonschema/1-0-0\",\n"
		"  \"data\": { \"name\": \"kept\", \"tasks\": [ { \"name\": \"t\", \"executor\": "
		"\"shell\",\n"
		"    \"command\": \"true\", \"arguments\": [], \"dependsOn\": [],\n"
		"    \"onResult\": { \"terminateJobWithSuccess\": [], \"continueJob\": [0] } } ] } }\n";
	static const char sha[] =
		"b4b1ab9f9fafd94124e7d1664b18e8031c79395f7b60c19c538588737a77f676";
	struct jobreq_policy cached = { .rules = FACTFILE_RULES_OURS, .cache = jobreq_cache_new() };
	char *path = write_file("kept.factfile", text), *echo = sample("echo.factfile"), *echo_text;
	size_t len;

	(void)state;
	expect_kept(path, &cached, text, sha);
	assert_int_equal(factfile_read(echo, &echo_text, &len, NULL), 0);
	for (int i = 0; i < 2; i++) /* read and put, then served by the cache */
		expect_kept(echo, &cached, echo_text,
			    "89116d60c592d62068862ef88aa5cd400e195e5d2311ddc564ab5d00b617624e");
	free(echo_text);
	jobreq_cache_free(cached.cache);
	unlink(path);
	free(path);
	free(echo);
}

static int setup(void **state)
{
	const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	snprintf(tmpdir, sizeof tmpdir, "%s/test_jobreq.XXXXXX", base);
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	testdata = getenv("FS_TESTDATA");
	return testdata ? 0 : -1;
}

/* ---- UTF-8 and the jobName limit ---- */

#define F ",\"factfilePath\":\"/x\""

static void test_parse_utf8(void **state)
{
	struct job_request req;
	char *err;

	/* raw bytes json-c itself refuses, and those it lets through */
	expect_parse_error("{\"jobName\":\"\xff\"" F "}", "Error: invalid UTF-8 in jobName");
	expect_parse_error("{\"jobName\":\"a\xc0\xaf\"" F "}", "Error: invalid UTF-8 in jobName");
	expect_parse_error("{\"jobName\":\"a\",\"factfilePath\":\"/\xed\xa0\x80\"}",
			   "Error: invalid UTF-8 in factfilePath");
	expect_parse_error("{\"jobName\":\"\xf4\x90\x80\x80\"" F "}",
			   "Error: invalid UTF-8 in jobName");
	expect_parse_error("{\"jobName\":\"\xe2\x82\"" F "}", "Error: invalid UTF-8 in jobName");
	/* each element of factfileArgs by its index */
	expect_parse_error("{\"jobName\":\"a\"" F ",\"factfileArgs\":[\"--tag\",\"a,\xfe\"]}",
			   "Error: invalid UTF-8 in factfileArgs[1]");
	/* lone surrogates written as escapes, which json-c turns into U+FFFD */
	expect_parse_error("{\"jobName\":\"\\ud800\"" F "}", "Error: invalid UTF-8 in jobName");
	expect_parse_error("{\"jobName\":\"a\"" F
			   ",\"factfileArgs\":[\"x\",\"y\",\"z\",\"\\udc00\"]}",
			   "Error: invalid UTF-8 in factfileArgs[3]");
	expect_parse_error("{\"jobName\":\"\\ud83d\\u0041\"" F "}",
			   "Error: invalid UTF-8 in jobName");
	/* any string of the body, known or not, keys included */
	expect_parse_error("{\"jobName\":\"a\"" F ",\"x\":{\"y\":[1,\"\xff\"]}}",
			   "Error: invalid UTF-8 in x.y[1]");
	expect_parse_error("{\"jobName\":\"a\"" F ",\"k\xffy\":1}",
			   "Error: invalid UTF-8 in k\xef\xbf\xbdy");
	expect_parse_error("{\"jobName\":\"a\"" F ",\"\\udfff\":1}",
			   "Error: invalid UTF-8 in \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	/* a value json-c drops as a duplicate key's is still checked */
	expect_parse_error("{\"x\":\"\xff\",\"x\":1,\"jobName\":\"a\"" F "}",
			   "Error: invalid UTF-8 in body");
	expect_parse_error("\"\xff\"", "Error: invalid UTF-8 in body");

	/* well-formed text at the edges of the ranges, raw or escaped, is accepted as sent */
	err = parse_err("{\"jobName\":\"\xf4\x8f\xbf\xbf\xed\x9f\xbf\\ud83d\\ude00\\ufffd\"" F
			",\"factfileArgs\":[\"\xc3\xa9\",\"\xef\xbf\xbd\"]}",
			&req);
	assert_null(err);
	assert_string_equal(req.job_name,
			    "\xf4\x8f\xbf\xbf\xed\x9f\xbf\xf0\x9f\x98\x80\xef\xbf\xbd");
	assert_string_equal(req.args_json, "[\"\xc3\xa9\",\"\xef\xbf\xbd\"]");
	jobreq_free(&req);
}

static void test_parse_job_name_length(void **state)
{
	struct job_request req;
	char name[JOBREQ_MAX_JOB_NAME + 2], *body, *err;

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	body = xasprintf("{\"jobName\":\"%s\"" F "}", name);
	expect_parse_error(body, "Error: jobName is longer than 256 bytes");
	free(body);
	/* bytes, not characters: 128 two-byte characters are 256 bytes, one more is too many */
	name[0] = '\0';
	for (int i = 0; i < 128; i++)
		strcat(name, "\xc3\xa9");
	body = xasprintf("{\"jobName\":\"%s\"" F "}", name);
	err = parse_err(body, &req);
	assert_null(err);
	assert_int_equal(strlen(req.job_name), JOBREQ_MAX_JOB_NAME);
	jobreq_free(&req);
	free(body);
	body = xasprintf("{\"jobName\":\"%s\\u00e9\"" F "}", name);
	expect_parse_error(body, "Error: jobName is longer than 256 bytes");
	free(body);
}

static int teardown(void **state)
{
	return rmdir(tmpdir);
}

/* a; b after a; c after b; d after a and c */
#define TASK_A     TASK("a", "")
#define TASK_B     TASK("b", "\"a\"")
#define TASK_C     TASK("c", "\"b\"")
#define TASK_D     TASK("d", "\"a\", \"c\"")
#define FOUR_TASKS FACTFILE(TASK_A "," TASK_B "," TASK_C "," TASK_D)

/* A factfile over --max-tasks is refused once it validates; one at the limit is accepted. */
static void test_validate_max_tasks(void **state)
{
	char *path = write_file("four.factfile", FOUR_TASKS);
	struct jobreq_policy policy = { .rules = FACTFILE_RULES_OURS };
	char *msg, *err;

	policy.max_tasks = 3;
	msg = xasprintf("Validation Error: factfilePath '%s' has 4 tasks, more than this server "
			"accepts (--max-tasks 3)",
			path);
	expect_invalid("j", path, NULL, &policy, msg);
	free(msg);
	policy.max_tasks = 4;
	err = validate("j", path, NULL, &policy, NULL);
	assert_null(err);
	unlink(path);
	free(path);
}

/* The validation cache serves a resubmission with --start too, but only for the same --start
 * task, and never past --max-tasks. */
static void test_validate_cache_keeps_start_and_limit(void **state)
{
	char *path = write_file("cached.factfile", FOUR_TASKS);
	struct jobreq_policy policy = { .rules = FACTFILE_RULES_OURS };
	const char *from_a[] = { "--start", "a", NULL };
	const char *from_c[] = { "--start", "c", NULL };
	char id[JOBID_LEN + 1], id_cached[JOBID_LEN + 1];
	char *err, *msg;

	policy.cache = jobreq_cache_new();
	/* the cache takes only files whose mtime and ctime are JOBREQ_CACHE_SETTLED_S old */
	sleep(JOBREQ_CACHE_SETTLED_S + 1);
	err = validate("j", path, from_a, &policy, id);
	assert_null(err);
	err = validate("j", path, from_a, &policy, id_cached);
	assert_null(err);
	assert_string_equal(id, id_cached);
	expect_invalid(
		"j", path, from_c, &policy,
		"Validation Error: The job cannot be started from 'c' because the job cannot "
		"be started here without triggering prior tasks");
	policy.max_tasks = 3;
	msg = xasprintf("Validation Error: factfilePath '%s' has 4 tasks, more than this server "
			"accepts (--max-tasks 3)",
			path);
	expect_invalid("j", path, from_a, &policy, msg);
	expect_invalid("j", path, NULL, &policy, msg);
	free(msg);
	jobreq_cache_free(policy.cache);
	unlink(path);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_no_body),
		cmocka_unit_test(test_parse_invalid_json),
		cmocka_unit_test(test_parse_deep_nesting),
		cmocka_unit_test(test_parse_wrong_shape),
		cmocka_unit_test(test_parse_duplicate_keys),
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_validate_fields),
		cmocka_unit_test(test_validate_roots),
		cmocka_unit_test(test_validate_not_a_file),
		cmocka_unit_test(test_validate_unreadable),
		cmocka_unit_test(test_validate_bad_factfile),
		cmocka_unit_test(test_validate_bad_args),
		cmocka_unit_test(test_validate_rules_follow_runner),
		cmocka_unit_test(test_validate_constraint_still_validates),
		cmocka_unit_test(test_validate_id_matches_vectors),
		cmocka_unit_test(test_parse_utf8),
		cmocka_unit_test(test_parse_job_name_length),
		cmocka_unit_test(test_validate_template_values),
		cmocka_unit_test(test_validate_max_tasks),
		cmocka_unit_test(test_validate_cache_keeps_start_and_limit),
		cmocka_unit_test(test_validate_keeps_bytes),
		cmocka_unit_test(test_validate_slot_tags),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
