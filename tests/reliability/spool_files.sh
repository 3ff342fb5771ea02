#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The spool's files against deletion and damage (POSIX sh; tests/reliability/README):
#   - two workers: every file of the spool that is not the database deleted under a running
#     worker (its socket, the reserve, the commit mark, a worker.lock of an older version), a
#     second worker refuses, naming the spool; the first goes on running jobs;
#   - a lost WAL: jobs committed only in spool.db-wal, the responder and the worker killed
#     (SIGKILL), spool.db-wal deleted: both refuse to start with the one-line message naming
#     spool.db, spool.db-wal and spool.db-mark; removing the mark, as the message says, accepts
#     the loss;
#   - a damaged spool.db (overwritten with garbage, truncated, emptied, not a database): both
#     refuse, naming it, and exit 1 (no crash, no new empty spool).
# Each lost-WAL round loses JOBS=30 jobs with the WAL, submitted within the 30 s between two
# checkpoints (and well below the 1000 WAL pages that start one sooner); the short form runs one
# round, FS_RELIABILITY=full ROUNDS=20. Figures: spool_files.wal_rounds, spool_files.wal_jobs_lost (the
# jobs that were only in the WAL: each refused round found them missing), spool_files.refusals.
. "$FS_SRCDIR/tests/integration/worker_lib.sh"
. "$FS_SRCDIR/tests/reliability/rel_lib.sh"

JOBS=30
ROUNDS=1
rel_full && ROUNDS=20
REFUSALS=0
DB=$FS_SPOOL/spool.db

# refuses PROGRAM LINE [WHAT]: PROGRAM (fcgi or worker) started on $FS_SPOOL exits 1 within 30 s
# with exactly LINE on stderr.
refuses() {
	if [ "$1" = fcgi ]; then
		set -- "$2" "${3:-}" "$FS_FCGI" --fcgi-socket "$FS_TMP/run/refused.sock"
	else
		set -- "$2" "${3:-}" "$FS_WORKER"
	fi
	_r_line=$1 _r_what=$2
	shift 2
	timeout 30 "$@" --no-consul --spool "$FS_SPOOL" --factotum-bin "$FS_RUNNER" $FS_AS_ROOT \
		2>"$FS_TMP/refused"
	_r_rc=$?
	if [ $_r_rc -ne 1 ] || [ "$(cat "$FS_TMP/refused")" != "$_r_line" ]; then
		fs_fail "$_r_what: $(basename "$1") exit $_r_rc, expected 1 and: $_r_line"
		echo "       got: $(cat "$FS_TMP/refused")"
		return 1
	fi
	REFUSALS=$((REFUSALS + 1))
}

# lost_line SEQ MARK: the refusal of a spool.db at commit sequence SEQ whose mark says MARK.
lost_line() {
	echo "spool: open $DB: committed work is missing (commit sequence $1, $DB-mark says $2):" \
		"$DB-wal or $DB was deleted, damaged or replaced; restore the spool from a backup," \
		"or remove $DB-mark to accept the loss"
}

# mark_now: the sequence in the commit mark.
mark_now() {
	sed 's/^0*\([0-9]\)/\1/' "$DB-mark"
}

# db_only SQL: SQL on spool.db alone, as it is on the disk without its WAL.
db_only() {
	sqlite3 "file:$DB?immutable=1" "$1"
}

fs_factfile ok "true"
FF_OK=$FS_FF

# ---- two workers, every file that is not the database deleted ----
: >"$FS_SPOOL/worker.lock"
fs_start_responder
fs_start_nginx
fs_start_worker
[ -e "$FS_SPOOL/worker.lock" ] && fs_fail "a worker.lock of an older version is still there"
fs_submit first "$FF_OK" '["--tag","first"]'
fs_wait_state "$FS_ID" DONE && fs_expect_outcome "$FS_ID" SUCCEEDED 0 null null "first job"
for f in "$FS_SPOOL"/* "$FS_SPOOL"/.[!.]*; do
	[ -d "$f" ] && continue
	case ${f##*/} in
	spool.db | spool.db-wal | spool.db-shm) ;;
	*) rm -f "$f" ;;
	esac
done
refuses worker "factotum-server-worker: spool $FS_SPOOL: another worker holds this spool" \
	"a second worker"
kill -0 "$FS_WORKER_PID" 2>/dev/null || fs_fail "the first worker died"
# its socket is gone: the slow poll finds the job
fs_submit second "$FF_OK" '["--tag","second"]'
fs_wait_state "$FS_ID" DONE 30 && fs_expect_outcome "$FS_ID" SUCCEEDED 0 null null "second job"
fs_stop_worker "$FS_WORKER_PID"
[ "$FS_WORKER_STATUS" = 0 ] || fs_fail "the first worker exited $FS_WORKER_STATUS"

# ---- a lost WAL ----
fs_factfile slow "sleep 60"
FF_SLOW=$FS_FF
round=1
lost=0
while [ $round -le $ROUNDS ] && [ "$FS_FAILS" -eq 0 ]; do
	# a checkpoint leaves spool.db complete: what follows is only in the WAL
	fs_stop_responder "$FS_RESP_PID"
	fs_start_responder
	fs_start_worker --max-workers 1
	fs_submit "running-$round" "$FF_SLOW" '["--tag","running-'$round'"]'
	fs_wait_state "$FS_ID" WORKING
	i=1
	while [ $i -le "$JOBS" ]; do
		fs_submit "w$round-$i" "$FF_SLOW" '["--tag","w'$round-$i'"]'
		i=$((i + 1))
	done
	[ "$(fs_count QUEUED)" = "$JOBS" ] || fs_fail "round $round: $(fs_count QUEUED) queued"
	inwal=$(db_only "SELECT count(*) FROM jobs WHERE job_name LIKE 'w$round-%'")
	[ "$inwal" = 0 ] ||
		fs_fail "round $round: $inwal of the jobs already in spool.db (a checkpoint ran)"
	mark=$(mark_now)
	kill -KILL "$FS_RESP_PID" "$FS_WORKER_PID"
	wait "$FS_RESP_PID" "$FS_WORKER_PID" 2>/dev/null
	FS_RESP_PIDS=$(fs_pids_without "$FS_RESP_PIDS" "$FS_RESP_PID")
	FS_WORKER_PIDS=$(fs_pids_without "$FS_WORKER_PIDS" "$FS_WORKER_PID")
	fs_stop_supervisors
	rm "$DB-wal"
	seq=$(db_only "SELECT n FROM commit_seq")
	[ "$seq" -lt "$mark" ] || fs_fail "round $round: sequence $seq, mark $mark"
	cp "$DB" "$FS_TMP/lost.db"
	refuses fcgi "factotum-server-fcgi: $(lost_line "$seq" "$mark")" "round $round: responder"
	refuses worker "factotum-server-worker: $(lost_line "$seq" "$mark")" \
		"round $round: worker"
	cmp -s "$DB" "$FS_TMP/lost.db" || fs_fail "round $round: a refusal changed spool.db"
	lost=$((lost + JOBS))
	# the message's way out: without the mark the node starts, the jobs are gone
	rm "$DB-mark"
	fs_start_responder
	n=$(fs_count QUEUED)
	[ "$n" = 0 ] || fs_fail "round $round: $n jobs queued after the loss was accepted"
	round=$((round + 1))
done
rel_figure spool_files.wal_rounds $((round - 1))
rel_figure spool_files.wal_jobs_lost "$lost"
fs_stop_responder "$FS_RESP_PID"

# ---- a damaged spool.db ----
# many rows, so that a truncation cuts through pages in use
sqlite3 "$DB" "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 3000)
	INSERT INTO jobs(id, seq, job_name, factfile_path, factfile_args, state, outcome, node,
	created_ms, updated_ms) SELECT printf('%064x', i), 100000 + i, 'filler', '/f', '[]',
	'DONE', 'SUCCEEDED', 'n', i, i FROM c; PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null ||
	fs_fail "cannot fill the spool"
cp "$DB" "$FS_TMP/good.db"
size=$(wc -c <"$DB")
mark=$(mark_now)
damaged="(the file is damaged: restore the spool from a backup)"
for how in garbage truncated text emptied; do
	rm -f "$DB-wal" "$DB-shm"
	case $how in
	garbage) head -c "$size" /dev/urandom >"$DB" ;;
	truncated) cp "$FS_TMP/good.db" "$DB" && truncate -s $((size / 2)) "$DB" ;;
	text) echo "this is not a database" >"$DB" ;;
	emptied) : >"$DB" ;;
	esac
	case $how in
	truncated) line="spool: open $DB: database disk image is malformed $damaged" ;;
	emptied) line=$(lost_line 0 "$mark") ;;
	*) line="spool: open $DB: file is not a database $damaged" ;;
	esac
	cp "$DB" "$FS_TMP/damaged.db"
	refuses fcgi "factotum-server-fcgi: $line" "$how spool.db: responder"
	refuses worker "factotum-server-worker: $line" "$how spool.db: worker"
	cmp -s "$DB" "$FS_TMP/damaged.db" || fs_fail "$how spool.db: changed by a refusal"
done
rel_figure spool_files.refusals "$REFUSALS"
fs_done
