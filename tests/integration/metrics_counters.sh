# SPDX-License-Identifier: Apache-2.0
# /metrics' outcome counts and run-duration histogram are kept in the spool: they never go down
# across a restart of the responder and the worker, nor when finished job rows are deleted (as
# retention does), and the next finished job adds exactly one. /status counts the rows there are.
# The text passes `promtool check metrics` where promtool is installed.
. "$FS_SRCDIR/tests/integration/worker_lib.sh"
fs_need_nginx

# kept: the /metrics lines of the counters kept in the spool, "name{labels} value" sorted
kept() {
	fs_req GET /metrics
	[ "$FS_STATUS" = 200 ] || fs_fail "/metrics status $FS_STATUS"
	printf '%s\n' "$FS_BODY" | grep -E '^factotum_server_(outcomes_total|run_duration_seconds)' |
		LC_ALL=C sort
}

# value NAME{LABELS} TEXT: the value of one sample in TEXT (from kept).
value() {
	printf '%s\n' "$2" | grep -F "$1 " | sed 's/.* //'
}

# not_less BEFORE AFTER WHAT: every sample of BEFORE is in AFTER with a value at least as large.
not_less() {
	printf '%s\n' "$1" | while read -r name v; do
		w=$(value "$name" "$2")
		if [ -z "$w" ] || ! awk -v a="$v" -v b="$w" 'BEGIN { exit !(b + 0 >= a + 0) }'; then
			echo "$name $v -> ${w:-missing}"
		fi
	done >"$FS_TMP/decreased"
	[ ! -s "$FS_TMP/decreased" ] || fs_fail "$3: counters went down: $(cat "$FS_TMP/decreased")"
}

fs_start_responder
fs_start_nginx
fs_start_worker --max-workers 2

fs_run_task ok1 "true" SUCCEEDED
fs_run_task ok2 "sleep 1.2" SUCCEEDED
fs_run_task bad "exit 3" FAILED
first=$(kept)
[ "$(value 'factotum_server_outcomes_total{outcome="SUCCEEDED"}' "$first")" = 2 ] ||
	fs_fail "SUCCEEDED total: $first"
[ "$(value 'factotum_server_outcomes_total{outcome="FAILED"}' "$first")" = 1 ] ||
	fs_fail "FAILED total: $first"
[ "$(value 'factotum_server_run_duration_seconds_count' "$first")" = 3 ] || fs_fail "count: $first"
[ "$(value 'factotum_server_run_duration_seconds_bucket{le="+Inf"}' "$first")" = 3 ] ||
	fs_fail "+Inf bucket: $first"
# the buckets, in the order /metrics lists them, are cumulative and end at the count
fs_req GET /metrics
printf '%s\n' "$FS_BODY" |
	sed -n 's/^factotum_server_run_duration_seconds_bucket{le="\([^"]*\)"} \(.*\)/\1 \2/p' \
	>"$FS_TMP/buckets"
got=$(cut -d' ' -f1 "$FS_TMP/buckets" | tr '\n' ' ')
[ "$got" = "1 5 15 60 300 900 3600 14400 86400 +Inf " ] || fs_fail "bucket bounds: $got"
awk 'NR > 1 && $2 < prev { bad = 1 } { prev = $2 } END { exit bad }' "$FS_TMP/buckets" ||
	fs_fail "buckets not cumulative: $(cat "$FS_TMP/buckets")"
[ "$(value 'factotum_server_run_duration_seconds_bucket{le="1"}' "$first")" -le 2 ] ||
	fs_fail "a 1.2 s run counted under 1 s: $first"
sum=$(value factotum_server_run_duration_seconds_sum "$first")
awk -v s="$sum" 'BEGIN { exit !(s >= 1.2) }' ||
	fs_fail "sum below the 1.2 s run: $first"
if command -v promtool >/dev/null 2>&1; then
	printf '%s' "$FS_BODY" | promtool check metrics >"$FS_TMP/promtool" 2>&1 ||
		fs_fail "promtool check metrics: $(cat "$FS_TMP/promtool")"
else
	echo "SKIP (not counted as passed): promtool check metrics: promtool is not installed"
fi

# ---- a restart of both processes ----
fs_stop_worker "$FS_WORKER_PID"
fs_stop_responder "$FS_RESP_PID"
fs_start_responder
fs_start_worker --max-workers 2
second=$(kept)
not_less "$first" "$second" "after a restart"
[ "$second" = "$first" ] || fs_fail "changed by a restart: $first -> $second"

# ---- finished job rows deleted ----
fs_sql "DELETE FROM jobs WHERE state = 'DONE'"
third=$(kept)
[ "$third" = "$first" ] || fs_fail "changed by deleting rows: $first -> $third"
[ "$(fs_count DONE)" = 0 ] || fs_fail "/status done after deleting rows: $(fs_count DONE)"
fs_req GET /metrics
printf '%s\n' "$FS_BODY" | grep -qxF 'factotum_server_jobs{state="DONE"} 0' ||
	fs_fail "/metrics DONE jobs after deleting rows"

# ---- the next finished job adds one ----
fs_run_task ok3 "true" SUCCEEDED
fourth=$(kept)
not_less "$third" "$fourth" "after one more job"
[ "$(value 'factotum_server_outcomes_total{outcome="SUCCEEDED"}' "$fourth")" = 3 ] ||
	fs_fail "SUCCEEDED total after one more: $fourth"
[ "$(value 'factotum_server_run_duration_seconds_count' "$fourth")" = 4 ] ||
	fs_fail "count after one more: $fourth"
[ "$(fs_count DONE)" = 1 ] || fs_fail "/status done after one more: $(fs_count DONE)"

fs_done
