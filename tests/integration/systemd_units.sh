#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The systemd units. PID 1 is not systemd on the test machines, so the units are checked offline
# (as any user) and their commands run by hand (as root only: not as root, the test ends after
# the offline checks):
#   - `systemd-analyze verify` finds nothing to say about the three units (with the programs'
#     paths pointed at the build tree);
#   - `systemd-analyze security --offline=yes` rates the responder 2.5 or better (the worker's
#     rating is printed);
#   - as root, each service's ExecStart runs as its User=/Group= with its AmbientCapabilities=,
#     CapabilityBoundingSet= and NoNewPrivileges= applied by setpriv, the responder on a socket
#     made the way the socket unit makes it (spawn-fcgi: SocketUser=, SocketGroup=, SocketMode=,
#     handed over on fd 0); a job submitted through nginx runs to DONE, and each process holds
#     exactly the unit's capabilities.

set -u

: "${FS_BUILDDIR:?run through make check}"
: "${FS_SRCDIR:?run through make check}"
: "${FS_TESTDATA:?run through make check}"

command -v systemd-analyze >/dev/null 2>&1 || { echo "FAIL: needs systemd-analyze"; exit 99; }
B=$FS_BUILDDIR
fails=0
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

# ---- offline checks, on copies naming the build tree's programs ----
units=$(mktemp -d "${TMPDIR:-/tmp}/fs-units.XXXXXX") || exit 99
trap 'rm -rf "$units"' EXIT
trap 'exit 99' INT TERM HUP
for u in factotum-server-fcgi.socket factotum-server-fcgi.service factotum-server-worker.service; do
	[ -r "$B/systemd/$u" ] || { fail "$u not built"; continue; }
	sed -e "s|^ExecStart=[^ ]*/factotum-server-fcgi |ExecStart=$B/fcgi/factotum-server-fcgi |" \
		-e "s|^ExecStart=[^ ]*/factotum-server-worker |ExecStart=$B/worker/factotum-server-worker |" \
		-e '/^Documentation=/d' "$B/systemd/$u" >"$units/$u"
done
out=$(cd "$units" && systemd-analyze verify ./factotum-server-fcgi.socket \
	./factotum-server-fcgi.service ./factotum-server-worker.service 2>&1)
[ -z "$out" ] || fail "systemd-analyze verify: $out"
# exposure_of UNIT: the "Overall exposure level" number
exposure_of() {
	(cd "$units" && systemd-analyze security --offline=yes "./$1" 2>/dev/null) |
		sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p'
}
e=$(exposure_of factotum-server-fcgi.service)
[ -n "$e" ] && awk -v e="$e" 'BEGIN { exit !(e <= 2.5) }' ||
	fail "the responder's exposure level is '$e', more than 2.5"
echo "exposure: responder $e, worker $(exposure_of factotum-server-worker.service)"
[ "$fails" -eq 0 ] || exit 1
if [ "$(id -u)" -ne 0 ]; then
	echo "all passed (offline checks only: running the services' commands as their users needs root)"
	exit 0
fi

# ---- the services' commands, as the units start them ----
sl_name=units sl_tools=spawn-fcgi
. "$FS_SRCDIR/tests/integration/svcuser_lib.sh"
logs="$tmp/responder.log $tmp/worker.log $tmp/ngx/error.log"
# the unit copies go with the rest of the temporary directory (svcuser_lib's exit trap)
mv "$units" "$tmp/units"
# unit_key UNIT KEY: the unit's value of KEY (the last one given)
unit_key() {
	sed -n "s/^$2=//p" "$tmp/units/$1" | tail -n 1
}
# unit_caps UNIT KEY: the capabilities of KEY as setpriv writes them (+setuid,+kill...)
unit_caps() {
	unit_key "$1" "$2" | tr ' ' '\n' | sed -n 's/^CAP_\(.*\)/+\1/p' | tr 'A-Z' 'a-z' |
		paste -s -d, -
}
spool=$tmp/spool
install -d -o factotum-server -g factotum-server -m 0750 "$spool"
install -d -m 0755 "$tmp/run"
printf 'no-consul\nspool = %s\nfactotum-bin = %s\n' "$spool" "$tmp/factotum" >"$tmp/node.conf"
chmod 0644 "$tmp/node.conf"
sock=$tmp/run/fcgi.sock

for u in factotum-server-fcgi.service factotum-server-worker.service; do
	[ "$(unit_key "$u" NoNewPrivileges)" = true ] || fail "$u: no NoNewPrivileges=true"
done
# as_unit UNIT COMMAND...: replaces the shell by COMMAND with the unit's user, group,
# capabilities and no_new_privs
as_unit() {
	_au_u=$1
	shift
	_au_amb=$(unit_caps "$_au_u" AmbientCapabilities)
	_au_bnd=$(unit_caps "$_au_u" CapabilityBoundingSet)
	set -- --reuid "$(unit_key "$_au_u" User)" --regid "$(unit_key "$_au_u" Group)" \
		--init-groups --no-new-privs --bounding-set "-all${_au_bnd:+,$_au_bnd}" "$@"
	[ -z "$_au_amb" ] || set -- --inh-caps "$_au_amb" --ambient-caps "$_au_amb" "$@"
	exec setpriv "$@"
}
# exec_of UNIT: the unit's ExecStart with our configuration file
exec_of() {
	unit_key "$1" ExecStart | sed "s|--config=[^ ]*|--config=$tmp/node.conf|"
}

# the socket as the socket unit makes it
s_user=$(unit_key factotum-server-fcgi.socket SocketUser)
s_group=$(unit_key factotum-server-fcgi.socket SocketGroup)
s_mode=$(unit_key factotum-server-fcgi.socket SocketMode)
# spawn-fcgi execs a program, not a shell function: as_unit's setpriv line, spelled out
r_amb=$(unit_caps factotum-server-fcgi.service AmbientCapabilities)
r_bnd=$(unit_caps factotum-server-fcgi.service CapabilityBoundingSet)
[ -z "$r_amb" ] || fail "the responder's unit grants capabilities: $r_amb"
# shellcheck disable=SC2046
spawn-fcgi -n -s "$sock" -M "$s_mode" -U "$s_user" -G "$s_group" -- \
	/usr/bin/setpriv --reuid "$(unit_key factotum-server-fcgi.service User)" \
	--regid "$(unit_key factotum-server-fcgi.service Group)" --init-groups --no-new-privs \
	--bounding-set "-all${r_bnd:+,$r_bnd}" $(exec_of factotum-server-fcgi.service) \
	2>>"$tmp/responder.log" &
rpid=$!
pids=$rpid
fs_until "$rpid" 200 test -S "$sock" || { fail "responder: no socket"; exit 1; }
[ "0$(stat -c '%a %U %G' "$sock")" = "$s_mode $s_user $s_group" ] ||
	fail "socket: $(stat -c '%a %U %G' "$sock"), the unit says $s_mode $s_user $s_group"

# shellcheck disable=SC2046
as_unit factotum-server-worker.service $(exec_of factotum-server-worker.service) \
	2>>"$tmp/worker.log" &
wpid=$!
pids="$pids $wpid"
fs_until "$wpid" 200 test -S "$spool/worker.sock" || { fail "worker: no socket"; exit 1; }

fs_nginx_start "$tmp/ngx" "$sock" || { fail "nginx"; exit 1; }
pids="$pids $FS_NGINX_PID"
svcuser_run_job "$FS_URL" "$wpid"

# the processes: the units' users and capabilities (the responder is spawn-fcgi's exec'd child)
for p in "$rpid" "$wpid"; do
	[ "$(ps -o user:32= -p "$p" | tr -d ' ')" = factotum-server ] ||
		fail "pid $p ($(readlink "/proc/$p/exe")) runs as $(ps -o user:32= -p "$p")"
	[ "$(status_field "$p" NoNewPrivs)" = 1 ] || fail "pid $p: NoNewPrivs not set"
done
[ "$(status_field "$rpid" CapEff)" = 0000000000000000 ] ||
	fail "responder CapEff $(status_field "$rpid" CapEff)"
[ "$(status_field "$wpid" CapEff)" = 00000000000000e1 ] ||
	fail "worker CapEff $(status_field "$wpid" CapEff), not CHOWN, KILL, SETGID, SETUID"

[ "$fails" -eq 0 ] || exit 1
echo "all passed"
