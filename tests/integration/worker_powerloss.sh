# SPDX-License-Identifier: Apache-2.0
# A power loss between a run's go record and its claim reaching the disk (with --spool-sync full
# the claim's commit does not wait for the disk; the go record is fdatasync'd before the go
# byte). The machine's loss is played by killing every process of the run and putting the job's
# row and history back as they were before its claim, as a lost WAL tail leaves them, with the
# go record kept but its went mark (never flushed) gone and its boot no longer this one's, as
# after a reboot: the next worker takes the claim back for the run the record names and settles
# it FAILED worker-lost, never running it again. Go records of an earlier
# submission of a job (one with another seq, one with the same seq, as after retention) do not
# count: that job runs.
. "$FS_SRCDIR/tests/integration/worker_lib.sh"

HOLD=$FS_TMP/hold
# ran NAME: what the runs of job NAME wrote
ran() {
	cat "$FS_TMP/ran.$1" 2>/dev/null | tr '\n' ' '
}
# history ID: the job's transitions, oldest first
history() {
	fs_sql "SELECT group_concat(state, ' ') FROM (SELECT state FROM transitions WHERE job_id='$1' ORDER BY tid)"
}

fs_start_responder
fs_start_nginx
fs_start_worker --max-workers 2 --spool-sync full --log-level info

# O: runs once to its end; its run's values are kept for the records of an earlier submission
fs_factfile O "echo run >>$FS_TMP/ran.O"
fs_submit O "$FS_FF"
O=$FS_ID
OFF=$FS_FF
fs_wait_state "$O" DONE && fs_expect_outcome "$O" SUCCEEDED 0 null null "O's first run"
read -r oseq ocreated orun <<EOF_O
$(fs_sql "SELECT seq, created_ms, started_ms FROM jobs WHERE id='$O'" | tr '|' ' ')
EOF_O

# P: started, and held while the power goes
: >"$HOLD"
fs_factfile P "echo run >>$FS_TMP/ran.P; echo \$\$ >$FS_TMP/p.pid; while [ -e $HOLD ]; do sleep 0.05; done; echo end >>$FS_TMP/ran.P"
fs_submit P "$FS_FF"
P=$FS_ID
wait_file "$FS_TMP/p.pid"
read -r pseq pcreated prun <<EOF_P
$(fs_sql "SELECT seq, created_ms, started_ms FROM jobs WHERE id='$P'" | tr '|' ' ')
EOF_P
slot=$(grep -lx "id=$P" "$FS_SPOOL"/runs/go/* | head -n 1)
[ -n "$slot" ] || fs_fail "P has no go record: $(ls "$FS_SPOOL/runs/go")"
[ "$(sed -n 's/^run=//p; s/^seq=//p; s/^submitted=//p; s/^boot=//p; s/^went=//p' "$slot" | tr '\n' ' ')" = \
	"$prun $pseq $pcreated $(cat /proc/sys/kernel/random/boot_id) $prun " ] ||
	fs_fail "P's go slot: $(cat "$slot")"

# the power goes: the worker, P's supervisor, runner and task die; the pid file, never
# fsync'd, is gone; the claim's commit is lost
fs_stop_worker "$FS_WORKER_PID" KILL
kill_run "$P" "$FS_TMP/p.pid"
rm -f "$FS_SPOOL/runs/$P.pid" "$HOLD"
{
	sed -n '/^run=/p; /^id=/p; /^seq=/p; /^submitted=/p' "$slot"
	echo boot=00000000-0000-4000-8000-000000000000
} >"$FS_TMP/slot"
cat "$FS_TMP/slot" >"$slot"
fs_sql "UPDATE jobs SET state='QUEUED', outcome='WAITING', updated_ms=created_ms, started_ms=NULL, command=NULL, pid=NULL WHERE id='$P'; DELETE FROM transitions WHERE job_id='$P'"
fs_check "$P"
[ "$FS_STATE" = QUEUED ] || fs_fail "P after the loss: $FS_BODY"

# O submitted again, and two go records of its first submission: the first as it was, the
# second with the new submission's seq (a row removed by retention gives its seq back)
fs_submit O "$OFF"
nseq=$(fs_sql "SELECT seq FROM jobs WHERE id='$O'")
[ "$nseq" != "$oseq" ] || fs_fail "O's second submission kept its seq"
printf 'run=%s\nid=%s\nseq=%s\nsubmitted=%s\n' "$orun" "$O" "$oseq" "$ocreated" \
	>"$FS_SPOOL/runs/go/7"
printf 'run=%s\nid=%s\nseq=%s\nsubmitted=%s\n' "$orun" "$O" "$nseq" "$ocreated" \
	>"$FS_SPOOL/runs/go/8"

fs_start_worker --max-workers 2 --spool-sync full --log-level info
fs_wait_state "$P" DONE && fs_expect_outcome "$P" FAILED null null worker-lost "P after the loss"
fs_wait_state "$O" DONE && fs_expect_outcome "$O" SUCCEEDED 0 null null "O submitted again"
[ "$(ran P)" = "run " ] || fs_fail "P ran as: '$(ran P)'"
[ "$(ran O)" = "run run " ] || fs_fail "O ran as: '$(ran O)'"
[ "$(fs_sql "SELECT started_ms, seq FROM jobs WHERE id='$P'")" = "$prun|$pseq" ] ||
	fs_fail "P's run: $(fs_sql "SELECT started_ms, seq FROM jobs WHERE id='$P'")"
[ "$(history "$P")" = "QUEUED WORKING DONE" ] || fs_fail "history of P: $(history "$P")"
grep -q "job $P: its claim was lost after its go record was written" "$FS_TMP/worker.log" ||
	fs_fail "the worker did not say P's claim was taken back"
# only P's record counted
[ "$(grep -c "its claim was lost" "$FS_TMP/worker.log")" = 1 ] ||
	fs_fail "claims taken back: $(grep "its claim was lost" "$FS_TMP/worker.log")"

fs_stop_worker "$FS_WORKER_PID"
[ "$FS_WORKER_STATUS" = 0 ] || fs_fail "worker SIGTERM exit $FS_WORKER_STATUS"
fs_done
