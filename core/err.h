/* SPDX-License-Identifier: Apache-2.0 */
/* Error codes of core (kcgi's model): functions return 0 or a negative FS_E* code, and put the
 * user-facing text in a caller-provided `char **errp` (a new string the caller frees). */
#ifndef FS_ERR_H
#define FS_ERR_H

enum fs_err {
	FS_OK = 0,
	FS_EINVAL = -1,  /* bad input: the message says what */
	FS_EIO = -2,     /* a file or database could not be read or written */
	FS_ENOENT = -3,  /* not found */
	FS_EEXIST = -4,  /* already present (dedupe) */
	FS_EFULL = -5,   /* a capacity bound was reached */
	FS_EBUSY = -6,   /* locked by someone else for too long */
	FS_ESTATE = -7,  /* refused in the current state (drain, wrong job state) */
	FS_EQUOTA = -8,  /* a per-user bound was reached */
	FS_EDENIED = -9, /* refused by an access control (a Consul ACL) */
};

/* If errp is not NULL, replaces *errp (freeing any old text) with the formatted message. Returns
 * code, so `return err_set(errp, FS_EINVAL, "...")` reads naturally. */
int err_set(char **errp, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
