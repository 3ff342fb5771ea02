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
	put(ID ".status",
	    "run=1\nexit=0\nsignal=0\nstarted=1\nfinished=2\n"
	    "reason=0123456789012345678901234567890123456789\n"); /* too long a reason */
	assert_int_equal(outcome_status_read(dir, ID, &st), FS_EINVAL);
	put(ID ".status", "run=1\nexit=0\nsignal=0\nstarted=1\nfinished=2\nreason=\n");
	assert_int_equal(outcome_status_read(dir, ID, &st), 0);
}

static void test_pid_round_trip(void **state)
{
	struct run_pid rp = { 42, 12345, 987654321ULL }, back;

	(void)state;
	outcome_recycle(NULL, dir, ID);
	assert_int_equal(outcome_pid_read(dir, ID, &back), FS_ENOENT);
	assert_int_equal(outcome_pid_write(dir, ID, &rp, NULL), 0);
	assert_int_equal(outcome_pid_read(dir, ID, &back), 0);
	assert_int_equal(back.run, 42);
	assert_int_equal(back.pid, 12345);
	assert_true(back.start == 987654321ULL);
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

/* The go record names its run: only that run's token counts, and a torn or foreign file none. */
static void test_go_record(void **state)
{
	int fd;

	(void)state;
	outcome_recycle(NULL, dir, ID);
	assert_false(outcome_go_exists(dir, ID, 1733362800123LL));
	/* made before the go byte: names no run, even over an earlier run's record */
	put(ID ".go", "run=1733362800123\n");
	assert_true((fd = outcome_go_open(dir, ID, 1, NULL)) >= 0);
	assert_false(outcome_go_exists(dir, ID, 1733362800123LL));
	assert_true(exists(ID ".go"));
	assert_int_equal(outcome_go_write(fd, 1733362800123LL, 1), 0);
	close(fd);
	assert_true(outcome_go_exists(dir, ID, 1733362800123LL));
	assert_false(outcome_go_exists(dir, ID, 1733362800124LL));
	assert_false(outcome_go_exists(dir, "another", 1733362800123LL));
	/* a spare's bytes past the first line do not count */
	put(ID ".go", "run=1733362800123456\nexit=0\nsignal=0\n");
	assert_true((fd = outcome_go_open(dir, ID, 0, NULL)) >= 0);
	assert_false(outcome_go_exists(dir, ID, 1733362800123456LL));
	assert_int_equal(outcome_go_write(fd, 7, 0), 0);
	close(fd);
	assert_true(outcome_go_exists(dir, ID, 7));
	put(ID ".go", "run=17333628");
	assert_false(outcome_go_exists(dir, ID, 17333628));
	put(ID ".go", "");
	assert_false(outcome_go_exists(dir, ID, 0));
	outcome_recycle(NULL, dir, ID);
	assert_false(exists(ID ".go"));
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
		cmocka_unit_test(test_go_record),
		cmocka_unit_test(test_record),
	};

	if (mkdtemp(dir) == NULL)
		return 1;
	return cmocka_run_group_tests(tests, NULL, teardown);
}
