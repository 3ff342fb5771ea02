#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# bench/submit.sh: the /submit benchmarks of issue 4. In one run, on this machine's loopback and
# one temporary directory, it measures (each for BENCH_SECONDS, at BENCH_CONNS concurrent
# clients, through one nginx started from nginx/nginx.conf.in for the whole run):
#   A  raw SQLite: one-row BEGIN IMMEDIATE/INSERT/COMMIT, WAL, synchronous=FULL, one connection
#   B  POST /submit, --spool-sync full (group commit)          [factotum-server-fcgi]
#   E  POST /submit forking `factotum run --dry-run` per request, full  [bench/fork_submit_fcgi]
#   F  gearmand, libsqlite3 persistent queue, background jobs  [bench/gearman_submit]
#   G  beanstalkd, binlog fsynced on every write (-f 0), put    [bench/beanstalk_put]
#   C  a trivial FastCGI responder (fixed JSON) through the same nginx  [bench/trivial_fcgi]
#   D  POST /submit, --spool-sync normal
# in that order (the pairs of each ratio back to back), repeats the set BENCH_ROUNDS times, and
# prints the rates and the ratios B/A (goal >= 0.7), D/C (>= 0.5), B/E (>= 4), B/F and B/G
# (> 1), each ratio taken within a round, with the median over the rounds. HTTP load is wrk with
# bench/submit.lua: every request is a distinct job and only 200 answers count. Only processes
# this script started are stopped; the temporary directory is removed (BENCH_KEEP=1 keeps it).
#
# Run: `make bench` from the build directory, or `sh bench/submit.sh` (it builds what it needs
# in FS_BUILDDIR, default: the source tree, else its build/). Environment: BENCH_ROUNDS (3),
# BENCH_SECONDS (10), BENCH_CONNS (32), BENCH_WRK_THREADS (2), BENCH_FCGI_THREADS (32),
# BENCH_ONLY (e.g. "A B": a subset, for development), BENCH_FCGI (another responder binary for B
# and D, to try a change against the same baselines), BENCH_KEEP, TMPDIR.
# Missing tools (wrk, gearmand, beanstalkd, libgearman-dev, nginx, curl) are installed with
# apt-get when run as root; otherwise the script names them and stops.

set -u

ROUNDS=${BENCH_ROUNDS:-3}
SECS=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNS:-32}
WRK_THREADS=${BENCH_WRK_THREADS:-2}
FCGI_THREADS=${BENCH_FCGI_THREADS:-32}
ONLY=${BENCH_ONLY:-A B E F G C D}
# large enough that no measurement ever sees 429 (nothing drains the queue here)
MAX_JOBS=100000000

say() { printf '%s\n' "$*" >&2; }
die() { say "bench: $*"; exit 1; }

SRC=${FS_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
if [ -n "${FS_BUILDDIR:-}" ]; then
	B=$FS_BUILDDIR
elif [ -f "$SRC/Makefile" ]; then
	B=$SRC
elif [ -f "$SRC/build/Makefile" ]; then
	B=$SRC/build
else
	die "no configured build tree: run ./configure (or set FS_BUILDDIR)"
fi
B=$(cd "$B" && pwd)

# ---- tools ----
NGINX=${FS_NGINX:-/usr/sbin/nginx}
GEARMAND=$(command -v gearmand 2>/dev/null || echo /usr/sbin/gearmand)
BEANSTALKD=$(command -v beanstalkd 2>/dev/null || echo /usr/bin/beanstalkd)
missing=
command -v wrk >/dev/null 2>&1 || missing="$missing wrk"
[ -x "$GEARMAND" ] || missing="$missing gearman-job-server"
command -v gearadmin >/dev/null 2>&1 || missing="$missing gearman-tools"
[ -f /usr/include/libgearman-1.0/gearman.h ] || missing="$missing libgearman-dev"
[ -x "$BEANSTALKD" ] || missing="$missing beanstalkd"
[ -x "$NGINX" ] || missing="$missing nginx"
command -v curl >/dev/null 2>&1 || missing="$missing curl"
command -v python3 >/dev/null 2>&1 || missing="$missing python3"
if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
		die "missing:$missing -- install them as root: apt-get install -y$missing"
	fi
	say "bench: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	# shellcheck disable=SC2086
	apt-get install -y -q $missing >/dev/null ||
		{ apt-get update -q >/dev/null && apt-get install -y -q $missing >/dev/null; } ||
		die "apt-get install$missing failed"
	GEARMAND=$(command -v gearmand 2>/dev/null || echo /usr/sbin/gearmand)
	BEANSTALKD=$(command -v beanstalkd 2>/dev/null || echo /usr/bin/beanstalkd)
fi

# ---- programs (built on demand: they are not part of `make all` or `make check`) ----
PROGS="fcgi/factotum-server-fcgi runner/factotum bench/sqlite_commit bench/trivial_fcgi
	bench/fork_submit_fcgi bench/gearman_submit bench/beanstalk_put"
# shellcheck disable=SC2086
${MAKE:-make} -C "$B" -s $PROGS >/dev/null || die "building the benchmark programs failed"
for p in $PROGS; do
	[ -x "$B/$p" ] || die "$B/$p is missing"
done
FCGI=${BENCH_FCGI:-$B/fcgi/factotum-server-fcgi}
RUNNER=$B/runner/factotum

# ---- the temporary directory, and stopping what we started ----
T=$(mktemp -d "${TMPDIR:-/tmp}/fs-bench.XXXXXX") || exit 1
PIDS=
NGINX_PID=
cleanup() {
	for p in $PIDS; do
		kill -TERM "$p" 2>/dev/null
	done
	[ -n "$NGINX_PID" ] && kill -QUIT "$NGINX_PID" 2>/dev/null
	for p in $PIDS $NGINX_PID; do
		wait "$p" 2>/dev/null
	done
	if [ -n "${BENCH_KEEP:-}" ]; then
		say "bench: kept $T"
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

mkdir -p "$T/run" "$T/ff" "$T/nginx/tmp"
[ "$(id -u)" -eq 0 ] && chmod 0711 "$T" "$T/run"
SOCK=$T/run/fcgi.sock
FF=$T/ff/echo.factfile
cp "$SRC/tests/data/samples/echo.factfile" "$FF" || die "no sample factfile"
chmod 0644 "$FF"

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_port PORT PID: until something accepts on 127.0.0.1:PORT (or PID died)
wait_port() {
	python3 - "$1" <<'EOF' && kill -0 "$2" 2>/dev/null
import socket, sys, time
for _ in range(200):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
EOF
}

forget_pid() {
	PIDS=$(echo "$PIDS" | tr ' ' '\n' | grep -vx "$1" | tr '\n' ' ')
}

stop_pid() {
	kill -TERM "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	forget_pid "$1"
}

# ---- nginx, one for the whole run, in front of $SOCK ----
start_nginx() {
	nd=$T/nginx
	site=$nd/factotum-server.conf
	sed "s|unix:/var/lib/factotum-server/fcgi.sock|unix:$SOCK|" \
		"$SRC/nginx/factotum-server.conf" >"$site"
	userline=
	[ "$(id -u)" -eq 0 ] && userline="user nobody $(id -gn nobody 2>/dev/null || echo nogroup);"
	HTTP_PORT=$(free_port)
	sed -e "s|@USER_LINE@|$userline|" -e "s|@PREFIX@|$nd|g" \
		-e "s|@LISTEN@|127.0.0.1:$HTTP_PORT|" -e "s|@SITE@|$site|" \
		"$SRC/nginx/nginx.conf.in" >"$nd/nginx.conf"
	"$NGINX" -p "$nd" -c "$nd/nginx.conf" -e "$nd/error.log" 2>"$nd/stderr" &
	NGINX_PID=$!
	wait_port "$HTTP_PORT" "$NGINX_PID" || { cat "$nd/stderr" "$nd/error.log" >&2; die "nginx did not start"; }
	URL=http://127.0.0.1:$HTTP_PORT
}

# start_backend KIND N: the FastCGI program on $SOCK: full | normal | fork | trivial
start_backend() {
	rm -f "$SOCK"
	sp=$T/spool.$2
	mkdir -p "$sp"
	log=$T/backend.$2.log
	case $1 in
	full | normal | fork)
		set -- "$1" --no-consul --spool "$sp" --fcgi-socket "$SOCK" \
			--factotum-bin "$RUNNER" --fcgi-threads "$FCGI_THREADS" \
			--max-jobs "$MAX_JOBS" --spool-sync "$(
				[ "$1" = normal ] && echo normal || echo full)"
		if [ "$1" = fork ]; then
			shift
			FS_BENCH_RUNNER=$RUNNER "$B/bench/fork_submit_fcgi" "$@" 2>"$log" &
		else
			shift
			"$FCGI" "$@" 2>"$log" &
		fi
		;;
	trivial)
		"$B/bench/trivial_fcgi" "$SOCK" "$FCGI_THREADS" 2>"$log" &
		;;
	esac
	BPID=$!
	PIDS="$PIDS $BPID"
	i=0
	while [ ! -S "$SOCK" ]; do
		i=$((i + 1))
		if [ $i -gt 200 ] || ! kill -0 "$BPID" 2>/dev/null; then
			cat "$log" >&2
			die "the FastCGI program ($1) did not start"
		fi
		sleep 0.05
	done
	[ "$(id -u)" -eq 0 ] && chmod 0666 "$SOCK"
	return 0
}

# ---- one measurement each; every one appends "ROUND KEY ok other seconds" to $T/results ----
record() { # ROUND KEY "BENCH ..." line
	line=$3
	case $line in
	BENCH\ *) ;;
	*) die "measurement $2 gave no result: $line" ;;
	esac
	ok=$(echo "$line" | sed -n 's/.* ok=\([0-9]*\).*/\1/p')
	other=$(echo "$line" | sed -n 's/.* other=\([0-9]*\).*/\1/p')
	secs=$(echo "$line" | sed -n 's/.* seconds=\([0-9.]*\).*/\1/p')
	extra=$(echo "$line" | sed -n 's/.*\( p50_ms=.*\)/\1/p')
	echo "$1 $2 $ok $other $secs" >>"$T/results"
	rate=$(awk -v o="$ok" -v s="$secs" 'BEGIN { printf "%.0f", (s > 0 ? o / s : 0) }')
	say "  round $1 $2: $rate/s (ok $ok, other $other, ${secs}s)$extra"
}

http_run() { # ROUND KEY NAME
	wrk -t"$WRK_THREADS" -c"$CONNS" -d"${SECS}s" -s "$SRC/bench/submit.lua" \
		"$URL/submit" -- "$FF" "$3" >"$T/wrk.out" 2>&1
	record "$1" "$2" "$(grep '^BENCH ' "$T/wrk.out" || tail -n 3 "$T/wrk.out")"
}

m_A() {
	mkdir -p "$T/raw.$1"
	record "$1" A "$("$B/bench/sqlite_commit" "$T/raw.$1" "$SECS" full)"
}

m_http() { # ROUND KEY KIND
	start_backend "$3" "$1$2"
	http_run "$1" "$2" "r$1$2"
	# every 200 must be a stored job: the spool holds at least as many QUEUED jobs
	if [ "$3" != trivial ]; then
		q=$(curl -s "$URL/status" | sed -n 's/.*"inQueue":\([0-9]*\).*/\1/p')
		n=$(tail -n 1 "$T/results" | cut -d' ' -f3)
		if [ -z "$q" ] || [ "$q" -lt "$n" ]; then
			die "$2: $n answers 200 but only '${q}' jobs are queued"
		fi
	fi
	stop_pid "$BPID"
}

m_F() {
	d=$T/gearman.$1
	mkdir -p "$d"
	port=$(free_port)
	"$GEARMAND" -L 127.0.0.1 -p "$port" -q libsqlite3 --libsqlite3-db="$d/queue.db" \
		--log-file="$d/gearmand.log" >"$d/out" 2>&1 &
	gp=$!
	PIDS="$PIDS $gp"
	wait_port "$port" "$gp" || { cat "$d/out" "$d/gearmand.log" >&2; die "gearmand did not start"; }
	record "$1" F "$("$B/bench/gearman_submit" 127.0.0.1 "$port" "$CONNS" "$SECS" "$FF")"
	stop_pid "$gp"
}

m_G() {
	d=$T/beanstalk.$1
	mkdir -p "$d"
	port=$(free_port)
	"$BEANSTALKD" -l 127.0.0.1 -p "$port" -b "$d" -f 0 >"$d/out" 2>&1 &
	bp=$!
	PIDS="$PIDS $bp"
	wait_port "$port" "$bp" || { cat "$d/out" >&2; die "beanstalkd did not start"; }
	record "$1" G "$("$B/bench/beanstalk_put" 127.0.0.1 "$port" "$CONNS" "$SECS" "$FF")"
	stop_pid "$bp"
}

measure() { # ROUND KEY
	case $2 in
	A) m_A "$1" ;;
	B) m_http "$1" B full ;;
	C) m_http "$1" C trivial ;;
	D) m_http "$1" D normal ;;
	E) m_http "$1" E fork ;;
	F) m_F "$1" ;;
	G) m_G "$1" ;;
	esac
}

# ---- the run ----
start_nginx
# a request that must work before anything is timed (the runner validates the sample too)
start_backend full check
printf '{"jobName":"check","factfilePath":"%s","factfileArgs":["--tag","bench,check"]}' "$FF" \
	>"$T/check.json"
code=$(curl -s -o "$T/check.out" -w '%{http_code}' --data-binary "@$T/check.json" "$URL/submit")
[ "$code" = 200 ] || { cat "$T/check.out" >&2; die "a first /submit answered $code"; }
stop_pid "$BPID"
"$RUNNER" run "$FF" --dry-run --tag bench,check >/dev/null 2>&1 ||
	die "$RUNNER run $FF --dry-run fails"

say "bench: $ROUNDS round(s) of [$ONLY], ${SECS}s each, $CONNS connections" \
	"($WRK_THREADS wrk threads), $FCGI_THREADS responder threads; temporary dir $T"
: >"$T/results"
r=1
while [ "$r" -le "$ROUNDS" ]; do
	for k in $ONLY; do
		measure "$r" "$k"
	done
	r=$((r + 1))
done

# ---- the report ----
sqlite_version=$(python3 -c 'import sqlite3; print(sqlite3.sqlite_version)' 2>/dev/null || echo '?')
echo "factotum-server /submit benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(uname -srm), $(nproc) cores, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)"
echo "disk of $T: $(df -P "$T" | awk 'NR == 2 { print $1 }') ($(stat -f -c %T "$T"))"
echo "versions: $("$NGINX" -v 2>&1 | sed 's/.*: //'), $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2)," \
	"gearmand $("$GEARMAND" --version 2>&1 | sed -n 's/.*gearmand \([0-9.]*\).*/\1/p' | head -n 1)," \
	"$("$BEANSTALKD" -v 2>&1 | head -n 1), SQLite $sqlite_version"
echo "load: $CONNS connections/clients, wrk -t$WRK_THREADS, ${SECS}s per measurement," \
	"$ROUNDS round(s); rates are accepted jobs (HTTP 200) per second"
echo
awk -v rounds="$ROUNDS" -v only="$ONLY" '
function median(a, n,    i, j, t) {
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{ rate[$1, $2] = ($5 > 0 ? $3 / $5 : 0); have[$2] = 1 }
END {
	name["A"] = "raw SQLite, 1-row commits, WAL, synchronous=FULL"
	name["B"] = "POST /submit, --spool-sync full (group commit)"
	name["E"] = "POST /submit + fork of factotum run --dry-run"
	name["F"] = "gearmand, libsqlite3 queue, background jobs"
	name["G"] = "beanstalkd -f 0 (fsync every write), put"
	name["C"] = "trivial FastCGI responder, same nginx"
	name["D"] = "POST /submit, --spool-sync normal"
	printf "%-2s %-50s", "", "rate (jobs/s)"
	for (r = 1; r <= rounds; r++) printf " %8s", "round " r
	printf " %8s\n", "median"
	n = split(only, keys, " ")
	for (i = 1; i <= n; i++) {
		k = keys[i]
		if (!(k in have)) continue
		printf "%-2s %-50s", k, name[k]
		for (r = 1; r <= rounds; r++) { v[r] = rate[r, k]; printf " %8.0f", v[r] }
		printf " %8.0f\n", median(v, rounds)
	}
	print ""
	nr = split("B/A 0.7 >=;D/C 0.5 >=;B/E 4 >=;B/F 1 >;B/G 1 >", goals, ";")
	text["B/A"] = "durable /submit / raw SQLite FULL commits"
	text["D/C"] = "/submit (sync normal) / trivial FastCGI"
	text["B/E"] = "/submit / /submit forking a dry run"
	text["B/F"] = "durable /submit / gearmand (durable)"
	text["B/G"] = "durable /submit / beanstalkd -f 0"
	printf "%-4s %-45s %-6s", "", "ratio (within each round)", "goal"
	for (r = 1; r <= rounds; r++) printf " %8s", "round " r
	printf " %8s  %s\n", "median", "verdict"
	for (g = 1; g <= nr; g++) {
		split(goals[g], f, " ")
		split(f[1], ab, "/")
		if (!(ab[1] in have) || !(ab[2] in have)) continue
		printf "%-4s %-45s %-6s", f[1], text[f[1]], f[3] f[2]
		for (r = 1; r <= rounds; r++) {
			q[r] = rate[r, ab[2]] > 0 ? rate[r, ab[1]] / rate[r, ab[2]] : 0
			printf " %8.2f", q[r]
		}
		m = median(q, rounds)
		met = f[3] == ">=" ? m >= f[2] : m > f[2]
		printf " %8.2f  %s\n", m, met ? "met" : "MISSED"
	}
}' "$T/results"
