/* SPDX-License-Identifier: Apache-2.0 */
/* The keyed string map of strmap.h: open addressing with linear probing, at most half full. */
#include "strmap.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "xalloc.h"

struct strmap_slot {
	const char *key; /* NULL: empty */
	uint64_t hash;
	size_t value;
};

struct strmap {
	struct strmap_slot *slots;
	size_t cap; /* a power of two */
	size_t n;
};

static unsigned char strmap_key[16];
static pthread_once_t strmap_key_once = PTHREAD_ONCE_INIT;

static void strmap_key_init(void)
{
	struct timespec ts;
	uint64_t mix;

	if (getrandom(strmap_key, sizeof strmap_key, GRND_NONBLOCK) == (ssize_t)sizeof strmap_key)
		return;
	/* Only before the kernel's pool is ready (early boot): a key nobody outside can read
	 * beats a fixed one. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	mix = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ULL ^ (uint64_t)ts.tv_sec ^
	      (uint64_t)getpid() << 32;
	memcpy(strmap_key, &mix, sizeof mix);
	mix = ~mix * 0xbf58476d1ce4e5b9ULL;
	memcpy(strmap_key + 8, &mix, sizeof mix);
}

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                   \
	do {                       \
		v0 += v1;          \
		v1 = ROTL(v1, 13); \
		v1 ^= v0;          \
		v0 = ROTL(v0, 32); \
		v2 += v3;          \
		v3 = ROTL(v3, 16); \
		v3 ^= v2;          \
		v0 += v3;          \
		v3 = ROTL(v3, 21); \
		v3 ^= v0;          \
		v2 += v1;          \
		v1 = ROTL(v1, 17); \
		v1 ^= v2;          \
		v2 = ROTL(v2, 32); \
	} while (0)

static uint64_t strmap_le64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

uint64_t strmap_siphash(const unsigned char key[16], const void *data, size_t len)
{
	const unsigned char *in = data, *end = in + (len - len % 8);
	uint64_t k0 = strmap_le64(key), k1 = strmap_le64(key + 8);
	uint64_t v0 = 0x736f6d6570736575ULL ^ k0, v1 = 0x646f72616e646f6dULL ^ k1;
	uint64_t v2 = 0x6c7967656e657261ULL ^ k0, v3 = 0x7465646279746573ULL ^ k1;
	uint64_t b = (uint64_t)len << 56, m;

	for (; in != end; in += 8) {
		m = strmap_le64(in);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (size_t i = len % 8; i-- > 0;)
		b |= (uint64_t)in[i] << (8 * i);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

static uint64_t strmap_hash(const char *key)
{
	return strmap_siphash(strmap_key, key, strlen(key));
}

/* The slot holding key (hash h), or the empty slot where it would go. */
static struct strmap_slot *strmap_find(const struct strmap *m, const char *key, uint64_t h)
{
	size_t i = (size_t)h & (m->cap - 1);

	while (m->slots[i].key != NULL &&
	       (m->slots[i].hash != h || strcmp(m->slots[i].key, key) != 0))
		i = (i + 1) & (m->cap - 1);
	return &m->slots[i];
}

static void strmap_resize(struct strmap *m, size_t cap)
{
	struct strmap_slot *old = m->slots;
	size_t old_cap = m->cap;

	m->slots = xcalloc(cap, sizeof *m->slots);
	m->cap = cap;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].key != NULL)
			*strmap_find(m, old[i].key, old[i].hash) = old[i];
	free(old);
}

struct strmap *strmap_new(size_t n)
{
	struct strmap *m = xcalloc(1, sizeof *m);
	size_t cap = 16;

	pthread_once(&strmap_key_once, strmap_key_init);
	while (cap / 2 < n && cap < SIZE_MAX / 4)
		cap *= 2;
	strmap_resize(m, cap);
	return m;
}

long strmap_put(struct strmap *m, const char *key, size_t value)
{
	uint64_t h = strmap_hash(key);
	struct strmap_slot *s = strmap_find(m, key, h);

	if (s->key != NULL)
		return (long)s->value;
	if ((m->n + 1) * 2 > m->cap) {
		strmap_resize(m, m->cap * 2);
		s = strmap_find(m, key, h);
	}
	s->key = key;
	s->hash = h;
	s->value = value;
	m->n++;
	return -1;
}

long strmap_get(const struct strmap *m, const char *key)
{
	const struct strmap_slot *s = strmap_find(m, key, strmap_hash(key));

	return s->key != NULL ? (long)s->value : -1;
}

void strmap_free(struct strmap *m)
{
	if (m == NULL)
		return;
	free(m->slots);
	free(m);
}
