# SPDX-License-Identifier: Apache-2.0
# The worker's fault points, each with its promised outcome (doc/architecture.md, "Fault
# injection"): a job is run at most once, and is never FAILED when its runner never started.
#   worker.before-go        the worker dies after the claim and the run's go record, before the go
#                           byte: after its restart the job runs once, in its place in the queue,
#                           and SUCCEEDS
#   supervisor.after-go     the supervisor dies before its went mark: the job is queued again
#                           (here the worker then dies at its next go byte, worker.before-go@2,
#                           so the rest happens after a restart); it runs once and SUCCEEDS
#   supervisor.before-exec  the supervisor dies with its went mark written: FAILED
#                           supervisor-lost, never run
#   worker.before-outcome   the worker dies with the status on disk: after its restart the true
#                           outcome is recorded, the job ran once
# Every task appends a line to its own file: how many times it really ran.
#
# Needs a build configured with --enable-fault-injection (FS_BUILDDIR); exits 77 when the
# worker there has no fault points. Short form by default (one round of each point); with
# FS_RELIABILITY=full, FS_FAULT_ROUNDS rounds (default 10). Prints its figures as
# "figure: fault_worker.<what> N".
#   FS_SRCDIR=. FS_BUILDDIR=build-fault FS_TESTDATA=tests/data sh tests/reliability/fault_worker.sh
. "$FS_SRCDIR/tests/integration/worker_lib.sh"
. "$FS_SRCDIR/tests/reliability/rel_lib.sh"

rel_need_seam worker/factotum-server-worker

ROUNDS=1
[ "${FS_RELIABILITY:-}" != full ] || ROUNDS=${FS_FAULT_ROUNDS:-10}
RAN_TWICE=0
FAILED_FOR_NOTHING=0

# start_worker FAULTS: a worker with FS_FAULT=FAULTS ("" for none).
start_worker() {
	FS_FAULT=$1
	export FS_FAULT
	fs_start_worker --max-workers 1 --log-level info
	unset FS_FAULT
}

# worker_died: waits for the worker to die of its fault (SIGKILL), and for the supervisor it
# abandoned to let go of the spool's lock.
worker_died() {
	n=0
	while kill -0 "$FS_WORKER_PID" 2>/dev/null && [ $n -lt 400 ]; do
		n=$((n + 1))
		sleep 0.05
	done
	kill -0 "$FS_WORKER_PID" 2>/dev/null && kill -TERM "$FS_WORKER_PID"
	wait "$FS_WORKER_PID"
	st=$?
	FS_WORKER_PIDS=$(fs_pids_without "$FS_WORKER_PIDS" "$FS_WORKER_PID")
	[ "$st" = 137 ] || fs_fail "the worker exited $st, not by its fault"
	n=0
	while fuser "$FS_SPOOL/worker.lock" >/dev/null 2>&1 && [ $n -lt 200 ]; do
		n=$((n + 1))
		sleep 0.05
	done
}

# job NAME: a factfile whose task appends to $FS_TMP/ran.NAME; submitted, its id in FS_ID.
job() {
	fs_factfile "$1" "echo run >>$FS_TMP/ran.$1"
	fs_submit "$1" "$FS_FF"
}

# runs NAME COUNT WHAT: the task of NAME ran COUNT times.
runs() {
	got=$(cat "$FS_TMP/ran.$1" 2>/dev/null | wc -l)
	[ "$got" -le 1 ] || RAN_TWICE=$((RAN_TWICE + 1))
	[ "$got" = "$2" ] || fs_fail "$3: $1 ran $got times, expected $2"
}

# history ID STATES WHAT: the job's transitions, oldest first.
history() {
	got=$(fs_sql "SELECT group_concat(state, ' ') FROM (SELECT state FROM transitions WHERE job_id='$1' ORDER BY tid)")
	[ "$got" = "$2" ] || fs_fail "$3: history $got, expected $2"
}

# succeeded ID WHAT: DONE/SUCCEEDED exit 0; a FAILED one whose task never ran is counted.
succeeded() {
	fs_wait_state "$1" DONE 20
	[ "$FS_OUTCOME" = FAILED ] && FAILED_FOR_NOTHING=$((FAILED_FOR_NOTHING + 1))
	fs_expect_outcome "$1" SUCCEEDED 0 null null "$2"
}

fs_start_responder
fs_start_nginx

r=1
while [ "$r" -le "$ROUNDS" ]; do
	# ---- worker.before-go: A and then B queued; A's claim dies before its go byte ----
	start_worker worker.before-go=kill
	job "A$r"
	A=$FS_ID
	worker_died
	job "B$r"
	B=$FS_ID
	fs_check "$A"
	[ "$FS_STATE" = WORKING ] || fs_fail "before-go: A after the kill: $FS_BODY"
	tok=$(fs_sql "SELECT started_ms FROM jobs WHERE id='$A'")
	# the run's go record was written, and no went mark names the run: its supervisor never
	# had the go byte
	recs=0
	for f in "$FS_SPOOL"/runs/go/*; do
		grep -qx "id=$A" "$f" && grep -qx "run=$tok" "$f" || continue
		recs=$((recs + 1))
		! grep -qx "went=$tok" "$f" || fs_fail "before-go: a went mark without a go byte"
	done
	[ "$recs" = 1 ] || fs_fail "before-go: $recs go records of A's run"
	start_worker ""
	succeeded "$A" "before-go: A"
	succeeded "$B" "before-go: B"
	runs "A$r" 1 before-go
	runs "B$r" 1 before-go
	history "$A" "QUEUED WORKING QUEUED WORKING DONE" before-go
	first=$(fs_sql "SELECT job_id FROM transitions WHERE job_id IN ('$A', '$B') AND state='WORKING' ORDER BY tid DESC LIMIT 2" | tail -n 1)
	[ "$first" = "$A" ] || fs_fail "before-go: B was claimed before A, queued again"
	fs_stop_worker "$FS_WORKER_PID"

	# ---- supervisor.after-go: the supervisor dies before its went mark ----
	start_worker supervisor.after-go=kill,worker.before-go=kill@2
	job "S$r"
	S=$FS_ID
	worker_died
	grep -q "fault: supervisor.after-go: kill" "$FS_TMP/worker.log" ||
		fs_fail "after-go: the fault did not fire"
	start_worker ""
	succeeded "$S" after-go
	runs "S$r" 1 after-go
	history "$S" "QUEUED WORKING QUEUED WORKING QUEUED WORKING DONE" after-go
	fs_stop_worker "$FS_WORKER_PID"

	# ---- supervisor.before-exec: the went mark is written, the runner never starts ----
	start_worker supervisor.before-exec=kill
	job "E$r"
	E=$FS_ID
	fs_wait_state "$E" DONE 20
	fs_expect_outcome "$E" FAILED null null supervisor-lost before-exec
	runs "E$r" 0 before-exec
	fs_stop_worker "$FS_WORKER_PID"

	# ---- worker.before-outcome: the status is on disk, the outcome not yet recorded ----
	start_worker worker.before-outcome=kill
	job "O$r"
	O=$FS_ID
	worker_died
	fs_check "$O"
	[ "$FS_STATE" = WORKING ] || fs_fail "before-outcome: after the kill: $FS_BODY"
	[ -s "$FS_SPOOL/runs/$O.status" ] || fs_fail "before-outcome: no status file"
	start_worker ""
	succeeded "$O" before-outcome
	runs "O$r" 1 before-outcome
	history "$O" "QUEUED WORKING DONE" before-outcome
	fs_stop_worker "$FS_WORKER_PID"
	r=$((r + 1))
done

ls "$FS_SPOOL/runs/"*.pid "$FS_SPOOL/runs/"*.status >/dev/null 2>&1 &&
	fs_fail "run files left: $(ls "$FS_SPOOL/runs")"
echo "figure: fault_worker.rounds $ROUNDS"
echo "figure: fault_worker.jobs $((ROUNDS * 5))"
echo "figure: fault_worker.ran_twice $RAN_TWICE"
echo "figure: fault_worker.failed_never_run $FAILED_FOR_NOTHING"
fs_done
