# SPDX-License-Identifier: Apache-2.0
# What the worker's integration tests share, on top of lib.sh: the bundled runner, a short grace
# period between a stop's SIGTERM and its SIGKILL (so that tests of stops end quickly),
# wait_file, kill_run and fs_run_task. Sourced, never run.
. "$FS_SRCDIR/tests/integration/lib.sh"

FS_RUNNER=$FS_BUILDDIR/runner/factotum
FACTOTUM_SERVER_KILL_GRACE_MS=500
export FACTOTUM_SERVER_KILL_GRACE_MS

# wait_file PATH: up to 10 s for PATH to exist and be non-empty.
wait_file() {
	n=0
	until [ -s "$1" ]; do
		n=$((n + 1))
		[ $n -lt 200 ] || { fs_fail "$1 never appeared"; return 1; }
		sleep 0.05
	done
}

# kill_run ID PIDFILE: kill -9 of job ID's supervisor (named by its pid file) and of its runner's
# and task's process groups (PIDFILE holds the task's pid)
kill_run() {
	kr_sup=$(sed -n 's/^pid=//p' "$FS_SPOOL/runs/$1.pid")
	kr_task=$(cat "$2")
	kr_runner=$(ps -o sid= -p "$kr_task" | tr -d ' ')
	kill -KILL "$kr_sup"
	kill -KILL -- "-$kr_runner" "-$kr_task" 2>/dev/null
}

# fs_run_task NAME COMMAND OUTCOME: submits a job of one task, COMMAND, and waits until it is DONE
# with OUTCOME.
fs_run_task() {
	fs_factfile "$1" "$2"
	fs_submit "$1" "$FS_FF"
	fs_wait_state "$FS_ID" DONE 20 || return
	[ "$FS_OUTCOME" = "$3" ] || fs_fail "$1: expected $3, got $FS_BODY"
}
