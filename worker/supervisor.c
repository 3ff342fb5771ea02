/* SPDX-License-Identifier: Apache-2.0 */
/* The per-run supervisor (see supervisor.h). Spawning follows tmux's job.c: signals are blocked
 * across fork, each child resets its mask and dispositions, takes /dev/null as stdin, closes
 * every descriptor it does not need and execs an explicit argv -- no shell. The runner is started
 * by runstart.h, which also gives it its user, environment and limits. The supervisor is a child
 * subreaper: whatever the run leaves behind (a double fork, a setsid) becomes its child and is
 * ended before the run's status is written. */
#define _GNU_SOURCE
#include "supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "logcap.h"
#include "clock.h"
#include "fault.h"
#include "outcome.h"
#include "proc.h"
#include "rundir.h"
#include "runstart.h"
#include "statesync.h"
#include "xalloc.h"

#define SUPERVISOR_FLUSH_MS 1000 /* the log lags the output by at most this, past the cap */

/* Why a runner could not be started: "runner-missing" for a path that is absent or not
 * executable, else "spawn-failed". Static storage. */
static const char *supervisor_exec_reason(int err)
{
	switch (err) {
	case ENOENT:
	case EACCES:
	case ENOEXEC:
	case ENOTDIR:
	case ELOOP:
	case EISDIR:
	case EPERM:
		return "runner-missing";
	default:
		return "spawn-failed";
	}
}

/* A fresh working directory for the run, an earlier run's removed first (no symlink is
 * followed), whoever filled it: the spare directory renamed into place when there is one
 * (spares.h), else a new one. Opened: a descriptor, or -1 with errno. */
static int supervisor_run_dir(const char *dir, const char *spare)
{
	(void)rundir_remove(dir);
	if ((spare == NULL || rename(spare, dir) != 0) && mkdir(dir, 0755) != 0 && errno != EEXIST)
		return -1;
	return open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* A run as its supervisor sees it, from its preparation to its status. */
struct supervisor_run {
	const struct supervisor_args *a;
	struct run_status st;
	int ready;        /* everything runstart_spawn needs is prepared */
	int sfd;          /* the signals (signalfd), -1 if none */
	int dirfd;        /* the run directory, -1 if it could not be made ... */
	int dir_err;      /* ... and why (errno) */
	int recfd;        /* the go slot (outcome.h), -1 if it could not be opened ... */
	int rec_err;      /* ... and why, or why the went mark could not be written (errno) */
	int outp[2];      /* the capture pipe */
	int out_open;     /* its read end may still yield output */
	int logfd;        /* the capped log, -1 if it could not be opened */
	struct logcap lc; /* set up once the runner has been started, or has failed to */
	pid_t runner;
	int status; /* the runner's wait status, once runner_done */
	int runner_done;
	int64_t deadline; /* monotonic ms: the timeout (0: none) */
	int64_t kill_at;  /* monotonic ms: SIGKILL for a stop under way (0: none) */
	int64_t flush_at; /* monotonic ms: the capped log's next flush (0: none due) */
};

/* Starts a stop: SIGTERM to the runner's group now, SIGKILL once the grace period is over. The
 * first reason stands. */
static void supervisor_stop(struct supervisor_run *r, const char *why)
{
	if (r->st.reason[0] != '\0')
		return;
	snprintf(r->st.reason, sizeof(r->st.reason), "%s", why);
	(void)kill(-r->runner, SIGTERM);
	r->kill_at = clock_mono_ms() + r->a->grace_ms;
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

/* Says in the run's log why the runner could not be started. */
static void supervisor_say(struct supervisor_run *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void supervisor_say(struct supervisor_run *r, const char *fmt, ...)
{
	va_list ap;
	char *why, *msg;

	va_start(ap, fmt);
	why = xvasprintf(fmt, ap);
	va_end(ap);
	msg = xasprintf("factotum-server-worker: cannot start the runner: %s\n", why);
	(void)logcap_write(&r->lc, msg, strlen(msg));
	free(why);
	free(msg);
}

/* Everything short of starting the runner, before the go byte, in this process rather than the
 * worker, which serves every run: the signals, the run directory, the pid file (what lets a
 * restarted worker find this process, so written before anything can start), the capture pipe
 * and the spawn attributes. r->ready says whether the runner can be started; whatever was made
 * is released by supervisor_settle. */
static void supervisor_prepare(struct supervisor_run *r, const struct supervisor_args *a)
{
	struct run_pid rp;
	sigset_t mask;
	int pid_ok = 1;

	memset(r, 0, sizeof(*r));
	r->a = a;
	r->st.run = a->run;
	r->st.exit_code = -1;
	r->outp[0] = r->outp[1] = -1;
	r->recfd = -1;
	r->out_open = 1;
	r->logfd = -1;
	(void)setsid();
	/* what the run leaves behind is reparented here, to be ended (supervisor_sweep) */
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
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
	r->sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	r->dirfd = supervisor_run_dir(a->run_dir, a->spare_dir);
	/* the run's own directory is the one place its user may write in the spool; its group
	 * stays the supervisor's, which enters it to start the runner (0750: nobody else may) */
	if (r->dirfd >= 0 && a->runas->active &&
	    (fchmod(r->dirfd, 0750) != 0 || fchown(r->dirfd, a->runas->uid, getegid()) != 0)) {
		close(r->dirfd);
		r->dirfd = -1;
	}
	if (r->dirfd < 0)
		r->dir_err = errno;
	rp.run = a->run;
	rp.pid = getpid();
	rp.slot = a->go_slot;
	if (proc_stat(rp.pid, &rp.start, NULL) != 0 ||
	    outcome_pid_write(a->status_dir, a->id, &rp, a->spare_pid) != 0) {
		log_error("job %s: cannot write its pid file in %s: %s", a->id, a->status_dir,
			  strerror(errno));
		pid_ok = 0;
	}
	/* opened now, off the path from the go byte to the exec: the go byte only writes in it */
	r->recfd = outcome_go_open(a->status_dir, a->go_slot, a->durable);
	if (r->recfd < 0) {
		r->rec_err = errno;
		log_error("job %s: cannot open its go slot %d in %s: %s", a->id, a->go_slot,
			  a->status_dir, strerror(errno));
	}
	r->ready = pid_ok && r->sfd >= 0 && r->dirfd >= 0 && r->recfd >= 0 &&
		   pipe2(r->outp, O_CLOEXEC) == 0;
}

/* Waits for the go byte; exits at once when the worker abandoned the run instead (the pipe
 * closed unwritten). Then lets go of the worker's lock (supervisor_main says why). */
static void supervisor_await_go(int gofd, int lockfd)
{
	ssize_t n;
	char go;

	do
		n = read(gofd, &go, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		_exit(0);
	close(gofd);
	if (lockfd >= 0)
		close(lockfd); /* never LOCK_UN: that would release the worker's lock too */
}

/* Writes the went mark and starts the runner when it can, then opens the log -- only now, off
 * the path from the go byte to the runner's exec; a run abandoned before its go byte leaves the
 * last run's log as it was -- and makes the later run's spare directory. 0 when the runner runs;
 * else its reason is in r->st and the log says why. */
static int supervisor_start(struct supervisor_run *r)
{
	const struct supervisor_args *a = r->a;
	const char *stage = "";
	struct runstart rs;
	int err = 0;

	if (r->ready) {
		/* the went mark, before anything can start: without it a restarted worker takes the
		 * run for one that never began and queues the job again (outcome.h). The worker's go
		 * record, already on the disk, is what a power loss leaves of it. */
		r->rec_err = -fault_at("supervisor.after-go");
		if (r->rec_err == 0 && outcome_go_went(r->recfd, a->run) != 0)
			r->rec_err = errno;
		if (r->rec_err != 0) {
			log_error("job %s: cannot write its went mark in %s: %s", a->id,
				  a->status_dir, strerror(r->rec_err));
			r->ready = 0;
		}
	}
	if (r->ready) {
		(void)fault_at("supervisor.before-exec");
		rs.argv = a->argv;
		rs.envp = a->envp;
		rs.outfd = r->outp[1];
		rs.dirfd = r->dirfd;
		rs.runas = a->runas;
		rs.max_processes = a->max_processes;
		rs.max_memory = a->max_memory;
		rs.max_open_files = a->max_open_files;
		r->st.started_ms = clock_real_ms();
		err = runstart_spawn(&rs, &r->runner, &stage);
		close(r->outp[1]);
		r->outp[1] = -1;
	}
	r->logfd = open(a->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (r->logfd < 0)
		log_error("job %s: cannot write its log %s: %s", a->id, a->log_path,
			  strerror(errno));
	logcap_init(&r->lc, r->logfd, a->log_max);
	if (a->next_spare_dir != NULL)
		(void)mkdir(a->next_spare_dir, 0755);
	if (r->dir_err != 0)
		supervisor_say(r, "its directory '%s': %s", a->run_dir, strerror(r->dir_err));
	if (r->rec_err != 0)
		supervisor_say(r, "its go slot in '%s': %s", a->status_dir, strerror(r->rec_err));
	if (!r->ready) {
		snprintf(r->st.reason, sizeof(r->st.reason), "spawn-failed");
		return -1;
	}
	if (err != 0) {
		supervisor_say(r, "%s '%s': %s", stage, a->argv[0], strerror(err));
		snprintf(r->st.reason, sizeof(r->st.reason), "%s",
			 strcmp(stage, "exec") == 0 ? supervisor_exec_reason(err) : "spawn-failed");
		return -1;
	}
	return 0;
}

/* How long the wait loop may sleep: until the nearest of the timeout, the SIGKILL and the log's
 * flush, or -1 for none. */
static int supervisor_wait_ms(const struct supervisor_run *r)
{
	const int64_t due[] = { r->deadline, r->kill_at, r->flush_at };
	int64_t now = clock_mono_ms(), wait_ms = -1;
	size_t i;

	for (i = 0; i < sizeof(due) / sizeof(due[0]); i++)
		if (due[i] > 0 && (wait_ms < 0 || due[i] - now < wait_ms))
			wait_ms = due[i] > now ? due[i] - now : 0;
	return (int)wait_ms;
}

/* The signals that came: a cancel or a stop, and SIGCHLD (or one that coalesced: the runner is
 * asked rather than the count trusted). */
static void supervisor_signals(struct supervisor_run *r)
{
	struct signalfd_siginfo si;

	while (read(r->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGUSR1)
			supervisor_stop(r, "cancelled");
		else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
			supervisor_stop(r, "terminated");
	}
	if (waitpid(r->runner, &r->status, WNOHANG) == r->runner)
		r->runner_done = 1;
}

/* What is due: the timeout's stop, the SIGKILL of a stop, the capped log's flush. */
static void supervisor_timers(struct supervisor_run *r)
{
	int64_t now = clock_mono_ms();

	if (!r->runner_done && r->deadline > 0 && now >= r->deadline) {
		supervisor_stop(r, "timeout");
		r->deadline = 0;
	}
	if (!r->runner_done && r->kill_at > 0 && now >= r->kill_at) {
		(void)kill(-r->runner, SIGKILL);
		(void)proc_signal_session(r->runner, SIGKILL);
		r->kill_at = 0;
	}
	if (r->lc.dirty && r->flush_at == 0)
		r->flush_at = now + SUPERVISOR_FLUSH_MS;
	if (r->flush_at > 0 && now >= r->flush_at) {
		(void)logcap_flush(&r->lc);
		r->flush_at = 0;
	}
}

/* Ends what the run left behind, now that the runner has ended: every process reparented to
 * the supervisor gets SIGTERM (again at each look, for the ones reparented since), then SIGKILL
 * once the grace period is over, until none is left alive; what they write meanwhile goes to
 * the log, so that none blocks on a full pipe. No child at all (ECHILD, zombies reaped) means
 * nothing of the run is left: a live process it started has a live parent or was reparented
 * here, so /proc is read only when something is (the end of every run otherwise). */
static void supervisor_sweep(struct supervisor_run *r)
{
	int64_t kill_at = clock_mono_ms() + r->a->grace_ms;
	struct pollfd pfd;
	int sig = SIGTERM;
	pid_t reaped;

	for (;;) {
		while ((reaped = waitpid(-1, NULL, WNOHANG)) > 0)
			;
		if (reaped < 0 && errno == ECHILD)
			return;
		if (sig == SIGTERM && clock_mono_ms() >= kill_at)
			sig = SIGKILL;
		if (proc_signal_children(getpid(), sig) == 0)
			break;
		pfd.fd = r->out_open ? r->outp[0] : -1;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 20) > 0 && r->out_open)
			r->out_open = supervisor_read(r->outp[0], &r->lc);
	}
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

/* The wait loop: captures the runner's output until the runner ends, stops it on a signal or at
 * the timeout, kills what is left after the grace period; then fills in how it ended. */
static void supervisor_watch(struct supervisor_run *r)
{
	struct statesync_renewer *renewer;
	struct pollfd pfd[2];

	(void)fcntl(r->outp[0], F_SETFL, O_NONBLOCK);
	/* the node's session lives while its runs do, whatever becomes of the worker */
	renewer = statesync_renewer_start();
	if (r->a->timeout_s > 0)
		r->deadline = clock_mono_ms() + (int64_t)r->a->timeout_s * 1000;
	while (!r->runner_done) {
		pfd[0].fd = r->out_open ? r->outp[0] : -1;
		pfd[0].events = POLLIN;
		pfd[1].fd = r->sfd;
		pfd[1].events = POLLIN;
		if (poll(pfd, 2, supervisor_wait_ms(r)) < 0 && errno != EINTR)
			break;
		if (r->out_open && (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)))
			r->out_open = supervisor_read(r->outp[0], &r->lc);
		if (pfd[1].revents & POLLIN)
			supervisor_signals(r);
		supervisor_timers(r);
	}
	statesync_renewer_stop(renewer);
	supervisor_sweep(r);
	r->st.finished_ms = clock_real_ms();
	/* what is already in the pipe belongs to the log; a descendant that keeps the pipe open
	 * does not hold up the outcome */
	if (r->out_open)
		(void)supervisor_read(r->outp[0], &r->lc);
	if (r->runner_done && WIFEXITED(r->status))
		r->st.exit_code = WEXITSTATUS(r->status);
	else if (r->runner_done && WIFSIGNALED(r->status))
		r->st.exit_signal = WTERMSIG(r->status);
	else if (r->st.reason[0] == '\0')
		snprintf(r->st.reason, sizeof(r->st.reason), "supervisor-failed");
}

/* Releases the run's resources and writes its status durably (outcome.h); the supervisor's
 * exit, 0 once the status is written. */
static void supervisor_settle(struct supervisor_run *r) __attribute__((noreturn));
static void supervisor_settle(struct supervisor_run *r)
{
	const struct supervisor_args *a = r->a;

	if (r->st.finished_ms == 0)
		r->st.finished_ms = clock_real_ms();
	(void)logcap_flush(&r->lc);
	logcap_free(&r->lc);
	if (r->logfd >= 0)
		close(r->logfd);
	if (r->outp[0] >= 0)
		close(r->outp[0]);
	if (r->outp[1] >= 0)
		close(r->outp[1]);
	if (r->dirfd >= 0)
		close(r->dirfd);
	if (r->recfd >= 0)
		close(r->recfd);
	if (outcome_status_write(a->status_dir, a->id, &r->st, a->durable, a->spare_status) != 0) {
		log_error("job %s: cannot write its status in %s: %s", a->id, a->status_dir,
			  strerror(errno));
		_exit(1);
	}
	/* here, not in the worker's loop, where a large tree would hold up every claim; a removal
	 * cut short is finished by the worker when it settles the run */
	if (!a->keep_run_dir)
		(void)rundir_remove(a->run_dir);
	_exit(0);
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
	struct supervisor_run r;

	supervisor_prepare(&r, a);
	supervisor_await_go(gofd, lockfd);
	if (supervisor_start(&r) == 0)
		supervisor_watch(&r);
	supervisor_settle(&r);
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
		    (a->lockfd >= 0 &&
		     ((l = fcntl(a->lockfd, F_DUPFD_CLOEXEC, 10)) < 0 || dup2(l, 4) < 0)))
			_exit(1);
		(void)close_range(a->lockfd >= 0 ? 5 : 4, ~0U, 0);
		supervisor_main(a, 3, a->lockfd >= 0 ? 4 : -1);
	}
	close(go[0]);
	*pidp = pid;
	*gofdp = go[1];
	return 0;
}
