/* SPDX-License-Identifier: Apache-2.0 */
/* The runs' read-only factfile copies (see factcopy.h). */
#include "factcopy.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "jobid.h"
#include "log.h"
#include "spares.h"
#include "xalloc.h"

char *factcopy_path(const char *dir, const char *sha)
{
	return xasprintf("%s/%s", dir, sha);
}

/* Writes len bytes of body to a file beside path -- a spare's inode renamed there when pool has
 * one (spares.h), else a new file -- and renames it to path. */
static int factcopy_write(const char *path, const char *body, size_t len, gid_t gid,
			  struct spares *pool, char **errp)
{
	char *tmp = xasprintf("%s.%ld.tmp", path, (long)getpid()), *spare = spares_take(pool);
	size_t off = 0;
	ssize_t n;
	int fd, rc = 0;

	(void)unlink(tmp); /* a leftover of a worker that died with this pid */
	/* the spare's old bytes are replaced and cut below; a spare someone else took, or one on
	 * another filesystem, leaves a new file to create */
	if (spare != NULL && rename(spare, tmp) == 0)
		fd = open(tmp, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	else
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
	free(spare);
	if (fd < 0) {
		rc = err_set(errp, FS_EIO, "cannot create %s: %s", tmp, strerror(errno));
		goto fail;
	}
	/* the umask may have taken the group's read bit: the run user reads by its group */
	if ((gid != (gid_t)-1 && fchown(fd, (uid_t)-1, gid) != 0) || fchmod(fd, 0640) != 0) {
		rc = err_set(errp, FS_EIO, "cannot give %s to the run user's group: %s", tmp,
			     strerror(errno));
		goto fail;
	}
	while (off < len) {
		n = write(fd, body + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = err_set(errp, FS_EIO, "cannot write %s: %s", tmp,
				     n < 0 ? strerror(errno) : "no space");
			goto fail;
		}
		off += (size_t)n;
	}
	if (ftruncate(fd, (off_t)len) != 0) {
		rc = err_set(errp, FS_EIO, "cannot write %s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (close(fd) != 0) {
		fd = -1;
		rc = err_set(errp, FS_EIO, "cannot write %s: %s", tmp, strerror(errno));
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		rc = err_set(errp, FS_EIO, "cannot rename %s: %s", tmp, strerror(errno));
		goto fail;
	}
	free(tmp);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	(void)unlink(tmp);
	free(tmp);
	return rc;
}

int factcopy_ensure(struct spool *sp, const char *dir, const char *sha, gid_t gid,
		    struct spares *pool, char **pathp, char **errp)
{
	char *path = NULL, *body = NULL;
	size_t len = 0;
	struct stat st;
	int rc;

	*pathp = NULL;
	/* the name is a file name of the directory, never a path of the caller's choosing */
	if (!jobid_is_valid(sha) || sha[JOBID_LEN] != '\0')
		return err_set(errp, FS_EINVAL, "invalid factfile hash '%s'", sha);
	path = factcopy_path(dir, sha);
	if ((rc = spool_factfile_get(sp, sha, &body, &len, errp)) != 0)
		goto fail;
	/* the name is the content's hash: a whole file of that size holds these bytes */
	if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && (uintmax_t)st.st_size == len)
		goto done;
	if ((rc = factcopy_write(path, body, len, gid, pool, errp)) != 0)
		goto fail;
done:
	*pathp = path;
	path = NULL;
fail:
	free(path);
	free(body);
	return rc;
}

/* Removes <dir>/<name>; a file already gone is no error. */
static void factcopy_unlink(const char *dir, const char *name)
{
	char *path = factcopy_path(dir, name);

	if (unlink(path) != 0 && errno != ENOENT)
		log_warn("cannot remove %s: %s", path, strerror(errno));
	free(path);
}

void factcopy_release(struct spool *sp, const char *dir, const char *sha, struct spares *pool)
{
	char *path;
	int64_t running;

	if (sha == NULL || !jobid_is_valid(sha) || sha[JOBID_LEN] != '\0' ||
	    spool_factfile_running(sp, sha, &running, NULL) != 0 || running != 0)
		return;
	path = factcopy_path(dir, sha);
	/* its inode kept for a later copy or run file (spares.h), else removed */
	if (spares_put(pool, path) != 0)
		factcopy_unlink(dir, sha);
	free(path);
}

void factcopy_prune(struct spool *sp, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int64_t running;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		/* a temporary file is never left while this single-threaded worker is not inside
		 * factcopy_ensure; a hash still in use stays */
		if (jobid_is_valid(de->d_name) && de->d_name[JOBID_LEN] == '\0' &&
		    (spool_factfile_running(sp, de->d_name, &running, NULL) != 0 || running > 0))
			continue;
		factcopy_unlink(dir, de->d_name);
	}
	closedir(d);
}
