# SPDX-License-Identifier: Apache-2.0
# --template-values through nginx. strict (the default): a --tag or --env value that sh would
# read as more than data in a task's command line is refused with 400 naming the task, the
# variable and the character, nothing is queued and nothing runs (the issue's `$(...)` attack
# included, resubmitted so that a cached validation is exercised too); a value that stays data
# runs and reaches the task byte for byte. factotum: the same values pass unchanged, as Factotum
# runs them. The factfiles are tests/data/template/: write-arg writes {{{tag:x}}} (raw) to {{tag:out}},
# sql-arg puts {{tag:q}} inside quotes of its own.
. "$FS_SRCDIR/tests/integration/worker_lib.sh"
fs_need_nginx

T=$FS_TESTDATA/template
W=$T/write-arg.factfile
Q=$T/sql-arg.factfile
ATTACK='$(id -u; touch '$FS_TMP'/pwned)'
ALLOWS_DQ="--template-values strict allows neither '\\\"', '\$', '\`' nor '\\\\' there"
ALLOWS_LIST='--template-values strict allows only [A-Za-z0-9._:/@%+=,-] there'

# submit NAME PATH ARGS-JSON: POST /submit
submit() {
	fs_post /submit '{"jobName":"'"$1"'","factfilePath":"'"$2"'","factfileArgs":'"$3"'}'
}
# refused NAME PATH ARGS-JSON MESSAGE: 400 with MESSAGE (JSON-escaped), and no job queued
refused() {
	before=$(fs_rows)
	submit "$1" "$2" "$3"
	fs_expect 400 '{"message":"Validation Error: '"$4"'"}' "$1"
	[ "$(fs_rows)" = "$before" ] || fs_fail "$1: a job was stored"
}
# wrote NAME OUT BYTES: the job just submitted ran to SUCCEEDED and its task wrote BYTES to OUT
wrote() {
	fs_wait_state "$FS_ID" DONE && fs_expect_outcome "$FS_ID" SUCCEEDED 0 null null "$1"
	got=$(cat "$2"; printf x)
	[ "${got%x}" = "$3" ] || fs_fail "$1: the task wrote '${got%x}', expected '$3'"
}

fs_start_responder
fs_start_nginx
fs_start_worker

# ---- strict: refused ----
for n in 1 2; do
	refused "attack$n" "$W" '["--tag","x,'"$ATTACK"'","--tag","out,'"$FS_TMP"'/out"]' \
		"task 'write': the value of 'tag:x' puts '\$' inside double quotes in the command line; $ALLOWS_DQ"
done
refused backtick "$W" '["--tag","x,`id`","--tag","out,'"$FS_TMP"'/out"]' \
	"task 'write': the value of 'tag:x' puts '\`' inside double quotes in the command line; $ALLOWS_DQ"
refused backslash "$W" '["--tag","x,a\\\\b c","--tag","out,'"$FS_TMP"'/out"]' \
	"task 'write': the value of 'tag:x' puts '\\\\' inside double quotes in the command line; $ALLOWS_DQ"
refused sql "$Q" '["--tag","q,select 1"]' \
	"task 'query': the value of 'tag:q' puts ' ' outside double quotes in the command line; $ALLOWS_LIST"
refused raw "$Q" '["--tag","q,1","--env","{\"who\":\"a\\\"b\"}"]' \
	"task 'query': the value of 'who' puts '\\\"' inside double quotes in the command line; $ALLOWS_DQ"
refused out "$W" '["--tag","x,a","--tag","out,'"$FS_TMP"'/$HOME"]' \
	"task 'write': the value of 'tag:out' puts '\$' inside double quotes in the command line; $ALLOWS_DQ"
[ ! -e "$FS_TMP/pwned" ] || fs_fail "strict: the attack ran"

# ---- strict: data passes, byte for byte ----
submit data "$W" '["--tag","x,a b;c&d|e<f>(g)'"'"'h'"'"' #i*","--tag","out,'"$FS_TMP"'/data"]'
[ "$FS_STATUS" = 200 ] || fs_fail "strict data: $FS_STATUS $FS_BODY"
FS_ID=$(printf '%s' "$FS_BODY" | sed -n 's/.*"jobId":"\([0-9a-f]*\)".*/\1/p')
wrote "strict data" "$FS_TMP/data" "a b;c&d|e<f>(g)'h' #i*"
fs_submit plain "$Q" '["--tag","q,2026-12-04","--env","{\"who\":\"it is me\"}"]'
fs_wait_state "$FS_ID" DONE && fs_expect_outcome "$FS_ID" SUCCEEDED 0 null null "strict plain"

# ---- factotum: values pass unchanged, as Factotum runs them ----
fs_stop_responder "$FS_RESP_PID"
fs_start_responder "$FS_SOCK" --template-values factotum
fs_submit backslash "$W" '["--tag","x,a\\\\b c","--tag","out,'"$FS_TMP"'/bs"]'
wrote "factotum backslash" "$FS_TMP/bs" 'a\b c'
fs_submit attack "$W" '["--tag","x,'"$ATTACK"'","--tag","out,'"$FS_TMP"'/attack"]'
uid=$(id -u)
[ "$(id -u)" -ne 0 ] || uid=$(id -u factotum-run)
wrote "factotum attack" "$FS_TMP/attack" "$uid"
[ -e "$FS_TMP/pwned" ] || fs_fail "factotum: the value did not reach sh unchanged"

fs_done
