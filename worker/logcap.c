/* SPDX-License-Identifier: Apache-2.0 */
/* The capped run log, head and tail kept (see logcap.h). */
#include "logcap.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xalloc.h"

void logcap_init(struct logcap *lc, int fd, size_t max)
{
	memset(lc, 0, sizeof(*lc));
	/* the floor keeps a tail of at least LOGCAP_MARKER_MAX bytes */
	if (max < 4 * LOGCAP_MARKER_MAX)
		max = 4 * LOGCAP_MARKER_MAX;
	lc->fd = fd;
	lc->max = max;
	lc->head_max = max / 2;
	lc->tail_max = max - lc->head_max - LOGCAP_MARKER_MAX;
	lc->ring = xmalloc(lc->tail_max);
}

/* pwrite all of it. */
static int logcap_pwrite(int fd, const char *p, size_t n, uint64_t off)
{
	ssize_t w;

	if (fd < 0)
		return 0;
	while (n > 0) {
		w = pwrite(fd, p, n, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

static void logcap_ring_add(struct logcap *lc, const char *p, size_t n)
{
	size_t first;

	if (n >= lc->tail_max) {
		memcpy(lc->ring, p + n - lc->tail_max, lc->tail_max);
		lc->ring_len = lc->tail_max;
		lc->ring_pos = 0;
		return;
	}
	first = lc->tail_max - lc->ring_pos;
	if (first > n)
		first = n;
	memcpy(lc->ring + lc->ring_pos, p, first);
	memcpy(lc->ring, p + first, n - first);
	lc->ring_pos = (lc->ring_pos + n) % lc->tail_max;
	lc->ring_len = lc->ring_len + n > lc->tail_max ? lc->tail_max : lc->ring_len + n;
}

int logcap_write(struct logcap *lc, const void *data, size_t n)
{
	const char *p = data;
	size_t h = 0;
	uint64_t at = lc->total;
	int rc = 0;

	if (lc->head_len < lc->head_max) {
		h = lc->head_max - lc->head_len;
		if (h > n)
			h = n;
		lc->head_len += h;
	}
	/* everything past the head may become the tail */
	logcap_ring_add(lc, p + h, n - h);
	lc->total += n;
	if (lc->total <= lc->max) {
		/* still an exact copy */
		rc = logcap_pwrite(lc->fd, p, n, at);
	} else {
		if (h > 0)
			rc = logcap_pwrite(lc->fd, p, h, at);
		lc->dirty = 1;
	}
	return rc;
}

int logcap_flush(struct logcap *lc)
{
	char *out;
	size_t m, start;
	int rc;

	if (!lc->dirty)
		return 0;
	out = xmalloc(LOGCAP_MARKER_MAX + lc->tail_max);
	m = (size_t)snprintf(out, LOGCAP_MARKER_MAX, "\n[... %" PRIu64 " bytes omitted ...]\n",
			     lc->total - lc->head_len - lc->ring_len);
	/* oldest byte first: the ring starts at ring_pos once it has wrapped */
	start = lc->ring_len < lc->tail_max ? 0 : lc->ring_pos;
	memcpy(out + m, lc->ring + start, lc->ring_len - start);
	memcpy(out + m + lc->ring_len - start, lc->ring, start);
	rc = logcap_pwrite(lc->fd, out, m + lc->ring_len, lc->head_len);
	if (rc == 0 && lc->fd >= 0 &&
	    ftruncate(lc->fd, (off_t)(lc->head_len + m + lc->ring_len)) != 0)
		rc = -1;
	if (rc == 0)
		lc->dirty = 0;
	free(out);
	return rc;
}

void logcap_free(struct logcap *lc)
{
	free(lc->ring);
	lc->ring = NULL;
}
