# SPDX-License-Identifier: Apache-2.0
# Shared harness of the Consul integration tests (POSIX sh, sourced after lib.sh): a real consul
# agent (-dev, in memory) on free loopback ports, stopped on exit; responders with Consul
# enabled; and small curl helpers to look at Consul directly.
#
# Helpers: fs_consul_start (sets FS_CONSUL_PORT, FS_CONSUL), fs_consul_stop,
# fs_consul_session NAME [TTL] [LOCKDELAY] (prints a new session id), fs_consul_get KEY (the raw
# JSON of a KV read, "" when absent), fs_consul_value KEY (the decoded value),
# fs_start_consul_responder SOCKET SPOOL NAME [options...].

FS_CONSUL_BIN=${FS_CONSUL_BIN:-consul}
FS_CONSUL_PID=

if ! command -v "$FS_CONSUL_BIN" >/dev/null 2>&1 || ! command -v python3 >/dev/null 2>&1 ||
	! command -v sqlite3 >/dev/null 2>&1; then
	echo "FAIL: needs consul, python3 and sqlite3 (scripts/install-deps.sh installs them)"
	exit 99
fi

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

# fs_consul_start: a dev agent with every port free; waits until it has a leader.
fs_consul_start() {
	set -- $(fs_free_ports 4)
	FS_CONSUL_PORT=$1
	FS_CONSUL=http://127.0.0.1:$1
	"$FS_CONSUL_BIN" agent -dev -bind 127.0.0.1 -client 127.0.0.1 -node fs-test \
		-http-port "$1" -dns-port -1 -grpc-port -1 -serf-lan-port "$2" \
		-serf-wan-port "$3" -server-port "$4" >>"$FS_TMP/consul.log" 2>&1 &
	FS_CONSUL_PID=$!
	i=0
	until [ "$(curl -s "$FS_CONSUL/v1/status/leader" 2>/dev/null)" != "" ] &&
		[ "$(curl -s "$FS_CONSUL/v1/status/leader")" != '""' ]; do
		i=$((i + 1))
		if [ $i -gt 300 ] || ! kill -0 "$FS_CONSUL_PID" 2>/dev/null; then
			echo "consul did not start:"; tail -n 30 "$FS_TMP/consul.log"
			exit 99
		fi
		sleep 0.1
	done
}

fs_consul_stop() {
	[ -n "$FS_CONSUL_PID" ] || return 0
	kill -TERM "$FS_CONSUL_PID" 2>/dev/null
	wait "$FS_CONSUL_PID" 2>/dev/null
	FS_CONSUL_PID=
}

# lib.sh's trap, plus the agent
trap 'fs_consul_stop; fs_cleanup' EXIT

fs_consul_session() {
	curl -s -X PUT -d '{"Name":"factotum-server:'"$1"'","TTL":"'"${2:-15s}"'","Behavior":"release","LockDelay":"'"${3:-15s}"'","Checks":[]}' \
		"$FS_CONSUL/v1/session/create" | sed -n 's/.*"ID": *"\([^"]*\)".*/\1/p'
}

fs_consul_get() {
	curl -s -f "$FS_CONSUL/v1/kv/$1" 2>/dev/null
}

fs_consul_value() {
	curl -s -f "$FS_CONSUL/v1/kv/$1?raw" 2>/dev/null
}

# fs_consul_field KEY FIELD: a top-level field of the KV entry (ModifyIndex, Session), "" if none.
fs_consul_field() {
	fs_consul_get "$1" | python3 -c '
import json, sys
try:
    e = json.load(sys.stdin)[0]
    print(e.get(sys.argv[1]) or "")
except Exception:
    print("")
' "$2"
}

# fs_consul_put KEY VALUE: a plain write (no session), as another tool or an old server would.
fs_consul_put() {
	printf '%s' "$2" | curl -s -X PUT --data-binary @- "$FS_CONSUL/v1/kv/$1" >/dev/null
}

# fs_start_consul_responder SOCKET SPOOL NAME [options...]: a responder with Consul enabled.
fs_start_consul_responder() {
	sock=$1 spool=$2 name=$3
	shift 3
	mkdir -p "$spool"
	"$FS_FCGI" --spool "$spool" --fcgi-socket "$sock" --factotum-bin "$FS_RUNNER" \
		--fcgi-threads 16 --consul-name "$name" --consul-port "$FS_CONSUL_PORT" "$@" \
		2>>"$FS_TMP/responder.log" &
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

# ---- server agents with a data directory (they survive a restart), and workers ----
# fs_consul_server NAME HTTP SERF_LAN SERF_WAN SERVER EXPECT [JOIN_SERF_PORT...]: a -server agent
# on 127.0.0.1 with data in $FS_TMP/consul-NAME (kept across restarts), its log in
# $FS_TMP/consul-NAME.log; its pid in FS_CONSUL_SRV_PID and in FS_CONSUL_SRV_PIDS (stopped on
# exit by fs_consul_stop_all). Does not wait for a leader (fs_consul_wait_leader).
FS_CONSUL_SRV_PIDS=
fs_consul_server() {
	n=$1 h=$2 sl=$3 sw=$4 sv=$5 ex=$6
	shift 6
	joins=
	for j in "$@"; do joins="$joins -retry-join 127.0.0.1:$j"; done
	mkdir -p "$FS_TMP/consul-$n"
	# shellcheck disable=SC2086
	"$FS_CONSUL_BIN" agent -server -bootstrap-expect "$ex" -data-dir "$FS_TMP/consul-$n" \
		-node "$n" -bind 127.0.0.1 -client 127.0.0.1 -http-port "$h" -dns-port -1 \
		-grpc-port -1 -serf-lan-port "$sl" -serf-wan-port "$sw" -server-port "$sv" \
		-log-level warn $joins >>"$FS_TMP/consul-$n.log" 2>&1 &
	FS_CONSUL_SRV_PID=$!
	FS_CONSUL_SRV_PIDS="$FS_CONSUL_SRV_PIDS $FS_CONSUL_SRV_PID"
}

# fs_consul_wait_leader URL [SECONDS]: until the agent at URL knows a leader (default 60 s).
fs_consul_wait_leader() {
	i=0
	while :; do
		l=$(curl -s -m 2 "$1/v1/status/leader" 2>/dev/null)
		case $l in '"'?*'"') return 0 ;; esac
		i=$((i + 1))
		if [ $i -gt $(( ${2:-60} * 10 )) ]; then
			echo "no Consul leader at $1:"; tail -n 20 "$FS_TMP"/consul-*.log
			exit 99
		fi
		sleep 0.1
	done
}

# fs_consul_kill PID [SIGNAL]: stops one server agent (TERM by default) and waits for it.
fs_consul_kill() {
	kill "-${2:-TERM}" "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	FS_CONSUL_SRV_PIDS=$(echo "$FS_CONSUL_SRV_PIDS" | tr ' ' '\n' | grep -vx "$1" | tr '\n' ' ')
}

fs_consul_stop_all() {
	for p in $FS_CONSUL_SRV_PIDS; do kill -TERM "$p" 2>/dev/null; done
	for p in $FS_CONSUL_SRV_PIDS; do wait "$p" 2>/dev/null; done
	FS_CONSUL_SRV_PIDS=
}

# fs_start_consul_worker SPOOL NAME CONSUL_PORT [options...]: a worker with Consul enabled (its
# stderr in $FS_TMP/worker.log, at --log-level info), once it holds a session (the spool
# setting consul.session is set); its pid in FS_WORKER_PID.
fs_start_consul_worker() {
	spool=$1 name=$2 cport=$3
	shift 3
	mkdir -p "$spool"
	"$FS_WORKER" --spool "$spool" --factotum-bin "$FS_RUNNER" --consul-name "$name" \
		--consul-port "$cport" --log-level info "$@" 2>>"$FS_TMP/worker.log" &
	FS_WORKER_PID=$!
	FS_WORKER_PIDS="$FS_WORKER_PIDS $FS_WORKER_PID"
	i=0
	until [ -S "$spool/worker.sock" ] && [ -n "$(sqlite3 -cmd '.timeout 5000' "$spool/spool.db" \
		"SELECT value FROM settings WHERE key='consul.session'" 2>/dev/null)" ]; do
		i=$((i + 1))
		if [ $i -gt 300 ] || ! kill -0 "$FS_WORKER_PID" 2>/dev/null; then
			echo "worker $name did not start:"; tail -n 30 "$FS_TMP/worker.log"
			exit 99
		fi
		sleep 0.05
	done
}

# fs_stop_workers: SIGTERM to every worker started, and waits.
fs_stop_workers() {
	for p in $FS_WORKER_PIDS; do kill -TERM "$p" 2>/dev/null; done
	for p in $FS_WORKER_PIDS; do wait "$p" 2>/dev/null; done
	FS_WORKER_PIDS=
}

# fs_stop_all_supervisors SPOOL...: fs_stop_supervisors for each spool.
fs_stop_all_supervisors() {
	keep=$FS_SPOOL
	for s in "$@"; do
		FS_SPOOL=$s
		fs_stop_supervisors
	done
	FS_SPOOL=$keep
}
