#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The Consul fault points of /submit and the worker's reconciliation (doc/consul.md), on one node
# (nginx + responder + worker) and a dev Consul agent. Needs the fault-injection seam (exit 77
# without it). Asserts:
#   fcgi.after-consul-claim=kill   the claim is in Consul, the job not in the spool; the worker
#                                  undoes the claim within its period; a resubmission answers
#                                  200 and the job runs once. Killed again over the job's DONE
#                                  entry, the undo puts that entry back as it was, unlocked.
#   fcgi.after-spool-commit=kill   no 200, but the job runs exactly once and its Consul entry
#                                  ends equal to the spool's row.
#   entries Consul lost            a DONE and a WORKING job's keys deleted by hand are written
#                                  again from the spool (the WORKING one locked by the node's
#                                  session, and its finish then delivered over it).
#   fcgi.claim-unanswered=eio      the claim applied in Consul but its answer lost: a 503 naming
#                                  it, the live responder records the claim as abandoned, the
#                                  worker undoes it within its period, a resubmission answers 200
#                                  and the job runs once.
#   a live claimer                 a journal whose process still runs is never acted on: its
#                                  claim stays through passes, and is undone once it has died.
# Figures: fault_consul.rounds, fault_consul.undo-s (the longest time from the responder's
# restart to its dead claim's undo), fault_consul.rewrite-s (from a key's deletion to its
# rewrite). Short form: one round of the two kill points; full form (FS_RELIABILITY=full): 10.
. "$FS_SRCDIR/tests/integration/worker_lib.sh"
. "$FS_SRCDIR/tests/integration/consul_lib.sh"
. "$FS_SRCDIR/tests/reliability/rel_lib.sh"

rel_need_seam fcgi/factotum-server-fcgi

if rel_full; then ROUNDS=10; else ROUNDS=1; fi
NS=fs-test/fault
# the worker's period (worker/reconcile.h, RECONCILE_PERIOD_MS) and a margin for a busy machine
LIMIT=25
MARKS=$FS_TMP/marks
HOLD=$FS_TMP/hold
mkdir -p "$MARKS"
chmod 1777 "$MARKS"
trap 'fs_stop_supervisors; fs_stop_workers; fs_consul_stop; fs_cleanup' EXIT

sql() {
	sqlite3 -cmd '.timeout 5000' "$FS_SPOOL/spool.db" "$1"
}
now() {
	date +%s
}
# resp [FS_FAULT]: the node's responder (again), with that fault chosen if given (rel_lib.sh).
resp() {
	rel_resp "$@"
}
submit() { # submit FACTFILE TAG: FS_STATUS, FS_BODY, FS_ID
	fs_post /submit "$(printf '{"jobName":"t","factfilePath":"%s","factfileArgs":["--tag","k,%s"]}' "$1" "$2")"
	FS_ID=$(printf '%s' "$FS_BODY" | sed -n 's/.*"jobId":"\([0-9a-f]*\)".*/\1/p')
}
keys() {
	curl -s "$FS_CONSUL/v1/kv/$NS/?keys" | python3 -c '
import json, sys
try:
    print("\n".join(sorted(json.load(sys.stdin))))
except Exception:
    pass
'
}
# died PID WHAT: up to 10 s for the responder PID to die at its fault point (reaped), else a
# failure (a submission that never reached the point leaves it running).
died() {
	if rel_until 10 eval '! kill -0 "$1" 2>/dev/null'; then
		wait "$1" 2>/dev/null
	else
		fs_fail "$2: the responder did not die at its fault point"
	fi
}
# killed_at POINT FACTFILE TAG: submits to a responder that dies at POINT: no 200, and the
# responder gone; K and ID are the key that appeared in Consul and its job id.
killed_at() {
	resp "$1=kill"
	before=$(keys)
	submit "$2" "$3"
	[ "$FS_STATUS" != 200 ] || fs_fail "round $r: a 200 from a responder killed at $1"
	died "$RPID" "round $r, $1"
	K=$(keys | grep -vxF "$before" | head -n 1)
	ID=${K##*/}
}
gone() {
	[ -z "$(fs_consul_get "$1")" ]
}
present() {
	[ -n "$(fs_consul_get "$1")" ]
}
value_is() { # value_is KEY VALUE: the value, unlocked
	[ "$(fs_consul_value "$1")" = "$2" ] && [ -z "$(fs_consul_field "$1" Session)" ]
}
# mismatch ID: what differs between job ID's spool row and its Consul entry (state, outcome,
# reason, the row's fence = the entry's ModifyIndex, locked by the node's session unless DONE);
# nothing when they agree.
mismatch() {
	row=$(sql "SELECT state, outcome, coalesce(reason, ''), consul_index FROM jobs WHERE id = '$1'")
	fs_consul_get "$NS/$1" | python3 -c '
import base64, json, sys
row, session = sys.argv[1], sys.argv[2]
try:
    e = json.load(sys.stdin)[0]
except Exception:
    print("no entry; spool: " + row)
    sys.exit(0)
v = json.loads(base64.b64decode(e["Value"]))
got = "|".join([v["state"], v["lastOutcome"], v.get("reason") or "", str(e["ModifyIndex"])])
lock = e.get("Session") or ""
want_lock = "" if v["state"] == "DONE" else session
if got != row or lock != want_lock:
    print("Consul %s lock %r, spool %s lock %r" % (got, lock, row, want_lock))
' "$row" "$(fs_spool_setting "$FS_SPOOL" consul.session)"
}
agrees() {
	[ -z "$(mismatch "$1")" ]
}
runs() { # runs TAG: how many times the task of TAG ran
	if [ -f "$MARKS/$1" ]; then wc -l <"$MARKS/$1" | tr -d ' '; else echo 0; fi
}
journals() { # the claim journals in the spool, by name
	ls "$FS_SPOOL/claims" 2>/dev/null | sort | tr '\n' ' '
}
# the journals left are live processes' (the responder's, and the worker's schedule firer's)
only_live_journal() {
	case " $(journals)" in
	*" $RPID."*) ;;
	*) return 1 ;;
	esac
	for _j in $(journals); do
		kill -0 "${_j%%.*}" 2>/dev/null || return 1
	done
}

fs_consul_start
resp
fs_start_nginx "$FS_TMP/run/a.sock"
fs_start_consul_worker "$FS_SPOOL" node-a "$FS_CONSUL_PORT" --consul-namespace "$NS"
SESSION=$(fs_spool_setting "$FS_SPOOL" consul.session)
UNDO_MAX=0
REWRITE_MAX=0

r=0
while [ $r -lt $ROUNDS ]; do
	r=$((r + 1))
	# ---- killed between the claim txn and the spool commit ----
	fs_factfile "a$r" "echo ran >>$MARKS/a$r"
	FF=$FS_FF
	killed_at fcgi.after-consul-claim "$FF" "a$r"
	case $(fs_consul_value "$K") in
	'{"state":"QUEUED",'*'"claimedBy":{"node":"node-a","pid":'"$RPID"',"start":'*) ;;
	*) fs_fail "round $r: the dead responder's claim: '$K' $(fs_consul_value "$K")" ;;
	esac
	[ "$(fs_consul_field "$K" Session)" = "$SESSION" ] || fs_fail "round $r: the claim is not locked by the node"
	[ "$(sql "SELECT count(*) FROM jobs WHERE id = '$ID'")" = 0 ] || fs_fail "round $r: the job was stored"
	DEAD=$RPID
	resp
	t0=$(now)
	if rel_until $LIMIT gone "$K"; then
		t=$(($(now) - t0))
		[ $t -le $UNDO_MAX ] || UNDO_MAX=$t
	else
		fs_fail "round $r: the dead responder's claim was not undone in $LIMIT s: $(fs_consul_get "$K")"
	fi
	rel_until 5 eval '! ls "$FS_SPOOL/claims" | grep -q "^$DEAD\."' ||
		fs_fail "round $r: the dead responder's journal is still there: $(journals)"
	submit "$FF" "a$r"
	[ "$FS_STATUS" = 200 ] && [ "$FS_ID" = "$ID" ] || fs_fail "round $r: resubmission: $FS_STATUS $FS_BODY"
	fs_wait_state "$ID" DONE && fs_expect_outcome "$ID" SUCCEEDED 0 null null "round $r: job a"
	rel_until 5 agrees "$ID" || fs_fail "round $r: job a: $(mismatch "$ID")"
	[ "$(runs "a$r")" = 1 ] || fs_fail "round $r: job a ran $(runs "a$r") times"

	# ---- the same, over the job's DONE entry: put back as it was ----
	PREV=$(fs_consul_value "$K")
	resp fcgi.after-consul-claim=kill
	submit "$FF" "a$r"
	[ "$FS_STATUS" != 200 ] || fs_fail "round $r: a 200 from a responder killed before its commit"
	died "$RPID" "round $r, job a over DONE"
	case $(fs_consul_value "$K") in
	'{"state":"QUEUED",'*'"claimedBy":{"node":"node-a","pid":'"$RPID"',"start":'*) ;;
	*) fs_fail "round $r: the claim over DONE: $(fs_consul_value "$K")" ;;
	esac
	resp
	t0=$(now)
	if rel_until $LIMIT value_is "$K" "$PREV"; then
		t=$(($(now) - t0))
		[ $t -le $UNDO_MAX ] || UNDO_MAX=$t
	else
		fs_fail "round $r: the claim over DONE was not undone: $(fs_consul_get "$K")"
	fi
	[ "$(runs "a$r")" = 1 ] || fs_fail "round $r: job a ran $(runs "a$r") times"

	# ---- killed between the spool commit and the answer ----
	fs_factfile "b$r" "echo ran >>$MARKS/b$r"
	killed_at fcgi.after-spool-commit "$FS_FF" "b$r"
	resp
	[ -n "$ID" ] && fs_wait_state "$ID" DONE && fs_expect_outcome "$ID" SUCCEEDED 0 null null "round $r: job b"
	rel_until 5 agrees "$ID" || fs_fail "round $r: job b: $(mismatch "$ID")"
	# the worker reads the dead journal, leaves the stored job's entry, removes the journal
	rel_until $LIMIT only_live_journal || fs_fail "round $r: journals left: $(journals)"
	sleep 1
	[ "$(runs "b$r")" = 1 ] || fs_fail "round $r: job b ran $(runs "b$r") times"
	agrees "$ID" || fs_fail "round $r: job b, after the reconciliation: $(mismatch "$ID")"
done
rel_figure fault_consul.rounds "$ROUNDS"
rel_figure fault_consul.undo-s "$UNDO_MAX"

# ---- a claim whose answer was lost, its responder alive ----
fs_factfile unanswered "echo ran >>$MARKS/unanswered"
FF=$FS_FF
resp fcgi.claim-unanswered=eio
before=$(keys)
submit "$FF" unanswered
case "$FS_STATUS $FS_BODY" in
'503 {"message":"Consul unavailable: the claim'"'"'s answer was lost (fault injection)"}') ;;
*) fs_fail "a claim whose answer was lost: $FS_STATUS $FS_BODY" ;;
esac
K=$(keys | grep -vxF "$before" | head -n 1)
ID=${K##*/}
[ -n "$K" ] && present "$K" || fs_fail "the unanswered claim is not in Consul"
kill -0 "$RPID" 2>/dev/null || fs_fail "the responder died"
[ "$(sql "SELECT count(*) FROM settings WHERE key LIKE 'consul.abandoned.$RPID.%'")" = 1 ] ||
	fs_fail "the abandoned claim was not recorded"
rel_until $LIMIT gone "$K" || fs_fail "the abandoned claim was not undone: $(fs_consul_get "$K")"
grep -q "$K: the claim responder $RPID gave up on undone" "$FS_TMP/worker.log" ||
	fs_fail "the worker did not log the abandoned claim's undo"
submit "$FF" unanswered
[ "$FS_STATUS" = 200 ] && [ "$FS_ID" = "$ID" ] || fs_fail "after the undo: $FS_STATUS $FS_BODY"
fs_wait_state "$ID" DONE && fs_expect_outcome "$ID" SUCCEEDED 0 null null "the unanswered job"
rel_until 5 agrees "$ID" || fs_fail "the unanswered job: $(mismatch "$ID")"
[ "$(runs unanswered)" = 1 ] || fs_fail "the unanswered job ran $(runs unanswered) times"
resp

# ---- entries Consul lost, and a live claimer's claim ----
DONE_ID=$ID
: >"$HOLD"
chmod 0666 "$HOLD"
fs_factfile hold "while [ -e $HOLD ]; do sleep 0.05; done"
submit "$FS_FF" hold
HOLD_ID=$FS_ID
[ "$FS_STATUS" = 200 ] || fs_fail "hold job: $FS_STATUS $FS_BODY"
fs_wait_state "$HOLD_ID" WORKING
rel_until 5 agrees "$HOLD_ID" || fs_fail "hold job: $(mismatch "$HOLD_ID")"
# a claim whose journal names a live process (not a responder: a claim is only a record and an
# entry), QUEUED and locked by the node's session as a claim is
sleep 300 &
LIVE=$!
LIVE_START=$(sed 's/.*) //' "/proc/$LIVE/stat" | cut -d' ' -f20)
LIVE_KEY=$NS/live
printf '{"key":"%s","claim":1,"value":null}\n' "$LIVE_KEY" >"$FS_SPOOL/claims/$LIVE.$LIVE_START"
LIVE_VALUE='{"state":"QUEUED","jobRequest":{"jobId":"live","jobName":"t","factfilePath":"/f","factfileArgs":[]},"lastRunFrom":"node-a","lastOutcome":"WAITING","node":"node-a","claimedBy":{"node":"node-a","pid":'$LIVE',"start":'$LIVE_START',"claim":1}}'
curl -s -o /dev/null -X PUT --data-binary \
	'[{"KV":{"Verb":"lock","Key":"'"$LIVE_KEY"'","Value":"'"$(printf '%s' "$LIVE_VALUE" | base64 -w0)"'","Session":"'"$SESSION"'"}}]' \
	"$FS_CONSUL/v1/txn"
LIVE_INDEX=$(fs_consul_field "$LIVE_KEY" ModifyIndex)
[ -n "$LIVE_INDEX" ] || fs_fail "the live claim could not be written"

curl -s -o /dev/null -X DELETE "$FS_CONSUL/v1/kv/$NS/$DONE_ID"
curl -s -o /dev/null -X DELETE "$FS_CONSUL/v1/kv/$NS/$HOLD_ID"
t0=$(now)
if rel_until $LIMIT present "$NS/$DONE_ID" && rel_until 5 present "$NS/$HOLD_ID"; then
	REWRITE_MAX=$(($(now) - t0))
else
	fs_fail "the deleted entries were not written again in $LIMIT s"
fi
agrees "$DONE_ID" || fs_fail "the DONE entry written again: $(mismatch "$DONE_ID")"
agrees "$HOLD_ID" || fs_fail "the WORKING entry written again: $(mismatch "$HOLD_ID")"
case $(fs_consul_value "$NS/$HOLD_ID") in
'{"state":"WORKING","jobRequest":{"jobId":"'"$HOLD_ID"'",'*'"lastRunFrom":"node-a","lastOutcome":"RUNNING","node":"node-a",'*) ;;
*) fs_fail "the WORKING entry written again: $(fs_consul_value "$NS/$HOLD_ID")" ;;
esac
rel_figure fault_consul.rewrite-s "$REWRITE_MAX"
# the pass that wrote them read the journals first: the live one was left alone
[ "$(fs_consul_field "$LIVE_KEY" ModifyIndex)" = "$LIVE_INDEX" ] ||
	fs_fail "a live claimer's claim was touched: $(fs_consul_get "$LIVE_KEY")"
[ -f "$FS_SPOOL/claims/$LIVE.$LIVE_START" ] || fs_fail "a live claimer's journal was removed"
# the run ends: its finish is delivered over the rewritten entry
rm -f "$HOLD"
fs_wait_state "$HOLD_ID" DONE && fs_expect_outcome "$HOLD_ID" SUCCEEDED 0 null null "hold job"
rel_until 5 agrees "$HOLD_ID" || fs_fail "hold job, DONE: $(mismatch "$HOLD_ID")"
# the claimer dies: its claim is undone
kill "$LIVE"
wait "$LIVE" 2>/dev/null
rel_until $LIMIT gone "$LIVE_KEY" || fs_fail "the dead claimer's claim stayed: $(fs_consul_get "$LIVE_KEY")"
rel_until 5 only_live_journal || fs_fail "journals left: $(journals)"
grep -q "$LIVE_KEY: the claim of dead process $LIVE undone" "$FS_TMP/worker.log" ||
	fs_fail "the worker did not log the undo"

fs_done
