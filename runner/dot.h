/* SPDX-License-Identifier: Apache-2.0 */
/* `factotum dot`: the job's graph in Graphviz's language, as Factotum 0.7.0 writes it. */
#ifndef FS_DOT_H
#define FS_DOT_H

#include <stddef.h>

#include "factfile.h"

/* The text (no trailing newline): digraph "<job>" {, one line per task of plan[0..n_plan) in
 * that order, then for each of those tasks one edge line per dependency in listed order, then }.
 * Returns a new string the caller frees. */
char *dot_render(const struct factfile *ff, const size_t *plan, size_t n_plan);

#endif
