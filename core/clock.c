/* SPDX-License-Identifier: Apache-2.0 */
/* Clock readings and UTC time texts (the contract is in clock.h). */
#include "clock.h"

#include <stdio.h>
#include <string.h>

#include "err.h"

static int64_t clock_ms(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_real_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}

int64_t clock_mono_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

void clock_deadline(clockid_t clk, int64_t ms, struct timespec *ts)
{
	clock_gettime(clk, ts);
	ts->tv_sec += (time_t)(ms / 1000);
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

int clock_format_utc(int64_t ms, enum clock_utc_format fmt, char out[CLOCK_UTC_LEN])
{
	time_t secs = (time_t)(ms / 1000);
	int frac = (int)(ms % 1000);
	struct tm tm;
	size_t n;

	/* floored: -1 ms is 23:59:59.999 of the day before, not 00:00:00.-01 */
	if (frac < 0) {
		frac += 1000;
		secs--;
	}
	out[0] = '\0';
	if (gmtime_r(&secs, &tm) == NULL)
		return FS_EINVAL;
	n = strftime(out, CLOCK_UTC_LEN,
		     fmt == CLOCK_UTC_ISO_MS ? "%Y-%m-%dT%H:%M:%S" : "%Y-%m-%d %H:%M:%S", &tm);
	if (n == 0) {
		out[0] = '\0';
		return FS_EINVAL;
	}
	if (fmt == CLOCK_UTC_ISO_MS)
		snprintf(out + n, CLOCK_UTC_LEN - n, ".%03dZ", frac);
	else if (fmt == CLOCK_UTC_SECONDS)
		snprintf(out + n, CLOCK_UTC_LEN - n, " UTC");
	return 0;
}

int64_t clock_parse_utc(const char *s)
{
	struct tm tm;
	int y, mo, d, h, mi, sec, ms = 0, n = 0;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || n != 19)
		return -1;
	s += n;
	if (*s == '.') {
		if (sscanf(s, ".%3d%n", &ms, &n) != 1 || n != 4 || ms < 0)
			return -1;
		s += n;
	}
	if (strcmp(s, "Z") != 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 60 || y < 1970)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	if ((t = timegm(&tm)) == (time_t)-1)
		return -1;
	return (int64_t)t * 1000 + ms;
}
