# SPDX-License-Identifier: Apache-2.0
# Who a run is, as root: the worker refuses a run user that does not exist, root and its own
# user (exit 2, one line); a task runs as factotum-run with that user's groups only, no
# capability and no_new_privs; its environment is exactly PATH, HOME, USER, LOGNAME, LANG,
# LC_ALL and the --pass-env names (CONSUL_HTTP_TOKEN and any other variable of the worker's stay
# out); it can write its own directory but not the spool database, any log, the worker's files
# or the node's nginx configuration; a runner it may not execute fails the run at the exec, with
# the reason in the log. Not as root, a task runs as the worker's own user: only the option
# errors that do not depend on users (and that a run user it was given is refused), the run's
# directory and its environment are checked.
. "$FS_SRCDIR/tests/integration/worker_lib.sh"
fs_need_nginx
if [ "$(id -u)" -eq 0 ]; then
	RUN_USER=factotum-run
else
	RUN_USER=$(id -un)
fi

# ---- the run user is checked at the worker's start ----
# refused WHAT EXPECTED-LINE OPTIONS...: the worker exits 2 at once with that one line
refused() {
	what=$1 want=$2
	shift 2
	out=$(timeout 10 "$FS_WORKER" --no-consul --spool "$FS_TMP/refused" \
		--factotum-bin "$FS_RUNNER" "$@" 2>&1)
	rc=$?
	[ "$rc" -eq 2 ] || fs_fail "$what: exit $rc, expected 2 ($out)"
	[ "$out" = "$want" ] || fs_fail "$what: '$out', expected '$want'"
}
if [ "$(id -u)" -eq 0 ]; then
	refused "a missing run user" "factotum-server-worker: --run-as: no user 'fs-no-such-user' (create it: useradd --system --no-create-home --shell /usr/sbin/nologin fs-no-such-user; or name another)" \
		--run-as fs-no-such-user
	refused "a missing run group" "factotum-server-worker: --run-as: no group 'fs-no-such-group' (create it or name another)" \
		--run-as factotum-run:fs-no-such-group
	refused "root" "factotum-server-worker: --run-as: 'root' is root: every task would run with every privilege (--allow-root-runs to allow it)" \
		--run-as root
fi
# a worker that cannot switch users refuses a run user it was given (as root: run as nobody)
as_plain=
if [ "$(id -u)" -eq 0 ]; then
	as_plain="setpriv --reuid nobody --regid nogroup --clear-groups --inh-caps=-all --"
	mkdir -p "$FS_TMP/plain" && chown nobody "$FS_TMP/plain"
fi
plain_user=$($as_plain id -un)
out=$(timeout 10 $as_plain "$FS_WORKER" --no-consul --spool "$FS_TMP/plain/spool" \
	--factotum-bin "$FS_RUNNER" --run-as daemon 2>&1)
rc=$?
want="factotum-server-worker: --run-as: the worker cannot switch users (it is not root and lacks CAP_SETUID and CAP_SETGID): its tasks would run as '$plain_user', not 'daemon'"
[ "$rc" -eq 2 ] && [ "$out" = "$want" ] ||
	fs_fail "a run user the worker cannot become: exit $rc, '$out'"
refused "a bad value" "factotum-server-worker: --run-as: 'a:b:c' is not USER or USER:GROUP" \
	--run-as a:b:c
refused "a relative PATH entry" "factotum-server-worker: --run-path: '/bin:.' has an entry that is not an absolute path" \
	--run-path /bin:.
refused "a fixed variable" "factotum-server-worker: --pass-env: 'HOME' is set by the server, it cannot be passed" \
	--pass-env HOME
refused "a bad size" "factotum-server-worker: --run-max-memory: '12X' is not a number of bytes (N, NK, NM or NG)" \
	--run-max-memory 12X

# ---- a run's identity and environment ----
fs_start_responder
fs_start_nginx
# the launcher's nginx configuration, as a node has it in its spool
"$FS_BUILDDIR/launcher/factotum-server" --no-consul --spool "$FS_SPOOL" \
	--factotum-bin "$FS_RUNNER" --write-nginx-conf "$FS_SPOOL/nginx" >/dev/null 2>&1 ||
	fs_fail "launcher --write-nginx-conf"
# (--keep-run-dirs: a run's directory is looked at after the run)
CONSUL_HTTP_TOKEN=fs-secret-token SECRET_X=fs-secret-x FS_PASSED='passed value' \
	fs_start_worker --pass-env FS_PASSED --pass-env FS_UNSET_NAME --keep-run-dirs
fs_factfile whoami "env >$FS_TMP/env.out; id -u >$FS_TMP/id.out; id -G >>$FS_TMP/id.out; grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs):' /proc/self/status >$FS_TMP/caps.out; pwd >$FS_TMP/pwd.out"
fs_submit whoami "$FS_FF"
W=$FS_ID
fs_wait_state "$W" DONE
fs_expect_outcome "$W" SUCCEEDED 0 null null "the whoami task"
[ "$(head -n 1 "$FS_TMP/id.out")" = "$(id -u "$RUN_USER")" ] ||
	fs_fail "the task's uid: $(cat "$FS_TMP/id.out")"
[ "$(id -u)" -ne 0 ] || [ "$(sed -n 2p "$FS_TMP/id.out")" = "$(id -G factotum-run)" ] ||
	fs_fail "the task's groups: $(cat "$FS_TMP/id.out")"
[ "$(id -u)" -ne 0 ] || [ "$(cat "$FS_TMP/caps.out")" = "CapInh:	0000000000000000
CapPrm:	0000000000000000
CapEff:	0000000000000000
CapBnd:	0000000000000000
CapAmb:	0000000000000000
NoNewPrivs:	1" ] || fs_fail "the task's capabilities: $(cat "$FS_TMP/caps.out")"
[ "$(cat "$FS_TMP/pwd.out")" = "$FS_SPOOL/runs/$W" ] ||
	fs_fail "the task's directory: $(cat "$FS_TMP/pwd.out")"
# the shell that runs the task adds PWD (and may add SHLVL and _ ): nothing else may be there
sed -e '/^PWD=/d' -e '/^SHLVL=/d' -e '/^_=/d' "$FS_TMP/env.out" | sort >"$FS_TMP/env.got"
sort >"$FS_TMP/env.want" <<END_ENV
FS_PASSED=passed value
HOME=$FS_SPOOL/runs/$W
LANG=C.UTF-8
LC_ALL=C.UTF-8
LOGNAME=$RUN_USER
PATH=/usr/local/bin:/usr/bin:/bin
USER=$RUN_USER
END_ENV
cmp -s "$FS_TMP/env.want" "$FS_TMP/env.got" ||
	fs_fail "the task's environment: $(diff "$FS_TMP/env.want" "$FS_TMP/env.got")"
! grep -q 'fs-secret' "$FS_TMP/env.out" || fs_fail "a secret reached the task"
# the rest is about what another user than the worker's may do
[ "$(id -u)" -eq 0 ] || fs_done

# ---- what a task can and cannot write ----
# the targets: the database, the logs, the commit mark, the running task's own pid file, the
# nginx configuration; and new files (a forged status, log or database journal) in each of
# their directories
for f in "$FS_SPOOL/spool.db" "$FS_SPOOL/logs/$W.log" "$FS_SPOOL/spool.db-mark" \
	"$FS_SPOOL/nginx/nginx.conf" "$FS_SPOOL/nginx/factotum-server.conf"; do
	[ -e "$f" ] || fs_fail "no $f to try"
done
cat >"$FS_TMP/touch.sh" <<END_TOUCH
# writes each target in place, replaces it, removes it; prints WROTE for any that worked (the
# names are given: the task may pass through the spool to its own directory, not list it)
for f in $FS_SPOOL/spool.db $FS_SPOOL/spool.db-wal $FS_SPOOL/logs/$W.log $FS_SPOOL/spool.db-mark \
	$FS_SPOOL/runs/\$(basename "\$PWD").pid $FS_SPOOL/runs/$W.status \
	$FS_SPOOL/nginx/nginx.conf $FS_SPOOL/nginx/factotum-server.conf; do
	echo "try \$f"
	(: >>"\$f") 2>/dev/null && echo "WROTE \$f"
	(echo x >"\$f.new" && mv -f "\$f.new" "\$f") 2>/dev/null && echo "WROTE \$f (replaced)"
	rm "\$f" 2>/dev/null && echo "WROTE \$f (removed)"
done
for d in $FS_SPOOL $FS_SPOOL/logs $FS_SPOOL/runs $FS_SPOOL/nginx; do
	echo "try \$d/forged"
	for n in forged forged.status forged.log spool.db-journal; do
		(: >"\$d/\$n") 2>/dev/null && echo "WROTE \$d/\$n"
	done
done
echo mine >./mine && [ "\$(cat "\$HOME/mine")" = mine ] && echo "own directory ok"
END_TOUCH
chmod 0644 "$FS_TMP/touch.sh"
fs_factfile touch "sh $FS_TMP/touch.sh >$FS_TMP/touch.out 2>&1"
fs_submit touch "$FS_FF"
T=$FS_ID
fs_wait_state "$T" DONE
fs_expect_outcome "$T" SUCCEEDED 0 null null "the touch task"
grep -q "^try $FS_SPOOL/logs/$W.log\$" "$FS_TMP/touch.out" ||
	fs_fail "the task did not try the logs: $(cat "$FS_TMP/touch.out")"
grep -q "^try $FS_SPOOL/runs/$T.pid\$" "$FS_TMP/touch.out" ||
	fs_fail "the task did not try its pid file: $(cat "$FS_TMP/touch.out")"
grep -q "^try $FS_SPOOL/runs/forged\$" "$FS_TMP/touch.out" ||
	fs_fail "the task did not try the runs directory: $(cat "$FS_TMP/touch.out")"
grep -q "^try $FS_SPOOL/nginx/nginx.conf\$" "$FS_TMP/touch.out" ||
	fs_fail "the task did not try nginx's configuration: $(cat "$FS_TMP/touch.out")"
! grep WROTE "$FS_TMP/touch.out" ||
	fs_fail "a task changed the node's files: $(grep WROTE "$FS_TMP/touch.out")"
grep -q '^own directory ok$' "$FS_TMP/touch.out" ||
	fs_fail "the task could not write its own directory: $(cat "$FS_TMP/touch.out")"
fs_check "$W"
[ "$FS_STATE" = DONE ] || fs_fail "the spool lost a job: $FS_BODY"

# ---- a job's next run starts in an empty directory, whatever its run user left there ----
fs_factfile litter "if [ -e sub ] || [ -e mine ]; then ls -la >$FS_TMP/litter.out; exit 1; fi; mkdir -p sub/deep && echo x >sub/deep/f && echo y >mine && chmod 0 sub/deep sub"
fs_submit litter "$FS_FF"
L=$FS_ID
fs_wait_state "$L" DONE
fs_expect_outcome "$L" SUCCEEDED 0 null null "the litter task's first run"
fs_submit litter "$FS_FF"
[ "$FS_ID" = "$L" ] || fs_fail "the litter job's resubmission got another id"
fs_wait_state "$L" DONE
fs_expect_outcome "$L" SUCCEEDED 0 null null \
	"the litter task's second run (its directory: $(cat "$FS_TMP/litter.out" 2>/dev/null))"
[ "$(stat -c '%a %U' "$FS_SPOOL/runs/$L")" = "750 factotum-run" ] ||
	fs_fail "a run's directory: $(stat -c '%a %U' "$FS_SPOOL/runs/$L")"

# ---- a runner the run user may not execute: the run fails at its exec, and says why ----
fs_stop_worker "$FS_WORKER_PID"
mkdir "$FS_TMP/private"
cp "$FS_RUNNER" "$FS_TMP/private/factotum"
chmod 0700 "$FS_TMP/private/factotum"
FS_RUNNER=$FS_TMP/private/factotum
fs_start_worker
fs_submit private "$FS_TESTDATA/samples/echo.factfile"
fs_wait_state "$FS_ID" DONE &&
	fs_expect_outcome "$FS_ID" FAILED null null runner-missing "a runner only root may run"
fs_req GET "/logs?id=$FS_ID"
printf '%s' "$FS_BODY" | grep -qF "factotum-server-worker: cannot start the runner: exec '$FS_RUNNER': Permission denied" ||
	fs_fail "/logs of a runner only root may run: $FS_BODY"

fs_done
