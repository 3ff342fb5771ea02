#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The endpoints the dashboard reads, through nginx with jobs the bundled runner ran: /runs (a
# job's transitions), /stats (the outcome ring: succeeded and failed per minute and per hour),
# /factfile (the validated factfile as kept); the refusal of cross-site POSTs (Origin,
# Sec-Fetch-Site) while curl, which sends neither, and same-origin pages are served; the
# dashboard's static files at /ui/ with their headers, and /ui redirected to /ui/.
. "$FS_SRCDIR/tests/integration/worker_lib.sh"

fs_start_responder
fs_start_nginx
fs_start_worker --no-colour

# j FIELD...: the value at FIELD (keys and indexes) of the last answer, as JSON
j() {
	printf '%s' "$FS_BODY" | python3 -c 'import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1:]:
    v = v[int(k)] if isinstance(v, list) else v[k]
print(json.dumps(v, separators=(",", ":"), ensure_ascii=False))' "$@"
}

# ---- jobs that ran: two succeeded, one failed ----
fs_run_task ok1 "true" SUCCEEDED
OK1=$FS_ID OK1_FF=$FS_FF
fs_run_task ok2 "echo two" SUCCEEDED
fs_run_task bad "exit 3" FAILED
BAD=$FS_ID
fs_wait_state "$BAD" DONE

# ---- /runs: the transitions of a job that ran, oldest first, times and node as /check's ----
# expected_runs ID: the answer /runs must give for ID, built from its /check entry
expected_runs() {
	fs_req GET "/check?id=$1"
	printf '%s' "$FS_BODY" | python3 -c 'import json, sys
e = json.load(sys.stdin)
n = e["node"]
def tr(at, state, outcome, code=None, sig=None, reason=None):
    return {"at": at, "state": state, "outcome": outcome, "exitCode": code,
            "exitSignal": sig, "reason": reason, "node": n}
print(json.dumps({"jobId": e["jobRequest"]["jobId"], "transitions": [
    tr(e["submitted"], "QUEUED", "WAITING"),
    tr(e["runStarted"], "WORKING", "RUNNING"),
    tr(e["runFinished"], "DONE", e["lastOutcome"], e["exitCode"], e["exitSignal"],
       e["reason"])]}, separators=(",", ":")), end="")'
}
for id in "$OK1" "$BAD"; do
	want=$(expected_runs "$id")
	fs_expect_get "/runs?id=$id" 200 "$want"
done
fs_req GET "/runs?id=$BAD"
[ "$(j transitions 2 outcome)" = '"FAILED"' ] && [ "$(j transitions 2 exitCode)" != null ] ||
	fs_fail "/runs of the failed job: $FS_BODY"
printf '%s' "$(j transitions 0 at)" | grep -Eq '^"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z"$' ||
	fs_fail "/runs: 'at' is not ISO 8601 with milliseconds: $FS_BODY"
# the namespace form of the id, as /check takes it
fs_req GET "/runs?id=com.acme/$OK1"
[ "$FS_STATUS" = 200 ] && [ "$(j jobId)" = "\"$OK1\"" ] || fs_fail "/runs namespace/id: $FS_BODY"
NOJOB=0000000000000000000000000000000000000000000000000000000000000000
fs_expect_get "/runs?id=$NOJOB" 404 '{"message":"Error: No job entry found for id='"'$NOJOB'"'"}'
fs_expect_get /runs 400 '{"message":"Error: No '"'id'"' found in URL query parameters"}'
fs_expect_get '/runs?id=xyz' 400 '{"message":"Error: invalid id '"'xyz'"'"}'
fs_req POST /runs
[ "$FS_STATUS" = 405 ] || fs_fail "POST /runs: $FS_STATUS $FS_BODY"

# ---- /stats: every bucket of the window, oldest first, zero-filled; the three jobs counted ----
# check_stats BUCKET SPAN N: the answer's shape (starts one SPAN apart, the last one the
# bucket of the request's time) and its totals, 2 succeeded and 1 failed
check_stats() {
	before=$(date +%s)
	fs_req GET "/stats${1:+?bucket=$1}"
	after=$(date +%s)
	[ "$FS_STATUS" = 200 ] || { fs_fail "/stats?bucket=$1: $FS_STATUS $FS_BODY"; return; }
	printf '%s' "$FS_BODY" | python3 -c 'import json, sys, datetime
name, span, n, before, after = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
raw = sys.stdin.read()
v = json.loads(raw)
assert list(v) == ["bucket", "buckets"], v.keys()
assert v["bucket"] == name, v["bucket"]
b = v["buckets"]
assert len(b) == n, len(b)
def ms(s):
    d = datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
    return int(d.timestamp() * 1000)
for i, e in enumerate(b):
    assert list(e) == ["start", "succeeded", "failed"], e
    assert e["start"].endswith(".000Z"), e
    if i:
        assert ms(e["start"]) - ms(b[i - 1]["start"]) == span, (b[i - 1], e)
last = ms(b[-1]["start"])
assert last in (before * 1000 // span * span, after * 1000 // span * span), (last, before, after)
assert sum(e["succeeded"] for e in b) == 2, raw
assert sum(e["failed"] for e in b) == 1, raw
assert len(raw) == len(json.dumps(v, separators=(",", ":"))), "not compact"
' "${1:-minute}" "$2" "$3" "$before" "$after" || fs_fail "/stats?bucket=$1: $FS_BODY"
}
check_stats minute 60000 60
check_stats hour 3600000 48
check_stats "" 60000 60
fs_expect_get '/stats?bucket=day' 400 \
	'{"message":"Error: invalid bucket '"'day'"', must be one of (minute|hour)"}'
# the counts are the spool's, kept across a restart of the responder
fs_stop_responder "$FS_RESP_PID"
fs_start_responder
check_stats minute 60000 60

# ---- /factfile: the factfile the job was validated against, as the spool keeps it ----
want=$(python3 -c 'import json, sys, hashlib
raw = open(sys.argv[2], "rb").read()
print(json.dumps({"jobId": sys.argv[1], "factfilePath": sys.argv[2],
                  "sha256": hashlib.sha256(raw).hexdigest(), "factfile": json.loads(raw)},
                 separators=(",", ":"), ensure_ascii=False), end="")' "$OK1" "$OK1_FF")
fs_expect_get "/factfile?id=$OK1" 200 "$want"
# the file changed on disk since: the answer is what was validated
printf '{}' >"$OK1_FF"
fs_expect_get "/factfile?id=$OK1" 200 "$want"
fs_expect_get "/factfile?id=$NOJOB" 404 '{"message":"Error: No job entry found for id='"'$NOJOB'"'"}'
fs_expect_get /factfile 400 '{"message":"Error: No '"'id'"' found in URL query parameters"}'
# a job queued before the spool kept factfiles
fs_sql "UPDATE jobs SET factfile_sha = NULL WHERE id = '$BAD'"
fs_expect_get "/factfile?id=$BAD" 404 '{"message":"Error: No factfile kept for id='"'$BAD'"'"}'

# ---- /nodes without Consul: this node alone, counted from its spool ----
# (the worker stopped: a job stays queued)
fs_stop_worker "$FS_WORKER_PID"
fs_factfile waits "true"
fs_submit waits "$FS_FF"
fs_req GET /nodes
printf '%s' "$FS_BODY" | python3 -c 'import json, sys, re
raw = sys.stdin.read()
v = json.loads(raw)
assert v["consul"] is False and len(v["nodes"]) == 1, raw
n = v["nodes"][0]
assert list(n) == ["name", "address", "queued", "running", "updated"], raw
assert n["name"] == "factotum" and n["address"] is None, raw
assert n["queued"] == 1 and n["running"] == 0, raw
assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", n["updated"]), raw
' && [ "$FS_STATUS" = 200 ] || fs_fail "/nodes: $FS_STATUS $FS_BODY"

# ---- /jobs?scope=: cluster needs Consul; node is the default ----
fs_expect_get '/jobs?scope=cluster' 400 '{"message":"Error: scope=cluster needs Consul"}'
fs_expect_get '/jobs?scope=planet' 400 \
	'{"message":"Error: invalid scope '"'planet'"', must be one of (node|cluster)"}'
fs_req GET '/jobs?limit=2'
want=$FS_BODY
fs_expect_get '/jobs?limit=2&scope=node' 200 "$want"

# ---- cross-site POSTs refused, before anything else of the request is looked at ----
REFUSED='{"message":"Error: cross-site request refused"}'
ACK='{"message":"Update acknowledged: [state: run]"}'
RUN='{"state":"run"}'
# settings ARGS...: POST /settings {"state":"run"} with curl ARGS
settings() {
	fs_post /settings "$RUN" "$@"
}
settings -H 'Origin: http://evil.example'
fs_expect 403 "$REFUSED" "POST /settings, foreign Origin"
settings -H "Origin: http://127.0.0.1:1"
fs_expect 403 "$REFUSED" "POST /settings, Origin of another port"
settings -H "Origin: https://${FS_URL#http://}"
fs_expect 403 "$REFUSED" "POST /settings, Origin of another scheme"
settings -H 'Origin: null'
fs_expect 403 "$REFUSED" "POST /settings, Origin null"
settings -H "Origin: $FS_URL"
fs_expect 200 "$ACK" "POST /settings, own Origin"
settings -H 'Sec-Fetch-Site: cross-site'
fs_expect 403 "$REFUSED" "POST /settings, Sec-Fetch-Site cross-site"
settings -H 'Sec-Fetch-Site: same-site'
fs_expect 403 "$REFUSED" "POST /settings, Sec-Fetch-Site same-site"
settings -H 'Sec-Fetch-Site: same-origin' -H "Origin: $FS_URL"
fs_expect 200 "$ACK" "POST /settings, same-origin with own Origin"
settings -H 'Sec-Fetch-Site: same-origin'
fs_expect 200 "$ACK" "POST /settings, same-origin"
settings -H 'Sec-Fetch-Site: same-origin' -H 'Origin: http://evil.example'
fs_expect 403 "$REFUSED" "POST /settings, same-origin with a foreign Origin"
settings
fs_expect 200 "$ACK" "POST /settings, neither header (curl)"
# every POST: refused before the body is read (a bad body would be 400)
fs_post /submit 'not json' -H 'Origin: http://evil.example'
fs_expect 403 "$REFUSED" "POST /submit, foreign Origin"
fs_post /cancel "{\"id\":\"$NOJOB\"}" -H 'Sec-Fetch-Site: cross-site'
fs_expect 403 "$REFUSED" "POST /cancel, cross-site"
fs_post /cancel "{\"id\":\"$NOJOB\"}" -H "Origin: $FS_URL"
fs_expect 404 '{"message":"Error: No job entry found for id='"'$NOJOB'"'"}' "POST /cancel, own Origin"
# the refusal is logged as every POST is
grep -q "POST /submit user=- addr=127.0.0.1 job=- status=403" "$FS_TMP/responder.log" ||
	fs_fail "no audit line for the refused POST"
# GETs are not refused: nothing they do changes the node
fs_req GET /stats - -H 'Origin: http://evil.example' -H 'Sec-Fetch-Site: cross-site'
[ "$FS_STATUS" = 200 ] || fs_fail "GET with a foreign Origin: $FS_STATUS $FS_BODY"

# ---- the dashboard's files at /ui/, with their headers ----
CSP="default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
# header NAME: the value of the last answer's header NAME (any case)
header() {
	sed -n "s/^$1: *\\(.*\\)\\r\$/\\1/Ip" "$FS_TMP/headers"
}
for f in index.html app.js style.css; do
	path=/ui/$f
	[ "$f" = index.html ] && path=/ui/
	fs_req GET "$path"
	[ "$FS_STATUS" = 200 ] || fs_fail "GET $path: $FS_STATUS"
	cmp -s "$FS_TMP/body" "$FS_SRCDIR/www/$f" || fs_fail "GET $path: not www/$f"
	[ "$(header Content-Security-Policy)" = "$CSP" ] ||
		fs_fail "GET $path: Content-Security-Policy '$(header Content-Security-Policy)'"
	[ "$(header X-Content-Type-Options)" = nosniff ] ||
		fs_fail "GET $path: X-Content-Type-Options '$(header X-Content-Type-Options)'"
	[ "$(header Referrer-Policy)" = no-referrer ] ||
		fs_fail "GET $path: Referrer-Policy '$(header Referrer-Policy)'"
done
fs_req GET /ui/
[ "$FS_CTYPE" = "text/html; charset=utf-8" ] || fs_fail "GET /ui/: Content-Type '$FS_CTYPE'"
fs_req GET /ui/app.js
[ "$FS_CTYPE" = "text/javascript; charset=utf-8" ] ||
	fs_fail "GET /ui/app.js: Content-Type '$FS_CTYPE'"
fs_req GET /ui/style.css
[ "$FS_CTYPE" = "text/css; charset=utf-8" ] || fs_fail "GET /ui/style.css: Content-Type '$FS_CTYPE'"
fs_req GET /ui
[ "$FS_STATUS" = 301 ] || fs_fail "GET /ui: $FS_STATUS"
case $(header Location) in */ui/) ;; *) fs_fail "GET /ui: Location '$(header Location)'" ;; esac
fs_req GET /ui/nope.html
[ "$FS_STATUS" = 404 ] || fs_fail "GET /ui/nope.html: $FS_STATUS"
# the files are nginx's: the responder never sees /ui/ (nor a path with /ui as a prefix)
fs_expect_get /uix 404 '{"message":"Error: No endpoint found for path '"'/uix'"'"}'

fs_done
