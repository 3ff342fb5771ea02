# SPDX-License-Identifier: Apache-2.0
# Shared by the tests of the service user (service_user.sh, systemd_units.sh), POSIX sh, sourced
# once FS_BUILDDIR, FS_SRCDIR and FS_TESTDATA are checked: skips (77) unless root, makes the
# node's users (scripts/add-users.sh), a temporary directory $tmp (0711: the service user reaches
# what is below it, lists nothing) holding a copy of the runner ($tmp/factotum) and of the echo
# sample ($tmp/echo.factfile). On exit it stops the processes listed in $pids and, after a
# failure, shows the end of each file listed in $logs.
# Usage: sl_name=NAME sl_tools='TOOL...'; . svcuser_lib.sh (NAME names the temporary directory;
# the tools are needed besides the common ones). A sourced file takes no arguments in POSIX sh.

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: changing user needs root"
	exit 77
fi
. "$FS_SRCDIR/tests/integration/node_lib.sh"
fs_need_nginx

fails=0
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}
_sl_name=$sl_name
# shellcheck disable=SC2086 # a list of words
for tool in curl python3 setpriv /usr/sbin/nginx $sl_tools; do
	command -v "$tool" >/dev/null 2>&1 || { echo "FAIL: needs $tool"; exit 99; }
done
getent group www-data >/dev/null || { echo "FAIL: needs the group www-data (nginx's)"; exit 99; }
sh "$FS_SRCDIR/scripts/add-users.sh" >/dev/null || { echo "FAIL: add-users.sh"; exit 99; }

B=$FS_BUILDDIR
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fs-$_sl_name.XXXXXX") || exit 99
chmod 0711 "$tmp"
pids= logs=
svcuser_cleanup() {
	for p in $pids; do kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	if [ "$fails" -ne 0 ]; then
		for f in $logs; do
			[ -s "$f" ] && { echo "---- $f"; tail -n 30 "$f"; }
		done
	fi
	rm -rf "$tmp"
}
trap svcuser_cleanup EXIT
trap 'exit 99' INT TERM HUP

cp "$B/runner/factotum" "$tmp/factotum"
cp "$FS_TESTDATA/samples/echo.factfile" "$tmp/echo.factfile"
chmod 0755 "$tmp/factotum"
chmod 0644 "$tmp/echo.factfile"

# status_field PID FIELD: the first value of FIELD in /proc/PID/status
status_field() {
	sed -n "s/^$2:[[:space:]]*\([^[:space:]]*\).*/\1/p" "/proc/$1/status"
}

# svcuser_run_job URL PID: submits the echo sample at URL and waits (while PID lives) until the
# job is DONE; sets job_id. 1 (with a failure counted) if it is not, or did not succeed.
svcuser_run_job() {
	_sj_body=$(curl -s -X POST "$1/submit" -H 'Content-Type: application/json' \
		-d "{\"jobName\":\"svc\",\"factfilePath\":\"$tmp/echo.factfile\",\"factfileArgs\":[]}")
	job_id=$(echo "$_sj_body" | sed -n 's/.*"jobId":"\([0-9a-f]*\)".*/\1/p')
	[ -n "$job_id" ] || { fail "submit: $_sj_body"; return 1; }
	_sj_url=$1
	fs_until "$2" 400 svcuser_job_done || {
		fail "job $job_id not DONE: $(curl -s "$1/check?id=$job_id")"
		return 1
	}
	curl -s "$1/check?id=$job_id" | grep -q '"lastOutcome":"SUCCEEDED"' || {
		fail "job $job_id did not succeed: $(curl -s "$1/check?id=$job_id")"
		return 1
	}
}
svcuser_job_done() {
	curl -s "$_sj_url/check?id=$job_id" | grep -q '"DONE"'
}
