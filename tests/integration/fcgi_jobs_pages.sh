# SPDX-License-Identifier: Apache-2.0
# /jobs pages: following `next` from the first page (before=<cursor>) lists every job of a
# filter exactly once, in the order of one whole page (newest submission first), for each filter
# (state, outcome, name, idPrefix, and two at once); offset stops at 10000; malformed
# parameters are 400 with their messages.
. "$FS_SRCDIR/tests/integration/lib.sh"
fs_need_nginx

fs_start_responder
fs_start_nginx

fs_factfile pages "true"
i=0
while [ $i -lt 23 ]; do
	name=even
	[ $((i % 2)) -eq 0 ] || name=odd
	fs_submit "$name" "$FS_FF" '["--tag","'"$i"'"]'
	echo "$FS_ID" >>"$FS_TMP/ids"
	# a third of them cancelled: DONE, FAILED
	if [ $((i % 3)) -eq 0 ]; then
		fs_post /cancel '{"id":"'"$FS_ID"'"}'
		[ "$FS_STATUS" = 200 ] || fs_fail "cancel $FS_ID: $FS_STATUS $FS_BODY"
	fi
	i=$((i + 1))
done

# ids BODY: the jobIds of a /jobs answer, one per line; next BODY: its next cursor, or nothing
ids() {
	printf '%s' "$1" | python3 -c 'import json, sys
for j in json.load(sys.stdin)["jobs"]: print(j["jobRequest"]["jobId"])'
}
next() {
	printf '%s' "$1" | python3 -c 'import json, sys; print(json.load(sys.stdin).get("next", ""))'
}

# walk QUERY COUNT: the pages of 4 from QUERY, followed to the end, equal the one page of 1000,
# which holds COUNT jobs, each once
walk() {
	fs_req GET "/jobs?limit=1000&$1"
	[ "$FS_STATUS" = 200 ] || { fs_fail "/jobs?$1: $FS_STATUS $FS_BODY"; return; }
	ids "$FS_BODY" >"$FS_TMP/whole"
	[ -z "$(next "$FS_BODY")" ] || fs_fail "/jobs?$1: a next cursor after the last page"
	[ "$(wc -l <"$FS_TMP/whole")" -eq "$2" ] ||
		fs_fail "/jobs?$1: $(wc -l <"$FS_TMP/whole") jobs, expected $2"
	[ "$(sort -u "$FS_TMP/whole" | wc -l)" -eq "$2" ] || fs_fail "/jobs?$1: a job twice"
	: >"$FS_TMP/walked"
	cursor= pages=0
	while :; do
		fs_req GET "/jobs?limit=4&$1${cursor:+&before=$cursor}"
		[ "$FS_STATUS" = 200 ] || { fs_fail "/jobs?$1 page $pages: $FS_STATUS $FS_BODY"; return; }
		ids "$FS_BODY" >>"$FS_TMP/walked"
		pages=$((pages + 1))
		cursor=$(next "$FS_BODY")
		[ -n "$cursor" ] || break
		[ $pages -lt 20 ] || { fs_fail "/jobs?$1: the pages never end"; return; }
	done
	cmp -s "$FS_TMP/whole" "$FS_TMP/walked" || fs_fail "/jobs?$1: the pages differ from the whole"
	[ $pages -eq $((($2 + 3) / 4 > 0 ? ($2 + 3) / 4 : 1)) ] ||
		fs_fail "/jobs?$1: $pages pages for $2 jobs"
}

walk "" 23
walk "state=QUEUED" 15
walk "state=done" 8
walk "outcome=FAILED" 8
walk "outcome=WAITING" 15
walk "outcome=SUCCEEDED" 0
walk "name=odd" 11
walk "name=even&state=DONE" 4
# the jobs whose id starts as the first's does (at least that one)
p=$(head -c 1 "$FS_TMP/ids")
walk "idPrefix=$p" "$(grep -c "^$p" "$FS_TMP/ids")"
walk "idPrefix=$(head -n 1 "$FS_TMP/ids")" 1

# the whole list is newest submission first: the reverse of the submission order
tac "$FS_TMP/ids" >"$FS_TMP/newest"
fs_req GET '/jobs?limit=1000'
ids "$FS_BODY" >"$FS_TMP/whole"
cmp -s "$FS_TMP/whole" "$FS_TMP/newest" || fs_fail "/jobs is not newest submission first"
# a page by cursor says so; an offset page goes on where the cursor would
fs_req GET '/jobs?limit=2'
c=$(next "$FS_BODY")
fs_req GET "/jobs?limit=2&before=$c"
case $FS_BODY in
*'"limit":2,"before":"'"$c"'","next":"'*) ;;
*) fs_fail "/jobs?before: $FS_BODY" ;;
esac
ids "$FS_BODY" >"$FS_TMP/by_cursor"
fs_req GET '/jobs?limit=2&offset=2'
ids "$FS_BODY" >"$FS_TMP/by_offset"
cmp -s "$FS_TMP/by_cursor" "$FS_TMP/by_offset" || fs_fail "the cursor and offset 2 differ"

fs_expect_get '/jobs?offset=10000' 200 '{"jobs":[],"limit":100,"offset":10000}'
fs_expect_get '/jobs?offset=10001' 400 '{"message":"Error: invalid offset '"'10001'"', must be a number from 0 to 10000: deeper pages are read with '"'before'"', the '"'next'"' of the page before"}'
fs_expect_get "/jobs?offset=0&before=$c" 400 '{"message":"Error: '"'before'"' and '"'offset'"' cannot be used together"}'
fs_expect_get '/jobs?before=12-ab' 400 '{"message":"Error: invalid before '"'12-ab'"', not a cursor from /jobs (its '"'next'"')"}'
fs_expect_get '/jobs?outcome=LOST' 400 '{"message":"Error: invalid outcome '"'LOST'"', must be one of (WAITING|RUNNING|SUCCEEDED|FAILED)"}'
fs_expect_get '/jobs?idPrefix=ABC' 400 '{"message":"Error: invalid idPrefix '"'ABC'"', must be 1 to 64 lowercase hex digits"}'

fs_done
