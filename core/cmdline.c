/* SPDX-License-Identifier: Apache-2.0 */
/* Factotum's format_args: it wraps each argument in double quotes and escapes nothing, which is
 * why template values need the responder's check (core/tmplcheck.h). */
#include "cmdline.h"

#include "xalloc.h"

char *cmdline_build(const struct factfile_task *t, size_t *arg_off)
{
	struct buf b;

	buf_init(&b);
	buf_puts(&b, t->command);
	buf_putc(&b, ' ');
	for (size_t i = 0; i < t->n_arguments; i++) {
		if (i > 0)
			buf_putc(&b, ' ');
		buf_putc(&b, '"');
		if (arg_off != NULL)
			arg_off[i] = b.len;
		buf_puts(&b, t->arguments[i]);
		buf_putc(&b, '"');
	}
	return buf_steal(&b);
}
