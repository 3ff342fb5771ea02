/* SPDX-License-Identifier: Apache-2.0 */
/* Readiness checks for the launcher (contract in probe.h). */
#include "probe.h"

#include <curl/curl.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "err.h"
#include "xalloc.h"

static struct addrinfo *probe_resolve(const char *host, int port, int passive, char **errp)
{
	struct addrinfo hints, *res = NULL;
	char portstr[16];
	int e;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = passive ? AI_PASSIVE | AI_NUMERICHOST : 0;
	snprintf(portstr, sizeof(portstr), "%d", port);
	if ((e = getaddrinfo(host, portstr, &hints, &res)) != 0) {
		err_set(errp, FS_EINVAL, "%s: %s", host, gai_strerror(e));
		return NULL;
	}
	return res;
}

int probe_port_free(const char *ip, int port, char **errp)
{
	struct addrinfo *res = probe_resolve(ip, port, 1, errp);
	int fd = -1, one = 1, rc = FS_EIO;

	if (res == NULL)
		return FS_EINVAL;
	fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
	if (fd < 0) {
		err_set(errp, FS_EIO, "cannot open a socket for %s: %s", ip, strerror(errno));
		goto out;
	}
	/* as nginx does: a port held only by TIME_WAIT connections is free */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (res->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, res->ai_addr, res->ai_addrlen) != 0) {
		if (errno == EADDRINUSE)
			err_set(errp, FS_EBUSY, "port %d on %s is already in use", port, ip);
		else
			err_set(errp, FS_EIO, "cannot listen on %s port %d: %s", ip, port,
				strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	freeaddrinfo(res);
	return rc;
}

int probe_unix(const char *path, int dgram)
{
	struct sockaddr_un sa;
	int fd, ok;

	if (strlen(path) >= sizeof(sa.sun_path))
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, (dgram ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

int probe_tcp(const char *host, int port)
{
	struct addrinfo *res = probe_resolve(host, port, 0, NULL), *ai;
	int fd, ok = 0;

	for (ai = res; ai != NULL && !ok; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		ok = connect(fd, ai->ai_addr, ai->ai_addrlen) == 0;
		close(fd);
	}
	if (res != NULL)
		freeaddrinfo(res);
	return ok;
}

static size_t probe_collect(char *data, size_t size, size_t nmemb, void *arg)
{
	buf_append(arg, data, size * nmemb);
	return size * nmemb;
}

int probe_http_get(const char *url, int timeout_ms, char **bodyp, char **errp)
{
	CURL *c = curl_easy_init();
	struct buf body;
	long code = 0;
	CURLcode e;

	buf_init(&body);
	if (c == NULL) {
		err_set(errp, FS_EIO, "cannot initialise libcurl");
		goto out;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	/* the node's own nginx over loopback: its certificate names the host clients use, not the
	 * loopback address, and the probe sends nothing secret */
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, probe_collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
	e = curl_easy_perform(c);
	if (e != CURLE_OK) {
		err_set(errp, FS_EIO, "%s", curl_easy_strerror(e));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (bodyp != NULL)
		*bodyp = buf_steal(&body);
out:
	buf_free(&body);
	if (c != NULL)
		curl_easy_cleanup(c);
	return (int)code;
}
