/* SPDX-License-Identifier: Apache-2.0 */
/* GET /factfile: the factfile a job was validated against, as the spool keeps it. */
#include "app.h"

#include <stdlib.h>

#include "err.h"
#include "spool.h"

/* 404 for a job whose factfile the spool does not keep (queued before factfiles were kept). */
static void factfile_none(FCGX_Request *fr, struct http_request *req, const char *given)
{
	char *msg = xasprintf("Error: No factfile kept for id='%s'", given);

	http_respond_message(fr, req, 404, msg);
	free(msg);
}

void route_factfile(struct app *app, FCGX_Request *fr, struct http_request *req)
{
	const char *given, *id = route_id_param(fr, req, &given);
	struct spool_job *job;
	struct json_object *o, *ff;
	char *body = NULL, *err = NULL, *msg;
	size_t len = 0;
	int rc;

	if (id == NULL || (job = route_job_get(app, fr, req, id, given)) == NULL)
		return;
	rc = job->factfile_sha != NULL
		     ? spool_factfile_get(app->sp, job->factfile_sha, &body, &len, &err)
		     : FS_ENOENT;
	if (rc == FS_ENOENT) {
		factfile_none(fr, req, given);
		goto done;
	}
	if (rc != 0) {
		route_spool_failed(fr, req, err);
		goto done;
	}
	/* the bytes the job was validated against, so JSON: stored by /submit after its checks */
	if ((ff = json_tokener_parse(body)) == NULL) {
		msg = xasprintf("Error: the factfile kept for id='%s' is not JSON", given);
		http_respond_message(fr, req, 500, msg);
		free(msg);
		goto done;
	}
	o = json_object_new_object();
	json_object_object_add(o, "jobId", json_object_new_string(id));
	json_object_object_add(o, "factfilePath", json_object_new_string(job->factfile_path));
	json_object_object_add(o, "sha256", json_object_new_string(job->factfile_sha));
	json_object_object_add(o, "factfile", ff);
	http_respond_json(fr, req, 200, o, NULL);
done:
	spool_job_free(job);
	free(body);
	free(err);
}
