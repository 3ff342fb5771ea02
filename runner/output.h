/* SPDX-License-Identifier: Apache-2.0 */
/* What the runner prints, in Factotum 0.7.0's words and formats: colours (the `colored` crate's
 * ANSI codes, only on a terminal and never with --no-colour), task output lines with their
 * "[<task>] " prefix, durations and timestamps as Factotum formats them. */
#ifndef FS_OUTPUT_H
#define FS_OUTPUT_H

#include <stddef.h>
#include <time.h>

#include "xalloc.h"

enum colour {
	COLOUR_NONE,
	COLOUR_RED,
	COLOUR_GREEN,
	COLOUR_YELLOW,
	COLOUR_CYAN,
};

/* Whether each stream gets colour; decided once by output_init. */
struct output {
	int colour[3]; /* by fd: [1] stdout, [2] stderr */
};

/* Colour on fd 1 / fd 2 only if that fd is a terminal, no_colour is 0 and CLICOLOR is not "0". */
void output_init(struct output *o, int no_colour);

/* Appends s (len bytes) to b, wrapped in colour c's codes when fd gets colour. */
void output_paint(const struct output *o, int fd, struct buf *b, enum colour c, const char *s,
		  size_t len);
/* The same for a NUL-terminated string. */
void output_paints(const struct output *o, int fd, struct buf *b, enum colour c, const char *s);

/* Writes all of data to fd, retrying on EINTR/EAGAIN; errors (a closed pipe) are ignored, so a
 * vanished reader never stops a run. */
void output_write(int fd, const char *data, size_t len);
/* Writes b's bytes to fd and empties b. */
void output_flush(int fd, struct buf *b);
/* printf to fd (no colour). */
void output_printf(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One line of a task's output (line without its newline): "[<task>] <line>\n" on fd 1, and on
 * fd 2 with the line in red, as Factotum's execute_os prints them. */
void output_task_line(const struct output *o, int fd, const char *task, const char *line,
		      size_t len);

/* Rust's format!("{:.1}", secs) for a duration: "0.0", "12.3". */
void output_secs1(struct buf *b, const struct timespec *d);
/* Factotum's get_duration_as_string: "<s.s>s" under a minute, "<m>m, <s>s" under an hour, else
 * "<h>h, <m>m, <s>s". */
void output_duration(struct buf *b, const struct timespec *d);
/* chrono's Display for DateTime<UTC>: "2016-08-31 12:34:56.123456789 UTC" (0, 3, 6 or 9
 * fraction digits: the fewest that are exact). */
void output_utc(struct buf *b, const struct timespec *t);

/* Timespec arithmetic: a - b (a >= b), a + b. */
struct timespec ts_sub(const struct timespec *a, const struct timespec *b);
struct timespec ts_add(const struct timespec *a, const struct timespec *b);
/* Milliseconds from now until t (CLOCK_MONOTONIC), at least 0, rounded up. */
long ts_ms_until(const struct timespec *t);

#endif
