/* SPDX-License-Identifier: Apache-2.0 */
/* The per-run supervisor (see supervisor.h). Spawning follows tmux's job.c: signals are blocked
 * across fork, each child resets its mask and dispositions, takes /dev/null as stdin, closes
 * every descriptor it does not need and execs an explicit argv -- no shell. */
#define _GNU_SOURCE
#include "supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "logcap.h"
#include "outcome.h"
#include "proc.h"
#include "wlog.h"
#include "xalloc.h"

#define SUPERVISOR_FLUSH_MS 1000 /* the log lags the output by at most this, past the cap */

/* What a runner child reports through its close-on-exec pipe when it cannot start. */
struct spawn_error {
	int stage; /* 0 chdir, 1 exec */
	int err;
};

static int64_t supervisor_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t supervisor_real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *supervisor_exec_reason(int err)
{
	switch (err) {
	case ENOENT: case EACCES: case ENOEXEC: case ENOTDIR: case ELOOP: case EISDIR: case EPERM:
		return "runner-missing";
	default:
		return "spawn-failed";
	}
}

/* The runner child: its own session and process group, so that a stop reaches all of it and
 * nothing of ours. Never returns. */
static void supervisor_exec_runner(const struct supervisor_args *a, int outfd, int errfd)
	__attribute__((noreturn));
static void supervisor_exec_runner(const struct supervisor_args *a, int outfd, int errfd)
{
	struct spawn_error se = { 0, 0 };
	sigset_t none;
	int nul;

	(void)setsid();
	nul = open("/dev/null", O_RDONLY);
	if (nul < 0 || dup2(nul, STDIN_FILENO) < 0 || dup2(outfd, STDOUT_FILENO) < 0 ||
	    dup2(outfd, STDERR_FILENO) < 0)
		_exit(127);
	if (chdir(a->run_dir) != 0) {
		se.err = errno;
		goto fail;
	}
	signal(SIGPIPE, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* errfd stays open until the exec succeeds (it is close-on-exec, as is everything else) */
	(void)close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
	execv(a->argv[0], a->argv);
	se.stage = 1;
	se.err = errno;
fail:
	(void)!write(errfd, &se, sizeof(se));
	_exit(127);
}

/* Starts a stop: SIGTERM to the runner's group now, SIGKILL at *kill_atp. */
static void supervisor_stop(pid_t runner, const char *why, char *reason, size_t size,
			    int64_t *kill_atp, int grace_ms)
{
	if (reason[0] != '\0')
		return; /* already stopping: the first reason stands */
	snprintf(reason, size, "%s", why);
	(void)kill(-runner, SIGTERM);
	*kill_atp = supervisor_mono_ms() + grace_ms;
}

/* Reads what the runner wrote (non-blocking); 0 at EOF or error, 1 when more may come. */
static int supervisor_read(int fd, struct logcap *lc)
{
	char buf[65536];
	ssize_t n;

	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n > 0) {
			(void)logcap_write(lc, buf, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 && errno == EAGAIN;
	}
}

/* The supervisor proper, in the forked child. Never returns. */
static void supervisor_main(const struct supervisor_args *a, int gofd) __attribute__((noreturn));
static void supervisor_main(const struct supervisor_args *a, int gofd)
{
	struct run_status st;
	struct logcap lc;
	struct spawn_error se;
	struct pollfd pfd[2];
	sigset_t mask;
	int64_t deadline = 0, kill_at = 0, flush_at = 0, now, wait_ms;
	int outp[2], errp[2], sfd, logfd, status = 0, out_open = 1, runner_done = 0;
	pid_t runner;
	char go;
	ssize_t n;

	(void)setsid();
	/* signals: read from a signalfd. Everything was blocked across the fork, so a cancel
	 * that comes at once is held, never fatal (SIGUSR1's default action). */
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_SETMASK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	do
		n = read(gofd, &go, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		_exit(0); /* the worker abandoned the run before it began */
	close(gofd);

	memset(&st, 0, sizeof(st));
	st.run = a->run;
	st.exit_code = -1;
	logfd = open(a->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (logfd < 0)
		wlog(CONFIG_LOG_ERROR, "job %s: cannot write its log %s: %s", a->id, a->log_path,
		     strerror(errno));
	logcap_init(&lc, logfd, a->log_max);
	if (sfd < 0 || pipe2(outp, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0) {
		snprintf(st.reason, sizeof(st.reason), "spawn-failed");
		goto finish;
	}
	st.started_ms = supervisor_real_ms();
	runner = fork();
	if (runner == 0)
		supervisor_exec_runner(a, outp[1], errp[1]);
	close(outp[1]);
	close(errp[1]);
	if (runner < 0) {
		snprintf(st.reason, sizeof(st.reason), "spawn-failed");
		goto finish;
	}
	do
		n = read(errp[0], &se, sizeof(se));
	while (n < 0 && errno == EINTR);
	close(errp[0]);
	if (n == (ssize_t)sizeof(se)) {
		char *msg = xasprintf("factotum-server-worker: cannot start the runner: %s '%s': "
				      "%s\n", se.stage == 0 ? "chdir" : "exec",
				      se.stage == 0 ? a->run_dir : a->argv[0], strerror(se.err));

		(void)logcap_write(&lc, msg, strlen(msg));
		free(msg);
		snprintf(st.reason, sizeof(st.reason), "%s", se.stage == 0 ? "spawn-failed" :
			 supervisor_exec_reason(se.err));
		(void)waitpid(runner, NULL, 0);
		close(outp[0]);
		goto finish;
	}
	(void)fcntl(outp[0], F_SETFL, O_NONBLOCK);
	if (a->timeout_s > 0)
		deadline = supervisor_mono_ms() + (int64_t)a->timeout_s * 1000;
	while (!runner_done) {
		now = supervisor_mono_ms();
		wait_ms = -1;
		if (deadline > 0)
			wait_ms = deadline > now ? deadline - now : 0;
		if (kill_at > 0 && (wait_ms < 0 || kill_at - now < wait_ms))
			wait_ms = kill_at > now ? kill_at - now : 0;
		if (flush_at > 0 && (wait_ms < 0 || flush_at - now < wait_ms))
			wait_ms = flush_at > now ? flush_at - now : 0;
		pfd[0].fd = out_open ? outp[0] : -1;
		pfd[0].events = POLLIN;
		pfd[1].fd = sfd;
		pfd[1].events = POLLIN;
		if (poll(pfd, 2, (int)wait_ms) < 0 && errno != EINTR)
			break;
		if (out_open && (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)))
			out_open = supervisor_read(outp[0], &lc);
		if (pfd[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				if (si.ssi_signo == SIGUSR1)
					supervisor_stop(runner, "cancelled", st.reason,
							sizeof(st.reason), &kill_at, a->grace_ms);
				else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
					supervisor_stop(runner, "terminated", st.reason,
							sizeof(st.reason), &kill_at, a->grace_ms);
			}
			/* SIGCHLD, or one that coalesced: ask rather than trust the count */
			if (waitpid(runner, &status, WNOHANG) == runner)
				runner_done = 1;
		}
		now = supervisor_mono_ms();
		if (!runner_done && deadline > 0 && now >= deadline) {
			supervisor_stop(runner, "timeout", st.reason, sizeof(st.reason), &kill_at,
					a->grace_ms);
			deadline = 0;
		}
		if (!runner_done && kill_at > 0 && now >= kill_at) {
			(void)kill(-runner, SIGKILL);
			(void)proc_signal_session(runner, SIGKILL);
			kill_at = 0;
		}
		if (lc.dirty && flush_at == 0)
			flush_at = now + SUPERVISOR_FLUSH_MS;
		if (flush_at > 0 && now >= flush_at) {
			(void)logcap_flush(&lc);
			flush_at = 0;
		}
	}
	st.finished_ms = supervisor_real_ms();
	/* what is already in the pipe belongs to the log; a descendant that keeps the pipe open
	 * does not hold up the outcome */
	if (out_open)
		(void)supervisor_read(outp[0], &lc);
	close(outp[0]);
	if (runner_done && WIFEXITED(status)) {
		st.exit_code = WEXITSTATUS(status);
	} else if (runner_done && WIFSIGNALED(status)) {
		st.exit_signal = WTERMSIG(status);
	} else if (st.reason[0] == '\0') {
		snprintf(st.reason, sizeof(st.reason), "supervisor-failed");
	}
finish:
	if (st.finished_ms == 0)
		st.finished_ms = supervisor_real_ms();
	(void)logcap_flush(&lc);
	logcap_free(&lc);
	if (logfd >= 0)
		close(logfd);
	if (outcome_status_write(a->status_dir, a->id, &st) != 0) {
		wlog(CONFIG_LOG_ERROR, "job %s: cannot write its status in %s: %s", a->id,
		     a->status_dir, strerror(errno));
		_exit(1);
	}
	_exit(0);
}

int supervisor_spawn(const struct supervisor_args *a, pid_t *pidp, int *gofdp)
{
	sigset_t all, old;
	int go[2], saved;
	pid_t pid;

	if (pipe2(go, O_CLOEXEC) != 0)
		return -1;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid != 0)
		sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid < 0) {
		saved = errno;
		close(go[0]);
		close(go[1]);
		errno = saved;
		return -1;
	}
	if (pid == 0) {
		int nul = open("/dev/null", O_RDWR);

		/* nothing of the worker's but stderr (for wlog) survives: not the lock (a
		 * supervisor must never keep a restarted worker out), not the spool, not the
		 * socket */
		if (nul < 0 || dup2(nul, STDIN_FILENO) < 0 || dup2(nul, STDOUT_FILENO) < 0)
			_exit(1);
		if (go[0] != 3 && dup2(go[0], 3) < 0)
			_exit(1);
		(void)close_range(4, ~0U, 0);
		supervisor_main(a, 3);
	}
	close(go[0]);
	*pidp = pid;
	*gofdp = go[1];
	return 0;
}
