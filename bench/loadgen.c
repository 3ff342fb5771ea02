/* SPDX-License-Identifier: Apache-2.0 */
/* The load clients' harness (loadgen.h). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "loadgen.h"

const char *loadgen_host, *loadgen_port, *loadgen_factfile;
static double seconds, t_start;
static pthread_barrier_t ready;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void loadgen_start(void)
{
	pthread_barrier_wait(&ready); /* every connection is up */
	pthread_barrier_wait(&ready); /* t_start is set */
}

int loadgen_running(void)
{
	return now_s() - t_start < seconds;
}

int loadgen_main(int argc, char **argv, const char *name, void *(*client)(void *), long *otherp)
{
	pthread_t *ths;
	struct counts *cs;
	long ok = 0, other = 0;
	int i, n;

	if (argc != 6 || (n = atoi(argv[3])) < 1 || (seconds = atof(argv[4])) <= 0) {
		fprintf(stderr, "usage: %s HOST PORT CONNS SECONDS FACTFILE\n", name);
		return 2;
	}
	loadgen_host = argv[1];
	loadgen_port = argv[2];
	loadgen_factfile = argv[5];
	ths = calloc((size_t)n, sizeof(*ths));
	cs = calloc((size_t)n, sizeof(*cs));
	if (ths == NULL || cs == NULL)
		return 1;
	pthread_barrier_init(&ready, NULL, (unsigned)n + 1);
	for (i = 0; i < n; i++) {
		cs[i].id = i;
		if (pthread_create(&ths[i], NULL, client, &cs[i]) != 0)
			return 1;
	}
	pthread_barrier_wait(&ready);
	t_start = now_s();
	pthread_barrier_wait(&ready);
	for (i = 0; i < n; i++) {
		pthread_join(ths[i], NULL);
		ok += cs[i].ok;
		other += cs[i].other;
	}
	*otherp = other;
	printf("BENCH ok=%ld other=%ld seconds=%.3f\n", ok, other, seconds);
	free(ths);
	free(cs);
	return 0;
}
