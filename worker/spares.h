/* SPDX-License-Identifier: Apache-2.0 */
/* The spare-inode pool: files and directories kept in <spool>/spare so that a run reuses an inode
 * instead of freeing one and allocating another.
 *
 * Why: each run has two short-lived files (its pid and status files, outcome.h), written by its
 * supervisor and gone once the run settles, a copy of its factfile (factcopy.h), written by the
 * worker just before the supervisor's fork and gone once no run of it is left, and a fresh
 * working directory. On ext4 without a journal every file created scans past the inodes freed
 * in the last minutes, which makes creating them the main cost of a run (bench/README): up to a
 * millisecond each. So a settled run's files and factfile copies no longer used are moved into
 * the pool (spares_put, through outcome_recycle and factcopy_release) and handed to later
 * supervisors and copies, which rename one onto the file they are about to write.
 *
 * Ownership: a spare is only a name. Whoever renames it first owns it -- it is renamed before it
 * is written, never written in place -- and a writer whose spare is gone (someone else renamed it)
 * just creates its file. The pool itself is the worker's; at start it takes over whatever
 * <spool>/spare holds (a crash leaves spares there, and a supervisor that outlived its worker may
 * still hold one of them: it loses the race and creates its file).
 *
 * Run directories are removed whole when their run settles (or, with --keep-run-dirs, when
 * their job is pruned or its id runs again), so none comes back to the pool: each supervisor makes one empty directory for a later run once its
 * own runner has started, off the path to that exec; spares_reserve_dir names it and
 * spares_take_dir hands it out once it exists. */
#ifndef FS_SPARES_H
#define FS_SPARES_H

#include <stddef.h>

#define SPARES_MAX 256

struct spares {
	char *dir;    /* <spool>/spare; NULL: the pool is unused */
	char **paths; /* the spare files ("<dir>/s.<seq>"), a stack */
	size_t n;
	char **dirs; /* spare directories ("<dir>/d.<seq>"), oldest first */
	size_t ndirs;
	unsigned long long seq; /* the next name's number */
};

/* Creates dir if need be and takes over the files and empty directories in it (past SPARES_MAX,
 * or anything else: removed). 0, or -1 with errno; then the pool is empty and stays unused (every
 * call below returns NULL or -1), and runs create their files. dir is copied. */
int spares_init(struct spares *sp, const char *dir);
/* Frees the pool's memory; the spares stay on disk for the next worker. */
void spares_free(struct spares *sp);

/* Moves the file at path into the pool: 0 when it went, -1 when the pool is unused or full or the
 * rename failed (path is then untouched). sp may be NULL (-1). */
int spares_put(struct spares *sp, const char *path);
/* A spare file's path, or NULL when the pool is empty (or sp is NULL). The caller frees it; the
 * name is the caller's to rename from then on (nobody else is handed it). */
char *spares_take(struct spares *sp);

/* A new path for a spare directory that somebody (a supervisor) will create, already counted in
 * the pool, or NULL when want directories are already there. The caller frees the string. */
char *spares_reserve_dir(struct spares *sp, size_t want);
/* The oldest spare directory's path once it exists (the caller frees it), or NULL. A name never
 * made (its supervisor gave up) is forgotten once want names are waiting. */
char *spares_take_dir(struct spares *sp, size_t want);

#endif
