#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Strict UTF-8 through nginx: a request string that is not UTF-8 (RFC 3629: overlongs,
# surrogates raw or as lone \u escapes, values above U+10FFFF, truncated sequences), in a body
# field or a query parameter, gets 400 "Error: invalid UTF-8 in <field>" and stores nothing;
# jobName is at most 256 bytes; and every answer decodes as strict UTF-8 JSON, even when the
# spool holds bytes that are not UTF-8 (an older server's rows, written here with sqlite3) and
# when an echoed value was not.
. "$FS_SRCDIR/tests/integration/lib.sh"
fs_need_nginx

fs_start_responder
fs_start_nginx
FF=$FS_TMP/ff/echo.factfile
cp "$FS_TESTDATA/samples/echo.factfile" "$FF"

# strict [PYTHON-EXPR]: the last answer decodes as UTF-8 (strictly) and then as JSON; with an
# expression over the decoded value v, that expression must also hold.
strict() {
	python3 - "$FS_TMP/body" "${1:-True}" <<'EOF' && return 0
import json, sys
v = json.loads(open(sys.argv[1], "rb").read().decode("utf-8", "strict"))
sys.exit(0 if eval(sys.argv[2]) else 1)
EOF
	fs_fail "answer not strict UTF-8 JSON${1:+, or not $1}: $FS_BODY"
}
# post PATH FORMAT: POST the body printf makes of FORMAT (octal escapes for raw bytes)
post() {
	# shellcheck disable=SC2059
	printf "$2" >"$FS_TMP/req"
	fs_req POST "$1" "$FS_TMP/req"
	strict
}
# sub NAME PATH ARGS: the /submit body's printf format
sub() {
	printf '{"jobName":"%s","factfilePath":"%s","factfileArgs":[%s]}' "$1" "$2" "$3"
}
# bad FIELD NAME PATH ARGS: /submit answers 400 naming FIELD
bad() {
	post /submit "$(sub "$2" "$3" "$4")"
	fs_expect 400 '{"message":"Error: invalid UTF-8 in '"$1"'"}' "submit $2 $3 $4"
}
get() {
	fs_req GET "$1"
	strict
}

# ---- body fields, each kind of ill-formed sequence ----
bad jobName 'a\377' "$FF" ''
bad jobName 'caf\303' "$FF" ''                                # truncated
bad jobName 'x\342\202y' "$FF" ''                             # truncated, then ASCII
bad factfilePath 'a' "$FF\300\257" ''                         # overlong '/'
bad factfilePath 'a' "$FF\340\200\257" ''                     # overlong in three bytes
bad 'factfileArgs[1]' 'a' "$FF" '"--tag","x,\355\240\200"'    # U+D800 encoded
bad 'factfileArgs[0]' 'a' "$FF" '"\364\220\200\200"'          # U+110000
bad 'factfileArgs[0]' 'a' "$FF" '"\370\210\200\200\200"'      # the old five-byte form
bad jobName '\\ud800' "$FF" ''                                 # lone high surrogate escape
bad jobName 'a\\ud83d\\u0041' "$FF" ''                         # high, then not a low one
bad 'factfileArgs[3]' 'a' "$FF" '"--tag","t,1","--tag","\\udc00"' # lone low one
bad 'other[0]' 'a' "$FF" '""],"other":["\377"'                # an unknown key's too
# the syntax is judged first
post /submit '{"jobName":"\377'
fs_expect 400 '{"message":"Error decoding JSON string: unexpected end of data at line 1 column 14"}' "cut body"
# /cancel and /settings
post /cancel '{"id":"\377"}'
fs_expect 400 '{"message":"Error: invalid UTF-8 in id"}' "cancel"
post /settings '{"state":"\\udfff"}'
fs_expect 400 '{"message":"Error: invalid UTF-8 in state"}' "settings"

# ---- jobName length: 256 bytes (here 128 two-byte characters) pass, 257 do not ----
n256=$(python3 -c 'print("\\303\\251" * 128, end="")')
post /submit "$(sub "${n256}x" "$FF" '')"
fs_expect 400 '{"message":"Error: jobName is longer than 256 bytes"}' "257-byte jobName"
[ "$(fs_rows)" = 0 ] || fs_fail "refused requests stored $(fs_rows) rows"
post /submit "$(sub "$n256" "$FF" '')"
[ "$FS_STATUS" = 200 ] || fs_fail "256-byte jobName: $FS_STATUS $FS_BODY"

# ---- well-formed text is accepted and given back exactly: a pair escape, the edges ----
post /submit "$(sub 'caf\303\251 \\ud83d\\ude00 \364\217\277\277 \355\237\277 \\ufffd' "$FF" \
	'"--tag","t,\360\220\200\200"')"
[ "$FS_STATUS" = 200 ] || fs_fail "well-formed jobName: $FS_STATUS $FS_BODY"
GOOD=$(printf '%s' "$FS_BODY" | sed -n 's/.*"jobId":"\([0-9a-f]*\)".*/\1/p')
get "/check?id=$GOOD"
strict 'v["jobRequest"]["jobName"] == "caf\u00e9 \U0001F600 \U0010FFFF \uD7FF \uFFFD" and v["jobRequest"]["factfileArgs"] == ["--tag", "t,\U00010000"]'

# ---- query parameters: 400 naming the parameter, the value never echoed ----
get '/check?id=%ff%fe'
fs_expect 400 '{"message":"Error: invalid UTF-8 in id"}' "/check?id=%ff%fe"
get '/logs?id=%ed%a0%80'
fs_expect 400 '{"message":"Error: invalid UTF-8 in id"}' "/logs?id=%ed%a0%80"
get '/jobs?state=%c0%af'
fs_expect 400 '{"message":"Error: invalid UTF-8 in state"}' "/jobs?state=%c0%af"
get '/jobs?limit=1&offset=%f4%90%80%80'
fs_expect 400 '{"message":"Error: invalid UTF-8 in offset"}' "/jobs?offset=..."
get '/status?x=%e2%82'
fs_expect 400 '{"message":"Error: invalid UTF-8 in x"}' "/status?x=%e2%82"
get "/check?id=$GOOD&pretty=%ff"
fs_expect 400 '{"message":"Error: invalid UTF-8 in pretty"}' "/check?pretty=%ff"
# a name that is not UTF-8 is named with U+FFFD
get '/status?a%ff=1'
fs_expect 400 "$(printf '{"message":"Error: invalid UTF-8 in a\357\277\275"}')" "/status?a%ff=1"
# a path is echoed, with U+FFFD for what is not UTF-8
get '/nope%ff'
fs_expect 404 "$(printf '{"message":"Error: No endpoint found for path '"'"'/nope\357\277\275'"'"'"}')" "/nope%ff"
# well-formed values still get their own answers, echoed as they were
get '/check?id=%c3%a9'
fs_expect 400 "$(printf '{"message":"Error: invalid id '"'"'\303\251'"'"'"}')" "/check?id=%c3%a9"

# ---- a spool row an older server stored unchecked ----
fs_submit old "$FF" '["--tag","t,old"]'
OLD=$FS_ID
fs_sql "UPDATE jobs SET job_name = CAST(X'6aff6b' AS TEXT),
	factfile_path = CAST(X'2fc0af78' AS TEXT),
	factfile_args = CAST(X'5b222d2d746167222c22742ceda080225d' AS TEXT),
	state = 'DONE', outcome = 'FAILED', reason = CAST(X'72e282' AS TEXT)
	WHERE id = '$OLD'" || fs_fail "spool update"
FFFD=$(printf '\357\277\275')
for q in "/jobs" "/jobs?pretty=1" "/jobs?state=DONE" "/check?id=$OLD" "/check?id=$OLD&pretty=1"; do
	get "$q"
	[ "$FS_STATUS" = 200 ] || fs_fail "GET $q: $FS_STATUS $FS_BODY"
	case $FS_BODY in *"j${FFFD}k"*) ;; *) fs_fail "GET $q: no U+FFFD for the bad bytes" ;; esac
done
strict 'v["jobRequest"]["jobName"] == "j\uFFFDk" and v["jobRequest"]["factfilePath"] == "/\uFFFD\uFFFDx" and v["jobRequest"]["factfileArgs"] == ["--tag", "t,\uFFFD\uFFFD\uFFFD"] and v["reason"] == "r\uFFFD"'
# its log, with bytes that are not UTF-8 either
mkdir -p "$FS_SPOOL/logs"
printf 'ok \377 \342\202 end\n' >"$FS_SPOOL/logs/$OLD.log"
get "/logs?id=$OLD"
strict 'v["log"] == "ok \uFFFD \uFFFD end\n"'

# ---- everything else answered is strict UTF-8 JSON too ----
for q in / /status /health "/jobs?state=QUEUED" "/check?id=$GOOD&pretty=1"; do
	get "$q"
done

fs_done
