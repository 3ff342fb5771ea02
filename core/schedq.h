/* SPDX-License-Identifier: Apache-2.0 */
/* The next-due queue of schedules: a min-heap of (next slot, schedule name), so that the next due
 * slot among N schedules is found in O(1) and a schedule's slot is set or removed in O(log N).
 * Names map to heap positions through strmap.h (a keyed hash, so chosen names cannot make it
 * slow). Not thread-safe: one owner (the worker's firing loop). */
#ifndef FS_SCHEDQ_H
#define FS_SCHEDQ_H

#include <stddef.h>
#include <stdint.h>

#define SCHEDQ_NAME_MAX 64

struct schedq;

/* A new, empty queue sized for n schedules (it grows past that); free with schedq_free. */
struct schedq *schedq_new(size_t n);

/* NULL is allowed. */
void schedq_free(struct schedq *q);

/* Sets name's next slot (UTC seconds), adding name if it is not queued. name is copied. 0, or
 * FS_EINVAL when name is empty or longer than SCHEDQ_NAME_MAX bytes. A name once queued keeps a
 * few bytes of bookkeeping until schedq_free, even after schedq_remove or schedq_pop_due. */
int schedq_set(struct schedq *q, const char *name, int64_t next);

/* Removes name from the queue: 0, or FS_ENOENT when it is not queued. */
int schedq_remove(struct schedq *q, const char *name);

/* The number of queued schedules. */
size_t schedq_count(const struct schedq *q);

/* The earliest queued slot (ties: the name first given to schedq_set comes first): 0 with *name
 * (the queue's copy, valid until schedq_free) and *next, or FS_ENOENT when the queue is empty.
 * Either output pointer may be NULL. After firing it, schedq_set of the following slot moves it
 * with one sift. */
int schedq_peek(const struct schedq *q, const char **name, int64_t *next);

/* Like schedq_peek, but only a slot at or before now, and it is removed from the queue (the
 * caller sets the schedule's following slot with schedq_set): 0, or FS_ENOENT when no slot is
 * due. Call it until FS_ENOENT to take every due slot, earliest first. */
int schedq_pop_due(struct schedq *q, int64_t now, const char **name, int64_t *next);

#endif
