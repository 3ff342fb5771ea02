/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for worker/schedfire's catch-up over the spool store: the slots missed while
 * nothing fired are fired and recorded as catchUp says, and the walk through them is bounded (a
 * per-second schedule after a long outage). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "schedfire.h"
#include "spool.h"
#include "spoolsched.h"
#include "xalloc.h"

struct fixture {
	char dir[256];
	struct spool *sp;
	struct config cfg;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof *f);
	const char *tmp = getenv("TMPDIR");
	char *err = NULL;

	snprintf(f->dir, sizeof f->dir, "%s/test_schedfire.XXXXXX",
		 tmp != NULL && *tmp ? tmp : "/tmp");
	if (mkdtemp(f->dir) == NULL || spool_open(&f->sp, f->dir, SPOOL_SYNC_NORMAL, &err) != 0) {
		free(err);
		free(f);
		return -1;
	}
	config_init(&f->cfg);
	f->cfg.no_consul = 1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[300];

	spool_close(f->sp);
	config_free(&f->cfg);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* A per-second schedule whose last slot is back_s ago. Its factfile does not exist: each slot
 * fired is recorded refused ("invalid: ..."), which is all the catch-up needs. */
static void put(struct fixture *f, int catch_up, int64_t back_s)
{
	struct spoolsched s = { .name = "tick",
				.cron = "* * * * * *",
				.timezone = "UTC",
				.job_name = "j",
				.factfile_path = "/nonexistent/f.factfile",
				.factfile_args = "[]",
				.catch_up = catch_up };
	char *err = NULL;

	assert_int_equal(spoolsched_set(f->sp, &s, clock_real_ms() / 1000 - back_s, &err), 0);
}

/* One round over the spool; returns its duration in ms. */
static int64_t round_ms(struct fixture *f)
{
	struct schedfire sf;
	char *err = NULL;
	int64_t t0;

	assert_int_equal(schedfire_init(&sf, &f->cfg, f->sp, &err), 0);
	t0 = clock_mono_ms();
	assert_int_equal(schedfire_round(&sf, 1), 0);
	t0 = clock_mono_ms() - t0;
	schedfire_free(&sf);
	return t0;
}

/* The history, newest first, after checking its shape: fire_n rows fired or refused, then
 * SCHEDFIRE_MISSED_ROWS missed ones a second apart, then the summary row. */
static struct spoolsched_slot *history(struct fixture *f, size_t fire_n, size_t *np)
{
	struct spoolsched_slot *rows = NULL;
	char *err = NULL;

	assert_int_equal(spoolsched_history(f->sp, "tick", 0, &rows, np, &err), 0);
	assert_int_equal(*np, fire_n + SCHEDFIRE_MISSED_ROWS + 1);
	for (size_t i = 0; i < fire_n; i++) {
		assert_int_equal(rows[i].result, SPOOLSCHED_REFUSED);
		assert_int_equal(rows[i].slot, rows[0].slot - (int64_t)i);
	}
	for (size_t i = fire_n; i < fire_n + SCHEDFIRE_MISSED_ROWS; i++) {
		assert_int_equal(rows[i].result, SPOOLSCHED_MISSED);
		assert_null(rows[i].reason);
		assert_int_equal(rows[i].count, 1);
		assert_int_equal(rows[i].slot, rows[0].slot - (int64_t)i);
	}
	assert_int_equal(rows[*np - 1].result, SPOOLSCHED_MISSED);
	return rows;
}

/* The summary row's reason and slot (the one before the first missed row), the schedule's last
 * slot the newest row's; frees rows. */
static void summary_check(struct fixture *f, struct spoolsched_slot *rows, size_t n,
			  const char *reason)
{
	struct spoolsched *s = NULL;
	char *err = NULL;

	assert_string_equal(rows[n - 1].reason, reason);
	assert_int_equal(rows[n - 1].slot, rows[n - 2].slot - 1);
	assert_int_equal(spoolsched_get(f->sp, "tick", &s, &err), 0);
	assert_int_equal(s->last_slot, rows[0].slot);
	spoolsched_free(s);
	spoolsched_slots_free(rows, n);
}

/* An hour's outage, catchUp 3: the last 3 slots fire, 100 are recorded one by one, and the
 * summary row counts exactly the others, its slot the one before the first recorded row. */
static void test_catchup_exact(void **state)
{
	struct fixture *f = *state;
	struct spoolsched_slot *rows;
	int64_t back = 3600, last0 = clock_real_ms() / 1000 - back, more;
	char want[64];
	size_t n;

	put(f, 3, back);
	(void)round_ms(f);
	rows = history(f, 3, &n);
	/* every slot from last0 + 1 to the newest is accounted for, once */
	more = rows[0].slot - last0 - 3 - SCHEDFIRE_MISSED_ROWS;
	assert_true(more > 3000);
	snprintf(want, sizeof want, "%lld more slots missed", (long long)more);
	assert_int_equal(rows[n - 1].count, more);
	summary_check(f, rows, n, want);
}

/* 400 days of a per-second schedule (34 million slots): the round stops walking them after
 * SCHEDFIRE_WALK_MAX, still fires the newest slot and records the newest 100, and says the rest
 * is a lower bound. */
static void test_catchup_bounded(void **state)
{
	struct fixture *f = *state;
	struct spoolsched_slot *rows;
	int64_t ms, now;
	char want[64];
	size_t n;

	put(f, SPOOLSCHED_CATCHUP_LAST, 400LL * 86400);
	ms = round_ms(f);
	now = clock_real_ms() / 1000;
	print_message("catch-up over 400 days of seconds: %lld ms\n", (long long)ms);
	assert_true(ms < 1000);
	rows = history(f, 1, &n);
	assert_true(rows[0].slot >= now - 2 && rows[0].slot <= now);
	assert_true(rows[n - 1].count >= SCHEDFIRE_WALK_MAX);
	assert_true(rows[n - 1].count < 400LL * 86400);
	snprintf(want, sizeof want, "at least %lld more slots missed",
		 (long long)rows[n - 1].count);
	summary_check(f, rows, n, want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_catchup_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_catchup_bounded, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
