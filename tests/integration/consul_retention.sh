# SPDX-License-Identifier: Apache-2.0
# Retention with Consul: --retain-consul deletes the DONE entries this node wrote last, once
# that long after their finish, with a delete-cas at the index the node last saw; an entry that
# moved on since (written by someone else) stays as it is, and so do a WORKING job's entry and
# another node's. A job's row leaves the spool (--retain-done) only after its entry; /check
# answers from the spool meanwhile, then 404.
. "$FS_SRCDIR/tests/integration/worker_lib.sh"
fs_need_nginx; fs_need_consul
. "$FS_SRCDIR/tests/integration/consul_lib.sh"

NS=fs-test/retention
HOLD=$FS_TMP/hold
trap 'rm -f "$HOLD"; fs_stop_supervisors; fs_stop_workers; fs_consul_stop; fs_cleanup' EXIT

fs_consul_start
mkdir -p "$FS_TMP/run"
fs_start_consul_responder "$FS_TMP/run/a.sock" "$FS_SPOOL" node-a --consul-namespace "$NS"
fs_start_nginx "$FS_TMP/run/a.sock"
fs_start_consul_worker "$FS_SPOOL" node-a "$FS_CONSUL_PORT" --consul-namespace "$NS" \
	--retain-consul 3s --retain-done 8s

# row ID: the job's rows in the spool (0 or 1)
row() {
	fs_sql "SELECT count(*) FROM jobs WHERE id = '$1'"
}
# until_true SECONDS WHAT COMMAND...: COMMAND every 0.1 s until it succeeds
until_true() {
	n=$(($1 * 10)) what=$2
	shift 2
	until "$@"; do
		n=$((n - 1))
		[ $n -gt 0 ] || { fs_fail "$what: not in time"; return 1; }
		sleep 0.1
	done
}
key_gone() { [ -z "$(fs_consul_get "$NS/$1")" ]; }
row_gone() { [ "$(row "$1")" = 0 ]; }

# another node's DONE entry: never this node's to remove
OTHER=$(printf 'b%.0s' $(seq 64))
fs_consul_put "$NS/$OTHER" '{"state":"DONE","jobRequest":{"jobId":"'"$OTHER"'","jobName":"x","factfilePath":"/x","factfileArgs":[]},"lastRunFrom":"node-b","lastOutcome":"SUCCEEDED","node":"node-b"}'

fs_factfile quick "echo hi"
fs_submit one "$FS_FF" '["--tag","1"]'
J1=$FS_ID
fs_submit moved "$FS_FF" '["--tag","2"]'
J2=$FS_ID
fs_factfile hold "while [ -e $HOLD ]; do sleep 0.05; done"
: >"$HOLD"
fs_submit held "$FS_FF"
J3=$FS_ID
fs_wait_state "$J1" DONE
fs_wait_state "$J2" DONE
fs_wait_state "$J3" WORKING
# the node's DONE entries are in Consul once the outbox is delivered
until_true 10 "J1's DONE entry" sh -c "curl -s '$FS_CONSUL/v1/kv/$NS/$J1?raw' | grep -q '\"state\":\"DONE\"'"
until_true 10 "J2's DONE entry" sh -c "curl -s '$FS_CONSUL/v1/kv/$NS/$J2?raw' | grep -q '\"state\":\"DONE\"'"
# J2's entry moves on: written by someone else since the node last saw it
MOVED='{"state":"DONE","jobRequest":{"jobId":"'"$J2"'","jobName":"moved","factfilePath":"/x","factfileArgs":[]},"lastRunFrom":"node-c","lastOutcome":"FAILED","node":"node-c"}'
fs_consul_put "$NS/$J2" "$MOVED"

until_true 15 "J1's entry removed" key_gone "$J1"
# its row stays for --retain-done (8 s after the finish; --retain-consul is 3 s)
[ "$(row "$J1")" = 1 ] || fs_fail "J1's row went with its entry"
fs_check "$J1"
[ "$FS_STATE" = DONE ] || fs_fail "/check of J1 between its entry's and its row's removal: $FS_BODY"
[ "$(fs_consul_value "$NS/$J2")" = "$MOVED" ] || fs_fail "an entry that moved on was touched"
[ -n "$(fs_consul_get "$NS/$J3")" ] || fs_fail "a WORKING job's entry was removed"

until_true 20 "J1's row removed" row_gone "$J1"
until_true 10 "J2's row removed" row_gone "$J2"
fs_expect_get "/check?id=$J1" 404 '{"message":"Error: No job entry found for id='"'$J1'"'"}'
[ "$(fs_consul_value "$NS/$J2")" = "$MOVED" ] || fs_fail "an entry that moved on was removed"
[ -n "$(fs_consul_get "$NS/$OTHER")" ] || fs_fail "another node's entry was removed"
fs_check "$J3"
[ "$FS_STATE" = WORKING ] || fs_fail "the held job: $FS_BODY"
[ -n "$(fs_consul_get "$NS/$J3")" ] || fs_fail "a WORKING job's entry was removed"
rm -f "$HOLD"
fs_wait_state "$J3" DONE

fs_done
