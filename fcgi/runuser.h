/* SPDX-License-Identifier: Apache-2.0 */
/* The run identity the worker published (SETTINGS_WORKER_RUNAS), as /submit checks factfiles
 * against it: read from the spool at most once a second and shared by the responder's threads,
 * so that a submission costs no spool read for it. */
#ifndef FS_RUNUSER_H
#define FS_RUNUSER_H

#include "runident.h"

struct spool;
struct runuser;

/* A new cache reading sp (which must outlive it); free with runuser_free (NULL is allowed). */
struct runuser *runuser_new(struct spool *sp);
void runuser_free(struct runuser *ru);

/* The identity runs have now, or NULL when no check is needed: nothing published yet (no worker
 * has started on this spool) or runs keep the worker's own user ("self"), which is this
 * responder's too. A non-NULL result stays valid until the caller passes it to runuser_release,
 * whatever the worker publishes meanwhile. Thread-safe. */
const struct runident *runuser_acquire(struct runuser *ru);
void runuser_release(struct runuser *ru, const struct runident *ri);

#endif
