/* SPDX-License-Identifier: Apache-2.0 */
/* The spool's commit mark, <spool>/spool.db-mark: the last commit sequence a process of the node
 * saw committed (the spool keeps the sequence in the database, bumped by every write transaction).
 * A database whose sequence is below its mark has lost commits -- its WAL was deleted or damaged,
 * or an older copy was put in its place -- and the spool refuses to open it (core/spool.h).
 *
 * The file is one line: the sequence in 20 decimal digits and a newline, rewritten in place with
 * one pwrite, so a reader never sees a shorter or longer one. It is not flushed: it can lag the
 * database (after a crash, or when two processes write it out of order) but, written only after
 * the commit it names, it is never ahead of a database that kept its commits. */
#ifndef FS_SPOOLMARK_H
#define FS_SPOOLMARK_H

#include <stddef.h>
#include <stdint.h>

#define SPOOLMARK_LEN 21 /* 20 digits and '\n' */

/* Opens (creating if absent, mode 0640) the mark at path: *fdp is a descriptor the caller closes,
 * *seqp the sequence it holds, or -1 when the file is empty (new). A file that is not a mark is
 * FS_EIO with *errp (new text the caller frees) naming it and saying to remove it; so is a file
 * that cannot be opened or read (then *fdp is -1). */
int spoolmark_open(const char *path, int *fdp, int64_t *seqp, char **errp);

/* Parses a mark's bytes: 0 and *seqp, or -1 when buf is not exactly one mark. */
int spoolmark_parse(const char *buf, size_t len, int64_t *seqp);

/* Writes seq (>= 0) over the mark open at fd. 0, or a negative errno (the mark then lags). */
int spoolmark_write(int fd, int64_t seq);

#endif
