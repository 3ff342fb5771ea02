/* SPDX-License-Identifier: Apache-2.0 */
/* Starting, watching and stopping the launcher's children (contract in procs.h). */
#define _GNU_SOURCE
#include "procs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "err.h"

static void procs_event_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGCHLD);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
}

void procs_block_signals(void)
{
	sigset_t set;

	procs_event_set(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
}

/* In the child, between fork and exec: only async-signal-safe calls. Reports exec's errno on
 * errfd and exits 127. */
static void procs_child(char *const argv[], int out_fd, int err_fd, int errfd, int stopsig,
			pid_t parent)
{
	struct sigaction sa;
	sigset_t none;
	int null, e, sig;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		sigaction(sig, &sa, NULL);
	setpgid(0, 0);
	/* if the launcher is killed outright, its children do not outlive it */
	prctl(PR_SET_PDEATHSIG, stopsig);
	if (getppid() != parent)
		_exit(127);
	null = open("/dev/null", O_RDONLY);
	if (null < 0 || dup2(null, 0) < 0 || dup2(out_fd >= 0 ? out_fd : 2, 1) < 0 ||
	    (err_fd >= 0 && dup2(err_fd, 2) < 0))
		goto fail;
	if (dup2(errfd, 3) < 0)
		goto fail;
	fcntl(3, F_SETFD, FD_CLOEXEC);
	close_range(4, ~0U, 0);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execv(argv[0], argv);
fail:
	e = errno;
	if (write(3, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

int procs_spawn(struct proc *p, char *const argv[], int out_fd, int err_fd, char **errp)
{
	int pfd[2] = { -1, -1 }, child_errno = 0, rc = -1, status;
	pid_t pid, parent = getpid();
	ssize_t n;

	if (pipe2(pfd, O_CLOEXEC) != 0) {
		err_set(errp, FS_EIO, "cannot run %s: pipe: %s", argv[0], strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		err_set(errp, FS_EIO, "cannot run %s: fork: %s", argv[0], strerror(errno));
		goto out;
	}
	if (pid == 0) {
		close(pfd[0]);
		procs_child(argv, out_fd, err_fd, pfd[1], p->stop_signal, parent);
	}
	close(pfd[1]);
	pfd[1] = -1;
	do
		n = read(pfd[0], &child_errno, sizeof(child_errno));
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(child_errno)) {
		waitpid(pid, &status, 0);
		err_set(errp, FS_EIO, "cannot run %s: %s", argv[0], strerror(child_errno));
		goto out;
	}
	p->pid = pid;
	p->pgid = pid;
	p->exited = 0;
	p->status = 0;
	rc = 0;
out:
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	return rc;
}

struct proc *procs_reap(struct proc *procs, size_t n)
{
	struct proc *first = NULL;
	pid_t pid;
	size_t i;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < n; i++) {
			if (procs[i].pid != pid)
				continue;
			procs[i].pid = 0;
			procs[i].exited = 1;
			procs[i].status = status;
			if (first == NULL)
				first = &procs[i];
		}
	}
	return first;
}

int procs_wait_event(int timeout_ms)
{
	struct timespec ts;
	sigset_t set;
	int sig;

	procs_event_set(&set);
	ts.tv_sec = timeout_ms / 1000;
	ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000L;
	do
		sig = sigtimedwait(&set, NULL, &ts);
	while (sig < 0 && errno == EINTR);
	return sig < 0 ? 0 : sig;
}

const char *procs_describe(int status)
{
	static char text[64];

	if (WIFEXITED(status))
		snprintf(text, sizeof(text), "exit status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(text, sizeof(text), "killed by signal %d (%s)", WTERMSIG(status),
			 sigabbrev_np(WTERMSIG(status)) ? sigabbrev_np(WTERMSIG(status)) : "?");
	else
		snprintf(text, sizeof(text), "wait status %#x", (unsigned)status);
	return text;
}

void procs_stop(struct proc *p, struct proc *procs, size_t n, int timeout_ms)
{
	int64_t deadline;
	int left;

	if (p->pid <= 0)
		goto group;
	kill(p->pid, p->stop_signal);
	deadline = clock_mono_ms() + timeout_ms;
	for (;;) {
		procs_reap(procs, n);
		if (p->pid <= 0)
			goto group;
		left = (int)(deadline - clock_mono_ms());
		if (left <= 0)
			break;
		procs_wait_event(left < 100 ? left : 100);
	}
	if (p->pid > 0)
		kill(p->pid, SIGKILL);
	while (p->pid > 0) {
		procs_reap(procs, n);
		if (p->pid > 0)
			procs_wait_event(100);
	}
group:
	/* the group's members are not our children: signal them, nobody to reap */
	if (p->group && p->pgid > 0) {
		kill(-p->pgid, SIGKILL);
		p->pgid = 0;
	}
}
