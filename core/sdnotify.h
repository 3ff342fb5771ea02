/* SPDX-License-Identifier: Apache-2.0 */
/* Readiness for a systemd service of Type=notify, with sd_notify(3)'s protocol and without
 * libsystemd: one datagram per change of state ("READY=1", "STOPPING=1", "STATUS=...") on the
 * AF_UNIX socket that NOTIFY_SOCKET names, a path or, starting with '@', an abstract name.
 * Process-wide: one socket for the process. */
#ifndef FS_SDNOTIFY_H
#define FS_SDNOTIFY_H

/* Takes NOTIFY_SOCKET out of the environment, so that no child (a supervisor, a run, nginx)
 * notifies in this service's name, and opens a close-on-exec datagram socket connected to it:
 * called before the process drops its privileges, it can still notify as any user. Returns 0
 * when NOTIFY_SOCKET is unset or empty (sdnotify_send then does nothing) or the socket is
 * open; FS_EINVAL or FS_EIO with *errp set (new text the caller frees) when it names no socket
 * that takes datagrams: the process goes on without notifying. Call once, before any thread. */
int sdnotify_open(char **errp);

/* Sends the formatted state, one or more "NAME=value" lines separated by '\n', as one datagram;
 * nothing when no socket was opened. A failure is logged as a warning: the service manager
 * then times the start out or kills the service, and the warning says why. Safe from any
 * thread. */
void sdnotify_send(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Closes the socket; sdnotify_send does nothing afterwards. */
void sdnotify_close(void);

#endif
