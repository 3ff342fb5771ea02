/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: any bytes as a request's QUERY_STRING (up to the first NUL, as FastCGI passes
 * it) through http_query_parse and the lookups the routes make. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_request req;
	size_t i, qlen;

	memset(&req, 0, sizeof(req));
	req.query = xstrndup((const char *)data, size);
	qlen = strlen(req.query);
	http_query_parse(&req);
	/* decoding only shortens: a parameter longer than the query was read from elsewhere */
	for (i = 0; i < req.n_params; i++)
		if (strlen(req.params[i].name) + strlen(req.params[i].value) > qlen)
			abort();
	(void)http_query_get(&req, "id");
	(void)http_query_get(&req, "pretty");
	(void)http_query_invalid(&req);
	http_query_free(&req);
	free(req.query);
	return 0;
}
