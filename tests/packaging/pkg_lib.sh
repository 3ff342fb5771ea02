# SPDX-License-Identifier: Apache-2.0
# Shared by the packaging tests (POSIX sh, sourced; set PKG first): the checks made before
# anything is installed, and the clean copy of the tree a package is built from.

# (dpkg wants the sbin directories on PATH, which a root shell may lack)
PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin

# pkg_status: dpkg's status of the package, empty when dpkg knows nothing of it
pkg_status() {
	dpkg-query -W -f='${db:Status-Status}' "$PKG" 2>/dev/null
}

# pkg_preflight [TOOL...]: exits 77 with one line when not root, when dpkg-buildpackage, dh or a
# TOOL is missing, or where the package or files it would own are on the machine already: an
# operator's own installation is never touched. Waits while another packaging test runs.
pkg_preflight() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "SKIP: installing a package needs root"
		exit 77
	fi
	for _pp_tool in dpkg-buildpackage dh dpkg-checkbuilddeps "$@"; do
		command -v "$_pp_tool" >/dev/null 2>&1 || {
			echo "SKIP: needs $_pp_tool (scripts/install-deps.sh installs it)"
			exit 77
		}
	done
	# two suites on one machine would install and purge the package under each other: the
	# second packaging test waits for the first (the lock goes with this shell)
	exec 8>/run/lock/factotum-server-packaging.lock || exit 99
	flock -w 900 8 || { echo "FAIL: another packaging test held its lock for 15 minutes"; exit 99; }
	case $(pkg_status) in
	'' | not-installed) ;;
	*)
		echo "SKIP: the $PKG package is already on this machine ($(pkg_status)); not touching it"
		exit 77
		;;
	esac
	for _pp_f in /usr/bin/factotum-server /etc/factotum-server /var/lib/factotum-server; do
		if [ -e "$_pp_f" ]; then
			echo "SKIP: $_pp_f exists (an installation not from the package); not touching it"
			exit 77
		fi
	done
}

# pkg_copy_tree SRCDIR DEST: the files of the tree at SRCDIR, without builds, into the new
# directory DEST (a clone: the files git knows of, uncommitted changes included; a release tree
# unpacked below a clone, as make distcheck does: all its files); exits 99 without debian/.
pkg_copy_tree() {
	mkdir "$2" || exit 99
	if [ "$(git -C "$1" rev-parse --show-toplevel 2>/dev/null)" = "$(cd "$1" && pwd -P)" ]; then
		# (a file deleted but not yet committed is listed and skipped)
		(cd "$1" && git ls-files -z --cached --others --exclude-standard |
			tar --null -T - --ignore-failed-read -cf - 2>/dev/null) | tar -xf - -C "$2"
	else
		tar -C "$1" --exclude=./_build --exclude=./_inst --exclude=./build -cf - . |
			tar -xf - -C "$2"
	fi
	[ -f "$2/debian/control" ] || { echo "FAIL: no debian/ in the copy of $1"; exit 99; }
	if ! (cd "$2" && dpkg-checkbuilddeps) >"$2.deps" 2>&1; then
		echo "SKIP: build dependencies missing: $(cat "$2.deps")"
		exit 77
	fi
}

# pkg_build SRC LOG BUILD_OPTIONS [OPTION...]: dpkg-buildpackage -us -uc [OPTION...] in the copy
# SRC, with DEB_BUILD_OPTIONS="parallel=2 BUILD_OPTIONS", its output in LOG; exits 1 with the
# log's end on failure. The build gets none of the calling make's variables (MAKEFLAGS would
# carry make check's TESTS into the package's own make check-unit).
pkg_build() {
	_pb_src=$1 _pb_log=$2 _pb_opts=$3
	shift 3
	if ! (cd "$_pb_src" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
		DEB_BUILD_OPTIONS="parallel=2 $_pb_opts" dpkg-buildpackage -us -uc "$@") \
		>"$_pb_log" 2>&1; then
		tail -n 40 "$_pb_log"
		echo "FAIL: dpkg-buildpackage $*"
		exit 1
	fi
}
