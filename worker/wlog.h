/* SPDX-License-Identifier: Apache-2.0 */
/* The worker's diagnostics: one line per event on stderr, filtered by --log-level. */
#ifndef FS_WLOG_H
#define FS_WLOG_H

#include "config.h"

/* Messages above level are dropped (CONFIG_LOG_WARN until set). */
void wlog_set_level(enum config_log_level level);
/* "factotum-server-worker[<pid>]: <level>: <text>\n" on stderr, written in one write(2) so that
 * the lines of the worker and its supervisors (which share stderr) never interleave. */
void wlog(enum config_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
