/* SPDX-License-Identifier: Apache-2.0 */
/* Timestamped, levelled lines on stderr (the contract is in log.h). */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "clock.h"
#include "xalloc.h"

static const char *log_prog = "factotum-server";
static enum config_log_level log_level = CONFIG_LOG_WARN;

void log_init(const char *prog, enum config_log_level level)
{
	log_prog = prog;
	log_level = level;
}

static int log_enabled(enum config_log_level level)
{
	return level != CONFIG_LOG_OFF && level <= log_level;
}

/* One line tagged with the level's name, or with tag when it is not NULL (then written whatever
 * the level). */
static void log_vwrite(enum config_log_level level, const char *tag, const char *fmt, va_list ap)
{
	char stamp[CLOCK_UTC_LEN];
	char *msg, *line;
	size_t off = 0, len;
	ssize_t n;
	int saved = errno; /* callers may log between a failure and their use of errno */

	if (tag == NULL && !log_enabled(level))
		return;
	clock_format_utc(clock_real_ms(), CLOCK_UTC_ISO_MS, stamp);
	msg = xvasprintf(fmt, ap);
	line = xasprintf("%s %s[%ld]: %s: %s\n", stamp, log_prog, (long)getpid(),
			 tag != NULL ? tag : config_log_level_name(level), msg);
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
	log_vwrite(level, NULL, fmt, ap);
	va_end(ap);
}

void log_audit(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(CONFIG_LOG_ERROR, "audit", fmt, ap);
	va_end(ap);
}
