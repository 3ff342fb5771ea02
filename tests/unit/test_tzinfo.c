/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/tzinfo.c against the system's tzdata (which must be installed): offsets on both sides of daylight
 * saving transitions (from the transition table and, decades ahead, from the POSIX rule), the
 * built-in UTC, a TZif v1 file, and the refusals of bad names and files. The expected offsets
 * are Python's zoneinfo's for the same instants. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "err.h"
#include "tzinfo.h"

static struct tzinfo *load(const char *name)
{
	struct tzinfo *tz = NULL;
	char *err = NULL;

	if (tzinfo_load(name, &tz, &err) != 0)
		fail_msg("tzinfo_load(%s): %s", name, err);
	return tz;
}

/* The offset just before t and at t. */
static void assert_around(const struct tzinfo *tz, int64_t t, long before, long at)
{
	assert_int_equal(tzinfo_offset(tz, t - 1), before);
	assert_int_equal(tzinfo_offset(tz, t), at);
}

static void test_utc(void **state)
{
	struct tzinfo *tz = load("UTC"), *etc = load("Etc/UTC");

	(void)state;
	assert_int_equal(tzinfo_offset(tz, 0), 0);
	assert_int_equal(tzinfo_offset(tz, 1806195600), 0);
	assert_int_equal(tzinfo_offset(etc, -2208988800LL), 0);
	assert_true(tzinfo_next_change(tz, 0) == INT64_MAX);
	assert_int_equal(tzinfo_offset(NULL, 1806195600), 0);
	assert_true(tzinfo_next_change(NULL, 0) == INT64_MAX);
	tzinfo_free(tz);
	tzinfo_free(etc);
	tzinfo_free(NULL);
}

static void test_london(void **state)
{
	struct tzinfo *tz;

	(void)state;
	tz = load("Europe/London");
	assert_around(tz, 1806195600, 0, 3600); /* 2027-03-28T01:00Z */
	assert_around(tz, 1824944400, 3600, 0); /* 2027-10-31T01:00Z */
	assert_int_equal(tzinfo_next_change(tz, 1801000000), 1806195600);
	assert_int_equal(tzinfo_next_change(tz, 1806195599), 1806195600);
	assert_int_equal(tzinfo_next_change(tz, 1806195600), 1824944400);
	/* British Standard Time: +1 all year from 1968 to 1971 */
	assert_int_equal(tzinfo_offset(tz, 0), 3600);
	assert_int_equal(tzinfo_offset(tz, 13046400), 3600);
	assert_int_equal(tzinfo_offset(tz, -2208988800LL), 0); /* 1900 */
	/* 2100, past any table: the footer's rule */
	assert_around(tz, 4109878800LL, 0, 3600);
	assert_around(tz, 4128627600LL, 3600, 0);
	assert_int_equal(tzinfo_next_change(tz, 4109878799LL), 4109878800LL);
	assert_int_equal(tzinfo_next_change(tz, 4109878800LL), 4128627600LL);
	tzinfo_free(tz);
}

static void test_new_york(void **state)
{
	struct tzinfo *tz;

	(void)state;
	tz = load("America/New_York");
	assert_around(tz, 1805007600, -18000, -14400);   /* 2027-03-14T07:00Z */
	assert_around(tz, 1825567200, -14400, -18000);   /* 2027-11-07T06:00Z */
	assert_around(tz, 2846473200LL, -18000, -14400); /* 2060-03-14T07:00Z */
	tzinfo_free(tz);
}

/* Half an hour of daylight saving time, in the southern hemisphere. */
static void test_lord_howe(void **state)
{
	struct tzinfo *tz;

	(void)state;
	tz = load("Australia/Lord_Howe");
	assert_around(tz, 1806764400, 39600, 37800);   /* 2027-04-03T15:00Z */
	assert_around(tz, 1822491000, 37800, 39600);   /* 2027-10-02T15:30Z */
	assert_around(tz, 3479641200LL, 39600, 37800); /* 2080-04-06T15:00Z */
	assert_int_equal(tzinfo_next_change(tz, 1806764400), 1822491000);
	tzinfo_free(tz);
}

static void put32(unsigned char *p, int32_t v)
{
	p[0] = (unsigned char)((uint32_t)v >> 24);
	p[1] = (unsigned char)((uint32_t)v >> 16);
	p[2] = (unsigned char)((uint32_t)v >> 8);
	p[3] = (unsigned char)v;
}

static char tzdir[64];

static void write_file(const char *name, const void *data, size_t len)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", tzdir, name);
	assert_non_null(f = fopen(path, "wb"));
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

/* A hand-made version 1 file (32-bit times, no footer): +1 from t=1000, +2 from t=2000. */
static void test_v1_and_tzdir(void **state)
{
	unsigned char f[44 + 2 * 4 + 2 + 3 * 6 + 4] = { 0 };
	unsigned char *p = f + 44;
	struct tzinfo *tz = NULL;
	char *err = NULL;

	(void)state;
	memcpy(f, "TZif", 4);
	put32(f + 32, 2); /* timecnt */
	put32(f + 36, 3); /* typecnt */
	put32(f + 40, 4); /* charcnt */
	put32(p, 1000);
	put32(p + 4, 2000);
	p[8] = 1;
	p[9] = 2;
	p += 10;
	put32(p, 0);
	put32(p + 6, 3600);
	put32(p + 12, 7200);
	write_file("Test_Zone", f, sizeof f);
	write_file("Bad", "TZif2 but no more", 17);
	setenv("TZDIR", tzdir, 1);
	assert_int_equal(tzinfo_load("Test_Zone", &tz, &err), 0);
	assert_int_equal(tzinfo_offset(tz, 999), 0);
	assert_int_equal(tzinfo_offset(tz, 1000), 3600);
	assert_int_equal(tzinfo_offset(tz, 1999), 3600);
	assert_int_equal(tzinfo_offset(tz, 2000), 7200);
	assert_int_equal(tzinfo_offset(tz, 1LL << 40), 7200);
	assert_int_equal(tzinfo_next_change(tz, 0), 1000);
	assert_true(tzinfo_next_change(tz, 2000) == INT64_MAX);
	tzinfo_free(tz);
	assert_int_equal(tzinfo_load("Bad", &tz, &err), FS_EINVAL);
	assert_null(tz);
	assert_string_equal(err, "unknown time zone 'Bad': not a valid TZif file");
	assert_int_equal(tzinfo_load("Europe", &tz, &err), FS_EINVAL);
	assert_string_equal(err, "unknown time zone 'Europe'");
	free(err);
	unsetenv("TZDIR");
}

static void test_refusals(void **state)
{
	static const char *const bad[] = { "",
					   "Nowhere/Zone",
					   "../../etc/passwd",
					   "Europe/../Europe/London",
					   "./UTC",
					   "/Europe/London",
					   "Europe//London",
					   "Europe/London/",
					   "Europe/London\n",
					   "Europe London",
					   "utc",
					   "Europe/Lon.don" };
	char name[300], want[400];
	struct tzinfo *tz;
	char *err = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		tz = (struct tzinfo *)1;
		assert_int_equal(tzinfo_load(bad[i], &tz, &err), FS_EINVAL);
		assert_null(tz);
		snprintf(want, sizeof want, "unknown time zone '%s'", bad[i]);
		assert_string_equal(err, want);
	}
	memset(name, 'A', 256);
	name[256] = '\0';
	assert_int_equal(tzinfo_load(name, &tz, &err), FS_EINVAL);
	free(err);
}

static int setup(void **state)
{
	(void)state;
	snprintf(tzdir, sizeof tzdir, "/tmp/test_tzinfo.XXXXXX");
	return mkdtemp(tzdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char path[128];

	(void)state;
	snprintf(path, sizeof path, "%s/Test_Zone", tzdir);
	unlink(path);
	snprintf(path, sizeof path, "%s/Bad", tzdir);
	unlink(path);
	return rmdir(tzdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utc),          cmocka_unit_test(test_london),
		cmocka_unit_test(test_new_york),     cmocka_unit_test(test_lord_howe),
		cmocka_unit_test(test_v1_and_tzdir), cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
