/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of core/ffjson: rustc-serialize 0.3.25's accepted language, error texts and positions
 * (expected values checked against the real crate), number kinds, BTreeMap objects, the compact
 * string escaping, and the robustness bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"
#include "ffjson.h"
#include "xalloc.h"

static struct ffjson *parse_ok(const char *s, size_t len)
{
	struct ffjson *v = NULL;
	char *err = NULL;
	int rc = ffjson_parse(s, len, &v, NULL, &err);

	if (rc != 0)
		fail_msg("unexpected error for '%s': %s", s, err);
	assert_int_equal(rc, 0);
	assert_null(err);
	assert_non_null(v);
	return v;
}

static void expect_err(const char *s, size_t len, const char *msg)
{
	struct ffjson *v = (struct ffjson *)1;
	char *err = NULL;

	assert_int_equal(ffjson_parse(s, len, &v, NULL, &err), FS_EINVAL);
	assert_null(v);
	assert_non_null(err);
	assert_string_equal(err, msg);
	free(err);
}

#define EXPECT_ERR(lit, msg) expect_err(lit, sizeof(lit) - 1, msg)

static void test_syntax_errors(void **state)
{
	(void)state;
	EXPECT_ERR("fasdfasdfasfdalskdfasdmasdfa\nthis is not valid json\n",
		   "invalid syntax at line 1, column 3");
	EXPECT_ERR("", "EOF While parsing value at line 1, column 1");
	EXPECT_ERR("   ", "EOF While parsing value at line 1, column 4");
	EXPECT_ERR("{", "EOF While parsing object at line 1, column 2");
	EXPECT_ERR("{\"a\"", "EOF While parsing object at line 1, column 5");
	EXPECT_ERR("{\"a\":", "EOF While parsing value at line 1, column 6");
	EXPECT_ERR("{\"a\":1", "EOF While parsing object at line 1, column 7");
	EXPECT_ERR("{\"a\":1,}", "trailing comma at line 1, column 8");
	EXPECT_ERR("{\"a\" 1}", "expected `:` at line 1, column 6");
	EXPECT_ERR("{1:2}", "key must be a string at line 1, column 2");
	EXPECT_ERR("[1,]", "invalid syntax at line 1, column 4");
	EXPECT_ERR("[1 2]", "invalid syntax at line 1, column 4");
	EXPECT_ERR("[", "EOF While parsing value at line 1, column 2");
	EXPECT_ERR("{\"a\":1}}", "trailing characters at line 1, column 8");
	EXPECT_ERR("[1}", "invalid syntax at line 1, column 3");
	EXPECT_ERR("{\"a\":1 \"b\":2}", "invalid syntax at line 1, column 8");
	EXPECT_ERR("nul", "invalid syntax at line 1, column 4");
	/* A nested trailing comma in an object surfaces later. */
	EXPECT_ERR("{\"x\":{\"a\":1,}}", "trailing characters at line 1, column 14");
}

static void test_positions_after_newline(void **state)
{
	(void)state;
	/* '\n' itself is column 1 of the next line, so columns there start at 2. */
	EXPECT_ERR("{\n  \"a\": tru\n}", "invalid syntax at line 3, column 1");
	EXPECT_ERR("{\n  \"a\": 01\n}", "invalid number at line 2, column 10");
	EXPECT_ERR("\n\n  }", "invalid syntax at line 3, column 4");
	/* Columns count characters, not bytes. */
	EXPECT_ERR("[\"\xc3\xa9\xf0\x9f\x98\x80\" x]", "invalid syntax at line 1, column 7");
}

static void test_string_errors(void **state)
{
	(void)state;
	EXPECT_ERR("\"abc", "EOF While parsing string at line 1, column 5");
	EXPECT_ERR("\"a\x01"
		   "b\"",
		   "unescaped control character in string at line 1, column 3");
	EXPECT_ERR("\"a\nb\"", "unescaped control character in string at line 2, column 1");
	EXPECT_ERR("\"\\x\"", "invalid escape at line 1, column 3");
	EXPECT_ERR("\"\\u12G4\"", "invalid escape at line 1, column 6");
	EXPECT_ERR("\"\\ud800\"", "unexpected end of hex escape at line 1, column 9");
	EXPECT_ERR("\"\\ud800\\u0041\"",
		   "lone leading surrogate in hex escape at line 1, column 13");
	EXPECT_ERR("\"\\udc00\"", "lone leading surrogate in hex escape at line 1, column 7");
}

static void test_number_errors(void **state)
{
	(void)state;
	EXPECT_ERR("-", "invalid number at line 1, column 2");
	EXPECT_ERR("1.", "invalid number at line 1, column 3");
	EXPECT_ERR("1e", "invalid number at line 1, column 3");
	EXPECT_ERR("18446744073709551616", "invalid number at line 1, column 20");
	EXPECT_ERR("-9223372036854775809", "invalid number at line 1, column 21");
}

static void test_not_utf8(void **state)
{
	struct ffjson_error e;
	struct ffjson *v;
	char *err = NULL;

	(void)state;
	EXPECT_ERR("\"\xff\"", "contents not utf-8 at line 0, column 0");
	EXPECT_ERR("\"\xed\xa0\x80\"", "contents not utf-8 at line 0, column 0"); /* surrogate */
	EXPECT_ERR("\"\xc0\xaf\"", "contents not utf-8 at line 0, column 0");     /* overlong */
	assert_int_equal(ffjson_parse("\"\xf4\x90\x80\x80\"", 6, &v, &e, &err), FS_EINVAL);
	assert_int_equal(e.code, FFJSON_E_NOT_UTF8);
	free(err);
}

static void test_number_kinds(void **state)
{
	struct ffjson *v;

	(void)state;
	v = parse_ok("[0, 7, -0, -5, 1.0, 1e2, -0.0, 18446744073709551615, -9223372036854775808]",
		     strlen("[0, 7, -0, -5, 1.0, 1e2, -0.0, 18446744073709551615, "
			    "-9223372036854775808]"));
	assert_int_equal(v->n_items, 9);
	assert_int_equal(v->items[0]->type, FFJSON_U64);
	assert_int_equal(v->items[1]->type, FFJSON_U64);
	assert_int_equal(v->items[1]->u64, 7);
	assert_int_equal(v->items[2]->type, FFJSON_I64);
	assert_int_equal(v->items[2]->i64, 0);
	assert_int_equal(v->items[3]->type, FFJSON_I64);
	assert_true(v->items[3]->i64 == -5);
	assert_int_equal(v->items[4]->type, FFJSON_F64);
	assert_true(v->items[4]->f64 == 1.0);
	assert_int_equal(v->items[5]->type, FFJSON_F64);
	assert_true(v->items[5]->f64 == 100.0);
	assert_int_equal(v->items[6]->type, FFJSON_F64);
	assert_int_equal(v->items[7]->type, FFJSON_U64);
	assert_true(v->items[7]->u64 == UINT64_MAX);
	assert_int_equal(v->items[8]->type, FFJSON_I64);
	assert_true(v->items[8]->i64 == INT64_MIN);
	ffjson_free(v);
}

static void test_objects_are_btreemaps(void **state)
{
	const char *s = "{\"b\":1,\"a\":2,\"B\":3,\"a\":[4],\"\":5}";
	struct ffjson *v;

	(void)state;
	v = parse_ok(s, strlen(s));
	assert_int_equal(v->n_members, 4);
	assert_string_equal(v->members[0].key, "");
	assert_string_equal(v->members[1].key, "B");
	assert_string_equal(v->members[2].key, "a");
	assert_string_equal(v->members[3].key, "b");
	/* The last value of a repeated key wins. */
	assert_int_equal(ffjson_get(v, "a")->type, FFJSON_ARRAY);
	assert_null(ffjson_get(v, "c"));
	ffjson_free(v);
}

/* A large object with keys in descending order and each key repeated: sorted once at its end,
 * the last value of each key kept. */
static void test_large_object_sorted(void **state)
{
	struct buf b;
	struct ffjson *v;
	char key[16];

	(void)state;
	buf_init(&b);
	buf_putc(&b, '{');
	for (int round = 0; round < 2; round++)
		for (int i = 20000; i-- > 0;)
			buf_printf(&b, "%s\"k%05d\":%d", b.len > 1 ? "," : "", i, i + round);
	buf_putc(&b, '}');
	v = parse_ok(b.data, b.len);
	assert_int_equal(v->n_members, 20000);
	for (int i = 0; i < 20000; i++) {
		snprintf(key, sizeof key, "k%05d", i);
		assert_string_equal(v->members[i].key, key);
		assert_int_equal(v->members[i].value->u64, i + 1);
	}
	ffjson_free(v);
	buf_free(&b);
}

static void test_strings(void **state)
{
	const char *s = "[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\u0000\\ud83d\\ude00\x7f\"]";
	const char want[] = "\"\\/\b\f\n\r\t\xc3\xa9\0\xf0\x9f\x98\x80\x7f";
	struct ffjson *v;

	(void)state;
	v = parse_ok(s, strlen(s));
	assert_int_equal(v->items[0]->len, sizeof(want) - 1);
	assert_memory_equal(v->items[0]->str, want, sizeof(want) - 1);
	ffjson_free(v);
}

static void test_depth_cap(void **state)
{
	struct ffjson_error e;
	struct ffjson *v;
	char *err = NULL, *s;
	size_t n = 100000;

	(void)state;
	s = xmalloc(2 * n);
	memset(s, '[', n);
	memset(s + n, ']', n);
	assert_int_equal(ffjson_parse(s, 2 * n, &v, &e, &err), FS_EINVAL);
	assert_int_equal(e.code, FFJSON_E_DEPTH);
	assert_string_equal(err, "nesting too deep at line 1, column 514");
	free(err);
	/* FFJSON_MAX_DEPTH levels are fine. */
	v = parse_ok(s + n - FFJSON_MAX_DEPTH, 2 * FFJSON_MAX_DEPTH);
	ffjson_free(v);
	free(s);
}

static void test_long_keys_wrap(void **state)
{
	/* rustc-serialize keeps key lengths in 16 bits: "name" + 65536 bytes reads as "name". */
	size_t n = 4 + 65536;
	struct buf b;
	struct ffjson *v;

	(void)state;
	buf_init(&b);
	buf_puts(&b, "{\"name");
	for (size_t i = 4; i < n; i++)
		buf_putc(&b, 'x');
	buf_puts(&b, "\":1}");
	v = parse_ok(b.data, b.len);
	assert_int_equal(v->n_members, 1);
	assert_string_equal(v->members[0].key, "name");
	ffjson_free(v);
	buf_free(&b);
}

static void test_put_string(void **state)
{
	const char in[] = "a\"b\\c/\x01\b\t\n\x0b\f\r\x1f\x7f\0\xc3\xa9<";
	struct buf b;

	(void)state;
	buf_init(&b);
	ffjson_put_string(&b, in, sizeof(in) - 1);
	assert_string_equal(b.data, "\"a\\\"b\\\\c/\\u0001\\b\\t\\n\\u000b\\f\\r\\u001f\\u007f"
				    "\\u0000\xc3\xa9<\"");
	buf_free(&b);
}

static void test_never_reads_past_len(void **state)
{
	/* The buffer is not NUL-terminated: every prefix of a document must stay in bounds. */
	const char *doc = "{\"a\":[1,-2.5e3,\"\\u00e9\\ud83d\\ude00\",true,null,{}]}";
	size_t len = strlen(doc);

	(void)state;
	for (size_t n = 0; n <= len; n++) {
		char *copy = xmalloc(n ? n : 1);
		struct ffjson *v = NULL;
		char *err = NULL;

		memcpy(copy, doc, n);
		if (ffjson_parse(copy, n, &v, NULL, &err) == 0)
			assert_int_equal(n, len);
		ffjson_free(v);
		free(err);
		free(copy);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_positions_after_newline),
		cmocka_unit_test(test_string_errors),
		cmocka_unit_test(test_number_errors),
		cmocka_unit_test(test_not_utf8),
		cmocka_unit_test(test_number_kinds),
		cmocka_unit_test(test_objects_are_btreemaps),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_depth_cap),
		cmocka_unit_test(test_long_keys_wrap),
		cmocka_unit_test(test_put_string),
		cmocka_unit_test(test_never_reads_past_len),
		cmocka_unit_test(test_large_object_sorted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
