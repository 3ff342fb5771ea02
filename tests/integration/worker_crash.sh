# SPDX-License-Identifier: Apache-2.0
# The worker's restarts: a SIGTERM leaves runs to their supervisors; a kill -9 while jobs run
# and others wait loses nothing and runs nothing twice (every job appends to its own file);
# statuses written while no worker ran are recorded at the next start; a WORKING job whose
# supervisor is provably gone -- dead, or its pid now naming another process -- becomes FAILED
# with reason worker-lost when its go record says the runner may have started (its went mark
# names the run, or the record is of another boot or of none), and is queued again, in its
# place, when there is no record or one of this boot never marked; and only one worker runs per
# spool.
. "$FS_SRCDIR/tests/integration/worker_lib.sh"
fs_need_nginx

# once NAME: the job NAME ran exactly once, to its end.
once() {
	got=$(cat "$FS_TMP/ran.$1" 2>/dev/null | tr '\n' ' ')
	[ "$got" = "run end " ] || fs_fail "job $1 ran as: '$got'"
}
# one_outcome ID: exactly one run (WORKING) and one outcome (DONE) in the job's history.
one_outcome() {
	got=$(fs_sql "SELECT group_concat(state, ' ') FROM (SELECT state FROM transitions WHERE job_id='$1' ORDER BY tid)")
	[ "$got" = "QUEUED WORKING DONE" ] || fs_fail "history of $1: $got"
}
# go_record SLOT ID RUN: a go record naming run RUN of job ID in go slot SLOT (past the slots of
# --max-workers 2: no run of the worker writes there)
go_record() {
	printf 'run=%s\nid=%s\nseq=1\nsubmitted=1\n' "$3" "$2" >"$FS_SPOOL/runs/go/$1"
}
BOOT=$(cat /proc/sys/kernel/random/boot_id)
# go_slot SLOT ID RUN [WENT]: a slot as the worker and the supervisor write it in this boot: the
# record (with the boot) padded to 256 bytes, then the went mark naming run WENT, if given
go_slot() {
	{
		{
			printf 'run=%s\nid=%s\nseq=1\nsubmitted=1\nboot=%s\n' "$3" "$2" "$BOOT"
			yes '' | head -n 256
		} | head -c 256
		{
			[ -z "${4:-}" ] || printf 'went=%s\n' "$4"
			yes '' | head -n 256
		} | head -c 256
	} >"$FS_SPOOL/runs/go/$1"
}
# job NAME SECONDS: a factfile that records its start and end around a sleep.
job() {
	fs_factfile "$1" "echo run >>$FS_TMP/ran.$1; sleep $2; echo end >>$FS_TMP/ran.$1"
}

fs_start_responder
fs_start_nginx
fs_start_worker --max-workers 2

# ---- only one worker per spool ----
if "$FS_WORKER" --no-consul --spool "$FS_SPOOL" --factotum-bin "$FS_RUNNER" $FS_AS_ROOT \
	2>"$FS_TMP/second"; then
	fs_fail "a second worker started on the same spool"
fi
grep -qxF "factotum-server-worker: spool $FS_SPOOL: another worker holds this spool" "$FS_TMP/second" ||
	fs_fail "second worker: $(cat "$FS_TMP/second")"

# ---- SIGTERM: the worker exits 0, its run goes on and is recorded by the next worker ----
job L 1
fs_submit L "$FS_FF"
L=$FS_ID
wait_file "$FS_TMP/ran.L"
fs_stop_worker "$FS_WORKER_PID" TERM
[ "$FS_WORKER_STATUS" = 0 ] || fs_fail "worker SIGTERM exit $FS_WORKER_STATUS"
fs_check "$L"
[ "$FS_STATE" = WORKING ] || fs_fail "L after the worker stopped: $FS_BODY"
fs_start_worker --max-workers 2
fs_wait_state "$L" DONE && fs_expect_outcome "$L" SUCCEEDED 0 null null "run across a SIGTERM"
once L
one_outcome "$L"

# ---- kill -9 with two running and three queued ----
# the jobs hold until the new worker is up, so that J1 and J2 are still running when it looks
HOLD=$FS_TMP/hold
: >"$HOLD"
for i in 1 2 3 4 5; do
	fs_factfile "J$i" "echo run >>$FS_TMP/ran.J$i; while [ -e $HOLD ]; do sleep 0.05; done; echo end >>$FS_TMP/ran.J$i"
	fs_submit "J$i" "$FS_FF"
	echo "J$i $FS_ID" >>"$FS_TMP/jids"
done
wait_file "$FS_TMP/ran.J1"
wait_file "$FS_TMP/ran.J2"
fs_stop_worker "$FS_WORKER_PID" KILL
[ "$(fs_sql "SELECT group_concat(state, ' ') FROM (SELECT state FROM jobs WHERE job_name LIKE 'J%' ORDER BY seq)")" = "WORKING WORKING QUEUED QUEUED QUEUED" ] ||
	fs_fail "after kill -9: $(fs_sql "SELECT job_name, state FROM jobs ORDER BY seq")"
fs_expect_get /health 503 '{"message":"worker not running","spool":"ok","worker":"not running","consul":"disabled"}'
sleep 0.3
fs_start_worker --max-workers 2 --log-level info
rm -f "$HOLD"
while read -r name id; do
	fs_wait_state "$id" DONE 20 && fs_expect_outcome "$id" SUCCEEDED 0 null null "$name"
	once "$name"
	one_outcome "$id"
done <"$FS_TMP/jids"
# J1 and J2 were still running: taken back through their live supervisors
got=$(grep -c "re-adopted supervisor" "$FS_TMP/worker.log")
[ "$got" = 2 ] || fs_fail "$got supervisors re-adopted, expected 2"

# ---- outcomes while no worker runs; supervisors provably gone ----
job K1 1
fs_submit K1 "$FS_FF"
K1=$FS_ID
fs_factfile K2 "echo \$\$ >$FS_TMP/k2.pid; exec sleep 30"
fs_submit K2 "$FS_FF"
K2=$FS_ID
wait_file "$FS_TMP/ran.K1"
wait_file "$FS_TMP/k2.pid"
fs_stop_worker "$FS_WORKER_PID" KILL
# K2's supervisor dies too, without a status; its runner and task are ended by hand
kill_run "$K2" "$FS_TMP/k2.pid"
# K1 ends while no worker runs: its status waits in the spool's runs directory
wait_file "$FS_SPOOL/runs/$K1.status"
fs_check "$K1"
[ "$FS_STATE" = WORKING ] || fs_fail "K1 recorded with no worker: $FS_BODY"
# F: WORKING with a pid file naming a live process (this shell) that is not its supervisor --
# a reused pid, told apart by its start time
job F 0
fs_submit F "$FS_FF"
F=$FS_ID
fs_sql "UPDATE jobs SET state='WORKING', outcome='RUNNING', started_ms=12345 WHERE id='$F'"
printf 'run=12345\npid=%s\nstart=1\n' $$ >"$FS_SPOOL/runs/$F.pid"
go_record 5 "$F" 12345
# R: the same without a go record (its runner never started), and Q queued after it: R is
# queued again in its place and claimed before Q; a go record of another run does not count
job R 0
fs_submit R "$FS_FF"
R=$FS_ID
job Q 0
fs_submit Q "$FS_FF"
Q=$FS_ID
rseq=$(fs_sql "SELECT seq FROM jobs WHERE id='$R'")
fs_sql "UPDATE jobs SET state='WORKING', outcome='RUNNING', started_ms=12346 WHERE id='$R'"
printf 'run=12346\npid=%s\nstart=1\n' $$ >"$FS_SPOOL/runs/$R.pid"
go_record 6 "$R" 12345
# N: a go record of this boot its supervisor never marked (the worker died between the record
# and the go byte): queued again, runs once; M: the same record marked: worker-lost, never run
job N 0
fs_submit N "$FS_FF"
N=$FS_ID
fs_sql "UPDATE jobs SET state='WORKING', outcome='RUNNING', started_ms=12351 WHERE id='$N'"
go_slot 4 "$N" 12351 12350
job M 0
fs_submit M "$FS_FF"
M=$FS_ID
fs_sql "UPDATE jobs SET state='WORKING', outcome='RUNNING', started_ms=12352 WHERE id='$M'"
go_slot 3 "$M" 12352 12352
# C: no go record either, but its cancel was asked for meanwhile: cancelled, never run
job C 0
fs_submit C "$FS_FF"
C=$FS_ID
fs_sql "UPDATE jobs SET state='WORKING', outcome='RUNNING', started_ms=12347 WHERE id='$C'"
fs_sql "INSERT INTO settings(key, value) VALUES ('cancel.$C', '12348')"
fs_start_worker --max-workers 2 --log-level info
fs_check "$K1"
fs_expect_outcome "$K1" SUCCEEDED 0 null null "ended while no worker ran"
once K1
fs_check "$K2"
fs_expect_outcome "$K2" FAILED null null worker-lost "supervisor gone"
fs_check "$F"
fs_expect_outcome "$F" FAILED null null worker-lost "pid reused"
[ ! -e "$FS_TMP/ran.F" ] || fs_fail "F ran"
fs_wait_state "$R" DONE && fs_expect_outcome "$R" SUCCEEDED 0 null null "queued again"
once R
fs_wait_state "$Q" DONE && fs_expect_outcome "$Q" SUCCEEDED 0 null null "queued after R"
fs_wait_state "$N" DONE && fs_expect_outcome "$N" SUCCEEDED 0 null null "never marked"
once N
fs_check "$M"
fs_expect_outcome "$M" FAILED null null worker-lost "marked as gone"
[ ! -e "$FS_TMP/ran.M" ] || fs_fail "M ran"
# N's record no longer names the run that never began
! grep -q "^run=12351$" "$FS_SPOOL/runs/go/4" || fs_fail "N's go record: $(head -c 256 "$FS_SPOOL/runs/go/4")"
fs_check "$C"
fs_expect_outcome "$C" FAILED null null cancelled "cancelled before its run started"
[ ! -e "$FS_TMP/ran.C" ] || fs_fail "C ran"
[ -z "$(fs_sql "SELECT key FROM settings WHERE key='cancel.$C'")" ] || fs_fail "C's cancel request left"
[ "$(fs_sql "SELECT seq FROM jobs WHERE id='$R'")" = "$rseq" ] || fs_fail "R lost its place"
got=$(fs_sql "SELECT group_concat(state, ' ') FROM (SELECT state FROM transitions WHERE job_id='$R' ORDER BY tid)")
[ "$got" = "QUEUED WORKING DONE" ] || fs_fail "history of R: $got"
first=$(fs_sql "SELECT job_id FROM transitions WHERE job_id IN ('$R', '$Q') AND state='WORKING' ORDER BY tid LIMIT 1")
[ "$first" = "$R" ] || fs_fail "Q was claimed before R"
grep -q "job $R: its runner never started: queued again" "$FS_TMP/worker.log" ||
	fs_fail "the worker did not say R was queued again"
kill -0 $$ || fs_fail "the worker signalled a process it does not own"
ls "$FS_SPOOL/runs/"*.pid "$FS_SPOOL/runs/"*.status >/dev/null 2>&1 &&
	fs_fail "run files left: $(ls "$FS_SPOOL/runs")"

fs_stop_worker "$FS_WORKER_PID"
[ "$FS_WORKER_STATUS" = 0 ] || fs_fail "worker SIGTERM exit $FS_WORKER_STATUS"
fs_done
