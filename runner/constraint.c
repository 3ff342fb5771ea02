/* SPDX-License-Identifier: Apache-2.0 */
/* Factotum's is_valid_host (src/main.rs), in its order: "*", the host name (gethostname), then
 * the machine's non-loopback IPv4 interface addresses (getifaddrs), then the value's addresses
 * (getaddrinfo, as Rust's lookup_host) compared with them. The reasons are Factotum's texts. */
#include "constraint.h"

#include <ifaddrs.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "xalloc.h"

/* Non-loopback (not 127/8) IPv4 addresses of the interfaces; returns how many (into *out). */
static size_t constraint_local_addrs(struct in_addr **out)
{
	struct ifaddrs *ifs = NULL;
	size_t n = 0;

	*out = NULL;
	if (getifaddrs(&ifs) != 0)
		return 0;
	for (struct ifaddrs *i = ifs; i != NULL; i = i->ifa_next) {
		const struct sockaddr_in *sin =
			(const struct sockaddr_in *)(const void *)i->ifa_addr;
		if (sin == NULL || sin->sin_family != AF_INET)
			continue;
		if ((ntohl(sin->sin_addr.s_addr) >> 24) == 127)
			continue;
		*out = xgrow_by_one(*out, n, sizeof **out);
		(*out)[n++] = sin->sin_addr;
	}
	freeifaddrs(ifs);
	return n;
}

int constraint_host_check(const char *host, const char **reason)
{
	char name[HOST_NAME_MAX + 2];
	struct in_addr *local = NULL;
	struct addrinfo hints, *res = NULL;
	size_t n_local;
	int rc = 1;

	*reason = NULL;
	if (strcmp(host, "*") == 0)
		return 0;
	if (gethostname(name, sizeof name - 1) != 0) {
		*reason =
			"could not get hostname from system; cannot compare against supplied hostname";
		return 1;
	}
	name[sizeof name - 1] = '\0';
	if (strcmp(host, name) == 0)
		return 0;
	if ((n_local = constraint_local_addrs(&local)) == 0) {
		*reason =
			"could not find any non-loopback IPv4 addresses in the network interfaces; do "
			"you have a working network interface card?";
		return 1;
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, NULL, &hints, &res) != 0 || res == NULL) {
		*reason = "could not find any IPv4 addresses for the supplied hostname";
		goto done;
	}
	for (struct addrinfo *a = res; a != NULL && rc != 0; a = a->ai_next) {
		const struct sockaddr_in *sin =
			(const struct sockaddr_in *)(const void *)a->ai_addr;
		if (a->ai_family != AF_INET)
			continue;
		for (size_t i = 0; i < n_local; i++)
			if (local[i].s_addr == sin->sin_addr.s_addr)
				rc = 0;
	}
	if (rc != 0)
		*reason =
			"failed to match any of the interface addresses to the found host addresses";
done:
	if (res != NULL)
		freeaddrinfo(res);
	free(local);
	return rc;
}
