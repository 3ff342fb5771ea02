/* SPDX-License-Identifier: Apache-2.0 */
/* Starting the runner (see runstart.h). The child reports a failure through a close-on-exec
 * pipe: end of file means the exec happened, two ints (the step and its errno) that it did not.
 * Signals are blocked across the fork so that none reaches the child's handlers, which it
 * resets before unblocking. */
#define _GNU_SOURCE
#include "runstart.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

enum runstart_stage {
	STAGE_SETUP,
	STAGE_RLIMIT,
	STAGE_SETGROUPS,
	STAGE_SETGID,
	STAGE_SETUID,
	STAGE_NO_NEW_PRIVS,
	STAGE_EXEC,
};

static const char *const runstart_stages[] = {
	"setup", "setrlimit", "setgroups", "setgid", "setuid", "no_new_privs", "exec",
};

static int runstart_limit(int resource, unsigned long long value)
{
	struct rlimit rl;

	if (value == 0)
		return 0;
	rl.rlim_cur = rl.rlim_max = (rlim_t)value;
	return setrlimit(resource, &rl);
}

/* The child, after the fork: never returns. Only async-signal-safe calls. */
static void runstart_child(const struct runstart *rs, int errfd) __attribute__((noreturn));
static void runstart_child(const struct runstart *rs, int errfd)
{
	const struct runas *ra = rs->runas;
	struct sigaction sa;
	sigset_t none;
	int report[2], sig, cap;

	report[0] = STAGE_SETUP;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &sa, NULL);
	if (setsid() < 0 || fchdir(rs->dirfd) != 0 || dup2(rs->outfd, STDOUT_FILENO) < 0 ||
	    dup2(rs->outfd, STDERR_FILENO) < 0 || (errfd != 3 && dup2(errfd, 3) < 0) ||
	    fcntl(3, F_SETFD, FD_CLOEXEC) != 0)
		goto fail;
	(void)close_range(4, ~0U, 0);
	errfd = 3;
	report[0] = STAGE_RLIMIT;
	if (runstart_limit(RLIMIT_NPROC, (unsigned long long)rs->max_processes) != 0 ||
	    runstart_limit(RLIMIT_AS, (unsigned long long)rs->max_memory) != 0 ||
	    runstart_limit(RLIMIT_NOFILE, (unsigned long long)rs->max_open_files) != 0)
		goto fail;
	if (ra->active) {
		report[0] = STAGE_SETGROUPS;
		if (setgroups(ra->ngroups, ra->groups) != 0)
			goto fail;
		report[0] = STAGE_SETGID;
		if (setresgid(ra->gid, ra->gid, ra->gid) != 0)
			goto fail;
		/* a root run (--allow-root-runs) keeps root's bounding set: it was asked for */
		for (cap = 0; ra->uid != 0 && cap <= CAP_LAST_CAP; cap++)
			(void)prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
		report[0] = STAGE_SETUID;
		if (setresuid(ra->uid, ra->uid, ra->uid) != 0)
			goto fail;
	}
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	report[0] = STAGE_NO_NEW_PRIVS;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		goto fail;
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	execve(rs->argv[0], rs->argv, rs->envp);
	report[0] = STAGE_EXEC;
fail:
	report[1] = errno;
	(void)!write(errfd, report, sizeof(report));
	_exit(127);
}

int runstart_spawn(const struct runstart *rs, pid_t *pidp, const char **stagep)
{
	sigset_t all, old;
	int ep[2], report[2], err;
	ssize_t n;
	pid_t pid;

	*stagep = "fork";
	if (pipe2(ep, O_CLOEXEC) != 0)
		return errno;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid == 0)
		runstart_child(rs, ep[1]);
	err = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(ep[1]);
	if (pid < 0) {
		close(ep[0]);
		return err;
	}
	do
		n = read(ep[0], report, sizeof(report));
	while (n < 0 && errno == EINTR);
	close(ep[0]);
	if (n != (ssize_t)sizeof(report)) {
		*pidp = pid;
		return 0;
	}
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	*stagep = report[0] >= 0 && report[0] <= STAGE_EXEC ? runstart_stages[report[0]] : "setup";
	return report[1] != 0 ? report[1] : EIO;
}
