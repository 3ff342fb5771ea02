/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/curlload: libcurl loaded at run time, and the message when it cannot be.
 * The loader runs once per process, so each case runs in a child of its own. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "curlload.h"

/* Runs fn in a child with CURLLOAD_ENV set to so (NULL: unset); its exit status. */
static int in_child(const char *so, int (*fn)(void))
{
	pid_t pid;
	int status;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (so != NULL)
			setenv(CURLLOAD_ENV, so, 1);
		else
			unsetenv(CURLLOAD_ENV);
		_exit(fn());
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* 0: loaded, a handle made and escaped nothing odd; else a step number */
static int load_ok(void)
{
	const struct curlfns *lc = curlload(NULL);
	CURL *h;

	if (lc == NULL)
		return 1;
	if ((h = lc->easy_init()) == NULL)
		return 2;
	if (lc->easy_setopt(h, CURLOPT_URL, "http://127.0.0.1:1/") != CURLE_OK)
		return 3;
	lc->easy_cleanup(h);
	/* a second call returns the same table */
	return curlload(NULL) == lc ? 0 : 4;
}

/* 0: refused with the message the README gives, twice the same; else a step number */
static int load_missing(void)
{
	char *err = NULL, *err2 = NULL;
	int rc = 0;

	if (curlload(&err) != NULL)
		return 1;
	if (err == NULL ||
	    strncmp(err, "cannot load libfs-no-such-curl.so.9 (install libcurl4): ", 56) != 0) {
		fprintf(stderr, "message: %s\n", err != NULL ? err : "(none)");
		rc = 2;
	} else if (curlload(&err2) != NULL || err2 == NULL || strcmp(err, err2) != 0) {
		rc = 3;
	}
	free(err);
	free(err2);
	return rc;
}

static void test_loads_libcurl(void **state)
{
	(void)state;
	assert_int_equal(in_child(NULL, load_ok), 0);
}

static void test_missing_library(void **state)
{
	(void)state;
	assert_int_equal(in_child("libfs-no-such-curl.so.9", load_missing), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loads_libcurl),
		cmocka_unit_test(test_missing_library),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
