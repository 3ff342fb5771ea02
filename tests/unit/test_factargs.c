/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/factargs.c: the `factotum run` options as Factotum 0.7.0's docopt command
 * line and main.rs take them, with their exact messages, and the --start check for both rule sets
 * on hand-built factfiles; and for core/argpolicy.c, the server's policy on those options. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "argpolicy.h"
#include "err.h"
#include "factargs.h"

#define ARGV(...) ((char *const[]){ __VA_ARGS__, NULL })

static int argv_len(char *const *argv)
{
	int n = 0;
	while (argv[n] != NULL)
		n++;
	return n;
}

/* Parses argv, which must succeed; the caller frees *fa. */
static void parse_ok(char *const *argv, struct factargs *fa)
{
	char *err = NULL;
	int rc = factargs_parse(argv_len(argv), argv, fa, &err);

	if (rc != 0)
		fail_msg("unexpected rejection: %s", err);
	assert_null(err);
}

/* Parses argv, which must be rejected with exactly msg. */
static void parse_err(char *const *argv, const char *msg)
{
	struct factargs fa;
	char *err = NULL;
	int rc = factargs_parse(argv_len(argv), argv, &fa, &err);

	assert_int_equal(rc, FS_EINVAL);
	assert_non_null(err);
	assert_string_equal(err, msg);
	/* factargs_parse leaves fa empty on failure: freeing it is harmless. */
	factargs_free(&fa);
	free(err);
}

static void accepted(char *const *argv)
{
	struct factargs fa;
	parse_ok(argv, &fa);
	factargs_free(&fa);
}

static void test_empty(void **state)
{
	struct factargs fa;
	char *const none[] = { NULL };

	(void)state;
	parse_ok(none, &fa);
	assert_null(fa.start);
	assert_null(fa.env_json);
	assert_null(fa.webhook);
	assert_int_equal(fa.vars.n, 0);
	assert_int_equal(fa.tags.n, 0);
	assert_int_equal(fa.constraints.n, 0);
	assert_false(fa.no_colour);
	assert_false(fa.dry_run);
	assert_int_equal(fa.max_stdouterr_size, -1);
	assert_int_equal(fa.heartbeat_interval, -1);
	factargs_free(&fa);
}

static void test_every_option_both_forms(void **state)
{
	struct factargs fa;

	(void)state;
	parse_ok(ARGV("--start=b", "--env={\"a\":\"1\"}", "--no-colour", "--webhook=http://h/x",
		      "--tag=t,v", "--constraint=host,*", "--max-stdouterr-size=5",
		      "--heartbeat-interval=7"),
		 &fa);
	assert_string_equal(fa.start, "b");
	assert_string_equal(fa.env_json, "{\"a\":\"1\"}");
	assert_string_equal(fa.webhook, "http://h/x");
	assert_true(fa.no_colour);
	assert_false(fa.dry_run);
	assert_int_equal(fa.max_stdouterr_size, 5);
	assert_int_equal(fa.heartbeat_interval, 7);
	assert_string_equal(kvlist_get(&fa.tags, "t"), "v");
	assert_string_equal(kvlist_get(&fa.constraints, "host"), "*");
	assert_int_equal(fa.vars.n, 2);
	assert_string_equal(fa.vars.items[0].key, "a");
	assert_string_equal(fa.vars.items[1].key, "tag:t");
	assert_string_equal(fa.vars.items[1].value, "v");
	factargs_free(&fa);

	parse_ok(ARGV("--heartbeat-interval", "7", "--max-stdouterr-size", "5", "--constraint",
		      "host,*", "--tag", "t,v", "--webhook", "https://h/x", "--no-colour", "--env",
		      "{\"a\":\"1\"}", "--start", "b"),
		 &fa);
	assert_string_equal(fa.start, "b");
	assert_string_equal(fa.env_json, "{\"a\":\"1\"}");
	assert_string_equal(fa.webhook, "https://h/x");
	assert_int_equal(fa.max_stdouterr_size, 5);
	assert_int_equal(fa.heartbeat_interval, 7);
	assert_string_equal(kvlist_get(&fa.vars, "tag:t"), "v");
	factargs_free(&fa);

	parse_ok(ARGV("--dry-run", "--start", "x"), &fa);
	assert_true(fa.dry_run);
	factargs_free(&fa);
}

static void test_values_taken_verbatim(void **state)
{
	struct factargs fa;

	(void)state;
	/* "--opt value" takes the next token whatever it looks like, even "--". */
	parse_ok(ARGV("--start", "--dry-run"), &fa);
	assert_string_equal(fa.start, "--dry-run");
	assert_false(fa.dry_run);
	factargs_free(&fa);
	parse_ok(ARGV("--start", "--"), &fa);
	assert_string_equal(fa.start, "--");
	factargs_free(&fa);
	parse_ok(ARGV("--tag", "-x,y"), &fa);
	assert_string_equal(kvlist_get(&fa.tags, "-x"), "y");
	factargs_free(&fa);
	/* "--opt=value" splits at the first '=' and may hold spaces; an empty value is a value. */
	parse_ok(ARGV("--start=a=b c", "--tag=k=1, x y "), &fa);
	assert_string_equal(fa.start, "a=b c");
	assert_string_equal(kvlist_get(&fa.tags, "k=1"), "x y");
	factargs_free(&fa);
	parse_ok(ARGV("--start="), &fa);
	assert_string_equal(fa.start, "");
	factargs_free(&fa);
	parse_ok(ARGV("--start", ""), &fa);
	assert_string_equal(fa.start, "");
	factargs_free(&fa);
	/* A trailing "--" ends the flags and is otherwise ignored. */
	parse_ok(ARGV("--no-colour", "--"), &fa);
	assert_true(fa.no_colour);
	factargs_free(&fa);
}

static void test_tags_and_vars(void **state)
{
	struct factargs fa;

	(void)state;
	parse_ok(ARGV("--tag", "the rain,first,, wow,,", "--tag=a,1", "--tag", " a , 2 ", "--tag",
		      ",x", "--constraint", "host,h1", "--constraint", "host, h2", "--constraint",
		      "other"),
		 &fa);
	assert_int_equal(fa.tags.n, 2);
	assert_string_equal(kvlist_get(&fa.tags, "the rain"), "first wow");
	assert_string_equal(kvlist_get(&fa.tags, "a"), "2");
	assert_int_equal(fa.constraints.n, 2);
	assert_string_equal(kvlist_get(&fa.constraints, "host"), "h2");
	assert_string_equal(kvlist_get(&fa.constraints, "other"), "");
	/* Constraints are not template variables. */
	assert_int_equal(fa.vars.n, 2);
	assert_string_equal(kvlist_get(&fa.vars, "tag:the rain"), "first wow");
	assert_string_equal(kvlist_get(&fa.vars, "tag:a"), "2");
	factargs_free(&fa);

	/* Env pairs first, then tags; a tag wins over an env key of the same name. */
	parse_ok(ARGV("--tag", "x,from tag", "--env", "{\"tag:x\":\"from env\",\"b\":\"2\"}"), &fa);
	assert_int_equal(fa.vars.n, 2);
	assert_string_equal(kvlist_get(&fa.vars, "tag:x"), "from tag");
	assert_string_equal(kvlist_get(&fa.vars, "b"), "2");
	factargs_free(&fa);
}

static void test_env_accepted(void **state)
{
	struct factargs fa;

	(void)state;
	parse_ok(
		ARGV("--env",
		     " \t\r\n{ \"a\" : \"x\\\"y\\\\z\\/\\b\\f\\n\\r\\t\" ,\"\\u00e9\\ud83d\\ude00\":"
		     "\"\\u20AC\", \"a\":\"last\", \"nested.key\":\"<&>\" } \n"),
		&fa);
	assert_int_equal(fa.vars.n, 3);
	assert_string_equal(kvlist_get(&fa.vars, "a"), "last"); /* a repeated key keeps the last */
	assert_string_equal(kvlist_get(&fa.vars, "\xc3\xa9\xf0\x9f\x98\x80"), "\xe2\x82\xac");
	assert_string_equal(kvlist_get(&fa.vars, "nested.key"), "<&>");
	factargs_free(&fa);
	parse_ok(ARGV("--env={}"), &fa);
	assert_int_equal(fa.vars.n, 0);
	factargs_free(&fa);
	parse_ok(ARGV("--env", "{\"e\":\"\"}"), &fa);
	assert_string_equal(kvlist_get(&fa.vars, "e"), "");
	factargs_free(&fa);
	/* Raw non-ASCII and DEL are fine inside strings. */
	accepted(ARGV("--env", "{\"k\":\"caf\xc3\xa9\x7f\"}"));
}

static void test_env_rejected(void **state)
{
	(void)state;
	/* Not JSON (rustc-serialize's parser), or valid JSON but not a flat object of strings:
	 * Factotum 0.7.0 prints the decoder error's description for both. */
	static const char *const bad[] = {
		"",
		" ",
		"{",
		"{\"a\":\"b\"",
		"{\"a\":\"b\",}",
		"{\"a\" \"b\"}",
		"{'a':'b'}",
		"{a:\"b\"}",
		"{\"a\":\"b\"}x",
		"{\"a\":\"b\"}{}",
		"\v{}",
		"{}\f",
		"{\"a\":\"b\tc\"}",
		"{\"a\":\"b\nc\"}",
		"{\"a\":\"\\x\"}",
		"{\"a\":\"\\u12\"}",
		"{\"a\":\"\\ud800\"}",
		"{\"a\":\"\\udc00\"}",
		"{\"a\":\"\\ud800\\u0041\"}",
		"{\"a\":\"\\ud800x\"}",
		"{\"a\":01}",
		"{\"a\":1.}",
		"{\"a\":1e}",
		"{\"a\":-}",
		"{\"a\":18446744073709551616}",
		"{\"a\":NaN}",
		"{\"a\":tru}",
		"[1,]",
		"{\"a\":[1,]}",
		"{\"a\":\"b\",,\"c\":\"d\"}",
		"{\"a\":\"b\"",
		"{\"a\":\"\\",
		"[]",
		"\"x\"",
		"1",
		"null",
		"true",
		"{\"a\":1}",
		"{\"a\":null}",
		"{\"a\":true}",
		"{\"a\":[\"b\"]}",
		"{\"a\":{\"b\":\"c\"}}",
		"{\"a\":\"b\",\"c\":-1.5e+3}",
		"[{\"a\":\"b\"}]",
		"{\"a\":18446744073709551615}",
	};
	char msg[256];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(msg, sizeof msg, "Supplied string '%s' is not valid JSON: decoder error",
			 bad[i]);
		parse_err(ARGV("--env", (char *)bad[i]), msg);
	}
	/* Deep nesting is refused as not a flat map, without deep recursion. */
	{
		char deep[4096 * 2 + 16];
		size_t n = 0;
		deep[n++] = '{';
		memcpy(deep + n, "\"a\":", 4);
		n += 4;
		for (int i = 0; i < 4000; i++)
			deep[n++] = '[';
		for (int i = 0; i < 4000; i++)
			deep[n++] = ']';
		deep[n++] = '}';
		deep[n] = '\0';
		struct factargs fa;
		char *err = NULL;
		assert_int_equal(factargs_parse(2, ARGV("--env", deep), &fa, &err), FS_EINVAL);
		assert_non_null(strstr(err, "is not valid JSON: decoder error"));
		free(err);
	}
	/* Our one deliberate refusal: a NUL cannot travel in a C string. */
	parse_err(
		ARGV("--env", "{\"a\":\"x\\u0000y\"}"),
		"Supplied string '{\"a\":\"x\\u0000y\"}' is not valid JSON: \\u0000 in a key or value "
		"is not supported");
	/* --env= with nothing is the empty string, which is not JSON. */
	parse_err(ARGV("--env="), "Supplied string '' is not valid JSON: decoder error");
}

static void test_numbers(void **state)
{
	struct factargs fa;

	(void)state;
	parse_ok(ARGV("--max-stdouterr-size", "+12", "--heartbeat-interval", "0"), &fa);
	assert_int_equal(fa.max_stdouterr_size, 12);
	assert_int_equal(fa.heartbeat_interval, 0);
	factargs_free(&fa);
	/* docopt decodes a value that trims to nothing as 0. */
	parse_ok(ARGV("--max-stdouterr-size=", "--heartbeat-interval", " \xc2\xa0"), &fa);
	assert_int_equal(fa.max_stdouterr_size, 0);
	assert_int_equal(fa.heartbeat_interval, 0);
	factargs_free(&fa);
	/* u64 range is accepted; above LONG_MAX is kept as LONG_MAX. */
	parse_ok(ARGV("--max-stdouterr-size=18446744073709551615",
		      "--heartbeat-interval=9223372036854775807"),
		 &fa);
	assert_true(fa.max_stdouterr_size == LONG_MAX);
	assert_true(fa.heartbeat_interval == LONG_MAX);
	factargs_free(&fa);

	parse_err(ARGV("--max-stdouterr-size", "-1"),
		  "Could not decode '-1' to usize for '--max-stdouterr-size'.");
	parse_err(ARGV("--max-stdouterr-size", "1k"),
		  "Could not decode '1k' to usize for '--max-stdouterr-size'.");
	parse_err(ARGV("--max-stdouterr-size", " 1"),
		  "Could not decode ' 1' to usize for '--max-stdouterr-size'.");
	parse_err(ARGV("--max-stdouterr-size", "+"),
		  "Could not decode '+' to usize for '--max-stdouterr-size'.");
	parse_err(ARGV("--max-stdouterr-size", "18446744073709551616"),
		  "Could not decode '18446744073709551616' to usize for '--max-stdouterr-size'.");
	parse_err(ARGV("--heartbeat-interval=1.5"),
		  "Could not decode '1.5' to u64 for '--heartbeat-interval'.");
	parse_err(ARGV("--heartbeat-interval=-0"),
		  "Could not decode '-0' to u64 for '--heartbeat-interval'.");
	/* Decoding follows Factotum's struct: the size is checked before the interval, and both
	 * before --env. */
	parse_err(ARGV("--heartbeat-interval=x", "--max-stdouterr-size=y", "--env=["),
		  "Could not decode 'y' to usize for '--max-stdouterr-size'.");
}

static void test_webhook(void **state)
{
	(void)state;
	accepted(ARGV("--webhook", "http://example.com"));
	accepted(ARGV("--webhook", "https://user:pw@EXAMPLE.com:8443/p?q#f"));
	accepted(ARGV("--webhook", "http://127.0.0.1:80/"));
	accepted(ARGV("--webhook", "http://[::1]:9000/x"));
	accepted(ARGV("--webhook", "http:///example.com"));  /* extra slashes are skipped */
	accepted(ARGV("--webhook", "http://exa\tmple.com")); /* tabs are ignored */
	accepted(ARGV("--webhook", "http://a:/"));           /* an empty port is no port */
	accepted(ARGV("--webhook", "http://1.2.3.4.5/"));    /* five parts: a domain name */
	accepted(ARGV("--webhook", "http://0x7f.1/"));
	accepted(ARGV("--webhook", "http://h\xc3\xa9.example/"));
#define WH(u, why) "Error: the specifed webhook URL \"" u "\" is invalid. Reason: " why
	parse_err(ARGV("--webhook", "ftp://example.com"),
		  WH("ftp://example.com",
		     "URL must begin with 'http://' or 'https://' to be used with "
		     "Factotum webhooks"));
	parse_err(ARGV("--webhook=example.com"),
		  WH("example.com", "URL must begin with 'http://' or 'https://' to be used with "
				    "Factotum webhooks"));
	parse_err(ARGV("--webhook", "HTTP://example.com"),
		  WH("HTTP://example.com",
		     "URL must begin with 'http://' or 'https://' to be used with "
		     "Factotum webhooks"));
	parse_err(ARGV("--webhook", " http://example.com"),
		  WH(" http://example.com",
		     "URL must begin with 'http://' or 'https://' to be used "
		     "with Factotum webhooks"));
	parse_err(ARGV("--webhook", "http://"), WH("http://", "empty host"));
	parse_err(ARGV("--webhook", "http:///"), WH("http:///", "empty host"));
	parse_err(ARGV("--webhook", "http://u@/x"), WH("http://u@/x", "empty host"));
	parse_err(ARGV("--webhook", "http://:80"), WH("http://:80", "empty host"));
	parse_err(ARGV("--webhook", "http://h:99999"), WH("http://h:99999", "invalid port number"));
	parse_err(ARGV("--webhook", "http://h:8x"), WH("http://h:8x", "invalid port number"));
	parse_err(ARGV("--webhook", "http://a b/"), WH("http://a b/", "invalid domain character"));
	parse_err(ARGV("--webhook", "http://a%20b/"),
		  WH("http://a%20b/", "invalid domain character"));
	parse_err(ARGV("--webhook", "http://a<b]/"),
		  WH("http://a<b]/", "invalid domain character"));
	parse_err(ARGV("--webhook", "http://a%ffb/"),
		  WH("http://a%ffb/", "invalid international domain name"));
	parse_err(ARGV("--webhook", "http://[::1/"), WH("http://[::1/", "invalid IPv6 address"));
	parse_err(ARGV("--webhook", "http://[1:2]/"), WH("http://[1:2]/", "invalid IPv6 address"));
	parse_err(ARGV("--webhook", "http://1.2.3.256/"),
		  WH("http://1.2.3.256/", "invalid IPv4 address"));
	parse_err(ARGV("--webhook", "http://256.1.1/"),
		  WH("http://256.1.1/", "invalid IPv4 address"));
	parse_err(ARGV("--webhook", "http://4294967296/"),
		  WH("http://4294967296/", "invalid IPv4 address"));
#undef WH
	/* --dry-run with --webhook is refused before the URL is looked at. */
	parse_err(ARGV("--webhook", "nonsense", "--dry-run"),
		  "Error: --webhook cannot be used with the --dry-run option");
	parse_err(ARGV("--dry-run", "--webhook=http://h/"),
		  "Error: --webhook cannot be used with the --dry-run option");
}

static void test_docopt_errors(void **state)
{
	(void)state;
	/* No abbreviations in docopt.rs. */
	parse_err(ARGV("--no-col"), "Unknown flag: '--no-col'");
	parse_err(ARGV("--st=x"), "Unknown flag: '--st'");
	parse_err(ARGV("--no-color"), "Unknown flag: '--no-color'");
	parse_err(ARGV("--Start=x"), "Unknown flag: '--Start'");
	parse_err(ARGV("--=x"), "Unknown flag: '--'");
	parse_err(ARGV("-x"), "Unknown flag: '-x'");
	parse_err(ARGV("-hx"), "Unknown flag: '-x'");
	parse_err(ARGV("-\xc3\xa9"), "Unknown flag: '-\xc3\xa9'");
	parse_err(ARGV("--no-colour=x"),
		  "Flag '--no-colour' cannot have an argument, but found 'x'.");
	parse_err(ARGV("--dry-run="), "Flag '--dry-run' cannot have an argument, but found ''.");
	parse_err(ARGV("--start"),
		  "Expected argument for flag '--start' but reached end of arguments.");
	parse_err(ARGV("--no-colour", "--tag"),
		  "Expected argument for flag '--tag' but reached end of arguments.");
	/* Argv errors come first, in argv order, even after a reason not to match. */
	parse_err(ARGV("extra", "--bogus", "--start"), "Unknown flag: '--bogus'");
	parse_err(ARGV("--start"),
		  "Expected argument for flag '--start' but reached end of arguments.");
}

static void test_no_match(void **state)
{
	(void)state;
	parse_err(ARGV("extra"), "Invalid arguments: unexpected argument 'extra'");
	parse_err(ARGV("-"), "Invalid arguments: unexpected argument '-'");
	parse_err(ARGV("--no-colour", "--", "--dry-run"),
		  "Invalid arguments: unexpected argument '--dry-run'");
	parse_err(ARGV("--", "--"), "Invalid arguments: unexpected argument '--'");
	/* Not flags to docopt: whitespace without '=', or a newline in "--opt=value". */
	parse_err(ARGV("--start x"), "Invalid arguments: unexpected argument '--start x'");
	parse_err(ARGV("--start=a\nb"), "Invalid arguments: unexpected argument '--start=a\nb'");
	parse_err(ARGV("-h x"), "Invalid arguments: unexpected argument '-h x'");
	/* Flags of other subcommands. */
	parse_err(ARGV("--help"), "Invalid arguments: '--help' is not an option of 'factotum run'");
	parse_err(ARGV("-h"), "Invalid arguments: '-h' is not an option of 'factotum run'");
	parse_err(ARGV("-vh"), "Invalid arguments: '-v' is not an option of 'factotum run'");
	parse_err(ARGV("--version"),
		  "Invalid arguments: '--version' is not an option of 'factotum run'");
	parse_err(ARGV("--overwrite"),
		  "Invalid arguments: '--overwrite' is not an option of 'factotum run'");
	parse_err(ARGV("--output", "f"),
		  "Invalid arguments: '--output' is not an option of 'factotum run'");
	/* A single option twice, even with the same value. */
	parse_err(ARGV("--start=a", "--start=a"),
		  "Invalid arguments: '--start' cannot be given more than once");
	parse_err(ARGV("--env", "{}", "--env={}"),
		  "Invalid arguments: '--env' cannot be given more than once");
	parse_err(ARGV("--dry-run", "--dry-run"),
		  "Invalid arguments: '--dry-run' cannot be given more than once");
	parse_err(ARGV("--no-colour", "--no-colour"),
		  "Invalid arguments: '--no-colour' cannot be given more than once");
	parse_err(ARGV("--webhook=http://a", "--webhook=http://a"),
		  "Invalid arguments: '--webhook' cannot be given more than once");
	parse_err(ARGV("--max-stdouterr-size=1", "--max-stdouterr-size=1"),
		  "Invalid arguments: '--max-stdouterr-size' cannot be given more than once");
	parse_err(ARGV("--heartbeat-interval=1", "--heartbeat-interval=1"),
		  "Invalid arguments: '--heartbeat-interval' cannot be given more than once");
	/* The first reason in argv order is the one reported; all come before value checks. */
	parse_err(ARGV("--env=[", "x", "--help"), "Invalid arguments: unexpected argument 'x'");
	/* Arguments that are not UTF-8 never reach Factotum (Rust's env::args panics). */
	parse_err(ARGV("--tag", "a\xff"), "Invalid arguments: argument 2 is not valid UTF-8");
}

/* Appends a task to a hand-built factfile: only the fields factargs reads (name, dependsOn); the
 * strings stay the caller's, only ff->tasks is allocated. */
static void ff_add(struct factfile *ff, const char *name, const char *const *deps)
{
	struct factfile_task *t;
	size_t n = 0;

	ff->tasks = realloc(ff->tasks, (ff->n_tasks + 1) * sizeof *ff->tasks);
	assert_non_null(ff->tasks);
	t = &ff->tasks[ff->n_tasks++];
	memset(t, 0, sizeof *t);
	t->name = (char *)name;
	while (deps[n] != NULL)
		n++;
	t->depends_on = (char **)deps;
	t->n_depends_on = n;
}

#define NODEPS ((const char *const[]){ NULL })

static void check_start(const struct factfile *ff, const char *start, int ours_ok, int factotum_ok)
{
	char *err = NULL;
	char want[512];

	snprintf(
		want, sizeof want,
		"The job cannot be started from '%s' because the job cannot be started here without "
		"triggering prior tasks",
		start);
	assert_int_equal(factargs_check_start(ff, start, FACTFILE_RULES_OURS, &err),
			 ours_ok ? 0 : FS_EINVAL);
	if (!ours_ok)
		assert_string_equal(err, want);
	else
		assert_null(err);
	free(err);
	err = NULL;
	assert_int_equal(factargs_check_start(ff, start, FACTFILE_RULES_FACTOTUM, &err),
			 factotum_ok ? 0 : FS_EINVAL);
	if (!factotum_ok)
		assert_string_equal(err, want);
	else
		assert_null(err);
	free(err);
}

static void test_start_unknown_task(void **state)
{
	struct factfile ff;
	char *err = NULL;

	(void)state;
	memset(&ff, 0, sizeof ff);
	ff_add(&ff, "a", NODEPS);
	for (int r = 0; r < 2; r++) {
		enum factfile_rules rules = r ? FACTFILE_RULES_FACTOTUM : FACTFILE_RULES_OURS;
		assert_int_equal(factargs_check_start(&ff, "b", rules, &err), FS_EINVAL);
		assert_string_equal(err,
				    "The job cannot be started from 'b' because the task specified "
				    "could not be found");
		/* Factotum's hidden root node is not a task. */
		assert_int_equal(factargs_check_start(&ff, "FactotumJob", rules, &err), FS_EINVAL);
		assert_int_equal(factargs_check_start(&ff, "", rules, &err), FS_EINVAL);
		assert_string_equal(err,
				    "The job cannot be started from '' because the task specified "
				    "could not be found");
	}
	free(err);
	free(ff.tasks);
}

/* Builds ff from a graph written "A; B[A]; E[B,C]" (tasks in file order, their dependencies in
 * brackets). Returns the text ff's strings point into, for ff_graph_free. */
static char *ff_graph(struct factfile *ff, const char *graph)
{
	char *text = strdup(graph), *save = NULL, *item, *br, *dep, *dsave;
	const char **deps;
	size_t n;

	assert_non_null(text);
	memset(ff, 0, sizeof *ff);
	for (item = strtok_r(text, ";", &save); item != NULL; item = strtok_r(NULL, ";", &save)) {
		item += strspn(item, " ");
		deps = calloc(8, sizeof *deps);
		assert_non_null(deps);
		n = 0;
		if ((br = strchr(item, '[')) != NULL) {
			*br++ = '\0';
			br[strcspn(br, "]")] = '\0';
			dsave = NULL;
			for (dep = strtok_r(br, ",", &dsave); dep != NULL && n < 7;
			     dep = strtok_r(NULL, ",", &dsave))
				deps[n++] = dep;
		}
		ff_add(ff, item, deps);
	}
	return text;
}

static void ff_graph_free(struct factfile *ff, char *text)
{
	for (size_t i = 0; i < ff->n_tasks; i++)
		free(ff->tasks[i].depends_on);
	free(ff->tasks);
	free(text);
}

static void test_start_rules(void **state)
{
	/* checks: "<start>:<ours ok><Factotum ok>" */
	static const struct {
		const char *graph, *checks;
	} cases[] = {
		/* Factotum's own examples (main.rs validate_start_task); B: E also needs C. A leaf
		 * (D) is a fine start. */
		{ "A; B[A]; C[A]; D[B]; E[B,C]", "A:11 B:00 C:00 D:11 E:11" },
		/* ... and with E[B] and F[C] instead, B is a fine start. */
		{ "A; B[A]; C[A]; D[B]; E[B]; F[C]", "B:11 C:11" },
		/* The counterexample to Factotum's check, --start S: every parent of every descendant
		 * is S or a descendant, but Factotum checks A (level 1) against what it has found by
		 * level 2, where D (level 3) is not yet. B: A needs S. */
		{ "S; B[S]; C[B]; D[C]; A[S,D]", "S:10 B:00 A:11" },
		/* One level shorter, Factotum gets it right: D (level 2) is found at level 1. */
		{ "S; B[S]; D[B]; A[S,D]", "S:11" },
		/* Our runner accepts dependencies in any order; a repeated dependency changes
		 * nothing. join needs other. */
		{ "late[root,root]; root; other; join[late,other]",
		  "root:00 late:00 other:00 join:11" },
	};
	struct factfile ff;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *text = ff_graph(&ff, cases[i].graph), start[32];
		const char *p = cases[i].checks;
		int ours, factotum, used;

		while (sscanf(p, " %31[^:]:%1d%1d%n", start, &ours, &factotum, &used) == 3) {
			check_start(&ff, start, ours, factotum);
			p += used;
		}
		assert_int_equal(*p, '\0');
		ff_graph_free(&ff, text);
	}

	/* A long diamond chain: Factotum's repeats-per-path would blow up; ours stays fast. */
	{
		static char names[64][8];
		static const char *deps[64][3];
		memset(&ff, 0, sizeof ff);
		for (int i = 0; i < 64; i++) {
			snprintf(names[i], sizeof names[i], "t%d", i);
			deps[i][0] = deps[i][1] = deps[i][2] = NULL;
			if (i >= 1)
				deps[i][0] = names[i - 1];
			if (i >= 2)
				deps[i][1] = names[i - 2];
			ff_add(&ff, names[i], deps[i]);
		}
		check_start(&ff, "t0", 1, 1);
		check_start(&ff, "t5", 0, 0); /* t6 needs t4 */
		check_start(&ff, "t63", 1, 1);
		free(ff.tasks);
	}
}

/* The same grammar for the bundled runner's `run` (plus --max-parallel), `validate` and `dot`. */
static void cmd_err(enum factargs_cmd cmd, char *const *argv, const char *msg)
{
	struct factargs fa;
	char *err = NULL;

	assert_int_equal(factargs_parse_cmd(cmd, argv_len(argv), argv, &fa, &err), FS_EINVAL);
	assert_non_null(err);
	assert_string_equal(err, msg);
	factargs_free(&fa);
	free(err);
}

static void cmd_ok(enum factargs_cmd cmd, char *const *argv, struct factargs *fa)
{
	char *err = NULL;

	if (factargs_parse_cmd(cmd, argv_len(argv), argv, fa, &err) != 0)
		fail_msg("unexpected rejection: %s", err);
	assert_null(err);
}

static void test_other_commands(void **state)
{
	struct factargs fa;

	(void)state;
	/* --max-parallel exists only for the bundled runner; Factotum's grammar stays Factotum's. */
	parse_err(ARGV("--max-parallel", "2"), "Unknown flag: '--max-parallel'");
	cmd_err(FACTARGS_DOT, ARGV("--max-parallel=2"), "Unknown flag: '--max-parallel'");
	cmd_ok(FACTARGS_RUNNER_RUN, ARGV("--max-parallel", "3", "--no-colour"), &fa);
	assert_int_equal(fa.max_parallel, 3);
	assert_true(fa.no_colour);
	factargs_free(&fa);
	cmd_ok(FACTARGS_RUNNER_RUN, ARGV("--max-parallel=0"), &fa);
	assert_int_equal(fa.max_parallel, 0);
	factargs_free(&fa);
	cmd_ok(FACTARGS_RUNNER_RUN, ARGV("--dry-run"), &fa);
	assert_int_equal(fa.max_parallel, -1);
	assert_true(fa.dry_run);
	factargs_free(&fa);
	cmd_err(FACTARGS_RUNNER_RUN, ARGV("--max-parallel=x"),
		"Could not decode 'x' to usize for '--max-parallel'.");
	cmd_err(FACTARGS_RUNNER_RUN, ARGV("--max-parallel"),
		"Expected argument for flag '--max-parallel' but reached end of arguments.");
	cmd_err(FACTARGS_RUNNER_RUN, ARGV("--max-parallel=1", "--max-parallel=2"),
		"Invalid arguments: '--max-parallel' cannot be given more than once");
	cmd_err(FACTARGS_RUNNER_RUN, ARGV("--output=x"),
		"Invalid arguments: '--output' is not an option of 'factotum run'");

	/* validate takes --no-colour only. */
	cmd_ok(FACTARGS_VALIDATE, ARGV("--no-colour"), &fa);
	assert_true(fa.no_colour);
	assert_null(fa.start);
	factargs_free(&fa);
	cmd_ok(FACTARGS_VALIDATE, ARGV("--"), &fa);
	assert_false(fa.no_colour);
	factargs_free(&fa);
	cmd_err(FACTARGS_VALIDATE, ARGV("--start", "a"),
		"Invalid arguments: '--start' is not an option of 'factotum validate'");
	cmd_err(FACTARGS_VALIDATE, ARGV("--env={}"),
		"Invalid arguments: '--env' is not an option of 'factotum validate'");
	cmd_err(FACTARGS_VALIDATE, ARGV("--no-colour=1"),
		"Flag '--no-colour' cannot have an argument, but found '1'.");
	cmd_err(FACTARGS_VALIDATE, ARGV("x"), "Invalid arguments: unexpected argument 'x'");

	/* dot: --start, --output, --overwrite, --no-colour, both forms. */
	cmd_ok(FACTARGS_DOT, ARGV("--start", "b", "--output=o.dot", "--overwrite"), &fa);
	assert_string_equal(fa.start, "b");
	assert_string_equal(fa.output, "o.dot");
	assert_true(fa.overwrite);
	factargs_free(&fa);
	cmd_ok(FACTARGS_DOT, ARGV("--output", "--x", "--start=a"), &fa);
	assert_string_equal(fa.output, "--x");
	assert_string_equal(fa.start, "a");
	assert_false(fa.overwrite);
	factargs_free(&fa);
	cmd_err(FACTARGS_DOT, ARGV("--dry-run"),
		"Invalid arguments: '--dry-run' is not an option of 'factotum dot'");
	cmd_err(FACTARGS_DOT, ARGV("--overwrite", "--overwrite"),
		"Invalid arguments: '--overwrite' cannot be given more than once");
	cmd_err(FACTARGS_DOT, ARGV("-h"),
		"Invalid arguments: '-h' is not an option of 'factotum dot'");
}

/* The one list of valued options the worker and the runner step over. */
static void test_takes_value(void **state)
{
	static const char *const valued[] = { "--start",
					      "--env",
					      "--webhook",
					      "--tag",
					      "--constraint",
					      "--max-stdouterr-size",
					      "--heartbeat-interval",
					      "--output",
					      "--max-parallel" };
	static const char *const bare[] = { "--dry-run", "--no-colour", "--overwrite", "--help",
					    "--version", "--unknown",   "-t" };
	(void)state;
	for (size_t i = 0; i < sizeof valued / sizeof valued[0]; i++)
		assert_true(factargs_takes_value(valued[i], strlen(valued[i])));
	for (size_t i = 0; i < sizeof bare / sizeof bare[0]; i++)
		assert_false(factargs_takes_value(bare[i], strlen(bare[i])));
	/* only the first len bytes count: "--tag=x" names --tag, "--ta" nothing */
	assert_true(factargs_takes_value("--tag=x", 5));
	assert_false(factargs_takes_value("--tag", 4));
}

/* The bundled runner's --webhook repeats; Factotum's does not. */
static void test_webhook_repeats(void **state)
{
	char *const *argv = ARGV("--webhook", "http://a/", "--webhook=https://b:8/x");
	struct factargs fa;
	char *err = NULL;

	(void)state;
	assert_int_equal(factargs_parse_cmd(FACTARGS_RUNNER_RUN, 3, argv, &fa, &err), 0);
	assert_int_equal(fa.n_webhooks, 2);
	assert_string_equal(fa.webhooks[0], "http://a/");
	assert_string_equal(fa.webhooks[1], "https://b:8/x");
	assert_ptr_equal(fa.webhook, fa.webhooks[0]);
	factargs_free(&fa);
	parse_err(argv, "Invalid arguments: '--webhook' cannot be given more than once");
	assert_int_equal(factargs_parse_cmd(FACTARGS_RUNNER_RUN, 3,
					    ARGV("--webhook", "http://a/", "--webhook=ftp://b/"),
					    &fa, &err),
			 FS_EINVAL);
	assert_string_equal(err, "Error: the specifed webhook URL \"ftp://b/\" is invalid. Reason: "
				 "URL must begin with 'http://' or 'https://' to be used with "
				 "Factotum webhooks");
	free(err);
}

/* One request option and its value, and the message argpolicy_check gives (NULL: accepted). */
struct policy_case {
	const char *opt, *value, *msg;
};

static void policy_expect(const struct argpolicy *p, const struct policy_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct factargs fa;
		char *err = NULL;
		int rc;

		parse_ok(ARGV((char *)c[i].opt, (char *)c[i].value), &fa);
		rc = argpolicy_check(p, &fa, &err);
		factargs_free(&fa);
		if (c[i].msg == NULL ? rc != 0 : rc != FS_EINVAL || strcmp(err, c[i].msg) != 0)
			fail_msg("%s %s: want %s, got %s", c[i].opt, c[i].value,
				 c[i].msg ? c[i].msg : "accepted", err ? err : "accepted");
		free(err);
	}
}

#define POLICY_EXPECT(p, c) policy_expect((p), (c), sizeof(c) / sizeof((c)[0]))

static void policy_init(struct argpolicy *p, enum argpolicy_webhooks mode, const char *hosts)
{
	memset(p, 0, sizeof(*p));
	p->webhooks = mode;
	p->hosts = hosts;
	p->bundled_runner = 1;
	p->max_stdouterr_size = 10000;
}

#define DENIED "--webhook is not allowed in factfileArgs on this server (--client-webhooks deny)"
#define ONE_HOOK                                                                             \
	"--webhook is not allowed in factfileArgs: this server's runner takes one webhook, " \
	"the server's own (--webhook)"
#define ABOVE "--max-stdouterr-size is above this server's limit (10000)"
#define HB    "--heartbeat-interval must be at least 5 seconds"
#define HOOK  "http://10.0.0.1/"

static void test_policy_deny_and_limits(void **state)
{
	static const struct policy_case deny[] = {
		{ "--webhook", HOOK, DENIED },
		{ "--tag", "a,b", NULL },
		{ "--heartbeat-interval", "4", HB },
		{ "--heartbeat-interval", "0", HB },
		{ "--heartbeat-interval", "5", NULL },
		{ "--max-stdouterr-size", "10000", NULL },
		{ "--max-stdouterr-size", "10001", ABOVE },
		{ "--max-stdouterr-size", "18446744073709551615", ABOVE },
	};
	static const struct policy_case ok[] = { { "--webhook", HOOK, NULL } };
	static const struct policy_case one[] = { { "--webhook", HOOK, ONE_HOOK } };
	struct argpolicy p;

	(void)state;
	policy_init(&p, ARGPOLICY_WEBHOOKS_DENY, NULL);
	POLICY_EXPECT(&p, deny);
	/* any: anywhere, but another runner with a server webhook takes only the server's */
	policy_init(&p, ARGPOLICY_WEBHOOKS_ANY, NULL);
	POLICY_EXPECT(&p, ok);
	p.server_webhook = 1;
	POLICY_EXPECT(&p, ok);
	p.bundled_runner = 0;
	POLICY_EXPECT(&p, one);
	p.server_webhook = 0;
	POLICY_EXPECT(&p, ok);
}

#define NOT_LISTED(what) "--webhook " what " is not in --client-webhook-hosts"
#define USERINFO(url)    "--webhook URL '" url "' carries user information"

static void test_policy_hosts(void **state)
{
	static const struct policy_case c[] = {
		{ "--webhook", "http://hooks.example.com/x", NULL },
		{ "--webhook", "https://HOOKS.example.com./x", NULL },
		{ "--webhook", "http://hooks.example.com:80/x", NULL },
		{ "--webhook", "http://hooks.example.com:443/x",
		  NOT_LISTED("port 443 of host 'hooks.example.com'") },
		{ "--webhook", "https://a.b.example.org:8443/", NULL },
		{ "--webhook", "https://a.example.org/",
		  NOT_LISTED("port 443 of host 'a.example.org'") },
		{ "--webhook", "https://example.org:8443/", NOT_LISTED("host 'example.org'") },
		{ "--webhook", "https://evilexample.org:8443/",
		  NOT_LISTED("host 'evilexample.org'") },
		{ "--webhook", "http://[::1]:9000/", NULL },
		{ "--webhook", "http://127.0.0.1:9000/", NOT_LISTED("host '127.0.0.1'") },
		{ "--webhook", "http://u@hooks.example.com/",
		  USERINFO("http://u@hooks.example.com/") },
		{ "--webhook", "http://hooks.example.com:@10.0.0.1/",
		  USERINFO("http://hooks.example.com:@10.0.0.1/") },
		{ "--webhook", "http://10.0.0.1\\@hooks.example.com/",
		  "--webhook URL 'http://10.0.0.1\\@hooks.example.com/' holds a backslash, a space "
		  "or a control character" },
	};
	struct argpolicy p;

	(void)state;
	policy_init(&p, ARGPOLICY_WEBHOOKS_HOSTS,
		    "hooks.example.com, *.Example.ORG:8443,[::1]:9000");
	POLICY_EXPECT(&p, c);
}

static void test_policy_hosts_syntax(void **state)
{
	static const char *const bad[] = { "a:0", "a:65536", "u@a", "*", "a..b", "[::1", "a:8:9" };
	char *err = NULL;

	(void)state;
	assert_int_equal(argpolicy_hosts_check("a.example, *.b.example:1,10.0.0.1:65535,[::1]",
					       &err),
			 0);
	assert_null(err);
	assert_int_equal(argpolicy_hosts_check("a.example,,b", &err), FS_EINVAL);
	assert_string_equal(err, "'' is not HOST or HOST:PORT (a DNS name, *.DOMAIN, an IPv4 "
				 "address or [IPv6], PORT 1..65535)");
	free(err);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		if (argpolicy_hosts_check(bad[i], &err) != FS_EINVAL)
			fail_msg("accepted: %s", bad[i]);
		free(err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_every_option_both_forms),
		cmocka_unit_test(test_values_taken_verbatim),
		cmocka_unit_test(test_tags_and_vars),
		cmocka_unit_test(test_env_accepted),
		cmocka_unit_test(test_env_rejected),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_webhook),
		cmocka_unit_test(test_docopt_errors),
		cmocka_unit_test(test_no_match),
		cmocka_unit_test(test_start_unknown_task),
		cmocka_unit_test(test_start_rules),
		cmocka_unit_test(test_other_commands),
		cmocka_unit_test(test_takes_value),
		cmocka_unit_test(test_webhook_repeats),
		cmocka_unit_test(test_policy_deny_and_limits),
		cmocka_unit_test(test_policy_hosts),
		cmocka_unit_test(test_policy_hosts_syntax),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
