/* SPDX-License-Identifier: Apache-2.0 */
/* The run root (see runroot.h). */
#include "runroot.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "xalloc.h"

int runroot_given(const struct config *cfg)
{
	char *dflt = xasprintf("%s/runs", strcmp(cfg->spool, "/") == 0 ? "" : cfg->spool);
	int given = strcmp(cfg->run_root, dflt) != 0;

	free(dflt);
	return given;
}

int runroot_prepare(const struct config *cfg, const struct privdrop *pd, char **errp)
{
	const char *dir = cfg->run_root;

	if (!runroot_given(cfg))
		return 0;
	if (mkdir(dir, 0710) != 0 && errno != EEXIST)
		return err_set(errp, FS_EIO, "--run-root: cannot create '%s': %s", dir,
			       strerror(errno));
	if (pd->active && chown(dir, pd->uid, pd->gid) != 0)
		return err_set(errp, FS_EIO, "--run-root: cannot give '%s' to %s: %s", dir,
			       pd->name, strerror(errno));
	return 0;
}

/* 1 when a run as ra may search a directory of st (the uid of --run-uid-range runs is nobody's
 * but theirs, so only the group and others count for them). */
static int runroot_searchable(const struct stat *st, const struct runas *ra, int any_uid)
{
	size_t i;

	if (!any_uid && st->st_uid == ra->uid)
		return (st->st_mode & S_IXUSR) != 0;
	if (st->st_gid == ra->gid)
		return (st->st_mode & S_IXGRP) != 0;
	for (i = 0; i < ra->ngroups; i++)
		if (st->st_gid == ra->groups[i])
			return (st->st_mode & S_IXGRP) != 0;
	return (st->st_mode & S_IXOTH) != 0;
}

int runroot_check_reach(const struct config *cfg, const struct runas *ra, char **errp)
{
	struct stat st;
	char *path;
	char *slash;
	int rc = 0;

	if (!ra->active || !runroot_given(cfg))
		return 0;
	path = xstrdup(cfg->run_root);
	/* every directory above it, from the nearest up to "/" */
	while ((slash = strrchr(path, '/')) != NULL) {
		slash[slash == path ? 1 : 0] = '\0';
		if (stat(path, &st) != 0) {
			rc = err_set(errp, FS_EINVAL, "--run-root: '%s': %s", path,
				     strerror(errno));
			break;
		}
		if (!runroot_searchable(&st, ra, cfg->run_uid_first > 0)) {
			rc = err_set(errp, FS_EINVAL,
				     "--run-root: the run user %s cannot reach '%s': '%s' is not "
				     "searchable by it",
				     ra->name, cfg->run_root, path);
			break;
		}
		if (slash == path)
			break;
	}
	free(path);
	return rc;
}
