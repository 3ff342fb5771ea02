#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The file that runs is the file /submit validated: jobs are submitted while no worker runs,
# then one factfile is rewritten in place and a symlink naming another is pointed elsewhere;
# once the worker starts, each job's task writes the marker of the validated version. /check
# keeps factfilePath as sent, nobody authenticated gives no submittedBy, the runner was
# given the spool's copy (the recorded command), and the copies are gone once the jobs are done
# (leftovers of a crashed worker once the next one starts).
. "$FS_SRCDIR/tests/integration/worker_lib.sh"
fs_need_nginx

MARKS=$FS_TMP/marks
mkdir -p "$MARKS"
chmod 1777 "$MARKS"

fs_start_responder
fs_start_nginx

# rewritten in place after /submit
fs_factfile edited "echo validated > $MARKS/edited"
EDITED=$FS_FF
fs_submit edited "$EDITED"
ID_EDITED=$FS_ID
fs_factfile edited "echo edited > $MARKS/edited"

# a symlink pointed at another file after /submit
fs_factfile first "echo validated > $MARKS/link"
fs_factfile second "echo swapped > $MARKS/link"
LINK=$FS_TMP/ff/link.factfile
ln -s "$FS_TMP/ff/first.factfile" "$LINK"
fs_submit link "$LINK"
ID_LINK=$FS_ID
ln -sfn "$FS_TMP/ff/second.factfile" "$LINK"

fs_check "$ID_LINK"
printf '%s' "$FS_BODY" | grep -qF '"factfilePath":"'"$LINK"'"' ||
	fs_fail "/check of a queued job: factfilePath not as sent: $FS_BODY"
printf '%s' "$FS_BODY" | grep -q '"submittedBy"' &&
	fs_fail "/check without authentication: a submittedBy: $FS_BODY"

# copies a crashed worker left (one of a hash no job runs, one half written) go at its start
mkdir -p "$FS_SPOOL/factfiles"
: >"$FS_SPOOL/factfiles/$(printf '%064d' 0)"
: >"$FS_SPOOL/factfiles/$(printf '%064d' 0).123.tmp"
fs_start_worker
for job in "edited $ID_EDITED" "link $ID_LINK"; do
	set -- $job
	fs_wait_state "$2" DONE || continue
	fs_expect_outcome "$2" SUCCEEDED 0 null null "job $1"
	printf '%s' "$FS_BODY" | grep -qF '"factfilePath":"'"$FS_TMP/ff/$1.factfile"'"' ||
		fs_fail "/check of job $1 after its run: factfilePath not as sent: $FS_BODY"
	mark=$(cat "$MARKS/$1" 2>/dev/null)
	[ "$mark" = validated ] || fs_fail "job $1 ran '$mark', not the validated factfile"
	cmd=$(fs_sql "SELECT command FROM jobs WHERE id = '$2'")
	case $cmd in
	*'"run","'"$FS_SPOOL"'/factfiles/'[0-9a-f]*) ;;
	*) fs_fail "job $1: the runner was not given the spool's copy: $cmd" ;;
	esac
done
# the bytes stay in the spool with their jobs; the runs' copies only while a job runs
[ "$(fs_sql 'SELECT count(*) FROM factfiles')" = 2 ] ||
	fs_fail "the spool does not keep the two validated factfiles"
left=$(ls -A "$FS_SPOOL/factfiles")
[ -z "$left" ] || fs_fail "copies left after the runs: $left"
if [ "$(id -u)" -eq 0 ]; then
	perm=$(stat -c '%a %G' "$FS_SPOOL/factfiles")
	[ "$perm" = "710 factotum-run" ] || fs_fail "factfiles/ is '$perm', not '710 factotum-run'"
fi

fs_done
