#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Sets up and runs a node on localhost:3000 in the foreground (Ctrl-C stops it): installs the
# dependencies, builds out of tree in build/, and starts the launcher in single-node mode
# (--no-consul) with the echo sample factfile copied where the node can read it.
#   As root: `make install` (prefix /usr/local), then runs /usr/local/bin/factotum-server with
#   the spool /usr/local/var/lib/factotum-server (which becomes the service user's, 0750: the
#   sample goes to /usr/local/share/factotum-server/samples instead). install-deps.sh has made
#   the node's users.
#   As another user (dependencies already installed): runs from the build tree, spool build/spool
#   and the sample in build/spool/samples.
# Extra arguments go to the launcher (e.g. --port 3001, --log-level info); --consul-dev starts a
# Consul dev agent instead of single-node mode.
#   usage: sh scripts/run-node.sh [OPTION]...
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sh scripts/install-deps.sh
./autogen.sh >/dev/null 2>&1 || ./autogen.sh
mkdir -p build
cd build
"$top/configure" -q
make -s -j"$(nproc 2>/dev/null || echo 2)"

if [ "$(id -u)" -eq 0 ]; then
	make -s install >/dev/null
	launcher=/usr/local/bin/factotum-server
	spool=/usr/local/var/lib/factotum-server
	samples=/usr/local/share/factotum-server/samples
	set -- --spool "$spool" "$@"
else
	launcher=$top/build/launcher/factotum-server
	spool=$top/build/spool
	samples=$spool/samples
	FACTOTUM_SERVER_FCGI=$top/build/fcgi/factotum-server-fcgi
	FACTOTUM_SERVER_WORKER=$top/build/worker/factotum-server-worker
	export FACTOTUM_SERVER_FCGI FACTOTUM_SERVER_WORKER
	set -- --spool "$spool" --factotum-bin "$top/build/runner/factotum" "$@"
fi

# the sample (a copy of Factotum's, with its notice) where the node can read it
mkdir -p "$samples"
cp "$top/tests/data/samples/echo.factfile" "$top/tests/data/samples/NOTICE" \
	"$top/tests/data/samples/LICENSE-2.0.txt" "$samples/"
chmod 0644 "$samples/echo.factfile" "$samples/NOTICE" "$samples/LICENSE-2.0.txt"
echo "run-node.sh: sample factfile $samples/echo.factfile"

case " $* " in
*" --consul-dev "* | *" --no-consul "*) ;;
*) set -- --no-consul "$@" ;;
esac
case " $* " in
*" --port "* | *" --port="*) ;;
*) set -- --port 3000 "$@" ;;
esac
case " $* " in
*" --ip "* | *" --ip="*) ;;
*) set -- --ip 127.0.0.1 "$@" ;;
esac
exec "$launcher" "$@"
