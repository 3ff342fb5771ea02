/* SPDX-License-Identifier: Apache-2.0 */
/* The query string of a request as the original's map read it: '&'-separated name=value pairs,
 * form-decoded. Pure string work with no libfcgi call, so that a fuzz target can drive it. */
#include "http.h"

#include <stdlib.h>
#include <string.h>

#include "utf8.h"

static int http_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* application/x-www-form-urlencoded decoding of s[0..len): '+' is a space, %XX a byte; a '%' not
 * followed by two hex digits stays as it is (as the url crate does). */
static char *http_unescape(const char *s, size_t len)
{
	char *out = xmalloc(len + 1), *o = out;
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] == '+') {
			*o++ = ' ';
		} else if (s[i] == '%' && i + 2 < len && http_hexval(s[i + 1]) >= 0 &&
			   http_hexval(s[i + 2]) >= 0) {
			*o++ = (char)(http_hexval(s[i + 1]) * 16 + http_hexval(s[i + 2]));
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

void http_query_parse(struct http_request *req)
{
	const char *p = req->query, *amp, *eq;
	size_t len;

	while (*p != '\0') {
		amp = strchr(p, '&');
		len = amp != NULL ? (size_t)(amp - p) : strlen(p);
		if (len > 0) {
			struct http_param *hp;

			req->params =
				xgrow_by_one(req->params, req->n_params, sizeof(*req->params));
			hp = &req->params[req->n_params++];
			eq = memchr(p, '=', len);
			if (eq != NULL) {
				hp->name = http_unescape(p, (size_t)(eq - p));
				hp->value = http_unescape(eq + 1, len - (size_t)(eq - p) - 1);
			} else {
				hp->name = http_unescape(p, len);
				hp->value = xstrdup("");
			}
		}
		p += len;
		if (*p == '&')
			p++;
	}
}

void http_query_free(struct http_request *req)
{
	size_t i;

	for (i = 0; i < req->n_params; i++) {
		free(req->params[i].name);
		free(req->params[i].value);
	}
	free(req->params);
	req->params = NULL;
	req->n_params = 0;
}

const char *http_query_get(const struct http_request *req, const char *name)
{
	size_t i;

	for (i = req->n_params; i > 0; i--)
		if (strcmp(req->params[i - 1].name, name) == 0)
			return req->params[i - 1].value;
	return NULL;
}

const char *http_query_invalid(const struct http_request *req)
{
	size_t i;

	for (i = 0; i < req->n_params; i++) {
		const struct http_param *p = &req->params[i];

		if (!utf8_valid(p->name, strlen(p->name)) ||
		    !utf8_valid(p->value, strlen(p->value)))
			return p->name;
	}
	return NULL;
}
