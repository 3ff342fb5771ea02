/* SPDX-License-Identifier: Apache-2.0 */
/* What a process that claimed a job key in Consul leaves in the spool for the worker when it
 * cannot settle the claim itself (doc/consul.md): an undo Consul did not take, and a claim txn
 * that got no answer. Shared by /submit's claim and a schedule slot's (schedconsul.h). */
#ifndef FS_CLAIMUNDO_H
#define FS_CLAIMUNDO_H

#include <stdint.h>

struct spool;

/* At most this many abandoned claims wait (the worker drops each after a while): a long Consul
 * outage under load must not grow the spool; a claim not recorded then holds its id until the
 * node's session ends. */
#define CLAIMUNDO_ABANDONED_MAX 1024

/* The claim of key (job id) made at index with session over prev (the entry it replaced as
 * text, NULL when the key was new), whose undo could not be written: the setting
 * SETTINGS_UNDO_PREFIX<id> holds {"key":..,"index":n,"session":..,"value":<prev or null>}, and
 * the worker retries it. 0 or the spool's failure. */
int claimundo_keep(struct spool *sp, const char *id, const char *key, int64_t index,
		   const char *session, const char *prev, char **errp);

/* Claim number claim of process (pid, start) on key, over prev (NULL: a new key), whose txn
 * got no answer: it may still be applied, the key then QUEUED and locked by this node with no
 * job behind it. Recorded as SETTINGS_ABANDONED_PREFIX<pid>.<start>.<claim> for the worker, which
 * undoes it once Consul shows it. 0 (also when CLAIMUNDO_ABANDONED_MAX wait already: logged, not
 * recorded) or the spool's failure. */
int claimundo_abandon(struct spool *sp, const char *key, long long claim, long long pid,
		      unsigned long long start, const char *prev, char **errp);

#endif
