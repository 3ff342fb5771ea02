#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# sd_notify readiness (the units are Type=notify): the responder and the worker, started with
# NOTIFY_SOCKET naming a datagram socket of the test (a path, then an abstract name), send
# READY=1 from their own pid once they are ready -- the responder answers GET /status, the
# worker holds the spool's lock -- and STOPPING=1 on SIGTERM, then exit 0; so does the launcher
# once its whole node answers, and its programs send nothing. A program that
# cannot start (a file where the responder's socket goes, a spool another worker holds) sends
# nothing. notify_check.py is the listening side. A run never sees NOTIFY_SOCKET, even when
# --pass-env names it: runs must not notify in the worker's name.
. "$FS_SRCDIR/tests/integration/worker_lib.sh"
fs_need_nginx

CHECK=$FS_SRCDIR/tests/integration/notify_check.py
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 is not installed"; exit 77; }

for addr in "$FS_TMP/notify.sock" "@factotum-server-test-$$"; do
	rm -f "$FS_TMP/notify.sock"
	python3 "$CHECK" ready "$addr" responder "$FS_SOCK" "$FS_TMP/responder.log" -- \
		"$FS_FCGI" --no-consul --spool "$FS_SPOOL" --fcgi-socket "$FS_SOCK" $FS_AS_ROOT \
		--factotum-bin "$FS_RUNNER" --fcgi-threads 2 || fs_fail "responder, NOTIFY_SOCKET=$addr"
	rm -f "$FS_TMP/notify.sock"
	python3 "$CHECK" ready "$addr" worker "$FS_SPOOL" "$FS_TMP/worker.log" -- \
		"$FS_WORKER" --no-consul --spool "$FS_SPOOL" --factotum-bin "$FS_RUNNER" \
		$FS_AS_ROOT || fs_fail "worker, NOTIFY_SOCKET=$addr"
done

# the launcher: READY=1 once its node answers through nginx; its programs, which it starts
# without NOTIFY_SOCKET, send nothing
fs_use_launcher
port=$(fs_free_ports 1)
rm -f "$FS_TMP/notify.sock"
python3 "$CHECK" ready "$FS_TMP/notify.sock" launcher "http://127.0.0.1:$port/status" \
	"$FS_TMP/launcher.log" -- "$LAUNCHER" --no-consul --spool "$FS_TMP/node" --ip 127.0.0.1 \
	--port "$port" --factotum-bin "$RUNNER" $FS_AS_ROOT || fs_fail "launcher"

# not ready, no READY=1: a regular file where the responder's socket goes
rm -f "$FS_TMP/notify.sock"
: >"$FS_TMP/run/not-a-socket"
python3 "$CHECK" fails "$FS_TMP/notify.sock" responder "$FS_TMP/run/not-a-socket" \
	"$FS_TMP/responder.log" -- \
	"$FS_FCGI" --no-consul --spool "$FS_SPOOL" --fcgi-socket "$FS_TMP/run/not-a-socket" \
	$FS_AS_ROOT --factotum-bin "$FS_RUNNER" || fs_fail "responder that cannot listen"
# ... and a spool another worker holds
fs_start_worker
rm -f "$FS_TMP/notify.sock"
python3 "$CHECK" fails "$FS_TMP/notify.sock" worker "$FS_SPOOL" "$FS_TMP/worker2.log" -- \
	"$FS_WORKER" --no-consul --spool "$FS_SPOOL" --factotum-bin "$FS_RUNNER" $FS_AS_ROOT ||
	fs_fail "worker on a spool another worker holds"
grep -q 'another worker holds this spool' "$FS_TMP/worker2.log" ||
	fs_fail "the second worker did not fail for the lock: $(cat "$FS_TMP/worker2.log")"
fs_stop_worker "$FS_WORKER_PID"

# a run's environment: --pass-env passes MARK, but NOTIFY_SOCKET has left the worker's
rm -f "$FS_TMP/notify.sock"
python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
time.sleep(120)' "$FS_TMP/notify.sock" &
listener=$!
n=0
until [ -S "$FS_TMP/notify.sock" ] || [ $n -ge 100 ]; do
	n=$((n + 1))
	sleep 0.05
done
fs_start_responder
fs_start_nginx
NOTIFY_SOCKET=$FS_TMP/notify.sock MARK=passed
export NOTIFY_SOCKET MARK
fs_start_worker --pass-env NOTIFY_SOCKET --pass-env MARK
unset NOTIFY_SOCKET MARK
fs_run_task env "env >$FS_TMP/run.env" SUCCEEDED
grep -qx 'MARK=passed' "$FS_TMP/run.env" || fs_fail "--pass-env MARK did not pass: $(cat "$FS_TMP/run.env")"
! grep -q NOTIFY_SOCKET "$FS_TMP/run.env" || fs_fail "a run sees $(grep NOTIFY_SOCKET "$FS_TMP/run.env")"
kill "$listener"
wait "$listener" 2>/dev/null

fs_done
