/* SPDX-License-Identifier: Apache-2.0 */
/* The Consul HTTP client (see consul.h): one request helper over a pool of libcurl easy
 * handles, and a defensive parser per kind of answer. */
#include "consul.h"

#include <ctype.h>
#include <json-c/json.h>
#include <nettle/base64.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "curlload.h"
#include "err.h"
#include "jobreq.h"
#include "utf8.h"
#include "xalloc.h"

/* Consul's answers here are small; anything bigger is not an answer we asked for. */
#define CONSUL_MAX_ANSWER  (4u * 1024 * 1024)
/* Consul refuses transactions of more than 64 ops. */
#define CONSUL_MAX_OPS     64
/* How many idle handles the pool keeps (more are made under load and freed after). */
#define CONSUL_POOL_MAX    64
#define UNAVAILABLE        "Consul unavailable: "
#define DENIED             "Consul ACL denied: "
/* The most bytes of Consul's text a message quotes. */
#define CONSUL_EXCERPT_MAX 200

struct consul {
	char *base;       /* what requests go to: "http[s]://host:port", "http://localhost" */
	char *address;    /* for messages (config.h: consul_address) */
	char *socket;     /* unix socket, or NULL */
	char *connect_to; /* libcurl CONNECT_TO entry, or NULL */
	char *cacert, *capath, *client_cert, *client_key; /* NULL when not set */
	int verify;         /* check the server's certificate and name */
	char *token_header; /* "X-Consul-Token: ..." or NULL */
	long timeout_ms;
	long connect_ms;
	pthread_mutex_t mu; /* guards the pool */
	CURL *pool[CONSUL_POOL_MAX];
	int n_pool;
};

/* One HTTP exchange's answer. */
struct consul_answer {
	long status;
	struct buf body;
	int too_large;
};

/* libcurl's functions (curlload.h), set by consul_global_init before any request. */
static const struct curlfns *lc;

int consul_global_init(char **errp)
{
	if ((lc = curlload(errp)) == NULL)
		return FS_EIO;
	return 0;
}

struct consul *consul_new(const struct config *cfg, long timeout_ms)
{
	struct consul *c = xcalloc(1, sizeof(*c));

	if (cfg->consul_url != NULL) {
		c->base = xstrdup(cfg->consul_url);
		c->address = xstrdup(cfg->consul_address);
	} else {
		/* a configuration that config_parse did not complete: --consul-ip:--consul-port
		 * (an IPv6 literal needs brackets in a URL) */
		c->base = xasprintf(strchr(cfg->consul_ip, ':') != NULL ? "http://[%s]:%d"
									: "http://%s:%d",
				    cfg->consul_ip, cfg->consul_port);
		c->address = xstrdup(c->base);
	}
	c->socket = cfg->consul_socket != NULL ? xstrdup(cfg->consul_socket) : NULL;
	c->connect_to = cfg->consul_connect_to != NULL ? xstrdup(cfg->consul_connect_to) : NULL;
	c->cacert = cfg->consul_cacert != NULL ? xstrdup(cfg->consul_cacert) : NULL;
	c->capath = cfg->consul_capath != NULL ? xstrdup(cfg->consul_capath) : NULL;
	c->client_cert = cfg->consul_client_cert != NULL ? xstrdup(cfg->consul_client_cert) : NULL;
	c->client_key = cfg->consul_client_key != NULL ? xstrdup(cfg->consul_client_key) : NULL;
	c->verify = cfg->consul_ssl_verify != 0;
	if (cfg->consul_token != NULL)
		c->token_header = xasprintf("X-Consul-Token: %s", cfg->consul_token);
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : CONSUL_SUBMIT_TIMEOUT_MS;
	c->connect_ms = c->timeout_ms < CONSUL_CONNECT_TIMEOUT_MS ? c->timeout_ms
								  : CONSUL_CONNECT_TIMEOUT_MS;
	pthread_mutex_init(&c->mu, NULL);
	return c;
}

void consul_free(struct consul *c)
{
	int i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n_pool; i++)
		lc->easy_cleanup(c->pool[i]);
	pthread_mutex_destroy(&c->mu);
	free(c->base);
	free(c->address);
	free(c->socket);
	free(c->connect_to);
	free(c->cacert);
	free(c->capath);
	free(c->client_cert);
	free(c->client_key);
	free(c->token_header);
	free(c);
}

const char *consul_address(const struct consul *c)
{
	return c->address;
}

/* A handle from the pool, or a new one (NULL only if libcurl cannot make one). */
static CURL *consul_take(struct consul *c)
{
	CURL *h = NULL;

	pthread_mutex_lock(&c->mu);
	if (c->n_pool > 0)
		h = c->pool[--c->n_pool];
	pthread_mutex_unlock(&c->mu);
	return h != NULL ? h : lc->easy_init();
}

static void consul_give(struct consul *c, CURL *h)
{
	pthread_mutex_lock(&c->mu);
	if (c->n_pool < CONSUL_POOL_MAX) {
		c->pool[c->n_pool++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&c->mu);
	if (h != NULL)
		lc->easy_cleanup(h);
}

static size_t consul_write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct consul_answer *a = arg;
	size_t n = size * nmemb;

	if (a->body.len + n > CONSUL_MAX_ANSWER) {
		a->too_large = 1;
		return 0; /* makes libcurl fail the transfer */
	}
	buf_append(&a->body, data, n);
	return n;
}

/* Consul's body for messages (its errors are plain text: "Invalid Session TTL ...", "ACL not
 * found"): the first line with something on it, without surrounding blanks, cut after about
 * CONSUL_EXCERPT_MAX bytes at a character boundary; bytes that are not UTF-8 become U+FFFD and
 * control characters '?', so it is one line of valid UTF-8 whatever Consul sent. A new string. */
static char *consul_excerpt(const struct buf *b)
{
	const char *s = b->data != NULL ? b->data : "";
	size_t n = b->data != NULL ? b->len : 0, i = 0, end, len, bad;
	struct buf out;

	buf_init(&out);
	while (i < n && isspace((unsigned char)s[i]))
		i++;
	for (end = i; end < n && s[end] != '\n' && s[end] != '\r'; end++)
		;
	while (end > i && isspace((unsigned char)s[end - 1]))
		end--;
	while (i < end && out.len < CONSUL_EXCERPT_MAX) {
		len = utf8_seq_len(s + i, end - i, &bad);
		if (len == 0) {
			buf_puts(&out, "\xEF\xBF\xBD");
			i += bad;
			continue;
		}
		if (len == 1 && iscntrl((unsigned char)s[i]))
			buf_putc(&out, '?');
		else
			buf_append(&out, s + i, len);
		i += len;
	}
	if (out.len == 0)
		buf_puts(&out, "(empty answer)");
	return buf_steal(&out);
}

/* Where and how h connects: the unix socket, or TLS's files, checks and server name.
 * *connect_top is a list the caller frees after the transfer (NULL when none is needed). */
static void consul_transport(const struct consul *c, CURL *h, struct curl_slist **connect_top)
{
	if (c->socket != NULL)
		lc->easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, c->socket);
	if (c->connect_to != NULL) {
		*connect_top = lc->slist_append(NULL, c->connect_to);
		lc->easy_setopt(h, CURLOPT_CONNECT_TO, *connect_top);
	}
	if (c->cacert != NULL)
		lc->easy_setopt(h, CURLOPT_CAINFO, c->cacert);
	if (c->capath != NULL)
		lc->easy_setopt(h, CURLOPT_CAPATH, c->capath);
	if (c->client_cert != NULL) {
		lc->easy_setopt(h, CURLOPT_SSLCERT, c->client_cert);
		lc->easy_setopt(h, CURLOPT_SSLKEY, c->client_key);
	}
	lc->easy_setopt(h, CURLOPT_SSL_VERIFYPEER, c->verify ? 1L : 0L);
	lc->easy_setopt(h, CURLOPT_SSL_VERIFYHOST, c->verify ? 2L : 0L);
}

/* One request: method to base+path with body (NULL: none). Returns 0 with *a filled when Consul
 * answered anything (any status; the caller decides), FS_EIO when it could not be asked. *a is
 * the caller's to free (buf_free(&a->body)) in every case. */
static int consul_request(struct consul *c, const char *method, const char *path, const char *body,
			  struct consul_answer *a, char **errp)
{
	char errbuf[CURL_ERROR_SIZE], *url = xasprintf("%s%s", c->base, path);
	struct curl_slist *hdrs = NULL, *connect_to = NULL;
	CURL *h = consul_take(c);
	CURLcode e;
	int rc = 0;

	memset(a, 0, sizeof(*a));
	buf_init(&a->body);
	if (h == NULL) {
		rc = err_set(errp, FS_EIO, UNAVAILABLE "libcurl cannot make a handle");
		goto done;
	}
	lc->easy_reset(h); /* keeps the connection cache */
	errbuf[0] = '\0';
	lc->easy_setopt(h, CURLOPT_URL, url);
	lc->easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	/* threads: no SIGALRM-based DNS timeouts */
	lc->easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	lc->easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_ms);
	lc->easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	/* the agent is local to the node: an http_proxy meant for the outside must not apply */
	lc->easy_setopt(h, CURLOPT_NOPROXY, "*");
#if LIBCURL_VERSION_NUM >= 0x075500
	lc->easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	lc->easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	consul_transport(c, h, &connect_to);
	lc->easy_setopt(h, CURLOPT_WRITEFUNCTION, consul_write_cb);
	lc->easy_setopt(h, CURLOPT_WRITEDATA, a);
	lc->easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	if (c->token_header != NULL)
		hdrs = lc->slist_append(hdrs, c->token_header);
	if (body != NULL) {
		hdrs = lc->slist_append(hdrs, "Content-Type: application/json");
		lc->easy_setopt(h, CURLOPT_POSTFIELDS, body);
		lc->easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	} else if (strcmp(method, "GET") != 0) {
		/* PUT without a body: Content-Length 0 */
		lc->easy_setopt(h, CURLOPT_POSTFIELDS, "");
		lc->easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
	}
	lc->easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	e = lc->easy_perform(h);
	if (e != CURLE_OK) {
		rc = err_set(errp, FS_EIO, UNAVAILABLE "%s %s: %s", method, c->address,
			     a->too_large        ? "answer too large"
			     : errbuf[0] != '\0' ? errbuf
						 : lc->easy_strerror(e));
		goto done;
	}
	lc->easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a->status);
done:
	if (h != NULL) {
		/* the slist and url are freed below: drop the handle's pointers to them */
		lc->easy_setopt(h, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
		lc->easy_setopt(h, CURLOPT_CONNECT_TO, (struct curl_slist *)NULL);
		consul_give(c, h);
	}
	lc->slist_free_all(hdrs);
	lc->slist_free_all(connect_to);
	free(url);
	return rc;
}

/* The message for a status the caller did not expect: FS_EDENIED for 403, an ACL refusal (the
 * token is unknown or lacks a permission; Consul's text is the detail), else FS_EIO, because
 * nothing we can do in the request fixes a 5xx or a rejected request. */
static int consul_unexpected(const struct consul_answer *a, const char *what, char **errp)
{
	char *ex = consul_excerpt(&a->body);
	int rc = a->status == 403 ? err_set(errp, FS_EDENIED, DENIED "%s", ex)
				  : err_set(errp, FS_EIO, UNAVAILABLE "%s: HTTP %ld: %s", what,
					    a->status, ex);

	free(ex);
	return rc;
}

/* An answer's body (body[0..len), NULL when len is 0) as JSON (strict). FS_EINVAL names what was
 * asked. */
static int consul_json(const char *body, size_t len, const char *what, struct json_object **out,
		       char **errp)
{
	char *detail = NULL;
	int rc;

	rc = jobreq_json_parse(body != NULL ? body : "", len, out, &detail);
	if (rc != 0)
		err_set(errp, FS_EINVAL, "Consul answered %s with malformed JSON: %s", what,
			detail);
	free(detail);
	return rc;
}

/* Appends s[0..n) percent-encoded as a URL path segment: every byte but RFC 3986's unreserved
 * characters as %XX (what curl_easy_escape does). */
static void consul_escape(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
			buf_putc(b, (char)ch);
		} else {
			buf_putc(b, '%');
			buf_putc(b, hex[ch >> 4]);
			buf_putc(b, hex[ch & 15]);
		}
	}
}

/* URL path of a key: every segment escaped, the '/' between segments kept. A new string. */
static char *consul_key_path(const char *prefix, const char *key)
{
	struct buf b;
	const char *seg = key, *slash;

	buf_init(&b);
	buf_puts(&b, prefix);
	for (;;) {
		slash = strchr(seg, '/');
		consul_escape(&b, seg, slash != NULL ? (size_t)(slash - seg) : strlen(seg));
		if (slash == NULL)
			break;
		buf_putc(&b, '/');
		seg = slash + 1;
	}
	return buf_steal(&b);
}

/* A path with one escaped segment after prefix (session ids). A new string. */
static char *consul_path1(const char *prefix, const char *seg)
{
	struct buf b;

	buf_init(&b);
	buf_puts(&b, prefix);
	consul_escape(&b, seg, strlen(seg));
	return buf_steal(&b);
}

static char *consul_base64(const char *s, size_t len)
{
	char *out = xmalloc(BASE64_ENCODE_RAW_LENGTH(len) + 1);

	base64_encode_raw(out, len, (const uint8_t *)s);
	out[BASE64_ENCODE_RAW_LENGTH(len)] = '\0';
	return out;
}

/* Decodes base64 text into a new NUL-terminated buffer; NULL when it is not base64. */
static char *consul_unbase64(const char *s, size_t len, size_t *outlen)
{
	struct base64_decode_ctx ctx;
	size_t n = BASE64_DECODE_LENGTH(len);
	uint8_t *out = xmalloc(n + 1);

	base64_decode_init(&ctx);
	if (!base64_decode_update(&ctx, &n, out, len, s) || !base64_decode_final(&ctx)) {
		free(out);
		return NULL;
	}
	out[n] = '\0';
	*outlen = n;
	return (char *)out;
}

/* A non-negative integer member; -1 when absent or not one. */
static int64_t consul_index_field(struct json_object *o, const char *name)
{
	struct json_object *v;
	int64_t n;

	if (!json_object_object_get_ex(o, name, &v) || !json_object_is_type(v, json_type_int))
		return -1;
	n = json_object_get_int64(v);
	return n >= 0 ? n : -1;
}

/* An optional string member: 0 with *sp (borrowed, NULL when absent, null or ""), or -1 when
 * present with another type. */
static int consul_string_field(struct json_object *o, const char *name, const char **sp)
{
	struct json_object *v;

	*sp = NULL;
	if (!json_object_object_get_ex(o, name, &v) || v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return -1;
	if (json_object_get_string_len(v) > 0)
		*sp = json_object_get_string(v);
	return 0;
}

void consul_kv_clear(struct consul_kv *kv)
{
	free(kv->key);
	free(kv->value);
	free(kv->session);
	memset(kv, 0, sizeof(*kv));
}

/* One KV object of an answer ({"Key":..,"Value":..,"ModifyIndex":..}) into *kv. */
static int consul_kv_parse(struct json_object *o, struct consul_kv *kv, const char *what,
			   char **errp)
{
	const char *key, *value, *session;
	struct json_object *v;

	memset(kv, 0, sizeof(*kv));
	if (!json_object_is_type(o, json_type_object))
		return err_set(errp, FS_EINVAL,
			       "Consul answered %s with a KV entry that is not an "
			       "object",
			       what);
	if (consul_string_field(o, "Key", &key) != 0 || key == NULL ||
	    consul_string_field(o, "Value", &value) != 0 ||
	    consul_string_field(o, "Session", &session) != 0 ||
	    (kv->modify_index = consul_index_field(o, "ModifyIndex")) < 0 ||
	    (kv->create_index = consul_index_field(o, "CreateIndex")) < 0)
		return err_set(errp, FS_EINVAL,
			       "Consul answered %s with a malformed KV entry "
			       "(Key, Value, Session, CreateIndex or ModifyIndex missing or of the "
			       "wrong type)",
			       what);
	kv->lock_index = consul_index_field(o, "LockIndex");
	if (kv->lock_index < 0)
		kv->lock_index = 0;
	if (json_object_object_get_ex(o, "Flags", &v) && json_object_is_type(v, json_type_int))
		kv->flags = json_object_get_uint64(v);
	if (value != NULL &&
	    (kv->value = consul_unbase64(value, strlen(value), &kv->value_len)) == NULL) {
		err_set(errp, FS_EINVAL, "Consul answered %s with a Value that is not base64",
			what);
		return FS_EINVAL;
	}
	kv->key = xstrdup(key);
	kv->session = session != NULL ? xstrdup(session) : NULL;
	return 0;
}

int consul_kv_answer_parse(const char *body, size_t len, const char *key, struct consul_kv *kv,
			   char **errp)
{
	struct json_object *arr = NULL;
	char *what = xasprintf("GET of key '%s'", key);
	int rc;

	memset(kv, 0, sizeof(*kv));
	if ((rc = consul_json(body, len, what, &arr, errp)) != 0)
		goto done;
	/* a key read without ?recurse is an array of exactly one entry, for that key */
	if (!json_object_is_type(arr, json_type_array) || json_object_array_length(arr) != 1) {
		rc = err_set(errp, FS_EINVAL,
			     "Consul answered %s with something other than one "
			     "KV entry",
			     what);
		goto done;
	}
	if ((rc = consul_kv_parse(json_object_array_get_idx(arr, 0), kv, what, errp)) != 0) {
		consul_kv_clear(kv);
		goto done;
	}
	if (strcmp(kv->key, key) != 0) {
		rc = err_set(errp, FS_EINVAL, "Consul answered %s with the entry of key '%s'", what,
			     kv->key);
		consul_kv_clear(kv);
	}
done:
	json_object_put(arr);
	free(what);
	return rc;
}

int consul_kv_get(struct consul *c, const char *key, struct consul_kv *kv, char **errp)
{
	struct consul_answer a;
	char *path = consul_key_path("/v1/kv/", key), *what = xasprintf("GET of key '%s'", key);
	int rc;

	memset(kv, 0, sizeof(*kv));
	if ((rc = consul_request(c, "GET", path, NULL, &a, errp)) != 0)
		goto done;
	if (a.status == 404) {
		rc = FS_ENOENT;
		err_set(errp, FS_ENOENT, "Consul has no key '%s'", key);
		goto done;
	}
	if (a.status != 200) {
		rc = consul_unexpected(&a, what, errp);
		goto done;
	}
	rc = consul_kv_answer_parse(a.body.data, a.body.len, key, kv, errp);
done:
	buf_free(&a.body);
	free(path);
	free(what);
	return rc;
}

static const char *const consul_verbs[] = {
	[CONSUL_CHECK_NOT_EXISTS] = "check-not-exists",
	[CONSUL_CHECK_INDEX] = "check-index",
	[CONSUL_CHECK_SESSION] = "check-session",
	[CONSUL_LOCK] = "lock",
	[CONSUL_UNLOCK] = "unlock",
	[CONSUL_DELETE_CAS] = "delete-cas",
	[CONSUL_GET] = "get",
	[CONSUL_SET] = "set",
	[CONSUL_DELETE_TREE] = "delete-tree",
	[CONSUL_DELETE] = "delete",
};

static int consul_verb_writes(enum consul_verb v)
{
	return v == CONSUL_LOCK || v == CONSUL_UNLOCK || v == CONSUL_SET;
}

/* The txn body; NULL (with *errp) when an op lacks what its verb needs. */
static char *consul_txn_body(const struct consul_op *ops, size_t n, char **errp)
{
	struct json_object *arr = json_object_new_array(), *op, *kv;
	char *b64, *body = NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		const struct consul_op *o = &ops[i];
		int need_value =
			o->verb == CONSUL_LOCK || o->verb == CONSUL_UNLOCK || o->verb == CONSUL_SET;
		int need_session = o->verb == CONSUL_LOCK || o->verb == CONSUL_UNLOCK ||
				   o->verb == CONSUL_CHECK_SESSION;

		if ((unsigned)o->verb >= sizeof(consul_verbs) / sizeof(consul_verbs[0]) ||
		    o->key == NULL || (need_value && o->value == NULL) ||
		    (need_session && o->session == NULL)) {
			err_set(errp, FS_EINVAL,
				"consul_txn: op %zu lacks its key, value or session", i);
			goto done;
		}
		kv = json_object_new_object();
		json_object_object_add(kv, "Verb", json_object_new_string(consul_verbs[o->verb]));
		json_object_object_add(kv, "Key", json_object_new_string(o->key));
		if (need_value) {
			b64 = consul_base64(o->value, strlen(o->value));
			json_object_object_add(kv, "Value", json_object_new_string(b64));
			free(b64);
		}
		if (need_session)
			json_object_object_add(kv, "Session", json_object_new_string(o->session));
		if (o->verb == CONSUL_CHECK_INDEX || o->verb == CONSUL_DELETE_CAS)
			json_object_object_add(kv, "Index", json_object_new_int64(o->index));
		op = json_object_new_object();
		json_object_object_add(op, "KV", kv);
		json_object_array_add(arr, op);
	}
	body = xstrdup(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN |
								   JSON_C_TO_STRING_NOSLASHESCAPE));
done:
	json_object_put(arr);
	return body;
}

void consul_txn_result_clear(struct consul_txn_result *res)
{
	size_t i;

	for (i = 0; i < res->n_kvs; i++)
		consul_kv_clear(&res->kvs[i]);
	free(res->kvs);
	for (i = 0; i < res->n_errors; i++)
		free(res->errors[i].what);
	free(res->errors);
	memset(res, 0, sizeof(*res));
}

/* The Results and Errors members of a txn answer into *res. */
static int consul_txn_parse(struct json_object *o, struct consul_txn_result *res, char **errp)
{
	struct json_object *results = NULL, *errors = NULL, *e, *v;
	const char *what;
	size_t i, n;

	if (!json_object_is_type(o, json_type_object))
		return err_set(errp, FS_EINVAL,
			       "Consul answered the txn with something other than "
			       "an object");
	json_object_object_get_ex(o, "Results", &results);
	json_object_object_get_ex(o, "Errors", &errors);
	if ((results != NULL && !json_object_is_type(results, json_type_array)) ||
	    (errors != NULL && !json_object_is_type(errors, json_type_array)))
		return err_set(errp, FS_EINVAL,
			       "Consul answered the txn with Results or Errors "
			       "that are not arrays");
	n = results != NULL ? json_object_array_length(results) : 0;
	if (n > 0)
		res->kvs = xcalloc(n, sizeof(*res->kvs));
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(results, i);
		if (!json_object_is_type(e, json_type_object) ||
		    !json_object_object_get_ex(e, "KV", &v))
			return err_set(errp, FS_EINVAL,
				       "Consul answered the txn with a result that "
				       "is not a KV result");
		if (consul_kv_parse(v, &res->kvs[i], "the txn", errp) != 0)
			return FS_EINVAL;
		res->n_kvs++;
	}
	n = errors != NULL ? json_object_array_length(errors) : 0;
	if (n > 0)
		res->errors = xcalloc(n, sizeof(*res->errors));
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(errors, i);
		if (!json_object_is_type(e, json_type_object) ||
		    consul_string_field(e, "What", &what) != 0 || what == NULL)
			return err_set(errp, FS_EINVAL,
				       "Consul answered the txn with a malformed "
				       "error");
		res->errors[i].op_index = (int)consul_index_field(e, "OpIndex");
		res->errors[i].what = xstrdup(what);
		res->n_errors++;
	}
	return 0;
}

int consul_txn_answer_parse(const char *body, size_t len, struct consul_txn_result *res,
			    char **errp)
{
	struct json_object *o = NULL;
	int rc;

	memset(res, 0, sizeof(*res));
	if ((rc = consul_json(body, len, "the txn", &o, errp)) == 0)
		rc = consul_txn_parse(o, res, errp);
	json_object_put(o);
	return rc;
}

int consul_txn(struct consul *c, const struct consul_op *ops, size_t n,
	       struct consul_txn_result *resp, char **errp)
{
	struct consul_txn_result own, *res = resp != NULL ? resp : &own;
	struct consul_answer a;
	struct buf msg;
	char *body = NULL;
	size_t i;
	int rc;

	memset(res, 0, sizeof(*res));
	memset(&a, 0, sizeof(a));
	buf_init(&a.body);
	if (n == 0 || n > CONSUL_MAX_OPS) {
		rc = err_set(errp, FS_EINVAL, "consul_txn: %zu ops (1 to %d)", n, CONSUL_MAX_OPS);
		goto done;
	}
	if ((body = consul_txn_body(ops, n, errp)) == NULL) {
		rc = FS_EINVAL;
		goto done;
	}
	if ((rc = consul_request(c, "PUT", "/v1/txn", body, &a, errp)) != 0)
		goto done;
	if (a.status != 200 && a.status != 409) {
		rc = consul_unexpected(&a, "txn", errp);
		goto done;
	}
	if ((rc = consul_txn_answer_parse(a.body.data, a.body.len, res, errp)) != 0)
		goto done;
	if (a.status == 409) {
		if (res->n_errors == 0) {
			rc = err_set(errp, FS_EINVAL, "Consul answered the txn 409 with no Errors");
			goto done;
		}
		/* an op the token may not do rolls the txn back with Consul's "Permission denied"
		 * as its error: an ACL refusal, not a failed check */
		for (i = 0; i < res->n_errors; i++) {
			if (strncmp(res->errors[i].what, "Permission denied", 17) == 0 ||
			    strncmp(res->errors[i].what, "ACL not found", 13) == 0) {
				struct buf w = { res->errors[i].what, strlen(res->errors[i].what),
						 0 };
				char *ex = consul_excerpt(&w);

				rc = err_set(errp, FS_EDENIED, DENIED "%s", ex);
				free(ex);
				goto done;
			}
		}
		buf_init(&msg);
		for (i = 0; i < res->n_errors; i++)
			buf_printf(&msg, "%sop %d: %s", i > 0 ? "; " : "", res->errors[i].op_index,
				   res->errors[i].what);
		rc = FS_EEXIST;
		if (errp != NULL) {
			free(*errp);
			*errp = buf_steal(&msg);
		}
		buf_free(&msg);
		goto done;
	}
	if (consul_verb_writes(ops[n - 1].verb)) {
		if (res->n_kvs == 0) {
			rc = err_set(errp, FS_EINVAL,
				     "Consul answered the txn without the result "
				     "of its write");
			goto done;
		}
		res->last_index = res->kvs[res->n_kvs - 1].modify_index;
	}
done:
	if (res == &own)
		consul_txn_result_clear(&own);
	buf_free(&a.body);
	free(body);
	return rc;
}

int consul_txn_invalid_session(const struct consul_txn_result *res)
{
	size_t i;

	for (i = 0; i < res->n_errors; i++)
		if (strncmp(res->errors[i].what, "invalid session", 15) == 0)
			return 1;
	return 0;
}

int consul_session_create(struct consul *c, const char *name, int ttl_s, int lock_delay_s,
			  char **idp, char **errp)
{
	struct consul_answer a;
	struct json_object *req = json_object_new_object(), *o = NULL;
	const char *id;
	char *ttl = xasprintf("%ds", ttl_s), *delay = xasprintf("%ds", lock_delay_s);
	int rc;

	*idp = NULL;
	json_object_object_add(req, "Name", json_object_new_string(name));
	json_object_object_add(req, "TTL", json_object_new_string(ttl));
	json_object_object_add(req, "Behavior", json_object_new_string("release"));
	json_object_object_add(req, "LockDelay", json_object_new_string(delay));
	/* no checks: a pure TTL session, alive exactly as long as it is renewed (doc/consul.md) */
	json_object_object_add(req, "Checks", json_object_new_array());
	rc = consul_request(c, "PUT", "/v1/session/create",
			    json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN), &a, errp);
	if (rc != 0)
		goto done;
	if (a.status != 200) {
		rc = consul_unexpected(&a, "session create", errp);
		goto done;
	}
	if ((rc = consul_json(a.body.data, a.body.len, "session create", &o, errp)) != 0)
		goto done;
	if (!json_object_is_type(o, json_type_object) || consul_string_field(o, "ID", &id) != 0 ||
	    id == NULL) {
		rc = err_set(errp, FS_EINVAL, "Consul answered session create without an ID");
		goto done;
	}
	*idp = xstrdup(id);
done:
	json_object_put(req);
	json_object_put(o);
	buf_free(&a.body);
	free(ttl);
	free(delay);
	return rc;
}

void consul_session_clear(struct consul_session *s)
{
	free(s->id);
	free(s->name);
	free(s->node);
	free(s->behavior);
	free(s->ttl);
	memset(s, 0, sizeof(*s));
}

int consul_session_answer_parse(const char *body, size_t len, const char *what,
				struct consul_session *s, char **errp)
{
	struct json_object *arr = NULL, *o, *v;
	const char *id, *name, *node, *behavior, *ttl;
	int rc;

	if (s != NULL)
		memset(s, 0, sizeof(*s));
	if ((rc = consul_json(body, len, what, &arr, errp)) != 0)
		return rc;
	/* Consul 1.8 answers info of an unknown session with [] (or null) */
	if (arr == NULL ||
	    (json_object_is_type(arr, json_type_array) && json_object_array_length(arr) == 0)) {
		rc = err_set(errp, FS_ENOENT, "Consul does not know the session");
		goto done;
	}
	o = json_object_is_type(arr, json_type_array) ? json_object_array_get_idx(arr, 0) : NULL;
	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    consul_string_field(o, "ID", &id) != 0 || id == NULL ||
	    consul_string_field(o, "Name", &name) != 0 ||
	    consul_string_field(o, "Node", &node) != 0 ||
	    consul_string_field(o, "Behavior", &behavior) != 0 ||
	    consul_string_field(o, "TTL", &ttl) != 0) {
		rc = err_set(errp, FS_EINVAL, "Consul answered %s with a malformed session", what);
		goto done;
	}
	if (s != NULL) {
		s->id = xstrdup(id);
		s->name = name != NULL ? xstrdup(name) : NULL;
		s->node = node != NULL ? xstrdup(node) : NULL;
		s->behavior = behavior != NULL ? xstrdup(behavior) : NULL;
		s->ttl = ttl != NULL ? xstrdup(ttl) : NULL;
		s->create_index = consul_index_field(o, "CreateIndex");
		if (json_object_object_get_ex(o, "LockDelay", &v) &&
		    json_object_is_type(v, json_type_int))
			s->lock_delay_ns = json_object_get_int64(v);
	}
done:
	json_object_put(arr);
	return rc;
}

int consul_session_renew(struct consul *c, const char *id, char **errp)
{
	struct consul_answer a;
	char *path = consul_path1("/v1/session/renew/", id);
	int rc;

	if ((rc = consul_request(c, "PUT", path, NULL, &a, errp)) != 0)
		goto done;
	/* an expired or destroyed session: 404 "Session id '...' not found" */
	if (a.status == 404)
		rc = err_set(errp, FS_ENOENT, "Consul session %s no longer exists", id);
	else if (a.status != 200)
		rc = consul_unexpected(&a, "session renew", errp);
	else if ((rc = consul_session_answer_parse(a.body.data, a.body.len, "session renew", NULL,
						   errp)) == FS_ENOENT)
		err_set(errp, FS_ENOENT, "Consul session %s no longer exists", id);
done:
	buf_free(&a.body);
	free(path);
	return rc;
}

int consul_session_destroy(struct consul *c, const char *id, char **errp)
{
	struct consul_answer a;
	char *path = consul_path1("/v1/session/destroy/", id);
	int rc;

	if ((rc = consul_request(c, "PUT", path, NULL, &a, errp)) == 0 && a.status != 200)
		rc = consul_unexpected(&a, "session destroy", errp);
	buf_free(&a.body);
	free(path);
	return rc;
}

int consul_session_info(struct consul *c, const char *id, struct consul_session *s, char **errp)
{
	struct consul_answer a;
	char *path = consul_path1("/v1/session/info/", id);
	int rc;

	memset(s, 0, sizeof(*s));
	if ((rc = consul_request(c, "GET", path, NULL, &a, errp)) != 0)
		goto done;
	if (a.status != 200) {
		rc = consul_unexpected(&a, "session info", errp);
		goto done;
	}
	if ((rc = consul_session_answer_parse(a.body.data, a.body.len, "session info", s, errp)) ==
	    FS_ENOENT)
		err_set(errp, FS_ENOENT, "Consul session %s does not exist", id);
	else if (rc != 0)
		consul_session_clear(s);
done:
	buf_free(&a.body);
	free(path);
	return rc;
}

int consul_ping(struct consul *c, char **errp)
{
	struct consul_answer a;
	struct json_object *o = NULL;
	int rc;

	if ((rc = consul_request(c, "GET", "/v1/status/leader", NULL, &a, errp)) != 0)
		goto done;
	if (a.status != 200) {
		rc = consul_unexpected(&a, "status/leader", errp);
		goto done;
	}
	if ((rc = consul_json(a.body.data, a.body.len, "status/leader", &o, errp)) != 0)
		goto done;
	if (!json_object_is_type(o, json_type_string))
		rc = err_set(errp, FS_EINVAL,
			     "Consul answered status/leader with something other "
			     "than a string");
	else if (json_object_get_string_len(o) == 0)
		rc = err_set(errp, FS_EIO, UNAVAILABLE "%s has no cluster leader", c->address);
done:
	json_object_put(o);
	buf_free(&a.body);
	return rc;
}

/* The answer of a list (a JSON array, or a 404 for nothing under the prefix), for the two list
 * calls below: 0 with *arrp the array (the caller puts it; NULL for a 404). */
static int consul_list(struct consul *c, const char *prefix, const char *query, const char *what,
		       struct json_object **arrp, char **errp)
{
	struct consul_answer a;
	char *key = consul_key_path("/v1/kv/", prefix), *path = xasprintf("%s?%s", key, query);
	int rc;

	*arrp = NULL;
	if ((rc = consul_request(c, "GET", path, NULL, &a, errp)) != 0 || a.status == 404)
		goto done;
	if (a.status != 200) {
		rc = consul_unexpected(&a, what, errp);
		goto done;
	}
	if ((rc = consul_json(a.body.data, a.body.len, what, arrp, errp)) != 0)
		goto done;
	if (!json_object_is_type(*arrp, json_type_array)) {
		rc = err_set(errp, FS_EINVAL,
			     "Consul answered %s with something other than an array", what);
		json_object_put(*arrp);
		*arrp = NULL;
	}
done:
	buf_free(&a.body);
	free(path);
	free(key);
	return rc;
}

int consul_kv_keys(struct consul *c, const char *prefix, const char *separator, char ***keysp,
		   size_t *np, char **errp)
{
	struct json_object *arr = NULL, *k;
	char *what = xasprintf("a list of the keys under '%s'", prefix), *query;
	char **keys = NULL;
	size_t n = 0, i, len;
	int rc;

	query = separator != NULL ? xasprintf("keys&separator=%s", separator) : xstrdup("keys");
	*keysp = NULL;
	*np = 0;
	if ((rc = consul_list(c, prefix, query, what, &arr, errp)) != 0 || arr == NULL)
		goto done;
	len = json_object_array_length(arr);
	keys = xcalloc(len + 1, sizeof(*keys));
	for (i = 0; i < len; i++) {
		k = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(k, json_type_string)) {
			rc = err_set(errp, FS_EINVAL,
				     "Consul answered %s with a key that is not a string", what);
			goto done;
		}
		keys[n++] = xstrdup(json_object_get_string(k));
	}
	*keysp = keys;
	*np = n;
	keys = NULL;
done:
	for (i = 0; keys != NULL && i < n; i++)
		free(keys[i]);
	free(keys);
	json_object_put(arr);
	free(query);
	free(what);
	return rc;
}

int consul_kv_recurse(struct consul *c, const char *prefix, size_t max, struct consul_kv **kvsp,
		      size_t *np, char **errp)
{
	struct json_object *arr = NULL;
	struct consul_kv *kvs = NULL;
	char *what = xasprintf("a read of the keys under '%s'", prefix);
	size_t n = 0, i, len;
	int rc;

	*kvsp = NULL;
	*np = 0;
	if ((rc = consul_list(c, prefix, "recurse", what, &arr, errp)) != 0 || arr == NULL)
		goto done;
	len = json_object_array_length(arr);
	if (len > max)
		len = max;
	kvs = xcalloc(len + 1, sizeof(*kvs));
	for (i = 0; i < len; i++) {
		if ((rc = consul_kv_parse(json_object_array_get_idx(arr, i), &kvs[n], what,
					  errp)) != 0) {
			consul_kv_clear(&kvs[n]);
			goto done;
		}
		n++;
	}
	*kvsp = kvs;
	*np = n;
	kvs = NULL;
done:
	for (i = 0; kvs != NULL && i < n; i++)
		consul_kv_clear(&kvs[i]);
	free(kvs);
	json_object_put(arr);
	free(what);
	return rc;
}
