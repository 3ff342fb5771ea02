#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# bench/schedlat.sh: schedule slot -> runner exec latency (bench/README). A slot's job is due at
# the slot's instant (its slot tag, an exact second); the figure is the time from that instant
# to the runner's exec, stamped by bench/exec_stamp as the nodes' --factotum-bin, the moment
# bench/worker.sh measures /submit -> exec with. Each repetition measures two set-ups, each
# started by the script on loopback:
#   a  one launcher node, --no-consul
#   b  two launcher nodes on one Consul server agent (a fresh one per repetition), the
#      schedules set through node 1 and fired by whichever node holds the firing lock
# In each, BENCH_SCHEDULES schedules "* * * * * *" (every second, all on the same slots) fire
# for BENCH_SECONDS after a warm-up of WARM seconds. Every slot job of that window is a sample
# (n, min, p50, p99, max), and so is the first exec of each slot (the firing without the queueing
# behind the slot's other schedules). Then, on the node that fired, BENCH_LAT_N sequential
# /submits measure submit -> exec as bench/worker.sh's L does (bench/worker_client, each job
# DONE before the next), and BENCH_IDLE_N more the same way, each after a second of idleness
# (as a slot finds the node); the report gives slot -> exec p50 / submit -> exec p50, and / the
# idle one, per repetition and the medians of those ratios. No goal: the figures say what a slot
# costs on top of a /submit. Set-up b needs schedules fired with Consul: where /schedules/set
# answers 503 there, or no node takes the firing lock, it is reported skipped.
# Only processes this script started are stopped; the temporary directory is removed
# (BENCH_KEEP=1 keeps it).
#
# Run: sh bench/schedlat.sh [BUILDDIR]   (default: $FS_BUILDDIR, else the source tree, else
# build/), or `make bench-schedlat` from the build directory. Environment: BENCH_REPS (2),
# BENCH_SECONDS (60), BENCH_SCHEDULES (4), BENCH_LAT_N (200), BENCH_IDLE_N (20), BENCH_WORKERS
# (8), BENCH_SHORT=1 (1 repetition, 15 s, 50 and 5 /submits: to try the script), BENCH_ONLY ("a",
# "b" or "a b"), BENCH_NODE_OPTS (more options for every node, e.g. --log-level debug),
# BENCH_KEEP, TMPDIR, CC, FS_CONSUL_BIN (consul), FS_NGINX. Needs nginx, sqlite3, python3, curl,
# openssl (the launcher), a C compiler, and consul for set-up b.

set -u

SHORT=${BENCH_SHORT:-}
REPS=${BENCH_REPS:-${SHORT:+1}}
REPS=${REPS:-2}
SECS=${BENCH_SECONDS:-${SHORT:+15}}
SECS=${SECS:-60}
LAT_N=${BENCH_LAT_N:-${SHORT:+50}}
LAT_N=${LAT_N:-200}
IDLE_N=${BENCH_IDLE_N:-${SHORT:+5}}
IDLE_N=${IDLE_N:-20}
NSCHED=${BENCH_SCHEDULES:-4}
WORKERS=${BENCH_WORKERS:-8}
ONLY=${BENCH_ONLY:-a b}
CC=${CC:-cc}
# slots of the first seconds after the schedules are set are not counted: with Consul a change
# reaches the firing node within 2 s, and a slot found late is caught up, not fired on time
WARM=3

. "$(dirname "$0")/lib.sh"
bench_init bench-schedlat "${1:-}"
bench_need "$FS_NGINX" sqlite3 python3 curl openssl "$CC"
bench_build fcgi/factotum-server-fcgi worker/factotum-server-worker
fs_use_launcher
bench_exec_stamp

# start_node NAME OPTION...: a launcher's node on 127.0.0.1 and a free port with spool
# $T/spool.NAME, the runner bench/exec_stamp and no per-client limits (the load comes from one
# address), once it prints its listening line; its pid in NODE_PID (and PIDS), its port in
# NODE_PORT
start_node() {
	sn=$1
	shift
	NODE_PORT=$(fs_free_ports 1)
	# shellcheck disable=SC2086 # FS_NO_LIMITS and BENCH_NODE_OPTS are lists of options
	"$LAUNCHER" --spool "$T/spool.$sn" --ip 127.0.0.1 --port "$NODE_PORT" \
		--factotum-bin "$STAMP" --max-workers "$WORKERS" $FS_NO_LIMITS \
		${BENCH_NODE_OPTS:-} "$@" >"$T/node.$sn.out" 2>"$T/node.$sn.err" &
	NODE_PID=$!
	PIDS="$PIDS $NODE_PID"
	fs_until "$NODE_PID" 400 grep -qs "listening on .*:$NODE_PORT/" "$T/node.$sn.out" ||
		{ tail -n 20 "$T/node.$sn.err" >&2; die "the node $sn did not start"; }
}

# sql SPOOL QUERY: one value from the spool's database
sql() {
	sqlite3 -cmd '.timeout 5000' "$1/spool.db" "$2"
}

# set_schedule URL NAME CRON: POST /schedules/set; prints the status code, the answer in
# $T/api.out
set_schedule() {
	printf '{"name":"%s","cron":"%s","jobName":"slot-%s","factfilePath":"%s","factfileArgs":[]}' \
		"$2" "$3" "$2" "$FF" >"$T/api.json"
	curl -s -o "$T/api.out" -w '%{http_code}' --data-binary "@$T/api.json" "$1/schedules/set"
}

# delete_schedule URL NAME
delete_schedule() {
	code=$(curl -s -o "$T/api.out" -w '%{http_code}' --data-binary '{"name":"'"$2"'"}' \
		"$1/schedules/delete")
	[ "$code" = 200 ] || die "/schedules/delete of $2 answered $code: $(cat "$T/api.out")"
}

# window URL KEY: the schedules KEY-0.. set through URL fire for the warm-up and the window,
# then are deleted; W0 and W1 the window's slots (W0 <= slot < W1)
window() {
	t=$(date +%s)
	i=0
	while [ $i -lt "$NSCHED" ]; do
		code=$(set_schedule "$1" "$2-$i" '* * * * * *')
		[ "$code" = 200 ] || die "/schedules/set answered $code: $(cat "$T/api.out")"
		i=$((i + 1))
	done
	W0=$((t + 1 + WARM))
	W1=$((W0 + SECS))
	say "bench: $2: $NSCHED schedules, slots $W0..$((W1 - 1)) counted"
	# the window's last slot, and a second for its jobs to be queued (one sleep: nothing but the
	# node runs meanwhile)
	sleep $((W1 + 1 - $(date +%s)))
	i=0
	while [ $i -lt "$NSCHED" ]; do
		delete_schedule "$1" "$2-$i"
		i=$((i + 1))
	done
}

# settled SPOOL...: no job of these spools is left to finish
settled() {
	for sp in "$@"; do
		[ "$(sql "$sp" "SELECT count(*) FROM jobs WHERE state <> 'DONE'")" = 0 ] || return 1
	done
}

# stats FILE: "n min p50 p99 max" (ns, nearest rank) of the numbers of FILE's first column
stats() {
	sort -n "$1" | awk '{ v[NR] = $1 }
		function rank(p,   k) { k = int(p * NR + 0.999999); if (k < 1) k = 1; return v[k] }
		END { if (NR == 0) { print "0 0 0 0 0"; exit }
			printf "%d %d %d %d %d\n", NR, v[1], rank(0.50), rank(0.99), v[NR] }'
}

# measure SETUP REP URL SPOOL PORT [SPOOL PORT]...: the window through URL, then, once the
# spools' jobs are DONE, the samples from the stamps, and submit -> exec on the node (its spool
# and HTTP port) that fired the most slot jobs, LAT_N back to back, then IDLE_N each after a
# second of idleness; appends "REP SETUP slots n min p50 p99 max first_n first_min first_p50
# first_p99 first_max submit_p50 idle_p50 node/slot-jobs-per-node" to $T/results
measure() {
	ms=$1 mr=$2 murl=$3
	shift 3
	key=$mr$ms
	window "$murl" "$key"
	spools=$(printf '%s\n' "$@" | awk 'NR % 2')
	# shellcheck disable=SC2086 # the spools' paths have no blanks ($T's neither)
	fs_until "$$" 600 settled $spools || die "$key: slot jobs still unfinished after 30 s"
	# "latency_ns slot" of every stamp of the window (one per slot job that ran)
	python3 - "$FF" "$key" "$W0" "$W1" >"$T/samples.$key" <<'EOF' || die "$key: the stamps"
import calendar, glob, os, sys, time
ff, key, w0, w1 = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
prefix = ff + ".stamp." + key + "-"
for path in glob.glob(glob.escape(prefix) + "*"):
    slot = calendar.timegm(time.strptime(path[len(prefix):].split(".", 1)[1],
                                         "%Y-%m-%dT%H:%M:%SZ"))
    with open(path) as f:
        stamp = int(f.read())
    os.unlink(path)
    if w0 <= slot < w1:
        print(stamp - slot * 10**9, slot)
EOF
	cat "$T/samples.$key" >>"$T/samples.$ms"
	awk '!($2 in m) || $1 < m[$2] { m[$2] = $1 } END { for (s in m) print m[s] }' \
		"$T/samples.$key" >"$T/first.$key"
	cat "$T/first.$key" >>"$T/first.$ms"
	# the firing node: the spool holding the most slot jobs
	best=0 bn=1 n=1 fired=
	while [ $# -gt 0 ]; do
		c=$(sql "$1" "SELECT count(*) FROM jobs WHERE submitted_by LIKE 'schedule:%'")
		fired="$fired${fired:+,}$c"
		if [ $n -eq 1 ] || [ "$c" -gt "$best" ]; then
			best=$c bsp=$1 fport=$2 bn=$n
		fi
		n=$((n + 1))
		shift 2
	done
	say "bench: $key: slot jobs per node $fired; submit -> exec on node $bn (${bsp##*/})"
	"$CLIENT" submit "$fport" "$LAT_N" "$FF" "sub$key" >"$T/submit.$key" ||
		die "$key: the /submit latency run failed: see $T/node.*.err (BENCH_KEEP=1 keeps it)"
	# the same after a second of idleness each, as a slot finds the node
	i=0
	: >"$T/idle.$key"
	while [ $i -lt "$IDLE_N" ]; do
		sleep 1
		"$CLIENT" submit "$fport" 1 "$FF" "idle$key-$i" >>"$T/idle.$key" ||
			die "$key: the idle /submit latency run failed: see $T/node.*.err"
		i=$((i + 1))
	done
	echo "$mr $ms $((SECS * NSCHED)) $(stats "$T/samples.$key") $(stats "$T/first.$key")" \
		"$(stats "$T/submit.$key" | cut -d' ' -f3) $(stats "$T/idle.$key" | cut -d' ' -f3)" \
		"$bn/$fired" >>"$T/results"
}

setup_a() {
	start_node "$1a" --no-consul
	measure a "$1" "http://127.0.0.1:$NODE_PORT" "$T/spool.$1a" "$NODE_PORT"
	bench_stop "$NODE_PID"
}

# firer_held: a session holds the firing lock of the namespace NS
firer_held() {
	curl -s -m 2 "$CONSUL/v1/kv/$NS/schedule-firer" | grep -q '"Session"'
}

B_SKIPPED=
setup_b() {
	# shellcheck disable=SC2046
	set -- "$1" $(fs_free_ports 4)
	CONSUL=http://127.0.0.1:$2
	fs_consul_server "schedlat$1" "$2" "$3" "$4" "$5" 1
	CONSUL_PID=$FS_CONSUL_SRV_PID
	PIDS="$PIDS $CONSUL_PID"
	fs_consul_wait_leader "$CONSUL" 60 "$CONSUL_PID" >&2
	NS=fs-bench/schedlat$1
	start_node "$1b1" --consul-name n1 --consul-port "$2" --consul-namespace "$NS"
	PORT1=$NODE_PORT PID1=$NODE_PID
	start_node "$1b2" --consul-name n2 --consul-port "$2" --consul-namespace "$NS"
	PORT2=$NODE_PORT PID2=$NODE_PID
	# a schedule whose first slot is next year: does this build keep schedules in Consul?
	code=$(set_schedule "http://127.0.0.1:$PORT1" probe '0 0 1 1 *')
	if [ "$code" = 503 ]; then
		B_SKIPPED="skipped: schedules with Consul are not supported by this build"
		B_SKIPPED="$B_SKIPPED (/schedules/set answered 503 $(cat "$T/api.out"))"
		say "bench: set-up b $B_SKIPPED"
	else
		[ "$code" = 200 ] || die "/schedules/set answered $code: $(cat "$T/api.out")"
		delete_schedule "http://127.0.0.1:$PORT1" probe
		if fs_until "$CONSUL_PID" 600 firer_held; then
			measure b "$1" "http://127.0.0.1:$PORT1" "$T/spool.$1b1" "$PORT1" \
				"$T/spool.$1b2" "$PORT2"
		else
			B_SKIPPED="skipped: no node took the schedules' firing lock ($NS/schedule-firer)"
			B_SKIPPED="$B_SKIPPED in 30 s: this build does not fire schedules with Consul"
			say "bench: set-up b $B_SKIPPED"
		fi
	fi
	bench_stop "$PID1"
	bench_stop "$PID2"
	bench_stop "$CONSUL_PID"
}

case " $ONLY " in
*" b "*) command -v "$FS_CONSUL_BIN" >/dev/null 2>&1 ||
	{ say "bench: set-up b skipped: no $FS_CONSUL_BIN"; ONLY=$(echo "$ONLY" | tr -d b); } ;;
esac
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
: >"$T/results"
: >"$T/samples.a"
: >"$T/first.a"
: >"$T/samples.b"
: >"$T/first.b"
r=1
while [ $r -le "$REPS" ]; do
	say "bench: repetition $r/$REPS"
	case " $ONLY " in *" a "*) setup_a "$r" ;; esac
	case " $ONLY " in *" b "*) [ -n "$B_SKIPPED" ] || setup_b "$r" ;; esac
	r=$((r + 1))
done
for s in a b; do
	[ -s "$T/samples.$s" ] || continue
	echo "all $s $(awk -v s=$s '$2 == s { n += $3 } END { print n }' "$T/results")" \
		"$(stats "$T/samples.$s") $(stats "$T/first.$s") 0 0 -" >>"$T/results"
done

# ---- the report ----
sort -s -k2,2 "$T/results" >"$T/results.sorted"
[ -s "$T/results.sorted" ] || exit 0
echo "factotum-server schedule slot -> runner exec benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(bench_machine)," \
	"load average at start: $LOAD0, at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "tree: $(git -C "$SRC" describe --always --dirty 2>/dev/null || echo '?') ($B)"
echo "per set-up and repetition: $NSCHED schedules '* * * * * *' (every second, the same" \
	"slots), the slots of ${SECS} s after a ${WARM} s warm-up; submit -> exec: $LAT_N" \
	"sequential /submits on the firing node; runner = bench/exec_stamp; $REPS repetition(s)"
echo "a: one launcher node, --no-consul;" \
	"b: two launcher nodes on one Consul server agent (the firing node: the lock's holder)"
[ -z "$B_SKIPPED" ] || echo "b: $B_SKIPPED"
echo
awk "$BENCH_AWK"'
{ s = $2 }
$1 != "all" && $4 > 0 && $14 > 0 && $15 > 0 { q[s, ++nq[s]] = $6 / $14; qi[s, nq[s]] = $6 / $15 }
$4 == 0 { printf "%-3s %-4s %6d %7d  no slot job ran in the window\n", s, $1, $3, $4; next }
{ printf "%-3s %-4s %6d %7d %7.2f %7.2f %7.2f %7.2f   %7.2f %7.2f", s, $1, $3, $4, $5 / 1e6,
	$6 / 1e6, $7 / 1e6, $8 / 1e6, $11 / 1e6, $12 / 1e6
  if ($1 == "all") printf "\n"
  else printf "   %7.2f %7.2f   %8.2f %7.2f  %s\n", $14 / 1e6, ($14 > 0 ? $6 / $14 : 0),
	$15 / 1e6, ($15 > 0 ? $6 / $15 : 0), $16 }
BEGIN { printf "%-3s %-4s %6s %7s %7s %7s %7s %7s   %7s %7s   %7s %7s   %8s %7s  %s\n", "",
	"rep", "slots", "samples", "min", "p50", "p99", "max", "1st p50", "1st p99", "sub p50",
	"ratio", "idle p50", "ratio", "node/slot jobs per node"
  print "    (ms; 1st: the first exec of each slot; sub: submit -> exec; idle: the same after" \
	" a second of idleness; ratio: slot -> exec p50 / that p50)" }
END {
	split("a b", setups, " ")
	for (i = 1; i <= 2; i++) {
		s = setups[i]
		n = nq[s]
		if (n == 0)
			continue
		for (r = 1; r <= n; r++) { v[r] = q[s, r]; vi[r] = qi[s, r] }
		printf "%s: slot -> exec p50 / submit -> exec p50, median of %d repetition(s): %.2f;" \
			" / idle submit -> exec p50: %.2f\n", s, n, median(v, n), median(vi, n)
	}
}' "$T/results.sorted"
