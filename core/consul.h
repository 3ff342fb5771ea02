/* SPDX-License-Identifier: Apache-2.0 */
/* The Consul HTTP client (libcurl): KV reads, /v1/txn with the verbs doc/consul.md uses, the node's
 * session, and reachability. Every answer is parsed defensively (json-c): anything unexpected is
 * an error with a clear message, never a crash.
 *
 * Threads: a struct consul may be shared by any number of threads; each call borrows an easy
 * handle from the client's small pool (created on demand, kept for reuse so connections stay
 * alive) and gives it back. consul_global_init must run once, before any thread starts.
 *
 * Errors (err.h), with *errp (if errp) a new message the caller frees:
 *   FS_EIO     Consul could not be asked or did not answer sensibly: "Consul unavailable: <detail>"
 *              (refused connection, TLS failure, timeout, 5xx, no leader);
 *   FS_EDENIED an ACL refused the call (HTTP 403, or a txn rolled back with "Permission
 *              denied"): "Consul ACL denied: <detail>", detail being Consul's text (its first
 *              line, trimmed, at most about 200 bytes, valid UTF-8);
 *   FS_EINVAL  Consul answered something malformed or unexpected: "Consul answered <what> ...";
 *   FS_ENOENT  (where said) the key or session does not exist;
 *   FS_EEXIST  (consul_txn) Consul rolled the transaction back (HTTP 409): a check failed or a
 *              lock was refused; *errp joins the Errors ("op N: <What>"). */
#ifndef FS_CONSUL_H
#define FS_CONSUL_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct consul;

/* Timeouts: the submit path must answer quickly, Consul or not (doc/consul.md). */
#define CONSUL_CONNECT_TIMEOUT_MS 1000
#define CONSUL_SUBMIT_TIMEOUT_MS  2000

/* curl_global_init, once per program, before threads start. 0 or FS_EIO. */
int consul_global_init(char **errp);

/* A client for cfg's Consul address, TLS settings and token as config_parse completed them
 * (core/consulconf.h; a cfg only config_init'ed means http://consul_ip:consul_port), copied:
 * cfg may go away. With
 * timeout_ms as the total time of one call (the connect timeout is the smaller of it and
 * CONSUL_CONNECT_TIMEOUT_MS). Never fails (handles are made on first use); free with
 * consul_free. */
struct consul *consul_new(const struct config *cfg, long timeout_ms);
void consul_free(struct consul *c); /* NULL allowed; no call may be running */

/* The address for messages ("https://127.0.0.1:8501", "unix:///run/consul.sock"); valid while c
 * lives. */
const char *consul_address(const struct consul *c);

/* One KV entry as Consul holds it. Every string owned by the struct (consul_kv_clear). */
struct consul_kv {
	char *key;
	char *value; /* decoded bytes plus a NUL; NULL when Consul holds no value */
	size_t value_len;
	char *session; /* the lock holder, NULL when unlocked */
	int64_t create_index;
	int64_t modify_index;
	int64_t lock_index;
	uint64_t flags;
};
void consul_kv_clear(struct consul_kv *kv);

/* GET /v1/kv/<key> (each '/'-separated segment of key URL-escaped). 0 with *kv filled (clear it
 * with consul_kv_clear), FS_ENOENT when the key does not exist (*kv zeroed), FS_EIO, FS_EINVAL. */
int consul_kv_get(struct consul *c, const char *key, struct consul_kv *kv, char **errp);

/* The txn verbs the protocol uses (doc/consul.md), and set, for tests and tools. */
enum consul_verb {
	CONSUL_CHECK_NOT_EXISTS, /* key */
	CONSUL_CHECK_INDEX,      /* key, index */
	CONSUL_CHECK_SESSION,    /* key, session */
	CONSUL_LOCK,             /* key, value, session */
	CONSUL_UNLOCK,           /* key, value, session */
	CONSUL_DELETE_CAS,       /* key, index */
	CONSUL_GET,              /* key */
	CONSUL_SET,              /* key, value */
	CONSUL_DELETE_TREE,      /* key: every key starting with it goes */
	CONSUL_DELETE,           /* key */
};

/* One op; the strings are borrowed for the call. value is NUL-terminated text (sent base64). */
struct consul_op {
	enum consul_verb verb;
	const char *key;
	const char *value;
	const char *session;
	int64_t index;
};

struct consul_txn_error {
	int op_index; /* which op, 0-based */
	char *what;   /* Consul's text, owned */
};

/* A txn's answer. Consul's Results are NOT one per op: check-not-exists and delete-cas report
 * nothing, the other checks report the key as it was before the writes, lock/unlock/set the key
 * as written. All owned by the struct (consul_txn_result_clear). */
struct consul_txn_result {
	struct consul_kv *kvs; /* Results, in Consul's order */
	size_t n_kvs;
	int64_t last_index; /* ModifyIndex of the last write op (lock, unlock, set) when the
				* txn's last op is one; else 0: the fence to keep */
	struct consul_txn_error *errors; /* a 409's Errors */
	size_t n_errors;
};
void consul_txn_result_clear(struct consul_txn_result *res);

/* PUT /v1/txn with ops[0..n) (1..64), all or nothing. 0 committed, FS_EEXIST rolled back (see
 * res->errors, also joined in *errp), FS_EIO, FS_EINVAL. res is filled in every case (zeroed
 * first); the caller clears it. res may be NULL when only the outcome matters. */
int consul_txn(struct consul *c, const struct consul_op *ops, size_t n,
	       struct consul_txn_result *res, char **errp);

/* 1 when some error of a rolled-back txn says the session is not (or no longer) valid:
 * Consul's `invalid session "<id>"`. */
int consul_txn_invalid_session(const struct consul_txn_result *res);

/* PUT /v1/session/create {"Name":name,"TTL":"<ttl_s>s","Behavior":"release",
 * "LockDelay":"<lock_delay_s>s","Checks":[]} (a pure TTL session: doc/consul.md). ttl_s 10..86400.
 * *idp is the new session id (caller frees). */
int consul_session_create(struct consul *c, const char *name, int ttl_s, int lock_delay_s,
			  char **idp, char **errp);
/* PUT /v1/session/renew/<id>. FS_ENOENT when Consul no longer knows the session (it expired or
 * was destroyed: create a new one and re-acquire). */
int consul_session_renew(struct consul *c, const char *id, char **errp);
/* PUT /v1/session/destroy/<id>: its locks are released (values stay). Unknown ids are fine. */
int consul_session_destroy(struct consul *c, const char *id, char **errp);

struct consul_session {
	char *id, *name, *node, *behavior, *ttl; /* owned; ttl as Consul prints it ("15s") */
	int64_t lock_delay_ns;
	int64_t create_index;
};
void consul_session_clear(struct consul_session *s);
/* GET /v1/session/info/<id>: 0 with *s filled, FS_ENOENT when Consul does not know it. */
int consul_session_info(struct consul *c, const char *id, struct consul_session *s, char **errp);

/* GET /v1/status/leader: 0 when Consul answers and has a leader (writes can succeed); FS_EIO
 * otherwise. The cheap reachability probe of /status and /health (needs no ACL). */
int consul_ping(struct consul *c, char **errp);

/* GET /v1/kv/<prefix>?keys (&separator=<separator> unless NULL: keys are cut after the first
 * separator past the prefix, each such "folder" listed once): the key names only, in Consul's
 * order (sorted). *keysp is an array of *np strings (NULL when none: nothing under the prefix is
 * not an error), each and the array the caller's to free. The answer is at most 4 MiB (FS_EIO
 * beyond): about 40000 keys of a job namespace. */
int consul_kv_keys(struct consul *c, const char *prefix, const char *separator, char ***keysp,
		   size_t *np, char **errp);

/* GET /v1/kv/<prefix>?recurse: the entries under prefix (values too), in key order, the first
 * max of them. *kvsp is an array of *np entries (NULL when none) the caller frees: each with
 * consul_kv_clear, then the array. For small prefixes: the whole answer is read. */
int consul_kv_recurse(struct consul *c, const char *prefix, size_t max, struct consul_kv **kvsp,
		      size_t *np, char **errp);

/* The parsers of the answer bodies above (body[0..len), any bytes; NULL when len is 0), as the
 * calls use them once Consul has answered 200 (409 for a txn); also what the fuzz targets drive.
 * 0 or FS_EINVAL with *errp naming what was wrong.
 * consul_kv_answer_parse: a GET of key: an array of exactly one entry, for that key; *kv zeroed
 *   first and filled on 0 (clear it with consul_kv_clear).
 * consul_txn_answer_parse: Results and Errors into *res, zeroed first and filled as far as
 *   they were well formed: clear it with consul_txn_result_clear whatever the result.
 * consul_session_answer_parse: the first session of a renew or info answer (an array) into *s
 *   (NULL: only checked), zeroed first; FS_ENOENT when the answer is [] or null (Consul does not
 *   know the session). what names the call in messages ("session info"). */
int consul_kv_answer_parse(const char *body, size_t len, const char *key, struct consul_kv *kv,
			   char **errp);
int consul_txn_answer_parse(const char *body, size_t len, struct consul_txn_result *res,
			    char **errp);
int consul_session_answer_parse(const char *body, size_t len, const char *what,
				struct consul_session *s, char **errp);

#endif
