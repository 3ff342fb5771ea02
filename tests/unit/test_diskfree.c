/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/diskfree.c and core/spoolreserve.c, in a mkdtemp directory: the free-space
 * floor and its message, the one-second cache, and the reserve's making, giving back and
 * remaking. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "diskfree.h"
#include "err.h"
#include "spoolreserve.h"
#include "xalloc.h"

static char tmpdir[] = "/tmp/fs-diskfree.XXXXXX";

static int setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	char *reserve = xasprintf("%s/reserve", tmpdir);

	(void)state;
	unlink(reserve);
	free(reserve);
	return rmdir(tmpdir);
}

static void test_floor(void **state)
{
	long long avail = diskfree_bytes(tmpdir);
	long long huge = avail + 1024LL * 1024 * 1024 * 1024;
	struct diskfree *df;
	char *err = NULL, *expected;
	const char *mib;

	(void)state;
	assert_true(avail > 0);
	assert_true(diskfree_bytes("/nonexistent/dir") == -1);
	/* 0 disables the check; a floor below what is free passes */
	df = diskfree_new(tmpdir, NULL, 0);
	assert_int_equal(diskfree_check(df, &err), 0);
	diskfree_free(df);
	df = diskfree_new(tmpdir, "/nonexistent/runs", 1);
	assert_int_equal(diskfree_check(df, &err), 0);
	assert_null(err);
	diskfree_free(df);
	/* above it: the filesystem named, and the free space in MiB (checked by shape: other
	 * programs may write to the filesystem between two reads) */
	df = diskfree_new(tmpdir, NULL, huge);
	assert_int_equal(diskfree_check(df, &err), FS_EFULL);
	expected = xasprintf("the filesystem of '%s' has ", tmpdir);
	assert_int_equal(strncmp(err, expected, strlen(expected)), 0);
	mib = err + strlen(expected);
	assert_true(mib[0] >= '0' && mib[0] <= '9');
	mib += strspn(mib, "0123456789");
	free(expected);
	expected = xasprintf(" MiB free, below --min-free-space (%lld MiB)", huge / (1024 * 1024));
	assert_string_equal(mib, expected);
	free(expected);
	free(err);
	err = NULL;
	diskfree_free(df);
}

static void test_cached(void **state)
{
	struct diskfree *df;
	char *sub = xasprintf("%s/gone", tmpdir), *err = NULL;

	(void)state;
	assert_int_equal(mkdir(sub, 0700), 0);
	df = diskfree_new(sub, NULL, 1);
	assert_int_equal(diskfree_check(df, &err), 0);
	/* within the second the last answer stands, whatever became of the directory */
	assert_int_equal(rmdir(sub), 0);
	assert_int_equal(diskfree_check(df, &err), 0);
	usleep(1100 * 1000);
	assert_int_equal(diskfree_check(df, &err), FS_EIO);
	assert_non_null(strstr(err, sub));
	free(err);
	diskfree_free(df);
	free(sub);
}

static void test_reserve(void **state)
{
	char *path = xasprintf("%s/reserve", tmpdir), *err = NULL;
	struct stat st;

	(void)state;
	assert_int_equal(spoolreserve_make(path, &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size == SPOOLRESERVE_BYTES);
	/* real blocks, not a hole: giving it back frees them */
	assert_true((long long)st.st_blocks * 512 >= SPOOLRESERVE_BYTES);
	assert_int_equal(spoolreserve_make(path, &err), 0); /* there: nothing to do */
	assert_int_equal(spoolreserve_release(path), 1);
	assert_int_equal(spoolreserve_release(path), 0);
	/* remade only with the room for it and the floor besides (a floor 1 GiB above the free
	 * space: other processes writing or deleting meanwhile do not change the answer) */
	assert_int_equal(spoolreserve_restore(path, diskfree_bytes(tmpdir) + (1LL << 30)), 0);
	assert_int_not_equal(access(path, F_OK), 0);
	assert_int_equal(spoolreserve_restore(path, 0), 1);
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size == SPOOLRESERVE_BYTES);
	assert_int_equal(spoolreserve_restore(path, 0), 0); /* there already */
	/* a partial one (a crash while making it) is replaced */
	assert_int_equal(truncate(path, 4096), 0);
	assert_int_equal(spoolreserve_make(path, &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size == SPOOLRESERVE_BYTES);
	assert_null(err);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_floor),
		cmocka_unit_test(test_cached),
		cmocka_unit_test(test_reserve),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
