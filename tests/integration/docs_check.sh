# SPDX-License-Identifier: Apache-2.0
# Keeps the documentation true to the programs (POSIX sh): every endpoint in the responder's route
# table (fcgi/router.c) has a heading in doc/api.md naming its method and path, and every option
# a program's --help lists is in that program's manual: man/<program>.*.in for the three server
# programs (and in doc/api.md's table of shared options), and doc/api.md's section on the runner
# for the bundled runner `factotum`, which has no man page (it is not on PATH). A server
# program's --help lists exactly the options its man page describes: those named by the tags
# (the line after .TP) of its OPTIONS section.

set -u

: "${FS_BUILDDIR:?run through make check}"
: "${FS_SRCDIR:?run through make check}"

API=$FS_SRCDIR/doc/api.md
ROUTER=$FS_SRCDIR/fcgi/router.c
FAILS=0

fail() {
	echo "FAIL: $*"
	FAILS=$((FAILS + 1))
}

for f in "$API" "$ROUTER"; do
	[ -r "$f" ] || { echo "FAIL: cannot read $f"; exit 99; }
done

# ---- (a) endpoints: the route table's { "<path>", "<METHOD>", <handler> } rows ----
routes=$(sed -n 's/^[[:space:]]*{ *"\(\/[^"]*\)", *"\([A-Z]*\)", *route_[a-z_]* *},.*$/\2 \1/p' "$ROUTER")
[ -n "$routes" ] || { echo "FAIL: no route found in $ROUTER (has the table's form changed?)"; exit 99; }
headings=$(grep '^#' "$API")
# "GET /help" but not "GET /helper"; "GET /" but not "GET /status"
missing=$(echo "$routes" | while read -r method path; do
	printf '%s\n' "$headings" | grep -q -e "$method $path\([^A-Za-z0-9_./-]\|\$\)" ||
		echo "$method $path"
done)
if [ -n "$missing" ]; then
	echo "$missing" | while read -r route; do
		echo "FAIL: doc/api.md has no heading for $route (fcgi/router.c serves it)"
	done
	FAILS=$((FAILS + $(echo "$missing" | wc -l)))
fi
echo "endpoints: $(echo "$routes" | wc -l) checked"

# ---- (b) options ----

# The options a --help text lists: long options (--name) and short ones (-h) on the lines that
# describe options (those starting with blanks and a dash), one per line, deduplicated.
help_options() {
	grep '^[[:space:]]\{1,\}-' | tr ' ,=:[]()|' '\n\n\n\n\n\n\n\n\n' |
		grep -e '^--[a-z][a-z0-9-]*$' -e '^-[A-Za-z]$' | sort -u
}

# has_option FILE OPTION: the text (roff dashes \- read as -, font escapes dropped) holds OPTION
# as a whole word: --port is not found in --consul-port.
has_option() {
	sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' "$1" |
		grep -q -e "\(^\|[^A-Za-z0-9-]\)$2\([^A-Za-z0-9-]\|\$\)"
}

# man_options FILE: the options named by the tags of FILE's OPTIONS section, as help_options
# lists them.
man_options() {
	awk '/^\.SH / { on = ($0 == ".SH OPTIONS") } on && tag { print } { tag = on && $0 == ".TP" }' \
		"$1" | sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' | tr ' ,=:[]()|"' '\n\n\n\n\n\n\n\n\n\n' |
		grep -e '^--[a-z][a-z0-9-]*$' -e '^-[A-Za-z]$' | sort -u
}

# same_options PROGRAM MAN: PROGRAM --help lists exactly the options MAN's OPTIONS describe.
same_options() {
	bin=$FS_BUILDDIR/$(dirname_of "$1")/$1
	"$bin" --help </dev/null | help_options >"$TMP/help.opts"
	man_options "$2" >"$TMP/man.opts"
	[ -s "$TMP/man.opts" ] || { fail "$(doc_name "$2") describes no option"; return; }
	comm -23 "$TMP/help.opts" "$TMP/man.opts" | while read -r o; do
		echo "FAIL: $1 --help lists $o, the OPTIONS of $(doc_name "$2") do not"
	done
	comm -13 "$TMP/help.opts" "$TMP/man.opts" | while read -r o; do
		echo "FAIL: the OPTIONS of $(doc_name "$2") describe $o, $1 --help does not"
	done
	n=$(comm -3 "$TMP/help.opts" "$TMP/man.opts" | wc -l)
	FAILS=$((FAILS + n))
	[ "$n" -ne 0 ] || echo "$1: --help and $(doc_name "$2") list the same $(wc -l <"$TMP/man.opts") options"
}

# dirname_of PROGRAM: the build directory holding PROGRAM.
dirname_of() {
	case $1 in
	factotum-server-fcgi) echo fcgi ;;
	factotum-server-worker) echo worker ;;
	*) echo launcher ;;
	esac
}

# doc_name FILE: how a failure names FILE (a man page, or one of the api_section extracts).
doc_name() {
	case $1 in
	"$TMP"/*) echo "doc/api.md's $(basename "$1" .md) section" ;;
	*) echo "${1#"$FS_SRCDIR"/}" ;;
	esac
}

# check_program PROGRAM DOC...: every option of PROGRAM --help is in each DOC.
check_program() {
	prog=$1
	shift
	bin=
	for d in launcher fcgi worker runner; do
		[ -x "$FS_BUILDDIR/$d/$prog" ] && bin=$FS_BUILDDIR/$d/$prog
	done
	[ -n "$bin" ] || { fail "$prog is not built in $FS_BUILDDIR"; return; }
	opts=$("$bin" --help </dev/null | help_options)
	[ -n "$opts" ] || { fail "$prog --help lists no option"; return; }
	for doc in "$@"; do
		[ -r "$doc" ] || { fail "cannot read $doc"; continue; }
		for o in $opts; do
			has_option "$doc" "$o" || fail "$prog --help lists $o, $(doc_name "$doc") does not"
		done
	done
	echo "$prog: $(echo "$opts" | wc -l) options checked"
}

# doc/api.md's section from the heading line matching $1 to the next heading of level 2 or 3.
TMP=$(mktemp -d "${TMPDIR:-/tmp}/fs-docs.XXXXXX") || exit 99
trap 'rm -rf "$TMP"' EXIT
api_section() {
	awk -v h="$1" '/^##/ { on = ($0 ~ h) } on' "$API" >"$TMP/$2"
	[ -s "$TMP/$2" ] || fail "doc/api.md has no section matching '$1'"
}

api_section '^### Options shared by the server programs' shared.md
api_section '^### factotum-server \\(the launcher\\)' launcher.md
api_section '^### factotum \\(the bundled runner\\)' runner.md
cat "$TMP/shared.md" >>"$TMP/launcher.md"

MAN=$FS_SRCDIR/man
check_program factotum-server "$MAN/factotum-server.1.in" "$TMP/launcher.md"
check_program factotum-server-fcgi "$MAN/factotum-server-fcgi.8.in" "$TMP/shared.md"
check_program factotum-server-worker "$MAN/factotum-server-worker.8.in" "$TMP/shared.md"
check_program factotum "$TMP/runner.md"
same_options factotum-server "$MAN/factotum-server.1.in"
same_options factotum-server-fcgi "$MAN/factotum-server-fcgi.8.in"
same_options factotum-server-worker "$MAN/factotum-server-worker.8.in"

if [ "$FAILS" -ne 0 ]; then
	echo "$FAILS failure(s)"
	exit 1
fi
echo "all passed"
