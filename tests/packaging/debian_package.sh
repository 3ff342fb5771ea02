#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The Debian package, built from a copy of the source tree and installed for real, as root
# (skipped otherwise, and where debhelper is missing: scripts/install-deps.sh installs it):
#   - lintian (where installed) finds no error or warning in it;
#   - it holds the programs, the runner, the man pages, the three units in /lib/systemd/system
#     (which `systemd-analyze verify` accepts), the nginx site file and the configuration file as
#     a conffile;
#   - postinst makes the two system users (nologin shells), also on a machine that has neither
#     (run again in a mount namespace over a copy of /etc without them), and makes
#     /var/lib/factotum-server the service user's, mode 0750, unless dpkg-statoverride says
#     otherwise; an upgrade keeps the directory's group (the worker sets it to the run user's);
#   - the installed prerm stops the three units on removal (PID 1 is not systemd here: it is run
#     in a mount namespace where /run/systemd/system exists and deb-systemd-invoke records its
#     arguments);
#   - `dpkg -r` removes the programs and keeps the conffile and the data; `dpkg --purge` removes
#     both and keeps the users.
# An operator's own installation is never touched: the test refuses to run (77) where the
# package, or files it would own, are there already. The package is purged on exit.
# The quick check of make check: tests/packaging/deb.sh (make check-packaging) adds lintian on the
# source package, a job run by the installed units, an upgrade with the node running, and the
# purge of a used node.

set -u

: "${FS_SRCDIR:?run through make check}"
PKG=factotum-server
. "$FS_SRCDIR/tests/packaging/pkg_lib.sh"
pkg_preflight
for tool in unshare setpriv; do
	command -v "$tool" >/dev/null 2>&1 || { echo "FAIL: needs $tool"; exit 99; }
done

fails=0
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fs-deb.XXXXXX") || exit 99
installed=
cleanup() {
	if [ -n "$installed" ] && [ -n "$(pkg_status)" ] && [ "$(pkg_status)" != not-installed ]; then
		dpkg --purge "$PKG" >"$tmp/cleanup.log" 2>&1 || { cat "$tmp/cleanup.log"; fails=1; }
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 99' INT TERM HUP

# ---- the build, from a copy of the tree ----
pkg_copy_tree "$FS_SRCDIR" "$tmp/src"
pkg_build "$tmp/src" "$tmp/build.log" nocheck -b
for deb in "$tmp"/"$PKG"_*.deb; do break; done
[ -f "$deb" ] || { echo "FAIL: no .deb built"; exit 1; }
if command -v lintian >/dev/null 2>&1; then
	lintian --fail-on error,warning "$deb" >"$tmp/lintian.out" 2>&1 ||
		fail "lintian: $(grep -v 'root privileges' "$tmp/lintian.out")"
fi

# ---- the installation ----
installed=yes
if ! DEBIAN_FRONTEND=noninteractive dpkg -i "$deb" >"$tmp/install.log" 2>&1; then
	cat "$tmp/install.log"
	echo "FAIL: dpkg -i"
	exit 1
fi
[ "$(pkg_status)" = installed ] || fail "dpkg status after dpkg -i: $(pkg_status)"

sys_uid_max=$(sed -n 's/^SYS_UID_MAX[[:space:]]*\([0-9]*\).*/\1/p' /etc/login.defs)
: "${sys_uid_max:=999}"
# check_user NAME [PASSWD]: NAME is a system user with a nologin shell and a group of its name
# (looked up in the passwd/group files given, else in the machine's)
check_user() {
	_cu_pw=$(if [ $# -gt 1 ]; then grep "^$1:" "$2"; else getent passwd "$1"; fi)
	[ -n "$_cu_pw" ] || { fail "no user $1"; return; }
	_cu_uid=$(echo "$_cu_pw" | cut -d: -f3)
	[ "$_cu_uid" -gt 0 ] && [ "$_cu_uid" -le "$sys_uid_max" ] ||
		fail "$1: uid $_cu_uid is not a system uid (1..$sys_uid_max)"
	case $(echo "$_cu_pw" | cut -d: -f7) in
	/usr/sbin/nologin | /sbin/nologin | /bin/false) ;;
	*) fail "$1: shell $(echo "$_cu_pw" | cut -d: -f7), not nologin" ;;
	esac
}
for u in factotum-server factotum-run; do
	check_user "$u"
	getent group "$u" >/dev/null || fail "no group $u"
done
[ "$(stat -c '%U:%G %a' /var/lib/factotum-server 2>&1)" = "factotum-server:factotum-server 750" ] ||
	fail "/var/lib/factotum-server: $(stat -c '%U:%G %a' /var/lib/factotum-server 2>&1)"

for f in /usr/bin/factotum-server /usr/bin/factotum-server-fcgi /usr/bin/factotum-server-worker \
	/usr/libexec/factotum-server/factotum; do
	[ -x "$f" ] || { fail "$f is not installed"; continue; }
	"$f" --version >"$tmp/out" 2>&1 || fail "$f --version exits $?: $(head -n 3 "$tmp/out")"
done
for f in /usr/share/man/man1/factotum-server.1.gz /usr/share/man/man8/factotum-server-fcgi.8.gz \
	/usr/share/man/man8/factotum-server-worker.8.gz /usr/share/man/man5/factotum-server.conf.5.gz \
	/usr/share/factotum-server/nginx/factotum-server.conf \
	/etc/factotum-server/factotum-server.conf.example; do
	[ -s "$f" ] || fail "$f is not installed"
done
dpkg-query -W -f='${Conffiles}\n' "$PKG" | grep -q '^ /etc/factotum-server/factotum-server.conf ' ||
	fail "/etc/factotum-server/factotum-server.conf is not a conffile"
units="factotum-server-fcgi.socket factotum-server-fcgi.service factotum-server-worker.service"
for u in $units; do
	[ -s "/lib/systemd/system/$u" ] || fail "/lib/systemd/system/$u is not installed"
done
if command -v systemd-analyze >/dev/null 2>&1; then
	out=$(cd /lib/systemd/system && systemd-analyze verify $units 2>&1)
	[ -z "$out" ] || fail "systemd-analyze verify: $out"
fi

# ---- an upgrade keeps the data directory's group ----
chgrp factotum-run /var/lib/factotum-server
chmod 0700 /var/lib/factotum-server
DEBIAN_FRONTEND=noninteractive dpkg -i "$deb" >"$tmp/upgrade.log" 2>&1 ||
	fail "dpkg -i over the installed package: $(cat "$tmp/upgrade.log")"
[ "$(stat -c '%U:%G %a' /var/lib/factotum-server 2>&1)" = "factotum-server:factotum-run 750" ] ||
	fail "after an upgrade /var/lib/factotum-server is $(stat -c '%U:%G %a' /var/lib/factotum-server 2>&1)"

# ---- postinst on a machine without the users, and under a dpkg-statoverride ----
# In a private mount namespace, /etc is a copy without the two users and the data directory an
# empty one of root's; the package's postinst runs twice (the second time changes nothing).
postinst=/var/lib/dpkg/info/$PKG.postinst
cp -a /etc "$tmp/etc"
for f in passwd shadow group gshadow; do
	[ -f "$tmp/etc/$f" ] && sed -i -e '/^factotum-server:/d' -e '/^factotum-run:/d' "$tmp/etc/$f"
done
mkdir "$tmp/state" "$tmp/state2"
chmod 0755 "$tmp/state" "$tmp/state2"
cp /var/lib/dpkg/statoverride "$tmp/statoverride"
echo "root root 0700 /var/lib/factotum-server" >>"$tmp/statoverride"
unshare -m sh -e -c '
	t=$1 postinst=$2
	mount --bind "$t/etc" /etc
	getent passwd factotum-server >/dev/null && exit 3
	mount --bind "$t/state" /var/lib/factotum-server
	"$postinst" configure >"$t/postinst.out" 2>&1
	stat -c "%U:%G %a" /var/lib/factotum-server >"$t/state.1"
	cp /etc/passwd "$t/passwd.1"
	"$postinst" configure >>"$t/postinst.out" 2>&1
	cp /etc/passwd "$t/passwd.2"
	mount --bind "$t/state2" /var/lib/factotum-server
	mount --bind "$t/statoverride" /var/lib/dpkg/statoverride
	"$postinst" configure >>"$t/postinst.out" 2>&1
	stat -c "%U:%G %a" /var/lib/factotum-server >"$t/state.2"
' sh "$tmp" "$postinst" || fail "postinst on a machine without the users exits $?: $(cat "$tmp/postinst.out" 2>/dev/null)"
for u in factotum-server factotum-run; do
	[ -f "$tmp/passwd.1" ] && check_user "$u" "$tmp/passwd.1"
	grep -q "^$u:" "$tmp/etc/group" || fail "postinst made no group $u"
done
cmp -s "$tmp/passwd.1" "$tmp/passwd.2" || fail "postinst run again changed /etc/passwd"
[ "$(cat "$tmp/state.1" 2>/dev/null)" = "factotum-server:root 750" ] ||
	fail "postinst on a directory of root's, 0755: it is now $(cat "$tmp/state.1" 2>/dev/null)"
[ "$(cat "$tmp/state.2" 2>/dev/null)" = "root:root 700" ] ||
	fail "postinst under a statoverride root root 0700: data directory $(cat "$tmp/state.2" 2>/dev/null)"

# ---- prerm stops the three units ----
# A mount namespace where /run/systemd/system exists (a tmpfs over /run) and deb-systemd-invoke
# is a stub that records its arguments.
mkdir "$tmp/bin"
printf '#!/bin/sh\necho "$*" >>%s/invoked\n' "$tmp" >"$tmp/bin/deb-systemd-invoke"
printf '#!/bin/sh\nexit 0\n' >"$tmp/bin/systemctl"
chmod 0755 "$tmp/bin/deb-systemd-invoke" "$tmp/bin/systemctl"
PATH="$tmp/bin:$PATH" unshare -m sh -e -c '
	mount -t tmpfs tmpfs /run
	mkdir -p /run/systemd/system
	"$1" remove
' sh "/var/lib/dpkg/info/$PKG.prerm" >"$tmp/prerm.out" 2>&1 ||
	fail "prerm remove exits $?: $(cat "$tmp/prerm.out")"
stopped=$(sed -n 's/^stop //p' "$tmp/invoked" 2>/dev/null)
for u in $units; do
	case " $stopped " in
	*" $u "*) ;;
	*) fail "prerm remove does not stop $u (deb-systemd-invoke: $(cat "$tmp/invoked" 2>/dev/null))" ;;
	esac
done

# ---- removal keeps the configuration and the data; purge removes them and keeps the users ----
echo data >/var/lib/factotum-server/kept
dpkg -r "$PKG" >"$tmp/remove.log" 2>&1 || fail "dpkg -r: $(cat "$tmp/remove.log")"
[ "$(pkg_status)" = config-files ] || fail "dpkg status after dpkg -r: $(pkg_status)"
for f in /usr/bin/factotum-server /usr/bin/factotum-server-fcgi /usr/bin/factotum-server-worker \
	/usr/libexec/factotum-server/factotum /lib/systemd/system/factotum-server-fcgi.socket; do
	[ ! -e "$f" ] || fail "$f is still there after dpkg -r"
done
[ -f /etc/factotum-server/factotum-server.conf ] || fail "dpkg -r removed the conffile"
[ -f /var/lib/factotum-server/kept ] || fail "dpkg -r removed the data directory"
dpkg --purge "$PKG" >"$tmp/purge.log" 2>&1 || fail "dpkg --purge: $(cat "$tmp/purge.log")"
case $(pkg_status) in '' | not-installed) ;; *) fail "dpkg status after purge: $(pkg_status)" ;; esac
[ ! -e /etc/factotum-server/factotum-server.conf ] || fail "purge kept the conffile"
[ ! -e /var/lib/factotum-server ] || fail "purge kept /var/lib/factotum-server"
for u in factotum-server factotum-run; do
	getent passwd "$u" >/dev/null || fail "purge removed the user $u"
done

[ "$fails" -eq 0 ] || exit 1
echo "PASS: debian package"
