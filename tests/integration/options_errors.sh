#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The command-line answers of every program that shares the option code, byte for byte: a bad
# value (the original server's texts for a bad --factotum-bin, --ip or --log-level, a bad
# number, a value for a flag) is the program's prefix and that text on stderr; a malformed
# command line (an unknown option or argument, a missing value) adds "Try '<prog> --help' for
# more information."; nothing on stdout, exit 2. --version is the GNU form on stdout, exit 0.
# With JOURNAL_STREAM naming stderr, each line carries the error priority <3>.
set -u
B=${FS_BUILDDIR:?}
T=$(mktemp -d "${TMPDIR:-/tmp}/options_errors.XXXXXX")
trap 'rm -rf "$T"' EXIT
fails=0
checks=0

# fail WHAT: reports the last run (its exit status in $rc).
fail() {
	printf 'FAIL: %s\n  exit %d, stdout:\n%s\n  stderr:\n%s\n' "$1" "$rc" "$(cat "$T/out")" \
		"$(cat "$T/err")"
	fails=$((fails + 1))
}

# check PROGRAM_PATH EXPECTED_STDERR ARG...: exit 2, stdout empty, stderr exactly the expected
# text and a newline.
check() {
	prog=$1
	printf '%s\n' "$2" >"$T/want"
	shift 2
	checks=$((checks + 1))
	"$prog" --spool "$T" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	if [ $rc -ne 2 ] || [ -s "$T/out" ] || ! cmp -s "$T/want" "$T/err"; then
		fail "${prog##*/} $*, wanted exit 2 and stderr:
$(cat "$T/want")"
	fi
}

: >"$T/not-exec"
for prog in "$B/launcher/factotum-server" "$B/fcgi/factotum-server-fcgi" \
	"$B/worker/factotum-server-worker"; do
	p=${prog##*/}
	try="Try '$p --help' for more information."
	check "$prog" "$p: --factotum-bin: Invalid path for Factotum binary at: '$T/none' (No such file or directory)" \
		--factotum-bin "$T/none"
	check "$prog" "$p: --factotum-bin: Invalid path for Factotum binary at: '$T/not-exec' (not executable)" \
		--factotum-bin="$T/not-exec"
	check "$prog" "$p: --ip: Invalid IP address: [300.1.2.3] - Regex mismatch" \
		--factotum-bin /bin/true --ip 300.1.2.3
	check "$prog" "$p: --log-level: Unknown log level: 'verbose'
Please select a valid log level." \
		--factotum-bin /bin/true --log-level=verbose
	check "$prog" "$p: --max-workers: 'many' is not a number" \
		--factotum-bin /bin/true --max-workers many
	check "$prog" "$p: --retain-done: '3w' is not a duration (Ns, Nm, Nh or Nd)" \
		--factotum-bin /bin/true --retain-done=3w
	check "$prog" "$p: --no-consul: takes no value" \
		--factotum-bin /bin/true --no-consul=yes
	check "$prog" "$p: unknown option '--bogus'
$try" \
		--factotum-bin /bin/true --bogus=1
	check "$prog" "$p: --port: missing value
$try" \
		--factotum-bin /bin/true --port
	check "$prog" "$p: unexpected argument 'run'
$try" \
		--factotum-bin /bin/true run

	# on the journal: the same lines, each with the error priority
	checks=$((checks + 1))
	: >"$T/err"
	stream=$(stat -c '%d:%i' "$T/err")
	JOURNAL_STREAM=$stream "$prog" --spool "$T" --bogus >"$T/out" 2>>"$T/err"
	rc=$?
	printf '<3>%s\n<3>%s\n' "$p: unknown option '--bogus'" "$try" >"$T/want"
	if [ $rc -ne 2 ] || [ -s "$T/out" ] || ! cmp -s "$T/want" "$T/err"; then
		fail "$p --bogus with JOURNAL_STREAM=$stream (its stderr), wanted:
$(cat "$T/want")"
	fi

	# --version: GNU's form with the Apache License
	checks=$((checks + 1))
	version=$(sed -n 's/^PACKAGE_VERSION = //p' "$B/Makefile")
	printf '%s\n' "$p (factotum-server) $version" \
		"Copyright (C) 2025-2026 factotum-server contributors." \
		"License Apache-2.0: Apache License, Version 2.0 <https://www.apache.org/licenses/LICENSE-2.0>" \
		"This is free software: you are free to change and redistribute it." \
		"There is NO WARRANTY, to the extent permitted by law." >"$T/want"
	"$prog" --version >"$T/out" 2>"$T/err"
	rc=$?
	if [ $rc -ne 0 ] || [ -s "$T/err" ] || ! cmp -s "$T/want" "$T/out"; then
		fail "$p --version, wanted exit 0 and stdout:
$(cat "$T/want")"
	fi
done

# the launcher's own option
p=factotum-server
check "$B/launcher/$p" "$p: --write-nginx-conf: missing value
Try '$p --help' for more information." \
	--factotum-bin /bin/true --write-nginx-conf
check "$B/launcher/$p" "$p: --write-nginx-conf: not an absolute path" \
	--factotum-bin /bin/true --write-nginx-conf=rel
[ $fails -eq 0 ] || { echo "$fails of $checks checks failed"; exit 1; }
echo "ok: $checks checks"
