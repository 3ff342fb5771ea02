/* SPDX-License-Identifier: Apache-2.0 */
/* The Factotum release whose behaviour the runner implements. It is what `factotum --version`
 * prints and what webhook events name in applicationContext, as Factotum reports its own crate
 * version in both places; the server's own version belongs to the server's programs. */
#ifndef FS_RUNNER_VERSION_H
#define FS_RUNNER_VERSION_H

#define RUNNER_FACTOTUM_VERSION "0.7.0"

#endif
