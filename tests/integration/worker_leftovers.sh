# SPDX-License-Identifier: Apache-2.0
# A run leaves nothing behind: a task that starts a double-forked `setsid` process and exits,
# one cancelled and one timed out while such a process runs -- once each job is DONE, no process
# of the run is left (found by a marker in its command line). As root the runs are factotum-run;
# as anyone else, the worker's own user.
. "$FS_SRCDIR/tests/integration/worker_lib.sh"
fs_need_nginx

MARK=fs-left-$$
# alive TAG: the left-behind shell of TAG, or its sleep, still runs (zombies do not count)
alive() {
	for p in $(pgrep -f "$MARK-$1"; pgrep -fx "sleep 100$2"); do
		st=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | cut -c1)
		[ -n "$st" ] && [ "$st" != Z ] && return 0
	done
	return 1
}
# gone_within TAG N WHAT: no process of TAG after at most N * 0.05 s (the supervisor has
# written the status once it has swept: this allows only for the last reaping)
gone_within() {
	n=0
	while alive "$1" "$2"; do
		n=$((n + 1))
		if [ $n -ge 20 ]; then
			fs_fail "$3: a process was left behind: $(pgrep -af "$MARK-$1")"
			return 1
		fi
		sleep 0.05
	done
}
# bg TAG N: the background -- a subshell that starts `setsid sh -c '...'` and exits at once (the
# double fork); the shell in its own session waits on `sleep 100N`; its output goes elsewhere
# (the runner waits for a task's output to end)
bg() {
	echo "(setsid sh -c 'sleep 100$2; : $MARK-$1' >/dev/null 2>&1 &)"
}

fs_start_responder
fs_start_nginx
fs_start_worker --max-workers 3 --job-timeout 6

# cancelled and timed out while their left-behind processes run
fs_factfile cancel "$(bg cancel 2); echo x >$FS_TMP/cancel.ready; exec sleep 30"
fs_submit cancel "$FS_FF"
C=$FS_ID
fs_factfile timeout "$(bg timeout 3); echo x >$FS_TMP/timeout.ready; exec sleep 30"
fs_submit timeout "$FS_FF"
T=$FS_ID
# and a run that ends by itself
fs_factfile done "$(bg done 1); sleep 0.3; pgrep -f $MARK-done >$FS_TMP/done.seen; exit 0"
fs_submit done "$FS_FF"
D=$FS_ID

wait_file "$FS_TMP/cancel.ready"
alive cancel 2 || fs_fail "the cancelled task's background process never ran"
fs_expect_post /cancel '{"id":"'"$C"'"}' 202 '{"message":"Cancel requested for WORKING job jobId:['"$C"']: the worker will stop its run","jobId":"'"$C"'"}'
fs_wait_state "$C" DONE 10
[ "$FS_REASON" = cancelled ] || fs_fail "the cancelled job: $FS_BODY"
gone_within cancel 2 "a cancelled run"

fs_wait_state "$D" DONE 10
fs_expect_outcome "$D" SUCCEEDED 0 null null "the job whose task exits"
[ -s "$FS_TMP/done.seen" ] || fs_fail "the task's background process never ran"
gone_within done 1 "a run that ended"

wait_file "$FS_TMP/timeout.ready"
alive timeout 3 || fs_fail "the timed-out task's background process never ran"
fs_wait_state "$T" DONE 10
[ "$FS_REASON" = timeout ] || fs_fail "the timed-out job: $FS_BODY"
gone_within timeout 3 "a timed-out run"

fs_done
