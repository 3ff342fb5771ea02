/* SPDX-License-Identifier: Apache-2.0 */
/* Factotum's generate_graphviz_dot (src/factotum/factfile/dot/mod.rs): names are written between
 * double quotes as they are, without escaping (Factotum's behaviour, kept byte for byte). */
#include "dot.h"

#include "xalloc.h"

char *dot_render(const struct factfile *ff, const size_t *plan, size_t n_plan)
{
	struct buf b;

	buf_init(&b);
	buf_printf(&b, "digraph \"%s\" {\n", ff->name);
	for (size_t k = 0; k < n_plan; k++)
		buf_printf(&b, "    \"%s\"\n", ff->tasks[plan[k]].name);
	for (size_t k = 0; k < n_plan; k++) {
		const struct factfile_task *t = &ff->tasks[plan[k]];
		for (size_t d = 0; d < t->n_depends_on; d++)
			buf_printf(&b, "    \"%s\" -> \"%s\"\n", t->depends_on[d], t->name);
	}
	buf_putc(&b, '}');
	return buf_steal(&b);
}
