/* SPDX-License-Identifier: Apache-2.0 */
/* POST /submit (doc/api.md), its checks in the API's order: body, drain, in-process validation,
 * free space, the job id, the Consul claim seam, then dedupe and capacity atomically inside the group
 * commit. Nothing is stored or left claimed unless every check passes, and the 200 is written
 * only after the job's batch is durable. */
#include "app.h"

#include <stdlib.h>
#include <string.h>

#include "committer.h"
#include "diskfree.h"
#include "err.h"
#include "fault.h"
#include "runuser.h"
#include "spool.h"

#define SUBMIT_DRAIN_MSG     "Server in [drain] state - cannot submit job"
#define SUBMIT_USER_FULL_MSG "Queue is full for this user, cannot add job"
#define SUBMIT_NO_SPACE_MSG  "Insufficient storage, cannot add job: "

static void submit_answer(struct app *app, FCGX_Request *fr, struct http_request *req,
			  enum submit_result result, int status, const char *msg)
{
	atomic_fetch_add(&app->submits[result], 1);
	http_respond_message(fr, req, status, msg);
}

void route_submit(struct app *app, FCGX_Request *fr, struct http_request *req)
{
	struct job_request jr;
	struct spool_submit sub;
	struct claim cl;
	struct jobreq_policy policy;
	struct json_object *o;
	char *err = NULL, *msg = NULL;
	int rc, draining = 0, claimed = 0;

	memset(&cl, 0, sizeof(cl));
	memset(&sub, 0, sizeof(sub));
	cl.submitted_by = req->remote_user;

	if (req->body_too_large) {
		submit_answer(app, fr, req, SUBMIT_TOO_LARGE, 413, HTTP_TOO_LARGE);
		return;
	}
	/* the body's shape: core's messages, word for word */
	if (jobreq_parse(req->body, req->body_len, &jr, &err) != 0) {
		submit_answer(app, fr, req, SUBMIT_INVALID, 400, err);
		free(err);
		return;
	}
	/* drain (checked again atomically by the enqueue) */
	if ((rc = spool_drain_get(app->sp, &draining, &err)) != 0) {
		msg = xasprintf("Error: %s", err);
		submit_answer(app, fr, req, SUBMIT_ERROR, 500, msg);
		goto done;
	}
	if (draining) {
		submit_answer(app, fr, req, SUBMIT_DRAINING, 503, SUBMIT_DRAIN_MSG);
		goto done;
	}
	/* new work stops well before the spool's reserve is needed: that is for accepted work */
	if (diskfree_check(app->disk, &err) != 0) {
		msg = xasprintf(SUBMIT_NO_SPACE_MSG "%s", err);
		submit_answer(app, fr, req, SUBMIT_NO_SPACE, 507, msg);
		goto done;
	}
	/* validation in-process and the job id; the factfile must be readable by the run user */
	policy = app->policy;
	policy.run = runuser_acquire(app->runuser);
	rc = jobreq_validate(&jr, &policy, &err);
	if (policy.run != NULL)
		runuser_release(app->runuser, policy.run);
	if (rc != 0) {
		submit_answer(app, fr, req, SUBMIT_INVALID, 400, err);
		goto done;
	}
	req->audit_id = xstrdup(jr.id);
	/* the Consul claim (doc/consul.md), when enabled: it dedupes across the cluster, and a
	 * Consul that does not answer is a 503 before anything is stored; undone below if the
	 * spool refuses */
	if (app->claim != NULL) {
		rc = app->claim->claim(app->claim->ctx, &jr, &cl, &err);
		if (rc == FS_EEXIST) {
			submit_answer(app, fr, req, SUBMIT_DUPLICATE, 409,
				      "Job is already being processed");
			goto done;
		}
		if (rc != 0) {
			/* the claim's message is whole: "Consul unavailable: ..." (503) or, for a
			 * key holding something that is not a job entry, "Error: ..." (500) */
			atomic_fetch_add(&app->consul_errors, 1);
			submit_answer(app, fr, req, rc == FS_EINVAL ? SUBMIT_ERROR : SUBMIT_CONSUL,
				      rc == FS_EINVAL ? 500 : 503, err);
			goto done;
		}
		claimed = 1;
	}
	/* this node's dedupe, capacity and the durable commit, batched with concurrent
	 * submissions */
	sub.id = jr.id;
	sub.job_name = jr.job_name;
	sub.factfile_path = jr.factfile_path;
	sub.factfile_args = jr.args_json;
	sub.node = app->cfg->consul_name;
	sub.consul_index = cl.index;
	sub.submitted_by = req->remote_user;
	/* the job keeps the bytes validated above: its run reads them, not factfilePath again */
	sub.factfile_sha = jr.factfile_sha;
	sub.factfile = jr.factfile;
	sub.factfile_len = jr.factfile_len;
	sub.max_queued_user = (size_t)app->cfg->max_queued_per_user;
	/* a fault here stands for a spool commit that failed after the claim */
	if (claimed && fault_at("fcgi.after-consul-claim") != 0)
		rc = err_set(&err, FS_EIO, "fault injected after the Consul claim");
	else
		rc = committer_submit(app->committer, &sub, &err);
	if (rc != 0 && claimed)
		app->claim->undo(app->claim->ctx, &jr, &cl);
	/* a fault here stands for an answer that could not be sent: the job stays stored */
	if (rc == 0 && fault_at("fcgi.after-spool-commit") != 0)
		goto done;
	switch (rc) {
	case 0:
		atomic_fetch_add(&app->submits[SUBMIT_ACCEPTED], 1);
		msg = xasprintf("SUBMITTING JOB REQ jobId:[%s]", jr.id);
		o = route_message(msg);
		json_object_object_add(o, "jobId", json_object_new_string(jr.id));
		http_respond_json(fr, req, 200, o, NULL);
		break;
	case FS_EEXIST:
		submit_answer(app, fr, req, SUBMIT_DUPLICATE, 409,
			      "Job is already being processed");
		break;
	case FS_EFULL:
		submit_answer(app, fr, req, SUBMIT_FULL, 429, "Queue is full, cannot add job");
		break;
	case FS_EQUOTA:
		submit_answer(app, fr, req, SUBMIT_FULL, 429, SUBMIT_USER_FULL_MSG);
		break;
	case FS_ESTATE:
		submit_answer(app, fr, req, SUBMIT_DRAINING, 503, SUBMIT_DRAIN_MSG);
		break;
	default:
		msg = xasprintf("Error: the job could not be stored: %s", err);
		submit_answer(app, fr, req, SUBMIT_ERROR, rc == FS_EBUSY ? 503 : 500, msg);
		break;
	}
done:
	claim_clear(&cl);
	jobreq_free(&jr);
	free(err);
	free(msg);
}
