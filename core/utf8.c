/* SPDX-License-Identifier: Apache-2.0 */
/* RFC 3629 checks, U+FFFD substitution, and lone-surrogate escapes in JSON text. */
#include "utf8.h"

#include <string.h>

/* RFC 3629's table of well-formed sequences: a lead byte fixes the length and the range of the
 * second byte (the ranges that exclude overlongs, surrogates and values above U+10FFFF); every
 * later byte is 80..BF. */
static size_t utf8_lead(unsigned char c, unsigned char *lo, unsigned char *hi)
{
	*lo = 0x80;
	*hi = 0xbf;
	if (c >= 0xc2 && c <= 0xdf)
		return 2;
	if (c == 0xe0)
		*lo = 0xa0;
	else if (c == 0xed)
		*hi = 0x9f;
	if (c >= 0xe0 && c <= 0xef)
		return 3;
	if (c == 0xf0)
		*lo = 0x90;
	else if (c == 0xf4)
		*hi = 0x8f;
	if (c >= 0xf0 && c <= 0xf4)
		return 4;
	return 0;
}

size_t utf8_seq_len(const char *s, size_t n, size_t *bad)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned char lo, hi;
	size_t len, k;

	if (u[0] < 0x80)
		return 1;
	len = utf8_lead(u[0], &lo, &hi);
	for (k = 1; k < len; k++) {
		if (k >= n || u[k] < lo || u[k] > hi)
			break;
		lo = 0x80;
		hi = 0xbf;
	}
	if (len > 0 && k == len)
		return len;
	if (bad != NULL)
		*bad = k;
	return 0;
}

size_t utf8_check(const char *s, size_t n)
{
	size_t i = 0, k;

	while (i < n) {
		if ((unsigned char)s[i] < 0x80) {
			i++;
			continue;
		}
		if ((k = utf8_seq_len(s + i, n - i, NULL)) == 0)
			return i;
		i += k;
	}
	return n;
}

int utf8_valid(const char *s, size_t n)
{
	return utf8_check(s, n) == n;
}

void utf8_sanitize(struct buf *out, const char *s, size_t n)
{
	size_t i = 0, ok, bad = 1;

	while (i < n) {
		ok = utf8_check(s + i, n - i);
		buf_append(out, s + i, ok);
		i += ok;
		if (i == n)
			break;
		utf8_seq_len(s + i, n - i, &bad);
		buf_puts(out, "\xef\xbf\xbd");
		i += bad;
	}
}

/* The value of the four hex digits at s, or -1. */
static long utf8_hex4(const char *s)
{
	long v = 0;

	for (int i = 0; i < 4; i++) {
		char c = s[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/* The code unit of a \uXXXX escape at json[i..n), or -1 when there is none. */
static long utf8_escape_at(const char *json, size_t n, size_t i)
{
	if (i + 6 > n || json[i] != '\\' || json[i + 1] != 'u')
		return -1;
	return utf8_hex4(json + i + 2);
}

size_t utf8_json_surrogates(const char *json, size_t n, char *out, size_t *out_n)
{
	size_t i = 0, o = 0, lone = 0, step;
	const char *bs;
	long u;

	while (i < n) {
		bs = memchr(json + i, '\\', n - i);
		step = (bs != NULL ? (size_t)(bs - json) : n) - i;
		if (out != NULL)
			memcpy(out + o, json + i, step);
		i += step;
		o += step;
		if (i == n)
			break;
		u = utf8_escape_at(json, n, i);
		step = u < 0 ? 2 : 6; /* another escape: its backslash and one character */
		if (u >= 0xd800 && u <= 0xdbff && utf8_escape_at(json, n, i + 6) >= 0xdc00 &&
		    utf8_escape_at(json, n, i + 6) <= 0xdfff) {
			step = 12; /* a pair: one code point above U+FFFF */
		} else if (u >= 0xd800 && u <= 0xdfff) {
			lone++;
			if (out != NULL) {
				out[o++] = (char)(0xe0 | (u >> 12));
				out[o++] = (char)(0x80 | ((u >> 6) & 0x3f));
				out[o++] = (char)(0x80 | (u & 0x3f));
			}
			i += 6;
			continue;
		}
		if (step > n - i)
			step = n - i;
		if (out != NULL)
			memcpy(out + o, json + i, step);
		i += step;
		o += step;
	}
	if (out_n != NULL)
		*out_n = o;
	return lone;
}
