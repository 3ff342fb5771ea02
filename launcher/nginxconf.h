/* SPDX-License-Identifier: Apache-2.0 */
/* The nginx configuration of a node: nginx/nginx.conf.in, the drop-in users include in a server
 * (nginx/factotum-server.conf.in), the location file it includes in each of its locations
 * (nginx/factotum-server-location.conf) and their http-level part
 * (nginx/factotum-server-limits.conf), all compiled into the launcher, filled in and written
 * under <spool>/nginx/ (nginx.conf, factotum-server.conf, factotum-server-location.conf,
 * factotum-server-limits.conf, error.log, access.log, tmp/). */
#ifndef FS_LAUNCHER_NGINXCONF_H
#define FS_LAUNCHER_NGINXCONF_H

#include "config.h"

struct nginxconf {
	const char *prefix; /* nginx's -p directory, <spool>/nginx (must exist) */
	const char *user;   /* worker user and group when started as root, else NULL */
	const char *group;
	const char *www; /* the directory of the dashboard's files, served at /ui/ */
};

/* "127.0.0.1:3000" or "[::1]:3000" for cfg's --ip/--port: new string, caller frees. */
char *nginxconf_listen(const struct config *cfg);

/* The fastcgi_pass target for cfg's responder socket: "unix:/path" or "host:port" (an IPv6
 * literal in brackets). New string, caller frees. */
char *nginxconf_upstream(const struct config *cfg);

/* The server-level directives of cfg's --htpasswd, --trust-network, --tls-cert and --tls-key
 * (what fills @ACCESS@ in nginx/nginx.conf.in): allow/deny for protected mode, auth_basic, or
 * nothing, then the certificate and key. New string, caller frees. */
char *nginxconf_access(const struct config *cfg);

/* The location file's lines for cfg's --limit-req (burst twice the rate, served at once) and
 * --limit-conn: the directive, or a comment when the option is 0. New strings, caller frees. */
char *nginxconf_limit_req(const struct config *cfg);
char *nginxconf_limit_conn(const struct config *cfg);

/* 0 if cfg makes a node some client can reach, else FS_EINVAL with *errp one line naming the
 * option (a new string the caller frees): each file named by --htpasswd, --tls-cert and
 * --tls-key is a regular file this process can read, and in protected mode --ip is a loopback
 * or wildcard address (on any other address no admitted client could connect). nginx reads the
 * certificate and key as the launcher's user, the password file as its workers' user
 * (www-data when started as root): that second reader is not checked here. */
int nginxconf_check(const struct config *cfg, char **errp);

/* Writes <prefix>/factotum-server.conf (including <prefix>/factotum-server-location.conf),
 * <prefix>/factotum-server-location.conf, <prefix>/factotum-server-limits.conf and
 * <prefix>/nginx.conf (each atomically: temporary file and rename) and creates <prefix>/tmp.
 * Returns 0, or a negative FS_E* code with *errp set (a new string the caller frees). */
int nginxconf_write(const struct nginxconf *nc, const struct config *cfg, char **errp);

/* Replaces every occurrence of each key[i] in text with val[i] (n pairs). New string, caller
 * frees; NULL if some key does not occur at all (the template and the launcher disagree).
 * A test seam: only nginxconf_write calls it; exported so that the unit test can pin down these
 * rules apart from the templates. */
char *nginxconf_subst(const char *text, const char *const key[], const char *const val[], int n);

#endif
