#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# worker/schedlock.c, the schedules' firing lock, against a real consul agent: runs the driver
# tests/unit/test_schedlock (one holder at a time, its value and own session, giving it up,
# losing it with the session).
. "$FS_SRCDIR/tests/integration/lib.sh"
fs_need_consul
. "$FS_SRCDIR/tests/integration/consul_lib.sh"

fs_consul_start
FS_CONSUL_PORT=$FS_CONSUL_PORT "$FS_BUILDDIR/tests/unit/test_schedlock" ||
	fs_fail "test_schedlock"
fs_done
