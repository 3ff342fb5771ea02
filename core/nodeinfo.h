/* SPDX-License-Identifier: Apache-2.0 */
/* What a node publishes about itself in Consul for the cluster's /nodes: the key
 * <namespace>/nodes/<name>, held (locked) by the node's session so that it reads as live only
 * while the session is, and its value, a small JSON object. The worker writes it; the responder
 * reads it back. */
#ifndef FS_NODEINFO_H
#define FS_NODEINFO_H

#include <stddef.h>
#include <stdint.h>

struct json_object;

#define NODEINFO_PUBLISH_MS 5000 /* how often a node writes its counts */
#define NODEINFO_MAX        1000 /* the most nodes /nodes lists */

struct nodeinfo {
	char *name;
	char *address; /* "host:port" where its API listens, NULL when not known */
	int64_t queued;
	int64_t running;
	int64_t updated_ms; /* when it wrote them */
};
void nodeinfo_free(struct nodeinfo *n); /* the strings; NULL allowed */

/* "<ns>/nodes/" and "<ns>/nodes/<name>": new strings. */
char *nodeinfo_prefix(const char *ns);
char *nodeinfo_key(const char *ns, const char *name);

/* The address of a node listening on ip:port, or NULL for a wildcard ip (0.0.0.0, ::): then
 * the node cannot tell which of its addresses others reach. A new string. */
char *nodeinfo_address(const char *ip, int port);

/* The value: {"name":..,"address":..|null,"queued":n,"running":n,"updated":"<ISO 8601>"}, as
 * a new object (what /nodes lists) and as a new string (what Consul holds). */
struct json_object *nodeinfo_to_json(const struct nodeinfo *n);
char *nodeinfo_build(const struct nodeinfo *n);

/* Parses a value (value[0..len)) into *n (zeroed first; nodeinfo_free it in every case). 0 or
 * FS_EINVAL with *errp. */
int nodeinfo_parse(const char *value, size_t len, struct nodeinfo *n, char **errp);

#endif
