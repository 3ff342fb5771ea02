#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Responders and a worker started at the same moment all come up, on a new spool (each one
# creates the schema, or waits for the one that does) and on an existing one: 200 rounds of two
# responders and a worker started together on a fresh spool, then six rounds on one spool (new
# for the first only), the last behind nginx answering /status. A process that dies at start
# (`database is locked`) or is not up within 10 s fails the round.
. "$FS_SRCDIR/tests/integration/lib.sh"
fs_need_nginx

ROUNDS=${FS_START_ROUNDS:-200}
RUN=$FS_TMP/run

# wait_up PID COMMAND...: 0 once COMMAND succeeds, 1 as soon as PID is gone (or after 10 s)
wait_up() {
	_wu_pid=$1 _wu_i=0
	shift
	until "$@"; do
		kill -0 "$_wu_pid" 2>/dev/null || return 1
		_wu_i=$((_wu_i + 1))
		[ $_wu_i -le 1000 ] || return 1
		sleep 0.01
	done
}

# round SPOOL N: starts responders A and B and the worker together on SPOOL; fails the test
# unless all three are up and still running; stops them.
round() {
	sp=$1
	: >"$FS_TMP/start.log"
	"$FS_FCGI" --no-consul --spool "$sp" --fcgi-socket "$RUN/a.sock" $FS_AS_ROOT \
		--factotum-bin "$FS_RUNNER" 2>>"$FS_TMP/start.log" &
	a=$!
	"$FS_FCGI" --no-consul --spool "$sp" --fcgi-socket "$RUN/b.sock" $FS_AS_ROOT \
		--factotum-bin "$FS_RUNNER" 2>>"$FS_TMP/start.log" &
	b=$!
	"$FS_WORKER" --no-consul --spool "$sp" --factotum-bin "$FS_RUNNER" $FS_AS_ROOT \
		2>>"$FS_TMP/start.log" &
	w=$!
	ok=1
	wait_up "$a" test -S "$RUN/a.sock" || ok=0
	wait_up "$b" test -S "$RUN/b.sock" || ok=0
	wait_up "$w" fs_worker_ready "$sp" "$w" || ok=0
	for p in $a $b $w; do
		kill -0 "$p" 2>/dev/null || ok=0
	done
	if [ $ok = 1 ] && [ -n "${3:-}" ]; then
		[ "$(id -u)" -ne 0 ] || chmod 0666 "$RUN/a.sock"
		fs_nginx_start "$FS_TMP/nginx" "$RUN/a.sock" >>"$FS_TMP/start.log" || ok=0
		FS_NGINX_PIDS="$FS_NGINX_PIDS ${FS_NGINX_PID:-}"
		if [ $ok = 1 ]; then
			fs_req GET /status
			printf '%s' "$FS_BODY" | grep -q '"state":"run"' ||
				fs_fail "round $2: /status $FS_STATUS $FS_BODY"
			kill -QUIT "$FS_NGINX_PID"
			wait "$FS_NGINX_PID" 2>/dev/null
			FS_NGINX_PIDS=
		fi
	fi
	kill -TERM $a $b $w 2>/dev/null
	wait $a $b $w 2>/dev/null
	if [ $ok = 0 ]; then
		fs_fail "round $2 on $sp: a process did not come up:"
		cat "$FS_TMP/start.log"
	fi
	# where the harness looks for sanitizer reports at exit
	cat "$FS_TMP/start.log" >>"$FS_TMP/responder.log"
}

i=1
while [ $i -le "$ROUNDS" ] && [ "$FS_FAILS" -lt 3 ]; do
	sp=$FS_TMP/s$i
	mkdir "$sp"
	round "$sp" "$i"
	rm -rf "$sp"
	i=$((i + 1))
done
# an existing spool: its schema is in place, the worker's leftovers of the last round too
mkdir -p "$FS_TMP/nginx"
for j in 1 2 3 4 5; do
	round "$FS_SPOOL" "existing-$j"
done
round "$FS_SPOOL" "existing-status" status
fs_done
