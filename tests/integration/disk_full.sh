#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A full disk: the spool on a 40 MiB tmpfs mounted here (root only; 77 otherwise), the node with
# --min-free-space 16M. Below the floor /submit answers 507 and /health 503, both naming the
# filesystem, while the spool's 8 MiB reserve is still there; a task then fills the disk to the
# last byte, and the jobs already accepted -- one running beside it, two queued behind them --
# still reach DONE; once space is freed /health is ok again, the reserve is remade and new
# submits run.

DISK_SIZE=40m
. "$FS_SRCDIR/tests/integration/disk_lib.sh"
fs_need_nginx
FS_SPOOL=$DISK/spool
mkdir -p "$FS_SPOOL"

fs_start_responder "$FS_SOCK" --min-free-space 16M
# (--keep-run-dirs: the filler's file stays until the test removes it)
fs_start_worker --min-free-space 16M --max-workers 2 --keep-run-dirs
fs_start_nginx

RESERVE=$FS_SPOOL/reserve
[ "$(stat -c %s "$RESERVE" 2>/dev/null)" = $((8 * MIB)) ] ||
	fs_fail "no 8 MiB reserve in the spool after start"
fs_expect_get /health 200 '{"message":"ok","spool":"ok","worker":"ok","consul":"disabled"}'

# ---- below the floor: refused before the reserve is touched ----
# leave about 12 MiB free (the floor is 16)
fallocate -l $(($(avail_mib) - 12))M "$DISK/ballast" || fs_fail "fallocate"
sleep 1.1 # the responder asks the filesystem at most once a second
AVAIL=$(avail_mib)
LOW="the filesystem of '$FS_SPOOL' has $AVAIL MiB free, below --min-free-space (16 MiB)"
fs_factfile ok 'echo ok'
fs_expect_post /submit '{"jobName":"ok","factfilePath":"'"$FS_FF"'","factfileArgs":[]}' \
	507 '{"message":"Insufficient storage, cannot add job: '"$LOW"'"}'
fs_expect_get /health 503 \
	'{"message":"low on space: '"$LOW"'","spool":"low on space","worker":"ok","consul":"disabled"}'
[ -f "$RESERVE" ] || fs_fail "the reserve was given back before any write needed it"
rm -f "$DISK/ballast"
sleep 1.1
fs_expect_get /health 200 '{"message":"ok","spool":"ok","worker":"ok","consul":"disabled"}'

# ---- a task fills the disk; the work already accepted still finishes ----
# two runners: one sleeps through the fill, the filler starts filling once the two jobs queued
# behind them are accepted
fs_factfile sleeper 'sleep 4; echo slept'
fs_submit sleeper "$FS_FF"
SLEEPER=$FS_ID
fs_factfile filler 'sleep 2; dd if=/dev/zero of=fill bs=65536 2>/dev/null; true'
fs_submit filler "$FS_FF"
FILLER=$FS_ID
fs_factfile queued 'echo queued'
fs_submit queued "$FS_FF"
QUEUED=$FS_ID
fs_submit ok "$(dirname "$FS_FF")/ok.factfile"
LAST=$FS_ID
fs_wait_state "$FILLER" DONE 30
fs_wait_state "$SLEEPER" DONE 30 && fs_expect_outcome "$SLEEPER" SUCCEEDED 0 null null "sleeper"
fs_wait_state "$QUEUED" DONE 30 && fs_expect_outcome "$QUEUED" SUCCEEDED 0 null null "queued job"
fs_wait_state "$LAST" DONE 30 && fs_expect_outcome "$LAST" SUCCEEDED 0 null null "last job"
FULL=$(avail_mib)
[ "$FULL" -lt 16 ] || fs_fail "the filler left $FULL MiB free"
# the filler's outcome found the disk full: the reserve made the room the later runs used
[ ! -e "$RESERVE" ] || fs_fail "the reserve was never given back"
grep -q "the disk is full, the spool's reserve is given back" "$FS_TMP/worker.log" ||
	fs_fail "the worker did not say that it gave the reserve back"
sleep 1.1
fs_req GET /health
[ "$FS_STATUS" = 503 ] || fs_fail "/health on a full disk: $FS_STATUS $FS_BODY"
case $FS_BODY in
*"the filesystem of '$FS_SPOOL' has "*) ;;
*) fs_fail "/health does not name the full filesystem: $FS_BODY" ;;
esac

# ---- space returns ----
rm -f "$FS_SPOOL/runs/$FILLER/fill"
sleep 1.1
fs_expect_get /health 200 '{"message":"ok","spool":"ok","worker":"ok","consul":"disabled"}'
fs_run_task after 'echo after' SUCCEEDED
# the worker remakes the reserve on its next look at the spool
n=0
until [ "$(stat -c %s "$RESERVE" 2>/dev/null)" = $((8 * MIB)) ]; do
	n=$((n + 1))
	[ $n -lt 200 ] || { fs_fail "the reserve was not remade"; break; }
	sleep 0.05
done
fs_done
