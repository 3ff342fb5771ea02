/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/fault.c, built with the seam on whatever ./configure chose: FS_FAULT's
 * entries, the N-th hit, the errno actions, and a kill that really ends the process. Each case
 * runs in a child, since the seam reads FS_FAULT once per process. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fault.h"

/* Runs fault_at(point) up to `hits` times in a child with FS_FAULT=env and returns the child's
 * wait status: it exits 100 when no hit returned nonzero, 100 + i when hit i returned -want,
 * 1 when it returned another value. */
static int fault_child(const char *env, const char *point, int hits, int want)
{
	int status, i, rc;
	pid_t pid = fork();

	if (pid == 0) {
		setenv("FS_FAULT", env, 1);
		for (i = 1; i <= hits; i++) {
			rc = fault_at(point);
			if (rc != 0)
				_exit(rc == -want ? 100 + i : 1);
		}
		_exit(100);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void test_unset_is_silent(void **state)
{
	int st;

	(void)state;
	st = fault_child("", "spool.checkpoint", 5, 0);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 100);
	st = fault_child("other.point=eio", "spool.checkpoint", 5, EIO);
	assert_int_equal(WEXITSTATUS(st), 100);
}

static void test_errno_actions(void **state)
{
	int st;

	(void)state;
	st = fault_child("a=eio", "a", 3, EIO);
	assert_int_equal(WEXITSTATUS(st), 101);
	st = fault_child("x=kill,a=enospc", "a", 3, ENOSPC);
	assert_int_equal(WEXITSTATUS(st), 101);
	st = fault_child("a=eintr@3", "a", 5, EINTR);
	assert_int_equal(WEXITSTATUS(st), 103);
	/* fires once: hits after the N-th pass */
	st = fault_child("a=eio@2", "a", 1, EIO);
	assert_int_equal(WEXITSTATUS(st), 100);
}

static void test_ending_actions(void **state)
{
	int st;

	(void)state;
	st = fault_child("a=kill@2", "a", 3, 0);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGKILL);
	st = fault_child("a=abort", "a", 1, 0);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGABRT);
	st = fault_child("a=exit", "a", 1, 0);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 70);
}

static void test_bad_entries_ignored(void **state)
{
	int st;

	(void)state;
	st = fault_child("noequals,a=,a=bogus,a=eio", "a", 1, EIO);
	/* entries without '=' or an action are dropped; of the rest the first naming the point
	 * decides, and an unknown action does nothing */
	assert_int_equal(WEXITSTATUS(st), 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unset_is_silent),
		cmocka_unit_test(test_errno_actions),
		cmocka_unit_test(test_ending_actions),
		cmocka_unit_test(test_bad_entries_ignored),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
