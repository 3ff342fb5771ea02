/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: any bytes as one of Consul's answers. The first byte picks the kind (its
 * two low bits): 0 a KV GET of FUZZ_KEY (and, when that parses, its value as a job entry, as a
 * claim reads it), 1 a txn answer, 2 a session info answer, 3 a KV value as a job entry. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "consul.h"
#include "jobentry.h"

#define FUZZ_KEY                          \
	"com.snowplowanalytics/factotum/" \
	"0e9b3ac1b7e9ab8bca4d3b36bbd1c4c21d4b2a2c1b2d4d5e3b1c6b4a0b9e8f7a"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* value as a job entry; the result is thrown away, only the parse matters. */
static void fuzz_jobentry(const char *value, size_t len)
{
	struct jobentry e;
	char *err = NULL;

	(void)jobentry_parse(value, len, &e, &err);
	jobentry_free(&e);
	free(err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data + 1;
	struct consul_txn_result res;
	struct consul_session s;
	struct consul_kv kv;
	char *err = NULL;

	if (size == 0)
		return 0;
	switch (data[0] & 3) {
	case 0:
		if (consul_kv_answer_parse(body, size - 1, FUZZ_KEY, &kv, &err) == 0 &&
		    kv.value != NULL)
			fuzz_jobentry(kv.value, kv.value_len);
		consul_kv_clear(&kv);
		break;
	case 1:
		(void)consul_txn_answer_parse(body, size - 1, &res, &err);
		(void)consul_txn_invalid_session(&res);
		consul_txn_result_clear(&res);
		break;
	case 2:
		(void)consul_session_answer_parse(body, size - 1, "session info", &s, &err);
		consul_session_clear(&s);
		break;
	default:
		fuzz_jobentry(body, size - 1);
		break;
	}
	free(err);
	return 0;
}
