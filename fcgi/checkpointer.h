/* SPDX-License-Identifier: Apache-2.0 */
/* The WAL checkpointer of the responder: a thread with its own spool handle that copies the WAL
 * back into the database when the group committer's commits have made it long, and at least every
 * SPOOL_CHECKPOINT_MS. SQLite would
 * otherwise run that checkpoint (and, with synchronous=NORMAL, its fsyncs) inside whichever
 * commit crossed the threshold, while every other /submit waits for that batch. PASSIVE: it never
 * blocks a commit or a reader. */
#ifndef FS_CHECKPOINTER_H
#define FS_CHECKPOINTER_H

#include "spool.h"

/* WAL frames (pages) of growth after which a commit asks for a checkpoint: SQLite's default. */
#define CHECKPOINTER_FRAMES     1000
/* A PASSIVE checkpoint never catches up with a writer that keeps committing, and SQLite rewinds
 * the WAL only after one that did: past this size the committer checkpoints itself, between two
 * of its commits, so the WAL starts over (most of it is already copied by then). */
#define CHECKPOINTER_MAX_FRAMES (4 * CHECKPOINTER_FRAMES)

struct checkpointer;

/* Starts the thread; it takes over sp (closed in checkpointer_stop, also on failure). On failure
 * *errp is set (the caller frees). */
int checkpointer_start(struct checkpointer **cpp, struct spool *sp, char **errp);

/* Asks for a checkpoint if the WAL grew by CHECKPOINTER_FRAMES since the last request (frames:
 * its size after a commit; a smaller size than before means it started over); returns at once.
 * cp may be NULL. Safe from any thread. */
void checkpointer_note(struct checkpointer *cp, int frames);

/* Runs a last checkpoint, stops the thread, closes its handle, frees cp. NULL is allowed. */
void checkpointer_stop(struct checkpointer *cp);

#endif
