/* SPDX-License-Identifier: Apache-2.0 */
/* Starting the runner (see runstart.h). The child is a clone with CLONE_VM | CLONE_VFORK on a
 * stack of its own, as glibc's posix_spawn makes it: the supervisor's pages are shared, not
 * copied, and the supervisor sleeps until the child has exec'd or exited (a fork would copy the
 * page tables of the worker the supervisor was forked from, on the path of every run). So the
 * child touches no memory but its own stack, calls nothing that takes a lock, and changes its
 * credentials with the raw system calls: glibc's wrappers would apply them to every thread of
 * the process whose memory the child shares. Signals are blocked across the clone, so that no
 * handler of the supervisor's runs in the child, which resets them all before unblocking. The
 * child reports a failure through a close-on-exec pipe: end of file means the exec happened, two
 * ints (the step and its errno) that it did not. */
#define _GNU_SOURCE
#include "runstart.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define RUNSTART_STACK (64 * 1024)

/* The 32-bit id calls where the plain ones take 16-bit ids (i386, arm). */
#ifdef SYS_setresuid32
#define RUNSTART_SYS_SETRESUID SYS_setresuid32
#define RUNSTART_SYS_SETRESGID SYS_setresgid32
#define RUNSTART_SYS_SETGROUPS SYS_setgroups32
#else
#define RUNSTART_SYS_SETRESUID SYS_setresuid
#define RUNSTART_SYS_SETRESGID SYS_setresgid
#define RUNSTART_SYS_SETGROUPS SYS_setgroups
#endif

/* What the child is given (on the supervisor's stack, which it only reads). */
struct runstart_child_arg {
	const struct runstart *rs;
	int errfd;
};

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

/* The child, after the clone: never returns. */
static int runstart_child(void *arg)
{
	const struct runstart *rs = ((const struct runstart_child_arg *)arg)->rs;
	int errfd = ((const struct runstart_child_arg *)arg)->errfd;
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
		if (syscall(RUNSTART_SYS_SETGROUPS, ra->ngroups, ra->groups) != 0)
			goto fail;
		report[0] = STAGE_SETGID;
		if (syscall(RUNSTART_SYS_SETRESGID, ra->gid, ra->gid, ra->gid) != 0)
			goto fail;
		/* a root run (--allow-root-runs) keeps root's bounding set: it was asked for */
		for (cap = 0; ra->uid != 0 && cap <= CAP_LAST_CAP && cap < 64; cap++)
			if (ra->bound_drop & ((uint64_t)1 << cap))
				(void)prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
		report[0] = STAGE_SETUID;
		if (syscall(RUNSTART_SYS_SETRESUID, ra->uid, ra->uid, ra->uid) != 0)
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
	struct runstart_child_arg arg;
	sigset_t all, old;
	int ep[2], report[2], err;
	char *stack;
	ssize_t n;
	pid_t pid;

	*stagep = "clone";
	stack = mmap(NULL, RUNSTART_STACK, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED)
		return errno;
	if (pipe2(ep, O_CLOEXEC) != 0) {
		err = errno;
		munmap(stack, RUNSTART_STACK);
		return err;
	}
	arg.rs = rs;
	arg.errfd = ep[1];
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	/* the stack grows down on every architecture this runs on */
	pid = clone(runstart_child, stack + RUNSTART_STACK, CLONE_VM | CLONE_VFORK | SIGCHLD, &arg);
	err = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	munmap(stack, RUNSTART_STACK);
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
