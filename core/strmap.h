/* SPDX-License-Identifier: Apache-2.0 */
/* A map from strings to indices (a factfile's task names to task positions), so that a lookup
 * costs the same whatever the number of names. The hash is SipHash-2-4 under a random key drawn
 * once per process: names come from submitters, and with a fixed hash they could pick names that
 * all collide and make every lookup a walk through all of them. */
#ifndef FS_STRMAP_H
#define FS_STRMAP_H

#include <stddef.h>
#include <stdint.h>

struct strmap;

/* A new, empty map sized for n keys (it grows past that); free with strmap_free. */
struct strmap *strmap_new(size_t n);

/* Maps key to value unless key is already in the map. Returns -1 when it was added, else the
 * value already mapped (which stays). key is borrowed: it must stay valid and unchanged for as long
 * as the map is used. */
long strmap_put(struct strmap *m, const char *key, size_t value);

/* The value mapped to key, or -1. */
long strmap_get(const struct strmap *m, const char *key);

/* NULL is allowed. */
void strmap_free(struct strmap *m);

/* SipHash-2-4 of len bytes of data under the 16-byte key (its reference definition), for the
 * unit test against the published test vectors. */
uint64_t strmap_siphash(const unsigned char key[16], const void *data, size_t len);

#endif
