# SPDX-License-Identifier: Apache-2.0
# --run-max-memory: a task within the limit succeeds and sees it as its RLIMIT_AS; a task that
# allocates past it fails. As root the runs are factotum-run; as anyone else, the worker's own
# user (an rlimit needs no privilege to lower). Skipped (77) where the runner is built with
# AddressSanitizer, whose shadow memory cannot be mapped under any RLIMIT_AS.
if grep -qa __asan_init "${FS_BUILDDIR:?}/runner/factotum"; then
	echo "SKIP: the runner is built with AddressSanitizer (it cannot start under RLIMIT_AS)"
	exit 77
fi
. "$FS_SRCDIR/tests/integration/worker_lib.sh"
fs_need_nginx

fs_start_responder
fs_start_nginx
fs_start_worker --run-max-memory 256M

cat >"$FS_TMP/within.sh" <<'END_WITHIN'
grep -E '^Max address space ' /proc/self/limits
python3 -c 'b = bytearray(16 << 20)'
END_WITHIN
printf '%s\n' 'b = bytearray(512 << 20)' >"$FS_TMP/memory.py"
chmod 0644 "$FS_TMP/within.sh" "$FS_TMP/memory.py"

fs_run_task within "sh $FS_TMP/within.sh >$FS_TMP/limit.out" SUCCEEDED
# soft and hard limits both set, in bytes
[ "$(awk '{ print $(NF - 2), $(NF - 1) }' "$FS_TMP/limit.out")" = "268435456 268435456" ] ||
	fs_fail "the task's limit: $(cat "$FS_TMP/limit.out")"
fs_run_task memory "python3 $FS_TMP/memory.py" FAILED

fs_done
