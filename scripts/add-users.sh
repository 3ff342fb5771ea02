#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Creates the two system users of a node, as root: the service user (runs the responder and the
# worker, owns the spool) and the run user (runs the tasks). Idempotent: a user that exists is
# left as it is. Other names: sh add-users.sh USER... (the tests make their own run users so).
set -eu
[ "$#" -gt 0 ] || set -- factotum-server factotum-run

if [ "$(id -u)" -ne 0 ]; then
	echo "add-users: run this script as root" >&2
	exit 1
fi
for u in "$@"; do
	if ! getent passwd "$u" >/dev/null; then
		useradd --system --user-group --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin "$u"
		echo "add-users: created system user $u"
	fi
done
