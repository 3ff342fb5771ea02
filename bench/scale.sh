#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# bench/scale.sh: what a long history costs a node (bench/README). Two spools built with SQL, one
# holding BENCH_LARGE finished jobs (two transitions each), one holding BENCH_SMALL; for each, a
# responder and a worker with the same settings behind an nginx of their own, and, one after the
# other for BENCH_SECONDS each: POST /submit (distinct jobs), GET /status, /check?id=<a finished
# job>, /metrics and /jobs (first page), in BENCH_ROUNDS rounds in which both nodes run and each
# measurement is taken on one spool right after the other, in alternating order (a change in the
# machine's load then meets both). Reported, each the median of the rounds: each rate large /
# small (goal >= 0.8); the responder's and the worker's peak RSS large / small (goal <= 1.5);
# and, where the worker has --retain-done, /submit p99 while the worker prunes the large spool's
# jobs (all made older than the retention) / /submit p99 on the same spool with nothing due
# (goal <= 2), with how many jobs the pruning removed meanwhile. A part the tree cannot do is
# reported "not available in this tree". Only processes this script started are stopped; the
# temporary directory is removed (BENCH_KEEP=1 keeps it).
#
# Run: `make bench-scale` from the build directory, or `sh bench/scale.sh [BUILDDIR]`.
# Environment: BENCH_LARGE (1000000), BENCH_SMALL (1000), BENCH_ROUNDS (3), BENCH_SECONDS (10),
# BENCH_CONNS (16), BENCH_SCRAPE_CONNS (2, for /metrics), BENCH_WRK_THREADS (2), BENCH_KEEP,
# TMPDIR, FS_NGINX.

set -u

LARGE=${BENCH_LARGE:-1000000}
SMALL=${BENCH_SMALL:-1000}
SECS=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-3}
CONNS=${BENCH_CONNS:-16}
# scrapers come one or two at a time; and a tree whose scrape holds every finished job in memory
# would need gigabytes per concurrent scrape of a large spool
SCRAPE_CONNS=${BENCH_SCRAPE_CONNS:-2}
WRK_THREADS=${BENCH_WRK_THREADS:-2}
DAY_MS=86400000

. "$(dirname "$0")/lib.sh"
bench_init scale "${1:-}"
bench_need wrk sqlite3 curl python3 "$FS_NGINX"
bench_build fcgi/factotum-server-fcgi worker/factotum-server-worker
FCGI=$B/fcgi/factotum-server-fcgi
WORKER=$B/worker/factotum-server-worker
bench_echo_factfile
# the worker's runner: every job it takes ends at once (the runs are not what is measured)
STUB=$T/run/stub-runner
printf '#!/bin/sh\nexit 0\n' >"$STUB"
chmod 0755 "$STUB"
ROOT_OPT=
[ "$(id -u)" -ne 0 ] || ROOT_OPT=--allow-root
FS_SRCDIR=$SRC
if [ -n "$ROOT_OPT" ]; then
	fs_ensure_user factotum-run || die "cannot create the run user factotum-run"
	chmod 1777 "$T/ff"
fi
HAVE_RETAIN=
"$WORKER" --help 2>&1 | grep -q -- '--retain-done' && HAVE_RETAIN=1

# build_spool DIR N AGE_MS: a spool with this build's schema (made by a responder started and
# stopped on it) holding N DONE jobs, each with a QUEUED and a DONE transition, finished
# between AGE_MS + N ms and AGE_MS ago, one a millisecond
build_spool() {
	mkdir -p "$1"
	bench_backend "$T/build.log" "$FCGI" --no-consul --spool "$1" --fcgi-socket "$SOCK" \
		--factotum-bin "$STUB" $ROOT_OPT
	bench_stop "$BPID"
	now=$(($(date +%s) * 1000))
	sqlite3 "$1/spool.db" >/dev/null <<EOF || die "building the spool $1 failed"
PRAGMA journal_mode = WAL;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $2)
INSERT INTO jobs (id, seq, job_name, factfile_path, factfile_args, state, outcome, node,
	created_ms, updated_ms, started_ms, finished_ms, exit_code, reason)
SELECT printf('%064x', i), i, 'history', '$FF', '["--tag","bench,old-' || i || '"]', 'DONE',
	CASE WHEN i % 10 = 0 THEN 'FAILED' ELSE 'SUCCEEDED' END, 'bench',
	$now - $3 - $2 + i - 1000, $now - $3 - $2 + i, $now - $3 - $2 + i - 500,
	$now - $3 - $2 + i, CASE WHEN i % 10 = 0 THEN 1 ELSE 0 END,
	CASE WHEN i % 10 = 0 THEN 'exit code 1' END FROM n;
INSERT INTO transitions (job_id, at_ms, state, outcome, node)
SELECT id, created_ms, 'QUEUED', 'WAITING', node FROM jobs;
INSERT INTO transitions (job_id, at_ms, state, outcome, exit_code, reason, node)
SELECT id, finished_ms, 'DONE', outcome, exit_code, reason, node FROM jobs;
COMMIT;
EOF
}

# start_node SIZE [WORKER OPTION...]: a responder and a worker on the spool of SIZE, with their
# own socket, behind an nginx of their own (started once, kept for the run); sets BPID_SIZE,
# WPID_SIZE and URL_SIZE
start_node() {
	size=$1
	shift
	sp=$T/spool.$size
	SOCK=$T/run/fcgi.$size.sock
	bench_backend "$T/responder.$size.log" "$FCGI" --no-consul --spool "$sp" \
		--fcgi-socket "$SOCK" --factotum-bin "$STUB" --max-jobs 100000000 $ROOT_OPT
	"$WORKER" --no-consul --spool "$sp" --factotum-bin "$STUB" --max-workers 4 $ROOT_OPT \
		"$@" 2>>"$T/worker.$size.log" &
	WPID=$!
	PIDS="$PIDS $WPID"
	fs_until "$WPID" 400 fs_worker_ready "$sp" "$WPID" ||
		{ tail -n 20 "$T/worker.$size.log" >&2; die "the worker did not start on $sp"; }
	eval "BPID_$size=\$BPID WPID_$size=\$WPID"
	if [ -z "$(eval "echo \"\${URL_$size:-}\"")" ]; then
		FS_NGINX_LIMITS=$FS_NO_LIMITS fs_nginx_start "$T/nginx.$size" "$SOCK" >&2 ||
			die "nginx did not start"
		PIDS="$PIDS $FS_NGINX_PID"
		eval "URL_$size=\$FS_URL"
	fi
}

# stop_node SIZE
stop_node() {
	eval "bench_stop \$WPID_$1; bench_stop \$BPID_$1"
}

# hwm PID: the process's peak resident set, kB
hwm() {
	sed -n 's/^VmHWM:[^0-9]*\([0-9]*\).*/\1/p' "/proc/$1/status"
}

# ticks PID: the process's CPU time so far (user and system), clock ticks
ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# measure SIZE KEY PATH: one wrk run, "SIZE KEY ok other seconds p99 round cpu" appended to
# $T/results (cpu: the responder's CPU time meanwhile, clock ticks: less moved by the machine's
# other load than the rate is)
measure() {
	case $1 in
	small) node=small ;;
	*) node=large ;;
	esac
	eval "URL=\$URL_$node BPID=\$BPID_$node"
	cpu0=$(ticks "$BPID")
	if [ "$2" = submit ]; then
		wrk -t"$WRK_THREADS" -c"$CONNS" -d"${SECS}s" --timeout 30s -s "$SRC/bench/submit.lua" \
			"$URL/submit" -- "$FF" "$1-$2-$(date +%s%N)" >"$T/wrk.out" 2>&1
	else
		c=$CONNS
		[ "$2" != metrics ] || c=$SCRAPE_CONNS
		wrk -t"$WRK_THREADS" -c"$c" -d"${SECS}s" --timeout 30s -s "$SRC/bench/submit.lua" \
			"$URL$3" -- --get >"$T/wrk.out" 2>&1
	fi
	cpu=$(($(ticks "$BPID") - cpu0))
	bench_fields "$1 $2" "$(grep '^BENCH ' "$T/wrk.out" || tail -n 3 "$T/wrk.out")"
	echo "$1 $2 $ok $other $secs $p99 ${ROUND:-0} $cpu" >>"$T/results"
	say "  $1 $2: $(bench_rate "$ok" "$secs")/s (ok $ok, other $other, p99 ${p99} ms)"
	# requests wrk left in flight would still run in the next measurement: they end within
	# about the p99
	sleep "$(awk -v p="${p99:-0}" 'BEGIN { s = p / 1000 * 1.5; printf "%.3f", (s > 60 ? 60 : s) }')"
}

# ---- the run ----
: >"$T/results"
: >"$T/rss"
say "bench: $LARGE vs $SMALL finished jobs, $ROUNDS rounds, ${SECS}s per measurement," \
	"$CONNS connections; temporary dir $T"
SOCK=$T/run/fcgi.build.sock
for size in small large; do
	n=$SMALL
	[ $size = small ] || n=$LARGE
	say "bench: building a spool of $n finished jobs"
	build_spool "$T/spool.$size" "$n" 0
	echo "$size spool_kb $(du -sk "$T/spool.$size" | cut -f1)" >>"$T/rss"
done
# In each round both nodes run, and each measurement is taken on one spool right after the
# other, small first in odd rounds and large first in even ones, so that a change in the
# machine's load meets both. The reads first: the submits add to the spools, whose jobs are
# deleted again after the round (each round starts from the same history).
r=1
while [ $r -le "$ROUNDS" ]; do
	order="small large"
	[ $((r % 2)) -eq 1 ] || order="large small"
	ROUND=$r
	say "bench: round $r"
	for size in $order; do
		start_node $size
		eval "URL=\$URL_$size"
		bench_first_submit " ($size spool)"
	done
	for k in status check metrics jobs submit; do
		for size in $order; do
			n=$SMALL
			[ $size = small ] || n=$LARGE
			case $k in
			status) p=/status ;;
			check) p="/check?id=$(printf '%064x' $((n / 2 + 1)))" ;;
			metrics) p=/metrics ;;
			jobs) p=/jobs ;;
			*) p=/submit ;;
			esac
			measure $size $k "$p"
		done
	done
	for size in $order; do
		eval "echo \"$size rss_responder \$(hwm \$BPID_$size)\" >>\"\$T/rss\""
		eval "echo \"$size rss_worker \$(hwm \$WPID_$size)\" >>\"\$T/rss\""
		stop_node $size
		sqlite3 -cmd '.timeout 10000' "$T/spool.$size/spool.db" \
			"DELETE FROM jobs WHERE job_name <> 'history'" ||
			die "removing the submitted jobs from $T/spool.$size failed"
	done
	r=$((r + 1))
done
rm -rf "$T/spool.small"
[ -n "$HAVE_RETAIN" ] || rm -rf "$T/spool.large"

PRUNE=
if [ -n "$HAVE_RETAIN" ]; then
	sp=$T/spool.large
	# every old job due under --retain-done 30d: made 40 days older than it was
	sqlite3 -cmd '.timeout 10000' "$sp/spool.db" "BEGIN;
UPDATE jobs SET updated_ms = updated_ms - 40 * $DAY_MS, finished_ms = finished_ms - 40 * $DAY_MS,
	created_ms = created_ms - 40 * $DAY_MS, started_ms = started_ms - 40 * $DAY_MS
	WHERE job_name = 'history';
UPDATE transitions SET at_ms = at_ms - 40 * $DAY_MS
	WHERE job_id IN (SELECT id FROM jobs WHERE job_name = 'history');
COMMIT;" || die "ageing the large spool failed"
	# rounds of: nothing due (--retain-done 3650d), then pruning (30d), the history's count
	# before and after each pruning measurement in $T/prune
	: >"$T/prune"
	r=1
	while [ $r -le "$ROUNDS" ]; do
		ROUND=$r
		say "bench: round $r, large spool, nothing due then pruning"
		start_node large --retain-done 3650d
		measure quiet submit /submit
		stop_node large
		before=$(sqlite3 -cmd '.timeout 10000' "$sp/spool.db" \
			"SELECT count(*) FROM jobs WHERE job_name = 'history'")
		start_node large --retain-done 30d
		measure pruning submit /submit
		stop_node large
		after=$(sqlite3 -cmd '.timeout 10000' "$sp/spool.db" \
			"SELECT count(*) FROM jobs WHERE job_name = 'history'")
		echo "$r $before $after" >>"$T/prune"
		r=$((r + 1))
	done
	PRUNE=$(awk '{ removed += $2 - $3 } END { print removed + 0 }' "$T/prune")
fi

# ---- the report ----
echo "factotum-server scale benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(bench_machine)"
echo "disk of $T: $(df -P "$T" | awk 'NR == 2 { print $1 }') ($(stat -f -c %T "$T"))"
echo "spools: $LARGE (large) and $SMALL (small) finished jobs, two transitions each, built" \
	"with SQL; $CONNS connections ($SCRAPE_CONNS for /metrics), wrk -t$WRK_THREADS," \
	"${SECS}s per measurement, $ROUNDS rounds (each figure: the median of the rounds)"
echo
awk -v prune="$PRUNE" -v rounds="$ROUNDS" -v secs="$SECS" -v hz="$(getconf CLK_TCK)" '
FILENAME ~ /results$/ {
	rate[$1, $2, $7] = ($5 > 0 ? $3 / $5 : 0); other[$1, $2] += $4; p99[$1, $2, $7] = $6
	cpu[$1, $2, $7] = ($3 > 0 ? $8 * 1e6 / hz / $3 : 0)
}
FILENAME ~ /rss$/ { if ($3 > rss[$1, $2]) rss[$1, $2] = $3 }
function verdict(ok) { return ok ? "met" : "MISSED" }
# median of v[1..n] (sorted in place)
function median(v, n,    i, j, t) {
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
	return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
END {
	printf "%-10s %12s %12s %8s %-6s %s\n", "", "small", "large", "ratio", "goal", "verdict"
	n = split("status check metrics jobs submit", k, " ")
	for (i = 1; i <= n; i++) {
		for (r = 1; r <= rounds; r++) {
			sv[r] = rate["small", k[i], r]; lv[r] = rate["large", k[i], r]
			qv[r] = sv[r] > 0 ? lv[r] / sv[r] : 0
		}
		s = median(sv, rounds); l = median(lv, rounds); q = median(qv, rounds)
		bad = other["small", k[i]] + other["large", k[i]]
		note = bad > 0 ? " (non-200: " other["small", k[i]] ", " other["large", k[i]] ")" : ""
		printf "%-10s %10.0f/s %10.0f/s %8.2f %-6s %s%s\n", k[i], s, l, q, ">=0.8",
			verdict(q >= 0.8 && bad == 0), note
	}
	printf "\nthe responder'"'"'s CPU time per answer (us), for reading the rates (no goal):\n"
	for (i = 1; i <= n; i++) {
		for (r = 1; r <= rounds; r++) {
			sv[r] = cpu["small", k[i], r]; lv[r] = cpu["large", k[i], r]
			qv[r] = sv[r] > 0 ? lv[r] / sv[r] : 0
		}
		printf "%-10s %10.0f us %9.0f us %8.2f\n", k[i], median(sv, rounds),
			median(lv, rounds), median(qv, rounds)
	}
	printf "\n"
	split("rss_responder rss_worker", m, " ")
	for (i = 1; i <= 2; i++) {
		s = rss["small", m[i]]; l = rss["large", m[i]]
		q = s > 0 ? l / s : 0
		who = m[i] == "rss_worker" ? "worker" : "responder"
		printf "%-10s %10d kB %9d kB %8.2f %-6s %s\n", who, s, l, q, "<=1.5",
			verdict(q > 0 && q <= 1.5)
	}
	printf "%-10s %10d kB %9d kB\n", "spool dir", rss["small", "spool_kb"], rss["large", "spool_kb"]
	if (prune == "") {
		printf "%-10s not available in this tree (the worker has no --retain-done)\n",
			"pruning"
		exit
	}
	for (r = 1; r <= rounds; r++) {
		av[r] = p99["quiet", "submit", r]; bv[r] = p99["pruning", "submit", r]
		qv[r] = av[r] > 0 ? bv[r] / av[r] : 0
	}
	a = median(av, rounds); b = median(bv, rounds); q = median(qv, rounds)
	bad = other["quiet", "submit"] + other["pruning", "submit"]
	printf "%-10s p99 %7.2f ms %6.2f ms %8.2f %-6s %s\n", "submit/prn", a, b, q, "<=2",
		verdict(q > 0 && q <= 2 && prune > 0 && bad == 0)
	printf "%-10s %d finished jobs removed in %d s of /submit load (%.0f/s)\n", "pruned",
		prune, rounds * secs, prune / (rounds * secs)
}' "$T/results" "$T/rss"
