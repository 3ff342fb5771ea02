#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# /submit and /check with Consul, end to end: two nodes (two responders, two spools, two nginx)
# on one real consul agent. The node's session is created here with curl and stored in each
# spool (setting consul.session), as the worker will do. Covers: no session -> 503; 50
# concurrent identical submissions across both nodes -> exactly one 200; /check finds a job
# submitted through the other node; a DONE entry lets a resubmission through, and the claims
# undone after a spool refusal (over a DONE entry, and of a new key after a full queue); a
# malformed value at the key; an old Rust server's entry (409) and an orphaned one (claimed); an
# expired session -> 503; Consul stopped -> 503 with nothing stored, /check 503, /health 503.
. "$FS_SRCDIR/tests/integration/lib.sh"
fs_need_nginx; fs_need_consul
. "$FS_SRCDIR/tests/integration/consul_lib.sh"

NS=fs-test/fact.otum
FF=$FS_TMP/ff/echo.factfile
cp "$FS_TESTDATA/samples/echo.factfile" "$FF"
SPOOL_A=$FS_SPOOL
SPOOL_B=$FS_TMP/spool-b
NOSESSION='{"message":"Consul unavailable: this node holds no Consul session (is the worker running?)"}'
DUP='{"message":"Job is already being processed"}'

fs_consul_start
fs_start_consul_responder "$FS_TMP/run/a.sock" "$SPOOL_A" node-a --consul-namespace "$NS"
PID_A=$FS_RESP_PID
fs_start_nginx "$FS_TMP/run/a.sock" nginx-a
URL_A=$FS_URL
fs_start_consul_responder "$FS_TMP/run/b.sock" "$SPOOL_B" node-b --consul-namespace "$NS" \
	--max-jobs 3
PID_B=$FS_RESP_PID
fs_start_nginx "$FS_TMP/run/b.sock" nginx-b
URL_B=$FS_URL

body() { # body TAG: a submission of the echo factfile, made distinct by a tag
	printf '{"jobName":"echo","factfilePath":"%s","factfileArgs":["--tag","t,%s"]}' "$FF" "$1"
}
submit() { # submit URL TAG: POST /submit; FS_STATUS, FS_BODY, and FS_ID on a 200
	FS_URL=$1
	fs_post /submit "$(body "$2")"
	FS_ID=$(printf '%s' "$FS_BODY" | sed -n 's/.*"jobId":"\([0-9a-f]*\)".*/\1/p')
}
sql() { # sql SPOOL QUERY
	sqlite3 -cmd '.timeout 5000' "$1/spool.db" "$2"
}
rows() { # rows SPOOL: jobs in that spool
	sql "$1" "SELECT count(*) FROM jobs"
}
keys() { # keys: how many keys the namespace holds in Consul
	curl -s "$FS_CONSUL/v1/kv/$NS/?keys" | python3 -c '
import json, sys
try:
    print(len(json.load(sys.stdin)))
except Exception:
    print(0)'
}
set_session() { # set_session SPOOL ID: what the worker will do
	sql "$1" "INSERT INTO settings(key, value) VALUES ('consul.session', '$2')
		  ON CONFLICT(key) DO UPDATE SET value = excluded.value"
}
# txn_finish KEY SESSION OUTCOME: the worker's finish (check-index + unlock with a DONE value)
txn_finish() {
	idx=$(fs_consul_field "$1" ModifyIndex)
	v=$(fs_consul_value "$1" | python3 -c '
import json, sys
e = json.load(sys.stdin)
e["state"] = "DONE"; e["lastOutcome"] = sys.argv[1]; e["exitCode"] = 0
print(json.dumps(e, separators=(",", ":")), end="")' "$3" | base64 -w0)
	out=$(curl -s -w ' %{http_code}' -X PUT --data-binary \
		'[{"KV":{"Verb":"check-index","Key":"'"$1"'","Index":'"$idx"'}},{"KV":{"Verb":"unlock","Key":"'"$1"'","Value":"'"$v"'","Session":"'"$2"'"}}]' \
		"$FS_CONSUL/v1/txn")
	case $out in *' 200') ;; *) fs_fail "finish $1: $out" ;; esac
}
status_consul() { # status_consul URL: the "consul" object of /status
	curl -s "$1/status" | sed -n 's/.*"consul":\({[^}]*}\).*/\1/p'
}

# ---- without a session nothing is claimed or stored ----
submit "$URL_A" nosession
fs_expect 503 "$NOSESSION" "submit without a session"
[ "$(rows "$SPOOL_A")" = 0 ] || fs_fail "rows stored without a session: $(rows "$SPOOL_A")"
[ "$(keys)" = 0 ] || fs_fail "keys written without a session: $(keys)"
case $(status_consul "$URL_A") in
'{"enabled":true,"address":"http://127.0.0.1:'"$FS_CONSUL_PORT"'","reachable":true,"session":false}') ;;
*) fs_fail "/status without a session: $(status_consul "$URL_A")" ;;
esac
FS_URL=$URL_A
fs_req GET /health
case $FS_STATUS$FS_BODY in
503*'this node holds no Consul session'*'"consul":"no session"'*) ;;
*) fs_fail "/health without a session: $FS_STATUS $FS_BODY" ;;
esac

SA=$(fs_consul_session node-a)
SB=$(fs_consul_session node-b)
[ -n "$SA" ] && [ -n "$SB" ] || { echo "cannot create sessions"; exit 99; }
set_session "$SPOOL_A" "$SA"
set_session "$SPOOL_B" "$SB"
case $(status_consul "$URL_B") in
*'"reachable":true,"session":true}') ;;
*) fs_fail "/status with a session: $(status_consul "$URL_B")" ;;
esac

# ---- 50 identical submissions, 25 through each node: exactly one is accepted ----
i=1
PIDS=
body same >"$FS_TMP/same.req"
while [ $i -le 50 ]; do
	url=$URL_A
	[ $((i % 2)) = 0 ] && url=$URL_B
	curl -s -o "$FS_TMP/same.$i.body" -w '%{http_code}' --data-binary "@$FS_TMP/same.req" \
		"$url/submit" >"$FS_TMP/same.$i.status" &
	PIDS="$PIDS $!"
	i=$((i + 1))
done
for p in $PIDS; do wait "$p"; done
ok=0 dup=0
for f in "$FS_TMP"/same.*.status; do
	case $(cat "$f") in
	200) ok=$((ok + 1)); ID=$(sed -n 's/.*"jobId":"\([0-9a-f]*\)".*/\1/p' "${f%.status}.body") ;;
	409) dup=$((dup + 1))
	     [ "$(cat "${f%.status}.body")" = "$DUP" ] || fs_fail "409 body: $(cat "${f%.status}.body")" ;;
	*) fs_fail "burst answer $(cat "$f") $(cat "${f%.status}.body")" ;;
	esac
done
[ "$ok" = 1 ] && [ "$dup" = 49 ] || fs_fail "identical burst over two nodes: $ok x 200, $dup x 409"
[ $(( $(rows "$SPOOL_A") + $(rows "$SPOOL_B") )) = 1 ] ||
	fs_fail "rows after the burst: $(rows "$SPOOL_A") + $(rows "$SPOOL_B")"
KEY=$NS/$ID
if [ "$(rows "$SPOOL_A")" = 1 ]; then
	WIN=node-a WS=$SA WSPOOL=$SPOOL_A WURL=$URL_A LOSE=node-b LS=$SB LSPOOL=$SPOOL_B LURL=$URL_B
else
	WIN=node-b WS=$SB WSPOOL=$SPOOL_B WURL=$URL_B LOSE=node-a LS=$SA LSPOOL=$SPOOL_A LURL=$URL_A
fi
[ "$(fs_consul_field "$KEY" Session)" = "$WS" ] || fs_fail "the key is not locked by $WIN"
[ "$(fs_consul_field "$KEY" ModifyIndex)" = "$(sql "$WSPOOL" "SELECT consul_index FROM jobs")" ] ||
	fs_fail "spool consul_index $(sql "$WSPOOL" "SELECT consul_index FROM jobs") != ModifyIndex $(fs_consul_field "$KEY" ModifyIndex)"
case $(fs_consul_value "$KEY") in
'{"state":"QUEUED","jobRequest":{"jobId":"'"$ID"'","jobName":"echo","factfilePath":"'"$FF"'","factfileArgs":["--tag","t,same"]},"lastRunFrom":"'"$WIN"'","lastOutcome":"WAITING","node":"'"$WIN"'","submitted":"'*) ;;
*) fs_fail "the Consul value: $(fs_consul_value "$KEY")" ;;
esac

# ---- /check through the other node finds it (the cluster's entry) ----
FS_URL=$LURL
fs_req GET "/check?id=$ID"
case $FS_STATUS$FS_BODY in
'200{"state":"QUEUED","jobRequest":{"jobId":"'"$ID"'",'*'"lastRunFrom":"'"$WIN"'","lastOutcome":"WAITING","node":"'"$WIN"'",'*'"runStarted":null,"runFinished":null,"exitCode":null,"exitSignal":null,"reason":null}') ;;
*) fs_fail "/check through $LOSE: $FS_STATUS $FS_BODY" ;;
esac
fs_req GET "/check?id=$NS/$ID"
[ "$FS_STATUS" = 200 ] || fs_fail "/check with the namespace: $FS_STATUS $FS_BODY"
FS_URL=$WURL
fs_req GET "/check?id=$ID"
case $FS_STATUS$FS_BODY in
'200{"state":"QUEUED",'*'"node":"'"$WIN"'"'*) ;;
*) fs_fail "/check through $WIN: $FS_STATUS $FS_BODY" ;;
esac
fs_req GET "/check?id=$(printf '%064d' 0)"
fs_expect 404 "{\"message\":\"Error: No job entry found for id='$(printf '%064d' 0)'\"}" "/check unknown"

# ---- a DONE entry lets a resubmission through, on any node ----
submit "$LURL" same
fs_expect 409 "$DUP" "resubmission while QUEUED"
txn_finish "$KEY" "$WS" SUCCEEDED
submit "$LURL" same
[ "$FS_STATUS" = 200 ] && [ "$FS_ID" = "$ID" ] || fs_fail "resubmission over DONE: $FS_STATUS $FS_BODY"
[ "$(fs_consul_field "$KEY" Session)" = "$LS" ] || fs_fail "the key is not locked by $LOSE"
[ "$(sql "$LSPOOL" "SELECT state || ' ' || consul_index FROM jobs WHERE id = '$ID'")" = \
  "QUEUED $(fs_consul_field "$KEY" ModifyIndex)" ] || fs_fail "$LOSE's spool after the resubmission"
# the first node now shows the cluster's entry, which names the new owner
FS_URL=$WURL
fs_req GET "/check?id=$ID"
case $FS_BODY in *'"lastRunFrom":"'"$LOSE"'"'*) ;; *) fs_fail "/check on $WIN after the move: $FS_BODY" ;; esac

# ---- undo over a DONE entry: the spool refuses (the job is QUEUED there), DONE comes back ----
txn_finish "$KEY" "$LS" FAILED
before=$(fs_consul_value "$KEY")
submit "$LURL" same
fs_expect 409 "$DUP" "resubmission the spool refuses"
[ "$(fs_consul_value "$KEY")" = "$before" ] || fs_fail "undo over DONE: value $(fs_consul_value "$KEY")"
[ -z "$(fs_consul_field "$KEY" Session)" ] || fs_fail "undo over DONE left the key locked"

# ---- a malformed value at the key: a clear error, nothing overwritten, no crash ----
submit "$URL_A" mal
[ "$FS_STATUS" = 200 ] || fs_fail "submit mal: $FS_STATUS $FS_BODY"
MID=$FS_ID
fs_consul_put "$NS/$MID" 'this is not a job entry'
submit "$URL_B" mal
fs_expect 500 "{\"message\":\"Error: Consul key '$NS/$MID' holds a value that is not a job entry (not JSON: boolean expected at line 1 column 2); it was left untouched\"}" "malformed value"
[ "$(fs_consul_value "$NS/$MID")" = 'this is not a job entry' ] || fs_fail "malformed value overwritten"
FS_URL=$URL_B
fs_req GET "/check?id=$MID"
case $FS_STATUS$FS_BODY in
"500{\"message\":\"Error: Consul key '$NS/$MID' holds a value that is not a job entry (not JSON:"*) ;;
*) fs_fail "/check of a malformed value: $FS_STATUS $FS_BODY" ;;
esac
kill -0 "$PID_B" || fs_fail "node-b died on a malformed value"

# ---- an old Rust server's WORKING entry (no session, no node): live, 409 ----
RUST='{"state":"WORKING","jobRequest":{"jobId":"'"$MID"'","jobName":"echo","factfilePath":"'"$FF"'","factfileArgs":["--tag","t,mal"]},"lastRunFrom":"rust","lastOutcome":"RUNNING"}'
# (a plain PUT keeps a key's lock: delete node-a's locked entry first)
curl -s -X DELETE "$FS_CONSUL/v1/kv/$NS/$MID" >/dev/null
fs_consul_put "$NS/$MID" "$RUST"
submit "$URL_B" mal
fs_expect 409 "$DUP" "old Rust server's entry"
FS_URL=$URL_B
fs_req GET "/check?id=$MID"
case $FS_STATUS$FS_BODY in
'200{"state":"WORKING",'*'"lastRunFrom":"rust","lastOutcome":"RUNNING","node":null,'*) ;;
*) fs_fail "/check of an old server's entry: $FS_STATUS $FS_BODY" ;;
esac
# ---- an orphaned entry (ours, its session gone): claimable ----
fs_consul_put "$NS/$MID" "$(printf '%s' "$RUST" | sed 's/"lastOutcome":"RUNNING"}/"lastOutcome":"RUNNING","node":"node-dead"}/')"
submit "$URL_B" mal
[ "$FS_STATUS" = 200 ] || fs_fail "orphan takeover: $FS_STATUS $FS_BODY"
[ "$(fs_consul_field "$NS/$MID" Session)" = "$SB" ] || fs_fail "orphan not locked by node-b"

# ---- undo of a new key: node-b's queue (--max-jobs 3) is full, the key goes away ----
i=0
while [ "$(sql "$SPOOL_B" "SELECT count(*) FROM jobs WHERE state = 'QUEUED'")" -lt 3 ] &&
	[ $i -lt 5 ]; do
	i=$((i + 1))
	submit "$URL_B" "fill$i"
	[ "$FS_STATUS" = 200 ] || fs_fail "filling node-b: $FS_STATUS $FS_BODY"
done
nkeys=$(keys)
submit "$URL_B" overflow
fs_expect 429 '{"message":"Queue is full, cannot add job"}' "full queue"
[ "$(keys)" = "$nkeys" ] || fs_fail "a refused job left its key: $nkeys -> $(keys)"

# ---- node-a's session expired (destroyed): 503, nothing stored ----
curl -s -X PUT "$FS_CONSUL/v1/session/destroy/$SA" >/dev/null
nkeys=$(keys) nrows=$(rows "$SPOOL_A")
submit "$URL_A" expired
fs_expect 503 "$NOSESSION" "submit with an expired session"
[ "$(keys)" = "$nkeys" ] && [ "$(rows "$SPOOL_A")" = "$nrows" ] || fs_fail "stored with an expired session"
case $(status_consul "$URL_A") in *'"session":false}') ;; *) fs_fail "/status expired: $(status_consul "$URL_A")" ;; esac
set_session "$SPOOL_A" "$(fs_consul_session node-a)"
submit "$URL_A" expired
[ "$FS_STATUS" = 200 ] || fs_fail "submit with a new session: $FS_STATUS $FS_BODY"

# ---- Consul stopped: 503, nothing stored; /check 503, never 404; /health names Consul ----
nrows=$(rows "$SPOOL_A")
fs_consul_stop
submit "$URL_A" down
case $FS_STATUS$FS_BODY in
'503{"message":"Consul unavailable: '*) ;;
*) fs_fail "submit with Consul stopped: $FS_STATUS $FS_BODY" ;;
esac
[ "$(rows "$SPOOL_A")" = "$nrows" ] || fs_fail "a row stored with Consul stopped"
FS_URL=$URL_A
fs_req GET "/check?id=$ID"
case $FS_STATUS$FS_BODY in
'503{"message":"Consul unavailable: '*) ;;
*) fs_fail "/check with Consul stopped: $FS_STATUS $FS_BODY" ;;
esac
fs_req GET /health
case $FS_STATUS$FS_BODY in
503*'Consul unavailable: '*'"consul":"unreachable"'*) ;;
*) fs_fail "/health with Consul stopped: $FS_STATUS $FS_BODY" ;;
esac
case $(status_consul "$URL_A") in
*'"reachable":false,"session":false,"error":"Consul unavailable: '*) ;;
*) fs_fail "/status with Consul stopped: $(status_consul "$URL_A")" ;;
esac
kill -0 "$PID_A" && kill -0 "$PID_B" || fs_fail "a responder died"

fs_done
