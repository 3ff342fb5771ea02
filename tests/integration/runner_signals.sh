# SPDX-License-Identifier: Apache-2.0
# Integration tests of the bundled runner's shutdown: SIGTERM/SIGINT signal every running task's
# process group (children included), SIGKILL after the grace period (FACTOTUM_KILL_GRACE_MS here,
# 5 s by default), skip what has not started, exit 2 -- and never signal the caller's process
# group (this script shares the runner's group and fails if it receives SIGTERM or SIGINT).
set -eu

rl_name=runner_sig
. "${FS_SRCDIR:?}/tests/integration/runner_lib.sh"
trap 'echo TERM >>"$W/caller-signalled"' TERM
trap 'echo INT >>"$W/caller-signalled"' INT
# wait_for <file> <text>: up to 10 s for text to appear in file.
wait_for() {
	i=0
	while ! grep -Fq -- "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -le 200 ] || { cat "$1" >&2 2>/dev/null || true; fail "timed out waiting for '$2' in $1"; }
		sleep 0.05
	done
}
# start_bg <args...>: the runner in the background (same process group as this script).
start_bg() {
	"$F" "$@" >"$W/out" 2>"$W/err" &
	pid=$!
}
finish_bg() {
	set +e
	wait "$pid"
	rc=$?
	set -e
	[ "$rc" -eq "$1" ] || { cat "$W/out" "$W/err" >&2; fail "runner exited $rc, expected $1"; }
}
# gone <pid> <what>: the process is dead (a zombie waiting for its new parent counts as dead).
gone() {
	i=0
	while kill -0 "$1" 2>/dev/null; do
		st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
		[ "$st" = Z ] && return 0
		i=$((i + 1))
		[ $i -le 40 ] || fail "process $1 ($2) survived the shutdown"
		sleep 0.05
	done
}
SCHEMA=iglu:com.snowplowanalytics.factotum/factfile/jsonschema/1-0-0

# ---- the sample: a task that ignores SIGTERM is killed after the grace period ----
FACTOTUM_KILL_GRACE_MS=700 start_bg run "$S/sigterm-resistant.factfile"
wait_for "$W/out" "[IgnoresSIGTERM] Task started, will ignore SIGTERM..."
kill -TERM "$pid"
finish_bg 2
has out ""
has out "Received shutdown signal, terminating gracefully..."
has out "Terminating 1 child process(es) gracefully..."
has out "Force-killing 1 remaining process(es)..."
has out "Factotum job was stopped by a shutdown signal - the following tasks were not run: 'ShouldNotRun'!"
grep -Eqx "1/2 tasks run in [0-9]+\.[0-9]s" "$W/out" || fail "summary after SIGTERM"
lacks err "Task 'ShouldNotRun' was started"
lacks out "Task completed normally"
has err "Shutdown requested, skipping remaining task groups"
grep -Eq "^Task 'IgnoresSIGTERM': failed after [0-9.]+s\. Reason: the task exited with a value not specified in continue_job - 1 " "$W/err" ||
	fail "the killed task should fail with code 1"

# ---- the whole process group goes, grandchildren included; SIGKILL after the grace ----
cat >"$W/stubborn.factfile" <<EOF
{"schema":"$SCHEMA","data":{"name":"stubborn","tasks":[
{"name":"stubborn","executor":"shell","command":"trap '' TERM; sleep 30 & echo \$! >$W/child.pid; echo \$\$ >$W/shell.pid; echo ready; wait; wait","arguments":[],"dependsOn":[],"onResult":{"terminateJobWithSuccess":[],"continueJob":[0]}},
{"name":"polite","executor":"shell","command":"sleep 30 & echo \$! >$W/polite.pid; wait","arguments":[],"dependsOn":[],"onResult":{"terminateJobWithSuccess":[],"continueJob":[0]}},
{"name":"later","executor":"shell","command":"echo later","arguments":[],"dependsOn":["stubborn"],"onResult":{"terminateJobWithSuccess":[],"continueJob":[0]}}]}}
EOF
FACTOTUM_KILL_GRACE_MS=600 start_bg run "$W/stubborn.factfile" --no-colour
wait_for "$W/out" "[stubborn] ready"
wait_for "$W/polite.pid" ""
[ -s "$W/polite.pid" ] || sleep 0.2
kill -TERM "$pid"
finish_bg 2
has out "Terminating 2 child process(es) gracefully..."
has out "Force-killing 1 remaining process(es)..."
has out "Factotum job was stopped by a shutdown signal - the following tasks were not run: 'later'!"
gone "$(cat "$W/child.pid")" "a stubborn task's child"
gone "$(cat "$W/shell.pid")" "a stubborn task's shell"
gone "$(cat "$W/polite.pid")" "a polite task's child"

# ---- SIGINT, a task that dies of SIGTERM at once: no SIGKILL needed, exit 2 ----
cat >"$W/int.factfile" <<EOF
{"schema":"$SCHEMA","data":{"name":"int","tasks":[
{"name":"nap","executor":"shell","command":"echo napping; exec sleep 30","arguments":[],"dependsOn":[],"onResult":{"terminateJobWithSuccess":[],"continueJob":[0]}},
{"name":"clean","executor":"shell","command":"trap 'echo cleaned; exit 0' TERM; echo up; while :; do sleep 0.05; done","arguments":[],"dependsOn":[],"onResult":{"terminateJobWithSuccess":[],"continueJob":[0]}}]}}
EOF
FACTOTUM_KILL_GRACE_MS=20000 start_bg run "$W/int.factfile"
wait_for "$W/out" "[nap] napping"
wait_for "$W/out" "[clean] up"
t0=$(date +%s)
kill -INT "$pid"
finish_bg 2
[ $(($(date +%s) - t0)) -lt 10 ] || fail "SIGINT waited for the grace period"
has out "Terminating 2 child process(es) gracefully..."
lacks out "Force-killing"
has out "[clean] cleaned"
# Whatever the tasks' codes, a stopped job exits 2 (deterministic, unlike Factotum).
grep -Eq "^Task 'clean': succeeded after" "$W/err" || fail "clean should succeed (it exited 0)"
grep -Eq "^Task 'nap': failed after .* continue_job - 1 " "$W/err" || fail "nap should fail with 1"
has out "Factotum job was stopped by a shutdown signal - the following tasks were not run: !"

# ---- a second signal ends the grace period at once ----
FACTOTUM_KILL_GRACE_MS=30000 start_bg run "$S/sigterm-resistant.factfile"
wait_for "$W/out" "will ignore SIGTERM"
t0=$(date +%s)
kill -TERM "$pid"
wait_for "$W/out" "Terminating 1 child process(es) gracefully..."
kill -TERM "$pid"
finish_bg 2
[ $(($(date +%s) - t0)) -lt 10 ] || fail "a second signal did not cut the grace period"
has out "Force-killing 1 remaining process(es)..."

[ ! -e "$W/caller-signalled" ] || fail "the runner signalled its caller's process group: $(cat "$W/caller-signalled")"
[ ! -e "$W/.factotum" ] || fail ".factotum/ was created"
echo "runner_signals: all passed"
