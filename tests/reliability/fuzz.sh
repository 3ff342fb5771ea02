# SPDX-License-Identifier: Apache-2.0
# The fuzz targets (tests/fuzz/fuzz_*.c) under libFuzzer with AddressSanitizer (leaks detected)
# and UndefinedBehaviorSanitizer (POSIX sh). Builds them with ./configure --enable-fuzzing
# CC=clang in a build directory of its own, then runs each in turn on a working copy of its seed
# corpus (tests/fuzz/corpus/<target>/) and of every crash kept (tests/fuzz/crashes/<target>/):
#   short form (default): FS_FUZZ_SECONDS (20) seconds per target;
#   full form (FS_RELIABILITY=full): FS_FUZZ_RUNS (10000000) executions per target.
# Any crash, leak, timeout (FS_FUZZ_TIMEOUT s, default 60, for one input), out-of-memory or
# sanitizer report is copied into tests/fuzz/crashes/<target>/ of the source tree, where the
# replay test (tests/fuzz/replay.sh, make check) keeps running it, and fails the script.
#
# Prints per target: figure: fuzz.<target>.execs N, fuzz.<target>.execs_per_s N,
# fuzz.<target>.crashes N.
# FS_FUZZ_DIR: the working directory (build/, corpus/, artifacts/, logs); by default a new
# temporary one, removed at the end. Given, it is kept: a second run reuses the build and the
# grown corpora, and in the full form skips the targets already done (their figures are printed
# again from full.done/), so that an interrupted full run resumes where it stopped.
# FS_FUZZ_TARGETS: the targets to run (default: all five).
# Exits 77 (skipped) when clang cannot build a libFuzzer program.

set -u

: "${FS_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
TARGETS=${FS_FUZZ_TARGETS:-jobreq factfile factargs query consul}
MODE=${FS_RELIABILITY:-short}
SECONDS_PER=${FS_FUZZ_SECONDS:-20}
RUNS=${FS_FUZZ_RUNS:-10000000}
TIMEOUT=${FS_FUZZ_TIMEOUT:-60}
MAKE=${MAKE:-make}

if ! command -v clang >/dev/null 2>&1 ||
	! printf 'int LLVMFuzzerTestOneInput(const char *d, long n) { return 0; }\n' |
	clang -x c -fsanitize=fuzzer,address,undefined -o /dev/null - >/dev/null 2>&1; then
	echo "SKIP: clang with libFuzzer is not installed (scripts/install-deps.sh installs it)"
	exit 77
fi
[ -x "$FS_SRCDIR/configure" ] || { echo "FAIL: no $FS_SRCDIR/configure (run ./autogen.sh)"; exit 99; }

if [ -n "${FS_FUZZ_DIR:-}" ]; then
	WORK=$FS_FUZZ_DIR
	mkdir -p "$WORK" || exit 99
else
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/fs-fuzz.XXXXXX") || exit 99
	trap 'rm -rf "$WORK"' EXIT
fi
trap 'exit 99' INT TERM HUP
WORK=$(cd "$WORK" && pwd)

# ---- the build: only the library and the targets, not the whole tree ----
# a make check's flags (TESTS=..., its jobserver) are not this build's
unset MAKEFLAGS MFLAGS MAKELEVEL
mkdir -p "$WORK/build"
if [ ! -f "$WORK/build/Makefile" ]; then
	(cd "$WORK/build" && "$FS_SRCDIR/configure" -q --enable-fuzzing CC=clang) \
		>"$WORK/build.log" 2>&1 || { echo "FAIL: configure:"; tail -n 30 "$WORK/build.log"; exit 99; }
fi
bins=
for t in $TARGETS; do
	bins="$bins tests/fuzz/fuzz_$t"
done
# shellcheck disable=SC2086 # a list of targets
(cd "$WORK/build" && $MAKE -s -j2 $bins) >>"$WORK/build.log" 2>&1 ||
	{ echo "FAIL: build:"; tail -n 30 "$WORK/build.log"; exit 99; }

# UBSan's reports end the run as a crash (the fuzzing build lets them recover otherwise)
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
ASAN_OPTIONS=detect_leaks=1
export UBSAN_OPTIONS ASAN_OPTIONS

fails=0
for t in $TARGETS; do
	done_file=$WORK/full.done/$t
	if [ "$MODE" = full ] && [ -s "$done_file" ]; then
		cat "$done_file"
		continue
	fi
	corpus=$WORK/corpus/$t
	art=$WORK/artifacts/$t
	log=$WORK/$t.log
	mkdir -p "$corpus" "$art"
	# the seeds and the kept crashes start every run (a copy: libFuzzer adds to its corpus)
	for f in "$FS_SRCDIR/tests/fuzz/corpus/$t"/* "$FS_SRCDIR/tests/fuzz/crashes/$t"/*; do
		[ -f "$f" ] && cp "$f" "$corpus/"
	done
	if [ "$MODE" = full ]; then
		limit=-runs=$RUNS
	else
		limit=-max_total_time=$SECONDS_PER
	fi
	"$WORK/build/tests/fuzz/fuzz_$t" "$limit" -timeout="$TIMEOUT" -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$art/" "$corpus" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	found=0
	for f in "$art"/*; do
		[ -f "$f" ] || continue
		found=$((found + 1))
		mkdir -p "$FS_SRCDIR/tests/fuzz/crashes/$t"
		cp "$f" "$FS_SRCDIR/tests/fuzz/crashes/$t/"
		echo "FAIL: $t: $(basename "$f") kept in tests/fuzz/crashes/$t/"
	done
	figures="figure: fuzz.$t.execs ${execs:-0}
figure: fuzz.$t.execs_per_s ${rate:-0}
figure: fuzz.$t.crashes $found"
	printf '%s\n' "$figures"
	if [ "$rc" -ne 0 ] || [ "$found" -ne 0 ] || [ -z "$execs" ]; then
		echo "FAIL: $t: libFuzzer exited $rc; from $log:"
		if grep -q 'ERROR: \|runtime error' "$log"; then
			sed -n '/ERROR: \|runtime error/,$p' "$log" | head -n 40
		else
			tail -n 40 "$log"
		fi
		fails=$((fails + 1))
		rm -f "$art"/*
		continue
	fi
	if [ "$MODE" = full ]; then
		if [ "$execs" -lt "$RUNS" ]; then
			echo "FAIL: $t: $execs executions, fewer than $RUNS"
			fails=$((fails + 1))
			continue
		fi
		mkdir -p "$WORK/full.done"
		printf '%s\n' "$figures" >"$done_file"
	fi
done
[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all passed"
