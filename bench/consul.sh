#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# bench/consul.sh: the /submit-with-Consul benchmark (bench/README). In one run, on
# loopback and one temporary directory, with one nginx and, for each measurement that uses it, a
# fresh Consul agent (a -server -bootstrap-expect 1 agent with its own data directory in the
# temporary directory, started as the Consul tests start theirs), each round measures, at
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
# baselines), BENCH_KEEP=1, TMPDIR, CC, FS_CONSUL_BIN (consul). Needs consul, wrk, nginx,
# sqlite3, curl, python3, libcurl headers. Only processes this script started are stopped. Not
# in make check.

set -u

ROUNDS=${BENCH_ROUNDS:-3}
SECS=${BENCH_SECONDS:-10}
LSECS=${BENCH_LAT_SECONDS:-5}
CONNS=${BENCH_CONNS:-32}
WRK_THREADS=${BENCH_WRK_THREADS:-2}
FCGI_THREADS=${BENCH_FCGI_THREADS:-32}
MAX_JOBS=100000000
CC=${CC:-cc}
NS=fs-bench

. "$(dirname "$0")/lib.sh"
bench_init bench-consul "${1:-}"
bench_need "$FS_CONSUL_BIN" wrk "$FS_NGINX" sqlite3 curl python3 "$CC"
bench_build fcgi/factotum-server-fcgi
FCGI=${BENCH_FCGI:-$B/fcgi/factotum-server-fcgi}
RUNNER=$B/runner/factotum

CAS=$T/consul_cas
"$CC" -O2 -pthread -o "$CAS" "$SRC/bench/consul_cas.c" -lcurl ||
	die "cannot compile bench/consul_cas.c (libcurl headers: libcurl4-openssl-dev)"

bench_echo_factfile

# ---- a Consul server agent with a fresh data directory, one per measurement ----
# start_consul NAME: stops the previous agent, starts one with its data in
# $T/consul-fs-bench-NAME, waits for its leader and creates the node's session (SESSION), as the
# worker does, with a TTL longer than the run (nothing renews it here). Each measurement starts
# from an empty store: Consul slows down as its store and Raft log grow (deleting keys does not
# undo that: tombstones, snapshots), which would otherwise favour whatever ran first.
CONSUL_PID=
start_consul() {
	if [ -n "$CONSUL_PID" ]; then
		bench_stop "$CONSUL_PID"
		CONSUL_PID=
		rm -rf "$T/consul-$CONSUL_NAME" # its log stays
	fi
	CONSUL_NAME=fs-bench-$1
	# shellcheck disable=SC2046
	set -- $(fs_free_ports 4)
	CPORT=$1
	CONSUL=http://127.0.0.1:$CPORT
	fs_consul_server "$CONSUL_NAME" "$1" "$2" "$3" "$4" 1
	CONSUL_PID=$FS_CONSUL_SRV_PID
	PIDS="$PIDS $CONSUL_PID"
	fs_consul_wait_leader "$CONSUL" 60 "$CONSUL_PID" >&2
	SESSION=$(fs_consul_session_at "$CONSUL" fs-bench 3600s)
	[ -n "$SESSION" ] || die "cannot create a Consul session"
}
start_consul check
bench_nginx

spool_ready() {
	[ -e "$1/spool.db" ] && sqlite3 -cmd '.timeout 5000' "$1/spool.db" \
		'SELECT 1 FROM settings LIMIT 1' >/dev/null 2>&1
}

# start_backend consul|plain NAME: a fresh spool and responder on $SOCK
start_backend() {
	sp=$T/spool.$2
	klog=$T/backend.$2.log
	mkdir -p "$sp"
	if [ "$1" = consul ]; then
		set -- --consul-name fs-bench --consul-port "$CPORT" --consul-namespace "$NS/$2"
	else
		set -- --no-consul
	fi
	bench_backend "$klog" "$FCGI" "$@" --spool "$sp" --fcgi-socket "$SOCK" \
		--factotum-bin "$RUNNER" --fcgi-threads "$FCGI_THREADS" --max-jobs "$MAX_JOBS"
	# what the worker does once it holds the node's session (the responder binds its socket
	# before it opens the spool: wait for the schema)
	fs_until "$BPID" 200 spool_ready "$sp" || die "the responder did not create its spool"
	sqlite3 -cmd '.timeout 5000' "$sp/spool.db" "INSERT INTO settings(key, value)
		VALUES ('consul.session', '$SESSION')
		ON CONFLICT(key) DO UPDATE SET value = excluded.value" ||
		die "cannot store the session in the spool"
}

# record ROUND KEY LINE: appends "ROUND KEY ok seconds p50 p99" to $T/results
record() {
	bench_fields "$2" "$3"
	echo "$1 $2 $ok $secs $p50 $p99" >>"$T/results"
	say "  round $1 $2: $(bench_rate "$ok" "$secs")/s" \
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
	bench_check_queued "$2"
	if [ "$3" = consul ]; then
		k=$(curl -s "$CONSUL/v1/kv/$NS/$1$2/?keys" | python3 -c '
import json, sys
try:
    print(len(json.load(sys.stdin)))
except Exception:
    print(0)')
		[ "$k" -ge "$n" ] || die "$2: $n answers 200 but only $k keys in Consul"
	fi
	bench_stop "$BPID"
}

# one /submit that must work before anything is timed
start_backend consul check
bench_first_submit " with Consul"
bench_stop "$BPID"

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
echo "machine: $(bench_machine)," \
	"load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "versions: $("$FS_CONSUL_BIN" version | head -n 1) (-server -bootstrap-expect 1, data dir on" \
	"$(df -P "$T" | awk 'NR == 2 { print $1 }')), $("$FS_NGINX" -v 2>&1 | sed 's/.*: //')"
echo "load: $CONNS connections/threads (wrk -t$WRK_THREADS), ${SECS}s; S1/N1: 1 connection," \
	"${LSECS}s; $ROUNDS round(s); rates are 200 answers per second; latency in ms"
echo
awk -v rounds="$ROUNDS" -v kw=3 -v lw=48 "$BENCH_AWK"'
{ rate[$1, $2] = ($4 > 0 ? $3 / $4 : 0); p50[$1, $2] = $5; p99[$1, $2] = $6 }
END {
	name["X"] = "raw Consul txn check-not-exists+lock (session)"
	name["K"] = "raw Consul PUT kv ?cas=0"
	name["S"] = "POST /submit, Consul enabled"
	name["N"] = "POST /submit, --no-consul"
	name["S1"] = "POST /submit, Consul enabled, 1 connection"
	name["N1"] = "POST /submit, --no-consul, 1 connection"
	rate_header("rate (200s/s)")
	split("X K S N S1 N1", keys, " ")
	for (i = 1; i <= 6; i++)
		rate_row(keys[i], name[keys[i]])
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
