/* SPDX-License-Identifier: Apache-2.0 */
/* The responder's unix socket outside the spool: its default place, its directory under /run and
 * its group. Shared by the responder and the launcher, so both name the same path.
 *
 * Where: --fcgi-socket when given; else, started as root, FCGISOCK_RUNDIR/<h>.sock with <h> the
 * first 12 hex digits of sha256(realpath(spool)) (one socket per spool, several nodes side by
 * side); else <spool>/fcgi.sock. The directory, made by whoever runs as root first, belongs to
 * the service user with the socket's group, mode 0750: nginx's workers (in that group) can reach
 * the socket, nobody else can even list the directory; 0755 when no group applies.
 * The socket itself is 0660, owned by the service user and the group (fcgisock_group). */
#ifndef FS_FCGISOCK_H
#define FS_FCGISOCK_H

#include <sys/types.h>

#include "config.h"
#include "privdrop.h"

#define FCGISOCK_RUNDIR "/run/factotum-server"

/* The group of nginx's workers on Debian (its nginx.conf's "user www-data;"), as php-fpm's
 * Debian pool gives its socket: the default group of the socket. */
#define FCGISOCK_NGINX_GROUP "www-data"

/* The socket's group: --fcgi-socket-group, else FCGISOCK_NGINX_GROUP where it exists and this
 * process may give files to it (root, or a member of it). Returns 1 with *gid set; 0 when no
 * group applies, and the socket keeps the group of the process (of the user it becomes, when
 * started as root); FS_ENOENT with *errp set when the group given does not exist (the program
 * exits 2). */
int fcgisock_group(const struct config *cfg, gid_t *gid, char **errp);

/* Started as root with the default socket path and a unix socket: replaces cfg->fcgi_socket by
 * FCGISOCK_RUNDIR/<h>.sock and makes that directory (owner pd's user when active, else root;
 * group gid when have_group). The spool must exist. Otherwise does nothing. 0, or FS_EIO with
 * *errp set. */
int fcgisock_place(struct config *cfg, const struct privdrop *pd, int have_group, gid_t gid,
		   char **errp);

/* Gives the bound socket at path to pd's user (when active) and to gid (when have_group). 0, or
 * FS_EIO with *errp set. */
int fcgisock_own(const char *path, const struct privdrop *pd, int have_group, gid_t gid,
		 char **errp);

#endif
