/* SPDX-License-Identifier: Apache-2.0 */
/* The responder's socket place, directory and group (contract in fcgisock.h). */
#include "fcgisock.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "xalloc.h"

#define FCGISOCK_HASH_HEX 12

int fcgisock_group(const struct config *cfg, gid_t *gid, char **errp)
{
	struct group *gr;

	if (cfg->fcgi_socket_group != NULL) {
		if ((gr = getgrnam(cfg->fcgi_socket_group)) == NULL)
			return err_set(errp, FS_ENOENT,
				       "--fcgi-socket-group: no group '%s' on this system",
				       cfg->fcgi_socket_group);
	} else if (geteuid() != 0 || (gr = getgrnam("www-data")) == NULL) {
		return 0;
	}
	*gid = gr->gr_gid;
	return 1;
}

int fcgisock_place(struct config *cfg, const struct privdrop *pd, int have_group, gid_t gid,
		   char **errp)
{
	struct sha256_ctx ctx;
	uint8_t digest[SHA256_DIGEST_SIZE];
	char real[PATH_MAX], hex[FCGISOCK_HASH_HEX + 1];
	int i;

	if (geteuid() != 0 || !cfg->fcgi_socket_default || cfg->fcgi_host != NULL)
		return 0;
	if (realpath(cfg->spool, real) == NULL)
		return err_set(errp, FS_EIO, "--spool: '%s': %s", cfg->spool, strerror(errno));
	sha256_init(&ctx);
	sha256_update(&ctx, strlen(real), (const uint8_t *)real);
	sha256_digest(&ctx, sizeof(digest), digest);
	for (i = 0; i < FCGISOCK_HASH_HEX / 2; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
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
	if (chown(path, pd->active ? pd->uid : (uid_t)-1, have_group ? gid : (gid_t)-1) != 0)
		return err_set(errp, FS_EIO, "--fcgi-socket: cannot give '%s' to %s%s%s: %s", path,
			       pd->active ? pd->name : "", pd->active && have_group ? " and " : "",
			       have_group ? "the socket's group" : "", strerror(errno));
	return 0;
}
