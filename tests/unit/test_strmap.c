/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of core/strmap: SipHash-2-4 against its published test vectors, and the map's lookups,
 * first-value-stays insertion and growth past its initial size. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "strmap.h"
#include "xalloc.h"

/* The SipHash paper's key 00 01 .. 0f with messages 00 01 .. (len - 1): its worked example
 * (15 bytes) and the first entry of the reference implementation's vectors (empty message). */
static void test_siphash_vectors(void **state)
{
	unsigned char key[16], msg[15];

	(void)state;
	for (int i = 0; i < 16; i++)
		key[i] = (unsigned char)i;
	for (int i = 0; i < 15; i++)
		msg[i] = (unsigned char)i;
	assert_true(strmap_siphash(key, msg, 15) == 0xa129ca6149be45e5ULL);
	assert_true(strmap_siphash(key, msg, 0) == 0x726fdb47dd0e0e31ULL);
}

static void test_put_get(void **state)
{
	struct strmap *m = strmap_new(2);
	char **keys = xcalloc(5000, sizeof *keys);

	(void)state;
	assert_int_equal(strmap_get(m, "a"), -1);
	/* more keys than the map was sized for: it grows */
	for (size_t i = 0; i < 5000; i++) {
		keys[i] = xasprintf("task %zu", i);
		assert_int_equal(strmap_put(m, keys[i], i), -1);
	}
	for (size_t i = 0; i < 5000; i++)
		assert_int_equal(strmap_get(m, keys[i]), (long)i);
	/* a second put of a key keeps the first value */
	assert_int_equal(strmap_put(m, "task 17", 99), 17);
	assert_int_equal(strmap_get(m, "task 17"), 17);
	assert_int_equal(strmap_get(m, "task 5000"), -1);
	assert_int_equal(strmap_get(m, ""), -1);
	assert_int_equal(strmap_put(m, "", 7), -1);
	assert_int_equal(strmap_get(m, ""), 7);
	strmap_free(m);
	for (size_t i = 0; i < 5000; i++)
		free(keys[i]);
	free(keys);
	strmap_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_siphash_vectors),
		cmocka_unit_test(test_put_get),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
