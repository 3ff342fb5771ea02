/* SPDX-License-Identifier: Apache-2.0 */
/* Free space of the spool's and the run root's filesystems (see diskfree.h). */
#include "diskfree.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "clock.h"
#include "err.h"
#include "xalloc.h"

#define DISKFREE_REFRESH_MS 1000
#define DISKFREE_MIB        (1024LL * 1024)

struct diskfree {
	char *paths[2]; /* the spool, then the run root (or NULL) */
	long long min_free;
	pthread_mutex_t mu;
	int64_t checked_ms; /* clock_mono_ms of the last statvfs; 0: never */
	int rc;             /* the last answer and its message (NULL when rc is 0) */
	char *msg;
};

struct diskfree *diskfree_new(const char *spool, const char *run_root, long long min_free)
{
	struct diskfree *df = xcalloc(1, sizeof(*df));

	df->paths[0] = xstrdup(spool);
	df->paths[1] = run_root != NULL ? xstrdup(run_root) : NULL;
	df->min_free = min_free;
	pthread_mutex_init(&df->mu, NULL);
	return df;
}

void diskfree_free(struct diskfree *df)
{
	if (df == NULL)
		return;
	free(df->paths[0]);
	free(df->paths[1]);
	free(df->msg);
	pthread_mutex_destroy(&df->mu);
	free(df);
}

long long diskfree_bytes(const char *path)
{
	struct statvfs sv;

	if (statvfs(path, &sv) != 0)
		return -1;
	return (long long)sv.f_bavail * (long long)sv.f_frsize;
}

/* 1 when the run root is a filesystem of its own (asked each time: the worker may make it after
 * the responder started, or it may be mounted later). */
static int diskfree_apart(const struct diskfree *df)
{
	struct stat a, b;

	return df->paths[1] != NULL && stat(df->paths[0], &a) == 0 && stat(df->paths[1], &b) == 0 &&
	       a.st_dev != b.st_dev;
}

/* Asks every watched filesystem; the caller holds df->mu. */
static void diskfree_refresh(struct diskfree *df)
{
	long long avail;
	size_t i, n = diskfree_apart(df) ? 2 : 1;

	free(df->msg);
	df->msg = NULL;
	df->rc = 0;
	for (i = 0; i < n; i++) {
		if ((avail = diskfree_bytes(df->paths[i])) < 0) {
			df->rc = err_set(&df->msg, FS_EIO, "cannot tell the free space of '%s': %s",
					 df->paths[i], strerror(errno));
			return;
		}
		if (avail < df->min_free) {
			df->rc = err_set(&df->msg, FS_EFULL,
					 "the filesystem of '%s' has %lld MiB free, below "
					 "--min-free-space (%lld MiB)",
					 df->paths[i], avail / DISKFREE_MIB,
					 df->min_free / DISKFREE_MIB);
			return;
		}
	}
}

int diskfree_check(struct diskfree *df, char **errp)
{
	int64_t now;
	int rc;

	if (df->min_free <= 0)
		return 0;
	now = clock_mono_ms();
	pthread_mutex_lock(&df->mu);
	if (df->checked_ms == 0 || now - df->checked_ms >= DISKFREE_REFRESH_MS) {
		diskfree_refresh(df);
		df->checked_ms = now;
	}
	rc = df->rc;
	if (rc != 0)
		err_set(errp, rc, "%s", df->msg);
	pthread_mutex_unlock(&df->mu);
	return rc;
}
