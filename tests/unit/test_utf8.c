/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/utf8: RFC 3629's well-formed sequences at every boundary, U+FFFD per
 * maximal subpart, and the lone-surrogate escapes of JSON text. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "utf8.h"
#include "xalloc.h"

#define S(lit) lit, sizeof(lit) - 1

static void valid(const char *s, size_t n)
{
	if (!utf8_valid(s, n))
		fail_msg("valid sequence refused at byte %zu", utf8_check(s, n));
	assert_int_equal(utf8_check(s, n), n);
}

static void invalid(const char *s, size_t n, size_t at)
{
	assert_false(utf8_valid(s, n));
	assert_int_equal(utf8_check(s, n), at);
}

static void test_valid(void **state)
{
	(void)state;
	valid(S(""));
	valid(S("plain ASCII \x01\x7f"));
	valid("\0", 1);               /* NUL is a character; callers refuse it themselves */
	valid(S("\xc2\x80"));         /* U+0080, the first two-byte */
	valid(S("\xdf\xbf"));         /* U+07FF, the last two-byte */
	valid(S("\xe0\xa0\x80"));     /* U+0800 */
	valid(S("\xed\x9f\xbf"));     /* U+D7FF, just below the surrogates */
	valid(S("\xee\x80\x80"));     /* U+E000, just above them */
	valid(S("\xef\xbf\xbd"));     /* U+FFFD itself */
	valid(S("\xef\xbf\xbf"));     /* U+FFFF (a noncharacter, still well formed) */
	valid(S("\xf0\x90\x80\x80")); /* U+10000 */
	valid(S("\xf0\x9f\x98\x80")); /* U+1F600 */
	valid(S("\xf4\x8f\xbf\xbf")); /* U+10FFFF, the last code point */
	valid(S("caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac"));
}

static void test_invalid(void **state)
{
	(void)state;
	/* bytes that never appear */
	invalid(S("\xff"), 0);
	invalid(S("\xfe"), 0);
	invalid(S("ab\xf5\x80\x80\x80"), 2);   /* would be above U+10FFFF */
	invalid(S("\xf8\x88\x80\x80\x80"), 0); /* the old five-byte form */
	/* a continuation byte alone */
	invalid(S("a\x80"), 1);
	invalid(S("\xbf"), 0);
	/* overlong forms */
	invalid(S("\xc0\x80"), 0);         /* NUL */
	invalid(S("\xc1\xbf"), 0);         /* U+007F */
	invalid(S("\xc0\xaf"), 0);         /* '/' */
	invalid(S("\xe0\x80\x80"), 0);     /* NUL in three */
	invalid(S("\xe0\x9f\xbf"), 0);     /* U+07FF in three */
	invalid(S("\xf0\x80\x80\x80"), 0); /* NUL in four */
	invalid(S("\xf0\x8f\xbf\xbf"), 0); /* U+FFFF in four */
	/* surrogates, encoded */
	invalid(S("\xed\xa0\x80"), 0);             /* U+D800 */
	invalid(S("x\xed\xbf\xbf"), 1);            /* U+DFFF */
	invalid(S("\xed\xa0\xbd\xed\xb8\x80"), 0); /* a pair in CESU-8 */
	/* above U+10FFFF */
	invalid(S("\xf4\x90\x80\x80"), 0); /* U+110000 */
	invalid(S("\xf7\xbf\xbf\xbf"), 0);
	/* truncated */
	invalid(S("\xc3"), 0);
	invalid(S("ok\xe2\x82"), 2);
	invalid(S("\xf0\x9f\x98"), 0);
	invalid(S("\xe2\x82x"), 0);            /* cut by an ASCII byte */
	invalid(S("\xf0\x9f\x98\xc3\xa9"), 0); /* cut by the start of another */
	/* the first bad byte after good ones */
	invalid(S("\xc3\xa9\xe2\x82\xac\xff"), 5);
}

static void test_seq_len(void **state)
{
	size_t bad = 99;

	(void)state;
	assert_int_equal(utf8_seq_len(S("a"), &bad), 1);
	assert_int_equal(utf8_seq_len(S("\xc3\xa9z"), &bad), 2);
	assert_int_equal(utf8_seq_len(S("\xe2\x82\xac"), &bad), 3);
	assert_int_equal(utf8_seq_len(S("\xf0\x9f\x98\x80"), &bad), 4);
	assert_int_equal(bad, 99); /* untouched on success */
	/* the maximal subpart: the longest start of a well-formed sequence */
	assert_int_equal(utf8_seq_len(S("\xff"), &bad), 0);
	assert_int_equal(bad, 1);
	assert_int_equal(utf8_seq_len(S("\xe2\x82x"), &bad), 0);
	assert_int_equal(bad, 2);
	assert_int_equal(utf8_seq_len(S("\xf0\x9f\x98"), &bad), 0);
	assert_int_equal(bad, 3);
	assert_int_equal(utf8_seq_len(S("\xed\xa0\x80"), &bad), 0);
	assert_int_equal(bad, 1); /* A0 is never a second byte after ED */
	assert_int_equal(utf8_seq_len(S("\xe0\x80\x80"), &bad), 0);
	assert_int_equal(bad, 1);
	assert_int_equal(utf8_seq_len(S("\xf4\x90"), &bad), 0);
	assert_int_equal(bad, 1);
	/* the length given bounds the read */
	assert_int_equal(utf8_seq_len("\xc3\xa9", 1, &bad), 0);
	assert_int_equal(bad, 1);
	assert_int_equal(utf8_seq_len(S("\x80"), NULL), 0);
}

static void sanitized_n(const char *s, size_t n, const char *want, size_t want_n)
{
	struct buf b;

	buf_init(&b);
	utf8_sanitize(&b, s, n);
	assert_int_equal(b.len, want_n);
	assert_memory_equal(b.data != NULL ? b.data : "", want, b.len);
	assert_true(utf8_valid(b.data != NULL ? b.data : "", b.len));
	buf_free(&b);
}

static void sanitized(const char *s, size_t n, const char *want)
{
	sanitized_n(s, n, want, strlen(want));
}

#define R "\xef\xbf\xbd"

static void test_sanitize(void **state)
{
	(void)state;
	sanitized(S(""), "");
	sanitized(S("caf\xc3\xa9"), "caf\xc3\xa9");
	sanitized(S("a\xff"
		    "b"),
		  "a" R "b");
	sanitized(S("\xff\xfe"), R R);
	/* Unicode's examples (chapter 3, U+FFFD substitution of maximal subparts) */
	sanitized(S("\x61\xf1\x80\x80\xe1\x80\xc2\x62\x80\x63\x80\xbf\x64"),
		  "a" R R R "b" R "c" R R "d");
	sanitized(S("\xe2\x82x"), R "x");
	sanitized(S("\xed\xa0\x80"), R R R);
	sanitized(S("\xc0\xaf"), R R);
	sanitized(S("\xf4\x90\x80\x80"), R R R R);
	sanitized(S("end\xf0\x9f\x98"), "end" R);
	sanitized_n("nul\0x", 5, "nul\0x", 5);
}

/* JSON texts, how many lone-surrogate escapes each holds, and the text with them rewritten. */
static const struct {
	const char *json;
	size_t count;
	const char *want;
} surrogate_cases[] = {
	{ "", 0, "" },
	{ "{\"a\":\"plain\"}", 0, "{\"a\":\"plain\"}" },
	{ "\"\\u00e9\\n\\\"\"", 0, "\"\\u00e9\\n\\\"\"" },
	/* a pair is one code point: kept */
	{ "\"\\ud83d\\ude00\"", 0, "\"\\ud83d\\ude00\"" },
	{ "\"\\uD83D\\uDE00\"", 0, "\"\\uD83D\\uDE00\"" },
	{ "\"\\udbff\\udfff\"", 0, "\"\\udbff\\udfff\"" },
	/* lone ones, high and low, at both ends of their ranges */
	{ "\"\\ud800\"", 1, "\"\xed\xa0\x80\"" },
	{ "\"\\uDBFF\"", 1, "\"\xed\xaf\xbf\"" },
	{ "\"\\udc00\"", 1, "\"\xed\xb0\x80\"" },
	{ "\"\\udfff\"", 1, "\"\xed\xbf\xbf\"" },
	/* a high one followed by something else than a low one */
	{ "\"\\ud800x\"", 1, "\"\xed\xa0\x80x\"" },
	{ "\"\\ud800\\u0041\"", 1, "\"\xed\xa0\x80\\u0041\"" },
	{ "\"\\ud800\\n\"", 1, "\"\xed\xa0\x80\\n\"" },
	{ "\"\\ud800\\ud800\\udc00\"", 1, "\"\xed\xa0\x80\\ud800\\udc00\"" },
	/* low before high: both lone */
	{ "\"\\udc00\\ud800\"", 2, "\"\xed\xb0\x80\xed\xa0\x80\"" },
	/* an escaped backslash is not the start of an escape */
	{ "\"\\\\ud800\"", 0, "\"\\\\ud800\"" },
	{ "\"\\\\\\ud800\"", 1, "\"\\\\\xed\xa0\x80\"" },
	/* just outside the surrogates */
	{ "\"\\ud7ff\\ue000\"", 0, "\"\\ud7ff\\ue000\"" },
	/* in keys and in arrays alike */
	{ "{\"\\udfff\":[\"a\",\"\\ud801\"]}", 2, "{\"\xed\xbf\xbf\":[\"a\",\"\xed\xa0\x81\"]}" },
	/* text cut short (not valid JSON): never read past it */
	{ "\"\\ud8", 0, "\"\\ud8" },
	{ "\"\\", 0, "\"\\" },
	{ "\"\\ud800\\ud", 1, "\"\xed\xa0\x80\\ud" },
};

static void test_json_surrogates(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(surrogate_cases) / sizeof(surrogate_cases[0]); i++) {
		const char *json = surrogate_cases[i].json, *want = surrogate_cases[i].want;
		size_t n = strlen(json), out_n = 0;
		char *out = malloc(n + 1);

		assert_int_equal(utf8_json_surrogates(json, n, NULL, NULL),
				 surrogate_cases[i].count);
		assert_int_equal(utf8_json_surrogates(json, n, out, &out_n),
				 surrogate_cases[i].count);
		assert_int_equal(out_n, strlen(want));
		assert_memory_equal(out, want, out_n);
		free(out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),           cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_seq_len),         cmocka_unit_test(test_sanitize),
		cmocka_unit_test(test_json_surrogates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
