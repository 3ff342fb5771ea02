# SPDX-License-Identifier: Apache-2.0
# Integration test of the runner's webhook sequence against a python3 receiver on loopback: job
# WAITING; job WAITING->RUNNING; a task_update when tasks start; one per finished task carrying
# the skips it causes; job RUNNING->FAILED|SUCCEEDED; heartbeats RUNNING->RUNNING with live
# output; a shutdown's skips and final event; every event names Factotum 0.7.0 as its
# applicationContext. (Payload contents are the webhook module's tests'.)
set -eu

command -v python3 >/dev/null 2>&1 || { echo "FAIL: python3 missing (scripts/install-deps.sh installs it)"; exit 99; }
rl_name=runner_wh
. "${FS_SRCDIR:?}/tests/integration/runner_lib.sh"
RP=
trap '[ -z "$RP" ] || kill "$RP" 2>/dev/null || true; rm -rf "$W"' EXIT
# One line per event: <kind> <transitions>, transitions as name:FROM>TO joined by spaces.
cat >"$W/recv.py" <<'EOF'
import http.server, json, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers['Content-Length']))
        d = json.loads(body)['data']
        if 'jobTransition' in d:
            t = d['jobTransition']
            line = 'job %s>%s' % (t['previousState'], t['currentState'])
        else:
            line = 'task ' + ' '.join('%s:%s>%s' % (t['taskName'], t['previousState'], t['currentState'])
                                      for t in d['taskTransitions'])
            for s in d['taskStates']:
                if s['state'] == 'RUNNING' and s.get('stdout'):
                    line += ' [%s out %d lines]' % (s['taskName'], s['stdout'].count('\n') + 1)
        with open(sys.argv[2], 'a') as f:
            f.write(line + '\n')
        with open(sys.argv[3], 'a') as f:
            f.write(json.dumps(d['applicationContext'], sort_keys=True) + '\n')
        self.send_response(200)
        self.end_headers()
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(('127.0.0.1', 0), H)
open(sys.argv[1], 'w').write(str(s.server_address[1]))
s.serve_forever()
EOF
python3 "$W/recv.py" "$W/port" "$W/events" "$W/contexts" &
RP=$!
i=0
while [ ! -s "$W/port" ]; do i=$((i + 1)); [ $i -le 100 ] || fail "receiver did not start"; sleep 0.05; done
URL="http://127.0.0.1:$(cat "$W/port")/"

# ---- a failure: its skip travels with it; the other branches' events follow ----
: >"$W/events"
set +e
"$F" run "$P/concurrent-with-failures.factfile" --webhook "$URL" >"$W/out" 2>"$W/err"
rc=$?
set -e
[ $rc -eq 2 ] || { cat "$W/out" "$W/err" >&2; fail "exit $rc"; }
grep -Fqx "Waiting for webhook to finish sending events... done!" "$W/out" || fail "no webhook wait line"
grep -Fq "Warning: some events failed to send" "$W/out" && fail "events were lost"
sed -n 1p "$W/events" | grep -Fqx "job None>WAITING" || fail "first event: $(sed -n 1p "$W/events")"
sed -n 2p "$W/events" | grep -Fqx "job WAITING>RUNNING" || fail "second event"
sed -n 3p "$W/events" | grep -Fqx "task init:WAITING>RUNNING" || fail "third event"
sed -n 4p "$W/events" | grep -Fqx "task init:RUNNING>SUCCEEDED" || fail "fourth event"
sed -n 5p "$W/events" | grep -Fqx "task slow-success-task:WAITING>RUNNING failing-task:WAITING>RUNNING success-task:WAITING>RUNNING" || fail "fifth event: $(sed -n 5p "$W/events")"
grep -Fqx "task failing-task:RUNNING>FAILED should-be-skipped:WAITING>SKIPPED" "$W/events" || fail "failure event"
grep -Fqx "task success-task:RUNNING>SUCCEEDED" "$W/events" || fail "success-task event"
grep -Fqx "task slow-success-task:RUNNING>SUCCEEDED" "$W/events" || fail "slow-success-task event"
[ "$(tail -n 1 "$W/events")" = "job RUNNING>FAILED" ] || fail "last event"
[ "$(wc -l <"$W/events")" -eq 9 ] || { cat "$W/events" >&2; fail "event count"; }

# ---- success with heartbeats: RUNNING->RUNNING while the long task runs, with its output ----
: >"$W/events"
"$F" run "$P/test-heartbeat.factfile" --webhook="$URL" --heartbeat-interval 1 --no-colour >"$W/out" 2>"$W/err" ||
	fail "heartbeat run failed"
[ "$(grep -c '^task long_task_with_logs:RUNNING>RUNNING' "$W/events")" -ge 2 ] || { cat "$W/events" >&2; fail "fewer than 2 heartbeats"; }
grep -q '^task long_task_with_logs:RUNNING>RUNNING \[long_task_with_logs out [0-9]* lines\]' "$W/events" || fail "heartbeat without live output"
[ "$(tail -n 1 "$W/events")" = "job RUNNING>SUCCEEDED" ] || fail "last event (success)"
# Without --heartbeat-interval there is none.
: >"$W/events"
"$F" run "$S/echo.factfile" --webhook "$URL" >/dev/null 2>&1 || fail "echo run"
grep -q 'RUNNING>RUNNING' "$W/events" && fail "heartbeat without --heartbeat-interval"
[ "$(wc -l <"$W/events")" -eq 9 ] || { cat "$W/events" >&2; fail "echo: event count"; }

# ---- early finish: SUCCEEDED_NO_OP with its skips, job SUCCEEDED ----
: >"$W/events"
"$F" run "$S/noop.factfile" --webhook "$URL" >/dev/null 2>&1 || fail "noop run"
grep -Fqx "task exit:RUNNING>SUCCEEDED_NO_OP this will never run!:WAITING>SKIPPED" "$W/events" || fail "no-op event"
[ "$(tail -n 1 "$W/events")" = "job RUNNING>SUCCEEDED" ] || fail "noop last event"

# ---- shutdown: skips of unstarted tasks, the killed task's end (re-skipping its descendant with
# the reason appended, as Factotum re-skips), job FAILED ----
: >"$W/events"
FACTOTUM_KILL_GRACE_MS=300 "$F" run "$S/sigterm-resistant.factfile" --webhook "$URL" >"$W/out" 2>"$W/err" &
pid=$!
i=0
while ! grep -q "will ignore SIGTERM" "$W/out"; do i=$((i + 1)); [ $i -le 200 ] || fail "task did not start"; sleep 0.05; done
kill -TERM "$pid"
set +e; wait "$pid"; rc=$?; set -e
[ $rc -eq 2 ] || fail "shutdown exit $rc"
grep -Fqx "task ShouldNotRun:WAITING>SKIPPED" "$W/events" || { cat "$W/events" >&2; fail "shutdown skip event"; }
grep -Fqx "task IgnoresSIGTERM:RUNNING>FAILED ShouldNotRun:SKIPPED>SKIPPED" "$W/events" || { cat "$W/events" "$W/out" >&2; fail "killed task event"; }
[ "$(tail -n 1 "$W/events")" = "job RUNNING>FAILED" ] || fail "shutdown last event"

[ "$(sort -u "$W/contexts")" = '{"name": "factotum", "version": "0.7.0"}' ] ||
	fail "applicationContext: $(sort -u "$W/contexts")"

echo "runner_webhook: all passed"
