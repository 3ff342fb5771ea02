/* SPDX-License-Identifier: Apache-2.0 */
/* Filling in the nginx templates for the launcher (contract in nginxconf.h). The templates are
 * nginx/ verbatim, turned into C strings at build time (launcher/nginx_templates.h), so a node
 * runs the same drop-in and location file users include and the tests exercise. */
#include "nginxconf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "nginx_templates.h"
#include "xalloc.h"

/* The socket the location file names; the launcher points it at the node's responder. */
#define NGINXCONF_LOC_SOCKET  "unix:/run/factotum-server/fcgi.sock"
/* The lines of the templates that carry the shipped limits; the launcher puts its options'. */
#define NGINXCONF_LOC_REQ     "limit_req zone=factotum_req burst=200 nodelay;"
#define NGINXCONF_LOC_CONN    "limit_conn factotum_conn 64;"
#define NGINXCONF_LIMITS_RATE "rate=100r/s;"
/* Where the site file finds the location file once installed (the Makefile fills it in); the
 * launcher's copies are side by side in its prefix. */
#define NGINXCONF_SITE_DIR    "@pkgdatadir@/nginx"
/* ... and the dashboard's files; nginx's alias wants the trailing slash */
#define NGINXCONF_SITE_WWW    "@pkgdatadir@/www/"
/* The body of the site file's 403: the launcher's nginx forbids only in protected mode. */
#define NGINXCONF_SITE_403    "'{\"message\":\"Error: Forbidden\"}'"
#define NGINXCONF_NODE_403                                                                        \
	"'{\"message\":\"Error: Forbidden: this node admits only 127.0.0.1 and ::1 until it is "  \
	"started with --htpasswd FILE (basic authentication) or --trust-network (the network is " \
	"trusted)\"}'"

static char *nginxconf_hostport(const char *host, int port)
{
	if (strchr(host, ':') != NULL)
		return xasprintf("[%s]:%d", host, port);
	return xasprintf("%s:%d", host, port);
}

char *nginxconf_listen(const struct config *cfg)
{
	return nginxconf_hostport(cfg->ip, cfg->port);
}

char *nginxconf_upstream(const struct config *cfg)
{
	if (cfg->fcgi_host != NULL)
		return nginxconf_hostport(cfg->fcgi_host, cfg->fcgi_port);
	return xasprintf("unix:%s", cfg->fcgi_socket);
}

char *nginxconf_access(const struct config *cfg)
{
	struct buf out;

	buf_init(&out);
	if (cfg->htpasswd != NULL)
		buf_printf(&out,
			   "        auth_basic \"factotum-server\";\n"
			   "        auth_basic_user_file \"%s\";\n",
			   cfg->htpasswd);
	else if (cfg->trust_network)
		buf_puts(&out, "        # --trust-network: every client, no authentication\n");
	else
		buf_puts(&out, "        # protected mode: neither --htpasswd nor --trust-network\n"
			       "        allow 127.0.0.1;\n"
			       "        allow ::1;\n"
			       "        deny all;\n");
	if (cfg->tls_cert != NULL)
		buf_printf(&out,
			   "        ssl_certificate \"%s\";\n"
			   "        ssl_certificate_key \"%s\";\n",
			   cfg->tls_cert, cfg->tls_key);
	return buf_steal(&out);
}

static int nginxconf_check_file(const char *path, const char *opt, char **errp)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK), rc = 0;

	if (fd < 0)
		return err_set(errp, FS_EINVAL, "%s: cannot read '%s': %s", opt, path,
			       strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		rc = err_set(errp, FS_EINVAL, "%s: '%s' is not a regular file", opt, path);
	close(fd);
	return rc;
}

/* 0.0.0.0, ::, 127.0.0.0/8 or ::1: an address that clients on this machine reach from 127.0.0.1
 * or ::1 (Linux gives a connection to any 127.x address the source 127.0.0.1). */
static int nginxconf_ip_local(const char *ip)
{
	struct in_addr v4;
	struct in6_addr v6;

	if (inet_pton(AF_INET, ip, &v4) == 1)
		return v4.s_addr == htonl(INADDR_ANY) || (ntohl(v4.s_addr) >> 24) == 127;
	return inet_pton(AF_INET6, ip, &v6) == 1 &&
	       (IN6_IS_ADDR_UNSPECIFIED(&v6) || IN6_IS_ADDR_LOOPBACK(&v6));
}

int nginxconf_check(const struct config *cfg, char **errp)
{
	if (cfg->htpasswd == NULL && !cfg->trust_network && !nginxconf_ip_local(cfg->ip))
		return err_set(errp, FS_EINVAL,
			       "--ip: no client could reach %s: without --htpasswd FILE or "
			       "--trust-network only 127.0.0.1 and ::1 are admitted",
			       cfg->ip);
	if (cfg->htpasswd != NULL && nginxconf_check_file(cfg->htpasswd, "--htpasswd", errp) != 0)
		return FS_EINVAL;
	if (cfg->tls_cert != NULL && nginxconf_check_file(cfg->tls_cert, "--tls-cert", errp) != 0)
		return FS_EINVAL;
	if (cfg->tls_key != NULL && nginxconf_check_file(cfg->tls_key, "--tls-key", errp) != 0)
		return FS_EINVAL;
	return 0;
}

char *nginxconf_subst(const char *text, const char *const key[], const char *const val[], int n)
{
	struct buf out;
	const char *p = text, *hit;
	int i, best, *seen = xcalloc((size_t)n, sizeof(int));
	char *result = NULL;

	buf_init(&out);
	for (;;) {
		/* the earliest occurrence of any key */
		hit = NULL;
		best = -1;
		for (i = 0; i < n; i++) {
			const char *h = strstr(p, key[i]);

			if (h != NULL && (hit == NULL || h < hit)) {
				hit = h;
				best = i;
			}
		}
		if (hit == NULL)
			break;
		buf_append(&out, p, (size_t)(hit - p));
		buf_puts(&out, val[best]);
		seen[best] = 1;
		p = hit + strlen(key[best]);
	}
	buf_puts(&out, p);
	for (i = 0; i < n && seen[i]; i++)
		;
	if (i == n)
		result = buf_steal(&out);
	buf_free(&out);
	free(seen);
	return result;
}

char *nginxconf_limit_req(const struct config *cfg)
{
	if (cfg->limit_req == 0)
		return xstrdup("# limit_req: none (--limit-req 0)");
	return xasprintf("limit_req zone=factotum_req burst=%d nodelay;", 2 * cfg->limit_req);
}

char *nginxconf_limit_conn(const struct config *cfg)
{
	if (cfg->limit_conn == 0)
		return xstrdup("# limit_conn: none (--limit-conn 0)");
	return xasprintf("limit_conn factotum_conn %d;", cfg->limit_conn);
}

/* Writes text to path through path.tmp and a rename. */
static int nginxconf_put(const char *path, const char *text, char **errp)
{
	char *tmp = xasprintf("%s.tmp", path);
	size_t len = strlen(text), off = 0;
	ssize_t w;
	int fd, rc = FS_EIO;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		goto fail;
	while (off < len) {
		w = write(fd, text + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail;
		off += (size_t)w;
	}
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto fail;
	rc = 0;
	goto out;
fail:
	err_set(errp, FS_EIO, "cannot write %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
out:
	free(tmp);
	return rc;
}

int nginxconf_write(const struct nginxconf *nc, const struct config *cfg, char **errp)
{
	char *site_path = xasprintf("%s/factotum-server.conf", nc->prefix);
	char *loc_path = xasprintf("%s/factotum-server-location.conf", nc->prefix);
	char *limits_path = xasprintf("%s/factotum-server-limits.conf", nc->prefix);
	char *conf_path = xasprintf("%s/nginx.conf", nc->prefix);
	char *tmpdir = xasprintf("%s/tmp", nc->prefix);
	char *upstream = nginxconf_upstream(cfg), *listen = nginxconf_listen(cfg);
	char *listen_arg = xasprintf("%s%s", listen, cfg->tls_cert != NULL ? " ssl" : "");
	char *access = nginxconf_access(cfg);
	char *user_line = nc->user != NULL ? xasprintf("user %s %s;", nc->user, nc->group)
					   : xstrdup("# (not started as root: no user directive)");
	char *req = nginxconf_limit_req(cfg), *conn = nginxconf_limit_conn(cfg);
	/* with --limit-req 0 the zone keeps the shipped rate: no line uses it */
	char *rate = cfg->limit_req != 0 ? xasprintf("rate=%dr/s;", cfg->limit_req)
					 : xstrdup(NGINXCONF_LIMITS_RATE);
	char *www = xasprintf("%s/", nc->www);
	char *site = NULL, *loc = NULL, *limits = NULL, *conf = NULL;
	const char *site_key[] = { NGINXCONF_SITE_DIR, NGINXCONF_SITE_403, NGINXCONF_SITE_WWW };
	const char *site_val[] = { nc->prefix, NGINXCONF_NODE_403, www };
	const char *loc_key[] = { NGINXCONF_LOC_SOCKET, NGINXCONF_LOC_REQ, NGINXCONF_LOC_CONN };
	const char *loc_val[] = { upstream, req, conn };
	const char *limits_key[] = { NGINXCONF_LIMITS_RATE };
	const char *limits_val[] = { rate };
	const char *conf_key[] = { "@USER_LINE@", "@PREFIX@",   "@LISTEN@", "@ACCESS@",
				   "@SITE@",      "@LOCATION@", "@LIMITS@" };
	const char *conf_val[] = { user_line, nc->prefix, listen_arg, access,
				   site_path, loc_path,   limits_path };
	int rc = FS_EINVAL;

	site = nginxconf_subst(nginx_site_template, site_key, site_val, 3);
	loc = nginxconf_subst(nginx_location_template, loc_key, loc_val, 3);
	limits = nginxconf_subst(nginx_limits_template, limits_key, limits_val, 1);
	conf = nginxconf_subst(nginx_conf_template, conf_key, conf_val, 7);
	if (site == NULL || loc == NULL || limits == NULL || conf == NULL) {
		err_set(errp, FS_EINVAL,
			"the built-in nginx templates lack a placeholder "
			"(nginx/ and launcher/nginxconf.c disagree)");
		goto out;
	}
	if (mkdir(tmpdir, 0755) != 0 && errno != EEXIST) {
		rc = err_set(errp, FS_EIO, "cannot create %s: %s", tmpdir, strerror(errno));
		goto out;
	}
	if ((rc = nginxconf_put(site_path, site, errp)) != 0 ||
	    (rc = nginxconf_put(loc_path, loc, errp)) != 0 ||
	    (rc = nginxconf_put(limits_path, limits, errp)) != 0 ||
	    (rc = nginxconf_put(conf_path, conf, errp)) != 0)
		goto out;
	rc = 0;
out:
	free(www);
	free(site);
	free(loc);
	free(limits);
	free(conf);
	free(rate);
	free(conn);
	free(req);
	free(user_line);
	free(access);
	free(listen_arg);
	free(listen);
	free(upstream);
	free(tmpdir);
	free(conf_path);
	free(limits_path);
	free(loc_path);
	free(site_path);
	return rc;
}
