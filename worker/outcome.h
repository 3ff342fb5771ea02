/* SPDX-License-Identifier: Apache-2.0 */
/* How a run ended, kept where a restarted worker finds it: the supervisor writes
 * <spool>/runs/<id>.status (write + rename, never half-read; fsync'd with --spool-sync full)
 * before it exits, and the worker records it in the spool (spool_finish) whenever it next looks
 * -- at once, or after a restart. <spool>/runs/<id>.pid names the run's supervisor by (pid, start
 * time), so that a restarted worker can tell a live supervisor from a dead one whose pid was
 * reused.
 *
 * Durability. The pid file is never fsync'd: it only serves while the machine stays up (after a
 * machine crash no supervisor is left to find, and a missing or torn pid file reads as "gone",
 * which is then the truth). A process crash -- the worker's or the supervisor's -- loses nothing
 * either way: the page cache survives it. The status file follows --spool-sync: with full it is
 * fsync'd with its directory, as the spool's own commits are; with normal it is not, the same
 * trade the spool makes -- after a power loss a run that had ended may read as ended without a
 * status (FAILED, reason worker-lost) instead of with its exit code, just as the spool's last
 * commits may be rolled back; never as still running, never half-read.
 *
 * <spool>/runs/<id>.go is the go record: the supervisor writes it once it has the go byte, just
 * before it starts the runner, and never starts one without it. So a WORKING job with no status,
 * no live supervisor and no go record never reached its runner and may run again (it goes back
 * to the queue); with the record, the run may have begun and its outcome is unknown (FAILED
 * worker-lost or supervisor-lost). It is made (naming no run) while the supervisor prepares the
 * run and written in place on the go byte (a torn one names no run: it was torn before any runner
 * started); with --spool-sync full its name is fsync'd with the directory while the run is
 * prepared and the record is on the disk before the runner starts, so that it also outlives a
 * power loss; with normal a power loss may lose it, and a run that had begun may then run again.
 *
 * The three files carry the run's token, the started_ms of the claim that began it, so that a
 * file left by an earlier run of the same id is never taken for this run's. */
#ifndef FS_OUTCOME_H
#define FS_OUTCOME_H

#include <stdint.h>
#include <sys/types.h>

struct spares;
struct spool;

struct run_status {
	int64_t run;        /* the run's token */
	int exit_code;      /* -1 if none (killed by a signal, never started) */
	int exit_signal;    /* 0 if none */
	char reason[32];    /* "" or cancelled, timeout, runner-missing, ... */
	int64_t started_ms; /* the runner's start and end as the supervisor saw them */
	int64_t finished_ms;
};

struct run_pid {
	int64_t run;              /* the run's token */
	pid_t pid;                /* the supervisor */
	unsigned long long start; /* its start time (proc.h) */
};

/* Write <dir>/<id>.status atomically (temporary file, rename; never half-read), and, when
 * durable is set, with fsync of the file before the rename and of dir after it. The pid file is
 * written in place (a spare is renamed into place first), without fsync: the supervisor writes
 * it before it may start the run, holding the worker's lock, and nobody reads it before then, so
 * it is either whole or the run never began (a pid file that does not parse, or names another
 * run, reads as "no supervisor", which is then the truth). spare: a spare file's path (spares.h),
 * renamed onto the file before it is written, or NULL. 0, or -1 with errno. */
int outcome_status_write(const char *dir, const char *id, const struct run_status *st, int durable,
			 const char *spare);
int outcome_pid_write(const char *dir, const char *id, const struct run_pid *rp, const char *spare);
/* The go record, in two steps, so that only the second is on the path from the go byte to the
 * runner's exec. outcome_go_open makes <dir>/<id>.go name no run (spare as above) and, when
 * durable, fsyncs dir: its name survives a power loss before the record is written.
 * It returns the open descriptor (the caller closes it), or -1 with errno. outcome_go_write then
 * writes the run's token into it in place, with fdatasync when durable: 0, or -1 with errno. */
int outcome_go_open(const char *dir, const char *id, int durable, const char *spare);
int outcome_go_write(int fd, int64_t run, int durable);

/* Read them back: 0; FS_ENOENT when the file does not exist; FS_EINVAL when it does not parse
 * (a file is either the old one or the new one, so this means someone else wrote it). */
int outcome_status_read(const char *dir, const char *id, struct run_status *st);
int outcome_pid_read(const char *dir, const char *id, struct run_pid *rp);
/* 1 when <dir>/<id>.go names the run whose token is run, else 0 (absent, torn, another run's). */
int outcome_go_exists(const char *dir, const char *id, int64_t run);

/* Removes the three files (and any temporary left by a crash); absent files are fine. Not for
 * files that are still being written. The pid, status and go files go into the pool sp instead
 * while it has room (spares.h); sp may be NULL. */
void outcome_recycle(struct spares *sp, const char *dir, const char *id);

/* Records st for the WORKING job id (spool_finish): SUCCEEDED for exit 0 with no reason, else
 * FAILED with the exit code or signal and the reason. Returns spool_finish's result. */
int outcome_record(struct spool *sp, const char *id, const struct run_status *st, char **errp);

/* The same for a run that never produced a status: FAILED, no exit code, reason given. */
int outcome_record_failure(struct spool *sp, const char *id, const char *reason, char **errp);

#endif
