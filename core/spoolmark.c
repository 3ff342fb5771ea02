/* SPDX-License-Identifier: Apache-2.0 */
/* The spool's commit mark file (spoolmark.h). */
#include "spoolmark.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "err.h"

int spoolmark_parse(const char *buf, size_t len, int64_t *seqp)
{
	int64_t v = 0;
	size_t i;

	if (len != SPOOLMARK_LEN || buf[SPOOLMARK_LEN - 1] != '\n')
		return -1;
	for (i = 0; i < SPOOLMARK_LEN - 1; i++) {
		if (buf[i] < '0' || buf[i] > '9' || v > (INT64_MAX - (buf[i] - '0')) / 10)
			return -1;
		v = v * 10 + (buf[i] - '0');
	}
	*seqp = v;
	return 0;
}

int spoolmark_write(int fd, int64_t seq)
{
	char buf[SPOOLMARK_LEN + 1];
	ssize_t n;

	if (seq < 0)
		return -EINVAL;
	snprintf(buf, sizeof buf, "%020" PRId64 "\n", seq);
	n = pwrite(fd, buf, SPOOLMARK_LEN, 0);
	if (n == SPOOLMARK_LEN)
		return 0;
	return n < 0 ? -errno : -EIO;
}

int spoolmark_open(const char *path, int *fdp, int64_t *seqp, char **errp)
{
	char buf[SPOOLMARK_LEN + 1];
	ssize_t n;
	int fd, rc;

	*fdp = -1;
	*seqp = -1;
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640)) < 0)
		return err_set(errp, FS_EIO, "spool: open %s: %s", path, strerror(errno));
	/* one byte more than a mark, so a longer file is not taken for one */
	do
		n = pread(fd, buf, sizeof buf, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		rc = err_set(errp, FS_EIO, "spool: read %s: %s", path, strerror(errno));
		goto fail;
	}
	if (n > 0 && spoolmark_parse(buf, (size_t)n, seqp) != 0) {
		rc = err_set(errp, FS_EIO,
			     "spool: %s is not a commit mark; remove it to start (it is made "
			     "again)",
			     path);
		goto fail;
	}
	*fdp = fd;
	return 0;
fail:
	close(fd);
	return rc;
}
