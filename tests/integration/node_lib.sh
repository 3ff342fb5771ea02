# SPDX-License-Identifier: Apache-2.0
# Starting the pieces of a node on loopback, shared by the integration tests (lib.sh,
# consul_lib.sh) and the benchmarks (bench/lib.sh). POSIX sh, sourced; it only defines
# functions, so a sourcing script keeps its own traps, directories and failure policy.
# Needs: FS_BUILDDIR (a built tree: the launcher writes nginx's configuration), python3, curl.

FS_NGINX=${FS_NGINX:-/usr/sbin/nginx}
# As root the suite's programs stay root (--allow-root), so that the files a test makes in a
# spool need no hand-over to the service user; service_user.sh tests the change of user.
FS_AS_ROOT=
[ "$(id -u)" -ne 0 ] || FS_AS_ROOT=--allow-root
FS_CONSUL_BIN=${FS_CONSUL_BIN:-consul}
# the dashboard's files, for the nginx the launcher configures, from the source tree
if [ -n "${FS_SRCDIR:-}" ] && [ -z "${FACTOTUM_SERVER_WWW:-}" ]; then
	FACTOTUM_SERVER_WWW=$FS_SRCDIR/www
	export FACTOTUM_SERVER_WWW
fi

# fs_need_nginx, fs_need_consul: the first line of a test that runs nginx (a Consul agent) after
# its harness is sourced: where the program is absent the test is skipped (77) with one line
# instead of failing, as on a package build machine (Debian 12 does not package Consul).
fs_need_nginx() {
	[ -x "$FS_NGINX" ] && return 0
	echo "SKIP: needs nginx at $FS_NGINX (scripts/install-deps.sh installs it)"
	exit 77
}
fs_need_consul() {
	command -v "$FS_CONSUL_BIN" >/dev/null 2>&1 && return 0
	echo "SKIP: needs consul ($FS_CONSUL_BIN; scripts/install-deps.sh installs it)"
	exit 77
}

# fs_ensure_user NAME: as root, creates the system user NAME (and its group) unless it exists,
# with scripts/add-users.sh as the README's quick start does; a no-op for anyone else. The
# worker, started as root, runs every task as the run user (--run-as, default factotum-run) and
# refuses to start without it.
fs_ensure_user() {
	[ "$(id -u)" -eq 0 ] || return 0
	# two tests at once may both create it: the one that lost the race finds it made
	sh "$FS_SRCDIR/scripts/add-users.sh" "$1" >/dev/null 2>&1 || id -u "$1" >/dev/null 2>&1
}

# fs_free_ports N: N distinct free loopback TCP ports, one per line.
fs_free_ports() {
	python3 -c '
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
for s in socks:
    print(s.getsockname()[1])
' "$1"
}

# fs_pids_without LIST PID: the space-separated LIST without PID.
fs_pids_without() {
	echo "$1" | tr ' ' '\n' | grep -vx "$2" | tr '\n' ' '
}

# fs_until PID TRIES COMMAND...: runs COMMAND every 0.05 s until it succeeds (0); 1 once PID is
# gone or after TRIES failures (times FS_WAIT_FACTOR when set: lib.sh).
fs_until() {
	_fu_pid=$1 _fu_max=$(($2 * ${FS_WAIT_FACTOR:-1})) _fu_i=0
	shift 2
	until "$@"; do
		_fu_i=$((_fu_i + 1))
		if [ $_fu_i -gt "$_fu_max" ] || ! kill -0 "$_fu_pid" 2>/dev/null; then
			return 1
		fi
		sleep 0.05
	done
}

# fs_wait_sock PID SOCKET [TRIES]: until the program PID binds SOCKET (default 100 tries); as
# root the socket is then made 0666, since nginx's workers run as another user. 1 on failure.
fs_wait_sock() {
	fs_until "$1" "${3:-100}" test -S "$2" || return 1
	[ "$(id -u)" -ne 0 ] || chmod 0666 "$2"
}

# fs_spool_setting SPOOL KEY: a value of the spool's settings table ("" when unset).
fs_spool_setting() {
	sqlite3 -cmd '.timeout 5000' "$1/spool.db" \
		"SELECT value FROM settings WHERE key='$2'" 2>/dev/null
}

# fs_worker_ready SPOOL PID: the worker PID runs the spool (it publishes worker.pid, then binds
# worker.sock once it holds the lock and has recovered the spool's WORKING jobs).
fs_worker_ready() {
	[ "$(fs_spool_setting "$1" worker.pid)" = "$2" ] && [ -S "$1/worker.sock" ]
}

# fs_nginx_start DIR SOCKET: nginx with prefix DIR on a free loopback port in front of the
# responder at SOCKET, configured by the launcher (factotum-server --write-nginx-conf, the
# same files a node runs); retried on another port if the port was taken meanwhile. Sets
# FS_URL and FS_NGINX_PID; 1 with nginx's errors on stdout on failure. FS_SITE_SED, if set, is
# one more sed expression applied to the site file and its location file. FS_NGINX_LIMITS, if
# set, is the launcher's options for nginx's per-client limits (the default limits otherwise):
# whatever generates load from one address passes FS_NO_LIMITS.
FS_NO_LIMITS='--limit-req 0 --limit-conn 0'
fs_nginx_start() {
	_ns_tries=0
	while :; do
		_ns_tries=$((_ns_tries + 1))
		_ns_port=$(fs_free_ports 1)
		# shellcheck disable=SC2086 # FS_NGINX_LIMITS is a list of options
		"$FS_BUILDDIR/launcher/factotum-server" --write-nginx-conf "$1" --ip 127.0.0.1 \
			--port "$_ns_port" --fcgi-socket "$2" ${FS_NGINX_LIMITS:-} \
			--factotum-bin "$FS_BUILDDIR/runner/factotum" || return 1
		if [ -n "${FS_SITE_SED:-}" ]; then
			sed -i -e "$FS_SITE_SED" "$1/factotum-server.conf" \
				"$1/factotum-server-location.conf" || return 1
		fi
		: >"$1/error.log"
		"$FS_NGINX" -p "$1" -c "$1/nginx.conf" -e "$1/error.log" 2>>"$1/error.log" &
		FS_NGINX_PID=$!
		FS_URL=http://127.0.0.1:$_ns_port
		fs_until "$FS_NGINX_PID" 100 curl -s -o /dev/null "$FS_URL/" && return 0
		kill "$FS_NGINX_PID" 2>/dev/null
		wait "$FS_NGINX_PID" 2>/dev/null
		if [ $_ns_tries -ge 5 ] || ! grep -q "in use" "$1/error.log"; then
			echo "nginx did not start:"
			cat "$1/error.log"
			return 1
		fi
	done
}

# fs_consul_leader URL: the agent at URL knows a leader.
fs_consul_leader() {
	case $(curl -s -m 2 "$1/v1/status/leader" 2>/dev/null) in
	'"'?*'"') return 0 ;;
	esac
	return 1
}
# fs_consul_wait_leader URL [SECONDS] [PID]: until the agent at URL knows a leader (default
# 60 s); exits 99 with the end of the agents' logs ($FS_TMP/consul*.log) if it never does or the
# agent PID exits.
fs_consul_wait_leader() {
	fs_until "${3:-$$}" $(( ${2:-60} * 20 )) fs_consul_leader "$1" && return 0
	echo "no Consul leader at $1:"
	tail -n 20 "$FS_TMP"/consul*.log
	exit 99
}

# fs_consul_session_at URL NAME [TTL] [LOCKDELAY]: prints a new session id, made as the worker
# makes its node's session.
fs_consul_session_at() {
	curl -s -X PUT -d '{"Name":"factotum-server:'"$2"'","TTL":"'"${3:-15s}"'","Behavior":"release","LockDelay":"'"${4:-15s}"'","Checks":[]}' \
		"$1/v1/session/create" | sed -n 's/.*"ID": *"\([^"]*\)".*/\1/p'
}

# fs_consul_server NAME HTTP SERF_LAN SERF_WAN SERVER EXPECT [JOIN_SERF_PORT...]: a -server agent
# on 127.0.0.1 with data in $FS_TMP/consul-NAME (kept across restarts) and its log in
# $FS_TMP/consul-NAME.log; its pid in FS_CONSUL_SRV_PID, also added to the list
# FS_CONSUL_SRV_PIDS. Does not wait for a leader (fs_consul_wait_leader).
fs_consul_server() {
	_cs_n=$1 _cs_h=$2 _cs_sl=$3 _cs_sw=$4 _cs_sv=$5 _cs_ex=$6
	shift 6
	_cs_joins=
	for _cs_j in "$@"; do _cs_joins="$_cs_joins -retry-join 127.0.0.1:$_cs_j"; done
	mkdir -p "$FS_TMP/consul-$_cs_n"
	# shellcheck disable=SC2086
	"$FS_CONSUL_BIN" agent -server -bootstrap-expect "$_cs_ex" \
		-data-dir "$FS_TMP/consul-$_cs_n" -node "$_cs_n" -bind 127.0.0.1 -client 127.0.0.1 \
		-http-port "$_cs_h" -dns-port -1 -grpc-port -1 -serf-lan-port "$_cs_sl" \
		-serf-wan-port "$_cs_sw" -server-port "$_cs_sv" -log-level warn $_cs_joins \
		>>"$FS_TMP/consul-$_cs_n.log" 2>&1 &
	FS_CONSUL_SRV_PID=$!
	FS_CONSUL_SRV_PIDS="${FS_CONSUL_SRV_PIDS:-} $FS_CONSUL_SRV_PID"
}

# fs_use_launcher: the build tree's launcher in LAUNCHER, its runner in RUNNER, and the
# FACTOTUM_SERVER_* variables exported so that it starts this tree's programs and nginx; exits
# 99 when curl, python3, openssl or nginx is missing.
fs_use_launcher() {
	for _ul_tool in curl python3 openssl "$FS_NGINX"; do
		command -v "$_ul_tool" >/dev/null 2>&1 ||
			{ echo "FAIL: needs $_ul_tool (scripts/install-deps.sh installs it)"; exit 99; }
	done
	LAUNCHER=$FS_BUILDDIR/launcher/factotum-server
	RUNNER=$FS_BUILDDIR/runner/factotum
	FACTOTUM_SERVER_FCGI=$FS_BUILDDIR/fcgi/factotum-server-fcgi
	FACTOTUM_SERVER_WORKER=$FS_BUILDDIR/worker/factotum-server-worker
	FACTOTUM_SERVER_NGINX=$FS_NGINX
	export FACTOTUM_SERVER_FCGI FACTOTUM_SERVER_WORKER FACTOTUM_SERVER_NGINX
}
