#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Webhooks in a request's factfileArgs, through nginx, the responder, the worker and the bundled
# runner: refused by default (--client-webhooks deny); with --client-webhooks hosts only the
# listed hosts and ports, without user information; a heartbeat below 5 s and a
# --max-stdouterr-size above the server's refused; an allowed client webhook receives the job's
# events and so does the server's own --webhook; with another runner and a server webhook a client
# webhook is refused. Last, a task printing 100 MB while the client's receiver accepts the
# connection and never reads keeps the runner's peak RSS under 64 MiB.
. "$FS_SRCDIR/tests/integration/worker_lib.sh"
fs_need_nginx

S=$FS_TESTDATA/samples
receiver=$FS_SRCDIR/tests/integration/webhook_receiver.py
RPIDS=
trap 'for p in $RPIDS; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; fs_cleanup' EXIT

# wait_port NAME: sets PORT to the port a receiver wrote to $FS_TMP/NAME.port.
wait_port() {
	RPIDS="$RPIDS $!"
	wait_file "$FS_TMP/$1.port" || exit 99
	PORT=$(cat "$FS_TMP/$1.port")
}

# start_receiver NAME: the test receiver (answers 200, records each event in $FS_TMP/NAME.events);
# sets PORT.
start_receiver() {
	python3 "$receiver" --port-file "$FS_TMP/$1.port" --out "$FS_TMP/$1.events" \
		--requests "$FS_TMP/$1.requests" </dev/null >/dev/null 2>&1 &
	wait_port "$1"
}

# start_sink NAME: accepts connections with a small receive buffer and never reads from them;
# sets PORT.
start_sink() {
	python3 -c '
import os, socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.bind(("127.0.0.1", 0))
s.listen(64)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("%d\n" % s.getsockname()[1])
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
held = []
while True:
    held.append(s.accept()[0])
' "$FS_TMP/$1.port" </dev/null >/dev/null 2>&1 &
	wait_port "$1"
}

# cancel_queued: cancels the job just accepted (its id in the last answer): no worker runs it.
cancel_queued() {
	fs_post /cancel '{"id":"'"$(printf '%s' "$FS_BODY" | sed -n 's/.*"jobId":"\([0-9a-f]*\)".*/\1/p')"'"}'
	[ "$FS_STATUS" = 200 ] || fs_fail "cancel: $FS_STATUS $FS_BODY"
}

# refused ARGS-JSON MESSAGE: /submit of echo.factfile with ARGS-JSON answers 400 MESSAGE.
refused() {
	fs_post /submit '{"jobName":"hook","factfilePath":"'"$S"'/echo.factfile","factfileArgs":'"$1"'}'
	fs_expect 400 '{"message":"Validation Error: '"$2"'"}' "factfileArgs $1"
}

# ---- bad settings: one line, exit 2 ----
bad_option() {
	got=$("$FS_FCGI" --no-consul --spool "$FS_SPOOL" --factotum-bin "$FS_RUNNER" "$@" 2>&1)
	rc=$?
	[ "$rc" = 2 ] && [ "$got" = "factotum-server-fcgi: $last" ] ||
		fs_fail "$*: exit $rc, $got"
}
last='--client-webhooks: hosts needs --client-webhook-hosts'
bad_option --client-webhooks hosts
last="--client-webhooks: 'maybe' is not deny, hosts or any"
bad_option --client-webhooks maybe
last="--client-webhook-hosts: 'a:0' is not HOST or HOST:PORT (a DNS name, *.DOMAIN, an IPv4 address or [IPv6], PORT 1..65535)"
bad_option --client-webhooks hosts --client-webhook-hosts 'b.example,a:0'

start_receiver client
CLIENT_PORT=$PORT
start_receiver server
SERVER_PORT=$PORT
start_sink sink
SINK_PORT=$PORT
OTHER_PORT=$(fs_free_ports 1)
CLIENT=http://127.0.0.1:$CLIENT_PORT/client

# ---- the default: a request's --webhook is refused, whatever the address ----
fs_start_responder "$FS_SOCK"
fs_start_nginx "$FS_SOCK" nginx
refused '["--webhook","http://169.254.169.254/latest/meta-data"]' \
	'--webhook is not allowed in factfileArgs on this server (--client-webhooks deny)'
refused '["--webhook=http://127.0.0.1:'"$CLIENT_PORT"'/"]' \
	'--webhook is not allowed in factfileArgs on this server (--client-webhooks deny)'
# the other limits hold without any webhook
refused '["--heartbeat-interval","1"]' '--heartbeat-interval must be at least 5 seconds'
refused '["--max-stdouterr-size","999999999999"]' \
	"--max-stdouterr-size is above this server's limit (10000)"
fs_post /submit '{"jobName":"hb","factfilePath":"'"$S"'/echo.factfile","factfileArgs":["--heartbeat-interval","5","--max-stdouterr-size","10000"]}'
[ "$FS_STATUS" = 200 ] || fs_fail "heartbeat 5 and the server's size: $FS_STATUS $FS_BODY"
cancel_queued

# ---- another runner with a server webhook: one webhook only, the server's ----
bundled=$FS_RUNNER
FS_RUNNER=$FS_TMP/factotum # lib.sh's stand-in
fs_start_responder "$FS_TMP/run/foreign.sock" --webhook "http://127.0.0.1:$SERVER_PORT/" \
	--client-webhooks any
FS_RUNNER=$bundled
fs_start_nginx "$FS_TMP/run/foreign.sock" nginx-foreign
refused '["--webhook","'"$CLIENT"'"]' \
	"--webhook is not allowed in factfileArgs: this server's runner takes one webhook, the server's own (--webhook)"

# ---- hosts: the bundled runner, the server's webhook, 127.0.0.1 on the receivers' ports ----
HOSTS="127.0.0.1:$CLIENT_PORT, 127.0.0.1:$SINK_PORT,*.example.org"
fs_start_responder "$FS_TMP/run/hosts.sock" \
	--webhook "http://127.0.0.1:$SERVER_PORT/server" --client-webhooks hosts \
	--client-webhook-hosts "$HOSTS"
fs_start_nginx "$FS_TMP/run/hosts.sock" nginx-hosts
refused '["--webhook","http://169.254.169.254/"]' \
	"--webhook host '169.254.169.254' is not in --client-webhook-hosts"
refused '["--webhook","http://localhost:'"$CLIENT_PORT"'/"]' \
	"--webhook host 'localhost' is not in --client-webhook-hosts"
refused '["--webhook","http://127.0.0.1:'"$OTHER_PORT"'/"]' \
	"--webhook port $OTHER_PORT of host '127.0.0.1' is not in --client-webhook-hosts"
# a listed host without a port: only the scheme's default port
refused '["--webhook","http://a.example.org:8080/"]' \
	"--webhook port 8080 of host 'a.example.org' is not in --client-webhook-hosts"
refused '["--webhook","http://example.org/"]' \
	"--webhook host 'example.org' is not in --client-webhook-hosts"
refused '["--webhook","http://user:pw@127.0.0.1:'"$CLIENT_PORT"'/"]' \
	"--webhook URL 'http://user:pw@127.0.0.1:$CLIENT_PORT/' carries user information"
refused '["--webhook","http://127.0.0.1:'"$CLIENT_PORT"'@169.254.169.254/"]' \
	"--webhook URL 'http://127.0.0.1:$CLIENT_PORT@169.254.169.254/' carries user information"
refused '["--webhook","http://169.254.169.254\\@127.0.0.1:'"$CLIENT_PORT"'/"]' \
	"--webhook URL 'http://169.254.169.254\\\\@127.0.0.1:$CLIENT_PORT/' holds a backslash, a space or a control character"
refused '["--webhook","'"$CLIENT"'","--heartbeat-interval","1"]' \
	'--heartbeat-interval must be at least 5 seconds'
refused '["--webhook","'"$CLIENT"'","--max-stdouterr-size","999999999999"]' \
	"--max-stdouterr-size is above this server's limit (10000)"
fs_post /submit '{"jobName":"x","factfilePath":"'"$S"'/echo.factfile","factfileArgs":["--webhook","https://a.example.org/h","--tag","k,v"]}'
[ "$FS_STATUS" = 200 ] || fs_fail "a listed *.domain on https's port: $FS_STATUS $FS_BODY"
cancel_queued

# an allowed client webhook gets the job's events, and so does the server's own; the runner's
# wait for undelivered events is short (the never-reading receiver below)
FACTOTUM_WEBHOOK_WAIT_MS=1000
export FACTOTUM_WEBHOOK_WAIT_MS
fs_start_worker --webhook "http://127.0.0.1:$SERVER_PORT/server" \
	--pass-env FACTOTUM_WEBHOOK_WAIT_MS
fs_submit both "$S/echo.factfile" '["--webhook","'"$CLIENT"'","--tag","both,1"]'
fs_wait_state "$FS_ID" DONE 30 && fs_expect_outcome "$FS_ID" SUCCEEDED 0 null null "both"
for who in client server; do
	got=$(python3 -c '
import json, sys
events = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
mine = [e for e in events if e["data"]["tags"].get("both") == "1"]
print(len(mine), mine[-1]["data"]["jobTransition"]["currentState"] if mine else "-")
' "$FS_TMP/$who.events")
	[ "$got" = "9 SUCCEEDED" ] || fs_fail "$who webhook: events of the job: $got"
done
grep -q '"path": "/client"' "$FS_TMP/client.requests" || fs_fail "client receiver: no /client"
grep -q '"path": "/server"' "$FS_TMP/server.requests" || fs_fail "server receiver: no /server"

# ---- 100 MB of output, the client's receiver never reads: the runner stays small ----
fs_factfile big 'yes 0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz | head -c 100000000'
fs_submit big "$FS_FF" '["--webhook","http://127.0.0.1:'"$SINK_PORT"'/","--heartbeat-interval","5"]'
# the runner reads the spool's copy of the validated factfile, named by its SHA-256
BIG=$FS_SPOOL/factfiles/$(sha256sum <"$FS_FF" | cut -c1-64)
hwm=0
n=0
while [ $n -lt 1200 ]; do
	pid=$(grep -l "$BIG" /proc/[0-9]*/cmdline 2>/dev/null |
		sed -n 's|/proc/\([0-9]*\)/cmdline|\1|p' | while read -r p; do
			tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline" | grep -q "^$FS_RUNNER run " &&
				echo "$p"
		done | head -n 1)
	if [ -n "$pid" ]; then
		v=$(sed -n 's/^VmHWM:[^0-9]*\([0-9]*\) kB/\1/p' "/proc/$pid/status" 2>/dev/null)
		[ -n "$v" ] && [ "$v" -gt "$hwm" ] && hwm=$v
	fi
	fs_check "$FS_ID"
	[ "$FS_STATE" = DONE ] && break
	n=$((n + 1))
	sleep 0.05
done
[ "$FS_STATE" = DONE ] && fs_expect_outcome "$FS_ID" SUCCEEDED 0 null null "the 100 MB job"
fs_req GET "/logs?id=$FS_ID&tail=1"
printf '%s' "$FS_BODY" | grep -q '"truncated":true' || fs_fail "the 100 MB job's log: $FS_BODY"
[ "$hwm" -gt 0 ] || fs_fail "the 100 MB job's runner was never seen"
echo "the 100 MB job's runner: peak RSS $hwm kB"
# an AddressSanitizer runner keeps freed memory in quarantine and maps shadow memory: its RSS says
# nothing of the queue's bound, which the normal build judges
if grep -qa __asan_init "$FS_RUNNER"; then
	echo "the peak RSS is not judged: the runner is built with AddressSanitizer"
else
	[ "$hwm" -lt 65536 ] || fs_fail "the runner's peak RSS was $hwm kB (at least 64 MiB)"
fi
fs_done
