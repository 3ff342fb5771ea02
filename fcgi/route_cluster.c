/* SPDX-License-Identifier: Apache-2.0 */
/* GET /jobs?scope=cluster: the job entries of the whole Consul namespace, every node's, a page
 * at a time. Consul keeps no order but the keys', so pages go in job id order: one listing of
 * the namespace's key names (keys only, cut at the next '/', so a node's entries under nodes/
 * are one name), then one read per entry of the page. */
#include "app.h"

#include <stdlib.h>
#include <string.h>

#include "consul.h"
#include "err.h"
#include "jobentry.h"
#include "jobid.h"

#define CLUSTER_MAX_LIMIT 100

/* The job id of key "<ns>/<id>" (prefix is "<ns>/"), or NULL for any other key. */
static const char *cluster_key_id(const char *key, const char *prefix)
{
	size_t n = strlen(prefix);

	if (strncmp(key, prefix, n) != 0 || !jobid_is_valid(key + n))
		return NULL;
	return key + n;
}

/* The entries of the job keys among keys[0..nkeys) (Consul's order: by id) whose id is after
 * the cursor (NULL: from the first), at most limit, into arr; *nextp the id of the last one when
 * more keys follow (a pointer into keys). Entries gone since the listing are skipped. 0, or an
 * FS_E* code with *errp. */
static int cluster_page(struct app *app, char **keys, size_t nkeys, const char *prefix,
			const char *after, long limit, struct json_object *arr, const char **nextp,
			char **errp)
{
	struct consul_kv kv;
	struct jobentry e;
	const char *id, *last = NULL;
	long taken = 0;
	size_t i;
	int rc;

	*nextp = NULL;
	for (i = 0; i < nkeys; i++) {
		if ((id = cluster_key_id(keys[i], prefix)) == NULL ||
		    (after != NULL && strcmp(id, after) <= 0))
			continue;
		if (taken == limit) {
			*nextp = last;
			return 0;
		}
		rc = consul_kv_get(app->consul, keys[i], &kv, errp);
		if (rc == FS_ENOENT) {
			free(*errp);
			*errp = NULL;
			continue;
		}
		if (rc != 0)
			return rc;
		jobentry_init(&e);
		/* a value that is not a job entry is left out, as /check would refuse it */
		if (jobentry_parse(kv.value, kv.value_len, &e, NULL) == 0) {
			json_object_array_add(arr, jobentry_to_json(&e));
			taken++;
			last = id;
		}
		jobentry_free(&e);
		consul_kv_clear(&kv);
	}
	return 0;
}

void route_jobs_cluster(struct app *app, FCGX_Request *fr, struct http_request *req)
{
	const char *after = http_query_get(req, "before"), *next = NULL;
	char *prefix = NULL, *err = NULL, **keys = NULL, *msg;
	struct json_object *o = NULL, *arr = NULL;
	long limit;
	size_t nkeys = 0, i;
	int rc;

	if (app->consul == NULL) {
		http_respond_message(fr, req, 400, "Error: scope=cluster needs Consul");
		return;
	}
	if ((limit = route_number(fr, req, "limit", CLUSTER_MAX_LIMIT, 1, CLUSTER_MAX_LIMIT)) < 0)
		return;
	if (after != NULL && !jobid_is_valid(after)) {
		msg = xasprintf("Error: invalid before '%s', not a cursor from /jobs?scope=cluster "
				"(its 'next')",
				after);
		http_respond_message(fr, req, 400, msg);
		free(msg);
		return;
	}
	prefix = xasprintf("%s/", app->cfg->consul_namespace);
	if ((rc = consul_kv_keys(app->consul, prefix, "/", &keys, &nkeys, &err)) != 0) {
		route_consul_failed(app, fr, req, rc, err);
		goto done;
	}
	arr = json_object_new_array();
	if ((rc = cluster_page(app, keys, nkeys, prefix, after, limit, arr, &next, &err)) != 0) {
		route_consul_failed(app, fr, req, rc, err);
		goto done;
	}
	o = json_object_new_object();
	json_object_object_add(o, "jobs", arr);
	arr = NULL;
	json_object_object_add(o, "limit", json_object_new_int64(limit));
	if (after != NULL)
		json_object_object_add(o, "before", json_object_new_string(after));
	if (next != NULL)
		json_object_object_add(o, "next", json_object_new_string(next));
	http_respond_json(fr, req, 200, o, NULL);
done:
	json_object_put(arr);
	for (i = 0; i < nkeys; i++)
		free(keys[i]);
	free(keys);
	free(prefix);
	free(err);
}
