/* SPDX-License-Identifier: Apache-2.0 */
/* worker/runcmd: the runner's argv -- appended options in the spec's order, only when the server
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

static void expect(const struct config *cfg, const char *args_json, const char *want)
{
	char *got = joined(cfg, args_json);

	if (strcmp(got, want) != 0)
		fail_msg("args %s\n  want %s\n  got  %s", args_json ? args_json : "(null)", want, got);
	free(got);
}

static void setcfg(struct config *cfg, const char *webhook, int no_colour)
{
	config_init(cfg);
	free(cfg->factotum_bin);
	cfg->factotum_bin = xstrdup("/opt/factotum");
	cfg->webhook = webhook != NULL ? xstrdup(webhook) : NULL;
	cfg->max_stdouterr_size = 500;
	cfg->no_colour = no_colour;
}

static void test_plain(void **state)
{
	struct config cfg;

	(void)state;
	setcfg(&cfg, NULL, 0);
	expect(&cfg, NULL, "/opt/factotum|run|/ff/job.factfile");
	expect(&cfg, "", "/opt/factotum|run|/ff/job.factfile");
	expect(&cfg, "[]", "/opt/factotum|run|/ff/job.factfile");
	expect(&cfg, "[\"--tag\",\"a,b\",\"--start\",\"x y\"]",
	       "/opt/factotum|run|/ff/job.factfile|--tag|a,b|--start|x y");
	/* without a server webhook, no --max-stdouterr-size is ever added */
	expect(&cfg, "[\"--webhook\",\"http://h/\"]",
	       "/opt/factotum|run|/ff/job.factfile|--webhook|http://h/");
	config_free(&cfg);
}

static void test_appended_in_order(void **state)
{
	struct config cfg;

	(void)state;
	setcfg(&cfg, "http://server/hook", 1);
	expect(&cfg, "[]", "/opt/factotum|run|/ff/job.factfile|--webhook|http://server/hook|"
	       "--max-stdouterr-size|500|--no-colour");
	expect(&cfg, "[\"--tag\",\"k,v\"]", "/opt/factotum|run|/ff/job.factfile|--tag|k,v|"
	       "--webhook|http://server/hook|--max-stdouterr-size|500|--no-colour");
	config_free(&cfg);
	setcfg(&cfg, NULL, 1);
	expect(&cfg, "[]", "/opt/factotum|run|/ff/job.factfile|--no-colour");
	config_free(&cfg);
}

static void test_never_duplicated(void **state)
{
	struct config cfg;

	(void)state;
	setcfg(&cfg, "http://server/hook", 1);
	/* the request's own, in either form, win and are not repeated */
	expect(&cfg, "[\"--no-colour\"]", "/opt/factotum|run|/ff/job.factfile|--no-colour|"
	       "--webhook|http://server/hook|--max-stdouterr-size|500");
	expect(&cfg, "[\"--webhook=http://mine/\"]", "/opt/factotum|run|/ff/job.factfile|"
	       "--webhook=http://mine/|--max-stdouterr-size|500|--no-colour");
	expect(&cfg, "[\"--webhook\",\"http://mine/\",\"--max-stdouterr-size\",\"9\"]",
	       "/opt/factotum|run|/ff/job.factfile|--webhook|http://mine/|"
	       "--max-stdouterr-size|9|--no-colour");
	expect(&cfg, "[\"--max-stdouterr-size=7\",\"--no-colour\",\"--webhook\",\"http://m/\"]",
	       "/opt/factotum|run|/ff/job.factfile|--max-stdouterr-size=7|--no-colour|"
	       "--webhook|http://m/");
	/* an option's value that looks like an option is a value, not the option */
	expect(&cfg, "[\"--start\",\"--no-colour\"]", "/opt/factotum|run|/ff/job.factfile|"
	       "--start|--no-colour|--webhook|http://server/hook|--max-stdouterr-size|500|"
	       "--no-colour");
	/* a prefix is not the option */
	expect(&cfg, "[\"--tag\",\"x,y\",\"--no-colours\"]", "/opt/factotum|run|/ff/job.factfile|"
	       "--tag|x,y|--no-colours|--webhook|http://server/hook|--max-stdouterr-size|500|"
	       "--no-colour");
	config_free(&cfg);
}

static void test_final_dashdash(void **state)
{
	struct config cfg;

	(void)state;
	setcfg(&cfg, NULL, 1);
	/* after "--" an option would be a positional: the appended ones go before it */
	expect(&cfg, "[\"--tag\",\"a,b\",\"--\"]",
	       "/opt/factotum|run|/ff/job.factfile|--tag|a,b|--no-colour|--");
	/* a "--" that is an option's value is not the terminator */
	expect(&cfg, "[\"--start\",\"--\"]",
	       "/opt/factotum|run|/ff/job.factfile|--start|--|--no-colour");
	config_free(&cfg);
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
		cmocka_unit_test(test_bad_json),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
