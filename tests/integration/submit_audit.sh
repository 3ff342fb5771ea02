#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Who did it, through the launcher's nginx with --htpasswd (two users) and --log-level off: the
# authenticated user is submittedBy in /check and /jobs, every POST (and only a POST) leaves one
# audit line on the node's stderr with the endpoint, user, client address, job id and status,
# and --max-queued-per-user 2 answers the third queued job of one user 429 while another user
# may still submit. One long job holds the node's only worker so that the others stay queued.

set -u

: "${FS_BUILDDIR:?run through make check}" "${FS_SRCDIR:?run through make check}"
. "$FS_SRCDIR/tests/integration/node_lib.sh"
fs_need_nginx
fs_use_launcher
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fs-audit.XXXXXX") || exit 99
spool=$tmp/spool
lpid=
cleanup() {
	[ -n "$lpid" ] && kill -TERM "$lpid" 2>/dev/null && wait "$lpid" 2>/dev/null
	if [ "$fails" -ne 0 ]; then
		for f in "$tmp/err" "$spool/nginx/error.log"; do
			[ -s "$f" ] && { echo "---- $f"; tail -n 30 "$f"; }
		done
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 99' INT TERM HUP
if [ "$(id -u)" -eq 0 ]; then
	# nginx's workers read the password file, the service and run users the factfile
	chmod 0711 "$tmp"
	fs_ensure_user factotum-run || { echo "FAIL: cannot create the run user"; exit 99; }
fi

{
	printf 'alice:%s\n' "$(openssl passwd -apr1 a-pass)"
	printf 'bob:%s\n' "$(openssl passwd -apr1 b-pass)"
} >"$tmp/htpasswd" || exit 99
chmod 0644 "$tmp/htpasswd"
FF=$tmp/sleep.factfile
cat >"$FF" <<'EOF_FF'
{"schema": "iglu:com.snowplowanalytics.factotum/factfile/jsonschema/1-0-0",
 "data": {"name": "sleep", "tasks": [{"name": "t", "executor": "shell", "command": "sleep 20",
  "arguments": [], "dependsOn": [],
  "onResult": {"terminateJobWithSuccess": [], "continueJob": [0]}}]}}
EOF_FF
chmod 0644 "$FF"

PORT=$(fs_free_ports 1)
URL=http://127.0.0.1:$PORT
"$LAUNCHER" --no-consul --spool "$spool" --ip 0.0.0.0 --port "$PORT" \
	--factotum-bin "$RUNNER" --htpasswd "$tmp/htpasswd" --max-workers 1 \
	--max-queued-per-user 2 --log-level off >"$tmp/out" 2>"$tmp/err" &
lpid=$!
fs_until "$lpid" 400 grep -q "listening on .*:$PORT/" "$tmp/out" ||
	{ fail "the launcher did not start"; exit 1; }

# req USER METHOD PATH [BODY]: from 127.0.0.2 as USER; $status and $body.
req() {
	_u=$1 _m=$2 _p=$3
	shift 3
	set -- -X "$_m" "$@"
	[ $# -gt 2 ] && set -- -X "$_m" --data-binary "$3"
	status=$(curl -s --noproxy '*' --max-time 10 --interface 127.0.0.2 -u "$_u" \
		-o "$tmp/body" -w '%{http_code}' "$@" "$URL$_p")
	body=$(cat "$tmp/body")
}
# submit USER N: a sleep job tagged n=N; $id is its job id.
submit() {
	req "$1" POST /submit '{"jobName":"sleep","factfilePath":"'"$FF"'","factfileArgs":["--tag","n,'"$2"'"]}'
	id=$(printf '%s' "$body" | sed -n 's/.*"jobId":"\([0-9a-f]*\)".*/\1/p')
}
# state_is ID STATE: /check says the job is in STATE.
state_is() {
	req alice:a-pass GET "/check?id=$1"
	case $body in "{\"state\":\"$2\""*) return 0 ;; esac
	return 1
}
# audited LINE: the node's stderr has exactly one audit line ending in LINE.
audited() {
	n=$(grep -c "factotum-server-fcgi\[[0-9]*\]: audit: $1\$" "$tmp/err")
	[ "$n" = 1 ] || fail "$n audit lines 'audit: $1' (expected 1)"
}

submit alice:a-pass 0
[ "$status" = 200 ] || fail "alice's first job: $status $body"
HELD=$id
fs_until "$lpid" 400 state_is "$HELD" WORKING || fail "the first job never ran: $body"
submit alice:a-pass 1
[ "$status" = 200 ] || fail "alice's second job: $status $body"
A1=$id
submit alice:a-pass 2
[ "$status" = 200 ] || fail "alice's third job: $status $body"
A2=$id
submit alice:a-pass 3
[ "$status $body" = '429 {"message":"Queue is full for this user, cannot add job"}' ] ||
	fail "alice's third queued job: $status $body, expected the per-user 429"
submit bob:b-pass 3
[ "$status" = 200 ] || fail "bob's job past alice's bound: $status $body"
B3=$id

req bob:b-pass GET "/check?id=$A1"
case $body in *'"reason":null,"submittedBy":"alice"}') ;; *) fail "/check of alice's job: $body" ;; esac
req alice:a-pass GET "/check?id=$B3"
case $body in *'"submittedBy":"bob"}') ;; *) fail "/check of bob's job: $body" ;; esac
req alice:a-pass GET /jobs
for who in "$HELD alice" "$A1 alice" "$A2 alice" "$B3 bob"; do
	set -- $who
	printf '%s' "$body" | grep -q '"jobId":"'"$1"'"[^}]*}[^}]*"submittedBy":"'"$2"'"}' ||
		fail "/jobs: no submittedBy $2 for job $1: $body"
done

# the 429's job id is that of bob's accepted job (same factfile and tags)
audited "POST /submit user=alice addr=127.0.0.2 job=$HELD status=200"
audited "POST /submit user=alice addr=127.0.0.2 job=$A1 status=200"
audited "POST /submit user=alice addr=127.0.0.2 job=$B3 status=429"
audited "POST /submit user=bob addr=127.0.0.2 job=$B3 status=200"
req bob:b-pass POST /cancel '{"id":"'"$A1"'"}'
[ "$status" = 200 ] || fail "cancel of a queued job: $status $body"
audited "POST /cancel user=bob addr=127.0.0.2 job=$A1 status=200"
req bob:b-pass POST /submit '{"jobName":1}'
audited "POST /submit user=bob addr=127.0.0.2 job=- status=400"
[ "$(grep -c ': audit: ' "$tmp/err")" = 7 ] ||
	fail "not one audit line per POST (7): $(grep ': audit: ' "$tmp/err")"
grep -v ': audit: ' "$tmp/err" | grep -q . && fail "--log-level off, yet: $(grep -v ': audit: ' "$tmp/err")"

# the queued jobs first, so that none starts when the held one ends
for id in "$A2" "$B3" "$HELD"; do
	req alice:a-pass POST /cancel '{"id":"'"$id"'"}'
done
fs_until "$lpid" 200 state_is "$HELD" DONE || fail "the held job was not cancelled: $body"
kill -TERM "$lpid" 2>/dev/null
wait "$lpid" 2>/dev/null
lpid=

[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all passed"
