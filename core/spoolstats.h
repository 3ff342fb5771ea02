/* SPDX-License-Identifier: Apache-2.0 */
/* The spool's outcome ring for /stats: succeeded and failed jobs per minute or per hour, read
 * from the fixed rows that finishing a job updates (statring.h has the arithmetic), so that a
 * read costs the same whatever the number of jobs. */
#ifndef FS_SPOOLSTATS_H
#define FS_SPOOLSTATS_H

#include <stdint.h>

#include "statring.h"

struct spool;

/* The window of slots buckets of span_ms ending with the one holding now_ms, oldest first,
 * zero-filled, into out[slots]. span_ms and slots are one of the ring's pairs
 * (STATRING_MINUTE_MS and STATRING_MINUTE_SLOTS, or STATRING_HOUR_*); another is FS_EINVAL.
 * 0 or a negative FS_E* code with *errp set. */
int spoolstats_window(struct spool *sp, int64_t span_ms, int slots, int64_t now_ms,
		      struct statring_slot *out, char **errp);

#endif
