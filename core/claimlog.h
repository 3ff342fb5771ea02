/* SPDX-License-Identifier: Apache-2.0 */
/* The claim journal (doc/consul.md): each responder process appends a record to a file of its
 * own, <spool>/claims/<pid>.<start>, before each Consul claim txn, so that a worker can find and
 * undo the claims of a responder that died between its claim and its spool commit without
 * scanning the Consul namespace. The file only has to survive the process, not the machine, so
 * it is written without fsync; it is truncated once nothing is in flight and it has grown past
 * CLAIMLOG_TRUNCATE_AT, replaced by one holding only the records in flight once it has grown past
 * CLAIMLOG_COMPACT_AT (under steady load, when something is always in flight), and removed at a
 * clean exit. So it stays a few pages, whatever the load. The writer holds flock(LOCK_EX) on it for
 * its whole life: a reader that gets the lock knows the writer is gone (with the pid and start
 * time in the name, which no later process shares).
 *
 * A record is one line of compact JSON, {"key":"<consul key>","claim":<n>,"value":<the entry the
 * claim replaces, as text, or null for a new key>}, where n numbers the process's claims from 1
 * and is written in the claim's entry too (jobentry.h's claimedBy): the entry names the record
 * that says how to undo it. A claim writes one record before its first txn; one that then goes
 * over an existing DONE or orphaned entry writes a second with the same n naming that entry.
 * Only the last line can be torn (the process died in its write, before its txn was sent): the
 * reader skips what is not a record. */
#ifndef FS_CLAIMLOG_H
#define FS_CLAIMLOG_H

#include <stddef.h>
#include <sys/types.h>

/* The journals' directory under the spool. */
#define CLAIMLOG_DIR         "claims"
/* A journal with nothing in flight is truncated once it is at least this long: it stays a few
 * pages, and a quiet responder does not pay a truncate per request. */
#define CLAIMLOG_TRUNCATE_AT 4096
/* ... and one with claims in flight is rewritten with only theirs at this length: about 400
 * claims between two rewrites (an open, a write, a rename). */
#define CLAIMLOG_COMPACT_AT  65536

/* ---- the writer: one per responder process, shared by its threads ---- */

struct claimlog;

/* Creates <spool>/claims (0750) if needed and the journal of process (pid, start), locked. 0 with
 * *logp (claimlog_close), or FS_EIO with *errp. */
int claimlog_open(struct claimlog **logp, const char *spool, pid_t pid, unsigned long long start,
		  char **errp);
/* Removes the journal and frees l (NULL allowed). Only when nothing is in flight. (A process
 * that dies leaves its journal, and maybe <journal>.tmp of a compaction cut short: the worker
 * removes both.) */
void claimlog_close(struct claimlog *l);

/* Before a claim's first txn: numbers the claim (*claimp), appends {"key":key,"claim":n,
 * "value":null} and counts it in flight. 0, or FS_EIO with *errp (nothing counted). */
int claimlog_begin(struct claimlog *l, const char *key, long long *claimp, char **errp);
/* Before a second txn of claim n, over the existing entry prev: appends {"key":key,"claim":n,
 * "value":prev}. 0 or FS_EIO with *errp. */
int claimlog_over(struct claimlog *l, const char *key, long long claim, const char *prev,
		  char **errp);
/* Claim n settled (stored, undone, or never made): one fewer in flight. */
void claimlog_end(struct claimlog *l, long long claim);

/* ---- the reader: the worker ---- */

struct claimlog_file {
	char *path; /* owned */
	pid_t pid;
	unsigned long long start;
};
/* The journals under <spool>/claims (none when the directory does not exist). 0 with *filesp
 * (*np entries, claimlog_files_free), or FS_EIO with *errp. Names that are not <pid>.<start> are
 * not listed. */
int claimlog_list(const char *spool, struct claimlog_file **filesp, size_t *np, char **errp);
void claimlog_files_free(struct claimlog_file *files, size_t n);

/* Opens path and takes its lock without waiting. A descriptor (the caller closes it, which
 * releases the lock) when the writer is gone; -1 when the writer still holds it or the file
 * cannot be opened. */
int claimlog_take(const char *path);

/* The records of the journal open on fd, one per claim (a second record replaces the first), in
 * the order the claims were made. */
struct claimlog_rec {
	char *key; /* owned */
	long long claim;
	char *prev; /* owned; NULL for a new key */
};
/* 0 with *recsp (*np entries, claimlog_recs_free), or FS_EIO with *errp. */
int claimlog_read(int fd, struct claimlog_rec **recsp, size_t *np, char **errp);
void claimlog_recs_free(struct claimlog_rec *recs, size_t n);

#endif
