/* SPDX-License-Identifier: Apache-2.0 */
/* GET /health (for load balancers and systemd watchdogs) and GET /metrics (Prometheus text).
 * Counters are this responder process's own since it started (several processes behind one
 * nginx each count their share); gauges come from the spool, the node's one truth. */
#include "app.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "consul.h"
#include "diskfree.h"
#include "settings.h"
#include "spool.h"
#include "spoolsched.h"

void route_health(struct app *app, FCGX_Request *fr, struct http_request *req)
{
	struct json_object *o;
	struct buf failing;
	char *err = NULL, *runner = NULL, now[32];
	int spool_ok, worker_ok, runner_missing = 0, consul_ok = 1, session = 1;
	char *cerr = NULL, *derr = NULL, *denied = NULL;
	int disk_ok;

	/* writable means a real durable write: a read would pass on a full or read-only disk */
	snprintf(now, sizeof(now), "%" PRId64, clock_real_ms() / 1000);
	spool_ok = spool_setting_set(app->sp, SETTINGS_RESPONDER_HEALTH, now, &err) == 0;
	disk_ok = diskfree_check(app->disk, &derr) == 0;
	worker_ok = workersock_alive(app);
	/* a worker whose runner is gone fails every job it takes (worker/dispatch.c says so) */
	if (worker_ok && spool_setting_get(app->sp, SETTINGS_WORKER_RUNNER, &runner, NULL) == 0 &&
	    strcmp(runner, "missing") == 0)
		runner_missing = 1;
	buf_init(&failing);
	if (!spool_ok)
		buf_printf(&failing, "spool not writable: %s", err);
	if (!disk_ok)
		buf_printf(&failing, "%slow on space: %s", failing.len > 0 ? "; " : "", derr);
	if (!worker_ok)
		buf_printf(&failing, "%sworker not running", failing.len > 0 ? "; " : "");
	if (runner_missing)
		buf_printf(&failing, "%sfactotum runner missing", failing.len > 0 ? "; " : "");
	/* Consul must answer, and this node must hold a session, or /submit cannot accept */
	if (app->consul != NULL) {
		consul_ok = claim_probe(app, &session, &denied, &cerr) == 0;
		if (!consul_ok)
			buf_printf(&failing, "%s%s", failing.len > 0 ? "; " : "", cerr);
		else if (!session && denied != NULL)
			buf_printf(&failing, "%s%s", failing.len > 0 ? "; " : "", denied);
		else if (!session)
			buf_printf(&failing, "%sthis node holds no Consul session",
				   failing.len > 0 ? "; " : "");
	}
	o = route_message(failing.len > 0 ? failing.data : "ok");
	json_object_object_add(o, "spool",
			       json_object_new_string(!spool_ok  ? "not writable"
						      : !disk_ok ? "low on space"
								 : "ok"));
	json_object_object_add(o, "worker",
			       json_object_new_string(!worker_ok       ? "not running"
						      : runner_missing ? "runner missing"
								       : "ok"));
	json_object_object_add(o, "consul",
			       json_object_new_string(app->consul == NULL          ? "disabled"
						      : !consul_ok                 ? "unreachable"
						      : !session && denied != NULL ? "acl denied"
						      : !session                   ? "no session"
										   : "ok"));
	http_respond_json(fr, req, failing.len > 0 ? 503 : 200, o, NULL);
	buf_free(&failing);
	free(err);
	free(cerr);
	free(derr);
	free(denied);
	free(runner);
}

static const char *const metrics_results[SUBMIT_N] = {
	[SUBMIT_ACCEPTED] = "accepted",         [SUBMIT_INVALID] = "invalid",
	[SUBMIT_TOO_LARGE] = "too_large",       [SUBMIT_DRAINING] = "draining",
	[SUBMIT_DUPLICATE] = "duplicate",       [SUBMIT_FULL] = "queue_full",
	[SUBMIT_CONSUL] = "consul_unavailable", [SUBMIT_ERROR] = "error",
	[SUBMIT_NO_SPACE] = "no_space",
};

static void metrics_head(struct buf *b, const char *name, const char *type, const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void route_metrics(struct app *app, FCGX_Request *fr, struct http_request *req)
{
	struct spool_counts c;
	int64_t slots[SPOOLSCHED_NRESULTS];
	struct buf b;
	char *err = NULL;
	size_t i;
	int draining = 0, alive;

	/* counters kept in the spool: one small read whatever the number of jobs */
	if (spool_count(app->sp, &c, &err) != 0 || spool_drain_get(app->sp, &draining, &err) != 0 ||
	    spoolsched_counts(app->sp, slots, &err) != 0) {
		route_spool_failed(fr, req, err);
		free(err);
		return;
	}
	alive = workersock_alive(app);

	buf_init(&b);
	metrics_head(&b, "factotum_server_submissions_total", "counter",
		     "/submit answers of this responder process, by result.");
	for (i = 0; i < SUBMIT_N; i++)
		buf_printf(&b, "factotum_server_submissions_total{result=\"%s\"} %lu\n",
			   metrics_results[i], atomic_load(&app->submits[i]));
	metrics_head(&b, "factotum_server_requests_total", "counter",
		     "HTTP requests answered by this responder process.");
	buf_printf(&b, "factotum_server_requests_total %lu\n", atomic_load(&app->requests));
	metrics_head(&b, "factotum_server_consul_errors_total", "counter",
		     "Failed Consul calls of this responder process.");
	buf_printf(&b, "factotum_server_consul_errors_total %lu\n",
		   atomic_load(&app->consul_errors));
	metrics_head(&b, "factotum_server_queue_depth", "gauge", "QUEUED jobs of this node.");
	buf_printf(&b, "factotum_server_queue_depth %" PRId64 "\n", c.queued);
	metrics_head(&b, "factotum_server_queue_capacity", "gauge", "--max-jobs of this node.");
	buf_printf(&b, "factotum_server_queue_capacity %d\n", app->cfg->max_jobs);
	metrics_head(&b, "factotum_server_jobs", "gauge", "Jobs in this node's spool, by state.");
	buf_printf(&b,
		   "factotum_server_jobs{state=\"QUEUED\"} %" PRId64 "\n"
		   "factotum_server_jobs{state=\"WORKING\"} %" PRId64 "\n"
		   "factotum_server_jobs{state=\"DONE\"} %" PRId64 "\n",
		   c.queued, c.working, c.done);
	metrics_head(&b, "factotum_server_runners_running", "gauge",
		     "Runners running on this node (0 while no worker runs).");
	buf_printf(&b, "factotum_server_runners_running %" PRId64 "\n", alive ? c.working : 0);
	metrics_head(&b, "factotum_server_runners_max", "gauge", "--max-workers of this node.");
	buf_printf(&b, "factotum_server_runners_max %d\n", app->cfg->max_workers);
	metrics_head(&b, "factotum_server_worker_up", "gauge", "1 when the worker daemon runs.");
	buf_printf(&b, "factotum_server_worker_up %d\n", alive);
	metrics_head(&b, "factotum_server_draining", "gauge", "1 when the node is in drain state.");
	buf_printf(&b, "factotum_server_draining %d\n", draining);
	metrics_head(&b, "factotum_server_outcomes_total", "counter",
		     "Jobs of this node that reached DONE, by outcome (kept in the spool).");
	buf_printf(&b,
		   "factotum_server_outcomes_total{outcome=\"SUCCEEDED\"} %" PRId64 "\n"
		   "factotum_server_outcomes_total{outcome=\"FAILED\"} %" PRId64 "\n",
		   c.succeeded, c.failed);
	metrics_head(&b, "factotum_server_run_duration_seconds", "histogram",
		     "Duration of the runs of this node's jobs that reached DONE (kept in the "
		     "spool).");
	for (i = 0; i < c.nbuckets; i++)
		buf_printf(&b,
			   "factotum_server_run_duration_seconds_bucket{le=\"%g\"} %" PRId64 "\n",
			   (double)c.bucket[i].le_ms / 1000.0, c.bucket[i].n);
	buf_printf(&b,
		   "factotum_server_run_duration_seconds_bucket{le=\"+Inf\"} %" PRId64 "\n"
		   "factotum_server_run_duration_seconds_sum %.3f\n"
		   "factotum_server_run_duration_seconds_count %" PRId64 "\n",
		   c.runs, (double)c.run_ms / 1000.0, c.runs);
	metrics_head(&b, "factotum_server_schedule_slots_total", "counter",
		     "Slots of this node's schedules, by result (kept in the spool).");
	for (i = 0; i < SPOOLSCHED_NRESULTS; i++)
		buf_printf(&b, "factotum_server_schedule_slots_total{result=\"%s\"} %" PRId64 "\n",
			   spoolsched_result_name((enum spoolsched_result)i), slots[i]);
	http_respond(fr, 200, "text/plain; version=0.0.4; charset=utf-8", NULL, b.data, b.len);
	buf_free(&b);
}
