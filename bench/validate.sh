#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Benchmark of the /submit validation's cost against the size of the factfile (bench/README):
# bench/validate_factfile calls jobreq_validate in-process, as the responder does, on generated
# factfiles, and the figure judged is the ratio time(10,000-task chain) / time(100-task chain),
# goal <= 150 (cost linear in the factfile; a quadratic step gives about 10,000). Also printed:
# the chain written in reverse order (each task's dependency defined after it), a 10,000-task
# fan-out/fan-in (one task, 9,998 children, one task depending on all of them), the chain with
# --start at its middle task, the same under Factotum's graph rules (what the responder applies
# for another --factotum-bin), and a resubmission of the --start request through the validation
# cache (what a 409 costs).
# The two chains are measured one after the other in BENCH_ROUNDS rounds (default 5) and the
# verdict is the median of the per-round ratios: the small chain's time moves with the machine's
# state from one second to the next.
# Usage: sh bench/validate.sh [build dir]   (default: $FS_BUILDDIR or .); BENCH_REPS (default 9)
set -eu

B=${1:-${FS_BUILDDIR:-.}}
D=$B/bench/validate_factfile
[ -x "$D" ] || { echo "$D not found: run 'make bench/validate_factfile' in $B" >&2; exit 2; }
REPS=${BENCH_REPS:-9}
ROUNDS=${BENCH_ROUNDS:-5}
W=$(mktemp -d "${TMPDIR:-/tmp}/bench_validate.XXXXXX")
trap 'rm -rf "$W"' EXIT

# chain N: t1 <- t2 <- ... <- tN; rchain N: the same tasks, each depending on the next one;
# wide N: t1 <- t2..t(N-1) <- tN
gen() {
	awk -v shape="$1" -v n="$2" 'BEGIN {
		printf "{\"schema\":\"iglu:com.snowplowanalytics.factotum/factfile/jsonschema/1-0-0\",";
		printf "\"data\":{\"name\":\"%s %d\",\"tasks\":[", shape, n;
		for (i = 1; i <= n; i++) {
			deps = "";
			if (shape == "chain" && i > 1)
				deps = "\"t" (i - 1) "\"";
			if (shape == "rchain" && i < n)
				deps = "\"t" (i + 1) "\"";
			if (shape == "wide" && i > 1 && i < n)
				deps = "\"t1\"";
			if (shape == "wide" && i == n && n > 1)
				for (k = 2; k < n; k++)
					deps = deps (k > 2 ? "," : "") "\"t" k "\"";
			printf "%s{\"name\":\"t%d\",\"executor\":\"shell\",\"command\":\"echo\",", \
				(i > 1 ? "," : ""), i;
			printf "\"arguments\":[\"%d\"],\"dependsOn\":[%s],", i, deps;
			printf "\"onResult\":{\"terminateJobWithSuccess\":[],\"continueJob\":[0]}}";
		}
		printf "]}}\n";
	}'
}

gen chain 100 >"$W/chain100.factfile"
gen chain 10000 >"$W/chain10000.factfile"
gen rchain 10000 >"$W/rchain10000.factfile"
gen wide 10000 >"$W/wide10000.factfile"

ns() { "$D" "$@" | sed -n 's/^BENCH ns=\([0-9]*\) .*/\1/p'; }
ms() { awk -v n="$1" 'BEGIN { printf "%.2f ms", n / 1e6 }'; }

median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ratios= c100s= c10ks=
r=0
while [ $r -lt "$ROUNDS" ]; do
	a=$(ns "$W/chain100.factfile" "$REPS")
	b=$(ns "$W/chain10000.factfile" "$REPS")
	ratios="$ratios $(awk -v a="$b" -v b="$a" 'BEGIN { printf "%.1f", a / b }')"
	c100s="$c100s $a" c10ks="$c10ks $b"
	r=$((r + 1))
done
c100=$(echo "$c100s" | median)
c10k=$(echo "$c10ks" | median)
ratio=$(echo "$ratios" | median)
rc10k=$(ns "$W/rchain10000.factfile" "$REPS")
w10k=$(ns "$W/wide10000.factfile" "$REPS")
s10k=$(ns "$W/chain10000.factfile" "$REPS" --start t5000)
f10k=$(ns --factotum-rules "$W/chain10000.factfile" "$REPS" --start t5000)
# the cache serves only files whose mtime and ctime are 2 s old (core/jobreq.h)
sleep 3
r10k=$(ns --cached "$W/chain10000.factfile" "$REPS" --start t5000)

verdict=$(awk -v r="$ratio" 'BEGIN { print (r <= 150 ? "met" : "MISSED") }')
echo "chain of 100 tasks:               $(ms "$c100") per validation (median of the rounds)"
echo "chain of 10,000 tasks:            $(ms "$c10k") per validation"
echo "ratio 10,000 / 100, per round:   $ratios"
echo "  median:                         $ratio (goal <= 150: $verdict)"
echo "chain of 10,000 in reverse order: $(ms "$rc10k") per validation"
echo "fan-out/fan-in of 10,000 tasks:   $(ms "$w10k") per validation"
echo "chain of 10,000, --start t5000:   $(ms "$s10k") per validation"
echo "  the same, Factotum's rules:     $(ms "$f10k") per validation"
echo "  the same, resubmitted (cached): $(ms "$r10k") per validation"
[ "$verdict" = met ]
