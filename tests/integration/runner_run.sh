# SPDX-License-Identifier: Apache-2.0
# Integration tests of the bundled runner's `run`: every sample factfile (POSIX-sh copies where the
# original needs bash or sleeps long), onResult outcomes and skips, the exact lines Factotum
# prints, DAG scheduling and parallelism, --start, --env/--tag, --dry-run, --constraint,
# --max-parallel, exit codes, and no .factotum/ litter.
set -eu

rl_name=runner_run
. "${FS_SRCDIR:?}/tests/integration/runner_lib.sh"
# has_re <file> <extended regex>: a whole line matches (for durations, which depend on the load).
has_re() { grep -Eqx -- "$2" "$W/$1" || { cat "$W/$1" >&2; fail "$1 lacks a line matching: $2"; }; }
# before <file> <line a> <line b>: both present, a first.
before() {
	la=$(grep -Fnx -- "$2" "$W/$1" | head -n 1 | cut -d: -f1)
	lb=$(grep -Fnx -- "$3" "$W/$1" | head -n 1 | cut -d: -f1)
	[ -n "$la" ] && [ -n "$lb" ] || { cat "$W/$1" >&2; fail "$1 lacks '$2' or '$3'"; }
	[ "$la" -lt "$lb" ] || { cat "$W/$1" >&2; fail "in $1, '$2' is not before '$3'"; }
}
started() { grep -Eqx "Task '$1' was started at [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{3}|\.[0-9]{6}|\.[0-9]{9})? UTC" "$W/err" || { cat "$W/err" >&2; fail "no start line for $1"; }; }
not_started() { if grep -Fq "Task '$1' was started" "$W/err"; then fail "$1 was started"; fi; }
succeeded() { grep -Eqx "Task '$1': succeeded after [0-9]+\.[0-9]s" "$W/err" || { cat "$W/err" >&2; fail "$1 did not succeed"; }; }
failed_rc() { grep -Eqx "Task '$1': failed after [0-9]+\.[0-9]s\. Reason: the task exited with a value not specified in continue_job - $2 \(task expects one of the following return codes to continue \[$3\]\)" "$W/err" || { cat "$W/err" >&2; fail "$1 did not fail with $2"; }; }
line_no() { grep -Fn -- "$2" "$W/$1" | head -n 1 | cut -d: -f1; }

# ---- echo: a chain, output prefixed, summary, exit 0 ----
run_ff 0 run "$S/echo.factfile"
has out "[echo alpha] alpha"
has out "[echo beta] beta"
has out "[echo omega] and omega!"
has_re out "3/3 tasks run in [0-9]+\.[0-9]s"
for t in "echo alpha" "echo beta" "echo omega"; do started "$t"; succeeded "$t"; done
before out "[echo alpha] alpha" "[echo beta] beta"
before out "[echo beta] beta" "[echo omega] and omega!"
[ "$(wc -l <"$W/out")" -eq 4 ] || fail "echo: unexpected stdout lines"
tail -n 1 "$W/out" | grep -Eqx "3/3 tasks run in [0-9]+\.[0-9]s" || fail "echo: summary is not last"

# ---- noop: early finish, third task never runs, exit 0 ----
run_ff 0 run "$S/noop.factfile"
has out "[echo alpha] alpha"
has_re out "2/3 tasks run in [0-9]+\.[0-9]s"
has out "Factotum job finished early as a task ('exit') requested an early finish. The following tasks were not run: 'this will never run!'."
not_started "this will never run!"
lacks out "and omega"
started exit
lacks err "Task 'exit': succeeded"
lacks err "Task 'exit': failed"

# ---- concurrent-with-failures: failing branch's descendant skipped, the others run, exit 2 ----
run_ff 2 run "$P/concurrent-with-failures.factfile"
for t in init success-task slow-success-task; do succeeded "$t"; done
failed_rc failing-task 1 0
not_started should-be-skipped
has err "[failing-task] Error encountered!"
has out "[failing-task] Starting work..."
has out "[slow-success-task] Done!"
has out "[success-task] Success!"
has out "4/5 tasks run in $(grep -Eo '[0-9]+\.[0-9]s$' "$W/out" | tail -n 1)"
has out "Factotum job executed abnormally as a task ('failing-task') failed - the following tasks were not run: 'should-be-skipped'!"
lacks out "This should not run"
# The three branches are independent: all start before any of them ends.
for t in success-task failing-task slow-success-task; do
	s=$(line_no err "Task '$t' was started")
	e=$(grep -En "Task '(success-task|failing-task|slow-success-task)': (succeeded|failed)" "$W/err" | head -n 1 | cut -d: -f1)
	[ "$s" -lt "$e" ] || fail "$t did not start before the first branch ended"
done

# ---- multi-failure-cascade: two failures, their descendants and the join skipped ----
run_ff 2 run "$P/multi-failure-cascade.factfile"
succeeded setup
succeeded slow-success
failed_rc quick-fail 5 0
failed_rc delayed-fail 2 0
for t in depends-on-quick-fail depends-on-delayed-fail final-task; do not_started "$t"; done
has out "4/7 tasks run in $(grep -Eo '[0-9]+\.[0-9]s$' "$W/out" | tail -n 1)"
# Names in Factotum's plan order (children of a task newest first).
has out "Factotum job executed abnormally as a task ('delayed-fail', 'quick-fail') failed - the following tasks were not run: 'depends-on-delayed-fail', 'depends-on-quick-fail', 'final-task'!"
has err "[quick-fail] FAILURE!"
has err "[delayed-fail] Critical error!"
# slow-success went on after quick-fail failed (other branches go on).
before err "[quick-fail] FAILURE!" "$(grep -E "^Task 'slow-success': succeeded" "$W/err")"

# ---- complex-diamond-dag: all nine succeed; each validate starts right after its process ----
run_ff 0 run "$P/complex-diamond-dag.factfile"
for t in fetch-data process-part-a process-part-b process-part-c validate-a validate-b validate-c merge-results generate-report; do
	started "$t"; succeeded "$t"
done
has out "9/9 tasks run in $(grep -Eo '[0-9]+\.[0-9]s$' "$W/out" | tail -n 1)"
has out "[generate-report] Report complete!"
for i in 1 2 3 4; do has out "[process-part-a] Processing A: step $i"; done
before out "[process-part-a] Processing A: step 1" "[process-part-a] Processing A: step 4"
before out "[validate-a] A validated" "[merge-results] Merging all results..."
before out "[validate-b] B validated" "[merge-results] Merging all results..."
before out "[validate-c] C validated" "[merge-results] Merging all results..."
# The branches end at about the same time, so the proof of DAG scheduling is the unbalanced
# factfile below; here the dependency order is checked.
before err "$(grep -E "^Task 'process-part-b': succeeded" "$W/err")" "$(grep -E "^Task 'validate-b' was started" "$W/err")"

# ---- true DAG scheduling: a task starts when its own dependencies end, not a whole level ----
cat >"$W/dag.factfile" <<'EOF'
{"schema":"iglu:com.snowplowanalytics.factotum/factfile/jsonschema/1-0-0","data":{"name":"dag","tasks":[
{"name":"slow","executor":"shell","command":"sleep 0.8; echo slow done","arguments":[],"dependsOn":[],"onResult":{"terminateJobWithSuccess":[],"continueJob":[0]}},
{"name":"fast","executor":"shell","command":"echo fast","arguments":[],"dependsOn":[],"onResult":{"terminateJobWithSuccess":[],"continueJob":[0]}},
{"name":"after-fast","executor":"shell","command":"echo after fast","arguments":[],"dependsOn":["fast"],"onResult":{"terminateJobWithSuccess":[],"continueJob":[0]}},
{"name":"join","executor":"shell","command":"echo join","arguments":[],"dependsOn":["slow","after-fast"],"onResult":{"terminateJobWithSuccess":[],"continueJob":[0]}}]}}
EOF
run_ff 0 run "$W/dag.factfile"
# Factotum's levels would hold after-fast until slow ends.
before err "$(grep -E "^Task 'after-fast': succeeded" "$W/err")" "$(grep -E "^Task 'slow': succeeded" "$W/err")"
before out "[after-fast] after fast" "[slow] slow done"
before out "[slow] slow done" "[join] join"

# ---- sleep (POSIX copy): sleep2 and sleep3 overlap ----
run_ff 0 run "$P/sleep.factfile"
for t in sleep sleep2 sleep3 done; do succeeded "$t"; done
first_end=$(grep -En "^Task 'sleep(2|3)': succeeded" "$W/err" | head -n 1 | cut -d: -f1)
[ "$(line_no err "Task 'sleep2' was started")" -lt "$first_end" ] || fail "sleep2 and sleep3 did not overlap"
[ "$(line_no err "Task 'sleep3' was started")" -lt "$first_end" ] || fail "sleep2 and sleep3 did not overlap"
has out "[done] done"

# ---- --max-parallel 1 serialises the same job ----
run_ff 0 run "$P/sleep.factfile" --max-parallel 1
s2=$(line_no err "Task 'sleep2' was started"); s3=$(line_no err "Task 'sleep3' was started")
e2=$(line_no err "Task 'sleep2': succeeded"); e3=$(line_no err "Task 'sleep3': succeeded")
{ [ "$e3" -lt "$s2" ] || [ "$e2" -lt "$s3" ]; } || fail "--max-parallel 1 let sleep2 and sleep3 overlap"
run_ff 3 run "$P/sleep.factfile" --max-parallel=x
[ "$(cat "$W/out")" = "Could not decode 'x' to usize for '--max-parallel'." ] || fail "--max-parallel=x message"

# ---- concurrent-streaming-output: lines of concurrent tasks stream whole and in order ----
run_ff 0 run "$P/concurrent-streaming-output.factfile"
i=1; while [ $i -le 10 ]; do has out "[stream-branch-2] Branch 2: Line $i"; i=$((i + 1)); done
before out "[stream-branch-2] Branch 2: Line 9" "[stream-branch-2] Branch 2: Line 10"
before out "[stream-branch-2] Branch 2: Line 10" "[merge] All branches completed!"
has out "5/5 tasks run in $(grep -Eo '[0-9]+\.[0-9]s$' "$W/out" | tail -n 1)"
grep -Ev '^\[(start|stream-branch-[123]|merge)\] |tasks run in' "$W/out" >/dev/null && fail "a stdout line is not whole"

# ---- templating: --env and --tag ----
run_ff 0 run "$S/variables.factfile" --env '{"message":"hello <world>"}'
has out "[Say something] hello &lt;world&gt;"
run_ff 0 run "$S/echo-with-variables.factfile" --env='{"message":"m1","blank":""}'
has out "[echo alpha] m1"
has out "[echo beta] "
has out "[echo omega] empty items are left ''"
run_ff 0 run "$S/echo-with-dynamic-name.factfile" --env '{"env":"prod"}'
has out "[echo alpha prod] alpha prod"
started "echo alpha prod"
run_ff 0 run "$S/echo-with-dynamic-name-from-tag.factfile" --tag env,qa --tag 'x, y'
has out "[echo alpha qa] alpha qa"
run_ff 3 run "$S/variables.factfile" --env '{"message":1}'
[ "$(cat "$W/out")" = "Supplied string '{\"message\":1}' is not valid JSON: decoder error" ] || fail "--env message"
run_ff 3 run "$S/variables.factfile" --env '{'
[ "$(cat "$W/out")" = "Supplied string '{' is not valid JSON: decoder error" ] || fail "--env parse message"

# ---- --start: a proper subtree runs alone; improper and unknown starts exit 3 ----
run_ff 0 run "$S/echo.factfile" --start "echo beta"
not_started "echo alpha"; succeeded "echo beta"; succeeded "echo omega"
has_re out "2/2 tasks run in [0-9]+\.[0-9]s"
run_ff 0 run "$P/sleep.factfile" --start=done --no-colour
not_started sleep; not_started sleep2; not_started sleep3; succeeded done
has_re out "1/1 tasks run in [0-9]+\.[0-9]s"
run_ff 3 run "$S/echo.factfile" --start nope
[ "$(cat "$W/out")" = "The job cannot be started from 'nope' because the task specified could not be found" ] || fail "--start unknown"
run_ff 3 run "$P/sleep.factfile" --start sleep2
[ "$(cat "$W/out")" = "The job cannot be started from 'sleep2' because the job cannot be started here without triggering prior tasks" ] || fail "--start sleep2"
run_ff 3 run "$P/complex-diamond-dag.factfile" --start validate-a
[ "$(cat "$W/out")" = "The job cannot be started from 'validate-a' because the job cannot be started here without triggering prior tasks" ] || fail "--start improper"
# Factotum's own check wrongly rejects this start (every descendant's parents are in {S} and its
# descendants); ours accepts it.
cat >"$W/start.factfile" <<'EOF'
{"schema":"iglu:com.snowplowanalytics.factotum/factfile/jsonschema/1-0-0","data":{"name":"s","tasks":[
{"name":"S","executor":"shell","command":"echo S","arguments":[],"dependsOn":[],"onResult":{"terminateJobWithSuccess":[],"continueJob":[0]}},
{"name":"B","executor":"shell","command":"echo B","arguments":[],"dependsOn":["S"],"onResult":{"terminateJobWithSuccess":[],"continueJob":[0]}},
{"name":"C","executor":"shell","command":"echo C","arguments":[],"dependsOn":["B"],"onResult":{"terminateJobWithSuccess":[],"continueJob":[0]}},
{"name":"D","executor":"shell","command":"echo D","arguments":[],"dependsOn":["C"],"onResult":{"terminateJobWithSuccess":[],"continueJob":[0]}},
{"name":"A","executor":"shell","command":"echo A","arguments":[],"dependsOn":["S","D"],"onResult":{"terminateJobWithSuccess":[],"continueJob":[0]}}]}}
EOF
run_ff 0 run "$W/start.factfile" --start S
has_re out "5/5 tasks run in [0-9]+\.[0-9]s"
before out "[D] D" "[A] A"

# ---- --dry-run: plans, prints each command, spawns nothing ----
run_ff 0 run "$S/noop.factfile" --dry-run
cat >"$W/want" <<'EOF'
/------------|----------------------------\
| TASK       | COMMAND                    |
|------------|----------------------------|
| echo alpha | "sh" "-c" "echo \"alpha\"" |
\------------|----------------------------/
/------|-------------------------\
| TASK | COMMAND                 |
|------|-------------------------|
| exit | "sh" "-c" "exit \"99\"" |
\------|-------------------------/
/----------------------|---------------------------------\
| TASK                 | COMMAND                         |
|----------------------|---------------------------------|
| this will never run! | "sh" "-c" "echo \"and omega!\"" |
\----------------------|---------------------------------/
3/3 tasks run in 0.0s
EOF
cmp "$W/want" "$W/out" || { diff "$W/want" "$W/out" >&2 || true; fail "--dry-run stdout"; }
for t in "echo alpha" exit "this will never run!"; do
	started "$t"; has err "Task '$t': succeeded after 0.0s"
done
cat >"$W/dry.factfile" <<'EOF'
{"schema":"iglu:com.snowplowanalytics.factotum/factfile/jsonschema/1-0-0","data":{"name":"d","tasks":[
{"name":"t","executor":"shell","command":"touch","arguments":["created-by-dry-run"],"dependsOn":[],"onResult":{"terminateJobWithSuccess":[],"continueJob":[0]}}]}}
EOF
run_ff 0 run "$W/dry.factfile" --dry-run
[ ! -e "$W/created-by-dry-run" ] || fail "--dry-run spawned a task"
has out "| t    | \"sh\" \"-c\" \"touch \\\"created-by-dry-run\\\"\" |"
run_ff 3 run "$S/echo.factfile" --dry-run --webhook http://127.0.0.1:1/
has out "Error: --webhook cannot be used with the --dry-run option"

# ---- --constraint host: checked before the factfile is read ----
printf 'not json' >"$W/bad.factfile"
run_ff 0 run "$W/bad.factfile" --constraint host,192.0.2.77
o=$(cat "$W/out")
case "$o" in
"Warn: the specifed host constraint \"192.0.2.77\" did not match, no tasks have been executed. Reason: failed to match any of the interface addresses to the found host addresses" | \
"Warn: the specifed host constraint \"192.0.2.77\" did not match, no tasks have been executed. Reason: could not find any non-loopback IPv4 addresses in the network interfaces; do you have a working network interface card?") ;;
*) fail "constraint warning: $o" ;;
esac
[ ! -s "$W/err" ] || fail "constraint: stderr not empty"
run_ff 0 run "$S/echo.factfile" --constraint 'host, *'
has_re out "3/3 tasks run in [0-9]+\.[0-9]s"
run_ff 0 run "$S/echo.factfile" --constraint "host,$(hostname)" --constraint other,x
has_re out "3/3 tasks run in [0-9]+\.[0-9]s"
run_ff 1 run "$W/bad.factfile" --constraint 'host,*'
run_ff 1 run "$W/bad.factfile"
case "$(cat "$W/out")" in "'$W/bad.factfile' is not a valid factotum factfile: invalid JSON - "*) ;; *) fail "invalid JSON message";; esac

# ---- exit 1: unreadable and invalid factfiles (message on stdout) ----
run_ff 1 run "$W/missing.factfile"
[ "$(cat "$W/out")" = "Couldn't open '$W/missing.factfile' for reading: No such file or directory (os error 2)" ] || fail "missing factfile message"
cat >"$W/cycle.factfile" <<'EOF'
{"schema":"iglu:com.snowplowanalytics.factotum/factfile/jsonschema/1-0-0","data":{"name":"c","tasks":[
{"name":"a","executor":"shell","command":"true","arguments":[],"dependsOn":[],"onResult":{"terminateJobWithSuccess":[],"continueJob":[]}}]}}
EOF
run_ff 1 run "$W/cycle.factfile"
[ "$(cat "$W/out")" = "'$W/cycle.factfile' is not a valid factotum factfile: the task 'a' has no way to continue successfully." ] || fail "continueJob message"

# ---- exit 3: argument errors, docopt's with the usage section, no trailing newline ----
run_ff 3 run "$S/echo.factfile" --bogus
head -n 1 "$W/out" | grep -Fqx "Unknown flag: '--bogus'" || fail "unknown flag message"
sed -n 3p "$W/out" | grep -Fqx "Usage:" || fail "usage after an argument error"
[ "$(tail -c 1 "$W/out" | od -An -c | tr -d ' ')" = "]" ] || fail "usage should end without a newline"
run_ff 3 run
run_ff 3 run "$S/echo.factfile" extra
head -n 1 "$W/out" | grep -Fqx "Invalid arguments: unexpected argument 'extra'" || fail "extra positional"
run_ff 3 run "$S/echo.factfile" --webhook ftp://x
has out "Error: the specifed webhook URL \"ftp://x\" is invalid. Reason: URL must begin with 'http://' or 'https://' to be used with Factotum webhooks"
# Options may come before <factfile>, as docopt allows.
run_ff 0 run --no-colour --start "echo omega" "$S/echo.factfile"
has_re out "1/1 tasks run in [0-9]+\.[0-9]s"

# ---- onResult details: death by signal is 1, continue codes listed, command built as Factotum ----
cat >"$W/codes.factfile" <<'EOF'
{"schema":"iglu:com.snowplowanalytics.factotum/factfile/jsonschema/1-0-0","data":{"name":"codes","tasks":[
{"name":"killed","executor":"shell","command":"kill -9 $$","arguments":[],"dependsOn":[],"onResult":{"terminateJobWithSuccess":[],"continueJob":[1]}},
{"name":"three","executor":"shell","command":"exit 3;","arguments":[],"dependsOn":[],"onResult":{"terminateJobWithSuccess":[4],"continueJob":[0,2]}},
{"name":"args","executor":"shell","command":"printf '%s|'","arguments":["a b","$HOME_NOT_SET_X","c"],"dependsOn":["killed"],"onResult":{"terminateJobWithSuccess":[],"continueJob":[0]}},
{"name":"after-three","executor":"shell","command":"echo no","arguments":[],"dependsOn":["three"],"onResult":{"terminateJobWithSuccess":[],"continueJob":[0]}}]}}
EOF
run_ff 2 run "$W/codes.factfile"
succeeded killed
failed_rc three 3 "0,2"
has out "[args] a b||c|"
not_started after-three
has out "Factotum job executed abnormally as a task ('three') failed - the following tasks were not run: 'after-three'!"

# ---- output edge cases: partial last line, CRLF, empty lines, a very long line, stdin is null ----
cat >"$W/lines.factfile" <<'EOF'
{"schema":"iglu:com.snowplowanalytics.factotum/factfile/jsonschema/1-0-0","data":{"name":"lines","tasks":[
{"name":"t","executor":"shell","command":"printf 'crlf\\r\\n\\nx'; printf 'e1\\ne2' >&2; head -c 70000 /dev/zero | tr '\\0' y; echo; cat; echo CLICOLOR=${CLICOLOR:-unset}","arguments":[],"dependsOn":[],"onResult":{"terminateJobWithSuccess":[],"continueJob":[0]}}]}}
EOF
run_ff 0 run "$W/lines.factfile" --no-colour
has out "[t] crlf"
has out "[t] "
has err "[t] e1"
has err "[t] e2"
has out "[t] CLICOLOR=0"
# "x" then 70000 y: a 65536-byte piece, then the rest.
[ "$(grep -c '^\[t\] xy*$' "$W/out")" -eq 1 ] || fail "long line: first piece"
[ "$(grep '^\[t\] xy*$' "$W/out" | wc -c)" -eq $((4 + 65536 + 1)) ] || fail "long line: piece size"
[ "$(grep '^\[t\] yy*$' "$W/out" | wc -c)" -eq $((4 + 70001 - 65536 + 1)) ] || fail "long line: rest"
! grep -q "$(printf '\033')" "$W/out" "$W/err" || fail "colour codes when not on a terminal"

# ---- no .factotum/ directory, no log file, in the working directory ----
[ ! -e "$W/.factotum" ] || fail ".factotum/ was created"
[ -z "$(ls -A "$W" | grep -v -e '\.factfile$' -e '^out$' -e '^err$' -e '^want$')" ] || fail "litter: $(ls -A "$W")"

echo "runner_run: all passed"
