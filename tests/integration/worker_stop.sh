# SPDX-License-Identifier: Apache-2.0
# Stopping runs: POST /cancel of a QUEUED job (it never runs) and of a WORKING one (SIGTERM to
# its runner, reason cancelled), --job-timeout (reason timeout), and a run whose task ignores
# SIGTERM: killed after the grace period with everything in the runner's session.
. "$FS_SRCDIR/tests/integration/worker_lib.sh"
fs_need_nginx

# our grace period is short (worker_lib.sh); the runner's own (it SIGKILLs its tasks too) is long,
# so that only the supervisor's SIGKILL can end the SIGTERM-proof task in time (passed to the
# runner with --pass-env: nothing else of the worker's environment reaches it)
FACTOTUM_KILL_GRACE_MS=60000
export FACTOTUM_KILL_GRACE_MS

# gone PID WHAT: the process has ended (a zombie not yet reaped by init counts as ended).
gone() {
	n=0
	while kill -0 "$1" 2>/dev/null; do
		st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
		[ "$st" = Z ] && return 0
		n=$((n + 1))
		[ $n -lt 40 ] || { fs_fail "$2 (pid $1) still runs"; return 1; }
		sleep 0.05
	done
}
# secs_since MS: whole seconds from MS (epoch milliseconds) to now.
secs_since() {
	echo $(( ( $(date +%s%3N) - $1 ) / 1000 ))
}

fs_start_responder
fs_start_nginx
fs_start_worker --max-workers 1 --job-timeout 4 --pass-env FACTOTUM_KILL_GRACE_MS

# ---- a running job, and one queued behind it (--max-workers 1) ----
fs_factfile runA "echo \$\$ >$FS_TMP/a.pid; exec sleep 30"
fs_submit A "$FS_FF"
A=$FS_ID
wait_file "$FS_TMP/a.pid"
fs_factfile queuedB "echo ran >$FS_TMP/b.ran"
fs_submit B "$FS_FF"
B=$FS_ID
fs_check "$B"
[ "$FS_STATE" = QUEUED ] || fs_fail "B should wait behind A: $FS_BODY"
fs_expect_post /cancel '{"id":"'"$B"'"}' 200 '{"message":"Cancelled QUEUED job jobId:['"$B"']","jobId":"'"$B"'"}'
fs_check "$B"
fs_expect_outcome "$B" FAILED null null cancelled "cancelled while queued"

# cancel of the running one: the worker is woken and its supervisor stops the runner
t0=$(date +%s%3N)
fs_expect_post /cancel '{"id":"'"$A"'"}' 202 '{"message":"Cancel requested for WORKING job jobId:['"$A"']: the worker will stop its run","jobId":"'"$A"'"}'
fs_wait_state "$A" DONE 10
# the runner exits 2 after a shutdown signal, as Factotum does: the reason says why
fs_expect_outcome "$A" FAILED 2 null cancelled "cancelled while running"
[ "$(secs_since "$t0")" -lt 3 ] || fs_fail "cancel took $(secs_since "$t0") s"
gone "$(cat "$FS_TMP/a.pid")" "the cancelled job's task"
[ "$(fs_sql "SELECT count(*) FROM settings WHERE key LIKE 'cancel.%'")" = 0 ] ||
	fs_fail "cancel request not cleared"
[ ! -e "$FS_TMP/b.ran" ] || fs_fail "the cancelled QUEUED job ran"
# a cancel of a DONE job changes nothing
fs_expect_post /cancel '{"id":"'"$A"'"}' 409 '{"message":"Job jobId:['"$A"'] is already DONE (outcome FAILED): nothing to cancel","jobId":"'"$A"'"}'

# ---- --job-timeout 4 ----
fs_factfile runC "exec sleep 30"
fs_submit C "$FS_FF"
C=$FS_ID
t0=$(date +%s%3N)
fs_wait_state "$C" DONE 15
fs_expect_outcome "$C" FAILED 2 null timeout "timed out"
took=$(secs_since "$t0")
{ [ "$took" -ge 3 ] && [ "$took" -le 7 ]; } || fs_fail "timeout of 4 s took $took s"

# ---- a task that ignores SIGTERM: SIGKILL after the grace period, session-wide ----
fs_factfile stubbornD "trap '' TERM; echo \$\$ >$FS_TMP/d.pid; sleep 30; echo survived >$FS_TMP/d.out"
fs_submit D "$FS_FF"
D=$FS_ID
wait_file "$FS_TMP/d.pid"
t0=$(date +%s%3N)
fs_expect_post /cancel '{"id":"'"$D"'"}' 202 '{"message":"Cancel requested for WORKING job jobId:['"$D"']: the worker will stop its run","jobId":"'"$D"'"}'
fs_wait_state "$D" DONE 10
# the runner waited for its task and was killed: signal 9
fs_expect_outcome "$D" FAILED null 9 cancelled "SIGTERM ignored"
took=$(secs_since "$t0")
[ "$took" -lt 4 ] || fs_fail "the SIGTERM-proof run took $took s to stop"
gone "$(cat "$FS_TMP/d.pid")" "the SIGTERM-proof task"
fs_req GET "/logs?id=$D"
printf '%s' "$FS_BODY" | grep -qF "Received shutdown signal" ||
	fs_fail "the runner's shutdown is not in the log: $FS_BODY"
[ ! -e "$FS_TMP/d.out" ] || fs_fail "the SIGTERM-proof task finished"

# the queue moved on after all that: a quick job still runs
fs_submit E "$FS_TESTDATA/samples/echo.factfile"
fs_wait_state "$FS_ID" DONE && fs_expect_outcome "$FS_ID" SUCCEEDED 0 null null "after the stops"

fs_stop_worker "$FS_WORKER_PID"
[ "$FS_WORKER_STATUS" = 0 ] || fs_fail "worker SIGTERM exit $FS_WORKER_STATUS"
fs_done
