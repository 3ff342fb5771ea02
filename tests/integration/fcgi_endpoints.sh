#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Every endpoint of the HTTP API through a real nginx: status codes and bodies byte for byte,
# compact and ?pretty=1, the JSON content type, 404/405, nginx's own JSON errors.
. "$FS_SRCDIR/tests/integration/lib.sh"
fs_need_nginx

fs_start_responder
fs_start_nginx
FF=$FS_TMP/ff/echo.factfile
cp "$FS_TESTDATA/samples/echo.factfile" "$FF"

# ---- / and /help: the original's shape, keyed by path, sorted as its serde map ----
HELP='{"/":{"function":"Returns this message!","params":"pretty=1"},"/cancel":{"body":{"id":"[id string]"},"function":"Cancels a job: a QUEUED job is removed, a WORKING job is stopped by the worker.","params":"pretty=1"},"/check":{"function":"Fetches the state of a job by the ID.","params":"pretty=1, id=[id string]"},"/factfile":{"function":"Returns the factfile the job was validated against, as this node keeps it.","params":"pretty=1, id=[id string]"},"/health":{"function":"Returns 200 when the spool is writable with free space above --min-free-space, the worker is alive and Consul (if enabled) answers; 503 naming the failing part otherwise.","params":"pretty=1"},"/help":{"function":"Returns this message!","params":"pretty=1"},"/jobs":{"function":"Lists this node'"'"'s jobs, newest first.","params":"pretty=1, state=[QUEUED|WORKING|DONE], outcome=[WAITING|RUNNING|SUCCEEDED|FAILED], name=[jobName], idPrefix=[hex], limit=[n], offset=[n], before=[cursor], scope=[node|cluster]"},"/logs":{"function":"Returns the captured output of the job'"'"'s last run on this node.","params":"pretty=1, id=[id string], tail=[bytes]"},"/metrics":{"function":"Returns the server'"'"'s metrics in the Prometheus text format.","params":""},"/nodes":{"function":"Lists the cluster'"'"'s live nodes with their queued and running jobs (without Consul, this node).","params":"pretty=1"},"/runs":{"function":"Returns the job'"'"'s transitions on this node, oldest first (the last 1000).","params":"pretty=1, id=[id string]"},"/schedules":{"function":"Lists the schedules with their next slots and last fired slot; with name, one schedule with its slot history, newest first.","params":"pretty=1, name=[schedule name]"},"/schedules/delete":{"body":{"name":"[schedule name]"},"function":"Deletes a schedule and its slot history (its jobs stay).","params":"pretty=1"},"/schedules/pause":{"body":{"name":"[schedule name]"},"function":"Pauses a schedule: no slot fires until it is resumed.","params":"pretty=1"},"/schedules/resume":{"body":{"name":"[schedule name]"},"function":"Resumes a paused schedule from its next slot.","params":"pretty=1"},"/schedules/run":{"body":{"name":"[schedule name]"},"function":"Fires one slot of the schedule now (the current second).","params":"pretty=1"},"/schedules/set":{"body":{"catchUp":"none|last|[1..100]","cron":"[5 or 6 fields, or @hourly|@daily|@weekly|@monthly|@yearly]","factfileArgs":"[array of strings]","factfilePath":"[string]","jobName":"[string]","name":"[A-Za-z0-9._-]{1,64}","overlap":"allow|skip","timezone":"[IANA name, default UTC]"},"function":"Creates or replaces a schedule: each slot of its cron expression becomes a job, validated as /submit validates it.","params":"pretty=1"},"/settings":{"body":{"state":"run|drain"},"function":"Updates settings within the server.","params":"pretty=1"},"/stats":{"function":"Returns this node'"'"'s succeeded and failed jobs per minute (the last 60) or per hour (the last 48).","params":"pretty=1, bucket=[minute|hour]"},"/status":{"function":"Returns general information about the server and host system.","params":"pretty=1"},"/submit":{"body":{"factfileArgs":"[ --start step-2 ]","factfilePath":"/com.acme-main/factfile","jobName":"com.acme-main"},"function":"Submits a job to the queue.","params":"pretty=1"}}'
fs_expect_get / 200 "$HELP"
fs_expect_get /help 200 "$HELP"
fs_expect_get '/help?pretty=0' 200 "$HELP"
HELP_PRETTY=$(cat <<'EOF'
{
  "/": {
    "function": "Returns this message!",
    "params": "pretty=1"
  },
  "/cancel": {
    "body": {
      "id": "[id string]"
    },
    "function": "Cancels a job: a QUEUED job is removed, a WORKING job is stopped by the worker.",
    "params": "pretty=1"
  },
  "/check": {
    "function": "Fetches the state of a job by the ID.",
    "params": "pretty=1, id=[id string]"
  },
  "/factfile": {
    "function": "Returns the factfile the job was validated against, as this node keeps it.",
    "params": "pretty=1, id=[id string]"
  },
  "/health": {
    "function": "Returns 200 when the spool is writable with free space above --min-free-space, the worker is alive and Consul (if enabled) answers; 503 naming the failing part otherwise.",
    "params": "pretty=1"
  },
  "/help": {
    "function": "Returns this message!",
    "params": "pretty=1"
  },
  "/jobs": {
    "function": "Lists this node's jobs, newest first.",
    "params": "pretty=1, state=[QUEUED|WORKING|DONE], outcome=[WAITING|RUNNING|SUCCEEDED|FAILED], name=[jobName], idPrefix=[hex], limit=[n], offset=[n], before=[cursor], scope=[node|cluster]"
  },
  "/logs": {
    "function": "Returns the captured output of the job's last run on this node.",
    "params": "pretty=1, id=[id string], tail=[bytes]"
  },
  "/metrics": {
    "function": "Returns the server's metrics in the Prometheus text format.",
    "params": ""
  },
  "/nodes": {
    "function": "Lists the cluster's live nodes with their queued and running jobs (without Consul, this node).",
    "params": "pretty=1"
  },
  "/runs": {
    "function": "Returns the job's transitions on this node, oldest first (the last 1000).",
    "params": "pretty=1, id=[id string]"
  },
  "/schedules": {
    "function": "Lists the schedules with their next slots and last fired slot; with name, one schedule with its slot history, newest first.",
    "params": "pretty=1, name=[schedule name]"
  },
  "/schedules/delete": {
    "body": {
      "name": "[schedule name]"
    },
    "function": "Deletes a schedule and its slot history (its jobs stay).",
    "params": "pretty=1"
  },
  "/schedules/pause": {
    "body": {
      "name": "[schedule name]"
    },
    "function": "Pauses a schedule: no slot fires until it is resumed.",
    "params": "pretty=1"
  },
  "/schedules/resume": {
    "body": {
      "name": "[schedule name]"
    },
    "function": "Resumes a paused schedule from its next slot.",
    "params": "pretty=1"
  },
  "/schedules/run": {
    "body": {
      "name": "[schedule name]"
    },
    "function": "Fires one slot of the schedule now (the current second).",
    "params": "pretty=1"
  },
  "/schedules/set": {
    "body": {
      "catchUp": "none|last|[1..100]",
      "cron": "[5 or 6 fields, or @hourly|@daily|@weekly|@monthly|@yearly]",
      "factfileArgs": "[array of strings]",
      "factfilePath": "[string]",
      "jobName": "[string]",
      "name": "[A-Za-z0-9._-]{1,64}",
      "overlap": "allow|skip",
      "timezone": "[IANA name, default UTC]"
    },
    "function": "Creates or replaces a schedule: each slot of its cron expression becomes a job, validated as /submit validates it.",
    "params": "pretty=1"
  },
  "/settings": {
    "body": {
      "state": "run|drain"
    },
    "function": "Updates settings within the server.",
    "params": "pretty=1"
  },
  "/stats": {
    "function": "Returns this node's succeeded and failed jobs per minute (the last 60) or per hour (the last 48).",
    "params": "pretty=1, bucket=[minute|hour]"
  },
  "/status": {
    "function": "Returns general information about the server and host system.",
    "params": "pretty=1"
  },
  "/submit": {
    "body": {
      "factfileArgs": "[ --start step-2 ]",
      "factfilePath": "/com.acme-main/factfile",
      "jobName": "com.acme-main"
    },
    "function": "Submits a job to the queue.",
    "params": "pretty=1"
  }
}
EOF
)
fs_expect_get '/help?pretty=1' 200 "$HELP_PRETTY"

# ---- unknown path, wrong method ----
fs_expect_get /nope 404 '{"message":"Error: No endpoint found for path '"'/nope'"'"}'
fs_expect_get '/nope?pretty=1' 404 '{
  "message": "Error: No endpoint found for path '"'/nope'"'"
}'
fs_post /help '{}'
fs_expect 405 '{"message":"Error: Method POST not allowed for /help (allowed: GET)"}' "POST /help"
grep -q '^Allow: GET' "$FS_TMP/headers" || fs_fail "405 without Allow: GET"
fs_expect_get /submit 405 '{"message":"Error: Method GET not allowed for /submit (allowed: POST)"}'
grep -q '^Allow: POST' "$FS_TMP/headers" || fs_fail "405 without Allow: POST"

# ---- /status: the seed's shape and formats; times checked by pattern, the rest exactly ----
status_norm() {
	printf '%s' "$FS_BODY" | sed -e 's/"startTime":"[0-9]\{4\}-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9] UTC"/"startTime":"T"/' \
		-e 's/"startTime": "[0-9]\{4\}-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9] UTC"/"startTime": "T"/' \
		-e 's/"upTime":\( \{0,1\}\)"[0-9][0-9]* Days, [0-9][0-9]* Hours, [0-9][0-9]* Minutes, [0-9][0-9]* Seconds"/"upTime":\1"U"/'
}
fs_req GET /status
FS_BODY=$(status_norm)
fs_expect 200 '{"version":"0.1.0","server":{"startTime":"T","upTime":"U","state":"run"},"dispatcher":{"workers":{"total":20,"idle":20,"active":0},"jobs":{"maxQueueSize":1000,"inQueue":0}},"worker":{"alive":false,"socket":"'"$FS_SPOOL"'/worker.sock"},"spool":{"queued":0,"working":0,"done":0},"consul":{"enabled":false}}' "GET /status"
fs_req GET '/status?pretty=1'
FS_BODY=$(status_norm)
fs_expect 200 '{
  "version": "0.1.0",
  "server": {
    "startTime": "T",
    "upTime": "U",
    "state": "run"
  },
  "dispatcher": {
    "workers": {
      "total": 20,
      "idle": 20,
      "active": 0
    },
    "jobs": {
      "maxQueueSize": 1000,
      "inQueue": 0
    }
  },
  "worker": {
    "alive": false,
    "socket": "'"$FS_SPOOL"'/worker.sock"
  },
  "spool": {
    "queued": 0,
    "working": 0,
    "done": 0
  },
  "consul": {
    "enabled": false
  }
}' "GET /status?pretty=1"

# ---- /settings: the original's messages ----
fs_req POST /settings
fs_expect 400 '{"message":"Error: No body found in POST request"}' "POST /settings (no body)"
fs_expect_post /settings '{"state":"drain"' 400 '{"message":"Error decoding JSON string: unexpected end of data at line 1 column 17"}'
fs_expect_post /settings '{"state":"walk"}' 400 '{"message":"Validation Error: Invalid '"'state'"', must be one of (run|drain)"}'
fs_expect_post /settings '{"state":"DRAIN"}' 400 '{"message":"Validation Error: Invalid '"'state'"', must be one of (run|drain)"}'
fs_expect_post /settings '{}' 400 '{"message":"Error decoding JSON string: missing field `state`"}'
fs_expect_post /settings '{"state":1}' 400 '{"message":"Error decoding JSON string: invalid type: integer, expected a string for field `state`"}'
fs_expect_post /settings '["drain"]' 400 '{"message":"Error decoding JSON string: invalid type: sequence, expected struct SettingsRequest"}'
fs_expect_post /settings '{"state":"drain"}' 200 '{"message":"Update acknowledged: [state: drain]"}'
fs_post '/settings?pretty=1' '{"state":"drain"}'
fs_expect 200 '{
  "message": "Update acknowledged: [state: drain]"
}' "POST /settings?pretty=1"

# ---- /submit ----
SUB='{"jobName":"echo","factfilePath":"'"$FF"'","factfileArgs":["--tag","k,v"]}'
fs_expect_post /submit "$SUB" 503 '{"message":"Server in [drain] state - cannot submit job"}'
fs_expect_post /settings '{"state":"run"}' 200 '{"message":"Update acknowledged: [state: run]"}'
fs_req POST /submit
fs_expect 400 '{"message":"Error: No body found in POST request"}' "POST /submit (no body)"
fs_expect_post /submit '{"jobName":"","factfilePath":"'"$FF"'"}' 400 '{"message":"Validation Error: No valid value found: field '"'jobName'"' cannot be empty"}'
fs_expect_post /submit '{"jobName":"x","factfilePath":""}' 400 '{"message":"Validation Error: No valid value found: field '"'factfilePath'"' cannot be empty"}'
fs_expect_post /submit '{"jobName":"x","factfilePath":"/tmp/somewhere"}' 400 '{"message":"Validation Error: Value does not exist on host for '"'factfilePath'"':'"'/tmp/somewhere'"'"}'
fs_expect_post /submit '{"jobName":"x"}' 400 '{"message":"Error decoding JSON string: missing field `factfilePath`"}'
fs_post /submit "$SUB"
ID=$(printf '%s' "$FS_BODY" | sed -n 's/.*"jobId":"\([0-9a-f]\{64\}\)".*/\1/p')
[ -n "$ID" ] || fs_fail "no jobId in $FS_BODY"
fs_expect 200 '{"message":"SUBMITTING JOB REQ jobId:['"$ID"']","jobId":"'"$ID"'"}' "POST /submit"
fs_expect_post /submit "$SUB" 409 '{"message":"Job is already being processed"}'
fs_post '/submit?pretty=1' "$SUB"
fs_expect 409 '{
  "message": "Job is already being processed"
}' "POST /submit?pretty=1 (duplicate)"
# the same job with other tags is another job
SUB2='{"jobName":"echo","factfilePath":"'"$FF"'","factfileArgs":["--tag","k,w"]}'
fs_post '/submit?pretty=1' "$SUB2"
ID2=$(printf '%s' "$FS_BODY" | sed -n 's/.*"jobId": "\([0-9a-f]\{64\}\)".*/\1/p')
fs_expect 200 '{
  "message": "SUBMITTING JOB REQ jobId:['"$ID2"']",
  "jobId": "'"$ID2"'"
}' "POST /submit?pretty=1"
[ "$ID" != "$ID2" ] || fs_fail "two tag sets gave one id"

# ---- /check ----
fs_expect_get /check 400 '{"message":"Error: No '"'id'"' found in URL query parameters"}'
fs_expect_get '/check?id=' 400 '{"message":"Error: invalid id '"''"'"}'
fs_expect_get '/check?id=ABC' 400 '{"message":"Error: invalid id '"'ABC'"'"}'
UPPER=$(printf '%s' "$ID" | tr a-f A-F)
fs_expect_get "/check?id=$UPPER" 400 '{"message":"Error: invalid id '"'$UPPER'"'"}'
UNKNOWN=0000000000000000000000000000000000000000000000000000000000000000
fs_expect_get "/check?id=$UNKNOWN" 404 '{"message":"Error: No job entry found for id='"'$UNKNOWN'"'"}'
check_norm() {
	printf '%s' "$FS_BODY" | sed -e 's/"\(submitted\|updated\)":\( \{0,1\}\)"[0-9]\{4\}-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\.[0-9]\{3\}Z"/"\1":\2"T"/g'
}
ENTRY='{"state":"QUEUED","jobRequest":{"jobId":"'"$ID"'","jobName":"echo","factfilePath":"'"$FF"'","factfileArgs":["--tag","k,v"]},"lastRunFrom":"factotum","lastOutcome":"WAITING","node":"factotum","submitted":"T","updated":"T","runStarted":null,"runFinished":null,"exitCode":null,"exitSignal":null,"reason":null}'
fs_req GET "/check?id=$ID"
FS_BODY=$(check_norm)
fs_expect 200 "$ENTRY" "GET /check"
fs_req GET "/check?id=com.snowplowanalytics/factotum/$ID"
FS_BODY=$(check_norm)
fs_expect 200 "$ENTRY" "GET /check with the namespace"
fs_req GET "/check?id=$ID&pretty=1"
FS_BODY=$(check_norm)
fs_expect 200 '{
  "state": "QUEUED",
  "jobRequest": {
    "jobId": "'"$ID"'",
    "jobName": "echo",
    "factfilePath": "'"$FF"'",
    "factfileArgs": [
      "--tag",
      "k,v"
    ]
  },
  "lastRunFrom": "factotum",
  "lastOutcome": "WAITING",
  "node": "factotum",
  "submitted": "T",
  "updated": "T",
  "runStarted": null,
  "runFinished": null,
  "exitCode": null,
  "exitSignal": null,
  "reason": null
}' "GET /check?pretty=1"

# ---- /jobs: newest first, filters ----
fs_req GET '/jobs?limit=1'
printf '%s' "$FS_BODY" | grep -q "^{\"jobs\":\[{\"state\":\"QUEUED\",\"jobRequest\":{\"jobId\":\"$ID2\".*}\],\"limit\":1,\"offset\":0,\"next\":\"[0-9]*-$ID2\"}\$" ||
	fs_fail "/jobs?limit=1: $FS_BODY"
fs_req GET '/jobs?limit=1&offset=1'
printf '%s' "$FS_BODY" | grep -q "^{\"jobs\":\[{\"state\":\"QUEUED\",\"jobRequest\":{\"jobId\":\"$ID\".*}\],\"limit\":1,\"offset\":1}\$" ||
	fs_fail "/jobs?offset=1: $FS_BODY"
fs_expect_get '/jobs?state=DONE' 200 '{"jobs":[],"limit":100,"offset":0}'
fs_expect_get '/jobs?state=done&offset=5&pretty=1' 200 '{
  "jobs": [],
  "limit": 100,
  "offset": 5
}'
fs_expect_get '/jobs?state=LOST' 400 '{"message":"Error: invalid state '"'LOST'"', must be one of (QUEUED|WORKING|DONE)"}'
fs_expect_get '/jobs?limit=0' 400 '{"message":"Error: invalid limit '"'0'"', must be a number from 1 to 1000"}'
fs_expect_get '/jobs?offset=-1' 400 '{"message":"Error: invalid offset '"'-1'"', must be a number from 0 to 10000"}'

# ---- /logs: no worker has run anything ----
fs_expect_get /logs 400 '{"message":"Error: No '"'id'"' found in URL query parameters"}'
fs_expect_get "/logs?id=$UNKNOWN" 404 '{"message":"Error: No job entry found for id='"'$UNKNOWN'"'"}'
fs_expect_get "/logs?id=$ID" 404 '{"message":"Error: No logs found for id='"'$ID'"' (no run of it on this node has captured any output)"}'
fs_expect_get "/logs?id=$ID&tail=x" 400 '{"message":"Error: invalid tail '"'x'"', must be a number from 1 to 1048576"}'

# ---- /health and /metrics ----
fs_expect_get /health 503 '{"message":"worker not running","spool":"ok","worker":"not running","consul":"disabled"}'
fs_expect_get '/health?pretty=1' 503 '{
  "message": "worker not running",
  "spool": "ok",
  "worker": "not running",
  "consul": "disabled"
}'
fs_req GET /metrics
[ "$FS_STATUS" = 200 ] || fs_fail "/metrics status $FS_STATUS"
[ "$FS_CTYPE" = "text/plain; version=0.0.4; charset=utf-8" ] || fs_fail "/metrics type $FS_CTYPE"
for line in 'factotum_server_submissions_total{result="accepted"} 2' \
	'factotum_server_submissions_total{result="duplicate"} 2' \
	'factotum_server_submissions_total{result="draining"} 1' \
	'factotum_server_submissions_total{result="invalid"} 5' \
	'factotum_server_queue_depth 2' 'factotum_server_runners_running 0' \
	'factotum_server_worker_up 0' 'factotum_server_jobs{state="QUEUED"} 2' \
	'factotum_server_consul_errors_total 0' '# TYPE factotum_server_run_duration_seconds histogram'; do
	printf '%s\n' "$FS_BODY" | grep -qxF "$line" || fs_fail "/metrics lacks '$line'"
done

# ---- /cancel ----
fs_req POST /cancel
fs_expect 400 '{"message":"Error: No body found in POST request"}' "POST /cancel (no body)"
fs_expect_post /cancel '{}' 400 '{"message":"Error decoding JSON string: missing field `id`"}'
fs_expect_post /cancel '{"id":"nope"}' 400 '{"message":"Error: invalid id '"'nope'"'"}'
fs_expect_post /cancel '{"id":"'"$UNKNOWN"'"}' 404 '{"message":"Error: No job entry found for id='"'$UNKNOWN'"'"}'
fs_expect_post /cancel '{"id":"'"$ID2"'"}' 200 '{"message":"Cancelled QUEUED job jobId:['"$ID2"']","jobId":"'"$ID2"'"}'
fs_expect_post /cancel '{"id":"'"$ID2"'"}' 409 '{"message":"Job jobId:['"$ID2"'] is already DONE (outcome FAILED): nothing to cancel","jobId":"'"$ID2"'"}'
fs_req GET "/check?id=$ID2"
printf '%s' "$FS_BODY" | grep -q '"state":"DONE",.*"lastOutcome":"FAILED",.*"reason":"cancelled"}$' ||
	fs_fail "cancelled job: $FS_BODY"
# a DONE job may be submitted again
fs_expect_post /submit "$SUB2" 200 '{"message":"SUBMITTING JOB REQ jobId:['"$ID2"']","jobId":"'"$ID2"'"}'
# a WORKING job: only the worker can stop it; the request is recorded for it (needs sqlite3 to
# put a job in WORKING without a worker)
command -v sqlite3 >/dev/null 2>&1 || fs_fail "sqlite3 (installed by scripts/install-deps.sh) is missing"
if command -v sqlite3 >/dev/null 2>&1; then
	sqlite3 -cmd ".timeout 5000" "$FS_SPOOL/spool.db" "UPDATE jobs SET state='WORKING', outcome='RUNNING' WHERE id='$ID';" ||
		fs_fail "sqlite3 update"
	fs_expect_post /cancel '{"id":"'"$ID"'"}' 202 '{"message":"Cancel requested for WORKING job jobId:['"$ID"']: recorded, but no worker is running on this node to act on it","jobId":"'"$ID"'"}'
	got=$(sqlite3 "$FS_SPOOL/spool.db" "SELECT count(*) FROM settings WHERE key='cancel.$ID'")
	[ "$got" = 1 ] || fs_fail "cancel request not recorded ($got)"
	# the run fields of a finished job, as the worker records them
	sqlite3 -cmd ".timeout 5000" "$FS_SPOOL/spool.db" "UPDATE jobs SET state='DONE', outcome='FAILED', started_ms=1764324000123, finished_ms=1764324061005, exit_code=3, exit_signal=9, reason='runner \"killed\"' WHERE id='$ID';" ||
		fs_fail "sqlite3 update"
	fs_req GET "/check?id=$ID"
	FS_BODY=$(check_norm)
	fs_expect 200 '{"state":"DONE","jobRequest":{"jobId":"'"$ID"'","jobName":"echo","factfilePath":"'"$FF"'","factfileArgs":["--tag","k,v"]},"lastRunFrom":"factotum","lastOutcome":"FAILED","node":"factotum","submitted":"T","updated":"T","runStarted":"2025-11-28T10:00:00.123Z","runFinished":"2025-11-28T10:01:01.005Z","exitCode":3,"exitSignal":9,"reason":"runner \"killed\""}' "GET /check (a finished run)"
	fs_req GET '/jobs?state=DONE&limit=1'
	FS_BODY=$(check_norm)
	case $FS_BODY in
	'{"jobs":[{"state":"DONE","jobRequest":{"jobId":"'"$ID"'",'*'"runStarted":"2025-11-28T10:00:00.123Z","runFinished":"2025-11-28T10:01:01.005Z","exitCode":3,"exitSignal":9,"reason":"runner \"killed\""}],"limit":1,"offset":0}') ;;
	*) fs_fail "/jobs?state=DONE: $FS_BODY" ;;
	esac
fi

# ---- nginx's own errors are JSON too ----
head -c 70000 /dev/zero | tr '\0' ' ' >"$FS_TMP/big"
fs_req POST /submit "$FS_TMP/big"
fs_expect 413 '{"message":"Error: Request body too large (limit 64 KiB)"}' "POST /submit (70000 bytes)"
# the responder's own limit, behind an nginx that lets a bigger body through
FS_SITE_SED='s/client_max_body_size 64k;/client_max_body_size 1m;/' fs_start_nginx "" nginx-big
fs_req POST /submit "$FS_TMP/big"
fs_expect 413 '{"message":"Error: Request body too large (limit 64 KiB)"}' "POST /submit (70000 bytes, responder)"
fs_req POST '/settings?pretty=1' "$FS_TMP/big" -H 'Content-Type: application/json'
fs_expect 413 '{
  "message": "Error: Request body too large (limit 64 KiB)"
}' "POST /settings (70000 bytes, responder)"
fs_expect_get /health 503 '{"message":"worker not running","spool":"ok","worker":"not running","consul":"disabled"}'
grep -q 'client intended to send too large body' "$FS_TMP/nginx-big/error.log" &&
	fs_fail "nginx-big refused the body itself"

# ---- the JSON content type as the original sent it, header line for header line ----
# ctype_of STATUS [curl args...] URL: the answer's status must be STATUS and its one
# Content-Type header exactly the original's.
ctype_of() {
	want=$1
	shift
	head=$(curl -s -D - -o /dev/null "$@" | tr -d '\r')
	status=$(printf '%s\n' "$head" | sed -n '1s/^HTTP\/[0-9.]* \([0-9]*\).*/\1/p')
	types=$(printf '%s\n' "$head" | grep -i '^content-type:')
	[ "$status" = "$want" ] || fs_fail "$*: status $status, expected $want"
	[ "$types" = 'Content-Type: application/json; charset=UTF-8' ] ||
		fs_fail "$*: Content-Type header(s) '$types'"
}
ctype_of 200 "$FS_URL/help"
ctype_of 400 "$FS_URL/check"
ctype_of 404 "$FS_URL/nope"
ctype_of 405 -X POST "$FS_URL/jobs"
# nginx's own (no responder behind this one's socket): the body limit, the missing responder
fs_start_nginx "$FS_TMP/no-responder.sock" nginx-gone
ctype_of 413 --data-binary "@$FS_TMP/big" "$FS_URL/submit"
ctype_of 502 "$FS_URL/status"

fs_done
