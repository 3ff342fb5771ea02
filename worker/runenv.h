/* SPDX-License-Identifier: Apache-2.0 */
/* The runner's whole environment, built afresh for each run: nothing of the worker's own
 * environment (CONSUL_HTTP_TOKEN, the service's settings) reaches a run unless named by
 * --pass-env. In this order: PATH (--run-path), HOME (the run's working directory), USER and
 * LOGNAME (the run user), LANG and LC_ALL (C.UTF-8), then each --pass-env NAME that the worker's
 * environment holds, with its value there. */
#ifndef FS_RUNENV_H
#define FS_RUNENV_H

#include "config.h"

/* The NULL-terminated environment for a run whose working directory is home and whose user is
 * user (both only read). New memory, freed with runcmd_free (runcmd.h). */
char **runenv_build(const struct config *cfg, const char *home, const char *user);

#endif
