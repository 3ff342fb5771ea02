/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/runident.c: the published text both ways, and the permission computation
 * as a table of modes, owners and groups against a run user with and without a fixed uid (the
 * kernel's order: owner bits, else group bits, else others', never a union), and the walk over a
 * real path's directories and symlinks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>

#include "err.h"
#include "runident.h"

/* the run user: uid 1001, group 1001, supplementary groups 27 and 100 */
static gid_t run_groups[] = { 27, 100 };
static const struct runident run_user = { 0, 1001, 1001, run_groups, 2, "factotum-run" };
/* the same with --run-uid-range: a uid that owns nothing */
static const struct runident run_range = { 1, 0, 1001, run_groups, 2, "factotum-run" };
static const struct runident run_root = { 0, 0, 0, NULL, 0, "root" };

struct perm_case {
	const struct runident *ri;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	int want, allowed;
};

static const struct perm_case perm_cases[] = {
	/* others' bits */
	{ &run_user, 0644, 0, 0, R_OK, 1 },
	{ &run_user, 0640, 0, 0, R_OK, 0 },
	{ &run_user, 0600, 0, 0, R_OK, 0 },
	{ &run_user, 0755, 0, 0, X_OK, 1 },
	{ &run_user, 0700, 0, 0, X_OK, 0 },
	{ &run_user, 0754, 0, 0, X_OK, 0 }, /* readable, not searchable */
	{ &run_user, 0751, 0, 0, X_OK, 1 }, /* searchable, not listable */
	{ &run_user, 0711, 0, 0, R_OK, 0 },
	/* the owner's bits, even when the others' would allow more */
	{ &run_user, 0600, 1001, 0, R_OK, 1 },
	{ &run_user, 0044, 1001, 0, R_OK, 0 },
	{ &run_user, 0700, 1001, 0, X_OK, 1 },
	{ &run_user, 0400, 1001, 1001, R_OK, 1 },
	/* the group's bits: the primary group, then a supplementary one */
	{ &run_user, 0640, 0, 1001, R_OK, 1 },
	{ &run_user, 0640, 0, 27, R_OK, 1 },
	{ &run_user, 0640, 0, 100, R_OK, 1 },
	{ &run_user, 0640, 0, 101, R_OK, 0 },
	{ &run_user, 0604, 0, 100, R_OK, 0 }, /* a member gets the group's bits, not the others' */
	{ &run_user, 0710, 0, 27, X_OK, 1 },
	/* both accesses at once */
	{ &run_user, 0755, 0, 0, R_OK | X_OK, 1 },
	{ &run_user, 0751, 0, 0, R_OK | X_OK, 0 },
	/* a range uid never owns the file: the group's or others' bits */
	{ &run_range, 0600, 1001, 0, R_OK, 0 },
	{ &run_range, 0644, 1001, 0, R_OK, 1 },
	{ &run_range, 0640, 1001, 1001, R_OK, 1 },
	{ &run_range, 0600, 0, 1001, R_OK, 0 },
	{ &run_range, 0604, 0, 27, R_OK, 0 },
	/* root runs keep their capabilities */
	{ &run_root, 0000, 1001, 1001, R_OK | X_OK, 1 },
};

static void test_allows(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(perm_cases) / sizeof(perm_cases[0]); i++) {
		const struct perm_case *c = &perm_cases[i];
		struct stat st;

		memset(&st, 0, sizeof(st));
		st.st_mode = c->mode;
		st.st_uid = c->uid;
		st.st_gid = c->gid;
		if (runident_allows(c->ri, &st, c->want) != c->allowed)
			fail_msg("case %zu: mode %04o owner %u:%u want %d: expected %d", i,
				 (unsigned)c->mode, (unsigned)c->uid, (unsigned)c->gid, c->want,
				 c->allowed);
	}
}

/* in's text is want, and it parses back to in, field by field. */
static void round_trip(const struct runident *in, const char *want)
{
	struct runident ri;
	char *s = runident_format(in);

	assert_string_equal(s, want);
	assert_int_equal(runident_parse(s, &ri, NULL), 0);
	assert_int_equal(ri.any_uid, in->any_uid);
	if (!in->any_uid)
		assert_int_equal(ri.uid, in->uid);
	assert_int_equal(ri.gid, in->gid);
	assert_int_equal(ri.ngroups, in->ngroups);
	for (size_t i = 0; i < in->ngroups; i++)
		assert_int_equal(ri.groups[i], in->groups[i]);
	if (in->ngroups == 0)
		assert_null(ri.groups);
	assert_string_equal(ri.name, in->name);
	runident_free(&ri);
	free(s);
}

static void test_format_parse(void **state)
{
	struct runident ri;
	char *err = NULL;

	(void)state;
	round_trip(&run_user, "1001:1001:27,100:factotum-run");
	round_trip(&run_range, "*:1001:27,100:factotum-run");
	round_trip(&run_root, "0:0::root");
	assert_int_equal(runident_parse(RUNIDENT_SELF, &ri, NULL), 1);

	static const char *const bad[] = {
		"",        "1001",     "1001:1001", "1001:1001:",       "1001:1001::", "x:1:2:n",
		"1:-1::n", "1:1:2,:n", "1:1:,2:n",  "99999999999:1::n", "*1:1::n"
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (runident_parse(bad[i], &ri, &err) != FS_EINVAL)
			fail_msg("'%s' parsed", bad[i]);
	}
	assert_string_equal(err, "not a run identity: '*1:1::n'");
	free(err);
}

/* A temporary tree owned by the test's user, examined for a uid and groups that are not its. */
static void test_can_read(void **state)
{
	char dir[] = "/tmp/fs-runident.XXXXXX", sub[64], file[96], link[96], dlink[96], via[128];
	gid_t none[] = { 0 };
	struct stat st;
	struct runident other = { 0, 0, 0, none, 0, "other" };
	int fd;

	(void)state;
	/* someone who is neither the owner nor in the group */
	other.uid = getuid() + 1;
	other.gid = getgid() + 1;
	if (other.uid == 0)
		other.uid = 1;
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	snprintf(file, sizeof(file), "%s/f.factfile", sub);
	snprintf(link, sizeof(link), "%s/link", dir);
	snprintf(dlink, sizeof(dlink), "%s/dlink", dir);
	snprintf(via, sizeof(via), "%s/dlink/f.factfile", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_true((fd = open(file, O_CREAT | O_WRONLY, 0644)) >= 0);
	close(fd);
	assert_int_equal(symlink(file, link), 0);
	assert_int_equal(symlink(sub, dlink), 0);
	assert_int_equal(chmod(dir, 0755), 0);

	/* sub is 0700: nobody else may search it, by any of the three paths */
	assert_int_equal(runident_can_read(&other, file, NULL), 0);
	assert_int_equal(runident_can_read(&other, link, NULL), 0);
	assert_int_equal(runident_can_read(&other, via, NULL), 0);
	/* its owner may (the owner's bits) */
	other.uid = getuid();
	assert_int_equal(runident_can_read(&other, file, NULL), 1);
	other.uid = getuid() + 1 == 0 ? 1 : getuid() + 1;
	/* searchable but not listable is enough */
	assert_int_equal(chmod(sub, 0711), 0);
	assert_int_equal(runident_can_read(&other, file, NULL), 1);
	assert_int_equal(runident_can_read(&other, link, NULL), 1);
	assert_int_equal(runident_can_read(&other, via, NULL), 1);
	assert_int_equal(runident_can_read(&other, "/tmp/../tmp/.///../tmp/", NULL), 1);
	/* the file itself */
	assert_int_equal(chmod(file, 0640), 0);
	assert_int_equal(runident_can_read(&other, file, NULL), 0);
	assert_int_equal(runident_can_read(&other, via, NULL), 0);
	/* the caller's lstat of the file stands for it */
	assert_int_equal(lstat(file, &st), 0);
	assert_int_equal(runident_can_read(&other, file, &st), 0);
	st.st_mode |= 0004;
	assert_int_equal(runident_can_read(&other, file, &st), 1);
	/* the file's group among the supplementary groups */
	none[0] = getgid();
	other.ngroups = 1;
	assert_int_equal(runident_can_read(&other, file, NULL), 1);
	/* a directory on the way that the group may not search: the group's bits, not the
	 * others' */
	assert_int_equal(chmod(sub, 0701), 0);
	assert_int_equal(runident_can_read(&other, file, NULL), 0);
	/* gone: left to the later checks */
	assert_int_equal(runident_can_read(&other, "/nonexistent/f.factfile", NULL), 1);

	unlink(link);
	unlink(dlink);
	unlink(file);
	rmdir(sub);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allows),
		cmocka_unit_test(test_format_parse),
		cmocka_unit_test(test_can_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
