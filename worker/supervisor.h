/* SPDX-License-Identifier: Apache-2.0 */
/* The per-run supervisor: a small process, forked from the worker, that outlives it (own
 * session), starts the runner, captures its output into the capped log, enforces the timeout,
 * stops the run on request, and writes the exit status durably (outcome.h) before it exits.
 *
 * Signals it takes: SIGUSR1 = cancel (reason "cancelled"); SIGTERM/SIGINT = stop (reason
 * "terminated"). Stopping is SIGTERM to the runner's process group, then, after the grace
 * period, SIGKILL to the group and to every process left in the runner's session (the bundled
 * runner puts each task in its own group). Once the runner has ended, whatever it left behind
 * -- every process reparented to the supervisor, a child subreaper -- gets SIGTERM, SIGKILL after
 * the grace period, and is reaped before the status is written. */
#ifndef FS_SUPERVISOR_H
#define FS_SUPERVISOR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "runas.h"

#define SUPERVISOR_GRACE_MS  5000
/* The grace period's override (milliseconds), for tests. */
#define SUPERVISOR_GRACE_ENV "FACTOTUM_SERVER_KILL_GRACE_MS"

/* Everything the supervisor needs; only read, and only before supervisor_spawn returns (the
 * child has its own copy). */
struct supervisor_args {
	const char *id;
	int64_t run;               /* the run's token (outcome.h) */
	int go_slot;               /* the go slot lent to the run (outcome.h) */
	char *const *argv;         /* the runner's argv (runcmd.h); argv[0] is the path executed */
	char *const *envp;         /* the runner's whole environment (runenv.h) */
	const struct runas *runas; /* its user (runas.h); its directory is chowned to it */
	int max_processes;         /* its rlimits (runstart.h), 0 = left as they are */
	long long max_memory;
	int max_open_files;
	const char *run_dir;    /* the runner's working directory (created afresh) */
	const char *log_path;   /* the capped log, created or truncated */
	const char *status_dir; /* where the pid and status files and go slots are (outcome.h) */
	int timeout_s;          /* 0 = none */
	int grace_ms;
	size_t log_max;
	int durable;                /* fsync the status (--spool-sync full) */
	int lockfd;                 /* the worker's lock (-1 none): held until the go byte */
	const char *spare_pid;      /* spare files (spares.h) for the pid */
	const char *spare_status;   /* and status files, or NULL */
	const char *spare_dir;      /* a spare directory for run_dir, or NULL */
	const char *next_spare_dir; /* one to make for a later run once the runner runs, or NULL */
	int keep_run_dir; /* --keep-run-dirs: else run_dir is removed once the status is written */
};

/* Forks the supervisor. It prepares the run at once -- the run directory (emptied of an earlier
 * run's files), its pid file <id>.pid in status_dir, the capture pipe -- holding the worker's
 * lock meanwhile, but starts nothing until it reads one byte from the pipe whose write end is
 * *gofdp, and nothing at all unless its pid file was written and its go slot opened
 * (outcome.h); on the go byte it writes its went mark and starts the runner only once that is
 * written (else the run fails with reason spawn-failed, nothing started); the log is opened once
 * the runner has started, off the path to its exec. The caller writes the run's go record and
 * then the byte once it watches the supervisor, or closes the pipe unwritten to abandon the run
 * (the supervisor then exits having started nothing, leaving at most its pid file and an empty
 * run directory). Returns 0 with *pidp the supervisor (the caller's child) and *gofdp (the
 * caller closes it), or -1 with errno. */
int supervisor_spawn(const struct supervisor_args *a, pid_t *pidp, int *gofdp);

#endif
