/* SPDX-License-Identifier: Apache-2.0 */
/* A load client for gearmand, the peer of bench/submit.sh: CONNS threads, each with its own
 * libgearman client (one connection) and one request in flight (the same concurrency as wrk's
 * CONNS connections), submit background jobs for SECONDS and count the accepted ones. Each job
 * has a distinct unique key and a /submit body with a distinct tag as its workload, so every job
 * is a different one and gearmand stores each in its persistent queue before it answers.
 *
 *     gearman_submit HOST PORT CONNS SECONDS FACTFILE
 *
 * Answers that arrive after SECONDS are not counted (as wrk does). Prints:
 *     BENCH ok=<accepted> other=<failed> seconds=<SECONDS> */
#include <libgearman-1.0/gearman.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen.h"

static pthread_mutex_t err_mu = PTHREAD_MUTEX_INITIALIZER;
static char first_err[256]; /* the first failure's message, for stderr */

static void note_error(gearman_client_st *gc)
{
	pthread_mutex_lock(&err_mu);
	if (first_err[0] == '\0')
		snprintf(first_err, sizeof(first_err), "%s",
			 gc != NULL ? gearman_client_error(gc) : "cannot create a client");
	pthread_mutex_unlock(&err_mu);
}

static void *client(void *arg)
{
	struct counts *c = arg;
	gearman_client_st *gc = gearman_client_create(NULL);
	gearman_job_handle_t handle;
	char body[1024], unique[64];
	int blen, up = 0;
	long seq = 0;

	if (gc != NULL &&
	    gearman_client_add_server(gc, loadgen_host, (in_port_t)atoi(loadgen_port)) ==
		    GEARMAN_SUCCESS) {
		gearman_client_set_timeout(gc, 10000);
		/* connects before the clock starts; this job is not counted */
		snprintf(unique, sizeof(unique), "warm-%d", c->id);
		up = gearman_client_do_background(gc, "factotum", unique, "{}", 2, handle) ==
		     GEARMAN_SUCCESS;
	}
	loadgen_start();
	if (!up) {
		note_error(gc);
		c->other++;
		goto out;
	}
	while (loadgen_running()) {
		seq++;
		blen = snprintf(body, sizeof(body),
				"{\"jobName\":\"bench\",\"factfilePath\":\"%s\","
				"\"factfileArgs\":[\"--tag\",\"bench,g%d-%ld\"]}",
				loadgen_factfile, c->id, seq);
		snprintf(unique, sizeof(unique), "g%d-%ld", c->id, seq);
		if (gearman_client_do_background(gc, "factotum", unique, body, (size_t)blen,
						 handle) == GEARMAN_SUCCESS) {
			if (loadgen_running()) /* as wrk: only answers within the time */
				c->ok++;
		} else {
			note_error(gc);
			c->other++;
		}
	}
out:
	if (gc != NULL)
		gearman_client_free(gc);
	return NULL;
}

int main(int argc, char **argv)
{
	long other = 0;
	int status = loadgen_main(argc, argv, "gearman_submit", client, &other);

	if (first_err[0] != '\0')
		fprintf(stderr, "gearman_submit: %ld failed, the first: %s\n", other, first_err);
	return status;
}
