/* SPDX-License-Identifier: Apache-2.0 */
/* The spool's reserve file (see spoolreserve.h). */
#define _GNU_SOURCE
#include "spoolreserve.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diskfree.h"
#include "err.h"
#include "xalloc.h"

int spoolreserve_make(const char *path, char **errp)
{
	struct stat st;
	char *tmp = NULL;
	int fd = -1, rc = 0, e;

	if (stat(path, &st) == 0 && st.st_size == SPOOLRESERVE_BYTES)
		return 0;
	/* made whole under a name of its own, then linked into place: a reader never sees part
	 * of one, and of two makers at once the second finds the first's */
	tmp = xasprintf("%s.%ld", path, (long)getpid());
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
		rc = err_set(errp, FS_EIO, "spool: reserve %s: %s", tmp, strerror(errno));
		goto fail;
	}
	if ((e = posix_fallocate(fd, 0, SPOOLRESERVE_BYTES)) != 0) {
		rc = err_set(errp, FS_EIO, "spool: reserve %s: %s", path, strerror(e));
		goto fail;
	}
	if (fsync(fd) != 0) {
		rc = err_set(errp, FS_EIO, "spool: reserve %s: %s", path, strerror(errno));
		goto fail;
	}
	/* a partial one left by a crash is replaced */
	if (stat(path, &st) == 0 && st.st_size != SPOOLRESERVE_BYTES)
		unlink(path);
	if (link(tmp, path) != 0 && errno != EEXIST) {
		rc = err_set(errp, FS_EIO, "spool: reserve %s: %s", path, strerror(errno));
		goto fail;
	}
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(tmp);
	return rc;
}

int spoolreserve_release(const char *path)
{
	return unlink(path) == 0;
}

int spoolreserve_restore(const char *path, long long min_free)
{
	struct stat st;
	char *dir;
	long long avail, need = 2 * SPOOLRESERVE_BYTES;

	if (stat(path, &st) == 0 && st.st_size == SPOOLRESERVE_BYTES)
		return 0;
	dir = xstrdup(path);
	avail = diskfree_bytes(dirname(dir));
	free(dir);
	if (min_free > need)
		need = min_free;
	if (avail < 0 || avail - SPOOLRESERVE_BYTES < need)
		return 0;
	return spoolreserve_make(path, NULL) == 0;
}
