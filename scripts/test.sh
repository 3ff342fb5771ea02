#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Sets up and runs the whole test suite: installs dependencies (as root), builds three times out
# of tree — a normal build and an AddressSanitizer+UBSan build, each running `make check`, and a
# build with the fault-injection seam running the reliability tests' short forms
# (`make check-reliability`, tests/reliability/README); then, in the normal build, the Debian
# package from build to purge (`make check-packaging`, one to two minutes; skipped when not root).
#   usage: scripts/test.sh [--normal] [--as USER]
#     (build directories: build/, build-asan/ and build-fault/)
#     --normal   the normal build only
#     --as USER  as root: installs dependencies, then runs the suite as USER (created as a system
#                user if missing) in a copy of the tree that USER owns, under /tmp; the copy is
#                removed when every suite passed. Shows how the suite fares for an ordinary user:
#                tests that need root skip (77) there.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

usage() {
	echo "usage: scripts/test.sh [--normal] [--as USER]" >&2
	exit 2
}
normal_only= as_user=
while [ $# -gt 0 ]; do
	case $1 in
	--normal) normal_only=--normal ;;
	--as)
		[ $# -ge 2 ] && [ -n "$2" ] || usage
		as_user=$2
		shift
		;;
	*) usage ;;
	esac
	shift
done

if [ "$(id -u)" -eq 0 ]; then
	sh scripts/install-deps.sh
else
	[ -z "$as_user" ] || { echo "test.sh: --as needs root" >&2; exit 1; }
	sh scripts/install-deps.sh || { echo "test.sh: run as root once to install dependencies" >&2; exit 1; }
fi

if [ -n "$as_user" ]; then
	sh scripts/add-users.sh "$as_user"
	copy=$(mktemp -d /tmp/fs-test-as-"$as_user".XXXXXX)
	# the tree as it is (uncommitted changes included), without builds and generated files
	if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
		git -C "$top" ls-files -z --cached --others --exclude-standard |
			tar -C "$top" --null --ignore-failed-read -T - -cf -
	else
		tar -C "$top" --exclude=./build --exclude=./build-asan --exclude=./build-fault -cf - .
	fi | tar -C "$copy" -xf -
	chown -R "$as_user:" "$copy"
	echo "== as $as_user, in $copy"
	# the user's own groups and a plain environment: nothing of root's reaches the suite
	# shellcheck disable=SC2086
	env -i PATH="$PATH" HOME="$copy" LANG=C.UTF-8 USER="$as_user" LOGNAME="$as_user" \
		setpriv --reuid "$as_user" --regid "$(id -g "$as_user")" --init-groups \
		sh "$copy/scripts/test.sh" $normal_only || {
		echo "test.sh: the suite failed as $as_user; its logs are in $copy/build*/tests" >&2
		exit 1
	}
	rm -rf "$copy"
	exit 0
fi

./autogen.sh >/dev/null 2>&1 || ./autogen.sh
jobs=$(nproc 2>/dev/null || echo 2)

run_suite() { # $1 = build dir, $2 = make target, rest = configure arguments
	dir=$1 target=$2
	shift 2
	mkdir -p "$dir"
	(cd "$dir" && "$top/configure" -q "$@" && make -s -j"$jobs" && make -j"$jobs" "$target") || {
		for log in "$dir"/tests/*/*.log; do
			[ -f "$log" ] && grep -q '^:test-result: \(FAIL\|ERROR\)' "${log%.log}.trs" 2>/dev/null &&
				{ echo "---- $log"; tail -n 60 "$log"; }
		done
		return 1
	}
}

echo "== normal build"
run_suite "$top/build" check
if [ -z "$normal_only" ]; then
	echo "== AddressSanitizer + UndefinedBehaviorSanitizer build"
	run_suite "$top/build-asan" check --enable-asan
	echo "== fault-injection build: the reliability tests"
	run_suite "$top/build-fault" check-reliability --enable-fault-injection
	echo "== the Debian package from build to purge (tests/packaging/deb.sh, as root)"
	run_suite "$top/build" check-packaging
fi
echo "test.sh: all suites passed"
