/* SPDX-License-Identifier: Apache-2.0 */
/* The state of one `factotum run`: the job, its tasks and their outcomes. The scheduler owns and
 * updates it; the webhook module reads it (on the scheduler's thread) to build event payloads. */
#ifndef FS_RUN_H
#define FS_RUN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "factargs.h"
#include "factfile.h"
#include "jobid.h"
#include "xalloc.h"

/* Task states, as webhook payloads name them. */
enum task_state {
	TASK_WAITING,
	TASK_RUNNING,
	TASK_SUCCEEDED,
	TASK_SUCCEEDED_NO_OP,
	TASK_FAILED,
	TASK_SKIPPED,
};

/* Job (run) states. */
enum job_state {
	JOB_WAITING,
	JOB_RUNNING,
	JOB_SUCCEEDED,
	JOB_FAILED,
};

struct run_task {
	const struct factfile_task *def; /* borrowed from run->ff */
	enum task_state state;
	int started;                /* 1 once the task was started (or planned, in a dry run) */
	struct timespec start_real; /* CLOCK_REALTIME at start: the `started` timestamp */
	struct timespec start_mono; /* CLOCK_MONOTONIC at start */
	struct timespec end_mono;   /* CLOCK_MONOTONIC at finish (valid when finished) */
	int finished;               /* 1 once the task ended (any outcome but SKIPPED) */
	int has_return_code;        /* 1 when return_code is known */
	int return_code;            /* death by a signal counts as 1, as in Factotum */
	struct buf out;      /* captured stdout; the scheduler keeps at most a bounded tail */
	struct buf err;      /* captured stderr, likewise */
	char *error_message; /* Factotum's words, e.g. "the task exited with a value not
	                               specified in continue_job - 1 (task expects one of the
	                               following return codes to continue [0])", or a SKIPPED task's
	                               reason ("the task 'x' failed"); NULL when none; owned */
	int excluded;        /* 1 when --start leaves the task out of this run: webhook
	                               payloads omit it, as Factotum's snapshot holds only the
	                               tasks it planned */
};

struct run {
	const struct factfile *ff;   /* borrowed */
	const struct factargs *fa;   /* borrowed */
	char job_ref[JOBID_LEN + 1]; /* the job id (core/jobid) */
	char run_ref[65];            /* random, 64 lowercase hex */
	struct timespec start_real;  /* CLOCK_REALTIME when the run began */
	struct timespec start_mono;
	enum job_state state;
	struct run_task *tasks; /* same order as ff->tasks; n_tasks entries */
	size_t n_tasks;
	size_t *order; /* the planned tasks (indices into tasks) in Factotum's plan
	                                order, which webhook task states follow; n_order entries */
	size_t n_order;
};

/* One task transition inside a task_update event. */
struct task_transition {
	size_t task; /* index into run->tasks */
	enum task_state previous;
	enum task_state current;
};

/* Sets run up for ff and fa (both borrowed for run's lifetime): every task WAITING, those not in
 * plan[0..n_plan) (the --start subtree) excluded; job_ref from ff->compact and fa->tags, a random
 * run_ref, the start times. Free with run_free. */
void run_init(struct run *run, const struct factfile *ff, const struct factargs *fa,
	      const size_t *plan, size_t n_plan);
void run_free(struct run *run);

#endif
