/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/nodeinfo.c: the key, the address, and the value a node publishes for
 * /nodes, built and parsed back byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"
#include "nodeinfo.h"

static void test_key_and_address(void **state)
{
	char *s;

	(void)state;
	s = nodeinfo_key("com.acme/factotum", "node-1");
	assert_string_equal(s, "com.acme/factotum/nodes/node-1");
	free(s);
	s = nodeinfo_prefix("ns");
	assert_string_equal(s, "ns/nodes/");
	free(s);
	s = nodeinfo_address("127.0.0.1", 3000);
	assert_string_equal(s, "127.0.0.1:3000");
	free(s);
	s = nodeinfo_address("::1", 3000);
	assert_string_equal(s, "[::1]:3000");
	free(s);
	assert_null(nodeinfo_address("0.0.0.0", 3000));
	assert_null(nodeinfo_address("::", 3000));
}

static void test_build_parse(void **state)
{
	struct nodeinfo n = { .name = "node-1",
			      .address = "10.0.0.5:3000",
			      .queued = 3,
			      .running = 2,
			      .updated_ms = 1796359572345LL };
	struct nodeinfo back;
	char *v, *err = NULL;

	(void)state;
	v = nodeinfo_build(&n);
	assert_string_equal(v, "{\"name\":\"node-1\",\"address\":\"10.0.0.5:3000\",\"queued\":3,"
			       "\"running\":2,\"updated\":\"2026-12-04T04:46:12.345Z\"}");
	assert_int_equal(nodeinfo_parse(v, strlen(v), &back, &err), 0);
	assert_string_equal(back.name, "node-1");
	assert_string_equal(back.address, "10.0.0.5:3000");
	assert_int_equal(back.queued, 3);
	assert_int_equal(back.running, 2);
	assert_int_equal(back.updated_ms, 1796359572345LL);
	nodeinfo_free(&back);
	free(v);
	n.address = NULL;
	v = nodeinfo_build(&n);
	assert_non_null(strstr(v, "\"address\":null,"));
	assert_int_equal(nodeinfo_parse(v, strlen(v), &back, &err), 0);
	assert_null(back.address);
	nodeinfo_free(&back);
	free(v);
}

static void test_parse_refuses(void **state)
{
	static const char *const bad[] = {
		"",
		"[]",
		"{\"name\":\"n\",\"address\":null,\"queued\":1,\"running\":0}",
		"{\"name\":1,\"address\":null,\"queued\":1,\"running\":0,"
		"\"updated\":\"2026-12-05T04:46:12.345Z\"}",
		"{\"name\":\"n\",\"address\":null,\"queued\":\"1\",\"running\":0,"
		"\"updated\":\"2026-12-05T04:46:12.345Z\"}",
		"{\"name\":\"n\",\"address\":null,\"queued\":1,\"running\":0,"
		"\"updated\":\"yesterday\"}",
	};
	struct nodeinfo n;
	char *err;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		assert_int_equal(nodeinfo_parse(bad[i], strlen(bad[i]), &n, &err), FS_EINVAL);
		assert_non_null(err);
		assert_null(n.name);
		nodeinfo_free(&n);
		free(err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_and_address),
		cmocka_unit_test(test_build_parse),
		cmocka_unit_test(test_parse_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
