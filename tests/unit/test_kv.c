/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/kv (ordered unique string pairs) and the xalloc string buffer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "err.h"
#include "kv.h"
#include "xalloc.h"

static void test_set_get_replace(void **state)
{
	struct kvlist l;
	kvlist_init(&l);
	assert_null(kvlist_get(&l, "a"));
	kvlist_set(&l, "b", "1");
	kvlist_set(&l, "a", "2");
	kvlist_set(&l, "b", "3");
	assert_int_equal(l.n, 2);
	assert_string_equal(l.items[0].key, "b"); /* replacing keeps the position */
	assert_string_equal(kvlist_get(&l, "b"), "3");
	assert_string_equal(kvlist_get(&l, "a"), "2");
	kvlist_free(&l);
	assert_int_equal(l.n, 0);
}

static void test_sort_bytewise(void **state)
{
	struct kvlist l, c;
	kvlist_init(&l);
	kvlist_set(&l, "\xc3\xa9t\xc3\xa9", "x"); /* "été": bytes above ASCII sort last */
	kvlist_set(&l, "b", "x");
	kvlist_set(&l, "B", "x");
	kvlist_set(&l, "a", "x");
	kvlist_sort(&l);
	assert_string_equal(l.items[0].key, "B");
	assert_string_equal(l.items[1].key, "a");
	assert_string_equal(l.items[2].key, "b");
	assert_string_equal(l.items[3].key, "\xc3\xa9t\xc3\xa9");
	kvlist_copy(&c, &l);
	kvlist_set(&l, "a", "changed");
	assert_string_equal(kvlist_get(&c, "a"), "x");
	kvlist_free(&c);
	kvlist_free(&l);
}

static void test_buf_and_err(void **state)
{
	struct buf b;
	char *s, *err = NULL;
	buf_init(&b);
	for (int i = 0; i < 1000; i++)
		buf_printf(&b, "%d,", i % 10);
	buf_putc(&b, '!');
	assert_int_equal(b.len, 2001);
	s = buf_steal(&b);
	assert_int_equal(strlen(s), 2001);
	assert_memory_equal(s, "0,1,2,", 6);
	assert_null(b.data);
	free(s);
	assert_int_equal(err_set(&err, FS_EINVAL, "bad %s", "thing"), FS_EINVAL);
	assert_int_equal(err_set(&err, FS_EIO, "worse %d", 2), FS_EIO);
	assert_string_equal(err, "worse 2");
	free(err);
	assert_int_equal(err_set(NULL, FS_EFULL, "ignored"), FS_EFULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_get_replace),
		cmocka_unit_test(test_sort_bytewise),
		cmocka_unit_test(test_buf_and_err),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
