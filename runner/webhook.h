/* SPDX-License-Identifier: Apache-2.0 */
/* Factotum webhooks (FACTOTUM.md §6): job_update and task_update events built from a run's state
 * and delivered in order by a background sender (libcurl) with timeouts and capped, jittered
 * exponential backoff. Calls are made from the scheduler's thread only. */
#ifndef FS_WEBHOOK_H
#define FS_WEBHOOK_H

#include <stddef.h>

#include "run.h"

struct webhook;

/* Starts a sender for url (http:// or https://, already validated). max_stdouterr_size is how
 * many characters (not bytes) of each task's stdout/stderr tail go into payloads. Returns NULL
 * and sets *errp if the sender cannot be started. Free with webhook_finish. */
struct webhook *webhook_start(const char *url, long max_stdouterr_size, char **errp);

/* Queues a job_update event for the run's current state; previous is the job state before this
 * transition, or -1 for none (the first event: null previousState). The payload is built now,
 * so later changes to run do not affect it. */
void webhook_job_update(struct webhook *wh, const struct run *run, int previous);

/* Queues a task_update event carrying the given transitions (n >= 1) and the run's task states. */
void webhook_task_update(struct webhook *wh, const struct run *run,
			 const struct task_transition *transitions, size_t n);

/* Waits up to max_wait_ms for every queued event to be delivered or given up, stops the sender
 * and frees wh. Returns how many events were given up (the caller prints a warning if > 0). */
size_t webhook_finish(struct webhook *wh, long max_wait_ms);

/* Builds one event's compact JSON (exposed for unit tests): kind is "job_update" or
 * "task_update". Returns a new string the caller frees. */
char *webhook_event_json(const struct run *run, const char *kind, int previous_job_state,
			 const struct task_transition *transitions, size_t n,
			 long max_stdouterr_size);

#endif
