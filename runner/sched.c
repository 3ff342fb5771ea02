/* SPDX-License-Identifier: Apache-2.0 */
/* The scheduler's event loop. Factotum 0.7.0 runs a job in levels with a barrier between them; we
 * start every task as soon as all its dependencies have succeeded (true DAG scheduling, optionally
 * bounded by --max-parallel), which gives the same outcomes sooner. Everything happens on one
 * thread: poll(2) over the tasks' pipes and a signalfd (SIGCHLD, SIGTERM, SIGINT), with the
 * heartbeat and the kill grace period as poll timeouts. Outcomes, messages and webhook
 * transitions follow Factotum's executor (src/factotum/executor/mod.rs): one task_update per
 * finished task carrying the skips it causes, one per batch of started tasks. */
#define _GNU_SOURCE
#include "sched.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "task.h"

/* The job's skip reason for tasks a shutdown kept from starting (Factotum leaves them WAITING;
 * a webhook consumer learns more from SKIPPED with a reason). */
#define SHUTDOWN_REASON "the runner received a shutdown signal"

struct sched {
	struct run *run;
	const size_t *plan;
	size_t n_plan;
	const struct output *o;
	struct webhook *wh;
	const struct sched_opts *opts;
	struct task_proc *procs; /* by task index */
	size_t *pending;         /* dependencies (edges) not yet succeeded, by task index */
	size_t **children;       /* children among the planned tasks, one entry per edge */
	size_t *n_children;
	size_t running;     /* tasks in TASK_RUNNING */
	int started;        /* the job is RUNNING (its event was sent) */
	int stop_requested; /* a shutdown signal came before that: handled right after */
	int shutdown;       /* a shutdown signal is being handled */
	int kill_armed;     /* SIGKILL due at kill_at */
	int force_killed;   /* SIGKILL sent: stop waiting for pipes of reaped tasks */
	struct timespec kill_at;
	struct timespec next_hb;
	struct task_transition *tr; /* transitions collected for the next task_update */
	size_t n_tr;
};

static void sched_transition(struct sched *s, size_t t, enum task_state from, enum task_state to)
{
	s->tr = xgrow_by_one(s->tr, s->n_tr, sizeof *s->tr);
	s->tr[s->n_tr].task = t;
	s->tr[s->n_tr].previous = from;
	s->tr[s->n_tr].current = to;
	s->n_tr++;
}

/* Sends the collected transitions as one task_update, if there are any. */
static void sched_send(struct sched *s)
{
	if (s->n_tr > 0 && s->wh != NULL)
		webhook_task_update(s->wh, s->run, s->tr, s->n_tr);
	s->n_tr = 0;
}

static void sched_graph(struct sched *s)
{
	const struct factfile *ff = s->run->ff;
	size_t n = ff->n_tasks;

	s->pending = xcalloc(n + 1, sizeof *s->pending);
	s->children = xcalloc(n + 1, sizeof *s->children);
	s->n_children = xcalloc(n + 1, sizeof *s->n_children);
	for (size_t k = 0; k < s->n_plan; k++) {
		size_t t = s->plan[k];
		const struct factfile_task *def = &ff->tasks[t];
		for (size_t d = 0; d < def->n_depends_on; d++) {
			long p = factfile_find_task(ff, def->depends_on[d]);
			/* The --start task's own dependencies lie outside the run: already satisfied. */
			if (p < 0 || s->run->tasks[p].excluded)
				continue;
			s->pending[t]++;
			s->children[p] =
				xgrow_by_one(s->children[p], s->n_children[p], sizeof(size_t));
			s->children[p][s->n_children[p]++] = t;
		}
	}
}

/* Skips every descendant of t, in plan order, with reason "<why>" (appended after ", " to an
 * earlier reason, as Factotum does), recording the transitions. */
static void sched_skip_descendants(struct sched *s, size_t t, const char *why)
{
	size_t n = s->run->n_tasks, head = 0, tail = 0;
	char *mark = xcalloc(n + 1, 1);
	size_t *queue = xcalloc(n + 1, sizeof *queue);

	queue[tail++] = t;
	while (head < tail) {
		size_t u = queue[head++];
		for (size_t c = 0; c < s->n_children[u]; c++) {
			size_t k = s->children[u][c];
			if (!mark[k]) {
				mark[k] = 1;
				queue[tail++] = k;
			}
		}
	}
	for (size_t k = 0; k < s->n_plan; k++) {
		size_t u = s->plan[k];
		struct run_task *rt = &s->run->tasks[u];
		enum task_state prev = rt->state;
		char *msg;

		if (!mark[u] || (prev != TASK_WAITING && prev != TASK_SKIPPED))
			continue;
		msg = prev == TASK_SKIPPED && rt->error_message != NULL
			      ? xasprintf("%s, %s", rt->error_message, why)
			      : xstrdup(why);
		free(rt->error_message);
		rt->error_message = msg;
		rt->state = TASK_SKIPPED;
		sched_transition(s, u, prev, TASK_SKIPPED);
	}
	free(mark);
	free(queue);
}

static int sched_code_in(const int *codes, size_t n, int code)
{
	for (size_t i = 0; i < n; i++)
		if (codes[i] == code)
			return 1;
	return 0;
}

/* Marks t FAILED (its error_message already set), appends Factotum's failure line to b and skips
 * t's descendants. d is how long the task ran. */
static void sched_fail(struct sched *s, size_t t, struct buf *b, const struct timespec *d)
{
	struct run_task *rt = &s->run->tasks[t];
	char *why;

	rt->state = TASK_FAILED;
	sched_transition(s, t, TASK_RUNNING, TASK_FAILED);
	buf_printf(b, "Task '%s': failed after ", rt->def->name);
	output_secs1(b, d);
	buf_printf(b, "s. Reason: %s\n", rt->error_message);
	why = xasprintf("the task '%s' failed", rt->def->name);
	sched_skip_descendants(s, t, why);
	free(why);
}

/* Applies onResult to a task whose process is over (or could not start). */
static void sched_finish(struct sched *s, size_t t)
{
	struct run_task *rt = &s->run->tasks[t];
	const struct factfile_task *def = rt->def;
	struct task_proc *p = &s->procs[t];
	struct timespec d;
	struct buf b;
	char *why;

	buf_init(&b);
	rt->finished = 1;
	s->running--;
	d = ts_sub(&rt->end_mono, &rt->start_mono);
	if (p->spawn_errno != 0) {
		/* Factotum's words for a process that could not be started; it is FAILED whatever
		 * onResult says. */
		rt->error_message = xasprintf("Error executing process - %s (os error %d)",
					      strerror(p->spawn_errno), p->spawn_errno);
		sched_fail(s, t, &b, &d);
		goto done;
	}
	rt->has_return_code = 1;
	/* Death by a signal counts as 1, as Rust's status.code().unwrap_or(1) makes it. */
	rt->return_code = WIFEXITED(p->status) ? WEXITSTATUS(p->status) : 1;
	if (sched_code_in(def->terminate_codes, def->n_terminate, rt->return_code)) {
		rt->state = TASK_SUCCEEDED_NO_OP;
		sched_transition(s, t, TASK_RUNNING, TASK_SUCCEEDED_NO_OP);
		why = xasprintf("the task '%s' requested early termination", def->name);
		sched_skip_descendants(s, t, why);
		free(why);
	} else if (sched_code_in(def->continue_codes, def->n_continue, rt->return_code)) {
		rt->state = TASK_SUCCEEDED;
		sched_transition(s, t, TASK_RUNNING, TASK_SUCCEEDED);
		buf_printf(&b, "Task '%s': succeeded after ", def->name);
		output_secs1(&b, &d);
		buf_puts(&b, "s\n");
		for (size_t c = 0; c < s->n_children[t]; c++)
			s->pending[s->children[t][c]]--;
	} else {
		struct buf codes;
		buf_init(&codes);
		buf_puts(&codes, "");
		for (size_t i = 0; i < def->n_continue; i++)
			buf_printf(&codes, "%s%d", i > 0 ? "," : "", def->continue_codes[i]);
		rt->error_message =
			xasprintf("the task exited with a value not specified in "
				  "continue_job - %d (task expects one of the following "
				  "return codes to continue [%s])",
				  rt->return_code, codes.data);
		buf_free(&codes);
		sched_fail(s, t, &b, &d);
	}
done:
	output_flush(2, &b);
	buf_free(&b);
	task_close(p);
}

/* Starts every ready task (in plan order) that the parallelism bound allows. */
static void sched_start_ready(struct sched *s)
{
	for (size_t k = 0; k < s->n_plan && !s->shutdown && !s->stop_requested; k++) {
		size_t t = s->plan[k];
		struct run_task *rt = &s->run->tasks[t];
		struct task_proc *p = &s->procs[t];
		struct buf b;
		char *cmd;
		int e;

		if (rt->state != TASK_WAITING || s->pending[t] != 0)
			continue;
		if (s->opts->max_parallel > 0 && s->running >= (size_t)s->opts->max_parallel)
			break;
		clock_gettime(CLOCK_REALTIME, &rt->start_real);
		clock_gettime(CLOCK_MONOTONIC, &rt->start_mono);
		cmd = task_command(rt->def);
		e = task_spawn(p, cmd);
		free(cmd);
		if ((e == EMFILE || e == ENFILE || e == EAGAIN || e == ENOMEM) && s->running > 0)
			break; /* out of descriptors or processes for now: retry when a task ends */
		if (e != 0) {
			p->spawn_errno = e;
			rt->end_mono = rt->start_mono;
		}
		rt->started = 1;
		rt->state = TASK_RUNNING;
		s->running++;
		sched_transition(s, t, TASK_WAITING, TASK_RUNNING);
		buf_init(&b);
		buf_printf(&b, "Task '%s' was started at ", rt->def->name);
		output_utc(&b, &rt->start_real);
		buf_putc(&b, '\n');
		output_flush(2, &b);
		buf_free(&b);
	}
}

/* Keeps the last keep bytes of a task's output for webhook payloads; trims in batches so each
 * byte is moved O(1) times. */
static void sched_capture(struct buf *b, const char *data, size_t len, size_t keep)
{
	if (keep == 0)
		return;
	if (len > keep) {
		data += len - keep;
		len = keep;
	}
	buf_append(b, data, len);
	if (b->len > 2 * keep) {
		memmove(b->data, b->data + (b->len - keep), keep);
		b->len = keep;
		b->data[keep] = '\0';
	}
}

/* Prints the complete lines buffered for stream fd (1 or 2) of task t; with eof, the rest too. */
static void sched_lines(struct sched *s, size_t t, int fd, int eof)
{
	struct buf *lb = &s->procs[t].line[fd];
	const char *name = s->run->tasks[t].def->name;
	size_t pos = 0;

	while (pos < lb->len) {
		char *nl = memchr(lb->data + pos, '\n', lb->len - pos);
		size_t n;

		/* a line of TASK_LINE_MAX bytes or more is cut as it is when its newline has not come
		 * yet: the pieces do not depend on how the reads fell */
		if (nl != NULL && nl - (lb->data + pos) < TASK_LINE_MAX) {
			n = (size_t)(nl - (lb->data + pos));
			/* Rust's BufRead::lines drops one '\r' before the '\n'. */
			output_task_line(s->o, fd, name, lb->data + pos,
					 n > 0 && lb->data[pos + n - 1] == '\r' ? n - 1 : n);
			pos += n + 1;
		} else if (lb->len - pos >= TASK_LINE_MAX || eof) {
			n = lb->len - pos < TASK_LINE_MAX ? lb->len - pos : TASK_LINE_MAX;
			output_task_line(s->o, fd, name, lb->data + pos, n);
			pos += n;
		} else {
			break;
		}
	}
	if (pos > 0) {
		memmove(lb->data, lb->data + pos, lb->len - pos);
		lb->len -= pos;
		lb->data[lb->len] = '\0';
	}
}

/* Reads what stream fd of task t has; closes it at end of file (or on an error). */
static void sched_read(struct sched *s, size_t t, int fd)
{
	struct task_proc *p = &s->procs[t];
	struct run_task *rt = &s->run->tasks[t];
	char chunk[65536];
	ssize_t r;

	do
		r = read(p->fd[fd], chunk, sizeof chunk);
	while (r < 0 && errno == EINTR);
	if (r < 0 && errno == EAGAIN)
		return;
	if (r > 0) {
		buf_append(&p->line[fd], chunk, (size_t)r);
		sched_capture(fd == 1 ? &rt->out : &rt->err, chunk, (size_t)r, s->opts->capture);
		sched_lines(s, t, fd, 0);
		return;
	}
	sched_lines(s, t, fd, 1);
	close(p->fd[fd]);
	p->fd[fd] = -1;
}

static void sched_reap(struct sched *s)
{
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);

		if (pid < 0 && errno == EINTR)
			continue;
		if (pid <= 0)
			return;
		for (size_t t = 0; t < s->run->n_tasks; t++) {
			struct task_proc *p = &s->procs[t];
			if (p->pid == pid && !p->reaped) {
				p->reaped = 1;
				p->status = status;
				clock_gettime(CLOCK_MONOTONIC, &s->run->tasks[t].end_mono);
				break;
			}
		}
	}
}

/* 1 when task t (RUNNING) is over: could not start, or reaped with both pipes at end of file
 * (Factotum also waits for its output readers). After a SIGKILL, a reaped task whose pipes are
 * held open by an escaped descendant is over too. */
static int sched_is_over(struct sched *s, size_t t)
{
	struct task_proc *p = &s->procs[t];

	if (p->spawn_errno != 0)
		return 1;
	if (!p->reaped)
		return 0;
	if (s->force_killed) {
		for (int fd = 1; fd <= 2; fd++) {
			for (int i = 0; i < 64 && p->fd[fd] >= 0; i++)
				sched_read(s, t,
					   fd); /* what is already in the pipe, then give up */
			if (p->fd[fd] >= 0) {
				sched_lines(s, t, fd, 1);
				close(p->fd[fd]);
				p->fd[fd] = -1;
			}
		}
	}
	return p->fd[1] < 0 && p->fd[2] < 0;
}

/* Finishes every task that is over, each with its own task_update, and starts what becomes
 * ready after each. */
static void sched_progress(struct sched *s)
{
	int again = 1;

	while (again) {
		again = 0;
		for (size_t k = 0; k < s->n_plan; k++) {
			size_t t = s->plan[k];
			if (s->run->tasks[t].state != TASK_RUNNING || !sched_is_over(s, t))
				continue;
			sched_finish(s, t);
			sched_send(s);
			sched_start_ready(s);
			sched_send(s);
			again = 1;
		}
	}
}

static void sched_shutdown(struct sched *s)
{
	size_t alive = 0, skipped = 0;

	if (s->shutdown) {
		/* A second signal: no more grace. */
		clock_gettime(CLOCK_MONOTONIC, &s->kill_at);
		return;
	}
	s->shutdown = 1;
	output_printf(1, "\nReceived shutdown signal, terminating gracefully...\n");
	for (size_t k = 0; k < s->n_plan; k++) {
		size_t t = s->plan[k];
		struct run_task *rt = &s->run->tasks[t];
		if (rt->state != TASK_WAITING)
			continue;
		rt->state = TASK_SKIPPED;
		free(rt->error_message);
		rt->error_message = xstrdup(SHUTDOWN_REASON);
		sched_transition(s, t, TASK_WAITING, TASK_SKIPPED);
		skipped++;
	}
	sched_send(s);
	if (skipped > 0)
		output_printf(2, "Shutdown requested, skipping remaining task groups\n");
	for (size_t t = 0; t < s->run->n_tasks; t++)
		if (s->run->tasks[t].state == TASK_RUNNING && task_alive(&s->procs[t]))
			alive++;
	if (alive == 0)
		return;
	output_printf(1, "Terminating %zu child process(es) gracefully...\n", alive);
	for (size_t t = 0; t < s->run->n_tasks; t++)
		if (s->run->tasks[t].state == TASK_RUNNING && task_alive(&s->procs[t]))
			task_signal(&s->procs[t], SIGTERM);
	{
		struct timespec now,
			grace = { s->opts->grace_ms / 1000, (s->opts->grace_ms % 1000) * 1000000 };
		clock_gettime(CLOCK_MONOTONIC, &now);
		s->kill_at = ts_add(&now, &grace);
	}
	s->kill_armed = 1;
}

static void sched_force_kill(struct sched *s)
{
	size_t alive = 0;

	s->kill_armed = 0;
	for (size_t t = 0; t < s->run->n_tasks; t++)
		if (s->run->tasks[t].state == TASK_RUNNING && task_alive(&s->procs[t]))
			alive++;
	if (alive > 0) {
		output_printf(1, "Force-killing %zu remaining process(es)...\n", alive);
		for (size_t t = 0; t < s->run->n_tasks; t++)
			if (s->run->tasks[t].state == TASK_RUNNING && task_alive(&s->procs[t]))
				task_signal(&s->procs[t], SIGKILL);
	}
	s->force_killed = 1;
}

static void sched_heartbeat(struct sched *s)
{
	struct timespec now, every = { s->opts->heartbeat_s, 0 };

	for (size_t k = 0; k < s->n_plan; k++) {
		size_t t = s->plan[k];
		if (s->run->tasks[t].state == TASK_RUNNING && s->procs[t].spawn_errno == 0)
			sched_transition(s, t, TASK_RUNNING, TASK_RUNNING);
	}
	sched_send(s);
	s->next_hb = ts_add(&s->next_hb, &every);
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (ts_ms_until(&s->next_hb) == 0)
		s->next_hb = ts_add(&now, &every);
}

/* Reads every queued signal; returns after handling them. */
static void sched_signals(struct sched *s, int sigfd)
{
	struct signalfd_siginfo si;

	while (read(sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGCHLD)
			sched_reap(s);
		else if ((si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) && !s->started)
			s->stop_requested = 1;
		else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
			sched_shutdown(s);
	}
	/* SIGCHLDs coalesce; reaping is cheap, so look anyway. */
	sched_reap(s);
}

static long sched_timeout(const struct sched *s)
{
	long ms = -1;

	if (s->wh != NULL && s->opts->heartbeat_s > 0)
		ms = ts_ms_until(&s->next_hb);
	if (s->kill_armed) {
		long k = ts_ms_until(&s->kill_at);
		if (ms < 0 || k < ms)
			ms = k;
	}
	return ms;
}

int sched_run(struct run *run, const size_t *plan, size_t n_plan, const struct output *o,
	      struct webhook *wh, const struct sched_opts *opts, int sigfd)
{
	struct sched s;
	struct pollfd *pfd;
	size_t *who;
	int *which;

	memset(&s, 0, sizeof s);
	s.run = run;
	s.plan = plan;
	s.n_plan = n_plan;
	s.o = o;
	s.wh = wh;
	s.opts = opts;
	s.procs = xcalloc(run->n_tasks + 1, sizeof *s.procs);
	for (size_t t = 0; t < run->n_tasks; t++) {
		s.procs[t].fd[0] = s.procs[t].fd[1] = s.procs[t].fd[2] = -1;
		buf_init(&s.procs[t].line[1]);
		buf_init(&s.procs[t].line[2]);
	}
	pfd = xcalloc(2 * run->n_tasks + 1, sizeof *pfd);
	who = xcalloc(2 * run->n_tasks + 1, sizeof *who);
	which = xcalloc(2 * run->n_tasks + 1, sizeof *which);
	sched_graph(&s);
	clock_gettime(CLOCK_MONOTONIC, &s.next_hb);
	s.next_hb.tv_sec += opts->heartbeat_s;

	/* A signal that came before anything started stops the run before it starts. */
	sched_signals(&s, sigfd);
	sched_start_ready(&s);
	run->state = JOB_RUNNING;
	if (wh != NULL)
		webhook_job_update(wh, run, JOB_WAITING);
	sched_send(&s);
	s.started = 1;
	if (s.stop_requested)
		sched_shutdown(&s);
	sched_progress(&s);

	while (s.running > 0) {
		size_t n = 0;
		int rc;

		pfd[n].fd = sigfd;
		pfd[n].events = POLLIN;
		n++;
		for (size_t t = 0; t < run->n_tasks; t++) {
			for (int fd = 1; fd <= 2; fd++) {
				if (s.procs[t].fd[fd] < 0)
					continue;
				pfd[n].fd = s.procs[t].fd[fd];
				pfd[n].events = POLLIN;
				who[n] = t;
				which[n] = fd;
				n++;
			}
		}
		rc = poll(pfd, (nfds_t)n, (int)sched_timeout(&s));
		if (rc < 0 && errno != EINTR)
			break; /* cannot happen with valid descriptors; do not spin */
		if (rc > 0) {
			for (size_t i = 1; i < n; i++)
				if (pfd[i].revents != 0 && s.procs[who[i]].fd[which[i]] >= 0)
					sched_read(&s, who[i], which[i]);
			if (pfd[0].revents != 0)
				sched_signals(&s, sigfd);
		}
		if (s.kill_armed && ts_ms_until(&s.kill_at) == 0)
			sched_force_kill(&s);
		if (wh != NULL && opts->heartbeat_s > 0 && ts_ms_until(&s.next_hb) == 0)
			sched_heartbeat(&s);
		sched_progress(&s);
	}

	for (size_t t = 0; t < run->n_tasks; t++) {
		task_close(&s.procs[t]);
		free(s.children[t]);
	}
	free(s.procs);
	free(s.pending);
	free(s.children);
	free(s.n_children);
	free(s.tr);
	free(pfd);
	free(who);
	free(which);
	return s.shutdown;
}
