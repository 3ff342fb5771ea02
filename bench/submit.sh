#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# bench/submit.sh: the /submit benchmarks (bench/README). In one run, on this machine's
# loopback and one temporary directory, it measures (each for BENCH_SECONDS, at BENCH_CONNS
# concurrent clients, through one nginx configured by the launcher for the whole run):
#   A  raw SQLite: one-row BEGIN IMMEDIATE/INSERT/COMMIT, WAL, synchronous=FULL, one connection
#   B  POST /submit, --spool-sync full (group commit)          [factotum-server-fcgi]
#   E  POST /submit forking `factotum run --dry-run` per request, full  [bench/fork_submit_fcgi]
#   F  gearmand, libsqlite3 persistent queue, background jobs  [bench/gearman_submit]
#   G  beanstalkd, binlog fsynced on every write (-f 0), put    [bench/beanstalk_put]
#   C  a trivial FastCGI responder (fixed JSON) through the same nginx  [bench/trivial_fcgi]
#   D  POST /submit, --spool-sync normal
# in that order (the pairs of each ratio back to back), repeats the set BENCH_ROUNDS times, and
# prints the rates and the ratios B/A (goal >= 0.7), D/C (>= 0.5), B/E (>= 4), B/F and B/G
# (> 1), each ratio taken within a round, with the median over the rounds, then the responders'
# CPU time per 200. HTTP load is wrk with bench/submit.lua: every request is a distinct job (its
# tag is used in a task argument) and only 200 answers count. Only processes this script
# started are stopped; the temporary directory is removed (BENCH_KEEP=1 keeps it).
#
# Comparison mode, BENCH_BASE=<git rev> (its responder is built from `git archive` in the
# temporary directory, configured as FS_BUILDDIR was) or BENCH_BASE_FCGI=<responder binary>:
# only B and D, each for this tree's responder and the base's, in ABBA order (new base base new
# within a round, the opposite in the next), printing new/base per round and the median against
# the goal >= 0.90. Both get the same options, and the defaults of newer options.
#
# Privilege mode, BENCH_PRIV=1 (as root only) measures instead what privilege separation costs
# /submit: B (the responder drops to the service user factotum-server) against R, the same with
# --allow-root (it stays root), in the order B R in odd rounds and R B in even ones, and reports
# B/R to 3 decimals (goal >= 0.95); BENCH_ROUNDS defaults to 4. It cannot be combined with
# BENCH_BASE or BENCH_BASE_FCGI.
#
# Run: `make bench` from the build directory, or `sh bench/submit.sh` (it builds what it needs
# in FS_BUILDDIR, default: the source tree, else its build/). Environment: BENCH_ROUNDS (3),
# BENCH_SECONDS (10), BENCH_CONNS (32), BENCH_WRK_THREADS (2), BENCH_FCGI_THREADS (32),
# BENCH_ONLY (e.g. "A B": a subset, for development), BENCH_FCGI (another responder binary for B
# and D, to try a change against the same baselines), BENCH_PRIV, BENCH_BASE, BENCH_BASE_FCGI,
# BENCH_KEEP, TMPDIR.
# Missing tools (wrk, gearmand, beanstalkd, libgearman-dev, nginx, curl) are installed with
# apt-get when run as root; otherwise the script names them and stops.

set -u
. "$(dirname "$0")/lib.sh"

PRIV=${BENCH_PRIV:-}
# an even count with BENCH_PRIV: as many rounds in each order
ROUNDS=${BENCH_ROUNDS:-${PRIV:+4}}
ROUNDS=${ROUNDS:-3}
SECS=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNS:-32}
WRK_THREADS=${BENCH_WRK_THREADS:-2}
FCGI_THREADS=${BENCH_FCGI_THREADS:-32}
BASE=${BENCH_BASE:-}
BASE_FCGI=${BENCH_BASE_FCGI:-}
[ -z "$PRIV" ] || [ -z "$BASE$BASE_FCGI" ] ||
	die "BENCH_PRIV and BENCH_BASE/BENCH_BASE_FCGI are two different comparisons: give one"
if [ -n "$PRIV" ]; then
	# R is measured as B's partner (pair below)
	ONLY=B
elif [ -n "$BASE$BASE_FCGI" ]; then
	ONLY=${BENCH_ONLY:-B D}
	case " $ONLY " in
	*[!BD\ ]*) die "BENCH_BASE and BENCH_BASE_FCGI compare B and D only (BENCH_ONLY: $ONLY)" ;;
	esac
else
	ONLY=${BENCH_ONLY:-A B E F G C D}
fi
# large enough that no measurement ever sees 429 (nothing drains the queue here)
MAX_JOBS=100000000

bench_init bench
if [ -n "$PRIV" ]; then
	[ "$(id -u)" -eq 0 ] || die "BENCH_PRIV=1 compares two ways of starting as root: run it as root"
	id factotum-server >/dev/null 2>&1 ||
		die "BENCH_PRIV=1 needs the user factotum-server: sh scripts/add-users.sh"
fi

# ---- tools ----
GEARMAND=$(command -v gearmand 2>/dev/null || echo /usr/sbin/gearmand)
BEANSTALKD=$(command -v beanstalkd 2>/dev/null || echo /usr/bin/beanstalkd)
missing=
command -v wrk >/dev/null 2>&1 || missing="$missing wrk"
case " $ONLY " in
*" F "*)
	[ -x "$GEARMAND" ] || missing="$missing gearman-job-server"
	command -v gearadmin >/dev/null 2>&1 || missing="$missing gearman-tools"
	[ -f /usr/include/libgearman-1.0/gearman.h ] || missing="$missing libgearman-dev"
	;;
esac
case " $ONLY " in
*" G "*) [ -x "$BEANSTALKD" ] || missing="$missing beanstalkd" ;;
esac
[ -x "$FS_NGINX" ] || missing="$missing nginx"
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
if [ -n "$PRIV$BASE$BASE_FCGI" ]; then
	PROGS=fcgi/factotum-server-fcgi
else
	PROGS="fcgi/factotum-server-fcgi bench/sqlite_commit bench/trivial_fcgi bench/fork_submit_fcgi
	bench/gearman_submit bench/beanstalk_put"
fi
# shellcheck disable=SC2086
bench_build $PROGS
for p in $PROGS; do
	[ -x "$B/$p" ] || die "$B/$p is missing"
done
FCGI=${BENCH_FCGI:-$B/fcgi/factotum-server-fcgi}
RUNNER=$B/runner/factotum

if [ -n "$BASE" ] && [ -z "$BASE_FCGI" ]; then
	bench_build_base "$BASE" "$T/base" fcgi/factotum-server-fcgi
	BASE_FCGI=$T/base/fcgi/factotum-server-fcgi
fi
[ -z "$BASE_FCGI" ] || [ -x "$BASE_FCGI" ] || die "no responder binary $BASE_FCGI"

# The echo sample with the request's tag in a task argument: every /submit renders the
# command lines with a client's value (what the template check looks at).
bench_echo_factfile
sed 's/"arguments": \[ "alpha" \]/"arguments": [ "alpha {{ tag:bench }}" ]/' "$FF" \
	>"$T/ff/echo-tag.factfile" || die "no templated factfile"
FF=$T/ff/echo-tag.factfile
grep -q '{{ tag:bench }}' "$FF" || die "the sample's first argument is not \"alpha\""
chmod 0644 "$FF"
FS_BENCH_RUNNER=$RUNNER
export FS_BENCH_RUNNER

# pair KEY: in a comparison, the key measured next to KEY (BENCH_PRIV: R; BENCH_BASE: the base
# responder's KEYbase); nothing otherwise
pair() {
	if [ -n "$PRIV" ]; then
		echo R
	elif [ -n "$BASE_FCGI" ]; then
		echo "${1}base"
	fi
}

# wait_port PORT PID: until something accepts on 127.0.0.1:PORT (or PID died)
wait_port() {
	fs_until "$2" 200 python3 -c 'import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2).close()' "$1" 2>/dev/null
}

# start_backend KIND N: the FastCGI program on $SOCK: full | normal | root (full, --allow-root) |
# base-full | base-normal (BASE_FCGI) | fork | trivial
start_backend() {
	sp=$T/spool.$2
	mkdir -p "$sp"
	kind=$1 klog=$T/backend.$2.log
	set -- --no-consul --spool "$sp" --fcgi-socket "$SOCK" --factotum-bin "$RUNNER" \
		--fcgi-threads "$FCGI_THREADS" --max-jobs "$MAX_JOBS"
	case $kind in
	full | normal) bench_backend "$klog" "$FCGI" "$@" --spool-sync "$kind" ;;
	root) bench_backend "$klog" "$FCGI" "$@" --spool-sync full --allow-root ;;
	base-full | base-normal)
		bench_backend "$klog" "$BASE_FCGI" "$@" --spool-sync "${kind#base-}" ;;
	fork) bench_backend "$klog" "$B/bench/fork_submit_fcgi" "$@" --spool-sync full ;;
	trivial) bench_backend "$klog" "$B/bench/trivial_fcgi" "$SOCK" "$FCGI_THREADS" ;;
	esac
}

# ---- one measurement each; every one appends "ROUND KEY ok other seconds cpu" to $T/results
# (cpu: the responder's CPU time in clock ticks, user and system, or - for other programs) ----
record() { # ROUND KEY "BENCH ..." line [CPU]
	bench_fields "$2" "$3"
	extra=$(echo "$3" | sed -n 's/.*\( p50_ms=.*\)/\1/p')
	echo "$1 $2 $ok $other $secs ${4:--}" >>"$T/results"
	say "  round $1 $2: $(bench_rate "$ok" "$secs")/s (ok $ok, other $other, ${secs}s)$extra"
}

http_run() { # ROUND KEY NAME
	wrk -t"$WRK_THREADS" -c"$CONNS" -d"${SECS}s" -s "$SRC/bench/submit.lua" \
		"$URL/submit" -- "$FF" "$3" >"$T/wrk.out" 2>&1
	# utime + stime of the responder (all its threads) since it started: one /submit run each
	cpu=$(awk '{ print $14 + $15 }' "/proc/$BPID/stat" 2>/dev/null)
	record "$1" "$2" "$(grep '^BENCH ' "$T/wrk.out" || tail -n 3 "$T/wrk.out")" "$cpu"
}

m_A() {
	mkdir -p "$T/raw.$1"
	record "$1" A "$("$B/bench/sqlite_commit" "$T/raw.$1" "$SECS" full)"
}

m_http() { # ROUND KEY KIND
	start_backend "$3" "$1$2"
	http_run "$1" "$2" "r$1$2"
	# every 200 must be a stored job: the spool holds at least as many QUEUED jobs
	[ "$3" = trivial ] || bench_check_queued "$2"
	bench_stop "$BPID"
}

m_F() {
	d=$T/gearman.$1
	mkdir -p "$d"
	port=$(fs_free_ports 1)
	"$GEARMAND" -L 127.0.0.1 -p "$port" -q libsqlite3 --libsqlite3-db="$d/queue.db" \
		--log-file="$d/gearmand.log" >"$d/out" 2>&1 &
	gp=$!
	PIDS="$PIDS $gp"
	wait_port "$port" "$gp" || { cat "$d/out" "$d/gearmand.log" >&2; die "gearmand did not start"; }
	record "$1" F "$("$B/bench/gearman_submit" 127.0.0.1 "$port" "$CONNS" "$SECS" "$FF")"
	bench_stop "$gp"
}

m_G() {
	d=$T/beanstalk.$1
	mkdir -p "$d"
	port=$(fs_free_ports 1)
	"$BEANSTALKD" -l 127.0.0.1 -p "$port" -b "$d" -f 0 >"$d/out" 2>&1 &
	bp=$!
	PIDS="$PIDS $bp"
	wait_port "$port" "$bp" || { cat "$d/out" >&2; die "beanstalkd did not start"; }
	record "$1" G "$("$B/bench/beanstalk_put" 127.0.0.1 "$port" "$CONNS" "$SECS" "$FF")"
	bench_stop "$bp"
}

measure() { # ROUND KEY
	case $2 in
	A) m_A "$1" ;;
	B) m_http "$1" B full ;;
	C) m_http "$1" C trivial ;;
	D) m_http "$1" D normal ;;
	R) m_http "$1" R root ;;
	Bbase) m_http "$1" Bbase base-full ;;
	Dbase) m_http "$1" Dbase base-normal ;;
	E) m_http "$1" E fork ;;
	F) m_F "$1" ;;
	G) m_G "$1" ;;
	esac
}

# ---- the run ----
bench_nginx
# a request that must work before anything is timed (the runner validates the sample too)
start_backend full check
bench_first_submit ""
bench_stop "$BPID"
if [ -n "$BASE_FCGI" ]; then
	start_backend base-full check-base
	bench_first_submit " to the base responder"
	bench_stop "$BPID"
fi
"$RUNNER" run "$FF" --dry-run --tag bench,check >/dev/null 2>&1 ||
	die "$RUNNER run $FF --dry-run fails"

# rows: what is measured, each key followed by its partner (the keys of the report's tables)
rows=
for k in $ONLY; do
	p=$(pair "$k")
	rows="$rows${rows:+ }$k${p:+ $p}"
done
say "bench: $ROUNDS round(s) of [$rows], ${SECS}s each, $CONNS connections" \
	"($WRK_THREADS wrk threads), $FCGI_THREADS responder threads; temporary dir $T"
: >"$T/results"
r=1
while [ "$r" -le "$ROUNDS" ]; do
	i=$r
	for k in $ONLY; do
		# comparing, each key is measured with its partner, the key first in odd positions:
		# ABBA within a round and from one round to the next
		p=$(pair "$k")
		if [ -z "$p" ]; then
			measure "$r" "$k"
		elif [ $((i % 2)) -eq 1 ]; then
			measure "$r" "$k"
			measure "$r" "$p"
		else
			measure "$r" "$p"
			measure "$r" "$k"
		fi
		i=$((i + 1))
	done
	r=$((r + 1))
done

# ---- the report ----
sqlite_version=$(python3 -c 'import sqlite3; print(sqlite3.sqlite_version)' 2>/dev/null || echo '?')
echo "factotum-server /submit benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(bench_machine)"
echo "disk of $T: $(df -P "$T" | awk 'NR == 2 { print $1 }') ($(stat -f -c %T "$T"))"
# dec: the decimals of the ratios
dec=2
if [ -n "$PRIV$BASE_FCGI" ]; then
	echo "versions: $("$FS_NGINX" -v 2>&1 | sed 's/.*: //')," \
		"$(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2), SQLite $sqlite_version"
	if [ -n "$PRIV" ]; then
		goals="B/R 0.95 >="
		dec=3
	else
		echo "new: $FCGI ($(git -C "$SRC" describe --always --dirty 2>/dev/null || echo '?'))"
		echo "base: $BASE_FCGI${BASE:+ ($(git -C "$SRC" rev-parse --short "$BASE"))}"
		goals="B/Bbase 0.9 >=;D/Dbase 0.9 >="
	fi
else
	echo "versions: $("$FS_NGINX" -v 2>&1 | sed 's/.*: //')," \
		"$(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2)," \
		"gearmand $("$GEARMAND" --version 2>&1 | sed -n 's/.*gearmand \([0-9.]*\).*/\1/p' |
			head -n 1)," \
		"$("$BEANSTALKD" -v 2>&1 | head -n 1), SQLite $sqlite_version"
	goals="B/A 0.7 >=;D/C 0.5 >=;B/E 4 >=;B/F 1 >;B/G 1 >"
fi
echo "load: $CONNS connections/clients, wrk -t$WRK_THREADS, ${SECS}s per measurement," \
	"$ROUNDS round(s); rates are accepted jobs (HTTP 200) per second"
echo
awk -v rounds="$ROUNDS" -v only="$rows" -v goallist="$goals" -v dec="$dec" -v lw=50 \
	-v hz="$(getconf CLK_TCK)" "$BENCH_AWK"'
{
	rate[$1, $2] = ($5 > 0 ? $3 / $5 : 0)
	have[$2] = 1
	if ($6 != "-" && $3 > 0) { cpu[$1, $2] = $6 * 1e6 / hz / $3; hascpu[$2] = 1 }
}
END {
	name["A"] = "raw SQLite, 1-row commits, WAL, synchronous=FULL"
	name["B"] = "POST /submit, --spool-sync full (group commit)"
	name["E"] = "POST /submit + fork of factotum run --dry-run"
	name["F"] = "gearmand, libsqlite3 queue, background jobs"
	name["G"] = "beanstalkd -f 0 (fsync every write), put"
	name["C"] = "trivial FastCGI responder, same nginx"
	name["D"] = "POST /submit, --spool-sync normal"
	name["R"] = "POST /submit, --spool-sync full, --allow-root"
	name["Bbase"] = "B, the responder of the base tree"
	name["Dbase"] = "D, the responder of the base tree"
	# the widths of the key and goal columns: at least 2 and 4, as wide as the longest
	n = split(only, keys, " ")
	nr = split(goallist, goals, ";")
	kw = 2
	for (i = 1; i <= n; i++) if (length(keys[i]) > kw) kw = length(keys[i])
	gw = 4
	for (g = 1; g <= nr; g++) {
		split(goals[g], f, " ")
		if (length(f[1]) > gw) gw = length(f[1])
	}
	rate_header("rate (jobs/s)")
	for (i = 1; i <= n; i++)
		if (keys[i] in have)
			rate_row(keys[i], name[keys[i]])
	print ""
	text["B/A"] = "durable /submit / raw SQLite FULL commits"
	text["D/C"] = "/submit (sync normal) / trivial FastCGI"
	text["B/E"] = "/submit / /submit forking a dry run"
	text["B/F"] = "durable /submit / gearmand (durable)"
	text["B/G"] = "durable /submit / beanstalkd -f 0"
	text["B/R"] = "/submit, service user / all root"
	text["B/Bbase"] = "/submit sync full, this tree / the base"
	text["D/Dbase"] = "/submit sync normal, this tree / the base"
	printf "%-" gw "s %-45s %-6s", "", "ratio (within each round)", "goal"
	for (r = 1; r <= rounds; r++) printf " %8s", "round " r
	printf " %8s  %s\n", "median", "verdict"
	for (g = 1; g <= nr; g++) {
		split(goals[g], f, " ")
		split(f[1], ab, "/")
		if (!(ab[1] in have) || !(ab[2] in have)) continue
		printf "%-" gw "s %-45s %-6s", f[1], text[f[1]], f[3] f[2]
		for (r = 1; r <= rounds; r++) {
			q[r] = rate[r, ab[2]] > 0 ? rate[r, ab[1]] / rate[r, ab[2]] : 0
			printf " %8." dec "f", q[r]
		}
		m = median(q, rounds)
		met = f[3] == ">=" ? m >= f[2] : m > f[2]
		printf " %8." dec "f  %s\n", m, met ? "met" : "MISSED"
	}
	# what each request cost the responder: steadier than rates on a shared machine
	for (k in hascpu) {
		for (r = 1; r <= rounds; r++)
			rate[r, k] = cpu[r, k]
		anycpu = 1
	}
	if (!anycpu) exit
	print ""
	rate_header("responder CPU time per 200 (us)")
	for (i = 1; i <= n; i++)
		if (keys[i] in hascpu)
			rate_row(keys[i], name[keys[i]])
}' "$T/results"
