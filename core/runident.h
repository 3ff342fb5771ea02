/* SPDX-License-Identifier: Apache-2.0 */
/* The identity the worker's runs have, as the worker publishes it in the spool's settings
 * (SETTINGS_WORKER_RUNAS) and the responder reads it back, and whether that identity may read a
 * file: computed from the mode bits, owner and group of each path component with stat(2), so the
 * responder can answer for the run user without becoming it. POSIX ACLs are not consulted. */
#ifndef FS_RUNIDENT_H
#define FS_RUNIDENT_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* The published text: "self" when runs keep the worker's own identity (no check is needed: the
 * responder and the worker are one user then), else "<uid>:<gid>:<g1,g2,...>:<name>", where uid
 * is "*" when each run takes its own uid from --run-uid-range (a uid that owns nothing). */
#define RUNIDENT_SELF "self"

struct runident {
	int any_uid; /* 1: the uid is one of --run-uid-range, never a file's owner */
	uid_t uid;   /* when !any_uid */
	gid_t gid;
	gid_t *groups; /* supplementary groups (owned), NULL when none */
	size_t ngroups;
	char *name; /* the run user's name (owned), for messages */
};

/* The published text of an identity; a new string the caller frees. */
char *runident_format(const struct runident *ri);

/* Parses text (as runident_format writes it). Returns 0 with *ri filled (free with
 * runident_free), 1 for RUNIDENT_SELF (*ri untouched), or FS_EINVAL with *errp (if errp) set. */
int runident_parse(const char *text, struct runident *ri, char **errp);

void runident_free(struct runident *ri);

/* Whether ri has the access in want (R_OK, X_OK or both, from <unistd.h>) to a file with st's
 * mode, owner and group, as the kernel decides without ACLs: the owner's bits when ri owns it,
 * else the group's when its group is ri's group or one of its supplementary groups, else the
 * others'. uid 0 (a run as root, which keeps its capabilities) may always read and search. */
int runident_allows(const struct runident *ri, const struct stat *st, int want);

/* 1 when ri can reach and read path (an absolute path): search on every directory leading to
 * it and read on the file itself, following symlinks as the kernel does; 0 when it cannot; a
 * path that cannot be examined (gone meanwhile) is left to the callers' later checks (1).
 * final: path's own lstat(2) when the caller has it, NULL otherwise (one syscall more). */
int runident_can_read(const struct runident *ri, const char *path, const struct stat *final);

#endif
