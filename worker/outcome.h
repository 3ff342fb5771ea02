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
 * The go record is the commit point of a run: the worker writes it just before it forks the
 * run's supervisor, and flushes it before the go byte; the supervisor, once it has the go byte,
 * marks it as gone
 * (the went mark) just before it starts the runner, and never starts one without both. The
 * record names the job, the submission the run belongs to (the job's seq and created_ms: a job
 * queued again keeps both, a job submitted again gets others), the run's token and the boot it
 * was written in (/proc/sys/kernel/random/boot_id). A run may have begun when a record names it
 * and either its went mark names it too or the record is of another boot (outcome_go_begun):
 * the mark is never flushed, so it outlives the death of any process but not a power loss, and
 * after one only the record counts. So a WORKING job with no status and no live supervisor
 * whose run may not have begun never reached its runner and may run again (it goes back to the
 * queue, its record cleared first); one whose run may have begun has an unknown outcome (FAILED
 * worker-lost or supervisor-lost). And since the worker does not wait for the claim's commit to
 * reach the disk before the go record (worker/dispatch.c), a power loss may take back a claim
 * whose go record survived: a QUEUED job whose submission a go record of an earlier boot names
 * was claimed for that run, which may have begun; the next worker claims it again with that
 * run's token (spool_reclaim) and it is the WORKING case above. A go record of an earlier
 * submission names another one.
 *
 * Go records live in go slots, <dir>/go/<n>: files made once, their names on the disk before any
 * run uses them, each lent to one run at a time by the worker (the run's pid file names its
 * slot). A slot is two regions of OUTCOME_GO_SIZE bytes: the record, then the went mark; each
 * write is one pwrite of a whole region over bytes the file already has. With --spool-sync full
 * the record is fdatasync'd before the go byte -- the one disk flush between a claim and the
 * runner's exec, started before the fork and waited for while the supervisor prepares the run:
 * no name to make durable, no block or size to allocate -- so that it outlives a power loss;
 * with normal a power loss may lose it,
 * and a run that had begun may then run again. A slot keeps its last record until the next run
 * that uses it: a record of a settled run counts for nothing, its job being neither WORKING with
 * that token nor QUEUED in that submission.
 *
 * The three carry the run's token, the started_ms of the claim that began it, so that a file left
 * by an earlier run of the same id is never taken for this run's. */
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
	int slot;                 /* its go slot, -1 if none */
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
/* The go slots: outcome_go_make makes <dir>/go and the slots 0..n-1 that do not exist yet,
 * naming no run; when durable, each slot made is fsync'd, and so are <dir>/go and dir. 0, or -1
 * with errno. outcome_go_open opens one for writing (made first if it is missing, as
 * outcome_go_make would): a descriptor the caller closes, or -1 with errno. outcome_go_write
 * writes the record g (its slot and went are not written) into the slot open at fd and, when
 * durable, starts its write to the disk without waiting for it (sync_file_range), so that
 * outcome_go_flush, its fdatasync when durable, later waits for less; outcome_go_went writes
 * the went mark naming run, never flushed;
 * outcome_go_clear makes slot name no run (fdatasync'd when durable; a missing slot names none
 * already). Each: 0, or -1 with errno. */
#define OUTCOME_GO_SIZE   256 /* a region, padded: every write is the same bytes of one block */
#define OUTCOME_BOOT_SIZE 37  /* a boot id (36 characters) and its NUL */
struct run_go {
	int slot;                     /* the slot it was read from */
	char id[65];                  /* the job */
	int64_t seq;                  /* the submission: the job's seq ... */
	int64_t submitted_ms;         /* ... and created_ms */
	int64_t run;                  /* the run's token */
	char boot[OUTCOME_BOOT_SIZE]; /* the boot it was written in, "" if unknown */
	int64_t went;                 /* the run the slot's went mark names, 0 if none */
};
int outcome_go_make(const char *dir, int n, int durable);
int outcome_go_open(const char *dir, int slot, int durable);
int outcome_go_write(int fd, const struct run_go *g, int durable);
int outcome_go_flush(int fd, int durable);
int outcome_go_went(int fd, int64_t run);
int outcome_go_clear(const char *dir, int slot, int durable);
/* The record in slot: 0; FS_ENOENT when there is no such slot; FS_EINVAL when it names no run
 * (a slot never used, or a write cut short before any runner started). */
int outcome_go_read(const char *dir, int slot, struct run_go *g);
/* Every record that names a run, one per slot, read from whatever slots <dir>/go holds (their
 * number is the highest --max-workers the spool has run with): *gsp is an array of *np the
 * caller frees (NULL when 0; a missing directory has none). 0, or -1 with errno. */
int outcome_go_list(const char *dir, struct run_go **gsp, size_t *np);
/* 1 when the run g names may have begun: its went mark names it, or g was written in another
 * boot than boot (or either boot is unknown), whose marks a power loss may have taken; else 0:
 * in this boot its supervisor never had the go byte, so its runner never started. */
int outcome_go_begun(const struct run_go *g, const char *boot);

/* Read them back: 0; FS_ENOENT when the file does not exist; FS_EINVAL when it does not parse
 * (a file is either the old one or the new one, so this means someone else wrote it). */
int outcome_status_read(const char *dir, const char *id, struct run_status *st);
int outcome_pid_read(const char *dir, const char *id, struct run_pid *rp);

/* Removes the pid and status files (and any temporary left by a crash); absent files are fine.
 * Not for files that are still being written. They go into the pool sp instead while it has room
 * (spares.h); sp may be NULL. */
void outcome_recycle(struct spares *sp, const char *dir, const char *id);

/* Records st for the WORKING job id (spool_finish): SUCCEEDED for exit 0 with no reason, else
 * FAILED with the exit code or signal and the reason. Returns spool_finish's result. */
int outcome_record(struct spool *sp, const char *id, const struct run_status *st, char **errp);

/* The same for a run that never produced a status: FAILED, no exit code, reason given. */
int outcome_record_failure(struct spool *sp, const char *id, const char *reason, char **errp);

#endif
