/* SPDX-License-Identifier: Apache-2.0 */
/* The next-due queue of bench/schedq.sh: N schedules (the same ten cron expressions, N/10 times
 * each under distinct names, so every N fires the same mix), each queued at its next slot; then
 * FIRES times what the worker does to find its next due slot: peek at the earliest slot (the
 * clock is moved to it), compute that schedule's following slot with cron_next and set it (one
 * sift down the heap). Prints, for each of REPS runs, the CPU time (the thread's: on a shared
 * machine wall time mostly measures the other processes) of one such step, and of the queue's part
 * alone (the following slot a fixed period on, no cron_next).
 *
 *     schedq_bench N FIRES REPS
 *
 * Prints REPS lines: BENCH fire_ns=<ns per step> queue_ns=<ns per step, queue only> */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cron.h"
#include "schedq.h"
#include "tzinfo.h"

static const char *const bench_exprs[10] = {
	"*/2 * * * * *",        "*/5 * * * * *", "7 * * * * *",  "0 */15 * * * *", "30 0 * * * *",
	"0 0 9-17 * * MON-FRI", "15 45 1 * * *", "*/10 * * * *", "0 2 13 * FRI",   "5 4 * * SUN",
};
static const int64_t bench_period[10] = { 2, 5, 60, 900, 3600, 3600, 86400, 600, 86400, 604800 };

static long long cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* One run: nanoseconds per step; with_cron 0 puts the following slot a fixed period on. */
static long long bench_run(struct cron **c, const struct tzinfo *tz, int n, int fires,
			   int with_cron)
{
	struct schedq *q = schedq_new((size_t)n);
	int64_t start = 1806000000; /* 2027-03-25, three days before London's spring forward */
	long long t0, t1;
	char name[32];

	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof name, "schedule-%d", i);
		schedq_set(q, name, cron_next(c[i % 10], tz, start));
	}
	t0 = cpu_ns();
	for (int f = 0; f < fires; f++) {
		const char *due;
		int64_t slot, next;
		int k;

		if (schedq_peek(q, &due, &slot) != 0)
			abort();
		k = atoi(due + 9) % 10;
		next = with_cron ? cron_next(c[k], tz, slot) : slot + bench_period[k];
		/* due stays valid: the queue keeps its names until schedq_free */
		schedq_set(q, due, next);
	}
	t1 = cpu_ns();
	schedq_free(q);
	return (t1 - t0) / fires;
}

int main(int argc, char **argv)
{
	struct cron *c[10];
	struct tzinfo *tz;
	char *err = NULL;
	int n, fires, reps;

	if (argc != 4 || (n = atoi(argv[1])) < 10 || (fires = atoi(argv[2])) < 1 ||
	    (reps = atoi(argv[3])) < 1) {
		fprintf(stderr, "usage: schedq_bench N FIRES REPS   (N >= 10)\n");
		return 2;
	}
	if (tzinfo_load("Europe/London", &tz, &err) != 0) {
		fprintf(stderr, "schedq_bench: %s\n", err);
		return 1;
	}
	for (int i = 0; i < 10; i++) {
		if (cron_parse(bench_exprs[i], &c[i], &err) != 0) {
			fprintf(stderr, "schedq_bench: %s\n", err);
			return 1;
		}
	}
	for (int r = 0; r < reps; r++) {
		long long fire = bench_run(c, tz, n, fires, 1);

		printf("BENCH fire_ns=%lld queue_ns=%lld\n", fire, bench_run(c, tz, n, fires, 0));
	}
	for (int i = 0; i < 10; i++)
		cron_free(c[i]);
	tzinfo_free(tz);
	return 0;
}
