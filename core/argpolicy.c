/* SPDX-License-Identifier: Apache-2.0 */
/* The server's policy on factfileArgs (see argpolicy.h). Client webhook hosts are read with
 * libcurl's own URL parser, loaded through curlload: the bundled runner posts with libcurl, so
 * the host and port checked are the ones it connects to. */
#include "argpolicy.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "curlload.h"
#include "err.h"
#include "xalloc.h"

/* Longest host in an allow-list entry (a DNS name is at most 253 bytes; brackets included). */
#define HOST_MAX 256

void argpolicy_init(struct argpolicy *p, const struct config *cfg)
{
	memset(p, 0, sizeof(*p));
	p->webhooks = strcmp(cfg->client_webhooks, "any") == 0     ? ARGPOLICY_WEBHOOKS_ANY
		      : strcmp(cfg->client_webhooks, "hosts") == 0 ? ARGPOLICY_WEBHOOKS_HOSTS
								   : ARGPOLICY_WEBHOOKS_DENY;
	p->hosts = cfg->client_webhook_hosts;
	p->server_webhook = cfg->webhook != NULL;
	p->bundled_runner = cfg->bundled_runner;
	p->max_stdouterr_size = cfg->max_stdouterr_size;
}

int argpolicy_prepare(const struct argpolicy *p, char **errp)
{
	char *why = NULL;

	if (p->webhooks != ARGPOLICY_WEBHOOKS_HOSTS || curlload(&why) != NULL)
		return 0;
	err_set(errp, FS_EIO, "--client-webhooks hosts: %s", why);
	free(why);
	return FS_EIO;
}

static int argpolicy_name_char(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '.';
}

/* Parses one entry s[0..len) (blanks trimmed by the caller) into host (lower case, brackets
 * kept for IPv6) and *port (0 when not given). Returns 0 or -1. */
static int argpolicy_entry(const char *s, size_t len, char host[HOST_MAX], long *port)
{
	size_t hlen, i;
	const char *colon;

	*port = 0;
	if (len > 0 && s[0] == '[') {
		const char *close = memchr(s, ']', len);
		if (close == NULL)
			return -1;
		hlen = (size_t)(close - s) + 1;
		for (i = 1; i + 1 < hlen; i++)
			if (!isxdigit((unsigned char)s[i]) && s[i] != ':' && s[i] != '.')
				return -1;
		if (hlen < 3)
			return -1;
	} else {
		colon = memchr(s, ':', len);
		hlen = colon != NULL ? (size_t)(colon - s) : len;
		i = hlen >= 2 && s[0] == '*' && s[1] == '.' ? 2 : 0;
		if (hlen == i)
			return -1;
		for (; i < hlen; i++)
			if (!argpolicy_name_char((unsigned char)s[i]) ||
			    (s[i] == '.' && (i + 1 == hlen || s[i + 1] == '.')))
				return -1;
	}
	if (hlen >= HOST_MAX)
		return -1;
	for (i = 0; i < hlen; i++)
		host[i] = (char)tolower((unsigned char)s[i]);
	host[hlen] = '\0';
	if (hlen < len) {
		if (s[hlen] != ':' || hlen + 1 == len || len - hlen - 1 > 5)
			return -1;
		for (i = hlen + 1; i < len; i++) {
			if (!isdigit((unsigned char)s[i]))
				return -1;
			*port = *port * 10 + (s[i] - '0');
		}
		if (*port < 1 || *port > 65535)
			return -1;
	}
	return 0;
}

/* Calls fn for each entry of list with its bounds (blanks trimmed); stops at the first non-zero
 * result and returns it. */
static int argpolicy_each(const char *list, int (*fn)(const char *s, size_t len, void *ctx),
			  void *ctx)
{
	const char *p = list, *end;
	int rc;

	for (;;) {
		size_t len;
		end = strchr(p, ',');
		len = end != NULL ? (size_t)(end - p) : strlen(p);
		while (len > 0 && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if ((rc = fn(p, len, ctx)) != 0)
			return rc;
		if (end == NULL)
			return 0;
		p = end + 1;
	}
}

static int argpolicy_syntax_one(const char *s, size_t len, void *ctx)
{
	char host[HOST_MAX];
	long port;
	char **errp = ctx;

	if (argpolicy_entry(s, len, host, &port) != 0)
		return err_set(errp, FS_EINVAL,
			       "'%.*s' is not HOST or HOST:PORT (a DNS name, *.DOMAIN, an IPv4 "
			       "address or [IPv6], PORT 1..65535)",
			       (int)len, s);
	return 0;
}

int argpolicy_hosts_check(const char *list, char **errp)
{
	return argpolicy_each(list, argpolicy_syntax_one, errp);
}

/* What a URL is checked for: its host (lower case, no trailing dot) and port. */
struct argpolicy_target {
	const char *host;
	long port, default_port;
	int host_seen; /* some entry named the host, whatever its port */
};

static int argpolicy_match_one(const char *s, size_t len, void *ctx)
{
	struct argpolicy_target *t = ctx;
	char host[HOST_MAX];
	long port;
	size_t hl, tl = strlen(t->host);
	int match;

	if (argpolicy_entry(s, len, host, &port) != 0)
		return 0; /* the list was checked at start; nothing else can match */
	hl = strlen(host);
	if (host[0] == '*')
		match = tl > hl - 1 && strcmp(t->host + tl - (hl - 1), host + 1) == 0;
	else
		match = strcmp(t->host, host) == 0;
	if (!match)
		return 0;
	t->host_seen = 1;
	return t->port == (port != 0 ? port : t->default_port);
}

/* The --client-webhooks hosts check of one URL. */
static int argpolicy_check_url(const struct argpolicy *p, const char *url, char **errp)
{
	const struct curlfns *lc;
	struct argpolicy_target t;
	CURLU *u = NULL;
	char *scheme = NULL, *host = NULL, *port = NULL, *user = NULL, *pass = NULL, *why = NULL;
	int rc = FS_EINVAL;

	memset(&t, 0, sizeof(t));
	for (const unsigned char *c = (const unsigned char *)url; *c != '\0'; c++)
		if (*c <= 0x20 || *c == 0x7f || *c == '\\')
			return err_set(
				errp, FS_EINVAL,
				"--webhook URL '%s' holds a backslash, a space or a control character",
				url);
	if ((lc = curlload(&why)) == NULL) {
		err_set(errp, FS_EIO, "--webhook: cannot check the host: %s", why);
		free(why);
		return FS_EINVAL;
	}
	if ((u = lc->url()) == NULL || lc->url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    lc->url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    lc->url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    lc->url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
		err_set(errp, FS_EINVAL, "--webhook URL '%s' is not one libcurl accepts", url);
		goto done;
	}
	if (lc->url_get(u, CURLUPART_USER, &user, 0) != CURLUE_NO_USER ||
	    lc->url_get(u, CURLUPART_PASSWORD, &pass, 0) != CURLUE_NO_PASSWORD) {
		err_set(errp, FS_EINVAL, "--webhook URL '%s' carries user information", url);
		goto done;
	}
	for (char *c = host; *c != '\0'; c++)
		*c = (char)tolower((unsigned char)*c);
	if (host[0] != '\0' && host[strlen(host) - 1] == '.')
		host[strlen(host) - 1] = '\0'; /* "a.example." is "a.example" */
	t.host = host;
	t.port = strtol(port, NULL, 10);
	t.default_port = strcasecmp(scheme, "https") == 0 ? 443 : 80;
	if (p->hosts != NULL && argpolicy_each(p->hosts, argpolicy_match_one, &t) != 0)
		rc = 0;
	else if (t.host_seen)
		err_set(errp, FS_EINVAL,
			"--webhook port %ld of host '%s' is not in --client-webhook-hosts", t.port,
			host);
	else
		err_set(errp, FS_EINVAL, "--webhook host '%s' is not in --client-webhook-hosts",
			host);
done:
	if (lc != NULL) {
		lc->free(scheme);
		lc->free(host);
		lc->free(port);
		lc->free(user);
		lc->free(pass);
		lc->url_cleanup(u);
	}
	return rc;
}

int argpolicy_check(const struct argpolicy *p, const struct factargs *fa, char **errp)
{
	if (fa->n_webhooks > 0) {
		if (p->webhooks == ARGPOLICY_WEBHOOKS_DENY)
			return err_set(errp, FS_EINVAL,
				       "--webhook is not allowed in factfileArgs on this server "
				       "(--client-webhooks deny)");
		/* Factotum takes one webhook: the client's would replace the server's. */
		if (p->server_webhook && !p->bundled_runner)
			return err_set(errp, FS_EINVAL,
				       "--webhook is not allowed in factfileArgs: this server's "
				       "runner takes one webhook, the server's own (--webhook)");
		if (p->webhooks == ARGPOLICY_WEBHOOKS_HOSTS)
			for (size_t i = 0; i < fa->n_webhooks; i++)
				if (argpolicy_check_url(p, fa->webhooks[i], errp) != 0)
					return FS_EINVAL;
	}
	/* Each heartbeat sends every running task's output tail to every webhook. */
	if (fa->heartbeat_interval >= 0 && fa->heartbeat_interval < ARGPOLICY_MIN_HEARTBEAT)
		return err_set(errp, FS_EINVAL, "--heartbeat-interval must be at least %d seconds",
			       ARGPOLICY_MIN_HEARTBEAT);
	/* The runner keeps up to 4 bytes per character of each tail, per task and per event. */
	if (fa->max_stdouterr_size > p->max_stdouterr_size)
		return err_set(errp, FS_EINVAL,
			       "--max-stdouterr-size is above this server's limit (%ld)",
			       p->max_stdouterr_size);
	return 0;
}
