# SPDX-License-Identifier: Apache-2.0
# What the benchmark scripts share (POSIX sh, sourced): messages, the build tree, one temporary
# directory with every process started in it stopped on exit, nginx and responders on loopback
# (through tests/integration/node_lib.sh, as the integration tests start them), the "BENCH ..."
# result lines of the load generators, and the report's machine line and median.

say() { printf '%s\n' "$*" >&2; }
die() { say "bench: $*"; exit 1; }

# bench_init NAME [BUILDDIR]: sets SRC (the source tree), B and FS_BUILDDIR (the build tree:
# BUILDDIR, else $FS_BUILDDIR, else the source tree, else its build/), T (a new temporary
# directory fs-NAME.XXXXXX, removed on exit unless BENCH_KEEP is set; $T/run and $T/ff are
# reachable by nginx's workers), SOCK (the responder's socket in $T/run) and PIDS (the
# processes to stop on exit, SIGTERM; nginx gets SIGQUIT). BENCH_CLEANUP, if set, is one more
# command run on exit once they are gone.
bench_init() {
	SRC=${FS_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
	B=${2:-${FS_BUILDDIR:-}}
	if [ -z "$B" ]; then
		if [ -f "$SRC/Makefile" ]; then
			B=$SRC
		elif [ -f "$SRC/build/Makefile" ]; then
			B=$SRC/build
		else
			die "no configured build tree: run ./configure, or pass one (or set FS_BUILDDIR)"
		fi
	fi
	B=$(cd "$B" && pwd) || die "no build directory $B"
	FS_BUILDDIR=$B
	. "$SRC/tests/integration/node_lib.sh"
	T=$(mktemp -d "${TMPDIR:-/tmp}/fs-$1.XXXXXX") || exit 1
	FS_TMP=$T
	PIDS=
	NGINX_PID=
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM HUP
	mkdir -p "$T/run" "$T/ff"
	[ "$(id -u)" -ne 0 ] || chmod 0711 "$T" "$T/run"
	SOCK=$T/run/fcgi.sock
}

bench_cleanup() {
	for p in $PIDS; do
		kill -TERM "$p" 2>/dev/null
	done
	[ -z "$NGINX_PID" ] || kill -QUIT "$NGINX_PID" 2>/dev/null
	for p in $PIDS $NGINX_PID; do
		wait "$p" 2>/dev/null
	done
	${BENCH_CLEANUP:-:}
	if [ -n "${BENCH_KEEP:-}" ]; then
		say "bench: kept $T"
	else
		rm -rf "$T"
	fi
}

# bench_need TOOL...: dies naming every TOOL that is neither a path nor on PATH.
bench_need() {
	missing=
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
	done
	[ -z "$missing" ] || die "missing:$missing (scripts/install-deps.sh installs most of them)"
}

# bench_build PROGRAM...: makes the programs in the build tree (with the launcher, which writes
# nginx's configuration).
bench_build() {
	${MAKE:-make} -C "$B" -s launcher/factotum-server runner/factotum "$@" >/dev/null ||
		die "building $* in $B failed"
}

# bench_build_base REV DIR PROGRAM...: builds PROGRAM... (paths in the tree, as for make) of the
# tree at REV of $SRC in DIR, from `git archive`, configured with the options the build tree $B
# was configured with (the same compiler flags on both sides of a comparison); its log in
# DIR.log. For the comparison modes (BENCH_BASE) of submit.sh and worker.sh.
bench_build_base() {
	bb_rev=$1 bb_dir=$2
	shift 2
	bb_progs=$*
	git -C "$SRC" rev-parse -q --verify "$bb_rev^{commit}" >/dev/null ||
		die "BENCH_BASE: no revision $bb_rev in $SRC"
	say "bench: building $bb_progs of $bb_rev in $bb_dir"
	mkdir -p "$bb_dir"
	git -C "$SRC" archive --format=tar "$bb_rev" | tar -x -C "$bb_dir" ||
		die "git archive $bb_rev of $SRC failed"
	eval "set -- $("$B/config.status" --config)"
	# shellcheck disable=SC2086
	(cd "$bb_dir" && ./autogen.sh && ./configure -q "$@" &&
		${MAKE:-make} -s -j"$(nproc)" $bb_progs) >"$bb_dir.log" 2>&1 ||
		{ tail -n 20 "$bb_dir.log" >&2; die "building $bb_progs of $bb_rev failed"; }
	for bb_p in $bb_progs; do
		[ -x "$bb_dir/$bb_p" ] || die "building $bb_rev left no $bb_dir/$bb_p"
	done
}

# bench_stop PID: SIGTERM, wait, and PID leaves PIDS.
bench_stop() {
	kill -TERM "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	PIDS=$(fs_pids_without "$PIDS" "$1")
}

# bench_echo_factfile: FF, a readable copy of the echo sample in $T/ff.
bench_echo_factfile() {
	FF=$T/ff/echo.factfile
	cp "$SRC/tests/data/samples/echo.factfile" "$FF" || die "no sample factfile"
	chmod 0644 "$FF"
}

# bench_exec_stamp: the measuring programs of the exec latency (bench/worker.sh's L and
# bench/schedlat.sh): FF, a one-task factfile in $T/ff (runner/factotum runs `true`; exec_stamp
# never reads it, and writes its stamps next to this path, not next to the spool's copy the
# worker gives it); STAMP, bench/exec_stamp compiled with that path, and CLIENT,
# bench/worker_client, both with $CC -O2 in $T/bin.
bench_exec_stamp() {
	FF=$T/ff/true.factfile
	mkdir -p "$T/bin"
	STAMP=$T/bin/exec_stamp
	CLIENT=$T/bin/worker_client
	"$CC" -O2 -DSTAMP_FACTFILE="\"$FF\"" -o "$STAMP" "$SRC/bench/exec_stamp.c" ||
		die "cannot compile bench/exec_stamp.c"
	"$CC" -O2 -o "$CLIENT" "$SRC/bench/worker_client.c" ||
		die "cannot compile bench/worker_client.c"
	cat >"$FF" <<'EOF'
{"schema": "iglu:com.snowplowanalytics.factotum/factfile/jsonschema/1-0-0",
 "data": {"name": "true", "tasks": [{"name": "t", "executor": "shell", "command": "true",
  "arguments": [], "dependsOn": [],
  "onResult": {"terminateJobWithSuccess": [], "continueJob": [0]}}]}}
EOF
	chmod 0644 "$FF"
	chmod 0755 "$T/ff"
	# started as root the worker and its runs are other users, and exec_stamp writes its
	# stamps here
	[ "$(id -u)" -ne 0 ] || chmod 1777 "$T/ff"
}

# bench_nginx: one nginx for the whole run in front of $SOCK, without per-client limits (the
# load comes from one address); sets URL and PORT.
bench_nginx() {
	FS_NGINX_LIMITS=$FS_NO_LIMITS fs_nginx_start "$T/nginx" "$SOCK" >&2 ||
		die "nginx did not start"
	NGINX_PID=$FS_NGINX_PID
	URL=$FS_URL
	PORT=${URL##*:}
}

# bench_backend LOG PROGRAM ARG...: a FastCGI program on $SOCK (its stderr to LOG), once it
# listens; its pid in BPID (and PIDS).
bench_backend() {
	blog=$1
	shift
	rm -f "$SOCK"
	"$@" 2>"$blog" &
	BPID=$!
	PIDS="$PIDS $BPID"
	fs_wait_sock "$BPID" "$SOCK" 200 || { cat "$blog" >&2; die "${1##*/} did not start"; }
}

# bench_fields KEY LINE: ok, other, secs, p50 and p99 of a load generator's
# "BENCH ok=N other=N seconds=S [p50_ms=X p99_ms=Y ...]" line; dies if LINE is not one.
bench_fields() {
	case $2 in
	BENCH\ *) ;;
	*) die "measurement $1 gave no result: $2" ;;
	esac
	ok=$(echo "$2" | sed -n 's/.* ok=\([0-9]*\).*/\1/p')
	other=$(echo "$2" | sed -n 's/.* other=\([0-9]*\).*/\1/p')
	secs=$(echo "$2" | sed -n 's/.* seconds=\([0-9.]*\).*/\1/p')
	p50=$(echo "$2" | sed -n 's/.* p50_ms=\([0-9.]*\).*/\1/p')
	p99=$(echo "$2" | sed -n 's/.* p99_ms=\([0-9.]*\).*/\1/p')
}

# bench_rate OK SECONDS: OK / SECONDS, rounded.
bench_rate() {
	awk -v o="$1" -v s="$2" 'BEGIN { printf "%.0f", (s > 0 ? o / s : 0) }'
}

# bench_check_queued KEY: every 200 of the last measurement (field 3 of the last line of
# $T/results) is a job the spool holds.
bench_check_queued() {
	n=$(tail -n 1 "$T/results" | cut -d' ' -f3)
	q=$(curl -s "$URL/status" | sed -n 's/.*"inQueue":\([0-9]*\).*/\1/p')
	if [ -z "$q" ] || [ "$q" -lt "$n" ]; then
		die "$1: $n answers 200 but only '${q}' jobs are queued"
	fi
}

# bench_first_submit WHAT: one /submit of $FF that must answer 200 before anything is timed.
bench_first_submit() {
	printf '{"jobName":"check","factfilePath":"%s","factfileArgs":["--tag","bench,check"]}' \
		"$FF" >"$T/check.json"
	code=$(curl -s -o "$T/check.out" -w '%{http_code}' --data-binary "@$T/check.json" \
		"$URL/submit")
	[ "$code" = 200 ] || { cat "$T/check.out" >&2; die "a first /submit$1 answered $code"; }
}

# bench_machine: "<kernel>, N cores, <CPU model>" for the report.
bench_machine() {
	echo "$(uname -srm), $(nproc) cores, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo |
		head -n 1)"
}

# The reports' awk programs start with this: median(a, n) of a[1..n] (sorts a); and, with the
# awk variables rounds, kw and lw (the widths of the key and label columns) set, rate_header(title)
# and rate_row(key, label), a line of rate[round, key] per round and their median.
BENCH_AWK='
function median(a, n,    i, j, t) {
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function rate_header(title,    r) {
	printf "%-" kw "s %-" lw "s", "", title
	for (r = 1; r <= rounds; r++) printf " %8s", "round " r
	printf " %8s\n", "median"
}
function rate_row(k, label,    r, v) {
	printf "%-" kw "s %-" lw "s", k, label
	for (r = 1; r <= rounds; r++) { v[r] = rate[r, k]; printf " %8.0f", v[r] }
	printf " %8.0f\n", median(v, rounds)
}'
