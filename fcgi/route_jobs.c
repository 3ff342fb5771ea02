/* SPDX-License-Identifier: Apache-2.0 */
/* GET /check, /jobs and /logs: reading jobs back out of this node's spool (and, for /check with
 * Consul enabled, the cluster's entry). */
#include "app.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "consul.h"
#include "err.h"
#include "jobentry.h"
#include "spool.h"
#include "spoollist.h"

#define JOBS_DEFAULT_LIMIT 100
#define JOBS_MAX_LIMIT     1000
/* Deeper pages by offset cost a walk over every job skipped: past this, use the cursor. */
#define JOBS_MAX_OFFSET    10000
#define LOGS_MAX           (1024 * 1024) /* the most of a log one answer carries */

/* A spool job's entry for /check and /jobs: the Consul job entry's shape (jobentry.h); a new
 * object. */
static struct json_object *jobs_entry(const struct spool_job *job)
{
	struct jobentry e;
	struct json_object *o;

	jobentry_from_job(&e, job);
	o = jobentry_to_json(&e);
	jobentry_free(&e);
	return o;
}

/* /check with Consul: the cluster's entry, so that a job submitted to another node is found;
 * when its last run is this node's, the spool's record (at least as new as what Consul holds:
 * Consul mirrors it through the outbox) adds the local run details. Consul failing is a 503,
 * never a false 404. Returns 1 when it answered, 0 when Consul has no such key (the caller
 * then looks in the spool: a job from before Consul was enabled). */
static int check_consul(struct app *app, FCGX_Request *fr, struct http_request *req, const char *id)
{
	struct consul_kv kv;
	struct jobentry e;
	struct spool_job *job = NULL;
	char *key = jobentry_key(app->cfg->consul_namespace, id), *err = NULL, *msg = NULL;
	int rc, answered = 1;

	jobentry_init(&e);
	rc = consul_kv_get(app->consul, key, &kv, &err);
	if (rc == FS_ENOENT) {
		answered = 0;
		goto done;
	}
	if (rc != 0) {
		route_consul_failed(app, fr, req, rc, err);
		goto done;
	}
	rc = jobentry_parse(kv.value, kv.value_len, &e, &err);
	consul_kv_clear(&kv);
	if (rc != 0) {
		msg = xasprintf("Error: Consul key '%s' holds a value that is not a job entry (%s)",
				key, err);
		http_respond_message(fr, req, 500, msg);
		goto done;
	}
	if (e.node != NULL && strcmp(e.node, app->cfg->consul_name) == 0 &&
	    spool_get(app->sp, id, &job, NULL) == 0) {
		http_respond_json(fr, req, 200, jobs_entry(job), NULL);
		goto done;
	}
	http_respond_json(fr, req, 200, jobentry_to_json(&e), NULL);
done:
	spool_job_free(job);
	jobentry_free(&e);
	free(key);
	free(err);
	free(msg);
	return answered;
}

void route_check(struct app *app, FCGX_Request *fr, struct http_request *req)
{
	const char *given, *id = route_id_param(fr, req, &given);
	struct spool_job *job;

	if (id == NULL || (app->consul != NULL && check_consul(app, fr, req, id)))
		return;
	if ((job = route_job_get(app, fr, req, id, given)) == NULL)
		return;
	http_respond_json(fr, req, 200, jobs_entry(job), NULL);
	spool_job_free(job);
}

/* Answers 400 with "Error: invalid <name> '<v>', <why>"; returns -1. */
static int jobs_invalid(FCGX_Request *fr, struct http_request *req, const char *name, const char *v,
			const char *why)
{
	char *msg = xasprintf("Error: invalid %s '%s', %s", name, v, why);

	http_respond_message(fr, req, 400, msg);
	free(msg);
	return -1;
}

/* The filters and the cursor of a /jobs request into *q (its strings valid while req lives);
 * -1 after a 400. */
static int jobs_query(FCGX_Request *fr, struct http_request *req, struct spoollist_query *q)
{
	const char *st = http_query_get(req, "state"), *oc = http_query_get(req, "outcome");
	const char *pre = http_query_get(req, "idPrefix"), *off = http_query_get(req, "offset");
	size_t i, n;

	memset(q, 0, sizeof(*q));
	q->state = SPOOL_STATE_ANY;
	q->outcome = -1;
	if (st != NULL && *st != '\0' && (q->state = spool_state_parse(st)) < 0)
		return jobs_invalid(fr, req, "state", st, "must be one of (QUEUED|WORKING|DONE)");
	for (i = 0; oc != NULL && *oc != '\0' && q->outcome < 0 && i < 4; i++)
		if (strcasecmp(oc, spool_outcome_name((enum spool_outcome)i)) == 0)
			q->outcome = (int)i;
	if (oc != NULL && *oc != '\0' && q->outcome < 0)
		return jobs_invalid(fr, req, "outcome", oc,
				    "must be one of (WAITING|RUNNING|SUCCEEDED|FAILED)");
	if ((q->name = http_query_get(req, "name")) != NULL && *q->name == '\0')
		q->name = NULL;
	if (pre != NULL && *pre != '\0') {
		n = strlen(pre);
		if (n > 64 || strspn(pre, "0123456789abcdef") != n)
			return jobs_invalid(fr, req, "idPrefix", pre,
					    "must be 1 to 64 lowercase hex digits");
		q->id_prefix = pre;
	}
	q->after = http_query_get(req, "before");
	if (off != NULL && *off != '\0' && strspn(off, "0123456789") == strlen(off) &&
	    (strlen(off) > 5 || atol(off) > JOBS_MAX_OFFSET))
		return jobs_invalid(fr, req, "offset", off,
				    "must be a number from 0 to 10000: deeper pages are read with "
				    "'before', the 'next' of the page before");
	if (q->after != NULL && off != NULL) {
		http_respond_message(fr, req, 400,
				     "Error: 'before' and 'offset' cannot be used together");
		return -1;
	}
	return 0;
}

void route_jobs(struct app *app, FCGX_Request *fr, struct http_request *req)
{
	struct spoollist_query q;
	struct spool_job *jobs = NULL;
	struct json_object *o, *arr;
	char *err = NULL, next[SPOOLLIST_CURSOR_LEN];
	size_t n = 0, i;
	long limit, offset;
	int rc;

	const char *scope = http_query_get(req, "scope");

	if (scope != NULL && strcmp(scope, "cluster") == 0) {
		route_jobs_cluster(app, fr, req);
		return;
	}
	if (scope != NULL && *scope != '\0' && strcmp(scope, "node") != 0) {
		jobs_invalid(fr, req, "scope", scope, "must be one of (node|cluster)");
		return;
	}
	if (jobs_query(fr, req, &q) != 0 ||
	    (limit = route_number(fr, req, "limit", JOBS_DEFAULT_LIMIT, 1, JOBS_MAX_LIMIT)) < 0 ||
	    (offset = route_number(fr, req, "offset", 0, 0, JOBS_MAX_OFFSET)) < 0)
		return;
	q.offset = (size_t)offset;
	q.limit = (size_t)limit + 1; /* one more says whether a next page exists */
	rc = spoollist_page(app->sp, &q, &jobs, &n, &err);
	if (rc == FS_EINVAL) {
		jobs_invalid(fr, req, "before", q.after, "not a cursor from /jobs (its 'next')");
		free(err);
		return;
	}
	if (rc != 0) {
		route_spool_failed(fr, req, err);
		free(err);
		return;
	}
	o = json_object_new_object();
	arr = json_object_new_array();
	for (i = 0; i < n && i < (size_t)limit; i++)
		json_object_array_add(arr, jobs_entry(&jobs[i]));
	json_object_object_add(o, "jobs", arr);
	json_object_object_add(o, "limit", json_object_new_int64(limit));
	if (q.after != NULL)
		json_object_object_add(o, "before", json_object_new_string(q.after));
	else
		json_object_object_add(o, "offset", json_object_new_int64(offset));
	if (n > (size_t)limit) {
		spoollist_cursor(&jobs[limit - 1], next);
		json_object_object_add(o, "next", json_object_new_string(next));
	}
	spool_job_list_free(jobs, n);
	http_respond_json(fr, req, 200, o, NULL);
}

void route_logs(struct app *app, FCGX_Request *fr, struct http_request *req)
{
	const char *given, *id = route_id_param(fr, req, &given);
	struct spool_job *job = NULL;
	struct json_object *o;
	struct stat st;
	char *path = NULL, *msg = NULL, *data = NULL;
	long tail;
	off_t from = 0;
	ssize_t got = 0;
	int fd = -1;

	if (id == NULL || (tail = route_number(fr, req, "tail", LOGS_MAX, 1, LOGS_MAX)) < 0 ||
	    (job = route_job_get(app, fr, req, id, given)) == NULL)
		return;
	/* the worker keeps the last run's captured output here */
	path = xasprintf("%s/logs/%s.log", app->cfg->spool, id);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		msg = xasprintf("Error: No logs found for id='%s' (no run of it on this node has "
				"captured any output)",
				given);
		http_respond_message(fr, req, 404, msg);
		goto done;
	}
	if (st.st_size > tail)
		from = st.st_size - tail;
	data = xmalloc((size_t)(st.st_size - from) + 1);
	got = pread(fd, data, (size_t)(st.st_size - from), from);
	if (got < 0)
		got = 0;
	o = json_object_new_object();
	json_object_object_add(o, "jobId", json_object_new_string(id));
	json_object_object_add(o, "size", json_object_new_int64((int64_t)st.st_size));
	json_object_object_add(o, "truncated", json_object_new_boolean(from > 0));
	/* a binary log still makes a JSON string: the writer puts U+FFFD for what is not UTF-8 */
	json_object_object_add(o, "log", json_object_new_string_len(data, (int)got));
	http_respond_json(fr, req, 200, o, NULL);
done:
	if (fd >= 0)
		close(fd);
	spool_job_free(job);
	free(path);
	free(msg);
	free(data);
}
