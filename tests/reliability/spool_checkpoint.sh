#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The fault point spool.checkpoint (POSIX sh; tests/reliability/README; needs the fault-injection
# seam, else 77): a process killed in a checkpoint loses nothing, and a checkpoint that fails is
# logged and done by the next one.
#   - the responder, killed (SIGKILL) in its checkpoint at stop, JOBS jobs only in the WAL: the
#     next responder finds them all QUEUED;
#   - side by side on two copies of that spool, a worker killed in its first periodic checkpoint
#     (SPOOL_CHECKPOINT_MS, 30 s, after its start) once it has run the jobs, and a worker whose
#     first checkpoint fails with EIO: the first's successor finds every job DONE/SUCCEEDED, run
#     once; the second logs the failure, and its next checkpoint (30 s later) copies the jobs'
#     outcomes into spool.db.
# Short form: one round of JOBS=20 jobs (about 70 s); FS_RELIABILITY=full: ROUNDS=10. Figures:
# spool_checkpoint.rounds, spool_checkpoint.jobs, spool_checkpoint.lost (0),
# spool_checkpoint.ran_twice (0).
. "$FS_SRCDIR/tests/integration/worker_lib.sh"
. "$FS_SRCDIR/tests/reliability/rel_lib.sh"

rel_need_seam fcgi/factotum-server-fcgi worker/factotum-server-worker

JOBS=20
ROUNDS=1
rel_full && ROUNDS=10
LOST=0
TWICE=0

# db_only SPOOL SQL: SQL on SPOOL's spool.db alone, as it is on the disk without its WAL.
db_only() {
	sqlite3 "file:$1/spool.db?immutable=1" "$2"
}

# sql SPOOL SQL: SQL on SPOOL's database (with its WAL).
sql() {
	sqlite3 -cmd '.timeout 5000' "$1/spool.db" "$2"
}

# worker_on SPOOL LOG: a worker on SPOOL, stderr to LOG, in the background; its pid in WPID.
worker_on() {
	"$FS_WORKER" --no-consul --spool "$1" --factotum-bin "$FS_RUNNER" $FS_AS_ROOT \
		--max-workers 4 2>>"$2" &
	WPID=$!
	FS_WORKER_PIDS="$FS_WORKER_PIDS $WPID"
}

gone() {
	! kill -0 "$1" 2>/dev/null
}

# all_done SPOOL READER: READER (sql or db_only) sees every job of the round DONE.
all_done() {
	[ "$($2 "$1" "SELECT count(*) FROM jobs WHERE state = 'DONE' AND job_name LIKE 'c%'")" = \
		"$JOBS" ]
}

fs_factfile ok "true"
FF_OK=$FS_FF
fs_start_nginx
round=1
while [ $round -le $ROUNDS ] && [ "$FS_FAILS" -eq 0 ]; do
	A=$FS_TMP/a$round
	B=$FS_TMP/b$round
	mkdir -p "$A" "$B"
	FS_SPOOL=$A
	# ---- the responder killed in its checkpoint at stop ----
	# the schema in spool.db first: then only the jobs are in the WAL
	fs_start_responder
	fs_stop_responder "$FS_RESP_PID"
	FS_FAULT=spool.checkpoint=kill
	export FS_FAULT
	fs_start_responder
	unset FS_FAULT
	i=1
	while [ $i -le $JOBS ]; do
		fs_submit "c$round-$i" "$FF_OK" '["--tag","c'$round-$i'"]'
		i=$((i + 1))
	done
	kill -TERM "$FS_RESP_PID"
	wait "$FS_RESP_PID"
	rc=$?
	FS_RESP_PIDS=$(fs_pids_without "$FS_RESP_PIDS" "$FS_RESP_PID")
	[ $rc = 137 ] || fs_fail "round $round: the responder exited $rc, not killed in its checkpoint"
	n=$(db_only "$A" "SELECT count(*) FROM jobs")
	[ "$n" = 0 ] || fs_fail "round $round: $n jobs in spool.db before the WAL's recovery"
	fs_start_responder
	n=$(fs_count QUEUED)
	[ "$n" = $JOBS ] || fs_fail "round $round: $n of $JOBS jobs queued after the kill"
	LOST=$((LOST + JOBS - n))
	fs_stop_responder "$FS_RESP_PID"
	[ "$FS_RESP_STATUS" = 0 ] || fs_fail "round $round: the responder exited $FS_RESP_STATUS"

	# ---- two workers: killed in a checkpoint (A), a checkpoint failing with EIO (B) ----
	cp "$A/spool.db" "$A/spool.db-mark" "$B/"
	[ ! -e "$A/spool.db-wal" ] || cp "$A/spool.db-wal" "$B/"
	FS_FAULT=spool.checkpoint=kill
	export FS_FAULT
	worker_on "$A" "$FS_TMP/worker-a.log"
	WA=$WPID
	FS_FAULT=spool.checkpoint=eio
	worker_on "$B" "$FS_TMP/worker-b.log"
	WB=$WPID
	unset FS_FAULT
	rel_until 20 all_done "$A" sql || fs_fail "round $round: worker A did not run the jobs"
	rel_until 20 all_done "$B" sql || fs_fail "round $round: worker B did not run the jobs"
	all_done "$A" db_only && fs_fail "round $round: A's outcomes in spool.db before a checkpoint"
	rel_until 45 gone "$WA" || fs_fail "round $round: worker A not killed in its checkpoint"
	wait "$WA"
	rc=$?
	FS_WORKER_PIDS=$(fs_pids_without "$FS_WORKER_PIDS" "$WA")
	[ $rc = 137 ] || fs_fail "round $round: worker A exited $rc"
	grep -qxF "fault: spool.checkpoint: kill" "$FS_TMP/worker-a.log" ||
		fs_fail "round $round: no fault line from worker A"
	all_done "$A" db_only && fs_fail "round $round: A's checkpoint ran before the kill"
	FS_SPOOL=$A
	fs_start_worker
	n=$(sql "$A" "SELECT count(*) FROM jobs WHERE job_name LIKE 'c%' AND state = 'DONE'
		AND outcome = 'SUCCEEDED'")
	[ "$n" = $JOBS ] || fs_fail "round $round: $n of $JOBS jobs DONE/SUCCEEDED on A"
	LOST=$((LOST + JOBS - n))
	n=$(sql "$A" "SELECT count(*) FROM transitions WHERE state = 'WORKING'")
	[ "$n" -le $JOBS ] || fs_fail "round $round: $n runs of $JOBS jobs on A"
	TWICE=$((TWICE + n - JOBS))
	fs_stop_worker "$FS_WORKER_PID"

	# B: the failure is logged, the next checkpoint copies the outcomes into spool.db
	rel_until 45 grep -qF "spool: checkpoint $B/spool.db: Input/output error" \
		"$FS_TMP/worker-b.log" || fs_fail "round $round: worker B logged no failed checkpoint"
	all_done "$B" db_only && fs_fail "round $round: B's outcomes in spool.db after a failure"
	rel_until 45 all_done "$B" db_only ||
		fs_fail "round $round: worker B's next checkpoint did not copy the outcomes"
	fs_stop_worker "$WB"
	[ "$FS_WORKER_STATUS" = 0 ] || fs_fail "round $round: worker B exited $FS_WORKER_STATUS"
	n=$(sql "$B" "SELECT count(*) FROM transitions WHERE state = 'WORKING'")
	TWICE=$((TWICE + n - JOBS))
	[ "$FS_FAILS" -eq 0 ] && round=$((round + 1))
done
rel_figure spool_checkpoint.rounds $((round - 1))
rel_figure spool_checkpoint.jobs $(((round - 1) * JOBS))
rel_figure spool_checkpoint.lost "$LOST"
rel_figure spool_checkpoint.ran_twice "$TWICE"
fs_done
