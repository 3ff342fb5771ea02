/* SPDX-License-Identifier: Apache-2.0 */
/* Factotum's `--tag k,v` / `--constraint k,v` grammar (doc/compatibility.md), and the Unicode
 * whitespace test it trims with (Rust's char::is_whitespace), which the argument grammar reuses. */
#ifndef FS_TAGS_H
#define FS_TAGS_H

#include <stddef.h>

#include "kv.h"

/* Parses one "k,v" argument into tags: split on ','; key = first piece trimmed; value = the other
 * pieces concatenated without the commas, trimmed; "k" alone gives ""; an empty key is dropped
 * (nothing added); a repeated key keeps the last value. Trimming is Rust's str::trim: Unicode
 * White_Space (U+0009-000D, U+0020, U+0085, U+00A0, U+1680, U+2000-200A, U+2028, U+2029, U+202F,
 * U+205F, U+3000) decoded from UTF-8; bytes that are not valid UTF-8 are never whitespace. */
void tags_add(struct kvlist *tags, const char *arg);

/* If s[0..len) begins with a whitespace character (as above), its length in bytes (1-3), else 0. */
size_t tags_space_len(const char *s, size_t len);

/* Rust's str::trim on s[0..len): advances *s and shrinks *len past leading and trailing
 * whitespace. *s keeps pointing into the same buffer. */
void tags_trim(const char **s, size_t *len);

#endif
