# SPDX-License-Identifier: Apache-2.0
# Shared by the webhook tests: a temporary directory, failure counting, a loopback webhook
# receiver (webhook_receiver.py) and a check of the event sequence it recorded. Source it with wh_name (the test's name) and, optionally,
# wh_path (the URL path the receiver is given; default "/") set.
: "${FS_SRCDIR:?}" "${FS_BUILDDIR:?}" "${FS_TESTDATA:?}" "${wh_name:?}"
receiver=$FS_SRCDIR/tests/integration/webhook_receiver.py
check=$FS_SRCDIR/tests/integration/webhook_check.py
schemas=$FS_TESTDATA/webhook-schemas
python3 -c 'import jsonschema' 2>/dev/null || { echo "FAIL: python3-jsonschema missing (scripts/install-deps.sh installs it)"; exit 99; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/$wh_name.XXXXXX")
rpid=
stop_receiver() { [ -n "$rpid" ] && kill "$rpid" 2>/dev/null && wait "$rpid" 2>/dev/null; rpid=; }
trap 'stop_receiver; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# start_receiver <name> [receiver options]: sets $url, $out, $reqs.
start_receiver() {
	name=$1; shift
	out=$tmp/$name.events; reqs=$tmp/$name.requests
	: >"$out"; : >"$reqs"
	python3 "$receiver" --port-file "$tmp/$name.port" --out "$out" --requests "$reqs" "$@" &
	rpid=$!
	i=0
	while [ ! -s "$tmp/$name.port" ]; do
		i=$((i + 1)); [ $i -gt 100 ] && { echo "receiver did not start"; exit 1; }
		sleep 0.05
	done
	url="http://127.0.0.1:$(cat "$tmp/$name.port")${wh_path:-/}"
}

# same_summary <label>: the recorded event sequence ($out) must be the one in $tmp/want.
same_summary() {
	python3 "$check" summary "$out" >"$tmp/got" && cmp -s "$tmp/want" "$tmp/got" ||
		{ fail "$1: event sequence"; diff "$tmp/want" "$tmp/got"; }
}
