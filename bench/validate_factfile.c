/* SPDX-License-Identifier: Apache-2.0 */
/* The in-process /submit validation of bench/validate.sh: calls jobreq_validate on one factfile
 * REPS times, as the responder does for a /submit (no --factfile-root), and prints the median
 * CPU time of one validation (the thread's: on a shared machine wall time mostly measures the
 * other processes). The graph rules are the bundled runner's, or with --factotum-rules
 * those the responder applies for any other --factotum-bin. Without --cached every call reads and
 * parses the file (the work of a first submission); with --cached the calls share a validation
 * cache (the work of a resubmission, such as one answered 409).
 *
 *     validate_factfile [--factotum-rules] [--cached] FACTFILE REPS [FACTFILE-ARG...]
 *
 * Prints one line: BENCH ns=<median CPU nanoseconds per validation> id=<job id> */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jobreq.h"
#include "xalloc.h"

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	struct jobreq_policy policy;
	struct job_request req;
	long long *ns;
	char *err = NULL;
	int cached = 0, factotum = 0, reps, a = 1;

	if (argc > a && strcmp(argv[a], "--factotum-rules") == 0) {
		factotum = 1;
		a++;
	}
	if (argc > a && strcmp(argv[a], "--cached") == 0) {
		cached = 1;
		a++;
	}
	if (argc - a < 2 || (reps = atoi(argv[a + 1])) < 1) {
		fprintf(stderr,
			"usage: validate_factfile [--factotum-rules] [--cached] FACTFILE REPS "
			"[ARG...]\n");
		return 2;
	}
	memset(&policy, 0, sizeof policy);
	policy.rules = factotum ? FACTFILE_RULES_FACTOTUM : FACTFILE_RULES_OURS;
	policy.cache = cached ? jobreq_cache_new() : NULL;
	memset(&req, 0, sizeof req);
	req.job_name = xstrdup("bench");
	req.factfile_path = xstrdup(argv[a]);
	req.n_args = (size_t)(argc - a - 2);
	req.args = xcalloc(req.n_args + 1, sizeof *req.args);
	for (size_t i = 0; i < req.n_args; i++)
		req.args[i] = xstrdup(argv[a + 2 + (int)i]);
	req.args_json = xstrdup("[]");
	ns = xcalloc((size_t)reps, sizeof *ns);
	for (int i = 0; i < reps; i++) {
		long long t0 = now_ns();

		if (jobreq_validate(&req, &policy, &err) != 0) {
			fprintf(stderr, "validate_factfile: %s\n", err);
			return 1;
		}
		ns[i] = now_ns() - t0;
	}
	qsort(ns, (size_t)reps, sizeof *ns, cmp_ll);
	printf("BENCH ns=%lld id=%s\n", ns[reps / 2], req.id);
	free(ns);
	jobreq_free(&req);
	jobreq_cache_free(policy.cache);
	return 0;
}
