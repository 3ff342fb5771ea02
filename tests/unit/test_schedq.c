/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/schedq.c, the next-due queue: order by slot, then by when a name was first
 * queued, updates, removal, taking the due slots, name bounds, and a long random run against a
 * plain array. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"
#include "schedq.h"

static void assert_peek(const struct schedq *q, const char *name, int64_t next)
{
	const char *n = NULL;
	int64_t t = 0;

	assert_int_equal(schedq_peek(q, &n, &t), 0);
	assert_string_equal(n, name);
	assert_int_equal(t, next);
}

static void test_empty(void **state)
{
	struct schedq *q = schedq_new(0);
	const char *name = NULL;
	int64_t next = 0;

	(void)state;
	assert_int_equal(schedq_count(q), 0);
	assert_int_equal(schedq_peek(q, &name, &next), FS_ENOENT);
	assert_int_equal(schedq_pop_due(q, INT64_MAX, &name, &next), FS_ENOENT);
	assert_int_equal(schedq_remove(q, "a"), FS_ENOENT);
	schedq_free(q);
	schedq_free(NULL);
}

static void test_order_and_update(void **state)
{
	struct schedq *q = schedq_new(2);

	(void)state;
	assert_int_equal(schedq_set(q, "b", 30), 0);
	assert_int_equal(schedq_set(q, "a", 20), 0);
	assert_int_equal(schedq_set(q, "c", 10), 0);
	assert_int_equal(schedq_count(q), 3);
	assert_peek(q, "c", 10);
	assert_int_equal(schedq_set(q, "c", 40), 0); /* later: another comes first */
	assert_int_equal(schedq_count(q), 3);
	assert_peek(q, "a", 20);
	assert_int_equal(schedq_set(q, "b", 20), 0); /* a tie: b was queued first */
	assert_peek(q, "b", 20);
	assert_int_equal(schedq_set(q, "b", 21), 0);
	assert_peek(q, "a", 20);
	assert_int_equal(schedq_remove(q, "b"), 0); /* still first in a tie when queued again */
	assert_int_equal(schedq_set(q, "b", 20), 0);
	assert_peek(q, "b", 20);
	assert_int_equal(schedq_set(q, "c", 5), 0); /* earlier */
	assert_peek(q, "c", 5);
	assert_int_equal(schedq_peek(q, NULL, NULL), 0);
	schedq_free(q);
}

static void test_remove_and_pop(void **state)
{
	struct schedq *q = schedq_new(4);
	const char *name;
	int64_t next;

	(void)state;
	for (int i = 0; i < 10; i++) {
		char n[16];

		snprintf(n, sizeof n, "s%d", i);
		assert_int_equal(schedq_set(q, n, 100 + 10 * i), 0);
	}
	assert_int_equal(schedq_remove(q, "s0"), 0);
	assert_int_equal(schedq_remove(q, "s0"), FS_ENOENT);
	assert_int_equal(schedq_remove(q, "s5"), 0);
	assert_int_equal(schedq_remove(q, "nope"), FS_ENOENT);
	assert_int_equal(schedq_count(q), 8);
	assert_peek(q, "s1", 110);
	/* due at 140: s1..s4, earliest first, then nothing */
	for (int i = 1; i <= 4; i++) {
		char n[16];

		snprintf(n, sizeof n, "s%d", i);
		assert_int_equal(schedq_pop_due(q, 140, &name, &next), 0);
		assert_string_equal(name, n);
		assert_int_equal(next, 100 + 10 * i);
	}
	assert_int_equal(schedq_pop_due(q, 140, &name, &next), FS_ENOENT);
	assert_int_equal(schedq_count(q), 4);
	assert_peek(q, "s6", 160);
	/* a name taken out comes back with schedq_set */
	assert_int_equal(schedq_set(q, "s0", 1), 0);
	assert_int_equal(schedq_set(q, "s5", 2), 0);
	assert_int_equal(schedq_remove(q, "s1"), FS_ENOENT);
	assert_int_equal(schedq_count(q), 6);
	assert_int_equal(schedq_pop_due(q, 1, &name, NULL), 0);
	assert_string_equal(name, "s0");
	assert_int_equal(schedq_pop_due(q, 1, NULL, NULL), FS_ENOENT);
	assert_peek(q, "s5", 2);
	schedq_free(q);
}

static void test_names(void **state)
{
	struct schedq *q = schedq_new(1);
	char name[SCHEDQ_NAME_MAX + 2];

	(void)state;
	memset(name, 'x', SCHEDQ_NAME_MAX);
	name[SCHEDQ_NAME_MAX] = '\0';
	assert_int_equal(schedq_set(q, name, 7), 0);
	assert_peek(q, name, 7);
	name[SCHEDQ_NAME_MAX] = 'x';
	name[SCHEDQ_NAME_MAX + 1] = '\0';
	assert_int_equal(schedq_set(q, name, 1), FS_EINVAL);
	assert_int_equal(schedq_set(q, "", 1), FS_EINVAL);
	assert_int_equal(schedq_count(q), 1);
	schedq_free(q);
}

/* The reference: a plain array, its minimum found by a full scan; ties go to the name queued
 * first (order[i]: when n<i> was first set). */
struct model {
	int64_t next[200];
	int queued[200];
	int order[200];
};

static int model_min(const struct model *m)
{
	int best = -1;

	for (int i = 0; i < 200; i++) {
		if (!m->queued[i])
			continue;
		if (best < 0 || m->next[i] < m->next[best] ||
		    (m->next[i] == m->next[best] && m->order[i] < m->order[best]))
			best = i;
	}
	return best;
}

static void test_random(void **state)
{
	struct schedq *q = schedq_new(16);
	struct model m = { { 0 }, { 0 }, { 0 } };
	size_t count = 0;
	int order = 0;

	(void)state;
	srand(19);
	for (int step = 0; step < 20000; step++) {
		int i = rand() % 200, op = rand() % 10, best;
		const char *name;
		int64_t next, now = rand() % 1000;
		char n[16];

		snprintf(n, sizeof n, "n%d", i);
		if (op < 6) {
			int64_t t = rand() % 1000;

			assert_int_equal(schedq_set(q, n, t), 0);
			if (!m.order[i])
				m.order[i] = ++order;
			count += !m.queued[i];
			m.queued[i] = 1;
			m.next[i] = t;
		} else if (op < 8) {
			assert_int_equal(schedq_remove(q, n), m.queued[i] ? 0 : FS_ENOENT);
			count -= m.queued[i];
			m.queued[i] = 0;
		} else {
			best = model_min(&m);
			if (best >= 0 && m.next[best] <= now) {
				snprintf(n, sizeof n, "n%d", best);
				assert_int_equal(schedq_pop_due(q, now, &name, &next), 0);
				assert_string_equal(name, n);
				assert_int_equal(next, m.next[best]);
				m.queued[best] = 0;
				count--;
			} else {
				assert_int_equal(schedq_pop_due(q, now, &name, &next), FS_ENOENT);
			}
		}
		assert_int_equal(schedq_count(q), count);
		best = model_min(&m);
		if (best < 0) {
			assert_int_equal(schedq_peek(q, &name, &next), FS_ENOENT);
		} else {
			snprintf(n, sizeof n, "n%d", best);
			assert_peek(q, n, m.next[best]);
		}
	}
	schedq_free(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),          cmocka_unit_test(test_order_and_update),
		cmocka_unit_test(test_remove_and_pop), cmocka_unit_test(test_names),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
