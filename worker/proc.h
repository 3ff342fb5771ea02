/* SPDX-License-Identifier: Apache-2.0 */
/* Process identity from /proc (Linux): a pid alone may be reused after its process dies, so a
 * process is named by (pid, start time in clock ticks since boot, /proc/<pid>/stat field 22),
 * which no later process can share. Also the sweep that ends every process of a runner's session
 * (the bundled runner gives each task its own process group, so signalling the runner's group
 * alone would leave tasks behind). And the boot's own id, which tells a process's death from a
 * machine's. */
#ifndef FS_PROC_H
#define FS_PROC_H

#include <stddef.h>
#include <sys/types.h>

/* The start time of pid into *startp and its state letter into *statep (may be NULL). 0, or -1
 * when there is no such process (or /proc cannot be read). */
int proc_stat(pid_t pid, unsigned long long *startp, char *statep);

/* This boot's id, /proc/sys/kernel/random/boot_id (36 characters, new at every boot), into buf
 * (at least 37 bytes). 0, or -1 with buf "" when it cannot be read or is not one. */
int proc_boot_id(char *buf, size_t size);

/* 1 when pid is alive (not a zombie) and started at start, else 0. */
int proc_is(pid_t pid, unsigned long long start);

/* Sends sig to every process whose session id is sid (as many as /proc lists at the call).
 * Returns the number signalled. */
int proc_signal_session(pid_t sid, int sig);

/* Sends sig to every live (not zombie) child of ppid. Returns the number signalled: 0 once
 * only zombies, if any, are left. */
int proc_signal_children(pid_t ppid, int sig);

#endif
