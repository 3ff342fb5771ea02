/* SPDX-License-Identifier: Apache-2.0 */
/* GET /status and GET / or /help: the original's two informational answers, in its shapes and
 * formats, with our additions under new keys only. */
#include "app.h"

#include <stdio.h>
#include <stdlib.h>

#include "clock.h"
#include "consul.h"
#include "settings.h"
#include "spool.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.0.0"
#endif

/* What the live worker published in the spool (worker/main.c): its pid, start time and whether
 * its runner is there. Each is left out while absent (a worker clears pid and start time when it
 * stops). */
static void status_worker(struct app *app, struct json_object *worker)
{
	char *pid = NULL, *started = NULL, *runner = NULL, when[CLOCK_UTC_LEN];

	if (spool_setting_get(app->sp, SETTINGS_WORKER_PID, &pid, NULL) == 0)
		json_object_object_add(worker, "pid",
				       json_object_new_int64(strtoll(pid, NULL, 10)));
	if (spool_setting_get(app->sp, SETTINGS_WORKER_STARTED, &started, NULL) == 0) {
		clock_format_utc(strtoll(started, NULL, 10), CLOCK_UTC_SECONDS, when);
		json_object_object_add(worker, "startTime", json_object_new_string(when));
	}
	if (spool_setting_get(app->sp, SETTINGS_WORKER_RUNNER, &runner, NULL) == 0)
		json_object_object_add(worker, "runner", json_object_new_string(runner));
	free(pid);
	free(started);
	free(runner);
}

void route_status(struct app *app, FCGX_Request *fr, struct http_request *req)
{
	struct spool_counts counts;
	struct json_object *o, *server, *disp, *workers, *jobs, *worker, *spool, *consul;
	char start[CLOCK_UTC_LEN], up[128], *err = NULL;
	int64_t up_s = (clock_real_ms() - app->start_ms) / 1000, active;
	int draining = 0, alive, rc, session = 0;
	char *cerr = NULL;

	if (spool_count(app->sp, &counts, &err) != 0 ||
	    spool_drain_get(app->sp, &draining, &err) != 0) {
		route_spool_failed(fr, req, err);
		free(err);
		return;
	}
	alive = workersock_alive(app);
	/* runners actually running: the spool's WORKING jobs, and none while no worker runs them */
	active = alive ? counts.working : 0;
	if (active > app->cfg->max_workers)
		active = app->cfg->max_workers;
	clock_format_utc(app->start_ms, CLOCK_UTC_SECONDS, start);
	if (up_s < 0)
		up_s = 0;
	/* the original's format: always plural, no padding */
	snprintf(up, sizeof(up), "%lld Days, %lld Hours, %lld Minutes, %lld Seconds",
		 (long long)(up_s / 86400), (long long)(up_s / 3600 % 24),
		 (long long)(up_s / 60 % 60), (long long)(up_s % 60));

	o = json_object_new_object();
	json_object_object_add(o, "version", json_object_new_string(PACKAGE_VERSION));
	server = json_object_new_object();
	json_object_object_add(server, "startTime", json_object_new_string(start));
	json_object_object_add(server, "upTime", json_object_new_string(up));
	json_object_object_add(server, "state", json_object_new_string(draining ? "drain" : "run"));
	json_object_object_add(o, "server", server);
	disp = json_object_new_object();
	workers = json_object_new_object();
	json_object_object_add(workers, "total", json_object_new_int64(app->cfg->max_workers));
	json_object_object_add(workers, "idle",
			       json_object_new_int64(app->cfg->max_workers - active));
	json_object_object_add(workers, "active", json_object_new_int64(active));
	json_object_object_add(disp, "workers", workers);
	jobs = json_object_new_object();
	json_object_object_add(jobs, "maxQueueSize", json_object_new_int64(app->cfg->max_jobs));
	json_object_object_add(jobs, "inQueue", json_object_new_int64(counts.queued));
	json_object_object_add(disp, "jobs", jobs);
	json_object_object_add(o, "dispatcher", disp);
	/* ours, under new keys */
	worker = json_object_new_object();
	json_object_object_add(worker, "alive", json_object_new_boolean(alive));
	json_object_object_add(worker, "socket", json_object_new_string(app->worker_sock));
	if (alive)
		status_worker(app, worker);
	json_object_object_add(o, "worker", worker);
	spool = json_object_new_object();
	json_object_object_add(spool, "queued", json_object_new_int64(counts.queued));
	json_object_object_add(spool, "working", json_object_new_int64(counts.working));
	json_object_object_add(spool, "done", json_object_new_int64(counts.done));
	json_object_object_add(o, "spool", spool);
	consul = json_object_new_object();
	json_object_object_add(consul, "enabled", json_object_new_boolean(app->claim != NULL));
	if (app->consul != NULL) {
		/* reachable: Consul answers with a leader; session: this node holds a live one
		 * (the worker's), without which /submit answers 503 */
		rc = claim_probe(app, &session, NULL, &cerr);
		json_object_object_add(consul, "address",
				       json_object_new_string(consul_address(app->consul)));
		json_object_object_add(consul, "reachable", json_object_new_boolean(rc == 0));
		json_object_object_add(consul, "session", json_object_new_boolean(session));
		if (rc != 0)
			json_object_object_add(consul, "error", json_object_new_string(cerr));
		free(cerr);
	}
	json_object_object_add(o, "consul", consul);
	http_respond_json(fr, req, 200, o, NULL);
}

/* One help entry; body may be NULL (GET endpoints). */
static void help_add(struct json_object *help, const char *path, struct json_object *body,
		     const char *function, const char *params)
{
	struct json_object *e = json_object_new_object();

	/* keys sorted, as the original's serde_json map printed them */
	if (body != NULL)
		json_object_object_add(e, "body", body);
	json_object_object_add(e, "function", json_object_new_string(function));
	json_object_object_add(e, "params", json_object_new_string(params));
	json_object_object_add(help, path, e);
}

static struct json_object *help_body1(const char *k, const char *v)
{
	struct json_object *b = json_object_new_object();

	json_object_object_add(b, k, json_object_new_string(v));
	return b;
}

static struct json_object *help_schedule_body(void)
{
	/* keys sorted, as every help entry */
	static const char *const fields[][2] = {
		{ "catchUp", "none|last|[1..100]" },
		{ "cron", "[5 or 6 fields, or @hourly|@daily|@weekly|@monthly|@yearly]" },
		{ "factfileArgs", "[array of strings]" },
		{ "factfilePath", "[string]" },
		{ "jobName", "[string]" },
		{ "name", "[A-Za-z0-9._-]{1,64}" },
		{ "overlap", "allow|skip" },
		{ "timezone", "[IANA name, default UTC]" },
	};
	struct json_object *b = json_object_new_object();

	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
		json_object_object_add(b, fields[i][0], json_object_new_string(fields[i][1]));
	return b;
}

void route_help(struct app *app, FCGX_Request *fr, struct http_request *req)
{
	struct json_object *help = json_object_new_object(), *submit;

	(void)app;
	/* paths in byte order, as the original's sorted map; its five entries word for word */
	help_add(help, "/", NULL, "Returns this message!", "pretty=1");
	help_add(help, "/cancel", help_body1("id", "[id string]"),
		 "Cancels a job: a QUEUED job is removed, a WORKING job is stopped by the worker.",
		 "pretty=1");
	help_add(help, "/check", NULL, "Fetches the state of a job by the ID.",
		 "pretty=1, id=[id string]");
	help_add(help, "/factfile", NULL,
		 "Returns the factfile the job was validated against, as this node keeps it.",
		 "pretty=1, id=[id string]");
	help_add(help, "/health", NULL,
		 "Returns 200 when the spool is writable with free space above --min-free-space, "
		 "the worker is alive and Consul (if enabled) answers; 503 naming the failing part "
		 "otherwise.",
		 "pretty=1");
	help_add(help, "/help", NULL, "Returns this message!", "pretty=1");
	help_add(help, "/jobs", NULL, "Lists this node's jobs, newest first.",
		 "pretty=1, state=[QUEUED|WORKING|DONE], "
		 "outcome=[WAITING|RUNNING|SUCCEEDED|FAILED], name=[jobName], idPrefix=[hex], "
		 "limit=[n], offset=[n], before=[cursor], scope=[node|cluster]");
	help_add(help, "/logs", NULL,
		 "Returns the captured output of the job's last run on this "
		 "node.",
		 "pretty=1, id=[id string], tail=[bytes]");
	help_add(help, "/metrics", NULL,
		 "Returns the server's metrics in the Prometheus text "
		 "format.",
		 "");
	help_add(help, "/nodes", NULL,
		 "Lists the cluster's live nodes with their queued and running jobs (without "
		 "Consul, this node).",
		 "pretty=1");
	help_add(help, "/runs", NULL,
		 "Returns the job's transitions on this node, oldest first (the last 1000).",
		 "pretty=1, id=[id string]");
	help_add(help, "/schedules", NULL,
		 "Lists the schedules with their next slots and last fired slot; with name, one "
		 "schedule with its slot history, newest first.",
		 "pretty=1, name=[schedule name]");
	help_add(help, "/schedules/delete", help_body1("name", "[schedule name]"),
		 "Deletes a schedule and its slot history (its jobs stay).", "pretty=1");
	help_add(help, "/schedules/pause", help_body1("name", "[schedule name]"),
		 "Pauses a schedule: no slot fires until it is resumed.", "pretty=1");
	help_add(help, "/schedules/resume", help_body1("name", "[schedule name]"),
		 "Resumes a paused schedule from its next slot.", "pretty=1");
	help_add(help, "/schedules/run", help_body1("name", "[schedule name]"),
		 "Fires one slot of the schedule now (the current second).", "pretty=1");
	help_add(help, "/schedules/set", help_schedule_body(),
		 "Creates or replaces a schedule: each slot of its cron expression becomes a job, "
		 "validated as /submit validates it.",
		 "pretty=1");
	help_add(help, "/settings", help_body1("state", "run|drain"),
		 "Updates settings within the server.", "pretty=1");
	help_add(help, "/stats", NULL,
		 "Returns this node's succeeded and failed jobs per minute (the last 60) or per "
		 "hour (the last 48).",
		 "pretty=1, bucket=[minute|hour]");
	help_add(help, "/status", NULL,
		 "Returns general information about the server and host system.", "pretty=1");
	submit = json_object_new_object();
	json_object_object_add(submit, "factfileArgs",
			       json_object_new_string("[ --start step-2 ]"));
	json_object_object_add(submit, "factfilePath",
			       json_object_new_string("/com.acme-main/factfile"));
	json_object_object_add(submit, "jobName", json_object_new_string("com.acme-main"));
	help_add(help, "/submit", submit, "Submits a job to the queue.", "pretty=1");
	http_respond_json(fr, req, 200, help, NULL);
}
