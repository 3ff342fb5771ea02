/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/spoolmark.c and the spool's use of it, in a mkdtemp directory: the mark's
 * one-line format, its reading and rewriting, and a spool that refuses to open when its
 * database is behind its mark (an older copy of spool.db put in place, an emptied spool.db). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "err.h"
#include "spool.h"
#include "spoolmark.h"
#include "xalloc.h"

static char tmpdir[] = "/tmp/fs-spoolmark.XXXXXX";

static int setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

static void rm(const char *name)
{
	char *p = xasprintf("%s/%s", tmpdir, name);

	unlink(p);
	free(p);
}

static int teardown(void **state)
{
	static const char *const names[] = { "mark",         "spool.db",      "spool.db-wal",
					     "spool.db-shm", "spool.db-mark", "reserve",
					     "old.db" };

	(void)state;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		rm(names[i]);
	return rmdir(tmpdir);
}

/* The file's bytes, NUL-terminated. */
static char *slurp(const char *path, size_t *lenp)
{
	char *buf = xmalloc(256);
	int fd = open(path, O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, 255);
	assert_true(n >= 0);
	buf[n] = '\0';
	*lenp = (size_t)n;
	close(fd);
	return buf;
}

static void put(const char *path, const char *bytes, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0640);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, bytes, len), (ssize_t)len);
	close(fd);
}

static void test_parse(void **state)
{
	int64_t v = -7;

	(void)state;
	assert_int_equal(spoolmark_parse("00000000000000000042\n", 21, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(spoolmark_parse("09223372036854775807\n", 21, &v), 0);
	assert_int_equal(v, INT64_MAX);
	v = -7;
	/* one past INT64_MAX, a short line, a missing newline, a sign, a longer file */
	assert_int_equal(spoolmark_parse("09223372036854775808\n", 21, &v), -1);
	assert_int_equal(spoolmark_parse("42\n", 3, &v), -1);
	assert_int_equal(spoolmark_parse("000000000000000000042", 21, &v), -1);
	assert_int_equal(spoolmark_parse("-0000000000000000042\n", 21, &v), -1);
	assert_int_equal(spoolmark_parse("00000000000000000042\nx", 22, &v), -1);
	assert_int_equal(v, -7);
}

static void test_open_write(void **state)
{
	char *path = xasprintf("%s/mark", tmpdir), *buf, *err = NULL;
	int64_t seq = 0;
	size_t len;
	int fd;

	(void)state;
	/* a new mark is empty: -1 */
	assert_int_equal(spoolmark_open(path, &fd, &seq, &err), 0);
	assert_int_equal(seq, -1);
	assert_int_equal(spoolmark_write(fd, 123456), 0);
	assert_int_equal(spoolmark_write(fd, 7), 0);
	assert_int_equal(spoolmark_write(fd, -1), -EINVAL);
	close(fd);
	/* rewritten in place: the shorter number leaves nothing of the longer one */
	buf = slurp(path, &len);
	assert_string_equal(buf, "00000000000000000007\n");
	free(buf);
	assert_int_equal(spoolmark_open(path, &fd, &seq, &err), 0);
	assert_int_equal(seq, 7);
	close(fd);
	free(path);
}

static void test_open_refuses(void **state)
{
	char *path = xasprintf("%s/mark", tmpdir), *want, *err = NULL;
	int64_t seq = 0;
	int fd = 0;

	(void)state;
	want = xasprintf("spool: %s is not a commit mark; remove it to start (it is made again)",
			 path);
	put(path, "garbage\n", 8);
	assert_int_equal(spoolmark_open(path, &fd, &seq, &err), FS_EIO);
	assert_int_equal(fd, -1);
	assert_string_equal(err, want);
	free(err);
	err = NULL;
	put(path, "00000000000000000007\n\n", 22);
	assert_int_equal(spoolmark_open(path, &fd, &seq, &err), FS_EIO);
	assert_string_equal(err, want);
	free(err);
	free(want);
	free(path);
}

/* Enqueues job id; the spool is open on tmpdir. */
static void enqueue(struct spool *sp, const char *id)
{
	struct spool_submit sub = { .id = id, .job_name = "j", .factfile_path = "/f", .node = "n" };
	char *err = NULL;

	assert_int_equal(spool_enqueue(sp, &sub, 100, &err), 0);
}

static int64_t mark_now(void)
{
	char *path = xasprintf("%s/spool.db-mark", tmpdir), *buf;
	int64_t v = -1;
	size_t len;

	buf = slurp(path, &len);
	assert_int_equal(spoolmark_parse(buf, len, &v), 0);
	free(buf);
	free(path);
	return v;
}

static void copy(const char *from, const char *to)
{
	char *a = xasprintf("%s/%s", tmpdir, from), *b = xasprintf("%s/%s", tmpdir, to), *buf;
	int in = open(a, O_RDONLY), out = open(b, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	ssize_t n;

	assert_true(in >= 0 && out >= 0);
	buf = xmalloc(65536);
	while ((n = read(in, buf, 65536)) > 0)
		assert_int_equal(write(out, buf, (size_t)n), n);
	free(buf);
	close(in);
	close(out);
	free(a);
	free(b);
}

static void test_spool_follows(void **state)
{
	struct spool *sp = NULL;
	char *err = NULL, *db = xasprintf("%s/spool.db", tmpdir), *want;
	int64_t m0, m1;

	(void)state;
	assert_int_equal(spool_open(&sp, tmpdir, 0, &err), 0);
	m0 = mark_now();
	/* one write transaction: one step; a batch of two: one step */
	enqueue(sp, "a");
	assert_int_equal(mark_now(), m0 + 1);
	assert_int_equal(spool_begin(sp, &err), 0);
	enqueue(sp, "b");
	enqueue(sp, "c");
	assert_int_equal(spool_commit(sp, &err), 0);
	m1 = mark_now();
	assert_int_equal(m1, m0 + 2);
	/* a refused write commits nothing: the mark stays */
	{
		struct spool_submit dup = {
			.id = "a", .job_name = "j", .factfile_path = "/f", .node = "n"
		};

		assert_int_equal(spool_enqueue(sp, &dup, 100, &err), FS_EEXIST);
		free(err);
		err = NULL;
	}
	assert_int_equal(mark_now(), m1);
	assert_int_equal(spool_checkpoint(sp, &err), 0);
	spool_close(sp);

	/* an older copy of the database (the state after "a") put in place: refused */
	assert_int_equal(spool_open(&sp, tmpdir, 0, &err), 0);
	assert_int_equal(spool_checkpoint(sp, &err), 0);
	copy("spool.db", "old.db");
	enqueue(sp, "d");
	assert_int_equal(spool_checkpoint(sp, &err), 0);
	spool_close(sp);
	rm("spool.db-wal");
	rm("spool.db-shm");
	copy("old.db", "spool.db");
	want = xasprintf("spool: open %s: committed work is missing (commit sequence %lld, "
			 "%s-mark says %lld): %s-wal or %s was deleted, damaged or replaced; "
			 "restore the spool from a backup, or remove %s-mark to accept the loss",
			 db, (long long)m1, db, (long long)(m1 + 1), db, db, db);
	assert_int_equal(spool_open(&sp, tmpdir, 0, &err), FS_EIO);
	assert_null(sp);
	assert_string_equal(err, want);
	free(err);
	err = NULL;
	free(want);

	/* an emptied database: refused before anything is made in it */
	put(db, "", 0);
	want = xasprintf("spool: open %s: committed work is missing (commit sequence 0, "
			 "%s-mark says %lld): %s-wal or %s was deleted, damaged or replaced; "
			 "restore the spool from a backup, or remove %s-mark to accept the loss",
			 db, db, (long long)(m1 + 1), db, db, db);
	assert_int_equal(spool_open(&sp, tmpdir, 0, &err), FS_EIO);
	assert_string_equal(err, want);
	free(err);
	err = NULL;
	free(want);
	{
		size_t len;
		char *buf = slurp(db, &len);

		assert_int_equal(len, 0);
		free(buf);
	}

	/* removing the mark accepts the loss: a new spool, marked afresh */
	rm("spool.db-mark");
	assert_int_equal(spool_open(&sp, tmpdir, 0, &err), 0);
	assert_int_equal(mark_now(), 0);
	spool_close(sp);
	free(db);
}

/* A commit that did not wait for the disk is marked once flushed; a checkpoint makes a deleted
 * mark again. */
static void test_spool_deferred(void **state)
{
	struct spool *sp = NULL;
	char *err = NULL;
	int64_t m;

	(void)state;
	rm("spool.db");
	rm("spool.db-wal");
	rm("spool.db-shm");
	rm("spool.db-mark");
	assert_int_equal(spool_open(&sp, tmpdir, 0, &err), 0);
	m = mark_now();
	assert_int_equal(spool_defer_sync(sp, &err), 0);
	enqueue(sp, "e");
	assert_int_equal(mark_now(), m);
	assert_int_equal(spool_resume_sync(sp, 1, &err), 0);
	assert_int_equal(mark_now(), m + 1);
	/* resumed without a flush: the next waiting commit marks its own */
	assert_int_equal(spool_defer_sync(sp, &err), 0);
	enqueue(sp, "f");
	assert_int_equal(spool_resume_sync(sp, 0, &err), 0);
	assert_int_equal(mark_now(), m + 1);
	enqueue(sp, "g");
	assert_int_equal(mark_now(), m + 3);
	rm("spool.db-mark");
	assert_int_equal(spool_checkpoint(sp, &err), 0);
	assert_int_equal(mark_now(), m + 3);
	spool_close(sp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),          cmocka_unit_test(test_open_write),
		cmocka_unit_test(test_open_refuses),   cmocka_unit_test(test_spool_follows),
		cmocka_unit_test(test_spool_deferred),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
