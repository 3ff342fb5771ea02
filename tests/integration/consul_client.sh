#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# core/consul.c against a real consul agent: runs the driver tests/unit/test_consul_client
# (every txn op, claim races between processes, sessions, malformed answers and values, and one
# session expiring and releasing its lock — the slow part, ~20 s).
. "$FS_SRCDIR/tests/integration/lib.sh"
fs_need_consul
. "$FS_SRCDIR/tests/integration/consul_lib.sh"

fs_consul_start
FS_CONSUL_PORT=$FS_CONSUL_PORT FS_CONSUL_SLOW=1 "$FS_BUILDDIR/tests/unit/test_consul_client" ||
	fs_fail "test_consul_client"
fs_done
