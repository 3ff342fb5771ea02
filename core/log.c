/* SPDX-License-Identifier: Apache-2.0 */
/* Timestamped, levelled lines on stderr, or priority-prefixed ones on the journal (the contract
 * is in log.h). */
#include "log.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "clock.h"
#include "xalloc.h"

static const char *log_prog = "factotum-server";
static enum config_log_level log_level = CONFIG_LOG_WARN;
static int log_journal = -1; /* log_to_journal() as log_init found it; -1 before log_init */

/* "<device>:<inode>" in decimal, as systemd writes JOURNAL_STREAM; 0 or -1. */
static int log_parse_stream(const char *v, unsigned long long *dev, unsigned long long *ino)
{
	char *end;

	if (!isdigit((unsigned char)v[0]))
		return -1;
	errno = 0;
	*dev = strtoull(v, &end, 10);
	if (errno != 0 || *end != ':' || !isdigit((unsigned char)end[1]))
		return -1;
	*ino = strtoull(end + 1, &end, 10);
	return errno == 0 && *end == '\0' ? 0 : -1;
}

int log_to_journal(void)
{
	const char *v = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	int saved = errno, yes;

	yes = v != NULL && log_parse_stream(v, &dev, &ino) == 0 && fstat(STDERR_FILENO, &st) == 0 &&
	      dev == (unsigned long long)st.st_dev && ino == (unsigned long long)st.st_ino;
	errno = saved;
	return yes;
}

void log_init(const char *prog, enum config_log_level level)
{
	log_prog = prog;
	log_level = level;
	log_journal = log_to_journal();
}

static int log_enabled(enum config_log_level level)
{
	return level != CONFIG_LOG_OFF && level <= log_level;
}

/* The sd-daemon(3) prefix of a line at level, or of an audit line (a notice). */
static const char *log_priority(enum config_log_level level, int audit)
{
	if (audit)
		return "<5>";
	switch (level) {
	case CONFIG_LOG_OFF:
	case CONFIG_LOG_ERROR:
		return "<3>";
	case CONFIG_LOG_WARN:
		return "<4>";
	case CONFIG_LOG_INFO:
		return "<6>";
	default:
		return "<7>";
	}
}

/* text (which ends with '\n') with prio before each of its lines: the journal takes every line
 * as an entry of its own, and one without a prefix would get the stream's default priority. */
static char *log_prefix_lines(const char *prio, const char *text)
{
	struct buf out;
	const char *p = text, *nl;

	buf_init(&out);
	while (*p != '\0') {
		nl = strchr(p, '\n');
		nl = nl != NULL ? nl + 1 : p + strlen(p);
		buf_puts(&out, prio);
		buf_append(&out, p, (size_t)(nl - p));
		p = nl;
	}
	return buf_steal(&out);
}

/* Writes line in one write(2) where the pipe allows, else in as few as it takes. */
static void log_out(const char *line)
{
	size_t off = 0, len = strlen(line);
	ssize_t n;

	while (off < len) {
		n = write(STDERR_FILENO, line + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
}

/* Writes text (ending with '\n') at level: with the priority of each line on the journal. */
static void log_emit(enum config_log_level level, int audit, const char *text)
{
	char *lines;
	int journal = log_journal >= 0 ? log_journal : log_to_journal();

	if (!journal) {
		log_out(text);
		return;
	}
	lines = log_prefix_lines(log_priority(level, audit), text);
	log_out(lines);
	free(lines);
}

/* One line tagged with the level's name, or with tag when it is not NULL (then written whatever
 * the level). */
static void log_vwrite(enum config_log_level level, const char *tag, const char *fmt, va_list ap)
{
	char stamp[CLOCK_UTC_LEN];
	char *msg, *line;
	int saved = errno; /* callers may log between a failure and their use of errno */
	int journal = log_journal >= 0 ? log_journal : log_to_journal();

	if (tag == NULL && !log_enabled(level))
		return;
	stamp[0] = '\0';
	if (!journal)
		clock_format_utc(clock_real_ms(), CLOCK_UTC_ISO_MS, stamp);
	msg = xvasprintf(fmt, ap);
	line = xasprintf("%s%s%s[%ld]: %s: %s\n", stamp, journal ? "" : " ", log_prog,
			 (long)getpid(), tag != NULL ? tag : config_log_level_name(level), msg);
	log_emit(level, tag != NULL, line);
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

void log_plain(enum config_log_level level, const char *fmt, ...)
{
	va_list ap;
	char *msg, *line;
	int saved = errno;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	line = xasprintf("%s\n", msg);
	log_emit(level, 0, line);
	free(line);
	free(msg);
	errno = saved;
}
