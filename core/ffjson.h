/* SPDX-License-Identifier: Apache-2.0 */
/* A JSON parser that accepts exactly what rustc-serialize 0.3.25's Json::from_str accepts (the
 * parser Factotum 0.7.0 uses) and reports the same error kinds, texts and line/column positions.
 * Values keep the integer kinds (I64/U64/F64) and objects behave as its BTreeMap: keys sorted
 * byte-wise, a repeated key keeps its last value. */
#ifndef FS_FFJSON_H
#define FS_FFJSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The deepest nesting accepted. Rust's recursive builder would overflow its stack on deep input;
 * we refuse with FFJSON_E_DEPTH instead. A factfile needs 5 levels. */
#define FFJSON_MAX_DEPTH 512

enum ffjson_type {
	FFJSON_NULL,
	FFJSON_BOOL,
	FFJSON_I64, /* a negative integer or -0 */
	FFJSON_U64, /* a non-negative integer without '.', 'e' or 'E' */
	FFJSON_F64, /* any number with a fraction or an exponent */
	FFJSON_STRING,
	FFJSON_ARRAY,
	FFJSON_OBJECT,
};

struct ffjson_member;

struct ffjson {
	enum ffjson_type type;
	union {               /* only the member of the type is meaningful */
		bool boolean; /* FFJSON_BOOL */
		int64_t i64;  /* FFJSON_I64 */
		uint64_t u64; /* FFJSON_U64 */
		double f64;   /* FFJSON_F64 */
	};
	char *str; /* FFJSON_STRING: len bytes of UTF-8 plus a NUL; may contain NUL (\u0000) */
	size_t len;
	struct ffjson **items; /* FFJSON_ARRAY */
	size_t n_items;
	struct ffjson_member *members; /* FFJSON_OBJECT: sorted by key (memcmp order), unique */
	size_t n_members;
};

struct ffjson_member {
	char *key; /* key_len bytes plus a NUL; may contain NUL */
	size_t key_len;
	struct ffjson *value;
};

/* rustc-serialize's ErrorCode, in its order, then our own codes. */
enum ffjson_code {
	FFJSON_E_INVALID_SYNTAX,
	FFJSON_E_INVALID_NUMBER,
	FFJSON_E_EOF_OBJECT,
	FFJSON_E_EOF_ARRAY,
	FFJSON_E_EOF_VALUE,
	FFJSON_E_EOF_STRING,
	FFJSON_E_KEY_NOT_STRING,
	FFJSON_E_EXPECTED_COLON,
	FFJSON_E_TRAILING_CHARACTERS,
	FFJSON_E_TRAILING_COMMA,
	FFJSON_E_INVALID_ESCAPE,
	FFJSON_E_INVALID_CODE_POINT,
	FFJSON_E_LONE_SURROGATE,
	FFJSON_E_UNEXPECTED_END_OF_HEX,
	FFJSON_E_UNRECOGNIZED_HEX,
	FFJSON_E_NOT_FOUR_DIGIT,
	FFJSON_E_CONTROL_CHARACTER,
	FFJSON_E_NOT_UTF8,
	/* Ours: inputs on which Factotum crashes instead of reporting an error. */
	FFJSON_E_DEPTH,        /* deeper than FFJSON_MAX_DEPTH (stack overflow in Rust) */
	FFJSON_E_PARSER_STATE, /* rustc-serialize's parser loses track of nesting and panics */
};

struct ffjson_error {
	enum ffjson_code code;
	size_t line; /* as rustc-serialize counts: see ffjson.c */
	size_t col;
};

/* Parses len bytes of buf (any bytes; invalid UTF-8 gives FFJSON_E_NOT_UTF8 at line 0, column 0,
 * as Json::from_reader does). On success returns 0 and sets *out to a tree the caller frees with
 * ffjson_free. On failure returns FS_EINVAL, leaves *out NULL, fills *perr if not NULL and sets
 * *errp (if errp is not NULL) to "<error_str> at line <L>, column <C>". */
int ffjson_parse(const char *buf, size_t len, struct ffjson **out, struct ffjson_error *perr,
		 char **errp);

/* The member value for key (NUL-terminated, no embedded NUL), or NULL if v is not an object or
 * has no such key. Borrowed from v. */
const struct ffjson *ffjson_get(const struct ffjson *v, const char *key);

/* Frees v and everything below it; NULL is allowed. */
void ffjson_free(struct ffjson *v);

/* Appends s (len bytes) to b as a JSON string literal escaped as rustc-serialize's encoder does:
 * '"' and '\\' backslashed, \b \t \n \f \r short forms, other 0x00-0x1f and 0x7f as \u00xx
 * (lowercase hex), everything else (including '/' and non-ASCII) raw. */
struct buf;
void ffjson_put_string(struct buf *b, const char *s, size_t len);

#endif
