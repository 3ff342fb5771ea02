# SPDX-License-Identifier: Apache-2.0
# sched.after-claim with Consul: the worker's firer (the process that fires schedules with
# Consul) aborts between a slot's txn (the schedule's new state, the slot's history row "fired",
# the slot job's claim locked by the node's session) and the job's spool commit. The worker,
# which would start the firer again with the same fault, is stopped and started again without
# it; its reconciliation undoes the claim and notes the slot in its history (refused,
# "interrupted: the node stopped before queueing the job", the undone id), so the slot is not lost
# silently; no job ran for it, no entry stays QUEUED, and the later slots fire once each (no
# double), every one a job that ran once. Every interrupted fire is held to this, should the
# worker have started a second firer before its stop.
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

fs_consul_start
fs_start_consul_responder "$FS_SOCK" "$FS_SPOOL" node-a --consul-namespace "$NS"
fs_start_nginx
FS_FAULT=sched.after-claim=abort
export FS_FAULT
fs_start_consul_worker "$FS_SPOOL" node-a "$FS_CONSUL_PORT" --consul-namespace "$NS"
unset FS_FAULT
fs_post /schedules/set '{"name":"every2","cron":"*/2 * * * * *","jobName":"j-every2","factfilePath":"'"$FF"'","factfileArgs":["--tag","out,'"$OUT"'","--tag","sleep,0"]}'
fs_expect 200 '{"message":"Schedule '"'every2'"' set"}' set

# ---- the first slot's fire: the txn, then the firer's abort before the spool commit ----
aborted() {
	grep -qxF 'fault: sched.after-claim: abort' "$FS_TMP/worker.log"
}
rel_until 30 aborted || fs_fail "the firer did not reach sched.after-claim in 30 s"
# the worker starts a dead firer again (5 s after its last start) with the same fault: it is
# stopped and started again without it
KILLED='schedules: the firer (pid [0-9]*) was killed by signal 6'
rel_until 5 grep -q "$KILLED" "$FS_TMP/worker.log" ||
	fs_fail "the worker did not see its firer die: $(tail -n 5 "$FS_TMP/worker.log")"
fs_stop_worker "$FS_WORKER_PID"
[ "$FS_WORKER_STATUS" = 0 ] || fs_fail "the worker's stop: exit $FS_WORKER_STATUS"
ABORTS=$(grep -cxF 'fault: sched.after-claim: abort' "$FS_TMP/worker.log")
FIRERS=$(sed -n 's/.*schedules: the firer (pid \([0-9]*\)) was killed by signal 6.*/\1/p' \
	"$FS_TMP/worker.log")
# each abort left a slot fired in Consul whose job the spool never got
history >"$FS_TMP/history" || fs_fail "GET /schedules?name=every2: $(cat "$FS_TMP/history")"
awk '$2 == "fired" { print $1, $3 }' "$FS_TMP/history" | while read -r slot id; do
	[ "$(fs_sql "SELECT count(*) FROM jobs WHERE id = '$id'")" != 0 ] || echo "$slot $id"
done >"$FS_TMP/interrupted"
[ "$(wc -l <"$FS_TMP/interrupted")" = "$ABORTS" ] ||
	fs_fail "$ABORTS aborts; fires interrupted: $(cat "$FS_TMP/interrupted");" \
		"history: $(cat "$FS_TMP/history")"
[ "$ABORTS" -ge 1 ] || exit 1
LAST=$(tail -n 1 "$FS_TMP/interrupted" | cut -d' ' -f1)
cut -d' ' -f2 "$FS_TMP/interrupted" >"$FS_TMP/interrupted.ids"

# ---- the restart: the claims undone and noted, the later slots fired once each ----
fs_start_consul_worker "$FS_SPOOL" node-a "$FS_CONSUL_PORT" --consul-namespace "$NS"
noted() {
	history >"$FS_TMP/history.now" || return 1
	while read -r slot id; do
		grep -qxF "$slot refused $id $REASON" "$FS_TMP/history.now" || return 1
	done <"$FS_TMP/interrupted"
}
rel_until 15 noted || fs_fail "interrupted slots not noted: $(cat "$FS_TMP/history.now")"
while read -r slot id; do
	[ -z "$(fs_consul_get "$NS/$id")" ] || fs_fail "the claim stays: $(fs_consul_value "$NS/$id")"
	grep -q "consul: $NS/$id: the claim of dead .* undone" "$FS_TMP/worker.log" ||
		fs_fail "the worker's log does not say the claim of $id was undone"
done <"$FS_TMP/interrupted"
for pid in $FIRERS; do
	for f in "$FS_SPOOL/claims/$pid".*; do
		[ ! -e "$f" ] || fs_fail "the dead firer's claim journal stays: $f"
	done
done
# three slots after the interrupted ones fired (the firing lock of the dead firer's session is
# free within twice its TTL, 20 s)
later() {
	[ "$(history | awk -v s="$LAST" '$2 == "fired" && $1 > s' | wc -l)" -ge 3 ]
}
rel_until 45 later || fs_fail "no 3 slots fired after the restart: $(history)"
fs_post /schedules/pause '{"name":"every2"}'
fs_expect 200 '{"message":"Schedule '"'every2'"' paused"}' pause
sleep 0.5
history >"$FS_TMP/history" || fs_fail "GET /schedules?name=every2: $(cat "$FS_TMP/history")"
# the fired slots but the interrupted ones
fired=$(awk '$2 == "fired"' "$FS_TMP/history" | grep -vFf "$FS_TMP/interrupted.ids")
doubles=$(awk '$2 == "fired" { print $1 }' "$FS_TMP/history" | sort | uniq -d | wc -l)
[ "$doubles" = 0 ] || fs_fail "slots fired twice: $(cat "$FS_TMP/history")"
[ "$(awk '$2 == "fired" { print $3 }' "$FS_TMP/history" | sort | uniq -d | wc -l)" = 0 ] ||
	fs_fail "two slots share a job: $(cat "$FS_TMP/history")"
while read -r slot id; do
	[ "$(grep -c " $id " "$FS_TMP/history")" = 2 ] ||
		fs_fail "the interrupted slot $slot's rows: $(cat "$FS_TMP/history")"
	[ "$(fs_sql "SELECT count(*) FROM jobs WHERE id = '$id'")" = 0 ] ||
		fs_fail "the interrupted slot $slot's job was queued after all"
done <"$FS_TMP/interrupted"
for id in $(printf '%s\n' "$fired" | awk '{ print $3 }'); do
	fs_wait_state "$id" DONE 20 || continue
	[ "$FS_OUTCOME $FS_EXIT" = "SUCCEEDED 0" ] || fs_fail "slot job $id: $FS_BODY"
done
# every later slot's task ran once; the interrupted slot's never
want=$(printf '%s\n' "$fired" | awk '{ print $1 }' | sort)
[ "$(sort "$OUT")" = "$want" ] || fs_fail "the tasks wrote '$(cat "$OUT")', expected '$want'"
[ "$(fs_sql "SELECT count(*) FROM jobs WHERE submitted_by = 'schedule:every2'")" = \
	"$(printf '%s\n' "$fired" | wc -l)" ] || fs_fail "jobs: $(fs_sql 'SELECT id, state FROM jobs')"
# (the outbox tells Consul the jobs' ends a moment later)
settled() {
	[ -n "$(entries)" ] && [ -z "$(entries | awk '$2 != "DONE"')" ]
}
rel_until 10 settled || fs_fail "entries not DONE: $(entries)"

rel_figure fault_sched_fire.interrupted "$ABORTS"
rel_figure fault_sched_fire.later_fired "$(printf '%s\n' "$fired" | wc -l)"
rel_figure fault_sched_fire.fired_twice "$doubles"
fs_done
