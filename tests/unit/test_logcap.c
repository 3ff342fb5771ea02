/* SPDX-License-Identifier: Apache-2.0 */
/* worker/logcap: the run log is an exact copy within the cap, and head + marker + tail (never
 * more than the cap) past it, whatever the sizes of the writes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "logcap.h"
#include "xalloc.h"

/* A temporary file, already unlinked; its fd. */
static int tmpfd(void)
{
	char path[] = "/tmp/test_logcap.XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	return fd;
}

static char *slurp(int fd, size_t *np)
{
	struct stat st;
	char *data;

	assert_int_equal(fstat(fd, &st), 0);
	data = xmalloc((size_t)st.st_size + 1);
	assert_int_equal(pread(fd, data, (size_t)st.st_size, 0), st.st_size);
	data[st.st_size] = '\0';
	*np = (size_t)st.st_size;
	return data;
}

/* n bytes of a recognisable pattern: byte i is 'a' + (i * 7 + i / 26) % 26 */
static char *pattern(size_t n)
{
	char *p = xmalloc(n + 1);
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (char)('a' + (i * 7 + i / 26) % 26);
	p[n] = '\0';
	return p;
}

/* Feeds data in chunks of chunk bytes, flushing every flush_every chunks (0 = only at the end). */
static void feed(struct logcap *lc, const char *data, size_t n, size_t chunk, int flush_every)
{
	size_t off = 0;
	int k = 0;

	while (off < n) {
		size_t c = n - off < chunk ? n - off : chunk;

		assert_int_equal(logcap_write(lc, data + off, c), 0);
		off += c;
		if (flush_every > 0 && ++k % flush_every == 0)
			assert_int_equal(logcap_flush(lc), 0);
	}
	assert_int_equal(logcap_flush(lc), 0);
}

static void test_within_cap_exact(void **state)
{
	struct logcap lc;
	char *in = pattern(1024), *out;
	size_t n;
	int fd = tmpfd();

	(void)state;
	logcap_init(&lc, fd, 1024);
	feed(&lc, in, 1024, 100, 0);
	out = slurp(fd, &n);
	assert_int_equal(n, 1024);
	assert_memory_equal(out, in, 1024);
	/* and the file is written as it comes, not at the flush */
	assert_int_equal(lc.dirty, 0);
	logcap_free(&lc);
	close(fd);
	free(in);
	free(out);
}

static void check_capped(size_t max, size_t total, size_t chunk, int flush_every)
{
	struct logcap lc;
	char *in = pattern(total), *out, marker[128];
	size_t n, head = max / 2, tail = max - head - LOGCAP_MARKER_MAX, m;
	int fd = tmpfd();

	logcap_init(&lc, fd, max);
	feed(&lc, in, total, chunk, flush_every);
	out = slurp(fd, &n);
	m = (size_t)snprintf(marker, sizeof(marker), "\n[... %zu bytes omitted ...]\n",
			     total - head - tail);
	assert_true(n <= max);
	assert_int_equal(n, head + m + tail);
	assert_memory_equal(out, in, head);
	assert_memory_equal(out + head, marker, m);
	assert_memory_equal(out + head + m, in + total - tail, tail);
	logcap_free(&lc);
	close(fd);
	free(in);
	free(out);
}

static void test_head_and_tail(void **state)
{
	(void)state;
	/* one byte over, many times over, in small, odd and huge writes, flushed now and then */
	check_capped(1024, 1025, 1, 0);
	check_capped(1024, 10000, 1, 0);
	check_capped(1024, 10000, 7, 3);
	check_capped(1024, 10000, 333, 1);
	check_capped(1024, 100000, 100000, 0);
	check_capped(4096, 5000, 4095, 1);
	check_capped(1048576, 3 * 1048576 + 17, 65536, 5);
}

static void test_discard(void **state)
{
	struct logcap lc;

	(void)state;
	/* no file (it could not be opened): output is counted and dropped */
	logcap_init(&lc, -1, 1024);
	assert_int_equal(logcap_write(&lc, "x", 1), 0);
	assert_int_equal(logcap_flush(&lc), 0);
	assert_int_equal(lc.total, 1);
	logcap_free(&lc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_within_cap_exact),
		cmocka_unit_test(test_head_and_tail),
		cmocka_unit_test(test_discard),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
