/* SPDX-License-Identifier: Apache-2.0 */
/* The original's submit path, for bench/submit.sh: the responder (the fcgi/ sources,
 * unchanged) linked with -Wl,--wrap=jobreq_validate and this file, so that every /submit that
 * passes the in-process validation also does what the Rust factotum-server did inside each
 * request: run `<runner> run <factfilePath> --dry-run <factfileArgs...>`, capture its stdout and
 * stderr, wait for it, and refuse the job unless it exited 0. Everything else (nginx, threads,
 * job id, group commit, answers) is the real responder's, so the difference measured is the
 * process per request and nothing else.
 *
 * The child is started with posix_spawn (what Rust's std::process::Command uses on glibc: a
 * vfork-style clone, cheaper than fork in a threaded process), stdin /dev/null, stdout and
 * stderr on two pipes read to the end, as Command::output() does.
 *
 * The runner is $FS_BENCH_RUNNER (required): the bundled runner, $(builddir)/runner/factotum. */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"
#include "jobreq.h"
#include "xalloc.h"

extern char **environ;

int __real_jobreq_validate(struct job_request *req, const struct jobreq_policy *policy,
			   char **errp);
int __wrap_jobreq_validate(struct job_request *req, const struct jobreq_policy *policy,
			   char **errp);

/* Reads both pipes to their end (the output is discarded, as a successful dry run's was). */
static void drain(int out, int errfd)
{
	struct pollfd p[2] = { { out, POLLIN, 0 }, { errfd, POLLIN, 0 } };
	char buf[8192];
	int open = 2, i;
	ssize_t n;

	while (open > 0) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		for (i = 0; i < 2; i++) {
			if (p[i].fd < 0 || p[i].revents == 0)
				continue;
			n = read(p[i].fd, buf, sizeof(buf));
			if (n > 0 || (n < 0 && errno == EINTR))
				continue;
			p[i].fd = -1;
			open--;
		}
	}
}

int __wrap_jobreq_validate(struct job_request *req, const struct jobreq_policy *policy, char **errp)
{
	static const char *runner;
	posix_spawn_file_actions_t fa;
	char **argv;
	int rc, out[2], errp2[2], status = 0;
	size_t i;
	pid_t pid;

	if ((rc = __real_jobreq_validate(req, policy, errp)) != 0)
		return rc;
	if (runner == NULL && (runner = getenv("FS_BENCH_RUNNER")) == NULL)
		return err_set(errp, FS_EIO, "Validation Error: FS_BENCH_RUNNER is not set");

	argv = xcalloc(req->n_args + 5, sizeof(*argv));
	argv[0] = (char *)runner;
	argv[1] = (char *)"run";
	argv[2] = req->factfile_path;
	argv[3] = (char *)"--dry-run";
	for (i = 0; i < req->n_args; i++)
		argv[4 + i] = req->args[i];
	if (pipe2(out, O_CLOEXEC) != 0) {
		free(argv);
		return err_set(errp, FS_EIO, "Validation Error: pipe: %s", strerror(errno));
	}
	if (pipe2(errp2, O_CLOEXEC) != 0) {
		close(out[0]);
		close(out[1]);
		free(argv);
		return err_set(errp, FS_EIO, "Validation Error: pipe: %s", strerror(errno));
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, errp2[1], 2);
	rc = posix_spawn(&pid, runner, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(out[1]);
	close(errp2[1]);
	if (rc == 0) {
		drain(out[0], errp2[0]);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	close(out[0]);
	close(errp2[0]);
	free(argv);
	if (rc != 0)
		return err_set(errp, FS_EIO,
			       "Validation Error: Failed to execute command: [%s run "
			       "%s --dry-run ...] - %s",
			       runner, req->factfile_path, strerror(rc));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return err_set(errp, FS_EINVAL,
			       "Validation Error: Failed to execute command: [%s "
			       "run %s --dry-run ...] - exit status %d",
			       runner, req->factfile_path,
			       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return 0;
}
