/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/spool: real SQLite files in a temporary directory, including several
 * processes racing on one spool and a process killed in the middle of a write transaction. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "err.h"
#include "spool.h"
#include "spoolprune.h"
#include "spoolruns.h"
#include "spoolstats.h"
#include "xalloc.h"

#define NODE "node-a"

struct spool_fixture {
	char dir[256];
	struct spool *sp;
};

static void rm_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[1024];

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (unlink(path) != 0)
			rm_tree(path);
	}
	closedir(d);
	rmdir(dir);
}

static int setup(void **state)
{
	struct spool_fixture *f = xcalloc(1, sizeof *f);
	char *err = NULL;
	const char *tmp = getenv("TMPDIR");

	snprintf(f->dir, sizeof f->dir, "%s/test_spool.XXXXXX", tmp != NULL && *tmp ? tmp : "/tmp");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	if (spool_open(&f->sp, f->dir, 0, &err) != 0) {
		fprintf(stderr, "%s\n", err);
		free(err);
		rm_tree(f->dir);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct spool_fixture *f = *state;

	spool_close(f->sp);
	rm_tree(f->dir);
	free(f);
	return 0;
}

/* Every flush SQLite asks of the disk goes through these (they interpose libc's for the shared
 * libsqlite3), so a test can count the waits a commit makes. */
static int n_syncs;

int fdatasync(int fd)
{
	n_syncs++;
	return (int)syscall(SYS_fdatasync, fd);
}

int fsync(int fd)
{
	n_syncs++;
	return (int)syscall(SYS_fsync, fd);
}

/* A valid-looking id: n as 64 hex digits. */
static const char *mkid(unsigned n, char buf[65])
{
	snprintf(buf, 65, "%064x", n);
	return buf;
}

static int enq(struct spool *sp, const char *id, size_t max, char **errp)
{
	struct spool_submit s = {
		.id = id,
		.job_name = "echo",
		.factfile_path = "/srv/echo.factfile",
		.factfile_args = "[\"--tag\",\"k,v\"]",
		.node = NODE,
	};
	return spool_enqueue(sp, &s, max, errp);
}

static void reopen(struct spool_fixture *f, int flags)
{
	char *err = NULL;

	spool_close(f->sp);
	f->sp = NULL;
	assert_int_equal(spool_open(&f->sp, f->dir, flags, &err), 0);
	assert_null(err);
}

/* Runs one query straight through SQLite, returning the first column of the first row. */
static long long sql_int(const char *dir, const char *sql)
{
	char path[600];
	sqlite3 *db;
	sqlite3_stmt *st;
	long long v = -12345;

	snprintf(path, sizeof path, "%s/spool.db", dir);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void test_open_schema_reopen(void **state)
{
	struct spool_fixture *f = *state;
	struct spool_job *j = NULL;
	char id[65], path[512], *err = NULL;
	struct stat sb;

	snprintf(path, sizeof path, "%s/spool.db", f->dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sql_int(f->dir, "PRAGMA user_version"), 7);
	assert_int_equal(sql_int(f->dir, "SELECT count(*) FROM sqlite_master WHERE name IN "
					 "('jobs','transitions','outbox','settings','queued_count',"
					 "'factfiles','counters','outcome_ring')"),
			 8);
	assert_int_equal(enq(f->sp, mkid(1, id), 10, &err), 0);
	reopen(f, SPOOL_SYNC_NORMAL); /* an existing spool: data kept */
	assert_int_equal(spool_get(f->sp, id, &j, &err), 0);
	assert_string_equal(j->id, id);
	spool_job_free(j);
	assert_int_equal(spool_integrity_check(f->sp, &err), 0);
	spool_close(f->sp);
	f->sp = NULL;
	/* WAL mode is persistent in the file */
	{
		sqlite3 *db;
		sqlite3_stmt *st;
		assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
		assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), 0);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
		sqlite3_finalize(st);
		sqlite3_close(db);
	}
	reopen(f, 0);
}

static void test_open_errors(void **state)
{
	struct spool_fixture *f = *state;
	struct spool *sp = NULL;
	char sub[512], path[600], *err = NULL;
	int fd;

	assert_int_equal(spool_open(&sp, "", 0, &err), FS_EINVAL);
	assert_null(sp);
	snprintf(sub, sizeof sub, "%s/missing", f->dir);
	assert_int_equal(spool_open(&sp, sub, 0, &err), FS_EIO);
	assert_non_null(strstr(err, "missing"));
	assert_null(sp);

	/* a file where the directory should be */
	snprintf(sub, sizeof sub, "%s/plain", f->dir);
	fd = open(sub, O_CREAT | O_WRONLY, 0600);
	close(fd);
	assert_int_equal(spool_open(&sp, sub, 0, &err), FS_EIO);
	assert_non_null(strstr(err, "not a directory"));

	/* a spool.db that is not SQLite at all */
	snprintf(sub, sizeof sub, "%s/garbage", f->dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(path, sizeof path, "%s/spool.db", sub);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	for (int i = 0; i < 200; i++)
		assert_int_equal(write(fd, "this is not a database\n", 23), 23);
	close(fd);
	assert_int_equal(spool_open(&sp, sub, 0, &err), FS_EIO);
	assert_null(sp);
	assert_non_null(strstr(err, "spool: open "));
	assert_non_null(strstr(err, "spool.db: file is not a database"));

	/* an empty file gets the schema */
	snprintf(sub, sizeof sub, "%s/empty", f->dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(path, sizeof path, "%s/spool.db", sub);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	close(fd);
	assert_int_equal(spool_open(&sp, sub, 0, &err), 0);
	spool_close(sp);
	assert_int_equal(sql_int(sub, "PRAGMA user_version"), 7);
	free(err);
}

/* A spool of any other schema version, newer or older, is refused and left untouched. */
static void test_open_other_version(void **state)
{
	static const int versions[] = { 1, 2, 8, 99, -1 };
	struct spool_fixture *f = *state;
	struct spool *sp = NULL;
	char sql[64], want[700], *err = NULL;

	spool_close(f->sp);
	f->sp = NULL;
	for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
		snprintf(sql, sizeof sql, "PRAGMA user_version = %d", versions[i]);
		sql_int(f->dir, sql);
		assert_int_equal(spool_open(&sp, f->dir, 0, &err), FS_EIO);
		assert_null(sp);
		snprintf(want, sizeof want,
			 "spool: open %s/spool.db: schema version %d, "
			 "this build uses 7",
			 f->dir, versions[i]);
		assert_string_equal(err, want);
		assert_int_equal(sql_int(f->dir, "PRAGMA user_version"), versions[i]);
	}
	free(err);
	sql_int(f->dir, "PRAGMA user_version = 7");
	reopen(f, 0);
}

/* Undoes schema version 7, leaving a version 6 spool. */
static void undo_v7(const char *dir)
{
	sql_int(dir, "DROP TRIGGER slots_recorded");
	sql_int(dir, "DROP TABLE slots");
	sql_int(dir, "DROP TABLE schedules");
	sql_int(dir,
		"DELETE FROM counters WHERE name LIKE 'slots.%' OR name = 'schedules.changes'");
	sql_int(dir, "PRAGMA user_version = 6");
	assert_int_equal(sql_int(dir, "PRAGMA user_version"), 6);
}

/* Undoes schema versions 7 and 6, leaving a version 5 spool. */
static void undo_v6(const char *dir)
{
	undo_v7(dir);
	sql_int(dir, "DROP TRIGGER jobs_done_ring");
	sql_int(dir, "DROP TABLE outcome_ring");
	sql_int(dir, "PRAGMA user_version = 5");
	assert_int_equal(sql_int(dir, "PRAGMA user_version"), 5);
}

/* Undoes schema versions 6 and 5, leaving a version 4 spool. */
static void undo_v5(const char *dir)
{
	static const char *const undo[] = {
		"DROP TRIGGER jobs_count_ins", "DROP TRIGGER jobs_count_upd",
		"DROP TRIGGER jobs_count_del", "DROP TRIGGER jobs_done_totals",
		"DROP TABLE counters",         "PRAGMA user_version = 4",
	};

	undo_v6(dir);
	for (size_t i = 0; i < sizeof undo / sizeof undo[0]; i++)
		sql_int(dir, undo[i]);
	assert_int_equal(sql_int(dir, "PRAGMA user_version"), 4);
}

/* A version 3 spool (made here from a new one by undoing versions 5 and 4) is migrated at open:
 * its jobs stay, without a user or kept factfile, and new jobs get both. */
static void test_open_migrates_v3(void **state)
{
	static const char *const undo[] = {
		"DROP TRIGGER jobs_factfile_upd",
		"DROP TRIGGER jobs_factfile_del",
		"DROP INDEX jobs_factfile",
		"DROP INDEX jobs_queued_user",
		"DROP TABLE factfiles",
		"ALTER TABLE jobs DROP COLUMN submitted_by",
		"ALTER TABLE jobs DROP COLUMN factfile_sha",
		"PRAGMA user_version = 3",
	};
	struct spool_fixture *f = *state;
	struct spool_job *j = NULL;
	struct spool_submit s = { .job_name = "n",
				  .factfile_path = "/f",
				  .node = NODE,
				  .submitted_by = "bob",
				  .factfile_sha = "ab",
				  .factfile = "{}",
				  .factfile_len = 2 };
	char old[65], id[65], *err = NULL, *body = NULL;
	size_t len = 0;

	assert_int_equal(enq(f->sp, mkid(1, old), 10, &err), 0);
	spool_close(f->sp);
	f->sp = NULL;
	undo_v5(f->dir);
	for (size_t i = 0; i < sizeof undo / sizeof undo[0]; i++)
		sql_int(f->dir, undo[i]);
	assert_int_equal(sql_int(f->dir, "PRAGMA user_version"), 3);
	reopen(f, 0);
	assert_int_equal(sql_int(f->dir, "PRAGMA user_version"), 7);
	assert_int_equal(spool_get(f->sp, old, &j, &err), 0);
	assert_null(j->submitted_by);
	assert_null(j->factfile_sha);
	spool_job_free(j);
	s.id = mkid(2, id);
	assert_int_equal(spool_enqueue(f->sp, &s, 10, &err), 0);
	assert_int_equal(spool_get(f->sp, id, &j, &err), 0);
	assert_string_equal(j->submitted_by, "bob");
	assert_string_equal(j->factfile_sha, "ab");
	spool_job_free(j);
	assert_int_equal(spool_factfile_get(f->sp, "ab", &body, &len, &err), 0);
	assert_int_equal(len, 2);
	assert_memory_equal(body, "{}", 2);
	free(body);
	assert_int_equal(spool_integrity_check(f->sp, &err), 0);
	assert_null(err);
}

/* Factfile bytes are kept once per hash, shared by the jobs naming them, and dropped with the
 * last of them (here: a resubmission of the same id with other bytes). */
static void test_factfiles_shared_pruned(void **state)
{
	struct spool_fixture *f = *state;
	struct spool_job *j = NULL;
	struct spool_submit s = { .job_name = "n", .factfile_path = "/f", .node = NODE };
	char a[65], b[65], *err = NULL, *body = NULL;
	size_t len = 0;
	int64_t running = -1;

	s.factfile_sha = "h1";
	s.factfile = "one\0bytes";
	s.factfile_len = 9;
	s.id = mkid(1, a);
	assert_int_equal(spool_enqueue(f->sp, &s, 10, &err), 0);
	s.id = mkid(2, b);
	assert_int_equal(spool_enqueue(f->sp, &s, 10, &err), 0);
	assert_int_equal(sql_int(f->dir, "SELECT count(*) FROM factfiles"), 1);
	assert_int_equal(spool_factfile_get(f->sp, "h1", &body, &len, &err), 0);
	assert_int_equal(len, 9);
	assert_memory_equal(body, "one\0bytes", 9); /* bytes, NUL included */
	free(body);
	assert_int_equal(spool_factfile_running(f->sp, "h1", &running, &err), 0);
	assert_int_equal(running, 0);
	assert_int_equal(spool_claim_next(f->sp, NODE, &j, &err), 0);
	assert_string_equal(j->factfile_sha, "h1");
	assert_int_equal(spool_factfile_running(f->sp, "h1", &running, &err), 0);
	assert_int_equal(running, 1);
	assert_int_equal(spool_abandon(f->sp, j->id, "test", &err), 0);
	spool_job_free(j);
	assert_int_equal(spool_cancel(f->sp, b, &err), 0);
	/* both DONE and still naming h1: kept for them */
	assert_int_equal(sql_int(f->dir, "SELECT count(*) FROM factfiles"), 1);
	s.factfile_sha = "h2";
	s.factfile = "two";
	s.factfile_len = 3;
	s.id = a;
	assert_int_equal(spool_enqueue(f->sp, &s, 10, &err), 0);
	assert_int_equal(sql_int(f->dir, "SELECT count(*) FROM factfiles"), 2);
	s.id = b;
	assert_int_equal(spool_enqueue(f->sp, &s, 10, &err), 0);
	assert_int_equal(sql_int(f->dir, "SELECT count(*) FROM factfiles"), 1);
	assert_int_equal(spool_factfile_get(f->sp, "h1", &body, &len, &err), FS_ENOENT);
	assert_null(body);
	free(err);
}

/* enq_as(sp, s, USER, N, WANT): s queued as USER with id N answers WANT. */
static void enq_as(struct spool *sp, struct spool_submit *s, const char *user, unsigned n, int want)
{
	char id[65], *err = NULL;

	s->submitted_by = user;
	s->id = mkid(n, id);
	assert_int_equal(spool_enqueue(sp, s, 100, &err), want);
	if (want == FS_EQUOTA && user != NULL)
		assert_non_null(strstr(err, "has 2 jobs queued already"));
	free(err);
}

/* --max-queued-per-user: counted per submitted_by among QUEUED jobs, jobs without a user sharing
 * one bound; a batch counts its own enqueues. */
static void test_max_queued_user(void **state)
{
	struct spool_fixture *f = *state;
	struct spool_job *j = NULL;
	struct spool_submit s = {
		.job_name = "n", .factfile_path = "/f", .node = NODE, .max_queued_user = 2
	};
	char *err = NULL;

	assert_int_equal(spool_begin(f->sp, &err), 0);
	enq_as(f->sp, &s, "alice", 1, 0);
	enq_as(f->sp, &s, "alice", 2, 0);
	enq_as(f->sp, &s, "alice", 3, FS_EQUOTA);
	assert_int_equal(spool_commit(f->sp, &err), 0);
	enq_as(f->sp, &s, "bob", 3, 0);
	enq_as(f->sp, &s, NULL, 4, 0);
	enq_as(f->sp, &s, NULL, 5, 0);
	enq_as(f->sp, &s, NULL, 6, FS_EQUOTA);
	/* a job leaving QUEUED frees its place */
	assert_int_equal(spool_claim_next(f->sp, NODE, &j, &err), 0);
	assert_string_equal(j->submitted_by, "alice");
	spool_job_free(j);
	enq_as(f->sp, &s, "alice", 6, 0);
	s.max_queued_user = 0; /* off */
	enq_as(f->sp, &s, "alice", 7, 0);
	free(err);
}

/* The trigger-kept QUEUED count equals a real count through enqueue, claim, cancel and
 * resubmission. */
static void test_queued_count(void **state)
{
	struct spool_fixture *f = *state;
	struct spool_job *j = NULL;
	char id[65], *err = NULL;
	const char *real = "SELECT count(*) FROM jobs WHERE state = 'QUEUED'";
	const char *kept = "SELECT n FROM queued_count";

	for (int i = 1; i <= 4; i++)
		assert_int_equal(enq(f->sp, mkid(i, id), 10, &err), 0);
	assert_int_equal(sql_int(f->dir, kept), 4);
	assert_int_equal(spool_claim_next(f->sp, "n", &j, &err), 0);
	spool_job_free(j);
	assert_int_equal(spool_cancel(f->sp, mkid(2, id), &err), 0);
	assert_int_equal(sql_int(f->dir, kept), 2);
	assert_int_equal(sql_int(f->dir, kept), sql_int(f->dir, real));
	/* a cancelled (DONE) id submitted again is QUEUED again */
	assert_int_equal(enq(f->sp, mkid(2, id), 10, &err), 0);
	assert_int_equal(sql_int(f->dir, kept), 3);
	assert_int_equal(sql_int(f->dir, kept), sql_int(f->dir, real));
	free(err);
}

static void test_corrupted_file(void **state)
{
	struct spool_fixture *f = *state;
	char id[65], path[512], junk[4096 - 100], *err = NULL;
	int fd, rc;

	for (unsigned i = 0; i < 20; i++)
		assert_int_equal(enq(f->sp, mkid(i, id), 100, &err), 0);
	spool_close(f->sp);
	f->sp = NULL;
	/* overwrite the schema page after the 100-byte header */
	memset(junk, 0x5a, sizeof junk);
	snprintf(path, sizeof path, "%s/spool.db", f->dir);
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, junk, sizeof junk, 100), (ssize_t)sizeof junk);
	close(fd);
	rc = spool_open(&f->sp, f->dir, 0, &err);
	assert_int_equal(rc, FS_EIO);
	assert_null(f->sp);
	assert_non_null(strstr(err, "spool: open "));
	assert_non_null(strstr(err, "malformed"));
	free(err);
}

static void test_enqueue_get(void **state)
{
	struct spool_fixture *f = *state;
	struct spool_job *j = NULL;
	struct spool_submit s = {
		.id = NULL, .job_name = "x", .factfile_path = "/x", .node = NODE
	};
	char id[65], *err = NULL;

	assert_int_equal(spool_enqueue(f->sp, &s, 10, &err), FS_EINVAL);
	s.id = mkid(7, id);
	s.consul_index = 15;
	assert_int_equal(spool_enqueue(f->sp, &s, 10, &err), 0); /* args NULL -> "[]" */
	assert_int_equal(spool_get(f->sp, id, &j, &err), 0);
	assert_string_equal(j->id, id);
	assert_string_equal(j->job_name, "x");
	assert_string_equal(j->factfile_path, "/x");
	assert_string_equal(j->factfile_args, "[]");
	assert_string_equal(j->node, NODE);
	assert_int_equal(j->state, SPOOL_QUEUED);
	assert_int_equal(j->outcome, SPOOL_WAITING);
	assert_true(j->created_ms > 1600000000000LL);
	assert_int_equal(j->updated_ms, j->created_ms);
	assert_int_equal(j->started_ms, 0);
	assert_int_equal(j->finished_ms, 0);
	assert_int_equal(j->exit_code, -1);
	assert_int_equal(j->exit_signal, 0);
	assert_null(j->reason);
	assert_null(j->command);
	assert_int_equal(j->pid, 0);
	assert_int_equal(j->consul_index, 15);
	spool_job_free(j);

	assert_int_equal(spool_get(f->sp, mkid(8, id), &j, &err), FS_ENOENT);
	assert_null(j);
	assert_non_null(strstr(err, id));
	assert_int_equal(spool_get(f->sp, NULL, &j, &err), FS_EINVAL);
	/* user data is bound, never spliced into SQL */
	assert_int_equal(enq(f->sp, "'); DROP TABLE jobs; --", 10, &err), 0);
	assert_int_equal(spool_get(f->sp, "'); DROP TABLE jobs; --", &j, &err), 0);
	spool_job_free(j);
	free(err);
}

static void test_dedupe_and_resubmit(void **state)
{
	struct spool_fixture *f = *state;
	struct spool_job *j = NULL;
	struct spool_transition *trs = NULL;
	struct spool_result ok = { .outcome = SPOOL_SUCCEEDED, .exit_code = 0 };
	size_t n = 0;
	char id[65], *err = NULL;
	int64_t seq1;

	assert_int_equal(enq(f->sp, mkid(1, id), 10, &err), 0);
	assert_int_equal(enq(f->sp, id, 10, &err), FS_EEXIST);
	assert_string_equal(err, "spool: enqueue: job '"
				 "0000000000000000000000000000000000000000000000000000000000000001"
				 "' is already QUEUED");
	assert_int_equal(spool_claim_next(f->sp, NODE, &j, &err), 0);
	seq1 = j->seq;
	spool_job_free(j);
	assert_int_equal(enq(f->sp, id, 10, &err), FS_EEXIST);
	assert_non_null(strstr(err, "WORKING"));
	assert_int_equal(spool_record_run(f->sp, id, "[\"factotum\",\"run\"]", 4242, &err), 0);
	assert_int_equal(spool_finish(f->sp, id, &ok, &err), 0);
	/* DONE: may be submitted again; the row is reused and its run details cleared */
	assert_int_equal(enq(f->sp, id, 10, &err), 0);
	assert_int_equal(spool_get(f->sp, id, &j, &err), 0);
	assert_int_equal(j->state, SPOOL_QUEUED);
	assert_int_equal(j->outcome, SPOOL_WAITING);
	assert_true(j->seq > seq1);
	assert_int_equal(j->exit_code, -1);
	assert_int_equal(j->started_ms, 0);
	assert_null(j->command);
	assert_int_equal(j->pid, 0);
	spool_job_free(j);
	assert_int_equal(sql_int(f->dir, "SELECT count(*) FROM jobs"), 1);
	/* the history of both submissions is kept */
	assert_int_equal(spool_transitions(f->sp, id, &trs, &n, &err), 0);
	assert_int_equal(n, 4);
	assert_int_equal(trs[0].state, SPOOL_QUEUED);
	assert_int_equal(trs[0].outcome, SPOOL_WAITING);
	assert_int_equal(trs[1].state, SPOOL_WORKING);
	assert_int_equal(trs[1].outcome, SPOOL_RUNNING);
	assert_int_equal(trs[2].state, SPOOL_DONE);
	assert_int_equal(trs[2].outcome, SPOOL_SUCCEEDED);
	assert_int_equal(trs[2].exit_code, 0);
	assert_int_equal(trs[3].state, SPOOL_QUEUED);
	assert_string_equal(trs[3].job_id, id);
	assert_string_equal(trs[3].node, NODE);
	/* a queued job's QUEUED entry is stored when it leaves QUEUED: until then tid 0 */
	assert_true(trs[0].tid > 0 && trs[0].tid < trs[1].tid && trs[1].tid < trs[2].tid);
	assert_int_equal(trs[3].tid, 0);
	assert_true(trs[0].at_ms <= trs[3].at_ms);
	assert_int_equal(sql_int(f->dir, "SELECT count(*) FROM transitions"), 3);
	spool_transition_list_free(trs, n);
	assert_int_equal(spool_cancel(f->sp, id, &err), 0);
	assert_int_equal(spool_transitions(f->sp, id, &trs, &n, &err), 0);
	assert_int_equal(n, 5);
	assert_true(trs[2].tid < trs[3].tid && trs[3].tid < trs[4].tid);
	assert_int_equal(trs[3].state, SPOOL_QUEUED);
	assert_int_equal(trs[4].state, SPOOL_DONE);
	assert_string_equal(trs[4].reason, "cancelled");
	spool_transition_list_free(trs, n);
	assert_int_equal(spool_transitions(f->sp, mkid(99, id), &trs, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_null(trs);
	free(err);
}

static void test_capacity(void **state)
{
	struct spool_fixture *f = *state;
	struct spool_job *j = NULL;
	char id[65], *err = NULL;

	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(enq(f->sp, mkid(i, id), 3, &err), 0);
	assert_int_equal(enq(f->sp, mkid(3, id), 3, &err), FS_EFULL);
	assert_string_equal(err, "spool: enqueue: the queue is full (3 jobs queued)");
	assert_int_equal(spool_get(f->sp, id, &j, NULL), FS_ENOENT); /* nothing stored */
	/* dedupe is checked before capacity */
	assert_int_equal(enq(f->sp, mkid(0, id), 3, &err), FS_EEXIST);
	/* only QUEUED jobs count: claiming or cancelling one makes room */
	assert_int_equal(spool_claim_next(f->sp, NODE, &j, &err), 0);
	spool_job_free(j);
	assert_int_equal(enq(f->sp, mkid(3, id), 3, &err), 0);
	assert_int_equal(enq(f->sp, mkid(4, id), 3, &err), FS_EFULL);
	assert_int_equal(spool_cancel(f->sp, mkid(1, id), &err), 0);
	assert_int_equal(enq(f->sp, mkid(4, id), 3, &err), 0);
	assert_int_equal(enq(f->sp, mkid(5, id), 0, &err), FS_EFULL);
	free(err);
}

static void test_fifo_claim(void **state)
{
	struct spool_fixture *f = *state;
	struct spool_job *j = NULL;
	struct spool_result fail = { .outcome = SPOOL_FAILED, .exit_code = 3 };
	char id[65], *err = NULL;
	const unsigned order[] = { 5, 2, 9, 1, 7 };

	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(enq(f->sp, mkid(order[i], id), 100, &err), 0);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(spool_claim_next(f->sp, "node-b", &j, &err), 0);
		assert_string_equal(j->id, mkid(order[i], id));
		assert_int_equal(j->state, SPOOL_WORKING);
		assert_int_equal(j->outcome, SPOOL_RUNNING);
		assert_string_equal(j->node, "node-b");
		assert_true(j->started_ms > 0);
		spool_job_free(j);
	}
	/* a finished job submitted again goes to the back of the queue */
	assert_int_equal(spool_finish(f->sp, mkid(5, id), &fail, &err), 0);
	assert_int_equal(enq(f->sp, id, 100, &err), 0);
	const unsigned rest[] = { 1, 7, 5 };
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(spool_claim_next(f->sp, NODE, &j, &err), 0);
		assert_string_equal(j->id, mkid(rest[i], id));
		spool_job_free(j);
	}
	assert_int_equal(spool_claim_next(f->sp, NODE, &j, &err), FS_ENOENT);
	assert_null(j);
	assert_string_equal(err, "spool: claim: no job is queued");
	assert_int_equal(spool_claim_next(f->sp, NULL, &j, &err), FS_EINVAL);
	free(err);
}

static void test_run_finish_cancel(void **state)
{
	struct spool_fixture *f = *state;
	struct spool_job *j = NULL;
	struct spool_result res = {
		.outcome = SPOOL_FAILED, .exit_code = -1, .exit_signal = 9, .reason = "timeout"
	};
	struct spool_result bad = { .outcome = SPOOL_RUNNING };
	char a[65], b[65], c[65], *err = NULL;

	mkid(1, a);
	mkid(2, b);
	mkid(3, c);
	assert_int_equal(enq(f->sp, a, 10, &err), 0);
	assert_int_equal(enq(f->sp, b, 10, &err), 0);
	assert_int_equal(spool_finish(f->sp, a, &res, &err), FS_ESTATE);
	assert_non_null(strstr(err, "is QUEUED, not WORKING"));
	assert_int_equal(spool_record_run(f->sp, a, "x", 1, &err), FS_ESTATE);
	assert_int_equal(spool_finish(f->sp, c, &res, &err), FS_ENOENT);
	assert_int_equal(spool_record_run(f->sp, c, "x", 1, &err), FS_ENOENT);
	assert_int_equal(spool_claim_next(f->sp, NODE, &j, &err), 0);
	spool_job_free(j);
	assert_int_equal(spool_record_run(f->sp, a, "[\"/usr/bin/factotum\",\"run\",\"/f\"]", 777,
					  &err),
			 0);
	assert_int_equal(spool_finish(f->sp, a, &bad, &err), FS_EINVAL);
	assert_int_equal(spool_cancel(f->sp, a, &err), FS_ESTATE);
	assert_int_equal(spool_finish(f->sp, a, &res, &err), 0);
	assert_int_equal(spool_finish(f->sp, a, &res, &err), FS_ESTATE);
	assert_int_equal(spool_get(f->sp, a, &j, &err), 0);
	assert_int_equal(j->state, SPOOL_DONE);
	assert_int_equal(j->outcome, SPOOL_FAILED);
	assert_int_equal(j->exit_code, -1);
	assert_int_equal(j->exit_signal, 9);
	assert_string_equal(j->reason, "timeout");
	assert_string_equal(j->command, "[\"/usr/bin/factotum\",\"run\",\"/f\"]");
	assert_int_equal(j->pid, 777);
	assert_true(j->finished_ms >= j->started_ms && j->started_ms > 0);
	assert_int_equal(j->updated_ms, j->finished_ms);
	spool_job_free(j);

	assert_int_equal(spool_cancel(f->sp, b, &err), 0);
	assert_int_equal(spool_get(f->sp, b, &j, &err), 0);
	assert_int_equal(j->state, SPOOL_DONE);
	assert_int_equal(j->outcome, SPOOL_FAILED);
	assert_string_equal(j->reason, "cancelled");
	assert_int_equal(j->started_ms, 0);
	spool_job_free(j);
	assert_int_equal(spool_cancel(f->sp, b, &err), FS_ESTATE);
	assert_int_equal(spool_cancel(f->sp, c, &err), FS_ENOENT);
	assert_int_equal(spool_cancel(f->sp, NULL, &err), FS_EINVAL);
	free(err);
}

static void test_list_count(void **state)
{
	struct spool_fixture *f = *state;
	struct spool_job *j = NULL, *js = NULL;
	struct spool_counts c;
	struct spool_result ok = { .outcome = SPOOL_SUCCEEDED, .exit_code = 0 };
	size_t n = 0;
	char id[65], *err = NULL;

	assert_int_equal(spool_list(f->sp, SPOOL_STATE_ANY, 0, 0, &js, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_null(js);
	for (unsigned i = 1; i <= 6; i++)
		assert_int_equal(enq(f->sp, mkid(i, id), 100, &err), 0);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(spool_claim_next(f->sp, NODE, &j, &err), 0);
		spool_job_free(j);
	}
	assert_int_equal(spool_finish(f->sp, mkid(1, id), &ok, &err), 0);
	/* 1 DONE, 2-3 WORKING, 4-6 QUEUED */
	assert_int_equal(spool_count(f->sp, &c, &err), 0);
	assert_int_equal(c.queued, 3);
	assert_int_equal(c.working, 2);
	assert_int_equal(c.done, 1);

	assert_int_equal(spool_list(f->sp, SPOOL_STATE_ANY, 0, 0, &js, &n, &err), 0);
	assert_int_equal(n, 6);
	for (unsigned i = 0; i < 6; i++)
		assert_string_equal(js[i].id, mkid(6 - i, id)); /* newest first */
	spool_job_list_free(js, n);
	assert_int_equal(spool_list(f->sp, SPOOL_STATE_ANY, 2, 1, &js, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(js[0].id, mkid(5, id));
	assert_string_equal(js[1].id, mkid(4, id));
	spool_job_list_free(js, n);
	assert_int_equal(spool_list(f->sp, SPOOL_WORKING, 0, 0, &js, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(js[0].id, mkid(3, id));
	assert_int_equal(js[1].state, SPOOL_WORKING);
	spool_job_list_free(js, n);
	assert_int_equal(spool_list(f->sp, SPOOL_QUEUED, 10, 2, &js, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(js[0].id, mkid(4, id));
	spool_job_list_free(js, n);
	assert_int_equal(spool_list(f->sp, SPOOL_DONE, 10, 5, &js, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_int_equal(spool_list(f->sp, 7, 0, 0, &js, &n, &err), FS_EINVAL);

	assert_int_equal(spool_state_parse("queued"), SPOOL_QUEUED);
	assert_int_equal(spool_state_parse("DONE"), SPOOL_DONE);
	assert_int_equal(spool_state_parse("RUNNING"), -1);
	assert_int_equal(spool_state_parse(NULL), -1);
	assert_string_equal(spool_state_name(SPOOL_WORKING), "WORKING");
	assert_string_equal(spool_outcome_name(SPOOL_SUCCEEDED), "SUCCEEDED");
	free(err);
}

static void test_drain_persisted(void **state)
{
	struct spool_fixture *f = *state;
	struct spool *other = NULL;
	struct spool_job *j = NULL;
	char id[65], *err = NULL;
	int d = -1;

	assert_int_equal(spool_drain_get(f->sp, &d, &err), 0);
	assert_int_equal(d, 0); /* never set: run */
	assert_int_equal(enq(f->sp, mkid(1, id), 10, &err), 0);
	assert_int_equal(spool_drain_set(f->sp, 1, &err), 0);
	assert_int_equal(enq(f->sp, mkid(2, id), 10, &err), FS_ESTATE);
	assert_string_equal(err, "spool: enqueue: the node is in drain state");
	/* drain keeps working on what is queued */
	assert_int_equal(spool_claim_next(f->sp, NODE, &j, &err), 0);
	spool_job_free(j);
	/* another connection (another process, in production) sees it */
	assert_int_equal(spool_open(&other, f->dir, 0, &err), 0);
	assert_int_equal(spool_drain_get(other, &d, &err), 0);
	assert_int_equal(d, 1);
	assert_int_equal(enq(other, mkid(2, id), 10, &err), FS_ESTATE);
	spool_close(other);
	reopen(f, 0);
	assert_int_equal(spool_drain_get(f->sp, &d, &err), 0);
	assert_int_equal(d, 1);
	assert_int_equal(spool_drain_set(f->sp, 0, &err), 0);
	reopen(f, 0);
	assert_int_equal(spool_drain_get(f->sp, &d, &err), 0);
	assert_int_equal(d, 0);
	assert_int_equal(enq(f->sp, mkid(2, id), 10, &err), 0);
	free(err);
}

/* spool_defer_sync: commits stop waiting for the disk, are visible at once, and are flushed by
 * spool_resume_sync(flush) or by the next waiting commit */
static void test_defer_sync(void **state)
{
	struct spool_fixture *f = *state;
	struct spool *other = NULL;
	struct spool_job *j = NULL;
	char id[65], *err = NULL;
	int before;

	assert_int_equal(spool_open(&other, f->dir, 0, &err), 0);
	assert_int_equal(enq(f->sp, mkid(1, id), 10, &err), 0);
	assert_int_equal(enq(f->sp, mkid(2, id), 10, &err), 0);
	/* a waiting commit flushes (--spool-sync full, the default) */
	before = n_syncs;
	assert_int_equal(enq(f->sp, mkid(3, id), 10, &err), 0);
	assert_true(n_syncs > before);
	/* deferred: the claim commits without a flush, and another handle sees it */
	assert_int_equal(spool_defer_sync(f->sp, &err), 0);
	before = n_syncs;
	assert_int_equal(spool_claim_next(f->sp, NODE, &j, &err), 0);
	assert_int_equal(n_syncs, before);
	spool_job_free(j);
	j = NULL;
	assert_int_equal(spool_get(other, mkid(1, id), &j, &err), 0);
	assert_int_equal(j->state, SPOOL_WORKING);
	spool_job_free(j);
	j = NULL;
	/* resume with flush: one flush, then commits wait again */
	assert_int_equal(spool_resume_sync(f->sp, 1, &err), 0);
	assert_true(n_syncs > before);
	before = n_syncs;
	assert_int_equal(spool_claim_next(f->sp, NODE, &j, &err), 0);
	assert_true(n_syncs > before);
	spool_job_free(j);
	j = NULL;
	/* resume without flush restores waiting commits and flushes nothing itself */
	assert_int_equal(spool_defer_sync(f->sp, &err), 0);
	before = n_syncs;
	assert_int_equal(spool_resume_sync(f->sp, 0, &err), 0);
	assert_int_equal(n_syncs, before);
	assert_int_equal(enq(f->sp, mkid(4, id), 10, &err), 0);
	assert_true(n_syncs > before);
	/* a resume without a defer is nothing; no defer inside a batch */
	before = n_syncs;
	assert_int_equal(spool_resume_sync(f->sp, 1, &err), 0);
	assert_int_equal(n_syncs, before);
	assert_int_equal(spool_begin(f->sp, &err), 0);
	assert_int_equal(spool_defer_sync(f->sp, &err), FS_ESTATE);
	spool_rollback(f->sp);
	/* --spool-sync normal: commits never wait, and defer/resume change nothing */
	reopen(f, SPOOL_SYNC_NORMAL);
	assert_int_equal(spool_defer_sync(f->sp, &err), 0);
	assert_int_equal(spool_resume_sync(f->sp, 1, &err), 0);
	before = n_syncs;
	assert_int_equal(enq(f->sp, mkid(5, id), 10, &err), 0);
	assert_int_equal(n_syncs, before);
	spool_close(other);
	free(err);
}

/* <spool>/draining exists whenever the setting says drain, and a lost one is made again */
static void test_drain_hint(void **state)
{
	struct spool_fixture *f = *state;
	struct spool *other = NULL;
	char hint[300], id[65], *err = NULL;
	int d = -1;

	snprintf(hint, sizeof hint, "%s/draining", f->dir);
	assert_int_not_equal(access(hint, F_OK), 0);
	assert_int_equal(spool_drain_set(f->sp, 1, &err), 0);
	assert_int_equal(access(hint, F_OK), 0);
	assert_int_equal(spool_open(&other, f->dir, 0, &err), 0);
	assert_int_equal(spool_drain_get(other, &d, &err), 0);
	assert_int_equal(d, 1);
	/* a hint without the setting (a crash before the setting's commit) changes nothing */
	assert_int_equal(spool_drain_set(other, 0, &err), 0);
	assert_int_not_equal(access(hint, F_OK), 0);
	close(open(hint, O_WRONLY | O_CREAT, 0644));
	assert_int_equal(spool_drain_get(f->sp, &d, &err), 0);
	assert_int_equal(d, 0);
	/* the setting without its hint (removed by hand) is repaired by the next open */
	assert_int_equal(spool_drain_set(other, 1, &err), 0);
	spool_close(other);
	assert_int_equal(unlink(hint), 0);
	reopen(f, 0);
	assert_int_equal(access(hint, F_OK), 0);
	assert_int_equal(spool_drain_get(f->sp, &d, &err), 0);
	assert_int_equal(d, 1);
	/* a batch reads drain and the queue length once, as of its start */
	assert_int_equal(spool_drain_set(f->sp, 0, &err), 0);
	assert_int_equal(spool_begin(f->sp, &err), 0);
	assert_int_equal(enq(f->sp, mkid(1, id), 10, &err), 0);
	assert_int_equal(spool_commit(f->sp, &err), 0);
	assert_int_equal(spool_drain_set(f->sp, 1, &err), 0);
	assert_int_equal(spool_begin(f->sp, &err), 0);
	assert_int_equal(enq(f->sp, mkid(2, id), 10, &err), FS_ESTATE);
	assert_int_equal(enq(f->sp, mkid(3, id), 10, &err), FS_ESTATE);
	assert_int_equal(spool_commit(f->sp, &err), 0);
	free(err);
}

static void test_settings(void **state)
{
	struct spool_fixture *f = *state;
	char *v = NULL, *err = NULL;

	assert_int_equal(spool_setting_get(f->sp, "consul.session", &v, &err), FS_ENOENT);
	assert_null(v);
	assert_string_equal(err, "spool: setting_get: no setting 'consul.session'");
	assert_int_equal(spool_setting_set(f->sp, "consul.session", "abc-123", &err), 0);
	assert_int_equal(spool_setting_set(f->sp, "consul.session", "def-456", &err), 0);
	reopen(f, 0);
	assert_int_equal(spool_setting_get(f->sp, "consul.session", &v, &err), 0);
	assert_string_equal(v, "def-456");
	free(v);
	assert_int_equal(spool_setting_set(f->sp, "consul.session", NULL, &err), 0);
	assert_int_equal(spool_setting_get(f->sp, "consul.session", &v, &err), FS_ENOENT);
	assert_int_equal(spool_setting_set(f->sp, NULL, "x", &err), FS_EINVAL);
	assert_int_equal(spool_setting_get(f->sp, NULL, &v, &err), FS_EINVAL);
	free(err);
}

/* spool_setting_list: exactly the keys with the prefix (case counts, neighbours excluded). */
static void test_setting_list(void **state)
{
	struct spool_fixture *f = *state;
	struct spool_setting *l = NULL;
	size_t n = 7;
	char *err = NULL;

	assert_int_equal(spool_setting_list(f->sp, "cancel.", &l, &n, &err), 0);
	assert_null(l);
	assert_int_equal(n, 0);
	assert_int_equal(spool_setting_set(f->sp, "cancel.b", "2", &err), 0);
	assert_int_equal(spool_setting_set(f->sp, "cancel.a", "1", &err), 0);
	assert_int_equal(spool_setting_set(f->sp, "cancel", "x", &err), 0);
	assert_int_equal(spool_setting_set(f->sp, "cancel/", "x", &err), 0);
	assert_int_equal(spool_setting_set(f->sp, "CANCEL.c", "x", &err), 0);
	assert_int_equal(spool_setting_set(f->sp, "worker.pid", "9", &err), 0);
	assert_int_equal(spool_setting_list(f->sp, "cancel.", &l, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(l[0].key, "cancel.a");
	assert_string_equal(l[0].value, "1");
	assert_string_equal(l[1].key, "cancel.b");
	assert_string_equal(l[1].value, "2");
	spool_setting_list_free(l, n);
	assert_int_equal(spool_setting_list(f->sp, "", &l, &n, &err), FS_EINVAL);
	assert_int_equal(spool_setting_list(f->sp, NULL, &l, &n, &err), FS_EINVAL);
	free(err);
}

static void test_outbox(void **state)
{
	struct spool_fixture *f = *state;
	struct spool_job *j = NULL;
	struct spool_outbox *ob = NULL;
	struct spool_result ok = { .outcome = SPOOL_SUCCEEDED, .exit_code = 0 };
	size_t n = 0;
	char a[65], b[65], *err = NULL;

	mkid(0xa, a);
	mkid(0xb, b);
	/* without SPOOL_OUTBOX nothing is queued for Consul */
	assert_int_equal(enq(f->sp, a, 10, &err), 0);
	assert_int_equal(spool_claim_next(f->sp, NODE, &j, &err), 0);
	spool_job_free(j);
	assert_int_equal(spool_finish(f->sp, a, &ok, &err), 0);
	assert_int_equal(spool_outbox_list(f->sp, 0, &ob, &n, &err), 0);
	assert_int_equal(n, 0);

	reopen(f, SPOOL_OUTBOX);
	assert_int_equal(enq(f->sp, a, 10, &err), 0); /* enqueue: claimed by the caller, no entry */
	assert_int_equal(enq(f->sp, b, 10, &err), 0);
	assert_int_equal(spool_claim_next(f->sp, NODE, &j, &err), 0); /* a */
	spool_job_free(j);
	assert_int_equal(spool_claim_next(f->sp, NODE, &j, &err), 0); /* b */
	spool_job_free(j);
	assert_int_equal(spool_finish(f->sp, b, &ok, &err), 0);
	assert_int_equal(spool_finish(f->sp, a, &ok, &err), 0);
	assert_int_equal(enq(f->sp, a, 10, &err), 0);
	assert_int_equal(spool_cancel(f->sp, a, &err), 0);

	assert_int_equal(spool_outbox_list(f->sp, 0, &ob, &n, &err), 0);
	assert_int_equal(n, 5);
	assert_string_equal(ob[0].tr.job_id, a);
	assert_int_equal(ob[0].tr.state, SPOOL_WORKING);
	assert_string_equal(ob[1].tr.job_id, b);
	assert_int_equal(ob[1].tr.state, SPOOL_WORKING);
	assert_string_equal(ob[2].tr.job_id, b);
	assert_int_equal(ob[2].tr.state, SPOOL_DONE);
	assert_int_equal(ob[2].tr.outcome, SPOOL_SUCCEEDED);
	assert_int_equal(ob[2].tr.exit_code, 0);
	assert_string_equal(ob[3].tr.job_id, a);
	assert_int_equal(ob[3].tr.state, SPOOL_DONE);
	assert_string_equal(ob[4].tr.job_id, a);
	assert_string_equal(ob[4].tr.reason, "cancelled");
	for (size_t i = 1; i < n; i++)
		assert_true(ob[i - 1].oid < ob[i].oid && ob[i - 1].tr.tid < ob[i].tr.tid);
	/* delivered: gone, and the job's last index seen moves, atomically */
	assert_int_equal(spool_outbox_delete(f->sp, ob[0].oid, 42, &err), 0);
	assert_int_equal(spool_get(f->sp, a, &j, &err), 0);
	assert_int_equal(j->consul_index, 42);
	spool_job_free(j);
	assert_int_equal(spool_outbox_delete(f->sp, ob[0].oid, 43, &err), FS_ENOENT);
	assert_int_equal(spool_outbox_delete(f->sp, ob[1].oid, 0, &err), 0); /* index kept */
	spool_outbox_list_free(ob, n);

	assert_int_equal(spool_outbox_list(f->sp, 2, &ob, &n, &err), 0); /* oldest first, max 2 */
	assert_int_equal(n, 2);
	assert_string_equal(ob[0].tr.job_id, b);
	assert_int_equal(ob[0].tr.state, SPOOL_DONE);
	assert_int_equal(ob[1].tr.state, SPOOL_DONE);
	spool_outbox_list_free(ob, n);
	/* the outbox survives a restart */
	reopen(f, SPOOL_OUTBOX);
	assert_int_equal(spool_outbox_list(f->sp, 0, &ob, &n, &err), 0);
	assert_int_equal(n, 3);
	spool_outbox_list_free(ob, n);

	assert_int_equal(spool_consul_index_set(f->sp, b, 77, &err), 0);
	assert_int_equal(spool_get(f->sp, b, &j, &err), 0);
	assert_int_equal(j->consul_index, 77);
	spool_job_free(j);
	assert_int_equal(spool_consul_index_set(f->sp, mkid(0xc, a), 1, &err), FS_ENOENT);
	free(err);
}

/* With the outbox on: jobs a (0xa...) and b (0xb...) queued in that order, and a claimed, its
 * record returned (the caller frees it). */
static struct spool_job *claim_first(struct spool_fixture *f, char a[65], char b[65])
{
	struct spool_job *j = NULL;
	char *err = NULL;

	mkid(0xa, a);
	mkid(0xb, b);
	reopen(f, SPOOL_OUTBOX);
	assert_int_equal(enq(f->sp, a, 10, &err), 0);
	assert_int_equal(enq(f->sp, b, 10, &err), 0);
	assert_int_equal(spool_claim_next(f->sp, NODE, &j, &err), 0);
	assert_string_equal(j->id, a);
	free(err);
	return j;
}

/* spool_abandon: a job the node lost in Consul ends here, and nothing of it is delivered. */
static void test_abandon(void **state)
{
	struct spool_fixture *f = *state;
	struct spool_job *j = NULL;
	struct spool_outbox *ob = NULL;
	size_t n = 0;
	char a[65], b[65], c[65], *err = NULL;

	mkid(0xc, c);
	/* a: WORKING, 1 entry */
	spool_job_free(claim_first(f, a, b));
	assert_int_equal(spool_abandon(f->sp, a, "consul-lost", &err), 0); /* WORKING */
	assert_int_equal(spool_abandon(f->sp, b, "consul-lost", &err), 0); /* QUEUED */
	assert_int_equal(spool_get(f->sp, a, &j, &err), 0);
	assert_int_equal(j->state, SPOOL_DONE);
	assert_int_equal(j->outcome, SPOOL_FAILED);
	assert_string_equal(j->reason, "consul-lost");
	assert_true(j->finished_ms > 0);
	spool_job_free(j);
	assert_int_equal(spool_get(f->sp, b, &j, &err), 0);
	assert_int_equal(j->state, SPOOL_DONE);
	assert_string_equal(j->reason, "consul-lost");
	spool_job_free(j);
	/* a's WORKING entry is dropped, and the abandon itself is not queued */
	assert_int_equal(spool_outbox_list(f->sp, 0, &ob, &n, &err), 0);
	assert_int_equal(n, 0);
	spool_outbox_list_free(ob, n);
	assert_int_equal(spool_abandon(f->sp, a, "consul-lost", &err), FS_ESTATE);
	assert_int_equal(spool_abandon(f->sp, c, "consul-lost", &err), FS_ENOENT);
	free(err);
}

/* spool_requeue: a run that never started gives its job back its place in the queue, with one
 * QUEUED transition in its history, queued for Consul. */
static void test_requeue(void **state)
{
	struct spool_fixture *f = *state;
	struct spool_job *j = NULL;
	struct spool_outbox *ob = NULL;
	struct spool_transition *tr = NULL;
	struct spool_counts c;
	size_t n = 0;
	int64_t seq, token;
	char a[65], b[65], x[65], *err = NULL;
	const char *const want[] = { "QUEUED", "WORKING", "QUEUED", "WORKING" };

	mkid(0xe, x);
	j = claim_first(f, a, b);
	seq = j->seq;
	token = j->started_ms;
	spool_job_free(j);
	assert_int_equal(spool_record_run(f->sp, a, "[\"x\"]", 99, &err), 0);
	assert_int_equal(spool_requeue(f->sp, a, token + 1, &err), FS_ESTATE); /* another run */
	assert_int_equal(spool_requeue(f->sp, b, 0, &err), FS_ESTATE);         /* QUEUED */
	assert_int_equal(spool_requeue(f->sp, x, 0, &err), FS_ENOENT);
	assert_int_equal(spool_requeue(f->sp, a, token, &err), 0);
	assert_int_equal(spool_get(f->sp, a, &j, &err), 0);
	assert_int_equal(j->state, SPOOL_QUEUED);
	assert_int_equal(j->outcome, SPOOL_WAITING);
	assert_int_equal(j->seq, seq);
	assert_int_equal(j->started_ms, 0);
	assert_null(j->command);
	assert_int_equal(j->pid, 0);
	spool_job_free(j);
	assert_int_equal(spool_count(f->sp, &c, &err), 0);
	assert_int_equal(c.queued, 2);
	assert_int_equal(c.working, 0);
	/* the QUEUED entry is stored, and not shown twice while the job waits */
	assert_int_equal(spool_transitions(f->sp, a, &tr, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_int_equal(tr[2].state, SPOOL_QUEUED);
	assert_true(tr[2].tid > 0);
	spool_transition_list_free(tr, n);
	assert_int_equal(spool_requeue(f->sp, a, token, &err), FS_ESTATE);
	/* claimed again before b, queued after it; its QUEUED entry is not stored again */
	assert_int_equal(spool_claim_next(f->sp, NODE, &j, &err), 0);
	assert_string_equal(j->id, a);
	spool_job_free(j);
	assert_int_equal(spool_transitions(f->sp, a, &tr, &n, &err), 0);
	assert_int_equal(n, 4);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(spool_state_name(tr[i].state), want[i]);
	spool_transition_list_free(tr, n);
	/* Consul is told of each: WORKING, QUEUED, WORKING */
	assert_int_equal(spool_outbox_list(f->sp, 0, &ob, &n, &err), 0);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(ob[i].tr.job_id, a);
		assert_string_equal(spool_state_name(ob[i].tr.state), want[i + 1]);
	}
	assert_int_equal(ob[1].tr.outcome, SPOOL_WAITING);
	spool_outbox_list_free(ob, n);
	free(err);
}

/* spool_reclaim: a claim a power loss took back is made again for its run, and only for the
 * submission it took. */
static void test_reclaim(void **state)
{
	struct spool_fixture *f = *state;
	struct spool_job *j = NULL;
	struct spool_transition *tr = NULL;
	size_t n = 0;
	int64_t seq, created, run;
	char a[65], b[65], x[65], *err = NULL;

	mkid(0xa, a);
	mkid(0xb, b);
	mkid(0xe, x);
	assert_int_equal(enq(f->sp, a, 10, &err), 0);
	assert_int_equal(enq(f->sp, b, 10, &err), 0);
	assert_int_equal(spool_get(f->sp, a, &j, &err), 0);
	seq = j->seq;
	created = j->created_ms;
	run = created + 5;
	spool_job_free(j);
	/* another submission of the same id */
	assert_int_equal(spool_reclaim(f->sp, a, NODE, run, seq, created - 1, &err), FS_ESTATE);
	assert_int_equal(spool_reclaim(f->sp, a, NODE, run, seq + 1, created, &err), FS_ESTATE);
	assert_int_equal(spool_reclaim(f->sp, x, NODE, run, seq, created, &err), FS_ENOENT);
	assert_int_equal(spool_transitions(f->sp, a, &tr, &n, &err), 0);
	assert_int_equal(n, 1); /* the refusals stored nothing */
	spool_transition_list_free(tr, n);
	assert_int_equal(spool_reclaim(f->sp, a, NODE, run, seq, created, &err), 0);
	assert_int_equal(spool_get(f->sp, a, &j, &err), 0);
	assert_int_equal(j->state, SPOOL_WORKING);
	assert_int_equal(j->outcome, SPOOL_RUNNING);
	assert_int_equal(j->started_ms, run);
	assert_int_equal(j->seq, seq);
	assert_string_equal(j->node, NODE);
	spool_job_free(j);
	assert_int_equal(spool_transitions(f->sp, a, &tr, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(tr[0].state, SPOOL_QUEUED);
	assert_int_equal(tr[1].state, SPOOL_WORKING);
	assert_int_equal(tr[1].at_ms, run);
	spool_transition_list_free(tr, n);
	assert_int_equal(spool_reclaim(f->sp, a, NODE, run, seq, created, &err), FS_ESTATE);
	/* the queue goes on from b */
	assert_int_equal(spool_claim_next(f->sp, NODE, &j, &err), 0);
	assert_string_equal(j->id, b);
	spool_job_free(j);
	free(err);
}

static void test_batch(void **state)
{
	struct spool_fixture *f = *state;
	struct spool *other = NULL;
	struct spool_job *j = NULL;
	char id[65], *err = NULL;

	assert_int_equal(spool_open(&other, f->dir, 0, &err), 0);
	assert_int_equal(spool_commit(f->sp, &err), FS_ESTATE);
	assert_int_equal(spool_begin(f->sp, &err), 0);
	assert_int_equal(spool_begin(f->sp, &err), FS_ESTATE);
	assert_int_equal(enq(f->sp, mkid(1, id), 3, &err), 0);
	assert_int_equal(enq(f->sp, mkid(2, id), 3, &err), 0);
	assert_int_equal(enq(f->sp, mkid(1, id), 3, &err), FS_EEXIST); /* sees the batch's rows */
	assert_int_equal(enq(f->sp, mkid(3, id), 3, &err), 0);
	assert_int_equal(enq(f->sp, mkid(4, id), 3, &err), FS_EFULL); /* counts them too */
	/* uncommitted: invisible to other connections */
	assert_int_equal(spool_get(other, mkid(1, id), &j, NULL), FS_ENOENT);
	assert_int_equal(spool_commit(f->sp, &err), 0);
	assert_int_equal(spool_get(other, mkid(3, id), &j, &err), 0);
	spool_job_free(j);
	assert_int_equal(sql_int(f->dir, "SELECT count(*) FROM jobs"), 3);
	assert_int_equal(sql_int(f->dir, "SELECT count(*) FROM transitions"), 0);

	assert_int_equal(spool_begin(f->sp, &err), 0);
	assert_int_equal(enq(f->sp, mkid(5, id), 10, &err), 0);
	spool_rollback(f->sp);
	assert_int_equal(spool_get(f->sp, id, &j, NULL), FS_ENOENT);
	assert_int_equal(sql_int(f->dir, "SELECT count(*) FROM transitions"), 0);
	spool_rollback(f->sp); /* no batch: harmless */
	/* a batch left open is rolled back by close */
	assert_int_equal(spool_begin(other, &err), 0);
	assert_int_equal(enq(other, mkid(6, id), 10, &err), 0);
	spool_close(other);
	assert_int_equal(spool_get(f->sp, id, &j, NULL), FS_ENOENT);
	assert_int_equal(enq(f->sp, mkid(6, id), 10, &err), 0);
	free(err);
}

struct thread_arg {
	struct spool *sp;
	unsigned base;
	int failures;
};

static void *thread_main(void *p)
{
	struct thread_arg *a = p;
	char id[65];

	for (unsigned i = 0; i < 20; i++)
		if (enq(a->sp, mkid(a->base + i, id), 100000, NULL) != 0)
			a->failures++;
	if (spool_begin(a->sp, NULL) != 0) {
		a->failures++;
		return NULL;
	}
	for (unsigned i = 20; i < 25; i++)
		if (enq(a->sp, mkid(a->base + i, id), 100000, NULL) != 0)
			a->failures++;
	if (spool_commit(a->sp, NULL) != 0)
		a->failures++;
	return NULL;
}

/* One handle shared by threads: calls and batches are serialized by the handle's mutex. */
static void test_threads_share_handle(void **state)
{
	struct spool_fixture *f = *state;
	struct thread_arg args[4];
	pthread_t t[4];
	struct spool_counts c;

	reopen(f, SPOOL_SYNC_NORMAL);
	for (unsigned i = 0; i < 4; i++) {
		args[i] = (struct thread_arg){ .sp = f->sp, .base = 1000 * (i + 1) };
		assert_int_equal(pthread_create(&t[i], NULL, thread_main, &args[i]), 0);
	}
	for (unsigned i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(args[i].failures, 0);
	}
	assert_int_equal(spool_count(f->sp, &c, NULL), 0);
	assert_int_equal(c.queued, 100);
}

/* Forks n children that each open the spool, wait on the barrier and run fn; returns the
 * number of children that exited with each code in codes[0..255]. */
typedef int (*child_fn)(struct spool *sp, unsigned i, int outfd);

static void run_children(const char *dir, unsigned n, child_fn fn, int outfd, int codes[256])
{
	int barrier[2];
	pid_t pids[64];
	char c;

	assert_true(n <= 64);
	assert_int_equal(pipe(barrier), 0);
	memset(codes, 0, 256 * sizeof codes[0]);
	for (unsigned i = 0; i < n; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			struct spool *sp = NULL;
			char *err = NULL;
			int code;

			close(barrier[1]);
			if (spool_open(&sp, dir, 0, &err) != 0) {
				fprintf(stderr, "child: %s\n", err);
				_exit(99);
			}
			while (read(barrier[0], &c, 1) < 0)
				;
			code = fn(sp, i, outfd);
			spool_close(sp);
			_exit(code);
		}
	}
	close(barrier[0]);
	close(barrier[1]); /* go */
	if (outfd >= 0)
		close(outfd);
	for (unsigned i = 0; i < n; i++) {
		int status;
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		codes[WEXITSTATUS(status)]++;
	}
}

static int child_same_id(struct spool *sp, unsigned i, int outfd)
{
	char id[65], *err = NULL;
	int rc = enq(sp, mkid(0xfeed, id), 1000, &err);

	if (rc != 0 && rc != FS_EEXIST)
		fprintf(stderr, "child %u: %s\n", i, err);
	free(err);
	return rc == 0 ? 0 : rc == FS_EEXIST ? 10 : 20;
}

static void test_procs_same_id(void **state)
{
	struct spool_fixture *f = *state;
	struct spool_transition *trs = NULL;
	size_t n = 0;
	char id[65];
	int codes[256];

	spool_close(f->sp);
	f->sp = NULL;
	run_children(f->dir, 16, child_same_id, -1, codes);
	assert_int_equal(codes[0], 1);
	assert_int_equal(codes[10], 15);
	assert_int_equal(sql_int(f->dir, "SELECT count(*) FROM jobs"), 1);
	reopen(f, 0);
	assert_int_equal(spool_transitions(f->sp, mkid(0xfeed, id), &trs, &n, NULL), 0);
	assert_int_equal(n, 1);
	spool_transition_list_free(trs, n);
}

static int child_claimer(struct spool *sp, unsigned i, int outfd)
{
	struct spool_result ok = { .outcome = SPOOL_SUCCEEDED, .exit_code = 0 };
	struct spool_job *j = NULL;
	char line[80], *err = NULL;
	int rc;

	while ((rc = spool_claim_next(sp, "claimer", &j, &err)) == 0) {
		snprintf(line, sizeof line, "%s\n", j->id);
		if (write(outfd, line, strlen(line)) != (ssize_t)strlen(line))
			rc = FS_EIO;
		if (rc == 0)
			rc = spool_finish(sp, j->id, &ok, &err);
		spool_job_free(j);
		if (rc != 0)
			break;
	}
	if (rc != FS_ENOENT)
		fprintf(stderr, "claimer %u: %s\n", i, err != NULL ? err : "?");
	free(err);
	return rc == FS_ENOENT ? 0 : 20;
}

static void test_procs_claim_once(void **state)
{
	struct spool_fixture *f = *state;
	enum { JOBS = 120, CLAIMERS = 6 };
	static char seen[JOBS];
	char id[65], buf[JOBS * 65 + 1], *err = NULL;
	size_t len = 0;
	ssize_t r;
	int out[2], codes[256];

	memset(seen, 0, sizeof seen);
	assert_int_equal(spool_begin(f->sp, &err), 0); /* one commit: quick */
	for (unsigned i = 0; i < JOBS; i++)
		assert_int_equal(enq(f->sp, mkid(i, id), JOBS, &err), 0);
	assert_int_equal(spool_commit(f->sp, &err), 0);
	spool_close(f->sp);
	f->sp = NULL;
	assert_int_equal(pipe(out), 0); /* JOBS lines fit in the pipe's buffer */
	assert_true(sizeof buf < 65536);
	run_children(f->dir, CLAIMERS, child_claimer, out[1], codes);
	assert_int_equal(codes[0], CLAIMERS);
	while ((r = read(out[0], buf + len, sizeof buf - 1 - len)) > 0)
		len += (size_t)r;
	close(out[0]);
	assert_int_equal(len, JOBS * 65);
	for (size_t off = 0; off < len; off += 65) {
		unsigned k;
		assert_int_equal(sscanf(buf + off, "%x", &k), 1);
		assert_true(k < JOBS);
		assert_int_equal(seen[k], 0); /* never claimed twice */
		seen[k] = 1;
	}
	assert_int_equal(sql_int(f->dir, "SELECT count(*) FROM jobs WHERE state = 'DONE'"), JOBS);
	assert_int_equal(sql_int(f->dir, "SELECT count(*) FROM transitions WHERE state = "
					 "'WORKING'"),
			 JOBS);
	reopen(f, 0);
}

struct crash {
	const char *point;
	int countdown; /* raise on the countdown-th time the point is reached */
};

static void crash_hook(const char *point, void *arg)
{
	struct crash *c = arg;

	if (strcmp(point, c->point) == 0 && --c->countdown == 0)
		raise(SIGKILL);
}

/* Forks a child that opens the spool, arms the hook and runs `what`; the child must die. */
static void kill_child_in(const char *dir, const char *point, int countdown, int what)
{
	pid_t pid;
	int status;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct crash c = { point, countdown };
		struct spool *sp = NULL;
		struct spool_job *j = NULL;
		char id[65];

		if (spool_open(&sp, dir, 0, NULL) != 0)
			_exit(99);
		spool_set_hook(sp, crash_hook, &c);
		switch (what) {
		case 0: /* a single enqueue */
			enq(sp, mkid(0xdead, id), 100, NULL);
			break;
		case 1: /* a claim */
			spool_claim_next(sp, NODE, &j, NULL);
			break;
		case 2: /* a batch of five, killed at the commit of the third */
			spool_begin(sp, NULL);
			for (unsigned i = 0; i < 5; i++)
				enq(sp, mkid(0xb000 + i, id), 100, NULL);
			spool_commit(sp, NULL);
			break;
		}
		_exit(0); /* not reached if the hook fired */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
}

static void test_kill_mid_transaction(void **state)
{
	struct spool_fixture *f = *state;
	struct spool_job *j = NULL;
	struct spool_counts c;
	char id[65], *err = NULL;

	assert_int_equal(enq(f->sp, mkid(1, id), 100, &err), 0);
	assert_int_equal(enq(f->sp, mkid(2, id), 100, &err), 0);
	spool_close(f->sp);
	f->sp = NULL;

	kill_child_in(f->dir, "enqueue", 1, 0);
	reopen(f, 0);
	assert_int_equal(spool_integrity_check(f->sp, &err), 0);
	assert_int_equal(spool_get(f->sp, mkid(0xdead, id), &j, NULL), FS_ENOENT);
	assert_int_equal(sql_int(f->dir, "SELECT count(*) FROM jobs"), 2);
	assert_int_equal(enq(f->sp, id, 100, &err), 0); /* the id is free and the spool writable */

	kill_child_in(f->dir, "claim", 1, 1);
	assert_int_equal(spool_integrity_check(f->sp, &err), 0);
	assert_int_equal(spool_get(f->sp, mkid(1, id), &j, &err), 0);
	assert_int_equal(j->state, SPOOL_QUEUED); /* the killed claim left it queued */
	assert_int_equal(j->started_ms, 0);
	spool_job_free(j);
	assert_int_equal(sql_int(f->dir, "SELECT count(*) FROM transitions"), 0);

	kill_child_in(f->dir, "enqueue", 3, 2);
	assert_int_equal(spool_integrity_check(f->sp, &err), 0);
	assert_int_equal(spool_get(f->sp, mkid(0xb000, id), &j, NULL), FS_ENOENT);
	assert_int_equal(spool_count(f->sp, &c, &err), 0);
	assert_int_equal(c.queued, 3);
	assert_int_equal(spool_claim_next(f->sp, NODE, &j, &err), 0);
	assert_string_equal(j->id, mkid(1, id));
	spool_job_free(j);
	free(err);
}

/* The histogram's upper bounds, as /metrics lists them (doc/api.md), in milliseconds. */
static const int64_t run_bucket_ms[] = { 1000,   5000,    15000,    60000,   300000,
					 900000, 3600000, 14400000, 86400000 };
#define N_RUN_BUCKETS (sizeof run_bucket_ms / sizeof run_bucket_ms[0])

static void assert_counts_equal(const struct spool_counts *a, const struct spool_counts *b)
{
	assert_int_equal(a->queued, b->queued);
	assert_int_equal(a->working, b->working);
	assert_int_equal(a->done, b->done);
	assert_int_equal(a->succeeded, b->succeeded);
	assert_int_equal(a->failed, b->failed);
	assert_int_equal(a->runs, b->runs);
	assert_int_equal(a->run_ms, b->run_ms);
	assert_int_equal(a->nbuckets, b->nbuckets);
	for (size_t i = 0; i < a->nbuckets; i++) {
		assert_int_equal(a->bucket[i].le_ms, b->bucket[i].le_ms);
		assert_int_equal(a->bucket[i].n, b->bucket[i].n);
	}
}

/* Jobs 1-6 queued, 1-3 claimed; job 1's run made 7 s long; then 1 SUCCEEDED, 2 FAILED, 3
 * abandoned while WORKING, 4 cancelled and 5 abandoned while QUEUED: three runs, 1 + 4 outcomes. */
static void counters_scenario(struct spool_fixture *f)
{
	struct spool_result ok = { .outcome = SPOOL_SUCCEEDED, .exit_code = 0 };
	struct spool_result bad = { .outcome = SPOOL_FAILED, .exit_code = 1 };
	struct spool_job *j = NULL;
	char id[65], sql[200], *err = NULL;

	for (unsigned i = 1; i <= 6; i++)
		assert_int_equal(enq(f->sp, mkid(i, id), 100, &err), 0);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(spool_claim_next(f->sp, NODE, &j, &err), 0);
		spool_job_free(j);
	}
	snprintf(sql, sizeof sql, "UPDATE jobs SET started_ms = started_ms - 7000 WHERE id = '%s'",
		 mkid(1, id));
	sql_int(f->dir, sql);
	assert_int_equal(spool_finish(f->sp, mkid(1, id), &ok, &err), 0);
	assert_int_equal(spool_finish(f->sp, mkid(2, id), &bad, &err), 0);
	assert_int_equal(spool_abandon(f->sp, mkid(3, id), "lost", &err), 0);
	assert_int_equal(spool_cancel(f->sp, mkid(4, id), &err), 0);
	assert_int_equal(spool_abandon(f->sp, mkid(5, id), "consul-lost", &err), 0);
	assert_null(err);
}

/* The counters after enqueue, claim, finish, cancel and abandon; a resubmission and deleted rows
 * move the per-state counts only; the totals survive a reopen. */
static void test_counters(void **state)
{
	struct spool_fixture *f = *state;
	struct spool_job *j = NULL;
	struct spool_counts c, before;
	char id[65], *err = NULL;

	assert_int_equal(spool_count(f->sp, &c, &err), 0);
	assert_int_equal(c.queued + c.working + c.done + c.succeeded + c.failed + c.runs + c.run_ms,
			 0);
	assert_int_equal(c.nbuckets, N_RUN_BUCKETS);
	for (size_t i = 0; i < N_RUN_BUCKETS; i++) {
		assert_int_equal(c.bucket[i].le_ms, run_bucket_ms[i]);
		assert_int_equal(c.bucket[i].n, 0);
	}
	/* 101 claimed then abandoned (a run of about 0 s), 102 cancelled */
	assert_int_equal(enq(f->sp, mkid(101, id), 100, &err), 0);
	assert_int_equal(enq(f->sp, mkid(102, id), 100, &err), 0);
	assert_int_equal(spool_count(f->sp, &c, &err), 0);
	assert_int_equal(c.queued, 2);
	assert_int_equal(spool_claim_next(f->sp, NODE, &j, &err), 0);
	spool_job_free(j);
	assert_int_equal(spool_count(f->sp, &c, &err), 0);
	assert_int_equal(c.queued, 1);
	assert_int_equal(c.working, 1);
	assert_int_equal(c.done + c.succeeded + c.failed + c.runs, 0);
	assert_int_equal(spool_cancel(f->sp, mkid(102, id), &err), 0);
	assert_int_equal(spool_abandon(f->sp, mkid(101, id), "lost", &err), 0);
	assert_int_equal(spool_count(f->sp, &c, &err), 0);
	assert_int_equal(c.queued + c.working, 0);
	assert_int_equal(c.done, 2);
	assert_int_equal(c.failed, 2);
	assert_int_equal(c.runs, 1);

	counters_scenario(f);
	assert_int_equal(spool_count(f->sp, &c, &err), 0);
	assert_int_equal(c.queued, 1);
	assert_int_equal(c.working, 0);
	assert_int_equal(c.done, 7);
	assert_int_equal(c.succeeded, 1);
	assert_int_equal(c.failed, 6);
	assert_int_equal(c.runs, 4);
	assert_true(c.run_ms >= 7000 && c.run_ms < 7000 + 4 * 1000);
	assert_int_equal(c.run_ms, sql_int(f->dir, "SELECT sum(finished_ms - started_ms) FROM jobs"
						   " WHERE started_ms > 0"));
	assert_int_equal(c.nbuckets, N_RUN_BUCKETS);
	assert_int_equal(c.bucket[0].n, 3); /* le 1 s: jobs 101, 2 and 3 */
	assert_int_equal(c.bucket[1].n, 3); /* le 5 s */
	for (size_t i = 2; i < N_RUN_BUCKETS; i++)
		assert_int_equal(c.bucket[i].n, 4);

	/* resubmitting a DONE job: it is QUEUED again, the totals stay */
	before = c;
	assert_int_equal(enq(f->sp, mkid(2, id), 100, &err), 0);
	assert_int_equal(spool_count(f->sp, &c, &err), 0);
	before.queued++;
	before.done--;
	assert_counts_equal(&c, &before);

	/* rows deleted (as retention does): the totals stay */
	sql_int(f->dir, "DELETE FROM jobs WHERE state = 'DONE'");
	assert_int_equal(spool_count(f->sp, &c, &err), 0);
	before.done = 0;
	assert_counts_equal(&c, &before);
	reopen(f, 0);
	assert_int_equal(spool_count(f->sp, &c, &err), 0);
	assert_counts_equal(&c, &before);
	assert_null(err);
}

/* A version 4 spool gets its counters from its rows, once, at open. */
static void test_open_migrates_v4(void **state)
{
	struct spool_fixture *f = *state;
	struct spool_counts c, before;
	char *err = NULL;

	counters_scenario(f);
	assert_int_equal(spool_count(f->sp, &before, &err), 0);
	spool_close(f->sp);
	f->sp = NULL;
	undo_v5(f->dir);
	reopen(f, 0);
	assert_int_equal(sql_int(f->dir, "PRAGMA user_version"), 7);
	assert_int_equal(spool_count(f->sp, &c, &err), 0);
	assert_counts_equal(&c, &before);
	assert_int_equal(c.done, 5);
	assert_int_equal(c.runs, 3);
	assert_int_equal(c.bucket[0].n, 2);
	assert_int_equal(c.bucket[2].n, 3);
	assert_int_equal(spool_integrity_check(f->sp, &err), 0);
	assert_null(err);
}

/* ---- the outcome ring (core/spoolstats.h) and run history (core/spoolruns.h) ---- */

/* The sums of a window's counts. */
static void ring_sums(struct spool_fixture *f, int64_t span, int slots, int64_t now,
		      int64_t *succeeded, int64_t *failed)
{
	struct statring_slot w[STATRING_SLOTS_MAX];
	char *err = NULL;

	assert_int_equal(spoolstats_window(f->sp, span, slots, now, w, &err), 0);
	*succeeded = *failed = 0;
	for (int i = 0; i < slots; i++) {
		*succeeded += w[i].succeeded;
		*failed += w[i].failed;
	}
}

/* Job n queued, then made DONE with outcome at ms by SQL, as a finish then would: the ring's
 * trigger at a chosen time. */
static void ring_done_at(struct spool_fixture *f, unsigned n, const char *outcome, long long at)
{
	char id[65], sql[300], *err = NULL;

	assert_int_equal(enq(f->sp, mkid(n, id), 100, &err), 0);
	snprintf(
		sql, sizeof sql,
		"UPDATE jobs SET state = 'DONE', outcome = '%s', updated_ms = %lld WHERE id = '%s'",
		outcome, at, id);
	sql_int(f->dir, sql);
}

/* Finishing, cancelling and abandoning count in the minute's and the hour's bucket of now; the
 * ring keeps its 108 rows. */
static void test_ring_counts(void **state)
{
	struct spool_fixture *f = *state;
	struct statring_slot w[STATRING_SLOTS_MAX];
	int64_t ok, bad, now;
	char *err = NULL;

	assert_int_equal(sql_int(f->dir, "SELECT count(*) FROM outcome_ring"), 108);
	ring_sums(f, STATRING_MINUTE_MS, STATRING_MINUTE_SLOTS, clock_real_ms(), &ok, &bad);
	assert_int_equal(ok + bad, 0);
	counters_scenario(f);
	now = clock_real_ms();
	ring_sums(f, STATRING_MINUTE_MS, STATRING_MINUTE_SLOTS, now, &ok, &bad);
	assert_int_equal(ok, 1);
	assert_int_equal(bad, 4);
	ring_sums(f, STATRING_HOUR_MS, STATRING_HOUR_SLOTS, now, &ok, &bad);
	assert_int_equal(ok, 1);
	assert_int_equal(bad, 4);
	/* an hour later the minutes have left the window, the hours not */
	ring_sums(f, STATRING_MINUTE_MS, STATRING_MINUTE_SLOTS, now + 3600000, &ok, &bad);
	assert_int_equal(ok + bad, 0);
	ring_sums(f, STATRING_HOUR_MS, STATRING_HOUR_SLOTS, now + 3600000, &ok, &bad);
	assert_int_equal(ok + bad, 5);
	assert_int_equal(sql_int(f->dir, "SELECT count(*) FROM outcome_ring"), 108);
	/* only the two pairs exist */
	assert_int_equal(spoolstats_window(f->sp, STATRING_MINUTE_MS, 48, now, w, &err), FS_EINVAL);
	free(err);
}

/* The SQL trigger's arithmetic is statring's: a slot holding an older bucket is emptied before
 * it counts a newer one; a finish older than what its slot holds is not counted. */
static void test_ring_slot_reuse(void **state)
{
	struct spool_fixture *f = *state;
	struct statring_slot w[STATRING_MINUTE_SLOTS];
	const long long min = STATRING_MINUTE_MS;
	long long now = 1796359572345LL, old = now - 70 * min, recent = now - 10 * min;
	int64_t ok, bad;
	char *err = NULL;

	ring_done_at(f, 1, "SUCCEEDED", old);
	ring_done_at(f, 2, "FAILED", old + 1);
	assert_int_equal(sql_int(f->dir, "SELECT sum(succeeded + failed) FROM outcome_ring"
					 " WHERE span = 60000"),
			 2);
	/* 70 and 10 minutes ago share a slot */
	ring_done_at(f, 3, "SUCCEEDED", recent);
	assert_int_equal(spoolstats_window(f->sp, STATRING_MINUTE_MS, STATRING_MINUTE_SLOTS, now, w,
					   &err),
			 0);
	assert_int_equal(w[49].start_ms, statring_start(recent, min));
	assert_int_equal(w[49].succeeded, 1);
	assert_int_equal(w[49].failed, 0);
	ring_sums(f, STATRING_MINUTE_MS, STATRING_MINUTE_SLOTS, now, &ok, &bad);
	assert_int_equal(ok, 1);
	assert_int_equal(bad, 0);
	/* the clock stepped back: not counted in the slot that holds a newer bucket */
	ring_done_at(f, 4, "FAILED", old);
	ring_sums(f, STATRING_MINUTE_MS, STATRING_MINUTE_SLOTS, now, &ok, &bad);
	assert_int_equal(ok + bad, 1);
	/* the hours: 70 and 10 minutes before now are two buckets, and all four are counted */
	ring_sums(f, STATRING_HOUR_MS, STATRING_HOUR_SLOTS, now, &ok, &bad);
	assert_int_equal(ok, 2);
	assert_int_equal(bad, 2);
	assert_null(err);
}

/* A version 5 spool gets the ring, empty, at open. */
static void test_open_migrates_v5(void **state)
{
	struct spool_fixture *f = *state;
	int64_t ok, bad;

	counters_scenario(f);
	spool_close(f->sp);
	f->sp = NULL;
	undo_v6(f->dir);
	reopen(f, 0);
	assert_int_equal(sql_int(f->dir, "PRAGMA user_version"), 7);
	assert_int_equal(sql_int(f->dir, "SELECT count(*) FROM outcome_ring WHERE span = 60000"
					 " AND slots = 60 AND start_ms = -1"),
			 60);
	assert_int_equal(sql_int(f->dir, "SELECT count(*) FROM outcome_ring WHERE span = 3600000"
					 " AND slots = 48 AND start_ms = -1"),
			 48);
	ring_sums(f, STATRING_HOUR_MS, STATRING_HOUR_SLOTS, clock_real_ms(), &ok, &bad);
	assert_int_equal(ok + bad, 0);
	ring_done_at(f, 50, "SUCCEEDED", clock_real_ms());
	ring_sums(f, STATRING_HOUR_MS, STATRING_HOUR_SLOTS, clock_real_ms(), &ok, &bad);
	assert_int_equal(ok, 1);
}

/* The newest max transitions, oldest first; a QUEUED job's entry from its row. */
static void test_runs_bounded(void **state)
{
	struct spool_fixture *f = *state;
	struct spool_result ok = { .outcome = SPOOL_SUCCEEDED, .exit_code = 0 };
	struct spool_transition *trs = NULL;
	struct spool_job *j = NULL;
	char id[65], *err = NULL;
	size_t n = 0;

	mkid(7, id);
	assert_int_equal(spoolruns_list(f->sp, id, 10, &trs, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_int_equal(enq(f->sp, id, 10, &err), 0);
	assert_int_equal(spoolruns_list(f->sp, id, 10, &trs, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(trs[0].state, SPOOL_QUEUED);
	spool_transition_list_free(trs, n);
	assert_int_equal(spool_claim_next(f->sp, NODE, &j, &err), 0);
	spool_job_free(j);
	assert_int_equal(spool_finish(f->sp, id, &ok, &err), 0);
	/* resubmitted: QUEUED, WORKING, DONE, and QUEUED again */
	assert_int_equal(enq(f->sp, id, 10, &err), 0);
	assert_int_equal(spoolruns_list(f->sp, id, 10, &trs, &n, &err), 0);
	assert_int_equal(n, 4);
	assert_int_equal(trs[0].state, SPOOL_QUEUED);
	assert_int_equal(trs[1].state, SPOOL_WORKING);
	assert_int_equal(trs[2].state, SPOOL_DONE);
	assert_int_equal(trs[2].outcome, SPOOL_SUCCEEDED);
	assert_int_equal(trs[2].exit_code, 0);
	assert_int_equal(trs[3].state, SPOOL_QUEUED);
	spool_transition_list_free(trs, n);
	assert_int_equal(spoolruns_list(f->sp, id, 2, &trs, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(trs[0].state, SPOOL_DONE);
	assert_int_equal(trs[1].state, SPOOL_QUEUED);
	spool_transition_list_free(trs, n);
	assert_int_equal(spoolruns_list(f->sp, id, 1, &trs, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(trs[0].state, SPOOL_QUEUED);
	spool_transition_list_free(trs, n);
	assert_null(err);
}

/* ---- retention (core/spoolprune.h) ---- */

/* Job n queued, claimed, finished SUCCEEDED and given the finish time at (ms). */
static void done_at(struct spool_fixture *f, unsigned n, long long at)
{
	struct spool_result ok = { SPOOL_SUCCEEDED, 0, 0, NULL };
	struct spool_job *j = NULL;
	char id[65], sql[200], *err = NULL;

	assert_int_equal(enq(f->sp, mkid(n, id), 100, &err), 0);
	assert_int_equal(spool_claim_next(f->sp, NODE, &j, &err), 0);
	assert_string_equal(j->id, id);
	spool_job_free(j);
	assert_int_equal(spool_finish(f->sp, id, &ok, &err), 0);
	snprintf(sql, sizeof sql, "UPDATE jobs SET updated_ms = %lld WHERE id = '%s'", at, id);
	sql_int(f->dir, sql);
}

/* One batch: the removed ids' numbers, in order, as "1,2,..." into out. */
static void prune_once(struct spool_fixture *f, int64_t before, int64_t keep, size_t max,
		       char out[256])
{
	char **ids = NULL, *err = NULL;
	size_t n = 0, i, len = 0;

	assert_int_equal(spoolprune_batch(f->sp, before, keep, 0, max, &ids, &n, &err), 0);
	assert_null(err);
	out[0] = '\0';
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(out + len, 256 - len, "%s%lu", i ? "," : "",
					strtoul(ids[i] + 48, NULL, 16));
	spoolprune_ids_free(ids, n);
}

static void test_prune_due_by_age(void **state)
{
	struct spool_fixture *f = *state;
	struct spool_transition *trs = NULL;
	struct spool_job *j = NULL;
	char got[256], id[65], **ids = NULL, *err = NULL;
	size_t n = 9;

	done_at(f, 1, 1000);
	done_at(f, 2, 3000);
	done_at(f, 3, 2000);
	done_at(f, 4, 5000);
	/* a QUEUED and a WORKING job, both older than anything */
	assert_int_equal(enq(f->sp, mkid(5, id), 100, &err), 0);
	assert_int_equal(enq(f->sp, mkid(6, id), 100, &err), 0);
	assert_int_equal(spool_claim_next(f->sp, NODE, &j, &err), 0);
	spool_job_free(j);
	sql_int(f->dir, "UPDATE jobs SET updated_ms = 1, created_ms = 1 WHERE state <> 'DONE'");

	prune_once(f, 1000, 0, 10, got); /* strictly before */
	assert_string_equal(got, "");
	prune_once(f, 3001, 0, 2, got); /* oldest finish first, at most max */
	assert_string_equal(got, "1,3");
	prune_once(f, 3001, 0, 2, got);
	assert_string_equal(got, "2");
	prune_once(f, INT64_MAX, 0, 10, got);
	assert_string_equal(got, "4");
	assert_int_equal(spool_get(f->sp, mkid(1, id), &j, &err), FS_ENOENT);
	free(err);
	err = NULL;
	assert_int_equal(spool_transitions(f->sp, mkid(2, id), &trs, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_int_equal(sql_int(f->dir, "SELECT count(*) FROM jobs"), 2);
	/* the claimed job's QUEUED and WORKING ones */
	assert_int_equal(sql_int(f->dir, "SELECT count(*) FROM transitions"), 2);
	assert_int_equal(spoolprune_batch(f->sp, 0, 0, 0, 0, &ids, &n, &err), FS_EINVAL);
	assert_null(ids);
	free(err);
}

static void test_prune_keep_newest(void **state)
{
	struct spool_fixture *f = *state;
	char got[256];

	done_at(f, 1, 4000);
	done_at(f, 2, 1000);
	done_at(f, 3, 3000);
	done_at(f, 4, 3000); /* a tie: the id orders it */
	done_at(f, 5, 2000);
	prune_once(f, 0, 3, 10, got);
	assert_string_equal(got, "2,5");
	prune_once(f, 0, 3, 10, got);
	assert_string_equal(got, "");
	prune_once(f, 0, 1, 10, got);
	assert_string_equal(got, "3,4");
	/* both bounds: either makes a job due */
	done_at(f, 6, 500);
	done_at(f, 7, 600);
	prune_once(f, 550, 2, 10, got);
	assert_string_equal(got, "6");
}

/* A job submitted again after DONE is QUEUED: never due, and counts from its new finish. */
static void test_prune_resubmitted(void **state)
{
	struct spool_fixture *f = *state;
	char got[256], id[65], *err = NULL;

	done_at(f, 1, 1000);
	assert_int_equal(enq(f->sp, mkid(1, id), 100, &err), 0);
	prune_once(f, INT64_MAX, 0, 10, got);
	assert_string_equal(got, "");
	assert_int_equal(sql_int(f->dir, "SELECT count(*) FROM jobs"), 1);
}

/* With Consul, a job whose transitions still wait in the outbox is kept until they are sent;
 * its kept factfile bytes go with the last job naming them. */
static void test_prune_outbox_factfile(void **state)
{
	struct spool_fixture *f = *state;
	struct spool_submit s = { .job_name = "n", .factfile_path = "/f", .node = NODE };
	struct spool_result ok = { SPOOL_SUCCEEDED, 0, 0, NULL };
	struct spool_outbox *ob = NULL;
	struct spool_job *j = NULL;
	char got[256], id[65], *err = NULL, *body = NULL;
	size_t n = 0, i, len = 0;

	reopen(f, SPOOL_OUTBOX);
	s.id = mkid(1, id);
	s.factfile_sha = "h1";
	s.factfile = "bytes";
	s.factfile_len = 5;
	assert_int_equal(spool_enqueue(f->sp, &s, 10, &err), 0);
	assert_int_equal(spool_claim_next(f->sp, NODE, &j, &err), 0);
	spool_job_free(j);
	assert_int_equal(spool_finish(f->sp, id, &ok, &err), 0);
	prune_once(f, INT64_MAX, 0, 10, got);
	assert_string_equal(got, "");
	assert_int_equal(spool_outbox_list(f->sp, 0, &ob, &n, &err), 0);
	assert_true(n > 0);
	for (i = 0; i < n; i++)
		assert_int_equal(spool_outbox_delete(f->sp, ob[i].oid, 7, &err), 0);
	spool_outbox_list_free(ob, n);
	prune_once(f, INT64_MAX, 0, 10, got);
	assert_string_equal(got, "1");
	assert_int_equal(spool_factfile_get(f->sp, "h1", &body, &len, &err), FS_ENOENT);
	assert_int_equal(sql_int(f->dir, "SELECT count(*) FROM transitions"), 0);
	free(err);
}

/* With Consul: an entry still the node's is due for removal from Consul first (the node named,
 * the index last seen); the row only once it is forgotten, and only at the index it had. */
static void test_prune_consul(void **state)
{
	struct spool_fixture *f = *state;
	struct spool_result ok = { SPOOL_SUCCEEDED, 0, 0, NULL };
	struct spool_outbox *ob = NULL;
	struct spool_job *j = NULL;
	char got[256], id[65], **ids = NULL, *err = NULL;
	int64_t *idx = NULL;
	size_t n = 0, i;

	reopen(f, SPOOL_OUTBOX);
	assert_int_equal(enq(f->sp, mkid(1, id), 10, &err), 0);
	assert_int_equal(spool_claim_next(f->sp, NODE, &j, &err), 0);
	spool_job_free(j);
	assert_int_equal(spool_finish(f->sp, id, &ok, &err), 0);
	assert_int_equal(spool_outbox_list(f->sp, 0, &ob, &n, &err), 0);
	for (i = 0; i < n; i++)
		assert_int_equal(spool_outbox_delete(f->sp, ob[i].oid, 40 + (int64_t)i, &err), 0);
	spool_outbox_list_free(ob, n);
	/* not before its finish, not another node's */
	assert_int_equal(spoolprune_consul_due(f->sp, NODE, 0, 10, &ids, &idx, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_int_equal(spoolprune_consul_due(f->sp, "node-b", INT64_MAX, 10, &ids, &idx, &n,
					       &err),
			 0);
	assert_int_equal(n, 0);
	assert_int_equal(spoolprune_consul_due(f->sp, NODE, INT64_MAX, 10, &ids, &idx, &n, &err),
			 0);
	assert_int_equal(n, 1);
	assert_string_equal(ids[0], id);
	assert_int_equal(idx[0], 41); /* the last delivered transition's index */
	spoolprune_ids_free(ids, n);
	free(idx);
	assert_int_equal(spoolprune_batch(f->sp, INT64_MAX, 0, 1, 10, &ids, &n, &err), 0);
	assert_int_equal(n, 0); /* the row waits for its entry */
	assert_int_equal(spoolprune_consul_forgotten(f->sp, id, 40, &err), 0); /* moved on */
	assert_int_equal(sql_int(f->dir, "SELECT consul_index FROM jobs"), 41);
	assert_int_equal(spoolprune_consul_forgotten(f->sp, id, 41, &err), 0);
	assert_int_equal(spoolprune_consul_due(f->sp, NODE, INT64_MAX, 10, &ids, &idx, &n, &err),
			 0);
	assert_int_equal(n, 0);
	free(idx);
	prune_once(f, INT64_MAX, 0, 10, got);
	assert_string_equal(got, "1");
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_schema_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_other_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queued_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupted_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enqueue_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dedupe_and_resubmit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_capacity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fifo_claim, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_finish_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drain_persisted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_settings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_setting_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outbox, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abandon, setup, teardown),
		cmocka_unit_test_setup_teardown(test_requeue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reclaim, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drain_hint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_defer_sync, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads_share_handle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_procs_same_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_procs_claim_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill_mid_transaction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_migrates_v3, setup, teardown),
		cmocka_unit_test_setup_teardown(test_factfiles_shared_pruned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_queued_user, setup, teardown),
		cmocka_unit_test_setup_teardown(test_counters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_migrates_v4, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ring_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ring_slot_reuse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_migrates_v5, setup, teardown),
		cmocka_unit_test_setup_teardown(test_runs_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_due_by_age, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_keep_newest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_resubmitted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_outbox_factfile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_consul, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
