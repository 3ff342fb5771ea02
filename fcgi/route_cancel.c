/* SPDX-License-Identifier: Apache-2.0 */
/* POST /cancel {"id": "..."}: a QUEUED job is removed here (DONE/FAILED, reason cancelled); a
 * WORKING job's run belongs to the worker, so the request is recorded in the spool for it
 * (setting "cancel.<id>" = request time in epoch ms) and the worker is woken to act on it. */
#include "app.h"

#include <inttypes.h>
#include <stdlib.h>

#include "clock.h"
#include "err.h"
#include "settings.h"
#include "spool.h"

static void cancel_answer(FCGX_Request *fr, struct http_request *req, int status, const char *msg,
			  const char *id)
{
	struct json_object *o = route_message(msg);

	json_object_object_add(o, "jobId", json_object_new_string(id));
	http_respond_json(fr, req, status, o, NULL);
}

void route_cancel(struct app *app, FCGX_Request *fr, struct http_request *req)
{
	struct json_object *obj = NULL;
	struct spool_job *job = NULL;
	const char *given, *id;
	char *err = NULL, *msg = NULL, *key = NULL, *when = NULL;
	int rc;

	if (route_post_object(app, fr, req, "CancelRequest", &obj) != 0)
		return;
	if (route_string_field(fr, req, obj, "id", &given) != 0)
		goto done;
	req->audit_id = xstrdup(given);
	if ((id = route_parse_id(given)) == NULL) {
		msg = xasprintf("Error: invalid id '%s'", given);
		http_respond_message(fr, req, 400, msg);
		goto done;
	}
	/* QUEUED: the spool removes it atomically; a job the worker claimed meanwhile is ESTATE */
	rc = spool_cancel(app->sp, id, &err);
	if (rc == 0) {
		if (!app->cfg->no_consul)
			workersock_wake(app); /* its Consul entry: the worker delivers the outbox */
		msg = xasprintf("Cancelled QUEUED job jobId:[%s]", id);
		cancel_answer(fr, req, 200, msg, id);
		goto done;
	}
	if (rc == FS_ENOENT) {
		msg = xasprintf("Error: No job entry found for id='%s'", given);
		http_respond_message(fr, req, 404, msg);
		goto done;
	}
	if (rc != FS_ESTATE || (rc = spool_get(app->sp, id, &job, &err)) != 0) {
		route_spool_failed(fr, req, err);
		goto done;
	}
	if (job->state == SPOOL_DONE) {
		msg = xasprintf("Job jobId:[%s] is already DONE (outcome %s): nothing to cancel",
				id, spool_outcome_name(job->outcome));
		cancel_answer(fr, req, 409, msg, id);
		goto done;
	}
	/* WORKING: only the worker can signal the run's process group */
	key = settings_key(SETTINGS_CANCEL_PREFIX, id);
	when = xasprintf("%" PRId64, clock_real_ms());
	if (spool_setting_set(app->sp, key, when, &err) != 0) {
		msg = xasprintf("Error: the cancel request could not be stored: %s", err);
		http_respond_message(fr, req, 503, msg);
		goto done;
	}
	if (workersock_alive(app)) {
		workersock_wake(app);
		msg = xasprintf("Cancel requested for WORKING job jobId:[%s]: the worker will stop "
				"its run",
				id);
	} else {
		msg = xasprintf(
			"Cancel requested for WORKING job jobId:[%s]: recorded, but no worker "
			"is running on this node to act on it",
			id);
	}
	cancel_answer(fr, req, 202, msg, id);
done:
	json_object_put(obj);
	spool_job_free(job);
	free(err);
	free(msg);
	free(key);
	free(when);
}
