/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/claimlog.c, the responders' claim journals: records written and read back
 * one per claim (a second record of a claim replaces its first), a torn last line skipped, the
 * lock that tells a live writer from a dead one, truncation once nothing is in flight, compaction
 * to the records in flight under steady load, and the file's removal at a clean close. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "claimlog.h"

static char dir[] = "/tmp/test_claimlog.XXXXXX";

static off_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : -1;
}

static void test_records(void **state)
{
	struct claimlog *l = NULL;
	struct claimlog_file *fs = NULL;
	struct claimlog_rec *recs = NULL;
	size_t nf = 0, nr = 0;
	long long a, b, c;
	char *err = NULL, *path = NULL;
	int fd;

	(void)state;
	assert_int_equal(claimlog_open(&l, dir, 4242, 777, &err), 0);
	assert_int_equal(claimlog_begin(l, "ns/a", &a, &err), 0);
	assert_int_equal(claimlog_begin(l, "ns/b", &b, &err), 0);
	assert_int_equal(a, 1);
	assert_int_equal(b, 2);
	assert_int_equal(claimlog_over(l, "ns/a", a, "{\"state\":\"DONE\"}", &err), 0);
	assert_int_equal(claimlog_begin(l, "ns/a", &c, &err), 0);
	assert_int_equal(c, 3);

	assert_int_equal(claimlog_list(dir, &fs, &nf, &err), 0);
	assert_int_equal(nf, 1);
	assert_int_equal(fs[0].pid, 4242);
	assert_true(fs[0].start == 777);
	assert_true(asprintf(&path, "%s/claims/4242.777", dir) > 0);
	assert_string_equal(fs[0].path, path);
	/* the writer lives: its journal is not to be read */
	assert_int_equal(claimlog_take(fs[0].path), -1);

	/* the bytes as promised, one line each */
	fd = open(path, O_RDONLY);
	{
		char buf[512];
		ssize_t n = read(fd, buf, sizeof(buf) - 1);

		assert_true(n > 0);
		buf[n] = '\0';
		assert_string_equal(buf, "{\"key\":\"ns/a\",\"claim\":1,\"value\":null}\n"
					 "{\"key\":\"ns/b\",\"claim\":2,\"value\":null}\n"
					 "{\"key\":\"ns/a\",\"claim\":1,\"value\":\"{\\\"state\\\":"
					 "\\\"DONE\\\"}\"}\n"
					 "{\"key\":\"ns/a\",\"claim\":3,\"value\":null}\n");
	}
	close(fd);
	/* a torn last line: the process died in its write, before its txn */
	fd = open(path, O_WRONLY | O_APPEND);
	assert_int_equal(write(fd, "{\"key\":\"ns/c\",\"cla", 18), 18);
	close(fd);

	fd = open(path, O_RDONLY);
	assert_int_equal(claimlog_read(fd, &recs, &nr, &err), 0);
	close(fd);
	assert_int_equal(nr, 3);
	assert_string_equal(recs[0].key, "ns/a");
	assert_int_equal(recs[0].claim, 1);
	assert_string_equal(recs[0].prev, "{\"state\":\"DONE\"}");
	assert_string_equal(recs[1].key, "ns/b");
	assert_int_equal(recs[1].claim, 2);
	assert_null(recs[1].prev);
	assert_string_equal(recs[2].key, "ns/a");
	assert_int_equal(recs[2].claim, 3);
	assert_null(recs[2].prev);
	claimlog_recs_free(recs, nr);

	claimlog_end(l, a);
	claimlog_end(l, b);
	claimlog_end(l, c);
	claimlog_close(l);
	assert_int_equal(file_size(path), -1);
	claimlog_files_free(fs, nf);
	free(path);
}

/* Without a clean close (the process died) the journal stays, and its lock is free. */
static void test_dead_writer(void **state)
{
	struct claimlog *l = NULL;
	char *err = NULL, *path = NULL;
	long long a;
	int fd;
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (claimlog_open(&l, dir, 5151, 1, &err) != 0 ||
		    claimlog_begin(l, "ns/x", &a, &err) != 0)
			_exit(1);
		_exit(0);
	}
	{
		int st;

		assert_int_equal(waitpid(pid, &st, 0), pid);
		assert_int_equal(st, 0);
	}
	assert_true(asprintf(&path, "%s/claims/5151.1", dir) > 0);
	assert_true(file_size(path) > 0);
	fd = claimlog_take(path);
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	free(path);
}

/* Settled records go once nothing is in flight and the file reached CLAIMLOG_TRUNCATE_AT; not
 * while a claim is in flight. */
static void test_truncate(void **state)
{
	struct claimlog *l = NULL;
	char *err = NULL, *path = NULL;
	long long a, held;
	int i;

	(void)state;
	assert_int_equal(claimlog_open(&l, dir, 6161, 2, &err), 0);
	assert_true(asprintf(&path, "%s/claims/6161.2", dir) > 0);
	assert_int_equal(claimlog_begin(l, "ns/held", &held, &err), 0);
	for (i = 0; file_size(path) < CLAIMLOG_TRUNCATE_AT; i++) {
		assert_int_equal(claimlog_begin(l, "ns/some-key-of-a-claim", &a, &err), 0);
		claimlog_end(l, a);
	}
	assert_true(file_size(path) >= CLAIMLOG_TRUNCATE_AT); /* one still in flight */
	claimlog_end(l, held);
	assert_int_equal(file_size(path), 0);
	/* a short journal is left as it is */
	assert_int_equal(claimlog_begin(l, "ns/k", &a, &err), 0);
	assert_int_equal(a, held + i + 1);
	claimlog_end(l, a);
	assert_true(file_size(path) > 0);
	claimlog_close(l);
	free(path);
}

/* Under steady load something is always in flight: past CLAIMLOG_COMPACT_AT the journal is
 * replaced by one with only the records in flight, still locked. */
static void test_compact(void **state)
{
	struct claimlog *l = NULL;
	char *err = NULL, *path = NULL, buf[256];
	long long a, held;
	off_t before = 0;
	ssize_t n;
	int fd, i;

	(void)state;
	assert_int_equal(claimlog_open(&l, dir, 7171, 3, &err), 0);
	assert_true(asprintf(&path, "%s/claims/7171.3", dir) > 0);
	assert_int_equal(claimlog_begin(l, "ns/held", &held, &err), 0);
	assert_int_equal(claimlog_over(l, "ns/held", held, "prev", &err), 0);
	for (i = 0; i < 10000 && file_size(path) >= before; i++) {
		before = file_size(path);
		assert_int_equal(claimlog_begin(l, "ns/some-key-of-a-claim", &a, &err), 0);
		claimlog_end(l, a);
	}
	assert_true(before >= CLAIMLOG_COMPACT_AT - 100);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	close(fd);
	assert_string_equal(buf, "{\"key\":\"ns/held\",\"claim\":1,\"value\":\"prev\"}\n");
	assert_int_equal(claimlog_take(path), -1);
	claimlog_end(l, held);
	claimlog_close(l);
	assert_int_equal(file_size(path), -1);
	free(path);
}

static void test_list_names(void **state)
{
	static const char *const names[] = { "notes", "12", "12.", ".5", "0.5", "12.5x" };
	struct claimlog_file *fs = NULL;
	size_t nf = 0, i;
	char *err = NULL, *path = NULL;
	int fd;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		assert_true(asprintf(&path, "%s/claims/%s", dir, names[i]) > 0);
		fd = open(path, O_WRONLY | O_CREAT, 0600);
		assert_true(fd >= 0);
		close(fd);
		free(path);
	}
	assert_int_equal(claimlog_list(dir, &fs, &nf, &err), 0);
	assert_int_equal(nf, 0);
	claimlog_files_free(fs, nf);
	/* no directory at all: nothing, not an error */
	assert_int_equal(claimlog_list("/nonexistent-spool", &fs, &nf, &err), 0);
	assert_int_equal(nf, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records),    cmocka_unit_test(test_dead_writer),
		cmocka_unit_test(test_truncate),   cmocka_unit_test(test_compact),
		cmocka_unit_test(test_list_names),
	};
	char *cmd = NULL;
	int rc;

	if (mkdtemp(dir) == NULL)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	if (asprintf(&cmd, "rm -rf '%s'", dir) > 0 && system(cmd) != 0)
		rc = 1;
	free(cmd);
	return rc;
}
