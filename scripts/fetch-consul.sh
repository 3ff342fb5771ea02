#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Makes a `consul` binary available. Debian 12 has no consul package, but Debian 11's consul 1.8.7
# runs here: download it with a temporary apt configuration that points suite `bullseye` at the
# Debian mirror this machine already uses (read from its apt sources, never hard-coded), and
# extract it with dpkg-deb. The system's apt setup is not changed.
#   usage: scripts/fetch-consul.sh [DEST]   (default DEST: /opt/factotum-server-deps/consul)
# On success prints the path of the consul binary. A consul already on PATH is used as is.
set -eu

if command -v consul >/dev/null 2>&1; then
	command -v consul
	exit 0
fi

dest=${1:-/opt/factotum-server-deps/consul}
if [ -x "$dest/usr/bin/consul" ]; then
	echo "$dest/usr/bin/consul"
	exit 0
fi

# The first Debian archive URI among the machine's apt sources (one-line and deb822 formats) whose
# suite is a plain release (not -security, which is a different archive layout).
mirror_uri() {
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		awk '$1 == "deb" {
			i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
			uri = $i; suite = $(i + 1)
			if (suite !~ /security/ && uri ~ /debian\/?$/) { print uri; exit }
		}' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		awk 'BEGIN { RS = ""; FS = "\n" } {
			uris = ""; suites = ""
			for (i = 1; i <= NF; i++) {
				if ($i ~ /^URIs:/) { uris = $i; sub(/^URIs:[ \t]*/, "", uris) }
				if ($i ~ /^Suites:/) { suites = $i; sub(/^Suites:[ \t]*/, "", suites) }
			}
			split(uris, u, /[ \t]+/)
			if (suites !~ /security/ && u[1] ~ /debian\/?$/) { print u[1]; exit }
		}' "$f"
	done
}

uri=$(mirror_uri | head -n 1)
if [ -z "$uri" ]; then
	echo "fetch-consul: no Debian mirror found in /etc/apt/sources.list*; install consul on PATH yourself" >&2
	exit 1
fi

tmp=$(mktemp -d)
chmod 755 "$tmp" # apt downloads as the unprivileged _apt user
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/parts" "$tmp/dl"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
echo "deb [signed-by=$keyring] $uri bullseye main" > "$tmp/sources.list"
set -- -o Dir::Etc::SourceList="$tmp/sources.list" -o Dir::Etc::SourceParts="$tmp/parts" \
	-o Dir::State::Lists="$tmp/lists" -o Dir::Cache="$tmp/cache" \
	-o Debug::NoLocking=1 -o APT::Get::List-Cleanup=0
apt-get -q "$@" update >&2
(cd "$tmp/dl" && apt-get -q "$@" download consul >&2)
mkdir -p "$dest"
dpkg-deb -x "$tmp"/dl/consul_*.deb "$dest"
"$dest/usr/bin/consul" version >&2
echo "$dest/usr/bin/consul"
