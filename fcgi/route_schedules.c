/* SPDX-License-Identifier: Apache-2.0 */
/* The schedules API (doc/api.md): GET /schedules, POST /schedules/set, /pause, /resume, /delete
 * and /run. Definitions live in the spool (core/spoolsched.h), or with Consul in Consul
 * (core/consulsched.h) where every node sees them; the worker fires their slots, and is woken
 * after every change so that it takes effect at once. /run fires here, through the same code as
 * the worker (core/schedjob.h, or core/schedconsul.h with Consul). */
#include "app.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "consul.h"
#include "consulsched.h"
#include "cron.h"
#include "err.h"
#include "jobentry.h"
#include "runuser.h"
#include "schedconsul.h"
#include "schedjob.h"
#include "spool.h"
#include "spoolsched.h"
#include "tzinfo.h"

#define SCHED_NEXT_SLOTS 3 /* the next slots GET /schedules shows */
#define SCHED_RUN_TRIES  5 /* /run's compare-and-set lost to the worker's this many times */

static void sched_bad(FCGX_Request *fr, struct http_request *req, char *msg)
{
	http_respond_message(fr, req, 400, msg);
	free(msg);
}

static void sched_not_found(FCGX_Request *fr, struct http_request *req, const char *name)
{
	char *msg = xasprintf("Error: no schedule '%s'", name);

	http_respond_message(fr, req, 404, msg);
	free(msg);
}

static int sched_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n < 1 || n > 64)
		return 0;
	return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") ==
	       n;
}

/* The body's "name" field, checked; NULL after answering. */
static const char *sched_name_field(FCGX_Request *fr, struct http_request *req,
				    struct json_object *obj)
{
	const char *name;

	if (route_string_field(fr, req, obj, "name", &name) != 0)
		return NULL;
	if (!sched_name_valid(name)) {
		sched_bad(fr, req,
			  xasprintf("Error: invalid schedule name '%s', must match "
				    "^[A-Za-z0-9._-]{1,64}$",
				    name));
		return NULL;
	}
	return name;
}

/* An optional string field: 0 with *valuep (dflt when absent), or 1 after answering. */
static int sched_opt_string(FCGX_Request *fr, struct http_request *req, struct json_object *obj,
			    const char *field, const char *dflt, const char **valuep)
{
	if (!json_object_object_get_ex(obj, field, NULL)) {
		*valuep = dflt;
		return 0;
	}
	return route_string_field(fr, req, obj, field, valuep);
}

/* catchUp: "none", "last" or a number 1..SPOOLSCHED_CATCHUP_MAX (absent: "last"); -2 after
 * answering. */
static int sched_catch_up(FCGX_Request *fr, struct http_request *req, struct json_object *obj)
{
	struct json_object *v;
	const char *s;
	int64_t n;

	if (!json_object_object_get_ex(obj, "catchUp", &v))
		return SPOOLSCHED_CATCHUP_LAST;
	if (json_object_is_type(v, json_type_string)) {
		s = json_object_get_string(v);
		if (strcmp(s, "none") == 0)
			return SPOOLSCHED_CATCHUP_NONE;
		if (strcmp(s, "last") == 0)
			return SPOOLSCHED_CATCHUP_LAST;
	} else if (json_object_is_type(v, json_type_int)) {
		n = json_object_get_int64(v);
		if (n >= 1 && n <= SPOOLSCHED_CATCHUP_MAX)
			return (int)n;
	}
	sched_bad(fr, req,
		  xasprintf("Error: invalid catchUp %s, must be \"none\", \"last\" or a number "
			    "from 1 to %d",
			    json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN),
			    SPOOLSCHED_CATCHUP_MAX));
	return -2;
}

/* The cron expression and time zone: 0, or 1 after answering 400 with their messages. */
static int sched_check_timing(FCGX_Request *fr, struct http_request *req, const char *expr,
			      const char *zone)
{
	struct cron *c = NULL;
	struct tzinfo *tz = NULL;
	char *err = NULL;

	if (cron_parse(expr, &c, &err) != 0 || tzinfo_load(zone, &tz, &err) != 0) {
		sched_bad(fr, req, xasprintf("Error: %s", err));
		free(err);
		cron_free(c);
		return 1;
	}
	cron_free(c);
	tzinfo_free(tz);
	return 0;
}

/* Answers a failed schedule call: 404 for an unknown schedule, 503 for the spool (its messages
 * start "spool: "); with Consul, 500 for a value that is not a schedule (written by something
 * else: it is never trusted, nor overwritten), else 503 as /submit answers Consul's failures. */
static void sched_failed(struct app *app, FCGX_Request *fr, struct http_request *req, int rc,
			 const char *name, const char *err)
{
	char *msg, *key;

	if (err == NULL)
		err = "unknown failure";
	if (rc == FS_ENOENT) {
		sched_not_found(fr, req, name);
	} else if (app->consul == NULL || strncmp(err, "spool: ", 7) == 0) {
		route_spool_failed(fr, req, err);
	} else if (rc == FS_EINVAL && strncmp(err, "schedule value", 14) == 0) {
		key = consulsched_key(app->cfg->consul_namespace, name);
		msg = xasprintf("Error: Consul key '%s' holds a value that is not a schedule (%s)",
				key, err);
		http_respond_message(fr, req, 500, msg);
		free(msg);
		free(key);
	} else {
		route_consul_failed(app, fr, req, rc, err);
	}
}

/* The job the schedule's slots run, validated as /submit validates it now: 0 with *jr filled
 * (jobreq_free), or 1 after answering 400. */
static int sched_check_job(struct app *app, FCGX_Request *fr, struct http_request *req,
			   struct job_request *jr)
{
	struct jobreq_policy policy = app->policy;
	char *err = NULL;
	int rc;

	if (jobreq_parse(req->body, req->body_len, jr, &err) != 0) {
		http_respond_message(fr, req, 400, err);
		free(err);
		return 1;
	}
	policy.run = runuser_acquire(app->runuser);
	rc = jobreq_validate(jr, &policy, &err);
	if (policy.run != NULL)
		runuser_release(app->runuser, policy.run);
	if (rc != 0) {
		http_respond_message(fr, req, 400, err);
		free(err);
		return 1;
	}
	return 0;
}

void route_schedules_set(struct app *app, FCGX_Request *fr, struct http_request *req)
{
	struct json_object *obj = NULL;
	struct spoolsched s;
	struct job_request jr;
	const char *name, *expr, *zone, *overlap;
	char *err = NULL, *msg;
	int catch_up, rc;

	memset(&jr, 0, sizeof jr);
	if (route_post_object(app, fr, req, "Schedule", &obj) != 0)
		return;
	if ((name = sched_name_field(fr, req, obj)) == NULL ||
	    route_string_field(fr, req, obj, "cron", &expr) != 0 ||
	    sched_opt_string(fr, req, obj, "timezone", "UTC", &zone) != 0 ||
	    sched_opt_string(fr, req, obj, "overlap", "allow", &overlap) != 0)
		goto done;
	if (strcmp(overlap, "allow") != 0 && strcmp(overlap, "skip") != 0) {
		sched_bad(fr, req,
			  xasprintf("Error: invalid overlap '%s', must be \"allow\" or \"skip\"",
				    overlap));
		goto done;
	}
	if ((catch_up = sched_catch_up(fr, req, obj)) == -2 ||
	    sched_check_timing(fr, req, expr, zone) != 0 || sched_check_job(app, fr, req, &jr) != 0)
		goto done;
	memset(&s, 0, sizeof s);
	s.name = (char *)name;
	s.cron = (char *)expr;
	s.timezone = (char *)zone;
	s.job_name = jr.job_name;
	s.factfile_path = jr.factfile_path;
	s.factfile_args = jr.args_json;
	s.overlap_skip = strcmp(overlap, "skip") == 0;
	s.catch_up = catch_up;
	if (app->consul != NULL)
		rc = consulsched_set(app->consul, app->cfg->consul_namespace, &s,
				     clock_real_ms() / 1000, (size_t)app->cfg->max_schedules, &err);
	else
		rc = spoolsched_set_max(app->sp, &s, clock_real_ms() / 1000,
					(size_t)app->cfg->max_schedules, &err);
	if (rc == FS_EFULL) {
		msg = xasprintf("Error: at most %d schedules, cannot add schedule '%s'",
				app->cfg->max_schedules, name);
		http_respond_message(fr, req, 429, msg);
		free(msg);
		goto done;
	}
	if (rc != 0) {
		sched_failed(app, fr, req, rc, name, err);
		goto done;
	}
	workersock_wake(app);
	msg = xasprintf("Schedule '%s' set", name);
	http_respond_message(fr, req, 200, msg);
	free(msg);
done:
	free(err);
	jobreq_free(&jr);
	json_object_put(obj);
}

/* The body's schedule name for pause, resume, delete and run; NULL after answering. obj is the
 * caller's to put. */
static const char *sched_body_name(struct app *app, FCGX_Request *fr, struct http_request *req,
				   struct json_object **objp)
{
	if (route_post_object(app, fr, req, "ScheduleName", objp) != 0)
		return NULL;
	return sched_name_field(fr, req, *objp);
}

/* What POST pause, resume and delete do to the named schedule. */
enum sched_change { SCHED_PAUSE, SCHED_RESUME, SCHED_DELETE };

static void sched_change(struct app *app, FCGX_Request *fr, struct http_request *req,
			 enum sched_change change)
{
	static const char *const done_words[] = { "paused", "resumed", "deleted" };
	struct json_object *obj = NULL;
	const char *name;
	char *err = NULL, *msg;
	int rc;

	if ((name = sched_body_name(app, fr, req, &obj)) == NULL)
		goto done;
	if (app->consul != NULL && change == SCHED_DELETE)
		rc = consulsched_delete(app->consul, app->cfg->consul_namespace, name, &err);
	else if (app->consul != NULL)
		rc = consulsched_pause(app->consul, app->cfg->consul_namespace, name,
				       change == SCHED_PAUSE, clock_real_ms() / 1000, &err);
	else if (change == SCHED_DELETE)
		rc = spoolsched_delete(app->sp, name, &err);
	else
		rc = spoolsched_pause(app->sp, name, change == SCHED_PAUSE, clock_real_ms() / 1000,
				      &err);
	if (rc != 0) {
		sched_failed(app, fr, req, rc, name, err);
		goto done;
	}
	workersock_wake(app);
	msg = xasprintf("Schedule '%s' %s", name, done_words[change]);
	http_respond_message(fr, req, 200, msg);
	free(msg);
done:
	free(err);
	json_object_put(obj);
}

void route_schedules_pause(struct app *app, FCGX_Request *fr, struct http_request *req)
{
	sched_change(app, fr, req, SCHED_PAUSE);
}

void route_schedules_resume(struct app *app, FCGX_Request *fr, struct http_request *req)
{
	sched_change(app, fr, req, SCHED_RESUME);
}

void route_schedules_delete(struct app *app, FCGX_Request *fr, struct http_request *req)
{
	sched_change(app, fr, req, SCHED_DELETE);
}

static struct json_object *sched_slot_json(int64_t slot)
{
	char text[SCHEDJOB_SLOT_LEN + 1];

	if (slot <= 0)
		return NULL;
	schedjob_slot_text(slot, text);
	return json_object_new_string(text);
}

/* /run's slot in the spool; the fence is the last slot read here: the worker may account for a
 * due slot meanwhile. */
static int sched_run_spool(struct app *app, const char *name, const struct schedjob_env *env,
			   int64_t slot, enum spoolsched_result *resultp, char **jobp, char **errp)
{
	struct spoolsched *s = NULL;
	int rc = FS_ESTATE;

	for (int i = 0; i < SCHED_RUN_TRIES && rc == FS_ESTATE; i++) {
		spoolsched_free(s);
		s = NULL;
		free(*errp);
		*errp = NULL;
		if ((rc = spoolsched_get(app->sp, name, &s, errp)) == 0)
			rc = schedjob_fire(app->sp, s, slot, 0, env, resultp, jobp, errp);
	}
	spoolsched_free(s);
	return rc;
}

/* /run's slot with Consul: claimed in this responder's claim journal, as /submit's claims. */
static int sched_run_consul(struct app *app, const char *name, const struct schedjob_env *env,
			    int64_t slot, enum spoolsched_result *resultp, char **jobp, char **errp)
{
	struct schedconsul_env sc = { .job = env,
				      .consul = app->consul,
				      .ns = app->cfg->consul_namespace,
				      .session = claim_session(app),
				      .journal = app->claims,
				      .pid = (long long)getpid(),
				      .start = app->pid_start,
				      .sp = app->sp };
	struct consulsched s;
	int rc = FS_ESTATE;

	memset(&s, 0, sizeof s);
	for (int i = 0; i < SCHED_RUN_TRIES && rc == FS_ESTATE; i++) {
		consulsched_clear(&s);
		free(*errp);
		*errp = NULL;
		if ((rc = consulsched_get(app->consul, sc.ns, name, &s, errp)) == 0)
			rc = schedconsul_fire(&sc, &s, slot, 0, resultp, jobp, errp);
	}
	consulsched_clear(&s);
	free((char *)sc.session);
	return rc;
}

void route_schedules_run(struct app *app, FCGX_Request *fr, struct http_request *req)
{
	struct schedjob_env env = { .policy = &app->policy,
				    .node = app->cfg->consul_name,
				    .max_queued = (size_t)app->cfg->max_jobs,
				    .max_queued_user = (size_t)app->cfg->max_queued_per_user };
	struct jobreq_policy policy = app->policy;
	struct json_object *obj = NULL, *o;
	struct spoolsched_slot *h = NULL;
	enum spoolsched_result result = SPOOLSCHED_REFUSED;
	const char *name;
	char *err = NULL, *job = NULL, *msg = NULL, text[SCHEDJOB_SLOT_LEN + 1];
	int64_t slot = clock_real_ms() / 1000;
	size_t n = 0;
	int rc;

	if ((name = sched_body_name(app, fr, req, &obj)) == NULL)
		goto done;
	policy.run = runuser_acquire(app->runuser);
	env.policy = &policy;
	if (app->consul != NULL)
		rc = sched_run_consul(app, name, &env, slot, &result, &job, &err);
	else
		rc = sched_run_spool(app, name, &env, slot, &result, &job, &err);
	if (policy.run != NULL)
		runuser_release(app->runuser, policy.run);
	if (rc != 0) {
		sched_failed(app, fr, req, rc, name, err);
		goto done;
	}
	schedjob_slot_text(slot, text);
	if (app->consul != NULL)
		consulsched_history(app->consul, app->cfg->consul_namespace, name, 1, 0, &h, &n,
				    NULL);
	else
		spoolsched_history(app->sp, name, 1, &h, &n, NULL);
	msg = xasprintf("Schedule '%s' slot %s %s", name, text, spoolsched_result_name(result));
	o = route_message(msg);
	json_object_object_add(o, "slot", json_object_new_string(text));
	json_object_object_add(o, "result", json_object_new_string(spoolsched_result_name(result)));
	json_object_object_add(o, "reason",
			       n == 1 && h[0].reason != NULL ? json_object_new_string(h[0].reason)
							     : NULL);
	json_object_object_add(o, "jobId",
			       result == SPOOLSCHED_FIRED ? json_object_new_string(job) : NULL);
	http_respond_json(fr, req, 200, o, NULL);
	if (result == SPOOLSCHED_FIRED)
		workersock_wake(app);
done:
	spoolsched_slots_free(h, n);
	free(job);
	free(msg);
	free(err);
	json_object_put(obj);
}

/* The state of a schedule's last job (NULL: none) as a JSON string, or NULL when it is unknown:
 * with Consul from its entry there (one read per schedule shown), else from the spool. */
static struct json_object *sched_last_state(struct app *app, const char *id)
{
	struct spool_job *job = NULL;
	struct consul_kv kv;
	struct jobentry e;
	struct json_object *state = NULL;
	char *key;

	if (id == NULL)
		return NULL;
	if (app->consul == NULL) {
		if (spool_get(app->sp, id, &job, NULL) == 0 && job != NULL)
			state = json_object_new_string(spool_state_name(job->state));
		spool_job_free(job);
		return state;
	}
	key = jobentry_key(app->cfg->consul_namespace, id);
	jobentry_init(&e);
	if (consul_kv_get(app->consul, key, &kv, NULL) == 0) {
		if (jobentry_parse(kv.value, kv.value_len, &e, NULL) == 0)
			state = json_object_new_string(spool_state_name(e.state));
		consul_kv_clear(&kv);
	}
	jobentry_free(&e);
	free(key);
	return state;
}

/* A schedule as GET /schedules shows it: its definition, state, next slots and last fired slot
 * with its job's id and state. */
static struct json_object *sched_json(struct app *app, const struct spoolsched *s, int64_t now_s)
{
	struct json_object *o = json_object_new_object(), *next = json_object_new_array();
	struct cron *c = NULL;
	struct tzinfo *tz = NULL;
	int64_t t = s->last_slot > now_s ? s->last_slot : now_s;

	schedjob_def_json(o, s);
	if (!s->paused && cron_parse(s->cron, &c, NULL) == 0 &&
	    tzinfo_load(s->timezone, &tz, NULL) == 0) {
		for (int i = 0; i < SCHED_NEXT_SLOTS; i++) {
			if ((t = cron_next(c, tz, t)) == INT64_MAX)
				break;
			json_object_array_add(next, sched_slot_json(t));
		}
	}
	cron_free(c);
	tzinfo_free(tz);
	json_object_object_add(o, "nextSlots", next);
	json_object_object_add(o, "lastSlot", sched_slot_json(s->last_fired));
	json_object_object_add(o, "lastJobId",
			       s->last_job != NULL ? json_object_new_string(s->last_job) : NULL);
	json_object_object_add(o, "lastJobState", sched_last_state(app, s->last_job));
	return o;
}

static struct json_object *sched_history_json(const struct spoolsched_slot *h, size_t n)
{
	struct json_object *a = json_object_new_array(), *e;
	char at[CLOCK_UTC_LEN];

	for (size_t i = 0; i < n; i++) {
		e = json_object_new_object();
		json_object_object_add(e, "slot", sched_slot_json(h[i].slot));
		json_object_object_add(e, "result",
				       json_object_new_string(spoolsched_result_name(h[i].result)));
		json_object_object_add(e, "reason",
				       h[i].reason != NULL ? json_object_new_string(h[i].reason)
							   : NULL);
		json_object_object_add(e, "jobId",
				       h[i].job_id != NULL ? json_object_new_string(h[i].job_id)
							   : NULL);
		json_object_object_add(e, "count", json_object_new_int64(h[i].count));
		clock_format_utc(h[i].at_ms, CLOCK_UTC_ISO_MS, at);
		json_object_object_add(e, "recorded", json_object_new_string(at));
		json_object_array_add(a, e);
	}
	return a;
}

/* GET /schedules?name=: the schedule with its history; with Consul the rows older than the job
 * retention are left out (the spool prunes its own). */
static void sched_get_one(struct app *app, FCGX_Request *fr, struct http_request *req,
			  const char *name, int64_t now_s)
{
	struct spoolsched *s = NULL;
	struct consulsched cs;
	struct spoolsched_slot *h = NULL;
	struct json_object *o;
	const struct spoolsched *def;
	int64_t before_ms = clock_real_ms() - app->cfg->retain_done * 1000;
	size_t n = 0;
	char *err = NULL;
	int rc;

	memset(&cs, 0, sizeof cs);
	if (app->consul != NULL) {
		if ((rc = consulsched_get(app->consul, app->cfg->consul_namespace, name, &cs,
					  &err)) == 0)
			rc = consulsched_history(app->consul, app->cfg->consul_namespace, name,
						 SPOOLSCHED_HISTORY_MAX, before_ms, &h, &n, &err);
		def = &cs.def;
	} else {
		if ((rc = spoolsched_get(app->sp, name, &s, &err)) == 0)
			rc = spoolsched_history(app->sp, name, SPOOLSCHED_HISTORY_MAX, &h, &n,
						&err);
		def = s;
	}
	if (rc != 0) {
		sched_failed(app, fr, req, rc, name, err);
		goto done;
	}
	o = sched_json(app, def, now_s);
	json_object_object_add(o, "history", sched_history_json(h, n));
	http_respond_json(fr, req, 200, o, NULL);
done:
	spoolsched_slots_free(h, h != NULL ? n : 0);
	spoolsched_free(s);
	consulsched_clear(&cs);
	free(err);
}

void route_schedules(struct app *app, FCGX_Request *fr, struct http_request *req)
{
	const char *name = http_query_get(req, "name");
	struct spoolsched *list = NULL;
	struct consulsched *clist = NULL;
	struct json_object *o, *a;
	int64_t now_s = clock_real_ms() / 1000;
	size_t n = 0;
	char *err = NULL;
	int rc;

	if (name != NULL) {
		sched_get_one(app, fr, req, name, now_s);
		return;
	}
	if (app->consul != NULL)
		rc = consulsched_list(app->consul, app->cfg->consul_namespace,
				      (size_t)app->cfg->max_schedules, &clist, &n, &err);
	else
		rc = spoolsched_list(app->sp, &list, &n, &err);
	if (rc != 0) {
		sched_failed(app, fr, req, rc, "", err);
		goto done;
	}
	a = json_object_new_array();
	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, sched_json(app, clist != NULL ? &clist[i].def : &list[i],
						    now_s));
	o = json_object_new_object();
	json_object_object_add(o, "schedules", a);
	http_respond_json(fr, req, 200, o, NULL);
done:
	spoolsched_list_free(list, list != NULL ? n : 0);
	consulsched_list_free(clist, clist != NULL ? n : 0);
	free(err);
}
