/* SPDX-License-Identifier: Apache-2.0 */
/* Factotum's plan order (its sequencer over a daggy graph): the order in which Factotum lists a
 * job's tasks in `dot` output, in its summary sentences and in webhook task states. */
#ifndef FS_PLAN_H
#define FS_PLAN_H

#include <stddef.h>

#include "factfile.h"

/* Fills order (caller-allocated, ff->n_tasks entries) with task indices in Factotum's plan order
 * and returns how many it wrote: all tasks, or with start >= 0 that task first and then its
 * descendants. ff must be valid (factfile_parse accepted it). */
size_t plan_order(const struct factfile *ff, long start, size_t *order);

#endif
