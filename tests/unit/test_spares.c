/* SPDX-License-Identifier: Apache-2.0 */
/* worker/spares: a settled run's pid and status files go into the pool and the next run's files
 * are the same inodes (none freed, none allocated); a spare somebody else took first only means a
 * file created anew; spare directories are named ahead, handed out oldest first once made; a new
 * pool takes over what is on disk and removes anything else. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outcome.h"
#include "spares.h"
#include "xalloc.h"

static char dir[] = "/tmp/test_spares.XXXXXX";
#define ID  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ID2 "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

/* <dir>/<name>, in one of two static buffers (two may be used at once) */
static const char *at(const char *name)
{
	static char buf[2][512];
	static int k;

	k = !k;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", dir, name);
	return buf[k];
}

static int present(const char *name)
{
	struct stat sb;

	return lstat(at(name), &sb) == 0;
}

static ino_t inode_of(const char *name)
{
	struct stat sb;

	assert_int_equal(stat(at(name), &sb), 0);
	return sb.st_ino;
}

static void write_text(const char *name, const char *text)
{
	FILE *f = fopen(at(name), "w");

	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static void test_files_reused(void **state)
{
	struct spares sp;
	struct run_pid rp = { 7, 4242, 99ULL }, backp;
	struct run_status st = { .run = 7, .exit_code = 3, .reason = "timeout" }, backs;
	char *p1, *p2;
	ino_t status_ino, pid_ino, got;

	(void)state;
	assert_int_equal(spares_init(&sp, at("spare")), 0);
	assert_null(spares_take(&sp));
	/* run 1 (no spares yet) writes its files, settles: both move into the pool */
	assert_int_equal(outcome_pid_write(dir, ID, &rp, NULL), 0);
	assert_int_equal(outcome_status_write(dir, ID, &st, 1, NULL), 0);
	status_ino = inode_of(ID ".status");
	pid_ino = inode_of(ID ".pid");
	write_text(ID ".status.tmp", "a crash's");
	outcome_recycle(&sp, dir, ID);
	assert_false(present(ID ".status"));
	assert_false(present(ID ".pid"));
	assert_false(present(ID ".status.tmp"));
	assert_int_equal(sp.n, 2);
	/* run 2 takes them: same inodes, whole new contents, no temporaries left */
	p1 = spares_take(&sp);
	p2 = spares_take(&sp);
	assert_non_null(p1);
	assert_non_null(p2);
	assert_null(spares_take(&sp));
	assert_int_equal(outcome_pid_write(dir, ID2, &(struct run_pid){ 8, 777, 5ULL }, p1), 0);
	assert_int_equal(outcome_status_write(dir, ID2, &(struct run_status){ .run = 8 }, 1, p2),
			 0);
	assert_int_equal(outcome_pid_read(dir, ID2, &backp), 0);
	assert_int_equal(backp.run, 8);
	assert_int_equal(backp.pid, 777);
	assert_int_equal(outcome_status_read(dir, ID2, &backs), 0);
	assert_int_equal(backs.run, 8);
	assert_int_equal(backs.exit_code, 0);
	assert_string_equal(backs.reason, "");
	got = inode_of(ID2 ".pid");
	assert_true(got == status_ino || got == pid_ino);
	got = inode_of(ID2 ".status");
	assert_true(got == status_ino || got == pid_ino);
	assert_false(present(ID2 ".pid.tmp"));
	assert_false(present(ID2 ".status.tmp"));
	/* a spare already taken: the writer creates its file */
	assert_int_equal(outcome_pid_write(dir, ID, &rp, p1), 0);
	assert_int_equal(outcome_pid_read(dir, ID, &backp), 0);
	assert_int_equal(backp.run, 7);
	free(p1);
	free(p2);
	/* the pool is full: a file is removed instead */
	while (sp.n < SPARES_MAX)
		sp.paths[sp.n++] = xstrdup("/nonexistent/never-taken");
	outcome_recycle(&sp, dir, ID);
	assert_false(present(ID ".pid"));
	assert_int_equal(sp.n, SPARES_MAX);
	assert_int_equal(spares_put(NULL, at(ID2 ".pid")), -1);
	assert_true(present(ID2 ".pid"));
	outcome_recycle(NULL, dir, ID2);
	spares_free(&sp);
}

static void test_dirs_and_adoption(void **state)
{
	struct spares sp, again;
	char *p1, *p2, *path;

	(void)state;
	assert_int_equal(spares_init(&sp, at("spare2")), 0);
	/* named ahead (up to want), made by someone else, taken oldest first */
	p1 = spares_reserve_dir(&sp, 2);
	p2 = spares_reserve_dir(&sp, 2);
	assert_non_null(p1);
	assert_non_null(p2);
	assert_null(spares_reserve_dir(&sp, 2));
	assert_int_equal(mkdir(p1, 0755), 0);
	path = spares_take_dir(&sp, 2);
	assert_string_equal(path, p1);
	free(path);
	assert_null(spares_take_dir(&sp, 2)); /* p2 is not made yet: it waits */
	assert_int_equal(sp.ndirs, 1);
	/* as the supervisor of that run does */
	assert_int_equal(rename(p1, at("rundir")), 0);
	assert_int_equal(rmdir(at("rundir")), 0);
	free(p1);
	/* a new pool takes over the spares on disk (files, empty directories) and names new ones
	 * after them; anything else there goes */
	write_text(ID ".pid", "pid");
	write_text(ID ".status", "status");
	outcome_recycle(&sp, dir, ID);
	assert_int_equal(sp.n, 2);
	assert_int_equal(mkdir(p2, 0755), 0);
	free(p2);
	write_text("spare2/junk", "not ours");
	write_text("spare2/s.12x", "not a spare's name");
	assert_int_equal(mkdir(at("spare2/d.99999"), 0755), 0);
	write_text("spare2/d.99999/x", "a file in a spare directory");
	assert_int_equal(spares_init(&again, at("spare2")), 0);
	assert_int_equal(again.n, 2);
	assert_int_equal(again.ndirs, 1);
	assert_true(again.seq >= sp.seq);
	assert_false(present("spare2/junk"));
	assert_false(present("spare2/s.12x"));
	assert_true(present("spare2/d.99999/x")); /* not empty: neither taken nor emptied */
	/* a name never made is forgotten once the pool is full */
	p1 = spares_reserve_dir(&again, 2);
	assert_non_null(p1);
	path = spares_take_dir(&again, 2); /* the adopted one */
	assert_non_null(path);
	free(path);
	assert_null(spares_take_dir(&again, 1));
	assert_int_equal(again.ndirs, 0);
	free(p1);
	spares_free(&again);
	spares_free(&sp);
}

static void test_unusable(void **state)
{
	struct spares sp;

	(void)state;
	write_text("not-a-dir", "a file where the pool would be");
	assert_int_equal(spares_init(&sp, at("not-a-dir/spare")), -1);
	assert_null(spares_take(&sp));
	assert_null(spares_reserve_dir(&sp, 4));
	assert_null(spares_take_dir(&sp, 4));
	write_text(ID ".pid", "pid");
	assert_int_equal(spares_put(&sp, at(ID ".pid")), -1);
	assert_true(present(ID ".pid"));
	spares_free(&sp);
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int make_dir(void **state)
{
	(void)state;
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static int remove_dir(void **state)
{
	(void)state;
	return nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_files_reused),
		cmocka_unit_test(test_dirs_and_adoption),
		cmocka_unit_test(test_unusable),
	};

	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
