# SPDX-License-Identifier: Apache-2.0
# Integration tests with the programs under valgrind memcheck (POSIX sh): 0 errors and 0 bytes
# definitely lost, in every process of the responder, the worker (with its supervisors, which
# are forks of it) and the bundled runner.
#   short form (default): fcgi_endpoints and fcgi_hostile (the responder's routes and its hostile
#     requests), runner_run (the runner's behaviour), worker_leftovers (the worker, its
#     supervisors and the runner running jobs) and consul_worker (the responder's Consul claims
#     and the worker's state sync);
#   full form (FS_RELIABILITY=full): every integration test that runs these programs;
#   or the tests named as arguments (e.g. valgrind.sh worker_stop).
# Each test runs against a shadow of the build directory (FS_BUILDDIR) in which
# fcgi/factotum-server-fcgi, worker/factotum-server-worker and runner/factotum are scripts that
# exec the real programs under valgrind (--leak-check=full; leaks reported, not counted as
# errors), one log per process, <program>.<pid>.log; everything else links to the build. The
# tests' waits are FS_WAIT_FACTOR (10) times longer.
#
# Where valgrind does not implement pidfd_open(2) (3.19, Debian 12's), the worker cannot watch
# a supervisor under it: the worker then runs natively and the figure valgrind.worker is 0
# (the responder and the runner are still checked).
#
# Some tests cannot pass under valgrind whatever the code does: they find a runner by its name
# or command line in ps (worker_run; client_webhooks, which measures the runner's memory), or time a run against a product timeout (worker_stop) or a burst of
# Consul claims against Consul's (consul_submit: valgrind runs one thread at a time).
#
# Prints: figure: valgrind.tests N, valgrind.processes N, valgrind.unfinished N (logs without
# valgrind's summary: forks that exec'd a program outside valgrind, such as the runner's tasks,
# or processes killed by SIGKILL; the errors they reported are still counted), valgrind.worker
# 0|1, valgrind.errors N, valgrind.definitely_lost N (bytes).
# FS_VALGRIND_DIR: the working directory (logs, each test's output); by default a new temporary
# one, removed at the end when all passed. Given, it is kept, and a test with a result there is
# not run again (an interrupted full run resumes).

set -u

: "${FS_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${FS_BUILDDIR:?the build directory (make check sets it)}"
: "${FS_TESTDATA:=$FS_SRCDIR/tests/data}"
export FS_SRCDIR FS_TESTDATA
MODE=${FS_RELIABILITY:-short}
REAL=$(cd "$FS_BUILDDIR" && pwd)

command -v valgrind >/dev/null 2>&1 ||
	{ echo "SKIP: valgrind is not installed (scripts/install-deps.sh installs it)"; exit 77; }
if grep -q __asan_init "$REAL/fcgi/factotum-server-fcgi" 2>/dev/null; then
	echo "SKIP: an AddressSanitizer build: valgrind cannot run it"
	exit 77
fi
for p in fcgi/factotum-server-fcgi worker/factotum-server-worker runner/factotum; do
	[ -x "$REAL/$p" ] || { echo "FAIL: no $REAL/$p (make builds it)"; exit 99; }
done

if [ $# -gt 0 ]; then
	TESTS=$*
elif [ "$MODE" = full ]; then
	# all but the libraries and the tests that run no program of the build under test
	TESTS=
	for f in "$FS_SRCDIR"/tests/integration/*.sh; do
		t=${f##*/}
		t=${t%.sh}
		case $t in
		*lib | docs_check | format_check | debian_package | install) ;;
		*) TESTS="$TESTS $t" ;;
		esac
	done
else
	TESTS="fcgi_endpoints fcgi_hostile runner_run worker_leftovers consul_worker"
fi

if [ -n "${FS_VALGRIND_DIR:-}" ]; then
	WORK=$FS_VALGRIND_DIR
	mkdir -p "$WORK" || exit 99
	WORK=$(cd "$WORK" && pwd)
else
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/fs-valgrind.XXXXXX") || exit 99
	trap 'rm -rf "$WORK"' EXIT
fi
trap 'exit 99' INT TERM HUP
# the runner runs as the run user: it must reach its wrapper and write its log
chmod 0755 "$WORK"

# whether this valgrind lets the worker watch its supervisors
VG_WORKER=0
printf '%s\n' '#include <sys/syscall.h>' '#include <unistd.h>' \
	'int main(void) { return syscall(SYS_pidfd_open, getpid(), 0) < 0; }' >"$WORK/pidfd.c"
if ${CC:-cc} -o "$WORK/pidfd" "$WORK/pidfd.c" >/dev/null 2>&1 &&
	valgrind -q --tool=none "$WORK/pidfd" >/dev/null 2>&1; then
	VG_WORKER=1
else
	echo "$(valgrind --version) does not implement pidfd_open: the worker runs natively"
fi

# shadow DIR LOGS: the build directory's shadow in DIR, its wrappers logging into LOGS.
shadow() {
	rm -rf "$1"
	mkdir -p "$1" "$2" && chmod 1777 "$2" || exit 99
	for e in "$REAL"/* "$REAL"/.[!.]*; do
		[ -e "$e" ] && ln -s "$e" "$1/"
	done
	for p in fcgi/factotum-server-fcgi worker/factotum-server-worker runner/factotum; do
		[ "$p" != worker/factotum-server-worker ] || [ "$VG_WORKER" = 1 ] || continue
		d=${p%/*}
		if [ -L "$1/$d" ]; then
			rm "$1/$d"
			mkdir "$1/$d"
			for e in "$REAL/$d"/*; do
				ln -s "$e" "$1/$d/"
			done
		fi
		rm -f "$1/$p"
		# the responder knows the bundled runner by its user agent's name in the file: the
		# wrapper of runner/factotum names it too, since it runs that runner
		cat >"$1/$p" <<EOF_VG
#!/bin/sh
# $(strings "$REAL/$p" | grep -m 1 -o 'factotum-server-runner/')
exec valgrind --tool=memcheck --leak-check=full --errors-for-leak-kinds=none \\
	--log-file='$2/${p#*/}.%p.log' '$REAL/$p' "\$@"
EOF_VG
		chmod 0755 "$1/$p"
	done
	chmod -R go+rX "$1"
}

# tally LOGS: "processes unfinished errors lost" over the logs of one test.
tally() {
	procs=0 unfinished=0 errors=0 lost=0
	for log in "$1"/*.log; do
		[ -f "$log" ] || continue
		procs=$((procs + 1))
		n=$(sed -n 's/^==[0-9]*== ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$log" | tail -n 1)
		if [ -z "$n" ]; then
			unfinished=$((unfinished + 1))
			# the error reports printed before the process was killed
			n=$(grep -c -E '^==[0-9]+== (Invalid |Conditional jump|Use of uninitialised|Syscall param|Mismatched free|Source and destination overlap|Argument .* of function)' "$log")
		fi
		errors=$((errors + n))
		b=$(sed -n 's/^==[0-9]*== *definitely lost: \([0-9,]*\) bytes.*/\1/p' "$log" | tr -d , | tail -n 1)
		lost=$((lost + ${b:-0}))
	done
	echo "$procs $unfinished $errors $lost"
}

fails=0
mkdir -p "$WORK/results"
for t in $TESTS; do
	res=$WORK/results/$t
	if [ -s "$res" ]; then
		echo "$t: done before"
		continue
	fi
	script=$FS_SRCDIR/tests/integration/$t.sh
	[ -f "$script" ] || { echo "FAIL: no test $script"; fails=$((fails + 1)); continue; }
	logs=$WORK/logs/$t
	shadow "$WORK/build-$t" "$logs"
	start=$(date +%s)
	FS_BUILDDIR=$WORK/build-$t FS_WAIT_FACTOR=${FS_WAIT_FACTOR:-10} \
		sh "$script" >"$WORK/$t.out" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	rm -rf "$WORK/build-$t"
	# shellcheck disable=SC2046 # four numbers
	set -- $(tally "$logs")
	echo "$rc $1 $2 $3 $4" >"$res"
	echo "$t: exit $rc in ${secs}s; $1 processes ($2 unfinished), $3 errors, $4 bytes definitely lost"
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
		echo "FAIL: $t exited $rc under valgrind; the end of its output:"
		tail -n 30 "$WORK/$t.out"
		fails=$((fails + 1))
	fi
	if [ "$3" -ne 0 ] || [ "$4" -ne 0 ]; then
		echo "FAIL: $t: valgrind found errors or leaks:"
		grep -l -E 'ERROR SUMMARY: [1-9]|definitely lost: [1-9]' "$logs"/*.log | head -n 3 |
			while read -r log; do
				echo "---- $log"
				head -n 80 "$log"
			done
		fails=$((fails + 1))
	fi
done

tests=0 procs=0 unfinished=0 errors=0 lost=0
for res in "$WORK"/results/*; do
	[ -f "$res" ] || continue
	read -r rc p u e l <"$res"
	tests=$((tests + 1)) procs=$((procs + p)) unfinished=$((unfinished + u))
	errors=$((errors + e)) lost=$((lost + l))
done
echo "figure: valgrind.tests $tests"
echo "figure: valgrind.processes $procs"
echo "figure: valgrind.unfinished $unfinished"
echo "figure: valgrind.worker $VG_WORKER"
echo "figure: valgrind.errors $errors"
echo "figure: valgrind.definitely_lost $lost"
if [ "$fails" -ne 0 ]; then
	echo "$fails failure(s); logs in $WORK"
	trap - EXIT
	exit 1
fi
echo "all passed"
