/* SPDX-License-Identifier: Apache-2.0 */
/* Timestamped, levelled lines on stderr (the contract is in log.h). */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "xalloc.h"

static const char *log_prog = "factotum-server";
static enum config_log_level log_level = CONFIG_LOG_WARN;

void log_init(const char *prog, enum config_log_level level)
{
	log_prog = prog;
	log_level = level;
}

int log_enabled(enum config_log_level level)
{
	return level != CONFIG_LOG_OFF && level <= log_level;
}

void log_vwrite(enum config_log_level level, const char *fmt, va_list ap)
{
	struct timespec ts;
	struct tm tm;
	char stamp[32];
	char *msg, *line;
	size_t off = 0, len;
	ssize_t n;
	int saved = errno; /* callers may log between a failure and their use of errno */

	if (!log_enabled(level))
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	msg = xvasprintf(fmt, ap);
	line = xasprintf("%s.%03ldZ %s[%ld]: %s: %s\n", stamp, ts.tv_nsec / 1000000L, log_prog,
			 (long)getpid(), config_log_level_name(level), msg);
	len = strlen(line);
	while (off < len) {
		n = write(STDERR_FILENO, line + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	free(line);
	free(msg);
	errno = saved;
}

void log_write(enum config_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(level, fmt, ap);
	va_end(ap);
}
