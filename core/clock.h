/* SPDX-License-Identifier: Apache-2.0 */
/* The clocks in milliseconds, timed-wait deadlines, and the UTC time texts every program prints
 * (log lines, job entries, /status, webhook events, the runner's summary). */
#ifndef FS_CLOCK_H
#define FS_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Milliseconds since the epoch (CLOCK_REALTIME): what the spool, job entries and Consul store. */
int64_t clock_real_ms(void);

/* Milliseconds on CLOCK_MONOTONIC, for intervals and deadlines a wall-clock step must not move. */
int64_t clock_mono_ms(void);

/* Fills *ts with clock clk's now plus ms (>= 0), normalized: the absolute deadline of a timed
 * wait on that clock (pthread_cond_timedwait, sem_timedwait). */
void clock_deadline(clockid_t clk, int64_t ms, struct timespec *ts);

enum clock_utc_format {
	CLOCK_UTC_ISO_MS,  /* 2025-01-31T12:00:00.123Z (ISO 8601, milliseconds truncated) */
	CLOCK_UTC_SECONDS, /* 2025-01-31 12:00:00 UTC (milliseconds dropped) */
	CLOCK_UTC_PLAIN,   /* 2025-01-31 12:00:00 (for callers appending their own fraction) */
};

#define CLOCK_UTC_LEN 48 /* room for every format and every int64_t ms (a 9-digit year) */

/* Writes ms (milliseconds since the epoch; before 1970 too) as fmt into out. Returns 0, or
 * FS_EINVAL with out empty if gmtime_r refuses the time (a 32-bit time_t past 2038). */
int clock_format_utc(int64_t ms, enum clock_utc_format fmt, char out[CLOCK_UTC_LEN]);

/* CLOCK_UTC_ISO_MS's text ("2026-11-28T10:00:00.123Z", the milliseconds optional; years from
 * 1970) back into milliseconds since the epoch; -1 when s is not one. */
int64_t clock_parse_utc(const char *s);

#endif
