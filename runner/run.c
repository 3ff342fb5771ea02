/* SPDX-License-Identifier: Apache-2.0 */
/* The run's state: setting up and freeing a run. */
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

/* 32 random bytes as 64 hex digits: getrandom, or /dev/urandom if the kernel lacks it. */
static void run_random_ref(char out[65])
{
	unsigned char r[32];
	size_t got = 0;

	while (got < sizeof r) {
		ssize_t n = getrandom(r + got, sizeof r - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got < sizeof r) {
		int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
		while (fd >= 0 && got < sizeof r) {
			ssize_t n = read(fd, r + got, sizeof r - got);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			got += (size_t)n;
		}
		if (fd >= 0)
			close(fd);
	}
	if (got < sizeof r)
		abort(); /* no randomness at all: nothing sensible to go on with */
	for (size_t i = 0; i < sizeof r; i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
}

void run_init(struct run *run, const struct factfile *ff, const struct factargs *fa,
	      const size_t *plan, size_t n_plan)
{
	memset(run, 0, sizeof *run);
	run->ff = ff;
	run->fa = fa;
	jobid_compute(ff->compact, ff->compact_len, &fa->tags, run->job_ref);
	run_random_ref(run->run_ref);
	clock_gettime(CLOCK_REALTIME, &run->start_real);
	clock_gettime(CLOCK_MONOTONIC, &run->start_mono);
	run->state = JOB_WAITING;
	run->n_tasks = ff->n_tasks;
	run->tasks = xcalloc(ff->n_tasks + 1, sizeof *run->tasks);
	for (size_t i = 0; i < ff->n_tasks; i++) {
		run->tasks[i].def = &ff->tasks[i];
		run->tasks[i].state = TASK_WAITING;
		run->tasks[i].excluded = 1;
		buf_init(&run->tasks[i].out);
		buf_init(&run->tasks[i].err);
	}
	run->order = xcalloc(n_plan + 1, sizeof *run->order);
	for (size_t k = 0; k < n_plan; k++) {
		run->tasks[plan[k]].excluded = 0;
		run->order[k] = plan[k];
	}
	run->n_order = n_plan;
}

void run_free(struct run *run)
{
	for (size_t i = 0; i < run->n_tasks; i++) {
		buf_free(&run->tasks[i].out);
		buf_free(&run->tasks[i].err);
		free(run->tasks[i].error_message);
	}
	free(run->tasks);
	free(run->order);
	memset(run, 0, sizeof *run);
}
