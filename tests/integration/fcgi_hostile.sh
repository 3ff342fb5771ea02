#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Hostile and broken /submit requests through nginx: each gets a clear 4xx with its exact
# message, and none changes the spool (job rows counted before and after). The responder runs
# with --factfile-root, so paths outside it, `..` and symlink escapes are refused too.
. "$FS_SRCDIR/tests/integration/lib.sh"
fs_need_nginx

R=$FS_TMP/ff/root
mkdir -p "$R/dir.factfile" "$FS_TMP/ff/outside"
cp "$FS_TESTDATA/samples/echo.factfile" "$R/"
cp "$FS_TESTDATA/samples/echo.factfile" "$FS_TMP/ff/outside/"
ln -s "$FS_TMP/ff/outside/echo.factfile" "$R/link.factfile"
printf '{"schema":"x","data":{}}' >"$R/bad.factfile"
fs_start_responder "" --factfile-root "$R"
fs_start_nginx
OK=$R/echo.factfile

# bad BODY STATUS MESSAGE: posts BODY (no Content-Type), expects {"message":MESSAGE}.
bad() {
	fs_expect_post /submit "$1" "$2" '{"message":"'"$3"'"}'
}
DEC='Error decoding JSON string: '
VAL='Validation Error: '
before=$(fs_rows)

# truncated and invalid JSON, wrong shapes and types
bad '{"jobName":"x","factfilePath":"'"$OK" 400 "${DEC}unexpected end of data at line 1 column $((${#OK} + 32))"
bad '{"jobName":"x",' 400 "${DEC}unexpected end of data at line 1 column 16"
bad 'nonsense' 400 "${DEC}null expected at line 1 column 2"
bad '{"jobName":"x","factfilePath":"'"$OK"'"} trailing' 400 "${DEC}unexpected character at line 1 column $((${#OK} + 35))"
bad 'null' 400 "${DEC}invalid type: null, expected struct JobRequest"
bad '[]' 400 "${DEC}invalid type: sequence, expected struct JobRequest"
bad '"str"' 400 "${DEC}invalid type: string, expected struct JobRequest"
bad '{"jobName":1,"factfilePath":"'"$OK"'"}' 400 "${DEC}invalid type: integer, expected a string for field \`jobName\`"
bad '{"jobName":"x","factfilePath":"'"$OK"'","factfileArgs":"--tag"}' 400 "${DEC}invalid type: string, expected a sequence of strings for field \`factfileArgs\`"
bad '{"jobName":"x","factfilePath":"'"$OK"'","factfileArgs":[1]}' 400 "${DEC}invalid type: integer, expected a string in \`factfileArgs\` at index 0"
bad '{"jobName":"x"}' 400 "${DEC}missing field \`factfilePath\`"
bad '{"jobName":"x","jobName":"y","factfilePath":"'"$OK"'"}' 400 "${DEC}duplicate field \`jobName\`"
bad '{"jobName":"x\u0000","factfilePath":"'"$OK"'"}' 400 "${DEC}field \`jobName\` contains a NUL character"

# non-UTF-8
printf '{"jobName":"\377","factfilePath":"%s"}' "$OK" >"$FS_TMP/req"
fs_req POST /submit "$FS_TMP/req"
fs_expect 400 '{"message":"Error: invalid UTF-8 in jobName"}' "non-UTF-8 body"

# deeply nested JSON
i=0 deep=
while [ $i -lt 100 ]; do deep="[$deep]"; i=$((i + 1)); done
bad "$deep" 400 "${DEC}nesting too deep at line 1 column 33"

# multipart form: not JSON, whatever its Content-Type says
printf '{"jobName":"x","factfilePath":"%s"}' "$OK" >"$FS_TMP/part.json"
fs_req POST /submit - -F "file=@$FS_TMP/part.json"
fs_expect 400 '{"message":"'"${DEC}"'number expected at line 1 column 2"}' "multipart body"

# a body over the limit: nginx answers 413 in JSON, the responder never sees it
head -c 65537 /dev/zero | tr '\0' ' ' >"$FS_TMP/big"
fs_req POST /submit "$FS_TMP/big" -H 'Content-Type: application/json'
fs_expect 413 '{"message":"Error: Request body too large (limit 64 KiB)"}' "65537-byte body"
# exactly 64 KiB is within the limit: it reaches the responder and is judged as JSON
{ printf '{"jobName":"","factfilePath":"%s"}' "$OK"; head -c $((65536 - ${#OK} - 32)) /dev/zero | tr '\0' ' '; } >"$FS_TMP/edge"
[ "$(wc -c <"$FS_TMP/edge")" -eq 65536 ] || fs_fail "edge body is $(wc -c <"$FS_TMP/edge") bytes"
fs_req POST /submit "$FS_TMP/edge"
fs_expect 400 '{"message":"'"${VAL}"'No valid value found: field '"'jobName'"' cannot be empty"}' "65536-byte body"

# paths: outside the roots, escapes, not a regular file, missing, relative
bad '{"jobName":"x","factfilePath":"'"$FS_TMP"'/ff/outside/echo.factfile"}' 400 "${VAL}factfilePath '$FS_TMP/ff/outside/echo.factfile' is outside the allowed roots"
bad '{"jobName":"x","factfilePath":"'"$R"'/../outside/echo.factfile"}' 400 "${VAL}factfilePath '$R/../outside/echo.factfile' is outside the allowed roots"
bad '{"jobName":"x","factfilePath":"'"$R"'/link.factfile"}' 400 "${VAL}factfilePath '$R/link.factfile' is outside the allowed roots"
bad '{"jobName":"x","factfilePath":"'"$R"'/dir.factfile"}' 400 "${VAL}Couldn't read '$R/dir.factfile': Is a directory (os error 21)"
bad '{"jobName":"x","factfilePath":"'"$R"'/missing.factfile"}' 400 "${VAL}Value does not exist on host for 'factfilePath':'$R/missing.factfile'"
bad '{"jobName":"x","factfilePath":"relative/echo.factfile"}' 400 "${VAL}factfilePath 'relative/echo.factfile' must be an absolute path"
fs_post /submit '{"jobName":"x","factfilePath":"'"$R"'/bad.factfile"}'
case $FS_STATUS$FS_BODY in
400'{"message":"Validation Error: '"'$R/bad.factfile'"' is not a valid factotum factfile'*) ;;
*) fs_fail "invalid factfile: $FS_STATUS $FS_BODY" ;;
esac
# Root reads any file, so as root the unreadable case is covered by test_jobreq, which drops to
# nobody in a child process; here it runs when the suite runs as an ordinary user.
if [ "$(id -u)" -ne 0 ]; then
	cp "$OK" "$R/secret.factfile"
	chmod 000 "$R/secret.factfile"
	fs_post /submit '{"jobName":"x","factfilePath":"'"$R"'/secret.factfile"}'
	case $FS_STATUS$FS_BODY in
	400'{"message":"Validation Error: Couldn'"'"'t open '*'Permission denied'*) ;;
	*) fs_fail "unreadable factfile: $FS_STATUS $FS_BODY" ;;
	esac
fi

# factfileArgs Factotum's run would reject, and --dry-run
args() {
	bad '{"jobName":"x","factfilePath":"'"$OK"'","factfileArgs":'"$1"'}' 400 "$2"
}
args '["--bogus"]' "${VAL}Unknown flag: '--bogus'"
args '["--env","notjson"]' "${VAL}Supplied string 'notjson' is not valid JSON: decoder error"
args '["--start","nonexistent"]' "${VAL}The job cannot be started from 'nonexistent' because the task specified could not be found"
args '["--dry-run"]' "${VAL}--dry-run cannot be used for a queued job"
args '["--webhook","ftp://x"]' "${VAL}Error: the specifed webhook URL \\\"ftp://x\\\" is invalid. Reason: URL must begin with 'http://' or 'https://' to be used with Factotum webhooks"

after=$(fs_rows)
[ "$before" = 0 ] && [ "$after" = 0 ] || fs_fail "rows changed: $before -> $after"

# a missing Content-Type is not "no body": the same request is accepted without one
fs_post /submit '{"jobName":"x","factfilePath":"'"$OK"'"}'
[ "$FS_STATUS" = 200 ] || fs_fail "no Content-Type: $FS_STATUS $FS_BODY"
# a chunked body (no Content-Length) is read to its end
printf '{"jobName":"x","factfilePath":"%s","factfileArgs":["--tag","c,1"]}' "$OK" >"$FS_TMP/req"
fs_req POST /submit "$FS_TMP/req" -H 'Transfer-Encoding: chunked'
[ "$FS_STATUS" = 200 ] || fs_fail "chunked body: $FS_STATUS $FS_BODY"
[ "$(fs_rows)" = 2 ] || fs_fail "rows after two good submissions: $(fs_rows)"

fs_done
