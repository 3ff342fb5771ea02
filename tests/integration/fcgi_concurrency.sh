#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Concurrency through nginx: 50 identical concurrent submissions give exactly one 200, 49 409s
# and one row; 50 different ones (one group-committed batch after another) are all accepted;
# a SIGTERM under load finishes the requests in flight, and every 200 is in the spool.
. "$FS_SRCDIR/tests/integration/lib.sh"
fs_need_nginx

FF=$FS_TMP/ff/echo.factfile
cp "$FS_TESTDATA/samples/echo.factfile" "$FF"
fs_start_responder
FS_NGINX_LIMITS=$FS_NO_LIMITS fs_start_nginx # 50 requests at once from one address

# burst N PREFIX SAME: N concurrent POST /submit; SAME=1 sends one body, else one tag each.
# Statuses go to $FS_TMP/PREFIX.N.status, bodies to $FS_TMP/PREFIX.N.body.
burst() {
	n=$1 prefix=$2 same=$3 i=1
	BURST_PIDS=
	while [ $i -le "$n" ]; do
		tag=$prefix$i
		[ "$same" = 1 ] && tag=same
		printf '{"jobName":"echo","factfilePath":"%s","factfileArgs":["--tag","t,%s"]}' \
			"$FF" "$tag" >"$FS_TMP/$prefix.$i.req"
		curl -s -o "$FS_TMP/$prefix.$i.body" -w '%{http_code}' -H 'Content-Type: application/json' \
			--data-binary "@$FS_TMP/$prefix.$i.req" "$FS_URL/submit" >"$FS_TMP/$prefix.$i.status" &
		BURST_PIDS="$BURST_PIDS $!"
		i=$((i + 1))
	done
}
# a plain `wait` would also wait for nginx and the responder
burst_wait() {
	for p in $BURST_PIDS; do
		wait "$p"
	done
}
tally() { # tally PREFIX STATUS: how many answers had STATUS
	for f in "$FS_TMP/$1".*.status; do
		cat "$f"
		echo
	done | grep -cx "$2"
}

burst 50 same 1
burst_wait
ok=$(tally same 200) dup=$(tally same 409)
[ "$ok" = 1 ] && [ "$dup" = 49 ] || fs_fail "identical burst: $ok x 200, $dup x 409"
for f in "$FS_TMP"/same.*.status; do
	[ "$(cat "$f")" = 409 ] && { [ "$(cat "${f%.status}.body")" = '{"message":"Job is already being processed"}' ] ||
		fs_fail "409 body: $(cat "${f%.status}.body")"; }
done
[ "$(fs_rows)" = 1 ] || fs_fail "rows after the identical burst: $(fs_rows)"

burst 50 many 0
burst_wait
ok=$(tally many 200)
[ "$ok" = 50 ] || fs_fail "distinct burst: $ok x 200"
[ "$(fs_count QUEUED)" = 51 ] || fs_fail "queued after the distinct burst: $(fs_count QUEUED)"

# SIGTERM while requests are in flight: each gets a whole answer (200 if its job is stored, or
# nginx's 502 once the responder is gone), and no 200 is lost
burst 30 term 0
sleep 0.05
kill -TERM "$FS_RESP_PID"
burst_wait
for f in "$FS_TMP"/term.*.status; do
	case $(cat "$f") in
	200|502) ;;
	*) fs_fail "answer during SIGTERM: $(cat "$f") $(cat "${f%.status}.body")" ;;
	esac
done
# the next responder starts once this one has exited (it would find the socket still in use)
wait "$FS_RESP_PID"
FS_RESP_PIDS=
fs_start_responder
for f in "$FS_TMP"/term.*.status; do
	[ "$(cat "$f")" = 200 ] || continue
	id=$(sed -n 's/.*"jobId":"\([0-9a-f]*\)".*/\1/p' "${f%.status}.body")
	fs_req GET "/check?id=$id"
	[ "$FS_STATUS" = 200 ] || fs_fail "accepted job $id not in the spool after SIGTERM"
done

fs_done
