# SPDX-License-Identifier: Apache-2.0
# What the disk tests share, on top of worker_lib.sh: a small filesystem of their own, a tmpfs of
# DISK_SIZE (set before sourcing) mounted at $DISK, unmounted on exit once the supervisors are
# stopped (their pid files may be on it). Mounting needs root: as anyone else, or where no tmpfs
# can be mounted, the test is skipped (77). Sourced, never run.

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: mounting a tmpfs needs root"
	exit 77
fi
. "$FS_SRCDIR/tests/integration/worker_lib.sh"

DISK=$FS_TMP/disk
MIB=1048576
mkdir -p "$DISK"
if ! mount -t tmpfs -o "size=$DISK_SIZE,mode=0755" tmpfs "$DISK"; then
	echo "SKIP: cannot mount a tmpfs here"
	exit 77
fi
trap 'fs_stop_supervisors; umount -l "$DISK"; fs_cleanup' EXIT

# avail_mib: what the tmpfs has free, in MiB
avail_mib() {
	echo $(($(stat -f -c '%a * %S' "$DISK") / MIB))
}
