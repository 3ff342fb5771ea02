#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Log lines on the journal: started with JOURNAL_STREAM naming their stderr (the device and
# inode of the file it goes to, as systemd sets it for the journal's stream), the responder and
# the worker write every line with its sd-daemon(3) priority and no timestamp -- info <6>, a
# failure at start <3> -- and with JOURNAL_STREAM naming another file, the usual timestamped
# lines.
. "$FS_SRCDIR/tests/integration/lib.sh"

# stream FILE: FILE's "<device>:<inode>", created empty.
stream() {
	: >"$1"
	stat -c '%d:%i' "$1"
}

# only_journal FILE PROGRAM PID: every line of FILE is PROGRAM[PID]'s on the journal.
only_journal() {
	bad=$(grep -v "^<[3-7]>$2\[$3\]: \(error\|warn\|info\|debug\|trace\|audit\): " "$1")
	[ -z "$bad" ] || fs_fail "$2: lines not in the journal's form: $bad"
}

# has FILE LINE: FILE holds LINE, whole.
has() {
	grep -qxF "$2" "$1" || fs_fail "no line '$2' in $(basename "$1"): $(cat "$1")"
}

JOURNAL_STREAM=$(stream "$FS_TMP/responder.log")
export JOURNAL_STREAM
fs_start_responder "$FS_SOCK" --log-level info
fs_stop_responder "$FS_RESP_PID"
only_journal "$FS_TMP/responder.log" factotum-server-fcgi "$FS_RESP_PID"
has "$FS_TMP/responder.log" "<6>factotum-server-fcgi[$FS_RESP_PID]: info: listening with 8 threads"
has "$FS_TMP/responder.log" \
	"<6>factotum-server-fcgi[$FS_RESP_PID]: info: signal 15: finishing requests in flight"

JOURNAL_STREAM=$(stream "$FS_TMP/worker.log")
fs_start_worker --log-level info
pid=$FS_WORKER_PID
only_journal "$FS_TMP/worker.log" factotum-server-worker "$pid"
# (the line follows the worker's socket, which fs_start_worker waits for)
line="<6>factotum-server-worker[$pid]: info: started on $FS_SPOOL (max-workers 20)"
fs_until "$pid" 100 grep -qxF "$line" "$FS_TMP/worker.log"
has "$FS_TMP/worker.log" "$line"

# a second worker fails at start: its line has the error priority on the journal ...
JOURNAL_STREAM=$(stream "$FS_TMP/second.log")
"$FS_WORKER" --no-consul --spool "$FS_SPOOL" --factotum-bin "$FS_RUNNER" $FS_AS_ROOT \
	2>>"$FS_TMP/second.log"
[ $? -eq 1 ] || fs_fail "a second worker on the spool did not exit 1"
has "$FS_TMP/second.log" \
	"<3>factotum-server-worker: spool $FS_SPOOL: another worker holds this spool"
[ "$(wc -l <"$FS_TMP/second.log")" -eq 1 ] || fs_fail "second worker: $(cat "$FS_TMP/second.log")"
# ... and none when the journal's stream is another file: the stderr is not the journal
JOURNAL_STREAM=$(stream "$FS_TMP/other.log")
: >"$FS_TMP/second.log"
"$FS_WORKER" --no-consul --spool "$FS_SPOOL" --factotum-bin "$FS_RUNNER" $FS_AS_ROOT \
	--log-level info 2>>"$FS_TMP/second.log"
has "$FS_TMP/second.log" "factotum-server-worker: spool $FS_SPOOL: another worker holds this spool"
! grep -q '^<' "$FS_TMP/second.log" || fs_fail "priorities off the journal: $(cat "$FS_TMP/second.log")"
unset JOURNAL_STREAM

fs_stop_worker "$pid"
[ "$FS_WORKER_STATUS" -eq 0 ] || fs_fail "the worker exited $FS_WORKER_STATUS on SIGTERM"
only_journal "$FS_TMP/worker.log" factotum-server-worker "$pid"
has "$FS_TMP/worker.log" \
	"<6>factotum-server-worker[$pid]: info: stopping; 0 run(s) continue under their supervisors"

fs_done
