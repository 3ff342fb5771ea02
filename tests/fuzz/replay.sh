# SPDX-License-Identifier: Apache-2.0
# Replays every fuzz target's seed corpus (tests/fuzz/corpus/<target>/, which must hold inputs)
# and every crash ever found (tests/fuzz/crashes/<target>/, kept as regressions) through the
# target's replay driver (tests/fuzz/replay.c, built by make check with the normal compiler).
# Fails when a driver fails or dies (a crash; a sanitizer report in an --enable-asan build).

set -u

: "${FS_SRCDIR:?run through make check}"
: "${FS_BUILDDIR:?run through make check}"

fails=0
for t in jobreq factfile factargs query consul; do
	drv=$FS_BUILDDIR/tests/fuzz/replay_$t
	corpus=$FS_SRCDIR/tests/fuzz/corpus/$t
	crashes=$FS_SRCDIR/tests/fuzz/crashes/$t
	if [ ! -x "$drv" ]; then
		echo "FAIL: no $drv (make check builds it)"
		fails=$((fails + 1))
		continue
	fi
	out=$("$drv" "$corpus" "$crashes" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	if [ "$rc" -ne 0 ]; then
		echo "FAIL: $t: the replay exited $rc"
		fails=$((fails + 1))
	elif printf '%s\n' "$out" | grep -q "^$corpus: 0 inputs$"; then
		echo "FAIL: $t: the seed corpus $corpus is empty"
		fails=$((fails + 1))
	fi
done
[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all passed"
