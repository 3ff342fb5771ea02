/* SPDX-License-Identifier: Apache-2.0 */
/* Diagnostics of every program: one line per event on stderr, filtered by --log-level,
 *     2025-01-31T12:00:00.123Z factotum-server[1234]: warn: <text>
 * (UTC timestamp, program and pid, level). Each line goes out in one write(2), so the lines of
 * processes sharing stderr (a launcher and its children, a worker and its supervisors) never
 * interleave and journald keeps them whole. Safe from any thread once log_init has run.
 *
 * When stderr is the journal (log_to_journal), a line starts with its sd-daemon(3) priority
 * instead of the timestamp, which the journal adds itself:
 *     <4>factotum-server[1234]: warn: <text>
 * error <3>, warn <4>, info <6>, debug and trace <7>; audit lines <5> (notice). */
#ifndef FS_LOG_H
#define FS_LOG_H

#include <stdarg.h>

#include "config.h"

/* Sets the program name (static storage or a string that outlives every log call) and the
 * level: messages above it are dropped. Until called: "factotum-server", CONFIG_LOG_WARN. */
void log_init(const char *prog, enum config_log_level level);

/* Writes one line at level, unless the level set by log_init drops it. */
void log_write(enum config_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Writes one line tagged "audit" instead of a level, whatever the level (--log-level off
 * included): a record of who asked for what, not a diagnostic. */
void log_audit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Writes the formatted text as it is, ending it with '\n': the command line's answers and the
 * failures of start-up, which name the program themselves ("<prog>: <why>"), carry no timestamp
 * and are written whatever the level. On the journal each of its lines starts with level's
 * priority. */
void log_plain(enum config_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* 1 when stderr is the journal: JOURNAL_STREAM (set by systemd for a service whose stderr is
 * the journal, and inherited) is "<device>:<inode>" and names fd 2 as fstat(2) sees it; else 0.
 * log_init reads it once for the process; before log_init every line asks again. */
int log_to_journal(void);

#define log_error(...) log_write(CONFIG_LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_write(CONFIG_LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_write(CONFIG_LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_write(CONFIG_LOG_DEBUG, __VA_ARGS__)
#define log_trace(...) log_write(CONFIG_LOG_TRACE, __VA_ARGS__)

#endif
