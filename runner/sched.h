/* SPDX-License-Identifier: Apache-2.0 */
/* The DAG scheduler: one event loop that starts each task the moment all its dependencies have
 * succeeded, streams task output, applies onResult, reports transitions to the webhook sender,
 * sends heartbeats, and handles SIGTERM/SIGINT. */
#ifndef FS_SCHED_H
#define FS_SCHED_H

#include <stddef.h>

#include "output.h"
#include "run.h"
#include "webhook.h"

struct sched_opts {
	long max_parallel; /* most tasks running at once; 0 for no limit */
	long heartbeat_s; /* with a webhook: RUNNING->RUNNING updates every this many seconds; 0 none */
	long grace_ms;  /* after a shutdown signal: SIGTERM, then SIGKILL this much later */
	size_t capture; /* bytes of each task's output tail kept in run->tasks[i].out/err (for
	                       webhooks); 0 keeps none */
};

/* Runs the tasks plan[0..n_plan) of run (plan order: Factotum's, used for starting order among
 * ready tasks and for listing transitions). sigfd is a non-blocking signalfd for SIGCHLD, SIGTERM
 * and SIGINT, which the caller keeps blocked. Moves run->state to JOB_RUNNING (after starting the
 * first tasks, as Factotum does) and sends the job WAITING->RUNNING event; the caller sends the
 * first and the last job events. wh may be NULL. Returns 1 if a shutdown signal stopped the run,
 * else 0. */
int sched_run(struct run *run, const size_t *plan, size_t n_plan, const struct output *o,
	      struct webhook *wh, const struct sched_opts *opts, int sigfd);

/* --dry-run: plans the same tasks and prints, for each in plan order, its start line, a box with
 * the command it would run, and its success line; every task SUCCEEDED after 0 s. */
void sched_simulate(struct run *run, const size_t *plan, size_t n_plan, const struct output *o);

#endif
