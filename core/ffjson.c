/* SPDX-License-Identifier: Apache-2.0 */
/* JSON exactly as rustc-serialize 0.3.25 reads it (see ffjson.h). Its reader is a streaming
 * event parser (a state machine with a stack of keys and indices) under a recursive tree
 * builder; its quirks follow from that design, so this file has the same two layers:
 * - positions: `line` starts at 1 and `col` at 0, and every character read (end of input
 *   included) adds 1 to col, except '\n', which adds 1 to line and sets col to 1; so the first
 *   character of every line after the first is at column 2, and errors at the end of input are
 *   one column past the last character;
 * - a trailing comma in an object is "trailing comma" at top level, but inside a container the
 *   parser pops one level too many and the error surfaces later (usually "trailing
 *   characters"); "[1,]" is "invalid syntax";
 * - \u escapes with non-hex digits are "invalid escape" (the "unrecognized hex" and "not four
 *   digits" codes are never produced); a low surrogate first, or a high one followed by
 *   anything but a low one, is "lone leading surrogate in hex escape";
 * - keys are kept on the parser's stack with 16-bit offsets and lengths that wrap: a key of
 *   65536 bytes or more is seen truncated (Factotum may then crash: FFJSON_E_PARSER_STATE);
 * - numbers: '-'? then '0' or [1-9][0-9]* (u64 overflow is "invalid number"), then an optional
 *   fraction and exponent that make it F64, computed digit by digit as rustc-serialize does. */
#include "ffjson.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "utf8.h"
#include "xalloc.h"

/* error_str(code) of rustc-serialize (static storage), or our wording for our codes. */
static const char *ffjson_strerror(enum ffjson_code code)
{
	switch (code) {
	case FFJSON_E_INVALID_SYNTAX:
		return "invalid syntax";
	case FFJSON_E_INVALID_NUMBER:
		return "invalid number";
	case FFJSON_E_EOF_OBJECT:
		return "EOF While parsing object";
	case FFJSON_E_EOF_ARRAY:
		return "EOF While parsing array";
	case FFJSON_E_EOF_VALUE:
		return "EOF While parsing value";
	case FFJSON_E_EOF_STRING:
		return "EOF While parsing string";
	case FFJSON_E_KEY_NOT_STRING:
		return "key must be a string";
	case FFJSON_E_EXPECTED_COLON:
		return "expected `:`";
	case FFJSON_E_TRAILING_CHARACTERS:
		return "trailing characters";
	case FFJSON_E_TRAILING_COMMA:
		return "trailing comma";
	case FFJSON_E_INVALID_ESCAPE:
		return "invalid escape";
	case FFJSON_E_INVALID_CODE_POINT:
		return "invalid Unicode code point";
	case FFJSON_E_LONE_SURROGATE:
		return "lone leading surrogate in hex escape";
	case FFJSON_E_UNEXPECTED_END_OF_HEX:
		return "unexpected end of hex escape";
	case FFJSON_E_UNRECOGNIZED_HEX:
		return "invalid \\u{ esc}ape (unrecognized hex)";
	case FFJSON_E_NOT_FOUR_DIGIT:
		return "invalid \\u{ esc}ape (not four digits)";
	case FFJSON_E_CONTROL_CHARACTER:
		return "unescaped control character in string";
	case FFJSON_E_NOT_UTF8:
		return "contents not utf-8";
	case FFJSON_E_DEPTH:
		return "nesting too deep";
	case FFJSON_E_PARSER_STATE:
		return "object key too long or malformed nesting";
	}
	return "invalid syntax";
}

static void put_utf8(struct buf *b, uint32_t c)
{
	char t[4];

	if (c < 0x80) {
		t[0] = (char)c;
		buf_append(b, t, 1);
	} else if (c < 0x800) {
		t[0] = (char)(0xc0 | (c >> 6));
		t[1] = (char)(0x80 | (c & 0x3f));
		buf_append(b, t, 2);
	} else if (c < 0x10000) {
		t[0] = (char)(0xe0 | (c >> 12));
		t[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		t[2] = (char)(0x80 | (c & 0x3f));
		buf_append(b, t, 3);
	} else {
		t[0] = (char)(0xf0 | (c >> 18));
		t[1] = (char)(0x80 | ((c >> 12) & 0x3f));
		t[2] = (char)(0x80 | ((c >> 6) & 0x3f));
		t[3] = (char)(0x80 | (c & 0x3f));
		buf_append(b, t, 4);
	}
}

/* ---- the event parser ---- */

enum pstate {
	PS_START,
	PS_ARRAY_FIRST,
	PS_ARRAY,
	PS_ARRAY_COMMA,
	PS_OBJECT_FIRST,
	PS_OBJECT,
	PS_OBJECT_COMMA,
	PS_BEFORE_FINISH,
	PS_FINISHED,
};

enum evkind {
	EV_NONE, /* the iterator's None */
	EV_NULL,
	EV_BOOL,
	EV_I64,
	EV_U64,
	EV_F64,
	EV_STRING,
	EV_ARRAY_START,
	EV_ARRAY_END,
	EV_OBJECT_START,
	EV_OBJECT_END,
	EV_ERROR,
};

struct ffjson_event {
	enum evkind kind;
	bool b;
	int64_t i;
	uint64_t u;
	double f;
	char *s; /* EV_STRING: owned */
	size_t len;
	struct ffjson_error err;
};

/* Stack element; keys live in parser.keys at 16-bit offsets, as in rustc-serialize. */
struct stack_el {
	bool is_key;
	uint32_t index;
	uint16_t start;
	uint16_t size;
};

struct ffjson_parser {
	const unsigned char *p;
	const unsigned char *end;
	bool eof;
	uint32_t ch;
	size_t line;
	size_t col;
	struct stack_el *st;
	size_t n_st;
	struct buf keys;
	enum pstate state;
};

static void bump(struct ffjson_parser *ps)
{
	if (ps->p < ps->end) {
		const unsigned char *s = ps->p;
		uint32_t c = s[0];
		size_t n = 1;

		/* The input was validated: the sequences are well formed. */
		if (c >= 0xf0) {
			c = ((c & 0x07u) << 18) | ((s[1] & 0x3fu) << 12) | ((s[2] & 0x3fu) << 6) |
			    (s[3] & 0x3fu);
			n = 4;
		} else if (c >= 0xe0) {
			c = ((c & 0x0fu) << 12) | ((s[1] & 0x3fu) << 6) | (s[2] & 0x3fu);
			n = 3;
		} else if (c >= 0xc0) {
			c = ((c & 0x1fu) << 6) | (s[1] & 0x3fu);
			n = 2;
		}
		ps->ch = c;
		ps->p += n;
	} else {
		ps->eof = true;
	}
	if (!ps->eof && ps->ch == '\n') {
		ps->line++;
		ps->col = 1;
	} else {
		ps->col++;
	}
}

static bool ch_is(const struct ffjson_parser *ps, uint32_t c)
{
	return !ps->eof && ps->ch == c;
}

static uint32_t ch_or_null(const struct ffjson_parser *ps)
{
	return ps->eof ? 0 : ps->ch;
}

static struct ffjson_event ev_error(const struct ffjson_parser *ps, enum ffjson_code code)
{
	struct ffjson_event e = { .kind = EV_ERROR };

	e.err.code = code;
	e.err.line = ps->line;
	e.err.col = ps->col;
	return e;
}

/* rustc-serialize's error_event: the parser stops after it. */
static struct ffjson_event error_event(struct ffjson_parser *ps, enum ffjson_code code)
{
	ps->state = PS_FINISHED;
	return ev_error(ps, code);
}

static void parse_whitespace(struct ffjson_parser *ps)
{
	while (ch_is(ps, ' ') || ch_is(ps, '\n') || ch_is(ps, '\t') || ch_is(ps, '\r'))
		bump(ps);
}

static bool is_digit(uint32_t c)
{
	return c >= '0' && c <= '9';
}

/* Leaves *err set and returns false on failure. */
static bool parse_u64(struct ffjson_parser *ps, uint64_t *out, struct ffjson_event *err)
{
	uint64_t acc = 0;
	uint32_t c = ch_or_null(ps);

	if (c == '0') {
		bump(ps);
		if (is_digit(ch_or_null(ps))) {
			*err = ev_error(ps, FFJSON_E_INVALID_NUMBER);
			return false;
		}
	} else if (c >= '1' && c <= '9') {
		while (!ps->eof) {
			c = ps->ch;
			if (!is_digit(c))
				break;
			if (acc > UINT64_MAX / 10 || acc * 10 > UINT64_MAX - (c - '0')) {
				*err = ev_error(ps, FFJSON_E_INVALID_NUMBER);
				return false;
			}
			acc = acc * 10 + (c - '0');
			bump(ps);
		}
	} else {
		*err = ev_error(ps, FFJSON_E_INVALID_NUMBER);
		return false;
	}
	*out = acc;
	return true;
}

/* f64::powi as LLVM lowers it (square and multiply). */
static double powi10(int32_t e)
{
	double a = 10.0, r = 1.0;
	int64_t b = e;
	bool recip = b < 0;

	if (recip)
		b = -b;
	for (;;) {
		if (b & 1)
			r *= a;
		b /= 2;
		if (b == 0)
			break;
		a *= a;
	}
	return recip ? 1.0 / r : r;
}

static struct ffjson_event parse_number(struct ffjson_parser *ps)
{
	struct ffjson_event ev = { .kind = EV_NONE };
	bool neg = false;
	uint64_t res;

	if (ch_is(ps, '-')) {
		bump(ps);
		neg = true;
	}
	if (!parse_u64(ps, &res, &ev))
		return ev;
	if (ch_is(ps, '.') || ch_is(ps, 'e') || ch_is(ps, 'E')) {
		double f = (double)res;

		if (ch_is(ps, '.')) {
			double dec = 1.0, frac = 0.0;

			bump(ps);
			if (!is_digit(ch_or_null(ps)))
				return ev_error(ps, FFJSON_E_INVALID_NUMBER);
			while (!ps->eof && is_digit(ps->ch)) {
				dec /= 10.0;
				frac += (double)(ps->ch - '0') * dec;
				bump(ps);
			}
			f += frac;
		}
		if (ch_is(ps, 'e') || ch_is(ps, 'E')) {
			uint64_t exp = 0; /* usize, wrapping as in a release build */
			bool neg_exp = false;

			bump(ps);
			if (ch_is(ps, '+')) {
				bump(ps);
			} else if (ch_is(ps, '-')) {
				bump(ps);
				neg_exp = true;
			}
			if (!is_digit(ch_or_null(ps)))
				return ev_error(ps, FFJSON_E_INVALID_NUMBER);
			while (!ps->eof && is_digit(ps->ch)) {
				exp = exp * 10 + (ps->ch - '0');
				bump(ps);
			}
			double p = powi10((int32_t)(uint32_t)exp);
			if (neg_exp)
				f /= p;
			else
				f *= p;
		}
		if (neg)
			f *= -1.0;
		ev.kind = EV_F64;
		ev.f = f;
		return ev;
	}
	if (neg) {
		if (res > (uint64_t)INT64_MAX + 1)
			return ev_error(ps, FFJSON_E_INVALID_NUMBER);
		ev.kind = EV_I64;
		ev.i = res == 0 ? 0 : (int64_t)(~res + 1);
		return ev;
	}
	ev.kind = EV_U64;
	ev.u = res;
	return ev;
}

static bool decode_hex_escape(struct ffjson_parser *ps, uint32_t *out, struct ffjson_event *err)
{
	uint32_t n = 0;

	for (int i = 0; i < 4; i++) {
		uint32_t c;

		bump(ps);
		c = ch_or_null(ps);
		if (c >= '0' && c <= '9')
			n = n * 16 + (c - '0');
		else if (c >= 'a' && c <= 'f')
			n = n * 16 + (c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			n = n * 16 + (c - 'A' + 10);
		else {
			*err = ev_error(ps, FFJSON_E_INVALID_ESCAPE);
			return false;
		}
	}
	*out = n;
	return true;
}

/* Called with the opening '"' current. Returns EV_STRING (owning the text) or EV_ERROR. */
static struct ffjson_event parse_str(struct ffjson_parser *ps)
{
	struct ffjson_event ev = { .kind = EV_NONE };
	struct buf b;
	bool escape = false;

	buf_init(&b);
	for (;;) {
		bump(ps);
		if (ps->eof) {
			ev = ev_error(ps, FFJSON_E_EOF_STRING);
			goto fail;
		}
		if (escape) {
			uint32_t n, n2;

			switch (ps->ch) {
			case '"':
				buf_putc(&b, '"');
				break;
			case '\\':
				buf_putc(&b, '\\');
				break;
			case '/':
				buf_putc(&b, '/');
				break;
			case 'b':
				buf_putc(&b, '\b');
				break;
			case 'f':
				buf_putc(&b, '\f');
				break;
			case 'n':
				buf_putc(&b, '\n');
				break;
			case 'r':
				buf_putc(&b, '\r');
				break;
			case 't':
				buf_putc(&b, '\t');
				break;
			case 'u':
				if (!decode_hex_escape(ps, &n, &ev))
					goto fail;
				if (n >= 0xdc00 && n <= 0xdfff) {
					ev = ev_error(ps, FFJSON_E_LONE_SURROGATE);
					goto fail;
				}
				if (n >= 0xd800 && n <= 0xdbff) {
					bool ok;

					bump(ps);
					ok = ch_is(ps, '\\');
					bump(ps); /* both characters are read before the check */
					if (!ok || !ch_is(ps, 'u')) {
						ev = ev_error(ps, FFJSON_E_UNEXPECTED_END_OF_HEX);
						goto fail;
					}
					if (!decode_hex_escape(ps, &n2, &ev))
						goto fail;
					if (n2 < 0xdc00 || n2 > 0xdfff) {
						ev = ev_error(ps, FFJSON_E_LONE_SURROGATE);
						goto fail;
					}
					n = (((n - 0xd800) << 10) | (n2 - 0xdc00)) + 0x10000;
				}
				put_utf8(&b, n);
				break;
			default:
				ev = ev_error(ps, FFJSON_E_INVALID_ESCAPE);
				goto fail;
			}
			escape = false;
		} else if (ps->ch == '\\') {
			escape = true;
		} else if (ps->ch == '"') {
			bump(ps);
			ev.kind = EV_STRING;
			ev.len = b.len;
			ev.s = buf_steal(&b);
			return ev;
		} else if (ps->ch <= 0x1f) {
			ev = ev_error(ps, FFJSON_E_CONTROL_CHARACTER);
			goto fail;
		} else {
			put_utf8(&b, ps->ch);
		}
	}
fail:
	buf_free(&b);
	return ev;
}

static struct ffjson_event parse_ident(struct ffjson_parser *ps, const char *ident,
				       struct ffjson_event value)
{
	for (const char *c = ident; *c; c++) {
		bump(ps);
		if (!ch_is(ps, (unsigned char)*c))
			return ev_error(ps, FFJSON_E_INVALID_SYNTAX);
	}
	bump(ps);
	return value;
}

static struct ffjson_event parse_value(struct ffjson_parser *ps)
{
	struct ffjson_event ev = { .kind = EV_NONE };

	if (ps->eof)
		return error_event(ps, FFJSON_E_EOF_VALUE);
	switch (ch_or_null(ps)) {
	case 'n':
		ev.kind = EV_NULL;
		return parse_ident(ps, "ull", ev);
	case 't':
		ev.kind = EV_BOOL;
		ev.b = true;
		return parse_ident(ps, "rue", ev);
	case 'f':
		ev.kind = EV_BOOL;
		ev.b = false;
		return parse_ident(ps, "alse", ev);
	case '-':
	case '0':
	case '1':
	case '2':
	case '3':
	case '4':
	case '5':
	case '6':
	case '7':
	case '8':
	case '9':
		return parse_number(ps);
	case '"':
		return parse_str(ps);
	case '[':
		bump(ps);
		ev.kind = EV_ARRAY_START;
		return ev;
	case '{':
		bump(ps);
		ev.kind = EV_OBJECT_START;
		return ev;
	default:
		return error_event(ps, FFJSON_E_INVALID_SYNTAX);
	}
}

static void stack_push(struct ffjson_parser *ps, struct stack_el el)
{
	ps->st = xgrow_by_one(ps->st, ps->n_st, sizeof(*ps->st));
	ps->st[ps->n_st++] = el;
}

static void stack_push_key(struct ffjson_parser *ps, const char *key, size_t len)
{
	struct stack_el el = { .is_key = true };

	el.start = (uint16_t)ps->keys.len;
	el.size = (uint16_t)len;
	stack_push(ps, el);
	buf_append(&ps->keys, key, len);
}

static void stack_pop(struct ffjson_parser *ps)
{
	/* Never called on an empty stack: the states guarantee it, as rustc-serialize asserts. */
	if (ps->n_st == 0)
		return;
	if (ps->st[ps->n_st - 1].is_key) {
		ps->keys.len -= ps->st[ps->n_st - 1].size;
		ps->keys.data[ps->keys.len] = '\0';
	}
	ps->n_st--;
}

static bool stack_last_is_index(const struct ffjson_parser *ps)
{
	return ps->n_st > 0 && !ps->st[ps->n_st - 1].is_key;
}

/* The key on top of the stack, as rustc-serialize's Stack::top() reads it (16-bit wrapping
 * offsets). Returns false where Rust would panic (no key on top, a slice out of range, or a
 * slice that is not UTF-8). */
static bool stack_top_key(const struct ffjson_parser *ps, const char **key, size_t *len)
{
	const struct stack_el *el;
	uint16_t end;

	if (ps->n_st == 0 || !ps->st[ps->n_st - 1].is_key)
		return false;
	el = &ps->st[ps->n_st - 1];
	end = (uint16_t)(el->start + el->size);
	if (end < el->start || end > ps->keys.len)
		return false;
	if (!utf8_valid(ps->keys.data + el->start, (size_t)(end - el->start)))
		return false;
	*key = ps->keys.data + el->start;
	*len = (size_t)(end - el->start);
	return true;
}

/* The state after a container closes, from what is left on the stack. */
static enum pstate state_after_close(const struct ffjson_parser *ps)
{
	if (ps->n_st == 0)
		return PS_BEFORE_FINISH;
	return stack_last_is_index(ps) ? PS_ARRAY_COMMA : PS_OBJECT_COMMA;
}

static enum pstate state_after_value(const struct ffjson_event *ev, enum pstate otherwise)
{
	switch (ev->kind) {
	case EV_ERROR:
		return PS_FINISHED;
	case EV_ARRAY_START:
		return PS_ARRAY_FIRST;
	case EV_OBJECT_START:
		return PS_OBJECT_FIRST;
	default:
		return otherwise;
	}
}

static struct ffjson_event parse_array(struct ffjson_parser *ps, bool first)
{
	struct ffjson_event ev = { .kind = EV_NONE };

	if (ch_is(ps, ']')) {
		if (!first)
			return error_event(ps, FFJSON_E_INVALID_SYNTAX);
		ps->state = state_after_close(ps);
		bump(ps);
		ev.kind = EV_ARRAY_END;
		return ev;
	}
	if (first) {
		struct stack_el el = { .is_key = false, .index = 0 };
		stack_push(ps, el);
	}
	ev = parse_value(ps);
	ps->state = state_after_value(&ev, PS_ARRAY_COMMA);
	return ev;
}

/* Returns true with *ev set when an event is produced. */
static bool parse_array_comma_or_end(struct ffjson_parser *ps, struct ffjson_event *ev)
{
	if (ch_is(ps, ',')) {
		ps->st[ps->n_st - 1].index++;
		ps->state = PS_ARRAY;
		bump(ps);
		return false;
	}
	if (ch_is(ps, ']')) {
		stack_pop(ps);
		ps->state = state_after_close(ps);
		bump(ps);
		ev->kind = EV_ARRAY_END;
		return true;
	}
	*ev = error_event(ps, ps->eof ? FFJSON_E_EOF_ARRAY : FFJSON_E_INVALID_SYNTAX);
	return true;
}

static struct ffjson_event parse_object(struct ffjson_parser *ps, bool first)
{
	struct ffjson_event ev = { .kind = EV_NONE };
	struct ffjson_event key;

	if (ch_is(ps, '}')) {
		if (!first) {
			if (ps->n_st == 0)
				return error_event(ps, FFJSON_E_TRAILING_COMMA);
			stack_pop(ps); /* rustc-serialize's bug: pops the enclosing level */
		}
		ps->state = state_after_close(ps);
		bump(ps);
		ev.kind = EV_OBJECT_END;
		return ev;
	}
	if (ps->eof)
		return error_event(ps, FFJSON_E_EOF_OBJECT);
	if (!ch_is(ps, '"'))
		return error_event(ps, FFJSON_E_KEY_NOT_STRING);
	key = parse_str(ps);
	if (key.kind == EV_ERROR) {
		ps->state = PS_FINISHED;
		return key;
	}
	parse_whitespace(ps);
	if (ps->eof || !ch_is(ps, ':')) {
		free(key.s);
		return error_event(ps, ps->eof ? FFJSON_E_EOF_OBJECT : FFJSON_E_EXPECTED_COLON);
	}
	stack_push_key(ps, key.s, key.len);
	free(key.s);
	bump(ps);
	parse_whitespace(ps);
	ev = parse_value(ps);
	ps->state = state_after_value(&ev, PS_OBJECT_COMMA);
	return ev;
}

static struct ffjson_event parse_object_end(struct ffjson_parser *ps)
{
	struct ffjson_event ev = { .kind = EV_NONE };

	if (ch_is(ps, '}')) {
		ps->state = state_after_close(ps);
		bump(ps);
		ev.kind = EV_OBJECT_END;
		return ev;
	}
	return error_event(ps, ps->eof ? FFJSON_E_EOF_OBJECT : FFJSON_E_INVALID_SYNTAX);
}

static struct ffjson_event parser_next(struct ffjson_parser *ps)
{
	struct ffjson_event ev = { .kind = EV_NONE };

	if (ps->state == PS_FINISHED)
		return ev;
	if (ps->state == PS_BEFORE_FINISH) {
		parse_whitespace(ps);
		if (ps->eof) {
			ps->state = PS_FINISHED;
			return ev;
		}
		return error_event(ps, FFJSON_E_TRAILING_CHARACTERS);
	}
	for (;;) {
		parse_whitespace(ps);
		switch (ps->state) {
		case PS_START:
			ev = parse_value(ps);
			ps->state = state_after_value(&ev, PS_BEFORE_FINISH);
			return ev;
		case PS_ARRAY_FIRST:
		case PS_ARRAY:
			return parse_array(ps, ps->state == PS_ARRAY_FIRST);
		case PS_ARRAY_COMMA:
			if (parse_array_comma_or_end(ps, &ev))
				return ev;
			break;
		case PS_OBJECT_FIRST:
		case PS_OBJECT:
			return parse_object(ps, ps->state == PS_OBJECT_FIRST);
		case PS_OBJECT_COMMA:
			stack_pop(ps);
			if (ch_is(ps, ',')) {
				ps->state = PS_OBJECT;
				bump(ps);
			} else {
				return parse_object_end(ps);
			}
			break;
		default:
			return error_event(ps, FFJSON_E_INVALID_SYNTAX);
		}
	}
}

/* ---- the tree builder ---- */

struct builder {
	struct ffjson_parser ps;
	struct ffjson_event tok;
	struct ffjson_error err;
	bool panicked; /* Rust would have panicked: report err as it is */
};

static void builder_bump(struct builder *bl)
{
	if (bl->tok.kind == EV_STRING)
		free(bl->tok.s);
	bl->tok = parser_next(&bl->ps);
}

static struct ffjson_event take(struct builder *bl)
{
	struct ffjson_event t = bl->tok;

	bl->tok.kind = EV_NONE;
	bl->tok.s = NULL;
	return t;
}

static void set_err_here(struct builder *bl, enum ffjson_code code)
{
	bl->err.code = code;
	bl->err.line = bl->ps.line;
	bl->err.col = bl->ps.col;
}

static struct ffjson *build_value(struct builder *bl, int depth);

static struct ffjson *new_node(enum ffjson_type type)
{
	struct ffjson *v = xcalloc(1, sizeof(*v));

	v->type = type;
	return v;
}

/* Room for element n of an array holding n elements of size bytes, the capacity doubling at each
 * power of two, so that building an array or object of k elements copies O(k) bytes in all. */
static void *grow(void *p, size_t n, size_t size)
{
	if (n != 0 && (n & (n - 1)) != 0)
		return p;
	if (n > SIZE_MAX / 2 / size)
		abort(); /* more elements than an address space holds: the input cannot be this long */
	return xrealloc(p, (n != 0 ? 2 * n : 1) * size);
}

static struct ffjson *build_array(struct builder *bl, int depth)
{
	struct ffjson *arr = new_node(FFJSON_ARRAY);

	builder_bump(bl);
	for (;;) {
		struct ffjson *v;

		if (bl->tok.kind == EV_ARRAY_END)
			return arr;
		v = build_value(bl, depth);
		if (v == NULL) {
			ffjson_free(arr);
			return NULL;
		}
		arr->items = grow(arr->items, arr->n_items, sizeof(*arr->items));
		arr->items[arr->n_items++] = v;
		builder_bump(bl);
	}
}

static int member_cmp(const void *a, const void *b)
{
	const struct ffjson_member *x = a, *y = b;
	size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
	int c = memcmp(x->key, y->key, n);

	if (c != 0)
		return c;
	if (x->key_len != y->key_len)
		return x->key_len < y->key_len ? -1 : 1;
	return 0;
}

/* Sorts n members by key with a stable merge sort (tmp has room for n), so that among equal keys
 * the one inserted last stays last. */
static void members_sort(struct ffjson_member *m, struct ffjson_member *tmp, size_t n)
{
	size_t h = n / 2, i = 0, j = h, k = 0;

	if (n < 2)
		return;
	members_sort(m, tmp, h);
	members_sort(m + h, tmp, n - h);
	while (i < h && j < n)
		tmp[k++] = member_cmp(&m[j], &m[i]) < 0 ? m[j++] : m[i++];
	while (i < h)
		tmp[k++] = m[i++];
	memcpy(m, tmp, k * sizeof(*m)); /* m[j..n) is in place already */
}

/* The members as BTreeMap::insert leaves them: sorted by key, a repeated key keeping its last
 * value. Members are appended in input order and put in order once the object ends: inserting
 * each in sorted position would move O(k) members per key, O(k^2) for an object of k keys. */
static void object_finish(struct ffjson *obj)
{
	struct ffjson_member *tmp;
	size_t n = 0;

	if (obj->n_members < 2)
		return;
	tmp = xcalloc(obj->n_members, sizeof(*tmp));
	members_sort(obj->members, tmp, obj->n_members);
	free(tmp);
	for (size_t i = 0; i < obj->n_members; i++) {
		if (i + 1 < obj->n_members &&
		    member_cmp(&obj->members[i], &obj->members[i + 1]) == 0) {
			free(obj->members[i].key);
			ffjson_free(obj->members[i].value);
			continue;
		}
		obj->members[n++] = obj->members[i];
	}
	obj->n_members = n;
}

/* Appends a member; key (len bytes plus a NUL, malloc'ed) and v are taken over. */
static void object_append(struct ffjson *obj, char *key, size_t len, struct ffjson *v)
{
	obj->members = grow(obj->members, obj->n_members, sizeof(*obj->members));
	obj->members[obj->n_members].key = key;
	obj->members[obj->n_members].key_len = len;
	obj->members[obj->n_members].value = v;
	obj->n_members++;
}

static struct ffjson *build_object(struct builder *bl, int depth)
{
	struct ffjson *obj = new_node(FFJSON_OBJECT);

	builder_bump(bl);
	for (;;) {
		struct ffjson *v;
		const char *key;
		size_t klen;
		char *kcopy;

		if (bl->tok.kind == EV_OBJECT_END) {
			object_finish(obj);
			return obj;
		}
		if (bl->tok.kind == EV_ERROR) {
			bl->err = bl->tok.err;
			goto fail;
		}
		if (bl->tok.kind == EV_NONE) {
			set_err_here(bl, FFJSON_E_EOF_OBJECT);
			goto fail;
		}
		if (!stack_top_key(&bl->ps, &key, &klen)) {
			/* Rust panics ("invalid state" or a bad slice) here. */
			set_err_here(bl, FFJSON_E_PARSER_STATE);
			bl->panicked = true;
			goto fail;
		}
		/* Copied: the parser's key buffer changes while the value is built. */
		kcopy = xmalloc(klen + 1);
		memcpy(kcopy, key, klen);
		kcopy[klen] = '\0';
		v = build_value(bl, depth);
		if (v == NULL) {
			free(kcopy);
			goto fail;
		}
		object_append(obj, kcopy, klen, v);
		builder_bump(bl);
	}
fail:
	ffjson_free(obj);
	return NULL;
}

static struct ffjson *build_value(struct builder *bl, int depth)
{
	struct ffjson_event t = take(bl);
	struct ffjson *v = NULL;

	switch (t.kind) {
	case EV_NULL:
		return new_node(FFJSON_NULL);
	case EV_BOOL:
		v = new_node(FFJSON_BOOL);
		v->boolean = t.b;
		return v;
	case EV_I64:
		v = new_node(FFJSON_I64);
		v->i64 = t.i;
		return v;
	case EV_U64:
		v = new_node(FFJSON_U64);
		v->u64 = t.u;
		return v;
	case EV_F64:
		v = new_node(FFJSON_F64);
		v->f64 = t.f;
		return v;
	case EV_STRING:
		/* the text inside the node: one allocation instead of two, for most of the tree */
		v = xmalloc(sizeof(*v) + t.len + 1);
		memset(v, 0, sizeof(*v));
		v->type = FFJSON_STRING;
		v->str = (char *)(v + 1);
		memcpy(v->str, t.s, t.len + 1);
		v->len = t.len;
		free(t.s);
		return v;
	case EV_ERROR:
		bl->err = t.err;
		return NULL;
	case EV_ARRAY_START:
	case EV_OBJECT_START:
		if (depth >= FFJSON_MAX_DEPTH) {
			set_err_here(bl, FFJSON_E_DEPTH);
			bl->panicked = true; /* a stack overflow in Rust */
			return NULL;
		}
		return t.kind == EV_ARRAY_START ? build_array(bl, depth + 1)
						: build_object(bl, depth + 1);
	case EV_ARRAY_END:
	case EV_OBJECT_END:
		set_err_here(bl, FFJSON_E_INVALID_SYNTAX);
		return NULL;
	case EV_NONE:
		set_err_here(bl, FFJSON_E_EOF_VALUE);
		return NULL;
	}
	return NULL;
}

int ffjson_parse(const char *buf, size_t len, struct ffjson **out, struct ffjson_error *perr,
		 char **errp)
{
	struct builder bl;
	struct ffjson *v = NULL;
	int rc = FS_EINVAL;

	*out = NULL;
	memset(&bl, 0, sizeof(bl));
	buf_init(&bl.ps.keys);
	if (!utf8_valid(buf, len)) {
		bl.err.code = FFJSON_E_NOT_UTF8; /* line 0, column 0 as Json::from_reader */
		goto fail;
	}
	bl.ps.p = (const unsigned char *)buf;
	bl.ps.end = bl.ps.p + len;
	bl.ps.ch = 0;
	bl.ps.line = 1;
	bl.ps.col = 0;
	bl.ps.state = PS_START;
	bump(&bl.ps);

	builder_bump(&bl);
	v = build_value(&bl, 0);
	if (bl.panicked)
		goto fail;
	builder_bump(&bl);
	if (bl.tok.kind == EV_ERROR) {
		bl.err = bl.tok.err;
		goto fail;
	}
	if (bl.tok.kind != EV_NONE) {
		set_err_here(&bl, FFJSON_E_INVALID_SYNTAX);
		goto fail;
	}
	if (v == NULL)
		goto fail;
	*out = v;
	v = NULL;
	rc = 0;
fail:
	if (rc != 0) {
		if (perr != NULL)
			*perr = bl.err;
		err_set(errp, rc, "%s at line %zu, column %zu", ffjson_strerror(bl.err.code),
			bl.err.line, bl.err.col);
	}
	ffjson_free(v);
	if (bl.tok.kind == EV_STRING)
		free(bl.tok.s);
	free(bl.ps.st);
	buf_free(&bl.ps.keys);
	return rc;
}

const struct ffjson *ffjson_get(const struct ffjson *v, const char *key)
{
	struct ffjson_member m = { .key = (char *)key, .key_len = strlen(key) };
	size_t lo = 0, hi;

	if (v == NULL || v->type != FFJSON_OBJECT)
		return NULL;
	hi = v->n_members;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = member_cmp(&v->members[mid], &m);

		if (c == 0)
			return v->members[mid].value;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

void ffjson_free(struct ffjson *v)
{
	if (v == NULL)
		return;
	if (v->str != (char *)(v + 1))
		free(v->str);
	for (size_t i = 0; i < v->n_items; i++)
		ffjson_free(v->items[i]);
	free(v->items);
	for (size_t i = 0; i < v->n_members; i++) {
		free(v->members[i].key);
		ffjson_free(v->members[i].value);
	}
	free(v->members);
	free(v);
}

void ffjson_put_string(struct buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t start = 0;

	buf_putc(b, '"');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[7];
		const char *e = esc;
		size_t elen = 2;

		esc[0] = '\\';
		switch (c) {
		case '"':
			esc[1] = '"';
			break;
		case '\\':
			esc[1] = '\\';
			break;
		case '\b':
			esc[1] = 'b';
			break;
		case '\t':
			esc[1] = 't';
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\f':
			esc[1] = 'f';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		default:
			if (c >= 0x20 && c != 0x7f)
				continue;
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xf];
			elen = 6;
		}
		if (start < i)
			buf_append(b, s + start, i - start);
		buf_append(b, e, elen);
		start = i + 1;
	}
	if (start < len)
		buf_append(b, s + start, len - start);
	buf_putc(b, '"');
}
