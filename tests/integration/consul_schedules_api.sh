#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The schedules API with Consul, on a real consul agent with two nodes (nginx + responder +
# worker + spool each) in one namespace: a schedule set through one node is listed by the other
# with the same bytes; validation errors are the single-node ones; pause, resume and delete
# through either node; run-now through the second node makes one job that runs to DONE with the
# slot's tags and submittedBy schedule:<name>, its history row naming it; a second run-now in
# the same second, through the other node, is refused "duplicate" (the slot job's key exists);
# delete removes the history ring from Consul; a value at <ns>/schedules/<x> that is not a
# schedule is left out of the list and GET ?name=x answers 500 naming the key; --max-schedules
# refuses a new name beyond it (429) and still lets an existing one be replaced; /metrics counts
# the slots each node accounted for; overlap "skip" skips a slot while the last job's entry is
# QUEUED and held by a session, and fires once that entry is an orphan (no session).
. "$FS_SRCDIR/tests/integration/worker_lib.sh"
. "$FS_SRCDIR/tests/integration/sched_lib.sh"
fs_need_nginx
fs_need_consul
. "$FS_SRCDIR/tests/integration/consul_lib.sh"

NS=fs-test/sched
SPOOL_A=$FS_SPOOL
SPOOL_B=$FS_TMP/spool-b
FF=$FS_TESTDATA/schedule/slot-append.factfile
OUT=$FS_TMP/slots.out
trap 'fs_stop_all_supervisors "$SPOOL_A" "$SPOOL_B"; fs_stop_workers; fs_consul_stop; fs_cleanup' EXIT

fs_consul_start
# node K SPOOL [responder options...]: responder, nginx and worker of node-K; its URL in URL_K
node() {
	_k=$1 _spool=$2
	shift 2
	fs_start_consul_responder "$FS_TMP/run/$_k.sock" "$_spool" "node-$_k" \
		--consul-namespace "$NS" "$@"
	fs_start_nginx "$FS_TMP/run/$_k.sock" "nginx-$_k"
	eval "URL_$_k=\$FS_URL"
	fs_start_consul_worker "$_spool" "node-$_k" "$FS_CONSUL_PORT" --consul-namespace "$NS"
}
node a "$SPOOL_A"
node b "$SPOOL_B" --max-schedules 2

# at URL: runs the rest of the line against that node
at() {
	FS_URL=$1
	shift
	"$@"
}
post_name() { # post_name PATH NAME
	fs_post "$1" '{"name":"'"$2"'"}'
}
iso() { # iso SECONDS: the slot tag's text
	date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ
}
kv_status() { # kv_status PATH: the HTTP status of a recursive read of <ns>/PATH
	curl -s -o /dev/null -w '%{http_code}' "$FS_CONSUL/v1/kv/$NS/$1?recurse"
}
# early_in_second: waits until the clock is in the first 0.3 s of a second after this one (two
# requests then fall in the same second, a new one)
early_in_second() {
	_es_now=$(date +%s)
	until [ "$(date +%s)" -gt "$_es_now" ] && [ "$(date +%N | cut -c1-2)" -lt 30 ]; do
		sleep 0.02
	done
}

# ---- errors, byte for byte as on a single node ----
at "$URL_a" sched_expect_set_errors "$FF"
at "$URL_b" sched_expect_name_errors
at "$URL_b" fs_expect_get /schedules 200 '{"schedules":[]}'
[ "$(kv_status schedules/)" = 404 ] || fs_fail "a refused request stored a schedule in Consul"

# ---- set through a, listed by b with the same bytes ----
DEF='"name":"daily","cron":"0 3 * * *","timezone":"Europe/London","jobName":"j-daily","factfilePath":"'"$FF"'","factfileArgs":["--tag","out,'"$OUT"'","--tag","sleep,0"],"overlap":"allow","catchUp":2'
at "$URL_a" fs_expect_post /schedules/set "{$DEF}" 200 '{"message":"Schedule '"'daily'"' set"}'
[ "$(kv_status schedules/daily)" = 200 ] || fs_fail "no key $NS/schedules/daily in Consul"
at "$URL_a" fs_req GET /schedules
LIST_A=$FS_BODY
at "$URL_b" fs_req GET /schedules
[ "$FS_BODY" = "$LIST_A" ] || fs_fail "GET /schedules differs: a $LIST_A, b $FS_BODY"
case $FS_BODY in
'{"schedules":[{'"$DEF"',"paused":false,"nextSlots":["20'*'"],"lastSlot":null,"lastJobId":null,"lastJobState":null}]}') ;;
*) fs_fail "GET /schedules on b: $FS_BODY" ;;
esac
[ "$(printf '%s' "$FS_BODY" | grep -o 'T0[23]:00:00Z' | wc -l)" = 3 ] ||
	fs_fail "nextSlots are not three 03:00 London slots: $FS_BODY"

# ---- pause through b, seen by a; resume through a ----
at "$URL_b" post_name /schedules/pause daily
fs_expect 200 '{"message":"Schedule '"'daily'"' paused"}' pause
at "$URL_a" fs_expect_get /schedules 200 '{"schedules":[{'"$DEF"',"paused":true,"nextSlots":[],"lastSlot":null,"lastJobId":null,"lastJobState":null}]}'
at "$URL_a" post_name /schedules/resume daily
fs_expect 200 '{"message":"Schedule '"'daily'"' resumed"}' resume
at "$URL_b" fs_req GET /schedules
case $FS_BODY in *'"paused":false,"nextSlots":["20'*) ;; *) fs_fail "resumed: $FS_BODY" ;; esac

# ---- run now through b: one job, run to DONE, with the slot's tags ----
early_in_second
slot=$(date +%s)
at "$URL_b" post_name /schedules/run daily
JOB=$(printf '%s' "$FS_BODY" | sed -n 's/.*"jobId":"\([0-9a-f]*\)".*/\1/p')
fs_expect 200 '{"message":"Schedule '"'daily'"' slot '"$(iso "$slot")"' fired","slot":"'"$(iso "$slot")"'","result":"fired","reason":null,"jobId":"'"$JOB"'"}' "run through b"
at "$URL_b" fs_wait_state "$JOB" DONE
[ "$FS_OUTCOME $FS_EXIT" = "SUCCEEDED 0" ] || fs_fail "the slot's job: $FS_BODY"
[ "$(cat "$OUT")" = "$(iso "$slot")" ] || fs_fail "the task wrote '$(cat "$OUT")'"
got=$(FS_SPOOL=$SPOOL_B fs_sql "SELECT submitted_by || ' ' || factfile_args FROM jobs WHERE id = '$JOB'")
[ "$got" = 'schedule:daily ["--tag","out,'"$OUT"'","--tag","sleep,0","--tag","schedule,daily","--tag","slot,'"$(iso "$slot")"'"]' ] ||
	fs_fail "the slot's job in b's spool: $got"
[ "$(FS_SPOOL=$SPOOL_B fs_sql "SELECT consul_index > 0 FROM jobs WHERE id = '$JOB'")" = 1 ] ||
	fs_fail "the slot's job has no Consul index"
# the entry in Consul is b's, DONE, and no claim is left locked
entry=$(fs_consul_value "$NS/$JOB" | python3 -c '
import json, sys
v = json.load(sys.stdin)
print(v["state"], v["lastOutcome"], v["node"], v["submittedBy"], "claimedBy" in v)
')
[ "$entry $(fs_consul_field "$NS/$JOB" Session)" = "DONE SUCCEEDED node-b schedule:daily False " ] ||
	fs_fail "the job's entry: $entry"
at "$URL_a" fs_req GET '/schedules?name=daily'
case $FS_BODY in
*'"lastSlot":"'"$(iso "$slot")"'","lastJobId":"'"$JOB"'","lastJobState":"DONE","history":[{"slot":"'"$(iso "$slot")"'","result":"fired","reason":null,"jobId":"'"$JOB"'","count":1,"recorded":"20'*'Z"}]}') ;;
*) fs_fail "GET /schedules?name=daily on a after the run: $FS_BODY" ;;
esac

# ---- run now twice in one second, through a then b: the second is a duplicate ----
early_in_second
slot=$(date +%s)
at "$URL_a" post_name /schedules/run daily
JOB2=$(printf '%s' "$FS_BODY" | sed -n 's/.*"jobId":"\([0-9a-f]*\)".*/\1/p')
fs_expect 200 '{"message":"Schedule '"'daily'"' slot '"$(iso "$slot")"' fired","slot":"'"$(iso "$slot")"'","result":"fired","reason":null,"jobId":"'"$JOB2"'"}' "first run in $slot"
at "$URL_b" post_name /schedules/run daily
fs_expect 200 '{"message":"Schedule '"'daily'"' slot '"$(iso "$slot")"' refused","slot":"'"$(iso "$slot")"'","result":"refused","reason":"duplicate","jobId":null}' "second run in $slot"
[ "$(date +%s)" = "$slot" ] || echo "note: the two runs took until $(date +%s) (slot $slot)"
at "$URL_a" fs_wait_state "$JOB2" DONE
[ "$(FS_SPOOL=$SPOOL_B fs_sql "SELECT count(*) FROM jobs WHERE id = '$JOB2'")" = 0 ] ||
	fs_fail "the duplicate slot was queued on b too"

# ---- a value that is not a schedule: left out of the list, GET names its key ----
fs_consul_put "$NS/schedules/evil" '{"name":"other","cron":[1]}'
at "$URL_b" fs_req GET /schedules
case $FS_BODY in
'{"schedules":[{"name":"daily",'*'}]}') ;;
*) fs_fail "GET /schedules with a hostile value: $FS_STATUS $FS_BODY" ;;
esac
at "$URL_a" fs_req GET '/schedules?name=evil'
case "$FS_STATUS $FS_BODY" in
"500 {\"message\":\"Error: Consul key '$NS/schedules/evil' holds a value that is not a schedule ("*')"}') ;;
*) fs_fail "GET /schedules?name=evil: $FS_STATUS $FS_BODY" ;;
esac
[ "$(fs_consul_value "$NS/schedules/evil")" = '{"name":"other","cron":[1]}' ] ||
	fs_fail "the hostile value was changed"
curl -s -X DELETE "$FS_CONSUL/v1/kv/$NS/schedules/evil" >/dev/null

# ---- --max-schedules: b holds 2, a 1000 ----
SECOND='{"name":"second","cron":"@yearly","jobName":"j2","factfilePath":"'"$FF"'"}'
at "$URL_a" fs_expect_post /schedules/set "$SECOND" 200 '{"message":"Schedule '"'second'"' set"}'
at "$URL_b" fs_expect_post /schedules/set '{"name":"third","cron":"@yearly","jobName":"j3","factfilePath":"'"$FF"'"}' \
	429 '{"message":"Error: at most 2 schedules, cannot add schedule '"'third'"'"}'
at "$URL_b" fs_expect_post /schedules/set "$SECOND" 200 '{"message":"Schedule '"'second'"' set"}'
[ "$(kv_status schedules/third)" = 404 ] || fs_fail "the refused schedule is in Consul"

# ---- delete through b: the definition and its history ring go ----
[ "$(kv_status schedule-slots/daily/)" = 200 ] || fs_fail "no history ring in Consul"
at "$URL_b" post_name /schedules/delete daily
fs_expect 200 '{"message":"Schedule '"'daily'"' deleted"}' delete
[ "$(kv_status schedules/daily)" = 404 ] || fs_fail "the definition stayed in Consul"
[ "$(kv_status schedule-slots/daily/)" = 404 ] || fs_fail "the history ring stayed in Consul"
at "$URL_a" fs_expect_get '/schedules?name=daily' 404 '{"message":"Error: no schedule '"'daily'"'"}'

# ---- /metrics: each node counts the slots it accounted for ----
for k in a:1:0 b:1:1; do
	IFS=: read -r n fired refused <<EOF
$k
EOF
	eval "FS_URL=\$URL_$n"
	fs_req GET /metrics
	printf '%s' "$FS_BODY" | grep -qx "factotum_server_schedule_slots_total{result=\"fired\"} $fired" &&
		printf '%s' "$FS_BODY" | grep -qx "factotum_server_schedule_slots_total{result=\"refused\"} $refused" ||
		fs_fail "node $n's /metrics: $(printf '%s' "$FS_BODY" | grep schedule_slots)"
done


# ---- overlap "skip": the last job counts as running only while a session holds its entry ----
SKIPDEF='{"name":"second","cron":"@yearly","jobName":"j2","factfilePath":"'"$FF"'","factfileArgs":["--tag","out,'"$OUT"'","--tag","sleep,0"],"overlap":"skip"}'
at "$URL_a" fs_expect_post /schedules/set "$SKIPDEF" 200 '{"message":"Schedule '"'second'"' set"}'
# run_second EXPECTED-RESULT: a run-now of "second" in a new second through a; its job in JOB
run_second() {
	early_in_second
	at "$URL_a" post_name /schedules/run second
	case $FS_BODY in
	*'"result":"'"$1"'"'*) ;;
	*) fs_fail "run-now of second, expected $1: $FS_STATUS $FS_BODY" ;;
	esac
	JOB=$(printf '%s' "$FS_BODY" | sed -n 's/.*"jobId":"\([0-9a-f]*\)".*/\1/p')
}
# queued_again JOB [SESSION]: the job's DONE entry rewritten QUEUED, held by SESSION or by none
queued_again() {
	_qa=$(fs_consul_value "$NS/$1" | python3 -c '
import json, sys
v = json.load(sys.stdin)
v["state"], v["lastOutcome"] = "QUEUED", "WAITING"
print(json.dumps(v, separators=(",", ":")))
')
	curl -sf -X PUT --data-binary "$_qa" "$FS_CONSUL/v1/kv/$NS/$1${2:+?acquire=$2}" >/dev/null ||
		fs_fail "cannot rewrite $1 QUEUED"
}
run_second fired
LAST=$JOB
at "$URL_a" fs_wait_state "$LAST" DONE
SID=$(curl -sf -X PUT -d '{"Name":"fs-test-holder","TTL":"60s","LockDelay":"0s"}' \
	"$FS_CONSUL/v1/session/create" | python3 -c 'import json, sys; print(json.load(sys.stdin)["ID"])')
[ -n "$SID" ] || fs_fail "cannot create a Consul session"
queued_again "$LAST" "$SID"
run_second skipped
case $FS_BODY in
*'"reason":"overlap: the last slot'"'"'s job is QUEUED"'*) ;;
*) fs_fail "the skip's reason: $FS_BODY" ;;
esac
# the holder gone, the QUEUED entry is an orphan that never runs: the slot fires
curl -sf -X PUT "$FS_CONSUL/v1/session/destroy/$SID" >/dev/null
[ -z "$(fs_consul_field "$NS/$LAST" Session)" ] || fs_fail "the entry is still held"
run_second fired
at "$URL_a" fs_wait_state "$JOB" DONE

fs_done
