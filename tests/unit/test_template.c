/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/template: rust-mustache 0.7.0 behaviour over a flat map of strings. The
 * expected bytes of the table cases were produced by rust-mustache 0.7.0 itself (compiled with
 * rustc-serialize 0.3.25 and driven the way Factotum drives it), not by this implementation. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "err.h"
#include "kv.h"
#include "template.h"
#include "xalloc.h"

/* A literal with its length (literals may hold NUL bytes). */
#define S(x) x, sizeof(x) - 1

static void vars_fill(struct kvlist *v)
{
	static const char *const pairs[][2] = {
		{ "message", "hello" }, { "esc", "A&<>\"'B" },
		{ "amp", "&" },         { "lt", "<" },
		{ "gt", ">" },          { "quot", "\"" },
		{ "apos", "'" },        { "other", "/`=" },
		{ "empty", "" },        { "nested.message", "NM" },
		{ "tag:team", "T" },    { "\xc3\xa9t\xc3\xa9", "summer" },
		{ "name", "Ed" },
	};

	kvlist_init(v);
	for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
		kvlist_set(v, pairs[i][0], pairs[i][1]);
}

struct ok_case {
	const char *what;
	const char *tpl;
	size_t tlen;
	const char *out;
	size_t olen;
};

/* Rendered with vars_fill's map; outputs from rust-mustache 0.7.0. */
static const struct ok_case ok_cases[] = {
	{ "plain text", S("hello world"), S("hello world") },
	{ "empty template", S(""), S("") },
	{ "variable", S("hello {{message}}!"), S("hello hello!") },
	{ "escape &", S("{{amp}}"), S("&amp;") },
	{ "escape <", S("{{lt}}"), S("&lt;") },
	{ "escape >", S("{{gt}}"), S("&gt;") },
	{ "escape \"", S("{{quot}}"), S("&quot;") },
	{ "escape '", S("{{apos}}"), S("&#39;") },
	{ "escape all", S("[{{esc}}]"), S("[A&amp;&lt;&gt;&quot;&#39;B]") },
	{ "not escaped: / ` =", S("{{other}}"), S("/`=") },
	{ "triple mustache is raw", S("[{{{esc}}}]"), S("[A&<>\"'B]") },
	{ "ampersand is raw", S("[{{&esc}}]"), S("[A&<>\"'B]") },
	{ "ampersand with spaces", S("[{{& esc }}]"), S("[A&<>\"'B]") },
	{ "triple with spaces", S("[{{{ esc }}}]"), S("[A&<>\"'B]") },
	{ "spaces in braces", S("[{{ message }}]"), S("[hello]") },
	{ "tabs and newlines in braces", S("[{{\tmessage\n}}]"), S("[hello]") },
	{ "unicode whitespace in braces", S("[{{\302\240message\343\200\200}}]"), S("[hello]") },
	{ "non-ASCII name", S("{{\303\251t\303\251}}"), S("summer") },
	{ "dotted name is a path", S("[{{nested.message}}]"), S("[]") },
	{ "dotted raw name is a path", S("[{{{nested.message}}}{{&nested.message}}]"), S("[]") },
	{ "one trailing dot is dropped", S("[{{message.}}]"), S("[hello]") },
	{ "two trailing dots are a path", S("[{{message..}}]"), S("[]") },
	{ "leading dot is a path", S("[{{.message}}]"), S("[]") },
	{ "tag key", S("team={{tag:team}}"), S("team=T") },
	{ "missing is empty", S("[{{nope}}][{{{nope}}}][{{&nope}}]"), S("[][][]") },
	{ "empty value", S("[{{empty}}]"), S("[]") },
	{ "shell quotes", S("echo \\\"{{message}}\\\""), S("echo \\\"hello\\\"") },
	{ "brace expansion", S("for i in {1..4}; do echo $i; done"),
	  S("for i in {1..4}; do echo $i; done") },
	{ "lone brace", S("a { b {"), S("a { b {") },
	{ "stray closing", S("a }} b }}}"), S("a }} b }}}") },
	{ "single braces", S("{x} {{message}} }"), S("{x} hello }") },
	{ "brace before tag", S("{{{message}}} {{{{message}}}"), S("hello ") },
	{ "json text", S("{\"a\":{\"b\":[1,2]}}"), S("{\"a\":{\"b\":[1,2]}}") },
	{ "half-closed tag at the end", S("x{{message}"), S("xmessage}") },
	{ "half-open at the end", S("x{"), S("x{") },
	{ "comment", S("a{{! a comment }}b"), S("ab") },
	{ "multiline comment", S("a{{! line 1\nline 2 }}b"), S("ab") },
	{ "empty comment", S("a{{!}}b"), S("ab") },
	{ "section over missing", S("a{{#nope}}X{{message}}{{/nope}}b"), S("ab") },
	{ "inverted over missing", S("a{{^nope}}X{{message}}{{/nope}}b"), S("aXhellob") },
	{ "inverted over string", S("a{{^message}}X{{/message}}b"), S("ab") },
	{ "inverted over empty string", S("a{{^empty}}X{{/empty}}b"), S("ab") },
	{ "section over dotted path", S("a{{#nested.message}}X{{/nested.message}}b"), S("ab") },
	{ "inverted over dotted path", S("a{{^nested.message}}X{{/nested.message}}b"), S("aXb") },
	{ "close with trailing dot", S("a{{^nope.}}X{{/nope}}b"), S("aXb") },
	{ "spaces in section tags", S("a{{^ nope }}X{{/ nope }}b"), S("aXb") },
	{ "nested inverted", S("{{^a1}}1{{^a2}}2{{#a3}}3{{/a3}}{{/a2}}4{{/a1}}"), S("124") },
	{ "skipped section hides render errors",
	  S("a{{#nope}}{{.}}{{#message}}{{/message}}{{/nope}}b"), S("ab") },
	{ "section dot name", S("a{{^.}}X{{/.}}b"), S("aXb") },
	{ "raw dot is key ''", S("a{{&.}}b"), S("ab") },
	{ "standalone section lines", S("a\n{{#nope}}\nX\n{{/nope}}\nb"), S("a\nb") },
	{ "standalone inverted lines", S("a\n{{^nope}}\nX\n{{/nope}}\nb"), S("a\nX\nb") },
	{ "indented standalone", S("a\n  {{^nope}}\n  X\n  {{/nope}}\nb"), S("a\n  X\nb") },
	{ "standalone comment", S("a\n  {{! c }}\nb"), S("a\nb") },
	{ "comment with trailing space is not standalone", S("a\n  {{! c }} \nb"), S("a\n   \nb") },
	{ "standalone at start", S("{{! c }}\nb"), S("b") },
	{ "standalone at end", S("a\n{{! c }}"), S("a\n") },
	{ "indented at end", S("a\n   {{! c }}"), S("a\n") },
	{ "only whitespace before", S("   {{! c }}\nb"), S("b") },
	{ "crlf standalone", S("a\r\n{{! c }}\r\nb"), S("a\r\nb") },
	{ "lone cr is not a line end", S("a\r{{! c }}\rb"), S("a\r\rb") },
	{ "variable line is not standalone", S("a\n{{nope}}\nb"), S("a\n\nb") },
	{ "0.7.0 quirk: second of two sections keeps its newline",
	  S("{{^a1}}\n{{/a1}}\n{{^b1}}\n{{/b1}}\n"), S("\n") },
	{ "0.7.0 quirk: whitespace-only text after first token", S("{{message}}  {{! c }}\nb"),
	  S("hello  \nb") },
	{ "two comments on a line", S("a\n{{!x}}{{!y}}\nb"), S("a\nb") },
	{ "set delimiters", S("{{=<% %>=}}<%message%> {{message}}"), S("hello {{message}}") },
	{ "set delimiters with spaces", S("{{= | | =}}|message| |{message}| |&message|"),
	  S("hello hello hello") },
	{ "set and reset delimiters", S("{{=<% %>=}}<%message%><%={{ }}=%>{{message}}"),
	  S("hellohello") },
	{ "standalone set delimiters", S("a\n{{=<% %>=}}\n<%message%>"), S("a\nhello") },
	{ "single-character delimiters", S("{{=< >=}}<message> <{esc}>"), S("hello A&<>\"'B") },
	{ "failed delimiter match is text", S("{{=<% %>=}}<<%message%>"), S("<<%message%>") },
	{ "non-ASCII delimiters",
	  S("{{=\302\253 \302\273=}}\302\253message\302\273 \302\253{esc}\302\273 \303\252message\302\273"),
	  S("hello A&<>\"'B \303\252message\302\273") },
	{ "delimiters compare whole characters",
	  S("{{=\302\253 \302\273=}}\302\254\302\253message\302\273\302\254 \302\253no\302\272pe\302\273"),
	  S("\302\254hello\302\254 ") },
	{ "NUL bytes in text", S("a\000{{message}}\000b"), S("a\000hello\000b") },
	{ "NUL byte in a name", S("[{{mess\000age}}]"), S("[]") },
	{ "unclosed triple at the end is text", S("{{{message}}"), S("{message}}") },
	{ "three-brace tag then brace", S("{{{message}}}}"), S("hello}") },
	{ "sections with new delimiters", S("{{=<% %>=}}<%^nope%>X<%/nope%>"), S("X") },
	{ "factotum: decorated string", S("hello {{name}}!"), S("hello Ed!") },
	{ "factotum: decorated nested string (flat map: path misses)", S("hello {{person.name}}!"),
	  S("hello !") },
};

struct rej_case {
	const char *tpl;
	size_t tlen;
	const char *msg;
};

/* Rejected inputs; the comment gives what rust-mustache 0.7.0 does with them. */
static const struct rej_case rej_cases[] = {
	{ S("{{}}"),
	  "empty tag at byte 0" }, /* 0.7.0: PANIC:index out of bounds: the len is 0 but the index is 0 */
	{ S("ab{{ }}"), "empty tag at byte 2" },      /* 0.7.0: PANIC:empty tag */
	{ S("{{#}}{{/}}"), "empty tag at byte 0" },   /* 0.7.0: PANIC:empty tag */
	{ S("{{#a}}{{/ }}"), "empty tag at byte 6" }, /* 0.7.0: PANIC:empty tag */
	{ S("{{&}}"), "empty tag at byte 0" },        /* 0.7.0: PANIC:empty tag */
	{ S("{{{ }}}"), "empty tag at byte 0" },      /* 0.7.0: PANIC:empty tag */
	{ S("{{= =}}"), "empty tag at byte 0" },      /* 0.7.0: PANIC:empty tag */
	{ S("{{>}}"), "empty tag at byte 0" },        /* 0.7.0: PANIC:empty tag */
	{ S("{{=<% %>=}}<%%>"),
	  "empty tag at byte 11" }, /* 0.7.0: PANIC:index out of bounds: the len is 0 but the index is 0 */
	{ S("x{{message"), "unclosed tag at byte 1" },          /* 0.7.0: PANIC:unclosed tag */
	{ S("{{#a}}{{"), "unclosed tag at byte 6" },            /* 0.7.0: PANIC:unclosed tag */
	{ S("{{{message"), "unclosed tag at byte 0" },          /* 0.7.0: PANIC:unclosed tag */
	{ S("{{=<% %%>=}}<%a%%>"), "unclosed tag at byte 12" }, /* 0.7.0: PANIC:unclosed tag */
	{ S("{{a}b}}"),
	  "malformed closing delimiter '}}' in the tag at byte 0" }, /* 0.7.0: PANIC:character b is not part of CTAG: } */
	{ S("x {{{a}}x"),
	  "malformed closing delimiter '}}' in the tag at byte 2" }, /* 0.7.0: PANIC:character x is not part of CTAG: } */
	{ S("{{{a}x}}"),
	  "unbalanced '{' in the tag at byte 0" }, /* 0.7.0: PANIC:unbalanced "{" in tag */
	{ S("{{=<% %>=}}<%{a%>"),
	  "unbalanced '{' in the tag at byte 11" }, /* 0.7.0: PANIC:unbalanced "{" in tag */
	{ S("{{=}}"),
	  "invalid set-delimiter tag at byte 0" }, /* 0.7.0: PANIC:invalid change delimiter tag content */
	{ S("{{==}}"),
	  "invalid set-delimiter tag at byte 0" }, /* 0.7.0: PANIC:invalid change delimiter tag content */
	{ S("{{=x=}}"),
	  "invalid set-delimiter tag at byte 0" }, /* 0.7.0: PANIC:invalid change delimiter tag content */
	{ S("{{=<% %>}}"),
	  "invalid set-delimiter tag at byte 0" }, /* 0.7.0: PANIC:invalid change delimiter tag content */
	{ S("{{/a}}"),
	  "closing unopened section 'a' at byte 0" }, /* 0.7.0: PANIC:closing unopened section */
	{ S("{{#a}}{{/a}}{{/a}}"),
	  "closing unopened section 'a' at byte 12" }, /* 0.7.0: PANIC:closing unopened section */
	{ S("{{#a}}{{/b}}"),
	  "section 'a' opened at byte 0 is closed by 'b' at byte 6" }, /* 0.7.0: PANIC:Unclosed section */
	{ S("{{#a}}{{^b}}{{/a}}{{/b}}"),
	  "section 'b' opened at byte 6 is closed by 'a' at byte 12" }, /* 0.7.0: PANIC:Unclosed section */
	{ S("x{{#a}}y"),
	  "unclosed section 'a' opened at byte 1" }, /* 0.7.0: PANIC:Unclosed mustache section a */
	{ S("{{^a}}{{#b}}{{/b}}"),
	  "unclosed section 'a' opened at byte 0" }, /* 0.7.0: PANIC:Unclosed mustache section a */
	{ S("{{#message}}x{{/message}}"),
	  "section 'message' at byte 0 is over a string value" }, /* 0.7.0: PANIC:unexpected value StrVal(hello) */
	{ S("{{#empty}}{{/empty}}"),
	  "section 'empty' at byte 0 is over a string value" }, /* 0.7.0: PANIC:unexpected value StrVal() */
	{ S("{{# message. }}{{/message}}"),
	  "section 'message.' at byte 0 is over a string value" }, /* 0.7.0: PANIC:unexpected value StrVal(hello) */
	{ S("{{^nope}}{{#tag:team}}{{/tag:team}}{{/nope}}"),
	  "section 'tag:team' at byte 9 is over a string value" }, /* 0.7.0: PANIC:unexpected value StrVal(T) */
	{ S("a{{.}}"),
	  "'{{.}}' at byte 1 names the whole map, not a string" }, /* 0.7.0: PANIC:unexpected value Map(...) */
	{ S("{{ . }}"),
	  "'{{.}}' at byte 0 names the whole map, not a string" }, /* 0.7.0: PANIC:unexpected value Map(...) */
	{ S("{{^nope}}{{.}}{{/nope}}"),
	  "'{{.}}' at byte 9 names the whole map, not a string" }, /* 0.7.0: PANIC:unexpected value Map(...) */
	{ S("{{> p}}"),
	  "partials are not supported: 'p' at byte 0" }, /* 0.7.0: reads ./p.mustache */
	{ S("a{{#nope}}{{>p}}{{/nope}}"),
	  "partials are not supported: 'p' at byte 10" }, /* 0.7.0: reads ./p.mustache */
	{ S("{{#a\nb}}{{/a}}"),
	  "section 'a\\x0ab' opened at byte 0 is closed by 'a' at byte 8" }, /* 0.7.0: PANIC:Unclosed section */
};

static void test_ok_table(void **state)
{
	struct kvlist v;
	vars_fill(&v);
	for (size_t k = 0; k < sizeof ok_cases / sizeof ok_cases[0]; k++) {
		const struct ok_case *c = &ok_cases[k];
		char *out = NULL, *err = NULL;
		size_t len = 0;
		int rc = template_render(c->tpl, c->tlen, &v, &out, &len, &err);
		if (rc != 0 || len != c->olen || memcmp(out, c->out, len) != 0)
			print_message("case: %s (%s)\n", c->what, rc != 0 ? err : "wrong output");
		assert_int_equal(rc, 0);
		assert_null(err);
		assert_int_equal(len, c->olen);
		assert_memory_equal(out, c->out, len);
		assert_int_equal(out[len], '\0');
		free(out);
	}
	kvlist_free(&v);
}

static void test_reject_table(void **state)
{
	struct kvlist v;
	vars_fill(&v);
	for (size_t k = 0; k < sizeof rej_cases / sizeof rej_cases[0]; k++) {
		const struct rej_case *c = &rej_cases[k];
		char *out = (char *)"untouched", *err = NULL;
		size_t len = 7;
		int rc = template_render(c->tpl, c->tlen, &v, &out, &len, &err);
		if (rc != FS_EINVAL || err == NULL || strcmp(err, c->msg) != 0)
			print_message("case: %.*s -> %s\n", (int)c->tlen, c->tpl,
				      err ? err : "(no error)");
		assert_int_equal(rc, FS_EINVAL);
		assert_non_null(err);
		assert_string_equal(err, c->msg);
		assert_null(out);
		assert_int_equal(len, 0);
		free(err);
	}
	kvlist_free(&v);
}

static void check(const struct kvlist *v, const char *tpl, size_t tlen, const char *want,
		  size_t wlen)
{
	char *out = NULL, *err = NULL;
	size_t len = 0;
	int rc = template_render(tpl, tlen, v, &out, &len, &err);
	if (rc != 0)
		print_message("error: %s\n", err);
	assert_int_equal(rc, 0);
	assert_int_equal(len, wlen);
	assert_memory_equal(out, want, wlen);
	free(out);
}

/* With no variables at all (a run without --env or --tag), every name renders empty. */
static void test_empty_map(void **state)
{
	struct kvlist v;
	kvlist_init(&v);
	check(&v, S("a{{x}}b{{{x}}}c{{&x}}d{{^x}}e{{/x}}f{{#x}}g{{/x}}"), S("abcdef"));
	check(NULL, S("a{{x}}b"), S("ab"));
}

/* Bytes that are not UTF-8 pass through; they never start or end a tag. */
static void test_invalid_utf8(void **state)
{
	struct kvlist v;
	vars_fill(&v);
	check(&v, S("\xff{{message}}\xfe\xc3"), S("\xffhello\xfe\xc3"));
	check(&v, S("{{\xc3}}[{{ message\xa0}}]"), S("[]"));
	check(&v, S("{{=\xc3 \xa9=}}\xc3message\xa9\xc3\xa9"), S("hello\xc3\xa9"));
	kvlist_free(&v);
}

/* errp may be NULL, and an old message in *errp is replaced. */
static void test_error_plumbing(void **state)
{
	char *out = NULL, *err = xstrdup("old");
	size_t len;
	assert_int_equal(template_render(S("{{"), NULL, &out, &len, NULL), FS_EINVAL);
	assert_null(out);
	assert_int_equal(template_render(S("{{"), NULL, &out, &len, &err), FS_EINVAL);
	assert_string_equal(err, "unclosed tag at byte 0");
	free(err);
	assert_int_equal(template_render(NULL, 0, NULL, &out, &len, NULL), 0);
	assert_string_equal(out, "");
	assert_int_equal(len, 0);
	free(out);
}

static char *repeat(const char *unit, size_t n, const char *tail, size_t *len)
{
	struct buf b;
	buf_init(&b);
	for (size_t k = 0; k < n; k++)
		buf_puts(&b, unit);
	buf_puts(&b, tail);
	*len = b.len;
	return buf_steal(&b);
}

/* Nesting is capped at 1000 sections, with a clear error beyond. */
static void test_depth_cap(void **state)
{
	struct buf b;
	char *out = NULL, *err = NULL;
	size_t len;

	buf_init(&b);
	for (int k = 0; k < 1000; k++)
		buf_puts(&b, "{{^a}}");
	buf_puts(&b, "x");
	for (int k = 0; k < 1000; k++)
		buf_puts(&b, "{{/a}}");
	check(NULL, b.data, b.len, S("x"));
	buf_free(&b);

	buf_init(&b);
	for (int k = 0; k < 1001; k++)
		buf_puts(&b, "{{#a}}");
	assert_int_equal(template_render(b.data, b.len, NULL, &out, &len, &err), FS_EINVAL);
	assert_string_equal(err, "sections nested deeper than 1000 levels at byte 6000");
	free(err);
	buf_free(&b);
}

/* Long, brace-heavy inputs render correctly (a quadratic algorithm would make this take hours;
 * speed itself belongs in bench/, not in a timed unit test). */
static void test_pathological(void **state)
{
	struct kvlist v;
	char *tpl, *out, *err = NULL;
	size_t tlen, olen;
	const size_t n = 1000000;

	vars_fill(&v);
	/* Many lone braces: text. */
	tpl = repeat("{ }", n, "", &tlen);
	assert_int_equal(template_render(tpl, tlen, &v, &out, &olen, &err), 0);
	assert_int_equal(olen, tlen);
	assert_memory_equal(out, tpl, tlen);
	free(out);
	free(tpl);
	/* Braces that almost open tags. */
	tpl = repeat("{x", n, "}", &tlen);
	assert_int_equal(template_render(tpl, tlen, &v, &out, &olen, &err), 0);
	assert_memory_equal(out, tpl, tlen);
	free(out);
	free(tpl);
	/* One tag (`{{{`) that swallows megabytes of braces, then never closes. */
	tpl = repeat("{", 4 * n, "", &tlen);
	assert_int_equal(template_render(tpl, tlen, &v, &out, &olen, &err), FS_EINVAL);
	assert_string_equal(err, "unclosed tag at byte 0");
	free(err);
	err = NULL;
	free(tpl);
	/* Many tags. */
	tpl = repeat("{{message}}{{{esc}}}", n / 4, "", &tlen);
	assert_int_equal(template_render(tpl, tlen, &v, &out, &olen, &err), 0);
	assert_int_equal(olen, (n / 4) * 12);
	assert_memory_equal(out, "helloA&<>\"'B", 12);
	free(out);
	free(tpl);
	/* Long indentation followed by many standalone comments. */
	{
		struct buf b;
		buf_init(&b);
		buf_puts(&b, "x\n");
		for (size_t k = 0; k < n; k++)
			buf_putc(&b, ' ');
		for (size_t k = 0; k < n / 8; k++)
			buf_puts(&b, "{{!c}}\n");
		assert_int_equal(template_render(b.data, b.len, &v, &out, &olen, &err), 0);
		assert_int_equal(olen, 2);
		assert_memory_equal(out, "x\n", 2);
		free(out);
		buf_free(&b);
	}
	/* Many skipped sections with standalone lines. */
	tpl = repeat("{{#nope}}\n{{.}}\n{{/nope}}\n", n / 8, "end", &tlen);
	assert_int_equal(template_render(tpl, tlen, &v, &out, &olen, &err), 0);
	free(out);
	free(tpl);
	kvlist_free(&v);
}

/* Where the values went: one span per value written, none for a missing or empty one; a failed
 * rendering leaves the list as it was. */
static void test_spans(void **state)
{
	struct template_spans sp = { 0 };
	struct kvlist v;
	char *out = NULL, *err = NULL;
	size_t olen;

	(void)state;
	vars_fill(&v);
	assert_int_equal(template_render_spans(S("a{{lt}}b{{{quot}}}c{{nope}}{{empty}}{{&name}}"),
					       &v, &out, &olen, &sp, &err),
			 0);
	assert_string_equal(out, "a&lt;b\"cEd");
	assert_int_equal(sp.n, 3);
	assert_int_equal(sp.v[0].off, 1);
	assert_int_equal(sp.v[0].len, 4);
	assert_string_equal(v.items[sp.v[0].var].key, "lt");
	assert_int_equal(sp.v[1].off, 6);
	assert_int_equal(sp.v[1].len, 1);
	assert_string_equal(v.items[sp.v[1].var].key, "quot");
	assert_int_equal(sp.v[2].off, 8);
	assert_int_equal(sp.v[2].len, 2);
	assert_string_equal(v.items[sp.v[2].var].key, "name");
	free(out);
	assert_int_equal(template_render_spans(S("{{lt}}{{#name}}x{{/name}}"), &v, &out, &olen, &sp,
					       &err),
			 FS_EINVAL);
	assert_int_equal(sp.n, 3);
	template_spans_free(&sp);
	assert_null(sp.v);
	free(err);
	kvlist_free(&v);
}

/* Values are copied once per tag: a rendering may reach TEMPLATE_MAX_OUTPUT bytes, not one more,
 * and the error names the tag that passed it. */
static void test_output_bound(void **state)
{
	struct kvlist v;
	char *val = malloc(64 * 1024 + 1), *tpl, *out = NULL, *err = NULL;
	size_t tlen, olen;

	(void)state;
	assert_non_null(val);
	memset(val, 'v', 64 * 1024);
	val[64 * 1024] = '\0';
	kvlist_init(&v);
	kvlist_set(&v, "x", val);
	tpl = repeat("{{{x}}}", 256, "", &tlen);
	assert_int_equal(template_render(tpl, tlen, &v, &out, &olen, &err), 0);
	assert_int_equal(olen, TEMPLATE_MAX_OUTPUT);
	free(out);
	free(tpl);
	tpl = repeat("{{{x}}}", 257, "", &tlen);
	assert_int_equal(template_render(tpl, tlen, &v, &out, &olen, &err), FS_EINVAL);
	assert_null(out);
	assert_string_equal(err, "the rendering passes 16777216 bytes at the tag at byte 1792");
	free(err);
	free(tpl);
	free(val);
	kvlist_free(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ok_table),       cmocka_unit_test(test_reject_table),
		cmocka_unit_test(test_empty_map),      cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_error_plumbing), cmocka_unit_test(test_depth_cap),
		cmocka_unit_test(test_pathological),   cmocka_unit_test(test_spans),
		cmocka_unit_test(test_output_bound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
