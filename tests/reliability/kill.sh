#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# kill -9 at random moments under load: nginx + responder + worker (and in the full form a Consul
# dev agent, which is not killed) take distinct jobs from a few concurrent clients while the
# harness kills, one at a time, the responder, the worker, a supervisor, a runner or nginx
# (master and workers), restarting the programs it killed; the worker deals with a killed
# supervisor or runner itself. Each job's task appends "start" and "end" to a file named after
# the job, and the runner is started through a wrapper that appends to a file named after the
# job id, so what ran is measured outside the server.
# Once the load stops and every job has settled, each round counts (figures kill.*):
#   submitted, acked            submits sent, and answered 200 with a job id
#   outcome.SUCCEEDED, outcome.FAILED.<reason, or exit-N / signal-N>   the settled jobs
#   lost                        acknowledged, absent from the spool (must be 0)
#   ran-twice                   a runner or a task started twice for one job (must be 0)
#   ran-unrecorded              a runner started for a job the spool does not hold (must be 0)
#   false-success               SUCCEEDED without the task's "end" (must be 0)
#   stuck                       QUEUED or WORKING after settling (must be 0)
#   lost-never-run              FAILED worker-lost/supervisor-lost whose runner never started
#                               (must be 0: a job never started is requeued, doc/architecture.md;
#                               a supervisor killed in the microseconds between its went mark and
#                               its runner's start would count here too, and fail the test)
#   lost-before-task            FAILED worker-lost/supervisor-lost whose runner started but
#                               whose task never did (reported)
#   started-not-ended           a task with "start" and no "end": its run was killed (reported)
#   not-acked.<status>          submits answered otherwise (000: no answer, nginx was down)
#   consul-mismatch             (full form) a job whose Consul entry is missing or in another
#                               state than the spool's, once the outbox is empty (must be 0)
#   consul-claim-without-job    (full form) an entry of the round's jobs that the spool does not
#                               hold: a claim whose responder died before its commit (reported)
#   kills, kills.<program>      the kills made
#   worker-start-retries        worker restarts refused while a dead worker's supervisor held
#                               the lock for a moment (reported)
# Short form: one round of 36 kills. Full form (FS_RELIABILITY=full): rounds of 50 kills until
# 1,000, resumable with FS_RELIABILITY_STATE (tests/reliability/README).
. "$FS_SRCDIR/tests/integration/worker_lib.sh"
. "$FS_SRCDIR/tests/reliability/rel_lib.sh"

if rel_full; then
	KILLS_TOTAL=1000 KILLS_ROUND=50 CONSUL=yes
	. "$FS_SRCDIR/tests/integration/consul_lib.sh"
else
	KILLS_TOTAL=36 KILLS_ROUND=36 CONSUL=no
fi
NAMESPACE=com.snowplowanalytics/factotum
CLIENTS=3
WORKERS=4
FS_NGINX_LIMITS=$FS_NO_LIMITS
MARKS=$FS_TMP/marks
mkdir -p "$MARKS/task" "$MARKS/exec"
chmod -R 1777 "$MARKS"
# the runner, through a wrapper that records its start under the job id (its run directory's
# name) before it execs the bundled runner
REAL_RUNNER=$FS_RUNNER
FS_RUNNER=$FS_TMP/runner-wrap
printf '#!/bin/sh\necho exec >>"%s/$(basename "$(pwd -P)")"\nexec "%s" "$@"\n' \
	"$MARKS/exec" "$REAL_RUNNER" >"$FS_RUNNER"
chmod 0755 "$FS_RUNNER"
rel_state_init kill

# rnd N: a random number in [0, N).
rnd() {
	echo $(($(od -An -N2 -tu2 /dev/urandom) % $1))
}

# pause MAX-MS: sleeps a random time up to MAX-MS milliseconds.
pause() {
	sleep "$(awk -v n="$(rnd "$1")" 'BEGIN { printf "%.3f", n / 1000 }')"
}

start_responder() {
	rm -f "$FS_SOCK"
	if [ $CONSUL = yes ]; then
		fs_start_consul_responder "$FS_SOCK" "$FS_SPOOL" kill
	else
		fs_start_responder
	fi
}

# lib.sh's, but a worker that exits before it is ready is left to start_worker: a supervisor of
# the killed worker that had not yet had its go byte holds the spool's lock for a moment, and a
# worker started then refuses to run, as it must.
fs_worker_started() {
	FS_WORKER_PID=$!
	FS_WORKER_PIDS="$FS_WORKER_PIDS $FS_WORKER_PID"
	fs_until "$FS_WORKER_PID" "$@"
}

# start_worker: the worker, started again (up to 20 times, 0.2 s apart) until it runs, as a
# service manager would; the retries are counted.
start_worker() {
	_tries=0
	while :; do
		if [ $CONSUL = yes ]; then
			fs_start_consul_worker "$FS_SPOOL" kill "$FS_CONSUL_PORT" --max-workers $WORKERS
		else
			fs_start_worker --max-workers $WORKERS
		fi && return
		wait "$FS_WORKER_PID" 2>/dev/null
		FS_WORKER_PIDS=$(fs_pids_without "$FS_WORKER_PIDS" "$FS_WORKER_PID")
		_tries=$((_tries + 1))
		if [ $_tries -ge 20 ]; then
			echo "worker did not start:"
			tail -n 30 "$FS_TMP/worker.log"
			exit 99
		fi
		rel_round_add worker-start-retries 1
		sleep 0.2
	done
}

start_nginx() {
	fs_start_nginx
	echo "$FS_URL" >"$FS_TMP/url.new" && mv "$FS_TMP/url.new" "$FS_TMP/url"
}

# client C ROUND: submits distinct jobs rC..., one line "name status id" each in sub.C, until
# the file stop exists.
client() {
	_n=0
	while [ -d "$MARKS" ] && [ ! -e "$FS_TMP/stop" ]; do
		_n=$((_n + 1))
		_name=r$2c$1n$_n
		_ff=$FS_TMP/ff/$_name.factfile
		sed "s/NAME/$_name/g" "$FS_TMP/ff/template.factfile" >"$_ff"
		printf '{"jobName":"%s","factfilePath":"%s","factfileArgs":[]}' "$_name" "$_ff" \
			>"$FS_TMP/req.$1"
		_code=$(curl -s -m 10 -o "$FS_TMP/body.$1" -w '%{http_code}' \
			--data-binary "@$FS_TMP/req.$1" "$(cat "$FS_TMP/url")/submit")
		_id=$(sed -n 's/.*"jobId":"\([0-9a-f]*\)".*/\1/p' "$FS_TMP/body.$1" 2>/dev/null)
		echo "$_name $_code ${_id:--}" >>"$FS_TMP/sub.$1"
		pause 400
	done
}

# supervisor: prints the pid of a live supervisor, or nothing. A pid file's pid is checked to
# be the worker's fork (its name) and not the worker itself, as pids are reused.
supervisor() {
	for _f in $(ls "$FS_SPOOL"/runs/*.pid 2>/dev/null | shuf); do
		_p=$(sed -n 's/^pid=//p' "$_f" 2>/dev/null)
		[ -n "$_p" ] && [ "$_p" != "$FS_WORKER_PID" ] || continue
		case $(cat "/proc/$_p/comm" 2>/dev/null) in
		factotum-serve*)
			echo "$_p"
			return
			;;
		esac
	done
}

# kill_restart PID LIST START [PID...]: kill -9 of a program PID (our child) and of its own
# children PID...; PID is reaped and dropped from lib.sh's pid list named LIST, then START runs
# after a random pause.
kill_restart() {
	_kp=$1 _kl=$2 _ks=$3
	shift 3
	kill -KILL "$_kp" "$@"
	wait "$_kp" 2>/dev/null
	eval "$_kl=\$(fs_pids_without \"\$$_kl\" $_kp)"
	pause 500
	$_ks
}

# kill_one: one kill -9 of a program chosen at random; a killed responder, worker or nginx is
# restarted after a random pause. The program killed is counted in the round.
kill_one() {
	_what=$(echo responder worker supervisor runner nginx | cut -d' ' -f$(($(rnd 5) + 1)))
	_victim=
	case $_what in
	supervisor | runner)
		_i=0
		while [ -z "$_victim" ] && [ $_i -lt 20 ]; do
			_victim=$(supervisor)
			[ -z "$_victim" ] || [ $_what = supervisor ] ||
				_victim=$(ps -o pid= --ppid "$_victim" | head -n 1 | tr -d ' ')
			[ -n "$_victim" ] || sleep 0.05
			_i=$((_i + 1))
		done
		# nothing running: the worker instead
		[ -n "$_victim" ] || _what=worker
		;;
	esac
	case $_what in
	responder) kill_restart "$FS_RESP_PID" FS_RESP_PIDS start_responder ;;
	worker) kill_restart "$FS_WORKER_PID" FS_WORKER_PIDS start_worker ;;
	nginx)
		# shellcheck disable=SC2046 # its workers' pids
		kill_restart "$FS_NGINX_PID" FS_NGINX_PIDS start_nginx \
			$(ps -o pid= --ppid "$FS_NGINX_PID")
		;;
	*) kill -KILL "$_victim" 2>/dev/null ;;
	esac
	rel_round_add kills 1
	rel_round_add "kills.$_what" 1
}

# settle: until no job is QUEUED or WORKING and no transition waits for Consul (at most 120 s).
settle() {
	_i=0
	while [ "$(fs_sql "SELECT (SELECT count(*) FROM jobs WHERE state <> 'DONE') +
		(SELECT count(*) FROM outbox)")" != 0 ] && [ $_i -lt 1200 ]; do
		_i=$((_i + 1))
		sleep 0.1
	done
}

# count ROUND: the round's figures from the clients' lines, the spool and the marks.
count() {
	cat "$FS_TMP"/sub.* >"$FS_TMP/subs"
	fs_sql "SELECT id, job_name, state, outcome, IFNULL(reason, ''), IFNULL(exit_code, ''),
		IFNULL(exit_signal, '') FROM jobs WHERE job_name LIKE 'r$1c%'" >"$FS_TMP/jobs"
	{
		grep -rc '^start' "$MARKS/task" | sed 's|^.*/|start |; s|:| |'
		grep -rc '^end' "$MARKS/task" | sed 's|^.*/|end |; s|:| |'
		grep -rc '' "$MARKS/exec" | sed 's|^.*/|exec |; s|:| |'
	} >"$FS_TMP/marks.txt"
	# the Consul entries of the round's jobs: "id state"
	: >"$FS_TMP/consul"
	[ $CONSUL = no ] || curl -s "$FS_CONSUL/v1/kv/$NAMESPACE/?recurse" | python3 -c '
import base64, json, sys
for e in json.load(sys.stdin) or []:
    try:
        v = json.loads(base64.b64decode(e["Value"]))
        name, state = v["jobRequest"]["jobName"], v["state"]
    except Exception:
        continue
    if name.startswith(sys.argv[1]):
        print(e["Key"].rsplit("/", 1)[1], state)
' "r$1c" >"$FS_TMP/consul"
	awk -v subs="$FS_TMP/subs" -v marks="$FS_TMP/marks.txt" -v jobs="$FS_TMP/jobs" \
		-v consul="$FS_TMP/consul" -v with_consul=$CONSUL '
	BEGIN {
		while ((getline l < consul) > 0) {
			split(l, e, " ")
			entry[e[1]] = e[2]
		}
		while ((getline l < marks) > 0) {
			split(l, m, " ")
			if (m[1] == "exec") exec_n[m[2]] = m[3]
			else if (m[1] == "start") start_n[m[2]] = m[3]
			else end_n[m[2]] = m[3]
		}
		while ((getline l < jobs) > 0) {
			split(l, j, "|")
			id = j[1]; name = j[2]; held[id] = 1
			if (with_consul == "yes" && entry[id] != j[3]) c["consul-mismatch"]++
			if (j[3] != "DONE") { c["stuck"]++; continue }
			label = j[4]
			if (j[4] == "FAILED")
				label = label "." (j[5] != "" ? j[5] : j[7] != "" ? "signal-" j[7] : "exit-" j[6])
			c["outcome." label]++
			if (exec_n[id] > 1 || start_n[name] > 1) c["ran-twice"]++
			if (j[4] == "SUCCEEDED" && end_n[name] < 1) c["false-success"]++
			if (start_n[name] > 0 && end_n[name] < 1) c["started-not-ended"]++
			if (j[5] == "worker-lost" || j[5] == "supervisor-lost") {
				if (exec_n[id] < 1) c["lost-never-run"]++
				else if (start_n[name] < 1) c["lost-before-task"]++
			}
		}
		for (id in exec_n) if (!(id in held)) c["ran-unrecorded"]++
		for (id in entry) if (!(id in held)) c["consul-claim-without-job"]++
		while ((getline l < subs) > 0) {
			split(l, s, " ")
			c["submitted"]++
			if (s[2] == "200" && s[3] != "-") {
				c["acked"]++
				if (!(s[3] in held)) c["lost"]++
			} else
				c["not-acked." s[2]]++
		}
		list = "submitted acked lost ran-twice ran-unrecorded false-success stuck " \
			"lost-never-run lost-before-task started-not-ended"
		if (with_consul == "yes")
			list = list " consul-mismatch consul-claim-without-job"
		n = split(list, z, " ")
		for (i = 1; i <= n; i++) print z[i], c[z[i]] + 0
		for (k in c) if (k ~ /^(outcome|not-acked)\./) print k, c[k]
	}' >"$FS_TMP/counts" || { fs_fail "round $1: counting failed"; return; }
	# a round without acknowledged jobs or without runs measured nothing
	awk '$1 == "acked" && $2 > 0 { a = 1 } $1 == "outcome.SUCCEEDED" && $2 > 0 { s = 1 }
	     END { exit !(a && s) }' "$FS_TMP/counts" ||
		fs_fail "round $1 measured nothing: $(tr '\n' ' ' <"$FS_TMP/counts")"
	cat "$FS_TMP/counts" >>"$REL_STATE/round"
	rm -f "$FS_TMP"/sub.*
	rm -rf "$MARKS/exec"/* "$MARKS/task"/*
}

fs_factfile template "echo start >>$MARKS/task/NAME; sleep 0.3; echo end >>$MARKS/task/NAME"
[ $CONSUL = no ] || fs_consul_start
start_responder
start_nginx
start_worker

while [ "$(rel_get kills)" -lt $KILLS_TOTAL ]; do
	round=$(($(rel_get rounds) + 1))
	rm -f "$FS_TMP/stop"
	clients=
	c=0
	while [ $c -lt $CLIENTS ]; do
		c=$((c + 1))
		client $c $round &
		clients="$clients $!"
	done
	k=0
	while [ $k -lt $KILLS_ROUND ]; do
		k=$((k + 1))
		pause 1200
		kill_one
	done
	: >"$FS_TMP/stop"
	for p in $clients; do wait "$p"; done
	settle
	count $round
	rel_round_add rounds 1
	rel_round_commit
	echo "round $round: $(rel_get kills) kills in all"
done

rel_figures kill
for z in lost ran-twice ran-unrecorded false-success stuck lost-never-run consul-mismatch; do
	[ "$(rel_get $z)" = 0 ] || fs_fail "$z: $(rel_get $z) (must be 0)"
done
fs_done
