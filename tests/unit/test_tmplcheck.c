/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/tmplcheck (the strict template-value check) and core/cmdline (the command
 * line it reads, which the runner spawns). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmdline.h"
#include "err.h"
#include "factfile.h"
#include "kv.h"
#include "template.h"
#include "tmplcheck.h"
#include "xalloc.h"

/* In a case's line, \1 starts and \2 ends a value's bytes. */
struct line_case {
	const char *marked;
	enum tmplcheck_why want;
	size_t at;   /* the refused byte, in the line without the marks */
	size_t span; /* its value's index */
};

static const struct line_case line_cases[] = {
	/* the values of Factotum's own quoting: inside its double quotes */
	{ "echo \"\1a b;c|d&e<f>g(h)i'j*k?~#{}!\2\"", TMPLCHECK_OK, 0, 0 },
	{ "echo \"\1x,$(id -u; touch pwned)\2\"", TMPLCHECK_IN_DQ, 8, 0 },
	{ "echo \"\1`id`\2\"", TMPLCHECK_IN_DQ, 6, 0 },
	{ "echo \"\1a\\\2\"", TMPLCHECK_IN_DQ, 7, 0 },
	{ "echo \"\1a\" b\2\"", TMPLCHECK_IN_DQ, 7, 0 },
	{ "echo \"\1new\nline\2\"", TMPLCHECK_OK, 0, 0 },
	{ "echo \"\1caf\xc3\xa9\2\"", TMPLCHECK_OK, 0, 0 },
	/* an argument that holds its own quotes leaves the value outside any */
	{ "psql \"--sql=\"\1a b\2\"\"", TMPLCHECK_OUTSIDE_DQ, 14, 0 },
	{ "psql \"--sql=\"\1ab.c\2\"\"", TMPLCHECK_OK, 0, 0 },
	/* unquoted and single-quoted: the allow-list */
	{ "echo \1A-Za-z0-9._:/@%+=,-\2", TMPLCHECK_OK, 0, 0 },
	{ "echo \1a;b\2", TMPLCHECK_OUTSIDE_DQ, 6, 0 },
	{ "echo '\1a b\2'", TMPLCHECK_OUTSIDE_DQ, 7, 0 },
	{ "echo '\1ab\2'", TMPLCHECK_OK, 0, 0 },
	{ "echo \"'\"'\1a\"b\2'", TMPLCHECK_OUTSIDE_DQ, 10, 0 },
	{ "echo \1caf\xc3\xa9\2", TMPLCHECK_OUTSIDE_DQ, 8, 0 },
	{ "echo \1a\nb\2", TMPLCHECK_OUTSIDE_DQ, 6, 0 },
	/* backslashes: an escaped quote does not open or close anything; '\' is literal in '...' */
	{ "echo \"a\\\"\1a b\2\"", TMPLCHECK_OK, 0, 0 },
	{ "echo \\\"\1a b\2\"", TMPLCHECK_OUTSIDE_DQ, 8, 0 },
	{ "echo 'a\\'\"\1a b\2\"", TMPLCHECK_OK, 0, 0 },
	{ "echo \"\\\\\"\1a b\2\"", TMPLCHECK_OUTSIDE_DQ, 10, 0 },
	/* a '$' before a value makes it part of an expansion */
	{ "echo \"$\1(id)\2\"", TMPLCHECK_AFTER_DOLLAR, 7, 0 },
	{ "echo \"$\1HOME\2\"", TMPLCHECK_OK, 0, 0 },
	{ "echo \"\\$\1(id)\2\"", TMPLCHECK_OK, 0, 0 },
	{ "echo '$\1ab\2'", TMPLCHECK_OK, 0, 0 },
	/* $(...) is unquoted inside double quotes, with its own quotes; ${...} is not plain "..." */
	{ "echo \"$(printf %s \1a b\2)\"", TMPLCHECK_OUTSIDE_DQ, 19, 0 },
	{ "echo \"$(printf %s \"\1a b\2\")\"", TMPLCHECK_OK, 0, 0 },
	{ "echo \"$(echo \")\" \"\1a b\2\")\"", TMPLCHECK_OK, 0, 0 },
	{ "echo $(date) \"\1a b\2\"", TMPLCHECK_OK, 0, 0 },
	{ "echo $((1+(2))) \"\1a b\2\"", TMPLCHECK_OK, 0, 0 },
	{ "echo \"${x:-\1a b\2}\"", TMPLCHECK_OUTSIDE_DQ, 12, 0 },
	{ "echo \"${x:-\1ab\2}\" \"\1a b\2\"", TMPLCHECK_OK, 0, 0 },
	{ "echo $# \"\1a b\2\"", TMPLCHECK_OK, 0, 0 },
	{ "echo a#b \"\1a b\2\"", TMPLCHECK_OK, 0, 0 },
	{ "echo a;\\\n# \"\n\1;id\2", TMPLCHECK_UNSURE, 13, 0 },
	/* what the scan does not follow: only allow-listed bytes after it */
	{ "echo # \"\n\" \"\1a b\2\"", TMPLCHECK_UNSURE, 13, 0 },
	{ "echo # \"\n\" \"\1ab\2\"", TMPLCHECK_OK, 0, 0 },
	{ "echo `date` \"\1a b\2\"", TMPLCHECK_UNSURE, 14, 0 },
	{ "echo \"`date`\1a b\2\"", TMPLCHECK_UNSURE, 13, 0 },
	{ "cat <<E \"\1a b\2\"", TMPLCHECK_UNSURE, 10, 0 },
	{ "echo $'\\'' \"\1a b\2\"", TMPLCHECK_UNSURE, 13, 0 },
	{ "echo \"${x:-'}\" \"\1a b\2\"", TMPLCHECK_UNSURE, 17, 0 },
	{ "echo \"$(case a in a) echo \1;id\2;; esac)\"", TMPLCHECK_UNSURE, 26, 0 },
	/* the first refused byte wins, and names its value */
	{ "echo \"\1ok ok\2\" \"\1fine\2\" \1x y\2", TMPLCHECK_OUTSIDE_DQ, 21, 2 },
	{ "echo \"\1\2\"", TMPLCHECK_OK, 0, 0 },
};

/* Strips the marks of m into *line and fills spans (var = the value's index). */
static size_t unmark(const char *m, char *line, struct template_span *spans)
{
	size_t n = 0, o = 0;

	for (; *m != '\0'; m++) {
		if (*m == '\1') {
			spans[n].off = o;
			spans[n].var = n;
		} else if (*m == '\2') {
			spans[n].len = o - spans[n].off;
			n++;
		} else {
			line[o++] = *m;
		}
	}
	line[o] = '\0';
	return n;
}

static void test_line_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof line_cases / sizeof line_cases[0]; i++) {
		const struct line_case *c = &line_cases[i];
		struct template_span spans[8];
		char line[256];
		size_t n = unmark(c->marked, line, spans), at = 99, span = 99;
		enum tmplcheck_why why;

		why = tmplcheck_line(line, strlen(line), spans, n, &at, &span);
		if (why != c->want || (why != TMPLCHECK_OK && (at != c->at || span != c->span)))
			fail_msg("case %zu <%s>: got %d at %zu span %zu, want %d at %zu span %zu",
				 i, line, why, at, span, c->want, c->at, c->span);
	}
}

/* Nesting past the scan's depth makes it unsure, not wrong. */
static void test_deep_nesting(void **state)
{
	struct template_span sp;
	struct buf b;
	size_t at, span;

	(void)state;
	buf_init(&b);
	for (int i = 0; i < 100; i++)
		buf_puts(&b, "\"$(");
	sp.off = b.len;
	sp.len = 3;
	sp.var = 0;
	buf_puts(&b, "a b");
	assert_int_equal(tmplcheck_line(b.data, b.len, &sp, 1, &at, &span), TMPLCHECK_UNSURE);
	assert_int_equal(at, sp.off + 1);
	buf_free(&b);
}

/* Runs line with shell in dir (stdin /dev/null, output discarded, at most 2 s); 1 if it created
 * dir/P. */
static int shell_made_p(const char *shell, const char *dir, const char *line)
{
	char *p = xasprintf("%s/P", dir);
	int status, made;
	pid_t pid;

	unlink(p);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);
		if (fd < 0 || chdir(dir) != 0 || dup2(fd, 0) < 0 || dup2(fd, 1) < 0 ||
		    dup2(fd, 2) < 0)
			_exit(127);
		alarm(2);
		execl(shell, shell, "-c", line, (char *)NULL);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	made = access(p, F_OK) == 0;
	unlink(p);
	free(p);
	return made;
}

/* Against real shells: random command lines in the runner's shape (command, then a double-quoted
 * argument holding a value), with values that create the file P if the shell reads them as code.
 * Whatever the check accepts must leave P absent. A fixed seed: the same lines every run. */
static void test_shells_agree(void **state)
{
	static const char *const pieces[] = {
		"$(", "${", "$((", "))", "case ", " in ", " esac", "\\\n", "\"$(", ")\"", "*", "!",
		"~",  "[",  "]",   "?",  "\"",    "'",    "\\",    "$",    "(",    ")",   "{", "}",
		"`",  "#",  " ",   ";",  "a",     "\n",   "<",     "=",    "-",    ":",   "|", "&",
	};
	static const char *const values[] = {
		";touch P;",    "a b;touch P;#", "|touch P|", "&touch P&",
		"\ntouch P\n",  ")touch P(",     "(touch P)", "';touch P;'",
		")};touch P;#", "';touch P;#",   "}touch P{",
	};
	static const char *const shells[] = { "/bin/sh", "/bin/dash", "/bin/bash" };
	const size_t np = sizeof pieces / sizeof pieces[0];
	char dir[] = "/tmp/test_tmplcheck.XXXXXX";
	unsigned long seed = 14;
	size_t accepted = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	for (int trial = 0; trial < 400; trial++) {
		struct template_span sp = { 0, 0, 0 };
		struct buf b;
		size_t at, k, n;

		buf_init(&b);
		buf_puts(&b, "true ");
#define NEXT() (seed = seed * 6364136223846793005UL + 1442695040888963407UL, (size_t)(seed >> 33))
		for (n = NEXT() % 12; n > 0; n--)
			buf_puts(&b, pieces[NEXT() % np]);
		buf_puts(&b, " \"");
		for (n = NEXT() % 3; n > 0; n--)
			buf_puts(&b, pieces[NEXT() % np]);
		sp.off = b.len;
		buf_puts(&b, values[NEXT() % (sizeof values / sizeof values[0])]);
		sp.len = b.len - sp.off;
		for (n = NEXT() % 5; n > 0; n--)
			buf_puts(&b, pieces[NEXT() % np]);
#undef NEXT
		buf_putc(&b, '"');
		if (tmplcheck_line(b.data, b.len, &sp, 1, &at, &k) == TMPLCHECK_OK) {
			accepted++;
			for (size_t s = 0; s < sizeof shells / sizeof shells[0]; s++)
				if (access(shells[s], X_OK) == 0 &&
				    shell_made_p(shells[s], dir, b.data))
					fail_msg("%s ran a value as code: <%s>", shells[s], b.data);
		}
		buf_free(&b);
	}
	/* the lines exercise both answers */
	assert_true(accepted > 50 && accepted < 350);
	rmdir(dir);
}

static void test_cmdline(void **state)
{
	char *args[] = { "a b", "", "\"q\"" };
	struct factfile_task t = { .command = "echo", .arguments = args, .n_arguments = 3 };
	size_t off[3];
	char *line;

	(void)state;
	line = cmdline_build(&t, off);
	assert_string_equal(line, "echo \"a b\" \"\" \"\"q\"\"");
	assert_int_equal(off[0], 6);
	assert_int_equal(off[1], 12);
	assert_int_equal(off[2], 15);
	free(line);
	t.n_arguments = 0;
	line = cmdline_build(&t, NULL);
	assert_string_equal(line, "echo ");
	free(line);
}

#define SCHEMA "iglu:com.snowplowanalytics.factotum/factfile/jsonschema/1-0-0"
/* A factfile of one task "t" running command with the JSON array text args. */
#define FF1(command, args)                                                                \
	"{\"schema\":\"" SCHEMA "\",\"data\":{\"name\":\"j\",\"tasks\":[{\"name\":\"t\"," \
	"\"executor\":\"shell\",\"command\":\"" command "\",\"arguments\":[" args "],"    \
	"\"dependsOn\":[],\"onResult\":{\"terminateJobWithSuccess\":[],\"continueJob\":[0]}}]}}"

#define IN_DQ                                                                                 \
	" inside double quotes in the command line; --template-values strict allows neither " \
	"'\"', '$', '`' nor '\\' there"
#define OUTSIDE                                                                             \
	" outside double quotes in the command line; --template-values strict allows only " \
	"[A-Za-z0-9._:/@%+=,-] there"

struct ff_case {
	const char *text;
	const char *key, *value;
	const char *want; /* NULL: accepted */
};

static const struct ff_case ff_cases[] = {
	/* the issue's attack */
	{ FF1("echo", "\"{{tag:x}}\""), "tag:x", "$(id -u; touch pwned)",
	  "task 't': the value of 'tag:x' puts '$'" IN_DQ },
	{ FF1("echo", "\"{{{tag:x}}}\""), "tag:x", "`id`",
	  "task 't': the value of 'tag:x' puts '`'" IN_DQ },
	{ FF1("echo", "\"{{tag:x}}\""), "tag:x", "a\\",
	  "task 't': the value of 'tag:x' puts '\\'" IN_DQ },
	/* {{x}} turns '"' into &quot;, {{{x}}} and {{&x}} do not */
	{ FF1("echo", "\"{{tag:x}}\""), "tag:x", "a\" b", NULL },
	{ FF1("echo", "\"{{{tag:x}}}\""), "tag:x", "a\" b",
	  "task 't': the value of 'tag:x' puts '\"'" IN_DQ },
	{ FF1("echo", "\"{{&tag:x}}\""), "tag:x", "a\"",
	  "task 't': the value of 'tag:x' puts '\"'" IN_DQ },
	/* quotes in the argument itself */
	{ FF1("psql", "\"--sql=\\\"{{tag:q}}\\\"\""), "tag:q", "select 1",
	  "task 't': the value of 'tag:q' puts ' '" OUTSIDE },
	{ FF1("psql", "\"--sql=\\\"{{tag:q}}\\\"\""), "tag:q", "a\"",
	  "task 't': the value of 'tag:q' puts '&'" OUTSIDE },
	{ FF1("psql", "\"--sql=\\\"{{tag:q}}\\\"\""), "tag:q", "2026-12-04", NULL },
	/* single quotes in the command are outside double quotes */
	{ FF1("sh -c 'echo ", "\"{{env}}\", \"'\""), "env", "a b",
	  "task 't': the value of 'env' puts ' '" OUTSIDE },
	{ FF1("echo '", "\"{{{who}}}\", \"'\""), "who", "it's",
	  "task 't': the value of 'who' puts \"'\"" OUTSIDE },
	{ FF1("echo '", "\"{{who}}\", \"'\""), "who", "a\nb",
	  "task 't': the value of 'who' puts U+000A" OUTSIDE },
	{ FF1("echo", "\"{{who}}\""), "who", "\xc3\xa9t\xc3\xa9 ok", NULL },
	{ FF1("echo \\\"", "\"{{who}}\""), "who", "\xc3\xa9t\xc3\xa9",
	  "task 't': the value of 'who' puts '\xc3\xa9'" OUTSIDE },
	/* a value that renders nowhere, or nothing at all */
	{ FF1("echo", "\"a\""), "tag:x", "$(id)", NULL },
	{ FF1("echo", "\"{{^tag:x}}{{tag:x}}{{/tag:x}}\""), "tag:x", "$(id)", NULL },
	{ FF1("echo", "\"$\\\"{{tag:x}}\""), "tag:x", "", NULL },
	{ FF1("echo `date`", "\"{{tag:x}}\""), "tag:x", "a b",
	  "task 't': the value of 'tag:x' puts ' ' after a backtick, comment, here-document, "
	  "$'...' or quote inside ${...} in the command line; --template-values strict allows "
	  "only [A-Za-z0-9._:/@%+=,-] there" },
	{ FF1("echo", "\"${{tag:x}}\""), "tag:x", "(id)",
	  "task 't': the value of 'tag:x' puts '(' right after a '$' in the command line; "
	  "--template-values strict allows only [A-Za-z0-9._:/@%+=,-] there" },
};

static void test_factfile_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof ff_cases / sizeof ff_cases[0]; i++) {
		const struct ff_case *c = &ff_cases[i];
		struct kvlist vars;
		struct factfile ff;
		char *err = NULL;
		int rc;

		kvlist_init(&vars);
		kvlist_set(&vars, "tag:other", "plain");
		kvlist_set(&vars, c->key, c->value);
		if (factfile_parse(c->text, strlen(c->text), "/f", &vars, FACTFILE_RULES_OURS, &ff,
				   &err) != 0)
			fail_msg("case %zu: parse: %s", i, err);
		rc = tmplcheck_factfile(&ff, &vars, &err);
		if (c->want == NULL && rc != 0)
			fail_msg("case %zu: refused: %s", i, err);
		if (c->want != NULL &&
		    (rc != FS_EINVAL || err == NULL || strcmp(err, c->want) != 0))
			fail_msg("case %zu: got %d <%s>, want <%s>", i, rc, err ? err : "",
				 c->want);
		factfile_free(&ff);
		kvlist_free(&vars);
		free(err);
	}
}

/* The whole factfile: the first task with a refused value is named; a NULL errp is fine. */
static void test_factfile_tasks(void **state)
{
	static const char text[] =
		"{\"schema\":\"" SCHEMA "\",\"data\":{\"name\":\"j\",\"tasks\":["
		"{\"name\":\"a\",\"executor\":\"shell\",\"command\":\"echo\",\"arguments\":[\"{{v}}\"],"
		"\"dependsOn\":[],\"onResult\":{\"terminateJobWithSuccess\":[],\"continueJob\":[0]}},"
		"{\"name\":\"b\\n{{v}}\",\"executor\":\"shell\",\"command\":\"echo\",\"arguments\":[\"x\","
		"\"\\\"{{v}}\\\"\"],\"dependsOn\":[],\"onResult\":{\"terminateJobWithSuccess\":[],"
		"\"continueJob\":[0]}}]}}";
	struct kvlist vars;
	struct factfile ff;
	char *err = NULL;

	(void)state;
	kvlist_init(&vars);
	kvlist_set(&vars, "v", "a;b");
	if (factfile_parse(text, strlen(text), "/f", &vars, FACTFILE_RULES_OURS, &ff, &err) != 0)
		fail_msg("parse: %s", err);
	assert_int_equal(tmplcheck_factfile(&ff, &vars, NULL), FS_EINVAL);
	assert_int_equal(tmplcheck_factfile(&ff, &vars, &err), FS_EINVAL);
	assert_string_equal(err, "task 'b\\x0aa;b': the value of 'v' puts ';'" OUTSIDE);
	free(err);
	factfile_free(&ff);
	/* parsed without templating (Factotum's dot): nothing came from a value */
	assert_int_equal(factfile_parse(text, strlen(text), "/f", NULL, FACTFILE_RULES_OURS, &ff,
					NULL),
			 0);
	assert_int_equal(tmplcheck_factfile(&ff, NULL, NULL), 0);
	factfile_free(&ff);
	kvlist_free(&vars);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_table),     cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_cmdline),        cmocka_unit_test(test_factfile_table),
		cmocka_unit_test(test_factfile_tasks), cmocka_unit_test(test_shells_agree),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
