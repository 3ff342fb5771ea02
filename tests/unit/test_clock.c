/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/clock.c: the UTC texts byte for byte (expected values from
 * `date -u -d @<seconds>`), millisecond truncation, times before 1970, the ISO text read back,
 * and the clocks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "clock.h"

struct utc_case {
	int64_t ms;
	const char *iso, *seconds, *plain;
};

static const struct utc_case utc_cases[] = {
	{ 0, "1970-01-01T00:00:00.000Z", "1970-01-01 00:00:00 UTC", "1970-01-01 00:00:00" },
	{ 1, "1970-01-01T00:00:00.001Z", "1970-01-01 00:00:00 UTC", "1970-01-01 00:00:00" },
	/* milliseconds are never rounded up into the next second */
	{ 1738324799999, "2025-01-31T11:59:59.999Z", "2025-01-31 11:59:59 UTC",
	  "2025-01-31 11:59:59" },
	{ 1738324800123, "2025-01-31T12:00:00.123Z", "2025-01-31 12:00:00 UTC",
	  "2025-01-31 12:00:00" },
	{ 951782400050, "2000-02-29T00:00:00.050Z", "2000-02-29 00:00:00 UTC",
	  "2000-02-29 00:00:00" },
	/* before the epoch: the previous second plus a positive fraction */
	{ -1, "1969-12-31T23:59:59.999Z", "1969-12-31 23:59:59 UTC", "1969-12-31 23:59:59" },
	{ -1000, "1969-12-31T23:59:59.000Z", "1969-12-31 23:59:59 UTC", "1969-12-31 23:59:59" },
	{ -1001, "1969-12-31T23:59:58.999Z", "1969-12-31 23:59:58 UTC", "1969-12-31 23:59:58" },
};

static void test_format_utc(void **state)
{
	char out[CLOCK_UTC_LEN];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(utc_cases) / sizeof(utc_cases[0]); i++) {
		assert_int_equal(clock_format_utc(utc_cases[i].ms, CLOCK_UTC_ISO_MS, out), 0);
		assert_string_equal(out, utc_cases[i].iso);
		assert_int_equal(clock_format_utc(utc_cases[i].ms, CLOCK_UTC_SECONDS, out), 0);
		assert_string_equal(out, utc_cases[i].seconds);
		assert_int_equal(clock_format_utc(utc_cases[i].ms, CLOCK_UTC_PLAIN, out), 0);
		assert_string_equal(out, utc_cases[i].plain);
	}
}

/* The ISO text back: every case from 1970 on, milliseconds optional; anything else is -1. */
static void test_parse_utc(void **state)
{
	static const char *const bad[] = {
		"",
		"2025-01-31T12:00:00.123",
		"2025-01-31T12:00:00.123Zx",
		"2025-01-31 12:00:00.123Z",
		"2025-01-31T12:00:00.12Z",
		"2025-01-31T12:00:00.Z",
		"2025-13-01T12:00:00.000Z",
		"2025-01-31T24:00:00.000Z",
		"1969-12-31T23:59:59.999Z",
		"25-01-31T12:00:00Z",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(utc_cases) / sizeof(utc_cases[0]); i++)
		if (utc_cases[i].ms >= 0)
			assert_int_equal(clock_parse_utc(utc_cases[i].iso), utc_cases[i].ms);
	assert_int_equal(clock_parse_utc("2025-01-31T12:00:00Z"), INT64_C(1738324800000));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (clock_parse_utc(bad[i]) != -1)
			fail_msg("accepted '%s'", bad[i]);
}

/* The extremes of int64_t still fit CLOCK_UTC_LEN (a 9-digit year, a negative one). */
static void test_format_extremes(void **state)
{
	char out[CLOCK_UTC_LEN];

	(void)state;
	assert_int_equal(clock_format_utc(INT64_MAX, CLOCK_UTC_ISO_MS, out), 0);
	assert_string_equal(out, "292278994-08-17T07:12:55.807Z");
	assert_int_equal(clock_format_utc(INT64_MIN, CLOCK_UTC_SECONDS, out), 0);
	assert_string_equal(out, "-292275055-05-16 16:47:04 UTC");
}

static void test_clocks(void **state)
{
	struct timespec before, after, dl;
	int64_t real, mono;

	(void)state;
	clock_gettime(CLOCK_REALTIME, &before);
	real = clock_real_ms();
	clock_gettime(CLOCK_REALTIME, &after);
	assert_true(real >= (int64_t)before.tv_sec * 1000 + before.tv_nsec / 1000000);
	assert_true(real <= (int64_t)after.tv_sec * 1000 + after.tv_nsec / 1000000);

	clock_gettime(CLOCK_MONOTONIC, &before);
	mono = clock_mono_ms();
	clock_deadline(CLOCK_MONOTONIC, 1999, &dl);
	clock_gettime(CLOCK_MONOTONIC, &after);
	assert_true(mono >= (int64_t)before.tv_sec * 1000 + before.tv_nsec / 1000000);
	assert_true(mono <= (int64_t)after.tv_sec * 1000 + after.tv_nsec / 1000000);
	assert_true(dl.tv_nsec >= 0 && dl.tv_nsec < 1000000000L);
	/* the deadline is 1999 ms after a reading taken between before and after */
	assert_true((int64_t)dl.tv_sec * 1000000000 + dl.tv_nsec >=
		    (int64_t)before.tv_sec * 1000000000 + before.tv_nsec + 1999000000);
	assert_true((int64_t)dl.tv_sec * 1000000000 + dl.tv_nsec <=
		    (int64_t)after.tv_sec * 1000000000 + after.tv_nsec + 1999000000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_utc),
		cmocka_unit_test(test_format_extremes),
		cmocka_unit_test(test_parse_utc),
		cmocka_unit_test(test_clocks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
