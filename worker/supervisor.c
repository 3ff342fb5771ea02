/* SPDX-License-Identifier: Apache-2.0 */
/* The per-run supervisor (see supervisor.h). Spawning follows tmux's job.c: signals are blocked
 * across fork, each child resets its mask and dispositions, takes /dev/null as stdin, closes
 * every descriptor it does not need and execs an explicit argv -- no shell. The runner is started
 * with posix_spawn, which does all of that in a vfork-like child (glibc: clone with CLONE_VM |
 * CLONE_VFORK) instead of copying the supervisor's page tables: one full fork fewer between a
 * submit and the runner's exec (bench/README, issue 5). */
#define _GNU_SOURCE
#include "supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "consul_sync.h"
#include "logcap.h"
#include "outcome.h"
#include "proc.h"
#include "log.h"
#include "xalloc.h"

#define SUPERVISOR_FLUSH_MS 1000 /* the log lags the output by at most this, past the cap */

const char *supervisor_exec_reason(int err)
{
	switch (err) {
	case ENOENT: case EACCES: case ENOEXEC: case ENOTDIR: case ELOOP: case EISDIR: case EPERM:
		return "runner-missing";
	default:
		return "spawn-failed";
	}
}

/* How the runner is started: its own session and process group, so that a stop reaches all of
 * it and nothing of ours; stdin the supervisor's own /dev/null (supervisor_spawn); stdout and
 * stderr the capture pipe outfd; working directory dirfd (the run directory, opened ahead so that
 * a failure to enter it is told apart from a failure to exec); every other descriptor closed;
 * an empty signal mask and SIGPIPE and SIGCHLD at their defaults. Prepared before the go byte;
 * the caller destroys *fa and *at. 0, or an errno value. */
static int supervisor_spawn_prepare(posix_spawn_file_actions_t *fa, posix_spawnattr_t *at,
				    int outfd, int dirfd)
{
	sigset_t none, dfl;
	int rc;

	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGCHLD);
	if ((rc = posix_spawn_file_actions_adddup2(fa, outfd, STDOUT_FILENO)) != 0 ||
	    (rc = posix_spawn_file_actions_adddup2(fa, outfd, STDERR_FILENO)) != 0 ||
	    (rc = posix_spawn_file_actions_addfchdir_np(fa, dirfd)) != 0 ||
	    (rc = posix_spawn_file_actions_addclosefrom_np(fa, STDERR_FILENO + 1)) != 0 ||
	    (rc = posix_spawnattr_setflags(at, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
					   POSIX_SPAWN_SETSIGDEF)) != 0 ||
	    (rc = posix_spawnattr_setsigmask(at, &none)) != 0)
		return rc;
	return posix_spawnattr_setsigdefault(at, &dfl);
}

static int supervisor_rmtree_entry(const char *path, const struct stat *sb, int flag,
				   struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	(void)remove(path);
	return 0;
}

/* A fresh working directory for the run, an earlier run's removed first (no symlink is
 * followed): the spare directory renamed into place when there is one (outcome.h), else a new
 * one. Opened: a descriptor, or -1 with errno. */
static int supervisor_run_dir(const char *dir, const char *spare)
{
	(void)nftw(dir, supervisor_rmtree_entry, 16, FTW_DEPTH | FTW_PHYS);
	if ((spare == NULL || rename(spare, dir) != 0) && mkdir(dir, 0755) != 0 &&
	    errno != EEXIST)
		return -1;
	return open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* Starts a stop: SIGTERM to the runner's group now, SIGKILL at *kill_atp. */
static void supervisor_stop(pid_t runner, const char *why, char *reason, size_t size,
			    int64_t *kill_atp, int grace_ms)
{
	if (reason[0] != '\0')
		return; /* already stopping: the first reason stands */
	snprintf(reason, size, "%s", why);
	(void)kill(-runner, SIGTERM);
	*kill_atp = clock_mono_ms() + grace_ms;
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

/* The supervisor proper, in the forked child. Never returns.
 *
 * It holds the worker's lock (lockfd, the same open file as the worker's flock) from the fork
 * until the go byte, and so does its preparation -- run directory and pid file, named by the
 * job id -- strictly before any restarted worker can look at the spool: a worker that died
 * before the go byte leaves a supervisor that finishes preparing, finds the pipe closed and
 * exits, releasing the lock, and only then can the next worker settle the job and a new run of
 * the same id begin, in files no stale supervisor will touch again. Closing its descriptor
 * after the go byte leaves the lock to the worker alone (flock: it lasts while any descriptor of
 * that open file does). */
static void supervisor_main(const struct supervisor_args *a, int gofd, int lockfd)
	__attribute__((noreturn));
static void supervisor_main(const struct supervisor_args *a, int gofd, int lockfd)
{
	struct run_status st;
	struct logcap lc;
	struct pollfd pfd[2];
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t mask;
	int64_t deadline = 0, kill_at = 0, flush_at = 0, now, wait_ms;
	int outp[2] = { -1, -1 }, sfd, logfd, dirfd, status = 0, out_open = 1, runner_done = 0;
	int prep = -1, dir_err = 0, pid_ok = 1, fa_ok, at_ok, err = 0;
	struct run_pid rp;
	struct consul_renewer *renewer;
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

	/* Everything short of starting the runner is done before the go byte (supervisor.h), in
	 * this process rather than the worker, which serves every run. */
	memset(&st, 0, sizeof(st));
	st.run = a->run;
	st.exit_code = -1;
	dirfd = supervisor_run_dir(a->run_dir, a->spare_dir);
	if (dirfd < 0)
		dir_err = errno;
	/* what lets a restarted worker find this process: before anything can start */
	rp.run = a->run;
	rp.pid = getpid();
	if (proc_stat(rp.pid, &rp.start, NULL) != 0 ||
	    outcome_pid_write(a->status_dir, a->id, &rp, a->spare_pid) != 0) {
		log_error("job %s: cannot write its pid file in %s: %s", a->id,
		     a->status_dir, strerror(errno));
		pid_ok = 0;
	}
	fa_ok = posix_spawn_file_actions_init(&fa) == 0;
	at_ok = posix_spawnattr_init(&at) == 0;
	if (pid_ok && fa_ok && at_ok && sfd >= 0 && dirfd >= 0 && pipe2(outp, O_CLOEXEC) == 0)
		prep = supervisor_spawn_prepare(&fa, &at, outp[1], dirfd);

	do
		n = read(gofd, &go, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		_exit(0); /* the worker abandoned the run before it began */
	close(gofd);
	if (lockfd >= 0)
		close(lockfd); /* never LOCK_UN: that would release the worker's lock too */

	if (prep == 0) {
		st.started_ms = clock_real_ms();
		err = posix_spawn(&runner, a->argv[0], &fa, &at, a->argv, environ);
		close(outp[1]);
		outp[1] = -1;
	}
	/* The log is opened only now, off the path from the go byte to the runner's exec: the
	 * runner writes into the capture pipe, read below. A run abandoned before its go byte
	 * leaves the last run's log as it was. */
	logfd = open(a->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (logfd < 0)
		log_error("job %s: cannot write its log %s: %s", a->id, a->log_path,
		     strerror(errno));
	logcap_init(&lc, logfd, a->log_max);
	/* a later run's directory, made while this one's runner starts (outcome.h) */
	if (a->next_spare_dir != NULL)
		(void)mkdir(a->next_spare_dir, 0755);
	if (dir_err != 0) {
		char *msg = xasprintf("factotum-server-worker: cannot start the runner: its "
				      "directory '%s': %s\n", a->run_dir, strerror(dir_err));

		(void)logcap_write(&lc, msg, strlen(msg));
		free(msg);
	}
	if (prep != 0) {
		snprintf(st.reason, sizeof(st.reason), "spawn-failed");
		goto finish;
	}
	if (err != 0) {
		/* glibc reports the exec's own errno (and has reaped the child) */
		char *msg = xasprintf("factotum-server-worker: cannot start the runner: exec '%s': "
				      "%s\n", a->argv[0], strerror(err));

		(void)logcap_write(&lc, msg, strlen(msg));
		free(msg);
		snprintf(st.reason, sizeof(st.reason), "%s", supervisor_exec_reason(err));
		goto finish;
	}
	(void)fcntl(outp[0], F_SETFL, O_NONBLOCK);
	/* the node's session lives while its runs do, whatever becomes of the worker */
	renewer = consul_renewer_start();
	if (a->timeout_s > 0)
		deadline = clock_mono_ms() + (int64_t)a->timeout_s * 1000;
	while (!runner_done) {
		now = clock_mono_ms();
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
		now = clock_mono_ms();
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
	consul_renewer_stop(renewer);
	st.finished_ms = clock_real_ms();
	/* what is already in the pipe belongs to the log; a descendant that keeps the pipe open
	 * does not hold up the outcome */
	if (out_open)
		(void)supervisor_read(outp[0], &lc);
	if (runner_done && WIFEXITED(status)) {
		st.exit_code = WEXITSTATUS(status);
	} else if (runner_done && WIFSIGNALED(status)) {
		st.exit_signal = WTERMSIG(status);
	} else if (st.reason[0] == '\0') {
		snprintf(st.reason, sizeof(st.reason), "supervisor-failed");
	}
finish:
	if (st.finished_ms == 0)
		st.finished_ms = clock_real_ms();
	(void)logcap_flush(&lc);
	logcap_free(&lc);
	if (logfd >= 0)
		close(logfd);
	if (outp[0] >= 0)
		close(outp[0]);
	if (outp[1] >= 0)
		close(outp[1]);
	if (dirfd >= 0)
		close(dirfd);
	if (fa_ok)
		posix_spawn_file_actions_destroy(&fa);
	if (at_ok)
		posix_spawnattr_destroy(&at);
	if (outcome_status_write(a->status_dir, a->id, &st, a->durable, a->spare_status) != 0) {
		log_error("job %s: cannot write its status in %s: %s", a->id,
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
		int nul = open("/dev/null", O_RDWR), g, l = -1;

		/* nothing of the worker's but stderr (for its log lines) survives: not the spool, not the
		 * socket, and the lock only until the go byte (supervisor_main says why). Moved
		 * out of the way first, so that no dup2 below overwrites the other. */
		if (nul < 0 || dup2(nul, STDIN_FILENO) < 0 || dup2(nul, STDOUT_FILENO) < 0 ||
		    (g = fcntl(go[0], F_DUPFD_CLOEXEC, 10)) < 0 || dup2(g, 3) < 0 ||
		    (a->lockfd >= 0 && ((l = fcntl(a->lockfd, F_DUPFD_CLOEXEC, 10)) < 0 ||
					dup2(l, 4) < 0)))
			_exit(1);
		(void)close_range(a->lockfd >= 0 ? 5 : 4, ~0U, 0);
		supervisor_main(a, 3, a->lockfd >= 0 ? 4 : -1);
	}
	close(go[0]);
	*pidp = pid;
	*gofdp = go[1];
	return 0;
}
