#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Claims on a real 3-server Consul cluster (127.0.0.1, distinct ports, a data directory each):
# three nodes (nginx + responder + worker + spool), each talking to its own server. Rounds of 50
# concurrent identical submissions spread over the nodes: exactly one 200 per round. Then the
# leader is killed -9 and restarted while submissions go on: no id is ever accepted twice, and
# every accepted id is in exactly one spool and locked in Consul by that node's session. The jobs
# hold (WORKING) until the end, so no DONE entry may legitimately be claimed again.
. "$FS_SRCDIR/tests/integration/lib.sh"
fs_need_nginx; fs_need_consul
. "$FS_SRCDIR/tests/integration/consul_lib.sh"

fs_real_runs 200
NS=fs-test/cluster
HOLD=$FS_TMP/hold
S1=$FS_SPOOL S2=$FS_TMP/spool-2 S3=$FS_TMP/spool-3
trap 'rm -f "$HOLD"; fs_stop_all_supervisors "$S1" "$S2" "$S3"; fs_stop_workers; fs_consul_stop_all; fs_cleanup' EXIT

: >"$HOLD"
fs_factfile hold "while [ -e $HOLD ]; do sleep 0.2; done"
HOLDFF=$FS_FF

# server k: HTTP H<k>, serf LAN L<k>, serf WAN W<k>, server (raft) V<k>
set -- $(fs_free_ports 12)
H1=$1 L1=$2 W1=$3 V1=$4 H2=$5 L2=$6 W2=$7 V2=$8 H3=$9
shift 9
L3=$1 W3=$2 V3=$3
server() { # server K: starts (or restarts) server K; its pid in SPID<K>
	case $1 in
	1) fs_consul_server c1 "$H1" "$L1" "$W1" "$V1" 3 "$L2" "$L3" ;;
	2) fs_consul_server c2 "$H2" "$L2" "$W2" "$V2" 3 "$L1" "$L3" ;;
	3) fs_consul_server c3 "$H3" "$L3" "$W3" "$V3" 3 "$L1" "$L2" ;;
	esac
	eval "SPID$1=\$FS_CONSUL_SRV_PID"
}
server 1
server 2
server 3
for h in "$H1" "$H2" "$H3"; do fs_consul_wait_leader "http://127.0.0.1:$h" 60; done
FS_CONSUL=http://127.0.0.1:$H1
fs_phase "3-server cluster has a leader"

node() { # node K SPOOL HTTP: responder, nginx and worker of node-K on server K; URL<K>
	FS_CONSUL_PORT=$3
	fs_start_consul_responder "$FS_TMP/run/$1.sock" "$2" "node-$1" --consul-namespace "$NS"
	fs_start_nginx "$FS_TMP/run/$1.sock" "nginx-$1"
	eval "URL$1=\$FS_URL"
	fs_start_consul_worker "$2" "node-$1" "$3" --consul-namespace "$NS" --max-workers 64
}
node 1 "$S1" "$H1"
node 2 "$S2" "$H2"
node 3 "$S3" "$H3"
fs_phase "three nodes up"

body() { # body TAG
	printf '{"jobName":"c","factfilePath":"%s","factfileArgs":["--tag","k,%s"]}' "$HOLDFF" "$1"
}
url() { # url I: the node for the I-th submission
	case $(( $1 % 3 )) in 0) echo "$URL1" ;; 1) echo "$URL2" ;; *) echo "$URL3" ;; esac
}
# burst TAG N: N concurrent submissions of one body over the nodes; results in $FS_TMP/r/TAG.*
burst() {
	mkdir -p "$FS_TMP/r"
	body "$1" >"$FS_TMP/r/$1.req"
	i=0
	pids=
	while [ $i -lt "$2" ]; do
		curl -s -m 20 -o "$FS_TMP/r/$1.$i.body" -w '%{http_code}' \
			--data-binary "@$FS_TMP/r/$1.req" "$(url $i)/submit" >"$FS_TMP/r/$1.$i.status" &
		pids="$pids $!"
		i=$((i + 1))
	done
	for p in $pids; do wait "$p"; done
}
count() { # count TAG STATUS: how many answers of TAG's burst had STATUS
	c=0
	for f in "$FS_TMP/r/$1".*.status; do
		[ "$(cat "$f")" = "$2" ] && c=$((c + 1))
	done
	echo "$c"
}

# ---- rounds of 50 identical submissions: exactly one accepted ----
for round in 1 2 3 4; do
	burst "round$round" 50
	ok=$(count "round$round" 200) dup=$(count "round$round" 409)
	[ "$ok" = 1 ] && [ "$dup" = 49 ] || fs_fail "round $round: $ok x 200, $dup x 409"
done
fs_phase "4 rounds of 50 identical submissions"

# ---- the leader killed -9 and restarted while submissions go on ----
leader() { # the server number of the current leader, "" if none is known
	l=$(curl -s -m 2 "$FS_CONSUL/v1/status/leader" 2>/dev/null)
	case $l in
	*":$V1\"") echo 1 ;; *":$V2\"") echo 2 ;; *":$V3\"") echo 3 ;; *) echo ;;
	esac
}
(
	k=1
	while [ $k -le 40 ]; do
		burst "lc$k" 6
		k=$((k + 1))
		sleep 0.1
	done
) &
SUBMITTER=$!
sleep 1
L=$(leader)
[ -n "$L" ] || fs_fail "no leader known"
# queries go to a server that stays up
[ "$L" = 1 ] && FS_CONSUL=http://127.0.0.1:$H2
eval "fs_consul_kill \$SPID$L KILL"
fs_phase "leader (server $L) killed"
sleep 2
server "$L"
wait "$SUBMITTER"
for h in "$H1" "$H2" "$H3"; do fs_consul_wait_leader "http://127.0.0.1:$h" 60; done
fs_phase "leader restarted; $(leader) leads now"
twice=0 accepted=0 unavail=0
k=1
while [ $k -le 40 ]; do
	ok=$(count "lc$k" 200)
	accepted=$((accepted + ok))
	unavail=$((unavail + $(count "lc$k" 503)))
	[ "$ok" -le 1 ] || { twice=$((twice + 1)); fs_fail "lc$k accepted $ok times"; }
	k=$((k + 1))
done
echo "during the leader change: $accepted ids accepted once, $unavail answers 503"
[ "$accepted" -ge 20 ] || fs_fail "only $accepted of 40 ids accepted around the leader change"

# ---- every accepted id is in exactly one spool, locked there by that node's session ----
sql() { sqlite3 -cmd '.timeout 5000' "$1/spool.db" "$2"; }
for s in "$S1" "$S2" "$S3"; do sql "$s" "SELECT id FROM jobs"; done | sort | uniq -d >"$FS_TMP/dups"
[ ! -s "$FS_TMP/dups" ] || fs_fail "ids stored by two nodes: $(cat "$FS_TMP/dups")"
total=$(( $(sql "$S1" "SELECT count(*) FROM jobs") + $(sql "$S2" "SELECT count(*) FROM jobs") +
	$(sql "$S3" "SELECT count(*) FROM jobs") ))
[ "$total" = $((accepted + 4)) ] || fs_fail "$total jobs stored, $((accepted + 4)) accepted"
for s in "$S1" "$S2" "$S3"; do
	sess=$(fs_spool_setting "$s" consul.session)
	for id in $(sql "$s" "SELECT id FROM jobs"); do
		got=$(fs_consul_field "$NS/$id" Session)
		[ "$got" = "$sess" ] || fs_fail "$id: locked by '$got', not by its node's $sess"
	done
done
fs_phase "spools and Consul agree"
rm -f "$HOLD"

fs_done
