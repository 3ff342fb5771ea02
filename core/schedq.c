/* SPDX-License-Identifier: Apache-2.0 */
/* The next-due queue of schedq.h: a binary min-heap of entry pointers; each entry knows its heap
 * position, and the name map gives a name's entry, so an update finds its place in O(1) and
 * sifts in O(log N). Entries are never freed before the queue (the map borrows their names and
 * has no removal): a removed entry is only out of the heap. */
#include "schedq.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "strmap.h"
#include "xalloc.h"

struct schedq_entry {
	char name[SCHEDQ_NAME_MAX + 1];
	int64_t next;
	size_t pos; /* index in heap, or SIZE_MAX when not queued */
};

struct schedq {
	struct strmap *names; /* name -> index in entries */
	struct schedq_entry **entries;
	size_t nentries, capentries;
	struct schedq_entry **heap;
	size_t n, cap;
};

struct schedq *schedq_new(size_t n)
{
	struct schedq *q = xcalloc(1, sizeof *q);

	q->names = strmap_new(n ? n : 1);
	return q;
}

void schedq_free(struct schedq *q)
{
	if (!q)
		return;
	for (size_t i = 0; i < q->nentries; i++)
		free(q->entries[i]);
	free(q->entries);
	free(q->heap);
	strmap_free(q->names);
	free(q);
}

static int schedq_less(const struct schedq_entry *a, const struct schedq_entry *b)
{
	return a->next < b->next || (a->next == b->next && strcmp(a->name, b->name) < 0);
}

static void schedq_place(struct schedq *q, size_t i, struct schedq_entry *e)
{
	q->heap[i] = e;
	e->pos = i;
}

static void schedq_up(struct schedq *q, size_t i)
{
	struct schedq_entry *e = q->heap[i];

	while (i > 0 && schedq_less(e, q->heap[(i - 1) / 2])) {
		schedq_place(q, i, q->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	schedq_place(q, i, e);
}

static void schedq_down(struct schedq *q, size_t i)
{
	struct schedq_entry *e = q->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= q->n)
			break;
		if (c + 1 < q->n && schedq_less(q->heap[c + 1], q->heap[c]))
			c++;
		if (!schedq_less(q->heap[c], e))
			break;
		schedq_place(q, i, q->heap[c]);
		i = c;
	}
	schedq_place(q, i, e);
}

/* Takes the entry at heap position i out of the heap. */
static void schedq_take(struct schedq *q, size_t i)
{
	struct schedq_entry *e = q->heap[i], *last = q->heap[--q->n];

	e->pos = SIZE_MAX;
	if (i == q->n)
		return;
	schedq_place(q, i, last);
	schedq_up(q, i);
	schedq_down(q, last->pos);
}

int schedq_set(struct schedq *q, const char *name, int64_t next)
{
	size_t len = strlen(name);
	struct schedq_entry *e;
	long k;

	if (len == 0 || len > SCHEDQ_NAME_MAX)
		return FS_EINVAL;
	if ((k = strmap_get(q->names, name)) >= 0) {
		e = q->entries[k];
	} else {
		e = xcalloc(1, sizeof *e);
		memcpy(e->name, name, len);
		e->pos = SIZE_MAX;
		if (q->nentries == q->capentries) {
			q->capentries = q->capentries ? 2 * q->capentries : 16;
			q->entries = xrealloc(q->entries, q->capentries * sizeof *q->entries);
		}
		strmap_put(q->names, e->name, q->nentries);
		q->entries[q->nentries++] = e;
	}
	e->next = next;
	if (e->pos == SIZE_MAX) {
		if (q->n == q->cap) {
			q->cap = q->cap ? 2 * q->cap : 16;
			q->heap = xrealloc(q->heap, q->cap * sizeof *q->heap);
		}
		schedq_place(q, q->n++, e);
	}
	schedq_up(q, e->pos);
	schedq_down(q, e->pos);
	return 0;
}

int schedq_remove(struct schedq *q, const char *name)
{
	long k = strmap_get(q->names, name);

	if (k < 0 || q->entries[k]->pos == SIZE_MAX)
		return FS_ENOENT;
	schedq_take(q, q->entries[k]->pos);
	return 0;
}

size_t schedq_count(const struct schedq *q)
{
	return q->n;
}

int schedq_peek(const struct schedq *q, const char **name, int64_t *next)
{
	if (q->n == 0)
		return FS_ENOENT;
	if (name)
		*name = q->heap[0]->name;
	if (next)
		*next = q->heap[0]->next;
	return 0;
}

int schedq_pop_due(struct schedq *q, int64_t now, const char **name, int64_t *next)
{
	if (q->n == 0 || q->heap[0]->next > now)
		return FS_ENOENT;
	schedq_peek(q, name, next);
	schedq_take(q, 0);
	return 0;
}
