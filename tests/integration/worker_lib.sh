# SPDX-License-Identifier: Apache-2.0
# What the worker's integration tests share, on top of lib.sh: the bundled runner, a short grace
# period between a stop's SIGTERM and its SIGKILL (so that tests of stops end quickly), and
# wait_file. Sourced, never run.
. "$FS_SRCDIR/tests/integration/lib.sh"

FS_RUNNER=$FS_BUILDDIR/runner/factotum
FACTOTUM_SERVER_KILL_GRACE_MS=500
export FACTOTUM_SERVER_KILL_GRACE_MS

# wait_file PATH: up to 10 s for PATH to exist and be non-empty.
wait_file() {
	n=0
	until [ -s "$1" ]; do
		n=$((n + 1))
		[ $n -lt 200 ] || { fs_fail "$1 never appeared"; return 1; }
		sleep 0.05
	done
}
