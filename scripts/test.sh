#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Sets up and runs the whole test suite: installs dependencies (as root), builds twice out of
# tree — a normal build and an AddressSanitizer+UBSan build — and runs `make check` in each.
#   usage: scripts/test.sh            (build directories: build/ and build-asan/)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

if [ "$(id -u)" -eq 0 ]; then
	sh scripts/install-deps.sh
else
	sh scripts/install-deps.sh || { echo "test.sh: run as root once to install dependencies" >&2; exit 1; }
fi

./autogen.sh >/dev/null 2>&1 || ./autogen.sh
jobs=$(nproc 2>/dev/null || echo 2)

run_suite() { # $1 = build dir, rest = configure arguments
	dir=$1; shift
	mkdir -p "$dir"
	(cd "$dir" && "$top/configure" -q "$@" && make -s -j"$jobs" && make -j"$jobs" check) || {
		for log in "$dir"/tests/*/*.log; do
			[ -f "$log" ] && grep -q '^:test-result: \(FAIL\|ERROR\)' "${log%.log}.trs" 2>/dev/null &&
				{ echo "---- $log"; tail -n 60 "$log"; }
		done
		return 1
	}
}

echo "== normal build"
run_suite "$top/build"
echo "== AddressSanitizer + UndefinedBehaviorSanitizer build"
run_suite "$top/build-asan" --enable-asan
echo "test.sh: all suites passed"
