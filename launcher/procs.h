/* SPDX-License-Identifier: Apache-2.0 */
/* The launcher's children: start one (the tmux way: signals blocked around fork, reset in the
 * child, its own process group, stdio redirected, other descriptors closed, an explicit argv),
 * notice when one dies, and stop them all in order.
 *
 * The launcher keeps SIGCHLD, SIGINT, SIGTERM and SIGHUP blocked for its whole life and takes
 * them with sigtimedwait (procs_wait_event), so a child's death or a stop request is never lost
 * between two checks. */
#ifndef FS_LAUNCHER_PROCS_H
#define FS_LAUNCHER_PROCS_H

#include <signal.h>
#include <sys/types.h>

struct proc {
	const char *name; /* "nginx", "responder", ... (static storage) */
	int stop_signal;  /* how it is asked to stop: SIGTERM, or SIGQUIT for nginx */
	int group;        /* 1: its process group is its own (nginx's workers): whatever is left
			    * of the group once it is gone is SIGKILLed by procs_stop */
	pid_t pgid;       /* its process group (its first pid), 0 before it starts */
	pid_t pid;        /* 0 before it starts and once it has been reaped */
	int status;       /* wait status once reaped */
	int exited;       /* 1 once reaped */
};

/* Blocks the signals the launcher waits for (call once, before the first procs_spawn). */
void procs_block_signals(void);

/* Starts argv[0] (an absolute path) with argv as p's process: stdin from /dev/null, stdout to
 * out_fd (-1: the launcher's stderr, so that the launcher's stdout carries only its own line),
 * stderr to err_fd (-1: the launcher's). The child is in its own process group (a terminal's ^C
 * reaches only the launcher, which then stops everyone in order) and gets stop_signal if the
 * launcher dies. Returns 0, or -1 with *errp set ("cannot run <path>: <reason>", also when exec
 * fails: the child reports exec's errno through a close-on-exec pipe). */
int procs_spawn(struct proc *p, char *const argv[], int out_fd, int err_fd, char **errp);

/* Reaps every exited child; marks the matching entries of procs[0..n) exited. Returns the first
 * entry that exited in this call, or NULL. */
struct proc *procs_reap(struct proc *procs, size_t n);

/* Waits up to timeout_ms for a signal: returns SIGCHLD, SIGINT, SIGTERM or SIGHUP (0 on
 * timeout). */
int procs_wait_event(int timeout_ms);

/* "exit status N" / "killed by signal N (NAME)" for a wait status; static storage, valid until
 * the next call. */
const char *procs_describe(int status);

/* Asks p to stop (its stop_signal), waits up to timeout_ms, then SIGKILLs it and reaps it. Any
 * other of procs[0..n) that exits meanwhile is reaped too. With p->group, what is left of its
 * process group is then SIGKILLed (nginx's workers outlive a master that was killed). A stop
 * request (SIGINT/SIGTERM/SIGHUP) arriving meanwhile is consumed: stopping is already under way. */
void procs_stop(struct proc *p, struct proc *procs, size_t n, int timeout_ms);

#endif
