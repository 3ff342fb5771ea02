# SPDX-License-Identifier: Apache-2.0
# Shared harness of the responder's integration tests (POSIX sh, sourced): a private temporary
# directory, the responder (factotum-server-fcgi --no-consul) on a unix socket in it with its
# spool there too, and a real nginx (Debian's /usr/sbin/nginx) in its own prefix on a free
# loopback port, configured from nginx/nginx.conf.in and the site file users include. Everything
# started is stopped on exit.
#
# As root (CI), nginx's workers run as nobody: the temporary directory is made traversable
# (0711) and the socket 0666 so that they can connect. As an ordinary user, nginx runs entirely
# as that user and no permission is widened.
#
# Helpers: fs_req METHOD PATH [BODY-FILE|-] [curl args...] sets FS_STATUS, FS_BODY (the answer's
# bytes; also in $FS_TMP/body) and FS_CTYPE; fs_expect STATUS BODY [what]; fs_fail; fs_done.

set -u

: "${FS_BUILDDIR:?run through make check}"
: "${FS_SRCDIR:?run through make check}"
: "${FS_TESTDATA:?run through make check}"

FS_FCGI=$FS_BUILDDIR/fcgi/factotum-server-fcgi
FS_NGINX=${FS_NGINX:-/usr/sbin/nginx}
FS_FAILS=0
FS_NGINX_PIDS=
FS_RESP_PIDS=

if [ ! -x "$FS_NGINX" ] || ! command -v curl >/dev/null 2>&1; then
	echo "FAIL: needs nginx ($FS_NGINX) and curl (scripts/install-deps.sh installs them)"
	exit 99
fi

FS_TMP=$(mktemp -d "${TMPDIR:-/tmp}/fs-fcgi.XXXXXX") || exit 99
FS_SPOOL=$FS_TMP/spool
FS_SOCK=$FS_TMP/run/fcgi.sock
mkdir -p "$FS_SPOOL" "$FS_TMP/run" "$FS_TMP/nginx/tmp" "$FS_TMP/ff"
if [ "$(id -u)" -eq 0 ]; then
	chmod 0711 "$FS_TMP" "$FS_TMP/run"
fi
# a stand-in runner: any executable is accepted as --factotum-bin (jobs do not run here)
FS_RUNNER=$FS_TMP/factotum
printf '#!/bin/sh\nexit 0\n' >"$FS_RUNNER"
chmod 0755 "$FS_RUNNER"

fs_cleanup() {
	for p in $FS_RESP_PIDS; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in $FS_NGINX_PIDS; do
		kill -QUIT "$p" 2>/dev/null
	done
	for p in $FS_RESP_PIDS $FS_NGINX_PIDS; do
		wait "$p" 2>/dev/null
	done
	# a sanitizer report from any responder fails the test, even one stopped by this trap
	if grep -q 'Sanitizer\|runtime error' "$FS_TMP/responder.log" 2>/dev/null; then
		echo "FAIL: sanitizer report from the responder:"
		cat "$FS_TMP/responder.log"
		FS_FAILS=$((FS_FAILS + 1))
		trap - EXIT
		rm -rf "$FS_TMP"
		exit 1
	fi
	if [ "$FS_FAILS" -ne 0 ]; then
		for log in "$FS_TMP"/nginx*/error.log "$FS_TMP/responder.log"; do
			[ -s "$log" ] && { echo "---- $log"; tail -n 20 "$log"; }
		done
	fi
	rm -rf "$FS_TMP"
}
trap fs_cleanup EXIT
trap 'exit 99' INT TERM HUP

fs_fail() {
	echo "FAIL: $*"
	FS_FAILS=$((FS_FAILS + 1))
}

# fs_start_responder [SOCKET] [options...]: starts a responder on SOCKET (default $FS_SOCK)
# with the test spool; sets FS_RESP_PID. Extra options follow the defaults (a repeated
# single-valued option is an error, so tests pass only what they add).
fs_start_responder() {
	sock=${1:-$FS_SOCK}
	[ $# -gt 0 ] && shift
	"$FS_FCGI" --no-consul --spool "$FS_SPOOL" --fcgi-socket "$sock" \
		--factotum-bin "$FS_RUNNER" --fcgi-threads 8 "$@" 2>>"$FS_TMP/responder.log" &
	FS_RESP_PID=$!
	FS_RESP_PIDS="$FS_RESP_PIDS $FS_RESP_PID"
	i=0
	while [ ! -S "$sock" ]; do
		i=$((i + 1))
		if [ $i -gt 100 ] || ! kill -0 "$FS_RESP_PID" 2>/dev/null; then
			echo "responder did not start:"; cat "$FS_TMP/responder.log"
			exit 99
		fi
		sleep 0.05
	done
	[ "$(id -u)" -eq 0 ] && chmod 0666 "$sock"
	return 0
}

# fs_stop_responder PID: SIGTERM, then waits; the exit status is in FS_RESP_STATUS.
fs_stop_responder() {
	kill -TERM "$1"
	wait "$1"
	FS_RESP_STATUS=$?
	FS_RESP_PIDS=$(echo "$FS_RESP_PIDS" | tr ' ' '\n' | grep -vx "$1" | tr '\n' ' ')
}

# fs_start_nginx [SOCKET] [NAME]: an nginx (prefix $FS_TMP/NAME, default "nginx") on a free
# loopback port in front of SOCKET (default $FS_SOCK); sets FS_URL. FS_SITE_SED, if set, is
# one more sed expression applied to the site file.
fs_start_nginx() {
	sock=${1:-$FS_SOCK}
	ndir=$FS_TMP/${2:-nginx}
	mkdir -p "$ndir/tmp"
	site=$ndir/factotum-server.conf
	sed -e "s|unix:/var/lib/factotum-server/fcgi.sock|unix:$sock|" -e "${FS_SITE_SED:-}" \
		"$FS_SRCDIR/nginx/factotum-server.conf" >"$site"
	userline=
	[ "$(id -u)" -eq 0 ] && userline="user nobody $(id -gn nobody 2>/dev/null || echo nogroup);"
	tries=0
	while :; do
		tries=$((tries + 1))
		# a free port from the kernel when python3 is there, else a random one (retried)
		port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null) ||
			port=$(( $(od -An -N2 -tu2 /dev/urandom) % 30000 + 20000 ))
		sed -e "s|@USER_LINE@|$userline|" -e "s|@PREFIX@|$ndir|g" \
			-e "s|@LISTEN@|127.0.0.1:$port|" -e "s|@SITE@|$site|" \
			"$FS_SRCDIR/nginx/nginx.conf.in" >"$ndir/nginx.conf"
		: >"$ndir/error.log"
		"$FS_NGINX" -p "$ndir" -c "$ndir/nginx.conf" -e "$ndir/error.log" \
			2>>"$ndir/error.log" &
		npid=$!
		FS_URL=http://127.0.0.1:$port
		i=0
		while [ $i -lt 100 ]; do
			kill -0 "$npid" 2>/dev/null || break
			if curl -s -o /dev/null "$FS_URL/" 2>/dev/null; then
				FS_NGINX_PIDS="$FS_NGINX_PIDS $npid"
				return 0
			fi
			i=$((i + 1))
			sleep 0.05
		done
		kill "$npid" 2>/dev/null
		wait "$npid" 2>/dev/null
		if [ $tries -ge 5 ] || ! grep -q "in use" "$ndir/error.log"; then
			echo "nginx did not start:"; cat "$ndir/error.log"
			exit 99
		fi
	done
}

# fs_req METHOD PATH [BODY-FILE|-] [curl args...]: one request through nginx. BODY-FILE "-"
# means no body; a body is sent as is (--data-binary), with no Content-Type unless given.
fs_req() {
	method=$1 path=$2
	shift 2
	body=-
	if [ $# -gt 0 ]; then
		body=$1
		shift
	fi
	if [ "$body" = - ]; then
		set -- -X "$method" "$@"
	else
		set -- -X "$method" --data-binary "@$body" -H 'Content-Type:' "$@"
	fi
	out=$(curl -s -o "$FS_TMP/body" -D "$FS_TMP/headers" -w '%{http_code}' "$@" "$FS_URL$path")
	FS_STATUS=$out
	FS_BODY=$(cat "$FS_TMP/body"; printf x)
	FS_BODY=${FS_BODY%x}
	FS_CTYPE=$(sed -n 's/^[Cc]ontent-[Tt]ype: *\(.*\)\r$/\1/p' "$FS_TMP/headers")
}

# fs_post PATH TEXT [curl args...]: POST with TEXT as the body.
fs_post() {
	p=$1 text=$2
	shift 2
	printf '%s' "$text" >"$FS_TMP/req"
	fs_req POST "$p" "$FS_TMP/req" "$@"
}

# fs_expect STATUS BODY [WHAT]: the last answer, byte for byte, and its JSON content type.
fs_expect() {
	what=${3:-$FS_LAST_WHAT}
	if [ "$FS_STATUS" != "$1" ] || [ "$FS_BODY" != "$2" ]; then
		fs_fail "$what: expected $1 $2"
		echo "       got      $FS_STATUS $FS_BODY"
	elif [ "$FS_CTYPE" != "application/json; charset=utf-8" ]; then
		fs_fail "$what: Content-Type '$FS_CTYPE'"
	fi
}
FS_LAST_WHAT=request

# fs_get PATH; fs_expect_get PATH STATUS BODY: GET then compare.
fs_expect_get() {
	fs_req GET "$1"
	fs_expect "$2" "$3" "GET $1"
}
fs_expect_post() {
	fs_post "$1" "$2"
	fs_expect "$3" "$4" "POST $1 $2"
}

# fs_count STATE: the number of jobs in that state (QUEUED, WORKING, DONE) from /status.
fs_count() {
	curl -s "$FS_URL/status" | sed -n "s/.*\"spool\":{\"queued\":\([0-9]*\),\"working\":\([0-9]*\),\"done\":\([0-9]*\)}.*/\1 \2 \3/p" |
		{ read -r q w d; case $1 in QUEUED) echo "$q";; WORKING) echo "$w";; DONE) echo "$d";; esac; }
}

# fs_rows: all jobs rows (QUEUED+WORKING+DONE) as one number.
fs_rows() {
	echo $(( $(fs_count QUEUED) + $(fs_count WORKING) + $(fs_count DONE) ))
}

fs_done() {
	if [ "$FS_FAILS" -ne 0 ]; then
		echo "$FS_FAILS failure(s)"
		exit 1
	fi
	echo "all passed"
	exit 0
}
