/* SPDX-License-Identifier: Apache-2.0 */
/* The spare-inode pool (see spares.h). */
#define _GNU_SOURCE
#include "spares.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xalloc.h"

/* spare names past this are someone else's: the counter must never wrap */
#define SPARES_SEQ_MAX (1ULL << 62)

/* 1 if path is a directory with nothing in it. */
static int spares_dir_empty(const char *path)
{
	struct dirent *e;
	int empty = 1;
	DIR *d = opendir(path);

	if (d == NULL)
		return 0;
	while (empty && (e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			empty = 0;
	closedir(d);
	return empty;
}

/* Adopts the entry name of the open directory d (path is its full path, taken over when kept):
 * 1 when it is a spare and there is room for it, else 0. */
static int spares_adopt(struct spares *sp, DIR *d, const char *name, char *path)
{
	unsigned long long v;
	struct stat sb;
	char *end;

	/* "s.<n>" or "d.<n>" */
	if ((name[0] != 's' && name[0] != 'd') || name[1] != '.' || name[2] < '0' || name[2] > '9')
		return 0;
	errno = 0;
	v = strtoull(name + 2, &end, 10);
	if (*end != '\0' || errno != 0 || v >= SPARES_SEQ_MAX ||
	    fstatat(dirfd(d), name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
		return 0;
	/* a file linked once only: one left linked elsewhere too (fsck after a crash) is not ours
	 * to hand out */
	if (name[0] == 's' && S_ISREG(sb.st_mode) && sb.st_nlink == 1 && sp->n < SPARES_MAX)
		sp->paths[sp->n++] = path;
	else if (name[0] == 'd' && S_ISDIR(sb.st_mode) && sp->ndirs < SPARES_MAX &&
		 spares_dir_empty(path))
		sp->dirs[sp->ndirs++] = path;
	else
		return 0;
	if (v >= sp->seq)
		sp->seq = v + 1;
	return 1;
}

int spares_init(struct spares *sp, const char *dir)
{
	struct dirent *e;
	char *path;
	DIR *d;

	memset(sp, 0, sizeof(*sp));
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		return -1;
	if ((d = opendir(dir)) == NULL)
		return -1;
	sp->dir = xstrdup(dir);
	sp->paths = xcalloc(SPARES_MAX, sizeof(*sp->paths));
	sp->dirs = xcalloc(SPARES_MAX, sizeof(*sp->dirs));
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		path = xasprintf("%s/%s", dir, e->d_name);
		if (spares_adopt(sp, d, e->d_name, path))
			continue;
		/* not ours, or one too many: a file or an empty directory goes */
		if (unlink(path) != 0)
			(void)rmdir(path);
		free(path);
	}
	closedir(d);
	return 0;
}

void spares_free(struct spares *sp)
{
	size_t i;

	for (i = 0; i < sp->n; i++)
		free(sp->paths[i]);
	for (i = 0; i < sp->ndirs; i++)
		free(sp->dirs[i]);
	free(sp->paths);
	free(sp->dirs);
	free(sp->dir);
	memset(sp, 0, sizeof(*sp));
}

int spares_put(struct spares *sp, const char *path)
{
	char *spare;

	if (sp == NULL || sp->dir == NULL || sp->n >= SPARES_MAX)
		return -1;
	spare = xasprintf("%s/s.%llu", sp->dir, sp->seq++);
	if (rename(path, spare) != 0) {
		free(spare);
		return -1;
	}
	sp->paths[sp->n++] = spare;
	return 0;
}

char *spares_take(struct spares *sp)
{
	return sp != NULL && sp->n > 0 ? sp->paths[--sp->n] : NULL;
}

char *spares_reserve_dir(struct spares *sp, size_t want)
{
	char *path;

	if (sp->dir == NULL || sp->ndirs >= want || sp->ndirs >= SPARES_MAX)
		return NULL;
	path = xasprintf("%s/d.%llu", sp->dir, sp->seq++);
	sp->dirs[sp->ndirs++] = xstrdup(path);
	return path;
}

char *spares_take_dir(struct spares *sp, size_t want)
{
	char *path;
	int made;

	/* the oldest, once it has been made; one still missing when the pool is full was never
	 * made (its supervisor gave up) and is forgotten */
	while (sp->ndirs > 0) {
		made = faccessat(AT_FDCWD, sp->dirs[0], F_OK, AT_SYMLINK_NOFOLLOW) == 0;
		if (!made && sp->ndirs < want)
			return NULL;
		path = sp->dirs[0];
		memmove(sp->dirs, sp->dirs + 1, (sp->ndirs - 1) * sizeof(*sp->dirs));
		sp->ndirs--;
		if (made)
			return path;
		free(path);
	}
	return NULL;
}
