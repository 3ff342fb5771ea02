# SPDX-License-Identifier: Apache-2.0
# What the reliability tests share (POSIX sh, sourced after tests/integration/lib.sh or
# worker_lib.sh): the short/full switch, the check that the programs carry the fault-injection
# seam, the figures, and the state that lets a full run stop and continue. tests/reliability/README
# says how to run them.
#
#   FS_RELIABILITY        unset or "short": the short form (make check, CI); "full": the full form
#   FS_RELIABILITY_STATE  a directory keeping each script's totals between runs: a run continues
#                         where the last one stopped (unset: the totals live in the test's
#                         temporary directory and each run starts from zero)

case ${FS_RELIABILITY:-short} in
short) REL_FORM=short ;;
full) REL_FORM=full ;;
*)
	echo "FAIL: FS_RELIABILITY is '$FS_RELIABILITY': short or full"
	exit 99
	;;
esac

# rel_full: true in the full form.
rel_full() {
	[ "$REL_FORM" = full ]
}

# rel_need_seam PROGRAM...: exits 77 (skip) with one line unless every PROGRAM (paths under
# FS_BUILDDIR, e.g. worker/factotum-server-worker) was built with the fault-injection seam.
# Exact and cheap: core/fault.c is linked into a program only when the seam is compiled in and
# the program has a point, and it leaves its message "FS_FAULT entry" in the binary. A tree
# configured with --enable-fault-injection whose PROGRAM lacks it is a failure (99), not a skip:
# the test asks for a point that program does not have.
rel_need_seam() {
	_rs_conf=no
	grep -q '^DEFS = .*-DFS_FAULT_INJECTION=1' "$FS_BUILDDIR/Makefile" 2>/dev/null &&
		_rs_conf=yes
	for _rs_p in "$@"; do
		grep -qaF 'FS_FAULT entry' "$FS_BUILDDIR/$_rs_p" 2>/dev/null && continue
		if [ $_rs_conf = yes ]; then
			echo "FAIL: built with --enable-fault-injection, but $_rs_p has no fault point"
			exit 99
		fi
		echo "SKIP: $_rs_p has no fault-injection seam (./configure --enable-fault-injection)"
		exit 77
	done
}

# rel_figure NAME VALUE: one figure, as the README's tables take them.
rel_figure() {
	echo "figure: $1 $2"
}

# rel_state_init NAME: the totals of script NAME in its form, kept in REL_STATE (under
# FS_RELIABILITY_STATE when set, else under FS_TMP). A run adds its counts round by round:
# rel_round_add, then rel_round_commit, which adds the round to the totals in one rename, so a
# run killed mid-round leaves the totals of its whole rounds and nothing of the interrupted one.
rel_state_init() {
	if [ -n "${FS_RELIABILITY_STATE:-}" ]; then
		REL_STATE=$FS_RELIABILITY_STATE/$1.$REL_FORM
	else
		REL_STATE=$FS_TMP/rel-state/$1.$REL_FORM
	fi
	mkdir -p "$REL_STATE" || exit 99
	[ -f "$REL_STATE/totals" ] || : >"$REL_STATE/totals"
	rm -f "$REL_STATE/round"
}

# rel_get KEY: the total of KEY (0 when never counted).
rel_get() {
	awk -v k="$1" '$1 == k { v = $2 } END { print v + 0 }' "$REL_STATE/totals"
}

# rel_round_add KEY N: adds N to KEY in the round under way.
rel_round_add() {
	echo "$1 $2" >>"$REL_STATE/round"
}

# rel_round_commit: adds the round under way to the totals.
rel_round_commit() {
	[ -f "$REL_STATE/round" ] || return 0
	cat "$REL_STATE/totals" "$REL_STATE/round" |
		awk '{ if (!($1 in v)) o[n++] = $1; v[$1] += $2 }
		     END { for (i = 0; i < n; i++) print o[i], v[o[i]] }' >"$REL_STATE/totals.new" &&
		mv "$REL_STATE/totals.new" "$REL_STATE/totals" && rm -f "$REL_STATE/round"
}

# rel_figures PREFIX: every total as a figure PREFIX.KEY, in the order first counted.
rel_figures() {
	while read -r _rf_k _rf_v; do
		rel_figure "$1.$_rf_k" "$_rf_v"
	done <"$REL_STATE/totals"
}

# rel_until SECONDS COMMAND...: runs COMMAND every 0.1 s until it succeeds (0), or 1 after
# SECONDS.
rel_until() {
	_ru_n=$(($1 * 10))
	shift
	until "$@"; do
		_ru_n=$((_ru_n - 1))
		[ $_ru_n -gt 0 ] || return 1
		sleep 0.1
	done
}

# rel_resp [FS_FAULT]: the Consul test node's responder (node-a, $FS_SPOOL, socket
# $FS_TMP/run/a.sock, namespace $NS) started again, with that fault chosen if given; its pid in
# RPID. The one before goes first (a clean stop: its claim journal with it).
RPID=
rel_resp() {
	if [ -n "$RPID" ] && kill -0 "$RPID" 2>/dev/null; then
		fs_stop_responder "$RPID"
	fi
	rm -f "$FS_TMP/run/a.sock"
	if [ -n "${1:-}" ]; then
		FS_FAULT=$1
		export FS_FAULT
	fi
	fs_start_consul_responder "$FS_TMP/run/a.sock" "$FS_SPOOL" node-a --consul-namespace "$NS"
	unset FS_FAULT
	RPID=$FS_RESP_PID
}
