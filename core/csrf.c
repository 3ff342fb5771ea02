/* SPDX-License-Identifier: Apache-2.0 */
/* Cross-site POST refusal (csrf.h). */
#include "csrf.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

/* s[0..len) as host and port: "name", "name:port", "[v6]" or "[v6]:port"; the port defaults to
 * dflt. 0, or -1 when it is not of that form. */
static int csrf_hostport(const char *s, size_t len, size_t *hostlen, long *portp, long dflt)
{
	size_t h, i;
	long port = 0;

	if (len > 0 && s[0] == '[') {
		for (h = 1; h < len && s[h] != ']'; h++)
			;
		if (h == len)
			return -1;
		h++;
	} else {
		for (h = 0; h < len && s[h] != ':'; h++)
			;
	}
	if (h == 0)
		return -1;
	*hostlen = h;
	*portp = dflt;
	if (h == len)
		return 0;
	if (s[h] != ':' || len - h < 2 || len - h > 6)
		return -1;
	for (i = h + 1; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		port = port * 10 + (s[i] - '0');
	}
	if (port < 1 || port > 65535)
		return -1;
	*portp = port;
	return 0;
}

/* Whether origin is "<scheme>://<host>" for the request's scheme and Host header. */
static int csrf_own(const char *origin, int https, const char *host)
{
	const char *scheme = https ? "https://" : "http://", *o;
	long dflt = https ? 443 : 80, oport, hport;
	size_t olen, ohost, hhost;

	if (host == NULL || *host == '\0' || strncasecmp(origin, scheme, strlen(scheme)) != 0)
		return 0;
	o = origin + strlen(scheme);
	olen = strlen(o);
	if (csrf_hostport(o, olen, &ohost, &oport, dflt) != 0 ||
	    csrf_hostport(host, strlen(host), &hhost, &hport, dflt) != 0)
		return 0;
	return ohost == hhost && strncasecmp(o, host, ohost) == 0 && oport == hport;
}

int csrf_allowed(const char *origin, const char *fetch_site, int https, const char *host)
{
	if (fetch_site != NULL &&
	    (strcasecmp(fetch_site, "cross-site") == 0 || strcasecmp(fetch_site, "same-site") == 0))
		return 0;
	if (origin == NULL || *origin == '\0')
		return 1;
	return csrf_own(origin, https, host);
}
