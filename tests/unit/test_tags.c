/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/tags.c: Factotum's --tag grammar and Rust's Unicode trim. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kv.h"
#include "tags.h"

/* Parses each argument in turn into a fresh list and checks the result is exactly want (pairs,
 * NULL-terminated), in order. */
static void check_tags(const char *const *args, const char *const *want)
{
	struct kvlist l;
	size_t n = 0;

	kvlist_init(&l);
	for (; *args != NULL; args++)
		tags_add(&l, *args);
	for (; want[2 * n] != NULL; n++) {
		assert_true(n < l.n);
		assert_string_equal(l.items[n].key, want[2 * n]);
		assert_string_equal(l.items[n].value, want[2 * n + 1]);
	}
	assert_int_equal(l.n, n);
	kvlist_free(&l);
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define NONE      ((const char *const[]){ NULL })

/* The cases of Factotum's own test_tag_map. */
static void test_factotum_cases(void **state)
{
	(void)state;
	check_tags(ARGS("hello,world"), ARGS("hello", "world"));
	check_tags(ARGS("  hello   ,  world   "), ARGS("hello", "world"));
	check_tags(ARGS("  hello   "), ARGS("hello", ""));
	check_tags(ARGS(" "), NONE);
	check_tags(ARGS(" , asdas"), NONE);
	check_tags(ARGS("the rain,first,, wow,,"), ARGS("the rain", "first wow"));
}

static void test_commas_joined_without_separator(void **state)
{
	(void)state;
	check_tags(ARGS("k,a,b,c"), ARGS("k", "abc"));
	check_tags(ARGS("k, a , b "), ARGS("k", "a  b"));
	check_tags(ARGS("k,"), ARGS("k", ""));
	check_tags(ARGS("k,,,"), ARGS("k", ""));
	check_tags(ARGS("k,  ,  "), ARGS("k", ""));
	check_tags(ARGS("k"), ARGS("k", ""));
}

static void test_empty_keys_dropped(void **state)
{
	(void)state;
	check_tags(ARGS(""), NONE);
	check_tags(ARGS(","), NONE);
	check_tags(ARGS(",v"), NONE);
	check_tags(ARGS("\t\n ,v"), NONE);
	check_tags(ARGS(",,,"), NONE);
	/* U+3000 IDEOGRAPHIC SPACE alone is whitespace too. */
	check_tags(ARGS("\xe3\x80\x80,v"), NONE);
}

static void test_repeated_key_keeps_last(void **state)
{
	(void)state;
	check_tags(ARGS("a,1", "b,2", "a,3"), ARGS("a", "3", "b", "2"));
	check_tags(ARGS(" a ,1", "a,"), ARGS("a", ""));
	/* A dropped argument changes nothing. */
	check_tags(ARGS("a,1", ",2"), ARGS("a", "1"));
}

static void test_unicode_trim(void **state)
{
	(void)state;
	/* U+00A0 NBSP, U+0085 NEL, U+2003 EM SPACE, U+2028, U+2029, U+202F, U+205F, U+3000, U+1680,
	 * U+000B, U+000C: all White_Space, all trimmed at both ends. */
	check_tags(ARGS("\xc2\xa0key\xc2\x85,\xe2\x80\x83value\xe2\x80\xa8"), ARGS("key", "value"));
	check_tags(ARGS("\xe2\x80\xa9k\xe2\x80\xaf,\xe2\x81\x9fv\xe3\x80\x80\xe1\x9a\x80"),
		   ARGS("k", "v"));
	check_tags(ARGS("\v\fk\r,\tv\n"), ARGS("k", "v"));
	/* Inner whitespace stays. */
	check_tags(ARGS("a\xc2\xa0"
			"b,c\xe3\x80\x80"
			"d"),
		   ARGS("a\xc2\xa0"
			"b",
			"c\xe3\x80\x80"
			"d"));
	/* Not White_Space: U+200B ZERO WIDTH SPACE, U+180E MONGOLIAN VOWEL SEPARATOR, U+FEFF BOM. */
	check_tags(ARGS("\xe2\x80\x8bk,\xe1\xa0\x8ev\xef\xbb\xbf"),
		   ARGS("\xe2\x80\x8bk", "\xe1\xa0\x8ev\xef\xbb\xbf"));
	/* Non-ASCII that is not whitespace is kept whole. */
	check_tags(ARGS(" \xc3\xa9quipe , donn\xc3\xa9"
			"es "),
		   ARGS("\xc3\xa9quipe", "donn\xc3\xa9"
					 "es"));
	/* Invalid UTF-8 is never whitespace: a stray continuation byte, a truncated NBSP. */
	check_tags(ARGS("\xa0k\xc2,v"), ARGS("\xa0k\xc2", "v"));
}

static void test_trim_helpers(void **state)
{
	const char *s = "\xc2\xa0 x y \xe2\x80\x80";
	size_t len = strlen(s);

	(void)state;
	assert_int_equal(tags_space_len("\xc2\xa0", 2), 2);
	assert_int_equal(tags_space_len("\xc2\xa0", 1), 0);
	assert_int_equal(tags_space_len("\xe2\x80\x8a", 3), 3); /* U+200A */
	assert_int_equal(tags_space_len("\xe2\x80\x8b", 3), 0); /* U+200B */
	assert_int_equal(tags_space_len(" ", 1), 1);
	assert_int_equal(tags_space_len("x", 1), 0);
	assert_int_equal(tags_space_len("", 0), 0);
	tags_trim(&s, &len);
	assert_int_equal(len, 3);
	assert_memory_equal(s, "x y", 3);
	s = " \t ";
	len = 3;
	tags_trim(&s, &len);
	assert_int_equal(len, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_factotum_cases),
		cmocka_unit_test(test_commas_joined_without_separator),
		cmocka_unit_test(test_empty_keys_dropped),
		cmocka_unit_test(test_repeated_key_keeps_last),
		cmocka_unit_test(test_unicode_trim),
		cmocka_unit_test(test_trim_helpers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
