#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A slot claim orphaned by a power loss, with Consul, on one node: what such a loss leaves is
# crafted in Consul (the schedule's lastJob, lastFired, historySeq and "fired" row, and the job's
# QUEUED entry still carrying claimedBy of a node that is gone, locked by no session), then the
# worker is started again so that its firer takes the firing lock: the firer deletes the entry,
# the schedule's history reads refused "interrupted: the firing node was lost before queueing the
# job" with the job's id, and /metrics counts one more refused slot. Left alone, the same entry
# held by a live session, one without claimedBy (as a spool writes it) and a WORKING one; the held
# one is watched, and found once its session ended though its schedule's lastJob moved on.
. "$FS_SRCDIR/tests/integration/worker_lib.sh"
fs_need_nginx
fs_need_consul
. "$FS_SRCDIR/tests/integration/consul_lib.sh"

NS=fs-test/orphan
FF=$FS_TESTDATA/schedule/slot-append.factfile
OUT=$FS_TMP/slots.out
REASON="interrupted: the firing node was lost before queueing the job"
SID=
trap 'fs_stop_supervisors; fs_stop_workers; fs_consul_stop; fs_cleanup' EXIT

fs_consul_start
fs_start_consul_responder "$FS_TMP/run/a.sock" "$FS_SPOOL" node-a --consul-namespace "$NS"
fs_start_nginx "$FS_TMP/run/a.sock" nginx-a
fs_start_consul_worker "$FS_SPOOL" node-a "$FS_CONSUL_PORT" --consul-namespace "$NS"

iso() { # iso SECONDS: the slot tag's text
	date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ
}
refused_count() {
	fs_req GET /metrics
	printf '%s' "$FS_BODY" |
		sed -n 's/^factotum_server_schedule_slots_total{result="refused"} \([0-9]*\)$/\1/p'
}

# Four schedules that never fire on their own; the sweep reads them in name order, so the one
# to adopt comes last: once it is gone, the other three were looked at.
for n in a-held b-spooled c-working d-orphan; do
	fs_expect_post /schedules/set '{"name":"'"$n"'","cron":"@yearly","jobName":"j-'"$n"'","factfilePath":"'"$FF"'","factfileArgs":["--tag","out,'"$OUT"'","--tag","sleep,0"]}' \
		200 '{"message":"Schedule '"'$n'"' set"}'
done
# a real slot job: its entry and history row are the shapes to copy
fs_post /schedules/run '{"name":"d-orphan"}'
JOB=$(printf '%s' "$FS_BODY" | sed -n 's/.*"jobId":"\([0-9a-f]*\)".*/\1/p')
[ "$FS_STATUS" = 200 ] && [ -n "$JOB" ] || fs_fail "run-now: $FS_STATUS $FS_BODY"
fs_wait_state "$JOB" DONE
REAL_ENTRY=$(fs_consul_value "$NS/$JOB")
REAL_ROW=$(fs_consul_value "$NS/schedule-slots/d-orphan/0")
case $REAL_ENTRY in *'"claimedBy"'*) fs_fail "a DONE entry with claimedBy: $REAL_ENTRY" ;; esac
[ -n "$REAL_ROW" ] || fs_fail "no history row for the run"
REFUSED0=$(refused_count)
[ -n "$REFUSED0" ] || fs_fail "no refused counter in /metrics: $FS_BODY"

# the firer lets the lock go (SIGTERM): nothing sweeps while the loss is crafted
fs_stop_workers
SLOT=$(($(date +%s) - 100))
SID=$(fs_consul_session node-holder 60s 0s)
[ -n "$SID" ] || fs_fail "cannot create a Consul session"

# craft NAME STATE CLAIMED [SESSION]: the job entry of a slot of NAME fired at SLOT (a copy of
# the real one under a new id, STATE, claimedBy of node-gone when CLAIMED is 1, locked by
# SESSION if given) and the schedule's state and "fired" row as the fire's txn writes them; the
# new id in ID_<NAME with _ for ->.
craft() {
	_id=$(printf '%s %s' "$1" "$SLOT" | sha256sum | cut -c1-64)
	_entry=$(printf '%s' "$REAL_ENTRY" | python3 -c '
import json, sys
v = json.load(sys.stdin)
jid, name, state, claimed, slot = sys.argv[1:6]
v["state"] = state
v["lastOutcome"] = {"QUEUED": "WAITING", "WORKING": "RUNNING"}[state]
v["jobRequest"]["jobId"] = jid
args = v["jobRequest"]["factfileArgs"]
args[args.index("schedule,d-orphan")] = "schedule," + name
args[-1] = "slot," + slot
v["lastRunFrom"] = v["node"] = "node-gone"
v["runFinished"] = v["exitCode"] = None
if state == "QUEUED":
    v["runStarted"] = None
if claimed == "1":
    v["claimedBy"] = {"node": "node-gone", "pid": 4242, "start": 123456, "claim": 1}
print(json.dumps(v, separators=(",", ":")))
' "$_id" "$1" "$2" "$3" "$(iso "$SLOT")")
	curl -sf -X PUT --data-binary "$_entry" "$FS_CONSUL/v1/kv/$NS/$_id${4:+?acquire=$4}" |
		grep -qx true || fs_fail "cannot write the entry of $1"
	_sched=$(fs_consul_value "$NS/schedules/$1" | python3 -c '
import json, sys
v = json.load(sys.stdin)
v["lastJob"], v["lastFired"] = sys.argv[1], int(sys.argv[2])
print(v["historySeq"])
v["historySeq"] += 1
print(json.dumps(v, separators=(",", ":")))
' "$_id" "$SLOT")
	_seq=$(printf '%s\n' "$_sched" | sed -n 1p)
	_row=$(printf '%s' "$REAL_ROW" | python3 -c '
import json, sys
v = json.load(sys.stdin)
v["seq"], v["slot"], v["jobId"] = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
print(json.dumps(v, separators=(",", ":")))
' "$_seq" "$SLOT" "$_id")
	fs_consul_put "$NS/schedule-slots/$1/$_seq" "$_row"
	fs_consul_put "$NS/schedules/$1" "$(printf '%s\n' "$_sched" | sed -n 2p)"
	eval "ID_$(echo "$1" | tr - _)=\$_id"
}
craft a-held QUEUED 1 "$SID"
craft b-spooled QUEUED 0
craft c-working WORKING 1
craft d-orphan QUEUED 1
for n in a_held b_spooled c_working; do
	eval "k=\$NS/\$ID_$n"
	eval "IDX_$n=\$(fs_consul_field \"\$k\" ModifyIndex)"
done
[ -n "$(fs_consul_value "$NS/$ID_d_orphan")" ] || fs_fail "the orphan was not written"
[ -z "$(fs_consul_field "$NS/$ID_d_orphan" Session)" ] || fs_fail "the orphan is held"

# the worker again: its firer takes the lock and sweeps at once
fs_start_consul_worker "$FS_SPOOL" node-a "$FS_CONSUL_PORT" --consul-namespace "$NS"
gone() { [ -z "$(fs_consul_get "$NS/$ID_d_orphan")" ]; }
fs_until "$FS_WORKER_PID" 300 gone || fs_fail "the orphaned claim is still in Consul after 15 s"

# its slot is accounted for: refused, with the id, after the crafted fired row
fs_req GET '/schedules?name=d-orphan'
case $FS_BODY in
*'"history":[{"slot":"'"$(iso "$SLOT")"'","result":"refused","reason":"'"$REASON"'","jobId":"'"$ID_d_orphan"'","count":1,"recorded":"20'*'Z"},{"slot":"'"$(iso "$SLOT")"'","result":"fired","reason":null,"jobId":"'"$ID_d_orphan"'","count":1,"recorded":"20'*'Z"},{"slot":"'*'","result":"fired","reason":null,"jobId":"'"$JOB"'",'*'}]}') ;;
*) fs_fail "GET /schedules?name=d-orphan after the sweep: $FS_BODY" ;;
esac
counted() { [ "$(refused_count)" = $((REFUSED0 + 1)) ]; }
fs_until "$FS_WORKER_PID" 100 counted ||
	fs_fail "refused slots in /metrics: $(refused_count), expected $((REFUSED0 + 1))"
grep -q "d-orphan: slot $SLOT: job $ID_d_orphan deleted and noted refused: the claim of node node-gone" \
	"$FS_TMP/worker.log" ||
	fs_fail "the worker's log does not say the claim was deleted"

# the other three are left as they were: the same key, index and history
for n in a_held b_spooled c_working; do
	eval "id=\$ID_$n idx=\$IDX_$n"
	name=$(echo "$n" | tr _ -)
	[ "$(fs_consul_field "$NS/$id" ModifyIndex)" = "$idx" ] ||
		fs_fail "$name's entry changed: $(fs_consul_get "$NS/$id")"
	fs_req GET "/schedules?name=$name"
	case $FS_BODY in
	*'"history":[{"slot":"'"$(iso "$SLOT")"'","result":"fired","reason":null,"jobId":"'"$id"'","count":1,"recorded":"20'*'Z"}]}') ;;
	*) fs_fail "GET /schedules?name=$name: $FS_BODY" ;;
	esac
done
[ "$(fs_consul_field "$NS/$ID_a_held" Session)" = "$SID" ] || fs_fail "a-held lost its holder"
[ "$(refused_count)" = $((REFUSED0 + 1)) ] || fs_fail "more slots counted refused"

# ---- a claim held at a sweep is watched: its schedule fires a later slot, then its session
# ends; the next sweep (the lock lost to a drain and taken again) finds it all the same ----
fs_consul_put "$NS/schedules/a-held" "$(fs_consul_value "$NS/schedules/a-held" | python3 -c '
import json, sys
v = json.load(sys.stdin)
v["lastJob"], v["lastFired"] = sys.argv[1], int(sys.argv[2])
print(json.dumps(v, separators=(",", ":")))
' "$JOB" $((SLOT + 1)))"
curl -sf -X PUT "$FS_CONSUL/v1/session/destroy/$SID" >/dev/null
[ -z "$(fs_consul_field "$NS/$ID_a_held" Session)" ] || fs_fail "a-held is still held"
released() { [ "$(grep -c 'schedules: no longer firing' "$FS_TMP/worker.log")" = 2 ]; }
fs_post /settings '{"state":"drain"}'
fs_until "$FS_WORKER_PID" 200 released || fs_fail "the firer did not give the lock up on drain"
fs_post /settings '{"state":"run"}'
held_gone() { [ -z "$(fs_consul_get "$NS/$ID_a_held")" ]; }
fs_until "$FS_WORKER_PID" 300 held_gone || fs_fail "the watched claim is still in Consul"
fs_req GET '/schedules?name=a-held'
case $FS_BODY in
*'"history":[{"slot":"'"$(iso "$SLOT")"'","result":"refused","reason":"'"$REASON"'","jobId":"'"$ID_a_held"'","count":1,"recorded":"20'*'Z"},{"slot":"'"$(iso "$SLOT")"'","result":"fired",'*) ;;
*) fs_fail "GET /schedules?name=a-held after the watched sweep: $FS_BODY" ;;
esac
[ "$(refused_count)" = $((REFUSED0 + 2)) ] || fs_fail "refused slots: $(refused_count)"

fs_done
