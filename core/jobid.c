/* SPDX-License-Identifier: Apache-2.0 */
/* The job id: Factotum's job reference, SHA-256 over the rendered compact factfile and the tags. */
#include "jobid.h"

#include <stdlib.h>
#include <string.h>

#include <nettle/sha2.h>

#include "xalloc.h"

static int jobid_cmp_kv(const void *a, const void *b)
{
	const struct kv *const *x = a, *const *y = b;
	/* strcmp compares as unsigned char: byte-wise order, as Rust's BTreeMap<String, _>. */
	return strcmp((*x)->key, (*y)->key);
}

void jobid_compute(const char *compact, size_t compact_len, const struct kvlist *tags,
		   char out[JOBID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	struct sha256_ctx ctx;
	uint8_t digest[SHA256_DIGEST_SIZE];
	const struct kv **sorted = NULL;
	size_t n = tags != NULL ? tags->n : 0;

	sha256_init(&ctx);
	sha256_update(&ctx, compact_len, (const uint8_t *)compact);
	/* Sort pointers rather than the caller's list, which is const. */
	if (n > 0) {
		sorted = xcalloc(n, sizeof *sorted);
		for (size_t i = 0; i < n; i++)
			sorted[i] = &tags->items[i];
		qsort(sorted, n, sizeof *sorted, jobid_cmp_kv);
	}
	for (size_t i = 0; i < n; i++) {
		sha256_update(&ctx, strlen(sorted[i]->key), (const uint8_t *)sorted[i]->key);
		sha256_update(&ctx, strlen(sorted[i]->value), (const uint8_t *)sorted[i]->value);
	}
	sha256_digest(&ctx, sizeof digest, digest);
	for (size_t i = 0; i < sizeof digest; i++) {
		out[2 * i] = hex[digest[i] >> 4];
		out[2 * i + 1] = hex[digest[i] & 0x0f];
	}
	out[JOBID_LEN] = '\0';
	free(sorted);
}

int jobid_is_valid(const char *s)
{
	size_t i;

	if (s == NULL)
		return 0;
	for (i = 0; i < JOBID_LEN; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return 0;
	}
	return s[JOBID_LEN] == '\0';
}
