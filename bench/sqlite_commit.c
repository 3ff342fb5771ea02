/* SPDX-License-Identifier: Apache-2.0 */
/* The raw SQLite baseline of bench/submit.sh: how many one-row transactions per second one
 * connection commits to a WAL database with synchronous=FULL on this disk, with nothing else in
 * the way (no HTTP, no validation, no batching). The table is shaped like the spool's jobs table
 * (same columns, primary key and index), the pragmas are the spool's (journal_mode=WAL,
 * synchronous=FULL, foreign_keys=ON), and each transaction is BEGIN IMMEDIATE; INSERT; COMMIT,
 * as an unbatched spool_enqueue would be. This is the "one fsync per request" ceiling that the
 * responder's group commit is compared with.
 *
 *     sqlite_commit DIR SECONDS [full|normal]
 *
 * Creates DIR/raw.db (DIR must exist, the file must not) and prints one line:
 *     BENCH ok=<commits> other=0 seconds=<elapsed> */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(sqlite3 *db, const char *what)
{
	fprintf(stderr, "sqlite_commit: %s: %s\n", what, db != NULL ? sqlite3_errmsg(db) : "?");
	exit(1);
}

static void exec(sqlite3 *db, const char *sql)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		die(db, sql);
}

int main(int argc, char **argv)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *begin, *ins, *commit;
	char path[4096], id[65];
	double t0, t1, limit;
	long n = 0;
	int normal;

	if (argc < 3 || argc > 4 ||
	    (argc == 4 && strcmp(argv[3], "full") != 0 && strcmp(argv[3], "normal") != 0)) {
		fprintf(stderr, "usage: sqlite_commit DIR SECONDS [full|normal]\n");
		return 2;
	}
	limit = atof(argv[2]);
	normal = argc == 4 && strcmp(argv[3], "normal") == 0;
	snprintf(path, sizeof(path), "%s/raw.db", argv[1]);
	if (sqlite3_open_v2(path, &db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK)
		die(db, path);
	exec(db, "PRAGMA journal_mode = WAL");
	exec(db, normal ? "PRAGMA synchronous = NORMAL" : "PRAGMA synchronous = FULL");
	exec(db, "PRAGMA foreign_keys = ON");
	exec(db,
	     "CREATE TABLE jobs ("
	     " id TEXT PRIMARY KEY NOT NULL, seq INTEGER NOT NULL UNIQUE,"
	     " job_name TEXT NOT NULL, factfile_path TEXT NOT NULL, factfile_args TEXT NOT NULL,"
	     " state TEXT NOT NULL, outcome TEXT NOT NULL, node TEXT NOT NULL,"
	     " created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL,"
	     " consul_index INTEGER NOT NULL DEFAULT 0);"
	     "CREATE INDEX jobs_state_seq ON jobs(state, seq);");
	if (sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &begin, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "COMMIT", -1, &commit, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(
		    db,
		    "INSERT INTO jobs (id, seq, job_name, factfile_path, "
		    "factfile_args, state, outcome, node, created_ms, updated_ms) VALUES "
		    "(?1, ?2, 'bench', '/srv/factfiles/echo.factfile', "
		    "'[\"--tag\",\"bench,x\"]', 'QUEUED', 'WAITING', 'factotum', ?3, ?3)",
		    -1, &ins, NULL) != SQLITE_OK)
		die(db, "prepare");

	t0 = now_s();
	do {
		/* a distinct 64-hex key per row, like a job id */
		snprintf(id, sizeof(id), "%064lx", (unsigned long)n * 2654435761UL);
		if (sqlite3_step(begin) != SQLITE_DONE)
			die(db, "begin");
		sqlite3_reset(begin);
		sqlite3_bind_text(ins, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 2, n + 1);
		sqlite3_bind_int64(ins, 3, (sqlite3_int64)(now_s() * 1000));
		if (sqlite3_step(ins) != SQLITE_DONE)
			die(db, "insert");
		sqlite3_reset(ins);
		if (sqlite3_step(commit) != SQLITE_DONE)
			die(db, "commit");
		sqlite3_reset(commit);
		n++;
		t1 = now_s();
	} while (t1 - t0 < limit);

	printf("BENCH ok=%ld other=0 seconds=%.3f\n", n, t1 - t0);
	sqlite3_finalize(begin);
	sqlite3_finalize(ins);
	sqlite3_finalize(commit);
	sqlite3_close(db);
	return 0;
}
