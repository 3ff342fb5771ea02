/* SPDX-License-Identifier: Apache-2.0 */
/* Request copy, query parsing, JSON output in serde_json's forms, response writing. */
#include "http.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

/* A parameter's value as a new string ("" when absent); libfcgi's copy dies at the next accept. */
static char *http_param_dup(FCGX_Request *fr, const char *name)
{
	const char *v = FCGX_GetParam(name, fr->envp);

	return xstrdup(v != NULL ? v : "");
}

/* Reads the body to the end of the stdin stream, keeping at most HTTP_MAX_BODY bytes; the rest
 * of an oversized body is read and dropped so that a kept-alive connection stays in step. */
static void http_read_body(FCGX_Request *fr, struct http_request *req)
{
	const char *cl = FCGX_GetParam("CONTENT_LENGTH", fr->envp);
	char *end = NULL;
	unsigned long long declared = 0;
	char sink[4096];
	struct buf b;
	int n;

	if (cl != NULL && *cl != '\0') {
		declared = strtoull(cl, &end, 10);
		if (*end == '\0' && declared > HTTP_MAX_BODY)
			req->body_too_large = 1;
	}
	buf_init(&b);
	while (!req->body_too_large) {
		size_t want = HTTP_MAX_BODY + 1 - b.len;

		if (want > sizeof(sink))
			want = sizeof(sink);
		n = FCGX_GetStr(sink, (int)want, fr->in);
		if (n <= 0)
			break;
		buf_append(&b, sink, (size_t)n);
		if (b.len > HTTP_MAX_BODY)
			req->body_too_large = 1;
	}
	while (req->body_too_large && FCGX_GetStr(sink, sizeof(sink), fr->in) > 0)
		; /* drain */
	if (req->body_too_large || b.len == 0) {
		buf_free(&b);
		return;
	}
	req->body_len = b.len;
	req->body = buf_steal(&b);
}

void http_request_read(FCGX_Request *fr, struct http_request *req)
{
	const char *doc;

	memset(req, 0, sizeof(*req));
	req->method = http_param_dup(fr, "REQUEST_METHOD");
	doc = FCGX_GetParam("DOCUMENT_URI", fr->envp);
	if (doc != NULL && *doc != '\0') {
		req->path = xstrdup(doc);
	} else {
		const char *uri = FCGX_GetParam("REQUEST_URI", fr->envp);

		uri = uri != NULL ? uri : "";
		req->path = xstrndup(uri, strcspn(uri, "?"));
	}
	req->query = http_param_dup(fr, "QUERY_STRING");
	req->remote_addr = http_param_dup(fr, "REMOTE_ADDR");
	req->remote_user = http_param_dup(fr, "REMOTE_USER");
	if (*req->remote_user == '\0') {
		free(req->remote_user);
		req->remote_user = NULL;
	}
	http_query_parse(req);
	req->pretty = http_query_get(req, "pretty") != NULL &&
		      strcmp(http_query_get(req, "pretty"), "1") == 0;
	http_read_body(fr, req);
}

void http_request_free(struct http_request *req)
{
	http_query_free(req);
	free(req->method);
	free(req->path);
	free(req->query);
	free(req->body);
	free(req->remote_user);
	free(req->remote_addr);
	free(req->audit_id);
	memset(req, 0, sizeof(*req));
}

/* ---- JSON in serde_json's forms ---- */

static void http_json_string(struct buf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, n, bad = 1;

	buf_putc(out, '"');
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x80) {
			if ((n = utf8_seq_len(s + i, len - i, &bad)) > 0) {
				buf_append(out, s + i, n);
			} else {
				buf_puts(out, "\xef\xbf\xbd");
				n = bad;
			}
			i += n - 1;
			continue;
		}
		switch (c) {
		case '"':
			buf_puts(out, "\\\"");
			break;
		case '\\':
			buf_puts(out, "\\\\");
			break;
		case '\b':
			buf_puts(out, "\\b");
			break;
		case '\f':
			buf_puts(out, "\\f");
			break;
		case '\n':
			buf_puts(out, "\\n");
			break;
		case '\r':
			buf_puts(out, "\\r");
			break;
		case '\t':
			buf_puts(out, "\\t");
			break;
		default:
			if (c < 0x20) {
				buf_puts(out, "\\u00");
				buf_putc(out, hex[c >> 4]);
				buf_putc(out, hex[c & 0xf]);
			} else {
				buf_putc(out, (char)c);
			}
		}
	}
	buf_putc(out, '"');
}

static void http_json_indent(struct buf *out, int depth)
{
	buf_putc(out, '\n');
	for (int i = 0; i < depth; i++)
		buf_puts(out, "  ");
}

static void http_json_value(struct buf *out, struct json_object *v, int pretty, int depth)
{
	size_t i, n;
	int first = 1;

	switch (json_object_get_type(v)) {
	case json_type_null:
		buf_puts(out, "null");
		break;
	case json_type_boolean:
		buf_puts(out, json_object_get_boolean(v) ? "true" : "false");
		break;
	case json_type_int:
		buf_printf(out, "%" PRId64, json_object_get_int64(v));
		break;
	case json_type_double:
		buf_printf(out, "%.17g", json_object_get_double(v));
		break;
	case json_type_string:
		http_json_string(out, json_object_get_string(v),
				 (size_t)json_object_get_string_len(v));
		break;
	case json_type_array:
		n = json_object_array_length(v);
		buf_putc(out, '[');
		for (i = 0; i < n; i++) {
			if (i > 0)
				buf_putc(out, ',');
			if (pretty)
				http_json_indent(out, depth + 1);
			http_json_value(out, json_object_array_get_idx(v, i), pretty, depth + 1);
		}
		if (pretty && n > 0)
			http_json_indent(out, depth);
		buf_putc(out, ']');
		break;
	case json_type_object:
		buf_putc(out, '{');
		json_object_object_foreach(v, key, val)
		{
			if (!first)
				buf_putc(out, ',');
			if (pretty)
				http_json_indent(out, depth + 1);
			http_json_string(out, key, strlen(key));
			buf_puts(out, pretty ? ": " : ":");
			http_json_value(out, val, pretty, depth + 1);
			first = 0;
		}
		if (pretty && !first)
			http_json_indent(out, depth);
		buf_putc(out, '}');
		break;
	}
}

/* ---- responses ---- */

/* The reason phrase of an HTTP status ("OK", "Not Found", ...). */
static const char *http_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 202:
		return "Accepted";
	case 400:
		return "Bad Request";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 413:
		return "Payload Too Large";
	case 429:
		return "Too Many Requests";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	case 507:
		return "Insufficient Storage";
	}
	return "Unknown";
}

void http_respond(FCGX_Request *fr, int status, const char *content_type, const char *extra_headers,
		  const char *body, size_t body_len)
{
	char head[512];
	int n;

	/* FCGX_FPrintF knows no %zu: libc formats, libfcgi only copies bytes. */
	n = snprintf(head, sizeof(head),
		     "Status: %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		     "Cache-Control: no-store\r\n",
		     status, http_reason(status),
		     content_type != NULL ? content_type : "application/json; charset=UTF-8",
		     body_len);
	if (n < 0 || (size_t)n >= sizeof(head))
		abort(); /* every argument above is a short constant */
	FCGX_PutStr(head, n, fr->out);
	if (extra_headers != NULL)
		FCGX_PutStr(extra_headers, (int)strlen(extra_headers), fr->out);
	FCGX_PutStr("\r\n", 2, fr->out);
	if (body_len > 0)
		FCGX_PutStr(body, (int)body_len, fr->out);
}

void http_respond_json(FCGX_Request *fr, struct http_request *req, int status,
		       struct json_object *v, const char *extra_headers)
{
	struct buf b;

	req->status = status;
	buf_init(&b);
	http_json_value(&b, v, req->pretty, 0);
	http_respond(fr, status, NULL, extra_headers, b.data, b.len);
	buf_free(&b);
	json_object_put(v);
}

void http_respond_message(FCGX_Request *fr, struct http_request *req, int status, const char *msg)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "message", json_object_new_string(msg));
	http_respond_json(fr, req, status, o, NULL);
}
