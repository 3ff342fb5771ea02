/* SPDX-License-Identifier: Apache-2.0 */
/* Becoming the service user (contract in privdrop.h). Capabilities go through the capget/capset
 * system calls of <linux/capability.h> directly: three calls do not justify libcap. */
#define _GNU_SOURCE
#include "privdrop.h"

#include <errno.h>
#include <ftw.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "err.h"
#include "xalloc.h"

int privdrop_resolve(const struct config *cfg, struct privdrop *pd, char **errp)
{
	struct passwd *pw;

	memset(pd, 0, sizeof(*pd));
	if (geteuid() != 0 || cfg->allow_root)
		return 0;
	errno = 0;
	pw = getpwnam(cfg->user);
	if (pw == NULL)
		return err_set(errp, FS_ENOENT,
			       "--user: no user '%s' on this system: create it (useradd --system "
			       "--no-create-home --shell /usr/sbin/nologin %s), name another with "
			       "--user, or stay root with --allow-root",
			       cfg->user, cfg->user);
	if (pw->pw_uid == 0)
		return err_set(errp, FS_EINVAL,
			       "--user: '%s' is root: name an unprivileged user, or say "
			       "--allow-root",
			       cfg->user);
	pd->active = 1;
	pd->uid = pw->pw_uid;
	pd->gid = pw->pw_gid;
	pd->name = xstrdup(pw->pw_name);
	return 0;
}

/* nftw passes no argument to its callback: the hand-over's state, used at start-up only, before
 * any thread exists. */
static const struct privdrop *own_pd;
static const char *own_skip; /* <spool>/nginx */
static int own_errno;

static int privdrop_own_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)ftw;
	if (strcmp(path, own_skip) == 0)
		return FTW_SKIP_SUBTREE;
	if (type == FTW_NS || type == FTW_DNR)
		return FTW_CONTINUE; /* vanished meanwhile, or unreadable even to root */
	if (lchown(path, own_pd->uid, own_pd->gid) != 0 && own_errno == 0)
		own_errno = errno;
	/* a symbolic link has no mode of its own; every other entry loses the bits of others */
	if (type != FTW_SL && (st->st_mode & 0007) != 0 && chmod(path, st->st_mode & 07770) != 0 &&
	    own_errno == 0)
		own_errno = errno;
	return FTW_CONTINUE;
}

int privdrop_own_spool(const struct privdrop *pd, const char *spool, char **errp)
{
	struct stat st;
	char *skip;
	int rc;

	if (!pd->active)
		return 0;
	if (stat(spool, &st) != 0)
		return err_set(errp, FS_EIO, "--spool: '%s': %s", spool, strerror(errno));
	if (st.st_uid != pd->uid) {
		skip = xasprintf("%s/nginx", strcmp(spool, "/") == 0 ? "" : spool);
		own_pd = pd;
		own_skip = skip;
		own_errno = 0;
		rc = nftw(spool, privdrop_own_entry, 32, FTW_PHYS | FTW_ACTIONRETVAL);
		free(skip);
		if (rc != 0 || own_errno != 0)
			return err_set(errp, FS_EIO, "--spool: cannot hand '%s' over to %s: %s",
				       spool, pd->name, strerror(own_errno ? own_errno : errno));
	}
	/* 0750; a spool the service user owns keeps its group, which the worker makes the run
	 * user's so that runs reach their directories (worker/main.c) */
	if (chown(spool, pd->uid, st.st_uid == pd->uid ? (gid_t)-1 : pd->gid) != 0 ||
	    chmod(spool, 0750) != 0)
		return err_set(errp, FS_EIO, "--spool: cannot give '%s' to %s: %s", spool, pd->name,
			       strerror(errno));
	return 0;
}

/* Leaves only keep in the bounding set (needs CAP_SETPCAP: before the uid changes). */
static int privdrop_bound(uint64_t keep)
{
	int c;

	for (c = 0; c <= CAP_LAST_CAP; c++) {
		if (keep & PRIVDROP_CAP(c))
			continue;
		/* a capability this kernel does not know is not in the set */
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0 && errno != EINVAL)
			return -1;
	}
	return 0;
}

static int privdrop_capset(uint64_t keep)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	data[0].effective = data[0].permitted = (uint32_t)keep;
	data[1].effective = data[1].permitted = (uint32_t)(keep >> 32);
	return (int)syscall(SYS_capset, &hdr, data);
}

int privdrop_apply(const struct privdrop *pd, uint64_t keep, int no_new_privs, char **errp)
{
	const char *step;

	if (!pd->active)
		return 0;
	step = "initgroups";
	if (initgroups(pd->name, pd->gid) != 0)
		goto fail;
	step = "the bounding set";
	if (privdrop_bound(keep) != 0)
		goto fail;
	/* the permitted set survives the change of uid only with KEEPCAPS */
	step = "PR_SET_KEEPCAPS";
	if (keep != 0 && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0)
		goto fail;
	step = "setresgid";
	if (setresgid(pd->gid, pd->gid, pd->gid) != 0)
		goto fail;
	step = "setresuid";
	if (setresuid(pd->uid, pd->uid, pd->uid) != 0)
		goto fail;
	step = "capset";
	if (privdrop_capset(keep) != 0)
		goto fail;
	step = "PR_SET_KEEPCAPS";
	if (keep != 0 && prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0)
		goto fail;
	step = "PR_SET_NO_NEW_PRIVS";
	if (no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		goto fail;
	return 0;
fail:
	return err_set(errp, FS_EIO, "--user: cannot become %s (%s): %s", pd->name, step,
		       strerror(errno));
}

int privdrop_caps_clear(void)
{
	return privdrop_capset(0);
}

void privdrop_free(struct privdrop *pd)
{
	free(pd->name);
	memset(pd, 0, sizeof(*pd));
}
