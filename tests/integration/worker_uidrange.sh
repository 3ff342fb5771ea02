# SPDX-License-Identifier: Apache-2.0
# --run-uid-range: running jobs each have their own uid from the range (with the run user's
# group), own their directories, and cannot write each other's; a range smaller than
# --max-workers is refused (exit 2). Skipped (77) unless root.
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (runs switch users)"; exit 77; }
. "$FS_SRCDIR/tests/integration/worker_lib.sh"
fs_need_nginx

FIRST=2000000100
LAST=2000000102

out=$(timeout 10 "$FS_WORKER" --no-consul --spool "$FS_TMP/refused" --factotum-bin "$FS_RUNNER" \
	--max-workers 4 --run-uid-range "$FIRST-$LAST" 2>&1)
rc=$?
[ "$rc" -eq 2 ] && [ "$out" = "factotum-server-worker: --run-uid-range: 3 uids for --max-workers 4: every run needs its own" ] ||
	fs_fail "a range too small: exit $rc, '$out'"

fs_start_responder
fs_start_nginx
# (--keep-run-dirs: B's directory is looked at after its run)
fs_start_worker --max-workers 3 --run-uid-range "$FIRST-$LAST" --keep-run-dirs

# B waits in its directory; A, meanwhile, tries to write B's (named: runs/ is not listable)
fs_factfile B "id -u >$FS_TMP/b.id; id -g >>$FS_TMP/b.id; echo x >$FS_TMP/b.ready; sleep 2"
fs_submit B "$FS_FF"
B=$FS_ID
cat >"$FS_TMP/intrude.sh" <<END_INTRUDE
until [ -e $FS_TMP/b.ready ]; do sleep 0.05; done
for d in $FS_SPOOL/runs/$B/; do
	echo "try \$d"
	(: >"\${d}intruder") 2>/dev/null && echo "WROTE \$d"
done
id -u >$FS_TMP/a.id
END_INTRUDE
chmod 0644 "$FS_TMP/intrude.sh"
fs_factfile A "sh $FS_TMP/intrude.sh >$FS_TMP/a.out 2>&1"
fs_submit A "$FS_FF"
A=$FS_ID
fs_wait_state "$A" DONE && fs_expect_outcome "$A" SUCCEEDED 0 null null "the intruding task"
fs_wait_state "$B" DONE && fs_expect_outcome "$B" SUCCEEDED 0 null null "the waiting task"

b_uid=$(sed -n 1p "$FS_TMP/b.id")
a_uid=$(cat "$FS_TMP/a.id")
[ "$b_uid" = "$FIRST" ] || fs_fail "the first run's uid: $b_uid, expected $FIRST"
[ "$a_uid" = $((FIRST + 1)) ] || fs_fail "the second run's uid: $a_uid, expected $((FIRST + 1))"
[ "$(sed -n 2p "$FS_TMP/b.id")" = "$(id -g factotum-run)" ] ||
	fs_fail "the run's group: $(sed -n 2p "$FS_TMP/b.id")"
[ "$(stat -c %u "$FS_SPOOL/runs/$B")" = "$b_uid" ] || fs_fail "B's directory is not B's"
grep -q "^try $FS_SPOOL/runs/$B/\$" "$FS_TMP/a.out" ||
	fs_fail "A did not try B's directory: $(cat "$FS_TMP/a.out")"
! grep WROTE "$FS_TMP/a.out" || fs_fail "a run wrote another run's directory"

# both settled: their uids are free again, the next run takes the first
fs_factfile C "id -u >$FS_TMP/c.id"
fs_submit C "$FS_FF"
fs_wait_state "$FS_ID" DONE && fs_expect_outcome "$FS_ID" SUCCEEDED 0 null null "a later run"
[ "$(cat "$FS_TMP/c.id")" = "$FIRST" ] || fs_fail "the later run's uid: $(cat "$FS_TMP/c.id")"

fs_done
