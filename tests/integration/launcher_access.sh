#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Who may reach a node started by the launcher on 0.0.0.0 (as root or not; nginx on a free
# high port, 127.0.0.2 as the other client): in protected mode 127.0.0.1 is served and
# 127.0.0.2 gets 403 with the JSON body and Content-Type of doc/api.md, on every endpoint; with
# --trust-network 127.0.0.2 is served; with --htpasswd a request without good credentials gets
# 401 JSON and one with them 200, from 127.0.0.2 and from 127.0.0.1; with --tls-cert/--tls-key
# HTTPS works with curl --cacert and plain HTTP gets 400 JSON. Also the one-line errors (exit 2)
# of the four options, and the files --write-nginx-conf writes for them.

set -u

: "${FS_BUILDDIR:?run through make check}" "${FS_SRCDIR:?run through make check}"
. "$FS_SRCDIR/tests/integration/node_lib.sh"
fs_need_nginx

fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
fs_use_launcher

JSON='application/json; charset=UTF-8'
BODY_403='{"message":"Error: Forbidden: this node admits only 127.0.0.1 and ::1 until it is started with --htpasswd FILE (basic authentication) or --trust-network (the network is trusted)"}'
BODY_401='{"message":"Error: Authentication required"}'
BODY_497='{"message":"Error: This port serves HTTPS, not plain HTTP"}'

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fs-access.XXXXXX") || exit 99
# as root nginx's workers run as www-data: they must reach the socket and read the password file
[ "$(id -u)" -eq 0 ] && chmod 0711 "$tmp"
lpid=
spool=
cleanup() {
	[ -n "$lpid" ] && kill -TERM "$lpid" 2>/dev/null && wait "$lpid" 2>/dev/null
	if [ "$fails" -ne 0 ]; then
		for f in "$tmp/out" "$tmp/err" "$spool/nginx/error.log"; do
			[ -s "$f" ] && { echo "---- $f"; tail -n 30 "$f"; }
		done
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 99' INT TERM HUP

# the password file (alice / s3cret) and a self-signed certificate for localhost
printf 'alice:%s\n' "$(openssl passwd -apr1 s3cret)" >"$tmp/htpasswd" || exit 99
chmod 0644 "$tmp/htpasswd"
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 1 \
	-keyout "$tmp/key.pem" -out "$tmp/cert.pem" >/dev/null 2>&1 || { echo "FAIL: openssl req"; exit 99; }

# start NAME OPTION...: a node on 0.0.0.0 and a free port (PORT) with spool $tmp/NAME; 1 if it
# did not print its listening line.
start() {
	spool=$tmp/$1
	shift
	PORT=$(fs_free_ports 1)
	rm -f "$tmp/out" "$tmp/err" # not the last node's line
	"$LAUNCHER" --no-consul --spool "$spool" --ip 0.0.0.0 --port "$PORT" \
		--factotum-bin "$RUNNER" "$@" >"$tmp/out" 2>"$tmp/err" &
	lpid=$!
	fs_until "$lpid" 400 grep -q "listening on .*:$PORT/" "$tmp/out" || { fail "the launcher did not start ($*)"; return 1; }
}

stop() {
	kill -TERM "$lpid" 2>/dev/null
	wait "$lpid" 2>/dev/null
	lpid=
}

# ask FROM URL [CURL OPTION...]: the answer's status, Content-Type and body in $tmp/status,
# $tmp/type and $tmp/body (status 000 when there was no HTTP answer).
ask() {
	_from=$1 _url=$2
	shift 2
	rm -f "$tmp/body" "$tmp/head"
	curl -s --noproxy '*' --max-time 10 --interface "$_from" -o "$tmp/body" -D "$tmp/head" \
		-w '%{http_code}' "$@" "$_url" >"$tmp/status" 2>/dev/null
	tr -d '\r' <"$tmp/head" 2>/dev/null | sed -n 's/^[Cc]ontent-[Tt]ype: //p' >"$tmp/type"
}

# expect WHAT STATUS [TYPE BODY]: the last answer was STATUS (with exactly TYPE and BODY).
expect() {
	_st=$(cat "$tmp/status") _ty=$(cat "$tmp/type") _bo=$(cat "$tmp/body" 2>/dev/null)
	[ "$_st" = "$2" ] || { fail "$1: status $_st, expected $2 (body '$_bo')"; return; }
	[ $# -lt 4 ] && return
	[ "$_ty" = "$3" ] || fail "$1: Content-Type '$_ty', expected '$3'"
	[ "$_bo" = "$4" ] || fail "$1: body '$_bo', expected '$4'"
}

# ---- protected mode: no --htpasswd, no --trust-network ----
if start protected; then
	url=http://127.0.0.1:$PORT
	ask 127.0.0.1 "$url/status"
	expect "protected, 127.0.0.1 GET /status" 200
	ask 127.0.0.2 "$url/status"
	expect "protected, 127.0.0.2 GET /status" 403 "$JSON" "$BODY_403"
	ask 127.0.0.2 "http://127.0.0.2:$PORT/check?id=x"
	expect "protected, 127.0.0.2 to 127.0.0.2 GET /check" 403 "$JSON" "$BODY_403"
	ask 127.0.0.2 "$url/submit" -X POST -d '{"jobName":"x","factfilePath":"/x","factfileArgs":[]}'
	expect "protected, 127.0.0.2 POST /submit" 403 "$JSON" "$BODY_403"
	ask 127.0.0.2 "$url/no-such-endpoint"
	expect "protected, 127.0.0.2 GET /no-such-endpoint" 403 "$JSON" "$BODY_403"
	stop
fi

# ---- --trust-network: everyone, no authentication ----
if start trusted --trust-network; then
	ask 127.0.0.2 "http://127.0.0.1:$PORT/status"
	expect "--trust-network, 127.0.0.2 GET /status" 200
	stop
fi

# ---- --htpasswd: basic authentication, from any address ----
if start auth --htpasswd "$tmp/htpasswd"; then
	for from in 127.0.0.2 127.0.0.1; do
		url=http://127.0.0.1:$PORT
		ask "$from" "$url/status"
		expect "--htpasswd, $from without credentials" 401 "$JSON" "$BODY_401"
		grep -qi '^WWW-Authenticate: Basic realm="factotum-server"' "$tmp/head" ||
			fail "--htpasswd, $from: no WWW-Authenticate: Basic header in the 401"
		ask "$from" "$url/status" -u alice:wrong
		expect "--htpasswd, $from with a wrong password" 401 "$JSON" "$BODY_401"
		ask "$from" "$url/status" -u alice:s3cret
		expect "--htpasswd, $from with good credentials" 200
		ask "$from" "$url/check?id=0123" -u alice:s3cret
		grep -q '"message"' "$tmp/body" && [ "$(cat "$tmp/status")" != 401 ] ||
			fail "--htpasswd, $from GET /check with good credentials: $(cat "$tmp/status") $(cat "$tmp/body")"
	done
	stop
fi

# ---- --tls-cert/--tls-key: HTTPS on the port, plain HTTP refused ----
if start tls --tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem"; then
	expect_line="factotum-server: listening on https://0.0.0.0:$PORT/ (spool $spool)"
	[ "$(cat "$tmp/out")" = "$expect_line" ] || fail "--tls-cert: stdout '$(cat "$tmp/out")', expected '$expect_line'"
	ask 127.0.0.1 "https://localhost:$PORT/status" --cacert "$tmp/cert.pem" \
		--resolve "localhost:$PORT:127.0.0.1"
	expect "--tls-cert, https with --cacert" 200
	grep -q '"version"' "$tmp/body" || fail "--tls-cert, https: not /status's body: $(cat "$tmp/body")"
	ask 127.0.0.1 "https://localhost:$PORT/status" --resolve "localhost:$PORT:127.0.0.1"
	expect "--tls-cert, https without the CA (the certificate is not trusted)" 000
	ask 127.0.0.1 "http://127.0.0.1:$PORT/status"
	expect "--tls-cert, plain http" 400 "$JSON" "$BODY_497"
	# protected mode holds over HTTPS too
	ask 127.0.0.2 "https://localhost:$PORT/status" --cacert "$tmp/cert.pem" \
		--resolve "localhost:$PORT:127.0.0.1"
	expect "--tls-cert, 127.0.0.2 over https" 403 "$JSON" "$BODY_403"
	stop
fi

# ---- bad values: one line, exit 2, nothing started ----
bad() {
	_want=$1
	shift
	"$LAUNCHER" --no-consul --spool "$tmp/bad" --factotum-bin "$RUNNER" "$@" >"$tmp/out" 2>"$tmp/err"
	_st=$?
	[ "$_st" = 2 ] && [ "$(cat "$tmp/err")" = "factotum-server: $_want" ] && [ ! -s "$tmp/out" ] ||
		fail "$*: exit $_st, stderr '$(cat "$tmp/err")', expected 2 and 'factotum-server: $_want'"
}
bad "--htpasswd: cannot read '$tmp/none': No such file or directory" --htpasswd "$tmp/none"
bad "--htpasswd: '$tmp' is not a regular file" --htpasswd "$tmp"
bad "--htpasswd: 'htpasswd' is not an absolute path" --htpasswd htpasswd
bad "--tls-key: '/a\$b' holds a character nginx cannot take ('\"', '\\', '\$' or a control character)" \
	--tls-key '/a$b' --tls-cert "$tmp/cert.pem"
bad "--tls-cert: needs --tls-key too (HTTPS takes both)" --tls-cert "$tmp/cert.pem"
bad "--tls-key: needs --tls-cert too (HTTPS takes both)" --tls-key "$tmp/key.pem"
bad "--tls-key: cannot read '$tmp/none': No such file or directory" \
	--tls-cert "$tmp/cert.pem" --tls-key "$tmp/none"
bad "--trust-network: takes no value" --trust-network=yes
bad "--ip: no client could reach 192.0.2.1: without --htpasswd FILE or --trust-network only 127.0.0.1 and ::1 are admitted" \
	--ip 192.0.2.1
if [ "$(id -u)" -ne 0 ]; then
	chmod 0000 "$tmp/htpasswd"
	bad "--htpasswd: cannot read '$tmp/htpasswd': Permission denied" --htpasswd "$tmp/htpasswd"
	chmod 0644 "$tmp/htpasswd"
fi
[ ! -e "$tmp/bad" ] || fail "a launcher with a bad option created its spool"
# the other programs take the options too (one file serves all), and check them the same way
"$FACTOTUM_SERVER_FCGI" --spool "$tmp/bad" --factotum-bin "$RUNNER" --tls-cert "$tmp/cert.pem" \
	>/dev/null 2>"$tmp/err"
st=$?
[ "$st" = 2 ] && grep -qx 'factotum-server-fcgi: --tls-cert: needs --tls-key too (HTTPS takes both)' "$tmp/err" ||
	fail "factotum-server-fcgi --tls-cert alone: exit $st, '$(cat "$tmp/err")'"

# ---- --write-nginx-conf writes the same rules ----
ngx=$tmp/ngx
"$LAUNCHER" --write-nginx-conf "$ngx" --fcgi-socket /srv/x/f.sock --factotum-bin "$RUNNER" \
	--htpasswd "$tmp/htpasswd" --tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem" ||
	fail "--write-nginx-conf with --htpasswd and TLS: exit $?"
for line in '        listen 0.0.0.0:3000 ssl;' '        auth_basic "factotum-server";' \
	"        auth_basic_user_file \"$tmp/htpasswd\";" \
	"        ssl_certificate \"$tmp/cert.pem\";" "        ssl_certificate_key \"$tmp/key.pem\";"; do
	grep -qxF "$line" "$ngx/nginx.conf" || fail "--write-nginx-conf: no '$line' in nginx.conf"
done
grep -q 'deny all;' "$ngx/nginx.conf" && fail "--write-nginx-conf with --htpasswd: still 'deny all;'"
"$FS_NGINX" -t -p "$ngx" -c "$ngx/nginx.conf" -e "$ngx/error.log" >/dev/null 2>&1 ||
	fail "nginx -t rejects the configuration written with --htpasswd and TLS: $(cat "$ngx/error.log")"

[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all passed"
