/* SPDX-License-Identifier: Apache-2.0 */
/* Starting the runner: a vfork-like clone and exec (posix_spawn cannot change the user), in the
 * manner of tmux's job.c. The child has its own session and process group, so that a stop reaches all of
 * it and nothing of its supervisor's; stdin stays the supervisor's /dev/null; stdout and stderr
 * are the capture pipe; its working directory is the run directory; every other descriptor is
 * closed; every signal is at its default and none is blocked; the rlimits are set; then, when
 * the run has its own user (runas.h), the supplementary groups, the group and the user are
 * switched and the capability bounding set emptied; no_new_privs is set and no ambient
 * capability is left, so that nothing the runner execs can regain a privilege. */
#ifndef FS_RUNSTART_H
#define FS_RUNSTART_H

#include <sys/types.h>

#include "runas.h"

/* Only read, and only until runstart_spawn returns. */
struct runstart {
	char *const *argv; /* argv[0] is the path executed */
	char *const *envp; /* the whole environment (runenv.h) */
	int outfd;         /* becomes stdout and stderr */
	int dirfd;         /* the working directory, opened */
	const struct runas *runas;
	int max_processes;    /* RLIMIT_NPROC, 0 = left as it is */
	long long max_memory; /* RLIMIT_AS in bytes, 0 = left as it is */
	int max_open_files;   /* RLIMIT_NOFILE, 0 = left as it is */
};

/* Starts the runner; returns once it has exec'd or failed to. 0 with *pidp (the caller's child);
 * else an errno value with *stagep the step that failed ("exec", "setuid", "clone", ...; static
 * storage), the child already reaped. */
int runstart_spawn(const struct runstart *rs, pid_t *pidp, const char **stagep);

#endif
