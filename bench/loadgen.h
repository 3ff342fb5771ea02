/* SPDX-License-Identifier: Apache-2.0 */
/* The harness of the peer load clients of bench/submit.sh (beanstalk_put, gearman_submit): their
 * common command line, CONNS client threads started together once every one has connected, the
 * time window, and the closing BENCH line. Each client counts its own answers; only those that
 * arrive within SECONDS count as ok, as wrk counts. */
#ifndef FS_BENCH_LOADGEN_H
#define FS_BENCH_LOADGEN_H

/* One client thread's state: id 0..CONNS-1, and its counts. */
struct counts {
	long ok, other;
	int id;
};

/* HOST, PORT and FACTFILE as given on the command line (argv strings). */
extern const char *loadgen_host, *loadgen_port, *loadgen_factfile;

/* Called by each client once it has connected (or failed to): returns when every client has
 * and the clock has started. */
void loadgen_start(void);

/* Whether the time window is still open. */
int loadgen_running(void);

/* Parses `NAME HOST PORT CONNS SECONDS FACTFILE` (usage on stderr and 2 when wrong), runs CONNS
 * threads of client (each given its struct counts), waits for them and prints
 * "BENCH ok=<n> other=<n> seconds=<SECONDS>". *otherp gets the failures for the caller's own
 * report. Returns the exit status. */
int loadgen_main(int argc, char **argv, const char *name, void *(*client)(void *), long *otherp);

#endif
