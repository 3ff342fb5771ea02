/* SPDX-License-Identifier: Apache-2.0 */
/* The responder's socket place, directory and group (contract in fcgisock.h). */
#include "fcgisock.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "jobid.h"
#include "xalloc.h"

#define FCGISOCK_HASH_HEX 12

/* 1 if this process may give a file it owns to gid: root, or gid is one of its groups. */
static int fcgisock_may_give(gid_t gid)
{
	gid_t *groups;
	int i, n, found = 0;

	if (geteuid() == 0 || getegid() == gid)
		return 1;
	n = getgroups(0, NULL);
	if (n <= 0)
		return 0;
	groups = xcalloc((size_t)n, sizeof(*groups));
	n = getgroups(n, groups);
	for (i = 0; i < n && !found; i++)
		found = groups[i] == gid;
	free(groups);
	return found;
}

int fcgisock_group(const struct config *cfg, gid_t *gid, char **errp)
{
	struct group *gr;

	if (cfg->fcgi_socket_group != NULL) {
		if ((gr = getgrnam(cfg->fcgi_socket_group)) == NULL)
			return err_set(errp, FS_ENOENT,
				       "--fcgi-socket-group: no group '%s' on this system",
				       cfg->fcgi_socket_group);
	} else if ((gr = getgrnam(FCGISOCK_NGINX_GROUP)) == NULL ||
		   !fcgisock_may_give(gr->gr_gid)) {
		return 0;
	}
	*gid = gr->gr_gid;
	return 1;
}

int fcgisock_place(struct config *cfg, const struct privdrop *pd, int have_group, gid_t gid,
		   char **errp)
{
	char real[PATH_MAX], hex[JOBID_LEN + 1];

	if (geteuid() != 0 || !cfg->fcgi_socket_default || cfg->fcgi_host != NULL)
		return 0;
	if (realpath(cfg->spool, real) == NULL)
		return err_set(errp, FS_EIO, "--spool: '%s': %s", cfg->spool, strerror(errno));
	/* the SHA-256 hex of the path, as a job id is of its request (no tags) */
	jobid_compute(real, strlen(real), NULL, hex);
	hex[FCGISOCK_HASH_HEX] = '\0';
	if (mkdir(FCGISOCK_RUNDIR, 0750) != 0 && errno != EEXIST)
		goto fail;
	if (chown(FCGISOCK_RUNDIR, pd->active ? pd->uid : 0,
		  have_group ? gid : (pd->active ? pd->gid : 0)) != 0 ||
	    chmod(FCGISOCK_RUNDIR, have_group ? 0750 : 0755) != 0)
		goto fail;
	free(cfg->fcgi_socket);
	cfg->fcgi_socket = xasprintf(FCGISOCK_RUNDIR "/%s.sock", hex);
	return 0;
fail:
	return err_set(errp, FS_EIO, "--fcgi-socket: cannot prepare " FCGISOCK_RUNDIR ": %s",
		       strerror(errno));
}

int fcgisock_own(const char *path, const struct privdrop *pd, int have_group, gid_t gid,
		 char **errp)
{
	if (!pd->active && !have_group)
		return 0;
	/* without a group, the one of the user the process becomes */
	if (chown(path, pd->active ? pd->uid : (uid_t)-1,
		  have_group ? gid : (pd->active ? pd->gid : (gid_t)-1)) != 0)
		return err_set(errp, FS_EIO, "--fcgi-socket: cannot give '%s' to %s%s%s: %s", path,
			       pd->active ? pd->name : "", pd->active && have_group ? " and " : "",
			       have_group ? "the socket's group" : "", strerror(errno));
	return 0;
}
