#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Claims under faults on a real Consul cluster: three servers on 127.0.0.1 (distinct ports, a
# data directory each) and two nodes (nginx + responder + worker + spool), each talking to its
# own client agent joined to the cluster, so that stopping one node's agent cuts that node off
# and nothing else. Rounds of 50 concurrent identical submissions, 25 to each node, started
# together. Faults during the load: the Consul leader (from /v1/status/leader) killed -9 and
# restarted 3 s later; one node's agent SIGSTOPped, then SIGCONTed once 10 s have passed and a
# whole round ran with it stopped (about 20 s at most: the node's session, whose renewals it holds
# up, lives 2 x its 15 s TTL). Both faults start 0.3 s into a round and end between rounds.
#
# Asserted per round: never two 200s; a 409 is exactly `Job is already being processed`, a 503
# `Consul unavailable: ...`, nothing else is answered; a round with no 200 has a 503 (a round of
# 409s alone would mean a claim that no client was told of); while a node's agent is stopped,
# that node answers every /submit of the round 503, and the other node accepts the round's job
# once (unless the leader is down too). When no fault is under way (none started, none ended in
# the last 2 rounds) a round is one 200 and 49 409s, or has a 503: a claim timed out (a loaded
# machine, an election the restarted server started); those 503s are counted (answers-503-calm).
# Each job runs one task that appends its job id (the name of the run's working directory) to a
# file, then ends once its round's answers are all in (so that every submission of the round
# meets it QUEUED or WORKING: a resubmission over DONE is accepted again).
# After each block of rounds, once both nodes settled (nothing QUEUED or WORKING, the outboxes
# empty, no undo left): every spool job's state and outcome equal its Consul entry, which names
# that node and is unlocked (no lost transition); no entry without a job in a spool (no claim left
# behind by an answer other than 200); no id in both spools; every acknowledged job ran exactly
# once and succeeded, on the node that acknowledged it; nothing ran that was not acknowledged.
#
# Figures (consul_chaos.*): rounds, blocks, answers-200, answers-409, answers-503,
# answers-503-calm, leader-kills, agent-stops, jobs-ran; and, each must be 0: double-admissions
# (extra 200s in a round), stored-twice (ids in both spools), lost-transitions (spool jobs whose
# entry differs), claims-without-job, ran-twice, acked-not-run, ran-unacked, failures (any
# assertion above).
# Short form (default): one block of 40 rounds with one leader kill and one agent stop.
# FS_RELIABILITY=full: 10 blocks of 100 rounds, each with a leader kill and an agent stop (node 1's
# agent in odd blocks, node 2's in even ones); with FS_RELIABILITY_STATE=DIR the totals are kept
# in DIR/consul_chaos.full after each block, and a rerun continues with the next block (on a new
# cluster and new nodes) and prints the totals of all runs (tests/reliability/README).
. "$FS_SRCDIR/tests/integration/lib.sh"
. "$FS_SRCDIR/tests/integration/consul_lib.sh"
. "$FS_SRCDIR/tests/reliability/rel_lib.sh"
# comm and sort below compare bytes
LC_ALL=C
export LC_ALL

# ---- the short/full switch, and the totals a full run keeps ----
if rel_full; then
	BLOCKS=10 ROUNDS=100 KILL_AT=10 STOP_AT=55
else
	BLOCKS=1 ROUNDS=40 KILL_AT=6 STOP_AT=22
fi
rel_state_init consul_chaos
# a block's counts (the key of I_a_b is a-b), added to the totals once the block is checked: I_
# counted by the rounds, C_ by the checks, which recount everything this run made at each
# block's end (P_: their counts at the previous block's end)
COUNTS='rounds answers_200 answers_409 answers_503 answers_503_calm double_admissions leader_kills
agent_stops lost_transitions stored_twice ran_twice claims_without_job acked_not_run ran_unacked
jobs_ran failures'
ZEROS='double-admissions lost-transitions stored-twice ran-twice claims-without-job acked-not-run
ran-unacked failures'
for f in $COUNTS; do eval "I_$f=0 C_$f=0 P_$f=0"; done
block_commit() {
	C_failures=$FS_FAILS
	for f in $COUNTS; do
		eval "v=\$((I_$f + C_$f - P_$f)) P_$f=\$C_$f I_$f=0"
		rel_round_add "$(echo "$f" | tr _ -)" "$v"
	done
	rel_round_add blocks 1
	rel_round_commit
}
# finish: the totals, of earlier runs too; those that must be 0 fail the test otherwise
finish() {
	rel_figures consul_chaos
	for z in $ZEROS; do
		[ "$(rel_get "$z")" = 0 ] || fs_fail "$z: $(rel_get "$z") (must be 0)"
	done
	fs_done
}
[ "$(rel_get blocks)" -lt $BLOCKS ] || finish

# ---- three servers and two client agents; a node on each agent ----
fs_real_runs 200
NS=fs-test/chaos
DUP='{"message":"Job is already being processed"}'
RAN=$FS_TMP/ran.d/ran
R=$FS_TMP/round
S1=$FS_SPOOL S2=$FS_TMP/spool-2
A1= A2=
# a stopped agent would never see the SIGTERM that stops it
trap 'kill -CONT $A1 $A2 2>/dev/null; fs_stop_all_supervisors "$S1" "$S2"; fs_stop_workers
fs_consul_stop_all; fs_cleanup' EXIT

# server K: HTTP H<K>, serf LAN L<K>, serf WAN W<K>, raft V<K>; agent K: HTTP AH<K>, serf AL<K>
set -- $(fs_free_ports 16)
H1=$1 L1=$2 W1=$3 V1=$4 H2=$5 L2=$6 W2=$7 V2=$8 H3=$9
shift 9
L3=$1 W3=$2 V3=$3 AH1=$4 AL1=$5 AH2=$6 AL2=$7
server() { # server K: starts (or restarts) server K, joining the other two; its pid in SPID<K>
	j=
	for k in 1 2 3; do [ "$k" = "$1" ] || eval "j=\"\$j \$L$k\""; done
	# shellcheck disable=SC2086 # j is a list of ports
	eval "fs_consul_server c$1 \$H$1 \$L$1 \$W$1 \$V$1 3 $j"
	eval "SPID$1=\$FS_CONSUL_SRV_PID"
}
server 1
server 2
server 3
fs_consul_client a1 "$AH1" "$AL1" "$L1" "$L2" "$L3"
A1=$FS_CONSUL_SRV_PID
fs_consul_client a2 "$AH2" "$AL2" "$L1" "$L2" "$L3"
A2=$FS_CONSUL_SRV_PID
ALL_HTTP="$H1 $H2 $H3 $AH1 $AH2"
for h in $ALL_HTTP; do fs_consul_wait_leader "http://127.0.0.1:$h" 60; done
fs_phase "3 servers and 2 client agents have a leader"

# tasks run as the run user: a directory anyone may write, not sticky (a sticky one keeps the
# run user from appending to a file it does not own where fs.protected_regular is set)
mkdir -p "$FS_TMP/ran.d"
: >"$RAN"
chmod 0777 "$FS_TMP/ran.d"
chmod 0666 "$RAN"
# a job holds until its round's answers are all in (its id in $REL), so that every submission
# of the round meets it QUEUED or WORKING (a resubmission over DONE is accepted again)
REL=$FS_TMP/release
mkdir -p "$REL"
# shellcheck disable=SC2016 # the task's shell expands $PWD and $id
TASK='id=${PWD##*/}; echo $id >>'"$RAN"
fs_factfile chaos "$TASK; until [ -e $REL/\$id ] || [ -e $REL/all ]; do sleep 0.05; done"
FF=$FS_FF
node() { # node K SPOOL AGENT_HTTP: responder, nginx and worker of node-K on agent K; URL<K>
	FS_CONSUL_PORT=$3
	fs_start_consul_responder "$FS_TMP/run/$1.sock" "$2" "node-$1" --consul-namespace "$NS"
	# 50 requests at once from one address
	FS_NGINX_LIMITS=$FS_NO_LIMITS fs_start_nginx "$FS_TMP/run/$1.sock" "nginx-$1"
	eval "URL$1=\$FS_URL"
	fs_start_consul_worker "$2" "node-$1" "$3" --consul-namespace "$NS"
}
node 1 "$S1" "$AH1"
node 2 "$S2" "$AH2"
fs_phase "two nodes up"

# ---- a round and its answers ----
round() { # round N: 50 submissions of round N's body, even i to node 1, odd to node 2, in $R/
	rm -rf "$R"
	mkdir -p "$R"
	printf '{"jobName":"chaos","factfilePath":"%s","factfileArgs":["--tag","r,%s"]}' "$FF" "$1" \
		>"$R/req"
	i=0 pids=
	while [ $i -lt 50 ]; do
		eval "u=\$URL$((i % 2 + 1))"
		curl -s -m 20 -o "$R/$i.body" -w '%{http_code}' --data-binary "@$R/req" "$u/submit" \
			>"$R/$i.status" &
		pids="$pids $!"
		i=$((i + 1))
	done
	for p in $pids; do wait "$p"; done
}

# tally N FAULT SPANNED: the answers of round N. FAULT: 1 when a fault was under way, or ended
# in the last 2 rounds; SPANNED: the node whose agent was stopped for the whole round (0: none),
# LEADER_DOWN non-empty when the leader's kill was not over. Acknowledged jobs go to
# $FS_TMP/acked as "<id> node-<k> <N>".
tally() {
	n200=0 n409=0 n503=0 won=
	i=0
	while [ $i -lt 50 ]; do
		k=$((i % 2 + 1))
		st= body=
		IFS= read -r st <"$R/$i.status" || :
		IFS= read -r body <"$R/$i.body" || :
		case $st in
		200)
			n200=$((n200 + 1))
			id=${body##*\"jobId\":\"}
			id=${id%%\"*}
			won="$won node-$k:$id"
			echo "$id node-$k $1" >>"$FS_TMP/acked"
			: >"$REL/$id"
			;;
		409)
			n409=$((n409 + 1))
			[ "$body" = "$DUP" ] || fs_fail "round $1: node-$k answered 409 $body"
			;;
		503)
			n503=$((n503 + 1))
			echo "$body" >>"$R/503"
			case $body in
			'{"message":"Consul unavailable: '*) ;;
			*) fs_fail "round $1: node-$k answered 503 $body" ;;
			esac
			;;
		*) fs_fail "round $1: node-$k answered '$st' $body" ;;
		esac
		[ "$k" != "$3" ] || [ "$st" = 503 ] ||
			fs_fail "round $1: node-$k answered $st $body while its agent was stopped"
		i=$((i + 1))
	done
	if [ $n200 -gt 1 ]; then
		I_double_admissions=$((I_double_admissions + n200 - 1))
		fs_fail "round $1: $n200 x 200:$won"
	fi
	[ $n200 = 1 ] || [ $n503 -gt 0 ] || fs_fail "round $1: no 200 and no 503 ($n409 x 409)"
	[ "$3" = 0 ] || [ -n "$LEADER_DOWN" ] || [ $n200 = 1 ] ||
		fs_fail "round $1: $n200 x 200 from the node whose agent ran"
	if [ "$2" = 0 ] && [ "$n200 $n409" != "1 49" ]; then
		[ $n503 -gt 0 ] || fs_fail "round $1, no fault under way: $n200 x 200, $n409 x 409"
		I_answers_503_calm=$((I_answers_503_calm + n503))
	fi
	[ "$2$n503" = 00 ] ||
		echo "$(now) round $1 ($(fault_word "$2")): $n200 x 200, $n409 x 409, $n503 x 503"
	[ $n503 = 0 ] || sort "$R/503" | uniq -c | sed 's/^/        /'
	I_rounds=$((I_rounds + 1))
	I_answers_200=$((I_answers_200 + n200))
	I_answers_409=$((I_answers_409 + n409))
	I_answers_503=$((I_answers_503 + n503))
}

fault_word() {
	case $1 in 1) echo "fault" ;; *) echo "no fault under way" ;; esac
}

# ---- the faults ----
now() { # the time as the programs' logs write it
	date -u +%H:%M:%S.%3NZ
}
leader() { # the number of the server that leads, as the servers up say; "" if none knows
	for k in 1 2 3; do
		[ "$k" != "$KILLED" ] || continue
		eval "h=\$H$k"
		l=$(curl -s -m 2 "http://127.0.0.1:$h/v1/status/leader" 2>/dev/null)
		for m in 1 2 3; do
			eval "v=\$V$m"
			case $l in *":$v\"") echo "$m"; return ;; esac
		done
	done
}
all_lead() { # every agent up knows a leader
	for h in $ALL_HTTP; do fs_consul_leader "http://127.0.0.1:$h" || return 1; done
}
KILLED= KILL_T=0 LEADER_DOWN= STOPPED= STOP_T=0 CALM=0
kill_leader() {
	n=0
	L=$(leader)
	while [ -z "$L" ] && [ $n -lt 20 ]; do
		sleep 0.5
		n=$((n + 1))
		L=$(leader)
	done
	[ -n "$L" ] || { fs_fail "no leader to kill"; return; }
	eval "fs_consul_kill \$SPID$L KILL"
	KILLED=$L KILL_T=$(date +%s) LEADER_DOWN=1
	I_leader_kills=$((I_leader_kills + 1))
	fs_phase "leader (server $L) killed -9 at $(now)"
}
stop_agent() { # stop_agent K
	eval "kill -STOP \$A$1"
	STOPPED=$1 STOP_T=$(date +%s)
	I_agent_stops=$((I_agent_stops + 1))
	fs_phase "agent of node-$1 stopped at $(now)"
}
# faults_end [WAIT]: ends the faults whose time has come (with WAIT, all of them, waiting);
# the leader's fault is over once the killed server runs again and every agent knows a leader
faults_end() {
	if [ -n "$KILLED" ]; then
		[ -z "${1:-}" ] || while [ "$(date +%s)" -lt $((KILL_T + 3)) ]; do sleep 0.2; done
		if [ "$(date +%s)" -ge $((KILL_T + 3)) ]; then
			server "$KILLED"
			fs_phase "server $KILLED restarted at $(now)"
			KILLED=
		fi
	fi
	if [ -n "$STOPPED" ]; then
		[ -z "${1:-}" ] || while [ "$(date +%s)" -lt $((STOP_T + 10)) ]; do sleep 0.2; done
		if [ "$(date +%s)" -ge $((STOP_T + 10)) ] &&
			{ [ -n "$BSPANNED" ] || [ -n "${1:-}" ]; }; then
			eval "kill -CONT \$A$STOPPED"
			fs_phase "agent of node-$STOPPED continued at $(now)"
			STOPPED= CALM=2
		fi
	fi
	if [ -n "$LEADER_DOWN" ] && [ -z "$KILLED" ]; then
		[ -z "${1:-}" ] || for h in $ALL_HTTP; do fs_consul_wait_leader "http://127.0.0.1:$h"; done
		if all_lead; then
			fs_phase "every agent knows a leader (server $(leader)) at $(now)"
			LEADER_DOWN= CALM=2
		fi
	fi
}

# ---- after a block: settle, then compare the spools, Consul and the runs ----
sql() { sqlite3 -cmd '.timeout 5000' "$1/spool.db" "$2"; }
unsettled() { # what remains to do in spool $1, "" when nothing
	sql "$1" "SELECT (SELECT count(*) FROM jobs WHERE state != 'DONE') || ' not DONE, ' ||
		(SELECT count(*) FROM outbox) || ' in the outbox, ' ||
		(SELECT count(*) FROM settings WHERE key LIKE 'consul.undo.%') || ' undos'" |
		grep -v '^0 not DONE, 0 in the outbox, 0 undos$'
}
settle() {
	n=0
	while [ -n "$(unsettled "$S1")$(unsettled "$S2")" ]; do
		n=$((n + 1))
		if [ $n -gt 600 ]; then
			fs_fail "not settled after 120 s: node-1 $(unsettled "$S1"); node-2 $(unsettled "$S2")"
			return
		fi
		sleep 0.2
	done
}
# compare: the spools' jobs against Consul's entries, in $c: lost (spool jobs whose entry
# differs), nojob (entries no spool holds), twice (ids in both spools)
compare() {
	fs_consul_entries "http://127.0.0.1:$H1" "$NS" >"$c/consul"
	# what Consul must hold for each spool job: its state and outcome, its node, unlocked once
	# DONE and locked by the node's session before
	for k in 1 2; do
		eval "s=\$S$k"
		sess=$(fs_spool_setting "$s" consul.session)
		sql "$s" "SELECT id, state, outcome, 'node-$k',
			CASE state WHEN 'DONE' THEN '-' ELSE '$sess' END FROM jobs" | tr '|' ' '
	done | sort >"$c/spools"
	cut -d' ' -f1 "$c/spools" | uniq -d >"$c/twice"
	comm -23 "$c/spools" "$c/consul" >"$c/lost"
	cut -d' ' -f1 "$c/spools" >"$c/ids"
	comm -13 "$c/spools" "$c/consul" | cut -d' ' -f1 | comm -23 - "$c/ids" >"$c/nojob"
}
check() {
	c=$FS_TMP/check
	mkdir -p "$c"
	compare
	# a claim left behind may yet be undone by its node's worker: up to 30 s for that
	n=0
	while [ -s "$c/nojob" ] && [ $n -lt 15 ]; do
		sleep 2
		n=$((n + 1))
		compare
	done
	while read -r id rest; do
		fs_fail "lost transition: spool $id $rest; Consul $(grep "^$id " "$c/consul" || echo none)"
	done <"$c/lost"
	while read -r id; do
		fs_fail "claim without a job: Consul $(grep "^$id " "$c/consul")"
		# its timeline: the entry's times, and each responder's answers to it
		curl -s -m 10 "http://127.0.0.1:$H1/v1/kv/$NS/$id?raw" | python3 -c '
import json, sys
v = json.load(sys.stdin)
print("      entry of", v["jobRequest"]["factfileArgs"][1].replace("r,", "round "), "submitted",
      v["submitted"], "updated", v["updated"], "by", v["node"])'
		grep "job=$id" "$FS_TMP/responder.log" | sed -n \
			's/^\([^ ]*\) factotum-server-fcgi\[\([0-9]*\)\].* status=\([0-9]*\)$/\2 \3 \1/p' |
			awk '{ k = "responder " $1 ": " $2; if (!(k in n)) { o[m++] = k; t0[k] = $3 }
			       n[k]++; t1[k] = $3 }
			     END { for (i = 0; i < m; i++)
				     print "      " o[i], "x" n[o[i]], "from", t0[o[i]], "to", t1[o[i]] }'
	done <"$c/nojob"
	while read -r id; do fs_fail "$id stored by both nodes"; done <"$c/twice"
	# the runs: each acknowledged job once, on its node, SUCCEEDED; nothing else
	sort "$RAN" | uniq -c | awk '{ print $2, $1 }' >"$c/ran"
	awk '$2 > 1' "$c/ran" >"$c/ran2"
	while read -r id n; do fs_fail "$id ran $n times"; done <"$c/ran2"
	sort -u "$FS_TMP/acked" >"$c/acked"
	cut -d' ' -f1 "$c/acked" | sort -u >"$c/ackedids"
	: >"$c/notrun"
	while read -r id k n; do
		grep -q "^$id " "$c/ran" || echo "$id" >>"$c/notrun"
		grep -qx "$id DONE SUCCEEDED $k -" "$c/spools" ||
			fs_fail "round $n's job $id, acknowledged by $k: $(grep "^$id " "$c/spools" ||
				echo not in its spool)"
	done <"$c/acked"
	while read -r id; do fs_fail "$id acknowledged, never ran"; done <"$c/notrun"
	cut -d' ' -f1 "$c/ran" | comm -13 "$c/ackedids" - >"$c/unacked"
	while read -r id; do fs_fail "$id ran, never acknowledged"; done <"$c/unacked"
	C_lost_transitions=$(wc -l <"$c/lost")
	C_claims_without_job=$(wc -l <"$c/nojob")
	C_ran_twice=$(wc -l <"$c/ran2")
	C_acked_not_run=$(wc -l <"$c/notrun")
	C_ran_unacked=$(wc -l <"$c/unacked")
	C_jobs_ran=$(wc -l <"$c/ran")
	C_stored_twice=$(wc -l <"$c/twice")
}

# ---- the blocks ----
: >"$FS_TMP/acked"
BLK=$(($(rel_get blocks) + 1))
while [ $BLK -le $BLOCKS ]; do
	AGENT=$(((BLK + 1) % 2 + 1))
	BSTOPPED= BSPANNED=
	RND=1
	while [ $RND -le $ROUNDS ]; do
		RN=$(((BLK - 1) * ROUNDS + RND))
		faults_end
		fault=0 spanned=0
		[ -z "$KILLED$LEADER_DOWN$STOPPED" ] && [ $CALM = 0 ] || fault=1
		[ -z "$STOPPED" ] || spanned=$STOPPED BSPANNED=1
		if [ $RND = $KILL_AT ]; then
			round "$RN" &
			RP=$!
			sleep 0.3
			kill_leader
			wait $RP
			fault=1
		elif [ $RND -ge $STOP_AT ] && [ -z "$BSTOPPED$KILLED$LEADER_DOWN" ]; then
			round "$RN" &
			RP=$!
			sleep 0.3
			stop_agent "$AGENT"
			BSTOPPED=1
			wait $RP
			fault=1
		else
			round "$RN"
		fi
		tally "$RN" "$fault" "$spanned"
		[ $CALM = 0 ] || [ -n "$KILLED$LEADER_DOWN$STOPPED" ] || CALM=$((CALM - 1))
		RND=$((RND + 1))
	done
	[ -n "$BSPANNED" ] || fs_fail "block $BLK: no round ran while an agent was stopped"
	faults_end wait
	fs_phase "block $BLK: $ROUNDS rounds done; settling"
	# the jobs of rounds without a 200, if any
	: >"$REL/all"
	settle
	check
	rm -f "$REL/all"
	fs_phase "block $BLK checked"
	block_commit
	BLK=$((BLK + 1))
done
finish
