/* SPDX-License-Identifier: Apache-2.0 */
/* The route table (path -> method -> handler), the 404/405 answers, and the helpers several
 * handlers share: the id syntax of /check and /cancel, POST body checks. */
#include "app.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "csrf.h"
#include "err.h"
#include "jobid.h"
#include "log.h"
#include "spool.h"

struct route {
	const char *path;
	const char *method; /* the one method the path answers */
	route_fn fn;
};

/* one route a line: tests/integration/docs_check.sh reads this table */
/* clang-format off */
static const struct route router_routes[] = {
	{ "/", "GET", route_help },
	{ "/help", "GET", route_help },
	{ "/status", "GET", route_status },
	{ "/settings", "POST", route_settings },
	{ "/submit", "POST", route_submit },
	{ "/check", "GET", route_check },
	{ "/jobs", "GET", route_jobs },
	{ "/logs", "GET", route_logs },
	{ "/cancel", "POST", route_cancel },
	{ "/health", "GET", route_health },
	{ "/metrics", "GET", route_metrics },
	{ "/runs", "GET", route_runs },
	{ "/stats", "GET", route_stats },
	{ "/factfile", "GET", route_factfile },
	{ "/nodes", "GET", route_nodes },
	{ "/schedules", "GET", route_schedules },
	{ "/schedules/set", "POST", route_schedules_set },
	{ "/schedules/pause", "POST", route_schedules_pause },
	{ "/schedules/resume", "POST", route_schedules_resume },
	{ "/schedules/delete", "POST", route_schedules_delete },
	{ "/schedules/run", "POST", route_schedules_run },
};
/* clang-format on */

/* s (NULL: "-") for a log line: bytes that could split or disguise the line (controls, space,
 * quote, backslash, non-ASCII) as \xNN. */
static void router_audit_field(struct buf *b, const char *s)
{
	if (s == NULL || *s == '\0') {
		buf_putc(b, '-');
		return;
	}
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c > 0x20 && c < 0x7f && c != '"' && c != '\\')
			buf_putc(b, (char)c);
		else
			buf_printf(b, "\\x%02x", c);
	}
}

/* One line per POST, whatever --log-level says: what was asked, by whom, from where, about which
 * job, and the answer. */
static void router_audit(const struct http_request *req)
{
	struct buf b;

	buf_init(&b);
	buf_puts(&b, "POST ");
	router_audit_field(&b, req->path);
	buf_puts(&b, " user=");
	router_audit_field(&b, req->remote_user);
	buf_puts(&b, " addr=");
	router_audit_field(&b, req->remote_addr);
	buf_puts(&b, " job=");
	router_audit_field(&b, req->audit_id);
	buf_printf(&b, " status=%d", req->status);
	log_audit("%s", b.data);
	buf_free(&b);
}

/* Whether the request is a POST a browser sent for a page of another origin or site (csrf.h),
 * from the headers nginx passes as HTTP_* parameters and its HTTPS parameter. */
static int router_cross_site(FCGX_Request *fr)
{
	const char *https = FCGX_GetParam("HTTPS", fr->envp);

	return !csrf_allowed(FCGX_GetParam("HTTP_ORIGIN", fr->envp),
			     FCGX_GetParam("HTTP_SEC_FETCH_SITE", fr->envp),
			     https != NULL && *https != '\0' && strcasecmp(https, "off") != 0,
			     FCGX_GetParam("HTTP_HOST", fr->envp));
}

static void router_route(struct app *app, FCGX_Request *fr, struct http_request *req)
{
	size_t i;
	const char *bad;
	char *msg, *allow;

	for (i = 0; i < sizeof(router_routes) / sizeof(router_routes[0]); i++) {
		const struct route *r = &router_routes[i];

		if (strcmp(req->path, r->path) != 0)
			continue;
		if (strcmp(req->method, r->method) == 0) {
			if (strcmp(r->method, "POST") == 0 && router_cross_site(fr)) {
				http_respond_message(fr, req, 403,
						     "Error: cross-site request refused");
				return;
			}
			if ((bad = http_query_invalid(req)) != NULL) {
				msg = xasprintf("Error: invalid UTF-8 in %s", bad);
				http_respond_message(fr, req, 400, msg);
				free(msg);
				return;
			}
			r->fn(app, fr, req);
			return;
		}
		msg = xasprintf("Error: Method %s not allowed for %s (allowed: %s)", req->method,
				r->path, r->method);
		allow = xasprintf("Allow: %s\r\n", r->method);
		http_respond_json(fr, req, 405, route_message(msg), allow);
		free(msg);
		free(allow);
		return;
	}
	msg = xasprintf("Error: No endpoint found for path '%s'", req->path);
	http_respond_message(fr, req, 404, msg);
	free(msg);
}

void router_dispatch(struct app *app, FCGX_Request *fr, struct http_request *req)
{
	atomic_fetch_add(&app->requests, 1);
	router_route(app, fr, req);
	if (strcmp(req->method, "POST") == 0)
		router_audit(req);
}

struct json_object *route_message(const char *msg)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "message", json_object_new_string(msg));
	return o;
}

void route_spool_failed(FCGX_Request *fr, struct http_request *req, const char *err)
{
	char *msg = xasprintf("Error: %s", err);

	http_respond_message(fr, req, 503, msg);
	free(msg);
}

const char *route_parse_id(const char *s)
{
	const char *slash = strrchr(s, '/');
	const char *id = slash != NULL ? slash + 1 : s;

	/* "<namespace>/<id>": the namespace itself is not checked, as the original did not */
	if (slash == s)
		return NULL;
	return jobid_is_valid(id) ? id : NULL;
}

const char *route_id_param(FCGX_Request *fr, struct http_request *req, const char **givenp)
{
	const char *given = http_query_get(req, "id"), *id;
	char *msg;

	*givenp = given;
	if (given == NULL) {
		http_respond_message(fr, req, 400, "Error: No 'id' found in URL query parameters");
		return NULL;
	}
	if ((id = route_parse_id(given)) == NULL) {
		msg = xasprintf("Error: invalid id '%s'", given);
		http_respond_message(fr, req, 400, msg);
		free(msg);
	}
	return id;
}

struct spool_job *route_job_get(struct app *app, FCGX_Request *fr, struct http_request *req,
				const char *id, const char *given)
{
	struct spool_job *job = NULL;
	char *err = NULL, *msg;
	int rc = spool_get(app->sp, id, &job, &err);

	if (rc == FS_ENOENT) {
		msg = xasprintf("Error: No job entry found for id='%s'", given);
		http_respond_message(fr, req, 404, msg);
		free(msg);
	} else if (rc != 0) {
		route_spool_failed(fr, req, err);
	}
	free(err);
	return job;
}

long route_number(FCGX_Request *fr, struct http_request *req, const char *name, long def, long min,
		  long max)
{
	const char *v = http_query_get(req, name);
	char *end = NULL, *msg;
	long n;

	if (v == NULL)
		return def;
	errno = 0;
	n = strtol(v, &end, 10);
	if (*v < '0' || *v > '9' || *end != '\0' || errno != 0 || n < min || n > max) {
		msg = xasprintf("Error: invalid %s '%s', must be a number from %ld to %ld", name, v,
				min, max);
		http_respond_message(fr, req, 400, msg);
		free(msg);
		return -1;
	}
	return n;
}

void route_consul_failed(struct app *app, FCGX_Request *fr, struct http_request *req, int rc,
			 const char *err)
{
	char *msg = rc == FS_EIO || rc == FS_EDENIED ? xstrdup(err)
						     : xasprintf("Consul unavailable: %s", err);

	atomic_fetch_add(&app->consul_errors, 1);
	http_respond_message(fr, req, 503, msg);
	free(msg);
}

int route_post_object(struct app *app, FCGX_Request *fr, struct http_request *req,
		      const char *struct_name, struct json_object **objp)
{
	struct json_object *v = NULL;
	char *msg = NULL;
	int answered = 1;

	(void)app;
	*objp = NULL;
	if (req->body_too_large) {
		http_respond_message(fr, req, 413, HTTP_TOO_LARGE);
		goto done;
	}
	if (req->body == NULL) {
		http_respond_message(fr, req, 400, "Error: No body found in POST request");
		goto done;
	}
	if (jobreq_body_parse(req->body, req->body_len, &v, &msg) != 0) {
		http_respond_message(fr, req, 400, msg);
		goto done;
	}
	if (!json_object_is_type(v, json_type_object)) {
		msg = xasprintf("Error decoding JSON string: invalid type: %s, expected struct %s",
				jobreq_json_kind(v), struct_name);
		http_respond_message(fr, req, 400, msg);
		goto done;
	}
	*objp = v;
	v = NULL;
	answered = 0;
done:
	json_object_put(v);
	free(msg);
	return answered;
}

int route_string_field(FCGX_Request *fr, struct http_request *req, struct json_object *obj,
		       const char *field, const char **valuep)
{
	struct json_object *v;
	char *msg = NULL;

	*valuep = NULL;
	if (!json_object_object_get_ex(obj, field, &v))
		msg = xasprintf("Error decoding JSON string: missing field `%s`", field);
	else if (!json_object_is_type(v, json_type_string))
		msg = xasprintf(
			"Error decoding JSON string: invalid type: %s, expected a string for "
			"field `%s`",
			jobreq_json_kind(v), field);
	else if (strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v))
		msg = xasprintf("Error decoding JSON string: field `%s` contains a NUL character",
				field);
	if (msg != NULL) {
		http_respond_message(fr, req, 400, msg);
		free(msg);
		return 1;
	}
	*valuep = json_object_get_string(v);
	return 0;
}
