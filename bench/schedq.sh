#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Benchmark of the schedules' next-due queue (core/schedq.h, bench/README): bench/schedq_bench
# times what the worker does to find its next due slot (peek at the earliest, compute that
# schedule's following slot with cron_next, set it) among 10,000 schedules and among 10, and the
# figure judged is the ratio time(10,000) / time(10), goal <= 2. Also printed: the same ratio for
# the queue's part alone (the following slot a fixed period on, no cron_next), which grows with
# log N.
# The two sizes are measured one after the other in BENCH_ROUNDS rounds (default 7) and the
# verdict is the median of the per-round ratios.
# Usage: sh bench/schedq.sh [build dir]   (default: $FS_BUILDDIR or .); BENCH_FIRES (default
# 200000), BENCH_REPS (default 5 runs per measurement, the median is kept)
set -eu

B=${1:-${FS_BUILDDIR:-.}}
D=$B/bench/schedq_bench
[ -x "$D" ] || { echo "$D not found: run 'make bench/schedq_bench' in $B" >&2; exit 2; }
FIRES=${BENCH_FIRES:-200000}
REPS=${BENCH_REPS:-5}
ROUNDS=${BENCH_ROUNDS:-7}

median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
# the median over the REPS lines of one measurement
field() { echo "$1" | sed -n "s/.*$2=\([0-9]*\).*/\1/p" | tr '\n' ' ' | median; }

ratios= qratios= smalls= bigs=
r=0
while [ $r -lt "$ROUNDS" ]; do
	small=$("$D" 10 "$FIRES" "$REPS")
	big=$("$D" 10000 "$FIRES" "$REPS")
	ratios="$ratios $(ratio "$(field "$big" fire_ns)" "$(field "$small" fire_ns)")"
	qratios="$qratios $(ratio "$(field "$big" queue_ns)" "$(field "$small" queue_ns)")"
	smalls="$smalls $(field "$small" fire_ns)" bigs="$bigs $(field "$big" fire_ns)"
	r=$((r + 1))
done
ratio=$(echo "$ratios" | median)
verdict=$(awk -v r="$ratio" 'BEGIN { print (r <= 2 ? "met" : "MISSED") }')
echo "next due slot among 10 schedules:     $(echo "$smalls" | median) ns (median of the rounds)"
echo "next due slot among 10,000 schedules: $(echo "$bigs" | median) ns"
echo "ratio 10,000 / 10, per round:        $ratios"
echo "  median:                             $ratio (goal <= 2: $verdict)"
echo "the queue alone, 10,000 / 10:         $(echo "$qratios" | median) (median; log N)"
[ "$verdict" = met ]
