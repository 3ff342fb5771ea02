#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The fault point of a schedule slot fired with Consul (core/schedconsul.h), on one node (nginx +
# responder + worker) and a dev Consul agent. Needs the fault-injection seam (exit 77 without
# it). Asserts:
#   sched.after-claim=abort   /schedules/run through a responder that aborts between the slot's
#                             txn and the spool commit: no 200; the slot is accounted for in
#                             Consul (its history row fired with the job's id) and the job's key
#                             is QUEUED, locked by the node's session, its claimedBy naming the
#                             dead responder; the job is not in the spool. Once the responder is
#                             back, the worker's reconciliation undoes the claim within its
#                             period (the key goes), notes the slot refused ("interrupted: ...",
#                             the undone id) and removes the dead journal; the job never ran; a
#                             later run-now fires and runs once.
. "$FS_SRCDIR/tests/integration/worker_lib.sh"
fs_need_nginx
fs_need_consul
. "$FS_SRCDIR/tests/integration/consul_lib.sh"
. "$FS_SRCDIR/tests/reliability/rel_lib.sh"

rel_need_seam fcgi/factotum-server-fcgi

NS=fs-test/fault-sched
# the worker's reconciliation period (worker/reconcile.h) and a margin for a busy machine
LIMIT=25
MARKS=$FS_TMP/marks
mkdir -p "$MARKS"
chmod 1777 "$MARKS"
trap 'fs_stop_supervisors; fs_stop_workers; fs_consul_stop; fs_cleanup' EXIT
# the abort's core is not wanted
ulimit -c 0

job_keys() { # the namespace's job keys, one a line, sorted
	curl -s "$FS_CONSUL/v1/kv/$NS/?keys" | python3 -c '
import json, re, sys
try:
    print("\n".join(k for k in sorted(json.load(sys.stdin)) if re.search("/[0-9a-f]{64}$", k)))
except Exception:
    pass
'
}
gone() {
	[ -z "$(fs_consul_get "$1")" ]
}
runs() { # how many times the schedule's task ran
	if [ -f "$MARKS/ran" ]; then wc -l <"$MARKS/ran" | tr -d ' '; else echo 0; fi
}

fs_consul_start
rel_resp sched.after-claim=abort
fs_start_nginx "$FS_TMP/run/a.sock"
fs_start_consul_worker "$FS_SPOOL" node-a "$FS_CONSUL_PORT" --consul-namespace "$NS"
SESSION=$(fs_spool_setting "$FS_SPOOL" consul.session)

fs_factfile ran "echo ran >>$MARKS/ran"
fs_expect_post /schedules/set '{"name":"seam","cron":"@yearly","jobName":"seam","factfilePath":"'"$FS_FF"'"}' \
	200 '{"message":"Schedule '"'seam'"' set"}'

# ---- the responder aborts between the slot's txn and the spool commit ----
fs_post /schedules/run '{"name":"seam"}'
[ "$FS_STATUS" != 200 ] || fs_fail "a 200 from a responder that aborted: $FS_BODY"
if rel_until 10 eval '! kill -0 "$RPID" 2>/dev/null'; then
	wait "$RPID" 2>/dev/null
else
	fs_fail "the responder did not die at sched.after-claim"
fi
DEAD=$RPID
K=$(job_keys | head -n 1)
ID=${K##*/}
[ -n "$ID" ] || fs_fail "no job key in Consul after the aborted run"
case $(fs_consul_value "$K") in
'{"state":"QUEUED",'*'"submittedBy":"schedule:seam","claimedBy":{"node":"node-a","pid":'"$DEAD"',"start":'*) ;;
*) fs_fail "the dead responder's claim: '$K' $(fs_consul_value "$K")" ;;
esac
[ "$(fs_consul_field "$K" Session)" = "$SESSION" ] || fs_fail "the claim is not locked by the node"
[ "$(fs_sql "SELECT count(*) FROM jobs WHERE id = '$ID'")" = 0 ] || fs_fail "the job was stored"
# the slot is accounted for: its row in the ring names the job
row=$(curl -s "$FS_CONSUL/v1/kv/$NS/schedule-slots/seam/?recurse" | python3 -c '
import base64, json, sys
for e in json.load(sys.stdin):
    v = json.loads(base64.b64decode(e["Value"]))
    print(v["result"], v["jobId"])
')
[ "$row" = "fired $ID" ] || fs_fail "the slot's history in Consul: $row"

# ---- back: the worker's reconciliation undoes the dead claim ----
rel_resp
rel_until $LIMIT gone "$K" ||
	fs_fail "the dead responder's claim was not undone in $LIMIT s: $(fs_consul_get "$K")"
rel_until 5 eval '! ls "$FS_SPOOL/claims" | grep -q "^$DEAD\."' ||
	fs_fail "the dead responder's journal is still there: $(ls "$FS_SPOOL/claims")"
[ "$(fs_sql "SELECT count(*) FROM jobs")" = 0 ] || fs_fail "a job was stored: $(fs_sql 'SELECT id FROM jobs')"
[ "$(runs)" = 0 ] || fs_fail "the interrupted slot's job ran"
# the undo's note (written in the same pass, just after): the slot's second row, refused, naming
# the undone job
ring() {
	curl -s "$FS_CONSUL/v1/kv/$NS/schedule-slots/seam/?recurse" | python3 -c '
import base64, json, sys
for v in sorted((json.loads(base64.b64decode(e["Value"])) for e in json.load(sys.stdin)),
                key=lambda v: v["seq"]):
    print(v["result"], v["jobId"], v["reason"])
'
}
noted() {
	[ "$(ring)" = "fired $ID None
refused $ID interrupted: the node stopped before queueing the job" ]
}
rel_until 5 noted || fs_fail "the slot's history after the undo: $(ring)"

# ---- a later run-now fires and runs once ----
fs_post /schedules/run '{"name":"seam"}'
ID2=$(printf '%s' "$FS_BODY" | sed -n 's/.*"jobId":"\([0-9a-f]*\)".*/\1/p')
case "$FS_STATUS $FS_BODY" in
*'"result":"fired","reason":null,"jobId":"'"$ID2"'"}') ;;
*) fs_fail "run-now after the undo: $FS_STATUS $FS_BODY" ;;
esac
fs_wait_state "$ID2" DONE
[ "$FS_OUTCOME $FS_EXIT" = "SUCCEEDED 0" ] || fs_fail "the later slot's job: $FS_BODY"
[ "$(runs)" = 1 ] || fs_fail "the later slot's job ran $(runs) times"

fs_done
