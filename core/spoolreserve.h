/* SPDX-License-Identifier: Apache-2.0 */
/* The spool's reserve: a file of real blocks (<spool>/reserve) kept so that the database can
 * still record the claims and outcomes of work already accepted when tasks have filled the
 * spool's filesystem. A write that fails for lack of space gives it back and is tried once more
 * (core/spool.c); it is remade once free space is back above --min-free-space. The responder
 * refuses new submits below that threshold (core/diskfree.h), which is well above the reserve,
 * so only accepted work ever uses it. */
#ifndef FS_SPOOLRESERVE_H
#define FS_SPOOLRESERVE_H

#define SPOOLRESERVE_BYTES (8LL * 1024 * 1024)

/* Makes the reserve at path (SPOOLRESERVE_BYTES allocated, not sparse) unless a whole one is
 * there. 0 when it is there; FS_EIO with *errp (new text the caller frees) when it could not be
 * made, leaving nothing behind. Safe against another process making it at the same time. */
int spoolreserve_make(const char *path, char **errp);

/* Removes the reserve at path: 1 when there was one (its space is free now), else 0. */
int spoolreserve_release(const char *path);

/* Remakes a missing (or partial) reserve at path when its filesystem has at least min_free bytes
 * available besides it (and never less than twice its size). 1 when it was remade, 0 when nothing was
 * done or it could not be made (then a later call tries again). */
int spoolreserve_restore(const char *path, long long min_free);

#endif
