/* SPDX-License-Identifier: Apache-2.0 */
/* --run-root: where run directories are made, <spool>/runs unless given. A run root elsewhere
 * (on another filesystem, so that tasks filling it leave the spool room) gets what runs/ gets:
 * the service user's, the run user's group, 0710 (worker/main.c lets runs through it), and the
 * run user must be able to search every directory above it, or no run could reach its own. */
#ifndef FS_RUNROOT_H
#define FS_RUNROOT_H

#include "config.h"
#include "privdrop.h"
#include "runas.h"

/* 1 when cfg->run_root is not the default <spool>/runs. */
int runroot_given(const struct config *cfg);

/* Before the drop of privileges: creates a given run root that is missing (its parent must
 * exist) and, when pd is active, gives it to the service user. 0, or FS_EIO with *errp (new text
 * the caller frees) naming --run-root. Nothing to do for the default one (the spool's). */
int runroot_prepare(const struct config *cfg, const struct privdrop *pd, char **errp);

/* When runs switch to ra's user: FS_EINVAL with *errp naming the first directory above a given
 * run root that the run user (its uid, gid or supplementary groups, or any uid of --run-uid-range
 * through the group) cannot search. 0 otherwise, and always for the default run root. */
int runroot_check_reach(const struct config *cfg, const struct runas *ra, char **errp);

#endif
