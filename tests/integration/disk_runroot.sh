#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# --run-root on a filesystem of its own (a 24 MiB tmpfs mounted here; root only, 77 otherwise):
# runs are made there, with the treatment runs/ gets (0710, the run user's group) and the pool of
# spare inodes beside them; its free space counts for /submit and /health as the spool's does;
# and a worker whose run user could not reach the run root refuses to start.

DISK_SIZE=24m
. "$FS_SRCDIR/tests/integration/disk_lib.sh"
fs_need_nginx
ROOT=$DISK/runs

# ---- refused: the run user cannot reach it ----
mkdir -m 0700 "$FS_TMP/closed"
"$FS_WORKER" --no-consul --spool "$FS_SPOOL" --factotum-bin "$FS_RUNNER" $FS_AS_ROOT \
	--run-root "$FS_TMP/closed/runs" 2>"$FS_TMP/refused.log"
rc=$?
[ $rc -eq 2 ] || fs_fail "a run root the run user cannot reach: exit $rc"
EXPECTED="factotum-server-worker: --run-root: the run user factotum-run cannot reach '$FS_TMP/closed/runs': '$FS_TMP/closed' is not searchable by it"
[ "$(cat "$FS_TMP/refused.log")" = "$EXPECTED" ] ||
	fs_fail "refusal: expected '$EXPECTED', got '$(cat "$FS_TMP/refused.log")'"

# ---- runs on the run root ----
fs_start_responder "$FS_SOCK" --run-root "$ROOT" --min-free-space 8M
# (--keep-run-dirs: a run's directory is looked at after the run)
fs_start_worker --run-root "$ROOT" --min-free-space 8M --keep-run-dirs
fs_start_nginx

[ "$(stat -c '%a %G' "$ROOT")" = "710 $(id -gn factotum-run)" ] ||
	fs_fail "run root: $(stat -c '%a %U:%G' "$ROOT"), expected 0710 and the run user's group"
fs_run_task here 'touch here' SUCCEEDED
[ -f "$ROOT/$FS_ID/here" ] || fs_fail "the run did not work in $ROOT/$FS_ID"
[ ! -e "$FS_SPOOL/runs/$FS_ID" ] || fs_fail "a run directory was made in the spool"
[ -d "$ROOT/spare" ] || fs_fail "no pool of spares on the run root's filesystem"

# ---- the run root's free space counts ----
fallocate -l $(($(avail_mib) - 4))M "$DISK/ballast" || fs_fail "fallocate"
sleep 1.1 # the responder asks the filesystems at most once a second
AVAIL=$(avail_mib)
LOW="the filesystem of '$ROOT' has $AVAIL MiB free, below --min-free-space (8 MiB)"
fs_expect_post /submit '{"jobName":"here","factfilePath":"'"$FS_FF"'","factfileArgs":[]}' \
	507 '{"message":"Insufficient storage, cannot add job: '"$LOW"'"}'
fs_expect_get /health 503 \
	'{"message":"low on space: '"$LOW"'","spool":"low on space","worker":"ok","consul":"disabled"}'
rm -f "$DISK/ballast"
sleep 1.1
fs_run_task again 'true' SUCCEEDED
fs_done
