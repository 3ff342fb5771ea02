# SPDX-License-Identifier: Apache-2.0
# Schedules on one node (no Consul), through nginx with the bundled runner: an every-2-seconds
# schedule turns each slot into one job, queued within 2 s of its slot and run once, whose task
# gets the slot as {{tag:slot}}; pause (no slot while paused, none counted missed at the resume),
# resume, run-now, delete; overlap "skip" with a job longer than the period; a worker stopped for
# 6 s fires one catch-up slot (catchUp "last") and records the others missed; /submit refuses the
# tags that name a slot; every error message byte for byte; the slot counters of /metrics;
# --max-schedules (a new name beyond it 429, a replacement allowed).
# The factfile tests/data/schedule/slot-append.factfile appends {{tag:slot}} to {{tag:out}}, then
# sleeps {{tag:sleep}} seconds.
. "$FS_SRCDIR/tests/integration/worker_lib.sh"
. "$FS_SRCDIR/tests/integration/sched_lib.sh"
fs_need_nginx

FF=$FS_TESTDATA/schedule/slot-append.factfile

fs_start_responder
fs_start_nginx
fs_start_worker

# set NAME CRON OUT SLEEP [MORE-JSON]: POST /schedules/set, which must answer 200
set_schedule() {
	fs_post /schedules/set '{"name":"'"$1"'","cron":"'"$2"'","jobName":"j-'"$1"'","factfilePath":"'"$FF"'","factfileArgs":["--tag","out,'"$3"'","--tag","sleep,'"$4"'"]'"${5:-}"'}'
	fs_expect 200 '{"message":"Schedule '"'$1'"' set"}' "set $1"
}
# post_name PATH NAME: POST PATH {"name":NAME}
post_name() {
	fs_post "$1" '{"name":"'"$2"'"}'
}
# slots NAME RESULT: the slots of NAME recorded with RESULT (one a line, oldest first)
slots() {
	fs_sql "SELECT slot FROM slots WHERE schedule = '$1' AND result = '$2' ORDER BY slot"
}
# succeeded ID WHAT: the job reaches DONE with SUCCEEDED and exit code 0
succeeded() {
	fs_wait_state "$1" DONE || return
	[ "$FS_OUTCOME $FS_EXIT" = "SUCCEEDED 0" ] || fs_fail "$2: $FS_BODY"
}
# iso SECONDS: the slot tag's text
iso() {
	date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ
}

# ---- errors, byte for byte ----
sched_expect_set_errors "$FF"
sched_expect_name_errors
fs_expect_get /schedules 200 '{"schedules":[]}'
fs_req GET /schedules/set
fs_expect 405 '{"message":"Error: Method GET not allowed for /schedules/set (allowed: POST)"}'
# a squatting /submit: the tags that name a slot are the schedules' only
for t in slot,2030-01-01T00:00:00Z schedule,every2; do
	fs_expect_post /submit '{"jobName":"j","factfilePath":"'"$FF"'","factfileArgs":["--tag","'"$t"'"]}' \
		400 '{"message":"Validation Error: the tag '"'${t%%,*}'"' is reserved for schedules"}'
done
[ "$(fs_rows)" = 0 ] || fs_fail "a refused request stored a job"
[ "$(fs_sql 'SELECT count(*) FROM schedules')" = 0 ] || fs_fail "a refused request stored a schedule"

# ---- every 2 s: each slot one job, queued within 2 s of its slot, run once ----
OUT=$FS_TMP/every2.out
set_schedule every2 '*/2 * * * * *' "$OUT" 0
sleep 7
post_name /schedules/pause every2
fs_expect 200 '{"message":"Schedule '"'every2'"' paused"}' pause
paused_at=$(date +%s)
sleep 0.5
fired=$(slots every2 fired)
n=$(printf '%s\n' "$fired" | grep -c .)
[ "$n" -ge 3 ] || fs_fail "every2: $n slots fired in 7 s: $fired"
[ "$(fs_sql "SELECT count(*) FROM slots WHERE schedule = 'every2' AND result <> 'fired'")" = 0 ] ||
	fs_fail "every2: slots not fired: $(fs_sql "SELECT * FROM slots WHERE schedule = 'every2'")"
late=$(fs_sql "SELECT s.slot, j.created_ms FROM slots s JOIN jobs j ON j.id = s.job_id WHERE s.schedule = 'every2' AND (j.created_ms < s.slot * 1000 OR j.created_ms > s.slot * 1000 + 2000)")
[ -z "$late" ] || fs_fail "every2: jobs not queued within 2 s of their slot (slot, queued ms): $late"
[ "$(fs_sql "SELECT count(DISTINCT job_id) FROM slots WHERE schedule = 'every2' AND result = 'fired'")" = "$n" ] ||
	fs_fail "every2: two slots share a job"
[ "$(fs_sql "SELECT count(*) FROM jobs WHERE submitted_by = 'schedule:every2' AND job_name = 'j-every2'")" = "$n" ] ||
	fs_fail "every2: jobs: $(fs_sql 'SELECT id, submitted_by, job_name FROM jobs')"
for id in $(fs_sql "SELECT job_id FROM slots WHERE schedule = 'every2' AND result = 'fired'"); do
	succeeded "$id" "every2 job $id"
done
# each slot reached its task as {{tag:slot}}, once
want=$(for s in $fired; do iso "$s"; done)
got=$(cat "$OUT")
[ "$got" = "$want" ] || fs_fail "every2: the tasks wrote '$got', expected '$want'"
# GET /schedules: the definition, no next slots while paused, the last slot and its job
last=$(printf '%s\n' "$fired" | tail -n 1)
last_job=$(fs_sql "SELECT job_id FROM slots WHERE schedule = 'every2' AND slot = $last")
fs_expect_get /schedules 200 '{"schedules":[{"name":"every2","cron":"*/2 * * * * *","timezone":"UTC","jobName":"j-every2","factfilePath":"'"$FF"'","factfileArgs":["--tag","out,'"$OUT"'","--tag","sleep,0"],"overlap":"allow","catchUp":"last","paused":true,"nextSlots":[],"lastSlot":"'"$(iso "$last")"'","lastJobId":"'"$last_job"'","lastJobState":"DONE"}]}'
fs_req GET '/schedules?name=every2'
printf '%s' "$FS_BODY" | grep -q '"history":\[{"slot":"'"$(iso "$last")"'","result":"fired","reason":null,"jobId":"'"$last_job"'","count":1,"recorded":"20[0-9-]*T[0-9:.]*Z"}' ||
	fs_fail "GET /schedules?name=every2: $FS_BODY"
# paused: no slot
sleep 3
[ "$(slots every2 fired)" = "$fired" ] || fs_fail "every2 fired while paused: $(slots every2 fired)"
post_name /schedules/resume every2
fs_expect 200 '{"message":"Schedule '"'every2'"' resumed"}' resume
resumed_at=$(date +%s)
fs_req GET /schedules
next=$(printf '%s' "$FS_BODY" | sed -n 's/.*"nextSlots":\[\("[^]]*"\)\].*/\1/p')
[ "$(printf '%s' "$next" | tr ',' '\n' | grep -c '^"20[0-9-]*T[0-9:]*Z"$')" = 3 ] ||
	fs_fail "nextSlots after the resume: $FS_BODY"
sleep 3
post_name /schedules/pause every2
# the pause's slots are not due at the resume: none missed, none fired between pause and resume
[ -z "$(slots every2 missed)" ] || fs_fail "every2: the pause's slots were recorded missed"
gap=$(fs_sql "SELECT count(*) FROM slots WHERE schedule = 'every2' AND slot > $paused_at AND slot < $resumed_at")
[ "$gap" = 0 ] || fs_fail "every2: $gap slots of the pause were accounted for"
after=$(fs_sql "SELECT count(*) FROM slots WHERE schedule = 'every2' AND result = 'fired' AND slot >= $resumed_at")
[ "$after" -ge 1 ] || fs_fail "every2: no slot fired after the resume"

# ---- run now: one slot, the current second, outside the timetable ----
before_last=$(fs_sql "SELECT last_slot FROM schedules WHERE name = 'every2'")
# in an odd second, which no slot of the timetable holds (the same second is the same job id)
until [ $(($(date +%s) % 2)) = 1 ] && [ "$(date +%N | cut -c1)" -lt 7 ]; do
	sleep 0.05
done
post_name /schedules/run every2
now_slot=$(printf '%s' "$FS_BODY" | sed -n 's/.*"slot":"\([^"]*\)".*/\1/p')
run_job=$(printf '%s' "$FS_BODY" | sed -n 's/.*"jobId":"\([0-9a-f]*\)".*/\1/p')
fs_expect 200 '{"message":"Schedule '"'every2'"' slot '"$now_slot"' fired","slot":"'"$now_slot"'","result":"fired","reason":null,"jobId":"'"$run_job"'"}' run
succeeded "$run_job" "run-now job"
tail -n 1 "$OUT" | grep -qxF "$now_slot" || fs_fail "run-now: the task wrote $(tail -n 1 "$OUT")"
[ "$(fs_sql "SELECT last_slot FROM schedules WHERE name = 'every2'")" = "$before_last" ] ||
	fs_fail "run-now moved the schedule's last slot"

# ---- delete: the schedule and its history go, its jobs stay ----
post_name /schedules/delete every2
fs_expect 200 '{"message":"Schedule '"'every2'"' deleted"}' delete
fs_expect_get '/schedules?name=every2' 404 '{"message":"Error: no schedule '"'every2'"'"}'
[ "$(fs_sql "SELECT count(*) FROM slots WHERE schedule = 'every2'")" = 0 ] || fs_fail "history kept"
jobs_before=$(fs_rows)
sleep 2.5
[ "$(fs_rows)" = "$jobs_before" ] || fs_fail "a deleted schedule fired"

# ---- overlap skip: a 5 s job every 2 s ----
set_schedule lap '*/2 * * * * *' "$FS_TMP/lap.out" 5 ',"overlap":"skip"'
sleep 7
post_name /schedules/pause lap
skipped=$(fs_sql "SELECT count(*) FROM slots WHERE schedule = 'lap' AND result = 'skipped' AND reason IN ('overlap: the last slot''s job is WORKING', 'overlap: the last slot''s job is QUEUED')")
fired=$(fs_sql "SELECT count(*) FROM slots WHERE schedule = 'lap' AND result = 'fired'")
{ [ "$skipped" -ge 2 ] && [ "$fired" -ge 1 ] && [ "$fired" -le 2 ]; } ||
	fs_fail "lap: $fired fired, $skipped skipped: $(fs_sql "SELECT * FROM slots WHERE schedule = 'lap'")"
[ "$(wc -l <"$FS_TMP/lap.out")" = "$fired" ] || fs_fail "lap: $(cat "$FS_TMP/lap.out") for $fired slots"
post_name /schedules/delete lap

# ---- the worker down for 6 s, catchUp "last": one catch-up slot, the others missed ----
set_schedule gap '*/2 * * * * *' "$FS_TMP/gap.out" 0
sleep 3
fs_stop_worker "$FS_WORKER_PID"
down_last=$(fs_sql "SELECT last_slot FROM schedules WHERE name = 'gap'")
sleep 6
fs_start_worker
sleep 1
post_name /schedules/pause gap
missed=$(fs_sql "SELECT slot FROM slots WHERE schedule = 'gap' AND result = 'missed' AND count = 1 ORDER BY slot")
n_missed=$(printf '%s\n' "$missed" | grep -c .)
[ "$n_missed" -ge 2 ] || fs_fail "gap: $n_missed slots missed in 6 s down: $missed"
expect=$((down_last + 2))
for s in $missed; do
	[ "$s" = "$expect" ] || fs_fail "gap: missed slot $s, expected $expect"
	expect=$((s + 2))
done
catch=$(fs_sql "SELECT slot FROM slots WHERE schedule = 'gap' AND result = 'fired' AND slot > $down_last ORDER BY slot LIMIT 1")
[ "$catch" = "$expect" ] || fs_fail "gap: the catch-up slot is '$catch', expected $expect"
[ "$(fs_sql "SELECT count(*) FROM slots WHERE schedule = 'gap' AND slot > $down_last AND slot <= $expect")" = $((n_missed + 1)) ] ||
	fs_fail "gap: $(fs_sql "SELECT * FROM slots WHERE schedule = 'gap'")"
grep -qxF "$(iso "$catch")" "$FS_TMP/gap.out" || fs_wait_state "$(fs_sql "SELECT job_id FROM slots WHERE schedule = 'gap' AND slot = $catch")" DONE
grep -qxF "$(iso "$catch")" "$FS_TMP/gap.out" || fs_fail "gap: the catch-up job did not run"

# ---- /metrics: the slot counters, kept in the spool (deleted history included) ----
fs_req GET /metrics
for r in fired skipped refused missed; do
	n=$(fs_sql "SELECT n FROM counters WHERE name = 'slots.$r'")
	printf '%s' "$FS_BODY" | grep -qxF "factotum_server_schedule_slots_total{result=\"$r\"} $n" ||
		fs_fail "/metrics lacks slots $r $n: $FS_BODY"
done
[ "$(fs_sql "SELECT n FROM counters WHERE name = 'slots.fired'")" -ge 6 ] || fs_fail "fired counter"

# ---- --max-schedules: a new name beyond it is refused, replacing one is not ----
n=$(fs_sql 'SELECT count(*) FROM schedules')
fs_stop_responder "$FS_RESP_PID"
fs_start_responder "$FS_SOCK" --max-schedules "$n"
fs_expect_post /schedules/set '{"name":"one-more","cron":"@yearly","jobName":"j","factfilePath":"'"$FF"'"}' \
	429 '{"message":"Error: at most '"$n"' schedules, cannot add schedule '"'one-more'"'"}'
[ "$(fs_sql 'SELECT count(*) FROM schedules')" = "$n" ] || fs_fail "a refused schedule was stored"
set_schedule gap '@yearly' "$FS_TMP/gap.out" 0

fs_stop_worker "$FS_WORKER_PID"
fs_stop_supervisors
fs_done
