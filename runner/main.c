/* SPDX-License-Identifier: Apache-2.0 */
/* The bundled Factotum-compatible runner: `factotum run | validate | dot | --help | --version`
 * with Factotum 0.7.0's options, messages and exit codes (its src/main.rs; the differences are
 * in doc/compatibility.md). This file reads the command line, runs the checks in Factotum's
 * order and prints the outcome; the work is in sched.c (running), dot.c, constraint.c and core
 * (factfile, arguments, job id). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "constraint.h"
#include "dot.h"
#include "err.h"
#include "factargs.h"
#include "factfile.h"
#include "output.h"
#include "plan.h"
#include "run.h"
#include "sched.h"
#include "task.h"
#include "version.h"
#include "webhook.h"

enum {
	EXIT_OK = 0,          /* success, early finish, a host constraint that does not match */
	EXIT_PARSE = 1,       /* the factfile is invalid or unreadable */
	EXIT_TASK_FAILED = 2, /* a task failed, or a shutdown signal stopped the job */
	EXIT_OTHER = 3,       /* bad arguments and other errors */
};

/* Factotum's docopt text, plus our --max-parallel. */
#define USAGE_SECTION                                                                                \
	"Usage:\n"                                                                                   \
	"  factotum run <factfile> [--start=<start_task>] [--env=<env>] [--dry-run] [--no-colour] "  \
	"[--webhook=<url>] [--tag=<tag>]... [--constraint=<constraint>]... "                         \
	"[--max-stdouterr-size=<bytes>] [--heartbeat-interval=<seconds>] [--max-parallel=<tasks>]\n" \
	"  factotum validate <factfile> [--no-colour]\n"                                             \
	"  factotum dot <factfile> [--start=<start_task>] [--output=<output_file>] [--overwrite] "   \
	"[--no-colour]\n"                                                                            \
	"  factotum (-h | --help) [--no-colour]\n"                                                   \
	"  factotum (-v | --version) [--no-colour]"
static const char usage_full[] =
	"Factotum.\n"
	"\n" USAGE_SECTION "\n"
	"\n"
	"Options:\n"
	"  -h --help                             Show this screen.\n"
	"  -v --version                          Display the version of Factotum and exit.\n"
	"  --start=<start_task>                  Begin at specified task.\n"
	"  --env=<env>                           Supply JSON to define mustache variables in Factfile.\n"
	"  --dry-run                             Pretend to execute a Factfile, showing the commands that would be executed. Can be used with other options.\n"
	"  --output=<output_file>                File to print output to. Used with `dot`.\n"
	"  --overwrite                           Overwrite the output file if it exists.\n"
	"  --no-colour                           Turn off ANSI terminal colours/formatting in output.\n"
	"  --webhook=<url>                       Post updates on job execution to the specified URL (repeatable: each URL gets every update; not in Factotum).\n"
	"  --tag=<tag>                           Add job metadata (tags).\n"
	"  --constraint=<constraint>             Checks for an external constraint that will prevent execution; allowed constraints (host).\n"
	"  --max-stdouterr-size=<bytes>          The maximum size of the individual stdout/err sent via the webhook functions for job updates.\n"
	"  --heartbeat-interval=<seconds>        Send periodic task updates with cumulative logs every N seconds for running tasks.\n"
	"  --max-parallel=<tasks>                Run at most this many tasks at once (0: no limit). Not in Factotum.";

/* Prints an argument error the way Factotum does: its own checks' messages ("Error: ...") on a
 * line in red; decoding errors (--env, numbers) as they are, without a newline (print!); docopt's
 * errors followed by a blank line and the usage section, without a newline. */
static int main_arg_error(const struct output *o, const char *msg)
{
	struct buf b;

	buf_init(&b);
	if (strncmp(msg, "Error: ", 7) == 0) {
		output_paints(o, 1, &b, COLOUR_RED, msg);
		buf_putc(&b, '\n');
	} else if (strncmp(msg, "Supplied string ", 16) == 0 ||
		   strncmp(msg, "Could not decode ", 17) == 0) {
		buf_puts(&b, msg);
	} else {
		buf_printf(&b, "%s\n\n%s", msg, USAGE_SECTION);
	}
	output_flush(1, &b);
	buf_free(&b);
	return EXIT_OTHER;
}

/* Splits argv (after the subcommand) into <factfile> and the options around it, as docopt lets
 * options come before the positional. Returns the index of <factfile> in argv, or -1. */
static int main_find_factfile(int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		const char *t = argv[i];

		if (strcmp(t, "--") == 0)
			return i + 1 < argc ? i + 1 : -1;
		if (t[0] != '-' || t[1] == '\0')
			return i;
		if (t[1] != '-' || strchr(t, '=') != NULL)
			continue;
		if (factargs_takes_value(t, strlen(t)))
			i++;
	}
	return -1;
}

/* Parses the options of cmd: on success fills *fa and sets *path; on failure prints the error
 * and returns EXIT_OTHER. */
static int main_parse(enum factargs_cmd cmd, int argc, char **argv, const char **path,
		      struct factargs *fa)
{
	struct output plain;
	char **rest;
	char *err = NULL;
	int at = main_find_factfile(argc, argv), n = 0, rc;

	output_init(&plain, 0);
	if (at < 0)
		return main_arg_error(&plain, "Invalid arguments.");
	*path = argv[at];
	rest = xcalloc((size_t)argc + 1, sizeof *rest);
	for (int i = 0; i < argc; i++)
		if (i != at && !(i + 1 == at && strcmp(argv[i], "--") == 0))
			rest[n++] = argv[i];
	rc = factargs_parse_cmd(cmd, n, rest, fa, &err);
	if (rc != 0) {
		/* Factotum's own checks (--dry-run with --webhook, the URL) come after it has set
		 * CLICOLOR=0 for --no-colour; honour the flag for them too. */
		for (int i = 0; i < n; i++)
			if (strcmp(rest[i], "--no-colour") == 0)
				output_init(&plain, 1);
		free(rest);
		main_arg_error(&plain, err);
		free(err);
		return EXIT_OTHER;
	}
	free(rest);
	if (fa->no_colour)
		setenv("CLICOLOR", "0", 1); /* as Factotum does: tasks inherit it */
	return EXIT_OK;
}

static int main_validate(int argc, char **argv)
{
	struct factargs fa;
	struct factfile ff;
	struct output o;
	struct buf b;
	const char *path = NULL;
	char *err = NULL;
	int rc;

	if ((rc = main_parse(FACTARGS_VALIDATE, argc, argv, &path, &fa)) != EXIT_OK)
		return rc;
	output_init(&o, fa.no_colour);
	buf_init(&b);
	if (factfile_load(path, &fa.vars, FACTFILE_RULES_OURS, &ff, &err) == 0) {
		char *ok = xasprintf("'%s' is a valid Factfile!", path);
		output_paints(&o, 1, &b, COLOUR_GREEN, ok);
		free(ok);
		factfile_free(&ff);
		rc = EXIT_OK;
	} else {
		output_paints(&o, 1, &b, COLOUR_RED, err);
		rc = EXIT_PARSE;
	}
	buf_putc(&b, '\n');
	output_flush(1, &b);
	buf_free(&b);
	free(err);
	factargs_free(&fa);
	return rc;
}

/* "Error: <msg>" on stderr, both parts red, as Factotum's dot reports every problem: label is
 * "Error:" and sep " " for parse and --start errors, label "Error: " and sep "" for the file. */
static int main_dot_error(const struct output *o, const char *label, const char *sep,
			  const char *msg)
{
	struct buf b;

	buf_init(&b);
	output_paints(o, 2, &b, COLOUR_RED, label);
	buf_puts(&b, sep);
	output_paints(o, 2, &b, COLOUR_RED, msg);
	buf_putc(&b, '\n');
	output_flush(2, &b);
	buf_free(&b);
	return EXIT_OTHER;
}

static int main_dot(int argc, char **argv)
{
	struct factargs fa;
	struct factfile ff;
	struct output o;
	const char *path = NULL;
	char *err = NULL, *text = NULL;
	size_t *plan = NULL, n_plan;
	long start = -1;
	int rc;

	if ((rc = main_parse(FACTARGS_DOT, argc, argv, &path, &fa)) != EXIT_OK)
		return rc;
	output_init(&o, fa.no_colour);
	/* Factotum's dot parses without an environment: no templating at all. */
	if (factfile_load(path, NULL, FACTFILE_RULES_OURS, &ff, &err) != 0) {
		rc = main_dot_error(&o, "Error:", " ", err);
		goto done_fa;
	}
	if (fa.start != NULL) {
		start = factfile_find_task(&ff, fa.start);
		if (start < 0) {
			rc = main_dot_error(&o, "Error:", " ",
					    "the task specified could not be found");
			goto done;
		}
		if (factargs_check_start(&ff, fa.start, FACTFILE_RULES_OURS, NULL) != 0) {
			rc = main_dot_error(&o, "Error:", " ", "the job cannot be started here.");
			goto done;
		}
	}
	plan = xcalloc(ff.n_tasks + 1, sizeof *plan);
	n_plan = plan_order(&ff, start, plan);
	text = dot_render(&ff, plan, n_plan);
	if (fa.output == NULL) {
		output_write(1, text, strlen(text));
		rc = EXIT_OK;
	} else {
		int fd = open(fa.output,
			      O_WRONLY | O_CREAT | O_CLOEXEC | (fa.overwrite ? O_TRUNC : O_EXCL),
			      0666);
		if (fd < 0) {
			char *m = xasprintf("couldn't create file '%s' (%s (os error %d))",
					    fa.output, strerror(errno), errno);
			rc = main_dot_error(&o, "Error: ", "", m);
			free(m);
			goto done;
		}
		{
			size_t len = strlen(text), off = 0;
			while (off < len) {
				ssize_t w = write(fd, text + off, len - off);
				if (w < 0 && errno == EINTR)
					continue;
				if (w <= 0)
					break;
				off += (size_t)w;
			}
			if (off < len || close(fd) != 0) {
				char *m =
					xasprintf("couldn't write to file '%s' (%s (os error %d))",
						  fa.output, strerror(errno), errno);
				if (off < len)
					close(fd);
				rc = main_dot_error(&o, "Error: ", "", m);
				free(m);
				goto done;
			}
		}
		{
			struct buf b;
			buf_init(&b);
			output_paints(&o, 1, &b, COLOUR_GREEN, "File written successfully");
			buf_putc(&b, '\n');
			output_flush(1, &b);
			buf_free(&b);
		}
		rc = EXIT_OK;
	}
done:
	free(text);
	free(plan);
	factfile_free(&ff);
done_fa:
	free(err);
	factargs_free(&fa);
	return rc;
}

/* "'a', 'b'" with each name in cyan: Factotum's lists of tasks in its closing sentences. */
static void main_name_list(const struct output *o, struct buf *b, const struct run *run,
			   const size_t *plan, size_t n_plan, int (*pick)(const struct run_task *))
{
	int first = 1;

	for (size_t k = 0; k < n_plan; k++) {
		const struct run_task *rt = &run->tasks[plan[k]];
		if (!pick(rt))
			continue;
		buf_puts(b, first ? "'" : ", '");
		output_paints(o, 1, b, COLOUR_CYAN, rt->def->name);
		buf_putc(b, '\'');
		first = 0;
	}
}

static int pick_not_run(const struct run_task *rt)
{
	return !rt->finished;
}
static int pick_no_op(const struct run_task *rt)
{
	return rt->state == TASK_SUCCEEDED_NO_OP;
}
static int pick_failed(const struct run_task *rt)
{
	return rt->state == TASK_FAILED;
}

/* Appends a closing sentence: lead, the tasks that caused the ending (those cause picks; none
 * when cause is NULL), middle, the tasks not run, then end. */
static void main_sentence(const struct output *o, struct buf *b, const struct run *run,
			  const size_t *plan, size_t n_plan, const char *lead,
			  int (*cause)(const struct run_task *), const char *middle,
			  const char *end)
{
	buf_puts(b, lead);
	if (cause != NULL)
		main_name_list(o, b, run, plan, n_plan, cause);
	buf_puts(b, middle);
	main_name_list(o, b, run, plan, n_plan, pick_not_run);
	buf_puts(b, end);
}

/* The summary and closing sentence (src/main.rs parse_file_and_execute_with_strategy), and the
 * exit code. */
static int main_report(const struct output *o, const struct run *run, const size_t *plan,
		       size_t n_plan, int stopped)
{
	struct timespec total = { 0, 0 };
	size_t executed = 0;
	int failed = 0, early = 0;
	struct buf b, line;

	for (size_t k = 0; k < n_plan; k++) {
		const struct run_task *rt = &run->tasks[plan[k]];
		if (rt->finished) {
			struct timespec d = ts_sub(&rt->end_mono, &rt->start_mono);
			total = ts_add(&total, &d);
			executed++;
		}
		failed |= rt->state == TASK_FAILED;
		early |= rt->state == TASK_SUCCEEDED_NO_OP;
	}
	buf_init(&b);
	buf_init(&line);
	/* Factotum colours the summary with its newline inside the colour codes. */
	buf_printf(&line, "%zu/%zu tasks run in ", executed, n_plan);
	output_duration(&line, &total);
	buf_putc(&line, '\n');
	output_paint(o, 1, &b, COLOUR_GREEN, line.data, line.len);
	buf_free(&line);
	if (stopped) {
		/* Ours: Factotum's exit after a signal depends on timing; ours is always 2. */
		main_sentence(o, &b, run, plan, n_plan,
			      "Factotum job was stopped by a shutdown signal", NULL,
			      " - the following tasks were not run: ", "!\n");
	} else if (failed) {
		main_sentence(o, &b, run, plan, n_plan,
			      "Factotum job executed abnormally as a task (", pick_failed,
			      ") failed - the following tasks were not run: ", "!\n");
	} else if (early) {
		main_sentence(o, &b, run, plan, n_plan, "Factotum job finished early as a task (",
			      pick_no_op,
			      ") requested an early finish. The following tasks were not run: ",
			      ".\n");
	}
	output_flush(1, &b);
	buf_free(&b);
	return stopped || failed ? EXIT_TASK_FAILED : EXIT_OK;
}

/* A non-negative integer from the environment (for tests), or def. */
static long main_env_long(const char *name, long def)
{
	const char *v = getenv(name);
	char *end;
	long n;

	if (v == NULL || *v == '\0')
		return def;
	errno = 0;
	n = strtol(v, &end, 10);
	return errno == 0 && *end == '\0' && n >= 0 ? n : def;
}

/* Blocks the signals the event loop reads from a signalfd and prepares what children get back.
 * Returns the signalfd, or -1. */
static int main_signals(void)
{
	sigset_t mask, old;
	struct rlimit rl;
	long soft = -1;

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, &old) != 0)
		return -1;
	signal(SIGPIPE, SIG_IGN); /* a closed stdout must not kill the run before its webhooks */
	/* Two pipes per running task: take all the descriptors we may, give tasks the usual. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		soft = (long)rl.rlim_cur;
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			soft = -1;
	}
	task_set_child_defaults(&old, soft);
	return signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
}

static int main_run(int argc, char **argv)
{
	struct factargs fa;
	struct factfile ff;
	struct output o;
	struct run run;
	struct webhook *wh = NULL;
	struct sched_opts opts;
	struct buf b;
	const char *path = NULL, *host, *reason;
	char *err = NULL;
	size_t *plan = NULL, n_plan;
	long start = -1;
	int rc, sigfd, stopped;

	/* Like Factotum, which installs its handlers first: a signal during parsing stops the job
	 * before any task starts. */
	if ((sigfd = main_signals()) < 0) {
		output_printf(1, "Failed to install signal handlers: %s\n", strerror(errno));
		return EXIT_OTHER;
	}
	if ((rc = main_parse(FACTARGS_RUNNER_RUN, argc, argv, &path, &fa)) != EXIT_OK)
		goto done_sig;
	output_init(&o, fa.no_colour);
	buf_init(&b);
	/* The host constraint comes before the factfile is even read, as in Factotum. */
	if ((host = kvlist_get(&fa.constraints, "host")) != NULL &&
	    constraint_host_check(host, &reason) != 0) {
		char *m = xasprintf(
			"Warn: the specifed host constraint \"%s\" did not match, no tasks "
			"have been executed. Reason: %s",
			host, reason);
		output_paints(&o, 1, &b, COLOUR_YELLOW, m);
		buf_putc(&b, '\n');
		output_flush(1, &b);
		free(m);
		rc = EXIT_OK;
		goto done_fa;
	}
	if (factfile_load(path, &fa.vars, FACTFILE_RULES_OURS, &ff, &err) != 0) {
		output_printf(1, "%s\n", err);
		rc = EXIT_PARSE;
		goto done_fa;
	}
	if (fa.start != NULL) {
		if (factargs_check_start(&ff, fa.start, FACTFILE_RULES_OURS, &err) != 0) {
			/* The same sentence as core's, with the task name in cyan. */
			const char *because = strstr(err, "' because ");
			buf_puts(&b, "The job cannot be started from '");
			output_paints(&o, 1, &b, COLOUR_CYAN, fa.start);
			buf_puts(&b, because != NULL ? because : "'");
			buf_putc(&b, '\n');
			output_flush(1, &b);
			rc = EXIT_OTHER;
			goto done_ff;
		}
		start = factfile_find_task(&ff, fa.start);
	}
	plan = xcalloc(ff.n_tasks + 1, sizeof *plan);
	n_plan = plan_order(&ff, start, plan);
	run_init(&run, &ff, &fa, plan, n_plan);

	if (fa.dry_run) {
		sched_simulate(&run, plan, n_plan, &o);
		run.state = JOB_SUCCEEDED;
		rc = main_report(&o, &run, plan, n_plan, 0);
		goto done_run;
	}
	memset(&opts, 0, sizeof opts);
	opts.max_parallel = fa.max_parallel > 0 ? fa.max_parallel : 0;
	opts.grace_ms = main_env_long("FACTOTUM_KILL_GRACE_MS", 5000);
	if (fa.webhook != NULL) {
		long max = fa.max_stdouterr_size >= 0 ? fa.max_stdouterr_size : 10000;
		/* Enough bytes for max characters of up to 4 bytes each, and no more than 64 MiB. */
		opts.capture = max > (64L << 20) / 4 ? (size_t)64 << 20 : (size_t)max * 4 + 4;
		opts.heartbeat_s = fa.heartbeat_interval > 0 ? fa.heartbeat_interval : 0;
		if ((wh = webhook_start(fa.webhooks, fa.n_webhooks, max, &err)) == NULL) {
			output_printf(1, "Error: %s\n",
				      err != NULL ? err : "could not start the webhook");
			rc = EXIT_OTHER;
			goto done_run;
		}
		webhook_job_update(wh, &run, -1);
	}
	stopped = sched_run(&run, plan, n_plan, &o, wh, &opts, sigfd);
	run.state = JOB_SUCCEEDED;
	for (size_t k = 0; k < n_plan; k++)
		if (run.tasks[plan[k]].state == TASK_FAILED)
			run.state = JOB_FAILED;
	if (stopped)
		run.state = JOB_FAILED;
	if (wh != NULL)
		webhook_job_update(wh, &run, JOB_RUNNING);
	rc = main_report(&o, &run, plan, n_plan, stopped);
	if (wh != NULL) {
		size_t lost;
		output_printf(1, "Waiting for webhook to finish sending events...");
		lost = webhook_finish(wh, main_env_long("FACTOTUM_WEBHOOK_WAIT_MS", 30000));
		output_paints(&o, 1, &b, COLOUR_GREEN, " done!");
		buf_putc(&b, '\n');
		if (lost > 0) {
			output_paints(&o, 1, &b, COLOUR_RED, "Warning: some events failed to send");
			buf_putc(&b, '\n');
		}
		output_flush(1, &b);
	}
done_run:
	run_free(&run);
	free(plan);
done_ff:
	factfile_free(&ff);
done_fa:
	buf_free(&b);
	free(err);
	factargs_free(&fa);
done_sig:
	close(sigfd);
	return rc;
}

/* `factotum (-h | --help) [--no-colour]` and `factotum (-v | --version) [--no-colour]`. */
static int main_top(int argc, char **argv)
{
	struct output plain;
	int help = 0, version = 0, colour_flags = 0;

	output_init(&plain, 0);
	for (int i = 1; i < argc; i++) {
		const char *t = argv[i];
		if (strcmp(t, "-h") == 0 || strcmp(t, "--help") == 0)
			help++;
		else if (strcmp(t, "-v") == 0 || strcmp(t, "--version") == 0)
			version++;
		else if (strcmp(t, "--no-colour") == 0)
			colour_flags++;
		else if (strncmp(t, "--", 2) == 0 && t[2] != '\0') {
			size_t len = strcspn(t, "=");
			int known = strncmp(t, "--no-colour=", 12) == 0 ||
				    strncmp(t, "--help=", 7) == 0 ||
				    strncmp(t, "--version=", 10) == 0 ||
				    strncmp(t, "--overwrite=", 12) == 0 ||
				    strncmp(t, "--dry-run=", 10) == 0;
			if (factargs_takes_value(t, len))
				known = 1;
			if (!known && strcmp(t, "--overwrite") != 0 &&
			    strcmp(t, "--dry-run") != 0) {
				char *m = xasprintf("Unknown flag: '%.*s'", (int)len, t);
				main_arg_error(&plain, m);
				free(m);
				return EXIT_OTHER;
			}
			return main_arg_error(&plain, "Invalid arguments.");
		} else
			return main_arg_error(&plain, "Invalid arguments.");
	}
	if (help + version != 1 || colour_flags > 1)
		return main_arg_error(&plain, "Invalid arguments.");
	if (version) {
		output_printf(1, "Factotum version " RUNNER_FACTOTUM_VERSION "\n");
		return EXIT_OK;
	}
	/* docopt prints the whole text, trimmed, without a newline; Factotum then exits 3, a
	 * defect: asking for help is not an error. */
	output_write(1, usage_full, strlen(usage_full));
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "run") == 0)
		return main_run(argc - 2, argv + 2);
	if (argc >= 2 && strcmp(argv[1], "validate") == 0)
		return main_validate(argc - 2, argv + 2);
	if (argc >= 2 && strcmp(argv[1], "dot") == 0)
		return main_dot(argc - 2, argv + 2);
	return main_top(argc, argv);
}
