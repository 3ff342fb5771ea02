#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# nginx's limits, through the nginx configuration the launcher writes: 2,500 half-sent requests
# from 127.0.0.2 do not keep 127.0.0.1 from /status (answered in under a second while they are
# all still open), and nginx closes them after 5 s; a client over --limit-req gets 429 with the
# JSON body of doc/api.md while another address is not limited by it, and is served again once
# its rate allows; a request in progress counts against --limit-conn until nginx drops it (5 s
# without body), and 0 disables each limit. Also the options' one-line errors (exit 2).
. "$FS_SRCDIR/tests/integration/lib.sh"
fs_need_nginx

HALF=$FS_SRCDIR/tests/integration/half_sent.py
BODY_429='{"message":"Error: Too many requests from this client, retry later"}'
JSON='application/json; charset=UTF-8'

fs_start_responder

# field NAME: the value after NAME in the script's output ($FS_TMP/half.out)
field() {
	sed -n "s/^$1 //p" "$FS_TMP/half.out"
}

# ---- half-sent requests: default limits, from another address ----
fs_start_nginx "" nginx-half
port=${FS_URL##*:}
python3 "$HALF" 127.0.0.2 "$port" 2500 header "$FS_URL/status" "$FS_TMP/half.body" 8 \
	>"$FS_TMP/half.out"
st=$?
[ "$st" = 77 ] && { cat "$FS_TMP/half.out"; exit 77; }
[ "$st" = 0 ] || fs_fail "half_sent.py exited $st: $(cat "$FS_TMP/half.out")"
[ "$(field connected)" = 2500 ] || fs_fail "half-sent: $(field connected) of 2500 connected"
set -- $(field answer)
[ "${1:-}" = 200 ] || fs_fail "half-sent: /status from 127.0.0.1 answered '${1:-}'"
awk -v t="${2:-99}" 'BEGIN { exit !(t < 1) }' ||
	fs_fail "half-sent: /status from 127.0.0.1 took ${2:-?} s"
[ "$(field open)" = 2500 ] ||
	fs_fail "half-sent: only $(field open) of 2500 still open when /status was answered"
# client_header_timeout 5s: all closed, about 5 s after they were sent
set -- $(field closed)
[ "${1:-}" = 2500 ] && awk -v t="${3:-99}" 'BEGIN { exit !(t >= 3 && t <= 7) }' ||
	fs_fail "half-sent: nginx closed '$(field closed)' (2500 after about 5 s expected)"

# ---- --limit-req 5: burst 10 at once, then 429 ----
FS_NGINX_LIMITS='--limit-req 5' fs_start_nginx "" nginx-rate
# one curl, one connection: 30 requests in far less than the 0.2 s one more token takes
curl -s -o "$FS_TMP/rate_#1" -w '%{http_code} %{content_type}\n' "$FS_URL/status?n=[1-30]" \
	>"$FS_TMP/rate.codes"
ok=$(grep -c '^200 ' "$FS_TMP/rate.codes")
over=$(grep -c "^429 $JSON\$" "$FS_TMP/rate.codes")
# 11 requests at once (the first and the burst of 10), less fs_nginx_start's probe of nginx, one
# more if a token came meanwhile
[ "$ok" -ge 10 ] && [ "$ok" -le 11 ] && [ $((ok + over)) = 30 ] ||
	fs_fail "--limit-req 5: $ok x 200 and $over x 429 JSON of 30:" \
		"$(sort "$FS_TMP/rate.codes" | uniq -c)"
[ "$(cat "$FS_TMP/rate_30")" = "$BODY_429" ] || fs_fail "429 body: $(cat "$FS_TMP/rate_30")"
# another address has its own rate: 127.0.0.2 reaches the access check (403 in protected mode)
fs_req GET /status - --interface 127.0.0.2
[ "$FS_STATUS" = 403 ] || fs_fail "127.0.0.2 while 127.0.0.1 is over its rate: $FS_STATUS"
sleep 1
fs_req GET /status
[ "$FS_STATUS" = 200 ] || fs_fail "--limit-req 5: one request a second later: $FS_STATUS"

# ---- --limit-conn 1 (--limit-req 0): a request in progress holds the client's one ----
FS_NGINX_LIMITS='--limit-conn 1 --limit-req 0' fs_start_nginx "" nginx-conn
curl -s -o /dev/null -w '%{http_code}\n' "$FS_URL/status?n=[1-300]" >"$FS_TMP/conn.codes"
[ "$(grep -cx 200 "$FS_TMP/conn.codes")" = 300 ] ||
	fs_fail "--limit-req 0: $(sort "$FS_TMP/conn.codes" | uniq -c)"
port=${FS_URL##*:}
python3 "$HALF" 127.0.0.1 "$port" 1 body "$FS_URL/status" "$FS_TMP/conn.body" 8 \
	>"$FS_TMP/half.out" || fs_fail "half_sent.py: $(cat "$FS_TMP/half.out")"
[ "$(field answer | cut -d' ' -f1)" = 429 ] && [ "$(cat "$FS_TMP/conn.body")" = "$BODY_429" ] ||
	fs_fail "--limit-conn 1, one request in progress: $(field answer) $(cat "$FS_TMP/conn.body")"
# client_body_timeout 5s drops the request in progress, and the client is served again
set -- $(field closed)
[ "${1:-}" = 1 ] && awk -v t="${3:-99}" 'BEGIN { exit !(t >= 3 && t <= 7) }' ||
	fs_fail "--limit-conn 1: nginx closed '$(field closed)' (1 after about 5 s expected)"
fs_req GET /status
[ "$FS_STATUS" = 200 ] || fs_fail "--limit-conn 1 once the request is gone: $FS_STATUS"

# ---- option errors ----
# bad OPTION VALUE MESSAGE: the launcher exits 2 with one line
bad() {
	"$FS_BUILDDIR/launcher/factotum-server" --write-nginx-conf "$FS_TMP/nginx-bad" \
		--factotum-bin "$FS_RUNNER" "$1" "$2" >"$FS_TMP/out" 2>"$FS_TMP/err"
	st=$?
	[ "$st" = 2 ] && [ "$(cat "$FS_TMP/err")" = "factotum-server: $3" ] ||
		fs_fail "$1 $2: exit $st, '$(cat "$FS_TMP/err")'"
}
bad --limit-req abc "--limit-req: 'abc' is not a rate (N or Nr/s, requests per second)"
bad --limit-req 5r/m "--limit-req: '5r/m' is not a rate (N or Nr/s, requests per second)"
bad --limit-req 1000001r/s "--limit-req: '1000001' is too large (maximum 1000000)"
bad --limit-conn -1 "--limit-conn: '-1' is too small (minimum 0)"
bad --limit-conn 65536 "--limit-conn: '65536' is too large (maximum 65535)"

fs_done
