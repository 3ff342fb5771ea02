/* SPDX-License-Identifier: Apache-2.0 */
/* One HTTP request as the responder sees it through FastCGI, and the answers it writes: the
 * request's parameters and body copied out of libfcgi (which frees them at the next accept), the
 * query string, JSON bodies in the original's two forms (serde_json's compact and pretty), and
 * the response head. */
#ifndef FS_HTTP_H
#define FS_HTTP_H

#include <fcgiapp.h>
#include <json-c/json.h>
#include <stddef.h>

#include "xalloc.h"

/* The body limit of the responder; nginx's client_max_body_size in nginx/ says the same. */
#define HTTP_MAX_BODY  (64u * 1024)
#define HTTP_TOO_LARGE "Error: Request body too large (limit 64 KiB)"

struct http_param {
	char *name;  /* percent-decoded, owned */
	char *value; /* percent-decoded, owned; "" for a name without '=' */
};

/* A request, owned by the handling thread; every string is its own copy. */
struct http_request {
	char *method; /* REQUEST_METHOD, "" if absent */
	char *path;   /* DOCUMENT_URI (nginx's normalised path), else REQUEST_URI up to '?' */
	char *query;  /* QUERY_STRING, "" if absent */
	struct http_param *params; /* the query, in order */
	size_t n_params;
	char *body; /* NUL-terminated copy of the body (may hold NULs); NULL when empty */
	size_t body_len;
	int body_too_large; /* the body exceeded HTTP_MAX_BODY: answer 413 without reading on */
	int pretty;         /* ?pretty=1 */
	char *remote_user;  /* REMOTE_USER (nginx's authenticated user), NULL when absent or "" */
	char *remote_addr;  /* REMOTE_ADDR, "" if absent */
	int status;         /* the answer's status, set by http_respond_json; 0 before */
	char *audit_id;     /* the job a POST is about, set (owned) by its handler; NULL if none */
};

/* Copies method, path and query of the accepted request fr and reads its body: by
 * CONTENT_LENGTH when given, else to the end of the FastCGI stdin stream, whatever the
 * Content-Type; at most HTTP_MAX_BODY bytes (more sets body_too_large). Never fails on input;
 * free with http_request_free. */
void http_request_read(FCGX_Request *fr, struct http_request *req);
void http_request_free(struct http_request *req);

/* Splits req->query at '&' into req->params (appended, in order): name=value, or a bare name
 * with the value ""; empty pairs are skipped; '+' and %XX are decoded (a '%' not followed by two
 * hex digits stays as it is, as the url crate does). Never fails; http_request_free frees them. */
void http_query_parse(struct http_request *req);
/* Frees req->params (the rest of req is untouched; http_request_free calls it). */
void http_query_free(struct http_request *req);

/* The last value of query parameter name (as the original's map kept it), or NULL. Valid while
 * req lives. */
const char *http_query_get(const struct http_request *req, const char *name);

/* The name of the first query parameter whose name or value (percent-decoded) is not valid
 * UTF-8 (utf8.h), or NULL when all are. Valid while req lives; may itself be invalid UTF-8. */
const char *http_query_invalid(const struct http_request *req);

/* Writes a whole response: status line, Content-Type (application/json; charset=UTF-8 unless
 * content_type is given), Content-Length, extra_headers (NULL or "Name: value\r\n" lines), body. */
void http_respond(FCGX_Request *fr, int status, const char *content_type, const char *extra_headers,
		  const char *body, size_t body_len);

/* Responds with v serialised as serde_json does, for req: compact ({"a":1}) or pretty (2-space
 * indent, "key": value, [] and {} for empty containers), '/' not escaped, non-ASCII as UTF-8,
 * bytes that are not valid UTF-8 as U+FFFD (utf8_sanitize), so that every answer is valid
 * UTF-8 whatever a stored value or an echoed request string holds; NULL v is "null". Takes
 * ownership of v. Records status in req->status (for the audit line). */
void http_respond_json(FCGX_Request *fr, struct http_request *req, int status,
		       struct json_object *v, const char *extra_headers);

/* Responds {"message": msg}. */
void http_respond_message(FCGX_Request *fr, struct http_request *req, int status, const char *msg);

#endif
