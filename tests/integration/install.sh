#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The installed node: `make install DESTDIR=<tmp>` from the build directory, then the installed
# launcher (which finds the responder and the worker next to itself) runs a node on a free
# loopback port with a temporary spool and --no-consul; the echo sample is submitted with curl
# and /check polled until DONE/SUCCEEDED; a second launcher on the same port fails with one
# line; SIGTERM stops the node, the launcher exits 0 and no process of the node is left (by pid,
# and by the spool path in /proc/*/cmdline). Also checks that the man pages, the systemd units,
# the example configuration and the nginx files are installed.

set -u

: "${FS_BUILDDIR:?run through make check}"
: "${FS_SRCDIR:?run through make check}"
: "${FS_TESTDATA:?run through make check}"
. "$FS_SRCDIR/tests/integration/node_lib.sh"
fs_need_nginx

fails=0
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}
for tool in curl python3 /usr/sbin/nginx; do
	command -v "$tool" >/dev/null 2>&1 ||
		{ echo "FAIL: needs $tool (scripts/install-deps.sh installs it)"; exit 99; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fs-install.XXXXXX") || exit 99
# as root nginx's workers run as www-data: they must reach the socket in the spool
[ "$(id -u)" -eq 0 ] && chmod 0711 "$tmp"
# as root the worker runs tasks as the run user, which must exist
fs_ensure_user factotum-run || { echo "FAIL: cannot create the run user factotum-run"; exit 99; }
spool=$tmp/spool
lpid=
cleanup() {
	[ -n "$lpid" ] && kill -TERM "$lpid" 2>/dev/null && wait "$lpid" 2>/dev/null
	if [ "$fails" -ne 0 ]; then
		for f in "$tmp/out" "$tmp/err" "$tmp/err2" "$spool/nginx/error.log" "$tmp/install.log"; do
			[ -s "$f" ] && { echo "---- $f"; tail -n 30 "$f"; }
		done
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 99' INT TERM HUP

# ---- install (the test runs inside make check: do not share its jobserver) ----
dest=$tmp/dest
if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$FS_BUILDDIR" install DESTDIR="$dest" \
	>"$tmp/install.log" 2>&1; then
	fail "make install DESTDIR=$dest"
	exit 1
fi
launcher=$(find "$dest" -path '*/bin/factotum-server' -type f)
runner=$(find "$dest" -path '*/factotum-server/factotum' -type f)
for f in "$launcher" "$runner"; do
	[ -n "$f" ] && [ -x "$f" ] || { fail "launcher or runner not installed: '$launcher' '$runner'"; exit 1; }
done
bindir=$(dirname "$launcher")
for f in "$bindir/factotum-server-fcgi" "$bindir/factotum-server-worker"; do
	[ -x "$f" ] || fail "not installed: $f"
done
for name in factotum-server.1 factotum-server-fcgi.8 factotum-server-worker.8 \
	factotum-server.conf.5 factotum-server-fcgi.socket factotum-server-fcgi.service \
	factotum-server-worker.service factotum-server.conf.example nginx.conf.in; do
	[ -n "$(find "$dest" -name "$name" -type f)" ] || fail "not installed: $name"
done
# the drop-in and its location file are the nginx/ ones (the launcher embeds the same text); the
# drop-in names the location file where it is installed
site=$(find "$dest" -path '*/nginx/factotum-server.conf' -type f)
[ -n "$site" ] || fail "not installed: nginx/factotum-server.conf"
loc=$(find "$dest" -path '*/nginx/factotum-server-location.conf' -type f)
[ -n "$loc" ] || fail "not installed: nginx/factotum-server-location.conf"
[ -n "$site" ] && [ -n "$loc" ] &&
	grep -qx "    include ${loc#"$dest"};" "$site" ||
	fail "the drop-in does not include ${loc#"$dest"}"
# and the zones it names, in nginx's conf.d (sysconfdir/nginx/conf.d)
[ -n "$(find "$dest" -path '*/nginx/conf.d/factotum-server-limits.conf' -type f)" ] ||
	fail "not installed: nginx/conf.d/factotum-server-limits.conf"
if find "$dest" -name 'factotum-server-worker.service' -exec grep -q '^KillMode=process$' {} \; \
	-print | grep -q .; then :; else fail "the worker unit lacks KillMode=process"; fi

# ---- --write-nginx-conf: the node's nginx files, and nothing started ----
"$launcher" --write-nginx-conf "$tmp/ngx" --ip ::1 --port 3111 --fcgi-socket /srv/x/f.sock \
	--factotum-bin "$runner" >"$tmp/out" 2>"$tmp/err" || fail "--write-nginx-conf exits $?"
[ ! -s "$tmp/out" ] && [ ! -s "$tmp/err" ] || fail "--write-nginx-conf wrote to stdout or stderr"
grep -qx '        listen \[::1\]:3111;' "$tmp/ngx/nginx.conf" 2>/dev/null ||
	fail "--write-nginx-conf: no 'listen [::1]:3111;' in nginx.conf"
grep -qx "        include $tmp/ngx/factotum-server.conf;" "$tmp/ngx/nginx.conf" 2>/dev/null ||
	fail "--write-nginx-conf: nginx.conf does not include its site file"
grep -q '^ *fastcgi_pass unix:/srv/x/f.sock;$' "$tmp/ngx/factotum-server-location.conf" \
	2>/dev/null || fail "--write-nginx-conf: the location file does not pass to unix:/srv/x/f.sock"
grep -qx "    include $tmp/ngx/factotum-server-location.conf;" "$tmp/ngx/factotum-server.conf" \
	2>/dev/null || fail "--write-nginx-conf: the site file does not include its location file"
[ -d "$tmp/ngx/tmp" ] || fail "--write-nginx-conf: no tmp/ directory"
"$launcher" --factotum-bin "$runner" --write-nginx-conf >"$tmp/out" 2>"$tmp/err"
st=$?
[ "$st" = 2 ] && [ "$(cat "$tmp/err")" = "factotum-server: --write-nginx-conf: missing value
Try 'factotum-server --help' for more information." ] ||
	fail "--write-nginx-conf without DIR: exit $st, '$(cat "$tmp/err")'"

# ---- run the installed launcher ----
unset FACTOTUM_SERVER_FCGI FACTOTUM_SERVER_WORKER FACTOTUM_SERVER_NGINX
port=$(fs_free_ports 1)
url=http://127.0.0.1:$port
"$launcher" --no-consul --spool "$spool" --ip 127.0.0.1 --port "$port" \
	--factotum-bin "$runner" --log-level info >"$tmp/out" 2>"$tmp/err" &
lpid=$!
i=0
until grep -q 'listening' "$tmp/out" 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 400 ] || ! kill -0 "$lpid" 2>/dev/null; then
		fail "the launcher did not start"
		exit 1
	fi
	sleep 0.05
done
expect="factotum-server: listening on $url/ (spool $spool)"
[ "$(cat "$tmp/out")" = "$expect" ] || fail "stdout: '$(cat "$tmp/out")', expected '$expect'"

# ---- a job through the whole node ----
ff=$FS_TESTDATA/samples/echo.factfile
body=$(curl -s -X POST --data-binary "{\"jobName\":\"echo\",\"factfilePath\":\"$ff\",\"factfileArgs\":[]}" \
	"$url/submit")
id=$(printf '%s' "$body" | sed -n 's/.*"jobId":"\([0-9a-f]*\)".*/\1/p')
[ -n "$id" ] || fail "submit: $body"
i=0
while :; do
	check=$(curl -s "$url/check?id=$id")
	case $check in
	'{"state":"DONE","jobRequest":'*'"lastOutcome":"SUCCEEDED"'*) break ;;
	esac
	i=$((i + 1))
	if [ $i -gt 600 ]; then
		fail "job $id not DONE/SUCCEEDED: $check"
		break
	fi
	sleep 0.05
done

# ---- a second node on the same port fails with one clear line and exit status 1 ----
"$launcher" --no-consul --spool "$tmp/spool2" --ip 127.0.0.1 --port "$port" \
	--factotum-bin "$runner" >/dev/null 2>"$tmp/err2"
st=$?
[ $st -eq 1 ] || fail "second launcher on port $port: exit status $st"
if [ "$(wc -l <"$tmp/err2")" -ne 1 ] || ! grep -q "port $port on 127.0.0.1 is already in use" "$tmp/err2"; then
	fail "second launcher: $(cat "$tmp/err2")"
fi

# ---- SIGTERM stops everything ----
# the node's processes: the launcher's descendants (nginx's workers do not name the spool)
descendants() {
	ps -e -o pid=,ppid= | awk -v root="$1" '
		{ parent[$1] = $2 }
		END { found[root] = 1; n = 1
		      while (n) { n = 0
			for (p in parent) if (!(p in found) && (parent[p] in found)) { found[p] = 1; n = 1 } }
		      for (p in found) if (p != root) print p }'
}
pids=$(descendants "$lpid")
[ "$(echo "$pids" | wc -w)" -ge 4 ] || fail "expected responder, worker, nginx and its worker: '$pids'"
kill -TERM "$lpid"
wait "$lpid"
st=$?
lpid=
[ $st -eq 0 ] || fail "launcher exit status after SIGTERM: $st"
for p in $pids; do
	if kill -0 "$p" 2>/dev/null; then
		fail "process $p is still running: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"
	fi
done
for c in /proc/[0-9]*/cmdline; do
	if tr '\0' ' ' 2>/dev/null <"$c" | grep -qF "$spool"; then
		fail "still running: $(tr '\0' ' ' <"$c")"
	fi
done
if grep -q 'Sanitizer\|runtime error' "$tmp/err" "$tmp/err2"; then
	fail "sanitizer report"
	cat "$tmp/err"
fi

if [ "$fails" -ne 0 ]; then
	echo "$fails failure(s)"
	exit 1
fi
echo "all passed"
exit 0
