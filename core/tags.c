/* SPDX-License-Identifier: Apache-2.0 */
/* Factotum's tag grammar (get_tag_map in its main.rs) with Rust's Unicode trim. */
#include "tags.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* Rust's char::is_whitespace: the Unicode White_Space property. */
static int tags_is_space_cp(unsigned long c)
{
	return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0x85 || c == 0xa0 || c == 0x1680 ||
	       (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
	       c == 0x205f || c == 0x3000;
}

size_t tags_space_len(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;

	if (len == 0)
		return 0;
	if (p[0] < 0x80)
		return tags_is_space_cp(p[0]) ? 1 : 0;
	/* Every non-ASCII whitespace character is a 2-byte (U+0085, U+00A0) or 3-byte one; decode
	 * strictly so that an invalid sequence is never taken for one. */
	if (p[0] == 0xc2 && len >= 2)
		return (p[1] == 0x85 || p[1] == 0xa0) ? 2 : 0;
	if ((p[0] == 0xe1 || p[0] == 0xe2 || p[0] == 0xe3) && len >= 3 && (p[1] & 0xc0) == 0x80 &&
	    (p[2] & 0xc0) == 0x80) {
		unsigned long c = ((unsigned long)(p[0] & 0x0f) << 12) |
				  ((unsigned long)(p[1] & 0x3f) << 6) | (p[2] & 0x3f);
		return tags_is_space_cp(c) ? 3 : 0;
	}
	return 0;
}

void tags_trim(const char **s, size_t *len)
{
	const char *p = *s;
	size_t n = *len, k, i, end;

	while ((k = tags_space_len(p, n)) > 0) {
		p += k;
		n -= k;
	}
	/* Scan forward so that multi-byte characters are decoded from their first byte; end is the
	 * offset just past the last character that is not whitespace. */
	end = 0;
	for (i = 0; i < n;) {
		k = tags_space_len(p + i, n - i);
		if (k > 0) {
			i += k;
		} else {
			i++;
			end = i;
		}
	}
	*s = p;
	*len = end;
}

void tags_add(struct kvlist *tags, const char *arg)
{
	const char *comma = strchr(arg, ',');
	const char *key = arg, *value;
	size_t key_len = comma != NULL ? (size_t)(comma - arg) : strlen(arg), value_len;
	struct buf joined;
	char *k, *v;

	tags_trim(&key, &key_len);
	if (key_len == 0)
		return;
	buf_init(&joined);
	if (comma != NULL) {
		for (const char *p = comma + 1; *p != '\0'; p++)
			if (*p != ',')
				buf_putc(&joined, *p);
	}
	value = joined.data != NULL ? joined.data : "";
	value_len = joined.len;
	tags_trim(&value, &value_len);
	k = xstrndup(key, key_len);
	v = xstrndup(value, value_len);
	kvlist_set(tags, k, v);
	free(k);
	free(v);
	buf_free(&joined);
}
