#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Delivery tests of runner/webhook.c through the test_webhook_send driver and a loopback python
# receiver: payloads validate, events arrive in order, 500s are retried, each event gets 3
# attempts, a stalled receiver cannot hold webhook_finish past its deadline, and enqueueing never
# waits. FS_WEBHOOK_PAUSE_MAX_MS and FS_WEBHOOK_TIMEOUT_MS are runner/webhook.c's test seams.
set -u
: "${FS_SRCDIR:?}" "${FS_BUILDDIR:?}" "${FS_TESTDATA:?}"
driver=$FS_BUILDDIR/tests/unit/test_webhook_send
wh_name=webhook_send
wh_path=/hook
. "$FS_SRCDIR/tests/integration/webhook_lib.sh"

# send <name> <max_wait_ms> <beats> [receiver options...]: plays the run against a new receiver
# with the VAR=value words of $send_env in the driver's environment, then stops the receiver;
# sets $res to the driver's report.
send_env=
send() {
	sname=$1; wait_ms=$2; beats=$3; shift 3
	start_receiver "$sname" "$@"
	# shellcheck disable=SC2086
	res=$(env $send_env "$driver" "$url" "$wait_ms" "$beats") || fail "$sname: driver failed"
	stop_receiver
}

# field <text> <name>: the number after "<name>=".
field() { printf '%s\n' "$1" | sed -n "s/.*$2=\([0-9]*\).*/\1/p"; }

expected_summary() { # $1 = number of heartbeats
	echo "job null->WAITING WAITING"
	echo "job WAITING->RUNNING RUNNING"
	echo "task a:WAITING->RUNNING RUNNING"
	i=0
	while [ $i -lt "$1" ]; do echo "task a:RUNNING->RUNNING RUNNING"; i=$((i + 1)); done
	echo "task a:RUNNING->FAILED,b é:WAITING->SKIPPED RUNNING"
	echo "job RUNNING->FAILED FAILED"
}

# 1. A healthy receiver gets every event, in order, valid, with the agreed header.
send ok 5000 20
[ "$(field "$res" given_up)" = 0 ] || fail "healthy: $res"
expected_summary 20 >"$tmp/want"
same_summary "healthy"
python3 "$check" validate "$schemas" "$out" || fail "healthy: validation"
grep -v '"content_type": "application/json; charset=utf-8"' "$reqs" | grep -q . &&
	fail "healthy: wrong Content-Type: $(head -n 1 "$reqs")"
# Heartbeats carry their live output, in order.
[ "$(python3 "$check" get "$out" 12 taskStates 0 stdout)" = "beat 9" ] || fail "heartbeat order"
[ "$(python3 "$check" get "$out" -1 taskStates 0 stderr)" = "err �" ] || fail "lossy stderr"
[ "$(python3 "$check" get "$out" -1 tags Team)" = 'α"\' ] || fail "tags"

# 2. 500s are retried; nothing is lost, reordered or duplicated.
send_env=FS_WEBHOOK_PAUSE_MAX_MS=20
send retry 10000 2 --fail 2
[ "$(field "$res" given_up)" = 0 ] || fail "retry: $res"
expected_summary 2 >"$tmp/want"
same_summary "retry"
[ "$(grep -c . "$reqs")" = 9 ] || fail "retry: $(grep -c . "$reqs") requests, want 7 + 2"

# 3. A receiver that always fails: each event is given up after 3 attempts.
send_env=FS_WEBHOOK_PAUSE_MAX_MS=1
send down 10000 0 --fail 1000
[ "$(field "$res" given_up)" = 5 ] || fail "always 500: $res"
[ "$(grep -c . "$reqs")" = 15 ] || fail "always 500: $(grep -c . "$reqs") requests, want 5 x 3"
[ -s "$out" ] && fail "always 500: events recorded"

# 4. A stalled receiver: attempts time out, and webhook_finish returns by its deadline, giving
#    up what is left; enqueueing did not wait for the network.
send_env="FS_WEBHOOK_TIMEOUT_MS=300 FS_WEBHOOK_PAUSE_MAX_MS=20"
send stall 1000 50 --stall 1000 --stall-seconds 20
[ "$(field "$res" given_up)" = 55 ] || fail "stall: $res"
[ "$(field "$res" finish_ms)" -lt 1500 ] || fail "stall: finish took too long: $res"
[ "$(field "$res" enqueue_ms)" -lt 500 ] || fail "stall: enqueueing blocked: $res"
[ -s "$out" ] && fail "stall: events recorded"

# 5. One stalled request, then a healthy receiver: the timed-out event is sent again, once.
send stall1 10000 1 --stall 1 --stall-seconds 3
[ "$(field "$res" given_up)" = 0 ] || fail "one stall: $res"
expected_summary 1 >"$tmp/want"
same_summary "one stall"

# 6. Nobody listening (connection refused): bounded attempts, nothing blocks.
start_receiver gone
stop_receiver
res=$(FS_WEBHOOK_PAUSE_MAX_MS=1 "$driver" "$url" 10000 0) || fail "driver"
[ "$(field "$res" given_up)" = 5 ] || fail "refused: $res"

if [ $failures -ne 0 ]; then
	echo "webhook_send: $failures failure(s)"
	exit 1
fi
echo "webhook_send: all passed"
