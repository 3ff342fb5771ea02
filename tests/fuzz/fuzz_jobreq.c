/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: any bytes as a /submit body (jobreq_parse, the body's shape check). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "jobreq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct job_request req;
	char *err = NULL;

	if (jobreq_parse((const char *)data, size, &req, &err) == 0)
		jobreq_free(&req);
	free(err);
	return 0;
}
