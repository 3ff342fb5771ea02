/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/tzinfo.c against the system's tzdata (which must be installed): offsets on
 * both sides of daylight saving transitions (from the transition table and, decades ahead, from
 * the POSIX rule), the built-in UTC, a TZif v1 file, and the refusals of bad names and files. The
 * expected offsets are Python's zoneinfo's for the same instants. */
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

/* Offsets just before t and at t; for a transition, t is also the next change after t - 1. */
static const struct {
	const char *zone;
	int64_t t;
	long before, at;
	int transition;
} offsets[] = {
	{ "Europe/London", 1806195600, 0, 3600, 1 },  /* 2027-03-28T01:00Z */
	{ "Europe/London", 1824944400, 3600, 0, 1 },  /* 2027-10-31T01:00Z */
	{ "Europe/London", 0, 3600, 3600, 0 },        /* British Standard Time, 1968-1971 */
	{ "Europe/London", 13046400, 3600, 3600, 0 }, /* 1970-06-01 */
	{ "Europe/London", -2208988800LL, 0, 0, 0 },  /* 1900 */
	/* 2100, past any table: the footer's rule */
	{ "Europe/London", 4109878800LL, 0, 3600, 1 },
	{ "Europe/London", 4128627600LL, 3600, 0, 1 },
	{ "America/New_York", 1805007600, -18000, -14400, 1 },   /* 2027-03-14T07:00Z */
	{ "America/New_York", 1825567200, -14400, -18000, 1 },   /* 2027-11-07T06:00Z */
	{ "America/New_York", 2846473200LL, -18000, -14400, 1 }, /* 2060-03-14T07:00Z */
	/* half an hour of daylight saving time, in the southern hemisphere */
	{ "Australia/Lord_Howe", 1806764400, 39600, 37800, 1 },   /* 2027-04-03T15:00Z */
	{ "Australia/Lord_Howe", 1822491000, 37800, 39600, 1 },   /* 2027-10-02T15:30Z */
	{ "Australia/Lord_Howe", 3479641200LL, 39600, 37800, 1 }, /* 2080-04-06T15:00Z */
};

static void test_offsets(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
		struct tzinfo *tz = load(offsets[i].zone);

		assert_int_equal(tzinfo_offset(tz, offsets[i].t - 1), offsets[i].before);
		assert_int_equal(tzinfo_offset(tz, offsets[i].t), offsets[i].at);
		if (offsets[i].transition)
			assert_int_equal(tzinfo_next_change(tz, offsets[i].t - 1), offsets[i].t);
		tzinfo_free(tz);
	}
}

/* From one transition, the next one. */
static void test_next_change(void **state)
{
	struct tzinfo *london = load("Europe/London"), *howe = load("Australia/Lord_Howe");

	(void)state;
	assert_int_equal(tzinfo_next_change(london, 1801000000), 1806195600);
	assert_int_equal(tzinfo_next_change(london, 1806195600), 1824944400);
	assert_int_equal(tzinfo_next_change(london, 4109878800LL), 4128627600LL);
	assert_int_equal(tzinfo_next_change(howe, 1806764400), 1822491000);
	tzinfo_free(london);
	tzinfo_free(howe);
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
		cmocka_unit_test(test_utc),         cmocka_unit_test(test_offsets),
		cmocka_unit_test(test_next_change), cmocka_unit_test(test_v1_and_tzdir),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
