/* SPDX-License-Identifier: Apache-2.0 */
/* Mustache rendering exactly as rust-mustache 0.7.0 does it for Factotum: the
 * same parser state machine, standalone-line trimming and lookup rules, over a flat map of string
 * values, with partials and everything that makes 0.7.0 panic rejected as ordinary errors.
 *
 * What 0.7.0 does, and so what this file does (src/parser.rs, src/template.rs at tag v0.7.0):
 * - Tags: `{{x}}` (HTML-escapes & < > " ' as &amp; &lt; &gt; &quot; &#39;), `{{{x}}}` and
 *   `{{&x}}` (raw), `{{!...}}` (comment), `{{#x}}`/`{{^x}}` ... `{{/x}}` (sections),
 *   `{{=a b=}}` (set delimiters), `{{>p}}` (partial). Names are trimmed of Unicode whitespace.
 * - A name is a path split on '.', dropping one trailing empty part: `a.` is `a`, `a.b` looks up
 *   `a` then `b`. The map holds only strings, so any path of two or more parts is missing.
 *   `{{.}}` (only in a plain tag) names the whole map.
 * - Missing values render nothing; a section over a missing value is skipped, an inverted one is
 *   rendered once; an inverted section over a string is skipped.
 * - Text is never a tag unless the whole opening delimiter is there; a failed partial match is
 *   text and the character that broke it is not re-examined (`<<%x%>` is text with `<% %>`).
 *   `}}` outside a tag is text. At the end of input a half-seen closing delimiter turns the tag's
 *   content into text without its opening delimiter: `{{a}` renders `a}`.
 * - The lines of `{{! }}`, `{{# }}`, `{{^ }}`, `{{/ }}` and `{{= =}}` tags are trimmed when the tag
 *   is "standalone" by 0.7.0's own rule (classify_token), which is not quite the spec's: it looks
 *   only at the previous token and at the character after the tag; reproduced as is.
 * - Delimiters are compared character by character (UTF-8 sequences), as Rust compares chars.
 *
 * Inputs that make 0.7.0 panic (Factotum dies), each rejected here with FS_EINVAL and the message
 * shown (N: byte offset from 0 of the tag's opening delimiter, M: of the closing tag):
 *   parse time, first in source order:
 *   - `{{}}` (index out of bounds on the empty content)   "empty tag at byte N"
 *   - a name empty after trimming: `{{ }}`, `{{#}}`, `{{/ }}`, `{{&}}`, `{{{ }}}`, `{{>}}`,
 *     `{{= =}}` ("empty tag")                               "empty tag at byte N"
 *   - input ending inside a tag: `{{x`, `{{{x` ("unclosed tag")  "unclosed tag at byte N"
 *   - a closing delimiter broken after its first character: `{{a}b}}`, `{{{a}} b` ("character b
 *     is not part of CTAG")      "malformed closing delimiter '}}' in the tag at byte N"
 *     0.7.0 returns to the tag after the second character of a closing delimiter, so one of
 *     three or more characters never closes a tag: it ends in this error or "unclosed tag".
 *   - a `{` tag whose content does not end in `}`: `{{{a}x}}` ("unbalanced \"{\" in tag")
 *                                                   "unbalanced '{' in the tag at byte N"
 *   - a set-delimiter tag that is not `=<open><whitespace><close>=`: `{{=}}`, `{{==}}`,
 *     `{{=x=}}`, `{{=<% %>}}` ("invalid change delimiter tag content")
 *                                                   "invalid set-delimiter tag at byte N"
 *   - `{{/x}}` with no section open ("closing unopened section")
 *                                                   "closing unopened section 'x' at byte N"
 *   - `{{/y}}` while `{{#x}}` is the innermost open section ("Unclosed section")
 *                                 "section 'x' opened at byte N is closed by 'y' at byte M"
 *   - input ending with a section open ("Unclosed mustache section x"), outermost reported
 *                                                   "unclosed section 'x' opened at byte N"
 *   render time, only where the enclosing sections are rendered (as in 0.7.0):
 *   - `{{#x}}` over a present value, even "" ("unexpected value StrVal")
 *                                           "section 'x' at byte N is over a string value"
 *   - `{{.}}` ("unexpected value Map")     "'{{.}}' at byte N names the whole map, not a string"
 * Not panics, and not errors: `{{{a}}` or `{{a}` at the very end (text `{a}}`, `a}`), `{{&.}}`
 * and `{{#.}}` (the key ""), unknown names, paths that miss.
 * Our own rejections: partials, which 0.7.0 reads from ./<name>.mustache at compile time, even
 * inside a skipped section ("partials are not supported: 'p' at byte N"), and sections nested
 * deeper than TEMPLATE_MAX_DEPTH ("sections nested deeper than 1000 levels at byte N"), where
 * 0.7.0's recursive renderer would eventually overflow its stack.
 * Names in messages are shown with bytes outside printable ASCII as \xNN, cut at about 60 bytes.
 * Parsing and rendering are single passes without recursion: linear time and a bounded stack on
 * any input, including NUL bytes and invalid UTF-8 (a stray byte is a character of its own). */
#include "template.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "xalloc.h"

#define TEMPLATE_MAX_DEPTH 1000

enum tok_kind { TOK_TEXT, TOK_ETAG, TOK_UTAG, TOK_OPEN, TOK_CLOSE };

/* The parse result is a flat list: a section is an OPEN, its children, and a CLOSE. */
struct tok {
	enum tok_kind kind;
	size_t off, len; /* TEXT: its bytes in src; tags: the trimmed name */
	size_t at;       /* tags: offset of the opening delimiter */
	bool dot;        /* ETAG: the name is "." (the whole map) */
	bool inverted;   /* OPEN: `{{^` */
	bool newlined;   /* OPEN: its line was trimmed as standalone */
};

/* A delimiter: bytes inside src, or a static default. */
struct delim {
	const char *s;
	size_t len;
};

enum pstate { ST_TEXT, ST_OTAG, ST_TAG, ST_CTAG };

enum tclass { TC_NORMAL, TC_STANDALONE, TC_WHITESPACE };

struct template_parser {
	const char *src;
	size_t len;
	size_t i; /* the current character starts here */
	struct delim otag, ctag;
	enum pstate state;
	size_t tpos;   /* OTAG/CTAG: bytes of the delimiter matched so far */
	size_t mstart; /* OTAG/CTAG: where that match began */
	bool curly;    /* inside `{{{`, before its first '}' */
	bool has_content;
	size_t cs, ce; /* the pending text or tag content: src[cs, ce), always contiguous */
	size_t tag_at; /* where the current tag's opening delimiter began */
	struct tok *toks;
	size_t ntoks, toks_cap;
	size_t *open; /* indices in toks of the OPENs not yet closed, innermost last */
	size_t nopen, open_cap;
	char **errp;
};

/* Length of the character at s (a valid UTF-8 sequence, or 1 for a stray byte); its code point in
 * *cp (UINT32_MAX for a stray byte). n > 0. */
static size_t utf8_char(const char *str, size_t n, uint32_t *cp)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned char b = s[0];
	size_t need;
	uint32_t c, min;

	if (b < 0x80) {
		*cp = b;
		return 1;
	}
	if (b >= 0xc2 && b <= 0xdf) {
		need = 1;
		c = b & 0x1f;
		min = 0x80;
	} else if (b >= 0xe0 && b <= 0xef) {
		need = 2;
		c = b & 0x0f;
		min = 0x800;
	} else if (b >= 0xf0 && b <= 0xf4) {
		need = 3;
		c = b & 0x07;
		min = 0x10000;
	} else {
		*cp = UINT32_MAX;
		return 1;
	}
	if (n < need + 1) {
		*cp = UINT32_MAX;
		return 1;
	}
	for (size_t k = 1; k <= need; k++) {
		if ((s[k] & 0xc0) != 0x80) {
			*cp = UINT32_MAX;
			return 1;
		}
		c = (c << 6) | (s[k] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
		*cp = UINT32_MAX;
		return 1;
	}
	*cp = c;
	return need + 1;
}

static size_t char_len(const char *s, size_t n)
{
	uint32_t cp;
	return utf8_char(s, n, &cp);
}

/* The start of the character that ends at s + end, no earlier than s + begin; agrees with reading
 * forwards from any character boundary because a lead byte is never inside another character. */
static size_t char_start_before(const char *s, size_t begin, size_t end)
{
	for (size_t k = 1; k <= 4 && k <= end - begin; k++) {
		unsigned char b = (unsigned char)s[end - k];
		if ((b & 0xc0) != 0x80)
			return char_len(s + end - k, k) == k ? end - k : end - 1;
	}
	return end - 1;
}

/* Rust's char::is_whitespace (the Unicode White_Space property). */
static bool is_ws(uint32_t c)
{
	return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0x85 || c == 0xa0 || c == 0x1680 ||
	       (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
	       c == 0x205f || c == 0x3000;
}

/* str::trim: narrows src[*a, *b) by whitespace characters at both ends. */
static void trim(const char *s, size_t *a, size_t *b)
{
	uint32_t cp;

	while (*a < *b) {
		size_t n = utf8_char(s + *a, *b - *a, &cp);
		if (!is_ws(cp))
			break;
		*a += n;
	}
	while (*b > *a) {
		size_t st = char_start_before(s, *a, *b);
		utf8_char(s + st, *b - st, &cp);
		if (!is_ws(cp))
			break;
		*b = st;
	}
}

/* Writes a printable, bounded rendering of s[0, n) into out (for messages). */
static void show(char out[static 72], const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t k = 0; k < n; k++) {
		unsigned char c = (unsigned char)s[k];
		if (o > 60) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			out[o++] = (char)c;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
}

static void content_push(struct template_parser *p, size_t a, size_t b)
{
	if (a == b)
		return;
	if (!p->has_content) {
		p->cs = a;
		p->has_content = true;
	}
	p->ce = b;
}

static struct tok *tok_push(struct template_parser *p, enum tok_kind kind, size_t off, size_t len)
{
	struct tok *t;

	if (p->ntoks == p->toks_cap) {
		p->toks_cap = p->toks_cap ? 2 * p->toks_cap : 64;
		p->toks = xrealloc(p->toks, p->toks_cap * sizeof *p->toks);
	}
	t = &p->toks[p->ntoks++];
	memset(t, 0, sizeof *t);
	t->kind = kind;
	t->off = off;
	t->len = len;
	t->at = p->tag_at;
	return t;
}

static void add_text(struct template_parser *p)
{
	if (p->has_content)
		tok_push(p, TOK_TEXT, p->cs, p->ce - p->cs);
	p->has_content = false;
}

/* Is the character at src[i] the delimiter's character starting at byte d? Sets *dn to that
 * character's length in the delimiter. */
static bool delim_char_is(const struct template_parser *p, const struct delim *dl, size_t d,
			  size_t *dn)
{
	size_t n = char_len(p->src + p->i, p->len - p->i);

	*dn = char_len(dl->s + d, dl->len - d);
	return n == *dn && memcmp(p->src + p->i, dl->s + d, n) == 0;
}

/* 0.7.0's classify_token: is the tag just read alone on its line? *keep is how much of the
 * previous text survives for TC_WHITESPACE. */
static enum tclass classify(const struct template_parser *p, size_t *keep)
{
	const struct tok *last;
	size_t end;

	if (p->i < p->len && !(p->src[p->i] == '\n' || (p->src[p->i] == '\r' && p->i + 1 < p->len &&
							p->src[p->i + 1] == '\n')))
		return TC_NORMAL;
	if (p->ntoks == 0)
		return TC_STANDALONE;
	last = &p->toks[p->ntoks - 1];
	if (last->kind == TOK_OPEN && last->newlined)
		return TC_STANDALONE;
	if (last->kind != TOK_TEXT || last->len == 0)
		return TC_NORMAL;
	/* The last character that is a newline or not whitespace. */
	end = last->off + last->len;
	while (end > last->off) {
		size_t st = char_start_before(p->src, last->off, end);
		uint32_t cp;
		utf8_char(p->src + st, end - st, &cp);
		if (cp == '\n') {
			if (st == last->off + last->len - 1)
				return TC_STANDALONE;
			*keep = st + 1 - last->off;
			return TC_WHITESPACE;
		}
		if (!is_ws(cp))
			return TC_NORMAL;
		end = st;
	}
	if (p->ntoks == 1) {
		*keep = 0;
		return TC_WHITESPACE;
	}
	return TC_NORMAL;
}

/* 0.7.0's eat_whitespace: drops a standalone tag's line ending and indentation. */
static bool eat_whitespace(struct template_parser *p)
{
	size_t keep = 0;
	enum tclass c = classify(p, &keep);

	if (c == TC_NORMAL)
		return false;
	if (p->i < p->len && p->src[p->i] == '\r')
		p->i++;
	if (p->i < p->len)
		p->i++;
	if (c == TC_WHITESPACE)
		p->toks[p->ntoks - 1].len = keep;
	return true;
}

/* Trims src[a, b) into a name; an empty one is 0.7.0's "empty tag" panic. */
static int tag_name(struct template_parser *p, size_t a, size_t b, size_t *off, size_t *len)
{
	trim(p->src, &a, &b);
	if (a == b)
		return err_set(p->errp, FS_EINVAL, "empty tag at byte %zu", p->tag_at);
	*off = a;
	*len = b - a;
	return 0;
}

/* Section names compare as their split paths: equal after dropping one trailing '.'. */
static size_t path_len(const char *s, size_t n)
{
	return n > 0 && s[n - 1] == '.' ? n - 1 : n;
}

static int add_section(struct template_parser *p, size_t a, size_t b, bool inverted)
{
	bool newlined = eat_whitespace(p);
	size_t off, len;
	struct tok *t;
	int rc;

	if ((rc = tag_name(p, a, b, &off, &len)) != 0)
		return rc;
	if (p->nopen >= TEMPLATE_MAX_DEPTH)
		return err_set(p->errp, FS_EINVAL,
			       "sections nested deeper than %d levels at byte %zu",
			       TEMPLATE_MAX_DEPTH, p->tag_at);
	t = tok_push(p, TOK_OPEN, off, len);
	t->inverted = inverted;
	t->newlined = newlined;
	if (p->nopen == p->open_cap) {
		p->open_cap = p->open_cap ? 2 * p->open_cap : 16;
		p->open = xrealloc(p->open, p->open_cap * sizeof *p->open);
	}
	p->open[p->nopen++] = p->ntoks - 1;
	return 0;
}

static int close_section(struct template_parser *p, size_t a, size_t b)
{
	char n1[72], n2[72];
	const struct tok *o;
	size_t off, len;
	int rc;

	eat_whitespace(p);
	if ((rc = tag_name(p, a, b, &off, &len)) != 0)
		return rc;
	if (p->nopen == 0) {
		show(n1, p->src + off, len);
		return err_set(p->errp, FS_EINVAL, "closing unopened section '%s' at byte %zu", n1,
			       p->tag_at);
	}
	o = &p->toks[p->open[p->nopen - 1]];
	if (path_len(p->src + o->off, o->len) != path_len(p->src + off, len) ||
	    memcmp(p->src + o->off, p->src + off, path_len(p->src + off, len)) != 0) {
		show(n1, p->src + o->off, o->len);
		show(n2, p->src + off, len);
		return err_set(p->errp, FS_EINVAL,
			       "section '%s' opened at byte %zu is closed by '%s' at byte %zu", n1,
			       o->at, n2, p->tag_at);
	}
	p->nopen--;
	tok_push(p, TOK_CLOSE, off, len);
	return 0;
}

/* `{{=<otag> <ctag>=}}`: s[a, b) is the content without the '='s. */
static int set_delimiters(struct template_parser *p, size_t a, size_t b)
{
	size_t off, len, k, ws, n;
	uint32_t cp;
	int rc;

	if ((rc = tag_name(p, a, b, &off, &len)) != 0)
		return rc;
	for (k = off; k < off + len; k += n) {
		n = utf8_char(p->src + k, off + len - k, &cp);
		if (is_ws(cp))
			break;
	}
	if (k == off + len)
		return err_set(p->errp, FS_EINVAL, "invalid set-delimiter tag at byte %zu",
			       p->tag_at);
	ws = k;
	for (; k < off + len; k += n) {
		n = utf8_char(p->src + k, off + len - k, &cp);
		if (!is_ws(cp))
			break;
	}
	/* The content is trimmed, so a non-space character follows. */
	p->otag.s = p->src + off;
	p->otag.len = ws - off;
	p->ctag.s = p->src + k;
	p->ctag.len = off + len - k;
	return 0;
}

/* 0.7.0's add_tag, called with the closing delimiter consumed. */
static int add_tag(struct template_parser *p)
{
	size_t a = p->cs, b = p->ce, off, len;
	bool has = p->has_content;
	char c;
	struct tok *t;
	int rc;

	p->has_content = false;
	if (!has)
		return err_set(p->errp, FS_EINVAL, "empty tag at byte %zu", p->tag_at);
	c = p->src[a];
	switch (c) {
	case '!':
		eat_whitespace(p);
		return 0;
	case '&':
		if ((rc = tag_name(p, a + 1, b, &off, &len)) != 0)
			return rc;
		tok_push(p, TOK_UTAG, off, len);
		return 0;
	case '{':
		if (p->src[b - 1] != '}' || b - a < 2)
			return err_set(p->errp, FS_EINVAL, "unbalanced '{' in the tag at byte %zu",
				       p->tag_at);
		if ((rc = tag_name(p, a + 1, b - 1, &off, &len)) != 0)
			return rc;
		tok_push(p, TOK_UTAG, off, len);
		return 0;
	case '#':
	case '^':
		return add_section(p, a + 1, b, c == '^');
	case '/':
		return close_section(p, a + 1, b);
	case '>': {
		char n1[72];
		if ((rc = tag_name(p, a + 1, b, &off, &len)) != 0)
			return rc;
		show(n1, p->src + off, len);
		return err_set(p->errp, FS_EINVAL, "partials are not supported: '%s' at byte %zu",
			       n1, p->tag_at);
	}
	case '=':
		eat_whitespace(p);
		if (b - a > 2 && p->src[b - 1] == '=')
			return set_delimiters(p, a + 1, b - 1);
		return err_set(p->errp, FS_EINVAL, "invalid set-delimiter tag at byte %zu",
			       p->tag_at);
	default:
		if ((rc = tag_name(p, a, b, &off, &len)) != 0)
			return rc;
		t = tok_push(p, TOK_ETAG, off, len);
		t->dot = len == 1 && p->src[off] == '.';
		return 0;
	}
}

/* One step of 0.7.0's parse loop, on the character at p->i. */
static int parse_step(struct template_parser *p)
{
	size_t n = char_len(p->src + p->i, p->len - p->i), dn;
	char c = p->src[p->i];
	char d1[72];

	switch (p->state) {
	case ST_TEXT:
		if (delim_char_is(p, &p->otag, 0, &dn)) {
			if (dn < p->otag.len) {
				p->tpos = dn;
				p->mstart = p->i;
				p->state = ST_OTAG;
			} else {
				add_text(p);
				p->tag_at = p->i;
				p->state = ST_TAG;
			}
		} else {
			content_push(p, p->i, p->i + n);
		}
		p->i += n;
		return 0;
	case ST_OTAG:
		if (delim_char_is(p, &p->otag, p->tpos, &dn)) {
			if (p->tpos + dn == p->otag.len) {
				add_text(p);
				p->curly = false;
				p->tag_at = p->mstart;
				p->state = ST_TAG;
			} else {
				p->tpos += dn;
			}
		} else {
			p->state = ST_TEXT;
			content_push(p, p->mstart, p->mstart + p->tpos);
			content_push(p, p->i, p->i + n);
		}
		p->i += n;
		return 0;
	case ST_TAG:
		if (!p->has_content && n == 1 && c == '{') {
			p->curly = true;
			content_push(p, p->i, p->i + n);
			p->i += n;
		} else if (p->curly && n == 1 && c == '}') {
			p->curly = false;
			content_push(p, p->i, p->i + n);
			p->i += n;
		} else if (delim_char_is(p, &p->ctag, 0, &dn)) {
			if (dn < p->ctag.len) {
				p->tpos = dn;
				p->mstart = p->i;
				p->state = ST_CTAG;
				p->i += n;
			} else {
				p->i += n;
				p->state = ST_TEXT;
				return add_tag(p);
			}
		} else {
			content_push(p, p->i, p->i + n);
			p->i += n;
		}
		return 0;
	case ST_CTAG:
		if (!delim_char_is(p, &p->ctag, p->tpos, &dn)) {
			show(d1, p->ctag.s, p->ctag.len);
			return err_set(p->errp, FS_EINVAL,
				       "malformed closing delimiter '%s' in the tag at byte %zu",
				       d1, p->tag_at);
		}
		if (p->tpos + dn == p->ctag.len) {
			p->i += n;
			p->state = ST_TEXT;
			return add_tag(p);
		}
		/* 0.7.0 goes back to the tag here: a closing delimiter of three or more characters
		 * never closes anything. */
		p->state = ST_TAG;
		content_push(p, p->mstart, p->mstart + p->tpos);
		content_push(p, p->i, p->i + n);
		p->i += n;
		return 0;
	}
	return 0;
}

static int parse(struct template_parser *p)
{
	char n1[72];
	int rc;

	while (p->i < p->len)
		if ((rc = parse_step(p)) != 0)
			return rc;
	switch (p->state) {
	case ST_TEXT:
		break;
	case ST_OTAG:
	case ST_CTAG:
		content_push(p, p->mstart, p->mstart + p->tpos);
		break;
	case ST_TAG:
		return err_set(p->errp, FS_EINVAL, "unclosed tag at byte %zu", p->tag_at);
	}
	add_text(p);
	if (p->nopen > 0) {
		const struct tok *o = &p->toks[p->open[0]];
		show(n1, p->src + o->off, o->len);
		return err_set(p->errp, FS_EINVAL, "unclosed section '%s' opened at byte %zu", n1,
			       o->at);
	}
	return 0;
}

/* The value a name resolves to (its index in *idx), or NULL. A path of two or more parts walks
 * into a string, which has no fields, so only one-part names (after dropping one trailing '.') can
 * resolve. */
static const char *lookup(const struct kvlist *vars, const char *name, size_t n, size_t *idx)
{
	n = path_len(name, n);
	if (memchr(name, '.', n) != NULL || vars == NULL)
		return NULL;
	for (size_t k = 0; k < vars->n; k++) {
		const char *key = vars->items[k].key;
		if (strlen(key) == n && memcmp(key, name, n) == 0) {
			*idx = k;
			return vars->items[k].value;
		}
	}
	return NULL;
}

/* Records that out[from, out->len) is the value of vars->items[var]. */
static void span_add(struct template_spans *spans, const struct buf *out, size_t from, size_t var)
{
	if (spans == NULL || out->len == from)
		return;
	if (spans->n == spans->cap) {
		spans->cap = spans->cap ? 2 * spans->cap : 4;
		spans->v = xrealloc(spans->v, spans->cap * sizeof *spans->v);
	}
	spans->v[spans->n++] = (struct template_span){ from, out->len - from, var };
}

void template_spans_free(struct template_spans *s)
{
	free(s->v);
	memset(s, 0, sizeof *s);
}

static void append_escaped(struct buf *out, const char *v)
{
	const char *run = v;

	for (; *v != '\0'; v++) {
		const char *rep;
		switch (*v) {
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '&':
			rep = "&amp;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			rep = "&#39;";
			break;
		default:
			continue;
		}
		buf_append(out, run, (size_t)(v - run));
		buf_puts(out, rep);
		run = v + 1;
	}
	buf_append(out, run, (size_t)(v - run));
}

/* Only values make a rendering longer than its template, so only tags check the bound. */
static int render_too_long(const struct template_parser *p, const struct tok *t)
{
	return err_set(p->errp, FS_EINVAL, "the rendering passes %u bytes at the tag at byte %zu",
		       TEMPLATE_MAX_OUTPUT, t->at);
}

/* Every value is a string, so a rendered section is visited at most once and a flat walk with a
 * count of skipped nesting levels renders the whole tree. */
static int render(const struct template_parser *p, const struct kvlist *vars, struct buf *out,
		  struct template_spans *spans)
{
	size_t skip = 0, var = 0, from;
	char n1[72];

	for (size_t k = 0; k < p->ntoks; k++) {
		const struct tok *t = &p->toks[k];
		const char *name = p->src + t->off;
		const char *v;

		if (skip > 0) {
			if (t->kind == TOK_OPEN)
				skip++;
			else if (t->kind == TOK_CLOSE)
				skip--;
			continue;
		}
		switch (t->kind) {
		case TOK_TEXT:
			buf_append(out, name, t->len);
			break;
		case TOK_ETAG:
			if (t->dot)
				return err_set(
					p->errp, FS_EINVAL,
					"'{{.}}' at byte %zu names the whole map, not a string",
					t->at);
			from = out->len;
			if ((v = lookup(vars, name, t->len, &var)) != NULL)
				append_escaped(out, v);
			span_add(spans, out, from, var);
			if (out->len > TEMPLATE_MAX_OUTPUT)
				return render_too_long(p, t);
			break;
		case TOK_UTAG:
			from = out->len;
			if ((v = lookup(vars, name, t->len, &var)) != NULL)
				buf_puts(out, v);
			span_add(spans, out, from, var);
			if (out->len > TEMPLATE_MAX_OUTPUT)
				return render_too_long(p, t);
			break;
		case TOK_OPEN:
			v = lookup(vars, name, t->len, &var);
			if (v != NULL && !t->inverted) {
				show(n1, name, t->len);
				return err_set(p->errp, FS_EINVAL,
					       "section '%s' at byte %zu is over a string value",
					       n1, t->at);
			}
			if ((v == NULL) == t->inverted)
				break; /* rendered in place */
			skip = 1;
			break;
		case TOK_CLOSE:
			break;
		}
	}
	return 0;
}

int template_render(const char *src, size_t len, const struct kvlist *vars, char **out,
		    size_t *out_len, char **errp)
{
	return template_render_spans(src, len, vars, out, out_len, NULL, errp);
}

int template_render_spans(const char *src, size_t len, const struct kvlist *vars, char **out,
			  size_t *out_len, struct template_spans *spans, char **errp)
{
	struct template_parser p;
	struct buf b;
	size_t n0 = spans != NULL ? spans->n : 0;
	int rc;

	memset(&p, 0, sizeof p);
	p.src = src != NULL ? src : "";
	p.len = src != NULL ? len : 0;
	p.otag = (struct delim){ "{{", 2 };
	p.ctag = (struct delim){ "}}", 2 };
	p.errp = errp;
	buf_init(&b);
	*out = NULL;
	*out_len = 0;

	if ((rc = parse(&p)) != 0 || (rc = render(&p, vars, &b, spans)) != 0) {
		if (spans != NULL)
			spans->n = n0;
		goto done;
	}
	*out_len = b.len;
	*out = buf_steal(&b);
done:
	buf_free(&b);
	free(p.toks);
	free(p.open);
	return rc;
}
