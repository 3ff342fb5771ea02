# SPDX-License-Identifier: Apache-2.0
# worker.before-go with Consul: the worker dies after its claim (WORKING in the spool and in
# Consul, locked by the node's session) and before the go byte. After its restart the job goes
# back to QUEUED, and Consul is told so, fenced as every transition is (compare-and-set at the
# index last seen, under the node's session), before it is claimed again; it runs once and its
# entry ends DONE/SUCCEEDED, unlocked, at the index the spool last saw, the outbox empty.
#
# Needs a build configured with --enable-fault-injection (FS_BUILDDIR) and consul; exits 77 when
# the worker there has no fault points. Short form by default (one round); with
# FS_RELIABILITY=full, FS_FAULT_ROUNDS rounds (default 10). Prints its figures as
# "figure: fault_worker_consul.<what> N".
#   FS_SRCDIR=. FS_BUILDDIR=build-fault FS_TESTDATA=tests/data sh tests/reliability/fault_worker_consul.sh
. "$FS_SRCDIR/tests/integration/worker_lib.sh"
. "$FS_SRCDIR/tests/integration/consul_lib.sh"
. "$FS_SRCDIR/tests/reliability/rel_lib.sh"

rel_need_seam worker/factotum-server-worker

NS=fs-test/go
ROUNDS=1
[ "${FS_RELIABILITY:-}" != full ] || ROUNDS=${FS_FAULT_ROUNDS:-10}
RAN_TWICE=0
trap 'fs_stop_supervisors; fs_stop_workers; fs_consul_stop; fs_cleanup' EXIT

fs_consul_start
fs_start_consul_responder "$FS_SOCK" "$FS_SPOOL" node-a --consul-namespace "$NS"
fs_start_nginx

r=1
while [ "$r" -le "$ROUNDS" ]; do
	FS_FAULT=worker.before-go=kill
	export FS_FAULT
	fs_start_consul_worker "$FS_SPOOL" node-a "$FS_CONSUL_PORT" --consul-namespace "$NS" \
		--max-workers 1
	unset FS_FAULT
	fs_factfile "G$r" "echo run >>$FS_TMP/ran.G$r"
	fs_submit "G$r" "$FS_FF"
	G=$FS_ID
	wait "$FS_WORKER_PID"
	st=$?
	FS_WORKER_PIDS=$(fs_pids_without "$FS_WORKER_PIDS" "$FS_WORKER_PID")
	[ "$st" = 137 ] || fs_fail "round $r: the worker exited $st, not by its fault"
	session=$(fs_spool_setting "$FS_SPOOL" consul.session)
	[ "$(fs_consul_value "$NS/$G" | sed -n 's/^{"state":"\([A-Z]*\)".*/\1/p')" = WORKING ] ||
		fs_fail "round $r: Consul after the kill: $(fs_consul_value "$NS/$G")"
	[ "$(fs_consul_field "$NS/$G" Session)" = "$session" ] ||
		fs_fail "round $r: the entry is not locked by the node's session"
	n=0
	while fuser "$FS_SPOOL/worker.lock" >/dev/null 2>&1 && [ $n -lt 200 ]; do
		n=$((n + 1))
		sleep 0.05
	done
	: >"$FS_TMP/worker.log"
	fs_start_consul_worker "$FS_SPOOL" node-a "$FS_CONSUL_PORT" --consul-namespace "$NS" \
		--max-workers 1
	fs_wait_state "$G" DONE 20
	fs_expect_outcome "$G" SUCCEEDED 0 null null "round $r"
	got=$(cat "$FS_TMP/ran.G$r" 2>/dev/null | wc -l)
	[ "$got" -le 1 ] || RAN_TWICE=$((RAN_TWICE + 1))
	[ "$got" = 1 ] || fs_fail "round $r: the job ran $got times"
	# Consul heard QUEUED, then the new claim, then the outcome, in that order
	got=$(sed -n "s/.*consul: job $G: \([A-Z]*\/[A-Z]*\) written.*/\1/p" "$FS_TMP/worker.log" |
		tr '\n' ' ')
	[ "$got" = "QUEUED/WAITING WORKING/RUNNING DONE/SUCCEEDED " ] ||
		fs_fail "round $r: transitions written to Consul: '$got'"
	value=$(fs_consul_value "$NS/$G")
	case $value in
	'{"state":"DONE",'*'"lastOutcome":"SUCCEEDED"'*) ;;
	*) fs_fail "round $r: Consul at the end: $value" ;;
	esac
	[ -z "$(fs_consul_field "$NS/$G" Session)" ] || fs_fail "round $r: the entry is still locked"
	[ "$(fs_consul_field "$NS/$G" ModifyIndex)" = "$(fs_sql "SELECT consul_index FROM jobs WHERE id='$G'")" ] ||
		fs_fail "round $r: the spool's last index seen is not the entry's"
	[ "$(fs_sql "SELECT count(*) FROM outbox")" = 0 ] || fs_fail "round $r: the outbox is not empty"
	fs_stop_worker "$FS_WORKER_PID"
	r=$((r + 1))
done

echo "figure: fault_worker_consul.rounds $ROUNDS"
echo "figure: fault_worker_consul.ran_twice $RAN_TWICE"
fs_done
