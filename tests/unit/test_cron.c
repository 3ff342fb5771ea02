/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/cron.c: a table of expressions and their next slots (ranges, steps, lists,
 * names, Sunday as 0 and 7, the day-of-month/day-of-week rule, February 29, macros, seconds),
 * every refusal with its message, slots across daylight saving transitions in Europe/London,
 * America/New_York and Australia/Lord_Howe, and a cross-check of cron_next against a brute-force
 * search, minute by minute through a year (second by second around transitions), of random
 * expressions whose matching sets the test builds itself. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "cron.h"
#include "err.h"
#include "tzinfo.h"

/* "YYYY-MM-DDTHH:MM:SSZ" to seconds since the epoch, by libc (not the code under test). */
static int64_t at(const char *iso)
{
	struct tm tm = { 0 };

	if (!strptime(iso, "%Y-%m-%dT%H:%M:%SZ", &tm))
		fail_msg("bad time %s", iso);
	return (int64_t)timegm(&tm);
}

static char *iso(int64_t t, char *buf)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t == INT64_MAX)
		return strcpy(buf, "never");
	gmtime_r(&tt, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

/* Fails the test with err unless rc is 0. */
static void must(int rc, char **err)
{
	if (rc != 0)
		fail_msg("%s", *err);
}

static struct cron *parse(const char *expr)
{
	struct cron *c = NULL;
	char *err = NULL;

	must(cron_parse(expr, &c, &err), &err);
	return c;
}

/* The slots of expr in tz after `after`, in turn, must be want[] (NULL-terminated; "never"). */
static void assert_slots(const char *expr, const char *tzname, const char *after,
			 const char *const *want)
{
	struct cron *c = parse(expr);
	struct tzinfo *tz = NULL;
	int64_t t = at(after);
	char got[32], *err = NULL;

	must(tzinfo_load(tzname, &tz, &err), &err);
	for (int i = 0; want[i]; i++) {
		t = cron_next(c, tz, t);
		if (strcmp(iso(t, got), want[i]) != 0)
			fail_msg("'%s' in %s after %s: slot %d is %s, not %s", expr, tzname, after,
				 i + 1, got, want[i]);
		if (t == INT64_MAX)
			break;
	}
	cron_free(c);
	tzinfo_free(tz);
}

#define SLOTS(expr, tz, after, ...) \
	assert_slots(expr, tz, after, (const char *const[]){ __VA_ARGS__, NULL })

static void test_fields(void **state)
{
	(void)state;
	SLOTS("* * * * *", "UTC", "2027-01-01T00:00:00Z", "2027-01-01T00:01:00Z",
	      "2027-01-01T00:02:00Z");
	SLOTS("* * * * *", "UTC", "2027-01-01T00:00:30Z", "2027-01-01T00:01:00Z");
	SLOTS("*/15 * * * *", "UTC", "2027-01-01T00:16:00Z", "2027-01-01T00:30:00Z",
	      "2027-01-01T00:45:00Z", "2027-01-01T01:00:00Z");
	SLOTS("5-10/2 * * * *", "UTC", "2027-01-01T00:06:00Z", "2027-01-01T00:07:00Z",
	      "2027-01-01T00:09:00Z", "2027-01-01T01:05:00Z");
	SLOTS("5/20 * * * *", "UTC", "2027-01-01T00:00:00Z", "2027-01-01T00:05:00Z",
	      "2027-01-01T00:25:00Z", "2027-01-01T00:45:00Z", "2027-01-01T01:05:00Z");
	SLOTS("1,2,58-59 * * * *", "UTC", "2027-01-01T00:02:00Z", "2027-01-01T00:58:00Z",
	      "2027-01-01T00:59:00Z", "2027-01-01T01:01:00Z");
	/* 2027-01-01 is a Friday */
	SLOTS("0 9-17 * * MON-FRI", "UTC", "2027-01-01T17:00:00Z", "2027-01-04T09:00:00Z");
	SLOTS("0 0 1,15 * *", "UTC", "2027-01-02T00:00:00Z", "2027-01-15T00:00:00Z",
	      "2027-02-01T00:00:00Z");
	SLOTS("0 0 * JAN,jul *", "UTC", "2027-01-31T00:00:00Z", "2027-07-01T00:00:00Z");
	SLOTS("0 0 1 Mar-may/2 *", "UTC", "2027-01-01T00:00:00Z", "2027-03-01T00:00:00Z",
	      "2027-05-01T00:00:00Z", "2028-03-01T00:00:00Z");
	SLOTS("0 0 * * 0", "UTC", "2027-01-01T00:00:00Z", "2027-01-03T00:00:00Z",
	      "2027-01-10T00:00:00Z");
	SLOTS("0 0 * * 7", "UTC", "2027-01-01T00:00:00Z", "2027-01-03T00:00:00Z",
	      "2027-01-10T00:00:00Z");
	SLOTS("0 0 * * sUn", "UTC", "2027-01-01T00:00:00Z", "2027-01-03T00:00:00Z");
	SLOTS("0 12 * * 5-7", "UTC", "2027-01-01T12:00:00Z", "2027-01-02T12:00:00Z",
	      "2027-01-03T12:00:00Z", "2027-01-08T12:00:00Z");
	SLOTS("0 0 * * Mon,wed-FRI", "UTC", "2027-01-01T00:00:00Z", "2027-01-04T00:00:00Z",
	      "2027-01-06T00:00:00Z", "2027-01-07T00:00:00Z", "2027-01-08T00:00:00Z",
	      "2027-01-11T00:00:00Z");
	SLOTS("59 23 31 12 *", "UTC", "2027-12-31T23:59:00Z", "2028-12-31T23:59:00Z");
	SLOTS("0 0 31 * *", "UTC", "2027-01-31T00:00:00Z", "2027-03-31T00:00:00Z",
	      "2027-05-31T00:00:00Z");
	/* before the epoch */
	SLOTS("* * * * *", "UTC", "1969-12-31T23:59:30Z", "1970-01-01T00:00:00Z");
	SLOTS("0 0 * * *", "UTC", "1960-02-28T10:00:00Z", "1960-02-29T00:00:00Z");
}

/* Both restricted: a day matching either fires; one of them starting with `*`: both must. */
static void test_day_rule(void **state)
{
	(void)state;
	SLOTS("0 0 13 * FRI", "UTC", "2027-01-01T00:00:00Z", "2027-01-08T00:00:00Z",
	      "2027-01-13T00:00:00Z", "2027-01-15T00:00:00Z", "2027-01-22T00:00:00Z",
	      "2027-01-29T00:00:00Z", "2027-02-05T00:00:00Z");
	SLOTS("0 0 13 * *", "UTC", "2027-01-01T00:00:00Z", "2027-01-13T00:00:00Z",
	      "2027-02-13T00:00:00Z");
	SLOTS("0 0 * * FRI", "UTC", "2027-01-01T00:00:00Z", "2027-01-08T00:00:00Z");
	/* Vixie cron: `*` with a step still counts as `*`, so the 13th must also be Sunday,
	 * Tuesday, Thursday or Saturday (2027-02-13 is a Saturday) */
	SLOTS("0 0 13 * */2", "UTC", "2027-06-01T00:00:00Z", "2027-06-13T00:00:00Z",
	      "2027-07-13T00:00:00Z", "2027-11-13T00:00:00Z", "2028-01-13T00:00:00Z");
	SLOTS("0 0 */10 * MON", "UTC", "2027-01-01T00:00:00Z", "2027-01-11T00:00:00Z",
	      "2027-02-01T00:00:00Z", "2027-03-01T00:00:00Z", "2027-05-31T00:00:00Z");
}

static void test_feb29(void **state)
{
	struct cron *c = parse("0 0 29 2 *"), *never = parse("0 0 30 2 *");
	struct timespec t0, t1;
	int64_t sum = 0;

	(void)state;
	SLOTS("0 0 29 2 *", "UTC", "2027-03-01T00:00:00Z", "2028-02-29T00:00:00Z",
	      "2032-02-29T00:00:00Z");
	SLOTS("0 0 29 2 *", "UTC", "2027-01-01T00:00:00Z", "2028-02-29T00:00:00Z");
	SLOTS("0 0 29 2 *", "UTC", "2096-03-01T00:00:00Z", "never"); /* 2104 is 8 years on */
	SLOTS("0 0 30 2 *", "UTC", "2027-01-01T00:00:00Z", "never");
	SLOTS("0 0 31 4,6,9,11 *", "UTC", "2027-01-01T00:00:00Z", "never");
	/* either rule: the Mondays of February too */
	SLOTS("0 0 29 2 MON", "UTC", "2027-02-28T00:00:00Z", "2028-02-07T00:00:00Z",
	      "2028-02-14T00:00:00Z", "2028-02-21T00:00:00Z", "2028-02-28T00:00:00Z",
	      "2028-02-29T00:00:00Z", "2029-02-05T00:00:00Z");
	/* whole months and days are skipped, not seconds: 2,000 answers well within a second */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 1000; i++) {
		sum += cron_next(c, NULL, at("2027-03-01T00:00:00Z") + i) % 1000;
		assert_true(cron_next(never, NULL, at("2027-01-01T00:00:00Z") + i) == INT64_MAX);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(sum >= 0);
	assert_true((t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec) <
		    1000000000L);
	cron_free(c);
	cron_free(never);
}

static void test_macros_and_seconds(void **state)
{
	struct cron *c;

	(void)state;
	SLOTS("@hourly", "UTC", "2027-01-01T00:00:00Z", "2027-01-01T01:00:00Z");
	SLOTS("@daily", "UTC", "2027-01-01T00:00:00Z", "2027-01-02T00:00:00Z");
	SLOTS("@midnight", "UTC", "2027-01-01T12:00:00Z", "2027-01-02T00:00:00Z");
	SLOTS("@weekly", "UTC", "2027-01-01T00:00:00Z", "2027-01-03T00:00:00Z");
	SLOTS("@monthly", "UTC", "2027-01-01T00:00:00Z", "2027-02-01T00:00:00Z");
	SLOTS("@yearly", "UTC", "2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z");
	SLOTS("@annually", "UTC", "2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z");
	SLOTS("  @HOURLY\t", "UTC", "2027-01-01T00:30:00Z", "2027-01-01T01:00:00Z");
	SLOTS("*/2 * * * * *", "UTC", "2027-01-01T00:00:00Z", "2027-01-01T00:00:02Z",
	      "2027-01-01T00:00:04Z");
	SLOTS("*/2 * * * * *", "UTC", "2027-01-01T00:00:59Z", "2027-01-01T00:01:00Z");
	SLOTS("30 * * * * *", "UTC", "2027-01-01T00:00:30Z", "2027-01-01T00:01:30Z");
	SLOTS("0 0 0 1 1 *", "UTC", "2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z");
	SLOTS("\t15,45  0  12 * * *", "UTC", "2027-01-01T12:00:15Z", "2027-01-01T12:00:45Z",
	      "2027-01-02T12:00:15Z");
	c = parse("*/2 * * * * *");
	assert_true(cron_has_seconds(c));
	cron_free(c);
	c = parse("* * * * *");
	assert_false(cron_has_seconds(c));
	cron_free(c);
	c = parse("@hourly");
	assert_false(cron_has_seconds(c));
	cron_free(c);
}

static void test_refusals(void **state)
{
	static const struct {
		const char *expr, *why;
	} cases[] = {
		{ "", "empty expression" },
		{ "  \t ", "empty expression" },
		{ "* * * *", "expected 5 or 6 fields, got 4" },
		{ "* * * * * * *", "expected 5 or 6 fields, got 7" },
		{ "0 0 L * *", "'L' (last day) is not supported" },
		{ "0 0 l * *", "'L' (last day) is not supported" },
		{ "0 0 LW * *", "'L' (last day) is not supported" },
		{ "0 0 * * 5L", "'L' (last day) is not supported" },
		{ "0 0 15W * *", "'W' (nearest weekday) is not supported" },
		{ "0 0 W * *", "'W' (nearest weekday) is not supported" },
		{ "0 0 * * FRI#3", "'#' (nth weekday of the month) is not supported" },
		{ "0 0 * * 5#3", "'#' (nth weekday of the month) is not supported" },
		{ "0 0 ? * MON", "'?' is not supported (use '*')" },
		{ "0 0 1 * ?", "'?' is not supported (use '*')" },
		{ "60 * * * *", "minute value 60 out of range (0-59)" },
		{ "* 24 * * *", "hour value 24 out of range (0-23)" },
		{ "* * 0 * *", "day-of-month value 0 out of range (1-31)" },
		{ "* * 32 * *", "day-of-month value 32 out of range (1-31)" },
		{ "* * * 0 *", "month value 0 out of range (1-12)" },
		{ "* * * 13 *", "month value 13 out of range (1-12)" },
		{ "* * * * 8", "day-of-week value 8 out of range (0-7)" },
		{ "60 * * * * *", "second value 60 out of range (0-59)" },
		{ "99999999999 * * * *", "minute value 99999999999 out of range (0-59)" },
		{ "*/0 * * * *", "step 0 out of range (1-60) in minute field" },
		{ "* */25 * * *", "step 25 out of range (1-24) in hour field" },
		{ "* */0000000000000000000024 * * *", "" },
		{ "* */99999999999999999999999 * * *",
		  "step 99999999999999999999... out of range (1-24) in hour field" },
		{ "10-5 * * * *", "reversed range 10-5 in minute field" },
		{ "* * * * FRI-MON", "reversed range 5-1 in day-of-week field" },
		{ "* * * FOO *", "unknown name 'FOO' in month field" },
		{ "* * * * JAN", "unknown name 'JAN' in day-of-week field" },
		{ "MON * * * *", "unknown name 'MON' in minute field" },
		{ "* * * * MONDAY", "unknown name 'MONDAY' in day-of-week field" },
		{ "1,,2 * * * *", "empty list item in minute field" },
		{ "1, * * * *", "empty list item in minute field" },
		{ ",1 * * * *", "empty list item in minute field" },
		{ "1-* * * * *", "unexpected '*' in minute field" },
		{ "*/ * * * *", "missing step after '/' in minute field" },
		{ "*/x * * * *", "unexpected 'x' in minute field" },
		{ "1- * * * *", "missing value in minute field" },
		{ "1x * * * *", "unexpected 'x' in minute field" },
		{ "** * * * *", "unexpected '*' in minute field" },
		{ "-1 * * * *", "unexpected '-' in minute field" },
		{ "1\x01 * * * *", "unexpected byte 0x01 in minute field" },
		{ "@reboot", "unknown macro '@reboot'" },
		{ "@daily 5", "@daily takes no fields" },
		{ "@", "unknown macro '@'" },
	};
	char want[256];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct cron *c = (struct cron *)1;
		char *err = NULL;

		if (!*cases[i].why) { /* accepted */
			assert_int_equal(cron_parse(cases[i].expr, &c, &err), 0);
			cron_free(c);
			continue;
		}
		assert_int_equal(cron_parse(cases[i].expr, &c, &err), FS_EINVAL);
		assert_null(c);
		snprintf(want, sizeof want, "invalid cron expression '%s': %s", cases[i].expr,
			 cases[i].why);
		assert_string_equal(err, want);
		free(err);
	}
}

static void test_dst(void **state)
{
	(void)state;
	/* London, spring forward 2027-03-28 01:00 GMT -> 02:00 BST: 01:30 does not exist */
	SLOTS("30 1 * * *", "Europe/London", "2027-03-27T12:00:00Z", "2027-03-28T01:00:00Z",
	      "2027-03-29T00:30:00Z");
	/* fall back 2027-10-31 02:00 BST -> 01:00 GMT: 01:30 occurs twice, fires at the first */
	SLOTS("30 1 * * *", "Europe/London", "2027-10-30T12:00:00Z", "2027-10-31T00:30:00Z",
	      "2027-11-01T01:30:00Z");
	SLOTS("30 1 * * *", "Europe/London", "2027-10-31T00:30:00Z", "2027-11-01T01:30:00Z");
	SLOTS("30 1 * * *", "Europe/London", "2027-10-31T01:10:00Z", "2027-11-01T01:30:00Z");
	/* New York: 02:30 in the gap of 2027-03-14 fires at 03:00 EDT */
	SLOTS("30 2 * * *", "America/New_York", "2027-03-13T12:00:00Z", "2027-03-14T07:00:00Z",
	      "2027-03-15T06:30:00Z");
	/* 01:30 twice on 2027-11-07: the EDT one only */
	SLOTS("30 1 * * *", "America/New_York", "2027-11-06T12:00:00Z", "2027-11-07T05:30:00Z",
	      "2027-11-08T06:30:00Z");
	/* hourly across the gap: 01:00 local does not exist and merges with 02:00 BST */
	SLOTS("0 * * * *", "Europe/London", "2027-03-27T23:30:00Z", "2027-03-28T00:00:00Z",
	      "2027-03-28T01:00:00Z", "2027-03-28T02:00:00Z", "2027-03-28T03:00:00Z");
	/* hourly across the overlap: the second 01:00 local (01:00Z) does not fire again */
	SLOTS("0 * * * *", "Europe/London", "2027-10-30T22:30:00Z", "2027-10-30T23:00:00Z",
	      "2027-10-31T00:00:00Z", "2027-10-31T02:00:00Z", "2027-10-31T03:00:00Z");
	/* the gap's four quarter hours are one slot at its end */
	SLOTS("*/15 * * * *", "Europe/London", "2027-03-28T00:40:00Z", "2027-03-28T00:45:00Z",
	      "2027-03-28T01:00:00Z", "2027-03-28T01:15:00Z", "2027-03-28T01:30:00Z");
	SLOTS("15,45 1 * * *", "Europe/London", "2027-03-27T12:00:00Z", "2027-03-28T01:00:00Z",
	      "2027-03-29T00:15:00Z");
	SLOTS("*/20 * * * * *", "Europe/London", "2027-03-28T00:59:30Z", "2027-03-28T00:59:40Z",
	      "2027-03-28T01:00:00Z", "2027-03-28T01:00:20Z");
	/* Lord Howe: half an hour of daylight saving time; 02:00-02:30 missing on 2027-10-03 and
	 * 01:30-02:00 twice on 2027-04-04 */
	SLOTS("0,30 * * * *", "Australia/Lord_Howe", "2027-10-02T14:50:00Z", "2027-10-02T15:00:00Z",
	      "2027-10-02T15:30:00Z", "2027-10-02T16:00:00Z");
	SLOTS("0,30 * * * *", "Australia/Lord_Howe", "2027-04-03T13:50:00Z", "2027-04-03T14:00:00Z",
	      "2027-04-03T14:30:00Z", "2027-04-03T15:30:00Z", "2027-04-03T16:00:00Z");
	SLOTS("0 12 * * *", "Australia/Lord_Howe", "2027-01-01T00:00:00Z", "2027-01-01T01:00:00Z");
	/* a day that has no 01:30 still fires exactly once */
	SLOTS("30 1 * * *", "Europe/London", "2027-03-27T00:00:00Z", "2027-03-27T01:30:00Z",
	      "2027-03-28T01:00:00Z");
}

/* ---- the brute-force cross-check ---- */

struct gen {
	char expr[160];
	char set[6][64]; /* set[f][v]: value v matches field f (Sunday only as 0) */
	int dom_star, dow_star, seconds;
};

static const int gen_lo[6] = { 0, 0, 0, 1, 1, 0 }, gen_hi[6] = { 59, 59, 23, 31, 12, 7 };
static const char *const gen_mon[] = { "jan", "FEB", "Mar", "apr", "MAY", "jun",
				       "JUL", "aug", "Sep", "oct", "NOV", "dec" };
static const char *const gen_dow[] = { "sun", "MON", "Tue", "wed", "THU", "fri", "SAT" };

static void gen_value(char *out, size_t len, int f, int v)
{
	if (f == 4 && rand() % 3 == 0)
		snprintf(out, len, "%s", gen_mon[v - 1]);
	else if (f == 5 && v < 7 && rand() % 3 == 0) /* 7 stays a number: SUN is 0 */
		snprintf(out, len, "%s", gen_dow[v]);
	else
		snprintf(out, len, "%d", v);
}

static void gen_mark(struct gen *g, int f, int lo, int hi, int step)
{
	for (int v = lo; v <= hi; v += step)
		g->set[f][f == 5 && v == 7 ? 0 : v] = 1;
}

/* A random field f; the hours favour the night, where the transitions are. */
static void gen_field(struct gen *g, int f, char *out, size_t len)
{
	int lo = gen_lo[f], hi = gen_hi[f], span = hi - lo + 1, kind = rand() % 6;
	char a[8], b[8];

	if (f == 2 && kind >= 3) {
		int h = rand() % 4;

		snprintf(out, len, "%d-%d", h, h + rand() % 3);
		gen_mark(g, f, h, h + (out[2] - '0' - h), 1);
		return;
	}
	switch (kind) {
	case 0:
		snprintf(out, len, "*");
		gen_mark(g, f, lo, hi, 1);
		break;
	case 1: {
		int step = 1 + rand() % (span / 2 + 1);

		snprintf(out, len, "*/%d", step);
		gen_mark(g, f, lo, hi, step);
		break;
	}
	case 2: {
		int v = lo + rand() % span;

		gen_value(a, sizeof a, f, v);
		snprintf(out, len, "%s", a);
		gen_mark(g, f, v, v, 1);
		break;
	}
	case 3: {
		int x = lo + rand() % span, y = x + rand() % (hi - x + 1), step = 1 + rand() % 4;

		gen_value(a, sizeof a, f, x);
		gen_value(b, sizeof b, f, y);
		snprintf(out, len, "%s-%s/%d", a, b, step);
		gen_mark(g, f, x, y, step);
		break;
	}
	default: {
		int x = lo + rand() % span, y = lo + rand() % span;

		gen_value(a, sizeof a, f, x);
		gen_value(b, sizeof b, f, y);
		snprintf(out, len, "%s,%s", a, b);
		gen_mark(g, f, x, x, 1);
		gen_mark(g, f, y, y, 1);
		break;
	}
	}
}

static void gen_expr(struct gen *g, int seconds)
{
	char field[6][24];

	memset(g, 0, sizeof *g);
	g->seconds = seconds;
	if (!seconds)
		g->set[0][0] = 1;
	for (int f = seconds ? 0 : 1; f < 6; f++)
		gen_field(g, f, field[f], sizeof field[f]);
	g->dom_star = field[3][0] == '*';
	g->dow_star = field[5][0] == '*';
	snprintf(g->expr, sizeof g->expr, "%s%s%s %s %s %s %s", seconds ? field[0] : "",
		 seconds ? " " : "", field[1], field[2], field[3], field[4], field[5]);
}

/* Whether the wall-clock time local matches g, by libc's calendar. */
static int gen_match(const struct gen *g, int64_t local)
{
	time_t t = (time_t)local;
	struct tm tm;
	int dom, dow;

	gmtime_r(&t, &tm);
	if (!g->set[0][tm.tm_sec] || !g->set[1][tm.tm_min] || !g->set[2][tm.tm_hour] ||
	    !g->set[4][tm.tm_mon + 1])
		return 0;
	dom = g->set[3][tm.tm_mday];
	dow = g->set[5][tm.tm_wday];
	return g->dom_star || g->dow_star ? dom && dow : dom || dow;
}

/* Every slot in (from, to], stepping by step seconds: an instant u fires when a wall time in
 * (the latest wall time seen before u, local(u)] matches, so a gap's wall times fire at its end
 * and a repeated hour's second pass fires nothing. The walk starts two days early so that the
 * latest wall time is known at from. */
static size_t brute(const struct gen *g, const struct tzinfo *tz, int64_t from, int64_t to,
		    int step, int64_t *out, size_t max)
{
	int64_t seen = INT64_MIN;
	size_t n = 0;

	for (int64_t u = from - 2 * 86400; u <= to; u += step) {
		int64_t local = u + tzinfo_offset(tz, u);
		int hit = 0;

		for (int64_t l = seen == INT64_MIN ? local : seen + 1; l <= local && !hit;
		     l += step)
			hit = gen_match(g, l);
		if (hit && u > from) {
			assert_true(n < max);
			out[n++] = u;
		}
		if (local + step - 1 > seen)
			seen = local + step - 1;
	}
	return n;
}

static void cross_check(const struct gen *g, const char *tzname, const struct tzinfo *tz,
			int64_t from, int64_t to, int step, int64_t *want, size_t max)
{
	struct cron *c = parse(g->expr);
	size_t n = brute(g, tz, from, to, step, want, max), i = 0;
	char a[32], b[32], w[32];
	int64_t t = from;

	for (;;) {
		t = cron_next(c, tz, t);
		if (t > to)
			break;
		if (i >= n || t != want[i])
			fail_msg("'%s' in %s from %s: slot %zu is %s, brute force %s", g->expr,
				 tzname, iso(from, a), i + 1, iso(t, b),
				 i < n ? iso(want[i], w) : "none");
		i++;
	}
	if (i != n)
		fail_msg("'%s' in %s from %s: %zu slots, brute force %zu (next %s)", g->expr,
			 tzname, iso(from, a), i, n, i < n ? iso(want[i], b) : "none");
	cron_free(c);
}

static void test_cross_check(void **state)
{
	static const char *const zones[] = { "UTC", "Europe/London", "America/New_York",
					     "Australia/Lord_Howe" };
	/* the transitions of 2027 the seconds-field runs straddle */
	static const char *const near[] = { "2027-03-28T01:00:00Z", "2027-10-31T01:00:00Z",
					    "2027-03-14T07:00:00Z", "2027-11-07T06:00:00Z",
					    "2027-04-03T15:00:00Z", "2027-10-02T15:30:00Z" };
	size_t max = 600000;
	int64_t *want = malloc(max * sizeof *want);
	struct gen g;

	(void)state;
	assert_non_null(want);
	srand(19);
	for (size_t z = 0; z < sizeof zones / sizeof zones[0]; z++) {
		struct tzinfo *tz = NULL;
		char *err = NULL;

		must(tzinfo_load(zones[z], &tz, &err), &err);
		for (int k = 0; k < 12; k++) {
			/* a year from a random day of 2026-2028, or of 2045-2047, past the
			 * transition tables (to 2037), where the zone's POSIX rule decides */
			int64_t from = at(k < 9 ? "2026-01-01T00:00:00Z" : "2045-01-01T00:00:00Z") +
				       (int64_t)(rand() % 1000) * 86400 + (rand() % 1440) * 60;

			gen_expr(&g, 0);
			cross_check(&g, zones[z], tz, from, from + 366 * 86400, 60, want, max);
		}
		tzinfo_free(tz);
	}
	for (size_t i = 0; i < sizeof near / sizeof near[0]; i++) {
		struct tzinfo *tz = NULL;
		char *err = NULL;

		must(tzinfo_load(zones[1 + i / 2], &tz, &err), &err);
		for (int k = 0; k < 20; k++) {
			int64_t from = at(near[i]) - 3 * 3600 + rand() % 3600;

			gen_expr(&g, 1);
			cross_check(&g, zones[1 + i / 2], tz, from, from + 6 * 3600, 1, want, max);
		}
		tzinfo_free(tz);
	}
	free(want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields),      cmocka_unit_test(test_day_rule),
		cmocka_unit_test(test_feb29),       cmocka_unit_test(test_macros_and_seconds),
		cmocka_unit_test(test_refusals),    cmocka_unit_test(test_dst),
		cmocka_unit_test(test_cross_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
