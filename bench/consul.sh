#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# bench/consul.sh: the /submit-with-Consul benchmark of issue 6 (bench/README). In one run, on
# loopback and one temporary directory, with one nginx and, for each measurement that uses it, a
# fresh Consul agent (a -server -bootstrap-expect 1 agent with its own data directory in the
# temporary directory, as tests/integration/consul_lib.sh starts them), each round measures, at
# BENCH_CONNS concurrent clients for BENCH_SECONDS each, in this order:
#   X  raw Consul txn: bench/consul_cas txn -- PUT /v1/txn [check-not-exists, lock with the
#      node's session] of a distinct key per request (what /submit's claim writes)
#   K  raw Consul CAS create: bench/consul_cas cas -- PUT /v1/kv/<ns>/<key>?cas=0
#   S  POST /submit through nginx to a Consul-enabled factotum-server-fcgi (a valid node session
#      stored in its spool as consul.session, as the worker does; no worker runs, so no job runs)
#   N  POST /submit to the same responder with --no-consul
#   S1, N1  S and N again with ONE connection (BENCH_LAT_SECONDS each): unloaded latency
# and prints rates, the ratio S/K (goal >= 0.7) and S/X per round with their medians, and the
# p50/p99 latency of S and N (wrk --latency's percentiles, via bench/submit.lua). Every /submit
# is a distinct job; only 200s count; after each /submit run the spool must hold as many QUEUED
# jobs (and, for S, Consul as many keys in the run's namespace). Both responders use the default
# --spool-sync full, --fcgi-threads BENCH_FCGI_THREADS.
#
# Run: sh bench/consul.sh [BUILDDIR]  (or FS_BUILDDIR; default: the tree or its build/), or
# `make bench-consul` from the build directory. Environment: BENCH_ROUNDS (3), BENCH_SECONDS
# (10), BENCH_LAT_SECONDS (5), BENCH_CONNS (32), BENCH_WRK_THREADS (2), BENCH_FCGI_THREADS (32),
# BENCH_FCGI (another responder binary for S, N, S1, N1, to compare a change against the same
# baselines), BENCH_KEEP=1, TMPDIR, CC, FS_CONSUL_BIN (consul). Needs consul, wrk, nginx, sqlite3, curl,
# python3, libcurl headers. Only processes this script started are stopped. Not in make check.

set -u

ROUNDS=${BENCH_ROUNDS:-3}
SECS=${BENCH_SECONDS:-10}
LSECS=${BENCH_LAT_SECONDS:-5}
CONNS=${BENCH_CONNS:-32}
WRK_THREADS=${BENCH_WRK_THREADS:-2}
FCGI_THREADS=${BENCH_FCGI_THREADS:-32}
MAX_JOBS=100000000
CC=${CC:-cc}
CONSUL_BIN=${FS_CONSUL_BIN:-consul}
NS=fs-bench

say() { printf '%s\n' "$*" >&2; }
die() { say "bench: $*"; exit 1; }

SRC=${FS_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
B=${1:-${FS_BUILDDIR:-}}
if [ -z "$B" ]; then
	if [ -f "$SRC/Makefile" ]; then B=$SRC
	elif [ -f "$SRC/build/Makefile" ]; then B=$SRC/build
	else die "no configured build tree: run ./configure (or pass BUILDDIR)"
	fi
fi
B=$(cd "$B" && pwd)
NGINX=${FS_NGINX:-/usr/sbin/nginx}
for t in "$CONSUL_BIN" wrk "$NGINX" sqlite3 curl python3 "$CC"; do
	command -v "$t" >/dev/null 2>&1 || die "missing: $t"
done

${MAKE:-make} -C "$B" -s fcgi/factotum-server-fcgi runner/factotum >/dev/null ||
	die "building the responder failed"
FCGI=${BENCH_FCGI:-$B/fcgi/factotum-server-fcgi}
RUNNER=$B/runner/factotum

T=$(mktemp -d "${TMPDIR:-/tmp}/fs-bench-consul.XXXXXX") || exit 1
PIDS=
NGINX_PID=
CONSUL_PID=
cleanup() {
	for p in $PIDS; do kill -TERM "$p" 2>/dev/null; done
	[ -n "$NGINX_PID" ] && kill -QUIT "$NGINX_PID" 2>/dev/null
	[ -n "$CONSUL_PID" ] && kill -TERM "$CONSUL_PID" 2>/dev/null
	for p in $PIDS $NGINX_PID $CONSUL_PID; do wait "$p" 2>/dev/null; done
	if [ -n "${BENCH_KEEP:-}" ]; then say "bench: kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

CAS=$T/consul_cas
"$CC" -O2 -pthread -o "$CAS" "$SRC/bench/consul_cas.c" -lcurl ||
	die "cannot compile bench/consul_cas.c (libcurl headers: libcurl4-openssl-dev)"

mkdir -p "$T/run" "$T/ff" "$T/nginx/tmp" "$T/consul"
[ "$(id -u)" -eq 0 ] && chmod 0711 "$T" "$T/run"
SOCK=$T/run/fcgi.sock
FF=$T/ff/echo.factfile
cp "$SRC/tests/data/samples/echo.factfile" "$FF" || die "no sample factfile"
chmod 0644 "$FF"

free_ports() {
	python3 -c '
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
for s in socks:
    print(s.getsockname()[1])
' "$1"
}

stop_pid() {
	kill -TERM "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	PIDS=$(echo "$PIDS" | tr ' ' '\n' | grep -vx "$1" | tr '\n' ' ')
}

# ---- a Consul server agent with a fresh data directory, one per measurement ----
# start_consul NAME: stops the previous agent, starts one in $T/consul.NAME, waits for its
# leader and creates the node's session (SESSION), as the worker does, with a TTL longer than
# the run (nothing renews it here). Each measurement starts from an empty store: Consul slows
# down as its store and Raft log grow (deleting keys does not undo that: tombstones, snapshots),
# which would otherwise favour whatever ran first.
start_consul() {
	if [ -n "$CONSUL_PID" ]; then
		kill -TERM "$CONSUL_PID" 2>/dev/null
		wait "$CONSUL_PID" 2>/dev/null
		CONSUL_PID=
		rm -rf "$CONSUL_DIR" # its log stays
	fi
	CONSUL_DIR=$T/consul.$1
	# shellcheck disable=SC2046
	set -- "$1" $(free_ports 4)
	CPORT=$2
	CONSUL=http://127.0.0.1:$CPORT
	mkdir -p "$CONSUL_DIR"
	"$CONSUL_BIN" agent -server -bootstrap-expect 1 -data-dir "$CONSUL_DIR" -node fs-bench \
		-bind 127.0.0.1 -client 127.0.0.1 -http-port "$2" -dns-port -1 -grpc-port -1 \
		-serf-lan-port "$3" -serf-wan-port "$4" -server-port "$5" -log-level warn \
		>"$T/consul.$1.log" 2>&1 &
	CONSUL_PID=$!
	i=0
	until case $(curl -s -m 2 "$CONSUL/v1/status/leader" 2>/dev/null) in '"'?*'"') true ;; *) false ;; esac; do
		i=$((i + 1))
		if [ $i -gt 600 ] || ! kill -0 "$CONSUL_PID" 2>/dev/null; then
			tail -n 20 "$T/consul.$1.log" >&2
			die "no Consul leader"
		fi
		sleep 0.1
	done
	SESSION=$(curl -s -X PUT -d '{"Name":"factotum-server:fs-bench","TTL":"3600s","Behavior":"release","LockDelay":"15s","Checks":[]}' \
		"$CONSUL/v1/session/create" | sed -n 's/.*"ID": *"\([^"]*\)".*/\1/p')
	[ -n "$SESSION" ] || die "cannot create a Consul session"
}
HTTP_PORT=$(free_ports 1)
start_consul check

# ---- nginx in front of $SOCK (as bench/submit.sh) ----
nd=$T/nginx
site=$nd/factotum-server.conf
sed "s|unix:/var/lib/factotum-server/fcgi.sock|unix:$SOCK|" "$SRC/nginx/factotum-server.conf" >"$site"
userline=
[ "$(id -u)" -eq 0 ] && userline="user nobody $(id -gn nobody 2>/dev/null || echo nogroup);"
sed -e "s|@USER_LINE@|$userline|" -e "s|@PREFIX@|$nd|g" -e "s|@LISTEN@|127.0.0.1:$HTTP_PORT|" \
	-e "s|@SITE@|$site|" "$SRC/nginx/nginx.conf.in" >"$nd/nginx.conf"
"$NGINX" -p "$nd" -c "$nd/nginx.conf" -e "$nd/error.log" 2>"$nd/stderr" &
NGINX_PID=$!
URL=http://127.0.0.1:$HTTP_PORT
i=0
until curl -s -o /dev/null "$URL/" 2>/dev/null; do
	i=$((i + 1))
	[ $i -gt 100 ] && { cat "$nd/stderr" "$nd/error.log" >&2; die "nginx did not start"; }
	sleep 0.05
done

# start_backend consul|plain NAME: a fresh spool and responder on $SOCK
start_backend() {
	rm -f "$SOCK"
	sp=$T/spool.$2
	blog=$T/backend.$2.log
	mkdir -p "$sp"
	if [ "$1" = consul ]; then
		set -- --consul-name fs-bench --consul-port "$CPORT" --consul-namespace "$NS/$2"
	else
		set -- --no-consul
	fi
	"$FCGI" "$@" --spool "$sp" --fcgi-socket "$SOCK" --factotum-bin "$RUNNER" \
		--fcgi-threads "$FCGI_THREADS" --max-jobs "$MAX_JOBS" 2>"$blog" &
	BPID=$!
	PIDS="$PIDS $BPID"
	i=0
	while [ ! -S "$SOCK" ]; do
		i=$((i + 1))
		if [ $i -gt 200 ] || ! kill -0 "$BPID" 2>/dev/null; then
			cat "$blog" >&2
			die "the responder did not start"
		fi
		sleep 0.05
	done
	[ "$(id -u)" -eq 0 ] && chmod 0666 "$SOCK"
	# what the worker does once it holds the node's session
	sqlite3 -cmd '.timeout 5000' "$sp/spool.db" "INSERT INTO settings(key, value)
		VALUES ('consul.session', '$SESSION')
		ON CONFLICT(key) DO UPDATE SET value = excluded.value" ||
		die "cannot store the session in the spool"
}

# record ROUND KEY LINE: appends "ROUND KEY ok seconds p50 p99" to $T/results
record() {
	case $3 in BENCH\ *) ;; *) die "measurement $2 gave no result: $3" ;; esac
	ok=$(echo "$3" | sed -n 's/.* ok=\([0-9]*\).*/\1/p')
	other=$(echo "$3" | sed -n 's/.* other=\([0-9]*\).*/\1/p')
	secs=$(echo "$3" | sed -n 's/.* seconds=\([0-9.]*\).*/\1/p')
	p50=$(echo "$3" | sed -n 's/.* p50_ms=\([0-9.]*\).*/\1/p')
	p99=$(echo "$3" | sed -n 's/.* p99_ms=\([0-9.]*\).*/\1/p')
	echo "$1 $2 $ok $secs $p50 $p99" >>"$T/results"
	say "  round $1 $2: $(awk -v o="$ok" -v s="$secs" 'BEGIN { printf "%.0f", o / s }')/s" \
		"(ok $ok, other $other) p50 ${p50} ms p99 ${p99} ms"
}

m_raw() { # ROUND KEY MODE
	record "$1" "$2" "$("$CAS" 127.0.0.1 "$CPORT" "$CONNS" "$SECS" "$3" "$NS/raw$1$2" "r" \
		"$SESSION")"
}

m_submit() { # ROUND KEY consul|plain CONNS THREADS SECONDS
	start_backend "$3" "$1$2"
	wrk -t"$5" -c"$4" -d"${6}s" --latency -s "$SRC/bench/submit.lua" "$URL/submit" -- \
		"$FF" "r$1$2" >"$T/wrk.$1$2.out" 2>&1
	record "$1" "$2" "$(grep '^BENCH ' "$T/wrk.$1$2.out" || tail -n 3 "$T/wrk.$1$2.out")"
	n=$(tail -n 1 "$T/results" | cut -d' ' -f3)
	q=$(curl -s "$URL/status" | sed -n 's/.*"inQueue":\([0-9]*\).*/\1/p')
	[ -n "$q" ] && [ "$q" -ge "$n" ] || die "$2: $n answers 200 but only '${q}' jobs are queued"
	if [ "$3" = consul ]; then
		k=$(curl -s "$CONSUL/v1/kv/$NS/$1$2/?keys" | python3 -c '
import json, sys
try:
    print(len(json.load(sys.stdin)))
except Exception:
    print(0)')
		[ "$k" -ge "$n" ] || die "$2: $n answers 200 but only $k keys in Consul"
	fi
	stop_pid "$BPID"
}

# one /submit that must work before anything is timed
start_backend consul check
printf '{"jobName":"check","factfilePath":"%s","factfileArgs":["--tag","bench,check"]}' "$FF" \
	>"$T/check.json"
code=$(curl -s -o "$T/check.out" -w '%{http_code}' --data-binary "@$T/check.json" "$URL/submit")
[ "$code" = 200 ] || { cat "$T/check.out" >&2; die "a first /submit with Consul answered $code"; }
stop_pid "$BPID"

say "bench: $ROUNDS round(s) of X K S N (${SECS}s, $CONNS connections) and S1 N1 (${LSECS}s," \
	"1 connection); temporary dir $T"
: >"$T/results"
r=1
while [ "$r" -le "$ROUNDS" ]; do
	start_consul "$r"X
	m_raw "$r" X txn
	start_consul "$r"K
	m_raw "$r" K cas
	start_consul "$r"S
	m_submit "$r" S consul "$CONNS" "$WRK_THREADS" "$SECS"
	m_submit "$r" N plain "$CONNS" "$WRK_THREADS" "$SECS"
	start_consul "$r"S1
	m_submit "$r" S1 consul 1 1 "$LSECS"
	m_submit "$r" N1 plain 1 1 "$LSECS"
	r=$((r + 1))
done

echo "factotum-server /submit with Consul benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(uname -srm), $(nproc) cores, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)," \
	"load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "versions: $("$CONSUL_BIN" version | head -n 1) (-server -bootstrap-expect 1, data dir on" \
	"$(df -P "$T" | awk 'NR == 2 { print $1 }')), $("$NGINX" -v 2>&1 | sed 's/.*: //')"
echo "load: $CONNS connections/threads (wrk -t$WRK_THREADS), ${SECS}s; S1/N1: 1 connection," \
	"${LSECS}s; $ROUNDS round(s); rates are 200 answers per second; latency in ms"
echo
awk -v rounds="$ROUNDS" '
function median(a, n,    i, j, t) {
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{ rate[$1, $2] = ($4 > 0 ? $3 / $4 : 0); p50[$1, $2] = $5; p99[$1, $2] = $6 }
END {
	name["X"] = "raw Consul txn check-not-exists+lock (session)"
	name["K"] = "raw Consul PUT kv ?cas=0"
	name["S"] = "POST /submit, Consul enabled"
	name["N"] = "POST /submit, --no-consul"
	name["S1"] = "POST /submit, Consul enabled, 1 connection"
	name["N1"] = "POST /submit, --no-consul, 1 connection"
	printf "%-3s %-48s", "", "rate (200s/s)"
	for (r = 1; r <= rounds; r++) printf " %8s", "round " r
	printf " %8s\n", "median"
	split("X K S N S1 N1", keys, " ")
	for (i = 1; i <= 6; i++) {
		k = keys[i]
		printf "%-3s %-48s", k, name[k]
		for (r = 1; r <= rounds; r++) { v[r] = rate[r, k]; printf " %8.0f", v[r] }
		printf " %8.0f\n", median(v, rounds)
	}
	print ""
	printf "%-3s %-48s", "", "latency p50 / p99 (ms)"
	for (r = 1; r <= rounds; r++) printf " %13s", "round " r
	printf " %13s\n", "median"
	for (i = 1; i <= 6; i++) {
		k = keys[i]
		printf "%-3s %-48s", k, name[k]
		for (r = 1; r <= rounds; r++) {
			a[r] = p50[r, k]; b[r] = p99[r, k]
			printf " %6.2f/%6.2f", a[r], b[r]
		}
		printf " %6.2f/%6.2f\n", median(a, rounds), median(b, rounds)
	}
	print ""
	printf "%-4s %-47s %-5s", "", "ratio (within each round)", "goal"
	for (r = 1; r <= rounds; r++) printf " %8s", "round " r
	printf " %8s  %s\n", "median", "verdict"
	split("S/K S/X S/N", rs, " ")
	text["S/K"] = "/submit with Consul / raw CAS create"
	text["S/X"] = "/submit with Consul / raw claim txn"
	text["S/N"] = "/submit with Consul / without"
	for (g = 1; g <= 3; g++) {
		split(rs[g], ab, "/")
		printf "%-4s %-47s %-5s", rs[g], text[rs[g]], g == 1 ? ">=0.7" : "-"
		for (r = 1; r <= rounds; r++) {
			q[r] = rate[r, ab[2]] > 0 ? rate[r, ab[1]] / rate[r, ab[2]] : 0
			printf " %8.2f", q[r]
		}
		m = median(q, rounds)
		printf " %8.2f  %s\n", m, g == 1 ? (m >= 0.7 ? "met" : "MISSED") : "-"
	}
}' "$T/results"
