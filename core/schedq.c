/* SPDX-License-Identifier: Apache-2.0 */
/* The next-due queue of schedq.h: a binary min-heap of (slot, id) pairs, compared without
 * following a pointer, and the heap position of each id in an array of its own (a sift walks and
 * writes only these two, both contiguous); the name map gives a name's id, so an update finds its
 * place in O(1) and sifts in O(log N). Ids and their names live as long as the queue (the map
 * borrows the names and has no removal): a removed name is only out of the heap. */
#include "schedq.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "strmap.h"
#include "xalloc.h"

struct schedq_node {
	int64_t next;
	size_t id; /* index in names: the order names were first queued, for ties */
};

struct schedq {
	struct strmap *map; /* name -> id */
	char **names;       /* by id: a copy of the name (the map's key) */
	size_t *pos;        /* by id: index in heap, or SIZE_MAX when not queued */
	size_t nids, capids;
	struct schedq_node *heap;
	size_t n, cap;
};

struct schedq *schedq_new(size_t n)
{
	struct schedq *q = xcalloc(1, sizeof *q);

	q->map = strmap_new(n ? n : 1);
	return q;
}

void schedq_free(struct schedq *q)
{
	if (!q)
		return;
	for (size_t i = 0; i < q->nids; i++)
		free(q->names[i]);
	free(q->names);
	free(q->pos);
	free(q->heap);
	strmap_free(q->map);
	free(q);
}

static int schedq_less(const struct schedq_node *a, const struct schedq_node *b)
{
	return a->next < b->next || (a->next == b->next && a->id < b->id);
}

static void schedq_place(struct schedq *q, size_t i, struct schedq_node node)
{
	q->heap[i] = node;
	q->pos[node.id] = i;
}

static void schedq_up(struct schedq *q, size_t i)
{
	struct schedq_node node = q->heap[i];

	while (i > 0 && schedq_less(&node, &q->heap[(i - 1) / 2])) {
		schedq_place(q, i, q->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	schedq_place(q, i, node);
}

static void schedq_down(struct schedq *q, size_t i)
{
	struct schedq_node node = q->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= q->n)
			break;
		if (c + 1 < q->n && schedq_less(&q->heap[c + 1], &q->heap[c]))
			c++;
		if (!schedq_less(&q->heap[c], &node))
			break;
		schedq_place(q, i, q->heap[c]);
		i = c;
	}
	schedq_place(q, i, node);
}

/* Takes the node at heap position i out of the heap. */
static void schedq_take(struct schedq *q, size_t i)
{
	struct schedq_node last = q->heap[--q->n];

	q->pos[q->heap[i].id] = SIZE_MAX;
	if (i == q->n)
		return;
	schedq_place(q, i, last);
	schedq_up(q, i);
	schedq_down(q, q->pos[last.id]);
}

int schedq_set(struct schedq *q, const char *name, int64_t next)
{
	size_t len = strlen(name), id;
	long k;

	if (len == 0 || len > SCHEDQ_NAME_MAX)
		return FS_EINVAL;
	if ((k = strmap_get(q->map, name)) >= 0) {
		id = (size_t)k;
	} else {
		if (q->nids == q->capids) {
			q->capids = q->capids ? 2 * q->capids : 16;
			q->names = xrealloc(q->names, q->capids * sizeof *q->names);
			q->pos = xrealloc(q->pos, q->capids * sizeof *q->pos);
		}
		id = q->nids++;
		q->names[id] = xstrdup(name);
		q->pos[id] = SIZE_MAX;
		strmap_put(q->map, q->names[id], id);
	}
	if (q->pos[id] == SIZE_MAX) {
		if (q->n == q->cap) {
			q->cap = q->cap ? 2 * q->cap : 16;
			q->heap = xrealloc(q->heap, q->cap * sizeof *q->heap);
		}
		schedq_place(q, q->n++, (struct schedq_node){ .next = next, .id = id });
	} else {
		q->heap[q->pos[id]].next = next;
	}
	schedq_up(q, q->pos[id]);
	schedq_down(q, q->pos[id]);
	return 0;
}

int schedq_remove(struct schedq *q, const char *name)
{
	long k = strmap_get(q->map, name);

	if (k < 0 || q->pos[k] == SIZE_MAX)
		return FS_ENOENT;
	schedq_take(q, q->pos[k]);
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
		*name = q->names[q->heap[0].id];
	if (next)
		*next = q->heap[0].next;
	return 0;
}

int schedq_pop_due(struct schedq *q, int64_t now, const char **name, int64_t *next)
{
	if (q->n == 0 || q->heap[0].next > now)
		return FS_ENOENT;
	schedq_peek(q, name, next);
	schedq_take(q, 0);
	return 0;
}
