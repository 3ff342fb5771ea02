/* SPDX-License-Identifier: Apache-2.0 */
/* GET /runs: a job's run history, its transitions on this node's spool, oldest first. */
#include "app.h"

#include <stdlib.h>

#include "clock.h"
#include "spool.h"
#include "spoolruns.h"

/* One transition as /runs shows it; a new object. */
static struct json_object *runs_entry(const struct spool_transition *t)
{
	struct json_object *o = json_object_new_object();
	char at[CLOCK_UTC_LEN];

	clock_format_utc(t->at_ms, CLOCK_UTC_ISO_MS, at);
	json_object_object_add(o, "at", json_object_new_string(at));
	json_object_object_add(o, "state", json_object_new_string(spool_state_name(t->state)));
	json_object_object_add(o, "outcome",
			       json_object_new_string(spool_outcome_name(t->outcome)));
	json_object_object_add(o, "exitCode",
			       t->exit_code >= 0 ? json_object_new_int64(t->exit_code) : NULL);
	json_object_object_add(o, "exitSignal",
			       t->exit_signal > 0 ? json_object_new_int64(t->exit_signal) : NULL);
	json_object_object_add(o, "reason",
			       t->reason != NULL ? json_object_new_string(t->reason) : NULL);
	json_object_object_add(o, "node", json_object_new_string(t->node != NULL ? t->node : ""));
	return o;
}

void route_runs(struct app *app, FCGX_Request *fr, struct http_request *req)
{
	const char *given, *id = route_id_param(fr, req, &given);
	struct spool_transition *trs = NULL;
	struct spool_job *job;
	struct json_object *o, *arr;
	char *err = NULL;
	size_t n = 0, i;

	if (id == NULL || (job = route_job_get(app, fr, req, id, given)) == NULL)
		return;
	spool_job_free(job);
	if (spoolruns_list(app->sp, id, SPOOLRUNS_MAX, &trs, &n, &err) != 0) {
		route_spool_failed(fr, req, err);
		free(err);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "jobId", json_object_new_string(id));
	arr = json_object_new_array();
	for (i = 0; i < n; i++)
		json_object_array_add(arr, runs_entry(&trs[i]));
	json_object_object_add(o, "transitions", arr);
	spool_transition_list_free(trs, n);
	http_respond_json(fr, req, 200, o, NULL);
}
