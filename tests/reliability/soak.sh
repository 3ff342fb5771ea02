#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The soak: mixed traffic through nginx to one responder and one worker (no Consul) -- /submit of
# a distinct job that runs, /status, /check of that job, /jobs, /logs of a finished job,
# /metrics -- from concurrent curl loops (one process per request, each answer's status checked),
# while the responder's and the worker's resident memory (VmRSS) and open fds are sampled.
# Figures (soak.*): requests, errors (an answer other than 200: must be 0), jobs (submitted and
# run), and for each of responder and worker: rss-kib and fds at start and end, and their slopes
# (least squares per minute over the samples from the first under load). The first and the last
# samples are taken with no job running, so that the worker's fds (a pipe per run) compare: fds
# at the end must equal those at the start within 2.
# Short form: 60 s, a sample every 15 s. Full form (FS_RELIABILITY=full): 30 minutes, a sample
# every 5 minutes; it also fails when either program's RSS at the end exceeds its RSS at the
# first sample under load (5 minutes) by more than 8 MiB. A soak measures one pair of processes
# over its whole length, so it is not resumable: an interrupted soak is run again from the start.
. "$FS_SRCDIR/tests/integration/worker_lib.sh"
. "$FS_SRCDIR/tests/reliability/rel_lib.sh"

if rel_full; then
	LENGTH=1800 EVERY=300
else
	LENGTH=60 EVERY=15
fi
CLIENTS=2
RSS_GROWTH_KIB=8192
FDS_SLACK=2
FS_NGINX_LIMITS=$FS_NO_LIMITS
SAMPLES=$FS_TMP/samples

# sample T: one line "T resp-rss resp-fds worker-rss worker-fds" in SAMPLES.
sample() {
	_line=$1
	for _p in "$FS_RESP_PID" "$FS_WORKER_PID"; do
		_rss=$(sed -n 's/^VmRSS:[^0-9]*\([0-9]*\) kB$/\1/p' "/proc/$_p/status")
		_fds=$(ls "/proc/$_p/fd" | wc -l)
		_line="$_line $_rss $_fds"
	done
	echo "$_line" >>"$SAMPLES"
}

# req C WHAT URL-PATH [curl args...]: one request; an answer other than 200 is an error, kept
# in errors.C with the first 200 bytes of its body.
req() {
	_c=$1 _what=$2 _path=$3
	shift 3
	_code=$(curl -s -m 10 -o "$FS_TMP/body.$_c" -w '%{http_code}' "$@" "$FS_URL$_path")
	echo "$_what" >>"$FS_TMP/reqs.$_c"
	[ "$_code" = 200 ] ||
		echo "$_what $_path: $_code $(head -c 200 "$FS_TMP/body.$_c" 2>/dev/null)" \
			>>"$FS_TMP/errors.$_c"
}

# client C: the traffic of one client until the file stop exists.
client() {
	_n=0
	while [ -d "$FS_TMP/ff" ] && [ ! -e "$FS_TMP/stop" ]; do
		_n=$((_n + 1))
		# a distinct job each time: the job id covers the tags, not the name
		printf '{"jobName":"load%sx%s","factfilePath":"%s","factfileArgs":["--tag","n,%sx%s"]}' \
			"$1" "$_n" "$FS_FF" "$1" "$_n" >"$FS_TMP/req.$1"
		req "$1" submit /submit --data-binary "@$FS_TMP/req.$1"
		_id=$(sed -n 's/.*"jobId":"\([0-9a-f]*\)".*/\1/p' "$FS_TMP/body.$1")
		req "$1" status /status
		req "$1" check "/check?id=${_id:-none}"
		req "$1" jobs "/jobs?limit=20"
		req "$1" logs "/logs?id=$LOGGED&tail=200"
		req "$1" metrics /metrics
	done
}

# quiet: until no job is QUEUED or WORKING and no run file is left (at most 60 s).
quiet() {
	_i=0
	while { [ "$(fs_sql "SELECT count(*) FROM jobs WHERE state <> 'DONE'")" != 0 ] ||
		ls "$FS_SPOOL"/runs/*.pid >/dev/null 2>&1; } && [ $_i -lt 600 ]; do
		_i=$((_i + 1))
		sleep 0.1
	done
}

# slope COLUMN: least-squares slope of a sample column, per minute, from the first sample under
# load on (the growth from the idle start to it is warm-up: caches, threads' stacks).
slope() {
	awk -v k="$1" 'NR > 1 { n++; x += $1; y += $k; xx += $1 * $1; xy += $1 * $k }
		END { d = n * xx - x * x; printf "%.1f", (d > 0 ? 60 * (n * xy - x * y) / d : 0) }' \
		"$SAMPLES"
}

fs_start_responder
fs_start_nginx
fs_start_worker
fs_run_task soaklog "echo soak" SUCCEEDED
LOGGED=$FS_ID
fs_factfile soak "true"
quiet
sample 0
t0=$(date +%s)
clients=
c=0
while [ $c -lt $CLIENTS ]; do
	c=$((c + 1))
	client $c &
	clients="$clients $!"
done
next=$EVERY
while [ "$next" -le "$LENGTH" ]; do
	wait_s=$((t0 + next - $(date +%s)))
	[ $wait_s -le 0 ] || sleep $wait_s
	sample "$next"
	next=$((next + EVERY))
done
: >"$FS_TMP/stop"
for p in $clients; do wait "$p"; done
quiet
sample "$(($(date +%s) - t0))"
cat "$SAMPLES"

reqs=$(cat "$FS_TMP"/reqs.* | wc -l)
errors=$(cat "$FS_TMP"/errors.* 2>/dev/null | wc -l)
rel_figure soak.requests "$reqs"
rel_figure soak.errors "$errors"
rel_figure soak.jobs "$(fs_sql "SELECT count(*) FROM jobs WHERE job_name LIKE 'load%'")"
col=2
for prog in responder worker; do
	for what in rss-kib fds; do
		first=$(awk -v k=$col 'NR == 1 { print $k }' "$SAMPLES")
		last=$(awk -v k=$col '{ v = $k } END { print v }' "$SAMPLES")
		rel_figure "soak.$prog.$what.start" "$first"
		rel_figure "soak.$prog.$what.end" "$last"
		rel_figure "soak.$prog.$what.slope-per-min" "$(slope $col)"
		diff=$((last - first))
		[ $what != fds ] || [ "${diff#-}" -le $FDS_SLACK ] ||
			fs_fail "$prog: $first fds at the start, $last at the end"
		if [ $what = rss-kib ] && rel_full; then
			warm=$(awk -v k=$col 'NR == 2 { print $k }' "$SAMPLES")
			[ "$last" -le $((warm + RSS_GROWTH_KIB)) ] ||
				fs_fail "$prog: RSS $warm KiB after $EVERY s, $last KiB at the end"
		fi
		col=$((col + 1))
	done
done
[ "$errors" = 0 ] || fs_fail "$errors errors: $(cat "$FS_TMP"/errors.* | head -n 20)"
[ "$reqs" -gt 0 ] || fs_fail "no request made"
fs_done
