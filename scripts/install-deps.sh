#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Installs every build and test dependency of factotum-server on a Debian 12 machine, as root.
# Idempotent: when everything is present it only checks and returns (well under a second).
# It also creates the node's system users factotum-server and factotum-run (add-users.sh).
set -eu

packages="build-essential autoconf automake libtool pkg-config
libfcgi-dev libjson-c-dev libcurl4-openssl-dev nettle-dev libsqlite3-dev libcmocka-dev
nginx spawn-fcgi curl clang libclang-rt-14-dev python3 python3-jsonschema sqlite3 wrk ca-certificates
openssl valgrind
debhelper dpkg-dev lintian
chromium"

missing=
for p in $packages; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
# node and npm for the dashboard's browser test: any on PATH (e.g. a newer one from elsewhere)
# will do, else Debian's
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"

if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "install-deps: missing packages:$missing (run this script as root)" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get -q update
	# shellcheck disable=SC2086
	apt-get -q install -y --no-install-recommends $missing
fi

# Consul: a consul on PATH is used as is; otherwise Debian 11's 1.8.7, fetched by fetch-consul.sh.
if ! command -v consul >/dev/null 2>&1; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "install-deps: consul not on PATH (run this script as root)" >&2
		exit 1
	fi
	bin=$(sh "$(dirname "$0")/fetch-consul.sh" | tail -n 1)
	ln -sf "$bin" /usr/local/bin/consul
fi
# The node's system users, which only a node started as root needs.
if [ "$(id -u)" -eq 0 ]; then
	sh "$(dirname "$0")/add-users.sh"
fi
echo "install-deps: all dependencies present (consul: $(command -v consul))"
