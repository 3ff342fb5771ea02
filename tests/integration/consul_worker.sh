#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The worker's side of Consul, end to end: two nodes (nginx + responder + worker + spool each) on
# one real consul server agent with a data directory (so that it can be stopped and started
# again). Covers: a job runs to DONE and its entry says so, unlocked, seen from the other node;
# a WORKING job is refused by the other node until it is DONE; Consul stopped while a job runs
# and others wait: 503 for submissions, nothing stored, the runs go on, and once Consul is back
# every transition arrives in order and Consul agrees with the spools; a clean stop of an idle
# worker destroys its session; a node killed -9 with a WORKING and a QUEUED job: after the
# session's TTL and lock-delay the other node takes both, and the first, restarted, neither runs
# nor overwrites them (consul-lost).
. "$FS_SRCDIR/tests/integration/worker_lib.sh"
fs_need_nginx; fs_need_consul
. "$FS_SRCDIR/tests/integration/consul_lib.sh"

NS=fs-test/worker
SPOOL_A=$FS_SPOOL
SPOOL_B=$FS_TMP/spool-b
DUP='{"message":"Job is already being processed"}'
HOLD=$FS_TMP/hold
# the workers stop before Consul does (an idle one destroys its session), then the rest
trap 'fs_stop_all_supervisors "$SPOOL_A" "$SPOOL_B"; fs_stop_workers; fs_consul_stop_all; fs_cleanup' EXIT
T0=$(date +%s)
phase() { echo "$(( $(date +%s) - T0 )) s: $*"; }

fs_factfile quick 'echo hi'
QUICK=$FS_FF
fs_factfile hold "while [ -e $HOLD ]; do sleep 0.05; done"
HOLDFF=$FS_FF

set -- $(fs_free_ports 4)
CP=$1 CSL=$2 CSW=$3 CSV=$4
FS_CONSUL_PORT=$CP
FS_CONSUL=http://127.0.0.1:$CP
consul_up() {
	fs_consul_server srv "$CP" "$CSL" "$CSW" "$CSV" 1
	CPID=$FS_CONSUL_SRV_PID
	fs_consul_wait_leader "$FS_CONSUL"
}
consul_up

node_a() { # the responder of node-a (a dead one's socket file goes first)
	rm -f "$FS_TMP/run/a.sock"
	fs_start_consul_responder "$FS_TMP/run/a.sock" "$SPOOL_A" node-a --consul-namespace "$NS"
	RPID_A=$FS_RESP_PID
}
node_a
fs_start_nginx "$FS_TMP/run/a.sock" nginx-a
URL_A=$FS_URL
fs_start_consul_worker "$SPOOL_A" node-a "$CP" --consul-namespace "$NS" --max-workers 1
WPID_A=$FS_WORKER_PID
fs_start_consul_responder "$FS_TMP/run/b.sock" "$SPOOL_B" node-b --consul-namespace "$NS"
fs_start_nginx "$FS_TMP/run/b.sock" nginx-b
URL_B=$FS_URL
fs_start_consul_worker "$SPOOL_B" node-b "$CP" --consul-namespace "$NS"
WPID_B=$FS_WORKER_PID

sql() { # sql SPOOL QUERY
	sqlite3 -cmd '.timeout 5000' "$1/spool.db" "$2"
}
body() { # body FACTFILE TAG
	printf '{"jobName":"t","factfilePath":"%s","factfileArgs":["--tag","k,%s"]}' "$1" "$2"
}
submit() { # submit URL FACTFILE TAG: FS_STATUS, FS_BODY, FS_ID
	FS_URL=$1
	fs_post /submit "$(body "$2" "$3")"
	FS_ID=$(printf '%s' "$FS_BODY" | sed -n 's/.*"jobId":"\([0-9a-f]*\)".*/\1/p')
}
wait_sql() { # wait_sql SPOOL QUERY EXPECTED [SECONDS] [WHAT]
	n=$(( ${4:-20} * 20 ))
	until [ "$(sql "$1" "$2")" = "$3" ]; do
		n=$((n - 1))
		if [ $n -le 0 ]; then
			fs_fail "${5:-$2}: expected '$3', got '$(sql "$1" "$2")'"
			return 1
		fi
		sleep 0.05
	done
}
# agree SPOOL NODE: for every job of the spool whose Consul entry names NODE, the entry is the
# spool's row (state, outcome, exit code, reason), its ModifyIndex is the row's last index seen,
# and a DONE entry is unlocked; the outbox is empty. Prints what disagrees.
agree() {
	sql "$1" "SELECT id, state, outcome, coalesce(exit_code, -1), coalesce(reason, ''),
		  consul_index FROM jobs WHERE consul_index > 0" |
	while IFS='|' read -r id state outcome code reason index; do
		fs_consul_get "$NS/$id" | python3 -c '
import base64, json, sys
node, id, state, outcome, code, reason, index = sys.argv[1:]
e = json.load(sys.stdin)[0]
v = json.loads(base64.b64decode(e["Value"]))
if v.get("node") != node:
    sys.exit(0)
got = (v["state"], v["lastOutcome"], str(v.get("exitCode") if v.get("exitCode") is not None
       else -1), v.get("reason") or "", str(e["ModifyIndex"]))
want = (state, outcome, code, reason, index)
if got != want or (state == "DONE" and e.get("Session")) or v["lastRunFrom"] != node:
    print("%s: Consul %s session %s, spool %s" % (id, got, e.get("Session"), want))
' "$2" "$id" "$state" "$outcome" "$code" "$reason" "$index"
	done
	[ "$(sql "$1" "SELECT count(*) FROM outbox")" = 0 ] || echo "outbox not empty"
}

# ---- a job runs to DONE; its entry says so, unlocked, on every node ----
submit "$URL_A" "$QUICK" 1
[ "$FS_STATUS" = 200 ] || fs_fail "submit 1: $FS_STATUS $FS_BODY"
J1=$FS_ID
FS_URL=$URL_A
fs_wait_state "$J1" DONE && fs_expect_outcome "$J1" SUCCEEDED 0 null null "job 1 in Consul"
case $(fs_consul_value "$NS/$J1") in
'{"state":"DONE","jobRequest":{"jobId":"'"$J1"'",'*'"lastRunFrom":"node-a","lastOutcome":"SUCCEEDED","node":"node-a",'*'"runStarted":"'2*'"runFinished":"'2*'"exitCode":0,'*) ;;
*) fs_fail "job 1's entry: $(fs_consul_value "$NS/$J1")" ;;
esac
[ -z "$(fs_consul_field "$NS/$J1" Session)" ] || fs_fail "job 1's entry is still locked"
FS_URL=$URL_B
fs_check "$J1"
fs_expect_outcome "$J1" SUCCEEDED 0 null null "job 1 through node-b"
wait_sql "$SPOOL_A" "SELECT count(*) FROM outbox" 0 5 "node-a's outbox after job 1"
out=$(agree "$SPOOL_A" node-a)
[ -z "$out" ] || fs_fail "Consul and node-a disagree: $out"

phase "a job ran to DONE"

# ---- claims the responder could not undo (consul.undo.*) are undone by the worker ----
SA=$(sql "$SPOOL_A" "SELECT value FROM settings WHERE key = 'consul.session'")
for k in u1 u2; do
	curl -s -o /dev/null -X PUT --data-binary \
		'[{"KV":{"Verb":"lock","Key":"'"$NS/$k"'","Value":"'"$(printf claim | base64)"'","Session":"'"$SA"'"}}]' \
		"$FS_CONSUL/v1/txn"
done
# a new key (deleted at the claim's index) and one over an earlier entry (put back, unlocked)
sql "$SPOOL_A" "INSERT INTO settings(key, value) VALUES
	('consul.undo.u1', '{\"key\":\"$NS/u1\",\"index\":$(fs_consul_field "$NS/u1" ModifyIndex),\"session\":\"$SA\",\"value\":null}'),
	('consul.undo.u2', '{\"key\":\"$NS/u2\",\"index\":$(fs_consul_field "$NS/u2" ModifyIndex),\"session\":\"$SA\",\"value\":\"before\"}')"
wait_sql "$SPOOL_A" "SELECT count(*) FROM settings WHERE key LIKE 'consul.undo.%'" 0 10 "undo records"
[ -z "$(fs_consul_get "$NS/u1")" ] || fs_fail "undo of a new key: $(fs_consul_get "$NS/u1")"
[ "$(fs_consul_value "$NS/u2")" = before ] && [ -z "$(fs_consul_field "$NS/u2" Session)" ] ||
	fs_fail "undo over an earlier entry: $(fs_consul_get "$NS/u2")"
phase "undo records retried"
# ---- WORKING on node-a: node-b refuses it; DONE: node-b takes it ----
: >"$HOLD"
submit "$URL_A" "$HOLDFF" 2
[ "$FS_STATUS" = 200 ] || fs_fail "submit 2: $FS_STATUS $FS_BODY"
J2=$FS_ID
FS_URL=$URL_A
fs_wait_state "$J2" WORKING
[ "$(fs_consul_field "$NS/$J2" Session)" = "$(sql "$SPOOL_A" "SELECT value FROM settings WHERE key = 'consul.session'")" ] ||
	fs_fail "job 2 WORKING is not locked by node-a's session"
submit "$URL_B" "$HOLDFF" 2
fs_expect 409 "$DUP" "node-b while node-a runs the job"
rm -f "$HOLD"
FS_URL=$URL_A
fs_wait_state "$J2" DONE && fs_expect_outcome "$J2" SUCCEEDED 0 null null "job 2"
submit "$URL_B" "$HOLDFF" 2
[ "$FS_STATUS" = 200 ] && [ "$FS_ID" = "$J2" ] || fs_fail "node-b over DONE: $FS_STATUS $FS_BODY"
FS_URL=$URL_B
fs_wait_state "$J2" DONE && fs_expect_outcome "$J2" SUCCEEDED 0 null null "job 2 on node-b"
case $(fs_consul_value "$NS/$J2") in
*'"lastRunFrom":"node-b"'*) ;;
*) fs_fail "job 2 rerun by node-b: $(fs_consul_value "$NS/$J2")" ;;
esac

phase "node-b refused a WORKING job"
# ---- Consul stopped while a job runs and two wait (node-a runs one at a time) ----
: >"$HOLD"
for t in 3 4 5; do
	ff=$QUICK
	[ $t = 3 ] && ff=$HOLDFF
	submit "$URL_A" "$ff" $t
	[ "$FS_STATUS" = 200 ] || fs_fail "submit $t: $FS_STATUS $FS_BODY"
	eval "J$t=\$FS_ID"
done
wait_sql "$SPOOL_A" "SELECT state FROM jobs WHERE id = '$J3'" WORKING
wait_sql "$SPOOL_A" "SELECT count(*) FROM outbox" 0 5 "node-a's outbox before the outage"
fs_consul_kill "$CPID"
rows=$(sql "$SPOOL_A" "SELECT count(*) FROM jobs")
submit "$URL_A" "$QUICK" 6
case $FS_STATUS$FS_BODY in
'503{"message":"Consul unavailable: '*) ;;
*) fs_fail "submit with Consul stopped: $FS_STATUS $FS_BODY" ;;
esac
[ "$(sql "$SPOOL_A" "SELECT count(*) FROM jobs")" = "$rows" ] || fs_fail "a job stored with Consul down"
rm -f "$HOLD"
wait_sql "$SPOOL_A" "SELECT group_concat(state || '/' || outcome, ' ') FROM
	(SELECT state, outcome FROM jobs WHERE id IN ('$J3', '$J4', '$J5') ORDER BY seq)" \
	"DONE/SUCCEEDED DONE/SUCCEEDED DONE/SUCCEEDED" 20 "the runs while Consul is down"
# J3's finish, then J4's and J5's start and finish wait in the outbox
[ "$(sql "$SPOOL_A" "SELECT count(*) FROM outbox")" = 5 ] ||
	fs_fail "outbox while Consul is down: $(sql "$SPOOL_A" "SELECT count(*) FROM outbox") entries"
mark=$(wc -l <"$FS_TMP/worker.log")
consul_up
wait_sql "$SPOOL_A" "SELECT count(*) FROM outbox" 0 20 "node-a's outbox after Consul came back"
out=$(agree "$SPOOL_A" node-a)
[ -z "$out" ] || fs_fail "after the outage, Consul and node-a disagree: $out"
out=$(agree "$SPOOL_B" node-b)
[ -z "$out" ] || fs_fail "after the outage, Consul and node-b disagree: $out"
# in order: the writes after the restart are J3 DONE, J4 WORKING, J4 DONE, J5 WORKING, J5 DONE,
# at increasing indexes
tail -n +"$((mark + 1))" "$FS_TMP/worker.log" |
	sed -n 's/.*consul: job \([0-9a-f]*\): \([A-Z]*\)\/[A-Z]* written (index \([0-9]*\)).*/\1 \2 \3/p' \
	>"$FS_TMP/replay"
got=$(awk '{ print $1 " " $2 }' "$FS_TMP/replay" | tr '\n' ' ')
[ "$got" = "$J3 DONE $J4 WORKING $J4 DONE $J5 WORKING $J5 DONE " ] ||
	fs_fail "the replay's order: $(cat "$FS_TMP/replay")"
awk 'NR > 1 && $3 <= last { bad = 1 } { last = $3 } END { exit bad }' "$FS_TMP/replay" ||
	fs_fail "replayed indexes do not increase: $(cat "$FS_TMP/replay")"
FS_URL=$URL_B
for j in "$J3" "$J4" "$J5"; do
	fs_check "$j"
	fs_expect_outcome "$j" SUCCEEDED 0 null null "job $j through node-b after the outage"
done

phase "the outage's transitions replayed"
# ---- a clean stop of an idle worker destroys its session; the next start makes one ----
SB=$(sql "$SPOOL_B" "SELECT value FROM settings WHERE key = 'consul.session'")
fs_stop_worker "$WPID_B"
[ "$(sql "$SPOOL_B" "SELECT count(*) FROM settings WHERE key = 'consul.session'")" = 0 ] ||
	fs_fail "node-b's session setting kept after an idle stop"
[ "$(curl -s "$FS_CONSUL/v1/session/info/$SB")" = "[]" ] || fs_fail "node-b's session kept in Consul"
fs_start_consul_worker "$SPOOL_B" node-b "$CP" --consul-namespace "$NS"
WPID_B=$FS_WORKER_PID

phase "an idle stop destroyed the session"
# ---- node-a killed -9 with a WORKING and a QUEUED job ----
: >"$HOLD"
submit "$URL_A" "$HOLDFF" 7
J7=$FS_ID
submit "$URL_A" "$QUICK" 8
J8=$FS_ID
[ -n "$J7" ] && [ -n "$J8" ] || fs_fail "submits 7 and 8"
wait_sql "$SPOOL_A" "SELECT state FROM jobs WHERE id = '$J7'" WORKING
wait_sql "$SPOOL_A" "SELECT count(*) FROM outbox" 0 5 "node-a's outbox before the kill"
SUP=$(sed -n 's/^pid=//p' "$SPOOL_A/runs/$J7.pid")
RUNNER=$(cat "/proc/$SUP/task/$SUP/children" 2>/dev/null)
kill -KILL "$WPID_A" "$RPID_A" "$SUP" 2>/dev/null
for r in $RUNNER; do kill -KILL -- "-$r" 2>/dev/null; done
{ wait "$WPID_A" "$RPID_A"; } 2>/dev/null
FS_WORKER_PIDS=$(echo "$FS_WORKER_PIDS" | tr ' ' '\n' | grep -vx "$WPID_A" | tr '\n' ' ')
FS_RESP_PIDS=$(echo "$FS_RESP_PIDS" | tr ' ' '\n' | grep -vx "$RPID_A" | tr '\n' ' ')
rm -f "$HOLD" # the runner's task, now an orphan, ends
# node-b: refused while node-a's session lives, then (TTL, up to twice over, + lock-delay) taken
start=$(date +%s)
taken=
while [ $(( $(date +%s) - start )) -lt 75 ]; do
	submit "$URL_B" "$HOLDFF" 7
	case $FS_STATUS in
	200) taken=$(( $(date +%s) - start )); break ;;
	409) ;;
	*) fs_fail "node-b taking over: $FS_STATUS $FS_BODY"; break ;;
	esac
	sleep 1
done
[ -n "$taken" ] && [ "$FS_ID" = "$J7" ] || fs_fail "node-b never took the WORKING job over"
phase "node-b took the dead node's WORKING job after ${taken:-?} s"
submit "$URL_B" "$QUICK" 8
[ "$FS_STATUS" = 200 ] && [ "$FS_ID" = "$J8" ] || fs_fail "node-b taking the QUEUED job: $FS_STATUS $FS_BODY"
FS_URL=$URL_B
fs_wait_state "$J7" DONE && fs_wait_state "$J8" DONE
I7=$(fs_consul_field "$NS/$J7" ModifyIndex)
I8=$(fs_consul_field "$NS/$J8" ModifyIndex)
# node-a comes back: its re-acquisition fails, it runs and writes neither
mark=$(wc -l <"$FS_TMP/worker.log")
node_a
fs_start_consul_worker "$SPOOL_A" node-a "$CP" --consul-namespace "$NS" --max-workers 1
WPID_A=$FS_WORKER_PID
wait_sql "$SPOOL_A" "SELECT group_concat(state || '/' || outcome || '/' || reason, ' ') FROM
	(SELECT state, outcome, reason FROM jobs WHERE id IN ('$J7', '$J8') ORDER BY seq)" \
	"DONE/FAILED/consul-lost DONE/FAILED/consul-lost" 10 "node-a's lost jobs"
[ "$(sql "$SPOOL_A" "SELECT count(*) FROM settings WHERE key IN ('consul.lost.$J7', 'consul.lost.$J8')")" = 2 ] ||
	fs_fail "node-a did not record the losses"
sleep 1
tail -n +"$((mark + 1))" "$FS_TMP/worker.log" | grep -q "job $J8: started" &&
	fs_fail "node-a ran the job it lost"
[ "$(fs_consul_field "$NS/$J7" ModifyIndex) $(fs_consul_field "$NS/$J8" ModifyIndex)" = "$I7 $I8" ] ||
	fs_fail "node-a wrote the entries it lost"
case $(fs_consul_value "$NS/$J7")$(fs_consul_value "$NS/$J8") in
*'"lastRunFrom":"node-b"'*'"lastRunFrom":"node-b"'*) ;;
*) fs_fail "the lost entries: $(fs_consul_value "$NS/$J7") $(fs_consul_value "$NS/$J8")" ;;
esac
phase "node-a, back, ran and wrote nothing it lost"
# and node-a works again
submit "$URL_A" "$QUICK" 9
[ "$FS_STATUS" = 200 ] || fs_fail "node-a after its restart: $FS_STATUS $FS_BODY"
FS_URL=$URL_A
fs_wait_state "$FS_ID" DONE && fs_expect_outcome "$FS_ID" SUCCEEDED 0 null null "job 9"
out=$(agree "$SPOOL_A" node-a)
[ -z "$out" ] || fs_fail "at the end, Consul and node-a disagree: $out"

fs_done
