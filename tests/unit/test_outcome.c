/* SPDX-License-Identifier: Apache-2.0 */
/* worker/outcome: status and pid files round-trip, are replaced whole (never half-read), and
 * refuse what they did not write; go slots hold the record written last and its went mark, and
 * tell a run that may have begun from one that never did; outcomes recorded in a real spool. */
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
#include "proc.h"
#include "spool.h"
#include "xalloc.h"

static char dir[] = "/tmp/test_outcome.XXXXXX";
#define G_BOOT "0b1d2c3e-0000-4000-8000-00000000000a"
#define ID     "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

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
	put(ID ".status",
	    "run=1\nexit=0\nsignal=0\nstarted=1\nfinished=2\n"
	    "reason=0123456789012345678901234567890123456789\n"); /* too long a reason */
	assert_int_equal(outcome_status_read(dir, ID, &st), FS_EINVAL);
	put(ID ".status", "run=1\nexit=0\nsignal=0\nstarted=1\nfinished=2\nreason=\n");
	assert_int_equal(outcome_status_read(dir, ID, &st), 0);
}

static void test_pid_round_trip(void **state)
{
	struct run_pid rp = { 42, 12345, 987654321ULL, 3 }, back;

	(void)state;
	outcome_recycle(NULL, dir, ID);
	assert_int_equal(outcome_pid_read(dir, ID, &back), FS_ENOENT);
	assert_int_equal(outcome_pid_write(dir, ID, &rp, NULL), 0);
	assert_int_equal(outcome_pid_read(dir, ID, &back), 0);
	assert_int_equal(back.run, 42);
	assert_int_equal(back.pid, 12345);
	assert_true(back.start == 987654321ULL);
	assert_int_equal(back.slot, 3);
	put(ID ".pid", "run=42\npid=12345\nstart=5\n"); /* no slot: none */
	assert_int_equal(outcome_pid_read(dir, ID, &back), 0);
	assert_int_equal(back.slot, -1);
	put(ID ".pid", "run=42\npid=1\nstart=5\n"); /* init is never a supervisor */
	assert_int_equal(outcome_pid_read(dir, ID, &back), FS_EINVAL);
	/* without a pool, recycling removes both files and a crash's temporaries */
	assert_int_equal(outcome_status_write(dir, ID, &(struct run_status){ .run = 1 }, 0, NULL),
			 0);
	put(ID ".status.tmp", "half");
	outcome_recycle(NULL, dir, ID);
	assert_false(exists(ID ".status"));
	assert_false(exists(ID ".status.tmp"));
	assert_false(exists(ID ".pid"));
}

/* A go slot: made naming no run, then holding the record written last, whole, at the slot's
 * one size; a slot that does not parse names nothing. */
static void test_go_record(void **state)
{
	struct run_go g = { 0, ID, 17, 1733362800000LL, 1733362800123LL, "", 0 }, back, *gs = NULL;
	char *path = xasprintf("%s/go/1", dir);
	struct stat st;
	size_t n = 9;
	int fd;

	(void)state;
	assert_int_equal(outcome_go_read(dir, 0, &back), FS_ENOENT);
	assert_int_equal(outcome_go_list(dir, &gs, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(outcome_go_make(dir, 2, 1), 0);
	assert_true(exists("go/0") && exists("go/1") && !exists("go/2"));
	assert_int_equal(outcome_go_read(dir, 1, &back), FS_EINVAL); /* names no run */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 2 * OUTCOME_GO_SIZE);
	assert_true((fd = outcome_go_open(dir, 1, 1)) >= 0);
	assert_int_equal(outcome_go_write(fd, &g, 1), 0);
	close(fd);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 2 * OUTCOME_GO_SIZE);
	memset(&back, 0x55, sizeof(back));
	assert_int_equal(outcome_go_read(dir, 1, &back), 0);
	assert_int_equal(back.slot, 1);
	assert_string_equal(back.id, ID);
	assert_int_equal(back.seq, 17);
	assert_int_equal(back.submitted_ms, 1733362800000LL);
	assert_int_equal(back.run, 1733362800123LL);
	/* made again it keeps its record; a later run's record replaces it whole */
	assert_int_equal(outcome_go_make(dir, 2, 0), 0);
	assert_int_equal(outcome_go_read(dir, 1, &back), 0);
	assert_int_equal(back.run, 1733362800123LL);
	g.run = 7;
	g.seq = 170000000000LL;
	assert_true((fd = outcome_go_open(dir, 1, 0)) >= 0);
	assert_int_equal(outcome_go_write(fd, &g, 0), 0);
	close(fd);
	assert_int_equal(outcome_go_read(dir, 1, &back), 0);
	assert_int_equal(back.run, 7);
	assert_int_equal(back.seq, 170000000000LL);
	/* only the slots that name a run are listed; anything else in the directory is not one */
	put("go/notaslot", "run=1\nid=x\nseq=1\nsubmitted=1\n");
	assert_int_equal(outcome_go_list(dir, &gs, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(gs[0].slot, 1);
	assert_string_equal(gs[0].id, ID);
	free(gs);
	/* cut short or foreign: names nothing */
	put("go/1", "run=7\nid=" ID "\nseq=17\n");
	assert_int_equal(outcome_go_read(dir, 1, &back), FS_EINVAL);
	put("go/1", "run=7\nid=" ID "\nseq=17\nsubmitted=17333628");
	assert_int_equal(outcome_go_read(dir, 1, &back), FS_EINVAL);
	put("go/1", "run=7\nid=\nseq=17\nsubmitted=1\n");
	assert_int_equal(outcome_go_read(dir, 1, &back), FS_EINVAL);
	put("go/1", "");
	assert_int_equal(outcome_go_read(dir, 1, &back), FS_EINVAL);
	/* a slot removed by hand is made again when it is opened */
	assert_int_equal(unlink(path), 0);
	assert_true((fd = outcome_go_open(dir, 1, 1)) >= 0);
	close(fd);
	assert_int_equal(outcome_go_read(dir, 1, &back), FS_EINVAL);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 2 * OUTCOME_GO_SIZE);
	free(path);
}

/* expect_slot NAME RECORD MARK: the slot holds exactly its two regions, each its text then
 * newlines */
static void expect_slot(const char *name, const char *record, const char *mark)
{
	char *path = xasprintf("%s/%s", dir, name), buf[4 * OUTCOME_GO_SIZE],
	     want[2 * OUTCOME_GO_SIZE];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	assert_int_equal(n, (ssize_t)sizeof(want));
	memset(want, '\n', sizeof(want));
	memcpy(want, record, strlen(record));
	memcpy(want + OUTCOME_GO_SIZE, mark, strlen(mark));
	assert_memory_equal(buf, want, sizeof(want));
	free(path);
}

/* The worker's go record and the supervisor's went mark, byte for byte in their two regions; a
 * run may have begun when the mark names it or the record is of another boot (or of none). */
static void test_go_went(void **state)
{
	struct run_go g = {
		0, ID, 17, 1733362800000LL, 7, "0b1d2c3e-0000-4000-8000-00000000000a", 0
	};
	struct run_go back;
	const char *boot = g.boot, *other = "0b1d2c3e-0000-4000-8000-00000000000b";
	char here[OUTCOME_BOOT_SIZE], sys[64];
	FILE *f;
	int fd;

	(void)state;
	assert_int_equal(outcome_go_make(dir, 3, 0), 0);
	expect_slot("go/2", "run=-\n", "");
	assert_true((fd = outcome_go_open(dir, 2, 1)) >= 0);
	assert_int_equal(outcome_go_write(fd, &g, 1), 0);
	assert_int_equal(outcome_go_flush(fd, 1), 0);
	expect_slot("go/2", "run=7\nid=" ID "\nseq=17\nsubmitted=1733362800000\nboot=" G_BOOT "\n",
		    "");
	assert_int_equal(outcome_go_read(dir, 2, &back), 0);
	assert_string_equal(back.boot, boot);
	assert_int_equal(back.went, 0);
	/* written in this boot and never marked: its supervisor never had the go byte */
	assert_false(outcome_go_begun(&back, boot));
	/* of another boot, or a boot unknown on either side: the mark may have been lost */
	assert_true(outcome_go_begun(&back, other));
	assert_true(outcome_go_begun(&back, ""));
	/* marked: it may have begun, in any boot */
	assert_int_equal(outcome_go_went(fd, 7), 0);
	expect_slot("go/2", "run=7\nid=" ID "\nseq=17\nsubmitted=1733362800000\nboot=" G_BOOT "\n",
		    "went=7\n");
	assert_int_equal(outcome_go_read(dir, 2, &back), 0);
	assert_int_equal(back.went, 7);
	assert_true(outcome_go_begun(&back, boot));
	/* a later run's record in the slot: the earlier run's mark does not name it */
	g.run = 8;
	assert_int_equal(outcome_go_write(fd, &g, 0), 0);
	assert_int_equal(outcome_go_read(dir, 2, &back), 0);
	assert_int_equal(back.run, 8);
	assert_int_equal(back.went, 7);
	assert_false(outcome_go_begun(&back, boot));
	close(fd);
	/* cleared: names no run; clearing a slot that does not exist is nothing to do */
	assert_int_equal(outcome_go_clear(dir, 2, 1), 0);
	assert_int_equal(outcome_go_read(dir, 2, &back), FS_EINVAL);
	assert_int_equal(outcome_go_clear(dir, 9, 1), 0);
	assert_false(exists("go/9"));
	/* a record without a boot (or with one that is not one), or a mark that is not one */
	put("go/2", "run=7\nid=" ID "\nseq=1\nsubmitted=1\n");
	assert_int_equal(outcome_go_read(dir, 2, &back), 0);
	assert_string_equal(back.boot, "");
	assert_true(outcome_go_begun(&back, boot));
	put("go/2", "run=7\nid=" ID "\nseq=1\nsubmitted=1\nboot=" G_BOOT "x\nwent=x7\n");
	assert_int_equal(outcome_go_read(dir, 2, &back), 0);
	assert_string_equal(back.boot, "");
	assert_int_equal(back.went, 0);
	/* this boot's id is the kernel's */
	assert_int_equal(proc_boot_id(here, sizeof(here)), 0);
	assert_int_equal(strlen(here), 36);
	assert_non_null(f = fopen("/proc/sys/kernel/random/boot_id", "r"));
	assert_non_null(fgets(sys, sizeof(sys), f));
	fclose(f);
	assert_memory_equal(here, sys, 36);
	assert_int_equal(proc_boot_id(here, 36), -1);
	assert_string_equal(here, "");
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
		cmocka_unit_test(test_status_round_trip), cmocka_unit_test(test_status_refused),
		cmocka_unit_test(test_pid_round_trip),    cmocka_unit_test(test_go_record),
		cmocka_unit_test(test_go_went),           cmocka_unit_test(test_record),
	};

	if (mkdtemp(dir) == NULL)
		return 1;
	return cmocka_run_group_tests(tests, NULL, teardown);
}
