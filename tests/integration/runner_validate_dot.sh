# SPDX-License-Identifier: Apache-2.0
# Integration tests of the bundled runner's `validate`, `dot`, `--help` and `--version`: exact
# messages and exit codes, and `dot` output byte for byte (Factotum's own expected graphs, from
# its tests/resources/dot, are rebuilt here as factfiles).
set -eu

rl_name=runner_vd
. "${FS_SRCDIR:?}/tests/integration/runner_lib.sh"
# same <file> <expected bytes (printf format-free)>: exact content, no trailing newline added.
same() {
	printf '%s' "$2" >"$W/want"
	cmp -s "$W/want" "$W/$1" || { diff "$W/want" "$W/$1" >&2 || true; fail "$1 differs from the expected bytes"; }
}
empty() { [ ! -s "$W/$1" ] || { cat "$W/$1" >&2; fail "$1 is not empty"; }; }
NL='
'
SCHEMA=iglu:com.snowplowanalytics.factotum/factfile/jsonschema/1-0-0
# task <name> <deps as a JSON list body>
task() { printf '{"name":"%s","executor":"shell","command":"echo","arguments":[],"dependsOn":[%s],"onResult":{"terminateJobWithSuccess":[],"continueJob":[0]}}' "$1" "$2"; }
# factfile <file> <job name> <task>...
factfile() {
	f=$1; n=$2; shift 2
	printf '{"schema":"%s","data":{"name":"%s","tasks":[' "$SCHEMA" "$n" >"$f"
	sep=
	for t in "$@"; do printf '%s%s' "$sep" "$t" >>"$f"; sep=,; done
	printf ']}}\n' >>"$f"
}

# ---- validate ----
run_ff 0 validate "$S/echo.factfile"
same out "'$S/echo.factfile' is a valid Factfile!$NL"
empty err
for f in "$S"/*.factfile; do run_ff 0 validate "$f" --no-colour; done
run_ff 1 validate "$W/nope.factfile"
same out "Couldn't open '$W/nope.factfile' for reading: No such file or directory (os error 2)$NL"
run_ff 1 validate "$W"
same out "Couldn't read '$W': Is a directory (os error 21)$NL"
printf '{"schema":"%s","data":{"tasks":[]}}' "$SCHEMA" >"$W/noname.factfile"
run_ff 1 validate "$W/noname.factfile"
same out "'$W/noname.factfile' is not a valid factotum factfile: '/data/name' - This property is required$NL"
factfile "$W/conflict.factfile" j '{"name":"a","executor":"shell","command":"echo","arguments":[],"dependsOn":[],"onResult":{"terminateJobWithSuccess":[0],"continueJob":[0]}}'
run_ff 1 validate "$W/conflict.factfile"
same out "'$W/conflict.factfile' is not a valid factotum factfile: the task 'a' has conflicting actions.$NL"
factfile "$W/self.factfile" j "$(task a '"b"')" "$(task b '"a"')"
run_ff 1 validate "$W/self.factfile"
case "$(cat "$W/out")" in "'$W/self.factfile' is not a valid factotum factfile: the tasks form a dependency cycle"*) ;; *) fail "cycle message: $(cat "$W/out")";; esac
factfile "$W/tpl.factfile" 'j {{#x}}' "$(task a '')"
run_ff 1 validate "$W/tpl.factfile"
case "$(cat "$W/out")" in "'$W/tpl.factfile' is not a valid factotum factfile: Error rendering template: "*) ;; *) fail "template message: $(cat "$W/out")";; esac
run_ff 3 validate "$S/echo.factfile" --env '{}'
same out "Invalid arguments: '--env' is not an option of 'factotum validate'$NL${NL}Usage:
  factotum run <factfile> [--start=<start_task>] [--env=<env>] [--dry-run] [--no-colour] [--webhook=<url>] [--tag=<tag>]... [--constraint=<constraint>]... [--max-stdouterr-size=<bytes>] [--heartbeat-interval=<seconds>] [--max-parallel=<tasks>]
  factotum validate <factfile> [--no-colour]
  factotum dot <factfile> [--start=<start_task>] [--output=<output_file>] [--overwrite] [--no-colour]
  factotum (-h | --help) [--no-colour]
  factotum (-v | --version) [--no-colour]"
run_ff 3 validate
[ -z "$(ls -A "$W" | grep -F .factotum)" ] || fail ".factotum/ created"

# ---- dot: Factotum's own expected graphs ----
factfile "$W/apples.factfile" "Sample job" "$(task apple '')" "$(task turnip '')" \
	"$(task orange '"apple"')" "$(task egg '"apple"')" "$(task potato '"egg"')" \
	"$(task chicken '"potato","orange"')"
run_ff 0 dot "$W/apples.factfile"
same out 'digraph "Sample job" {
    "turnip"
    "apple"
    "egg"
    "orange"
    "potato"
    "chicken"
    "apple" -> "egg"
    "apple" -> "orange"
    "egg" -> "potato"
    "potato" -> "chicken"
    "orange" -> "chicken"
}'
empty err
factfile "$W/poly.factfile" "Sample job #2" "$(task apple '')" "$(task turnip '')" \
	"$(task orange '"apple"')" "$(task egg '"apple"')" "$(task potato '"egg"')" \
	"$(task chicken '"potato","orange"')" "$(task milk '"turnip"')" "$(task cheese '"milk"')" \
	"$(task cake '"milk"')"
run_ff 0 dot "$W/poly.factfile"
same out 'digraph "Sample job #2" {
    "turnip"
    "apple"
    "milk"
    "egg"
    "orange"
    "cake"
    "cheese"
    "potato"
    "chicken"
    "turnip" -> "milk"
    "apple" -> "egg"
    "apple" -> "orange"
    "milk" -> "cake"
    "milk" -> "cheese"
    "egg" -> "potato"
    "potato" -> "chicken"
    "orange" -> "chicken"
}'
factfile "$W/reduced.factfile" "Sample job #3 (reduced run)" "$(task apple '')" "$(task turnip '')" \
	"$(task orange '"apple"')" "$(task egg '"apple"')" "$(task potato '"egg"')" \
	"$(task chicken '"potato","orange"')" "$(task milk '"turnip"')" "$(task cheese '"milk"')" \
	"$(task cake '"milk"')"
run_ff 0 dot "$W/reduced.factfile" --start turnip
same out 'digraph "Sample job #3 (reduced run)" {
    "turnip"
    "milk"
    "cake"
    "cheese"
    "turnip" -> "milk"
    "milk" -> "cake"
    "milk" -> "cheese"
}'
# A start below the roots keeps its incoming edge, as Factotum prints it.
run_ff 0 dot "$S/noop.factfile" --start=exit --no-colour
same out 'digraph "noop / terminate job example" {
    "exit"
    "this will never run!"
    "echo alpha" -> "exit"
    "exit" -> "this will never run!"
}'
run_ff 0 dot "$S/complex-diamond-dag.factfile"
same out 'digraph "Complex diamond DAG with streaming" {
    "fetch-data"
    "process-part-c"
    "process-part-b"
    "process-part-a"
    "validate-c"
    "validate-b"
    "validate-a"
    "merge-results"
    "generate-report"
    "fetch-data" -> "process-part-c"
    "fetch-data" -> "process-part-b"
    "fetch-data" -> "process-part-a"
    "process-part-c" -> "validate-c"
    "process-part-b" -> "validate-b"
    "process-part-a" -> "validate-a"
    "validate-a" -> "merge-results"
    "validate-b" -> "merge-results"
    "validate-c" -> "merge-results"
    "merge-results" -> "generate-report"
}'
# dot does no templating.
run_ff 0 dot "$S/echo-with-dynamic-name.factfile"
same out 'digraph "echo order demo {{ env }}" {
    "echo alpha {{ env }}"
    "echo beta"
    "echo omega"
    "echo alpha {{ env }}" -> "echo beta"
    "echo beta" -> "echo omega"
}'
factfile "$W/empty.factfile" "none"
run_ff 0 dot "$W/empty.factfile"
same out 'digraph "none" {
}'

# ---- dot errors: "Error: ..." on stderr, exit 3 ----
run_ff 3 dot "$S/noop.factfile" --start nope
empty out
same err "Error: the task specified could not be found$NL"
run_ff 3 dot "$S/complex-diamond-dag.factfile" --start validate-a
same err "Error: the job cannot be started here.$NL"
run_ff 3 dot "$W/nope.factfile"
same err "Error: Couldn't open '$W/nope.factfile' for reading: No such file or directory (os error 2)$NL"
run_ff 3 dot "$W/noname.factfile"
same err "Error: '$W/noname.factfile' is not a valid factotum factfile: '/data/name' - This property is required$NL"

# ---- dot --output / --overwrite ----
run_ff 0 dot "$W/apples.factfile" --output "$W/g.dot"
same out "File written successfully$NL"
[ "$(tail -c 1 "$W/g.dot")" = "}" ] || fail "--output file"
run_ff 3 dot "$W/apples.factfile" --output="$W/g.dot"
same err "Error: couldn't create file '$W/g.dot' (File exists (os error 17))$NL"
run_ff 0 dot "$W/poly.factfile" --output="$W/g.dot" --overwrite
grep -q '"cake"' "$W/g.dot" || fail "--overwrite did not replace the file"
run_ff 3 dot "$W/apples.factfile" --output "$W/no/such/dir.dot"
same err "Error: couldn't create file '$W/no/such/dir.dot' (No such file or directory (os error 2))$NL"
run_ff 3 dot "$W/apples.factfile" --dry-run
head -n 1 "$W/out" | grep -Fqx "Invalid arguments: '--dry-run' is not an option of 'factotum dot'" || fail "dot --dry-run"

# ---- --help (exit 0, unlike Factotum's 3), --version, top-level errors ----
run_ff 0 --help
head -n 3 "$W/out" | tr '\n' '|' | grep -Fqx 'Factotum.||Usage:|' || fail "--help head"
[ "$(tail -c 16 "$W/out")" = "Not in Factotum." ] || fail "--help should end with the last option and no newline"
grep -Fq -- "--heartbeat-interval=<seconds>        Send periodic task updates" "$W/out" || fail "--help options"
run_ff 0 -h --no-colour
# Factotum's own version, byte for byte: the server's version is not the runner's to print.
for v in --version -v "--version --no-colour" "--no-colour -v"; do
	# shellcheck disable=SC2086
	run_ff 0 $v
	same out "Factotum version 0.7.0$NL"
	empty err
done
run_ff 3
head -n 1 "$W/out" | grep -Fqx "Invalid arguments." || fail "no arguments"
run_ff 3 --help --version
run_ff 3 frobnicate
run_ff 3 --frob
head -n 1 "$W/out" | grep -Fqx "Unknown flag: '--frob'" || fail "unknown top-level flag"

[ ! -e "$W/.factotum" ] || fail ".factotum/ was created"
echo "runner_validate_dot: all passed"
