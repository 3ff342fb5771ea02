# SPDX-License-Identifier: Apache-2.0
# sched.after-claim with Consul: the worker firing a schedule aborts between a slot's txn (the
# schedule's new state, the slot's history row "fired", the slot job's claim locked by the node's
# session) and the job's spool commit. After its restart the reconciliation undoes the claim and
# notes the slot in its history (refused, "interrupted: the node stopped before queueing the
# job", the undone id), so the slot is not lost silently; no job ran for it, no entry stays
# QUEUED, and the later slots fire once each (no double), every one a job that ran once.
#
# Needs a build configured with --enable-fault-injection (FS_BUILDDIR), consul and nginx; exits 77
# when the worker there has no fault points. One round. Prints its figures as
# "figure: fault_sched_fire.<what> N".
#   FS_SRCDIR=. FS_BUILDDIR=build-fault FS_TESTDATA=tests/data sh tests/reliability/fault_sched_fire.sh
. "$FS_SRCDIR/tests/integration/worker_lib.sh"
fs_need_nginx
fs_need_consul
. "$FS_SRCDIR/tests/integration/consul_lib.sh"
. "$FS_SRCDIR/tests/reliability/rel_lib.sh"

rel_need_seam worker/factotum-server-worker

NS=fs-test/sched
FF=$FS_TESTDATA/schedule/slot-append.factfile
OUT=$FS_TMP/slots.out
REASON='interrupted: the node stopped before queueing the job'
trap 'fs_stop_supervisors; fs_stop_workers; fs_consul_stop; fs_cleanup' EXIT
# the abort's core is not wanted
ulimit -c 0

# iso SECONDS: the slot tag's text
iso() {
	date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ
}
# field JSON NAME: a top-level field of a JSON object ("" when absent or null)
field() {
	printf '%s' "$1" | python3 -c '
import json, sys
v = json.load(sys.stdin).get(sys.argv[1])
print("" if v is None else v)
' "$2"
}
# history: GET /schedules?name=every2's rows, one a line, oldest first: "slot result jobId
# reason"; 1 (and the answer) when it does not answer 200
history() {
	fs_req GET '/schedules?name=every2'
	[ "$FS_STATUS" = 200 ] || { echo "$FS_STATUS $FS_BODY"; return 1; }
	printf '%s' "$FS_BODY" | python3 -c '
import json, sys
for h in reversed(json.load(sys.stdin)["history"]):
    print(h["slot"], h["result"], h["jobId"] or "-", h["reason"] or "-")
'
}
# entries: the job entries of the namespace (keys right under it), "<id> <state> <session or ->"
entries() {
	curl -s -f "$FS_CONSUL/v1/kv/$NS/?recurse" 2>/dev/null | python3 -c '
import base64, json, sys
for e in json.load(sys.stdin):
    key = e["Key"][len(sys.argv[1]) + 1:]
    if "/" in key or key.startswith("schedule"):
        continue
    v = json.loads(base64.b64decode(e["Value"] or ""))
    print(key, v["state"], e.get("Session") or "-")
' "$NS"
}
noted() {
	history | grep -qxF "$(iso "$SLOT") refused $JOB $REASON"
}

fs_consul_start
fs_start_consul_responder "$FS_SOCK" "$FS_SPOOL" node-a --consul-namespace "$NS"
fs_start_nginx
FS_FAULT=sched.after-claim=abort
export FS_FAULT
fs_start_consul_worker "$FS_SPOOL" node-a "$FS_CONSUL_PORT" --consul-namespace "$NS"
unset FS_FAULT
fs_post /schedules/set '{"name":"every2","cron":"*/2 * * * * *","jobName":"j-every2","factfilePath":"'"$FF"'","factfileArgs":["--tag","out,'"$OUT"'","--tag","sleep,0"]}'
fs_expect 200 '{"message":"Schedule '"'every2'"' set"}' set

# ---- the first slot's fire: the txn, then the abort before the spool commit ----
# (the firing lock first: at once on a fresh Consul)
rel_until 30 eval '! kill -0 "$FS_WORKER_PID" 2>/dev/null' ||
	fs_fail "the worker did not die at sched.after-claim in 30 s"
kill -KILL "$FS_WORKER_PID" 2>/dev/null
wait "$FS_WORKER_PID"
st=$?
FS_WORKER_PIDS=$(fs_pids_without "$FS_WORKER_PIDS" "$FS_WORKER_PID")
DEAD=$FS_WORKER_PID
[ "$st" = 134 ] || fs_fail "the worker exited $st, not by its fault (abort)"
grep -qxF 'fault: sched.after-claim: abort' "$FS_TMP/worker.log" ||
	fs_fail "the worker did not reach sched.after-claim: $(tail -n 5 "$FS_TMP/worker.log")"
value=$(fs_consul_value "$NS/schedules/every2")
JOB=$(field "$value" lastJob)
SLOT=$(field "$value" lastFired)
if [ -z "$JOB" ] || ! [ "$SLOT" -gt 0 ] 2>/dev/null; then
	fs_fail "the schedule after the abort: $value"
	exit 1
fi
[ "$(field "$(fs_consul_value "$NS/$JOB")" state)" = QUEUED ] ||
	fs_fail "the slot's entry after the abort: $(fs_consul_value "$NS/$JOB")"
[ "$(fs_consul_field "$NS/$JOB" Session)" = "$(fs_spool_setting "$FS_SPOOL" consul.session)" ] ||
	fs_fail "the slot's entry is not locked by the node's session"
[ "$(fs_sql "SELECT count(*) FROM jobs WHERE id = '$JOB'")" = 0 ] ||
	fs_fail "the spool holds the interrupted slot's job"
history | grep -qxF "$(iso "$SLOT") fired $JOB -" || fs_fail "the txn's history row: $(history)"
noted && fs_fail "the slot was noted before the worker's restart"

# ---- the restart: the claim undone and noted, the later slots fired once each ----
n=0
while fuser "$FS_SPOOL/worker.lock" >/dev/null 2>&1 && [ $n -lt 200 ]; do
	n=$((n + 1))
	sleep 0.05
done
fs_start_consul_worker "$FS_SPOOL" node-a "$FS_CONSUL_PORT" --consul-namespace "$NS"
rel_until 15 noted || fs_fail "no note of the interrupted slot: $(history)"
[ -z "$(fs_consul_get "$NS/$JOB")" ] || fs_fail "the claim stays: $(fs_consul_value "$NS/$JOB")"
grep -q "consul: $NS/$JOB: the claim of dead responder [0-9]* undone" "$FS_TMP/worker.log" ||
	fs_fail "the worker's log does not say the claim was undone"
for f in "$FS_SPOOL/claims/$DEAD".*; do
	[ ! -e "$f" ] || fs_fail "the dead worker's claim journal stays: $f"
done
# three slots after the interrupted one fired (the firing lock of the dead worker's session is
# free within twice its TTL, 20 s)
later() {
	[ "$(history | awk -v s="$(iso "$SLOT")" '$2 == "fired" && $1 > s' | wc -l)" -ge 3 ]
}
rel_until 45 later || fs_fail "no 3 slots fired after the restart: $(history)"
fs_post /schedules/pause every2
fs_expect 200 '{"message":"Schedule '"'every2'"' paused"}' pause
sleep 0.5
history >"$FS_TMP/history" || fs_fail "GET /schedules?name=every2: $(cat "$FS_TMP/history")"
fired=$(awk -v s="$(iso "$SLOT")" '$2 == "fired" && $1 > s' "$FS_TMP/history")
doubles=$(awk '$2 == "fired" { print $1 }' "$FS_TMP/history" | sort | uniq -d | wc -l)
[ "$doubles" = 0 ] || fs_fail "slots fired twice: $(cat "$FS_TMP/history")"
[ "$(awk '$2 == "fired" { print $3 }' "$FS_TMP/history" | sort | uniq -d | wc -l)" = 0 ] ||
	fs_fail "two slots share a job: $(cat "$FS_TMP/history")"
[ "$(grep -c " $JOB " "$FS_TMP/history")" = 2 ] ||
	fs_fail "the interrupted slot's rows: $(cat "$FS_TMP/history")"
for id in $(printf '%s\n' "$fired" | awk '{ print $3 }'); do
	fs_wait_state "$id" DONE 20
	fs_expect_outcome "$id" SUCCEEDED 0 null null "slot job $id"
done
# every later slot's task ran once; the interrupted slot's never
want=$(printf '%s\n' "$fired" | awk '{ print $1 }' | sort)
[ "$(sort "$OUT")" = "$want" ] || fs_fail "the tasks wrote '$(cat "$OUT")', expected '$want'"
[ "$(fs_sql "SELECT count(*) FROM jobs WHERE submitted_by = 'schedule:every2'")" = \
	"$(printf '%s\n' "$fired" | wc -l)" ] || fs_fail "jobs: $(fs_sql 'SELECT id, state FROM jobs')"
[ "$(fs_sql "SELECT count(*) FROM jobs WHERE id = '$JOB'")" = 0 ] ||
	fs_fail "the interrupted slot's job was queued after all"
# (the outbox tells Consul the jobs' ends a moment later)
settled() {
	[ -n "$(entries)" ] && [ -z "$(entries | awk '$2 != "DONE"')" ]
}
rel_until 10 settled || fs_fail "entries not DONE: $(entries)"

rel_figure fault_sched_fire.later_fired "$(printf '%s\n' "$fired" | wc -l)"
rel_figure fault_sched_fire.fired_twice "$doubles"
fs_done
