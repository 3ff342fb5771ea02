/* SPDX-License-Identifier: Apache-2.0 */
/* Ordered string pairs with unique keys. */
#include "kv.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

void kvlist_init(struct kvlist *l)
{
	l->items = NULL;
	l->n = 0;
}

void kvlist_set(struct kvlist *l, const char *key, const char *value)
{
	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->items[i].key, key) == 0) {
			char *v = xstrdup(value);
			free(l->items[i].value);
			l->items[i].value = v;
			return;
		}
	}
	l->items = xgrow_by_one(l->items, l->n, sizeof *l->items);
	l->items[l->n].key = xstrdup(key);
	l->items[l->n].value = xstrdup(value);
	l->n++;
}

const char *kvlist_get(const struct kvlist *l, const char *key)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->items[i].key, key) == 0)
			return l->items[i].value;
	return NULL;
}

static int kv_cmp(const void *a, const void *b)
{
	const struct kv *x = a, *y = b;
	/* strcmp compares as unsigned char, which is byte-wise order for UTF-8. */
	return strcmp(x->key, y->key);
}

void kvlist_sort(struct kvlist *l)
{
	if (l->n > 1)
		qsort(l->items, l->n, sizeof *l->items, kv_cmp);
}

void kvlist_copy(struct kvlist *dst, const struct kvlist *src)
{
	kvlist_init(dst);
	for (size_t i = 0; i < src->n; i++)
		kvlist_set(dst, src->items[i].key, src->items[i].value);
}

void kvlist_free(struct kvlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].key);
		free(l->items[i].value);
	}
	free(l->items);
	kvlist_init(l);
}
