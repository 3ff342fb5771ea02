/* SPDX-License-Identifier: Apache-2.0 */
/* Free space of the filesystems a node writes to: the spool's, and the run root's when that is
 * another filesystem (--run-root). Below --min-free-space the node accepts no new work (/submit
 * answers 507, /health 503) so that what it already accepted can still be recorded.
 *
 * statvfs is asked at most once a second per watcher; a request in between reads the last
 * answer. Safe to share between threads. */
#ifndef FS_DISKFREE_H
#define FS_DISKFREE_H

struct diskfree;

/* A watcher of spool and, whenever it is on another filesystem, run_root (both copied; run_root
 * may be NULL, or not exist yet: then only the spool is watched). min_free 0 disables the check. Free
 * with diskfree_free. Never fails. */
struct diskfree *diskfree_new(const char *spool, const char *run_root, long long min_free);
void diskfree_free(struct diskfree *df);

/* 0 when every watched filesystem has at least min_free bytes available to the service user;
 * FS_EFULL with *errp "the filesystem of '<path>' has <N> MiB free, below
 * --min-free-space (<M> MiB)" (the first watched one that has less); FS_EIO with *errp when statvfs failed. *errp is
 * new text the caller frees. */
int diskfree_check(struct diskfree *df, char **errp);

/* Bytes available to the service user on the filesystem of path, or -1 with errno. */
long long diskfree_bytes(const char *path);

#endif
