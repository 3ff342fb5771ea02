/* SPDX-License-Identifier: Apache-2.0 */
/* The mustache templating Factotum applies (doc/compatibility.md): rust-mustache 0.7.0
 * behaviour, with partials and the constructs that make Factotum panic rejected as ordinary
 * errors. */
#ifndef FS_TEMPLATE_H
#define FS_TEMPLATE_H

#include <stddef.h>

#include "kv.h"

/* Most bytes one rendering may produce. Values are copied once per tag that names them, so a
 * 64 KiB request value in a factfile with many tags could otherwise make gigabytes; a rendering
 * past this fails like any other template error. */
#define TEMPLATE_MAX_OUTPUT (16u * 1024 * 1024)

/* Renders the template src (len bytes of any kind, NUL and invalid UTF-8 included) with the
 * flat variable map vars (keys such as "env" or "tag:team"; NULL means empty), as Factotum's
 * mustache::compile_str + render does. On success returns 0 and sets *out to a new NUL-terminated
 * string (caller frees) of *out_len bytes. On failure (a partial, or input that makes rust-mustache
 * 0.7.0 panic; the list is at the top of template.c) returns FS_EINVAL, sets *out to NULL and
 * *out_len to 0, and sets *errp (if errp is not NULL) to the detail only, without any prefix, e.g.
 * "unclosed tag at byte 12" (offsets count from 0), or a rendering longer than
 * TEMPLATE_MAX_OUTPUT; the caller words it as
 * "Error rendering template: <detail>". Never crashes; linear time; no recursion. */
int template_render(const char *src, size_t len, const struct kvlist *vars, char **out,
		    size_t *out_len, char **errp);

/* Which bytes of a rendering came from a variable: [off, off + len) of the output is the value of
 * vars->items[var] (HTML-escaped for a {{x}} tag, as rendered). */
struct template_span {
	size_t off, len, var;
};

/* The spans of one rendering, in output order, none empty. Owned arrays: template_spans_free. */
struct template_spans {
	struct template_span *v;
	size_t n, cap;
};

/* template_render that also appends to *spans (if not NULL) a span per variable value written;
 * on failure *spans is left as it was given. */
int template_render_spans(const char *src, size_t len, const struct kvlist *vars, char **out,
			  size_t *out_len, struct template_spans *spans, char **errp);

/* Frees the array and empties *s (a zeroed struct is an empty list). */
void template_spans_free(struct template_spans *s);

#endif
