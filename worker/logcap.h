/* SPDX-License-Identifier: Apache-2.0 */
/* A run's captured stdout/stderr, capped: the log file (<spool>/logs/<id>.log, served by /logs)
 * is an exact copy of the output while the output fits in max bytes; past that it holds the
 * first half of max, a one-line marker "[... N bytes omitted ...]" and the last bytes, never
 * more than max in all. The beginning says how a run started, the end how it failed.
 *
 * While within the cap every byte is written as it comes. Past it, the tail lives in memory and
 * reaches the file at logcap_flush (the supervisor calls it at most once a second and at the
 * end), so a chatty run costs one rewrite of the tail per second, not one per read. */
#ifndef FS_LOGCAP_H
#define FS_LOGCAP_H

#include <stddef.h>
#include <stdint.h>

#define LOGCAP_MARKER_MAX 64 /* room kept for the marker line */

struct logcap {
	int fd; /* not owned: the caller opens and closes it; -1 discards */
	size_t max;
	size_t head_max; /* max / 2 */
	size_t tail_max; /* max - head_max - LOGCAP_MARKER_MAX */
	size_t head_len;
	uint64_t total; /* bytes given to logcap_write */
	char *ring;     /* the last tail_max bytes past the head (owned) */
	size_t ring_len, ring_pos;
	int dirty; /* the file lags the ring (past the cap only) */
};

/* Sets up lc to write fd, an empty file opened for writing (not O_APPEND); max >= 1024. */
void logcap_init(struct logcap *lc, int fd, size_t max);
/* Takes n more bytes of output. 0, or -1 when the file could not be written (errno set; the
 * bytes are still counted and the next flush tries again). */
int logcap_write(struct logcap *lc, const void *data, size_t n);
/* Brings the file up to date (past the cap: head, marker, tail). 0 or -1 (errno). */
int logcap_flush(struct logcap *lc);
/* Frees the ring; does not close fd. */
void logcap_free(struct logcap *lc);

#endif
