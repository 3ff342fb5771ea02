/* SPDX-License-Identifier: Apache-2.0 */
/* Status and pid files of runs, their go slots, and recording outcomes in the spool (see
 * outcome.h). The files are a few "key=value" lines: easy to read by eye when a run goes wrong. */
#define _GNU_SOURCE
#include "outcome.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "spares.h"
#include "spool.h"
#include "xalloc.h"

#define OUTCOME_MAX_FILE 4096
/* a go slot never used: names no run */
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
	char *text = xasprintf("run=%" PRId64 "\npid=%ld\nstart=%llu\nslot=%d\n", rp->run,
			       (long)rp->pid, rp->start, rp->slot);
	/* neither fsync nor rename (see outcome.h) */
	int rc = outcome_write_file(dir, name, text, 0, 0, spare);

	free(name);
	free(text);
	return rc;
}

/* <dir>/go/<slot> (the caller frees it) */
static char *outcome_go_path(const char *dir, int slot)
{
	return xasprintf("%s/go/%d", dir, slot);
}

/* fsync of the directory path: its entries are on the disk. 0, or -1 with errno. */
static int outcome_fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc, saved;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

/* Makes slot, naming no run (fsync'd when durable), unless it exists. 0, or -1 with errno. */
static int outcome_go_make_one(const char *dir, int slot, int durable)
{
	char *path = outcome_go_path(dir, slot), text[2 * OUTCOME_GO_SIZE];
	int fd, rc = -1, saved;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		rc = errno == EEXIST ? 0 : -1;
		goto out;
	}
	/* both regions: the record naming no run, an empty went mark */
	memset(text, '\n', sizeof(text));
	memcpy(text, OUTCOME_GO_NONE, sizeof(OUTCOME_GO_NONE) - 1);
	if (pwrite(fd, text, sizeof(text), 0) == (ssize_t)sizeof(text) &&
	    (!durable || fsync(fd) == 0))
		rc = 0;
	saved = errno;
	close(fd);
	if (rc != 0)
		unlink(path); /* made again, whole, by the next call */
	errno = saved;
out:
	free(path);
	return rc;
}

int outcome_go_make(const char *dir, int n, int durable)
{
	char *godir = xasprintf("%s/go", dir);
	int rc = -1, i;

	/* the worker's and its supervisors' alone */
	if (mkdir(godir, 0700) != 0 && errno != EEXIST)
		goto out;
	for (i = 0; i < n; i++)
		if (outcome_go_make_one(dir, i, durable) != 0)
			goto out;
	/* whether made now or by a worker that died before it flushed them: once per start */
	if (durable && (outcome_fsync_dir(godir) != 0 || outcome_fsync_dir(dir) != 0))
		goto out;
	rc = 0;
out:
	free(godir);
	return rc;
}

int outcome_go_open(const char *dir, int slot, int durable)
{
	char *path = outcome_go_path(dir, slot);
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);

	/* a slot removed by hand: made again, whole and durable, before it is used */
	if (fd < 0 && errno == ENOENT && outcome_go_make(dir, slot + 1, durable) == 0)
		fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	free(path);
	return fd;
}

/* Writes one region of a slot: text (shorter than OUTCOME_GO_SIZE) padded with newlines, at
 * region (0: the record, 1: the went mark). 0, or -1 with errno. */
static int outcome_go_region(int fd, int region, const char *text)
{
	char buf[OUTCOME_GO_SIZE];
	size_t len = strlen(text);
	ssize_t w;

	if (len >= sizeof(buf)) {
		errno = EINVAL;
		return -1;
	}
	/* padded to the region's size: the file keeps its size and its block, so that fdatasync
	 * writes that block alone */
	memset(buf, '\n', sizeof(buf));
	memcpy(buf, text, len);
	w = pwrite(fd, buf, sizeof(buf), (off_t)region * OUTCOME_GO_SIZE);
	if (w != (ssize_t)sizeof(buf)) {
		if (w >= 0)
			errno = EIO; /* a short write of one block: no errno of its own */
		return -1;
	}
	return 0;
}

int outcome_go_write(int fd, const struct run_go *g, int durable)
{
	char text[OUTCOME_GO_SIZE];
	int len;

	len = snprintf(text, sizeof(text),
		       "run=%" PRId64 "\nid=%s\nseq=%" PRId64 "\nsubmitted=%" PRId64 "\nboot=%s\n",
		       g->run, g->id, g->seq, g->submitted_ms, g->boot);
	if (len < 0 || (size_t)len >= sizeof(text)) {
		errno = EINVAL;
		return -1;
	}
	if (outcome_go_region(fd, 0, text) != 0)
		return -1;
	/* on its way to the disk from now (a failure here is fdatasync's to report) */
	if (durable)
		(void)sync_file_range(fd, 0, OUTCOME_GO_SIZE, SYNC_FILE_RANGE_WRITE);
	return 0;
}

int outcome_go_flush(int fd, int durable)
{
	return durable ? fdatasync(fd) : 0;
}

int outcome_go_went(int fd, int64_t run)
{
	char text[64];

	snprintf(text, sizeof(text), "went=%" PRId64 "\n", run);
	return outcome_go_region(fd, 1, text);
}

int outcome_go_clear(const char *dir, int slot, int durable)
{
	char *path = outcome_go_path(dir, slot);
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW), rc = -1, saved;

	free(path);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (outcome_go_region(fd, 0, OUTCOME_GO_NONE) == 0 && (!durable || fdatasync(fd) == 0))
		rc = 0;
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

/* The value of "key=" at the start of a line of text, as a string of fewer than size bytes. */
static int outcome_str(const char *text, const char *key, char *buf, size_t size)
{
	size_t klen = strlen(key), len;
	const char *p = text, *nl;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
			p += klen + 1;
			if ((nl = strchr(p, '\n')) == NULL || (len = (size_t)(nl - p)) >= size)
				return -1;
			memcpy(buf, p, len);
			buf[len] = '\0';
			return 0;
		}
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return -1;
}

int outcome_go_read(const char *dir, int slot, struct run_go *g)
{
	char buf[OUTCOME_MAX_FILE], *name = xasprintf("go/%d", slot);
	long long run, seq, submitted, went;
	int rc = outcome_read_file(dir, name, buf, sizeof(buf));

	free(name);
	if (rc != 0)
		return rc;
	memset(g, 0, sizeof(*g));
	if (outcome_num(buf, "run", &run) != 0 || outcome_num(buf, "seq", &seq) != 0 ||
	    outcome_num(buf, "submitted", &submitted) != 0 ||
	    outcome_str(buf, "id", g->id, sizeof(g->id)) != 0 || g->id[0] == '\0')
		return FS_EINVAL;
	g->slot = slot;
	g->run = run;
	g->seq = seq;
	g->submitted_ms = submitted;
	/* absent or unreadable: unknown, so the run counts as possibly begun (outcome_go_begun) */
	if (outcome_str(buf, "boot", g->boot, sizeof(g->boot)) != 0)
		g->boot[0] = '\0';
	if (outcome_num(buf, "went", &went) != 0 || went <= 0)
		went = 0;
	g->went = went;
	return 0;
}

int outcome_go_begun(const struct run_go *g, const char *boot)
{
	return g->went == g->run || boot[0] == '\0' || strcmp(g->boot, boot) != 0;
}

int outcome_go_list(const char *dir, struct run_go **gsp, size_t *np)
{
	char *godir = xasprintf("%s/go", dir), *end;
	struct run_go g, *gs = NULL;
	struct dirent *e;
	size_t n = 0;
	long slot;
	DIR *d;

	*gsp = NULL;
	*np = 0;
	d = opendir(godir);
	free(godir);
	if (d == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((e = readdir(d)) != NULL) {
		errno = 0;
		slot = strtol(e->d_name, &end, 10);
		if (e->d_name[0] < '0' || e->d_name[0] > '9' || *end != '\0' || errno != 0 ||
		    slot > INT_MAX || outcome_go_read(dir, (int)slot, &g) != 0)
			continue; /* not a slot, or naming no run */
		gs = xgrow_by_one(gs, n, sizeof(*gs));
		gs[n++] = g;
	}
	closedir(d);
	*gsp = gs;
	*np = n;
	return 0;
}

int outcome_pid_read(const char *dir, const char *id, struct run_pid *rp)
{
	char buf[OUTCOME_MAX_FILE], *name = xasprintf("%s.pid", id);
	long long run, pid, start, slot;
	int rc = outcome_read_file(dir, name, buf, sizeof(buf));

	free(name);
	if (rc != 0)
		return rc;
	if (outcome_num(buf, "run", &run) != 0 || outcome_num(buf, "pid", &pid) != 0 ||
	    outcome_num(buf, "start", &start) != 0 || pid <= 1 || start < 0)
		return FS_EINVAL;
	/* a slot that is not there reads as none (a pid file written before slots were) */
	if (outcome_num(buf, "slot", &slot) != 0 || slot < 0 || slot > INT_MAX)
		slot = -1;
	rp->run = run;
	rp->pid = (pid_t)pid;
	rp->start = (unsigned long long)start;
	rp->slot = (int)slot;
	return 0;
}

void outcome_recycle(struct spares *sp, const char *dir, const char *id)
{
	static const char *const suffixes[] = { "status", "pid", "status.tmp", "pid.tmp" };
	size_t i;

	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		char *path = xasprintf("%s/%s.%s", dir, id, suffixes[i]);

		/* unlink locks the directory even for a name that is not there, and every
		 * supervisor writes its status in the same directory; a lookup does not lock.
		 * Nobody creates these files between the two calls (the run's supervisor and
		 * worker are the only writers, and both are done with them). Temporaries left
		 * by a crash are not worth keeping. */
		if (faccessat(AT_FDCWD, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0 &&
		    (i >= 2 || spares_put(sp, path) != 0))
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
