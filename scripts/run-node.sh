#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Sets up and runs a node on localhost. For now the node's programs do not exist yet, so this
# installs the dependencies and builds the tree in build/.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sh scripts/install-deps.sh
./autogen.sh >/dev/null 2>&1 || ./autogen.sh
mkdir -p build
cd build
"$top/configure" -q
make -s -j"$(nproc 2>/dev/null || echo 2)"
echo "run-node.sh: built in $top/build (the node's programs arrive with their issues)"
