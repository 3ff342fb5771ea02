/* SPDX-License-Identifier: Apache-2.0 */
/* `--constraint host,<value>`: may this machine run the job? Yes for "*", the host name, or a
 * name that resolves to one of the machine's non-loopback IPv4 addresses. */
#ifndef FS_CONSTRAINT_H
#define FS_CONSTRAINT_H

/* 0 if host is "*", equals the host name, or resolves to one of this machine's non-loopback IPv4
 * interface addresses; otherwise 1 with *reason set to Factotum's words (a static string). */
int constraint_host_check(const char *host, const char **reason);

#endif
