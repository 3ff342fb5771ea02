/* SPDX-License-Identifier: Apache-2.0 */
/* A run's working directory, removed however its run left it (rundir.h). */
#define _GNU_SOURCE
#include "rundir.h"

#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static int rundir_unreadable; /* a pass of rundir_own_entry met an unreadable directory */

static int rundir_rmtree_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	(void)remove(path);
	return 0;
}

/* Makes each directory of the tree the caller's and searchable (CAP_CHOWN where it was the run
 * user's), so that the tree can be removed: a directory is read only once it is ours, so one
 * pass may stop at those it could not read and the next goes deeper. */
static int rundir_own_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)ftw;
	if (flag == FTW_D || flag == FTW_DNR) {
		/* a failure shows as a directory the removal cannot empty, which it reports */
		if (sb->st_uid != geteuid() && lchown(path, geteuid(), (gid_t)-1) != 0)
			return 0;
		(void)chmod(path, 0700);
		if (flag == FTW_DNR)
			rundir_unreadable = 1;
	}
	return 0;
}

int rundir_remove(const char *dir)
{
	struct stat st;

	if (lstat(dir, &st) == 0 && S_ISDIR(st.st_mode)) {
		int pass = 0;

		do {
			rundir_unreadable = 0;
			(void)nftw(dir, rundir_own_entry, 16, FTW_PHYS);
		} while (rundir_unreadable && ++pass < 64);
	}
	(void)nftw(dir, rundir_rmtree_entry, 16, FTW_DEPTH | FTW_PHYS);
	return lstat(dir, &st) == 0 ? -1 : 0;
}
