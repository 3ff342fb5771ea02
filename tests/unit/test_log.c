/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/log: the line format and the --log-level filter (stderr captured through
 * a pipe). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "log.h"
#include "xalloc.h"

/* Runs fn with stderr going to a pipe; returns what it wrote (static storage). */
static const char *captured(void (*fn)(void))
{
	static char out[4096];
	int fds[2], saved;
	ssize_t n;

	assert_int_equal(pipe(fds), 0);
	saved = dup(2);
	dup2(fds[1], 2);
	close(fds[1]);
	fn();
	dup2(saved, 2);
	close(saved);
	n = read(fds[0], out, sizeof(out) - 1);
	close(fds[0]);
	out[n > 0 ? n : 0] = '\0';
	return out;
}

static void log_some(void)
{
	log_error("disk %s", "full");
	log_warn("w");
	log_info("i");
	log_debug("d");
}

static void test_format(void **state)
{
	regex_t re;
	char *want;
	const char *out;

	(void)state;
	log_init("prog", CONFIG_LOG_ERROR);
	out = captured(log_some);
	want = xasprintf("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z "
			 "prog\\[%ld\\]: error: disk full\n$",
			 (long)getpid());
	assert_int_equal(regcomp(&re, want, REG_EXTENDED | REG_NEWLINE), 0);
	assert_int_equal(regexec(&re, out, 0, NULL, 0), 0);
	regfree(&re);
	free(want);
}

static void test_levels(void **state)
{
	const char *out;

	(void)state;
	log_init("prog", CONFIG_LOG_INFO);
	out = captured(log_some);
	assert_non_null(strstr(out, ": error: disk full\n"));
	assert_non_null(strstr(out, ": warn: w\n"));
	assert_non_null(strstr(out, ": info: i\n"));
	assert_null(strstr(out, ": debug: "));
	log_init("prog", CONFIG_LOG_OFF);
	assert_string_equal(captured(log_some), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_levels),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
