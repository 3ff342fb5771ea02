#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Consul as its operators run it: a real agent with TLS only (a CA and certificates made here by
# `consul tls`, no plain HTTP port, verify_incoming_https so that a client certificate is
# required) and ACLs (default deny; a token whose policy allows the namespace's keys and the
# sessions of the agent's node, nothing else), a plain-HTTP listener on a unix socket beside it.
# Covers: a node configured through CONSUL_HTTP_ADDR, CONSUL_CACERT, CONSUL_CLIENT_CERT/KEY,
# CONSUL_TLS_SERVER_NAME and --consul-token-file runs a job to SUCCEEDED and its entry is in
# Consul; the same settings as options; an option winning over its variable; the unix socket;
# the launcher (its own look for Consul's leader over TLS, the settings passed on);
# a node with a token Consul does not know: /submit answers 503 "Consul ACL denied: ...",
# /health says so, and its worker logs the refusal once while retrying it every 30 s (not on
# the outage backoff); a token whose policy is changed under a running worker (refused,
# accepted at the next try, refused at a renewal: two refusal lines, one "accepted again"); a
# token outside its namespace (the claim refused); --consul-addr with --consul-ip exits 2.
if ! command -v "${FS_CONSUL_BIN:-consul}" >/dev/null 2>&1; then
	echo "SKIP: needs consul (scripts/install-deps.sh installs it)"
	exit 77
fi
. "$FS_SRCDIR/tests/integration/worker_lib.sh"
. "$FS_SRCDIR/tests/integration/consul_lib.sh"

NS=fs-test/acl
AGENT_NODE=fs-acl
TLS=$FS_TMP/tls
trap 'for s in "$FS_TMP"/spool-*; do FS_SPOOL=$s fs_stop_supervisors; done; fs_stop_workers; fs_consul_stop_all; fs_cleanup' EXIT
T0=$(date +%s)
phase() { echo "$(( $(date +%s) - T0 )) s: $*"; }

# ---- the agent: TLS, ACLs ----
mkdir -p "$TLS"
(cd "$TLS" && "$FS_CONSUL_BIN" tls ca create && "$FS_CONSUL_BIN" tls cert create -server &&
	"$FS_CONSUL_BIN" tls cert create -client) >"$FS_TMP/tls.log" 2>&1 ||
	{ echo "FAIL: consul tls:"; cat "$FS_TMP/tls.log"; exit 99; }
CA=$TLS/consul-agent-ca.pem
CCERT=$TLS/dc1-client-consul-0.pem
CKEY=$TLS/dc1-client-consul-0-key.pem
MT=$(python3 -c 'import uuid; print(uuid.uuid4())')
set -- $(fs_free_ports 5)
HTTPS=$1
SOCK=$FS_TMP/consul-http.sock
CONSUL=https://127.0.0.1:$HTTPS
# Consul 1.8.7 names the initial management token `master` (later versions also take
# initial_management)
cat >"$FS_TMP/agent.hcl" <<EOF
datacenter = "dc1"
node_name = "$AGENT_NODE"
data_dir = "$FS_TMP/consul-data"
server = true
bootstrap_expect = 1
bind_addr = "127.0.0.1"
client_addr = "127.0.0.1"
log_level = "warn"
addresses { http = "unix://$SOCK" }
ports {
  http = $2
  https = $HTTPS
  dns = -1
  grpc = -1
  serf_lan = $3
  serf_wan = $4
  server = $5
}
ca_file = "$CA"
cert_file = "$TLS/dc1-server-consul-0.pem"
key_file = "$TLS/dc1-server-consul-0-key.pem"
verify_incoming_https = true
verify_outgoing = true
acl {
  enabled = true
  default_policy = "deny"
  enable_token_persistence = false
  tokens { master = "$MT" }
}
EOF
fs_consul_agent_config acl "$FS_TMP/agent.hcl"
CPID=$FS_CONSUL_SRV_PID

# mcurl ARGS...: curl to the agent with the client certificate and the management token
mcurl() {
	curl -s -m 10 --cacert "$CA" --cert "$CCERT" --key "$CKEY" -H "X-Consul-Token: $MT" "$@"
}
leader() {
	case $(mcurl "$CONSUL/v1/status/leader") in '"'?*'"') return 0 ;; esac
	return 1
}
fs_until "$CPID" 1200 leader || { echo "FAIL: no leader:"; tail -n 20 "$FS_TMP/consul-acl.log"; exit 99; }
# without a client certificate the agent refuses the connection
if curl -s -m 5 --cacert "$CA" -o /dev/null "$CONSUL/v1/status/leader"; then
	fs_fail "the agent answered without a client certificate (verify_incoming_https)"
fi

# the node's policy: its namespace's keys, the sessions of the agent's node (the worker's
# session is made there); the ACL system takes a moment after the first election
# policy_req NAME [session]: the request body of a policy NAME (its rules: the namespace's keys,
# and with "session" the sessions of the agent's node) in $FS_TMP/policy.req
policy_req() {
	_pr_name=$1
	shift
	python3 -c '
import json, sys
rules = "key_prefix \"%s/\" { policy = \"write\" }\n" % sys.argv[2]
if sys.argv[4:] == ["session"]:
    rules += "session \"%s\" { policy = \"write\" }\n" % sys.argv[3]
print(json.dumps({"Name": sys.argv[1], "Rules": rules}))' "$_pr_name" "$NS" "$AGENT_NODE" "$@" \
		>"$FS_TMP/policy.req"
}
# policy_put [ID]: creates the policy of policy.req (or updates policy ID); its answer in
# $FS_TMP/policy.out
policy_put() {
	[ "$(mcurl -o "$FS_TMP/policy.out" -w '%{http_code}' -X PUT \
		--data-binary @"$FS_TMP/policy.req" "$CONSUL/v1/acl/policy${1:+/$1}")" = 200 ]
}
# token_file POLICY FILE: a new token with POLICY, its secret in FILE (0600)
token_file() {
	(umask 077 && mcurl -X PUT -d '{"Policies":[{"Name":"'"$1"'"}]}' "$CONSUL/v1/acl/token" |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["SecretID"])' >"$2") ||
		{ echo "FAIL: no token"; exit 99; }
}
policy_req factotum-server session
fs_until "$CPID" 600 policy_put || { echo "FAIL: policy: $(cat "$FS_TMP/policy.out")"; exit 99; }
token_file factotum-server "$FS_TMP/token"
(umask 077 && python3 -c 'import uuid; print(uuid.uuid4())' >"$FS_TMP/bad-token")
phase "agent up, token made"

TLS_ENV="CONSUL_HTTP_ADDR=$CONSUL CONSUL_CACERT=$CA CONSUL_CLIENT_CERT=$CCERT"
TLS_ENV="$TLS_ENV CONSUL_CLIENT_KEY=$CKEY CONSUL_TLS_SERVER_NAME=server.dc1.consul"

# node NAME "ENV" OPTIONS...: the responder, nginx and worker of node NAME with the variables ENV
# (space-separated NAME=VALUE) and the options, in the namespace NODE_NS (default NS); FS_URL is
# its nginx, WLOG its worker's log. The worker is ready once bound (with a refused token it never
# holds a session).
node() {
	_n=$1 _e=$2
	shift 2
	mkdir -p "$FS_TMP/spool-$_n"
	# shellcheck disable=SC2086 # the variables are a list
	env $_e "$FS_FCGI" --spool "$FS_TMP/spool-$_n" --fcgi-socket "$FS_TMP/run/$_n.sock" \
		--factotum-bin "$FS_RUNNER" $FS_AS_ROOT --fcgi-threads 4 --consul-name "$_n" \
		--consul-namespace "${NODE_NS:-$NS}" "$@" 2>>"$FS_TMP/responder-$_n.log" &
	fs_responder_started "$FS_TMP/run/$_n.sock"
	fs_start_nginx "$FS_TMP/run/$_n.sock" "nginx-$_n"
	WLOG=$FS_TMP/worker-$_n.log
	# shellcheck disable=SC2086
	env $_e "$FS_WORKER" --spool "$FS_TMP/spool-$_n" --factotum-bin "$FS_RUNNER" $FS_AS_ROOT \
		--consul-name "$_n" --consul-namespace "$NS" --log-level debug "$@" 2>>"$WLOG" &
	fs_worker_started 300 fs_worker_ready "$FS_TMP/spool-$_n" "$!"
	NODE_SPOOL=$FS_TMP/spool-$_n
}
has_session() { [ -n "$(fs_spool_setting "$1" consul.session)" ]; }

# entry_done ID: the job's entry, read with the management token, is DONE/SUCCEEDED
entry_done() {
	case $(mcurl "$CONSUL/v1/kv/$NS/$1?raw") in
	'{"state":"DONE",'*'"lastOutcome":"SUCCEEDED"'*) return 0 ;;
	esac
	return 1
}

# run_job WHAT: once the last node's worker holds a session, a job (its own id) through FS_URL
# runs to SUCCEEDED and its entry reaches Consul
run_job() {
	fs_until "$CPID" 200 has_session "$NODE_SPOOL" || fs_fail "$1: the worker holds no session"
	fs_submit "$1" "$QUICK" '["--tag","node,'"${NODE_SPOOL##*/}"'"]'
	[ -n "$FS_ID" ] || return 0
	fs_wait_state "$FS_ID" DONE && fs_expect_outcome "$FS_ID" SUCCEEDED 0 null null "$1"
	fs_until "$CPID" 200 entry_done "$FS_ID" ||
		fs_fail "$1: the entry of $FS_ID in Consul: $(mcurl "$CONSUL/v1/kv/$NS/$FS_ID?raw")"
}
fs_factfile quick 'echo hi'
QUICK=$FS_FF

# ---- a token Consul does not know: started first, looked at last (its retries take 30 s) ----
node bad "$TLS_ENV" --consul-token-file "$FS_TMP/bad-token"
BAD_URL=$FS_URL BAD_LOG=$WLOG BAD_T0=$(date +%s)
denied_stored() {
	case $(fs_spool_setting "$FS_TMP/spool-bad" consul.denied) in
	'Consul ACL denied: '?*) return 0 ;;
	esac
	return 1
}
fs_until "$CPID" 200 denied_stored || fs_fail "the worker did not record the ACL refusal"

# ---- refused, accepted, refused again: a token whose policy changes under the running worker,
# first without the sessions (refused), then with them (its next try, 30 s later, goes through),
# then without again (its next renewal is refused)
policy_req flip
policy_put || { echo "FAIL: policy flip: $(cat "$FS_TMP/policy.out")"; exit 99; }
FLIP_ID=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["ID"])' \
	"$FS_TMP/policy.out")
token_file flip "$FS_TMP/flip-token"
node flip "$TLS_ENV" --consul-token-file "$FS_TMP/flip-token"
FLIP_LOG=$WLOG
flip_refused() { [ "$(grep -c 'Consul ACL denied: ' "$FLIP_LOG")" = "$1" ]; }
fs_until "$CPID" 200 flip_refused 1 || fs_fail "node flip: the refusal was not logged"
policy_req flip session
policy_put "$FLIP_ID" || fs_fail "policy flip with sessions: $(cat "$FS_TMP/policy.out")"

# ---- the environment, as Consul's own tools read it, and the token from a file ----
node env "$TLS_ENV" --consul-token-file "$FS_TMP/token"
phase "node env up"
run_job "job through the environment's settings"
fs_expect_get /health 200 '{"message":"ok","spool":"ok","worker":"ok","consul":"ok"}'

# ---- the same settings as options ----
node opt "" --consul-addr "$CONSUL" --consul-cacert "$CA" --consul-client-cert "$CCERT" \
	--consul-client-key "$CKEY" --consul-tls-server-name server.dc1.consul \
	--consul-ssl-verify true --consul-token-file "$FS_TMP/token"
run_job "job through the options"

# ---- each option wins over its variable (the variables point at nothing that works) ----
WRONG="CONSUL_HTTP_ADDR=https://127.0.0.1:$(fs_free_ports 1) CONSUL_CACERT=$CKEY"
WRONG="$WRONG CONSUL_CLIENT_CERT=$CA CONSUL_CLIENT_KEY=$CA CONSUL_TLS_SERVER_NAME=nowhere.example"
WRONG="$WRONG CONSUL_HTTP_TOKEN_FILE=$FS_TMP/bad-token CONSUL_HTTP_SSL_VERIFY=false"
node over "$WRONG" --consul-addr "$CONSUL" --consul-cacert "$CA" --consul-client-cert "$CCERT" \
	--consul-client-key "$CKEY" --consul-tls-server-name server.dc1.consul \
	--consul-ssl-verify true --consul-token-file "$FS_TMP/token"
run_job "job with options over the variables"

# ---- the agent's unix socket (plain HTTP there; the token still applies) ----
node unix "CONSUL_HTTP_ADDR=unix://$SOCK CONSUL_HTTP_TOKEN_FILE=$FS_TMP/token"
run_job "job over the unix socket"
phase "the good nodes ran their jobs"

# ---- the launcher: its own look for Consul's leader over TLS, and the settings passed on (the
# options on its command line, the variables in its environment) ----
fs_use_launcher
LPORT=$(fs_free_ports 1)
# shellcheck disable=SC2086
env $TLS_ENV "$LAUNCHER" --spool "$FS_TMP/spool-launcher" --ip 127.0.0.1 --port "$LPORT" \
	--factotum-bin "$RUNNER" $FS_AS_ROOT --consul-name launcher --consul-namespace "$NS" \
	--consul-token-file "$FS_TMP/token" >"$FS_TMP/launcher.out" 2>"$FS_TMP/launcher.err" &
LPID=$!
FS_RESP_PIDS="$FS_RESP_PIDS $LPID" # stopped on exit as a responder is (SIGTERM stops its node)
if fs_until "$LPID" 400 grep -q "listening on http://127.0.0.1:$LPORT/" "$FS_TMP/launcher.out"; then
	FS_URL=http://127.0.0.1:$LPORT NODE_SPOOL=$FS_TMP/spool-launcher
	run_job "job through the launcher"
	phase "the launcher's node ran its job"
else
	fs_fail "the launcher did not start: $(cat "$FS_TMP/launcher.err")"
fi
fs_stop_responder "$LPID"

# ---- the refused node ----
FS_URL=$BAD_URL
fs_post /submit '{"jobName":"denied","factfilePath":"'"$QUICK"'","factfileArgs":[]}'
case $FS_STATUS:$FS_BODY in
'503:{"message":"Consul ACL denied: '?*'"}') ;;
*) fs_fail "submit with a refused token: $FS_STATUS $FS_BODY" ;;
esac
fs_req GET /health
case $FS_STATUS:$FS_BODY in
'503:{"message":"Consul ACL denied: '?*'","spool":"ok","worker":"ok","consul":"acl denied"}') ;;
*) fs_fail "/health with a refused token: $FS_STATUS $FS_BODY" ;;
esac
[ "$(fs_spool_setting "$FS_TMP/spool-bad" consul.session)" = "" ] ||
	fs_fail "the refused node holds a session"
# ---- a token whose policy does not cover the namespace: the session is made, the claim refused
NODE_NS=fs-test/elsewhere node ns "$TLS_ENV" --consul-token-file "$FS_TMP/token"
fs_until "$CPID" 200 has_session "$FS_TMP/spool-ns" || fs_fail "node ns holds no session"
fs_post /submit '{"jobName":"elsewhere","factfilePath":"'"$QUICK"'","factfileArgs":[]}'
case $FS_STATUS:$FS_BODY in
'503:{"message":"Consul ACL denied: '?*'"}') ;;
*) fs_fail "submit outside the token's namespace: $FS_STATUS $FS_BODY" ;;
esac

# node flip: accepted at its second try, then refused again at a renewal
fs_until "$CPID" 800 has_session "$FS_TMP/spool-flip" || fs_fail "node flip never got a session"
policy_req flip
policy_put "$FLIP_ID" || fs_fail "policy flip without sessions: $(cat "$FS_TMP/policy.out")"
fs_until "$CPID" 300 flip_refused 2 || fs_fail "node flip: the second refusal was not logged"
n=$(grep -c 'consul: the ACL token is accepted again' "$FLIP_LOG")
[ "$n" = 1 ] || fs_fail "node flip: 'accepted again' logged $n times, not once"
grep 'Consul ACL denied: ' "$FLIP_LOG" | tail -n 1 | grep -q '(renewing the node.s session)' ||
	fs_fail "node flip: the second refusal is not the renewal's: $(grep 'denied' "$FLIP_LOG")"
phase "node flip: refused, accepted, refused"

# two tries 30 s apart, one line saying the refusal (the outage backoff would have tried about
# ten times by then, logging each)
left=$(( BAD_T0 + 36 - $(date +%s) ))
[ "$left" -le 0 ] || sleep "$left"
n=$(grep -c 'Consul ACL denied: ' "$BAD_LOG")
[ "$n" = 1 ] || fs_fail "the refusal was logged $n times, not once"
# (one retry per 30 s: the check may come later on a loaded machine)
n=$(grep -c 'still refused by the ACL (creating the node.s session); next try in 30 s' "$BAD_LOG")
secs=$(( $(date +%s) - BAD_T0 ))
[ "$n" -ge 1 ] && [ "$n" -le $(( secs / 30 + 1 )) ] ||
	fs_fail "the refused session was retried $n times in $secs s, not every 30 s"
grep -q 'cannot create the node.s session' "$BAD_LOG" &&
	fs_fail "the refusal was reported as an outage: $(grep 'cannot create' "$BAD_LOG" | head -n 1)"
phase "the refused node said it once"

# ---- --consul-addr with --consul-ip: one line, exit 2, from every program ----
for prog in "$FS_FCGI" "$FS_WORKER" "$FS_BUILDDIR/launcher/factotum-server"; do
	out=$("$prog" --consul-addr "$CONSUL" --consul-ip 127.0.0.1 --factotum-bin "$FS_RUNNER" 2>&1)
	st=$?
	[ "$st:$out" = "2:${prog##*/}: --consul-addr: cannot be given with --consul-ip (one address)" ] ||
		fs_fail "${prog##*/} --consul-addr --consul-ip: $st $out"
done
# a bad variable or an unusable token file: one line, exit 2, at start
out=$(CONSUL_HTTP_ADDR=ftp://127.0.0.1:1 "$FS_WORKER" --factotum-bin "$FS_RUNNER" 2>&1)
st=$?
[ "$st:$out" = "2:factotum-server-worker: CONSUL_HTTP_ADDR: 'ftp://127.0.0.1:1' has an unknown scheme (http://, https:// or unix://)" ] ||
	fs_fail "a bad CONSUL_HTTP_ADDR: $st $out"
: >"$FS_TMP/empty-token"
chmod 0600 "$FS_TMP/empty-token"
out=$("$FS_FCGI" --factotum-bin "$FS_RUNNER" --consul-token-file "$FS_TMP/empty-token" 2>&1)
st=$?
[ "$st:$out" = "2:factotum-server-fcgi: --consul-token-file: '$FS_TMP/empty-token' is empty" ] ||
	fs_fail "an empty token file: $st $out"

if [ "$FS_FAILS" -ne 0 ]; then
	for log in "$FS_TMP"/worker-*.log "$FS_TMP"/responder-*.log; do
		echo "---- $log"
		tail -n 15 "$log"
	done
fi
fs_done
