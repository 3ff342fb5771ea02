/* SPDX-License-Identifier: Apache-2.0 */
/* An ordered list of string pairs: template variables, tags, constraints. Keys are unique; setting
 * an existing key replaces its value in place. Small (tens of entries), so lookups are linear. */
#ifndef FS_KV_H
#define FS_KV_H

#include <stddef.h>

struct kv {
	char *key;   /* owned by the list */
	char *value; /* owned by the list */
};

struct kvlist {
	struct kv *items;
	size_t n;
};

void kvlist_init(struct kvlist *l);
/* Copies key and value; an existing key gets the new value (keeps its position). */
void kvlist_set(struct kvlist *l, const char *key, const char *value);
/* The value for key, or NULL; valid until the list changes. */
const char *kvlist_get(const struct kvlist *l, const char *key);
/* Sorts by key, byte-wise (memcmp order, as Rust's String ordering). */
void kvlist_sort(struct kvlist *l);
/* Deep copy into dst (dst is initialised here). */
void kvlist_copy(struct kvlist *dst, const struct kvlist *src);
void kvlist_free(struct kvlist *l);

#endif
