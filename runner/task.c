/* SPDX-License-Identifier: Apache-2.0 */
/* Spawning a task the way tmux's job.c does: the runner keeps SIGCHLD/SIGTERM/SIGINT blocked (it
 * reads them from a signalfd), so fork is safe; the child restores the caller's mask and default
 * dispositions, makes its own process group (so a shutdown signals the task and its children, and
 * never the runner's caller), takes /dev/null as stdin and the pipes as stdout/stderr, closes
 * every other descriptor and execs /bin/sh with an explicit argv. */
#define _GNU_SOURCE
#include "task.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cmdline.h"

static sigset_t task_child_mask;
static long task_child_nofile = -1;

void task_set_child_defaults(const sigset_t *mask, long nofile_soft)
{
	task_child_mask = *mask;
	task_child_nofile = nofile_soft;
}

char *task_command(const struct factfile_task *t)
{
	return cmdline_build(t, NULL);
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static void task_child(const char *cmd, int null_fd, int out_fd, int err_fd)
{
	char *const argv[] = { "sh", "-c", (char *)cmd, NULL };
	struct sigaction sa;

	setpgid(0, 0);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGPIPE, &sa, NULL); /* the runner ignores it; tasks get the default */
	sigprocmask(SIG_SETMASK, &task_child_mask, NULL);
	if (dup2(null_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
		_exit(127);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
	if (close_range(3U, ~0U, 0) != 0)
#endif
	{
		long max = sysconf(_SC_OPEN_MAX);
		for (long fd = 3; fd < (max > 0 ? max : 1024); fd++)
			close((int)fd);
	}
	if (task_child_nofile >= 0) {
		struct rlimit rl;
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
			rl.rlim_cur = (rlim_t)task_child_nofile;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	execv("/bin/sh", argv);
	_exit(127);
}

int task_spawn(struct task_proc *p, const char *cmd)
{
	int out[2] = { -1, -1 }, err[2] = { -1, -1 }, null_fd = -1, e = 0;
	pid_t pid;

	p->fd[0] = p->fd[1] = p->fd[2] = -1;
	if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0 ||
	    (null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
		e = errno;
		goto fail;
	}
	if ((pid = fork()) < 0) {
		e = errno;
		goto fail;
	}
	if (pid == 0)
		task_child(cmd, null_fd, out[1], err[1]);
	/* Also here, so the group exists before anyone could signal it. */
	(void)setpgid(pid, pid);
	close(null_fd);
	close(out[1]);
	close(err[1]);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	fcntl(err[0], F_SETFL, O_NONBLOCK);
	p->pid = pid;
	p->fd[1] = out[0];
	p->fd[2] = err[0];
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (err[i] >= 0)
			close(err[i]);
	}
	if (null_fd >= 0)
		close(null_fd);
	return e != 0 ? e : EIO;
}

void task_signal(const struct task_proc *p, int sig)
{
	/* The group is the task's own: its id is the shell's pid, never ours. */
	if (p->pid > 1 && p->pid != getpgrp())
		(void)kill(-p->pid, sig);
}

int task_alive(const struct task_proc *p)
{
	return p->pid > 0 && (!p->reaped || p->fd[1] >= 0 || p->fd[2] >= 0);
}

void task_close(struct task_proc *p)
{
	for (int i = 1; i <= 2; i++) {
		if (p->fd[i] >= 0)
			close(p->fd[i]);
		p->fd[i] = -1;
		buf_free(&p->line[i]);
	}
}
