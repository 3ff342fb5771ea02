#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# bench/worker.sh: the worker benchmarks. Every figure is a ratio against a baseline
# measured in the same run, back to back, on this machine; the set is repeated BENCH_REPS times
# and the median ratio is reported (bench/README):
#   L  submit -> runner exec latency, p50 and p99, over BENCH_LAT_N sequential jobs sent through
#      nginx to factotum-server-fcgi, run by factotum-server-worker with bench/exec_stamp as
#      --factotum-bin (it stamps CLOCK_REALTIME the moment it is exec'd); each job is DONE
#      before the next is sent. / the same number of bare fork+execs of the same program, from
#      a C program stamping just before fork (goal: p50 ratio <= 3). --spool-sync full (the
#      default) and normal.
#   T  end-to-end rate: BENCH_THR_N distinct one-task (`true`) jobs submitted through nginx by
#      BENCH_CONC client processes, run by the bundled runner (runner/factotum) with
#      --max-workers BENCH_WORKERS; jobs/s from just before the first submit to the last DONE
#      (the spool's updated_ms). / BENCH_THR_N `sh -c true` spawned BENCH_WORKERS at a time by
#      a C program (goal: >= 0.3). --spool-sync normal and full.
# Each measurement gets a fresh spool and its own responder and worker; one nginx serves the run.
# BENCH_PRIV=1 (as root only) measures instead what privilege separation costs: L with sync full
# and T with both syncs, each in the two configurations a root operator can choose, back to back
# in alternating order (privileged first in odd repetitions, all-root first in even ones):
#   privileged  the defaults: the programs drop to the service user factotum-server, tasks run
#               as factotum-run (scripts/add-users.sh creates both)
#   all-root    --allow-root --allow-root-runs --run-as root: no drop, tasks run as root
# and reports the privileged/all-root ratios (goal: within 5%); no baseline is run, and
# BENCH_REPS defaults to 4.
# BENCH_BASE=<git rev> measures instead this tree against another: the base tree's responder,
# worker and runner are built from `git archive` in the temporary directory (configured as the
# build tree was), and L with sync full and T with both syncs are measured with each tree's
# programs, back to back in alternating order (this tree first in odd repetitions, the base first
# in even ones), without the baselines; both get the same options (ones both trees know) and
# their own defaults for the rest. It reports this tree / the base (goals: p50 <= 1.10, jobs/s
# >= 0.90); BENCH_REPS defaults to 4. It cannot be combined with BENCH_PRIV.
# Only processes this script started are stopped; the temporary directory is removed
# (BENCH_KEEP=1 keeps it).
#
# Run: sh bench/worker.sh [BUILDDIR]   (default: $FS_BUILDDIR, else the source tree, else build/)
# It builds the three programs it needs there and compiles bench/exec_stamp.c and
# bench/worker_client.c with cc into the temporary directory. Environment: BENCH_REPS (3),
# BENCH_LAT_N (300), BENCH_THR_N (500), BENCH_WORKERS (8), BENCH_CONC (4), BENCH_PRIV,
# BENCH_BASE, BENCH_KEEP, TMPDIR, CC. Needs nginx, sqlite3 and python3
# (scripts/install-deps.sh installs them).

set -u

PRIV=${BENCH_PRIV:-}
BASE=${BENCH_BASE:-}
# an even count with BENCH_PRIV or BENCH_BASE: as many repetitions in each order
REPS=${BENCH_REPS:-${PRIV:+4}}
REPS=${REPS:-${BASE:+4}}
REPS=${REPS:-3}
LAT_N=${BENCH_LAT_N:-300}
THR_N=${BENCH_THR_N:-500}
WORKERS=${BENCH_WORKERS:-8}
CONC=${BENCH_CONC:-4}
CC=${CC:-cc}

. "$(dirname "$0")/lib.sh"
[ -z "$PRIV" ] || [ -z "$BASE" ] ||
	die "BENCH_PRIV and BENCH_BASE are two different comparisons: give one"
# CONFS: in a comparison, the measured configuration and its partner (conf_args, programs)
CONFS=
[ -z "$PRIV" ] || CONFS="priv root"
[ -z "$BASE" ] || CONFS="new base"
bench_init bench-worker "${1:-}"
bench_need "$FS_NGINX" sqlite3 python3 curl "$CC"
[ -z "$PRIV" ] || [ "$(id -u)" -eq 0 ] ||
	die "BENCH_PRIV=1 compares two ways of starting as root: run it as root"
if [ -n "$CONFS" ] && [ "$(id -u)" -eq 0 ]; then
	id factotum-server >/dev/null 2>&1 && id factotum-run >/dev/null 2>&1 ||
		die "as root the defaults need the users factotum-server and factotum-run:" \
			"sh scripts/add-users.sh"
fi
bench_build fcgi/factotum-server-fcgi worker/factotum-server-worker
[ -z "$BASE" ] || bench_build_base "$BASE" "$T/base" fcgi/factotum-server-fcgi \
	worker/factotum-server-worker runner/factotum
RUNNER=$B/runner/factotum

# programs CONF: FCGI, WORKER and RUNNER_C, the programs of configuration CONF (base: the base
# tree's, built in $T/base; otherwise this tree's)
programs() {
	d=$B
	[ "${1:-}" != base ] || d=$T/base
	FCGI=$d/fcgi/factotum-server-fcgi
	WORKER=$d/worker/factotum-server-worker
	RUNNER_C=$d/runner/factotum
}

SPOOL=
# supervisors outlive a stopped worker by design: stop any run left in the current spool
stop_supervisors() {
	[ -n "$SPOOL" ] || return 0
	for p in $(sed -n 's/^pid=//p' "$SPOOL"/runs/*.pid 2>/dev/null); do
		kill -TERM "$p" 2>/dev/null
	done
	return 0
}
BENCH_CLEANUP=stop_supervisors

bench_exec_stamp

# conf_args CONF: the options of configuration CONF (empty: the defaults; root: all-root)
conf_args() {
	[ "${1:-}" != root ] || echo "--allow-root --allow-root-runs --run-as root"
}

# start_node NAME SYNC BIN [CONF]: a fresh spool $T/spool.NAME, the responder on $SOCK and the
# worker (--max-workers $WORKERS) of configuration CONF, both with --spool-sync SYNC,
# --factotum-bin BIN and the options of CONF.
start_node() {
	programs "${4:-}"
	SPOOL=$T/spool.$1
	mkdir -p "$SPOOL"
	# shellcheck disable=SC2046
	bench_backend "$T/responder.$1.log" "$FCGI" --no-consul --spool "$SPOOL" \
		--fcgi-socket "$SOCK" --factotum-bin "$3" --spool-sync "$2" $(conf_args "${4:-}")
	RESP_PID=$BPID
	# shellcheck disable=SC2046
	"$WORKER" --no-consul --spool "$SPOOL" --factotum-bin "$3" --spool-sync "$2" \
		--max-workers "$WORKERS" $(conf_args "${4:-}") 2>>"$T/worker.$1.log" &
	WORKER_PID=$!
	PIDS="$PIDS $WORKER_PID"
	fs_until "$WORKER_PID" 200 fs_worker_ready "$SPOOL" "$WORKER_PID" ||
		{ cat "$T/worker.$1.log" >&2; die "the worker did not start"; }
}

stop_node() {
	bench_stop "$WORKER_PID"
	stop_supervisors
	bench_stop "$RESP_PID"
	SPOOL=
}

# summarize FILE [COLUMN]: "p50 p99" (ns) of a column (default 1) of numbers (nearest rank)
summarize() {
	awk -v c="${2:-1}" '{ print $c }' "$1" | sort -n | awk '{ v[NR] = $1 }
		function rank(p,   k) { k = int(p * NR + 0.999999); if (k < 1) k = 1; return v[k] }
		END { if (NR == 0) { print "0 0"; exit } printf "%d %d\n", rank(0.50), rank(0.99) }'
}

# latency REP SYNC [CONF]: the L pair for one sync mode (baseline right before; with CONF, in
# that configuration and without the baseline); appends "REP lat_SYNC[_CONF] p50 p99 base_p50
# base_p99 answer_p50 answer_p99" to $T/results (answer: when the 200 of /submit arrived, for
# the breakdown)
latency() {
	n=$1$2${3:-}
	: >"$T/fork.$n"
	[ -n "${3:-}" ] || "$CLIENT" fork "$LAT_N" "$STAMP" "$FF" "fork$n" >"$T/fork.$n" ||
		die "the fork+exec baseline failed"
	start_node "lat$n" "$2" "$STAMP" "${3:-}"
	"$CLIENT" submit "$PORT" "$LAT_N" "$FF" "lat$n" >"$T/lat.$n" ||
		die "the latency run ($2) failed: see $T/worker.lat$n.log (BENCH_KEEP=1 keeps it)"
	stop_node
	echo "$1 lat_$2${3:+_$3} $(summarize "$T/lat.$n") $(summarize "$T/fork.$n")" \
		"$(summarize "$T/lat.$n" 2)" >>"$T/results"
}

# throughput REP SYNC [CONF]: the T pair for one sync mode (baseline right before; with CONF,
# in that configuration and without the baselines); appends "REP thr_SYNC[_CONF] jobs_per_s
# base_per_s runner_alone_per_s" to $T/results (runner alone: the same number of
# `runner/factotum run` of the factfile, as many at a time, without the server)
throughput() {
	base_ns=0
	alone_ns=0
	if [ -z "${3:-}" ]; then
		base_ns=$("$CLIENT" spawn "$THR_N" "$WORKERS") || die "the sh -c true baseline failed"
		alone_ns=$("$CLIENT" spawn "$THR_N" "$WORKERS" "$RUNNER" run "$FF") ||
			die "the runner alone failed"
	fi
	programs "${3:-}"
	start_node "thr$1$2${3:-}" "$2" "$RUNNER_C" "${3:-}"
	t0=$("$CLIENT" burst "$PORT" "$THR_N" "$CONC" "$FF" "thr$1$2${3:-}") ||
		die "the submissions ($2) failed"
	db=$SPOOL/spool.db
	i=0
	while [ "$(sqlite3 -cmd '.timeout 5000' "$db" \
		"SELECT count(*) FROM jobs WHERE state = 'DONE'")" != "$THR_N" ]; do
		i=$((i + 1))
		[ $i -gt 6000 ] && die "the jobs ($2) were not all DONE in 10 min"
		sleep 0.1
	done
	read -r t1 failed <<EOF
$(sqlite3 -cmd '.timeout 5000' -separator ' ' "$db" \
	"SELECT max(updated_ms), sum(outcome != 'SUCCEEDED') FROM jobs")
EOF
	[ "$failed" = 0 ] || die "$failed job(s) FAILED ($2): see $SPOOL/logs"
	stop_node
	echo "$1 thr_$2${3:+_$3} $(awk -v n="$THR_N" -v ms=$((t1 - t0)) -v b="$base_ns" \
		-v a="$alone_ns" 'BEGIN { printf "%.1f %.1f %.1f", n * 1000 / ms,
			(b > 0 ? n * 1e9 / b : 0), (a > 0 ? n * 1e9 / a : 0) }')" >>"$T/results"
}

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
bench_nginx
: >"$T/results"
r=1
while [ $r -le "$REPS" ]; do
	say "bench: repetition $r/$REPS"
	if [ -n "$CONFS" ]; then
		order=$CONFS
		[ $((r % 2)) -eq 1 ] || order="${CONFS#* } ${CONFS% *}"
		for c in $order; do latency "$r" full "$c"; done
		for c in $order; do throughput "$r" normal "$c"; done
		for c in $order; do throughput "$r" full "$c"; done
	else
		latency "$r" full
		latency "$r" normal
		throughput "$r" normal
		throughput "$r" full
	fi
	r=$((r + 1))
done

# ---- the report ----
echo "factotum-server worker benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(bench_machine)," \
	"load average at start: $LOAD0, at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "disk of $T: $(df -P "$T" | awk 'NR == 2 { print $1 }') ($(stat -f -c %T "$T"))"
echo "latency: $LAT_N sequential jobs through nginx, runner = bench/exec_stamp;" \
	"rate: $THR_N jobs, $CONC submitting clients, --max-workers $WORKERS, runner = runner/factotum;" \
	"$REPS repetitions, median of the per-repetition ratios"
echo
if [ -n "$PRIV" ]; then
	echo "privileged: the defaults (service user factotum-server, runs as factotum-run);" \
		"all-root: $(conf_args root)"
	echo
elif [ -n "$BASE" ]; then
	echo "new: this tree, $(git -C "$SRC" describe --always --dirty 2>/dev/null || echo '?')" \
		"($B); base: $(git -C "$SRC" rev-parse --short "$BASE") (built in the temporary dir)"
	echo "both: the same options and each its own defaults$( [ "$(id -u)" -ne 0 ] ||
		echo ' (as root: both drop to factotum-server, runs as factotum-run)')"
	echo
fi
# comparing (mode priv or base), the measure is the first configuration of CONFS (privileged,
# this tree) and its baseline the second (all-root, the base tree)
awk -v reps="$REPS" -v mode="${PRIV:+priv}${BASE:+base}" -v first="${CONFS%% *}" "$BENCH_AWK"'
function put(k, r, v) { if (c == first) val[k, r] = v; else base[k, r] = v }
mode != "" { split($2, kf, "_"); m = kf[2]; c = kf[3] }
mode != "" && $2 ~ /^lat_/ { put("p50 " m, $1, $3 / 1e6); put("p99 " m, $1, $4 / 1e6) }
mode != "" && $2 ~ /^thr_/ { put("rate " m, $1, $3) }
mode == "" && $2 ~ /^lat_/ { m = substr($2, 5)
	val["p50 " m, $1] = $3 / 1e6; base["p50 " m, $1] = $5 / 1e6
	val["p99 " m, $1] = $4 / 1e6; base["p99 " m, $1] = $6 / 1e6
	val["ans " m, $1] = $7 / 1e6; base["ans " m, $1] = $3 / 1e6 }
mode == "" && $2 ~ /^thr_/ { m = substr($2, 5); val["rate " m, $1] = $3; base["rate " m, $1] = $4
	val["alone " m, $1] = $5; base["alone " m, $1] = $4
	val["eff " m, $1] = $3; base["eff " m, $1] = $5 }
# rows_of(spec): the rows of the report, from "key|text|goal;..." (goal may be empty); how many
function rows_of(spec,    n, i, f) {
	n = split(spec, items, ";")
	for (i = 1; i <= n; i++) {
		split(items[i], f, "|")
		rows[i] = f[1]
		text[f[1]] = f[2]
		if (f[3] != "") goal[f[1]] = f[3]
	}
	return n
}
END {
	if (mode == "priv") {
		title = "measure: privileged / all-root"
		nrow = rows_of("p50 full|submit->exec p50 (ms), sync full|<= 1.05;" \
			"p99 full|submit->exec p99 (ms), sync full|;" \
			"rate normal|jobs/s end to end, sync normal|>= 0.95;" \
			"rate full|jobs/s end to end, sync full|>= 0.95")
		dec = 3
	} else if (mode == "base") {
		title = "measure: this tree / the base tree"
		nrow = rows_of("p50 full|submit->exec p50 (ms), sync full|<= 1.10;" \
			"p99 full|submit->exec p99 (ms), sync full|;" \
			"rate normal|jobs/s end to end, sync normal|>= 0.90;" \
			"rate full|jobs/s end to end, sync full|>= 0.90")
		dec = 2
	} else {
		title = "measure: server / baseline"
		nrow = rows_of("p50 full|submit->exec p50 (ms), sync full / fork+exec|<= 3;" \
			"p99 full|submit->exec p99 (ms), sync full / fork+exec|;" \
			"p50 normal|submit->exec p50 (ms), sync normal / fork+exec|<= 3;" \
			"p99 normal|submit->exec p99 (ms), sync normal / fork+exec|;" \
			"rate normal|jobs/s end to end, sync normal / sh -c true|>= 0.3;" \
			"rate full|jobs/s end to end, sync full / sh -c true|>= 0.3;" \
			"ans full|(why) /submit answered p50 / submit->exec p50, full|;" \
			"ans normal|(why) /submit answered p50 / submit->exec p50, normal|;" \
			"alone normal|(why) runner/factotum alone, N at a time / sh -c|;" \
			"alone full|(why) the same, next to the full run|;" \
			"eff normal|(why) jobs/s end to end, normal / runner alone|;" \
			"eff full|(why) jobs/s end to end, full / runner alone|")
		dec = 2
	}
	printf "%-54s %-7s", title, "goal"
	for (r = 1; r <= reps; r++) printf " %-21s", "rep " r
	printf " %6s  %s\n", "median", "verdict"
	for (i = 1; i <= nrow; i++) {
		k = rows[i]
		if (!((k, 1) in val)) continue
		if (k == "ans full") print "breakdown (no goal):"
		printf "%-54s %-7s", text[k], (k in goal) ? goal[k] : "-"
		for (r = 1; r <= reps; r++) {
			q[r] = base[k, r] > 0 ? val[k, r] / base[k, r] : 0
			f = (k ~ /^(rate|alone|eff)/ ? "%.0f/%.0f=%." : "%.2f/%.2f=%.") dec "f"
			printf " %-21s", sprintf(f, val[k, r], base[k, r], q[r])
		}
		m = median(q, reps)
		verdict = "-"
		if (k in goal) {
			split(goal[k], g, " ")
			verdict = (g[1] == "<=" ? m <= g[2] : m >= g[2]) ? "met" : "MISSED"
		}
		printf " %6." dec "f  %s\n", m, verdict
	}
}' "$T/results"
