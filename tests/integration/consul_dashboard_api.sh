#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The cluster's side of the dashboard's endpoints, on a real consul agent with two nodes (nginx
# + responder + worker + spool each) in one namespace: /nodes lists both, with the counts each
# worker published under its session (a running job shows), seen from either node; a key no
# session holds is not listed, nor is a node whose worker stopped cleanly (its session
# destroyed); /jobs?scope=cluster walks
# every node's entries page by page with its cursor, in id order, each entry naming its node,
# and refuses a limit over 100 and a cursor that is not an id.
. "$FS_SRCDIR/tests/integration/worker_lib.sh"
. "$FS_SRCDIR/tests/integration/consul_lib.sh"

NS=fs-test/dash
SPOOL_A=$FS_SPOOL
SPOOL_B=$FS_TMP/spool-b
HOLD=$FS_TMP/hold
trap 'rm -f "$HOLD"; fs_stop_all_supervisors "$SPOOL_A" "$SPOOL_B"; fs_stop_workers; fs_consul_stop; fs_cleanup' EXIT

fs_consul_start
set -- $(fs_free_ports 2)
PORT_A=$1 PORT_B=$2
# node K SPOOL PORT: responder, nginx and worker of node-K; its URL in URL_K, its worker's pid
# in WORKER_K. The worker is told the node's address (what nginx would listen on).
node() {
	fs_start_consul_responder "$FS_TMP/run/$1.sock" "$2" "node-$1" --consul-namespace "$NS"
	fs_start_nginx "$FS_TMP/run/$1.sock" "nginx-$1"
	eval "URL_$1=\$FS_URL"
	fs_start_consul_worker "$2" "node-$1" "$FS_CONSUL_PORT" --consul-namespace "$NS" \
		--ip 127.0.0.1 --port "$3"
	eval "WORKER_$1=\$FS_WORKER_PID"
}
node a "$SPOOL_A" "$PORT_A"
node b "$SPOOL_B" "$PORT_B"

# at URL: runs the rest of the line against that node
at() {
	FS_URL=$1
	shift
	"$@"
}

# ---- jobs on both nodes: three on a, two on b, and one held running on b ----
fs_factfile quick 'echo hi'
QUICK=$FS_FF
for i in 1 2 3; do
	at "$URL_a" fs_submit quick "$QUICK" '["--tag","n,a'"$i"'"]'
	echo "$FS_ID node-a" >>"$FS_TMP/ids"
	at "$URL_a" fs_wait_state "$FS_ID" DONE
done
for i in 1 2; do
	at "$URL_b" fs_submit quick "$QUICK" '["--tag","n,b'"$i"'"]'
	echo "$FS_ID node-b" >>"$FS_TMP/ids"
	at "$URL_b" fs_wait_state "$FS_ID" DONE
done
: >"$HOLD"
fs_factfile hold "while [ -e $HOLD ]; do sleep 0.1; done"
at "$URL_b" fs_submit hold "$FS_FF"
HELD=$FS_ID
echo "$HELD node-b" >>"$FS_TMP/ids"
at "$URL_b" fs_wait_state "$HELD" WORKING

# ---- /nodes: both, as published; the held job shows as b's running one ----
# nodes_are URL WANT: /nodes at URL lists exactly WANT ("name address queued running" per node,
# ';' between), waiting up to 20 s for the workers' next publication (every 5 s)
nodes_are() {
	n=0
	while :; do
		FS_URL=$1
		fs_req GET /nodes
		got=$(printf '%s' "$FS_BODY" | python3 -c 'import json, sys
v = json.load(sys.stdin)
assert v["consul"] is True
print(";".join("%s %s %d %d" % (n["name"], n["address"], n["queued"], n["running"])
               for n in v["nodes"]))' 2>/dev/null)
		[ "$FS_STATUS" = 200 ] && [ "$got" = "$2" ] && return 0
		n=$((n + 1))
		[ $n -lt 100 ] || { fs_fail "/nodes at $1: $FS_STATUS $FS_BODY, want $2"; return 1; }
		sleep 0.2
	done
}
# a node's key that no session holds (its node gone), first in the order: not listed
fs_consul_put "$NS/nodes/node-0" \
	'{"name":"node-0","address":null,"queued":7,"running":7,"updated":"2026-01-01T00:00:00.000Z"}'
WANT="node-a 127.0.0.1:$PORT_A 0 0;node-b 127.0.0.1:$PORT_B 0 1"
nodes_are "$URL_a" "$WANT"
nodes_are "$URL_b" "$WANT"
# the entry's shape and its time
at "$URL_a" fs_req GET /nodes
printf '%s' "$FS_BODY" | python3 -c 'import json, sys, re
v = json.load(sys.stdin)
assert list(v) == ["consul", "nodes"], v
for n in v["nodes"]:
    assert list(n) == ["name", "address", "queued", "running", "updated"], n
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", n["updated"]), n
' || fs_fail "/nodes shape: $FS_BODY"
# the key as Consul holds it: locked by b's session
[ "$(fs_consul_field "$NS/nodes/node-b" Session)" = "$(fs_spool_setting "$SPOOL_B" consul.session)" ] ||
	fs_fail "$NS/nodes/node-b is not held by node-b's session: $(fs_consul_get "$NS/nodes/node-b")"

# ---- /jobs?scope=cluster: every node's entries, pages of 2 in id order ----
sort "$FS_TMP/ids" >"$FS_TMP/want"
# walk URL: the pages from URL, as "id node" lines in $FS_TMP/walked; the page count in PAGES
walk() {
	: >"$FS_TMP/walked"
	cursor= PAGES=0
	while :; do
		FS_URL=$1
		fs_req GET "/jobs?scope=cluster&limit=2${cursor:+&before=$cursor}"
		[ "$FS_STATUS" = 200 ] || { fs_fail "cluster page $PAGES at $1: $FS_STATUS $FS_BODY"; return; }
		printf '%s' "$FS_BODY" | python3 -c 'import json, sys
v = json.load(sys.stdin)
assert v["limit"] == 2 and len(v["jobs"]) <= 2, v
for e in v["jobs"]:
    print(e["jobRequest"]["jobId"], e["node"])' >>"$FS_TMP/walked" ||
			fs_fail "cluster page $PAGES at $1: $FS_BODY"
		PAGES=$((PAGES + 1))
		cursor=$(printf '%s' "$FS_BODY" | python3 -c 'import json, sys; print(json.load(sys.stdin).get("next", ""))')
		[ -n "$cursor" ] || break
		[ $PAGES -lt 10 ] || { fs_fail "cluster pages at $1 never end"; return; }
	done
}
for u in "$URL_a" "$URL_b"; do
	walk "$u"
	cmp -s "$FS_TMP/walked" "$FS_TMP/want" ||
		fs_fail "cluster pages at $u: $(cat "$FS_TMP/walked") want $(cat "$FS_TMP/want")"
	[ "$PAGES" -eq 3 ] || fs_fail "cluster pages at $u: $PAGES pages for 6 jobs"
done
# the entry of the held job, as /check gives it from the other node
at "$URL_a" fs_req GET "/check?id=$HELD"
want_entry=$FS_BODY
at "$URL_a" fs_req GET "/jobs?scope=cluster&limit=100"
printf '%s' "$FS_BODY" | python3 -c 'import json, sys
v = json.load(sys.stdin)
e = [e for e in v["jobs"] if e["jobRequest"]["jobId"] == sys.argv[1]]
assert len(e) == 1 and json.dumps(e[0], separators=(",", ":")) == sys.argv[2], (e, sys.argv[2])
assert "next" not in v, v
' "$HELD" "$want_entry" || fs_fail "cluster entry of $HELD: $FS_BODY"
at "$URL_a" fs_expect_get '/jobs?scope=cluster&limit=101' 400 \
	'{"message":"Error: invalid limit '"'101'"', must be a number from 1 to 100"}'
at "$URL_a" fs_expect_get '/jobs?scope=cluster&before=xyz' 400 \
	'{"message":"Error: invalid before '"'xyz'"', not a cursor from /jobs?scope=cluster (its '"'next'"')"}'

# ---- a node whose worker stopped cleanly is gone from the list ----
rm -f "$HOLD"
at "$URL_b" fs_wait_state "$HELD" DONE
nodes_are "$URL_a" "node-a 127.0.0.1:$PORT_A 0 0;node-b 127.0.0.1:$PORT_B 0 0"
fs_stop_worker "$WORKER_b"
nodes_are "$URL_a" "node-a 127.0.0.1:$PORT_A 0 0"
nodes_are "$URL_b" "node-a 127.0.0.1:$PORT_A 0 0"

fs_done
