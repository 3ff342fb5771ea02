# SPDX-License-Identifier: Apache-2.0
# Shared by the runner's integration tests: $F (the runner), $S and $P (the sample factfiles and
# their POSIX-sh copies), a temporary directory $W that the test runs in (removed on exit), and
# checks of the output files the tests leave in $W. Source it with rl_name (the test's name) set.
: "${FS_BUILDDIR:?}" "${FS_TESTDATA:?}" "${rl_name:?}"
F=$FS_BUILDDIR/runner/factotum
S=$FS_TESTDATA/samples
P=$FS_TESTDATA/posix
W=$(mktemp -d "${TMPDIR:-/tmp}/$rl_name.XXXXXX")
trap 'rm -rf "$W"' EXIT
trap 'exit 1' INT TERM
cd "$W"

fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
# run_ff <expected exit> <args...>: runs the runner with stdout in $W/out, stderr in $W/err.
run_ff() {
	want=$1; shift
	set +e
	"$F" "$@" >"$W/out" 2>"$W/err"
	got=$?
	set -e
	[ "$got" -eq "$want" ] || { cat "$W/out" "$W/err" >&2; fail "factotum $* exited $got, expected $want"; }
}
# has <file> <line>: the whole line is in $W/<file>; lacks <file> <text>: the text is not.
has() { grep -Fqx -- "$2" "$W/$1" || { cat "$W/$1" >&2; fail "$1 lacks the line: $2"; }; }
lacks() { if grep -Fq -- "$2" "$W/$1"; then cat "$W/$1" >&2; fail "$1 has: $2"; fi; }
