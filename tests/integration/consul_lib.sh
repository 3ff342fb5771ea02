# SPDX-License-Identifier: Apache-2.0
# Shared harness of the Consul integration tests (POSIX sh, sourced after lib.sh): a real consul
# agent (-dev, in memory) on free loopback ports, stopped on exit; responders with Consul
# enabled; and small curl helpers to look at Consul directly.
#
# Helpers: fs_consul_start (sets FS_CONSUL_PORT, FS_CONSUL), fs_consul_stop,
# fs_consul_session NAME [TTL] [LOCKDELAY] (prints a new session id), fs_consul_get KEY (the raw
# JSON of a KV read, "" when absent), fs_consul_value KEY (the decoded value),
# fs_start_consul_responder SOCKET SPOOL NAME [options...].

FS_CONSUL_PID=

if ! command -v "$FS_CONSUL_BIN" >/dev/null 2>&1; then
	echo "FAIL: needs consul (scripts/install-deps.sh installs it)"
	exit 99
fi

# fs_consul_start: a dev agent with every port free; waits until it has a leader.
fs_consul_start() {
	set -- $(fs_free_ports 4)
	FS_CONSUL_PORT=$1
	FS_CONSUL=http://127.0.0.1:$1
	"$FS_CONSUL_BIN" agent -dev -bind 127.0.0.1 -client 127.0.0.1 -node fs-test \
		-http-port "$1" -dns-port -1 -grpc-port -1 -serf-lan-port "$2" \
		-serf-wan-port "$3" -server-port "$4" >>"$FS_TMP/consul.log" 2>&1 &
	FS_CONSUL_PID=$!
	fs_consul_wait_leader "$FS_CONSUL" 30 "$FS_CONSUL_PID"
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
	fs_consul_session_at "$FS_CONSUL" "$@"
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
	"$FS_FCGI" --spool "$spool" --fcgi-socket "$sock" --factotum-bin "$FS_RUNNER" $FS_AS_ROOT \
		--fcgi-threads 16 --consul-name "$name" --consul-port "$FS_CONSUL_PORT" "$@" \
		2>>"$FS_TMP/responder.log" &
	fs_responder_started "$sock"
}

# ---- server agents with a data directory (they survive a restart), and workers ----
# fs_consul_server (node_lib.sh) starts one and lists it in FS_CONSUL_SRV_PIDS, which
# fs_consul_stop_all stops; fs_consul_wait_leader URL [SECONDS] (node_lib.sh) waits for a leader.
FS_CONSUL_SRV_PIDS=

# fs_consul_kill PID [SIGNAL]: stops one server agent (TERM by default) and waits for it.
fs_consul_kill() {
	kill "-${2:-TERM}" "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	FS_CONSUL_SRV_PIDS=$(fs_pids_without "$FS_CONSUL_SRV_PIDS" "$1")
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
	"$FS_WORKER" --spool "$spool" --factotum-bin "$FS_RUNNER" $FS_AS_ROOT --consul-name "$name" \
		--consul-port "$cport" --log-level info "$@" 2>>"$FS_TMP/worker.log" &
	fs_worker_started 300 fs_consul_worker_ready "$spool"
}

fs_consul_worker_ready() {
	[ -S "$1/worker.sock" ] && [ -n "$(fs_spool_setting "$1" consul.session)" ]
}

# fs_real_runs GRACE_MS: jobs run with the bundled runner, whose supervisors wait GRACE_MS between
# SIGTERM and SIGKILL; fs_phase TEXT then prints TEXT after the seconds since that call.
fs_real_runs() {
	FS_RUNNER=$FS_BUILDDIR/runner/factotum
	FACTOTUM_SERVER_KILL_GRACE_MS=$1
	export FACTOTUM_SERVER_KILL_GRACE_MS
	FS_T0=$(date +%s)
}
fs_phase() {
	echo "$(( $(date +%s) - FS_T0 )) s: $*"
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

# ---- client agents, and the whole namespace at once ----
# fs_consul_client NAME HTTP SERF_LAN JOIN_SERF_PORT...: a client agent (no -server) on 127.0.0.1
# joined to the servers whose serf LAN ports are given, with data in $FS_TMP/consul-NAME and its
# log in $FS_TMP/consul-NAME.log; its pid in FS_CONSUL_SRV_PID, also added to FS_CONSUL_SRV_PIDS
# (fs_consul_kill and fs_consul_stop_all stop it as they stop a server). A node that talks to its
# own client agent loses Consul when that agent stops answering, and the cluster does not.
fs_consul_client() {
	_cc_n=$1 _cc_h=$2 _cc_sl=$3
	shift 3
	_cc_joins=
	for _cc_j in "$@"; do _cc_joins="$_cc_joins -retry-join 127.0.0.1:$_cc_j"; done
	mkdir -p "$FS_TMP/consul-$_cc_n"
	# shellcheck disable=SC2086
	"$FS_CONSUL_BIN" agent -data-dir "$FS_TMP/consul-$_cc_n" -node "$_cc_n" -bind 127.0.0.1 \
		-client 127.0.0.1 -http-port "$_cc_h" -dns-port -1 -grpc-port -1 \
		-serf-lan-port "$_cc_sl" -log-level warn $_cc_joins >>"$FS_TMP/consul-$_cc_n.log" 2>&1 &
	FS_CONSUL_SRV_PID=$!
	FS_CONSUL_SRV_PIDS="${FS_CONSUL_SRV_PIDS:-} $FS_CONSUL_SRV_PID"
}

# fs_consul_entries URL NAMESPACE: every job entry under NAMESPACE, one line each, sorted:
# "<jobId> <state> <lastOutcome> <node> <session or ->"; nothing when there is none. Exits 99 if
# the agent at URL does not answer.
fs_consul_entries() {
	_ce_st=0
	curl -s -m 10 -o "$FS_TMP/entries.json" -w '%{http_code}' \
		"$1/v1/kv/$2/?recurse" >"$FS_TMP/entries.status" 2>/dev/null || _ce_st=$?
	case $_ce_st:$(cat "$FS_TMP/entries.status") in
	0:200) ;;
	0:404) return 0 ;;
	*) echo "FAIL: cannot list $2 at $1"; exit 99 ;;
	esac
	python3 -c '
import base64, json, re, sys
for e in json.load(open(sys.argv[1])):
    if not re.fullmatch(r"[0-9a-f]{64}", e["Key"].rsplit("/", 1)[1]):
        continue  # not a job: nodes/, schedules/, schedule-slots/, schedule-firer
    v = json.loads(base64.b64decode(e["Value"] or ""))
    print(e["Key"].rsplit("/", 1)[1], v["state"], v["lastOutcome"], v.get("node") or "-",
          e.get("Session") or "-")
' "$FS_TMP/entries.json" | sort
}

# ---- an agent from a configuration file (TLS, ACLs) ----
# fs_consul_agent_config NAME FILE: an agent run with -config-file FILE (which names its ports,
# data directory, TLS files and ACLs), its log in $FS_TMP/consul-NAME.log; its pid in
# FS_CONSUL_SRV_PID, also added to FS_CONSUL_SRV_PIDS (fs_consul_kill and fs_consul_stop_all stop
# it). Does not wait for a leader: with TLS and ACLs only the test knows how to ask.
fs_consul_agent_config() {
	"$FS_CONSUL_BIN" agent -config-file "$2" >>"$FS_TMP/consul-$1.log" 2>&1 &
	FS_CONSUL_SRV_PID=$!
	FS_CONSUL_SRV_PIDS="${FS_CONSUL_SRV_PIDS:-} $FS_CONSUL_SRV_PID"
}
