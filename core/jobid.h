/* SPDX-License-Identifier: Apache-2.0 */
/* The job id: Factotum's job reference (doc/compatibility.md). */
#ifndef FS_JOBID_H
#define FS_JOBID_H

#include <stddef.h>

#include "kv.h"

#define JOBID_LEN 64

/* SHA-256 over the rendered compact factfile text, then each tag's key and value bytes in
 * byte-wise key order (tags may be NULL: none); out receives 64 lowercase hex characters and a
 * NUL. The caller's lists are not changed. */
void jobid_compute(const char *compact, size_t compact_len, const struct kvlist *tags,
		   char out[JOBID_LEN + 1]);

/* 1 if s is exactly 64 lowercase hex characters, else 0. */
int jobid_is_valid(const char *s);

#endif
