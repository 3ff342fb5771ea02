/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/statring.c, the outcome ring's arithmetic: a bucket's start and slot, and
 * the window read from the stored slots (zero-filled, oldest first, a slot reused by a newer or
 * still holding an older bucket reads as zero). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "statring.h"

#define MIN  STATRING_MINUTE_MS
#define HOUR STATRING_HOUR_MS

/* 2026-12-04T04:46:12.345Z */
static const int64_t T = 1796359572345LL;

static void empty(struct statring_slot *s, int n)
{
	for (int i = 0; i < n; i++)
		s[i] = (struct statring_slot){ .start_ms = -1 };
}

static void test_start_and_slot(void **state)
{
	(void)state;
	assert_int_equal(statring_start(T, MIN), 1796359560000LL);
	assert_int_equal(statring_start(T, HOUR), 1796356800000LL);
	assert_int_equal(statring_start(1796359560000LL, MIN), 1796359560000LL);
	assert_int_equal(statring_start(1796359619999LL, MIN), 1796359560000LL);
	assert_int_equal(statring_start(0, MIN), 0);
	/* minute 29939326 of the epoch; hour 498988 */
	assert_int_equal(statring_slot(1796359560000LL, MIN, 60), 29939326 % 60);
	assert_int_equal(statring_slot(1796356800000LL, HOUR, 48), 498988 % 48);
	assert_int_equal(statring_slot(0, MIN, 60), 0);
	assert_int_equal(statring_slot(59 * (int64_t)MIN, MIN, 60), 59);
	assert_int_equal(statring_slot(60 * (int64_t)MIN, MIN, 60), 0);
}

/* Every bucket of the window, oldest first, one span apart, ending with now's. */
static void test_window_starts(void **state)
{
	struct statring_slot stored[60], out[60];

	(void)state;
	empty(stored, 60);
	statring_window(stored, 60, MIN, T, out);
	for (int i = 0; i < 60; i++) {
		assert_int_equal(out[i].start_ms, 1796359560000LL - (59 - i) * (int64_t)MIN);
		assert_int_equal(out[i].succeeded, 0);
		assert_int_equal(out[i].failed, 0);
	}
	statring_window(stored, 48, HOUR, T, out);
	assert_int_equal(out[47].start_ms, 1796356800000LL);
	assert_int_equal(out[0].start_ms, 1796356800000LL - 47 * (int64_t)HOUR);
}

/* Counts come from the slot holding exactly that bucket. */
static void test_window_counts(void **state)
{
	struct statring_slot stored[60], out[60];
	int64_t now_start = statring_start(T, MIN), prev = now_start - MIN;
	int s_now = statring_slot(now_start, MIN, 60), s_prev = statring_slot(prev, MIN, 60);
	int s_old = statring_slot(now_start - 10 * (int64_t)MIN, MIN, 60);

	(void)state;
	empty(stored, 60);
	stored[s_now] = (struct statring_slot){ now_start, 3, 1 };
	stored[s_prev] = (struct statring_slot){ prev, 0, 2 };
	/* the slot of 10 minutes ago still holds the bucket of 70 minutes ago: not shown */
	stored[s_old] = (struct statring_slot){ now_start - 70 * (int64_t)MIN, 9, 9 };
	statring_window(stored, 60, MIN, T, out);
	assert_int_equal(out[59].succeeded, 3);
	assert_int_equal(out[59].failed, 1);
	assert_int_equal(out[58].succeeded, 0);
	assert_int_equal(out[58].failed, 2);
	assert_int_equal(out[49].start_ms, now_start - 10 * (int64_t)MIN);
	assert_int_equal(out[49].succeeded, 0);
	assert_int_equal(out[49].failed, 0);
	/* a minute later the newest bucket is empty and the others moved down one */
	statring_window(stored, 60, MIN, T + MIN, out);
	assert_int_equal(out[59].succeeded + out[59].failed, 0);
	assert_int_equal(out[58].succeeded, 3);
	assert_int_equal(out[57].failed, 2);
	/* an hour later the window has left them all */
	statring_window(stored, 60, MIN, T + 60 * (int64_t)MIN, out);
	for (int i = 0; i < 60; i++)
		assert_int_equal(out[i].succeeded + out[i].failed, 0);
	/* a clock behind what was stored: the newer bucket is not now's, so zero */
	statring_window(stored, 60, MIN, T - 60 * (int64_t)MIN, out);
	assert_int_equal(out[59].succeeded + out[59].failed, 0);
}

/* Near the epoch the window's older buckets do not exist. */
static void test_window_epoch(void **state)
{
	struct statring_slot stored[48], out[48];

	(void)state;
	empty(stored, 48);
	stored[1] = (struct statring_slot){ HOUR, 5, 0 };
	statring_window(stored, 48, HOUR, HOUR + 1, out);
	assert_int_equal(out[47].start_ms, HOUR);
	assert_int_equal(out[47].succeeded, 5);
	assert_int_equal(out[46].start_ms, 0);
	assert_int_equal(out[45].start_ms, -1);
	assert_int_equal(out[0].start_ms, -1);
	assert_int_equal(out[0].succeeded, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_start_and_slot),
		cmocka_unit_test(test_window_starts),
		cmocka_unit_test(test_window_counts),
		cmocka_unit_test(test_window_epoch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
