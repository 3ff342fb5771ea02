/* SPDX-License-Identifier: Apache-2.0 */
/* The run identity's published text and the permission computation behind runident_can_read
 * (runident.h). */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "runident.h"
#include "xalloc.h"

char *runident_format(const struct runident *ri)
{
	size_t cap = 64 + (ri->ngroups * 12) + strlen(ri->name), len;
	char *s = xmalloc(cap);

	if (ri->any_uid)
		len = (size_t)snprintf(s, cap, "*:%lu:", (unsigned long)ri->gid);
	else
		len = (size_t)snprintf(s, cap, "%lu:%lu:", (unsigned long)ri->uid,
				       (unsigned long)ri->gid);
	for (size_t i = 0; i < ri->ngroups; i++)
		len += (size_t)snprintf(s + len, cap - len, "%s%lu", i ? "," : "",
					(unsigned long)ri->groups[i]);
	snprintf(s + len, cap - len, ":%s", ri->name);
	return s;
}

/* A decimal id ending at one of stops; *endp after it. */
static int runident_id(const char *s, const char *stops, unsigned long *out, const char **endp)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno != 0 || *out > UINT32_MAX || *end == '\0' || strchr(stops, *end) == NULL)
		return -1;
	*endp = end;
	return 0;
}

int runident_parse(const char *text, struct runident *ri, char **errp)
{
	struct runident r = { 0 };
	const char *p = text;
	unsigned long v;

	if (strcmp(text, RUNIDENT_SELF) == 0)
		return 1;
	if (p[0] == '*' && p[1] == ':') {
		r.any_uid = 1;
		p += 2;
	} else {
		if (runident_id(p, ":", &v, &p) != 0)
			goto fail;
		r.uid = (uid_t)v;
		p++;
	}
	if (runident_id(p, ":", &v, &p) != 0)
		goto fail;
	r.gid = (gid_t)v;
	p++;
	while (*p != ':') {
		if (runident_id(p, ",:", &v, &p) != 0)
			goto fail;
		r.groups = xrealloc(r.groups, (r.ngroups + 1) * sizeof(*r.groups));
		r.groups[r.ngroups++] = (gid_t)v;
		if (*p == ',' && *++p == ':')
			goto fail;
	}
	if (p[1] == '\0')
		goto fail;
	r.name = xstrdup(p + 1);
	*ri = r;
	return 0;
fail:
	free(r.groups);
	return err_set(errp, FS_EINVAL, "not a run identity: '%s'", text);
}

void runident_free(struct runident *ri)
{
	free(ri->groups);
	free(ri->name);
	memset(ri, 0, sizeof(*ri));
}

static int runident_in_group(const struct runident *ri, gid_t gid)
{
	if (gid == ri->gid)
		return 1;
	for (size_t i = 0; i < ri->ngroups; i++)
		if (ri->groups[i] == gid)
			return 1;
	return 0;
}

int runident_allows(const struct runident *ri, const struct stat *st, int want)
{
	unsigned int bits = 0, need = 0;

	if (!ri->any_uid && ri->uid == 0)
		return 1;
	if (want & R_OK)
		need |= 4;
	if (want & X_OK)
		need |= 1;
	if (!ri->any_uid && st->st_uid == ri->uid)
		bits = (st->st_mode >> 6) & 7;
	else if (runident_in_group(ri, st->st_gid))
		bits = (st->st_mode >> 3) & 7;
	else
		bits = st->st_mode & 7;
	return (bits & need) == need;
}

/* Walks path's components with lstat: search on each directory, read on the last (final, when
 * not NULL, is the last one's lstat already taken); returns 1, 0 (refused), or -1 when a
 * component is a symlink (the caller walks the resolved path instead) or cannot be examined. The
 * root directory is not examined: one the run user could not search would fail every run, and
 * each syscall counts on /submit's path. */
static int runident_walk(const struct runident *ri, const char *path, const struct stat *final)
{
	char prefix[PATH_MAX];
	struct stat st;
	const struct stat *sp;
	size_t n = strlen(path), i = 0;

	if (n >= sizeof(prefix) || path[0] != '/')
		return -1;
	memcpy(prefix, path, n + 1);
	while (i < n) {
		while (i < n && path[i] == '/')
			i++;
		if (i == n)
			break;
		while (i < n && path[i] != '/')
			i++;
		sp = &st;
		if (i == n && final != NULL) {
			sp = final;
		} else {
			prefix[i] = '\0';
			if (lstat(prefix, &st) != 0)
				return -1;
			prefix[i] = path[i];
		}
		if (S_ISLNK(sp->st_mode))
			return -1;
		if (!runident_allows(ri, sp, i < n ? X_OK : R_OK))
			return 0;
	}
	return 1;
}

int runident_can_read(const struct runident *ri, const char *path, const struct stat *final)
{
	char resolved[PATH_MAX];
	int rc;

	if ((rc = runident_walk(ri, path, final)) >= 0)
		return rc;
	/* a symlink on the way (its own mode means nothing): walk where it leads */
	if (realpath(path, resolved) == NULL || (rc = runident_walk(ri, resolved, NULL)) < 0)
		return 1;
	return rc;
}
