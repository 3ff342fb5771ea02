# SPDX-License-Identifier: Apache-2.0
# Shared harness of the responder's integration tests (POSIX sh, sourced): a private temporary
# directory, the responder (factotum-server-fcgi --no-consul) on a unix socket in it with its
# spool there too, and a real nginx (Debian's /usr/sbin/nginx) in its own prefix on a free
# loopback port, configured by the launcher from nginx/ (node_lib.sh). Everything started is
# stopped on exit.
#
# As root (CI), nginx's workers run as www-data (nobody where there is none): the temporary
# directory is made traversable and the socket 0666 so that they can connect; tasks run as the
# run user factotum-run (created here if need be), which may write the temporary directory. As an
# ordinary user, nginx runs entirely as that user and no permission is widened.
#
# Helpers: fs_req METHOD PATH [BODY-FILE|-] [curl args...] sets FS_STATUS, FS_BODY (the answer's
# bytes; also in $FS_TMP/body) and FS_CTYPE; fs_expect STATUS BODY [what]; fs_fail; fs_done.

set -u

: "${FS_BUILDDIR:?run through make check}"
: "${FS_SRCDIR:?run through make check}"
: "${FS_TESTDATA:?run through make check}"
# absolute, as make check gives them: the programs run in other working directories (a relative
# build directory given by hand would name a runner the worker cannot find)
FS_BUILDDIR=$(cd "$FS_BUILDDIR" && pwd) || exit 99
FS_SRCDIR=$(cd "$FS_SRCDIR" && pwd) || exit 99
FS_TESTDATA=$(cd "$FS_TESTDATA" && pwd) || exit 99

. "$FS_SRCDIR/tests/integration/node_lib.sh"

FS_FCGI=$FS_BUILDDIR/fcgi/factotum-server-fcgi
FS_WORKER=$FS_BUILDDIR/worker/factotum-server-worker
FS_WORKER_PIDS=
FS_FAILS=0
FS_NGINX_PIDS=
FS_RESP_PIDS=

# (nginx: a test that starts it calls fs_need_nginx, and is skipped where it is absent)
if ! command -v curl >/dev/null 2>&1 ||
	! command -v python3 >/dev/null 2>&1 || ! command -v sqlite3 >/dev/null 2>&1; then
	echo "FAIL: needs curl, python3 and sqlite3 (scripts/install-deps.sh installs them)"
	exit 99
fi

FS_TMP=$(mktemp -d "${TMPDIR:-/tmp}/fs-fcgi.XXXXXX") || exit 99
FS_SPOOL=$FS_TMP/spool
FS_SOCK=$FS_TMP/run/fcgi.sock
mkdir -p "$FS_SPOOL" "$FS_TMP/run" "$FS_TMP/ff"
if [ "$(id -u)" -eq 0 ]; then
	# tasks run as the run user and leave their marks in the temporary directory: open to
	# anyone, sticky, as /tmp itself is
	chmod 1777 "$FS_TMP"
	chmod 0711 "$FS_TMP/run"
	fs_ensure_user factotum-run || { echo "FAIL: cannot create the run user factotum-run"; exit 99; }
fi
# Every wait of these helpers (and node_lib.sh's fs_until) lasts FS_WAIT_FACTOR times longer,
# 1 unless set: tests/reliability/valgrind.sh runs the programs under valgrind, many times slower.
: "${FS_WAIT_FACTOR:=1}"

# a stand-in runner: any executable is accepted as --factotum-bin (jobs do not run here)
FS_RUNNER=$FS_TMP/factotum
printf '#!/bin/sh\nexit 0\n' >"$FS_RUNNER"
chmod 0755 "$FS_RUNNER"

fs_cleanup() {
	for p in $FS_WORKER_PIDS; do
		kill -TERM "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	# supervisors outlive their worker by design: stop the runs a test left behind
	fs_stop_supervisors
	for p in $FS_RESP_PIDS; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in $FS_NGINX_PIDS; do
		kill -QUIT "$p" 2>/dev/null
	done
	for p in $FS_RESP_PIDS $FS_NGINX_PIDS; do
		wait "$p" 2>/dev/null
	done
	# a sanitizer report from any responder or worker fails the test, even one stopped by
	# this trap
	if grep -q 'Sanitizer\|runtime error' "$FS_TMP/responder.log" "$FS_TMP/worker.log" \
		2>/dev/null; then
		echo "FAIL: sanitizer report:"
		cat "$FS_TMP/responder.log" "$FS_TMP/worker.log" 2>/dev/null
		FS_FAILS=$((FS_FAILS + 1))
		trap - EXIT
		rm -rf "$FS_TMP"
		exit 1
	fi
	if [ "$FS_FAILS" -ne 0 ]; then
		for log in "$FS_TMP"/nginx*/error.log "$FS_TMP/responder.log" \
			"$FS_TMP/worker.log"; do
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
	"$FS_FCGI" --no-consul --spool "$FS_SPOOL" --fcgi-socket "$sock" $FS_AS_ROOT \
		--factotum-bin "$FS_RUNNER" --fcgi-threads 8 "$@" 2>>"$FS_TMP/responder.log" &
	fs_responder_started "$sock"
}

# fs_responder_started SOCKET: after starting a responder in the background (its stderr in
# $FS_TMP/responder.log): sets FS_RESP_PID and waits until it listens on SOCKET.
fs_responder_started() {
	FS_RESP_PID=$!
	FS_RESP_PIDS="$FS_RESP_PIDS $FS_RESP_PID"
	if ! fs_wait_sock "$FS_RESP_PID" "$1"; then
		echo "responder did not start:"; cat "$FS_TMP/responder.log"
		exit 99
	fi
}

# fs_stop_responder PID: SIGTERM, then waits; the exit status is in FS_RESP_STATUS.
fs_stop_responder() {
	kill -TERM "$1"
	wait "$1"
	FS_RESP_STATUS=$?
	FS_RESP_PIDS=$(fs_pids_without "$FS_RESP_PIDS" "$1")
}

# fs_start_worker [options...]: the worker (--no-consul) on the test spool with the runner
# $FS_RUNNER; sets FS_WORKER_PID once the worker is bound to its socket (it has then recovered
# the spool's WORKING jobs). Its stderr goes to $FS_TMP/worker.log.
fs_start_worker() {
	"$FS_WORKER" --no-consul --spool "$FS_SPOOL" --factotum-bin "$FS_RUNNER" $FS_AS_ROOT "$@" \
		2>>"$FS_TMP/worker.log" &
	fs_worker_started 200 fs_worker_ready "$FS_SPOOL" "$!"
}

# fs_worker_started TRIES COMMAND...: after starting a worker in the background (its stderr in
# $FS_TMP/worker.log): sets FS_WORKER_PID and waits until COMMAND says it is ready.
fs_worker_started() {
	FS_WORKER_PID=$!
	FS_WORKER_PIDS="$FS_WORKER_PIDS $FS_WORKER_PID"
	if ! fs_until "$FS_WORKER_PID" "$@"; then
		echo "worker did not start:"; tail -n 30 "$FS_TMP/worker.log"
		exit 99
	fi
}

# fs_stop_worker PID [SIGNAL]: signals the worker (TERM by default) and waits; its exit status
# is in FS_WORKER_STATUS.
fs_stop_worker() {
	kill "-${2:-TERM}" "$1"
	wait "$1"
	FS_WORKER_STATUS=$?
	FS_WORKER_PIDS=$(fs_pids_without "$FS_WORKER_PIDS" "$1")
}

# fs_stop_supervisors: SIGTERM to every supervisor named by a pid file in the spool (each stops
# its runner), then SIGKILL to any still there after 3 s.
fs_stop_supervisors() {
	sups=$(sed -n 's/^pid=//p' "$FS_SPOOL"/runs/*.pid 2>/dev/null)
	[ -n "$sups" ] || return 0
	for p in $sups; do
		kill -TERM "$p" 2>/dev/null
	done
	i=0
	for p in $sups; do
		while kill -0 "$p" 2>/dev/null && [ $i -lt 60 ]; do
			i=$((i + 1))
			sleep 0.05
		done
		kill -KILL "$p" 2>/dev/null
	done
	return 0
}

# fs_sql SQL: one query on the test spool (sqlite3 is a test dependency, install-deps.sh).
fs_sql() {
	sqlite3 -cmd '.timeout 5000' "$FS_SPOOL/spool.db" "$1"
}

# fs_factfile NAME COMMAND: writes $FS_TMP/ff/NAME.factfile, one task "t" running COMMAND with
# sh -c (COMMAND holds no '"' or '\'); its path is in FS_FF.
fs_factfile() {
	FS_FF=$FS_TMP/ff/$1.factfile
	cat >"$FS_FF" <<EOF_FF
{"schema": "iglu:com.snowplowanalytics.factotum/factfile/jsonschema/1-0-0",
 "data": {"name": "$1", "tasks": [{"name": "t", "executor": "shell", "command": "$2",
  "arguments": [], "dependsOn": [],
  "onResult": {"terminateJobWithSuccess": [], "continueJob": [0]}}]}}
EOF_FF
}

# fs_submit NAME PATH [ARGS-JSON]: POST /submit, which must answer 200; the job id is in FS_ID.
fs_submit() {
	fs_post /submit '{"jobName":"'"$1"'","factfilePath":"'"$2"'","factfileArgs":'"${3:-[]}"'}'
	FS_ID=$(printf '%s' "$FS_BODY" | sed -n 's/.*"jobId":"\([0-9a-f]*\)".*/\1/p')
	if [ "$FS_STATUS" != 200 ] || [ -z "$FS_ID" ]; then
		fs_fail "submit $1: $FS_STATUS $FS_BODY"
	fi
}

# fs_check ID: GET /check; sets FS_STATE, FS_OUTCOME, FS_EXIT, FS_SIGNAL and FS_REASON (null
# when absent, as /check says).
fs_check() {
	fs_req GET "/check?id=$1"
	FS_STATE=$(printf '%s' "$FS_BODY" | sed -n 's/^{"state":"\([A-Z]*\)".*/\1/p')
	FS_OUTCOME=$(printf '%s' "$FS_BODY" | sed -n 's/.*"lastOutcome":"\([A-Z]*\)".*/\1/p')
	FS_EXIT=$(printf '%s' "$FS_BODY" | sed -n 's/.*"exitCode":\([-0-9a-z]*\).*/\1/p')
	FS_SIGNAL=$(printf '%s' "$FS_BODY" | sed -n 's/.*"exitSignal":\([-0-9a-z]*\).*/\1/p')
	FS_REASON=$(printf '%s' "$FS_BODY" | sed -n 's/.*"reason":"\{0,1\}\([-a-z]*\)"\{0,1\}}$/\1/p')
}

# fs_wait_state ID STATE [SECONDS]: polls /check until the job is in STATE (default limit 20 s);
# a failure otherwise. The last /check is in FS_STATE... as fs_check sets them.
fs_wait_state() {
	n=$(( ${3:-20} * 20 * FS_WAIT_FACTOR ))
	while :; do
		fs_check "$1"
		[ "$FS_STATE" = "$2" ] && return 0
		n=$((n - 1))
		if [ $n -le 0 ]; then
			fs_fail "job $1 not $2 in time: $FS_BODY"
			return 1
		fi
		sleep 0.05
	done
}

# fs_expect_outcome ID OUTCOME EXIT SIGNAL REASON [WHAT]: after fs_check or fs_wait_state.
fs_expect_outcome() {
	if [ "$FS_STATE $FS_OUTCOME $FS_EXIT $FS_SIGNAL $FS_REASON" != "DONE $2 $3 $4 $5" ]; then
		fs_fail "${6:-job $1}: expected DONE $2 exit $3 signal $4 reason $5, got $FS_BODY"
	fi
}

# fs_start_nginx [SOCKET] [NAME]: an nginx (prefix $FS_TMP/NAME, default "nginx") on a free
# loopback port in front of SOCKET (default $FS_SOCK); sets FS_URL. FS_SITE_SED, if set, is
# one more sed expression applied to the site file and its location file.
fs_start_nginx() {
	if ! fs_nginx_start "$FS_TMP/${2:-nginx}" "${1:-$FS_SOCK}"; then
		exit 99
	fi
	FS_NGINX_PIDS="$FS_NGINX_PIDS $FS_NGINX_PID"
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
	elif [ "$FS_CTYPE" != "application/json; charset=UTF-8" ]; then
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
