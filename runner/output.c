/* SPDX-License-Identifier: Apache-2.0 */
/* The runner's printing: Factotum 0.7.0's texts and formats (src/main.rs,
 * src/factotum/executor/mod.rs and execution_strategy/mod.rs), colour the way the `colored` crate
 * writes it (code, text, reset, even around an empty text or a trailing newline). */
#include "output.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"

static const char *const output_codes[] = {
	[COLOUR_NONE] = "",           [COLOUR_RED] = "\x1b[31m",  [COLOUR_GREEN] = "\x1b[32m",
	[COLOUR_YELLOW] = "\x1b[33m", [COLOUR_CYAN] = "\x1b[36m",
};

void output_init(struct output *o, int no_colour)
{
	const char *cli = getenv("CLICOLOR");
	int allowed = !no_colour && !(cli != NULL && strcmp(cli, "0") == 0);

	memset(o, 0, sizeof *o);
	o->colour[1] = allowed && isatty(1);
	o->colour[2] = allowed && isatty(2);
}

void output_paint(const struct output *o, int fd, struct buf *b, enum colour c, const char *s,
		  size_t len)
{
	int on = c != COLOUR_NONE && fd >= 1 && fd <= 2 && o->colour[fd];

	if (on)
		buf_puts(b, output_codes[c]);
	buf_append(b, s, len);
	if (on)
		buf_puts(b, "\x1b[0m");
}

void output_paints(const struct output *o, int fd, struct buf *b, enum colour c, const char *s)
{
	output_paint(o, fd, b, c, s, strlen(s));
}

void output_write(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, data, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			/* Someone made our stdout non-blocking: wait for room rather than drop bytes. */
			struct pollfd p = { .fd = fd, .events = POLLOUT };
			(void)poll(&p, 1, 1000);
			continue;
		}
		if (w <= 0)
			return;
		data += w;
		len -= (size_t)w;
	}
}

void output_flush(int fd, struct buf *b)
{
	if (b->len > 0)
		output_write(fd, b->data, b->len);
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

void output_printf(int fd, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	output_write(fd, s, strlen(s));
	free(s);
}

void output_task_line(const struct output *o, int fd, const char *task, const char *line,
		      size_t len)
{
	struct buf b;

	/* One write per line, so lines of concurrent tasks interleave whole. */
	buf_init(&b);
	buf_putc(&b, '[');
	output_paints(o, fd, &b, COLOUR_CYAN, task);
	buf_puts(&b, "] ");
	output_paint(o, fd, &b, fd == 2 ? COLOUR_RED : COLOUR_NONE, line, len);
	buf_putc(&b, '\n');
	output_write(fd, b.data, b.len);
	buf_free(&b);
}

void output_secs1(struct buf *b, const struct timespec *d)
{
	buf_printf(b, "%.1f", (double)d->tv_sec + (double)d->tv_nsec / 1e9);
}

void output_duration(struct buf *b, const struct timespec *d)
{
	uint64_t s = (uint64_t)d->tv_sec;

	if (s < 60) {
		output_secs1(b, d);
		buf_putc(b, 's');
	} else if (s < 3600) {
		buf_printf(b, "%" PRIu64 "m, %" PRIu64 "s", (s / 60) % 60, s % 60);
	} else {
		buf_printf(b, "%" PRIu64 "h, %" PRIu64 "m, %" PRIu64 "s", s / 3600, (s / 60) % 60,
			   s % 60);
	}
}

void output_utc(struct buf *b, const struct timespec *t)
{
	char when[CLOCK_UTC_LEN];
	long ns = t->tv_nsec;

	clock_format_utc((int64_t)t->tv_sec * 1000, CLOCK_UTC_PLAIN, when);
	buf_puts(b, when);
	if (ns == 0)
		;
	else if (ns % 1000000 == 0)
		buf_printf(b, ".%03ld", ns / 1000000);
	else if (ns % 1000 == 0)
		buf_printf(b, ".%06ld", ns / 1000);
	else
		buf_printf(b, ".%09ld", ns);
	buf_puts(b, " UTC");
}

struct timespec ts_sub(const struct timespec *a, const struct timespec *b)
{
	struct timespec r = { a->tv_sec - b->tv_sec, a->tv_nsec - b->tv_nsec };

	if (r.tv_nsec < 0) {
		r.tv_sec--;
		r.tv_nsec += 1000000000L;
	}
	if (r.tv_sec < 0)
		r.tv_sec = r.tv_nsec = 0;
	return r;
}

struct timespec ts_add(const struct timespec *a, const struct timespec *b)
{
	struct timespec r = { a->tv_sec + b->tv_sec, a->tv_nsec + b->tv_nsec };

	if (r.tv_nsec >= 1000000000L) {
		r.tv_sec++;
		r.tv_nsec -= 1000000000L;
	}
	return r;
}

long ts_ms_until(const struct timespec *t)
{
	struct timespec now, d;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec))
		return 0;
	d = ts_sub(t, &now);
	return (long)d.tv_sec * 1000 + (d.tv_nsec + 999999) / 1000000;
}
