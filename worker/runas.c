/* SPDX-License-Identifier: Apache-2.0 */
/* Resolving the run user (see runas.h). Capabilities are read with capget(2) directly: the
 * one question asked does not warrant libcap. */
#define _GNU_SOURCE
#include "runas.h"

#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "err.h"
#include "xalloc.h"

/* This process's effective capabilities (the first 32, where every one used here lies); 0 when
 * they cannot be read. */
static uint32_t runas_effective(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	memset(d, 0, sizeof(d));
	return syscall(SYS_capget, &h, d) == 0 ? d[0].effective : 0;
}

/* 1 when this process may take another uid and gid: root, or CAP_SETUID and CAP_SETGID in its
 * effective set. */
static int runas_can_switch(void)
{
	const uint32_t need = (1U << CAP_SETUID) | (1U << CAP_SETGID);

	return geteuid() == 0 || (runas_effective() & need) == need;
}

/* The bounding set's capabilities, read once here rather than tried one by one at each run's
 * start; none when this process lacks CAP_SETPCAP (see runas.h). */
static uint64_t runas_bounding_to_drop(void)
{
	uint64_t set = 0;
	int cap;

	if (!(runas_effective() & (1U << CAP_SETPCAP)))
		return 0;
	for (cap = 0; cap <= CAP_LAST_CAP && cap < 64; cap++)
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1)
			set |= (uint64_t)1 << cap;
	return set;
}

int runas_resolve(const struct config *cfg, struct runas *ra, char **errp)
{
	const char *colon = strchr(cfg->run_as, ':');
	char *user = xstrndup(cfg->run_as,
			      colon != NULL ? (size_t)(colon - cfg->run_as) : strlen(cfg->run_as));
	struct passwd *pw;
	struct group *gr;
	int n = 0, rc = FS_EINVAL;

	memset(ra, 0, sizeof(*ra));
	if (!runas_can_switch()) {
		if (cfg->run_uid_first > 0) {
			err_set(errp, FS_EINVAL,
				"--run-uid-range: the worker cannot switch users (it is not root and "
				"lacks CAP_SETUID and CAP_SETGID)");
			goto done;
		}
		pw = getpwuid(geteuid());
		/* the default is taken quietly (a non-root node runs its tasks as itself), a user
		 * the operator named is not */
		if (strcmp(cfg->run_as, CONFIG_DEFAULT_RUN_AS) != 0 &&
		    (pw == NULL || colon != NULL || strcmp(user, pw->pw_name) != 0)) {
			err_set(errp, FS_EINVAL,
				"--run-as: the worker cannot switch users (it is not root and lacks "
				"CAP_SETUID and CAP_SETGID): its tasks would run as '%s', not '%s'",
				pw != NULL ? pw->pw_name : "?", cfg->run_as);
			goto done;
		}
		ra->name = xstrdup(pw != NULL ? pw->pw_name : "");
		rc = 0;
		goto done;
	}
	if ((pw = getpwnam(user)) == NULL) {
		err_set(errp, FS_EINVAL,
			"--run-as: no user '%s' (create it: useradd --system --no-create-home --shell "
			"/usr/sbin/nologin %s; or name another)",
			user, user);
		goto done;
	}
	ra->active = 1;
	ra->bound_drop = runas_bounding_to_drop();
	ra->uid = pw->pw_uid;
	ra->gid = pw->pw_gid;
	ra->name = xstrdup(pw->pw_name);
	if (colon != NULL) {
		if ((gr = getgrnam(colon + 1)) == NULL) {
			err_set(errp, FS_EINVAL,
				"--run-as: no group '%s' (create it or name another)", colon + 1);
			goto done;
		}
		ra->gid = gr->gr_gid;
	}
	if (ra->uid == 0 && !cfg->allow_root_runs) {
		err_set(errp, FS_EINVAL,
			"--run-as: '%s' is root: every task would run with every privilege "
			"(--allow-root-runs to allow it)",
			user);
		goto done;
	}
	if (ra->uid != 0 && ra->uid == geteuid() && !cfg->allow_shared_user) {
		err_set(errp, FS_EINVAL,
			"--run-as: '%s' is the worker's own user: tasks could rewrite the spool "
			"(--allow-shared-user to allow it)",
			user);
		goto done;
	}
	if (cfg->run_uid_first > 0 &&
	    cfg->run_uid_last - cfg->run_uid_first + 1 < (unsigned int)cfg->max_workers) {
		err_set(errp, FS_EINVAL,
			"--run-uid-range: %u uids for --max-workers %d: every run needs its own",
			cfg->run_uid_last - cfg->run_uid_first + 1, cfg->max_workers);
		goto done;
	}
	if (cfg->run_uid_first > 0 && geteuid() >= cfg->run_uid_first &&
	    geteuid() <= cfg->run_uid_last) {
		err_set(errp, FS_EINVAL, "--run-uid-range: %u-%u holds the worker's own uid %u",
			cfg->run_uid_first, cfg->run_uid_last, (unsigned int)geteuid());
		goto done;
	}
	/* the user's supplementary groups, as a login would have them; none but the run group's
	 * own survive from the worker */
	(void)getgrouplist(pw->pw_name, ra->gid, NULL, &n);
	if (n > 0) {
		ra->groups = xcalloc((size_t)n, sizeof(*ra->groups));
		if (getgrouplist(pw->pw_name, ra->gid, ra->groups, &n) < 0)
			n = 0;
	}
	ra->ngroups = (size_t)n;
	rc = 0;
done:
	free(user);
	return rc;
}

void runas_free(struct runas *ra)
{
	free(ra->groups);
	free(ra->name);
	memset(ra, 0, sizeof(*ra));
}
