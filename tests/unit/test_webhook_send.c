/* SPDX-License-Identifier: Apache-2.0 */
/* Driver for tests/integration/webhook_send.sh: plays a small failing run through
 * runner/webhook.c against the URL given, the way the scheduler would (job WAITING, job RUNNING,
 * task start, `beats` heartbeats carrying "beat <i>" as live stdout so that order can be checked,
 * a failure with a skip, job FAILED), then calls webhook_finish and prints
 *   given_up=<n> finish_ms=<ms> enqueue_ms=<ms>
 * usage: test_webhook_send <url> <max_wait_ms> <beats> */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "factargs.h"
#include "factfile.h"
#include "jobid.h"
#include "webhook.h"
#include "xalloc.h"

#define FF_TEXT                                                                                   \
	"{\"schema\":\"iglu:com.snowplowanalytics.factotum/factfile/jsonschema/1-0-0\",\n"        \
	" \"data\":{\"name\":\"send {{tag:env}}\",\"tasks\":[\n"                                  \
	"  {\"name\":\"a\",\"executor\":\"shell\",\"command\":\"echo\",\"arguments\":[\"x\"],"    \
	"\"dependsOn\":[],\"onResult\":{\"terminateJobWithSuccess\":[3],\"continueJob\":[0]}},\n" \
	"  {\"name\":\"b \\u00e9\",\"executor\":\"shell\",\"command\":\"echo\",\"arguments\":[]," \
	"\"dependsOn\":[\"a\"],\"onResult\":{\"terminateJobWithSuccess\":[],\"continueJob\":[0]}}]}}"

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long)((t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000);
}

int main(int argc, char **argv)
{
	char *const targs[] = {
		"--tag", "env,test", "--tag", "Team,\xce\xb1\"\\", "--heartbeat-interval", "1", NULL
	};
	struct factargs fa;
	struct factfile ff;
	struct run run;
	struct run_task tasks[2];
	size_t order[2] = { 0, 1 };
	struct task_transition tr[2];
	struct webhook *wh;
	struct timespec t0;
	char *err = NULL;
	long enqueue_ms, finish_ms;
	size_t given_up;
	int i, beats;

	if (argc != 4) {
		fprintf(stderr, "usage: %s <url> <max_wait_ms> <beats>\n", argv[0]);
		return 2;
	}
	beats = atoi(argv[3]);
	if (factargs_parse(6, targs, &fa, &err) != 0 ||
	    factfile_parse(FF_TEXT, strlen(FF_TEXT), "send.factfile", &fa.vars, FACTFILE_RULES_OURS,
			   &ff, &err) != 0) {
		fprintf(stderr, "test_webhook_send: %s\n", err);
		return 2;
	}
	memset(&run, 0, sizeof(run));
	memset(tasks, 0, sizeof(tasks));
	run.ff = &ff;
	run.fa = &fa;
	jobid_compute(ff.compact, ff.compact_len, &fa.tags, run.job_ref);
	memset(run.run_ref, 'f', 64);
	clock_gettime(CLOCK_REALTIME, &run.start_real);
	clock_gettime(CLOCK_MONOTONIC, &run.start_mono);
	run.tasks = tasks;
	run.n_tasks = 2;
	run.order = order;
	run.n_order = 2;
	for (i = 0; i < 2; i++) {
		tasks[i].def = &ff.tasks[i];
		buf_init(&tasks[i].out);
		buf_init(&tasks[i].err);
	}

	wh = webhook_start(&argv[1], 1, 10000, &err);
	if (!wh) {
		fprintf(stderr, "test_webhook_send: %s\n", err);
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	webhook_job_update(wh, &run, -1);

	tasks[0].state = TASK_RUNNING;
	tasks[0].started = 1;
	clock_gettime(CLOCK_REALTIME, &tasks[0].start_real);
	clock_gettime(CLOCK_MONOTONIC, &tasks[0].start_mono);
	run.state = JOB_RUNNING;
	webhook_job_update(wh, &run, JOB_WAITING);
	tr[0] = (struct task_transition){ 0, TASK_WAITING, TASK_RUNNING };
	webhook_task_update(wh, &run, tr, 1);

	for (i = 0; i < beats; i++) {
		buf_free(&tasks[0].out);
		buf_printf(&tasks[0].out, "beat %d\n", i);
		tr[0] = (struct task_transition){ 0, TASK_RUNNING, TASK_RUNNING };
		webhook_task_update(wh, &run, tr, 1);
	}

	tasks[0].state = TASK_FAILED;
	tasks[0].finished = 1;
	tasks[0].has_return_code = 1;
	tasks[0].return_code = 1;
	clock_gettime(CLOCK_MONOTONIC, &tasks[0].end_mono);
	buf_free(&tasks[0].out);
	buf_puts(&tasks[0].out, "out \xe2\x82\xac\n");
	buf_puts(&tasks[0].err, "err \xff\n");
	tasks[0].error_message = xstrdup("the task exited with a value not specified in "
					 "continue_job - 1 (task expects one of the following "
					 "return codes to continue [0])");
	tasks[1].state = TASK_SKIPPED;
	tasks[1].error_message = xasprintf("the task '%s' failed", ff.tasks[0].name);
	tr[0] = (struct task_transition){ 0, TASK_RUNNING, TASK_FAILED };
	tr[1] = (struct task_transition){ 1, TASK_WAITING, TASK_SKIPPED };
	webhook_task_update(wh, &run, tr, 2);
	run.state = JOB_FAILED;
	webhook_job_update(wh, &run, JOB_RUNNING);
	enqueue_ms = ms_since(&t0);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	given_up = webhook_finish(wh, atol(argv[2]));
	finish_ms = ms_since(&t0);
	printf("given_up=%zu finish_ms=%ld enqueue_ms=%ld\n", given_up, finish_ms, enqueue_ms);

	for (i = 0; i < 2; i++) {
		buf_free(&tasks[i].out);
		buf_free(&tasks[i].err);
		free(tasks[i].error_message);
	}
	factfile_free(&ff);
	factargs_free(&fa);
	return 0;
}
