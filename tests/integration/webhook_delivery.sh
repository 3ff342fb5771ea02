#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The runner's webhooks end to end: runs factfiles with
# `factotum run ... --webhook http://127.0.0.1:<port>/` against the loopback python receiver and
# checks the event sequence and states, schema validity, jobReference against
# jobref-vectors.tsv, the base64 factfile (its SHA-256 with the tags is the jobReference), output
# tails cut at --max-stdouterr-size characters, Factotum's 3 attempts per event (then the event
# is dropped with Factotum's warning), any 2xx as success, and that a stalled receiver cannot
# keep the runner from exiting (within STALL_BOUND seconds, with the warning).
# Needs $FS_BUILDDIR/runner/factotum (built by make check) and python3-jsonschema.
set -u
: "${FS_SRCDIR:?}" "${FS_BUILDDIR:?}" "${FS_TESTDATA:?}"
runner=$FS_BUILDDIR/runner/factotum
samples=$FS_TESTDATA/samples
STALL_BOUND=40 # the runner's default wait (30 s) plus the job, if FACTOTUM_WEBHOOK_WAIT_MS is not honoured
[ -x "$runner" ] || { echo "FAIL: $runner not built"; exit 99; }
wh_name=webhook_delivery
. "$FS_SRCDIR/tests/integration/webhook_lib.sh"

# run_job <name> <factfile> [args...]: runs the runner in its own directory (it may write
# .factotum/ there) with the VAR=value words of $job_env in its environment; sets $rc and leaves
# its output in $tmp/<name>.log.
job_env=
run_job() {
	jname=$1; ff=$2; shift 2
	mkdir -p "$tmp/$jname.cwd"
	# shellcheck disable=SC2086
	(cd "$tmp/$jname.cwd" && env $job_env timeout 120 "$runner" run "$ff" --no-colour \
		--webhook "$url" "$@" </dev/null >"$tmp/$jname.log" 2>&1)
	rc=$?
}

echo_sequence() {
	cat <<'EOF'
job null->WAITING WAITING
job WAITING->RUNNING RUNNING
task echo alpha:WAITING->RUNNING RUNNING
task echo alpha:RUNNING->SUCCEEDED RUNNING
task echo beta:WAITING->RUNNING RUNNING
task echo beta:RUNNING->SUCCEEDED RUNNING
task echo omega:WAITING->RUNNING RUNNING
task echo omega:RUNNING->SUCCEEDED RUNNING
job RUNNING->SUCCEEDED SUCCEEDED
EOF
}

# 1. Every job-reference vector that runs quickly: valid events, the vector as jobReference.
tab=$(printf '\t')
n=0
while IFS=$tab read -r vff vargs vref; do
	case $vff in factfile|sleep.factfile|"") continue ;; esac
	n=$((n + 1))
	quoted=$(python3 -c 'import json, shlex, sys
print(" ".join(shlex.quote(a) for a in json.loads(sys.argv[1])))' "$vargs")
	eval "set -- $quoted"
	start_receiver "vector$n"
	run_job "vector$n" "$samples/$vff" "$@"
	stop_receiver
	[ "$rc" -eq 0 ] || fail "vector $n ($vff $vargs): exit $rc: $(tail -n 3 "$tmp/vector$n.log")"
	python3 "$check" validate "$schemas" "$out" >/dev/null || fail "vector $n: validation"
	[ "$(python3 "$check" get "$out" 0 jobReference)" = "$vref" ] ||
		fail "vector $n ($vff $vargs): jobReference is not $vref"
	if [ "$vff" = echo.factfile ]; then
		echo_sequence >"$tmp/want"
		same_summary "vector $n"
	fi
	grep -v '"content_type": "application/json; charset=utf-8"' "$reqs" | grep -q . &&
		fail "vector $n: wrong Content-Type"
done <"$FS_TESTDATA/jobref-vectors.tsv"
[ $n -ge 5 ] || fail "only $n vectors run"

# 2. Early termination: SUCCEEDED_NO_OP and the skip it causes, in one event.
start_receiver noop
run_job noop "$samples/noop.factfile"
stop_receiver
[ "$rc" -eq 0 ] || fail "noop: exit $rc"
cat >"$tmp/want" <<'EOF'
job null->WAITING WAITING
job WAITING->RUNNING RUNNING
task echo alpha:WAITING->RUNNING RUNNING
task echo alpha:RUNNING->SUCCEEDED RUNNING
task exit:WAITING->RUNNING RUNNING
task exit:RUNNING->SUCCEEDED_NO_OP,this will never run!:WAITING->SKIPPED RUNNING
job RUNNING->SUCCEEDED SUCCEEDED
EOF
same_summary noop
[ "$(python3 "$check" get "$out" -1 taskStates 2 errorMessage)" = \
	"the task 'exit' requested early termination" ] || fail "noop: skip reason"

# 3. A failure with a skip, and output tails cut at 3 characters (multi-byte ones).
cat >"$tmp/fail.factfile" <<'EOF'
{"schema": "iglu:com.snowplowanalytics.factotum/factfile/jsonschema/1-0-0",
 "data": {"name": "tails", "tasks": [
  {"name": "a", "executor": "shell",
   "command": "echo αβγδεζηθ; echo ΑΒΓΔΕ >&2; exit", "arguments": ["1"],
   "dependsOn": [], "onResult": {"terminateJobWithSuccess": [], "continueJob": [0]}},
  {"name": "b", "executor": "shell", "command": "echo", "arguments": ["never"],
   "dependsOn": ["a"], "onResult": {"terminateJobWithSuccess": [], "continueJob": [0]}}]}}
EOF
start_receiver fail
run_job fail "$tmp/fail.factfile" --max-stdouterr-size 3 --tag "k,v"
stop_receiver
[ "$rc" -eq 2 ] || fail "failing job: exit $rc, want 2"
cat >"$tmp/want" <<'EOF'
job null->WAITING WAITING
job WAITING->RUNNING RUNNING
task a:WAITING->RUNNING RUNNING
task a:RUNNING->FAILED,b:WAITING->SKIPPED RUNNING
job RUNNING->FAILED FAILED
EOF
same_summary "failing job"
python3 "$check" validate "$schemas" "$out" >/dev/null || fail "failing job: validation"
[ "$(python3 "$check" get "$out" -1 taskStates 0 stdout)" = "ζηθ" ] || fail "stdout tail"
[ "$(python3 "$check" get "$out" -1 taskStates 0 stderr)" = "ΓΔΕ" ] || fail "stderr tail"
[ "$(python3 "$check" get "$out" -1 taskStates 0 returnCode)" = 1 ] || fail "returnCode"
[ "$(python3 "$check" get "$out" -1 taskStates 1 errorMessage)" = "the task 'a' failed" ] ||
	fail "skip reason"
[ "$(python3 "$check" get "$out" -1 tags k)" = v ] || fail "tags"

# 4. The receiver answers 500 to its first N requests. Each event gets 3 attempts: with N = 1 or 2
#    the first event arrives on a later attempt; with N = 3 it is dropped and N = 4 costs the
#    second event one attempt; what follows arrives, in order. The runner's last lines are
#    Factotum's, with its warning when an event was dropped. FS_WEBHOOK_PAUSE_MAX_MS (a test seam)
#    shortens Factotum's random 0-60 s pause between attempts; every pause stays below it.
PAUSE_MAX_MS=300
WAITED="Waiting for webhook to finish sending events... done!"
WARNING="Warning: some events failed to send"
for n in 1 2 3 4; do
	start_receiver "retry$n" --fail $n
	job_env=FS_WEBHOOK_PAUSE_MAX_MS=$PAUSE_MAX_MS
	run_job "retry$n" "$samples/echo.factfile"
	job_env=
	stop_receiver
	[ "$rc" -eq 0 ] || fail "retry $n: exit $rc"
	if [ $n -lt 3 ]; then
		echo_sequence >"$tmp/want"
		requests=$((9 + n))
		printf '%s\n' "$WAITED" >"$tmp/want.tail"
	else
		echo_sequence | sed 1d >"$tmp/want"
		requests=$((8 + n))
		printf '%s\n%s\n' "$WAITED" "$WARNING" >"$tmp/want.tail"
	fi
	same_summary "retry $n"
	[ "$(grep -c . "$reqs")" = $requests ] || fail "retry $n: $(grep -c . "$reqs") requests, want $requests"
	tail -n "$(grep -c . "$tmp/want.tail")" "$tmp/retry$n.log" | cmp -s "$tmp/want.tail" - ||
		fail "retry $n: the run's last lines: $(tail -n 2 "$tmp/retry$n.log")"
	python3 "$check" pauses "$reqs" >"$tmp/pauses"
	[ "$(grep -c . "$tmp/pauses")" = $n ] || fail "retry $n: $(grep -c . "$tmp/pauses") pauses, want $n"
	while read -r ms; do
		[ "$ms" -lt $((PAUSE_MAX_MS + 1500)) ] || fail "retry $n: a pause of $ms ms"
	done <"$tmp/pauses"
done

# 5. Any 2xx answer counts as delivered (Factotum only accepts 200).
start_receiver accepted --ok-status 202
run_job accepted "$samples/echo.factfile"
stop_receiver
[ "$rc" -eq 0 ] || fail "202: exit $rc"
echo_sequence >"$tmp/want"
same_summary "202"
[ "$(grep -c . "$reqs")" = 9 ] || fail "202: $(grep -c . "$reqs") requests, want 9"
grep -Fqx "$WARNING" "$tmp/accepted.log" && fail "202: warning printed"

# 6. A receiver that never answers: the runner still exits, in bounded time, with a warning.
start_receiver stall --stall 1000 --stall-seconds 300
t0=$(date +%s)
job_env="FS_WEBHOOK_TIMEOUT_MS=500 FS_WEBHOOK_CONNECT_TIMEOUT_MS=500 FACTOTUM_WEBHOOK_WAIT_MS=3000"
run_job stall "$samples/echo.factfile"
job_env=
t1=$(date +%s)
stop_receiver
[ "$rc" -eq 0 ] || fail "stall: exit $rc (the job itself succeeded)"
[ $((t1 - t0)) -le $STALL_BOUND ] || fail "stall: the runner took $((t1 - t0)) s"
grep -Fqx "$WARNING" "$tmp/stall.log" || fail "stall: no warning about undelivered events"

if [ $failures -ne 0 ]; then
	echo "webhook_delivery: $failures failure(s)"
	exit 1
fi
echo "webhook_delivery: all passed"
