/* SPDX-License-Identifier: Apache-2.0 */
/* Stands in for <cmocka.h> where cmocka is not installed (configure puts this directory on the
 * include path then): cmocka is needed by the unit tests only, so the programs still build, and
 * each unit test compiles to a program that runs none of its tests, says so and exits 77, which
 * make check counts as skipped. Only the parts of cmocka's API the tests use are here; every
 * assertion's arguments are kept in an unevaluated sizeof so the compiler sees them used. */
#ifndef FS_NOCMOCKA_H
#define FS_NOCMOCKA_H

#include <stdio.h>

typedef void (*CMUnitTestFunction)(void **state);
typedef int (*CMFixtureFunction)(void **state);

struct CMUnitTest {
	const char *name;
	CMUnitTestFunction test_func;
	CMFixtureFunction setup_func;
	CMFixtureFunction teardown_func;
	void *initial_state;
};

/* never called: its arguments only appear in sizeof */
int fs_nocmocka_use(int first, ...);
#define FS_NOCMOCKA_USE(...) ((void)sizeof(fs_nocmocka_use(0, __VA_ARGS__)))

#define cmocka_unit_test(f) cmocka_unit_test_setup_teardown(f, NULL, NULL)
#define cmocka_unit_test_setup_teardown(f, setup, teardown)                                \
	{                                                                                  \
		.name = #f, .test_func = f, .setup_func = setup, .teardown_func = teardown \
	}

static inline int fs_nocmocka_skip(size_t n, CMFixtureFunction setup, CMFixtureFunction teardown)
{
	(void)setup;
	(void)teardown;
	printf("SKIP: built without cmocka (install libcmocka-dev and run ./configure again): "
	       "%zu tests not run\n",
	       n);
	return 77;
}
#define cmocka_run_group_tests(group, setup, teardown) \
	fs_nocmocka_skip(sizeof(group) / sizeof((group)[0]), setup, teardown)

#define assert_true(...)          FS_NOCMOCKA_USE(__VA_ARGS__)
#define assert_false(...)         FS_NOCMOCKA_USE(__VA_ARGS__)
#define assert_null(...)          FS_NOCMOCKA_USE(__VA_ARGS__)
#define assert_non_null(...)      FS_NOCMOCKA_USE(__VA_ARGS__)
#define assert_int_equal(...)     FS_NOCMOCKA_USE(__VA_ARGS__)
#define assert_int_not_equal(...) FS_NOCMOCKA_USE(__VA_ARGS__)
#define assert_ptr_equal(...)     FS_NOCMOCKA_USE(__VA_ARGS__)
#define assert_string_equal(...)  FS_NOCMOCKA_USE(__VA_ARGS__)
#define assert_memory_equal(...)  FS_NOCMOCKA_USE(__VA_ARGS__)
#define fail_msg(...)             FS_NOCMOCKA_USE(__VA_ARGS__)
#define print_message(...)        FS_NOCMOCKA_USE(__VA_ARGS__)

#endif
