/* SPDX-License-Identifier: Apache-2.0 */
/* The mustache templating Factotum applies (FACTOTUM.md §2): rust-mustache 0.7.0 behaviour, with
 * partials and the constructs that make Factotum panic rejected as ordinary errors. */
#ifndef FS_TEMPLATE_H
#define FS_TEMPLATE_H

#include <stddef.h>

#include "kv.h"

/* Renders the template src (len bytes, any bytes) with the flat variable map vars (keys such as
 * "env" or "tag:team"; values NUL-terminated strings). On success returns 0 and sets *out to a new
 * NUL-terminated string (caller frees) of *out_len bytes. On failure returns FS_EINVAL and sets
 * *errp to the detail only, without any prefix (e.g. "unclosed tag '{{' at byte 12"); the caller
 * words it as "Error rendering template: <detail>". Never crashes on any input. */
int template_render(const char *src, size_t len, const struct kvlist *vars, char **out,
		    size_t *out_len, char **errp);

#endif
