/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/log: the line format, the --log-level filter, and the journal's form
 * when JOURNAL_STREAM names stderr (stderr captured through a pipe). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* Sets JOURNAL_STREAM to "<dev>:<ino>" of fd, plus delta on the inode. */
static void journal_stream(int fd, long delta)
{
	struct stat st;
	char *v;

	assert_int_equal(fstat(fd, &st), 0);
	v = xasprintf("%llu:%llu", (unsigned long long)st.st_dev,
		      (unsigned long long)st.st_ino + (unsigned long long)delta);
	assert_int_equal(setenv("JOURNAL_STREAM", v, 1), 0);
	free(v);
}

/* The journal is stderr only when JOURNAL_STREAM names fd 2 exactly. */
static void test_journal_choice(void **state)
{
	static const char *const bad[] = { "", "1", "1:", ":1", "a:1", "1:1x", "-1:1", " 1:1" };
	size_t i;

	(void)state;
	unsetenv("JOURNAL_STREAM");
	assert_int_equal(log_to_journal(), 0);
	journal_stream(2, 0);
	assert_int_equal(log_to_journal(), 1);
	journal_stream(2, 1); /* another file on the same device */
	assert_int_equal(log_to_journal(), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("JOURNAL_STREAM", bad[i], 1);
		assert_int_equal(log_to_journal(), 0);
	}
	unsetenv("JOURNAL_STREAM");
}

/* Run with stderr on the capture pipe: the pipe is the journal, at level debug. */
static void log_journal_some(void)
{
	journal_stream(2, 0);
	log_init("prog", CONFIG_LOG_DEBUG);
	log_some();
	log_trace("t");
	log_audit("who %d", 7);
	log_plain(CONFIG_LOG_ERROR, "prog: --ip: bad\nTry 'prog --help'.");
	log_plain(CONFIG_LOG_WARN, "w");
	unsetenv("JOURNAL_STREAM");
}

/* The same lines outside the journal. */
static void log_plain_some(void)
{
	unsetenv("JOURNAL_STREAM");
	log_init("prog", CONFIG_LOG_ERROR);
	log_plain(CONFIG_LOG_ERROR, "prog: --ip: bad\nTry 'prog --help'.");
}

/* On the journal: sd-daemon(3) priorities, no timestamp, every line of a message prefixed. */
static void test_journal_lines(void **state)
{
	char *want;

	(void)state;
	want = xasprintf("<3>prog[%ld]: error: disk full\n"
			 "<4>prog[%ld]: warn: w\n"
			 "<6>prog[%ld]: info: i\n"
			 "<7>prog[%ld]: debug: d\n"
			 "<5>prog[%ld]: audit: who 7\n"
			 "<3>prog: --ip: bad\n"
			 "<3>Try 'prog --help'.\n"
			 "<4>w\n",
			 (long)getpid(), (long)getpid(), (long)getpid(), (long)getpid(),
			 (long)getpid());
	assert_string_equal(captured(log_journal_some), want);
	free(want);
	assert_string_equal(captured(log_plain_some), "prog: --ip: bad\nTry 'prog --help'.\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_levels),
		cmocka_unit_test(test_journal_choice),
		cmocka_unit_test(test_journal_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
