/* SPDX-License-Identifier: Apache-2.0 */
/* Factotum's plan order, computed as its sequencer::get_tasks_in_order does so that `dot` and the
 * summaries list tasks in the same order. Factotum hangs every task under a hidden root; a task's
 * children come in reverse order of edge creation (daggy/petgraph keep a node's outgoing edges as
 * a list with the newest first), edges being created in file order, one per dependsOn entry. From
 * the root's children, each round makes a row of the tasks named (first occurrence first), moves a
 * task out of any earlier row it was in (so a task ends in the row of its longest path), and goes
 * on with the children of the tasks named. Factotum repeats a task once per path; keeping only the
 * first occurrence gives the same rows (a repeat names a task, and then children, already named)
 * in polynomial time. */
#include "plan.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* children[p] in creation order; walked backwards to get daggy's order. */
struct plan_graph {
	size_t **children;
	size_t *n_children;
};

static void plan_graph_build(const struct factfile *ff, struct plan_graph *g)
{
	size_t n = ff->n_tasks;

	g->children = xcalloc(n + 1, sizeof *g->children);
	g->n_children = xcalloc(n + 1, sizeof *g->n_children);
	for (size_t t = 0; t < n; t++) {
		const struct factfile_task *task = &ff->tasks[t];
		for (size_t d = 0; d < task->n_depends_on; d++) {
			long p = factfile_find_task(ff, task->depends_on[d]);
			if (p < 0)
				continue;
			g->children[p] =
				xgrow_by_one(g->children[p], g->n_children[p], sizeof(size_t));
			g->children[p][g->n_children[p]++] = t;
		}
	}
}

static void plan_graph_free(const struct factfile *ff, struct plan_graph *g)
{
	for (size_t t = 0; t < ff->n_tasks; t++)
		free(g->children[t]);
	free(g->children);
	free(g->n_children);
}

size_t plan_order(const struct factfile *ff, long start, size_t *order)
{
	size_t n = ff->n_tasks, n_cur = 0, n_next, n_rows = 0, n_out = 0;
	struct plan_graph g;
	/* row_of[t]: the row t ends in (-1: none yet); rows[r] lists the tasks pushed to row r. */
	long *row_of;
	size_t **rows, *n_rows_len, *cur, *next;
	char *named;

	if (n == 0)
		return 0;
	plan_graph_build(ff, &g);
	row_of = xcalloc(n, sizeof *row_of);
	rows = xcalloc(n + 1, sizeof *rows);
	n_rows_len = xcalloc(n + 1, sizeof *n_rows_len);
	cur = xcalloc(n, sizeof *cur);
	next = xcalloc(n, sizeof *next);
	named = xcalloc(n, 1);
	for (size_t t = 0; t < n; t++)
		row_of[t] = -1;

	/* The first round: the root's children (tasks without dependencies, newest first), or the
	 * start task's children. */
	if (start < 0) {
		for (size_t t = n; t-- > 0;)
			if (ff->tasks[t].n_depends_on == 0)
				cur[n_cur++] = t;
	} else {
		for (size_t k = g.n_children[start]; k-- > 0;) {
			size_t c = g.children[start][k];
			if (!named[c]) {
				named[c] = 1;
				cur[n_cur++] = c;
			}
		}
		memset(named, 0, n);
	}
	/* A DAG's rows are at most n deep; each round's list holds distinct tasks. */
	while (n_cur > 0 && n_rows < n) {
		rows[n_rows] = xcalloc(n_cur, sizeof(size_t));
		for (size_t i = 0; i < n_cur; i++) {
			rows[n_rows][n_rows_len[n_rows]++] = cur[i];
			row_of[cur[i]] = (long)n_rows;
		}
		n_next = 0;
		memset(named, 0, n);
		for (size_t i = 0; i < n_cur; i++) {
			size_t p = cur[i];
			for (size_t k = g.n_children[p]; k-- > 0;) {
				size_t c = g.children[p][k];
				if (!named[c]) {
					named[c] = 1;
					next[n_next++] = c;
				}
			}
		}
		n_rows++;
		memcpy(cur, next, n_next * sizeof *cur);
		n_cur = n_next;
	}
	if (start >= 0)
		order[n_out++] = (size_t)start;
	for (size_t r = 0; r < n_rows; r++)
		for (size_t i = 0; i < n_rows_len[r]; i++)
			if (row_of[rows[r][i]] == (long)r)
				order[n_out++] = rows[r][i];
	for (size_t r = 0; r < n_rows; r++)
		free(rows[r]);
	free(rows);
	free(n_rows_len);
	free(row_of);
	free(cur);
	free(next);
	free(named);
	plan_graph_free(ff, &g);
	return n_out;
}
