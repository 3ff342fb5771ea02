/* SPDX-License-Identifier: Apache-2.0 */
/* worker/runcmd: the runner's argv -- appended options in their fixed order, only when the server
 * has them and the request does not, never duplicated, never after a final "--". */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "err.h"
#include "runcmd.h"
#include "xalloc.h"

/* argv joined with '|' (the strings hold no '|'), for one-line comparisons */
static char *joined(const struct config *cfg, const char *args_json)
{
	struct buf b;
	char **argv = NULL, *err = NULL;
	size_t i;

	assert_int_equal(runcmd_build(cfg, "/ff/job.factfile", args_json, &argv, &err), 0);
	assert_null(err);
	buf_init(&b);
	for (i = 0; argv[i] != NULL; i++)
		buf_printf(&b, "%s%s", i > 0 ? "|" : "", argv[i]);
	runcmd_free(argv);
	return buf_steal(&b);
}

/* One argv: the server's webhook (NULL: none) and --no-colour flag, the request's factfileArgs
 * (NULL: none), and the argv wanted, joined with '|'. */
struct runcmd_case {
	const char *webhook;
	int no_colour;
	const char *args_json;
	const char *want;
};

#define HOOK     "http://server/hook"
#define BASE     "/opt/factotum|run|/ff/job.factfile"
#define APPENDED "--webhook|" HOOK "|--max-stdouterr-size|500|--no-colour"

static void setcfg(struct config *cfg, const char *webhook, int no_colour)
{
	config_init(cfg);
	free(cfg->factotum_bin);
	cfg->factotum_bin = xstrdup("/opt/factotum");
	cfg->webhook = webhook != NULL ? xstrdup(webhook) : NULL;
	cfg->max_stdouterr_size = 500;
	cfg->no_colour = no_colour;
}

static void expect_cases(const struct runcmd_case *c, size_t n)
{
	struct config cfg;
	size_t i;
	char *got;

	for (i = 0; i < n; i++) {
		setcfg(&cfg, c[i].webhook, c[i].no_colour);
		got = joined(&cfg, c[i].args_json);
		if (strcmp(got, c[i].want) != 0)
			fail_msg("args %s\n  want %s\n  got  %s",
				 c[i].args_json ? c[i].args_json : "(null)", c[i].want, got);
		free(got);
		config_free(&cfg);
	}
}

#define EXPECT_CASES(c) expect_cases((c), sizeof(c) / sizeof((c)[0]))

static void test_plain(void **state)
{
	static const struct runcmd_case c[] = {
		{ NULL, 0, NULL, BASE },
		{ NULL, 0, "", BASE },
		{ NULL, 0, "[]", BASE },
		{ NULL, 0, "[\"--tag\",\"a,b\",\"--start\",\"x y\"]",
		  BASE "|--tag|a,b|--start|x y" },
		/* a client's webhook gets the server's --max-stdouterr-size too */
		{ NULL, 0, "[\"--webhook\",\"http://h/\"]",
		  BASE "|--webhook|http://h/|--max-stdouterr-size|500" },
	};

	(void)state;
	EXPECT_CASES(c);
}

static void test_appended_in_order(void **state)
{
	static const struct runcmd_case c[] = {
		{ HOOK, 1, "[]", BASE "|" APPENDED },
		{ HOOK, 1, "[\"--tag\",\"k,v\"]", BASE "|--tag|k,v|" APPENDED },
		{ NULL, 1, "[]", BASE "|--no-colour" },
	};

	(void)state;
	EXPECT_CASES(c);
}

static void test_never_duplicated(void **state)
{
	static const struct runcmd_case c[] = {
		/* the request's own, in either form, win and are not repeated */
		{ HOOK, 1, "[\"--no-colour\"]",
		  BASE "|--no-colour|--webhook|" HOOK "|--max-stdouterr-size|500" },
		{ HOOK, 1, "[\"--webhook=http://mine/\"]",
		  BASE "|--webhook=http://mine/|--max-stdouterr-size|500|--no-colour" },
		{ HOOK, 1, "[\"--webhook\",\"http://mine/\",\"--max-stdouterr-size\",\"9\"]",
		  BASE "|--webhook|http://mine/|--max-stdouterr-size|9|--no-colour" },
		{ HOOK, 1,
		  "[\"--max-stdouterr-size=7\",\"--no-colour\",\"--webhook\",\"http://m/\"]",
		  BASE "|--max-stdouterr-size=7|--no-colour|--webhook|http://m/" },
		/* an option's value that looks like an option is a value, not the option */
		{ HOOK, 1, "[\"--start\",\"--no-colour\"]", BASE "|--start|--no-colour|" APPENDED },
		/* a prefix is not the option */
		{ HOOK, 1, "[\"--tag\",\"x,y\",\"--no-colours\"]",
		  BASE "|--tag|x,y|--no-colours|" APPENDED },
	};

	(void)state;
	EXPECT_CASES(c);
}

/* The bundled runner takes --webhook more than once: the server's follows the client's. */
static void test_bundled_both_webhooks(void **state)
{
	struct config cfg;
	char *got;

	(void)state;
	setcfg(&cfg, HOOK, 0);
	cfg.bundled_runner = 1;
	got = joined(&cfg, "[\"--webhook\",\"http://mine/\"]");
	assert_string_equal(got, BASE "|--webhook|http://mine/|--webhook|" HOOK
				      "|--max-stdouterr-size|500");
	free(got);
	got = joined(&cfg, "[]");
	assert_string_equal(got, BASE "|--webhook|" HOOK "|--max-stdouterr-size|500");
	free(got);
	config_free(&cfg);
}

static void test_final_dashdash(void **state)
{
	static const struct runcmd_case c[] = {
		/* after "--" an option would be a positional: the appended ones go before it */
		{ NULL, 1, "[\"--tag\",\"a,b\",\"--\"]", BASE "|--tag|a,b|--no-colour|--" },
		/* a "--" that is an option's value is not the terminator */
		{ NULL, 1, "[\"--start\",\"--\"]", BASE "|--start|--|--no-colour" },
	};

	(void)state;
	EXPECT_CASES(c);
}

static void test_bad_json(void **state)
{
	struct config cfg;
	char **argv = NULL, *err = NULL;

	(void)state;
	setcfg(&cfg, NULL, 0);
	assert_int_equal(runcmd_build(&cfg, "/f", "{\"a\":1}", &argv, &err), FS_EINVAL);
	assert_null(argv);
	assert_string_equal(err, "factfileArgs is not a JSON array: {\"a\":1}");
	free(err);
	err = NULL;
	assert_int_equal(runcmd_build(&cfg, "/f", "[1]", &argv, &err), FS_EINVAL);
	assert_string_equal(err, "factfileArgs[0] is not a string without NUL");
	free(err);
	err = NULL;
	assert_int_equal(runcmd_build(&cfg, "/f", "[\"a\\u0000b\"]", &argv, &err), FS_EINVAL);
	assert_null(argv);
	free(err);
	config_free(&cfg);
}

static void test_json(void **state)
{
	char *argv[] = { "/opt/factotum", "run", "/a b/f", "--env", "{\"x\":\"y/z\"}", NULL };
	char *text = runcmd_json(argv);

	(void)state;
	assert_string_equal(text, "[\"/opt/factotum\",\"run\",\"/a b/f\",\"--env\","
				  "\"{\\\"x\\\":\\\"y/z\\\"}\"]");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_appended_in_order),
		cmocka_unit_test(test_never_duplicated),
		cmocka_unit_test(test_final_dashdash),
		cmocka_unit_test(test_bundled_both_webhooks),
		cmocka_unit_test(test_bad_json),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
