#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The dashboard (www/) end to end in headless Chromium: starts two nodes with the launcher (their
# nginx serving this tree's www/ at /ui/), one without Consul and one with a consul agent, and
# runs tests/browser/dashboard.test.mjs against them with playwright-core and axe-core from npm.
# Exit 77 (skipped) when Debian's chromium, node, npm or consul is missing, or the npm packages
# cannot be installed; scripts/install-deps.sh installs the first four. The packages go to a cache outside the tree (FS_BROWSER_CACHE, default
# ~/.cache/factotum-server/browser-test), installed again when package-lock.json changes.
# Screenshots of each page: $FS_BUILDDIR/tests/integration/dashboard_browser.shots/.

set -u

: "${FS_BUILDDIR:?run through make check}" "${FS_SRCDIR:?run through make check}"
. "$FS_SRCDIR/tests/integration/node_lib.sh"

CHROMIUM=${FS_CHROMIUM:-/usr/bin/chromium}
for t in "$CHROMIUM" node npm "$FS_CONSUL_BIN"; do
	command -v "$t" >/dev/null 2>&1 ||
		{ echo "SKIP: needs $t (scripts/install-deps.sh installs it)"; exit 77; }
done
fs_use_launcher

# The npm packages, pinned by package-lock.json; two test runs at once (two build trees) install
# one after the other, and the second finds the first's
cache=${FS_BROWSER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/factotum-server/browser-test}
lock=$FS_SRCDIR/tests/browser/package-lock.json
mkdir -p "$cache" || exit 77
exec 9>"$cache/.install-lock"
flock 9 || exit 77
if [ ! -d "$cache/node_modules" ] || ! cmp -s "$lock" "$cache/package-lock.json"; then
	cp "$FS_SRCDIR/tests/browser/package.json" "$lock" "$cache/" || exit 77
	if ! (cd "$cache" && npm ci --no-audit --no-fund --loglevel=error); then
		rm -f "$cache/package-lock.json" # so that the next run tries again
		echo "SKIP: npm ci of tests/browser/package.json failed (no registry?)"
		exit 77
	fi
fi
exec 9>&-

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fs-dashboard.XXXXXX") || exit 99
# as root nginx's workers run as www-data: they must reach the socket and the pages
[ "$(id -u)" -eq 0 ] && chmod 0711 "$tmp"
FS_TMP=$tmp # fs_consul_wait_leader's logs
pids=
cleanup() {
	for p in $pids; do kill -TERM "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
# the nodes' side of a failure
node_logs() {
	for f in "$tmp"/*.out "$tmp"/*.err "$tmp"/spool-*/nginx/error.log "$tmp"/consul-*.log; do
		[ -s "$f" ] && { echo "---- $f"; tail -n 30 "$f"; }
	done
}
trap cleanup EXIT
trap 'exit 99' INT TERM HUP

# the pages as make install lays them out, readable by nginx's user
cp -R "$FS_SRCDIR/www" "$tmp/www" && chmod -R a+rX "$tmp/www" || exit 99
mkdir "$tmp/ff" && cp "$FS_TESTDATA/samples/echo.factfile" "$FS_TESTDATA/samples/sleep.factfile" \
	"$tmp/ff/" && chmod 0755 "$tmp/ff" && chmod 0644 "$tmp/ff"/* || exit 99

# start_node NAME PORT OPTION...: a launcher's node on 127.0.0.1:PORT with spool $tmp/spool-NAME,
# once it prints its listening line
start_node() {
	_n=$1 _p=$2
	shift 2
	# shellcheck disable=SC2086 # FS_AS_ROOT is empty or one option
	FACTOTUM_SERVER_WWW=$tmp/www "$LAUNCHER" --spool "$tmp/spool-$_n" --ip 127.0.0.1 --port "$_p" \
		--factotum-bin "$RUNNER" $FS_AS_ROOT "$@" >"$tmp/$_n.out" 2>"$tmp/$_n.err" &
	pids="$! $pids"
	fs_until "$!" 400 grep -qs "listening on .*:$_p/" "$tmp/$_n.out" ||
		{ echo "FAIL: the launcher of $_n did not start"; node_logs; exit 1; }
}

set -- $(fs_free_ports 6)
# one node without Consul, the other in a Consul namespace of its own
fs_consul_server dash "$3" "$4" "$5" "$6" 1
pids="$FS_CONSUL_SRV_PID $pids"
fs_consul_wait_leader "http://127.0.0.1:$3" 60 "$FS_CONSUL_SRV_PID"
start_node single "$1" --no-consul
start_node cluster "$2" --consul-port "$3" --consul-namespace fs-test/dashboard --consul-name dash-node

out=$FS_BUILDDIR/tests/integration/dashboard_browser.shots
rm -rf "$out"
BASE_URL=http://127.0.0.1:$1 CLUSTER_URL=http://127.0.0.1:$2 FF_DIR=$tmp/ff OUT_DIR=$out \
	NODE_MODULES_DIR=$cache/node_modules CHROMIUM=$CHROMIUM node "$FS_SRCDIR/tests/browser/dashboard.test.mjs" && exit 0
node_logs
exit 1
