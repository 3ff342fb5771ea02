/* SPDX-License-Identifier: Apache-2.0 */
/* The outcome ring's arithmetic: succeeded and failed jobs counted per bucket of a fixed span (a
 * minute, an hour), kept in a fixed number of slots that the spool stores (its outcome_ring
 * table) and reused in turn. The bucket of a time t starts at t - t % span and lives in slot
 * start / span % slots; a slot holds the counts of one bucket, named by its start. Pure
 * functions, no I/O: the spool's trigger does the same arithmetic in SQL. */
#ifndef FS_STATRING_H
#define FS_STATRING_H

#include <stdint.h>

#define STATRING_MINUTE_MS    60000
#define STATRING_MINUTE_SLOTS 60
#define STATRING_HOUR_MS      3600000
#define STATRING_HOUR_SLOTS   48
#define STATRING_SLOTS_MAX    60 /* the larger of the two */

struct statring_slot {
	int64_t start_ms; /* the bucket's start; -1: the slot holds none */
	int64_t succeeded;
	int64_t failed;
};

/* The start of the bucket of span_ms (> 0) holding t_ms (>= 0). */
int64_t statring_start(int64_t t_ms, int64_t span_ms);

/* The slot, in [0, slots), of the bucket starting at start_ms. */
int statring_slot(int64_t start_ms, int64_t span_ms, int slots);

/* The window of the slots buckets ending with the one that holds now_ms (>= 0), oldest first,
 * into out[slots], from stored[slots] indexed by slot: a bucket's counts are its slot's when the
 * slot holds that bucket, else zero (the slot holds an older bucket, none, or a newer one written
 * by a clock ahead of now's). Buckets before the epoch have start -1 and zero counts. */
void statring_window(const struct statring_slot *stored, int slots, int64_t span_ms, int64_t now_ms,
		     struct statring_slot *out);

#endif
