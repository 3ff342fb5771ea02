/* SPDX-License-Identifier: Apache-2.0 */
/* The strict template-value check: a small shell-quote state machine over the exact command line
 * the runner gives `sh -c` (core/cmdline.h), fed with which bytes came from a value. Factotum puts
 * each argument in double quotes and escapes nothing, so a value is data only while sh reads it
 * inside those quotes and it cannot close them or start an expansion; elsewhere only bytes that
 * no shell treats specially are data whatever surrounds them.
 *
 * The scan follows what changes how a later byte is read: quotes, backslashes, $( and $(( (with
 * their own nested quoting), ${ and comments. What it does not model (backticks, whose quoting
 * depends on the shell; $'...', which dash and bash read differently; here-documents; quotes
 * inside ${...}; `case` patterns that close a $( early) makes it "unsure" for the rest of the
 * line, where any value byte must then be allow-listed: those bytes are data in every context. */
#include "tmplcheck.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"
#include "err.h"
#include "xalloc.h"

/* Nesting deeper than this makes the scan unsure: no factfile needs it. */
#define TMPLCHECK_MAX_DEPTH 64

#define ALLOWED_TEXT "[A-Za-z0-9._:/@%+=,-]"

enum frame { F_TOP, F_PAREN, F_DQ, F_SQ, F_BRACE, F_COMMENT };

struct scan {
	enum frame st[TMPLCHECK_MAX_DEPTH];
	unsigned parens[TMPLCHECK_MAX_DEPTH]; /* F_PAREN: '(' not yet closed, its own included */
	size_t depth;
	bool escaped;    /* the previous byte was a backslash that escapes this one */
	bool dollar;     /* the previous byte was a '$' that starts an expansion */
	bool word_start; /* unquoted, at the start of a word: '#' starts a comment */
	bool unsure;
};

static bool tmplcheck_allowed(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("._:/@%+=,-", c) != NULL);
}

static void scan_push(struct scan *s, enum frame f)
{
	if (s->depth == TMPLCHECK_MAX_DEPTH) {
		s->unsure = true;
		return;
	}
	s->st[s->depth] = f;
	s->parens[s->depth] = 1;
	s->depth++;
}

static void scan_pop(struct scan *s)
{
	if (s->depth > 1)
		s->depth--;
}

static bool is_separator(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || (c != '\0' && strchr(";&|()<>", c) != NULL);
}

/* The judgement of a value byte c in the current state. */
static enum tmplcheck_why scan_judge(const struct scan *s, unsigned char c)
{
	if (s->unsure)
		return tmplcheck_allowed(c) ? TMPLCHECK_OK : TMPLCHECK_UNSURE;
	if (s->dollar)
		return tmplcheck_allowed(c) ? TMPLCHECK_OK : TMPLCHECK_AFTER_DOLLAR;
	if (s->st[s->depth - 1] == F_DQ)
		return c == '"' || c == '$' || c == '`' || c == '\\' ? TMPLCHECK_IN_DQ
								     : TMPLCHECK_OK;
	return tmplcheck_allowed(c) ? TMPLCHECK_OK : TMPLCHECK_OUTSIDE_DQ;
}

/* After '$': `$(` and `${` open a nested frame. Returns true when c was taken that way. */
static bool scan_expansion(struct scan *s, unsigned char c)
{
	if (c == '(') {
		scan_push(s, F_PAREN);
		s->word_start = true;
		return true;
	}
	if (c == '{') {
		scan_push(s, F_BRACE);
		return true;
	}
	return false;
}

/* Unquoted text: the top level and the inside of $(...). */
static void scan_unquoted(struct scan *s, const char *line, size_t len, size_t i, bool was_dollar)
{
	unsigned char c = (unsigned char)line[i];
	enum frame top = s->st[s->depth - 1];
	bool at_word = s->word_start;

	s->word_start = false;
	if (was_dollar && scan_expansion(s, c))
		return;
	if (top == F_PAREN && at_word && len - i > 4 && memcmp(line + i, "case", 4) == 0 &&
	    (line[i + 4] == ' ' || line[i + 4] == '\t' || line[i + 4] == '\n'))
		s->unsure = true;
	switch (c) {
	case '\\':
		s->escaped = true;
		s->word_start = at_word; /* decided by the escaped byte */
		break;
	case '\'':
		if (was_dollar)
			s->unsure = true;
		scan_push(s, F_SQ);
		break;
	case '"':
		scan_push(s, F_DQ);
		break;
	case '`':
		s->unsure = true;
		break;
	case '$':
		s->dollar = true;
		break;
	case '#':
		if (at_word) {
			s->unsure = true;
			scan_push(s, F_COMMENT);
		}
		break;
	case '<':
		if (i + 1 < len && line[i + 1] == '<')
			s->unsure = true;
		s->word_start = true;
		break;
	case '(':
		if (top == F_PAREN)
			s->parens[s->depth - 1]++;
		s->word_start = true;
		break;
	case ')':
		if (top == F_PAREN && --s->parens[s->depth - 1] == 0)
			scan_pop(s);
		else
			s->word_start = true;
		break;
	default:
		s->word_start = is_separator(c);
		break;
	}
}

/* Moves the state past line[i]. */
static void scan_step(struct scan *s, const char *line, size_t len, size_t i)
{
	unsigned char c = (unsigned char)line[i];
	bool was_dollar = s->dollar;

	s->dollar = false;
	if (s->escaped) {
		/* a backslash-newline is removed: the word goes on as if it were not there */
		s->escaped = false;
		if (c != '\n')
			s->word_start = false;
		return;
	}
	switch (s->st[s->depth - 1]) {
	case F_SQ:
		if (c == '\'')
			scan_pop(s);
		return;
	case F_COMMENT:
		if (c == '\n') {
			scan_pop(s);
			s->word_start = true;
		}
		return;
	case F_DQ:
	case F_BRACE:
		if (was_dollar && scan_expansion(s, c))
			return;
		if (c == '\\')
			s->escaped = true;
		else if (c == '$')
			s->dollar = true;
		else if (c == '`')
			s->unsure = true;
		else if (s->st[s->depth - 1] == F_DQ && c == '"')
			scan_pop(s);
		else if (s->st[s->depth - 1] == F_BRACE && c == '}')
			scan_pop(s);
		else if (s->st[s->depth - 1] == F_BRACE && (c == '"' || c == '\''))
			s->unsure = true;
		return;
	case F_TOP:
	case F_PAREN:
		scan_unquoted(s, line, len, i, was_dollar);
		return;
	}
}

enum tmplcheck_why tmplcheck_line(const char *line, size_t len, const struct template_span *spans,
				  size_t n_spans, size_t *at, size_t *span)
{
	struct scan s;
	size_t k = 0;

	memset(&s, 0, sizeof s);
	s.st[0] = F_TOP;
	s.depth = 1;
	s.word_start = true;
	for (size_t i = 0; i < len; i++) {
		while (k < n_spans && spans[k].off + spans[k].len <= i)
			k++;
		if (k < n_spans && i >= spans[k].off) {
			enum tmplcheck_why why = scan_judge(&s, (unsigned char)line[i]);
			if (why != TMPLCHECK_OK) {
				*at = i;
				*span = k;
				return why;
			}
		}
		scan_step(&s, line, len, i);
	}
	return TMPLCHECK_OK;
}

/* s shown for a message: control bytes as \xNN, the rest (valid UTF-8) as is. */
static void put_shown(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f)
			buf_printf(b, "\\x%02x", c);
		else
			buf_putc(b, (char)c);
	}
}

/* The character starting at line[at] (inside a value, which is valid UTF-8, end excluded). */
static void put_char(struct buf *b, const char *line, size_t at, size_t end)
{
	unsigned char c = (unsigned char)line[at];
	size_t n = 1;

	if (c < 0x20 || c == 0x7f) {
		buf_printf(b, "U+%04X", c);
		return;
	}
	if (c == '\'') {
		buf_puts(b, "\"'\"");
		return;
	}
	if (c >= 0xc0)
		n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
	if (n > end - at)
		n = end - at;
	buf_putc(b, '\'');
	buf_append(b, line + at, n);
	buf_putc(b, '\'');
}

/* Where the refused byte is, for the message. */
static const char *const tmplcheck_where[] = {
	[TMPLCHECK_OK] = "",
	[TMPLCHECK_IN_DQ] = " inside double quotes",
	[TMPLCHECK_OUTSIDE_DQ] = " outside double quotes",
	[TMPLCHECK_AFTER_DOLLAR] = " right after a '$'",
	[TMPLCHECK_UNSURE] = " after a backtick, comment, here-document, $'...' or quote inside "
			     "${...}",
};

static int tmplcheck_fail(char **errp, const struct factfile_task *t, const char *key,
			  enum tmplcheck_why why, const char *line, size_t at, size_t end)
{
	struct buf b;

	buf_init(&b);
	buf_puts(&b, "task '");
	put_shown(&b, t->name);
	buf_puts(&b, "': the value of '");
	put_shown(&b, key);
	buf_puts(&b, "' puts ");
	put_char(&b, line, at, end);
	buf_puts(&b, tmplcheck_where[why]);
	buf_puts(&b, " in the command line; --template-values strict allows ");
	buf_puts(&b,
		 why == TMPLCHECK_IN_DQ ? "neither '\"', '$', '`' nor '\\'" : "only " ALLOWED_TEXT);
	buf_puts(&b, " there");
	err_set(errp, FS_EINVAL, "%s", b.data);
	buf_free(&b);
	return FS_EINVAL;
}

/* 1 if every value is allow-listed: then no value byte can be refused anywhere. */
static int tmplcheck_all_plain(const struct kvlist *vars)
{
	for (size_t i = 0; i < vars->n; i++)
		for (const char *p = vars->items[i].value; *p != '\0'; p++)
			if (!tmplcheck_allowed((unsigned char)*p))
				return 0;
	return 1;
}

/* One task: its line, with the arguments' spans moved to line offsets. */
static int tmplcheck_task(const struct factfile_task *t, const struct kvlist *vars, char **errp)
{
	struct template_span *all = NULL;
	size_t *arg_off = NULL, n = 0, cap = 0, at, k;
	char *line = NULL;
	enum tmplcheck_why why;
	int rc = 0;

	for (size_t a = 0; a < t->n_arguments; a++)
		cap += t->arg_spans[a].n;
	if (cap == 0)
		return 0;
	all = xcalloc(cap, sizeof *all);
	arg_off = xcalloc(t->n_arguments, sizeof *arg_off);
	line = cmdline_build(t, arg_off);
	for (size_t a = 0; a < t->n_arguments; a++)
		for (size_t j = 0; j < t->arg_spans[a].n; j++) {
			all[n] = t->arg_spans[a].v[j];
			all[n++].off += arg_off[a];
		}
	why = tmplcheck_line(line, strlen(line), all, n, &at, &k);
	if (why != TMPLCHECK_OK)
		rc = tmplcheck_fail(errp, t, vars->items[all[k].var].key, why, line, at,
				    all[k].off + all[k].len);
	free(line);
	free(arg_off);
	free(all);
	return rc;
}

int tmplcheck_factfile(const struct factfile *ff, const struct kvlist *vars, char **errp)
{
	if (vars == NULL || tmplcheck_all_plain(vars))
		return 0;
	for (size_t i = 0; i < ff->n_tasks; i++)
		if (tmplcheck_task(&ff->tasks[i], vars, errp) != 0)
			return FS_EINVAL;
	return 0;
}
