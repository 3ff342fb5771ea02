# SPDX-License-Identifier: Apache-2.0
# --run-max-processes and --run-max-open-files (and --run-max-memory: worker_limit_memory.sh): a
# task within both succeeds and sees them as its limits; a task that goes past either fails. The
# run user is one of the test's own (RLIMIT_NPROC counts every process of a user, so other runs
# must not share it; it is not enforced for root at all). Not as root, the runs keep the worker's
# own user, whose other processes (this suite's) count against RLIMIT_NPROC: only the open files
# limit is checked there.
. "$FS_SRCDIR/tests/integration/worker_lib.sh"
fs_need_nginx

fs_start_responder
fs_start_nginx
if [ "$(id -u)" -eq 0 ]; then
	fs_ensure_user fs-test-run || { echo "FAIL: cannot create the user fs-test-run"; exit 99; }
	fs_start_worker --max-workers 1 --run-as fs-test-run --run-max-processes 12 \
		--run-max-open-files 64
	limits='processes|open files' expect='12 12 64 64 '
else
	fs_start_worker --max-workers 1 --run-max-open-files 64
	limits='open files' expect='64 64 '
fi

# the tasks' programs, as files (no quoting inside the factfile's JSON)
cat >"$FS_TMP/within.sh" <<END_WITHIN
grep -E '^Max ($limits) ' /proc/self/limits
python3 -c 'import os; fds = [os.open("/dev/null", 0) for _ in range(20)]' &&
	for i in 1 2 3; do sleep 0.1 & done && wait
END_WITHIN
printf '%s\n' 'import os' 'fds = [os.open("/dev/null", 0) for _ in range(100)]' >"$FS_TMP/files.py"
chmod 0644 "$FS_TMP/within.sh" "$FS_TMP/files.py"

fs_run_task within "sh $FS_TMP/within.sh >$FS_TMP/limits.out" SUCCEEDED
# soft and hard limits both set
[ "$(awk '{ print $(NF - 2), $(NF - 1) }' "$FS_TMP/limits.out" | tr '\n' ' ')" = "$expect" ] ||
	fs_fail "the task's limits: $(cat "$FS_TMP/limits.out")"
[ "$(id -u)" -ne 0 ] ||
	fs_run_task processes "i=0; while [ \$i -lt 30 ]; do sleep 5 & i=\$((i + 1)); done; wait" FAILED
fs_run_task files "python3 $FS_TMP/files.py" FAILED

fs_done
