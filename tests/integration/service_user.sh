#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The service user, as root (skipped otherwise: only root can change user). The launcher runs a
# node on a free loopback port with --no-consul on a spool root made before (a root-owned,
# world-readable file in it): the responder and the worker run as factotum-server, the worker
# with CAP_SETUID, CAP_SETGID, CAP_KILL and CAP_CHOWN at most, the responder with none, both
# with no_new_privs; the spool is factotum-server's, 0750, its group the run user's (the passage to
# the runs' own directories), nothing in it readable by others; the socket is /run/factotum-server/<12 hex of sha256(realpath(spool))>.sock, 0660, group
# www-data, in a 0750 directory. A job runs to DONE through nginx. As nobody, the socket, the
# database and the job's log are refused. A user or a socket group that does not exist stops each
# program with one line and exit 2; --allow-root keeps root.

set -u

: "${FS_BUILDDIR:?run through make check}"
: "${FS_SRCDIR:?run through make check}"
: "${FS_TESTDATA:?run through make check}"

sl_name=svcuser sl_tools=sha256sum
. "$FS_SRCDIR/tests/integration/svcuser_lib.sh"

FCGI=$B/fcgi/factotum-server-fcgi
WORKER=$B/worker/factotum-server-worker
LAUNCHER=$B/launcher/factotum-server
spool=$tmp/spool
logs="$tmp/out $tmp/err $spool/nginx/error.log"
common="--no-consul --factotum-bin $tmp/factotum"

# ---- users and groups that do not exist: one line, exit 2, from each program ----
for prog in "$LAUNCHER" "$FCGI" "$WORKER"; do
	name=$(basename "$prog")
	# shellcheck disable=SC2086
	"$prog" $common --spool "$tmp/nospool" --user fs-no-such-user >/dev/null 2>"$tmp/err"
	st=$?
	want="$name: --user: no user 'fs-no-such-user' on this system: create it (useradd --system --no-create-home --shell /usr/sbin/nologin fs-no-such-user), name another with --user, or stay root with --allow-root"
	[ $st -eq 2 ] && [ "$(cat "$tmp/err")" = "$want" ] ||
		fail "$name --user fs-no-such-user: exit $st, '$(cat "$tmp/err")'"
done
for prog in "$LAUNCHER" "$FCGI"; do
	name=$(basename "$prog")
	# shellcheck disable=SC2086
	"$prog" $common --spool "$tmp/nospool" --fcgi-socket-group fs-no-such-group >/dev/null \
		2>"$tmp/err"
	st=$?
	[ $st -eq 2 ] && [ "$(cat "$tmp/err")" = "$name: --fcgi-socket-group: no group 'fs-no-such-group' on this system" ] ||
		fail "$name --fcgi-socket-group fs-no-such-group: exit $st, '$(cat "$tmp/err")'"
done
[ -e "$tmp/nospool" ] && fail "a refused start created the spool"

# ---- a node started as root, on a spool root made before ----
mkdir -m 0755 "$spool"
echo old >"$spool/old.txt"
chmod 0644 "$spool/old.txt"
port=$(fs_free_ports 1)
url=http://127.0.0.1:$port
# shellcheck disable=SC2086
# (--keep-run-dirs: the run's directory is looked at after the run)
FACTOTUM_SERVER_FCGI=$FCGI FACTOTUM_SERVER_WORKER=$WORKER "$LAUNCHER" $common --spool "$spool" \
	--ip 127.0.0.1 --port "$port" --keep-run-dirs >"$tmp/out" 2>"$tmp/err" &
lpid=$!
pids="$lpid"
fs_until "$lpid" 400 grep -q listening "$tmp/out" || { fail "the node did not start"; exit 1; }

# the two children of the launcher, by program
resp= work=
for p in $(ps -o pid= --ppid "$lpid"); do
	case $(readlink "/proc/$p/exe") in
	*/factotum-server-fcgi) resp=$p ;;
	*/factotum-server-worker) work=$p ;;
	esac
done
[ -n "$resp" ] && [ -n "$work" ] || { fail "responder '$resp' or worker '$work' not found"; exit 1; }
svc_uid=$(id -u factotum-server)
svc_gid=$(id -g factotum-server)
for p in "$resp" "$work"; do
	[ "$(ps -o user:32= -p "$p" | tr -d ' ')" = factotum-server ] ||
		fail "pid $p runs as $(ps -o user:32= -p "$p")"
	grep -q "^Uid:[[:space:]]*$svc_uid[[:space:]]*$svc_uid[[:space:]]*$svc_uid[[:space:]]*$svc_uid\$" \
		"/proc/$p/status" || fail "pid $p: $(grep ^Uid: "/proc/$p/status")"
	grep -q "^Gid:[[:space:]]*$svc_gid[[:space:]]*$svc_gid[[:space:]]*$svc_gid[[:space:]]*$svc_gid\$" \
		"/proc/$p/status" || fail "pid $p: $(grep ^Gid: "/proc/$p/status")"
	[ "$(status_field "$p" NoNewPrivs)" = 1 ] || fail "pid $p: NoNewPrivs not set"
	[ "$(status_field "$p" CapInh)" = 0000000000000000 ] || fail "pid $p: CapInh not empty"
done
for f in CapEff CapPrm CapBnd; do
	[ "$(status_field "$resp" $f)" = 0000000000000000 ] ||
		fail "responder $f $(status_field "$resp" $f), not 0"
	# CAP_CHOWN 0, CAP_KILL 5, CAP_SETGID 6, CAP_SETUID 7: 0xe1 or fewer
	v=$(status_field "$work" $f)
	[ $((0x$v & ~0xe1)) -eq 0 ] || fail "worker $f $v: more than CHOWN, KILL, SETGID, SETUID"
done

# the socket, outside the spool
h=$(printf '%s' "$(realpath "$spool")" | sha256sum | cut -c1-12)
sock=/run/factotum-server/$h.sock
[ -S "$sock" ] || fail "no socket $sock"
[ "$(stat -c '%a %U %G' "$sock")" = "660 factotum-server www-data" ] ||
	fail "socket: $(stat -c '%a %U %G' "$sock")"
[ "$(stat -c '%a %U %G' /run/factotum-server)" = "750 factotum-server www-data" ] ||
	fail "/run/factotum-server: $(stat -c '%a %U %G' /run/factotum-server)"
[ -e "$spool/fcgi.sock" ] && fail "a socket in the spool"

# a job through nginx, to DONE
svcuser_run_job "$url" "$lpid"
id=$job_id
[ -s "$spool/logs/$id.log" ] || fail "no log for job $id"

# the spool: the service user's, 0750, its group the run user's: the run user's passage to its
# own directory through runs/ (0710, the same group); nothing readable by others (nginx/ stays
# root's; runs/<id> is the run user's)
[ "$(stat -c '%a %U %G' "$spool")" = "750 factotum-server factotum-run" ] ||
	fail "spool: $(stat -c '%a %U %G' "$spool")"
[ "$(stat -c '%a %U %G' "$spool/runs")" = "710 factotum-server factotum-run" ] ||
	fail "runs: $(stat -c '%a %U %G' "$spool/runs")"
[ "$(stat -c '%a %U' "$spool/runs/$id")" = "750 factotum-run" ] ||
	fail "the run's directory: $(stat -c '%a %U' "$spool/runs/$id")"
[ "$(stat -c '%a %U' "$spool/logs")" = "750 factotum-server" ] ||
	fail "logs: $(stat -c '%a %U' "$spool/logs")"
[ "$(stat -c '%a %U' "$spool/old.txt")" = "640 factotum-server" ] ||
	fail "a root-owned file left in the spool: $(stat -c '%a %U' "$spool/old.txt")"
[ "$(stat -c '%U' "$spool/nginx")" = root ] || fail "nginx/ handed over to the service user"
leaky=$(find "$spool" -path "$spool/nginx" -prune -o \( -perm -o=r -o -perm -o=w \) -print)
[ -z "$leaky" ] && [ -n "$(find "$spool" -name spool.db)" ] ||
	fail "readable or writable by others: $leaky"
unowned=$(find "$spool" \( -path "$spool/nginx" -o -path "$spool/runs/$id" \) -prune -o \
	! -user factotum-server -print)
[ -z "$unowned" ] || fail "not the service user's: $unowned"

# as nobody: the socket, the database, the log, the spool's listing are all refused
as_nobody() {
	setpriv --reuid nobody --regid nogroup --clear-groups -- "$@" >/dev/null 2>&1
}
as_nobody python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])' "$sock" &&
	fail "nobody connected to the responder's socket"
as_nobody cat "$spool/spool.db" && fail "nobody read spool.db"
as_nobody cat "$spool/logs/$id.log" && fail "nobody read the job's log"
as_nobody ls "$spool" && fail "nobody listed the spool"
as_nobody stat "$spool/runs" && fail "nobody passed through the spool"
as_nobody sqlite3 "$spool/spool.db" 'SELECT count(*) FROM jobs' && fail "nobody queried spool.db"
as_nobody curl -s -f "$url/check?id=$id" || fail "nobody cannot use the HTTP API (nginx is the door)"

kill -TERM "$lpid"
wait "$lpid"
st=$?
pids=
[ $st -eq 0 ] || fail "launcher exit $st after SIGTERM"
[ -e "$sock" ] && fail "socket $sock left behind"

# ---- --allow-root: the responder stays root ----
# shellcheck disable=SC2086
"$FCGI" $common --spool "$tmp/rootspool" --fcgi-socket "$tmp/root.sock" --allow-root \
	2>"$tmp/err" &
rpid=$!
pids=$rpid
fs_until "$rpid" 200 test -S "$tmp/root.sock" || fail "--allow-root: no socket: $(cat "$tmp/err")"
grep -q '^Uid:[[:space:]]*0[[:space:]]*0[[:space:]]*0[[:space:]]*0$' "/proc/$rpid/status" ||
	fail "--allow-root: $(grep ^Uid: "/proc/$rpid/status")"
[ "$(stat -c '%U' "$tmp/rootspool")" = root ] || fail "--allow-root: the spool changed hands"

[ "$fails" -eq 0 ] || exit 1
echo "all passed"
