#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Schedules fired with Consul, two nodes (nginx + responder + worker + spool each) on one real
# consul agent: an every-2-seconds schedule (catchUp 3) whose task appends its {{tag:slot}} to a
# file both nodes' runs write. The firing lock names exactly one node, with a session of its
# firer's own; kill -9 of the firing node's worker: the other node fires within 25 s, the last 3
# slots of the gap fired and the earlier ones recorded missed; the firing node drains: the other
# takes over within 25 s; resume. Over the whole run every slot from the first to the last is
# accounted for exactly once in the history, each fired one is one job (on either node) that ran
# once (its line once in the file), queued within 2 s of its slot (the catch-up's excepted, and
# the first slot a node fires after taking the lock over: found due when it takes it).
# Meanwhile overlap "skip" with a 5 s job every 2 s records the slots in between skipped with
# their reason. A per-second schedule whose lastSlot is 400 days back catches up at once, its
# summary row "at least <n> more slots missed". Both nodes' /metrics add up to the histories.
. "$FS_SRCDIR/tests/integration/worker_lib.sh"
fs_need_nginx
fs_need_consul
. "$FS_SRCDIR/tests/integration/consul_lib.sh"

NS=fs-test/cfire
SPOOL_a=$FS_SPOOL
SPOOL_b=$FS_TMP/spool-b
FF=$FS_TESTDATA/schedule/slot-append.factfile
OUT=$FS_TMP/every2.out
LAP=$FS_TMP/lap.out
trap 'fs_stop_all_supervisors "$SPOOL_a" "$SPOOL_b"; fs_stop_workers; fs_consul_stop; fs_cleanup' EXIT

fs_consul_start
# worker K: node-K's worker, its pid in WPID_K
worker() {
	eval "fs_start_consul_worker \"\$SPOOL_$1\" node-$1 \"\$FS_CONSUL_PORT\" --consul-namespace \"\$NS\""
	eval "WPID_$1=\$FS_WORKER_PID"
}
# node K: responder, nginx and worker of node-K; its URL in URL_K
node() {
	eval "fs_start_consul_responder \"\$FS_TMP/run/$1.sock\" \"\$SPOOL_$1\" node-$1 --consul-namespace \"\$NS\""
	fs_start_nginx "$FS_TMP/run/$1.sock" "nginx-$1"
	eval "URL_$1=\$FS_URL"
	worker "$1"
}
node a
node b
# at K CMD...: CMD against node-K
at() {
	eval "FS_URL=\$URL_$1"
	shift
	"$@"
}
other() {
	[ "$1" = a ] && echo b || echo a
}
# firer: the node the lock key names ("" when unlocked), its value and session checked as the
# firer's own (what is wrong goes to $FS_TMP/firer.fail: this runs in a subshell)
firer() {
	_s=$(fs_consul_field "$NS/schedule-firer" Session)
	[ -n "$_s" ] || return 0
	_v=$(fs_consul_value "$NS/schedule-firer")
	case $_v in
	'{"node":"node-'[ab]'","since":"20'??-??-??T??:??:??.???Z'"}') ;;
	*) echo "the lock's value: $_v" >>"$FS_TMP/firer.fail" ;;
	esac
	_n=$(printf '%s' "$_v" | sed 's/.*"node":"node-\(.\)".*/\1/')
	_i=$(curl -s "$FS_CONSUL/v1/session/info/$_s")
	# [] when Consul dropped the session since: the key is being released
	[ "$(printf '%s' "$_i" | tr -d ' \n')" != '[]' ] || return 0
	printf '%s' "$_i" | grep -qE "\"Name\": ?\"factotum-server-firer:node-$_n\"" ||
		echo "the lock's session is not node-$_n's firer's: $_i" >>"$FS_TMP/firer.fail"
	echo "$_n"
}
# history NAME: the schedule's history through node a, oldest first, one row a line:
# "<slot epoch> <result> <jobId or -> <count> <reason>"
history() {
	at a fs_req GET "/schedules?name=$1"
	[ "$FS_STATUS" = 200 ] || fs_fail "GET /schedules?name=$1: $FS_STATUS $FS_BODY"
	printf '%s' "$FS_BODY" | python3 -c '
import calendar, json, sys, time
for r in reversed(json.load(sys.stdin)["history"]):
    t = calendar.timegm(time.strptime(r["slot"], "%Y-%m-%dT%H:%M:%SZ"))
    print(t, r["result"], r["jobId"] or "-", r["count"], r["reason"] or "")
'
}
# fired_after T: true when a slot after T was fired, its history row then in FIRED_ROW
fired_after() {
	FIRED_ROW=$(history every2 | awk -v t="$1" '$1 > t && $2 == "fired" { print; exit }')
	[ -n "$FIRED_ROW" ]
}
# node_of JOB: the node whose spool holds the job
node_of() {
	for _k in a b; do
		eval "_sp=\$SPOOL_$_k"
		[ "$(FS_SPOOL=$_sp fs_sql "SELECT count(*) FROM jobs WHERE id = '$1'")" = 1 ] && echo "$_k"
	done
}

T0=$(date +%s)
fs_phase() { echo "$(($(date +%s) - T0)) s: $*"; }
at a fs_post /schedules/set '{"name":"every2","cron":"*/2 * * * * *","jobName":"j-every2","factfilePath":"'"$FF"'","factfileArgs":["--tag","out,'"$OUT"'","--tag","sleep,0"],"catchUp":3}'
fs_expect 200 '{"message":"Schedule '"'every2'"' set"}' "set every2"
at b fs_post /schedules/set '{"name":"lap","cron":"*/2 * * * * *","jobName":"j-lap","factfilePath":"'"$FF"'","factfileArgs":["--tag","out,'"$LAP"'","--tag","sleep,5"],"overlap":"skip"}'
fs_expect 200 '{"message":"Schedule '"'lap'"' set"}' "set lap"

# within START SECS CMD...: runs CMD every 0.5 s until it succeeds; 1 once SECS have passed since
# START (epoch seconds) without it
within() {
	_wi_start=$1 _wi_secs=$2
	shift 2
	until "$@"; do
		[ $(($(date +%s) - _wi_start)) -le "$_wi_secs" ] || return 1
		sleep 0.5
	done
}
is_firer() { [ "$(firer)" = "$1" ]; }

# ---- both nodes up: one firer ----
sleep 11
at b fs_post /schedules/pause '{"name":"lap"}'
fs_expect 200 '{"message":"Schedule '"'lap'"' paused"}' "pause lap"
F=$(firer)
[ -n "$F" ] || fs_fail "no node holds the firing lock"
fs_phase "node-$F fires"
# the firer (the process of node-F's worker's child, the keeper, that keeps a claim journal) and
# its keeper hold no capability
eval "_w=\$WPID_$F _sp=\$SPOOL_$F"
_firer= _keeper=
for _j in "$_sp"/claims/*.*; do
	_p=${_j##*/}
	_p=${_p%%.*}
	_k=$(awk '/^PPid:/ { print $2 }' "/proc/$_p/status" 2>/dev/null)
	[ -n "$_k" ] && [ "$(awk '/^PPid:/ { print $2 }' "/proc/$_k/status")" = "$_w" ] && _firer=$_p _keeper=$_k
done
[ -n "$_firer" ] || fs_fail "no firer of node-$F's worker $_w keeps a claim journal"
for _p in "$_firer" "$_keeper"; do
	[ "$(grep -E '^Cap(Prm|Eff):' "/proc/$_p/status" | awk '{ print $2 }' | sort -u)" = 0000000000000000 ] ||
		fs_fail "process $_p of node-$F's firing holds capabilities: $(grep ^Cap "/proc/$_p/status")"
done
# overlap skip: a 5 s job every 2 s
history lap >"$FS_TMP/lap.hist"
fired=$(grep -c ' fired ' "$FS_TMP/lap.hist")
skipped=$(grep -cE " skipped - 1 overlap: the last slot's job is (WORKING|QUEUED)\$" "$FS_TMP/lap.hist")
{ [ "$fired" -ge 1 ] && [ "$fired" -le 3 ] && [ "$skipped" -ge 2 ] &&
	[ "$(grep -vcE ' (fired|skipped) ' "$FS_TMP/lap.hist")" = 0 ]; } ||
	fs_fail "lap: $fired fired, $skipped skipped: $(cat "$FS_TMP/lap.hist")"
sleep 9

# ---- kill -9 of the firing node's worker: the other fires within 25 s ----
eval "_w=\$WPID_$F"
fs_stop_worker "$_w" KILL
K=$(date +%s)
fs_phase "node-$F's worker killed"
O=$(other "$F")
last=$(history every2 | awk '$2 == "fired" { s = $1 } END { print s }')
within "$K" 25 is_firer "$O" || fs_fail "node-$O did not take the lock within 25 s"
fs_phase "node-$O holds the lock"
within "$K" 28 fired_after "$K" || fs_fail "node-$O fired no slot"
fs_phase "a slot fired after the kill"
[ "$(node_of "$(echo "$FIRED_ROW" | cut -d' ' -f3)")" = "$O" ] || fs_fail "fired by: $FIRED_ROW"
# the gap: the last 3 slots fired, the earlier ones missed, one row each
history every2 | awk -v l="$last" '$1 > l' | head -n 20 >"$FS_TMP/gap.hist"
n_missed=$(grep -c ' missed - 1 $' "$FS_TMP/gap.hist")
[ "$n_missed" -ge 1 ] || fs_fail "no slot missed in the gap: $(cat "$FS_TMP/gap.hist")"
head -n $((n_missed + 3)) "$FS_TMP/gap.hist" | awk -v l="$last" -v m="$n_missed" '
	$1 != l + 2 * NR || $4 != 1 || $2 != (NR <= m ? "missed" : "fired") { bad = 1 }
	END { exit bad }' || fs_fail "the gap after $last: $(cat "$FS_TMP/gap.hist")"
worker "$F"

# ---- the firing node drains: the other takes over within 25 s; resume ----
at "$O" fs_post /settings '{"state":"drain"}'
D=$(date +%s)
fs_phase "node-$O drains"
took_over() { is_firer "$F" && fired_after "$D"; }
within "$D" 25 took_over || fs_fail "node-$F did not take over within 25 s of the drain"
fs_phase "node-$F fires"
[ "$(node_of "$(echo "$FIRED_ROW" | cut -d' ' -f3)")" = "$F" ] || fs_fail "fired by: $FIRED_ROW"
at "$O" fs_post /settings '{"state":"run"}'
sleep 3
at a fs_post /schedules/pause '{"name":"every2"}'
fs_expect 200 '{"message":"Schedule '"'every2'"' paused"}' "pause every2"
fs_phase "paused"
[ ! -s "$FS_TMP/firer.fail" ] || fs_fail "the firing lock: $(cat "$FS_TMP/firer.fail")"

# ---- a per-second schedule last fired 400 days ago: the catch-up walk is bounded ----
at b fs_post /schedules/set '{"name":"tick","cron":"* * * * * *","jobName":"j-tick","factfilePath":"'"$FF"'","factfileArgs":["--tag","out,'"$FS_TMP"'/tick.out","--tag","sleep,0"]}'
fs_expect 200 '{"message":"Schedule '"'tick'"' set"}' "set tick"
at b fs_post /schedules/pause '{"name":"tick"}'
fs_consul_value "$NS/schedules/tick" | python3 -c '
import json, sys, time
v = json.load(sys.stdin)
v["lastSlot"], v["paused"] = int(time.time()) - 400 * 86400, False
print(json.dumps(v, separators=(",", ":")), end="")' >"$FS_TMP/tick.json"
curl -s -X PUT --data-binary @"$FS_TMP/tick.json" "$FS_CONSUL/v1/kv/$NS/schedules/tick" >/dev/null
W=$(date +%s)
caught_up() {
	history tick | grep -qE '^[0-9]+ missed - [0-9]{7,} at least [0-9]{7,} more slots missed$' &&
		[ "$(history tick | awk -v w="$W" '$1 >= w && $2 == "fired"' | wc -l)" -ge 2 ]
}
within "$W" 5 caught_up || fs_fail "tick: $(history tick | tail -n 5)"
fs_phase "tick caught up"
at b fs_post /schedules/pause '{"name":"tick"}'

# ---- every slot accounted for once; each fired one a job, run once, queued within 2 s (but
# for the catch-up's and a takeover's first) ----
history every2 >"$FS_TMP/every2.hist"
for k in a b; do
	eval "FS_SPOOL=\$SPOOL_$k"
	for j in $(fs_sql "SELECT id FROM jobs WHERE job_name = 'j-every2' AND state != 'DONE'"); do
		fs_wait_state "$j" DONE
	done
	fs_sql "SELECT id, created_ms, factfile_args, state, outcome FROM jobs WHERE job_name = 'j-every2'" |
		sed "s/^/$k|/"
done >"$FS_TMP/every2.jobs"
FS_SPOOL=$SPOOL_a
python3 - "$FS_TMP/every2.hist" "$FS_TMP/every2.jobs" "$OUT" <<'EOF' || fs_fail "the slots of every2 (history in $FS_TMP/every2.hist)"
import calendar, json, sys, time
hist = [l.split(" ", 4) for l in open(sys.argv[1]).read().splitlines()]
jobs = {}
for l in open(sys.argv[2]).read().splitlines():
    node, jid, created, args, state, outcome = l.split("|")
    slot = [a for a in json.loads(args) if a.startswith("slot,")][0][5:]
    jobs[jid] = (node, int(created), calendar.timegm(time.strptime(slot, "%Y-%m-%dT%H:%M:%SZ")),
                 state, outcome)
lines = open(sys.argv[3]).read().splitlines()
bad = []
slots = [int(h[0]) for h in hist]
if slots != list(range(slots[0], slots[0] + 2 * len(slots), 2)):
    bad.append("the history is not every slot once: %s" % slots)
fired = [h for h in hist if h[1] == "fired"]
for h in hist:
    ok = h[3] == "1" and (h[1] in ("fired", "missed") or h[1:] == ["refused", "-", "1", "drain"])
    if not ok:
        bad.append("row %s" % h)
# the catch-up after a gap fires its slots late, by design: the 3 fired after missed ones
late, catch = set(), 0
for h in hist:
    if h[1] == "missed":
        catch = 3
    elif h[1] == "fired" and catch > 0:
        late.add(h[0])
        catch -= 1
# ... and so may the first slot a node fires after it took the lock over: the lock is tried every
# 2 s, and a slot found due then (less than 5 s late) fires as it is found
prev = None
for h in fired:
    j = jobs.get(h[2])
    if j is not None and prev is not None and j[0] != prev:
        late.add(h[0])
    prev = j[0] if j is not None else prev
for h in fired:
    j = jobs.get(h[2])
    iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(h[0])))
    if j is None:
        bad.append("slot %s: no job %s on either node" % (h[0], h[2]))
    elif j[2] != int(h[0]) or j[3:] != ("DONE", "SUCCEEDED"):
        bad.append("slot %s: job %s" % (h[0], j))
    elif not 0 <= j[1] - int(h[0]) * 1000 <= 2000 and h[0] not in late:
        bad.append("slot %s: queued %d ms after it" % (h[0], j[1] - int(h[0]) * 1000))
    if lines.count(iso) != 1:
        bad.append("slot %s: %d lines in the file" % (iso, lines.count(iso)))
if len(jobs) != len(fired) or len(lines) != len(fired):
    bad.append("%d slots fired, %d jobs, %d lines" % (len(fired), len(jobs), len(lines)))
if len(set(j[0] for j in jobs.values())) != 2:
    bad.append("the jobs did not come from both nodes")
print("%d slots: %d fired, %d missed" % (len(hist), len(fired), sum(h[1] == "missed" for h in hist)))
for b in bad:
    print("FAIL:", b)
sys.exit(1 if bad else 0)
EOF
# ---- /metrics: the nodes' slot counters add up to the histories ----
for r in fired skipped refused missed; do
	want=$(for n in every2 lap tick; do history "$n"; done | awk -v r="$r" '$2 == r { c += $4 } END { print c + 0 }')
	got=0
	for k in a b; do
		at "$k" fs_req GET /metrics
		v=$(printf '%s' "$FS_BODY" | sed -n 's/^factotum_server_schedule_slots_total{result="'"$r"'"} \([0-9]*\)$/\1/p')
		got=$((got + ${v:-0}))
	done
	[ "$got" = "$want" ] || fs_fail "/metrics: $got slots $r over both nodes, the histories say $want"
done
fs_done
