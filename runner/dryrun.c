/* SPDX-License-Identifier: Apache-2.0 */
/* --dry-run: Factotum's simulation (execution_strategy::execute_simulation): every planned task
 * "runs" in plan order, succeeds at once, and nothing is spawned. Factotum 0.7.0 builds a box
 * naming each task and its command (simulation_text) but no longer prints it; 0.6 printed it,
 * and a dry run that shows the commands is the point, so we print the box on stdout between the
 * task's start and success lines. The command is shown as Rust's Debug of the Command:
 * "sh" "-c" "<command line>", each part quoted and escaped as Rust escapes a str. */
#include "sched.h"

#include <stdlib.h>
#include <string.h>

#include "task.h"

/* Rust's <str as Debug> body (without the quotes): \0 \t \r \n \\ \" and \u{..} for other
 * controls; invalid UTF-8 bytes as \xNN (OsStr's Debug). Other characters are written as is. */
static void dryrun_escape(struct buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p != '\0'; p++) {
		switch (*p) {
		case '\t':
			buf_puts(b, "\\t");
			break;
		case '\r':
			buf_puts(b, "\\r");
			break;
		case '\n':
			buf_puts(b, "\\n");
			break;
		case '\\':
			buf_puts(b, "\\\\");
			break;
		case '"':
			buf_puts(b, "\\\"");
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				buf_printf(b, "\\u{%x}", *p);
			else if (*p >= 0x80 &&
				 !(p[0] >= 0xc2 && p[0] <= 0xf4 && (p[1] & 0xc0) == 0x80))
				buf_printf(b, "\\x%02X", *p);
			else
				buf_putc(b, (char)*p);
		}
	}
}

/* Characters (code points) in s: what Rust's width padding counts. */
static size_t dryrun_chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

static void dryrun_fill(struct buf *b, char c, size_t n)
{
	while (n-- > 0)
		buf_putc(b, c);
}

/* simulation_text: a five-line box; widths are byte lengths plus 2, at least the titles'. */
static void dryrun_box(struct buf *b, const char *name, const char *command_text)
{
	size_t tw = strlen(name) + 2, cw = strlen(command_text) + 2, nc, cc;

	if (tw < 6)
		tw = 6;
	if (cw < 9)
		cw = 9;
	nc = dryrun_chars(name);
	cc = dryrun_chars(command_text);
	buf_putc(b, '/');
	dryrun_fill(b, '-', tw);
	buf_putc(b, '|');
	dryrun_fill(b, '-', cw);
	buf_puts(b, "\\\n| TASK");
	dryrun_fill(b, ' ', tw - 2 - 4);
	buf_puts(b, " | COMMAND");
	dryrun_fill(b, ' ', cw - 2 - 7);
	buf_puts(b, " |\n|");
	dryrun_fill(b, '-', tw);
	buf_putc(b, '|');
	dryrun_fill(b, '-', cw);
	buf_puts(b, "|\n| ");
	buf_puts(b, name);
	dryrun_fill(b, ' ', tw - 2 > nc ? tw - 2 - nc : 0);
	buf_puts(b, " | ");
	buf_puts(b, command_text);
	dryrun_fill(b, '-', cw - 2 > cc ? cw - 2 - cc : 0);
	buf_puts(b, " |\n\\");
	dryrun_fill(b, '-', tw);
	buf_putc(b, '|');
	dryrun_fill(b, '-', cw);
	buf_puts(b, "/\n");
}

void sched_simulate(struct run *run, const size_t *plan, size_t n_plan, const struct output *o)
{
	(void)o;
	run->state = JOB_RUNNING;
	for (size_t k = 0; k < n_plan; k++) {
		struct run_task *rt = &run->tasks[plan[k]];
		char *cmd = task_command(rt->def);
		struct buf err, out, text;

		buf_init(&err);
		buf_init(&out);
		buf_init(&text);
		clock_gettime(CLOCK_REALTIME, &rt->start_real);
		clock_gettime(CLOCK_MONOTONIC, &rt->start_mono);
		rt->end_mono = rt->start_mono;
		rt->started = rt->finished = 1;
		rt->has_return_code = 1;
		rt->return_code = 0;
		rt->state = TASK_SUCCEEDED;
		buf_printf(&err, "Task '%s' was started at ", rt->def->name);
		output_utc(&err, &rt->start_real);
		buf_putc(&err, '\n');
		output_flush(2, &err);
		buf_puts(&text, "\"sh\" \"-c\" \"");
		dryrun_escape(&text, cmd);
		buf_putc(&text, '"');
		dryrun_box(&out, rt->def->name, text.data);
		output_flush(1, &out);
		buf_printf(&err, "Task '%s': succeeded after 0.0s\n", rt->def->name);
		output_flush(2, &err);
		buf_free(&err);
		buf_free(&out);
		buf_free(&text);
		free(cmd);
	}
}
