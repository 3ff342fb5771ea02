/* SPDX-License-Identifier: Apache-2.0 */
/* worker/outcome: status and pid files round-trip, are replaced whole (never half-read), and
 * refuse what they did not write; outcomes recorded in a real spool. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "outcome.h"
#include "spool.h"
#include "xalloc.h"

static char dir[] = "/tmp/test_outcome.XXXXXX";
#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void put(const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(path);
}

static int exists(const char *name)
{
	char *path = xasprintf("%s/%s", dir, name);
	int ok = access(path, F_OK) == 0;

	free(path);
	return ok;
}

static void test_status_round_trip(void **state)
{
	struct run_status st, back;

	(void)state;
	assert_int_equal(outcome_status_read(dir, ID, &back), FS_ENOENT);
	memset(&st, 0, sizeof(st));
	st.run = 1767225600123;
	st.exit_code = 3;
	st.started_ms = 1767225600200;
	st.finished_ms = 1767225609999;
	snprintf(st.reason, sizeof(st.reason), "timeout");
	assert_int_equal(outcome_status_write(dir, ID, &st, 1, NULL), 0);
	assert_false(exists(ID ".status.tmp"));
	memset(&back, 0x55, sizeof(back));
	assert_int_equal(outcome_status_read(dir, ID, &back), 0);
	assert_int_equal(back.run, st.run);
	assert_int_equal(back.exit_code, 3);
	assert_int_equal(back.exit_signal, 0);
	assert_int_equal(back.started_ms, st.started_ms);
	assert_int_equal(back.finished_ms, st.finished_ms);
	assert_string_equal(back.reason, "timeout");
	/* replaced whole: a signal and no reason (not durable, as with --spool-sync normal) */
	st.exit_code = -1;
	st.exit_signal = 9;
	st.reason[0] = '\0';
	assert_int_equal(outcome_status_write(dir, ID, &st, 0, NULL), 0);
	assert_false(exists(ID ".status.tmp"));
	assert_int_equal(outcome_status_read(dir, ID, &back), 0);
	assert_int_equal(back.exit_code, -1);
	assert_int_equal(back.exit_signal, 9);
	assert_string_equal(back.reason, "");
}

static void test_status_refused(void **state)
{
	struct run_status st;

	(void)state;
	put(ID ".status", "run=1\nexit=0\nsignal=0\nstarted=1\nfinished=2\n"); /* no reason */
	assert_int_equal(outcome_status_read(dir, ID, &st), FS_EINVAL);
	put(ID ".status", "run=1\nexit=0\nsignal=0\nstarted=1\n"); /* cut short */
	assert_int_equal(outcome_status_read(dir, ID, &st), FS_EINVAL);
	put(ID ".status", "run=1\nexit=x\nsignal=0\nstarted=1\nfinished=2\nreason=\n");
	assert_int_equal(outcome_status_read(dir, ID, &st), FS_EINVAL);
	put(ID ".status", "run=1\nexit=999\nsignal=0\nstarted=1\nfinished=2\nreason=\n");
	assert_int_equal(outcome_status_read(dir, ID, &st), FS_EINVAL);
	put(ID ".status", "run=1\nexit=0\nsignal=0\nstarted=1\nfinished=2\n"
	    "reason=0123456789012345678901234567890123456789\n"); /* too long a reason */
	assert_int_equal(outcome_status_read(dir, ID, &st), FS_EINVAL);
	put(ID ".status", "run=1\nexit=0\nsignal=0\nstarted=1\nfinished=2\nreason=\n");
	assert_int_equal(outcome_status_read(dir, ID, &st), 0);
}

static void test_pid_round_trip(void **state)
{
	struct run_pid rp = { 42, 12345, 987654321ULL }, back;

	(void)state;
	outcome_remove(dir, ID);
	assert_int_equal(outcome_pid_read(dir, ID, &back), FS_ENOENT);
	assert_int_equal(outcome_pid_write(dir, ID, &rp, NULL), 0);
	assert_int_equal(outcome_pid_read(dir, ID, &back), 0);
	assert_int_equal(back.run, 42);
	assert_int_equal(back.pid, 12345);
	assert_true(back.start == 987654321ULL);
	put(ID ".pid", "run=42\npid=1\nstart=5\n"); /* init is never a supervisor */
	assert_int_equal(outcome_pid_read(dir, ID, &back), FS_EINVAL);
	/* remove takes both files and a crash's temporaries */
	assert_int_equal(outcome_status_write(dir, ID, &(struct run_status){ .run = 1 }, 0, NULL), 0);
	put(ID ".status.tmp", "half");
	outcome_remove(dir, ID);
	assert_false(exists(ID ".status"));
	assert_false(exists(ID ".status.tmp"));
	assert_false(exists(ID ".pid"));
}

/* <dir>/spare/<name>, in a static buffer */
static const char *spare_dir_full(const char *name)
{
	static char buf[512];

	snprintf(buf, sizeof(buf), "%s/spare/%s", dir, name);
	return buf;
}

static ino_t inode_of(const char *path)
{
	struct stat sb;

	assert_int_equal(stat(path, &sb), 0);
	return sb.st_ino;
}

#define ID2 "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

/* a settled run's files go into the pool and the next run's are the same inodes: none freed,
 * none allocated; a spare somebody else took first only means a file created as before */
static void test_spares(void **state)
{
	struct outcome_spares sp, again;
	struct run_pid rp = { 7, 4242, 99ULL }, backp;
	struct run_status st = { .run = 7, .exit_code = 3, .reason = "timeout" }, backs;
	char *spare_dir = xasprintf("%s/spare", dir), *p1, *p2, *path;
	ino_t status_ino, pid_ino;

	(void)state;
	assert_int_equal(outcome_spares_init(&sp, spare_dir), 0);
	assert_null(outcome_spare_take(&sp));
	/* run 1 (no spares yet) writes its files, settles: both move into the pool */
	assert_int_equal(outcome_pid_write(dir, ID, &rp, NULL), 0);
	assert_int_equal(outcome_status_write(dir, ID, &st, 1, NULL), 0);
	path = xasprintf("%s/%s.status", dir, ID);
	status_ino = inode_of(path);
	free(path);
	path = xasprintf("%s/%s.pid", dir, ID);
	pid_ino = inode_of(path);
	free(path);
	put(ID ".status.tmp", "a crash's");
	outcome_recycle(&sp, dir, ID);
	assert_false(exists(ID ".status"));
	assert_false(exists(ID ".pid"));
	assert_false(exists(ID ".status.tmp"));
	assert_int_equal(sp.n, 2);
	/* run 2 takes them: same inodes, whole new contents, no temporaries left */
	p1 = outcome_spare_take(&sp);
	p2 = outcome_spare_take(&sp);
	assert_non_null(p1);
	assert_non_null(p2);
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
	path = xasprintf("%s/%s.pid", dir, ID2);
	assert_true(inode_of(path) == status_ino || inode_of(path) == pid_ino);
	free(path);
	path = xasprintf("%s/%s.status", dir, ID2);
	assert_true(inode_of(path) == status_ino || inode_of(path) == pid_ino);
	free(path);
	assert_false(exists(ID2 ".pid.tmp"));
	assert_false(exists(ID2 ".status.tmp"));
	/* a spare already taken: the writer creates its file */
	assert_int_equal(outcome_pid_write(dir, ID, &rp, p1), 0);
	assert_int_equal(outcome_pid_read(dir, ID, &backp), 0);
	assert_int_equal(backp.run, 7);
	free(p1);
	free(p2);
	/* spare directories: named ahead (up to want), made by someone else, taken oldest first;
	 * one never made is just a name */
	p1 = outcome_spare_reserve_dir(&sp, 2);
	p2 = outcome_spare_reserve_dir(&sp, 2);
	assert_non_null(p1);
	assert_non_null(p2);
	assert_null(outcome_spare_reserve_dir(&sp, 2));
	assert_int_equal(mkdir(p1, 0755), 0);
	path = outcome_spare_take_dir(&sp, 2);
	assert_string_equal(path, p1);
	free(path);
	assert_null(outcome_spare_take_dir(&sp, 2)); /* p2 is not made yet: it waits */
	assert_int_equal(sp.ndirs, 1);
	/* as the supervisor of that run does */
	path = xasprintf("%s/rundir", dir);
	assert_int_equal(rename(p1, path), 0);
	assert_int_equal(rmdir(path), 0);
	free(path);
	free(p1);
	/* a new pool takes over the spares on disk (files, empty directories) and names new ones
	 * after them; anything else there goes */
	outcome_recycle(&sp, dir, ID2);
	assert_int_equal(sp.n, 2);
	assert_int_equal(mkdir(p2, 0755), 0);
	free(p2);
	put("spare/junk", "not ours");
	assert_int_equal(mkdir(spare_dir_full("d.99999"), 0755), 0);
	put("spare/d.99999/x", "a file in a spare directory");
	assert_int_equal(outcome_spares_init(&again, spare_dir), 0);
	assert_int_equal(again.n, 2);
	assert_int_equal(again.ndirs, 1);
	assert_true(again.seq >= sp.seq);
	assert_false(exists("spare/junk"));
	assert_true(exists("spare/d.99999/x")); /* not empty: neither taken nor emptied */
	/* a name never made is forgotten once the pool is full */
	p1 = outcome_spare_reserve_dir(&again, 2);
	assert_non_null(p1);
	path = outcome_spare_take_dir(&again, 2); /* the adopted one */
	assert_non_null(path);
	free(path);
	assert_null(outcome_spare_take_dir(&again, 1));
	assert_int_equal(again.ndirs, 0);
	free(p1);
	outcome_spares_free(&again);
	outcome_spares_free(&sp);
	outcome_remove(dir, ID);
	free(spare_dir);
}

static void test_record(void **state)
{
	struct spool *sp = NULL;
	struct spool_job *job = NULL;
	struct spool_submit sub = { ID, "j", "/f", "[]", "node", 0 };
	struct run_status st;
	char *err = NULL;

	(void)state;
	assert_int_equal(spool_open(&sp, dir, 0, &err), 0);
	/* exit 0 with no reason: SUCCEEDED */
	assert_int_equal(spool_enqueue(sp, &sub, 10, &err), 0);
	assert_int_equal(spool_claim_next(sp, "node", &job, &err), 0);
	memset(&st, 0, sizeof(st));
	st.run = job->started_ms;
	spool_job_free(job);
	assert_int_equal(outcome_record(sp, ID, &st, &err), 0);
	assert_int_equal(spool_get(sp, ID, &job, &err), 0);
	assert_int_equal(job->outcome, SPOOL_SUCCEEDED);
	assert_int_equal(job->exit_code, 0);
	assert_null(job->reason);
	spool_job_free(job);
	/* exit 0 after a cancel: FAILED, reason kept */
	assert_int_equal(spool_enqueue(sp, &sub, 10, &err), 0);
	assert_int_equal(spool_claim_next(sp, "node", &job, &err), 0);
	spool_job_free(job);
	snprintf(st.reason, sizeof(st.reason), "cancelled");
	assert_int_equal(outcome_record(sp, ID, &st, &err), 0);
	assert_int_equal(spool_get(sp, ID, &job, &err), 0);
	assert_int_equal(job->outcome, SPOOL_FAILED);
	assert_string_equal(job->reason, "cancelled");
	spool_job_free(job);
	/* killed by a signal */
	assert_int_equal(spool_enqueue(sp, &sub, 10, &err), 0);
	assert_int_equal(spool_claim_next(sp, "node", &job, &err), 0);
	spool_job_free(job);
	memset(&st, 0, sizeof(st));
	st.exit_code = -1;
	st.exit_signal = 9;
	assert_int_equal(outcome_record(sp, ID, &st, &err), 0);
	assert_int_equal(spool_get(sp, ID, &job, &err), 0);
	assert_int_equal(job->outcome, SPOOL_FAILED);
	assert_int_equal(job->exit_code, -1);
	assert_int_equal(job->exit_signal, 9);
	spool_job_free(job);
	/* no status at all */
	assert_int_equal(spool_enqueue(sp, &sub, 10, &err), 0);
	assert_int_equal(spool_claim_next(sp, "node", &job, &err), 0);
	spool_job_free(job);
	assert_int_equal(outcome_record_failure(sp, ID, "worker-lost", &err), 0);
	assert_int_equal(spool_get(sp, ID, &job, &err), 0);
	assert_int_equal(job->state, SPOOL_DONE);
	assert_int_equal(job->outcome, SPOOL_FAILED);
	assert_string_equal(job->reason, "worker-lost");
	spool_job_free(job);
	/* a job no longer WORKING is not recorded twice */
	assert_int_equal(outcome_record_failure(sp, ID, "worker-lost", &err), FS_ESTATE);
	free(err);
	spool_close(sp);
}

static int teardown(void **state)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);

	(void)state;
	(void)!system(cmd);
	free(cmd);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_round_trip),
		cmocka_unit_test(test_status_refused),
		cmocka_unit_test(test_pid_round_trip),
		cmocka_unit_test(test_spares),
		cmocka_unit_test(test_record),
	};

	if (mkdtemp(dir) == NULL)
		return 1;
	return cmocka_run_group_tests(tests, NULL, teardown);
}
