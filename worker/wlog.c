/* SPDX-License-Identifier: Apache-2.0 */
/* The worker's diagnostics on stderr (see wlog.h). */
#include "wlog.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xalloc.h"

static enum config_log_level wlog_level = CONFIG_LOG_WARN;

void wlog_set_level(enum config_log_level level)
{
	wlog_level = level;
}

void wlog(enum config_log_level level, const char *fmt, ...)
{
	va_list ap;
	char *text, *line;
	ssize_t off = 0, n, len;

	if (level == CONFIG_LOG_OFF || level > wlog_level)
		return;
	va_start(ap, fmt);
	text = xvasprintf(fmt, ap);
	va_end(ap);
	line = xasprintf("factotum-server-worker[%ld]: %s: %s\n", (long)getpid(),
			 config_log_level_name(level), text);
	len = (ssize_t)strlen(line);
	while (off < len && (n = write(STDERR_FILENO, line + off, (size_t)(len - off))) > 0)
		off += n;
	free(line);
	free(text);
}
