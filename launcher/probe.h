/* SPDX-License-Identifier: Apache-2.0 */
/* The launcher's readiness checks: is the HTTP port free, does a socket accept, what does an
 * HTTP GET answer (libcurl, never through a proxy). */
#ifndef FS_LAUNCHER_PROBE_H
#define FS_LAUNCHER_PROBE_H

/* 0 if a TCP socket can be bound on ip:port (and is released again), else a negative FS_E*
 * code with *errp set, e.g. "127.0.0.1:3000 is already in use". */
int probe_port_free(const char *ip, int port, char **errp);

/* 1 if something accepts connections on the unix socket path (stream, or datagram when
 * dgram is 1), 0 if not. */
int probe_unix(const char *path, int dgram);

/* 1 if something accepts TCP connections on host:port, 0 if not. */
int probe_tcp(const char *host, int port);

/* GET url with a timeout (https without checking the certificate); returns the HTTP status
 * (e.g. 200), or 0 when no answer came, with the reason in *errp (new string, caller frees) in
 * that case. When bodyp is not NULL and an answer came, *bodyp is its body (new string, caller
 * frees). */
int probe_http_get(const char *url, int timeout_ms, char **bodyp, char **errp);

#endif
