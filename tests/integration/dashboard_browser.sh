#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The dashboard (www/) end to end in headless Chromium: starts a node with the launcher (its
# nginx serving this tree's www/ at /ui/) and runs tests/browser/dashboard.test.mjs against it
# with playwright-core and axe-core from npm. Exit 77 (skipped) when Debian's chromium, node or
# npm is missing, or the npm packages cannot be installed; scripts/install-deps.sh installs the
# first three. The packages go to a cache outside the tree (FS_BROWSER_CACHE, default
# ~/.cache/factotum-server/browser-test), installed again when package-lock.json changes.
# Screenshots of each page: $FS_BUILDDIR/tests/integration/dashboard_browser.shots/.

set -u

: "${FS_BUILDDIR:?run through make check}" "${FS_SRCDIR:?run through make check}"
. "$FS_SRCDIR/tests/integration/node_lib.sh"

CHROMIUM=${FS_CHROMIUM:-/usr/bin/chromium}
for t in "$CHROMIUM" node npm; do
	command -v "$t" >/dev/null 2>&1 ||
		{ echo "SKIP: needs $t (scripts/install-deps.sh installs it)"; exit 77; }
done
fs_use_launcher

# The npm packages, pinned by package-lock.json
cache=${FS_BROWSER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/factotum-server/browser-test}
lock=$FS_SRCDIR/tests/browser/package-lock.json
if [ ! -d "$cache/node_modules" ] || ! cmp -s "$lock" "$cache/package-lock.json"; then
	mkdir -p "$cache" || exit 77
	cp "$FS_SRCDIR/tests/browser/package.json" "$lock" "$cache/" || exit 77
	if ! (cd "$cache" && npm ci --no-audit --no-fund --loglevel=error); then
		rm -f "$cache/package-lock.json" # so that the next run tries again
		echo "SKIP: npm ci of tests/browser/package.json failed (no registry?)"
		exit 77
	fi
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fs-dashboard.XXXXXX") || exit 99
# as root nginx's workers run as www-data: they must reach the socket and the pages
[ "$(id -u)" -eq 0 ] && chmod 0711 "$tmp"
lpid=
cleanup() {
	[ -n "$lpid" ] && kill -TERM "$lpid" 2>/dev/null && wait "$lpid" 2>/dev/null
	rm -rf "$tmp"
}
# the node's side of a failure
node_logs() {
	for f in "$tmp/out" "$tmp/err" "$tmp/spool/nginx/error.log"; do
		[ -s "$f" ] && { echo "---- $f"; tail -n 30 "$f"; }
	done
}
trap cleanup EXIT
trap 'exit 99' INT TERM HUP

# the pages as make install lays them out, readable by nginx's user
cp -R "$FS_SRCDIR/www" "$tmp/www" && chmod -R a+rX "$tmp/www" || exit 99
mkdir "$tmp/ff" && cp "$FS_TESTDATA/samples/echo.factfile" "$FS_TESTDATA/samples/sleep.factfile" \
	"$tmp/ff/" && chmod 0755 "$tmp/ff" && chmod 0644 "$tmp/ff"/* || exit 99

port=$(fs_free_ports 1)
# shellcheck disable=SC2086 # FS_AS_ROOT is empty or one option
FACTOTUM_SERVER_WWW=$tmp/www "$LAUNCHER" --no-consul --spool "$tmp/spool" --ip 127.0.0.1 \
	--port "$port" --factotum-bin "$RUNNER" $FS_AS_ROOT >"$tmp/out" 2>"$tmp/err" &
lpid=$!
fs_until "$lpid" 400 grep -q "listening on .*:$port/" "$tmp/out" ||
	{ echo "FAIL: the launcher did not start"; node_logs; exit 1; }

out=$FS_BUILDDIR/tests/integration/dashboard_browser.shots
rm -rf "$out"
BASE_URL=http://127.0.0.1:$port FF_DIR=$tmp/ff OUT_DIR=$out NODE_MODULES_DIR=$cache/node_modules \
	CHROMIUM=$CHROMIUM node "$FS_SRCDIR/tests/browser/dashboard.test.mjs" && exit 0
node_logs
exit 1
