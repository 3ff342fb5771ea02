/* SPDX-License-Identifier: Apache-2.0 */
/* A node's published counts (nodeinfo.h). */
#define _GNU_SOURCE
#include "nodeinfo.h"

#include <arpa/inet.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "err.h"
#include "jobreq.h"
#include "xalloc.h"

void nodeinfo_free(struct nodeinfo *n)
{
	if (n == NULL)
		return;
	free(n->name);
	free(n->address);
	memset(n, 0, sizeof(*n));
}

char *nodeinfo_prefix(const char *ns)
{
	return xasprintf("%s/nodes/", ns);
}

char *nodeinfo_key(const char *ns, const char *name)
{
	return xasprintf("%s/nodes/%s", ns, name);
}

char *nodeinfo_address(const char *ip, int port)
{
	struct in6_addr v6;
	struct in_addr v4;

	if (inet_pton(AF_INET, ip, &v4) == 1 && v4.s_addr == htonl(INADDR_ANY))
		return NULL;
	if (inet_pton(AF_INET6, ip, &v6) == 1)
		return IN6_IS_ADDR_UNSPECIFIED(&v6) ? NULL : xasprintf("[%s]:%d", ip, port);
	return xasprintf("%s:%d", ip, port);
}

struct json_object *nodeinfo_to_json(const struct nodeinfo *n)
{
	struct json_object *o = json_object_new_object();
	char when[CLOCK_UTC_LEN];

	clock_format_utc(n->updated_ms, CLOCK_UTC_ISO_MS, when);
	json_object_object_add(o, "name", json_object_new_string(n->name));
	json_object_object_add(o, "address",
			       n->address != NULL ? json_object_new_string(n->address) : NULL);
	json_object_object_add(o, "queued", json_object_new_int64(n->queued));
	json_object_object_add(o, "running", json_object_new_int64(n->running));
	json_object_object_add(o, "updated", json_object_new_string(when));
	return o;
}

char *nodeinfo_build(const struct nodeinfo *n)
{
	struct json_object *o = nodeinfo_to_json(n);
	char *s =
		xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								  JSON_C_TO_STRING_NOSLASHESCAPE));

	json_object_put(o);
	return s;
}

/* The ISO 8601 UTC time with milliseconds of nodeinfo_build back into ms; -1 when it is not. */
static int64_t nodeinfo_time(const char *s)
{
	struct tm tm;
	char *end;
	long ms;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (end == NULL || *end != '.' || strlen(end) != 5 || end[4] != 'Z')
		return -1;
	ms = strtol(end + 1, NULL, 10);
	return (int64_t)timegm(&tm) * 1000 + ms;
}

int nodeinfo_parse(const char *value, size_t len, struct nodeinfo *n, char **errp)
{
	struct json_object *o = NULL, *name, *addr, *q, *r, *u;
	char *detail = NULL;
	int rc = FS_EINVAL;

	memset(n, 0, sizeof(*n));
	if (jobreq_json_parse(value != NULL ? value : "", len, &o, &detail) != 0) {
		err_set(errp, FS_EINVAL, "not JSON: %s", detail);
		goto done;
	}
	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "name", &name) ||
	    !json_object_is_type(name, json_type_string) ||
	    !json_object_object_get_ex(o, "address", &addr) ||
	    !(addr == NULL || json_object_is_type(addr, json_type_string)) ||
	    !json_object_object_get_ex(o, "queued", &q) || !json_object_is_type(q, json_type_int) ||
	    !json_object_object_get_ex(o, "running", &r) ||
	    !json_object_is_type(r, json_type_int) ||
	    !json_object_object_get_ex(o, "updated", &u) ||
	    !json_object_is_type(u, json_type_string) ||
	    (n->updated_ms = nodeinfo_time(json_object_get_string(u))) < 0) {
		err_set(errp, FS_EINVAL,
			"not a node's counts (name, address, queued, running, "
			"updated)");
		goto done;
	}
	n->name = xstrdup(json_object_get_string(name));
	n->address = addr != NULL ? xstrdup(json_object_get_string(addr)) : NULL;
	n->queued = json_object_get_int64(q);
	n->running = json_object_get_int64(r);
	rc = 0;
done:
	json_object_put(o);
	free(detail);
	return rc;
}
