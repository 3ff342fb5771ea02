#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The spool is the node's one truth: drain survives a responder restart, two responder
# processes share one spool (dedupe, drain, capacity and reads agree), --max-jobs gives 429,
# SIGTERM stops cleanly (exit 0, socket removed), and nginx answers 502 in JSON meanwhile.
. "$FS_SRCDIR/tests/integration/lib.sh"
fs_need_nginx

FF=$FS_TMP/ff/echo.factfile
cp "$FS_TESTDATA/samples/echo.factfile" "$FF"
job() { # job TAG: a submission body; each tag makes another job id
	printf '{"jobName":"echo","factfilePath":"%s","factfileArgs":["--tag","t,%s"]}' "$FF" "$1"
}
DRAIN='{"message":"Server in [drain] state - cannot submit job"}'
DUP='{"message":"Job is already being processed"}'
FULL='{"message":"Queue is full, cannot add job"}'

# ---- drain survives a restart; SIGTERM is a clean stop ----
fs_start_responder "" --max-jobs 3
A=$FS_RESP_PID
fs_start_nginx
URL_A=$FS_URL
fs_expect_post /settings '{"state":"drain"}' 200 '{"message":"Update acknowledged: [state: drain]"}'
fs_stop_responder "$A"
[ "$FS_RESP_STATUS" = 0 ] || fs_fail "SIGTERM exit status $FS_RESP_STATUS"
[ -e "$FS_SOCK" ] && fs_fail "socket left behind after SIGTERM"
fs_req GET /status
fs_expect 502 '{"message":"Error: The factotum-server responder is not reachable"}' "GET /status (responder stopped)"
fs_start_responder "" --max-jobs 3
A=$FS_RESP_PID
fs_req GET /status
printf '%s' "$FS_BODY" | grep -q '"state":"drain"' || fs_fail "drain lost over a restart: $FS_BODY"
fs_expect_post /submit "$(job 1)" 503 "$DRAIN"
# <spool>/draining mirrors the setting (README); lost, the next start makes it again, and the
# drain answer still comes before any validation error
[ -e "$FS_SPOOL/draining" ] || fs_fail "no $FS_SPOOL/draining while in drain state"
fs_stop_responder "$A"
rm -f "$FS_SPOOL/draining"
fs_start_responder "" --max-jobs 3
A=$FS_RESP_PID
# (the socket is bound before the spool is opened: the file comes a moment after it)
fs_until "$A" 100 test -e "$FS_SPOOL/draining" ||
	fs_fail "$FS_SPOOL/draining not made again at start"
fs_expect_post /submit '{"jobName":"","factfilePath":"/nonexistent","factfileArgs":[]}' 503 "$DRAIN"

# ---- a second responder process on the same spool, behind its own nginx ----
fs_start_responder "$FS_TMP/run/b.sock" --max-jobs 3
B=$FS_RESP_PID
fs_start_nginx "$FS_TMP/run/b.sock" nginx-b
URL_B=$FS_URL
# drain set through A holds for B; run set through B holds for A
fs_expect_post /submit "$(job 1)" 503 "$DRAIN"
fs_expect_post /settings '{"state":"run"}' 200 '{"message":"Update acknowledged: [state: run]"}'
[ -e "$FS_SPOOL/draining" ] && fs_fail "$FS_SPOOL/draining left after run"
FS_URL=$URL_A
fs_post /submit "$(job 1)"
[ "$FS_STATUS" = 200 ] || fs_fail "submit through A: $FS_STATUS $FS_BODY"
ID1=$(printf '%s' "$FS_BODY" | sed -n 's/.*"jobId":"\([0-9a-f]*\)".*/\1/p')
# dedupe across processes, both ways
FS_URL=$URL_B
fs_expect_post /submit "$(job 1)" 409 "$DUP"
fs_post /submit "$(job 2)"
[ "$FS_STATUS" = 200 ] || fs_fail "submit through B: $FS_STATUS $FS_BODY"
FS_URL=$URL_A
fs_expect_post /submit "$(job 2)" 409 "$DUP"
# a job submitted through A is found through B
FS_URL=$URL_B
fs_req GET "/check?id=$ID1"
printf '%s' "$FS_BODY" | grep -q "^{\"state\":\"QUEUED\",\"jobRequest\":{\"jobId\":\"$ID1\"" ||
	fs_fail "B does not see A's job: $FS_STATUS $FS_BODY"

# ---- capacity: --max-jobs 3 QUEUED across both processes ----
FS_URL=$URL_A
fs_post /submit "$(job 3)"
[ "$FS_STATUS" = 200 ] || fs_fail "third job: $FS_STATUS $FS_BODY"
fs_expect_post /submit "$(job 4)" 429 "$FULL"
FS_URL=$URL_B
fs_expect_post /submit "$(job 4)" 429 "$FULL"
# dedupe is checked before capacity
fs_expect_post /submit "$(job 3)" 409 "$DUP"
[ "$(fs_count QUEUED)" = 3 ] || fs_fail "queued: $(fs_count QUEUED)"
fs_req GET /status
printf '%s' "$FS_BODY" | grep -q '"jobs":{"maxQueueSize":3,"inQueue":3}' || fs_fail "status: $FS_BODY"
# cancelling a QUEUED job frees its place
fs_post /cancel '{"id":"'"$ID1"'"}'
[ "$FS_STATUS" = 200 ] || fs_fail "cancel: $FS_STATUS $FS_BODY"
FS_URL=$URL_A
fs_post /submit "$(job 4)"
[ "$FS_STATUS" = 200 ] || fs_fail "after cancel: $FS_STATUS $FS_BODY"
[ "$(fs_rows)" = 4 ] || fs_fail "rows: $(fs_rows)"

# ---- start-up refusals: a socket in use, a bad option ----
"$FS_FCGI" --no-consul --spool "$FS_SPOOL" --fcgi-socket "$FS_TMP/run/b.sock" $FS_AS_ROOT \
	--factotum-bin "$FS_RUNNER" 2>"$FS_TMP/err"
st=$?
[ "$st" = 1 ] && grep -qx "factotum-server-fcgi: --fcgi-socket: '$FS_TMP/run/b.sock' is in use by another process" "$FS_TMP/err" ||
	fs_fail "second responder on a live socket: exit $st, $(cat "$FS_TMP/err")"
"$FS_FCGI" --no-consul --fcgi-threads 0 2>"$FS_TMP/err"
st=$?
[ "$st" = 2 ] && grep -qx "factotum-server-fcgi: --fcgi-threads: '0' is too small (minimum 1)" "$FS_TMP/err" ||
	fs_fail "--fcgi-threads 0: exit $st, $(cat "$FS_TMP/err")"

# ---- spawn-fcgi hands the responder a listening socket on fd 0 ----
if command -v spawn-fcgi >/dev/null 2>&1; then
	spawn-fcgi -n -s "$FS_TMP/run/s.sock" -M 0666 -- "$FS_FCGI" --no-consul --spool "$FS_SPOOL" \
		--fcgi-socket "$FS_TMP/run/unused.sock" --factotum-bin "$FS_RUNNER" $FS_AS_ROOT \
		2>>"$FS_TMP/responder.log" &
	S=$!
	FS_RESP_PIDS="$FS_RESP_PIDS $S"
	i=0
	while [ ! -S "$FS_TMP/run/s.sock" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	fs_start_nginx "$FS_TMP/run/s.sock" nginx-s
	fs_req GET "/check?id=$ID1"
	[ "$FS_STATUS" = 200 ] || fs_fail "through spawn-fcgi: $FS_STATUS $FS_BODY"
	[ -e "$FS_TMP/run/unused.sock" ] && fs_fail "opened --fcgi-socket despite fd 0"
	fs_stop_responder "$S"
	[ "$FS_RESP_STATUS" = 0 ] || fs_fail "spawn-fcgi'd responder: exit $FS_RESP_STATUS"
fi

# ---- one responder stopping leaves the other serving ----
fs_stop_responder "$A"
[ "$FS_RESP_STATUS" = 0 ] || fs_fail "SIGTERM exit status $FS_RESP_STATUS"
FS_URL=$URL_B
fs_req GET "/check?id=$ID1"
printf '%s' "$FS_BODY" | grep -q '"state":"DONE"' || fs_fail "B after A stopped: $FS_STATUS $FS_BODY"

fs_done
