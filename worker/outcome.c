/* SPDX-License-Identifier: Apache-2.0 */
/* Status and pid files of runs, and recording outcomes in the spool (see outcome.h). The files
 * are a few "key=value" lines: easy to read by eye when a run goes wrong. */
#define _GNU_SOURCE
#include "outcome.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "spares.h"
#include "spool.h"
#include "xalloc.h"

#define OUTCOME_MAX_FILE 4096
/* a go record's first line before the go byte: names no run */
#define OUTCOME_GO_NONE  "run=-\n"

/* Writes text to <dir>/<name>: through <dir>/<name>.tmp and a rename when atomic (a reader sees
 * the old file or the new one, never part of one), else in place; durable: also fsync of the
 * file and of dir. A spare (spares.h) is renamed onto the file written first (the temporary
 * one when atomic) -- owned from then on, whoever else held its name -- and overwritten: its
 * old bytes are replaced, then cut to the new length, so its block is reused as well. */
static int outcome_write_file(const char *dir, const char *name, const char *text, int atomic,
			      int durable, const char *spare)
{
	char *path = xasprintf("%s/%s", dir, name), *tmp = xasprintf("%s.tmp", path);
	size_t len = strlen(text), off = 0;
	ssize_t w;
	int fd = -1, dfd = -1, rc = -1, closed, saved;

	if (spare != NULL)
		(void)rename(spare,
			     atomic ? tmp : path); /* lost to another writer: created below */
	fd = open(atomic ? tmp : path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		goto done;
	while (off < len) {
		w = pwrite(fd, text + off, len - off, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto done;
		off += (size_t)w;
	}
	if (ftruncate(fd, (off_t)len) != 0 || (durable && fsync(fd) != 0))
		goto done;
	closed = close(fd);
	fd = -1;
	if (closed != 0 || (atomic && rename(tmp, path) != 0))
		goto done;
	/* the rename itself is durable only once the directory is */
	if (durable &&
	    ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || fsync(dfd) != 0))
		goto done;
	rc = 0;
done:
	saved = errno;
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	if (rc != 0)
		unlink(atomic ? tmp : path);
	free(path);
	free(tmp);
	errno = saved;
	return rc;
}

/* Reads <dir>/<name> into buf (NUL-terminated). 0, FS_ENOENT or FS_EINVAL (unreadable, too big). */
static int outcome_read_file(const char *dir, const char *name, char *buf, size_t size)
{
	char *path = xasprintf("%s/%s", dir, name);
	ssize_t n = -1;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	free(path);
	if (fd < 0)
		return errno == ENOENT ? FS_ENOENT : FS_EINVAL;
	n = read(fd, buf, size - 1);
	close(fd);
	rc = n < 0 || (size_t)n == size - 1 ? FS_EINVAL : 0;
	buf[n < 0 ? 0 : n] = '\0';
	return rc;
}

/* The value of "key=" at the start of a line of text, as a number. */
static int outcome_num(const char *text, const char *key, long long *vp)
{
	size_t klen = strlen(key);
	const char *p = text;
	char *end;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
			errno = 0;
			*vp = strtoll(p + klen + 1, &end, 10);
			return errno == 0 && end != p + klen + 1 && (*end == '\n') ? 0 : -1;
		}
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return -1;
}

int outcome_status_write(const char *dir, const char *id, const struct run_status *st, int durable,
			 const char *spare)
{
	char *name = xasprintf("%s.status", id);
	char *text = xasprintf("run=%" PRId64 "\nexit=%d\nsignal=%d\nstarted=%" PRId64
			       "\nfinished=%" PRId64 "\nreason=%s\n",
			       st->run, st->exit_code, st->exit_signal, st->started_ms,
			       st->finished_ms, st->reason);
	int rc = outcome_write_file(dir, name, text, 1, durable, spare);

	free(name);
	free(text);
	return rc;
}

int outcome_status_read(const char *dir, const char *id, struct run_status *st)
{
	char buf[OUTCOME_MAX_FILE], *name = xasprintf("%s.status", id);
	const char *r, *nl;
	long long run, code, sig, started, finished;
	int rc = outcome_read_file(dir, name, buf, sizeof(buf));

	free(name);
	if (rc != 0)
		return rc;
	r = strstr(buf, "\nreason=");
	if (outcome_num(buf, "run", &run) != 0 || outcome_num(buf, "exit", &code) != 0 ||
	    outcome_num(buf, "signal", &sig) != 0 || outcome_num(buf, "started", &started) != 0 ||
	    outcome_num(buf, "finished", &finished) != 0 || r == NULL ||
	    (nl = strchr(r + 8, '\n')) == NULL || (size_t)(nl - (r + 8)) >= sizeof(st->reason) ||
	    code < -1 || code > 255 || sig < 0 || sig > 128)
		return FS_EINVAL;
	memset(st, 0, sizeof(*st));
	st->run = run;
	st->exit_code = (int)code;
	st->exit_signal = (int)sig;
	st->started_ms = started;
	st->finished_ms = finished;
	memcpy(st->reason, r + 8, (size_t)(nl - (r + 8)));
	return 0;
}

int outcome_pid_write(const char *dir, const char *id, const struct run_pid *rp, const char *spare)
{
	char *name = xasprintf("%s.pid", id);
	char *text = xasprintf("run=%" PRId64 "\npid=%ld\nstart=%llu\n", rp->run, (long)rp->pid,
			       rp->start);
	/* neither fsync nor rename (see outcome.h) */
	int rc = outcome_write_file(dir, name, text, 0, 0, spare);

	free(name);
	free(text);
	return rc;
}

int outcome_go_open(const char *dir, const char *id, int durable, const char *spare)
{
	const size_t none_len = sizeof(OUTCOME_GO_NONE) - 1;
	char *path = xasprintf("%s/%s.go", dir, id);
	int fd, dfd = -1, saved;

	if (spare != NULL)
		(void)rename(spare, path); /* lost to another writer: created below */
	/* a spare's bytes are kept past the first line, which alone counts (outcome_go_exists):
	 * the record then overwrites a block the file already has, and its fdatasync writes that
	 * one block. The name is made durable now, off the path from the go byte to the exec. */
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0 || pwrite(fd, OUTCOME_GO_NONE, none_len, 0) != (ssize_t)none_len)
		goto fail;
	if (durable &&
	    ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || fsync(dfd) != 0))
		goto fail;
	goto done;
fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	fd = -1;
	errno = saved;
done:
	saved = errno;
	if (dfd >= 0)
		close(dfd);
	free(path);
	errno = saved;
	return fd;
}

int outcome_go_write(int fd, int64_t run, int durable)
{
	char text[32];
	int len = snprintf(text, sizeof(text), "run=%" PRId64 "\n", run);
	ssize_t w = pwrite(fd, text, (size_t)len, 0);

	if (w != len) {
		if (w >= 0)
			errno = EIO; /* a short write of a few bytes: no errno of its own */
		return -1;
	}
	return durable ? fdatasync(fd) : 0;
}

int outcome_go_exists(const char *dir, const char *id, int64_t run)
{
	char buf[OUTCOME_MAX_FILE], *name = xasprintf("%s.go", id);
	long long got;
	int rc = outcome_read_file(dir, name, buf, sizeof(buf));

	free(name);
	return rc == 0 && outcome_num(buf, "run", &got) == 0 && got == run;
}

int outcome_pid_read(const char *dir, const char *id, struct run_pid *rp)
{
	char buf[OUTCOME_MAX_FILE], *name = xasprintf("%s.pid", id);
	long long run, pid, start;
	int rc = outcome_read_file(dir, name, buf, sizeof(buf));

	free(name);
	if (rc != 0)
		return rc;
	if (outcome_num(buf, "run", &run) != 0 || outcome_num(buf, "pid", &pid) != 0 ||
	    outcome_num(buf, "start", &start) != 0 || pid <= 1 || start < 0)
		return FS_EINVAL;
	rp->run = run;
	rp->pid = (pid_t)pid;
	rp->start = (unsigned long long)start;
	return 0;
}

void outcome_recycle(struct spares *sp, const char *dir, const char *id)
{
	static const char *const suffixes[] = { "status", "pid", "go", "status.tmp", "pid.tmp" };
	size_t i;

	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		char *path = xasprintf("%s/%s.%s", dir, id, suffixes[i]);

		/* unlink locks the directory even for a name that is not there, and every
		 * supervisor writes its status in the same directory; a lookup does not lock.
		 * Nobody creates these files between the two calls (the run's supervisor and
		 * worker are the only writers, and both are done with them). Temporaries left
		 * by a crash are not worth keeping. */
		if (faccessat(AT_FDCWD, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0 &&
		    (i >= 3 || spares_put(sp, path) != 0))
			(void)unlink(path);
		free(path);
	}
}

int outcome_record(struct spool *sp, const char *id, const struct run_status *st, char **errp)
{
	struct spool_result res;

	/* a stopped run (cancelled, timeout) failed even if the runner exited 0 on SIGTERM */
	res.outcome = st->exit_code == 0 && st->exit_signal == 0 && st->reason[0] == '\0'
			      ? SPOOL_SUCCEEDED
			      : SPOOL_FAILED;
	res.exit_code = st->exit_code;
	res.exit_signal = st->exit_signal;
	res.reason = st->reason[0] != '\0' ? st->reason : NULL;
	return spool_finish(sp, id, &res, errp);
}

int outcome_record_failure(struct spool *sp, const char *id, const char *reason, char **errp)
{
	struct spool_result res = { SPOOL_FAILED, -1, 0, reason };

	return spool_finish(sp, id, &res, errp);
}
