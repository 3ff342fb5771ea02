/* SPDX-License-Identifier: Apache-2.0 */
/* Who a run runs as: --run-as USER[:GROUP] resolved once, at the worker's start. A worker that
 * may switch users (root, or CAP_SETUID and CAP_SETGID) starts every runner as the run user and
 * group with that user's supplementary groups; one that may not runs them as itself, whatever
 * --run-as says (an unprivileged worker has no one else to be). */
#ifndef FS_RUNAS_H
#define FS_RUNAS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"

struct runas {
	int active; /* 1: the runner switches to uid/gid/groups; 0: it stays the worker's */
	uid_t uid;
	gid_t gid;
	gid_t *groups; /* the run user's supplementary groups (owned), NULL when none */
	size_t ngroups;
	char *name; /* USER and LOGNAME of runs (owned): the run user, or the worker's own */
	/* the capabilities of the bounding set the runner drops: those it holds, when this process
	 * has CAP_SETPCAP (root); none without it, since no drop could succeed (no_new_privs and
	 * a non-root uid leave the runner without capabilities all the same) */
	uint64_t bound_drop;
};

/* Resolves cfg->run_as into *ra. FS_EINVAL with *errp one line (the worker exits 2) when the
 * worker may switch and the user or group does not exist, or names root without
 * --allow-root-runs, or the worker's own user without --allow-shared-user. *ra is freed with
 * runas_free whatever the result; *errp is new text the caller frees. With --run-uid-range, also
 * when the worker may not switch, the range holds its own uid, or it has fewer uids than
 * --max-workers (each run takes its own: dispatch.c picks it, ra->uid stays the run user's). */
int runas_resolve(const struct config *cfg, struct runas *ra, char **errp);

/* Frees what ra owns; ra may then be resolved again. */
void runas_free(struct runas *ra);

#endif
