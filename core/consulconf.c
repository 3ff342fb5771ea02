/* SPDX-License-Identifier: Apache-2.0 */
/* Consul's address, TLS files and ACL token from the options and the environment
 * (consulconf.h). */
#include "consulconf.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "err.h"
#include "xalloc.h"

/* A token is a UUID (36 characters) or a short secret; more than this is not a token file. */
#define CONSULCONF_TOKEN_MAX 4096
#define CONSULCONF_SOCK_MAX  (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

void consulconf_addr_clear(struct consulconf_addr *a)
{
	free(a->host);
	free(a->socket);
	memset(a, 0, sizeof(*a));
}

/* HOST[:PORT] of an http(s) address into *a. */
static int consulconf_hostport(const char *addr, const char *rest, const char *where,
			       struct consulconf_addr *a, char **errp)
{
	const char *colon, *p;
	char *host;
	long port = 0;

	if (rest[0] == '[') {
		colon = strchr(rest, ']');
		if (colon == NULL)
			goto bad;
		colon++;
		host = xstrndup(rest + 1, (size_t)(colon - rest - 2));
		if (strchr(host, ':') == NULL || !config_host_ok(host)) {
			free(host);
			goto bad;
		}
		free(host);
		if (*colon != '\0' && *colon != ':')
			goto bad;
	} else {
		colon = strchr(rest, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL)
			return config_fail(errp,
					   "%s: '%s': an IPv6 address goes in brackets "
					   "([::1]:8500)",
					   where, addr);
		if (colon == NULL)
			colon = rest + strlen(rest);
	}
	host = xstrndup(rest, (size_t)(colon - rest));
	if (host[0] != '[' && !config_host_ok(host)) {
		free(host);
		goto bad;
	}
	if (*colon == ':') {
		for (p = colon + 1; *p >= '0' && *p <= '9' && port <= 65535; p++)
			port = port * 10 + (*p - '0');
		if (p == colon + 1 || (*p != '\0' && (*p < '0' || *p > '9'))) {
			free(host);
			goto bad;
		}
		if (*p != '\0' || port < 1 || port > 65535) {
			free(host);
			return config_fail(errp, "%s: '%s': the port is not a number 1..65535",
					   where, addr);
		}
	}
	a->host = host;
	a->port = port != 0 ? (int)port : a->https ? 443 : 80;
	return 0;
bad:
	return config_fail(errp,
			   "%s: '%s' is not HOST[:PORT], http://HOST[:PORT], https://HOST[:PORT] "
			   "or unix:///PATH",
			   where, addr);
}

int consulconf_addr_parse(const char *addr, int ssl, const char *where, struct consulconf_addr *a,
			  char **errp)
{
	const char *sep = strstr(addr, "://"), *rest = addr;
	int rc;

	memset(a, 0, sizeof(*a));
	a->https = ssl;
	if (sep != NULL) {
		rest = sep + 3;
		if (strncasecmp(addr, "unix://", 7) == 0) {
			if (rest[0] != '/')
				return config_fail(errp,
						   "%s: '%s': the socket is not an absolute path",
						   where, addr);
			if (strlen(rest) > CONSULCONF_SOCK_MAX)
				return config_fail(errp,
						   "%s: '%s': the socket path is too long (maximum "
						   "%zu bytes)",
						   where, addr, CONSULCONF_SOCK_MAX);
			a->socket = xstrdup(rest);
			return 0;
		}
		if (strncasecmp(addr, "https://", 8) == 0)
			a->https = 1;
		else if (strncasecmp(addr, "http://", 7) == 0)
			a->https = 0;
		else
			return config_fail(errp,
					   "%s: '%s' has an unknown scheme (http://, https:// or "
					   "unix://)",
					   where, addr);
	}
	if ((rc = consulconf_hostport(addr, rest, where, a, errp)) != 0)
		consulconf_addr_clear(a);
	return rc;
}

/* Go's strconv.ParseBool, which Consul's tools use for CONSUL_HTTP_SSL and
 * CONSUL_HTTP_SSL_VERIFY: 0 or 1, or -1 when value is none of its spellings. */
static int consulconf_bool(const char *value)
{
	static const char *const yes[] = { "1", "t", "T", "TRUE", "true", "True" };
	static const char *const no[] = { "0", "f", "F", "FALSE", "false", "False" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcmp(value, yes[i]) == 0)
			return 1;
		if (strcmp(value, no[i]) == 0)
			return 0;
	}
	return -1;
}

/* An environment variable, NULL when unset or empty. */
static const char *consulconf_env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

/* A boolean variable: 0 with *out set (def when unset), FS_EINVAL when malformed. */
static int consulconf_env_bool(const char *name, int def, int *out, char **errp)
{
	const char *v = consulconf_env(name);

	*out = def;
	if (v == NULL)
		return 0;
	if ((*out = consulconf_bool(v)) < 0)
		return config_fail(errp, "%s: '%s' is not true or false", name, v);
	return 0;
}

/* *field keeps its option value, or takes env's; returns the name of the source for messages
 * ("--consul-cacert", "CONSUL_CACERT"), or NULL when neither gives one. */
static const char *consulconf_pick(char **field, const char *opt, const char *env)
{
	const char *v;

	if (*field != NULL)
		return opt;
	if ((v = consulconf_env(env)) == NULL)
		return NULL;
	*field = xstrdup(v);
	return env;
}

/* A file libcurl will read: it must exist, be a regular file and readable now. */
static int consulconf_file(const char *path, const char *where, char **errp)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return config_fail(errp, "%s: cannot read '%s': %s", where, path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return config_fail(errp, "%s: '%s' is not a regular file", where, path);
	}
	close(fd);
	return 0;
}

static int consulconf_dir(const char *path, const char *where, char **errp)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return config_fail(errp, "%s: cannot read '%s': %s", where, path, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return config_fail(errp, "%s: '%s' is not a directory", where, path);
	if (access(path, R_OK | X_OK) != 0)
		return config_fail(errp, "%s: cannot read '%s': %s", where, path, strerror(errno));
	return 0;
}

/* A token holding a control character would break the request's header lines. */
static int consulconf_token_ok(const char *t)
{
	for (; *t != '\0'; t++)
		if (iscntrl((unsigned char)*t))
			return 0;
	return 1;
}

/* The token file's content without surrounding blanks (as Consul's tools read it) into *tokenp.
 * Refused: unreadable, empty, larger than a token, or readable by every user (a secret). */
static int consulconf_token_file(const char *path, const char *where, char **tokenp, char **errp)
{
	char buf[CONSULCONF_TOKEN_MAX + 1], *start, *end;
	struct stat st;
	ssize_t n;
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = FS_EINVAL;

	if (fd < 0)
		return config_fail(errp, "%s: cannot read '%s': %s", where, path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		config_fail(errp, "%s: '%s' is not a regular file", where, path);
		goto done;
	}
	if (st.st_mode & S_IROTH) {
		config_fail(errp,
			    "%s: '%s' is readable by every user: a token is a secret (chmod o-r)",
			    where, path);
		goto done;
	}
	while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			config_fail(errp, "%s: cannot read '%s': %s", where, path, strerror(errno));
			goto done;
		}
		len += (size_t)n;
	}
	buf[len] = '\0';
	if (len == sizeof(buf) - 1 || strlen(buf) != len) {
		config_fail(errp, "%s: '%s' does not hold a token (too large, or a NUL byte)",
			    where, path);
		goto done;
	}
	for (start = buf; isspace((unsigned char)*start); start++)
		;
	for (end = buf + len; end > start && isspace((unsigned char)end[-1]); end--)
		;
	*end = '\0';
	if (*start == '\0') {
		config_fail(errp, "%s: '%s' is empty", where, path);
		goto done;
	}
	if (!consulconf_token_ok(start)) {
		config_fail(errp, "%s: '%s' holds a control character inside the token", where,
			    path);
		goto done;
	}
	*tokenp = xstrdup(start);
	rc = 0;
done:
	close(fd);
	return rc;
}

/* The TLS files and name, each from its option or variable, checked. */
static int consulconf_tls(struct config *cfg, char **errp)
{
	const char *w_ca, *w_cap, *w_cert, *w_key, *w_name;

	w_ca = consulconf_pick(&cfg->consul_cacert, "--consul-cacert", "CONSUL_CACERT");
	w_cap = consulconf_pick(&cfg->consul_capath, "--consul-capath", "CONSUL_CAPATH");
	w_cert = consulconf_pick(&cfg->consul_client_cert, "--consul-client-cert",
				 "CONSUL_CLIENT_CERT");
	w_key = consulconf_pick(&cfg->consul_client_key, "--consul-client-key",
				"CONSUL_CLIENT_KEY");
	w_name = consulconf_pick(&cfg->consul_tls_server_name, "--consul-tls-server-name",
				 "CONSUL_TLS_SERVER_NAME");
	if ((w_ca != NULL && consulconf_file(cfg->consul_cacert, w_ca, errp) != 0) ||
	    (w_cap != NULL && consulconf_dir(cfg->consul_capath, w_cap, errp) != 0) ||
	    (w_cert != NULL && consulconf_file(cfg->consul_client_cert, w_cert, errp) != 0) ||
	    (w_key != NULL && consulconf_file(cfg->consul_client_key, w_key, errp) != 0))
		return FS_EINVAL;
	/* libcurl would send no certificate at all: a half-configured client is a mistake */
	if (w_cert != NULL && w_key == NULL)
		return config_fail(errp,
				   "%s: needs a client key too (--consul-client-key or "
				   "CONSUL_CLIENT_KEY)",
				   w_cert);
	if (w_key != NULL && w_cert == NULL)
		return config_fail(errp,
				   "%s: needs a client certificate too "
				   "(--consul-client-cert or CONSUL_CLIENT_CERT)",
				   w_key);
	if (w_name != NULL && !config_host_ok(cfg->consul_tls_server_name))
		return config_fail(errp, "%s: '%s' is not a host name", w_name,
				   cfg->consul_tls_server_name);
	if (cfg->consul_ssl_verify < 0 &&
	    consulconf_env_bool("CONSUL_HTTP_SSL_VERIFY", 1, &cfg->consul_ssl_verify, errp) != 0)
		return FS_EINVAL;
	return 0;
}

/* The token: --consul-token-file, else CONSUL_HTTP_TOKEN_FILE, else CONSUL_HTTP_TOKEN (a file
 * wins over the variable, as in Consul's own client). */
static int consulconf_token(struct config *cfg, char **errp)
{
	const char *where, *t;

	free(cfg->consul_token);
	cfg->consul_token = NULL;
	where = consulconf_pick(&cfg->consul_token_file, "--consul-token-file",
				"CONSUL_HTTP_TOKEN_FILE");
	if (where != NULL)
		return consulconf_token_file(cfg->consul_token_file, where, &cfg->consul_token,
					     errp);
	if ((t = consulconf_env("CONSUL_HTTP_TOKEN")) == NULL)
		return 0;
	if (!consulconf_token_ok(t))
		return config_fail(errp, "CONSUL_HTTP_TOKEN: holds a control character");
	cfg->consul_token = xstrdup(t);
	return 0;
}

/* consul_url, consul_address, consul_socket and consul_connect_to from the parsed address. */
static void consulconf_derive(struct config *cfg, const struct consulconf_addr *a)
{
	const char *scheme = a->https ? "https" : "http";
	const char *name = cfg->consul_tls_server_name;

	/* a configuration parsed again (a test's) derives them anew */
	free(cfg->consul_socket);
	free(cfg->consul_address);
	free(cfg->consul_url);
	free(cfg->consul_connect_to);
	cfg->consul_socket = cfg->consul_address = cfg->consul_url = cfg->consul_connect_to = NULL;
	if (a->socket != NULL) {
		cfg->consul_socket = xstrdup(a->socket);
		cfg->consul_address = xasprintf("unix://%s", a->socket);
		cfg->consul_url = xstrdup("http://localhost");
		return;
	}
	cfg->consul_address = xasprintf("%s://%s:%d", scheme, a->host, a->port);
	/* the certificate is checked against the URL's host: with another server name the URL
	 * names it, and libcurl connects to the address instead */
	if (a->https && name != NULL && strcasecmp(name, a->host) != 0) {
		cfg->consul_url = xasprintf("https://%s:%d", name, a->port);
		cfg->consul_connect_to = xasprintf("%s:%d:%s:%d", name, a->port, a->host, a->port);
	} else {
		cfg->consul_url = xstrdup(cfg->consul_address);
	}
}

int consulconf_resolve(struct config *cfg, const char *ip_port_opt, char **errp)
{
	struct consulconf_addr a;
	const char *env_addr;
	int ssl, rc;

	memset(&a, 0, sizeof(a));
	if (cfg->consul_addr != NULL && ip_port_opt != NULL)
		return config_fail(errp, "--consul-addr: cannot be given with %s (one address)",
				   ip_port_opt);
	if (cfg->no_consul)
		return 0;
	if ((rc = consulconf_env_bool("CONSUL_HTTP_SSL", 0, &ssl, errp)) != 0 ||
	    (rc = consulconf_tls(cfg, errp)) != 0 || (rc = consulconf_token(cfg, errp)) != 0)
		return rc;
	env_addr = consulconf_env("CONSUL_HTTP_ADDR");
	if (cfg->consul_addr != NULL) {
		rc = consulconf_addr_parse(cfg->consul_addr, ssl, "--consul-addr", &a, errp);
	} else if (ip_port_opt == NULL && env_addr != NULL) {
		cfg->consul_addr = xstrdup(env_addr);
		rc = consulconf_addr_parse(env_addr, ssl, "CONSUL_HTTP_ADDR", &a, errp);
	} else {
		a.https = ssl;
		a.host = xasprintf(strchr(cfg->consul_ip, ':') != NULL ? "[%s]" : "%s",
				   cfg->consul_ip);
		a.port = cfg->consul_port;
	}
	if (rc == 0)
		consulconf_derive(cfg, &a);
	consulconf_addr_clear(&a);
	return rc;
}
