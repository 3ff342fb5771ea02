#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Benchmark of the bundled runner: every figure is a ratio against a baseline measured in the
# same run on the same machine (see bench/README).
#   1. a one-task job:  runner wall time / `sh -c` of the same command
#   2. 500 independent `true` tasks: runner / the same 500 shells spawned at once by sh
#   3. a 200-deep chain of `true`:    runner / the same 200 shells run one after another
#   4. a diamond DAG with uneven sleeps: runner / its critical path (goal <= 1.05), next to the
#      time Factotum 0.7's level-by-level schedule needs for the same DAG (computed from the DAG)
# Usage: sh bench/runner.sh [path/to/runner/factotum]   (default: $FS_BUILDDIR or ./runner/factotum)
set -eu

F=${1:-${FS_BUILDDIR:-.}/runner/factotum}
[ -x "$F" ] || { echo "runner not found: $F (build it, or pass its path)" >&2; exit 2; }
F=$(cd "$(dirname "$F")" && pwd)/${F##*/} # the benchmark runs in its own directory
W=$(mktemp -d "${TMPDIR:-/tmp}/bench_runner.XXXXXX")
trap 'rm -rf "$W"' EXIT
cd "$W"
SCHEMA=iglu:com.snowplowanalytics.factotum/factfile/jsonschema/1-0-0

now() { date +%s%N; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
ms() { awk -v n="$1" 'BEGIN { printf "%.1f ms", n / 1e6 }'; }
# task <name> <command> <deps JSON list body>
task() { printf '{"name":"%s","executor":"shell","command":"%s","arguments":[],"dependsOn":[%s],"onResult":{"terminateJobWithSuccess":[],"continueJob":[0]}}' "$1" "$2" "$3"; }
begin() { printf '{"schema":"%s","data":{"name":"%s","tasks":[' "$SCHEMA" "$1"; }
end() { printf ']}}\n'; }

# ---- 1. one task ----
{ begin one; task t true ''; end; } >one.factfile
N=100
t0=$(now); i=0; while [ $i -lt $N ]; do "$F" run one.factfile >/dev/null 2>&1; i=$((i + 1)); done; t1=$(now)
i=0; while [ $i -lt $N ]; do sh -c 'true ' >/dev/null 2>&1; i=$((i + 1)); done; t2=$(now)
r1=$((t1 - t0)); b1=$((t2 - t1))
echo "1-task job:          runner $(ms $((r1 / N))) per run, sh -c $(ms $((b1 / N))); ratio $(ratio $r1 $b1)"

# ---- 2. 500 independent tasks ----
{ begin wide; i=0; while [ $i -lt 500 ]; do [ $i -eq 0 ] || printf ','; task "t$i" true ''; i=$((i + 1)); done; end; } >wide.factfile
t0=$(now); "$F" run wide.factfile >/dev/null 2>&1; t1=$(now)
i=0; while [ $i -lt 500 ]; do sh -c 'true ' >/dev/null 2>&1 & i=$((i + 1)); done; wait; t2=$(now)
r2=$((t1 - t0)); b2=$((t2 - t1))
echo "500 independent:     runner $(ms $r2), direct $(ms $b2); ratio $(ratio $r2 $b2)"

# ---- 3. 200-deep chain ----
{ begin chain; task t0 true ''; i=1; while [ $i -lt 200 ]; do printf ','; task "t$i" true "\"t$((i - 1))\""; i=$((i + 1)); done; end; } >chain.factfile
t0=$(now); "$F" run chain.factfile >/dev/null 2>&1; t1=$(now)
i=0; while [ $i -lt 200 ]; do sh -c 'true ' >/dev/null 2>&1; i=$((i + 1)); done; t2=$(now)
r3=$((t1 - t0)); b3=$((t2 - t1))
echo "200-deep chain:      runner $(ms $r3), direct $(ms $b3); ratio $(ratio $r3 $b3)"

# ---- 4. a diamond with uneven sleeps ----
# name seconds deps(comma-separated, - for none)
cat >dag.txt <<'EOF'
a 0.1 -
b 0.6 a
c 0.1 a
d 0.5 c
e 0.2 a
f 0.1 b,d,e
EOF
{
	begin diamond
	sep=
	while read -r n s deps; do
		dj=
		[ "$deps" = - ] || dj=$(printf '%s' "$deps" | sed 's/\([^,]*\)/"\1"/g')
		printf '%s' "$sep"; task "$n" "sleep $s" "$dj"; sep=,
	done <dag.txt
	end
} >diamond.factfile
# Critical path: longest finish time; Factotum's schedule: levels (longest path from a root, in
# tasks), each level as long as its slowest task, one after another.
read -r crit levels <<EOF
$(awk '{ d[$1] = $2; deps[$1] = $3; order[NR] = $1 }
END {
	for (i = 1; i <= NR; i++) {
		n = order[i]; fin[n] = d[n]; lv[n] = 0
		if (deps[n] != "-") {
			k = split(deps[n], p, ",")
			for (j = 1; j <= k; j++) {
				if (fin[p[j]] + d[n] > fin[n]) fin[n] = fin[p[j]] + d[n]
				if (lv[p[j]] + 1 > lv[n]) lv[n] = lv[p[j]] + 1
			}
		}
		if (fin[n] > crit) crit = fin[n]
		if (d[n] > slow[lv[n]]) slow[lv[n]] = d[n]
		if (lv[n] > top) top = lv[n]
	}
	for (l = 0; l <= top; l++) total += slow[l]
	printf "%.3f %.3f\n", crit, total
}' dag.txt)
EOF
t0=$(now); "$F" run diamond.factfile >/dev/null 2>&1; t1=$(now)
r4=$((t1 - t0))
crit_ns=$(awk -v s="$crit" 'BEGIN { printf "%d", s * 1e9 }')
lv_ns=$(awk -v s="$levels" 'BEGIN { printf "%d", s * 1e9 }')
echo "diamond (uneven):    runner $(ms $r4), critical path $(ms $crit_ns); ratio $(ratio $r4 $crit_ns) (goal <= 1.05)"
echo "                     Factotum's level-barrier schedule needs $(ms $lv_ns): $(ratio $lv_ns $crit_ns) x the critical path"
