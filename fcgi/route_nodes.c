/* SPDX-License-Identifier: Apache-2.0 */
/* GET /nodes: the nodes of the cluster with their queued and running counts, as each last
 * published them in Consul under its live session; without Consul, this node alone. */
#include "app.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "consul.h"
#include "nodeinfo.h"
#include "spool.h"

/* This node, from its spool now. 0, or -1 after a 503. */
static int nodes_self(struct app *app, FCGX_Request *fr, struct http_request *req,
		      struct json_object *arr)
{
	struct spool_counts c;
	struct nodeinfo n;
	char *err = NULL;

	if (spool_count(app->sp, &c, &err) != 0) {
		route_spool_failed(fr, req, err);
		free(err);
		return -1;
	}
	memset(&n, 0, sizeof(n));
	n.name = app->cfg->consul_name;
	n.address = nodeinfo_address(app->cfg->ip, app->cfg->port);
	n.queued = c.queued;
	n.running = c.working;
	n.updated_ms = clock_real_ms();
	json_object_array_add(arr, nodeinfo_to_json(&n));
	free(n.address);
	return 0;
}

/* The live nodes of the namespace: the keys under <ns>/nodes/ that a session holds. 0, or -1
 * after a 503. */
static int nodes_consul(struct app *app, FCGX_Request *fr, struct http_request *req,
			struct json_object *arr)
{
	char *prefix = nodeinfo_prefix(app->cfg->consul_namespace), *err = NULL;
	struct consul_kv *kvs = NULL;
	struct nodeinfo n;
	size_t nkv = 0, i;
	int rc;

	rc = consul_kv_recurse(app->consul, prefix, NODEINFO_MAX, &kvs, &nkv, &err);
	if (rc != 0) {
		route_consul_failed(app, fr, req, rc, err);
		goto done;
	}
	for (i = 0; i < nkv; i++) {
		/* released by a session that ended: not live; a value of another shape: skipped */
		if (kvs[i].session == NULL)
			continue;
		if (nodeinfo_parse(kvs[i].value, kvs[i].value_len, &n, NULL) == 0)
			json_object_array_add(arr, nodeinfo_to_json(&n));
		nodeinfo_free(&n);
	}
done:
	for (i = 0; i < nkv; i++)
		consul_kv_clear(&kvs[i]);
	free(kvs);
	free(prefix);
	free(err);
	return rc != 0 ? -1 : 0;
}

void route_nodes(struct app *app, FCGX_Request *fr, struct http_request *req)
{
	struct json_object *o, *arr = json_object_new_array();

	if ((app->consul != NULL ? nodes_consul(app, fr, req, arr)
				 : nodes_self(app, fr, req, arr)) != 0) {
		json_object_put(arr);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "consul", json_object_new_boolean(app->consul != NULL));
	json_object_object_add(o, "nodes", arr);
	http_respond_json(fr, req, 200, o, NULL);
}
