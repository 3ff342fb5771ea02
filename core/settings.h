/* SPDX-License-Identifier: Apache-2.0 */
/* The keys of the spool's settings table (spool_setting_get/set/list): every key that more than
 * one program or module reads or writes is named here, so that a writer and its readers cannot
 * disagree on its spelling. Per-job keys are a prefix followed by the 64-hex job id. */
#ifndef FS_SETTINGS_H
#define FS_SETTINGS_H

/* "run" or "drain": whether /submit accepts new jobs (owned by spool_drain_get/set). */
#define SETTINGS_STATE            "state"
/* The worker's Consul session id; the responder's claims lock keys with it. */
#define SETTINGS_CONSUL_SESSION   "consul.session"
/* The worker's last ACL refusal ("Consul ACL denied: <detail>"), absent while its requests are
 * accepted: /submit and /health say it when the node holds no session because of it. */
#define SETTINGS_CONSUL_DENIED    "consul.denied"
/* The worker's pid and start time (epoch ms) while it runs, for /status. */
#define SETTINGS_WORKER_PID       "worker.pid"
#define SETTINGS_WORKER_STARTED   "worker.started"
/* Who the worker's runs are (runident.h's text: "self", or uid:gid:groups:name), written at its
 * start: /submit refuses a factfile that identity cannot read. */
#define SETTINGS_WORKER_RUNAS     "worker.runas"
/* "ok" or "missing": whether the worker last found the runner binary, for /health. */
#define SETTINGS_WORKER_RUNNER    "worker.runner"
/* The responder's last successful write (epoch seconds), proving the spool writable for /health. */
#define SETTINGS_RESPONDER_HEALTH "responder.health"

/* cancel.<id> = request time in epoch ms: /cancel asks the worker to stop that job's run. */
#define SETTINGS_CANCEL_PREFIX    "cancel."
/* consul.undo.<id> = a claim's undo the responder could not write to Consul (JSON); the worker
 * retries it. */
#define SETTINGS_UNDO_PREFIX      "consul.undo."
/* consul.abandoned.<pid>.<start>.<n> = a claim whose txn got no answer (a timeout, a transport
 * error), so that it may have been applied while its /submit answered 503: {"key":..,"claim":n,
 * "pid":..,"start":..,"value":<the entry it went over, as text, or null>,"at":<epoch ms>}. The
 * responder never commits such a claim; the worker undoes it if Consul holds it (reconcile.h). */
#define SETTINGS_ABANDONED_PREFIX "consul.abandoned."
/* consul.lost.<id> = a record (JSON) that another node took the job's Consul entry. */
#define SETTINGS_LOST_PREFIX      "consul.lost."
/* consul.schednote.<id> = the history note of schedule slot <id>'s claim, undone by the worker's
 * reconciliation and not yet written to Consul: {"name":..,"slot":<UTC s>,"reason":..,"at":<epoch
 * ms>}. The worker writes it and removes the record (reconcile.h). */
#define SETTINGS_SCHEDNOTE_PREFIX "consul.schednote."

/* prefix followed by id: a new string the caller frees. */
char *settings_key(const char *prefix, const char *id);

/* The id part of key when key starts with prefix (a pointer into key, valid as long as key),
 * else NULL. */
const char *settings_key_id(const char *key, const char *prefix);

#endif
