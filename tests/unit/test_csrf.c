/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/csrf.c: which POSTs the responder refuses as cross-site. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "csrf.h"

/* Neither header (curl, scripts): served. */
static void test_no_headers(void **state)
{
	(void)state;
	assert_int_equal(csrf_allowed(NULL, NULL, 0, "localhost:3000"), 1);
	assert_int_equal(csrf_allowed("", "", 1, NULL), 1);
	assert_int_equal(csrf_allowed(NULL, NULL, 0, NULL), 1);
}

static void test_fetch_site(void **state)
{
	(void)state;
	assert_int_equal(csrf_allowed(NULL, "cross-site", 0, "h"), 0);
	assert_int_equal(csrf_allowed(NULL, "same-site", 0, "h"), 0);
	assert_int_equal(csrf_allowed(NULL, "Cross-Site", 0, "h"), 0);
	assert_int_equal(csrf_allowed(NULL, "same-origin", 0, "h"), 1);
	assert_int_equal(csrf_allowed(NULL, "none", 0, "h"), 1);
	/* same-origin does not excuse a foreign Origin */
	assert_int_equal(csrf_allowed("http://evil.example", "same-origin", 0, "h"), 0);
	/* nor an own Origin a cross-site fetch */
	assert_int_equal(csrf_allowed("http://h", "cross-site", 0, "h"), 0);
}

static void test_origin(void **state)
{
	(void)state;
	assert_int_equal(csrf_allowed("http://localhost:3000", NULL, 0, "localhost:3000"), 1);
	assert_int_equal(csrf_allowed("http://LocalHost:3000", NULL, 0, "localhost:3000"), 1);
	assert_int_equal(csrf_allowed("http://localhost:3001", NULL, 0, "localhost:3000"), 0);
	assert_int_equal(csrf_allowed("https://localhost:3000", NULL, 0, "localhost:3000"), 0);
	assert_int_equal(csrf_allowed("http://localhost:3000", NULL, 1, "localhost:3000"), 0);
	assert_int_equal(csrf_allowed("http://evil.example", NULL, 0, "localhost:3000"), 0);
	assert_int_equal(csrf_allowed("null", NULL, 0, "localhost:3000"), 0);
	/* default ports, written or not */
	assert_int_equal(csrf_allowed("http://example.org", NULL, 0, "example.org:80"), 1);
	assert_int_equal(csrf_allowed("https://example.org:443", NULL, 1, "example.org"), 1);
	assert_int_equal(csrf_allowed("https://example.org", NULL, 1, "example.org:8443"), 0);
	/* IPv6 */
	assert_int_equal(csrf_allowed("http://[::1]:3000", NULL, 0, "[::1]:3000"), 1);
	assert_int_equal(csrf_allowed("http://[::1]:3000", NULL, 0, "[::2]:3000"), 0);
	/* a prefix of the host is not the host */
	assert_int_equal(csrf_allowed("http://local", NULL, 0, "localhost"), 0);
	assert_int_equal(csrf_allowed("http://localhost.evil", NULL, 0, "localhost"), 0);
	/* malformed: a path, an empty or oversized port, no Host to compare with */
	assert_int_equal(csrf_allowed("http://localhost/x", NULL, 0, "localhost"), 0);
	assert_int_equal(csrf_allowed("http://localhost:", NULL, 0, "localhost"), 0);
	assert_int_equal(csrf_allowed("http://localhost:99999", NULL, 0, "localhost:99999"), 0);
	assert_int_equal(csrf_allowed("http://localhost", NULL, 0, NULL), 0);
	assert_int_equal(csrf_allowed("http://localhost", NULL, 0, ""), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_headers),
		cmocka_unit_test(test_fetch_site),
		cmocka_unit_test(test_origin),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
