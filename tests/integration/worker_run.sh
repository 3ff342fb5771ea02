# SPDX-License-Identifier: Apache-2.0
# The worker running real jobs behind nginx and the responder, with the bundled runner: the
# samples reach DONE with their outcomes and logs, /status and /health tell the truth, the
# appended runner options are never duplicated, --max-workers bounds the runners (observed) and
# the queue is FIFO, and a runner that disappears fails jobs with reason runner-missing.
. "$FS_SRCDIR/tests/integration/worker_lib.sh"
fs_need_nginx

P=$FS_TESTDATA/posix
S=$FS_TESTDATA/samples

fs_start_responder
fs_start_nginx
fs_start_worker --no-colour

# ---- the samples: outcome, exit code, log ----
# name path outcome exit
cat >"$FS_TMP/samples" <<END_SAMPLES
echo $S/echo.factfile SUCCEEDED 0
noop $S/noop.factfile SUCCEEDED 0
diamond $P/complex-diamond-dag.factfile SUCCEEDED 0
streaming $P/concurrent-streaming-output.factfile SUCCEEDED 0
failures $P/concurrent-with-failures.factfile FAILED 2
cascade $P/multi-failure-cascade.factfile FAILED 2
sleep $P/sleep.factfile SUCCEEDED 0
heartbeat $P/test-heartbeat.factfile SUCCEEDED 0
END_SAMPLES
while read -r name path outcome code; do
	fs_submit "$name" "$path"
	echo "$name $FS_ID $outcome $code" >>"$FS_TMP/ids"
done <"$FS_TMP/samples"
# the heartbeat sample runs for 3 s: the worker is seen alive with runs going
fs_req GET /status
printf '%s' "$FS_BODY" | grep -q '"worker":{"alive":true,"socket":"[^"]*","pid":'"$FS_WORKER_PID"',"startTime":"[0-9-]* [0-9:]* UTC","runner":"ok"}' ||
	fs_fail "/status worker: $FS_BODY"
active=$(printf '%s' "$FS_BODY" | sed -n 's/.*"active":\([0-9]*\).*/\1/p')
idle=$(printf '%s' "$FS_BODY" | sed -n 's/.*"idle":\([0-9]*\).*/\1/p')
{ [ "${active:-0}" -ge 1 ] && [ $((active + idle)) -eq 20 ]; } ||
	fs_fail "/status while running: $FS_BODY"
fs_expect_get /health 200 '{"message":"ok","spool":"ok","worker":"ok","consul":"disabled"}'
while read -r name id outcome code; do
	fs_wait_state "$id" DONE || continue
	fs_expect_outcome "$id" "$outcome" "$code" null null "sample $name"
done <"$FS_TMP/ids"
fs_req GET /status
printf '%s' "$FS_BODY" | grep -q '"workers":{"total":20,"idle":20,"active":0}' ||
	fs_fail "/status after the runs: $FS_BODY"

# the captured output is served by /logs, whole and as a tail
ECHO=$(sed -n 's/^echo \([0-9a-f]*\) .*/\1/p' "$FS_TMP/ids")
fs_req GET "/logs?id=$ECHO"
for line in '[echo alpha] alpha' '[echo beta] beta' '[echo omega] and omega!'; do
	printf '%s' "$FS_BODY" | grep -qF "$line" || fs_fail "/logs of echo lacks '$line': $FS_BODY"
done
printf '%s' "$FS_BODY" | grep -q '"truncated":false' || fs_fail "/logs truncated: $FS_BODY"
fs_req GET "/logs?id=$ECHO&tail=20"
printf '%s' "$FS_BODY" | grep -q '"truncated":true' || fs_fail "/logs tail: $FS_BODY"
CASCADE=$(sed -n 's/^cascade \([0-9a-f]*\) .*/\1/p' "$FS_TMP/ids")
fs_req GET "/logs?id=$CASCADE"
printf '%s' "$FS_BODY" | grep -qF "Factotum job executed abnormally" ||
	fs_fail "/logs of a failed job: $FS_BODY"
# the run's command line and supervisor are recorded; the run files are gone once recorded. The
# runner reads the spool's copy of the validated factfile, named by its SHA-256.
COPY=$FS_SPOOL/factfiles/$(sha256sum <"$S/echo.factfile" | cut -c1-64)
got=$(fs_sql "SELECT command FROM jobs WHERE id='$ECHO'")
[ "$got" = '["'"$FS_RUNNER"'","run","'"$COPY"'","--no-colour"]' ] ||
	fs_fail "recorded command: $got"
[ "$(fs_sql "SELECT pid > 1 FROM jobs WHERE id='$ECHO'")" = 1 ] || fs_fail "no pid recorded"
if ls "$FS_SPOOL/runs/$ECHO.status" "$FS_SPOOL/runs/$ECHO.pid" >/dev/null 2>&1; then
	fs_fail "status or pid file left after recording"
fi

# ---- appended options are never duplicated: a request that has --no-colour already ----
# (the runner refuses a repeated --no-colour, exit 3: a duplicate would fail the job)
fs_submit dup "$S/echo.factfile" '["--no-colour","--tag","dup,1"]'
fs_wait_state "$FS_ID" DONE && fs_expect_outcome "$FS_ID" SUCCEEDED 0 null null "--no-colour given"
got=$(fs_sql "SELECT command FROM jobs WHERE id='$FS_ID'")
[ "$got" = '["'"$FS_RUNNER"'","run","'"$COPY"'","--no-colour","--tag","dup,1"]' ] ||
	fs_fail "recorded command with --no-colour given: $got"

# ---- a run's details are recorded while it runs, a moment after its start; its factfile copy
# is a spare inode of the settled runs' files (no inode allocated on the way to the run), and
# goes back to the spares once no run uses it ----
spares=$(stat -c %i "$FS_SPOOL"/spare/s.* 2>/dev/null | sort | tr '\n' ' ')
[ -n "$spares" ] || fs_fail "no spare files after the runs above: $(ls "$FS_SPOOL/spare")"
fs_factfile slow "sleep 3"
fs_submit slow "$FS_FF"
SLOW=$FS_ID
SLOWCOPY=$FS_SPOOL/factfiles/$(sha256sum <"$FS_FF" | cut -c1-64)
i=0
while [ "$(fs_sql "SELECT state || ' ' || (pid > 1) || ' ' || (command LIKE '%run%') FROM jobs WHERE id='$SLOW'")" != "WORKING 1 1" ]; do
	i=$((i + 1))
	if [ $i -gt 100 ]; then
		fs_fail "slow's details, 2 s after its submission: $(fs_sql "SELECT state, pid, command FROM jobs WHERE id='$SLOW'")"
		break
	fi
	sleep 0.02
done
ino=$(stat -c %i "$SLOWCOPY")
case " $spares" in
*" $ino "*) ;;
*) fs_fail "slow's factfile copy (inode $ino) is no spare of: $spares" ;;
esac
[ "$(stat -c %a "$SLOWCOPY")" = 640 ] || fs_fail "slow's factfile copy: mode $(stat -c %a "$SLOWCOPY")"
cmp -s "$SLOWCOPY" "$FS_FF" || fs_fail "slow's factfile copy differs from the factfile"
fs_wait_state "$SLOW" DONE && fs_expect_outcome "$SLOW" SUCCEEDED 0 null null "slow"
[ ! -e "$SLOWCOPY" ] || fs_fail "slow's factfile copy left after its run"
stat -c %i "$FS_SPOOL"/spare/s.* | grep -qx "$ino" || fs_fail "slow's factfile copy's inode is not a spare again"

# ---- --max-workers 2: never more than 2 runners, FIFO ----
fs_stop_worker "$FS_WORKER_PID"
[ "$FS_WORKER_STATUS" = 0 ] || fs_fail "worker SIGTERM exit $FS_WORKER_STATUS"
fs_expect_get /health 503 '{"message":"worker not running","spool":"ok","worker":"not running","consul":"disabled"}'
MW=$FS_TMP/mw.log
for i in 1 2 3 4 5; do
	fs_factfile "mw$i" "echo S mw$i \$(date +%s%N) >>$MW; sleep 0.4; echo E mw$i \$(date +%s%N) >>$MW"
	fs_submit "mw$i" "$FS_FF"
done
fs_start_worker --max-workers 2
max_working=0 max_ps=0 n=0
while [ "$(fs_sql "SELECT count(*) FROM jobs WHERE job_name LIKE 'mw%' AND state='DONE'")" != 5 ]; do
	w=$(fs_sql "SELECT count(*) FROM jobs WHERE state='WORKING'")
	# runners only: each leads its own session; a task's child between fork and exec still
	# shows the runner's command line, but not as a session leader
	p=$(ps -eo pid=,sid=,args= | awk -v r="$FS_RUNNER run $FS_SPOOL/factfiles/" '
		{ pid = $1; sid = $2; $1 = ""; $2 = ""; sub(/^ +/, "") }
		pid == sid && index($0, r) == 1 { n++ }
		END { print n + 0 }')
	[ "$w" -gt "$max_working" ] && max_working=$w
	[ "$p" -gt "$max_ps" ] && max_ps=$p
	n=$((n + 1))
	[ $n -lt 300 ] || { fs_fail "mw jobs not done in time"; break; }
	sleep 0.03
done
# from the tasks' own start and end times: the most ever running at once
overlap=$(sort -k3,3n "$MW" | awk '$1 == "S" { n++; if (n > m) m = n } $1 == "E" { n-- } END { print m }')
[ "$overlap" = 2 ] || fs_fail "max-workers 2: $overlap tasks overlapped"
[ "$max_working" = 2 ] || fs_fail "max-workers 2: $max_working WORKING seen at once"
{ [ "$max_ps" -ge 1 ] && [ "$max_ps" -le 2 ]; } ||
	fs_fail "max-workers 2: $max_ps runner processes seen at once"
# FIFO: claims (run start times) in submission order, and the third waited for a free runner
starts=$(fs_sql "SELECT started_ms FROM jobs WHERE job_name LIKE 'mw%' ORDER BY seq" | tr '\n' ' ')
sorted=$(printf '%s\n' $starts | sort -n | tr '\n' ' ')
[ "$starts" = "$sorted" ] || fs_fail "FIFO: run starts $starts"
first_end=$(awk '$1 == "E" { print $3 }' "$MW" | sort -n | head -n 1)
s3=$(awk '$1 == "S" && $2 == "mw3" { print $3 }' "$MW")
[ "${s3:-0}" -gt "${first_end:-0}" ] || fs_fail "mw3 started before any runner was free"
for i in 1 2 3 4 5; do
	c=$(grep -c "^S mw$i " "$MW")
	[ "$c" = 1 ] || fs_fail "mw$i ran $c times"
done

# ---- a runner that disappears: runner-missing, and /health says so ----
fs_stop_worker "$FS_WORKER_PID"
mkdir -p "$FS_TMP/bin"
cp "$FS_RUNNER" "$FS_TMP/bin/factotum"
REAL_RUNNER=$FS_RUNNER
FS_RUNNER=$FS_TMP/bin/factotum
fs_start_worker
rm "$FS_TMP/bin/factotum"
fs_submit gone "$S/echo.factfile" '["--tag","gone,1"]'
fs_wait_state "$FS_ID" DONE && fs_expect_outcome "$FS_ID" FAILED null null runner-missing "runner gone"
fs_req GET "/logs?id=$FS_ID"
printf '%s' "$FS_BODY" | grep -qF "the runner '$FS_TMP/bin/factotum' is missing or not executable" ||
	fs_fail "/logs of runner-missing: $FS_BODY"
fs_expect_get /health 503 '{"message":"factotum runner missing","spool":"ok","worker":"runner missing","consul":"disabled"}'
fs_req GET /status
printf '%s' "$FS_BODY" | grep -q '"runner":"missing"}' || fs_fail "/status runner: $FS_BODY"
# back again: the next wake-up sees it
cp "$REAL_RUNNER" "$FS_TMP/bin/factotum"
fs_submit back "$S/echo.factfile" '["--tag","back,1"]'
fs_wait_state "$FS_ID" DONE && fs_expect_outcome "$FS_ID" SUCCEEDED 0 null null "runner back"
fs_expect_get /health 200 '{"message":"ok","spool":"ok","worker":"ok","consul":"disabled"}'

# ---- --log-max-bytes: a chatty run keeps its beginning and its end ----
fs_stop_worker "$FS_WORKER_PID"
fs_start_worker --log-max-bytes 2048
fs_factfile chatty "i=0; while [ \$i -lt 3000 ]; do echo line-\$i; i=\$((i + 1)); done"
fs_submit chatty "$FS_FF"
fs_wait_state "$FS_ID" DONE && fs_expect_outcome "$FS_ID" SUCCEEDED 0 null null "chatty"
fs_req GET "/logs?id=$FS_ID"
size=$(printf '%s' "$FS_BODY" | sed -n 's/.*"size":\([0-9]*\).*/\1/p')
{ [ "${size:-0}" -gt 1900 ] && [ "$size" -le 2048 ]; } || fs_fail "capped log size: $size"
for want in '[t] line-0\n' 'bytes omitted ...]' 'line-2999\n'; do
	printf '%s' "$FS_BODY" | grep -qF "$want" || fs_fail "capped log lacks '$want': $FS_BODY"
done
printf '%s' "$FS_BODY" | grep -qF 'line-1500\n' && fs_fail "capped log kept its middle"

fs_stop_worker "$FS_WORKER_PID"
[ "$FS_WORKER_STATUS" = 0 ] || fs_fail "worker SIGTERM exit $FS_WORKER_STATUS"
# bad options: one line, exit 2
"$FS_WORKER" --no-consul --spool "$FS_SPOOL" --log-max-bytes 10 2>"$FS_TMP/bad"
[ $? = 2 ] || fs_fail "bad --log-max-bytes: exit not 2"
[ "$(cat "$FS_TMP/bad")" = "factotum-server-worker: --log-max-bytes: '10' is too small (minimum 1024)" ] ||
	fs_fail "bad --log-max-bytes: $(cat "$FS_TMP/bad")"
fs_done
