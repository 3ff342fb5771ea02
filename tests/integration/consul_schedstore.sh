#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# core/consulsched.c against a real consul agent: runs the driver tests/unit/test_consulsched_store
# (set, get, list, pause, resume, delete with the history ring, the slot txn's fences, missed
# slots with their summary, the ring wrapping after 1000 rows, the bound on schedules).
. "$FS_SRCDIR/tests/integration/lib.sh"
fs_need_consul
. "$FS_SRCDIR/tests/integration/consul_lib.sh"

fs_consul_start
FS_CONSUL_PORT=$FS_CONSUL_PORT "$FS_BUILDDIR/tests/unit/test_consulsched_store" ||
	fs_fail "test_consulsched_store"
fs_done
