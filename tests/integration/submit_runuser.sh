# SPDX-License-Identifier: Apache-2.0
# /submit refuses a factfile the run user cannot read (a directory on its path it may not search,
# the file not readable by it, through a symlink too), computed against the identity the worker
# publishes: the owner's bits for the run user, the group's for its groups, the others' for a
# --run-uid-range uid; a readable factfile runs to SUCCEEDED as the run user. With no identity
# published, or runs that keep the worker's own user, there is nothing to check. Skipped (77)
# unless root.
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (runs switch users)"; exit 77; }
. "$FS_SRCDIR/tests/integration/worker_lib.sh"
fs_need_nginx

RUN_UID=$(id -u factotum-run)
RUN_GID=$(id -g factotum-run)
D=$FS_TMP/private
F=$D/ffread.factfile

# refused PATH WHAT: 400 with the message naming the path and the run user
refused() {
	fs_post /submit '{"jobName":"ffread","factfilePath":"'"$1"'"}'
	fs_expect 400 '{"message":"Validation Error: factfilePath '"'$1'"' is not readable by the run user '"'factotum-run'"'"}' "$2"
}
# accepted WHAT [ARGS-JSON]: 200, then the job runs to SUCCEEDED
accepted() {
	fs_submit ffread "$F" "${2:-[]}"
	fs_wait_state "$FS_ID" DONE && fs_expect_outcome "$FS_ID" SUCCEEDED 0 null null "$1"
}
# published TEXT: the worker's identity as the responder will read it within its re-read
# interval (1 s); TEXT empty: none
published() {
	if [ -n "$1" ]; then
		fs_sql "INSERT OR REPLACE INTO settings (key, value) VALUES ('worker.runas', '$1')"
	else
		fs_sql "DELETE FROM settings WHERE key = 'worker.runas'"
	fi
	sleep 1.2
}

fs_start_responder
fs_start_nginx
fs_start_worker

# the worker says who its runs are: uid, group, supplementary groups, name
runas=$(fs_sql "SELECT value FROM settings WHERE key = 'worker.runas'")
case $runas in
"$RUN_UID:$RUN_GID:"*":factotum-run") ;;
*) fs_fail "worker.runas: '$runas'" ;;
esac

mkdir -m 0700 "$D"
fs_factfile ffread "id -u >$FS_TMP/ffread.id"
mv "$FS_FF" "$F"
chmod 0644 "$F"
ln -s "$F" "$FS_TMP/ff/link.factfile"

# a directory the run user may not search
refused "$F" "a factfile in a 0700 directory"
refused "$FS_TMP/ff/link.factfile" "a symlink into a 0700 directory"

# readable: accepted and run as the run user
chmod 0755 "$D"
accepted "a readable factfile"
[ "$(cat "$FS_TMP/ffread.id" 2>/dev/null)" = "$RUN_UID" ] ||
	fs_fail "the run's uid: '$(cat "$FS_TMP/ffread.id" 2>/dev/null)', expected $RUN_UID"

# the file itself: the others' bits, then the owner's and the group's
fs_factfile ffread true
mv "$FS_FF" "$F"
chmod 0600 "$F"
refused "$F" "a 0600 factfile owned by root"
refused "$FS_TMP/ff/link.factfile" "a symlink to a 0600 factfile"
chown factotum-run "$F"
accepted "a 0600 factfile owned by the run user"
chown "root:$RUN_GID" "$F"
chmod 0640 "$F"
accepted "a 0640 factfile of the run user's group"
chmod 0604 "$F"
refused "$F" "a 0604 factfile of the run user's group (the group's bits, not the others')"

# --run-uid-range: a run's uid owns nothing, its group is the run user's
fs_stop_worker "$FS_WORKER_PID"
fs_start_worker --max-workers 1 --run-uid-range 2000000200-2000000200
sleep 1.2
chown factotum-run:root "$F"
chmod 0600 "$F"
refused "$F" "a factfile only the run user may read, with --run-uid-range"
chown "root:$RUN_GID" "$F"
chmod 0640 "$F"
accepted "a factfile of the run user's group, with --run-uid-range" '["--tag","range"]'

# nothing to check: runs keep the worker's user, or no worker has published who runs are
fs_stop_worker "$FS_WORKER_PID"
chown root:root "$F"
chmod 0600 "$F"
published self
fs_submit ffread "$F" '["--tag","self"]'
published ""
fs_submit ffread "$F" '["--tag","none"]'
published "$runas"
refused "$F" "a 0600 factfile once the run user is published again"

fs_done
