#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The original server's texts for its own arguments, from every program that shares the option
# code: a bad --factotum-bin, --ip or --log-level prints the program's prefix and that text on
# stderr, nothing on stdout, and exits 2.
set -u
B=${FS_BUILDDIR:?}
T=$(mktemp -d "${TMPDIR:-/tmp}/options_errors.XXXXXX")
trap 'rm -rf "$T"' EXIT
fails=0

# check PROGRAM_PATH EXPECTED_STDERR ARG...
check() {
	prog=$1 want=$2
	shift 2
	"$prog" --spool "$T" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	got=$(cat "$T/err")
	if [ $rc -ne 2 ] || [ -s "$T/out" ] || [ "$got" != "$want" ]; then
		printf 'FAIL: %s %s\n  exit %d (want 2), stdout %s bytes\n  stderr: %s\n  wanted: %s\n' \
			"${prog##*/}" "$*" $rc "$(wc -c <"$T/out")" "$got" "$want"
		fails=$((fails + 1))
	fi
}

: >"$T/not-exec"
for prog in "$B/launcher/factotum-server" "$B/fcgi/factotum-server-fcgi" \
	"$B/worker/factotum-server-worker"; do
	p=${prog##*/}
	check "$prog" "$p: --factotum-bin: Invalid path for Factotum binary at: '$T/none' (No such file or directory)" \
		--factotum-bin "$T/none"
	check "$prog" "$p: --factotum-bin: Invalid path for Factotum binary at: '$T/not-exec' (not executable)" \
		--factotum-bin="$T/not-exec"
	check "$prog" "$p: --ip: Invalid IP address: [300.1.2.3] - Regex mismatch" \
		--factotum-bin /bin/true --ip 300.1.2.3
	check "$prog" "$p: --log-level: Unknown log level: 'verbose'
Please select a valid log level." \
		--factotum-bin /bin/true --log-level=verbose
done
[ $fails -eq 0 ] || exit 1
echo "ok: 12 checks"
