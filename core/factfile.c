/* SPDX-License-Identifier: Apache-2.0 */
/* Factfile reading, validation and templating in the order of Factotum 0.7.0's
 * src/factotum/parser/mod.rs, so that the first problem found is the one Factotum reports:
 * read, JSON, schema, compact re-encoding, render the compact text, render the job name, then
 * per task: render the name, empty continueJob, conflicting codes, render the command (the
 * result is discarded, as Factotum does, but a template error in it still counts), render each
 * argument, each dependency, then the graph checks Factotum does in Factfile::add_task
 * (duplicate name, self-dependency, and with FACTFILE_RULES_FACTOTUM define-before-use). With
 * FACTFILE_RULES_OURS, unknown dependencies and cycles are checked after the last task.
 *
 * NUL characters: JSON may carry \u0000. The compact text escapes it (so the job id is fine), but
 * names, commands, arguments and dependencies become C strings and a command line, where a NUL
 * cannot be represented (Factotum's own spawn would fail on one). We reject a NUL in any of them
 * (after templating where templating applies) with a clear validation error, at the point where
 * the field is processed. */
#define _GNU_SOURCE /* memmem */
#include "factfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "ffjson.h"
#include "schema.h"
#include "template.h"
#include "utf8.h"
#include "xalloc.h"

#define NOT_VALID "'%s' is not a valid factotum factfile: "

struct ctx {
	const char *path;
	const struct kvlist *vars;
	char **errp;
};

/* Sets "'<path>' is not a valid factotum factfile: <fmt...>" and returns FS_EINVAL. */
static int invalid(const struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int invalid(const struct ctx *c, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	err_set(c->errp, FS_EINVAL, NOT_VALID "%s", c->path, s);
	free(s);
	return FS_EINVAL;
}

/* Whether src needs the template parser. Not with Factotum's parse with env None (its `dot`): no
 * templating at all. Nor has a text without "{{" anything to render (every tag, a delimiter
 * change included, starts with it): it renders to itself, with no variable's value in it, and it
 * is UTF-8 already (a JSON string of a file read as UTF-8, or the compact text made of them).
 * This spares the template parser most of the text. */
static bool templated(const struct ctx *c, const char *src, size_t len)
{
	return c->vars != NULL && len >= 2 && memmem(src, len, "{{", 2) != NULL;
}

/* templater::decorate_str: renders src; *out is a new string of *out_len bytes. spans (may be
 * NULL) receives where the variables' values went. */
static int render(const struct ctx *c, const char *src, size_t len, char **out, size_t *out_len,
		  struct template_spans *spans)
{
	char *detail = NULL;
	int rc;

	*out = NULL;
	if (!templated(c, src, len)) {
		*out = xmalloc(len + 1);
		memcpy(*out, src, len);
		(*out)[len] = '\0';
		*out_len = len;
		return 0;
	}
	rc = template_render_spans(src, len, c->vars, out, out_len, spans, &detail);
	if (rc != 0) {
		rc = invalid(c, "Error rendering template: %s", detail ? detail : "unknown error");
		goto done;
	}
	if (!utf8_valid(*out, *out_len)) {
		rc = invalid(c, "Error inflating rendered template to utf8: invalid utf-8");
		goto done;
	}
done:
	if (rc != 0) {
		free(*out);
		*out = NULL;
	}
	free(detail);
	return rc;
}

static bool has_nul(const char *s, size_t len)
{
	return len > 0 && memchr(s, '\0', len) != NULL;
}

/* Renders a task field; a NUL in the result is an error naming the task and the field. */
static int render_field(const struct ctx *c, const struct ffjson *v, const char *task,
			const char *field, char **out, struct template_spans *spans)
{
	size_t n;
	int rc = render(c, v->str, v->len, out, &n, spans);

	if (rc == 0 && has_nul(*out, n)) {
		free(*out);
		*out = NULL;
		rc = invalid(c, "the task '%s' has a NUL character (\\u0000) in its %s.", task,
			     field);
	}
	return rc;
}

static void put_codes(struct buf *b, const struct ffjson *arr)
{
	buf_putc(b, '[');
	for (size_t i = 0; i < arr->n_items; i++) {
		const struct ffjson *v = arr->items[i];

		if (i > 0)
			buf_putc(b, ',');
		if (v->type == FFJSON_I64)
			buf_printf(b, "%lld", (long long)v->i64);
		else
			buf_printf(b, "%llu", (unsigned long long)v->u64);
	}
	buf_putc(b, ']');
}

static void put_strings(struct buf *b, const struct ffjson *arr)
{
	buf_putc(b, '[');
	for (size_t i = 0; i < arr->n_items; i++) {
		if (i > 0)
			buf_putc(b, ',');
		ffjson_put_string(b, arr->items[i]->str, arr->items[i]->len);
	}
	buf_putc(b, ']');
}

static void put_key_string(struct buf *b, const char *key, const struct ffjson *v)
{
	buf_printf(b, "\"%s\":", key);
	ffjson_put_string(b, v->str, v->len);
}

/* json::encode of Factotum's SelfDescribingJson: struct fields in declaration order; *len is
 * the text's length. */
static char *compact_encode(const struct ffjson *root, size_t *len)
{
	const struct ffjson *data = ffjson_get(root, "data");
	const struct ffjson *tasks = ffjson_get(data, "tasks");
	struct buf b;

	buf_init(&b);
	buf_putc(&b, '{');
	put_key_string(&b, "schema", ffjson_get(root, "schema"));
	buf_puts(&b, ",\"data\":{");
	put_key_string(&b, "name", ffjson_get(data, "name"));
	buf_puts(&b, ",\"tasks\":[");
	for (size_t i = 0; i < tasks->n_items; i++) {
		const struct ffjson *t = tasks->items[i];
		const struct ffjson *on = ffjson_get(t, "onResult");

		if (i > 0)
			buf_putc(&b, ',');
		buf_putc(&b, '{');
		put_key_string(&b, "name", ffjson_get(t, "name"));
		buf_putc(&b, ',');
		put_key_string(&b, "executor", ffjson_get(t, "executor"));
		buf_putc(&b, ',');
		put_key_string(&b, "command", ffjson_get(t, "command"));
		buf_puts(&b, ",\"arguments\":");
		put_strings(&b, ffjson_get(t, "arguments"));
		buf_puts(&b, ",\"dependsOn\":");
		put_strings(&b, ffjson_get(t, "dependsOn"));
		buf_puts(&b, ",\"onResult\":{\"terminateJobWithSuccess\":");
		put_codes(&b, ffjson_get(on, "terminateJobWithSuccess"));
		buf_puts(&b, ",\"continueJob\":");
		put_codes(&b, ffjson_get(on, "continueJob"));
		buf_puts(&b, "}}");
	}
	buf_puts(&b, "]}}");
	*len = b.len;
	return buf_steal(&b);
}

/* The schema guarantees integers in 0..32767. */
static int *copy_codes(const struct ffjson *arr, size_t *n)
{
	int *codes = xcalloc(arr->n_items ? arr->n_items : 1, sizeof(*codes));

	for (size_t i = 0; i < arr->n_items; i++)
		codes[i] = arr->items[i]->type == FFJSON_I64 ? (int)arr->items[i]->i64
							     : (int)arr->items[i]->u64;
	*n = arr->n_items;
	return codes;
}

/* Builds one task (index i, ff->n_tasks == i on entry) in Factotum's order of checks. */
static int task_build(const struct ctx *c, const struct ffjson *t, size_t i,
		      enum factfile_rules rules, struct factfile *ff)
{
	const struct ffjson *on = ffjson_get(t, "onResult");
	const struct ffjson *term = ffjson_get(on, "terminateJobWithSuccess");
	const struct ffjson *cont = ffjson_get(on, "continueJob");
	const struct ffjson *name = ffjson_get(t, "name");
	const struct ffjson *executor = ffjson_get(t, "executor");
	const struct ffjson *command = ffjson_get(t, "command");
	const struct ffjson *args = ffjson_get(t, "arguments");
	const struct ffjson *deps = ffjson_get(t, "dependsOn");
	struct factfile_task *task = &ff->tasks[i];
	char *discard = NULL;
	size_t n;
	int rc;

	ff->n_tasks = i + 1; /* from here on factfile_free frees this task too */
	if ((rc = render(c, name->str, name->len, &task->name, &n, NULL)) != 0)
		goto fail;
	if (has_nul(task->name, n)) {
		rc = invalid(c, "the name of the task at index %zu has a NUL character (\\u0000).",
			     i);
		goto fail;
	}
	if (cont->n_items == 0) {
		rc = invalid(c, "the task '%s' has no way to continue successfully.", task->name);
		goto fail;
	}
	task->terminate_codes = copy_codes(term, &task->n_terminate);
	task->continue_codes = copy_codes(cont, &task->n_continue);
	for (size_t k = 0; k < task->n_continue; k++)
		for (size_t j = 0; j < task->n_terminate; j++)
			if (task->continue_codes[k] == task->terminate_codes[j]) {
				rc = invalid(c, "the task '%s' has conflicting actions.",
					     task->name);
				goto fail;
			}
	/* Factotum renders the command and drops the result: only its errors matter. */
	if ((rc = render(c, command->str, command->len, &discard, &n, NULL)) != 0)
		goto fail;
	if (has_nul(command->str, command->len) || has_nul(executor->str, executor->len)) {
		rc = invalid(c, "the task '%s' has a NUL character (\\u0000) in its %s.",
			     task->name,
			     has_nul(command->str, command->len) ? "command" : "executor");
		goto fail;
	}
	task->command = xstrdup(command->str);
	task->executor = xstrdup(executor->str);
	task->arguments = xcalloc(args->n_items + 1, sizeof(char *));
	task->arg_spans = xcalloc(args->n_items + 1, sizeof(*task->arg_spans));
	for (size_t k = 0; k < args->n_items; k++) {
		if ((rc = render_field(c, args->items[k], task->name, "arguments",
				       &task->arguments[k], &task->arg_spans[k])) != 0)
			goto fail;
		task->n_arguments++;
	}
	task->depends_on = xcalloc(deps->n_items + 1, sizeof(char *));
	for (size_t k = 0; k < deps->n_items; k++) {
		if ((rc = render_field(c, deps->items[k], task->name, "dependsOn",
				       &task->depends_on[k], NULL)) != 0)
			goto fail;
		task->n_depends_on++;
	}
	/* Factfile::add_task's checks (panics in Factotum); the index holds the tasks before i,
	 * and this task from here on (it is freed with the factfile on any failure). */
	if (strmap_put(ff->index, task->name, i) >= 0) {
		rc = invalid(c, "the task name '%s' is used more than once.", task->name);
		goto fail;
	}
	for (size_t k = 0; k < task->n_depends_on; k++)
		if (strcmp(task->depends_on[k], task->name) == 0) {
			rc = invalid(c, "the task '%s' depends on itself.", task->name);
			goto fail;
		}
	if (rules == FACTFILE_RULES_FACTOTUM)
		for (size_t k = 0; k < task->n_depends_on; k++)
			if (strmap_get(ff->index, task->depends_on[k]) < 0) {
				rc = invalid(c,
					     "the task '%s' depends on '%s', which is not defined "
					     "before it (Factotum requires dependencies to come "
					     "first).",
					     task->name, task->depends_on[k]);
				goto fail;
			}
	rc = 0;
fail:
	free(discard);
	return rc;
}

/* The dependency graph by index: task t's parents (one per dependsOn entry, repeats kept) are
 * parent[first[t]] .. parent[first[t + 1] - 1], its children child[cfirst[t]] .. likewise. */
struct graph {
	size_t *first, *parent;
	size_t *cfirst, *child;
};

static void graph_free(struct graph *g)
{
	free(g->first);
	free(g->parent);
	free(g->cfirst);
	free(g->child);
}

/* Builds g. Returns 0, or -1 with *bad the index of the first dependency (in file order, counted
 * over all tasks' dependsOn) that names no task; g is then to be freed all the same. */
static int graph_build(const struct factfile *ff, struct graph *g, size_t *bad)
{
	size_t n = ff->n_tasks, e = 0, *fill;

	g->first = xcalloc(n + 1, sizeof *g->first);
	g->cfirst = xcalloc(n + 2, sizeof *g->cfirst);
	for (size_t t = 0; t < n; t++) {
		g->first[t] = e;
		e += ff->tasks[t].n_depends_on;
	}
	g->first[n] = e;
	g->parent = xcalloc(e + 1, sizeof *g->parent);
	g->child = xcalloc(e + 1, sizeof *g->child);
	for (size_t t = 0; t < n; t++)
		for (size_t k = 0; k < ff->tasks[t].n_depends_on; k++) {
			long p = factfile_find_task(ff, ff->tasks[t].depends_on[k]);

			if (p < 0) {
				*bad = g->first[t] + k;
				return -1;
			}
			g->parent[g->first[t] + k] = (size_t)p;
			g->cfirst[p + 1]++;
		}
	for (size_t t = 0; t < n; t++)
		g->cfirst[t + 1] += g->cfirst[t];
	fill = xcalloc(n + 1, sizeof *fill);
	memcpy(fill, g->cfirst, n * sizeof *fill);
	for (size_t t = 0; t < n; t++)
		for (size_t k = g->first[t]; k < g->first[t + 1]; k++)
			g->child[fill[g->parent[k]]++] = t;
	free(fill);
	return 0;
}

/* Kahn's algorithm: marks placed[t] for every task not on a cycle nor below one; returns how many
 * there are. Which tasks get placed does not depend on the order ready tasks are taken in. */
static size_t topo(const struct factfile *ff, const struct graph *g, bool *placed)
{
	size_t n = ff->n_tasks, head = 0, tail = 0;
	size_t *waiting = xcalloc(n + 1, sizeof *waiting), *queue = xcalloc(n + 1, sizeof *queue);

	for (size_t t = 0; t < n; t++) {
		waiting[t] = g->first[t + 1] - g->first[t];
		if (waiting[t] == 0)
			queue[tail++] = t;
	}
	while (head < tail) {
		size_t t = queue[head++];

		placed[t] = true;
		for (size_t k = g->cfirst[t]; k < g->cfirst[t + 1]; k++)
			if (--waiting[g->child[k]] == 0)
				queue[tail++] = g->child[k];
	}
	free(waiting);
	free(queue);
	return tail;
}

/* FACTFILE_RULES_OURS: every dependency exists and there is no cycle. */
static int graph_check(const struct ctx *c, const struct factfile *ff)
{
	struct graph g = { 0 };
	struct buf b;
	bool *placed = NULL;
	size_t *walk = NULL, *pos = NULL, n_walk = 0, cur, bad;
	int rc = 0;

	if (graph_build(ff, &g, &bad) != 0) {
		for (cur = 0; g.first[cur + 1] <= bad; cur++)
			;
		rc = invalid(c, "the task '%s' depends on '%s', which is not defined.",
			     ff->tasks[cur].name, ff->tasks[cur].depends_on[bad - g.first[cur]]);
		goto done;
	}
	placed = xcalloc(ff->n_tasks + 1, sizeof *placed);
	if (topo(ff, &g, placed) == ff->n_tasks)
		goto done;
	/* Every unplaced task has an unplaced dependency: from the first unplaced task in file
	 * order, follow the first such dependency until a task repeats; the walk from that task's
	 * first visit is a cycle. pos[t] is t's place in the walk plus one (0: not walked). */
	for (cur = 0; placed[cur]; cur++)
		;
	walk = xcalloc(ff->n_tasks + 1, sizeof *walk);
	pos = xcalloc(ff->n_tasks + 1, sizeof *pos);
	while (pos[cur] == 0) {
		walk[n_walk++] = cur;
		pos[cur] = n_walk;
		for (size_t k = g.first[cur]; k < g.first[cur + 1]; k++)
			if (!placed[g.parent[k]]) {
				cur = g.parent[k];
				break;
			}
	}
	buf_init(&b);
	for (size_t k = pos[cur] - 1; k < n_walk; k++)
		buf_printf(&b, "'%s' -> ", ff->tasks[walk[k]].name);
	buf_printf(&b, "'%s'", ff->tasks[cur].name);
	rc = invalid(c, "the tasks form a dependency cycle (each depends on the next): %s.",
		     b.data);
	buf_free(&b);
done:
	graph_free(&g);
	free(placed);
	free(walk);
	free(pos);
	return rc;
}

int factfile_parse(const char *buf, size_t len, const char *path, const struct kvlist *vars,
		   enum factfile_rules rules, struct factfile *ff, char **errp)
{
	struct ctx c = { path, vars, errp };
	struct ffjson *root = NULL;
	const struct ffjson *data, *tasks, *name;
	char *jerr = NULL, *serr = NULL, *compact = NULL;
	size_t n;
	int rc;

	memset(ff, 0, sizeof(*ff));
	if (!utf8_valid(buf, len)) {
		rc = err_set(errp, FS_EINVAL,
			     "Couldn't read '%s': stream did not contain valid UTF-8", path);
		goto fail;
	}
	if ((rc = ffjson_parse(buf, len, &root, NULL, &jerr)) != 0) {
		rc = invalid(&c, "invalid JSON - %s", jerr);
		goto fail;
	}
	if ((rc = schema_validate_factfile(root, &serr)) != 0) {
		rc = invalid(&c, "%s", serr);
		goto fail;
	}
	compact = compact_encode(root, &n);
	if (!templated(&c, compact, n)) {
		/* rendered, it would be a copy of itself */
		ff->compact = compact;
		ff->compact_len = n;
		compact = NULL;
	} else if ((rc = render(&c, compact, n, &ff->compact, &ff->compact_len, NULL)) != 0) {
		goto fail;
	}
	data = ffjson_get(root, "data");
	name = ffjson_get(data, "name");
	tasks = ffjson_get(data, "tasks");
	if ((rc = render(&c, name->str, name->len, &ff->name, &n, NULL)) != 0)
		goto fail;
	if (has_nul(ff->name, n)) {
		rc = invalid(&c, "the job name has a NUL character (\\u0000).");
		goto fail;
	}
	ff->tasks = xcalloc(tasks->n_items + 1, sizeof(*ff->tasks));
	ff->index = strmap_new(tasks->n_items);
	for (size_t i = 0; i < tasks->n_items; i++)
		if ((rc = task_build(&c, tasks->items[i], i, rules, ff)) != 0)
			goto fail;
	if (rules == FACTFILE_RULES_OURS && (rc = graph_check(&c, ff)) != 0)
		goto fail;
	rc = 0;
fail:
	if (rc != 0)
		factfile_free(ff);
	ffjson_free(root);
	free(jerr);
	free(serr);
	free(compact);
	return rc;
}

int factfile_read(const char *path, char **bufp, size_t *lenp, char **errp)
{
	struct buf b;
	char chunk[65536];
	int fd, rc = 0;

	*bufp = NULL;
	*lenp = 0;
	buf_init(&b);
	buf_append(&b, "", 0);
	do
		fd = open(path, O_RDONLY | O_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0) {
		int e = errno;
		rc = err_set(errp, FS_EIO, "Couldn't open '%s' for reading: %s (os error %d)", path,
			     strerror(e), e);
		goto done;
	}
	for (;;) {
		ssize_t r = read(fd, chunk, sizeof(chunk));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			rc = err_set(errp, FS_EIO, "Couldn't read '%s': %s (os error %d)", path,
				     strerror(e), e);
			goto done;
		}
		if (r == 0)
			break;
		buf_append(&b, chunk, (size_t)r);
	}
	*lenp = b.len;
	*bufp = buf_steal(&b);
done:
	if (fd >= 0)
		close(fd);
	buf_free(&b);
	return rc;
}

int factfile_load(const char *path, const struct kvlist *vars, enum factfile_rules rules,
		  struct factfile *ff, char **errp)
{
	char *buf;
	size_t len;
	int rc;

	memset(ff, 0, sizeof(*ff));
	if ((rc = factfile_read(path, &buf, &len, errp)) != 0)
		return rc;
	rc = factfile_parse(buf, len, path, vars, rules, ff, errp);
	free(buf);
	return rc;
}

long factfile_find_task(const struct factfile *ff, const char *name)
{
	if (ff->index != NULL)
		return strmap_get(ff->index, name);
	for (size_t i = 0; i < ff->n_tasks; i++)
		if (strcmp(ff->tasks[i].name, name) == 0)
			return (long)i;
	return -1;
}

void factfile_free(struct factfile *ff)
{
	for (size_t i = 0; i < ff->n_tasks; i++) {
		struct factfile_task *t = &ff->tasks[i];

		free(t->name);
		free(t->executor);
		free(t->command);
		for (size_t k = 0; k < t->n_arguments; k++)
			free(t->arguments[k]);
		free(t->arguments);
		/* one more than n_arguments: a failed render leaves nothing in its own */
		for (size_t k = 0; t->arg_spans != NULL && k <= t->n_arguments; k++)
			template_spans_free(&t->arg_spans[k]);
		free(t->arg_spans);
		for (size_t k = 0; k < t->n_depends_on; k++)
			free(t->depends_on[k]);
		free(t->depends_on);
		free(t->terminate_codes);
		free(t->continue_codes);
	}
	free(ff->tasks);
	free(ff->name);
	free(ff->compact);
	strmap_free(ff->index);
	memset(ff, 0, sizeof(*ff));
}
