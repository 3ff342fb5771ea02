/* SPDX-License-Identifier: Apache-2.0 */
/* Factotum's `--tag k,v` / `--constraint k,v` grammar (FACTOTUM.md §3). */
#ifndef FS_TAGS_H
#define FS_TAGS_H

#include "kv.h"

/* Parses one "k,v" argument into tags: split on ','; key = first piece trimmed; value = the other
 * pieces concatenated without the commas, trimmed; "k" alone gives ""; an empty key is dropped
 * (nothing added); a repeated key keeps the last value. */
void tags_add(struct kvlist *tags, const char *arg);

#endif
