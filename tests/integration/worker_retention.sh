# SPDX-License-Identifier: Apache-2.0
# Retention: with --retain-done the worker removes a finished job (its row, its transitions, its
# log and its run directory) once that long has passed since its last finish, and nothing else:
# not a job submitted again after DONE before its new finish is as old, not a QUEUED or WORKING
# job. /check then answers 404. With --retain-max-done only the newest N finished jobs stay, and
# without --keep-run-dirs a run's directory goes as soon as its outcome is recorded.
. "$FS_SRCDIR/tests/integration/worker_lib.sh"
fs_need_nginx

# gone ID WHAT: the job has left the spool entirely, and its files with it
gone() {
	fs_expect_get "/check?id=$1" 404 '{"message":"Error: No job entry found for id='"'$1'"'"}'
	[ "$(fs_sql "SELECT count(*) FROM jobs WHERE id = '$1'")" = 0 ] ||
		fs_fail "$2: its row is still in the spool"
	[ "$(fs_sql "SELECT count(*) FROM transitions WHERE job_id = '$1'")" = 0 ] ||
		fs_fail "$2: its transitions are still in the spool"
	[ ! -e "$FS_SPOOL/logs/$1.log" ] || fs_fail "$2: its log is still there"
	[ ! -e "$FS_SPOOL/runs/$1" ] || fs_fail "$2: its run directory is still there"
}
# kept ID STATE WHAT: the job is still there, in STATE, with its transitions
kept() {
	fs_check "$1"
	[ "$FS_STATE" = "$2" ] || fs_fail "$3: expected $2, got $FS_STATUS $FS_BODY"
}
# wait_gone ID SECONDS: until the job's row has been removed
wait_gone() {
	n=$(($2 * 20))
	while [ "$(fs_sql "SELECT count(*) FROM jobs WHERE id = '$1'")" != 0 ]; do
		n=$((n - 1))
		[ $n -gt 0 ] || { fs_fail "job $1 was never removed"; return 1; }
		sleep 0.05
	done
}
# since T: seconds (with a fraction) since the time T (date +%s.%N)
since() {
	echo "$(date +%s.%N) $1" | awk '{ printf "%.1f", $1 - $2 }'
}

fs_start_responder
fs_start_nginx
fs_start_worker --max-workers 2 --retain-done 4s --keep-run-dirs

fs_factfile quick "echo out-of-a-quick-run"
fs_factfile slow "sleep 12"
# the job submitted again, and one that is not
fs_submit again "$FS_TMP/ff/quick.factfile" '["--tag","again"]'
A=$FS_ID
fs_wait_state "$A" DONE 20
T0=$(date +%s.%N)
fs_submit once "$FS_TMP/ff/quick.factfile" '["--tag","once"]'
X=$FS_ID
fs_wait_state "$X" DONE 20
[ -s "$FS_SPOOL/logs/$X.log" ] || fs_fail "the finished job has no log"
[ -d "$FS_SPOOL/runs/$X" ] || fs_fail "--keep-run-dirs: the finished run's directory is gone"
sleep 3
fs_submit again "$FS_TMP/ff/quick.factfile" '["--tag","again"]'
[ "$FS_ID" = "$A" ] || fs_fail "the job submitted again has another id: $FS_ID"
fs_wait_state "$A" DONE 20
# two runs that outlast the retention, and a job queued behind them all along
fs_submit slow "$FS_TMP/ff/slow.factfile" '["--tag","1"]'
B=$FS_ID
fs_submit slow "$FS_TMP/ff/slow.factfile" '["--tag","2"]'
D=$FS_ID
fs_submit queued "$FS_TMP/ff/quick.factfile" '["--tag","queued"]'
C=$FS_ID
fs_wait_state "$B" WORKING 10
fs_wait_state "$D" WORKING 10

wait_gone "$X" 10
gone "$X" "a job finished more than --retain-done ago"
# its first finish is older than --retain-done, its last is not (the check is well before the
# second finish plus 4 s plus the second between two looks)
kept "$A" DONE "the job submitted again"
[ -s "$FS_SPOOL/logs/$A.log" ] || fs_fail "the job submitted again lost its log"
[ -d "$FS_SPOOL/runs/$A" ] || fs_fail "the job submitted again lost its run directory"
left=$(since "$T0")
awk "BEGIN { exit !($left < 6.5) }" || echo "note: the checks of the job submitted again came late ($left s)"
wait_gone "$A" 10
gone "$A" "the job submitted again, once its last finish was old enough"
# by now more than 4 s after they began and were queued
kept "$B" WORKING "a run longer than --retain-done"
kept "$D" WORKING "a run longer than --retain-done"
kept "$C" QUEUED "a job queued longer than --retain-done"

# --retain-max-done: only the newest N finished jobs stay, counted across restarts
fs_wait_state "$C" DONE 30
fs_stop_worker "$FS_WORKER_PID"
fs_start_worker --retain-max-done 2
# a run that leaves its directory hard to remove: one it cannot read, inside one it cannot enter
fs_factfile litter "mkdir -p sub/deep && echo x >sub/deep/f && chmod 0 sub/deep sub"
for t in e f g; do
	fs_submit "max-$t" "$FS_TMP/ff/litter.factfile" '["--tag","'"$t"'"]'
	eval "J_$t=\$FS_ID"
	fs_wait_state "$FS_ID" DONE 20
	# without --keep-run-dirs a settled run's directory is gone at once
	[ ! -e "$FS_SPOOL/runs/$FS_ID" ] || fs_fail "max-$t: the settled run's directory remains"
	[ -e "$FS_SPOOL/logs/$FS_ID.log" ] || fs_fail "max-$t: no log"
done
wait_gone "$J_e" 10
gone "$J_e" "the oldest of three with --retain-max-done 2"
n=0
while [ "$(fs_sql "SELECT group_concat(id) FROM (SELECT id FROM jobs ORDER BY id)")" != \
	"$(printf '%s\n%s\n' "$J_f" "$J_g" | sort | paste -sd,)" ]; do
	n=$((n + 1))
	[ $n -lt 200 ] || { fs_fail "--retain-max-done 2 kept: $(fs_sql 'SELECT id, state FROM jobs')"; break; }
	sleep 0.05
done
kept "$J_f" DONE "the second newest with --retain-max-done 2"
kept "$J_g" DONE "the newest with --retain-max-done 2"
[ "$(ls "$FS_SPOOL/logs" | sort | paste -sd,)" = "$(printf '%s.log\n%s.log\n' "$J_f" "$J_g" | sort | paste -sd,)" ] ||
	fs_fail "logs left: $(ls "$FS_SPOOL/logs")"

fs_done
