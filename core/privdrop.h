/* SPDX-License-Identifier: Apache-2.0 */
/* The service user: a program started as root opens what needs root (the spool's ownership, the
 * responder's socket and its directory), then becomes the service user (--user) for good, keeping
 * at most the capabilities it names. Started as another user, nothing here changes anything:
 * that user runs the program as it is. --allow-root keeps root (no change of user). */
#ifndef FS_PRIVDROP_H
#define FS_PRIVDROP_H

#include <stdint.h>
#include <sys/types.h>

#include "config.h"

/* Capability bits for privdrop_apply's keep mask (1 << CAP_x of <linux/capability.h>). */
#define PRIVDROP_CAP(c) ((uint64_t)1 << (c))

struct privdrop {
	int active; /* 1: started as root without --allow-root, the service user is uid/gid */
	uid_t uid;
	gid_t gid;
	char *name; /* the service user's name when active, else NULL; freed by privdrop_free */
};

/* Fills *pd from cfg->user. Not root, or root with --allow-root: pd->active is 0. Root and the
 * user does not exist: FS_ENOENT with one line saying the ways out (create it, --user, or
 * --allow-root); the program exits 2. Free with privdrop_free whatever the result. */
int privdrop_resolve(const struct config *cfg, struct privdrop *pd, char **errp);

/* When pd is active: the spool directory becomes the service user's, mode 0750; a spool that
 * belonged to someone else (made by root before) is handed over as a whole -- every entry below
 * it chowned to the service user and stripped of the permissions of others -- except
 * <spool>/nginx, the launcher's nginx configuration, which stays root's. Does nothing when pd is
 * not active. 0, or FS_EIO with *errp set. */
int privdrop_own_spool(const struct privdrop *pd, const char *spool, char **errp);

/* When pd is active: drops the other groups, sets the service user's groups, gid and uid (real,
 * effective and saved) and leaves exactly the capabilities in keep (PRIVDROP_CAP bits) in the
 * permitted and effective sets, none inheritable, none outside keep in the bounding set. With
 * no_new_privs set, no later execve gains privileges (setuid bits, file capabilities). Does
 * nothing when pd is not active. 0, or FS_EIO with *errp set (the program must stop). */
int privdrop_apply(const struct privdrop *pd, uint64_t keep, int no_new_privs, char **errp);

/* Empties the process's permitted and effective capability sets (whoever it runs as): for a
 * process of a program that needs none of the capabilities the program kept. 0, or -1 with
 * errno. */
int privdrop_caps_clear(void);

void privdrop_free(struct privdrop *pd);

#endif
