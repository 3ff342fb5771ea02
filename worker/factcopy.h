/* SPDX-License-Identifier: Apache-2.0 */
/* The run's factfile: the bytes /submit validated, kept in the spool (spool_factfile_get), as a
 * read-only file <spool>/factfiles/<sha256> that the runner is given instead of factfilePath, so
 * that edits to the submitted file or a swapped symlink after /submit change nothing. One file
 * per hash, shared by the runs of that hash, owned by the worker's user with the run user's group,
 * 0640, in a directory of that group that the run user may pass through (0710) but not list.
 * Files exist only while a job of their hash is WORKING: factcopy_prune removes the others. */
#ifndef FS_FACTCOPY_H
#define FS_FACTCOPY_H

#include <sys/types.h>

#include "spares.h"
#include "spool.h"

/* "<dir>/<sha>", a new string. */
char *factcopy_path(const char *dir, const char *sha);

/* Makes <dir>/<sha> hold the bytes the spool keeps under sha (written to a temporary name and
 * renamed, so a reader never sees part of it; kept as it is when its size already matches), of
 * group gid unless gid is (gid_t)-1. The file is a spare of pool, when it has one on dir's
 * filesystem (spares.h: no inode to allocate on the way to the run), else a new one; pool may be
 * NULL. On success *pathp is its path (caller frees). FS_ENOENT when the spool keeps no such
 * bytes, FS_EIO when the file cannot be written; *errp says. */
int factcopy_ensure(struct spool *sp, const char *dir, const char *sha, gid_t gid,
		    struct spares *pool, char **pathp, char **errp);

/* Moves <dir>/<sha> into pool (or removes it when the pool has no room or is NULL) unless a job
 * of that hash is WORKING; sha NULL: nothing to do. For a run just settled. */
void factcopy_release(struct spool *sp, const char *dir, const char *sha, struct spares *pool);

/* Removes every file of dir whose hash no WORKING job has (leftovers of a crash included), for
 * the worker's start. */
void factcopy_prune(struct spool *sp, const char *dir);

#endif
