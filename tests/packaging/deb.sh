#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The Debian package from build to purge, as root, on a machine whose PID 1 is not systemd (a
# container, CI): what an uploader and then an operator would do with it.
#   1. dpkg-buildpackage -us -uc (source and binary; the build runs the unit tests) in a clean
#      copy of the tree;
#   2. lintian -I --pedantic on the .deb and on the source package (through the .changes): any
#      tag that is not overridden fails;
#   3. apt-get installs the .deb and its Depends;
#   4. systemd-analyze verify on the three installed units (any complaint fails) and
#      systemd-analyze security --offline=yes on the two services (a "figure:" line each);
#   5. the node is started as systemd would start it: each service's ExecStart= as its User= and
#      Group= through setpriv (with the unit's ambient capabilities, bounding set,
#      NoNewPrivileges=, UMask=, Environment=), the responder on a socket made as its socket unit
#      makes it (sd_listen.py), and a private nginx in front that includes the installed files as
#      the README says (the site file inside a server { }, the zones file at http level); a job
#      runs through them to SUCCEEDED;
#   6. the package is rebuilt with a higher version and installed over itself WITH THE NODE
#      RUNNING: the maintainer scripts must succeed and leave it running (without systemd
#      deb-systemd-invoke restarts nothing, and the old programs go on); then the script
#      restarts both services by hand, as an operator would (systemctl restart), and the first
#      job's history is still there and a second job runs on the new programs;
#   7. the node is stopped and the package purged: none of its files, no /etc/factotum-server,
#      no /var/lib/factotum-server is left. The system users factotum-server and factotum-run
#      stay (debian/postrm says why).
# Skipped (77) when not root, when a tool is missing, or where the package or files it would own
# are on the machine already: an operator's own installation is never touched. Anything it
# installed is purged on exit. One to two minutes on a 2-core machine (two package builds):
# `make check-packaging` runs it; make check does not.

set -u

here=$(cd "$(dirname "$0")" && pwd)
: "${FS_SRCDIR:=$(cd "$here/../.." && pwd)}"
PKG=factotum-server
. "$here/pkg_lib.sh"
pkg_preflight lintian apt-get systemd-analyze setpriv python3 curl nginx
# a socket unit's node (not a launcher's: those use their own socket names) would be taken over
if [ -e /run/factotum-server/fcgi.sock ]; then
	echo "SKIP: /run/factotum-server/fcgi.sock exists (a node is running); not touching it"
	exit 77
fi

started=$(date +%s)
fails=0
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fs-deb.XXXXXX") || exit 99
# nginx's workers (www-data) and the run user read the factfiles and the configuration below it
chmod 0755 "$tmp"
installed= worker_pid= fcgi_pid= nginx_pid= made_rundir=
# stop_pid PID SIGNAL: signals a process of ours and waits for it
stop_pid() {
	[ -n "$1" ] || return 0
	kill "-$2" "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}
cleanup() {
	stop_pid "$nginx_pid" QUIT
	stop_pid "$worker_pid" TERM
	stop_pid "$fcgi_pid" TERM
	if [ -n "$installed" ] && [ -n "$(pkg_status)" ] && [ "$(pkg_status)" != not-installed ]; then
		dpkg --purge "$PKG" >"$tmp/cleanup.log" 2>&1 || cat "$tmp/cleanup.log"
	fi
	# what stopping the socket unit and the next boot would remove
	rm -f /run/factotum-server/fcgi.sock
	[ -z "$made_rundir" ] || rmdir /run/factotum-server 2>/dev/null
	if [ "$fails" -ne 0 ]; then
		for log in "$tmp"/*.log "$tmp/nginx/error.log"; do
			[ -s "$log" ] && { echo "---- $log"; tail -n 15 "$log"; }
		done
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 99' INT TERM HUP

# ---- 1, 2: the build and lintian ----
pkg_copy_tree "$FS_SRCDIR" "$tmp/src"
ver=$(dpkg-parsechangelog -l "$tmp/src/debian/changelog" -S Version)
arch=$(dpkg --print-architecture)
pkg_build "$tmp/src" "$tmp/build1.log" ""
deb=$tmp/${PKG}_${ver}_$arch.deb
changes=$tmp/${PKG}_${ver}_$arch.changes
[ -f "$deb" ] && [ -f "$changes" ] && [ -f "$tmp/${PKG}_$ver.dsc" ] ||
	{ echo "FAIL: no $deb, $changes or the .dsc"; exit 1; }
grep -q '^# PASS: ' "$tmp/build1.log" || fail "the build ran no unit test (dh_auto_test)"
# (the .changes: the source package, the .deb, its -dbgsym and the .buildinfo)
lintian -I --pedantic --fail-on error,warning,info,pedantic,experimental "$changes" \
	>"$tmp/lintian.out" 2>&1
rc=$?
tags=$(grep -v '^running with root privileges' "$tmp/lintian.out")
[ "$rc" -eq 0 ] && [ -z "$tags" ] || fail "lintian -I --pedantic (exit $rc): $tags"

# ---- 3: the installation ----
installed=yes
if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$deb" \
	>"$tmp/install.log" 2>&1; then
	cat "$tmp/install.log"
	echo "FAIL: apt-get install $deb"
	exit 1
fi
[ "$(pkg_status)" = installed ] || fail "dpkg status after the installation: $(pkg_status)"

# ---- 4: the units ----
unitdir=/lib/systemd/system
units="factotum-server-fcgi.socket factotum-server-fcgi.service factotum-server-worker.service"
out=$(cd "$unitdir" && systemd-analyze verify $units 2>&1) || fail "systemd-analyze verify exits $?"
[ -z "$out" ] || fail "systemd-analyze verify: $out"
for u in factotum-server-fcgi.service factotum-server-worker.service; do
	systemd-analyze security --offline=yes "$unitdir/$u" >"$tmp/security.out" 2>&1
	score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) .*/\1/p' "$tmp/security.out")
	if [ -n "$score" ]; then
		echo "figure: deb.exposure.$u $score"
	else
		fail "systemd-analyze security $u: $(tail -n 3 "$tmp/security.out")"
	fi
done

# ---- 5: the node, started by hand as systemd would ----
# unit_get UNIT KEY: the last KEY= value of an installed unit ("" when absent)
unit_get() {
	sed -n "s/^$2=//p" "$unitdir/$1" | tail -n 1
}
# unit_has UNIT KEY: whether the unit sets KEY= at all (even to nothing)
unit_has() {
	grep -q "^$2=" "$unitdir/$1"
}
# setpriv_caps CAP_A CAP_B...: setpriv's form, -all,+a,+b
setpriv_caps() {
	printf -- '-all'
	for _sc in "$@"; do printf ',+%s' "$(echo "${_sc#CAP_}" | tr 'A-Z' 'a-z')"; done
}
# start_service UNIT [WRAPPER...]: runs the service's ExecStart= in the background as systemd
# would (through WRAPPER, which must exec its arguments), its output in $tmp/UNIT.log; prints
# nothing, sets started_pid.
start_service() {
	_ss_u=$1
	shift
	_ss_exec=$(unit_get "$_ss_u" ExecStart | sed 's/^[-@:+!]*//')
	set -- "$@" setpriv --reuid="$(unit_get "$_ss_u" User)" --regid="$(unit_get "$_ss_u" Group)" \
		--init-groups
	if unit_has "$_ss_u" CapabilityBoundingSet; then
		# shellcheck disable=SC2046
		set -- "$@" --bounding-set="$(setpriv_caps $(unit_get "$_ss_u" CapabilityBoundingSet))"
	fi
	_ss_amb=$(unit_get "$_ss_u" AmbientCapabilities)
	if [ -n "$_ss_amb" ]; then
		# shellcheck disable=SC2086
		set -- "$@" --inh-caps="$(setpriv_caps $_ss_amb)" --ambient-caps="$(setpriv_caps $_ss_amb)"
	fi
	[ "$(unit_get "$_ss_u" NoNewPrivileges)" != true ] || set -- "$@" --no-new-privs
	(
		umask "$(unit_get "$_ss_u" UMask)"
		for _ss_f in $(unit_get "$_ss_u" EnvironmentFile); do
			case $_ss_f in -*) [ -r "${_ss_f#-}" ] || continue ;; esac
			set -a
			. "${_ss_f#-}"
			set +a
		done
		# shellcheck disable=SC2046
		[ -z "$(unit_get "$_ss_u" Environment)" ] || export $(unit_get "$_ss_u" Environment)
		# shellcheck disable=SC2086
		exec "$@" $_ss_exec
	) >>"$tmp/$_ss_u.log" 2>&1 &
	started_pid=$!
}
# start_node: the worker, then the responder on the socket unit's socket
start_node() {
	: >"$tmp/worker-ready"
	start_service factotum-server-worker.service
	worker_pid=$started_pid
	s=factotum-server-fcgi.socket
	[ -d /run/factotum-server ] || made_rundir=yes
	start_service factotum-server-fcgi.service python3 "$here/sd_listen.py" \
		"$(unit_get $s ListenStream)" "$(unit_get $s SocketUser)" "$(unit_get $s SocketGroup)" \
		"$(unit_get $s SocketMode)" "$(unit_get $s DirectoryMode)" "$s" --
	fcgi_pid=$started_pid
}
# stop_node: as systemctl stop does, SIGTERM (KillSignal=) to each service's main process
stop_node() {
	stop_pid "$worker_pid" TERM
	stop_pid "$fcgi_pid" TERM
	worker_pid= fcgi_pid=
}

# the private nginx: the site file inside a server { }, the zones file at http level, as the
# README's deployment section has it; workers as www-data, as Debian's nginx.conf sets
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir "$tmp/nginx"
cat >"$tmp/nginx/nginx.conf" <<EOF
user www-data;
worker_processes 1;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log;
events { worker_connections 64; }
http {
	access_log $tmp/nginx/access.log;
	client_body_temp_path $tmp/nginx/body;
	fastcgi_temp_path $tmp/nginx/fastcgi;
	proxy_temp_path $tmp/nginx/proxy;
	uwsgi_temp_path $tmp/nginx/uwsgi;
	scgi_temp_path $tmp/nginx/scgi;
	include /etc/nginx/conf.d/factotum-server-limits.conf;
	server {
		listen 127.0.0.1:$port;
		include /usr/share/factotum-server/nginx/factotum-server.conf;
	}
}
EOF
base=http://127.0.0.1:$port
# http PATH [curl args...]: sets status and body
http() {
	_h_path=$1
	shift
	status=$(curl -s -m 10 -o "$tmp/body" -w '%{http_code}' "$@" "$base$_h_path")
	body=$(cat "$tmp/body" 2>/dev/null)
}
# until_up: until /status answers 200 through nginx (20 s)
until_up() {
	_uu_i=0
	while [ "$_uu_i" -lt 100 ]; do
		http /status
		[ "$status" = 200 ] && return 0
		sleep 0.2
		_uu_i=$((_uu_i + 1))
	done
	return 1
}
# run_job NAME TAG: submits the echo sample with --tag TAG (each tag is a job id of its own) and
# waits (30 s) for its outcome; sets job_id
run_job() {
	http /submit -X POST -H 'Content-Type: application/json' --data "{\"jobName\":\"$1\",\
\"factfilePath\":\"$tmp/ff/echo.factfile\",\"factfileArgs\":[\"--tag\",\"$2\"]}"
	[ "$status" = 200 ] || { fail "/submit ($1): $status $body"; return 1; }
	job_id=$(echo "$body" | sed -n 's/.*"jobId":"\([0-9a-f]*\)".*/\1/p')
	[ -n "$job_id" ] || { fail "/submit ($1): no jobId in $body"; return 1; }
	_rj_i=0
	while [ "$_rj_i" -lt 150 ]; do
		http "/check?id=$job_id"
		case $body in
		*'"lastOutcome":"SUCCEEDED"'*) return 0 ;;
		*'"lastOutcome":"FAILED"'*) break ;;
		esac
		sleep 0.2
		_rj_i=$((_rj_i + 1))
	done
	fail "job $1 did not succeed: $status $body"
	return 1
}

mkdir -m 0755 "$tmp/ff"
cp "$FS_SRCDIR/tests/data/samples/echo.factfile" "$tmp/ff/"
chmod 0644 "$tmp/ff/echo.factfile"
start_node
/usr/sbin/nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/error.log" \
	-g 'daemon off;' 2>>"$tmp/nginx/error.log" &
nginx_pid=$!
until_up || { fail "no 200 from $base/status through nginx: $status $body"; exit 1; }
for p in $worker_pid $fcgi_pid; do
	uid=$(ps -o uid= -p "$p" | tr -d ' ')
	[ "$uid" = "$(id -u factotum-server)" ] || fail "process $p runs as uid '$uid', not the service user"
done
run_job deb-first deb,first || exit 1
first=$job_id

# ---- 6: the upgrade, with the node running ----
newver=$ver+pkgtest1
maint=$(sed -n 's/^ -- \(.*>\)  .*/\1/p' "$tmp/src/debian/changelog" | head -n 1)
{
	printf '%s (%s) unstable; urgency=medium\n\n' "$PKG" "$newver"
	printf '  * Rebuilt by tests/packaging/deb.sh to test an upgrade.\n\n'
	printf ' -- %s  %s\n\n' "$maint" "$(date -R)"
	cat "$tmp/src/debian/changelog"
} >"$tmp/changelog" && mv "$tmp/changelog" "$tmp/src/debian/changelog"
pkg_build "$tmp/src" "$tmp/build2.log" nocheck -b
newdeb=$tmp/${PKG}_${newver}_$arch.deb
[ -f "$newdeb" ] || { echo "FAIL: no $newdeb"; exit 1; }
if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$newdeb" \
	>"$tmp/upgrade.log" 2>&1; then
	cat "$tmp/upgrade.log"
	echo "FAIL: the upgrade to $newver"
	exit 1
fi
[ "$(dpkg-query -W -f='${Version} ${db:Status-Status}' "$PKG")" = "$newver installed" ] ||
	fail "after the upgrade: $(dpkg-query -W -f='${Version} ${db:Status-Status}' "$PKG")"
for p in $worker_pid $fcgi_pid; do
	kill -0 "$p" 2>/dev/null || fail "process $p did not survive the upgrade"
done
http "/check?id=$first"
[ "$status" = 200 ] || fail "/check through the node running the old programs: $status $body"
# the operator's restart: the new programs
stop_node
start_node
until_up || fail "no 200 from /status after the restart: $status $body"
for p in $worker_pid $fcgi_pid; do
	case $(readlink "/proc/$p/exe") in
	*'(deleted)'*) fail "process $p still runs a program the upgrade replaced" ;;
	esac
done
http "/check?id=$first"
case $body in
*'"lastOutcome":"SUCCEEDED"'*) ;;
*) fail "the first job's history after the upgrade: $status $body" ;;
esac
run_job deb-after-upgrade deb,upgraded
[ "$job_id" != "$first" ] || fail "the two jobs have one id: $job_id"

# ---- 7: the purge ----
stop_pid "$nginx_pid" QUIT
nginx_pid=
stop_node
dpkg-query -L "$PKG" >"$tmp/files" 2>&1 || fail "dpkg-query -L: $(cat "$tmp/files")"
if ! dpkg --purge "$PKG" >"$tmp/purge.log" 2>&1; then
	fail "dpkg --purge: $(cat "$tmp/purge.log")"
fi
installed=
case $(pkg_status) in '' | not-installed) ;; *) fail "dpkg status after purge: $(pkg_status)" ;; esac
left=
while IFS= read -r f; do
	[ -e "$f" ] && [ ! -d "$f" ] && left="$left $f"
done <"$tmp/files"
[ -z "$left" ] || fail "files of the package left after purge:$left"
for d in /etc/factotum-server /var/lib/factotum-server /usr/share/factotum-server \
	/usr/libexec/factotum-server /usr/share/doc/factotum-server; do
	[ ! -e "$d" ] || fail "$d is left after purge: $(ls -A "$d" | head -n 5)"
done
for u in factotum-server factotum-run; do
	getent passwd "$u" >/dev/null || fail "the purge removed the system user $u (kept by design)"
done

echo "figure: deb.seconds $(($(date +%s) - started))"
[ "$fails" -eq 0 ] || exit 1
echo "PASS: the Debian package $ver: lintian clean, installed, a job run by its units, upgraded" \
	"to $newver with the node running, purged"
