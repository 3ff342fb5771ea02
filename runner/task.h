/* SPDX-License-Identifier: Apache-2.0 */
/* One task's process: the command line Factotum builds, spawning `sh -c` in its own process
 * group (the tmux way), its output pipes and line buffers, and signalling its group. */
#ifndef FS_TASK_H
#define FS_TASK_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

#include "factfile.h"
#include "xalloc.h"

/* A stream longer than this without a newline is printed in pieces of this size, so memory stays
 * bounded and a line never waits for ever. */
#define TASK_LINE_MAX 65536

struct task_proc {
	pid_t pid;          /* > 0 once spawned: also the id of the task's own process group */
	int fd[3];          /* [1] stdout and [2] stderr read ends, -1 once closed ([0] unused) */
	struct buf line[3]; /* partial lines of [1] and [2] */
	int reaped;         /* 1 once waitpid returned the status */
	int status;         /* waitpid status */
	int spawn_errno;    /* non-zero when the task could not be started */
};

/* The task's `sh -c` line: cmdline_build's (core/cmdline.h), the same bytes the responder's
 * --template-values check reads. Returns a new string. */
char *task_command(const struct factfile_task *t);

/* What spawned children get back before exec: the signal mask the runner started with, and the
 * open-files limit before the runner raised it. Set once by main. */
void task_set_child_defaults(const sigset_t *mask, long nofile_soft);

/* Starts /bin/sh -c cmd with stdin from /dev/null, stdout and stderr piped, in a new process
 * group, every other descriptor closed. Returns 0, or an errno value (nothing is left open). */
int task_spawn(struct task_proc *p, const char *cmd);

/* Sends sig to the task's process group; never to pid 0 or 1 or to the runner's own group. */
void task_signal(const struct task_proc *p, int sig);

/* 1 while the task's group may still have members to signal: not reaped, or a pipe still open. */
int task_alive(const struct task_proc *p);

/* Closes the pipes and frees the line buffers. */
void task_close(struct task_proc *p);

#endif
