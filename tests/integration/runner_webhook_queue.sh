#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The runner's webhook queue is bounded in bytes: a chain of 150 tasks, each printing 10000
# bytes, makes ~300 events that each carry every finished task's output tail (~230 MB in all);
# the receiver holds the first request for 3 s. The runner's peak RSS stays under 64 MiB, the run
# log says once that progress events were dropped, and the job's last event still arrives (last,
# after the ones that were kept).
set -u
: "${FS_SRCDIR:?}" "${FS_BUILDDIR:?}" "${FS_TESTDATA:?}"
runner=$FS_BUILDDIR/runner/factotum
[ -x "$runner" ] || { echo "FAIL: $runner not built"; exit 99; }
wh_name=runner_webhook_queue
. "$FS_SRCDIR/tests/integration/webhook_lib.sh"

python3 - "$tmp/chain.factfile" <<'EOF'
import json, sys
tasks = [{"name": "t%d" % i, "executor": "shell",
          "command": "head -c 10000 /dev/zero | tr '\\000' x", "arguments": [],
          "dependsOn": ["t%d" % (i - 1)] if i else [],
          "onResult": {"terminateJobWithSuccess": [], "continueJob": [0]}}
         for i in range(150)]
json.dump({"schema": "iglu:com.snowplowanalytics.factotum/factfile/jsonschema/1-0-0",
           "data": {"name": "chain", "tasks": tasks}}, open(sys.argv[1], "w"))
EOF

start_receiver chain --stall 1 --stall-seconds 3
FACTOTUM_WEBHOOK_WAIT_MS=20000 "$runner" run "$tmp/chain.factfile" --no-colour --webhook "$url" \
	--max-stdouterr-size 10000 </dev/null >"$tmp/run.log" 2>&1 &
pid=$!
hwm=0
while kill -0 "$pid" 2>/dev/null; do
	v=$(sed -n 's/^VmHWM:[^0-9]*\([0-9]*\) kB/\1/p' "/proc/$pid/status" 2>/dev/null)
	[ -n "$v" ] && [ "$v" -gt "$hwm" ] && hwm=$v
	sleep 0.02
done
wait "$pid"
rc=$?
stop_receiver
[ "$rc" -eq 0 ] || fail "runner exit $rc: $(tail -n 3 "$tmp/run.log")"
echo "runner peak RSS: $hwm kB"
[ "$hwm" -gt 0 ] || fail "the runner's RSS was never read"
# an AddressSanitizer runner keeps freed memory in quarantine and maps shadow memory: its RSS says
# nothing of the queue's bound, which the normal build judges
if grep -qa __asan_init "$runner"; then
	echo "the peak RSS is not judged: the runner is built with AddressSanitizer"
else
	[ "$hwm" -lt 65536 ] || fail "peak RSS $hwm kB (64 MiB or more)"
fi
n=$(grep -c "^Warning: webhook 1 is not keeping up: progress events are dropped while 8 MiB of them wait (the job's last event is kept)$" "$tmp/run.log")
[ "$n" = 1 ] || fail "the drop is logged $n times: $(grep Warning "$tmp/run.log")"
grep -q "^Warning: some events failed to send$" "$tmp/run.log" ||
	fail "no closing warning: $(tail -n 3 "$tmp/run.log")"
got=$(python3 -c '
import json, sys
ev = [json.loads(l)["data"] for l in open(sys.argv[1]) if l.strip()]
print(len(ev) < 300, ev[-1].get("jobTransition", {}).get("currentState"))
' "$out")
[ "$got" = "True SUCCEEDED" ] || fail "events received (fewer than all, the final one last): $got"
[ $failures -eq 0 ] || exit 1
echo "all passed"
