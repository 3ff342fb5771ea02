/* SPDX-License-Identifier: Apache-2.0 */
/* What every request handler of the responder shares: the configuration, the spool, the group
 * committer, the Consul claim seam, the worker's socket and the per-process counters. Built once
 * by main.c before the threads start and read-only afterwards (the counters are atomics). */
#ifndef FS_APP_H
#define FS_APP_H

#include <stdatomic.h>
#include <stdint.h>

#include "argpolicy.h"
#include "config.h"
#include "http.h"
#include "jobreq.h"

struct spool;
struct committer;
struct runuser;
struct consul;
struct diskfree;
struct claimlog;
struct spool_job;

/* The Consul claim of /submit (doc/consul.md), NULL with --no-consul. claim runs after validation
 * and before the job is handed to the committer. It returns 0 with *cl filled (cl->index, the
 * claim's ModifyIndex, is stored with the job), FS_EEXIST when the id is held elsewhere (409),
 * FS_EINVAL when the key holds something that is not a job entry (500), or another code (503);
 * on failure *errp is the whole message to answer ("Consul unavailable: <detail>", "Consul ACL
 * denied: <detail>", "Error:
 * ..."). undo runs when the spool then refuses or fails the job, so that a non-200 answer never
 * leaves a claim behind. The caller releases *cl with claim_clear in every case. */
struct claim {
	int64_t index;    /* the claim's ModifyIndex */
	char *key;        /* the Consul key, owned */
	char *session;    /* the session that holds the lock, owned */
	char *prev_value; /* the entry the claim replaced (DONE or orphaned), owned; NULL when
			    * the key was new */
	const char *submitted_by; /* in: the submitting user for the entry, NULL if none; not
				   * owned */
	struct claimlog *journal; /* not owned: set while the claim counts in flight there
				   * (claim_clear settles it) */
	long long number;         /* the claim's number in the journal */
};
struct claim_ops {
	int (*claim)(void *ctx, const struct job_request *req, struct claim *cl, char **errp);
	void (*undo)(void *ctx, const struct job_request *req, const struct claim *cl);
	void *ctx;
};
void claim_clear(struct claim *cl);

/* /submit results counted by /metrics (one set per responder process). */
enum submit_result {
	SUBMIT_ACCEPTED,  /* 200 */
	SUBMIT_INVALID,   /* 400: body or validation */
	SUBMIT_TOO_LARGE, /* 413 */
	SUBMIT_DRAINING,  /* 503 drain */
	SUBMIT_DUPLICATE, /* 409 */
	SUBMIT_FULL,      /* 429 */
	SUBMIT_CONSUL,    /* 503 Consul unavailable or its ACL denied the claim */
	SUBMIT_ERROR,     /* 500: the spool failed */
	SUBMIT_NO_SPACE,  /* 507: below --min-free-space */
	SUBMIT_N
};

struct app {
	const struct config *cfg;
	struct spool *sp;              /* reads and the rare writes (settings, cancel) */
	struct committer *committer;   /* /submit's enqueues (group commit) */
	struct jobreq_policy policy;   /* from cfg: roots and the runner's rules */
	struct argpolicy argpolicy;    /* from cfg: what factfileArgs may ask; policy.args */
	const struct claim_ops *claim; /* NULL: Consul disabled */
	struct consul *consul;         /* the Consul client, NULL with --no-consul */
	struct claimlog *claims;       /* the claim journal (claimlog.h), NULL with --no-consul */
	unsigned long long pid_start;  /* this process's start time (/proc), named in its claims */
	struct runuser *runuser;       /* the worker's run identity, for policy.run (runuser.h) */
	int64_t start_ms;              /* when this responder started (epoch ms) */
	char *worker_sock;             /* <spool>/worker.sock, owned */
	struct diskfree *disk;         /* --min-free-space of the spool and run root, owned */
	atomic_ulong submits[SUBMIT_N];
	atomic_ulong consul_errors;
	atomic_ulong requests;
};

/* A route handler answers req on fr; it never fails (errors are answers). */
typedef void (*route_fn)(struct app *app, FCGX_Request *fr, struct http_request *req);

/* router.c: answers one request (404/405 for unknown paths and methods). */
void router_dispatch(struct app *app, FCGX_Request *fr, struct http_request *req);

/* One handler per endpoint, grouped by file as the router lists them. */
void route_submit(struct app *app, FCGX_Request *fr, struct http_request *req);
void route_settings(struct app *app, FCGX_Request *fr, struct http_request *req);
void route_status(struct app *app, FCGX_Request *fr, struct http_request *req);
void route_help(struct app *app, FCGX_Request *fr, struct http_request *req);
void route_check(struct app *app, FCGX_Request *fr, struct http_request *req);
void route_jobs(struct app *app, FCGX_Request *fr, struct http_request *req);
void route_logs(struct app *app, FCGX_Request *fr, struct http_request *req);
void route_cancel(struct app *app, FCGX_Request *fr, struct http_request *req);
void route_health(struct app *app, FCGX_Request *fr, struct http_request *req);
void route_metrics(struct app *app, FCGX_Request *fr, struct http_request *req);
void route_runs(struct app *app, FCGX_Request *fr, struct http_request *req);
void route_stats(struct app *app, FCGX_Request *fr, struct http_request *req);
void route_factfile(struct app *app, FCGX_Request *fr, struct http_request *req);
void route_nodes(struct app *app, FCGX_Request *fr, struct http_request *req);
/* route_schedules.c */
void route_schedules(struct app *app, FCGX_Request *fr, struct http_request *req);
void route_schedules_set(struct app *app, FCGX_Request *fr, struct http_request *req);
void route_schedules_pause(struct app *app, FCGX_Request *fr, struct http_request *req);
void route_schedules_resume(struct app *app, FCGX_Request *fr, struct http_request *req);
void route_schedules_delete(struct app *app, FCGX_Request *fr, struct http_request *req);
void route_schedules_run(struct app *app, FCGX_Request *fr, struct http_request *req);
/* route_cluster.c: /jobs?scope=cluster, which route_jobs hands over */
void route_jobs_cluster(struct app *app, FCGX_Request *fr, struct http_request *req);

/* workersock.c: the worker daemon's datagram socket, app->worker_sock. alive: 1 when a process
 * is bound to it (a connect succeeds), else 0. wake: sends one datagram, never blocks; no
 * listener is not an error (the worker reads the spool when it starts). */
int workersock_alive(const struct app *app);
void workersock_wake(const struct app *app);

/* claim.c: this node's Consul session id as the worker stored it in the spool (a new string the
 * caller frees), or NULL when there is none. */
char *claim_session(struct app *app);

/* claim.c: fills ops with the Consul claim of /submit over app->consul and app->sp. */
void claim_init(struct claim_ops *ops, struct app *app);

/* claim.c: Consul's state for /status and /health: 0 when Consul answers and has a
 * leader (else FS_EIO or FS_EINVAL with *errp, "Consul unavailable: ..."), and *sessionp 1 when
 * the session the spool names is alive in Consul (0 otherwise, or when Consul fails). When there
 * is no live session because an ACL refuses it (the worker's session, or this responder's look at
 * it), *deniedp (if deniedp) is the refusal, "Consul ACL denied: ..." (a new string the caller
 * frees); else NULL. */
int claim_probe(struct app *app, int *sessionp, char **deniedp, char **errp);

/* router.c, shared by the handlers. */

/* Accepts a bare id or "<namespace>/<id>"; returns the id part, or NULL when it is not 64
 * lowercase hex characters. Points into s. */
const char *route_parse_id(const char *s);

/* The id query parameter of /check, /logs, /runs and /factfile: answers 400 when it is missing
 * or malformed and returns NULL; else returns the bare id (valid while req lives). *givenp is the
 * id as given (NULL when missing). */
const char *route_id_param(FCGX_Request *fr, struct http_request *req, const char **givenp);

/* spool_get with the answers for an unknown id (404 "Error: No job entry found for
 * id='<given>'") and a spool failure (503), which return NULL; else the job, the caller's
 * (spool_job_free). */
struct spool_job *route_job_get(struct app *app, FCGX_Request *fr, struct http_request *req,
				const char *id, const char *given);

/* The decimal query parameter name in [min, max], or def when absent; -1 after answering 400
 * "Error: invalid <name> '<v>', must be a number from <min> to <max>" when it is not. */
long route_number(FCGX_Request *fr, struct http_request *req, const char *name, long def, long min,
		  long max);

/* Answers 503 for a failed Consul call (rc, err from consul.h): err itself when it is already
 * whole ("Consul unavailable: ..." for FS_EIO, "Consul ACL denied: ..." for FS_EDENIED), else
 * "Consul unavailable: <err>"; counts it in app->consul_errors. */
void route_consul_failed(struct app *app, FCGX_Request *fr, struct http_request *req, int rc,
			 const char *err);

/* Answers 503 {"message":"Error: <err>"}: the spool could not be read or written now (busy,
 * I/O). err stays the caller's. */
void route_spool_failed(FCGX_Request *fr, struct http_request *req, const char *err);

/* {"message": msg}, a new object. */
struct json_object *route_message(const char *msg);

/* Answers the common POST body failures (none, too large, not JSON, not an object) and returns
 * 1; or returns 0 with *objp the parsed object (the caller puts it). */
int route_post_object(struct app *app, FCGX_Request *fr, struct http_request *req,
		      const char *struct_name, struct json_object **objp);

/* The string field of a POST body object: returns 0 with *valuep (valid while obj lives), or
 * answers 400 (missing, not a string, holds a NUL) in core's wording and returns 1. */
int route_string_field(FCGX_Request *fr, struct http_request *req, struct json_object *obj,
		       const char *field, const char **valuep);

#endif
