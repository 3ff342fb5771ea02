#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The cost of a /submit's validation is bounded by the factfile: a factfile with more tasks than
# --max-tasks (default 10,000) gets 400 with its message, one at the limit is accepted, and a
# resubmission of a large factfile with --start (answered 409) is served by the validation cache
# instead of validating again (the responder applies Factotum's graph rules here: the runner is a
# stand-in).
. "$FS_SRCDIR/tests/integration/lib.sh"
fs_need_nginx

# gen SHAPE N K > FILE: tasks t1..tN; "chain": each after the one before; "ladder": each after
# the K before it (about 1,500 bytes a task for K = 200)
gen() {
	awk -v shape="$1" -v n="$2" -v k="$3" 'BEGIN {
		printf "{\"schema\":\"iglu:com.snowplowanalytics.factotum/factfile/jsonschema/1-0-0\",";
		printf "\"data\":{\"name\":\"%s\",\"tasks\":[", shape;
		for (i = 1; i <= n; i++) {
			deps = "";
			lo = shape == "chain" ? i - 1 : i - k;
			for (j = (lo > 1 ? lo : 1); j < i; j++)
				deps = deps (deps == "" ? "" : ",") "\"t" j "\"";
			printf "%s{\"name\":\"t%d\",\"executor\":\"shell\",\"command\":\"true\",", \
				(i > 1 ? "," : ""), i;
			printf "\"arguments\":[],\"dependsOn\":[%s],", deps;
			printf "\"onResult\":{\"terminateJobWithSuccess\":[],\"continueJob\":[0]}}";
		}
		printf "]}}\n";
	}'
}
FF=$FS_TMP/ff
gen ladder 2000 200 >"$FF/ladder.factfile"
gen chain 10000 0 >"$FF/chain10000.factfile"
gen chain 10001 0 >"$FF/chain10001.factfile"

fs_start_responder ""
fs_start_nginx

# ---- --max-tasks ----
fs_expect_post /submit '{"jobName":"big","factfilePath":"'"$FF"'/chain10001.factfile"}' 400 \
	'{"message":"Validation Error: factfilePath '"'$FF/chain10001.factfile'"' has 10001 tasks, more than this server accepts (--max-tasks 10000)"}'
fs_post /submit '{"jobName":"big","factfilePath":"'"$FF"'/chain10000.factfile"}'
[ "$FS_STATUS" = 200 ] || fs_fail "10,000-task chain: $FS_STATUS $FS_BODY"

# ---- a resubmission with --start costs no validation ----
# the cache takes only files 2 s old (JOBREQ_CACHE_SETTLED_S)
sleep 3
LADDER='{"jobName":"ladder","factfilePath":"'"$FF"'/ladder.factfile","factfileArgs":["--start","t1"]}'
fs_post /submit "$LADDER"
[ "$FS_STATUS" = 200 ] || fs_fail "ladder with --start: $FS_STATUS $FS_BODY"
# Validating this factfile again takes seconds per request where a step is quadratic (about 7 s
# on a 2-core machine); from the cache it is a read of the file and a hash.
i=0
while [ $i -lt 3 ]; do
	t0=$(date +%s%N)
	fs_expect_post /submit "$LADDER" 409 '{"message":"Job is already being processed"}'
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ "$ms" -lt 1000 ] || fs_fail "resubmission $i with --start took $ms ms"
	i=$((i + 1))
done

fs_done
