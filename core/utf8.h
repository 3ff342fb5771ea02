/* SPDX-License-Identifier: Apache-2.0 */
/* UTF-8 as RFC 3629 defines it, for what the server accepts and what it answers: a request
 * string must be well formed, and an answer replaces whatever is not (a value stored by an older
 * server, a log) with U+FFFD. Well formed excludes overlong forms, surrogates (U+D800..U+DFFF),
 * code points above U+10FFFF and truncated sequences. */
#ifndef FS_UTF8_H
#define FS_UTF8_H

#include <stddef.h>

#include "xalloc.h"

/* The length (1 to 4) of the well-formed sequence at the start of s[0..n), n > 0; 0 when there
 * is none, and then *bad (if not NULL) is the length of the longest prefix of a well-formed
 * sequence there (at least 1): Unicode's "maximal subpart", which one U+FFFD replaces. */
size_t utf8_seq_len(const char *s, size_t n, size_t *bad);

/* The offset of the first byte of s[0..n) that is not part of a well-formed sequence; n when s
 * is valid UTF-8. */
size_t utf8_check(const char *s, size_t n);

/* 1 when s[0..n) is valid UTF-8, else 0. */
int utf8_valid(const char *s, size_t n);

/* Appends s[0..n) to out with each maximal subpart that is not well formed replaced by U+FFFD
 * (EF BF BD), as Rust's String::from_utf8_lossy and WHATWG's decoder do. */
void utf8_sanitize(struct buf *out, const char *s, size_t n);

/* The \u escapes of the JSON text json[0..n) that stand for a lone surrogate (a high one not
 * followed by a low one, or a low one not after a high one): JSON parsers replace them with
 * U+FFFD silently, so the text must be read before parsing. Returns how many there are. When
 * out is not NULL (room for n bytes), also writes the text there with each such escape replaced
 * by the three bytes of the surrogate's ill-formed UTF-8 form (\ud800 by ED A0 80), which a
 * parser that does not check UTF-8 keeps and utf8_check then finds, and sets *out_n to its
 * length. json is expected to be valid JSON: a backslash is taken to be inside a string. */
size_t utf8_json_surrogates(const char *json, size_t n, char *out, size_t *out_n);

#endif
